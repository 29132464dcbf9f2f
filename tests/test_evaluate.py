"""Numeric evaluation: a formula's bytecode (derive.bytecode) against its node-per-node evaluation.

Grading switches a formula to bytecode once it is hot, so the two must agree to the last bit (and
raise alike) on every formula derive evaluates: every bundled problem's steps, on the solution's
numbers and on numbers a student might carry, and random formulas with zeros, domains and pieces.
"""

import math
import random

import pytest
import sympy
from hypothesis import given, settings, strategies as st

from derive.bytecode import compile_formula
from derive.problem import load_problem
from derive.steps import EXACT, HOT, _closure, _compiled, _FUNCTIONS, _softplus, evaluate_formula

from conftest import PROBLEMS


def outcome(function, env):
    """What evaluating gives: the value's repr (nan and -0.0 included), or the exception's class."""
    try:
        return repr(function(env))
    except (ArithmeticError, ValueError, TypeError) as error:
        return type(error).__name__


def bytecode(formula):
    function = compile_formula(formula, _FUNCTIONS, _softplus)
    assert function is not None, f"not compiled: {formula}"
    return function


def nudged(values, rng):
    """The solution's numbers as a student might carry them: rounded, scaled, a sign flipped, a 0."""
    out = {}
    for key, value in values.items():
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = rng.choice([round(value, 3), value * rng.uniform(0.5, 1.5), -value, 0.0, value])
        out[key] = value
    return out


def bundled():
    """Every bundled problem; of the critical-point analyses, whose solving takes seconds and whose
    steps are mostly expressions, two (their numeric steps are of one shape)."""
    analyses = {"lecture-saddle", "numeric-double-well"}
    return [path for path in sorted(PROBLEMS.glob("*.yaml"))
            if "kind: critical_points" not in path.read_text(encoding="utf-8") or path.stem in analyses]


@pytest.mark.parametrize("path", bundled(), ids=lambda p: p.stem)
def test_every_bundled_step_evaluates_alike(path):
    solution = load_problem(path).solve(EXACT)
    values = solution.values()
    rng = random.Random(path.stem)
    steps = [s for s in solution if not (s.is_given or s.is_matrix or s.is_symbolic) and isinstance(s.formula, sympy.Basic)]
    compared = 0
    for step in steps:
        try:
            function = compile_formula(step.formula, _FUNCTIONS, _softplus)
        except RecursionError:
            function = None
        if function is None:
            continue  # too deep: evaluated node by node only
        reference = _closure(step.formula)
        for env in [values] + [nudged(values, rng) for _ in range(5)]:
            assert outcome(function, env) == outcome(reference, env), step.key
        compared += 1
    assert compared or not steps


x, y, z = sympy.symbols("x y z")
LEAVES = [x, y, z, sympy.Integer(0), sympy.Integer(2), sympy.Rational(1, 3), sympy.Float(-0.75), sympy.pi]
FUNCTIONS = [sympy.exp, sympy.log, sympy.tanh, sympy.Abs, sympy.sign, sympy.Heaviside, sympy.sin]


@st.composite
def formulas(draw, depth=3):
    if depth == 0 or draw(st.integers(0, 3)) == 0:
        return draw(st.sampled_from(LEAVES))
    shape = draw(st.sampled_from(["add", "mul", "pow", "function", "piecewise", "max", "softplus"]))
    part = formulas(depth=depth - 1)
    if shape == "add":
        return sympy.Add(*draw(st.lists(part, min_size=2, max_size=4)), evaluate=False)
    if shape == "mul":
        return sympy.Mul(*draw(st.lists(part, min_size=2, max_size=4)), evaluate=False)
    if shape == "pow":
        exponent = draw(st.sampled_from([sympy.Integer(-1), sympy.Integer(2), sympy.Rational(1, 2), y]))
        return sympy.Pow(draw(part), exponent, evaluate=False)
    if shape == "function":
        return draw(st.sampled_from(FUNCTIONS))(draw(part), evaluate=False)
    if shape == "max":
        return sympy.Max(draw(part), draw(part), evaluate=False)
    if shape == "softplus":
        return sympy.log(sympy.Add(1, sympy.exp(draw(part), evaluate=False), evaluate=False), evaluate=False)
    condition = draw(st.sampled_from([x > 0, x <= y, sympy.And(x > -1, y < 1), sympy.Or(x < -1, z >= 0)]))
    pieces = [(draw(part), condition)]
    if draw(st.booleans()):
        pieces.append((draw(part), True))
    return sympy.Piecewise(*pieces)


NUMBERS = st.one_of(st.sampled_from([0.0, -0.0, 1.0, -1.0, 0.5, 1e308, -1e-320]),
                    st.floats(-50, 50, allow_nan=False))


@settings(max_examples=400, deadline=None)
@given(formulas(), NUMBERS, NUMBERS, NUMBERS)
def test_random_formulas_evaluate_alike(formula, a, b, c):
    env = {"x": a, "y": b, "z": c}
    try:
        reference = _closure(formula)
    except Exception:  # a node neither evaluates (the node-per-node evaluation refuses it)
        assert compile_formula(formula, _FUNCTIONS, _softplus) is None
        return
    assert outcome(bytecode(formula), env) == outcome(reference, env)


def test_a_zero_factor_leaves_the_later_factors_unevaluated():
    formula = sympy.Mul(x, sympy.log(y), evaluate=False)  # 0 log(-1): 0, as 0 log 0 = 0 needs
    assert bytecode(formula)({"x": 0.0, "y": -1.0}) == 0.0
    with pytest.raises(ValueError):
        bytecode(formula)({"x": 2.0, "y": -1.0})


def test_a_piecewise_without_a_piece_that_applies_raises():
    formula = sympy.Piecewise((x, x > 0))
    assert outcome(bytecode(formula), {"x": -1.0}) == outcome(_closure(formula), {"x": -1.0}) == "ValueError"


def test_a_formula_too_deep_for_bytecode_is_evaluated_node_by_node():
    terms = sympy.symbols("t0:600")
    formula = sympy.Add(*(t * (i + 1) for i, t in enumerate(terms)))
    assert compile_formula(formula, _FUNCTIONS, _softplus) is None
    env = {t.name: 0.5 for t in terms}
    assert evaluate_formula(formula, env) == sum(0.5 * (i + 1) for i in range(600))


def test_a_hot_formula_gives_the_same_numbers_after_its_switch_to_bytecode():
    formula = x * (1 - x) * y + sympy.exp(-z) / 3  # a fresh formula: evaluated node by node at first
    rng = random.Random(5)
    envs = [{"x": rng.uniform(-2, 2), "y": rng.uniform(-2, 2), "z": rng.uniform(-2, 2)} for _ in range(2 * HOT)]
    before = [evaluate_formula(formula, env) for env in envs]
    assert _compiled(formula).__name__ == "formula"  # switched
    assert [evaluate_formula(formula, env) for env in envs] == before
    assert before == [_closure(formula)(env) for env in envs]
    assert not any(math.isnan(v) for v in before)
