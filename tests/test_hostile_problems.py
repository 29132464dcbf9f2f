"""Hostile problem files: numbers no float holds, errors found while solving, and output under any hash seed.

A problem file's numbers and the constants of its expressions are at most
1e9 in size; anything larger is refused where it is written, by `derive
check` as by `derive solve`. An error that only shows while solving (an
overflow after a few iterations, a division by zero) still names the line
and field of the given most likely to blame. A sweep over the bundled
problems, each with a number or an expression made hostile, holds every
outcome to that contract: a solution, or one line `file:line: field: ...`
and exit status 2, never a traceback and never an "internal" error.
"""

import copy
import os
import re
import subprocess
import sys

import pytest
import sympy
import yaml

from conftest import PROBLEMS, SMALL_NETWORK, edited
from derive.cli import cli
from derive.errors import DeriveError
from derive.problem import bundled_problems
from derive.steps import Origin, SolutionBuilder, Sym


def one_line_error(result, expected):
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert result.stderr == expected + "\n"


@pytest.fixture
def problem_file(tmp_path):
    """A function writing its text to tmp_path/p.yaml and returning that path."""
    def write(text):
        path = tmp_path / "p.yaml"
        path.write_text(text, encoding="utf-8")
        return path
    return write


def bundled_with(name, old, new):
    """(text, line): bundled problem `name` with its one line holding `old` replaced by `new`, and that line."""
    lines = (PROBLEMS / f"{name}.yaml").read_text(encoding="utf-8").splitlines()
    [line] = [n for n, text in enumerate(lines, start=1) if old in text]
    return edited("\n".join(lines) + "\n", line, lines[line - 1].replace(old, new)), line


# -- refused where they are written -------------------------------------------------------------------

DERIVATIVE = "kind: derivative\nfunction: x^2\nat: [1]\n"
OPTIMIZER = """\
kind: optimizer
parameters: [w1, w2]
loss: (1 - w1 w2)^2
start: {w1: 0.5, w2: 1.5}
iterations: 3
optimizers:
  - method: gd
    learning_rate: 0.4
"""  # its lines: 1 kind  2 parameters  3 loss  4 start  5 iterations  6 optimizers  7 method  8 learning_rate
CRITICAL = "kind: critical_points\nparameters: [w1, w2]\nloss: (1 - w1 w2)^2\n"

TOO_LARGE = [
    # constants of expressions (SMALL_NETWORK's line 4 is the activation)
    (edited(SMALL_NETWORK, 4, "  - activation: 10^999*x"),
     "p.yaml:4: layers[0].activation: constant 10^999 too large (at most 1e9 in size)"),
    (edited(SMALL_NETWORK, 4, "  - activation: 1e300*x"),
     "p.yaml:4: layers[0].activation: constant 1e+300 too large (at most 1e9 in size)"),
    (edited(SMALL_NETWORK, 4, "  - activation: x + 2^40"),
     "p.yaml:4: layers[0].activation: constant 1.09951e+12 too large (at most 1e9 in size)"),
    (edited(SMALL_NETWORK, 4, "  - activation: exp(1000)*x"),
     "p.yaml:4: layers[0].activation: constant exp(1000) too large (at most 1e9 in size)"),
    (edited(SMALL_NETWORK, 4, "  - activation: 3^900/x"),
     "p.yaml:4: layers[0].activation: constant 2.57e+429 too large (at most 1e9 in size)"),
    (edited(DERIVATIVE, 2, "function: 10^999*x"), "p.yaml:2: function: constant 10^999 too large (at most 1e9 in size)"),
    (edited(OPTIMIZER, 3, "loss: (1 - w1 w2)^2 * 10^20"),
     "p.yaml:3: loss: constant 1e+20 too large (at most 1e9 in size)"),
    (edited(CRITICAL, 3, "loss: 1e30*(1 - w1 w2)^2"), "p.yaml:3: loss: constant 1e+30 too large (at most 1e9 in size)"),
    # numbers
    (edited(SMALL_NETWORK, 9, "learning_rate: 1e30"),
     "p.yaml:9: learning_rate: expected a number at most 1e9 in size, got 1e+30"),
    (edited(SMALL_NETWORK, 5, "    weights: [[0.5], [-1e300]]"),
     "p.yaml:5: layers[0].weights[1][0]: expected a number at most 1e9 in size, got -1e+300"),
    (edited(SMALL_NETWORK, 7, "  - x: [1, 10000000000]"),
     "p.yaml:7: samples[0].x[1]: expected a number at most 1e9 in size, got 1e+10"),
    (edited(OPTIMIZER, 4, "start: {w1: 0.5, w2: 2e9}"),
     "p.yaml:4: start.w2: expected a number at most 1e9 in size, got 2e+09"),
]


