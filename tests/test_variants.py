"""Per-student variants: reproducible draws, constraints met, graded against each student's own numbers.

The oracles are outside the code under test: a plain numpy forward and
backward pass of the lecture's 3-2-2-1 network written out here (to check
that every written variant meets its constraints), hashlib (to redo one draw
by the documented rule), a fresh Python process (same files byte for byte),
and the grader's verdicts on sheets made from each variant's own solution.
"""

import hashlib
import json
import math
import os
import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
import yaml
from click.testing import CliRunner

from derive.cli import cli
from derive.problem import load_problem
from conftest import PROBLEMS, SMALL_NETWORK, extended

COMPANION = PROBLEMS / "lecture-bp-3layer.yaml"
BASE = PROBLEMS / "lecture-bp-3layer.yaml"
ROSTER = Path(__file__).parent / "variants" / "roster.csv"
IDS = ["s1234567", "s2345678", "s3456789"]


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    """The companion problem's variants for the three-student roster."""
    out = tmp_path_factory.mktemp("made") / "variants"
    result = run("variants", COMPANION, "--roster", ROSTER, "--out", out)
    assert result.exit_code == 0, result.output
    return out


def variant(made, student):
    return yaml.safe_load((made / f"{student}.yaml").read_text(encoding="utf-8"))


# -- reproducibility ------------------------------------------------------------
def test_the_same_ids_give_the_same_files_byte_for_byte(made, tmp_path):
    again = tmp_path / "again"
    assert run("variants", COMPANION, "--roster", ROSTER, "--out", again).exit_code == 0
    names = sorted(p.name for p in made.iterdir())
    assert names == sorted(p.name for p in again.iterdir()) == sorted(
        [f"{s}.yaml" for s in IDS] + ["answer-key.md", "answer-key.tex"])
    for name in names:
        assert (made / name).read_bytes() == (again / name).read_bytes(), name


def test_a_fresh_process_with_another_roster_gives_the_same_file(made, tmp_path):
    """Only the problem and the id count: not the roster's other ids, their order, or the process's hash seed."""
    roster = tmp_path / "other.csv"
    roster.write_text("name,ID\nZed,z999\nAlan,s2345678\n", encoding="utf-8")
    env = dict(os.environ, PYTHONHASHSEED="12345")
    done = subprocess.run([sys.executable, "-m", "derive", "variants", str(COMPANION), "--roster", str(roster),
                           "--out", str(tmp_path / "out")], capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "out" / "s2345678.yaml").read_bytes() == (made / "s2345678.yaml").read_bytes()


def test_a_draw_follows_the_documented_sha256_rule(made):
    """The first layer-1 weight of a variant, redone with hashlib from the problem's text and the id."""
    text = (made / "s1234567.yaml").read_text(encoding="utf-8")
    attempt = int(re.search(r"\(draw (\d+)\)", text.splitlines()[0]).group(1))
    digest = hashlib.sha256(COMPANION.read_bytes().replace(b"\r\n", b"\n")).hexdigest()
    seed = f"derive-variants/1\n{digest}\ns1234567\n{attempt}\nlayers[0].weights[0][0]".encode()
    index = int.from_bytes(hashlib.sha256(seed).digest(), "big") % 11  # uniform 0.5..1.5 step 0.1: 11 numbers
    assert Decimal(str(variant(made, "s1234567")["layers"][0]["weights"][0][0])) == Decimal("0.5") + index * Decimal("0.1")


# -- every variant meets its constraints ------------------------------------------
def lecture_network(doc):
    """Forward pass, deltas, update and loss after it for the lecture's network, in plain numpy."""
    x = np.array(doc["samples"][0]["x"], float)
    y = float(doc["samples"][0]["y"][0])
    weights = [np.array(layer["weights"], float) for layer in doc["layers"]]

    def forward(w1, w2, w3):
        z1 = x @ w1
        h1 = np.maximum(1.0, z1)
        z2 = h1 @ w2
        h2 = 1 / (1 + np.exp(-z2))
        z3 = h2 @ w3
        yhat = 1 / (1 + np.exp(-z3))
        return z1, h1, z2, h2, z3, yhat, 0.5 * float(((yhat - y) ** 2).sum())

    z1, h1, z2, h2, z3, yhat, loss = forward(*weights)
    d3 = (yhat - y) * yhat * (1 - yhat)
    d2 = (weights[2] @ d3) * h2 * (1 - h2)
    d1 = (weights[1] @ d2) * (z1 > 1)
    updated = [weights[0] - np.outer(x, d1), weights[1] - np.outer(h1, d2), weights[2] - np.outer(h2, d3)]
    return {"z": np.concatenate([z1, z2, z3]), "deltas": np.concatenate([d1, d2, d3]), "z1": z1,
            "yhat": float(yhat[0]), "d3": float(d3[0]), "loss": loss, "loss_after": forward(*updated)[-1],
            "weights": np.concatenate([w.ravel() for w in weights])}


