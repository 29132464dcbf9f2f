"""The grader's failure table: every way a hostile or odd input once hung, stopped a class, was accepted
wrongly or misread, each a row with the exact outcome it has now, through `derive grade` itself.

Answer rows: (problem, the sheet's line, the item, its verdict code, the start of its detail).
Entry rows: a submissions directory with good sheets and one odd entry; every good sheet is graded,
the odd one has its own line, and every report is written.

The rest of the table: problem files (a constant no float holds, errors found while solving, output
under any hash seed) in test_hostile_problems.py; what a sheet brings to a terminal or a spreadsheet,
report modes, blank ids and templates in test_hostile_sheets.py; a class under four hash seeds in
test_grade_determinism.py; budgets and crashes of the grading process in test_grade_isolation.py;
equivalence in test_equivalence_soundness.py; the 10,000-answer campaign in test_grade_hostile_answers.py.
"""

import json
import os

import pytest

from conftest import not_a_file
from derive.cli import cli

ANSWERS = [
    # hangs in SymPy's unbounded numeric evaluation
    ("sin-e-e-15", "lecture-bp-3layer", 'yhat[1]: "sin(e^(e^15))"', "yhat[1]", "UNREADABLE",
     "too large or too delicate a number to evaluate"),
    ("tan-e-e-e-3", "hw2-sigmoid", 'd1: "tan(e^(e^(e^3)))"', "d1", "UNDECIDED",
     "your expression could not be evaluated at any point tried"),
    # a realness check expanding (a + ib)^1000
    ("tanh-a11-1000", "hw5-pool", 'max.dpool[1][1][1][1]: "(tanh(a11^1000)+1)^2"', "max.dpool[1][1][1][1]",
     "UNREADABLE", "power 1000 of an expression in a variable too large (at most 64)"),
    # exceptions that stopped the class (exit 3)
    ("f-degenerate", "degenerate-saddle", 'grad[1]: "f"', "grad[1]", "UNREADABLE", "unknown name 'f'"),
    ("f-monkey", "monkey-saddle", 'H[1][1]: "f"', "H[1][1]", "UNREADABLE", "unknown name 'f'"),
    ("f-double-well", "numeric-double-well", 'grad[1]: "f"', "grad[1]", "UNREADABLE", "unknown name 'f'"),
    ("min-not-comparable", "lecture-bp-3layer", 'yhat[1]: "min(1.0, (-2)^pi)"', "yhat[1]", "UNREADABLE",
     "not a real number"),
    ("int-310-digits", "lecture-bp-3layer", "yhat[1]: 1" + "0" * 309, "yhat[1]", "UNREADABLE",
     "not a finite number"),
    # found by the campaign: a root finder that does not converge on x^2 = 10^100 (a piece's edge)
    ("edge-no-convergence", "hw2-sigmoid", 'd2: "max(1E100,x*x)"', "d2", "WRONG", "not equivalent: at x = "),
    # found by a longer campaign: SymPy's own proof overflowing on what a student wrote
    ("sympy-overflow", "hw2-log-softmax", 'expr.log_softmax_grad[3][1]: "tan((exp(10^999)))"',
     "expr.log_softmax_grad[3][1]", "UNDECIDED", "your expression could not be evaluated at any point tried"),
    # wrong answers once accepted
    ("plus-1e-11", "hw2-sigmoid", 'd1: "s(1-s) + 1e-11"', "d1", "WRONG", "not equivalent: at x = "),
    ("times-1.000000001", "hw2-sigmoid", 'd1: "1.000000001*s(1-s)"', "d1", "WRONG", "not equivalent: at x = "),
    ("max-beyond-3", "hw2-sigmoid", 'd1: "s(1-s) + max(0, x-3)"', "d1", "WRONG", "not equivalent: at x = "),
    ("relu-beyond-3", "degenerate-saddle", 'grad[1]: "4x^3 + relu(abs(x)-3)"', "grad[1]", "WRONG",
     "not equivalent: at x = "),
    ("exp-log", "lecture-saddle", 'yhat: "exp(log(w1 w2))"', "yhat", "WRONG",
     "not equivalent: only the expected expression is defined at "),
    ("sqrt-squared", "lecture-saddle", 'yhat: "sqrt(w1 w2)^2"', "yhat", "WRONG",
     "not equivalent: only the expected expression is defined at "),
    ("zero-log", "hw2-sigmoid", 'd1: "s(1-s) + 0*log(x)"', "d1", "WRONG",
     "not equivalent: only the expected expression is defined at "),
    ("exp-log-cubed", "degenerate-saddle", 'grad[1]: "4 exp(log(x))^3"', "grad[1]", "WRONG",
     "not equivalent: only the expected expression is defined at "),
    # the lecture's notation
    ("f-of-x", "lecture-bp-3layer", 'fprime[2]: "f(x)(1-f(x))"', "fprime[2]", "OK", "equivalent"),
    ("s-of-x", "lecture-bp-3layer", 'fprime[2]: "s(x)*(1-s(x))"', "fprime[2]", "OK", "equivalent"),
    ("h-written", "lecture-bp-3layer", 'fprime[2]: "h(1-h)"', "fprime[2]", "OK", "equivalent"),
    ("single-output", "lecture-bp-3layer", "yhat: 0.809", "yhat[1]", "OK", ""),
    ("single-delta", "lecture-bp-3layer", "delta[3]: -0.0264", "delta[3][1]", "OK", ""),
    # what YAML would read as something else
    ("date", "lecture-bp-3layer", "yhat[1]: 2020-01-01", "yhat[1]", "UNREADABLE", "'2020-01-01' is a date"),
    ("sexagesimal", "lecture-bp-3layer", "yhat[1]: 12:30", "yhat[1]", "UNREADABLE", "'12:30' is a time"),
    ("spaced-digits", "lecture-bp-3layer", "yhat[1]: '0.8 09'", "yhat[1]", "UNREADABLE",
     "'0.8 09': a space inside a number"),
    ("arabic-indic", "lecture-bp-3layer", "yhat[1]: '٠.٨٠٩'", "yhat[1]", "UNREADABLE", ""),
    ("fullwidth", "lecture-bp-3layer", "yhat[1]: '０.８０９'", "yhat[1]", "UNREADABLE", ""),
]


