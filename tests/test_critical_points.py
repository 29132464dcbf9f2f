"""kind: critical_points, checked against numbers and verdicts worked out outside derive.

Oracles: the lecture's own figures (lecture 10); hand
derivations written beside each table row; SymPy applied directly in the
test (differentiation); numpy's `eigh`; finite differences of the loss
written as a plain Python function; a bisection written here for the roots
the numeric search must find.
"""

import json
import math
import re
import struct

import jsonschema
import numpy as np
import pytest
import sympy
import yaml

from derive.cli import cli
from derive.errors import DeriveError, ProblemError
from derive.fields import schema
from derive.grading.grader import Grader
from derive.problem import load_problem
from derive.render import render
from derive.grading.sheet import AnswerSheet, Answer, blank_sheet
from derive.steps import EXACT, Rounding

from conftest import PROBLEMS

w1, w2 = sympy.symbols("w1 w2", real=True)


def problem_file(tmp_path, text, name="p"):
    path = tmp_path / f"{name}.yaml"
    path.write_text("kind: critical_points\n" + text, encoding="utf-8")
    return path


def solved(tmp_path, text, rounding=None):
    return load_problem(problem_file(tmp_path, text)).solve(rounding)


def loss_problem(loss, parameters="[x, y]", extra=""):
    return f"parameters: {parameters}\nloss: \"{loss}\"\n{extra}"


def points_of(solution):
    """[(coordinates, second-order verdict, decided verdict or None)] of every critical point."""
    out, k = [], 1
    while f"p{k}.theta[1]" in solution:
        coordinates, i = [], 1
        while f"p{k}.theta[{i}]" in solution:
            coordinates.append(solution[f"p{k}.theta[{i}]"].value)
            i += 1
        decided = solution[f"p{k}.decided"] if f"p{k}.decided" in solution else None
        out.append((tuple(coordinates), str(solution[f"p{k}.verdict"].value),
                    None if decided is None else str(decided.value)))
        k += 1
    return out


LECTURE = load_problem(PROBLEMS / "lecture-saddle.yaml")
LECTURE_SOLUTION = LECTURE.solve()


# -- the lecture's figures -------------------------------------------------

@pytest.mark.parametrize("key, expected", [
    ("p1.theta[1]", 0), ("p1.theta[2]", 0),          # the critical point (0, 0)
    ("p1.grad[1]", 0), ("p1.grad[2]", 0),
    ("p1.L", 1),                                     # (1 - 0·0)^2
    ("p1.H[1][1]", 0), ("p1.H[1][2]", -2),           # H(0, 0) = [[0, -2], [-2, 0]]
    ("p1.H[2][1]", -2), ("p1.H[2][2]", 0),
    ("p1.lambda[1]", 2), ("p1.lambda[2]", -2),       # λ1 = 2, λ2 = -2
    ("p1.u[1]", 1), ("p1.u[2]", 1),                  # u = (1, 1) for λ = -2
    ("p1.v[1][1]", 1), ("p1.v[1][2]", -1),           # by hand: [[0, -2], [-2, 0]] (1, -1) = 2 (1, -1)
    ("p1.theta_t[1]", 0.1), ("p1.theta_t[2]", 0.1),  # (0, 0) + 0.1 (1, 1)
    ("p1.L_t", 0.9801),                              # (1 - 0.1·0.1)^2 = 0.99^2
    ("p1.change", -0.0199),                          # 0.9801 - 1
    ("p1.taylor_t", 0.98),                           # 1 + 1/2 · 0.01 · (-2) · 2
])
def test_lecture_numbers(key, expected):
    assert LECTURE_SOLUTION[key].value == pytest.approx(expected, abs=1e-12)


def test_lecture_verdicts_and_loss():
    s = LECTURE_SOLUTION
    assert str(s["p1.verdict"].value) == "saddle"
    assert "p1.decided" not in s  # the test itself decides a saddle
    assert s["L"].value == (1 - w1 * w2) ** 2  # L = (y - w1 w2 x)^2 with x = y = 1
    assert s["yhat"].value == w1 * w2
    # the curve w1 w2 = 1: inconclusive, settled by L >= 0 = L on it
    assert "w1 w2 = 1" in s["c1.L"].section
    assert str(s["c1.verdict"].value) == "inconclusive"
    assert str(s["c1.decided"].value) == "minimum"
    assert "lower bound" in s["c1.decided"].note
    assert s["c1.L"].value == 0
    # exactly the point and the curve, nothing else
    assert points_of(s) == [((0.0, 0.0), "saddle", None)] and "c2.L" not in s