@pytest.mark.parametrize("student", IDS)
def test_every_variant_meets_its_constraints_when_solved_independently(made, student):
    doc = variant(made, student)
    net = lecture_network(doc)
    base = lecture_network(yaml.safe_load(COMPANION.read_text(encoding="utf-8")))
    # the constraints hold on the 4-decimal chain; the exact chain is within a few 1e-4 of it
    assert np.all(net["weights"] != 0)
    assert np.all(np.abs(net["z"]) < 4 + 1e-3)
    assert np.all(net["z1"] > 1)
    assert np.all(np.abs(net["deltas"]) >= 0.0005 - 2e-4)
    assert net["loss_after"] < net["loss"]
    assert abs(net["yhat"] - base["yhat"]) > 1e-3 and abs(net["d3"] - base["d3"]) > 1e-4
    # derive's own solution of the written file agrees with the plain one
    values = load_problem(made / f"{student}.yaml").solve().values()
    assert values["yhat[1]"] == pytest.approx(net["yhat"], abs=2e-3)
    assert values["loss"] - values["after.loss"] == pytest.approx(net["loss"] - net["loss_after"], abs=5e-4)


@pytest.mark.parametrize("student", IDS)
def test_a_variant_is_the_base_problem_with_drawn_numbers(made, student):
    doc = variant(made, student)
    base = yaml.safe_load(COMPANION.read_text(encoding="utf-8"))
    assert doc["id"] == student and doc["variant_of"].startswith("lecture-bp-3layer (sha256 ")
    assert "random" not in doc and "constraints" not in doc
    for name in ("sizes", "learning_rate", "rounding", "grading", "loss", "update"):
        assert doc[name] == base[name]
    assert doc["samples"][0]["x"] == [1, 0, 1] and doc["samples"][0]["y"][0] in (0.1, 0.9)
    ranges = [(5, 15), (-10, 10), (-10, 10)]  # tenths
    for layer, (low, high) in zip(doc["layers"], ranges):
        for weight in np.ravel(layer["weights"]):
            tenths = Decimal(str(weight)) * 10
            assert tenths == tenths.to_integral_value() and low <= tenths <= high
        assert layer["thresholds"] == [0] * len(layer["thresholds"])


def test_variants_differ_between_ids(made):
    drawn = {s: json.dumps([layer["weights"] for layer in variant(made, s)["layers"]]) for s in IDS}
    assert len(set(drawn.values())) == len(IDS)
    answers = {s: load_problem(made / f"{s}.yaml").solve().values()["yhat[1]"] for s in IDS}
    assert len(set(answers.values())) == len(IDS)


def test_a_variant_is_a_problem_on_its_own(made):
    for student in IDS:
        assert run("check", made / f"{student}.yaml").output.endswith("ok (mlp_backprop)\n")
    solved = run("solve", made / "s1234567.yaml")
    assert solved.exit_code == 0 and "Update" in solved.output
    again = run("variants", made / "s1234567.yaml", "--roster", ROSTER, "--out", made.parent / "again")
    assert again.exit_code == 2
    assert again.output.endswith("s1234567.yaml:1: random: nothing to draw: the problem has no random field\n")


def test_the_markdown_answer_key(made, golden):
    golden("variants-answer-key.md", (made / "answer-key.md").read_text(encoding="utf-8"))


def test_the_latex_answer_key_is_a_document_with_every_student(made):
    tex = (made / "answer-key.tex").read_text(encoding="utf-8")
    assert tex.startswith("\\documentclass{article}") and tex.endswith("\\end{document}\n")
    assert [m for m in re.findall(r"\\subsection\*\{Student (\S+)\}", tex)] == IDS
    assert tex.count("\\begin{longtable}") == tex.count("\\end{longtable}") == 3
    assert tex.count("\\clearpage") == 2  # each student after the first from a new page


# -- grading a class against its variants ------------------------------------------
def own_sheet(made, student, **extra):
    """A sheet with every computed value of a variant's own solution, as the lecture rounds it."""
    solution = load_problem(made / f"{student}.yaml").solve()
    answers = {step.key: step.value for step in solution if not step.is_given and not step.is_symbolic}
    return yaml.safe_dump(dict(extra, **answers, **{"fprime[2]": "s(1 - s)"}), sort_keys=False)