def grade_json(runner, tmp_path, problem, *entries):
    """(exit code, stdout, the --json report) of `derive grade problem tmp_path/class`."""
    result = runner.invoke(cli, ["grade", problem, str(tmp_path / "class"), "--json", str(tmp_path / "j.json"),
                                 "--csv", str(tmp_path / "c.csv"), "--gradescope", str(tmp_path / "g.json")])
    report = json.loads((tmp_path / "j.json").read_text(encoding="utf-8"))
    return result.exit_code, result.stdout, report


@pytest.mark.parametrize("name, problem, line, key, code, detail", ANSWERS, ids=[row[0] for row in ANSWERS])
def test_answer_row(runner, tmp_path, name, problem, line, key, code, detail):
    (tmp_path / "class").mkdir()
    (tmp_path / "class" / "s.yaml").write_text(line + "\n", encoding="utf-8")
    exit_code, _, report = grade_json(runner, tmp_path, problem)
    assert exit_code == 0
    (student,) = report["students"]
    verdict = next(v for v in student["verdicts"] if v["key"] == key)
    assert verdict["code"] == code, verdict
    assert verdict["detail"].startswith(detail), verdict
    assert student["warnings"] == []


GOOD = {"anna.yaml": "yhat[1]: 0.809\ndelta[3][1]: -0.0264\n", "ben.yaml": "yhat[1]: 0.81\n",
        "cleo.yaml": 'fprime[2]: "s(1-s)"\n'}


def odd_entry(directory, kind):
    path = directory / f"odd-{kind}.yaml"
    if kind == "recursive-alias":
        path.write_text("a: &a [*a]\n", encoding="utf-8")
    elif kind == "alias-bomb":
        levels = ["&a0 [" + ", ".join(["x"] * 9) + "]"]
        levels += [f"&a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 9)]
        path.write_text("id: [" + ", ".join(levels) + "]\n", encoding="utf-8")
    elif kind in ("dangling-symlink", "symlink-loop", "directory", "dev-zero", "fifo"):
        not_a_file(path, {"dangling-symlink": "dangling", "symlink-loop": "loop"}.get(kind, kind))
    elif kind == "hostile-answer":
        path.write_text('yhat[1]: "min(1.0, (-2)^pi)"\nfprime[2]: "sin(e^(e^15))"\n', encoding="utf-8")
    return path


ENTRIES = [
    ("recursive-alias", "recursive alias: a value contains itself"),
    ("alias-bomb", "too many values through aliases"),
    ("dangling-symlink", "dangling symbolic link"),
    ("symlink-loop", "symbolic link loop"),
    ("directory", "a directory, not a file"),
    pytest.param("dev-zero", "not a regular file (a character device)",
                 marks=pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="no /dev/zero here")),
    pytest.param("fifo", "not a regular file (a named pipe)",
                 marks=pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")),
    ("hostile-answer", None),  # graded: its answers are UNREADABLE, the class goes on
]


@pytest.mark.parametrize("kind, reason", ENTRIES)
def test_entry_row(runner, tmp_path, kind, reason):
    directory = tmp_path / "class"
    directory.mkdir()
    for name, text in GOOD.items():
        (directory / name).write_text(text, encoding="utf-8")
    odd = odd_entry(directory, kind)
    exit_code, stdout, report = grade_json(runner, tmp_path, "lecture-bp-3layer")
    by_student = {s["student"]: s for s in report["students"]}
    for name in GOOD:
        assert by_student[name[:-5]]["error"] is None
    line = by_student[odd.stem]
    if reason is None:
        assert exit_code == 0 and line["error"] is None
    else:
        assert exit_code == 1
        assert reason in line["error"]
        assert reason in stdout
    assert all((tmp_path / name).exists() for name in ("c.csv", "g.json", "j.json"))
    assert len((tmp_path / "c.csv").read_text(encoding="utf-8").splitlines()) == 1 + len(report["students"])


def test_a_matrix_step_is_not_an_item_a_sheet_must_answer(runner, tmp_path):
    # found by a longer campaign: a matrix-valued step was graded as an expression, and any answer met a
    # TypeError; no answer is read as a matrix, so the default items leave such steps out
    (tmp_path / "class").mkdir()
    (tmp_path / "class" / "s.yaml").write_text('vector.grad_b[1]: ".5"\n', encoding="utf-8")
    exit_code, _, report = grade_json(runner, tmp_path, "bp-derivation-matrix")
    assert exit_code == 0
    (student,) = report["students"]
    assert student["error"] is None
    assert student["verdicts"] and not any(v["key"].startswith("vector.") for v in student["verdicts"])
