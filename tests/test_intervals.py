"""Interval values of expressions hold the exact value, are narrow when they say so, and stay bounded.

The oracle is SymPy's own evaluation at 60 digits, on expressions it
evaluates quickly; the bounded cases are the ones it does not.
"""

import time

import mpmath
import pytest
import sympy

from derive.symbolic.intervals import PRECISIONS, Undefined, Unknown, compare, evaluate, known_value

x, y = sympy.symbols("x y", real=True)
s = 1 / (1 + sympy.exp(-x))

EXPRESSIONS = [
    s * (1 - s), sympy.exp(-x) / (1 + sympy.exp(-x)) ** 2, sympy.tanh(x), sympy.tanh(3 * x) - 1, sympy.atan(x ** 3),
    sympy.log(1 + sympy.exp(x)), sympy.sqrt(x ** 2 + 1), sympy.Abs(x - 1), sympy.Max(x, 0.5, -x), sympy.Min(x, y),
    sympy.sin(x) * sympy.cos(y), sympy.tan(x / 7), sympy.sinh(x) / sympy.cosh(x), x ** sympy.Rational(3, 2) + 1,
    sympy.Heaviside(x - 1), sympy.sign(x), sympy.Piecewise((x, x > 1), (-x, True)), sympy.pi * x + sympy.E,
    sympy.Float("0.1") * x, sympy.Rational(1, 3) * y, 2 ** x, x * y - 1,
    sympy.erf(x), x * (1 + sympy.erf(x / sympy.sqrt(2))) / 2, sympy.erf(y) * x,  # erf, and gelu written with it
]
POINTS = [{"x": 0.37, "y": -1.25}, {"x": 2.5, "y": 0.001}, {"x": 17.0, "y": -30.0}, {"x": 0.9, "y": 650.0}]


def as_written(expression):
    """Decimals as the decimals they are (derive reads 0.1 as 1/10, not its binary neighbour)."""
    return expression.xreplace({f: sympy.Rational(sympy.sstr(f, full_prec=False))
                                for f in expression.atoms(sympy.Float)})


@pytest.mark.parametrize("expression", EXPRESSIONS, ids=str)
@pytest.mark.parametrize("point", POINTS, ids=lambda p: f"x={p['x']},y={p['y']}")
def test_the_interval_holds_sympys_value_and_is_narrow(expression, point):
    exact = as_written(expression).subs({x: sympy.Rational(point["x"]), y: sympy.Rational(point["y"])})
    assert exact.is_extended_real  # every point lies inside every expression's domain (x > 0)
    interval = evaluate(expression, point, PRECISIONS[0])
    with mpmath.workprec(400):
        oracle = mpmath.mpf(sympy.N(exact, 60)._to_mpmath(400))
        low, high = (mpmath.mp.make_mpf(v) for v in interval)
        slack = abs(oracle) * mpmath.mpf(10) ** -55  # the oracle's own last digits
        assert low - slack <= oracle <= high + slack
    assert known_value(expression, point) == pytest.approx(float(oracle), rel=1e-15, abs=1e-300)


@pytest.mark.parametrize("expression, point", [
    (sympy.log(x), {"x": -1.0}),
    (sympy.sqrt(x - 2), {"x": 1.0}),
    (1 / (x - 1), {"x": 1.0}),
    (sympy.Pow(x, sympy.pi), {"x": -2.0}),
], ids=str)
def test_outside_the_domain_is_undefined(expression, point):
    with pytest.raises(Undefined):
        known_value(expression, point)


@pytest.mark.parametrize("expression", [
    sympy.sin(sympy.exp(sympy.exp(15))),
    sympy.tan(sympy.exp(sympy.exp(sympy.exp(3)))),
    sympy.exp(sympy.exp(sympy.exp(sympy.exp(3)))),
    sympy.cos(10 ** sympy.Integer(900)),
], ids=str)
def test_what_cannot_be_settled_is_unknown_and_bounded(expression):
    started = time.process_time()
    with pytest.raises(Unknown):
        known_value(expression)
    assert time.process_time() - started < 10  # a generous bound on work that SymPy's evalf does not bound


@pytest.mark.parametrize("answer, expected, outcome", [
    (s * (1 - s) + sympy.Rational(1, 10 ** 30), s * (1 - s), "different"),
    (s - s ** 2, s * (1 - s), "equal"),
    (sympy.log(x), sympy.log(x), "both undefined"),
    (x, sympy.sqrt(x), "expected undefined"),
], ids=str)
def test_compare(answer, expected, outcome):
    assert compare(answer, expected, {"x": -0.5}) == outcome or compare(answer, expected, {"x": 0.5}) == outcome


def test_a_condition_as_written_makes_the_answer_undefined():
    # 0*log(x) was 0 once SymPy built it; the condition the parser kept is what remains of the log
    assert compare(sympy.Integer(0), sympy.Integer(0), {"x": -2.0}, (("positive", x),)) == "answer undefined"
    assert compare(sympy.Integer(0), sympy.Integer(0), {"x": 2.0}, (("positive", x),)) == "equal"