def test_lecture_gradient_and_hessian_against_sympy():
    loss = (1 - w1 * w2) ** 2
    for i, a in enumerate((w1, w2), start=1):
        assert sympy.simplify(LECTURE_SOLUTION[f"grad[{i}]"].value - sympy.diff(loss, a)) == 0
        for j, b in enumerate((w1, w2), start=1):
            assert sympy.simplify(LECTURE_SOLUTION[f"H[{i}][{j}]"].value - sympy.diff(loss, a, b)) == 0


def test_lecture_hessian_and_eigen_along_the_curve():
    """On w1 = 1/w2, by hand: H = [[2 w2^2, 2], [2, 2/w2^2]] (4 w1 w2 - 2 = 2, 2 w1^2 = 2/w2^2);
    trace 2 w2^2 + 2/w2^2, determinant 4 - 4 = 0: eigenvalues 2 w2^2 + 2/w2^2 and 0."""
    s = LECTURE_SOLUTION
    free = s["c1.H[1][1]"].value.free_symbols.pop()
    expected = {"c1.H[1][1]": 2 * free**2, "c1.H[1][2]": 2, "c1.H[2][1]": 2, "c1.H[2][2]": 2 / free**2,
                "c1.lambda[1]": 2 * free**2 + 2 / free**2, "c1.lambda[2]": 0}
    for key, value in expected.items():
        assert sympy.simplify(s[key].value - value) == 0, key
    assert "(1, -w2^2)" in s["c1.lambda[2]"].note  # the zero eigenvalue's direction is the curve's tangent


def test_lecture_taylor_approximation():
    """L(θ) ≈ 1 + 1/2 (w1, w2) [[0, -2], [-2, 0]] (w1, w2)ᵀ = 1 - 2 w1 w2 at (0, 0)."""
    assert sympy.expand(LECTURE_SOLUTION["p1.taylor"].value - (1 - 2 * w1 * w2)) == 0


def test_lecture_lines_as_printed():
    text = render(LECTURE_SOLUTION, "text")
    for line in [
        "  L = (y - ŷ)^2 = (1 - w1 w2)^2   (squared error)",
        "  H₁₂ = 4 w1 w2 - 2 = 4·0·0 - 2 = -2",
        "  λ₂ = (H₁₁ + H₂₂)/2 - sqrt(((H₁₁ - H₂₂)/2)^2 + H₁₂^2) = (0 + 0)/2 - sqrt(((0 - 0)/2)^2 + (-2)^2) = -2",
        "  u₁ = v₂₁ = 1   (escape direction: the eigenvector of λ₂ < 0)",
        "Critical curve 1: w1 w2 = 1 (w1 = 1/w2, w2 ≠ 0)",
    ]:
        assert line + "\n" in text


# -- classification against hand-derived answers ------------------------------------------