def test_each_student_gets_full_marks_for_their_own_answers_and_not_for_a_neighbours(made, tmp_path):
    sheets = tmp_path / "submissions"
    sheets.mkdir()
    (sheets / "s1234567.yaml").write_text(own_sheet(made, "s1234567"), encoding="utf-8")  # matched by file name
    (sheets / "grace.yaml").write_text(own_sheet(made, "s3456789", id="s3456789"), encoding="utf-8")  # by id
    (sheets / "copier.yaml").write_text(own_sheet(made, "s1234567", id="s2345678"), encoding="utf-8")
    report = tmp_path / "verdicts.json"
    result = run("grade", BASE, sheets, "--variants", made, "--json", report)
    assert result.exit_code == 0, result.output
    students = {s["student"]: s for s in json.loads(report.read_text(encoding="utf-8"))["students"]}
    items = 1 + 5 + 4 + 1 + 5 + 12 + 12  # fprime[2], z, h, yhat, delta, grad_w, w_new of the base's grading
    for own in ("s1234567", "s3456789"):
        verdicts = students[own]["verdicts"]
        assert len(verdicts) == items
        assert {v["code"] for v in verdicts} == {"OK"}, own
        assert students[own]["score"] == students[own]["max_score"] == items
    copied = {v["key"]: v for v in students["s2345678"]["verdicts"]}
    neighbour = load_problem(made / "s2345678.yaml").solve().values()
    mine = load_problem(made / "s1234567.yaml").solve().values()
    for key, verdict in copied.items():
        if key != "fprime[2]" and abs(neighbour[key] - mine[key]) > 1e-4:
            assert verdict["code"] != "OK", key
    # the steps computed straight from the drawn givens have no earlier answer to follow through on
    differing = [f"z[1][{j}]" for j in (1, 2) if abs(neighbour[f"z[1][{j}]"] - mine[f"z[1][{j}]"]) > 1e-4]
    assert differing and all(copied[key]["code"] not in ("OK", "FT") for key in differing)
    assert students["s2345678"]["score"] < items


def test_a_sheet_with_no_variant_is_reported_and_the_others_graded(made, tmp_path):
    sheets = tmp_path / "submissions"
    sheets.mkdir()
    (sheets / "s1234567.yaml").write_text(own_sheet(made, "s1234567"), encoding="utf-8")
    (sheets / "zed.yaml").write_text(own_sheet(made, "s1234567", id="z999"), encoding="utf-8")
    result = run("grade", BASE, sheets, "--variants", made)
    assert result.exit_code == 1
    lines = {line.split()[0]: line for line in result.output.splitlines() if line.startswith("  ")}
    assert lines["zed"].endswith(f"unreadable: {sheets / 'zed.yaml'}: no variant for student 'z999' in {made}")
    assert lines["s1234567"].split()[1:3] == ["40/40", "40"]


# -- bad input: one line, status 2 ------------------------------------------------
SMALL = SMALL_NETWORK + "rounding: 4\n"  # line 10: rounding


def with_random(spec, constraints=()):
    text = extended(SMALL, "random:\n" + "".join(f"  {key}: {value}\n" for key, value in spec.items()).rstrip())
    if constraints:
        text = extended(text, "constraints:\n" + "".join(f"  - {c}\n" for c in constraints).rstrip())
    return text


GOOD_RANDOM = {"layers[0].weights[*][*]": "uniform -1..1 step 0.1"}