@pytest.mark.parametrize("command", ["check", "solve"])
@pytest.mark.parametrize("text, message", TOO_LARGE, ids=[row[1].split(": ", 1)[1][:60] for row in TOO_LARGE])
def test_too_large_fail(runner, problem_file, command, text, message):
    path = problem_file(text)
    one_line_error(runner.invoke(cli, [command, str(path)]), f"{path.parent}/{message}")


def test_an_activation_no_float_holds_is_refused_by_check_and_every_format(runner, tmp_path):
    text, line = bundled_with("lecture-bp-3layer", "activation: max(1, x)", "activation: 10^999*x")
    path = tmp_path / "huge.yaml"
    path.write_text(text, encoding="utf-8")
    expected = f"{path}:{line}: layers[0].activation: constant 10^999 too large (at most 1e9 in size)"
    one_line_error(runner.invoke(cli, ["check", str(path)]), expected)
    for format_ in ("json", "text"):
        one_line_error(runner.invoke(cli, ["solve", str(path), "--format", format_]), expected)


@pytest.mark.parametrize("value", ["1e30", "1e300", "-1e30"])
def test_huge_sample_of_a_saddle_names_its_field_and_line(runner, tmp_path, value):
    text, line = bundled_with("lecture-saddle", "- {x: 1, y: 1}", f"- {{x: {value}, y: 1}}")
    path = tmp_path / "saddle.yaml"
    path.write_text(text, encoding="utf-8")
    for command in (["check", str(path)], ["solve", str(path), "--format", "json"]):
        one_line_error(runner.invoke(cli, command),
                       f"{path}:{line}: model.samples[0].x: expected a number at most 1e9 in size, got {float(value):g}")


def test_the_largest_number_is_accepted(runner, problem_file):
    path = problem_file(edited(edited(SMALL_NETWORK, 4, "  - activation: 1e9*x - 1e9"), 9, "learning_rate: 1e9"))
    assert runner.invoke(cli, ["check", str(path)]).exit_code == 0


# -- found while solving, named at the given to blame ------------------------------------------------

SOLVE_FAILURES = [
    # gd with η = 1e9 runs away: the loss overflows at the third iteration; η is the largest given
    (edited(OPTIMIZER, 8, "    learning_rate: 1e9"),
     "p.yaml:8: optimizers[0].learning_rate: cannot evaluate gd.loss[3]: number too large"),
    # adagrad from a point where the gradient is 0 divides by its zero accumulated gradient
    (edited(edited(OPTIMIZER, 4, "start: {w1: 0, w2: 0}"), 7, "  - method: adagrad"),
     "p.yaml:4: start.w1: cannot evaluate adagrad.update[0][w1]: division by zero"),
    # log of the starting point's negative w1
    (edited(edited(OPTIMIZER, 3, "loss: log(w1) + w2^2"), 4, "start: {w1: -1, w2: 2}"),
     "p.yaml:4: start.w1: cannot evaluate gd.loss[0]: outside the domain of a function "
     "(log or sqrt of a negative number?)"),
]


@pytest.mark.parametrize("command", ["check", "solve"])
@pytest.mark.parametrize("text, message", SOLVE_FAILURES, ids=[row[1].split(": ", 2)[2][:60] for row in SOLVE_FAILURES])
def test_found_while_solving_fail(runner, problem_file, command, text, message):
    path = problem_file(text)
    one_line_error(runner.invoke(cli, [command, str(path)]), f"{path.parent}/{message}")


def built(*givens):
    """A SolutionBuilder holding givens a, b, c... with these values, each written on its own line."""
    out = SolutionBuilder()
    for line, value in enumerate(givens, start=1):
        out.given("abcdef"[line - 1], Sym("g", "g"), float(value), origin=Origin(line, f"g{line}"))
    return out


@pytest.mark.parametrize("givens, formula, suspect", [
    ((2, 1e200, 1e150), "(a * b)**2 * c", "g2"),  # overflow: the largest
    ((2, 0, 3, 0), "a / (b * c * d)", "g2"),  # division by zero: the first 0
    ((3, 1e-300, 1e-200), "a / sin(b * c)", "g2"),  # no 0 among them: the smallest
    ((3, -1, -2), "log(a * b)", "g2"),  # log of a negative: the first negative
])
def test_the_given_to_blame(givens, formula, suspect):
    out = built(*givens)
    names = "abcdef"[:len(givens)]
    expression = sympy.sympify(formula, locals={n: sympy.Symbol(n) for n in names})
    with pytest.raises(DeriveError) as raised:
        out.step("p", Sym("p", "p"), expression, "s")
    assert raised.value.suspect.field == suspect


