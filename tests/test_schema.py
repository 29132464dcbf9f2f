"""`derive schema`: the JSON Schema of problem files, made from the same declarations derive reads with.

Checked in the program that consumes it, a JSON Schema validator (jsonschema,
as editors' YAML language servers use): every schema is a valid 2020-12
schema, every bundled problem passes it, and files derive refuses for a
declared reason (an unknown field, a name not among the choices, a number out
of range) fail it too.
"""

import functools
import json

import jsonschema
import pytest
import yaml

from derive.cli import cli
from derive.fields import schema, schema_text
from derive.kinds import KINDS, NAMES
from derive.problem import COMMON, load_problem
from derive.errors import ProblemError
from conftest import PROBLEMS

BUNDLED = sorted(PROBLEMS.glob("*.yaml"))
DECLARED_KINDS = [name for name in NAMES if hasattr(KINDS[name], "DECLARED")]


@functools.lru_cache(maxsize=None)
def validator(kind=None):
    """The validator of a kind's schema (or the whole one), made once: it is the same for every file."""
    return jsonschema.Draft202012Validator(schema(kind))


@pytest.mark.parametrize("kind", [None, *NAMES])
def test_every_schema_is_a_valid_json_schema(kind):
    jsonschema.Draft202012Validator.check_schema(schema(kind))


SCHEMA_LINE = "# yaml-language-server: $schema=derive-problem.schema.json\n"


def test_the_shipped_schema_file_is_derive_schema(request):
    """The file the bundled problems' `$schema=` line names is what `derive schema` prints today
    (`--update-golden` rewrites it)."""
    shipped = PROBLEMS / "derive-problem.schema.json"
    if request.config.getoption("--update-golden"):
        shipped.write_text(schema_text(), encoding="utf-8")
    assert shipped.read_text(encoding="utf-8") == schema_text()


@pytest.mark.parametrize("path", BUNDLED, ids=[p.stem for p in BUNDLED])
def test_every_bundled_problem_names_the_schema_for_editors(path):
    assert path.read_text(encoding="utf-8").startswith(SCHEMA_LINE)
    assert (path.parent / SCHEMA_LINE.split("$schema=")[1].strip()).is_file()


def test_the_schema_the_bundled_problems_name_is_a_valid_json_schema():
    target = PROBLEMS / SCHEMA_LINE.split("$schema=")[1].strip()
    jsonschema.Draft202012Validator.check_schema(json.loads(target.read_text(encoding="utf-8")))


@pytest.mark.parametrize("path", BUNDLED, ids=[p.stem for p in BUNDLED])
def test_every_bundled_problem_passes_its_schema(path):
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert list(validator().iter_errors(data)) == []
    assert list(validator(data["kind"]).iter_errors(data)) == []


def mutated(path, change):
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    return data


def set_field(name, value):
    return lambda data: data.__setitem__(name, value)


# (bundled problem, how it is broken): derive refuses each, and so does the schema
REFUSED = [
    ("lecture-bp-3layer", set_field("learning_rat", 0.5)),  # an unknown field
    ("lecture-bp-3layer", set_field("weights_layout", "rows")),
    ("lecture-bp-3layer", set_field("offset", "biass")),
    ("lecture-bp-3layer", set_field("iterations", 0)),
    ("lecture-bp-3layer", set_field("iterations", 2.5)),
    ("lecture-bp-3layer", set_field("learning_rate", 0)),
    ("lecture-bp-3layer", set_field("weight_decay", -0.1)),
    ("lecture-bp-3layer", set_field("loss_after", "yes")),
    ("lecture-bp-3layer", set_field("rounding", 13)),
    ("lecture-bp-3layer", set_field("title", 3)),
    ("hw1-relu", set_field("loss", "squared")),
    ("hw1-relu", set_field("batch", "median")),
    ("hw1-relu", lambda data: data["layers"][0].__setitem__("bias", [0, 0])),
    ("hw1-relu", lambda data: data.pop("sizes")),
]
REFUSED = [(name, change) for name, change in REFUSED if yaml.safe_load((PROBLEMS / f"{name}.yaml").read_text())["kind"]
           in DECLARED_KINDS]


@pytest.mark.parametrize("name, change", REFUSED, ids=[f"{name}-{i}" for i, (name, _) in enumerate(REFUSED)])
def test_derive_and_the_schema_refuse_the_same_files(name, change, tmp_path):
    data = mutated(PROBLEMS / f"{name}.yaml", change)
    assert list(validator().iter_errors(data)), "the schema accepted it"
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    with pytest.raises(ProblemError):
        load_problem(path).solve()


def test_the_schema_knows_every_field_derive_reads():
    """A field derive accepts and the schema refuses would make editors flag good files."""
    for kind in DECLARED_KINDS:
        properties = schema(kind)["properties"]
        assert set(properties) == COMMON.names | KINDS[kind].DECLARED.names


def test_derive_schema_prints_the_schema(runner):
    result = runner.invoke(cli, ["schema", "mlp_backprop"])
    assert result.exit_code == 0 and result.stdout == schema_text("mlp_backprop")
    assert json.loads(result.stdout)["properties"]["kind"] == {
        "const": "mlp_backprop", "description": COMMON.by_name["kind"].description}
    whole = runner.invoke(cli, ["schema"])
    assert whole.exit_code == 0 and json.loads(whole.stdout)["properties"]["kind"]["enum"] == [*NAMES, "assignment"]


def test_derive_schema_of_an_unknown_kind_is_one_line(runner):
    result = runner.invoke(cli, ["schema", "mlp_backpro"])
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == ("derive schema: no kind 'mlp_backpro' (did you mean 'mlp_backprop'?); the kinds are "
                             + ", ".join(NAMES) + ", and assignment\n")


ASSIGNMENTS = sorted((PROBLEMS / "assignments").glob("*.yaml"))


@pytest.mark.parametrize("path", ASSIGNMENTS, ids=[p.stem for p in ASSIGNMENTS])
def test_every_bundled_assignment_passes_the_schema(path):
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema("assignment"))
    assert list(validator().iter_errors(data)) == [] and list(validator("assignment").iter_errors(data)) == []


@pytest.mark.parametrize("change, field", [
    ({"feedbak": "verdict"}, "feedbak"), ({"feedback": "all"}, "feedback"),
    ({"problems": [{"problem": "hw1-relu", "points": -1}]}, "points"),
    ({"problems": [{"problm": "hw1-relu"}]}, "problm"),
])
def test_the_assignment_schema_refuses_what_derive_refuses(tmp_path, change, field):
    from derive.assignment import load_assignment

    data = {"kind": "assignment", "problems": [{"problem": "hw1-relu"}], **change}
    assert list(validator("assignment").iter_errors(data)) != []
    path = tmp_path / "a.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(ProblemError) as refused:
        load_assignment(path)
    assert field in str(refused.value)