BAD_PROBLEMS = [
    (with_random({"layers[0].weights[*][*]": "uniform -1..1"}),
     "p.yaml:12: random.layers[0].weights[*][*]: expected `uniform A..B step S` (for example uniform -1..1 step 0.1)"),
    (with_random({"layers[0].weights[*][*]": "uniform 0..1 step 0.3"}),
     "p.yaml:12: random.layers[0].weights[*][*]: 0..1 is not a whole number of steps of 0.3"),
    (with_random({"layers[0].weights[*][*]": "-1..1 step 0.1"}),
     "p.yaml:12: random.layers[0].weights[*][*]: expected `uniform A..B step S`, `one of a, b, c`, "
     "a list of numbers, or an expression in other fields"),
    (with_random({"layers[0].weight[0][0]": "one of 1, 2"}),
     "p.yaml:12: random.layers[0].weight[0][0]: unknown field 'layers[0].weight' (did you mean 'layers[0].weights'?)"),
    (with_random({"layers[1].weights[0][0]": "one of 1, 2"}),
     "p.yaml:12: random.layers[1].weights[0][0]: unknown field layers[1] (layers is a list of 1)"),
    (with_random({"layers[0].weights[0]": "one of 1, 2"}),
     "p.yaml:12: random.layers[0].weights[0]: layers[0].weights[0] is not a number but a list of 1 (add [*] to draw each)"),
    (with_random({"learning_rate": "one of 1, two"}),
     "p.yaml:12: random.learning_rate: expected `one of a, b, c` with numbers a, b, c"),
    (with_random({"learning_rate": "1 - layers[0].weights[0][0] * learning_rat"}),
     "p.yaml:12: random.learning_rate: unknown field 'learning_rat' (did you mean 'learning_rate'?)"),
    (with_random({"learning_rate": "one of 1, 2", "samples[*].y[0]": "learning_rate", "layers[0].weights[0][0]": "samples[0].y[0]",
                  "learning_rat": "1"}),
     "p.yaml:15: random.learning_rat: unknown field 'learning_rat' (did you mean 'learning_rate'?)"),
    (with_random({"layers[0].weights[*][*]": "one of 1, 2", "layers[0].weights[1][0]": "0.5"}),
     "p.yaml:13: random.layers[0].weights[1][0]: layers[0].weights[1][0] is already drawn by layers[0].weights[*][*]"),
    (with_random({"samples[0].y[0]": "layers[0].weights[0][0]", "layers[0].weights[0][0]": "1 - samples[0].y[0]"}),
     "p.yaml:12: random.samples[0].y[0]: the expression reads samples[0].y[0], which is computed from it"),
    (with_random(GOOD_RANDOM, ["zz[1][1] < 4"]),
     "p.yaml:14: constraints[0]: unknown step key 'zz[1][1]' (did you mean 'z[1][1]'?)"),
    (with_random(GOOD_RANDOM, ["z[1][1]"]),
     "p.yaml:14: constraints[0]: expected a comparison (<, <=, >, >=, ==, !=) or `differs from base: KEY, ...`"),
    (with_random(GOOD_RANDOM, ["delta[*][*] < z[*]"]),
     "p.yaml:14: constraints[0]: every pattern of one constraint needs the same number of *"),
    (with_random(GOOD_RANDOM, ["'differs from base: q[*]'"]),
     "p.yaml:14: constraints[0]: q[*] matches no step key"),
    (SMALL, "p.yaml:1: random: nothing to draw: the problem has no random field"),
]


@pytest.mark.parametrize("text, message", BAD_PROBLEMS)
def test_a_bad_random_spec_or_constraint_is_one_line(tmp_path, monkeypatch, text, message):
    monkeypatch.chdir(tmp_path)
    Path("p.yaml").write_text(text, encoding="utf-8")
    Path("roster.csv").write_text("id\ns1\n", encoding="utf-8")
    result = run("variants", "p.yaml", "--roster", "roster.csv", "--out", "out")
    assert (result.exit_code, result.output) == (2, message + "\n")
    assert not Path("out").exists()


BAD_ROSTERS = [
    ("name,email\nAda,ada@example.org\n", "roster.csv:1: id: no id column (the header has name, email)"),
    ("id,name\ns1,Ada\ns2,Alan\ns1,Grace\n", "roster.csv:4: id: duplicate id 's1' (first at line 2)"),
    ("id\nS1\ns1\n", "roster.csv:3: id: duplicate id 's1' (first 'S1', the same file name where case is ignored, "
                     "at line 2)"),
    ("id\ns1\na/b\n", "roster.csv:3: id: 'a/b' is not safe as a file name (use letters, digits, '.', '_', '-'; "
                      "no '..', no leading '.')"),
    ("id\n..\n", "roster.csv:2: id: '..' is not safe as a file name (use letters, digits, '.', '_', '-'; "
                 "no '..', no leading '.')"),
    ("id\nx..y\n", "roster.csv:2: id: 'x..y' is not safe as a file name (use letters, digits, '.', '_', '-'; "
                   "no '..', no leading '.')"),
    ("id\n..\\x\n", "roster.csv:2: id: '..\\\\x' is not safe as a file name (use letters, digits, '.', '_', '-'; "
                    "no '..', no leading '.')"),
    ("id,name\n,Ada\n", "roster.csv:2: id: empty id"),
    ("id\n", "roster.csv:1: id: no students (the roster has a header line only)"),
    ("", "roster.csv:1: empty roster: expected a header line with an id column"),
]


@pytest.mark.parametrize("text, message", BAD_ROSTERS)
def test_a_bad_roster_is_one_line(tmp_path, monkeypatch, text, message):
    monkeypatch.chdir(tmp_path)
    Path("roster.csv").write_text(text, encoding="utf-8")
    result = run("variants", COMPANION, "--roster", "roster.csv", "--out", "out")
    assert (result.exit_code, result.output) == (2, message + "\n")