CLASSIFICATION = [
    # loss, parameters, [(point, second-order test, decided)], a word the deciding argument must use
    ("x^2 + y^2", "[x, y]", [((0, 0), "minimum", None)], None),           # H = 2I
    ("-(x^2 + y^2)", "[x, y]", [((0, 0), "maximum", None)], None),        # H = -2I
    ("x^2 - y^2", "[x, y]", [((0, 0), "saddle", None)], None),            # H = diag(2, -2)
    # H = 0; L - L(0) = x^4 + y^4 >= 0 everywhere: a bound that is reached
    ("x^4 + y^4", "[x, y]", [((0, 0), "inconclusive", "minimum")], "lower bound"),
    # H = 0; along (1, 0) t^4 > 0, along (0, 1) -t^4 < 0
    ("x^4 - y^4", "[x, y]", [((0, 0), "inconclusive", "saddle")], "falls"),
    # H = diag(2, 0); along the kernel (0, 1): t^3 changes sign
    ("x^2 + y^3", "[x, y]", [((0, 0), "inconclusive", "neither")], "odd power"),
    # the monkey saddle: H = 0, c t^3 along every line
    ("x^3 - 3 x y^2", "[x, y]", [((0, 0), "inconclusive", "neither")], "odd power"),
    # ∇ = (x^2 - 1, -2y): (±1, 0); H = diag(2x, -2): (-1, 0) a maximum, (1, 0) a saddle
    ("x^3/3 - x - y^2", "[x, y]", [((-1, 0), "maximum", None), ((1, 0), "saddle", None)], None),
    # ∇ = (-6xy + 8x^3, 2y - 3x^2) = 0 only at 0; H = diag(0, 2); L = (y - x^2)(y - 2x^2) < 0 between
    # the parabolas, so no bound; every line rises (t^2 or 2t^4): nothing settles it, and derive says so
    ("(y - x^2)(y - 2 x^2)", "[x, y]", [((0, 0), "inconclusive", "undecided")], "no line"),
    # H = [[2, 1, 1], [1, 2, 0], [1, 0, -2]]; det(λI - H) = λ^3 - 2λ^2 - 6λ + 8: signs + - - + (2 positive
    # roots), of p(-λ): - - + + (1 negative root): a saddle
    ("x^2 + y^2 - z^2 + x y + x z", "[x, y, z]", [((0, 0, 0), "saddle", None)], None),
    # a 3-parameter minimum: H = [[2, 1, 0], [1, 2, 1], [0, 1, 2]], eigenvalues 2 - sqrt(2), 2, 2 + sqrt(2) > 0
    ("x^2 + y^2 + z^2 + x y + y z", "[x, y, z]", [((0, 0, 0), "minimum", None)], None),
]


@pytest.mark.parametrize("loss, parameters, expected, argument", CLASSIFICATION, ids=[c[0] for c in CLASSIFICATION])
def test_classification(tmp_path, loss, parameters, expected, argument):
    solution = solved(tmp_path, loss_problem(loss, parameters))
    found = points_of(solution)
    assert [(tuple(float(c) for c in p), t, d) for p, t, d in found] == \
        [(tuple(float(c) for c in p), t, d) for p, t, d in expected]
    if argument is not None:
        assert argument in solution["p1.decided"].note


def test_only_real_critical_points(tmp_path):
    """∇(x^2 + y^2)^2 = 4 (x^2 + y^2)(x, y): SymPy answers y = ±i x, two complex lines whose only real
    point is the origin (x = 0); L >= 0 = L(0, 0) makes it a minimum."""
    solution = solved(tmp_path, loss_problem("(x^2 + y^2)^2"))
    assert points_of(solution) == [((0.0, 0.0), "inconclusive", "minimum")]
    assert "(numeric)" not in solution["p1.theta[1]"].section  # found exactly, not rescued by the search
    assert "2 complex solution(s)" in " ".join(note.text for note in solution.notes)
    assert "c1.L" not in solution


def test_the_deep_linear_problem(tmp_path):
    """L = (1 - w1 w2 w3)^2: the surface w1 w2 w3 = 1 of minima, three lines of saddles, and the origin
    (H = 0) where along (1, 1, 1) L = (1 - t^3)^2 = 1 - 2 t^3 + t^6: neither minimum nor maximum."""
    solution = load_problem(PROBLEMS / "deep-linear-saddles.yaml").solve()
    assert points_of(solution) == [((0.0, 0.0, 0.0), "inconclusive", "neither")]
    assert "(1, 1, 1)" in solution["p1.decided"].note
    assert str(solution["c1.decided"].value) == "minimum" and "w1 w2 w3 = 1" in solution["c1.L"].section
    for k in (2, 3, 4):
        assert str(solution[f"c{k}.verdict"].value) == "saddle"
        assert solution[f"c{k}.L"].value == 1


# -- the numeric fallback ---------------------------------------------------------------------

def bisect(f, low, high):
    for _ in range(200):
        middle = (low + high) / 2
        low, high = (middle, high) if (f(low) < 0) == (f(middle) < 0) else (low, middle)
    return (low + high) / 2


