"""The JSON page says what `derive solve --format json` prints: its keys, and each key's type.

The page's two tables (the document, then each step) name every key and its
type; they are read here and held against the real output of bundled
problems of several kinds, both ways: every key printed is documented with a
type its values have, and every documented type is one some value has.
"""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

PAGE = Path(__file__).resolve().parent.parent / "docs" / "json.md"
# Kinds with numbers, expressions, rounding and exact solutions, givens and none.
PROBLEMS = ["lecture-bp-3layer", "hw2-sigmoid", "hw3-op-count", "lecture-saddle", "optimizer-each",
            "lstm-two-steps", "hw4-conv"]
TYPES = {
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "list of strings": lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v),
    "list of objects": lambda v: isinstance(v, list) and all(isinstance(x, dict) for x in v),
}


def documented_tables(text):
    """[{key: [type, ...]}] of every `| field | type | meaning |` table of the page, in order."""
    tables = []
    for table in re.findall(r"^\| field \| type \| meaning \|\n\| --- .*\n((?:\|.*\n)+)", text, re.M):
        rows = [re.match(r"\| `(\w+)` \| ([^|]+) \|", row) for row in table.splitlines()]
        tables.append({row[1]: [t.strip() for t in row[2].split(" or ")] for row in rows})
    return tables


def type_of(value, names):
    """The first of the documented type names that value has, or None."""
    return next((name for name in names if TYPES[name](value)), None)


@pytest.fixture(scope="module")
def outputs():
    found = {}
    for name in PROBLEMS:
        result = subprocess.run([sys.executable, "-m", "derive", "solve", name, "--format", "json"],
                                capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stderr
        found[name] = result.stdout
    return found


@pytest.fixture(scope="module")
def tables():
    document, step = documented_tables(PAGE.read_text(encoding="utf-8"))
    return document, step


def test_every_documented_type_is_a_type_this_test_knows(tables):
    for table in tables:
        for key, names in table.items():
            assert set(names) <= set(TYPES), f"{key}: {names}"


def test_the_documented_keys_are_the_printed_keys(outputs, tables):
    document, step = tables
    for name, text in outputs.items():
        solution = json.loads(text)
        assert set(solution) == set(document), name
        for printed in solution["steps"]:
            assert set(printed) == set(step), f"{name}: {printed['key']}"


def test_every_value_has_a_documented_type_and_every_documented_type_occurs(outputs, tables):
    document, step = tables
    seen = {("document", key): set() for key in document} | {("step", key): set() for key in step}
    for name, text in outputs.items():
        solution = json.loads(text)
        for key, names in document.items():
            kind = type_of(solution[key], names)
            assert kind, f"{name}: {key} = {solution[key]!r} is none of {names}"
            seen["document", key].add(kind)
        for printed in solution["steps"]:
            for key, names in step.items():
                kind = type_of(printed[key], names)
                assert kind, f"{name}: {printed['key']}: {key} = {printed[key]!r} is none of {names}"
                seen["step", key].add(kind)
    for (table, key), kinds in seen.items():
        names = (document if table == "document" else step)[key]
        assert kinds == set(names), f"{table} key {key}: documented {names}, printed {sorted(kinds)}"


def test_a_value_that_is_an_expression_is_its_text_and_a_number_is_a_number(outputs):
    steps = {s["key"]: s for s in json.loads(outputs["lecture-bp-3layer"])["steps"]}
    assert steps["fprime[2]"]["value"] == "exp(-x)/(1 + exp(-x))**2"
    assert steps["yhat[1]"]["value"] == 0.809 and steps["z[1][1]"]["value"] == 2
    notes = json.loads(outputs["lecture-bp-3layer"])["notes"]
    assert "loss: E = 1/2 Σ_j (ŷ_j - y_j)^2" in notes


def test_the_output_is_the_same_byte_for_byte_run_to_run(outputs):
    again = subprocess.run([sys.executable, "-m", "derive", "solve", "lecture-bp-3layer", "--format", "json"],
                           capture_output=True, text=True, timeout=300)
    assert again.stdout == outputs["lecture-bp-3layer"]


def test_the_tables_are_read():
    text = ("| field | type | meaning |\n| --- | --- | --- |\n| `a` | integer | x |\n| `b` | string or null | y |\n"
            "\nprose\n\n| field | type | meaning |\n| --- | --- | --- |\n| `c` | list of strings | z |\n")
    assert documented_tables(text) == [{"a": ["integer"], "b": ["string", "null"]}, {"c": ["list of strings"]}]