def test_unmet_constraints_exit_2_naming_the_constraint_and_the_draws(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("p.yaml").write_text(with_random(GOOD_RANDOM, ["yhat[1] > 0", "abs(z[1][1]) > 5"]), encoding="utf-8")
    Path("roster.csv").write_text("id\ns1\n", encoding="utf-8")
    result = run("variants", "p.yaml", "--roster", "roster.csv", "--out", "out", "--draws", "25")
    assert result.exit_code == 2
    # |z| <= 1 with weights in -1..1 and x = (1, 0): the second constraint never holds
    assert re.fullmatch(r"p\.yaml:15: constraints\[1\]: 'abs\(z\[1\]\[1\]\) > 5' not met after 25 draws "
                        r"for student s1 \(failed (\d+) times; last: z\[1\]\[1\] = -?[0-9.]+\)\n", result.output)
    assert not Path("out").exists()


def test_an_expression_given_is_computed_from_the_drawn_ones(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    spec = {"layers[0].weights[0][0]": "uniform 0.1..0.9 step 0.1", "layers[0].weights[1][0]": "1 - layers[0].weights[0][0]",
            "samples[0].y[0]": "[0, 1]"}
    Path("p.yaml").write_text(with_random(spec, ["w[1][1][1] != w[1][2][1]"]), encoding="utf-8")
    Path("roster.csv").write_text("id\na\nb\nc\nd\n", encoding="utf-8")
    assert run("variants", "p.yaml", "--roster", "roster.csv", "--out", "out").exit_code == 0
    for student in "abcd":
        doc = yaml.safe_load(Path(f"out/{student}.yaml").read_text(encoding="utf-8"))
        (first,), (second,) = doc["layers"][0]["weights"]
        assert Decimal(str(first)) + Decimal(str(second)) == 1 and first != 0.5
        assert doc["samples"][0]["y"] in ([0], [1])


def test_chained_paired_and_unquoted_constraints_hold_on_every_variant(tmp_path, monkeypatch):
    """-1 < z < 0.5 (chained), no weight moved by 0.06 or more (`*` paired), yhat not the base's."""
    monkeypatch.chdir(tmp_path)
    text = with_random(GOOD_RANDOM, ["-1 < z[1][1] < 0.5", "abs(w_new[*] - w[*]) < 0.06", "differs from base: yhat[1]"])
    Path("p.yaml").write_text(text, encoding="utf-8")
    Path("roster.csv").write_text("id\na\nb\nc\nd\ne\n", encoding="utf-8")
    assert run("variants", "p.yaml", "--roster", "roster.csv", "--out", "out").exit_code == 0
    for student in "abcde":
        (w1,), (w2,) = yaml.safe_load(Path(f"out/{student}.yaml").read_text(encoding="utf-8"))["layers"][0]["weights"]
        z = w1 * 1 + w2 * 0  # x = (1, 0), offset 0
        yhat = 1 / (1 + math.exp(-z))
        assert -1 < z < 0.5 and abs(round(yhat, 4) - 0.6225) > 1e-4  # base: w1 = 0.5, yhat = σ(0.5) = 0.6225
        step = 0.5 * abs((yhat - 1) * yhat * (1 - yhat))  # η |δ| x₁, the move of w₁; w₂ never moves (x₂ = 0)
        assert step < 0.06 + 1e-4


def test_derive_check_validates_the_random_and_constraint_fields(tmp_path):
    text = COMPANION.read_text(encoding="utf-8").replace("  - loss_change < 0 ", "  - loss_chnge < 0 ")
    path = tmp_path / "p.yaml"
    path.write_text(text, encoding="utf-8")
    line = text.splitlines().index(next(l for l in text.splitlines() if "loss_chnge" in l)) + 1
    result = run("check", path)
    assert result.exit_code == 2
    assert result.output == f"{path}:{line}: constraints[4]: unknown step key 'loss_chnge' (did you mean 'loss_change'?)\n"
    assert run("check", COMPANION).exit_code == 0


def test_one_draw_is_counted_in_the_singular(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("p.yaml").write_text(with_random(GOOD_RANDOM, ["abs(z[1][1]) > 5"]), encoding="utf-8")
    Path("roster.csv").write_text("id\ns1\n", encoding="utf-8")
    result = run("variants", "p.yaml", "--roster", "roster.csv", "--out", "out", "--draws", "1")
    assert result.exit_code == 2
    assert " not met after 1 draw for student s1 (failed once; last: " in result.output