def test_numeric_fallback_finds_the_roots_a_bisection_finds():
    """∂L/∂w1 = 4 w1 (w1^2 - 1) + exp(w1)/4 changes sign in [-1.1, -1], [0, 0.1] and [0.9, 1] (by hand:
    f(-1.1) = -0.84, f(-1) = 0.09, f(0) = 0.25, f(0.1) = -0.12, f(0.9) = -0.07, f(1) = 0.68); ∂L/∂w2 = 2 w2."""
    solution = load_problem(PROBLEMS / "numeric-double-well.yaml").solve()
    f = lambda w: 4 * w * (w * w - 1) + math.exp(w) / 4
    roots = [bisect(f, -1.1, -1), bisect(f, 0, 0.1), bisect(f, 0.9, 1)]
    found = points_of(solution)
    assert [p[1] for p in found] == ["minimum", "saddle", "minimum"]  # H11 = 12 w^2 - 4 + e^w/4: +, -, +
    for (coordinates, _, _), root in zip(found, roots):
        assert coordinates[0] == pytest.approx(root, abs=1e-9) and coordinates[1] == 0
    assert "NUMERIC" in " ".join(note.text for note in solution.notes)
    assert "(numeric)" in solution["p1.theta[1]"].section


def test_sympy_running_out_of_time_falls_back_to_the_search(tmp_path, monkeypatch):
    import time

    monkeypatch.setattr(sympy, "solve", lambda *args, **kwargs: time.sleep(30))
    # a limit ample for the work left as it is (differentiating, the search) on a busy machine
    solution = solved(tmp_path, loss_problem("x^2 - y^2", extra="time_limit: 2"))
    assert points_of(solution) == [((0.0, 0.0), "saddle", None)]
    assert "SymPy ran out of time" in solution.notes[1].text


def test_too_long_symbolic_work_at_a_point_is_said_and_the_point_examined_in_decimals(runner, tmp_path, monkeypatch):
    """The exact eigenvalues made to overrun: the point is examined numerically instead, the notes say what was
    not finished, and the rest of the solution is printed (exit 0)."""
    import time

    from derive.symbolic import classify

    monkeypatch.setattr(classify, "eigen_decomposition", lambda matrix: time.sleep(30))
    # a limit ample for the work left as it is (differentiating, the search) on a busy machine
    path = problem_file(tmp_path, loss_problem("x^2 - y^2 + x y", extra="time_limit: 2"))
    result = runner.invoke(cli, ["solve", str(path), "--keys"])
    assert result.exit_code == 0, result.output
    assert ("NOT FINISHED within the time limit (the Hessian and its eigenvalues at (0, 0) took longer than 2 s)"
            in result.output)
    assert re.search(r"second-order test = saddle .*\[p1\.verdict\]", result.output)


def test_a_numeric_point_missed_by_sympy_is_reported(tmp_path, monkeypatch):
    """If SymPy's solution lacks a point, the search adds it, marked numeric."""
    real_solve = sympy.solve
    monkeypatch.setattr(sympy, "solve", lambda *args, **kwargs: real_solve(*args, **kwargs)[:1])
    # a region of its own, so that the analysis is not the one cached for the classification table
    solution = solved(tmp_path, loss_problem("x^3/3 - x - y^2", extra="region: {x: [-3, 3]}"))
    assert [p[:2] for p in points_of(solution)] == [((-1.0, 0.0), "maximum"), ((1.0, 0.0), "saddle")]
    assert "(numeric)" in solution["p2.theta[1]"].section
    assert "does not contain" in " ".join(note.text for note in solution.notes)


# -- eigen-decompositions against numpy, escape against the loss itself ---------------------------

def hessian_at(solution, k, n):
    return np.array([[solution[f"p{k}.H[{i}][{j}]"].value for j in range(1, n + 1)] for i in range(1, n + 1)])


EIGEN_CASES = [
    ("x^3/3 - x - y^2", "[x, y]"),
    ("x^2 + y^2 - z^2 + x y + x z", "[x, y, z]"),
    ("x^2 + 3 y^2 + 2 x y - x^4", "[x, y]"),
    ("(w1^2 - 1)^2 + w2^2 + exp(w1)/4", "[w1, w2]"),
]


