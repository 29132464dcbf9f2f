"""`kind: softmax`: derived results, numbers at a vector, bad files, grading and the printed solutions.

Every expected value comes from outside derive/kinds/softmax.py:

- the closed forms of the lectures' activation derivatives, typed again here on plain
  SymPy Symbols, compared with derive's derivatives by `sympy.simplify` of the
  difference and by numbers at random points;
- numpy (a softmax written here, shifted by max(x) as libraries do) and
  central finite differences of softmax, log softmax and cross-entropy;
- for the bundled problem's 4-decimal chain, arithmetic by hand in comments.
"""

import random
import re

import jsonschema
import numpy as np
import pytest
import sympy
import yaml

from derive.cli import cli
from derive.errors import ProblemError
from derive.fields import schema
from derive.grading.grader import Grader
from derive.kinds import softmax as softmax_kind
from derive.problem import load_problem
from derive.render import render
from derive.render.formula import key_formula, latex_formula, text_formula
from derive.grading.sheet import AnswerSheet, read_answer
from conftest import PROBLEMS, edited, extended


@pytest.fixture(scope="module")
def solve(tmp_path_factory):
    """text of a problem file -> its exact Solution (each text solved once per module)."""
    folder = tmp_path_factory.mktemp("softmax")
    solved = {}

    def solve_text(text):
        if text not in solved:
            path = folder / f"p{len(solved)}.yaml"
            path.write_text(text, encoding="utf-8")
            solved[text] = load_problem(path).solve()
        return solved[text]
    return solve_text


def problem(n=None, at=None, y=None, results=None):
    lines = ["kind: softmax"]
    for name, value in (("n", n), ("at", at), ("y", y), ("results", results)):
        if value is not None:
            lines.append(f"{name}: {list(value) if isinstance(value, tuple) else value}")
    return "\n".join(lines) + "\n"


def plain(expr):
    """derive's expression on plain SymPy Symbols of the same names (the oracle's own symbols)."""
    return expr.xreplace({symbol: sympy.Symbol(symbol.name, real=True) for symbol in expr.free_symbols})


def closed_forms(n):
    """x_1..x_n, s_k = exp(x_k)/Σ exp(x_m), y_1..y_n, on plain Symbols: the lectures' activation derivatives typed again."""
    x = [sympy.Symbol(f"x_{k}", real=True) for k in range(1, n + 1)]
    y = [sympy.Symbol(f"y_{k}", real=True) for k in range(1, n + 1)]
    total = sum(sympy.exp(v) for v in x)
    s = [sympy.exp(v) / total for v in x]
    return x, y, s


def delta(i, j):
    return 1 if i == j else 0


# ================================================================================
# Derived expressions for a concrete n, against the closed forms
# ================================================================================

def expected_expressions(n):
    """key -> closed form, for every derived expression of a problem with n components."""
    x, y, s = closed_forms(n)
    expected = {}
    for i in range(n):
        for j in range(n):
            expected[f"expr.jacobian[{i + 1}][{j + 1}]"] = s[i] * (delta(i, j) - s[j])
            expected[f"expr.log_softmax_grad[{i + 1}][{j + 1}]"] = delta(i, j) - s[j]
        expected[f"expr.grad[{i + 1}]"] = s[i] - y[i]
    return x + y, expected


@pytest.mark.parametrize("n", [2, 3, 4])
def test_derived_expressions_equal_the_closed_forms_by_sympy(solve, n):
    solution = solve(problem(n=n))
    _, expected = expected_expressions(n)
    assert {step.key for step in solution if step.key.startswith("expr.")} == set(expected)
    for key, closed in expected.items():
        assert sympy.simplify(plain(solution[key].value) - closed) == 0, key


@pytest.mark.parametrize("n", [2, 3, 4])
def test_derived_expressions_equal_the_closed_forms_at_random_points(solve, n):
    solution = solve(problem(n=n))
    variables, expected = expected_expressions(n)
    rng = np.random.default_rng(n)
    points = rng.uniform(-3, 3, size=(20, len(variables)))
    for key, closed in expected.items():
        derived = sympy.lambdify(variables, plain(solution[key].value), "numpy")
        oracle = sympy.lambdify(variables, closed, "numpy")
        for point in points:
            assert derived(*point) == pytest.approx(oracle(*point), rel=1e-10, abs=1e-12), key


