"""Derivatives written in terms of the function itself: σ′ = σ (1 - σ), tanh′ = 1 - tanh², softplus′ = σ.

Some activations b satisfy b′ = g(b) for a polynomial g (the sigmoid:
g(s) = s (1 - s); tanh: g(t) = 1 - t²). When a function's first derivative
is a polynomial P₁ in such a b, so is every higher one, by the chain rule:

    d/dx P(b) = P′(b) b′ = P′(b) g(b),   so   Pₙ = g · Pₙ₋₁′.

The polynomials are found here on a plain symbol and shown factored, with
b standing for the function, as the lecture writes them: σ (1 - σ) (1 - 2σ).
"""

from dataclasses import dataclass

import sympy
from sympy import Add, Mul

from ..steps import Sym

S = sympy.Symbol("s")  # the base function b, while its polynomials are worked out


class SigmoidShown(sympy.Function):
    """σ(x) printed as `σ` alone, for a derivative in terms of the sigmoid: σ (1 - σ).

    Only ever printed (through the formula printers' `_derive_formula`
    hook); the steps that show it carry the expression in x as their value.
    """

    nargs = 1
    shown = Sym("σ", r"\sigma")

    def _derive_formula(self, printer, **settings):
        return printer.symbol_text(self.shown)


@dataclass(frozen=True)
class OwnForm:
    """The derivatives of a function as polynomials in a base function b.

    base: the base function's name (`sigmoid`, `tanh`); expression: b(x);
    shown: b(x) as printed in a formula (`σ`, `tanh(x)`); first: the
    factors of P₁, and slope: those of g (b′ = g(b)), polynomials in S.
    """

    base: str
    expression: object
    shown: object
    first: tuple
    slope: tuple

    def factors(self, n):
        """(coefficient, factors) of Pₙ, each factor a polynomial in S written with a positive constant term."""
        if n == 1:
            return sympy.S.One, list(self.first)
        coefficient, previous = self.factors(n - 1)
        derivative = sympy.diff(sympy.expand(coefficient * Mul(*previous)), S)
        coefficient, pieces = sympy.factor_list(derivative)
        factors = []
        for piece, power in pieces:
            if _leading_sign(piece) < 0:
                piece, coefficient = -piece, coefficient * (-1) ** power
            factors += [piece] * power
        return coefficient, list(self.slope) + factors

    def polynomial(self, n):
        """Pₙ(S), expanded."""
        coefficient, factors = self.factors(n)
        return sympy.expand(coefficient * Mul(*factors))

    def shown_with(self, n, b):
        """Pₙ(b), factored as it is printed: the number, then single terms (σ), then sums (1 - σ).

        `b` stands for the base function: its display (`σ`) in a formula,
        or the Symbol of its value at a point in a numeric step.
        """
        coefficient, factors = self.factors(n)
        written = [_ascending(factor, b) for factor in factors]
        ordered = [f for f in written if not f.is_Add] + [f for f in written if f.is_Add]
        args = ([coefficient] if coefficient != 1 else []) + ordered
        if not args:
            return sympy.S.One
        return Mul(*args, evaluate=False) if len(args) > 1 else args[0]

    def slope_with(self, b):
        """g(b), the derivative of the base function in terms of itself: σ (1 - σ)."""
        written = [_ascending(factor, b) for factor in self.slope]
        return Mul(*written, evaluate=False) if len(written) > 1 else written[0]

    def in_x(self, n):
        """Pₙ(b(x)): the n-th derivative as an expression in x (to check it against the rules' result)."""
        return self.polynomial(n).subs(S, self.expression)


def _leading_sign(polynomial):
    """The sign of a factor's constant term, or of its lowest term when it has none (1 - 2s: +, 2s - 1: -)."""
    terms = sympy.Poly(polynomial, S).terms()
    return sympy.sign(min(terms, key=lambda term: term[0][0])[1])


def _ascending(polynomial, b):
    """A polynomial in S with b for S, its terms by ascending power: 1 - 6σ + 6σ^2."""
    terms = sorted(sympy.Poly(polynomial, S).terms(), key=lambda term: term[0][0])
    written = [coefficient * b**power for (power,), coefficient in terms]
    return Add(*written, evaluate=False) if len(written) > 1 else written[0]


def _sigmoid(x):
    return 1 / (1 + sympy.exp(-x))


def own_forms(x):
    """name -> OwnForm of the named activations that have one, in the variable x."""
    sigma, tanh = _sigmoid(x), sympy.tanh(x)
    logistic = (S, 1 - S)  # σ′ = σ (1 - σ)
    return {
        "sigmoid": OwnForm("sigmoid", sigma, SigmoidShown(x), logistic, logistic),
        "softplus": OwnForm("sigmoid", sigma, SigmoidShown(x), (S,), logistic),  # softplus′ = σ
        "tanh": OwnForm("tanh", tanh, tanh, (1 - S**2,), (1 - S**2,)),  # tanh′ = 1 - tanh²
    }