@pytest.mark.parametrize("loss, parameters", EIGEN_CASES, ids=[c[0] for c in EIGEN_CASES])
def test_eigen_decomposition_against_numpy(tmp_path, loss, parameters):
    solution = solved(tmp_path, loss_problem(loss, parameters))
    n = parameters.count(",") + 1
    for k in range(1, len(points_of(solution)) + 1):
        hessian = hessian_at(solution, k, n)
        values, vectors = np.linalg.eigh(hessian)
        ours = [solution[f"p{k}.lambda[{i}]"].value for i in range(1, n + 1)]
        assert ours == pytest.approx(sorted(values, reverse=True), abs=1e-9)
        for i in range(1, n + 1):
            v = np.array([solution[f"p{k}.v[{i}][{j}]"].value for j in range(1, n + 1)])
            assert v[np.flatnonzero(np.abs(v) > 1e-12)[0]] == pytest.approx(1)  # first non-zero component 1
            assert hessian @ v == pytest.approx(ours[i - 1] * v, abs=1e-9)
        if len(set(np.round(values, 9))) == n:  # distinct eigenvalues: each v parallel to numpy's
            for i, value in enumerate(ours, start=1):
                v = np.array([solution[f"p{k}.v[{i}][{j}]"].value for j in range(1, n + 1)])
                numpy_vector = vectors[:, int(np.argmin(np.abs(values - value)))]
                assert abs(v @ numpy_vector) == pytest.approx(np.linalg.norm(v), rel=1e-9)


def finite_difference_hessian(f, point, h=1e-4):
    n = len(point)
    hessian = np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            def shifted(a, b):
                p = np.array(point, dtype=float)
                p[i] += a
                p[j] += b
                return f(p)
            hessian[i, j] = (shifted(h, h) - shifted(h, -h) - shifted(-h, h) + shifted(-h, -h)) / (4 * h * h)
    return hessian


PLAIN_LOSSES = {  # the same losses as plain Python, for finite differences and the escape check
    # loss: (function, number of saddles with an escape direction, by hand)
    "x^3/3 - x - y^2": (lambda p: p[0] ** 3 / 3 - p[0] - p[1] ** 2, 1),  # (1, 0)
    # ∇ = (2x + 2y - 4x^3, 6y + 2x): y = -x/3, x (4/3 - 4x^2) = 0; H = [[2 - 12x^2, 2], [2, 6]]:
    # a minimum at 0 (det 8), saddles at x = ±1/sqrt(3) (det -16)
    "x^2 + 3 y^2 + 2 x y - x^4": (lambda p: p[0] ** 2 + 3 * p[1] ** 2 + 2 * p[0] * p[1] - p[0] ** 4, 2),
    "x^4 - y^4": (lambda p: p[0] ** 4 - p[1] ** 4, 1),  # decided a saddle; escape along (0, 1)
    "(w1^2 - 1)^2 + w2^2 + exp(w1)/4": (lambda p: (p[0] ** 2 - 1) ** 2 + p[1] ** 2 + math.exp(p[0]) / 4, 1),
    "(1 - w1 w2)^2": (lambda p: (1 - p[0] * p[1]) ** 2, 1),  # (0, 0)
}


@pytest.mark.parametrize("loss", PLAIN_LOSSES)
def test_hessian_and_escape_against_the_plain_loss(tmp_path, loss):
    names = "[w1, w2]" if "w1" in loss else "[x, y]"
    solution = solved(tmp_path, loss_problem(loss, names))
    f, expected_saddles = PLAIN_LOSSES[loss]
    saddles = 0
    for k, (point, _, _) in enumerate(points_of(solution), start=1):
        assert hessian_at(solution, k, 2) == pytest.approx(finite_difference_hessian(f, point), abs=1e-5)
        if f"p{k}.u[1]" in solution:
            saddles += 1
            u = np.array([solution[f"p{k}.u[1]"].value, solution[f"p{k}.u[2]"].value])
            t = solution[f"p{k}.t"].value
            assert f(np.array(point) + t * u) < f(np.array(point))  # the loss falls along u
            assert solution[f"p{k}.change"].value == pytest.approx(f(np.array(point) + t * u) - f(point), abs=1e-12)
    assert saddles == expected_saddles


# -- the `points` field and exactness ------------------------------------------------------------