@pytest.mark.parametrize("n", [2, 3, 4])
def test_each_derivation_line_differentiates_the_definition(solve, n):
    """The printed formula is ∂/∂x_j of the definition: SymPy, applied here, gives the printed value."""
    solution = solve(problem(n=n))
    x, y, s = closed_forms(n)
    loss = -sum(yk * sympy.log(sk) for yk, sk in zip(y, s))
    for i in range(n):
        for j in range(n):
            for key, function in ((f"expr.jacobian[{i + 1}][{j + 1}]", s[i]),
                                  (f"expr.log_softmax_grad[{i + 1}][{j + 1}]", sympy.log(s[i]))):
                formula = plain(solution[key].formula)
                assert isinstance(formula, sympy.Derivative) and formula.variables == (x[j],)
                assert sympy.simplify(formula.expr - function) == 0, key
        formula = plain(solution[f"expr.grad[{i + 1}]"].formula)
        assert formula.variables == (x[i],) and sympy.simplify(formula.expr - loss) == 0


@pytest.mark.parametrize("n", [2, 3, 4])
def test_rows_of_the_derived_jacobians_sum_to_zero(solve, n):
    # Σ_j s_i (δ_ij - s_j) = s_i (1 - Σ_j s_j) = 0, and Σ_j (δ_ij - s_j) = 0 likewise
    solution = solve(problem(n=n))
    for name in ("expr.jacobian", "expr.log_softmax_grad"):
        for i in range(1, n + 1):
            row = sum(plain(solution[f"{name}[{i}][{j}]"].value) for j in range(1, n + 1))
            assert sympy.simplify(row) == 0, (name, i)


def test_one_component_is_the_constant_softmax(solve):
    # n = 1: s_1 = exp(x_1)/exp(x_1) = 1, so every derivative is 0, and ∂L/∂x_1 = 1 - y_1
    solution = solve(problem(n=1))
    assert solution["expr.jacobian[1][1]"].value == 0
    assert solution["expr.log_softmax_grad[1][1]"].value == 0
    y1 = sympy.Symbol("y_1", real=True)
    assert sympy.simplify(plain(solution["expr.grad[1]"].value) - (1 - y1)) == 0


# ================================================================================
# The general results for a symbolic n
# ================================================================================

i, j = sympy.symbols("i j")
s_i, s_j, y_j, x_i, x_j, S = (sympy.Symbol(name, real=True) for name in ("s_i", "s_j", "y_j", "x_i", "x_j", "S"))
KD = sympy.KroneckerDelta

GENERAL = [  # the lectures' activation derivatives, and its cases i = j and i ≠ j worked by hand
    ("general.jacobian", s_i * (KD(i, j) - s_j)),
    ("general.jacobian.diagonal", s_i * (1 - s_i)),
    ("general.jacobian.off_diagonal", -s_i * s_j),
    ("general.log_softmax_grad", KD(i, j) - s_j),
    ("general.log_softmax_grad.diagonal", 1 - s_i),
    ("general.log_softmax_grad.off_diagonal", -s_j),
    ("general.grad", s_j - y_j),
]


@pytest.mark.parametrize("key, expected", GENERAL, ids=[key for key, _ in GENERAL])
def test_general_results(solve, key, expected):
    value = solve(problem())[key].value
    ours = {symbol.name: symbol for symbol in (i, j, s_i, s_j, y_j)}
    renamed = value.xreplace({symbol: ours[symbol.name] for symbol in value.free_symbols})
    assert sympy.simplify(renamed - expected) == 0


