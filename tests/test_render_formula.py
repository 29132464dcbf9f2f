"""Single formulas printed in each format, as SymPy's own printing tests do it: inline."""

import pytest
import sympy
from sympy import Add, Mul, Pow, Rational

from derive.render.formula import key_formula, latex_formula, text_formula
from derive.steps import Sym

h, w, t, d, y = sympy.symbols("h w t d y")
SYMBOLS = {
    "h": Sym.indexed("h", "h", 1, (1,)),
    "w": Sym.indexed("w", "w", 2, (1, 1)),
    "t": Sym.indexed("θ", r"\theta", 2, (1,)),
    "d": Sym.indexed("δ", r"\delta", 3, (1,)),
    "y": Sym("y", "y"),
}
z = Add(Mul(h, w, evaluate=False), Mul(-1, t, evaluate=False), evaluate=False)
sigmoid = 1 / (1 + sympy.exp(-h))
loss = Mul(Rational(1, 2), Pow(Add(h, Mul(-1, y, evaluate=False), evaluate=False), 2, evaluate=False),
           evaluate=False)
delta = Mul(d, w, h, Add(1, Mul(-1, h, evaluate=False), evaluate=False), evaluate=False)
update = Add(w, Mul(-1, y, d, evaluate=False), evaluate=False)

CASES = [
    # (formula, values or None, text, latex)
    (z, None, "h¹₁ w²₁₁ - θ²₁", r"h^{1}_{1} w^{2}_{11} - \theta^{2}_{1}"),
    (z, {"h": 2, "w": 1.2, "t": -0.5}, "2·1.2 - (-0.5)", r"2 \cdot 1.2 - \left(-0.5\right)"),
    (sigmoid, None, "1/(1 + exp(-h¹₁))", r"\frac{1}{1 + e^{-h^{1}_{1}}}"),
    (sigmoid, {"h": -2}, "1/(1 + exp(-(-2)))", r"\frac{1}{1 + e^{-\left(-2\right)}}"),
    (loss, None, "1/2·(h¹₁ - y)^2", r"\frac{1}{2} \left(h^{1}_{1} - y\right)^{2}"),
    (delta, {"d": -0.0264, "w": 1, "h": 0.9781},
     "-0.0264·1·0.9781·(1 - 0.9781)", r"-0.0264 \cdot 1 \cdot 0.9781 \cdot \left(1 - 0.9781\right)"),
    (update, {"w": 1, "y": 1, "d": -0.0012}, "1 - 1·(-0.0012)", r"1 - 1 \cdot \left(-0.0012\right)"),
    (sympy.Max(1, h), {"h": 2}, "max(1, 2)", r"\max\left(1, 2\right)"),
    (sympy.Heaviside(h - 1, 0), None, "H(h¹₁ - 1)", r"H\left(h^{1}_{1} - 1\right)"),
]


@pytest.mark.parametrize("formula, values, text, latex", CASES)
def test_text_and_latex(formula, values, text, latex):
    assert text_formula(formula, SYMBOLS, values) == text
    assert latex_formula(formula, SYMBOLS, values) == latex


def test_a_negative_value_after_a_plus_is_parenthesised():
    assert text_formula(Add(h, t, evaluate=False), values={"h": 1, "t": -1}) == "1 + (-1)"


def test_key_formula_is_plain_ascii_over_keys():
    a, b = sympy.Symbol("h[1][1]"), sympy.Symbol("w[2][1][1]")
    assert key_formula(Mul(a, b, evaluate=False)) == "h[1][1]*w[2][1][1]"
    assert key_formula(1 / (1 + sympy.exp(-a))) == "1/(1 + exp(-h[1][1]))"