def test_points_listed_by_the_problem(tmp_path):
    """(1, 1) and (sqrt(2), sqrt(2)/2) are on the curve: H = [[2, 2], [2, 2]] and [[1, 2], [2, 4]],
    eigenvalues 4, 0 and 5, 0 (trace, determinant 0), inconclusive, global minima since L >= 0 = L there."""
    solution = solved(tmp_path, 'parameters: [w1, w2]\nloss: "(1 - w1 w2)^2"\n'
                                'points: [[0, 0], [1, 1], ["sqrt(2)", "sqrt(2)/2"]]\n')
    assert [p[1:] for p in points_of(solution)] == [("saddle", None), ("inconclusive", "minimum"),
                                                    ("inconclusive", "minimum")]
    assert [solution[f"p2.lambda[{i}]"].value for i in (1, 2)] == [4, 0]
    assert [solution[f"p3.lambda[{i}]"].value for i in (1, 2)] == pytest.approx([5, 0], abs=1e-12)
    # floats would print 1 - sqrt(2)·(sqrt(2)/2) as -2.2e-16; the exact 0 is shown instead
    assert solution["p3.grad[1]"].value == 0.0 and solution["p3.grad[2]"].value == 0.0
    assert "c1.L" not in solution  # only the listed points are examined


# -- the solution in every format and rounding mode ------------------------------------------------

@pytest.mark.parametrize("rounding", [EXACT, Rounding(0), Rounding(2), Rounding(4)], ids=str)
def test_lecture_in_rounding_modes(rounding):
    solution = LECTURE.solve(rounding)
    assert solution["p1.lambda[2]"].value == -2 and solution["p1.u[1]"].value == 1
    assert json.loads(render(solution, "json"))["kind"] == "critical_points"


def test_golden_lecture_text(golden):
    golden("critical-lecture-saddle.txt", render(LECTURE_SOLUTION, "text", keys=True))


def test_golden_lecture_markdown(golden):
    golden("critical-lecture-saddle.md", render(LECTURE_SOLUTION, "markdown"))


@pytest.mark.parametrize("name", ["degenerate-saddle", "monkey-saddle", "numeric-double-well", "deep-linear-saddles",
                                  "linear-network-1-2-1", "linear-network-2-2-1"])
def test_golden_hard_cases(golden, name):
    golden(f"critical-{name}.txt", render(load_problem(PROBLEMS / f"{name}.yaml").solve(), "text"))


# -- grading a verdict -------------------------------------------------------------------------------

@pytest.mark.parametrize("answer, code", [
    ("saddle", "OK"), ("minimum", "WRONG"), ("local minimum", "UNREADABLE"), ("", "MISSING"),
])
def test_a_verdict_is_graded_as_a_word(answer, code):
    grader = Grader(LECTURE)
    sheet = AnswerSheet("s.yaml", "s", {"p1.verdict": Answer(answer)} if answer else {})
    verdict = next(v for v in grader.grade(sheet).verdicts if v.key == "p1.verdict")
    assert verdict.code == code
    if code == "UNREADABLE":  # the allowed words are named, the expected one is not singled out
        assert verdict.detail.endswith("variables allowed here: inconclusive, maximum, minimum, saddle")


def test_follow_through_from_a_wrong_hessian_entry():
    """A student who writes H12 = -3 (for -2) and then λ = ±3 and v12 = -1 follows through:
    (0 + 0)/2 ± sqrt(((0 - 0)/2)^2 + (-3)^2) = ±3 and H12/(λ1 - H22) = -3/(3 - 0) = -1."""
    grader = Grader(LECTURE)
    answers = {"p1.H[1][2]": -3.0, "p1.lambda[1]": 3.0, "p1.lambda[2]": -3.0, "p1.v[1][2]": -1.0}
    sheet = AnswerSheet("s.yaml", "s", {k: Answer(str(v), number=v) for k, v in answers.items()})
    codes = {v.key: v.code for v in grader.grade(sheet).verdicts if v.key in answers}
    assert codes == {"p1.H[1][2]": "WRONG", "p1.lambda[1]": "FT", "p1.lambda[2]": "FT", "p1.v[1][2]": "OK"}


def test_the_template_lists_the_words_not_the_answer():
    sheet = blank_sheet(LECTURE, LECTURE_SOLUTION, [s.key for s in LECTURE_SOLUTION if not s.is_given])
    line = next(line for line in sheet.splitlines() if line.startswith("p1.verdict:"))
    assert line.endswith("(an expression in inconclusive, maximum, minimum, saddle, in quotes)")