def test_the_given_to_blame_is_found_through_computed_steps():
    out = built(1e200, 3)
    q = out.step("q", Sym("q", "q"), sympy.Symbol("a") * 2, "s")
    with pytest.raises(DeriveError) as raised:
        out.step("r", Sym("r", "r"), q ** 2 * sympy.Symbol("b"), "s")
    assert raised.value.suspect == Origin(1, "g1")


# -- every bundled problem, made hostile --------------------------------------------------------------

HOSTILE_NUMBERS = (1e30, -1e300, 0, 1e9, -1e9)
HOSTILE_EXPRESSIONS = ("10^999*({})", "({})*1e300", "({})*2^40")
EXPRESSION_FIELDS = {"activation", "activations", "function", "loss", "output", "input_activation"}
LEFT_ALONE = {"title", "notes", "source", "grading", "random", "constraints", "kind"}


def _leaves(data, where=()):
    if isinstance(data, dict):
        for key, value in data.items():
            yield from _leaves(value, where + (key,))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from _leaves(value, where + (index,))
    else:
        yield where, data


def _named(where):
    return next((part for part in reversed(where) if isinstance(part, str)), None)


def hostile_cases():
    """(problem, path in its data, new value): for each bundled problem, two numbers and one expression.

    Chosen by the problem's position, so that the sweep is the same on every
    run and, across problems, reaches different fields and values.
    """
    cases = []
    for n, path in enumerate(bundled_problems()):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        leaves = [(where, value) for where, value in _leaves(data) if where and where[0] not in LEFT_ALONE]
        numbers = [where for where, value in leaves
                   if isinstance(value, (int, float)) and not isinstance(value, bool)]
        expressions = [(where, value) for where, value in leaves
                       if isinstance(value, str) and _named(where) in EXPRESSION_FIELDS]
        for k in range(min(2, len(numbers))):
            cases.append((path.stem, numbers[(7 * n + 5 * k) % len(numbers)], HOSTILE_NUMBERS[(n + 2 * k) % 5]))
        if expressions:
            where, text = expressions[n % len(expressions)]
            cases.append((path.stem, where, HOSTILE_EXPRESSIONS[n % 3].format(text)))
    return cases


def _written(name, where, value, directory):
    data = yaml.safe_load((PROBLEMS / f"{name}.yaml").read_text(encoding="utf-8"))
    changed = copy.deepcopy(data)
    holder = changed
    for part in where[:-1]:
        holder = holder[part]
    holder[where[-1]] = value
    path = directory / f"{name}.yaml"
    path.write_text(yaml.safe_dump(changed, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


@pytest.mark.parametrize("name, where, value", hostile_cases(),
                         ids=lambda part: ".".join(map(str, part)) if isinstance(part, tuple) else str(part))
def test_hostile_bundled_problem_solves_or_names_its_line(runner, tmp_path, name, where, value):
    path = _written(name, where, value, tmp_path)
    for command in (["check", str(path)], ["solve", str(path), "--format", "json"]):
        result = runner.invoke(cli, command)
        assert result.exit_code in (0, 2), (command, result.output)
        if result.exit_code == 2:
            assert result.stdout == ""
            assert re.fullmatch(re.escape(str(path)) + r":\d+: \S[^\n]*\n", result.stderr), result.stderr
            assert "internal" not in result.stderr, result.stderr


# -- the same bytes under any hash seed ----------------------------------------------------------------

EVERY_FORMAT = """
import sys
from derive.problem import bundled_problems, load_problem
from derive.render import render
for path in bundled_problems():
    solution = load_problem(path).solve()
    for format_ in ("json", "text", "markdown", "latex"):
        for settings in ([{}] if format_ == "json" else [{}, {"keys": True}]):
            sys.stdout.write(f"== {path.stem} {format_} {settings}\\n" + render(solution, format_, **settings))
"""


def test_every_bundled_problem_prints_the_same_bytes_under_any_hash_seed():
    """`derive solve P --format F` (what it calls: load, solve, render) under three hash seeds, side by side."""
    runs = [subprocess.Popen([sys.executable, "-c", EVERY_FORMAT], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             env={**os.environ, "PYTHONHASHSEED": str(seed)})
            for seed in range(3)]
    outputs = []
    for run in runs:
        stdout, stderr = run.communicate(timeout=300)
        assert run.returncode == 0, stderr.decode()
        outputs.append(stdout)
    assert outputs[0].count(b"\n== ") + 1 == 7 * len(bundled_problems())
    for seed, output in enumerate(outputs[1:], start=1):
        assert output == outputs[0], f"PYTHONHASHSEED={seed} prints differently from PYTHONHASHSEED=0"