def test_general_derivation_lines_are_the_derivatives_in_s(solve):
    """The printed derivative (in x_i, x_j and S = Σ_k exp(x_k)) is the value with s_k = exp(x_k)/S."""
    solution = solve(problem())
    in_s = {s_i: sympy.exp(x_i) / S, s_j: sympy.exp(x_j) / S}
    for key in ("general.jacobian", "general.log_softmax_grad", "general.grad"):
        step = solution[key]
        formula = plain(step.formula).replace(lambda e: isinstance(e, sympy.Sum), lambda e: sympy.Integer(1))
        assert sympy.simplify(formula - plain(step.value).xreplace(in_s)) == 0, key
    # the Sum replaced above is Σ_m y_m in ∂L/∂x_j, which the targets make 1
    assert solution["general.grad"].formula.has(sympy.Sum)


def test_general_jacobian_at_concrete_indices_matches_n_3(solve):
    """s_i (δ_ij - s_j) with i, j = 1..3 and s = softmax(x_1, x_2, x_3) is each derived entry for n = 3."""
    solution = solve(problem(n=3))
    general = solution["general.jacobian"].value
    _, _, s = closed_forms(3)
    for a in range(1, 4):
        for b in range(1, 4):
            entry = general.xreplace({symbol: {"s_i": s[a - 1], "s_j": s[b - 1], "i": a, "j": b}[symbol.name]
                                      for symbol in general.free_symbols})
            derived = plain(solution[f"expr.jacobian[{a}][{b}]"].value)
            assert sympy.simplify(entry - derived) == 0, (a, b)


# ================================================================================
# Numbers at a vector, against numpy and finite differences
# ================================================================================

def np_softmax(x):
    e = np.exp(x - np.max(x))
    return e / e.sum()


def np_cross_entropy(x, y):
    return -float(np.dot(y, np.log(np_softmax(x))))


def central_difference(f, x, h=1e-5):
    """Columns ∂f/∂x_j of a vector (or scalar) function, by (f(x + h e_j) - f(x - h e_j)) / 2h."""
    x = np.asarray(x, dtype=float)
    columns = []
    for j in range(len(x)):
        step = np.zeros_like(x)
        step[j] = h
        columns.append((np.asarray(f(x + step)) - np.asarray(f(x - step))) / (2 * h))
    return np.array(columns).T


POINTS = [
    ((1, 2, 3), (0, 0, 1)),
    ((2, 1, 0.1), (1, 0, 0)),
    ((0.5, -0.5), (0.3, 0.7)),
    ((-1.5, 0.3, 2.2, -0.7), (0.1, 0.2, 0.3, 0.4)),
    ((7, -3, 0, 1.25, 4.5, -2), (0, 0, 0, 0, 1, 0)),
    ((0, 0, 0), (0.25, 0.25, 0.5)),
]


def values_at(solve, at, y):
    return solve(problem(at=at, y=y)).values()


def matrix(values, name, n):
    return np.array([[values[f"{name}[{i}][{j}]"] for j in range(1, n + 1)] for i in range(1, n + 1)])


@pytest.mark.parametrize("at, y", POINTS)
def test_softmax_and_loss_match_numpy(solve, at, y):
    values = values_at(solve, at, y)
    s = np_softmax(np.array(at, dtype=float))
    for k, expected in enumerate(s, start=1):
        assert values[f"s[{k}]"] == pytest.approx(expected, rel=1e-12, abs=1e-15)
    assert values["sum_exp"] == pytest.approx(np.exp(np.array(at, dtype=float)).sum(), rel=1e-12)
    assert values["loss"] == pytest.approx(np_cross_entropy(np.array(at, dtype=float), np.array(y)), rel=1e-12)