# -- bad input: one line, file:line: field: what was expected -------------------------------------

FAILURES = [
    ("loss: x^2\n", "1: parameters: missing required field"),
    ("parameters: [x]\n", "1: loss: missing: give either loss (an expression in the parameters) or model "
                          "(a model and its data)"),
    ("parameters: [x]\nloss: x^2\nmodel: {output: x}\n",
     "4: model: give either loss (an expression) or model (a model and data), not both"),
    ("parameters: [x, x]\nloss: x^2\n", "2: parameters[1]: parameter 'x' is listed twice"),
    ("parameters: [exp]\nloss: exp^2\n",
     "2: parameters[0]: 'exp' is the name of a function or constant; choose another parameter name"),
    ("parameters: [x, y, z, u, v, r, s]\nloss: x^2\n", "2: parameters: expected 1 to 6 parameter names, got 7"),
    ("parameters: [x, y]\nloss: x^2 + z^2\n",
     "3: loss: unknown name 'z'; variables allowed here: x, y"),
    ("parameters: [x]\nloss: abs(x)\n", "3: loss: the loss must be twice differentiable (abs, max, min and relu "
                                       "have kinks)"),
    ("parameters: [x]\nloss: \"3\"\n", "3: loss: the loss does not depend on the parameters"),
    ("parameters: [x]\nloss: 3\n", "3: loss: expected an expression in the parameters, got 3"),
    ("parameters: [x]\nloss: x^2\nregion: {x: [1, -1]}\n",
     "4: region.x: expected [low, high] with low < high, got [1, -1]"),
    ("parameters: [x]\nloss: x^2\nregion: {y: [1, 2]}\n", "4: region.y: unknown field; expected one of x"),
    ("parameters: [x, y]\nloss: x^2 - y^2\npoints: [[0, 1]]\n",
     "4: points[0]: not a critical point: ∂L/∂y = -2 there"),
    ("parameters: [x, y]\nloss: x^2 - y^2\npoints: [[0]]\n", "4: points[0]: expected a list of 2, got 1"),
    ("parameters: [x]\nloss: x^2\nescape_step: 0\n", "4: escape_step: expected a step above 0 and at most 10, "
                                                    "got 0"),
    ("parameters: [x]\nloss: x^2\ntime_limit: 0\n",
     "4: time_limit: expected a number of seconds above 0 and at most 120, got 0"),
    ("parameters: [w]\nmodel:\n  output: w x\n  samples: [{x: 1}]\n", "5: model.samples[0].y: missing required field"),
    ("parameters: [w]\nmodel:\n  output: w q\n  samples: [{x: 1, y: 1}]\n",
     "4: model.output: unknown name 'q'; variables allowed here: w, x"),
    ("parameters: [w]\nmodel:\n  output: w y\n  inputs: [y]\n  samples: [{y: 1}]\n",
     "5: model.inputs[0]: input 'y' clashes with a parameter or a step name (H, L, grad, t, y, yhat); "
     "choose another name"),
    ("parameters: [w]\nmodel:\n  output: w x\n  samples: [{x: 1, y: 1}]\n  error: cross_entropy\n",
     "6: model.error: expected one of squared_error, half_squared_error, got text 'cross_entropy'"),
]


@pytest.mark.parametrize("text, expected", FAILURES, ids=[f[1].split(":")[1].strip() + str(i)
                                                          for i, f in enumerate(FAILURES)])
def test_bad_input_one_line(runner, tmp_path, text, expected):
    path = problem_file(tmp_path, text)
    result = runner.invoke(cli, ["solve", str(path)])
    assert result.exit_code == 2
    assert result.output == f"{path}:{expected}\n"


# -- the JSON Schema refuses what derive refuses ---------------------------------------

