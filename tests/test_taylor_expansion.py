"""critical_points' `expansions`: L to second order at any point, the gradient term kept (lecture 10's
L(θ) ≈ L(θ′) + (θ − θ′)ᵀ g + ½ (θ − θ′)ᵀ H (θ − θ′)).

Held against what the code does not compute: central differences of L for g and
H, the loss itself (a quadratic's expansion is exact everywhere), and the
remainder of a smooth loss, which shrinks eightfold when the step halves.
"""

import math

import pytest
import sympy
import yaml

from derive.api import grade
from derive.problem import load_problem
from derive.steps import EXACT
from conftest import PROBLEMS, load_error

LOSSES = [  # (text, as Python, a point that is not critical)
    ("(1 - w1 w2)^2", lambda a, b: (1 - a * b) ** 2, (0.5, 1.5)),
    ("w1^2 + 3 w1 w2 - w2^2 + 2 w1", lambda a, b: a ** 2 + 3 * a * b - b ** 2 + 2 * a, (1.0, -2.0)),
    ("w1^4 + w2^3 - 3 w1 w2", lambda a, b: a ** 4 + b ** 3 - 3 * a * b, (0.3, 0.7)),
    ("log(1 + w1^2 + w2^2)", lambda a, b: math.log(1 + a * a + b * b), (-0.4, 1.2)),
]
H = 1e-4


def solved_values(tmp_path, text, point):
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump({"kind": "critical_points", "parameters": ["w1", "w2"], "loss": text,
                                    "expansions": [list(point)]}), encoding="utf-8")
    return load_problem(path).solve(EXACT)


@pytest.mark.parametrize("text, f, point", LOSSES, ids=[t for t, _, _ in LOSSES])
def test_gradient_and_hessian_match_central_differences(tmp_path, text, f, point):
    values = solved_values(tmp_path, text, point).values()
    a, b = point
    assert values["e1.L"] == pytest.approx(f(a, b), rel=1e-12)
    assert values["e1.grad[1]"] == pytest.approx((f(a + H, b) - f(a - H, b)) / (2 * H), rel=1e-6, abs=1e-9)
    assert values["e1.grad[2]"] == pytest.approx((f(a, b + H) - f(a, b - H)) / (2 * H), rel=1e-6, abs=1e-9)
    assert (values["e1.grad[1]"], values["e1.grad[2]"]) != (0, 0)  # not a critical point
    h = 1e-3
    fxx = (f(a + h, b) - 2 * f(a, b) + f(a - h, b)) / h ** 2
    fxy = (f(a + h, b + h) - f(a + h, b - h) - f(a - h, b + h) + f(a - h, b - h)) / (4 * h * h)
    fyy = (f(a, b + h) - 2 * f(a, b) + f(a, b - h)) / h ** 2
    assert [values["e1.H[1][1]"], values["e1.H[1][2]"], values["e1.H[2][2]"]] == pytest.approx(
        [fxx, fxy, fyy], rel=1e-4, abs=1e-6)


@pytest.mark.parametrize("text, f, point", LOSSES, ids=[t for t, _, _ in LOSSES])
def test_the_remainder_is_of_third_order(tmp_path, text, f, point):
    """|L − T| at θ′ + h u falls about eightfold when h halves (and is 0 for the quadratic)."""
    value = solved_values(tmp_path, text, point)["e1.taylor"].value
    w1, w2 = sympy.Symbol("w1"), sympy.Symbol("w2")
    approximation = sympy.lambdify((w1, w2), value.xreplace({s: sympy.Symbol(s.name) for s in value.free_symbols}))
    a, b = point
    u = (0.6, -0.8)
    remainders = [abs(f(a + h * u[0], b + h * u[1]) - approximation(a + h * u[0], b + h * u[1])) for h in (0.02, 0.01)]
    if "3 w1 w2 -" in text:
        assert max(remainders) < 1e-12  # a quadratic is its own expansion
    else:
        assert 6 < remainders[0] / remainders[1] < 10


def test_at_a_critical_point_the_gradient_term_vanishes():
    values = load_problem(PROBLEMS / "taylor-noncritical.yaml").solve(EXACT).values()
    assert (values["e2.grad[1]"], values["e2.grad[2]"]) == (0, 0)
    assert (values["e1.grad[1]"], values["e1.grad[2]"]) == pytest.approx((-0.75, -0.25))


TAYLOR_ANSWERS = [
    ("1/16 - 3/4 (w1 - 1/2) - 1/4 (w2 - 3/2) + 9/4 (w1 - 1/2)^2 + 1/4 (w2 - 3/2)^2 + (w1 - 1/2)(w2 - 3/2)", "OK"),
    ("43/16 - 9/2 w1 - 3/2 w2 + 1/4 w2^2 + 9/4 w1^2 + w1 w2", "OK"),
    ("1/16 + 9/4 (w1 - 1/2)^2 + 1/4 (w2 - 3/2)^2 + (w1 - 1/2)(w2 - 3/2)", "WRONG"),  # the gradient term left out
]


@pytest.mark.parametrize("answer, code", TAYLOR_ANSWERS, ids=["written out", "expanded", "no gradient term"])
def test_the_expansion_is_graded_by_equivalence(answer, code):
    assert grade(PROBLEMS / "taylor-noncritical.yaml", {"e1.taylor": answer})["e1.taylor"].code == code


def test_an_expansion_point_with_the_wrong_arity_is_one_line(tmp_path):
    text = "kind: critical_points\nparameters: [w1, w2]\nloss: (1 - w1 w2)^2\nexpansions:\n  - [1, 2, 3]\n"
    assert load_error(tmp_path, text).startswith(f"{tmp_path / 'p.yaml'}:5: expansions[0]: ")