@pytest.mark.parametrize("at, y", POINTS)
def test_jacobian_matches_numpy_and_finite_differences(solve, at, y):
    values, n = values_at(solve, at, y), len(at)
    jacobian = matrix(values, "jacobian", n)
    s = np_softmax(np.array(at, dtype=float))
    np.testing.assert_allclose(jacobian, np.diag(s) - np.outer(s, s), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(jacobian, central_difference(np_softmax, at), rtol=0, atol=1e-8)


@pytest.mark.parametrize("at, y", POINTS)
def test_log_softmax_gradient_matches_finite_differences(solve, at, y):
    values, n = values_at(solve, at, y), len(at)
    gradient = matrix(values, "log_softmax_grad", n)  # row i: ∇ log s_i
    np.testing.assert_allclose(gradient, central_difference(lambda v: np.log(np_softmax(v)), at), atol=1e-8)


@pytest.mark.parametrize("at, y", POINTS)
def test_cross_entropy_gradient_matches_numpy_and_finite_differences(solve, at, y):
    values, n = values_at(solve, at, y), len(at)
    gradient = np.array([values[f"grad[{j}]"] for j in range(1, n + 1)])
    np.testing.assert_allclose(gradient, np_softmax(np.array(at, dtype=float)) - np.array(y), atol=1e-15)
    finite = central_difference(lambda v: np_cross_entropy(v, np.array(y)), at)
    np.testing.assert_allclose(gradient, finite, atol=1e-8)


@pytest.mark.parametrize("at, y", POINTS)
def test_rows_of_the_jacobians_at_a_vector_sum_to_zero(solve, at, y):
    values, n = values_at(solve, at, y), len(at)
    for name in ("jacobian", "log_softmax_grad"):
        np.testing.assert_allclose(matrix(values, name, n).sum(axis=1), 0, atol=1e-12)
    assert sum(values[f"grad[{j}]"] for j in range(1, n + 1)) == pytest.approx(0, abs=1e-12)


def test_random_vectors_against_finite_differences(solve):
    """Twelve more vectors, seeded, every result at once."""
    rng = random.Random(5)
    for _ in range(12):
        n = rng.randint(1, 6)
        at = tuple(round(rng.uniform(-5, 5), 3) for _ in range(n))
        weights = [rng.random() for _ in range(n)]
        y = tuple(w / sum(weights) for w in weights)
        values = values_at(solve, at, y)
        np.testing.assert_allclose(matrix(values, "jacobian", n), central_difference(np_softmax, at), atol=1e-8)
        np.testing.assert_allclose(matrix(values, "log_softmax_grad", n),
                                   central_difference(lambda v: np.log(np_softmax(v)), at), atol=1e-8)
        finite = central_difference(lambda v: np_cross_entropy(v, np.array(y)), at)
        np.testing.assert_allclose([values[f"grad[{j}]"] for j in range(1, n + 1)], finite, atol=1e-8)


# Every step of softmax-jacobian.yaml, 4 decimals carried forward, by hand:
# Σ = e^2 + e^1 + e^0.1 = 7.389056 + 2.718282 + 1.105171 = 11.212509 -> 11.2125
# s = (7.389056/11.2125, 2.718282/11.2125, 1.105171/11.2125) = (0.659001, 0.242433, 0.098566)
#   -> (0.6590, 0.2424, 0.0986)
SOFTMAX_JACOBIAN_BY_HAND = [
    ("sum_exp", 11.2125),
    ("s[1]", 0.6590), ("s[2]", 0.2424), ("s[3]", 0.0986),
    ("jacobian[1][1]", 0.2247),    # 0.659 * (1 - 0.659) = 0.224719
    ("jacobian[1][2]", -0.1597),   # -0.659 * 0.2424 = -0.1597416
    ("jacobian[1][3]", -0.0650),   # -0.659 * 0.0986 = -0.0649774
    ("jacobian[2][1]", -0.1597),
    ("jacobian[2][2]", 0.1836),    # 0.2424 * 0.7576 = 0.18364224
    ("jacobian[2][3]", -0.0239),   # -0.2424 * 0.0986 = -0.02390064
    ("jacobian[3][3]", 0.0889),    # 0.0986 * 0.9014 = 0.08887804
    ("loss", 0.4170),              # -ln 0.659 = 0.417032
    ("grad[1]", -0.341), ("grad[2]", 0.2424), ("grad[3]", 0.0986),
]


@pytest.fixture(scope="module")
def softmax_jacobian_values():
    return load_problem(PROBLEMS / "softmax-jacobian.yaml").solve().values()


@pytest.mark.parametrize("key, expected", SOFTMAX_JACOBIAN_BY_HAND)
def test_bundled_softmax_jacobian_rounded_chain_by_hand(softmax_jacobian_values, key, expected):
    assert softmax_jacobian_values[key] == expected


# ================================================================================
# Grading: expressions by equivalence, numbers with follow-through
# ================================================================================

SHEET = {
    "expr.jacobian[1][2]": "-exp(x_1 + x_2)/(exp(x_1) + exp(x_2) + exp(x_3))^2",
    "expr.jacobian[1][1]": "exp(x_1)/(exp(x_1) + exp(x_2) + exp(x_3))",      # s_1, not s_1 (1 - s_1)
    "expr.grad[1]": "exp(x_1)/(exp(x_1)+exp(x_2)+exp(x_3)) - y_1",
    "general.jacobian.diagonal": "s_i - s_i^2",
    "general.jacobian.off_diagonal": "-s_j s_i",
    "general.grad": "s_j - y_j",
    "s[1]": "0.669",             # a slip: 0.659
    "jacobian[1][1]": "0.2214",  # 0.669 * (1 - 0.669) = 0.221439, right with the slip
    "jacobian[1][2]": "-0.1622",  # -0.669 * 0.2424 = -0.1621656
    "grad[1]": "-0.331",         # 0.669 - 1
    "grad[2]": "0.2424",
}

VERDICTS = {
    "expr.jacobian[1][2]": "OK", "expr.jacobian[1][1]": "WRONG", "expr.grad[1]": "OK",
    "general.jacobian.diagonal": "OK", "general.jacobian.off_diagonal": "OK", "general.grad": "OK",
    "s[1]": "WRONG", "jacobian[1][1]": "FT", "jacobian[1][2]": "FT", "grad[1]": "FT", "grad[2]": "OK",
}


def test_a_sheet_is_graded_by_equivalence_and_follow_through():
    grader = Grader(load_problem(PROBLEMS / "softmax-jacobian.yaml"))
    sheet = AnswerSheet("sheet.yaml", "student", {key: read_answer(text) for key, text in SHEET.items()})
    verdicts = {v.key: v.code for v in grader.grade(sheet).verdicts if v.key in SHEET}
    assert verdicts == VERDICTS


@pytest.mark.parametrize("name", ["hw2-log-softmax", "softmax-jacobian"])
def test_every_graded_item_of_the_bundled_problems_can_be_answered(name):
    """The answer key itself, typed as a student would (expressions in x_1, s_i...), is right throughout."""
    grader = Grader(load_problem(PROBLEMS / f"{name}.yaml"))
    answers = {}
    for key in grader.items:
        step = grader.exact[key]
        answers[key] = read_answer(key_formula(step.value) if step.is_symbolic else repr(step.value))
    verdicts = grader.grade(AnswerSheet("key.yaml", "key", answers)).verdicts
    assert [v.key for v in verdicts if v.code != "OK"] == []
    assert any(grader.exact[v.key].is_symbolic for v in verdicts)


# ================================================================================
# Bad files: one line, file:line: field: what was expected
# ================================================================================

VALID = """\
kind: softmax
n: 3
at: [1, 2, 3]
y: [0, 0, 1]
"""
#  1 kind  2 n  3 at  4 y


def edit(line, text, problem=VALID):
    return edited(problem, line, text)


def add(text, problem=VALID):
    return extended(problem, text)


FAILURES = [
    (edit(2, "n: 0"), "p.yaml:2: n: expected a whole number >= 1, got 0"),
    (edit(2, "n: -2"), "p.yaml:2: n: expected a whole number >= 1, got -2"),
    (edit(2, "n: 2.5"), "p.yaml:2: n: expected a whole number, got 2.5"),
    (edit(2, "n: three"), "p.yaml:2: n: expected a whole number, got text 'three'"),
    (edit(2, "n: true"), "p.yaml:2: n: expected a whole number, got true (a boolean)"),
    (edit(2, "n: 7"), "p.yaml:2: n: expected a whole number <= 6, got 7"),
    (edit(3, "at: [1, 2]"), "p.yaml:3: at: expected 3 number(s), got 2"),
    (edit(3, "at: [1, 2, 3, 4]"), "p.yaml:3: at: expected 3 number(s), got 4"),
    (edit(3, "at: [1, 2, x]"), "p.yaml:3: at[2]: expected a number, got text 'x'"),
    (edit(3, "at: [1, 2, 1000]"), "p.yaml:3: at: expected numbers from -100 to 100, got 1000"),
    (edit(3, "at: [1, 2, .nan]"), "p.yaml:3: at[2]: expected a finite number, got nan"),
    (edit(2, "", edit(3, "at: [1, 2, 3, 4, 5, 6, 7]")), "p.yaml:2: at: expected 1 to 6 numbers, got 7"),
    (edit(4, "y: [0, 0.5, 0.4]"), "p.yaml:4: y: expected probabilities summing to 1, got a sum of 0.9"),
    (edit(4, "y: [0, 1, 1]"), "p.yaml:4: y: expected probabilities summing to 1, got a sum of 2"),
    (edit(4, "y: [0, 0, 1, 0]"), "p.yaml:4: y: expected 3 number(s), got 4"),
    (edit(4, "y: [-0.5, 0.5, 1]"), "p.yaml:4: y: expected probabilities (numbers >= 0), got -0.5"),
    (edit(4, ""), "p.yaml:1: y: missing (cross_entropy at a vector needs the target y; "
                  "or leave cross_entropy out of results)"),
    (edit(3, ""), "p.yaml:3: y: has no meaning without a vector `at` to evaluate the cross-entropy at"),
    (add("results: [jacobian]"), "p.yaml:4: y: has no meaning without cross_entropy in results"),
    (add("results: [jacobain]"), "p.yaml:5: results[0]: expected one of jacobian, log_softmax, cross_entropy, "
                                 "got text 'jacobain' (did you mean 'jacobian'?)"),
    (add("results: []"), "p.yaml:5: results: expected at least one of jacobian, log_softmax, cross_entropy"),
    (add("results: jacobian"), "p.yaml:5: results: expected a list, got text 'jacobian'"),
    (add("results: [cross_entropy, jacobian, cross_entropy]"), "p.yaml:5: results[2]: cross_entropy is listed twice"),
    (add("resluts: [jacobian]"), "p.yaml:5: resluts: unknown field (did you mean 'results'?)"),
]


@pytest.fixture
def problem_file(tmp_path):
    def write(text):
        path = tmp_path / "p.yaml"
        path.write_text(text, encoding="utf-8")
        return path
    return write


@pytest.mark.parametrize("command", ["solve", "check"])
@pytest.mark.parametrize("text, message", FAILURES, ids=[row[1].split(": ", 1)[1][:60] for row in FAILURES])
def test_fail(runner, problem_file, command, text, message):
    path = problem_file(text)
    result = runner.invoke(cli, [command, str(path)])
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert result.stderr == f"{path.parent}/{message}\n"


SUCCESSES = [
    pytest.param(VALID, id="valid"),
    pytest.param("kind: softmax\n", id="nothing but the kind: n = 3, no vector"),
    pytest.param("kind: softmax\nn: 1\n", id="n = 1"),
    pytest.param("kind: softmax\nat: [0.5, -1]\ny: [0.5, 0.5]\n", id="n from the vector"),
    pytest.param("kind: softmax\nat: [1, 2]\nresults: [jacobian, log_softmax]\n", id="no y without cross_entropy"),
    pytest.param(edit(4, "y: [0.1, 0.2, 0.7000000000001]"), id="a sum within 1e-9 of 1"),
]


@pytest.mark.parametrize("text", SUCCESSES)
def test_check(runner, problem_file, text):
    path = problem_file(text)
    result = runner.invoke(cli, ["check", str(path)])
    assert (result.exit_code, result.stderr, result.stdout) == (0, "", f"{path}: ok (softmax)\n")


def test_symbolic_work_is_bounded_in_time(runner, problem_file, monkeypatch):
    monkeypatch.setattr(softmax_kind, "SYMPY_SECONDS", 0.001)
    softmax_kind.derivation.cache_clear()  # derived once per process: make this run derive again
    path = problem_file(VALID)
    result = runner.invoke(cli, ["solve", str(path)])
    assert result.exit_code == 2
    assert result.stderr == f"{path}:2: n: the softmax derivation for n = 3 took longer than 0.001 s\n"


# ================================================================================
# Printed solutions, read as a student reads them
# ================================================================================

@pytest.mark.parametrize("name, format_, suffix", [
    ("hw2-log-softmax", "text", "txt"),
    ("hw2-log-softmax", "latex", "tex"),
    ("softmax-jacobian", "text", "txt"),
])
def test_golden(golden, name, format_, suffix):
    solution = load_problem(PROBLEMS / f"{name}.yaml").solve()
    golden(f"softmax-{name.removeprefix('softmax-')}.{suffix}", render(solution, format_))


def test_inline_renderings(solve):
    solution = solve(problem(n=2))
    text = render(solution, "text")
    assert "∂s₁/∂x₂ = ∂/∂x₂ [exp(x₁)/(exp(x₁) + exp(x₂))] = -exp(x₁) exp(x₂)/(exp(x₁) + exp(x₂))^2   (= -s_1 s_2)" in text
    assert "∂sᵢ/∂xⱼ = δᵢⱼ exp(xᵢ)/S - exp(xᵢ) exp(xⱼ)/S^2 = sᵢ (δᵢⱼ - sⱼ)" in text
    latex = render(solution, "latex")
    assert r"\frac{\partial s_{i}}{\partial x_{j}} &= \frac{\delta_{ij} e^{x_{i}}}{S} - " \
           r"\frac{e^{x_{i}} e^{x_{j}}}{S^{2}} = s_{i} \left(\delta_{ij} - s_{j}\right)" in latex
    json_text = render(solution, "json")
    assert '"value": "s_i*(KroneckerDelta(i, j) - s_j)"' in json_text
    assert '"formula": "diff(exp(x_1)/(exp(x_1) + exp(x_2)), x_2)"' in json_text


N = sympy.Symbol("N")

KRONECKER = [  # (expression, text, LaTeX, JSON)
    (KD(i, j), "δᵢⱼ", r"\delta_{ij}", "KroneckerDelta(i, j)"),
    (KD(i, 12, evaluate=False), "δᵢ,₁₂", r"\delta_{i,12}", "KroneckerDelta(i, 12)"),
    (KD(N, i), "δ_(Ni)", r"\delta_{Ni}", "KroneckerDelta(N, i)"),  # no subscript N in Unicode
    (2 * KD(i, j) - 1, "2 δᵢⱼ - 1", r"2 \delta_{ij} - 1", "2*KroneckerDelta(i, j) - 1"),
]


@pytest.mark.parametrize("expr, text, latex, key", KRONECKER, ids=[row[1] for row in KRONECKER])
def test_kronecker_delta_renderings(expr, text, latex, key):
    assert (text_formula(expr), latex_formula(expr), key_formula(expr)) == (text, latex, key)


# -- the JSON Schema refuses what derive refuses ---------------------------------------

# softmax-jacobian, with fields set as given, and the field derive names when it refuses it
SCHEMA_REFUSED = [
    ({"result": ["jacobian"]}, "result"),  # an unknown field
    ({"results": ["jacobain"]}, "results[0]"),
    ({"results": ["jacobian", "jacobian"]}, "results[1]"),
    ({"n": 7}, "n"),
    ({"at": [2, 1, 1000]}, "at"),
]


@pytest.mark.parametrize("fields, named", SCHEMA_REFUSED, ids=[named for _, named in SCHEMA_REFUSED])
def test_the_schema_refuses_what_derive_refuses(tmp_path, fields, named):
    data = {**yaml.safe_load((PROBLEMS / "softmax-jacobian.yaml").read_text(encoding="utf-8")), **fields}
    assert list(jsonschema.Draft202012Validator(schema("softmax")).iter_errors(data)), "the schema accepted it"
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    with pytest.raises(ProblemError, match=re.escape(f": {named}: ")):
        load_problem(path)