LECTURE_MODEL = {"output": "w1 w2 x", "inputs": ["x"], "samples": [{"x": 1, "y": 1}], "error": "squared_error"}
# the lecture's problem with fields set as given, and the field derive names when it refuses it
SCHEMA_REFUSED = [
    ({"escape_stepp": 0.1}, "escape_stepp"),  # an unknown field
    ({"model": {**LECTURE_MODEL, "error": "cross_entropy"}}, "model.error"),
    ({"model": {**LECTURE_MODEL, "inputs": ["t"]}}, "model.inputs[0]"),  # a step key's name
    ({"time_limit": 0}, "time_limit"),
    ({"escape_step": 11}, "escape_step"),
]


@pytest.mark.parametrize("fields, named", SCHEMA_REFUSED, ids=[named for _, named in SCHEMA_REFUSED])
def test_the_schema_refuses_what_derive_refuses(tmp_path, fields, named):
    data = {**yaml.safe_load((PROBLEMS / "lecture-saddle.yaml").read_text(encoding="utf-8")), **fields}
    assert list(jsonschema.Draft202012Validator(schema("critical_points")).iter_errors(data)), \
        "the schema accepted it"
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    with pytest.raises(ProblemError, match=re.escape(f": {named}: ")):
        load_problem(path)



# -- the picture --------------------------------------------------------------------------------------

def png_size(path):
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def test_plot_writes_a_png_of_the_expected_size(tmp_path):
    from derive.plot import plot_solution

    path = tmp_path / "surface.png"
    plot_solution(LECTURE, LECTURE_SOLUTION, path)
    assert png_size(path) == (1600, 900)
    assert [p.name for p in tmp_path.iterdir()] == ["surface.png"]  # no temporary file left behind


def test_plot_svg_is_the_same_every_time(tmp_path):
    from derive.plot import plot_solution

    first, second = tmp_path / "a.svg", tmp_path / "b.svg"
    plot_solution(LECTURE, LECTURE_SOLUTION, first)
    plot_solution(LECTURE, LECTURE_SOLUTION, second)
    assert first.read_bytes() == second.read_bytes() and first.read_bytes().startswith(b"<?xml")


def test_plot_data_golden(golden):
    """What the lecture's picture draws: the saddle at (0, 0), the curve w1 w2 = 1 entering the
    square [-2, 2]^2 at w2 = ±2 (w1 = ±0.5), and the arrow along u = (1, 1)."""
    from derive.plot.surface import surface_data

    data = surface_data(LECTURE, LECTURE_SOLUTION)
    assert data.loss[100, 100] == 1  # the grid's centre is (0, 0), where L = 1
    golden("critical-lecture-saddle-plot.txt", data.describe())


@pytest.mark.parametrize("name, file, message", [
    ("deep-linear-saddles", "s.png", "the error-surface picture needs 2 parameters; this problem has 3"),
    ("lecture-saddle", "s.jpg", "s.jpg: expected a .png, .svg or .pdf file name for the picture, got 's.jpg'"),
])
def test_plot_refusals(tmp_path, name, file, message):
    from derive.plot import plot_solution

    problem = load_problem(PROBLEMS / f"{name}.yaml")
    with pytest.raises(DeriveError) as error:
        plot_solution(problem, problem.solve(), tmp_path / file)
    assert str(error.value).endswith(message)


def test_a_1_2_1_linear_network_is_solved_with_the_known_verdicts(tmp_path):
    """L = (1 − (v1 w1 + v2 w2))², a 1-2-1 linear network (4 parameters): its critical set is the origin and the
    families where the product is 1. Every local minimum of a deep linear network with squared loss is global and
    the other critical points are saddles (Baldi & Hornik 1989; Kawaguchi 2016): the origin is a saddle, and every
    family is decided a (global) minimum."""
    path = tmp_path / "p.yaml"
    path.write_text("kind: critical_points\nparameters: [w1, w2, v1, v2]\nloss: (1 - (v1 w1 + v2 w2))^2\n",
                    encoding="utf-8")
    values = load_problem(path).solve().values()
    points = {key.split(".")[0] for key in values if key.startswith("p") and key.endswith(".verdict")}
    families = {key.split(".")[0] for key in values if key.startswith("c") and key.endswith(".verdict")}
    assert points == {"p1"} and [values[f"p1.theta[{i}]"] for i in range(1, 5)] == [0, 0, 0, 0]
    assert str(values["p1.verdict"]) == "saddle"
    assert families and all(str(values[f"{c}.decided"]) == "minimum" for c in families)
