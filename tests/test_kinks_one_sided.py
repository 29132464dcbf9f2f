"""The value used at a kink: where both one-sided derivatives agree, that value; where they differ, the
convention (H(0) = 0, max(a, b) takes a's slope as written, a named activation its left piece's slope).
Held to one-sided finite differences computed here."""

import math

import pytest

from derive.problem import load_problem
from derive.steps import evaluate_formula
from derive.symbolic.activations import X, activation

H = 1e-7


def left(f, x):
    return (f(x) - f(x - H)) / H


def right(f, x):
    return (f(x + H) - f(x)) / H


# (function as written, f in plain math, kink, value derive must use there, differentiable there)
CASES = [
    ("max(0, x) + min(0, exp(x) - 1)", lambda x: max(0.0, x) + min(0.0, math.exp(x) - 1), 0.0, 1.0, True),
    ("max(0.01x, x)", lambda x: max(0.01 * x, x), 0.0, 0.01, False),
    ("max(x, 0.01x)", lambda x: max(x, 0.01 * x), 0.0, 1.0, False),
    ("max(0, x)", lambda x: max(0.0, x), 0.0, 0.0, False),
    ("max(1, x)", lambda x: max(1.0, x), 1.0, 0.0, False),
    ("min(x, 2x)", lambda x: min(x, 2 * x), 0.0, 1.0, False),
    ("max(0, x) + 0.01 min(0, x)", lambda x: max(0.0, x) + 0.01 * min(0.0, x), 0.0, 0.0, False),
    ("max(0, x^3)", lambda x: max(0.0, x**3), 0.0, 0.0, True),
    ("abs(x)^3", lambda x: abs(x) ** 3, 0.0, 0.0, True),
    ("elu(x)", lambda x: x if x > 0 else math.exp(x) - 1, 0.0, 1.0, True),
    ("elu(x, 0.5)", lambda x: x if x > 0 else 0.5 * (math.exp(x) - 1), 0.0, 0.5, False),
    ("leaky_relu(x)", lambda x: x if x > 0 else 0.01 * x, 0.0, 0.01, False),
    ("selu(x)", lambda x: 1.0507009873554805 * (x if x > 0 else 1.6732632423543772 * (math.exp(x) - 1)), 0.0,
     1.0507009873554805 * 1.6732632423543772, False),
]
IDS = [case[0] for case in CASES]


@pytest.mark.parametrize("text, f, kink, used, differentiable", CASES, ids=IDS)
def test_the_one_sided_derivatives_decide(text, f, kink, used, differentiable):
    assert (abs(left(f, kink) - right(f, kink)) < 1e-5) == differentiable
    if differentiable:
        assert used == pytest.approx(left(f, kink), abs=1e-5)
    else:  # the convention picks one of the two slopes (max(0, x) + 0.01 min(0, x): a's slope of each, 0 + 0)
        assert any(used == pytest.approx(side, abs=1e-5) for side in (left(f, kink), right(f, kink))) or \
            text == "max(0, x) + 0.01 min(0, x)"


@pytest.mark.parametrize("text, f, kink, used, differentiable", CASES, ids=IDS)
def test_an_activation_written_so_uses_that_value(text, f, kink, used, differentiable):
    act = activation(text)
    assert evaluate_formula(act.derivative, {X.name: kink}) == pytest.approx(used, rel=1e-12, abs=1e-15)
    for x in (kink - 0.5, kink + 0.5):  # and away from the kink, the slope
        assert evaluate_formula(act.derivative, {X.name: x}) == pytest.approx((right(f, x) + left(f, x)) / 2,
                                                                              rel=1e-5, abs=1e-6)


PROBLEM = """\
kind: derivative
function: "{text}"
at: [{kink}, {before}, {after}]
"""


@pytest.mark.parametrize("text, f, kink, used, differentiable", CASES, ids=IDS)
def test_the_derivative_kind_uses_that_value_and_says_why(tmp_path, text, f, kink, used, differentiable):
    path = tmp_path / "p.yaml"
    path.write_text(PROBLEM.format(text=text, kink=kink, before=kink - 0.5, after=kink + 0.5), encoding="utf-8")
    solution = load_problem(str(path)).solve()
    assert solution["d1.at[1]"].value == pytest.approx(used, rel=1e-12, abs=1e-15)
    assert solution["d1.at[2]"].value == pytest.approx(left(f, kink - 0.5), rel=1e-5)
    assert solution["d1.at[3]"].value == pytest.approx(right(f, kink + 0.5), rel=1e-5)
    note = solution["d1"].note
    at = f"x = {kink:g}"
    if differentiable and text not in ("max(0, x^3)", "abs(x)^3"):  # whose formulas are 0 there anyway
        assert f"differentiable at {at}: both one-sided derivatives are {used:g}" in note
    if not differentiable:
        assert f"undefined at {at} (one-sided derivatives " in note


def test_the_lecture_text_for_elu_written_with_max_and_min(tmp_path):
    path = tmp_path / "elu.yaml"
    path.write_text(PROBLEM.format(text="max(0, x) + min(0, exp(x) - 1)", kink=0, before=-1, after=1),
                    encoding="utf-8")
    solution = load_problem(str(path)).solve()
    assert solution["d1"].note == "differentiable at x = 0: both one-sided derivatives are 1"
    assert solution["d1.at[1]"].value == 1
