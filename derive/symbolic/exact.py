"""Exact values of step formulas: decimals as written, in rational arithmetic.

In exact mode a formula over givens such as η = 0.2 and λ = 0.9 is
evaluated on the decimals as written (0.2 is 1/5), with Fractions, so that
`2·4 − 8` is 0 and not the −1.8e-15 that binary floating point leaves; the
value a step keeps is the float nearest that exact value. What has no
rational value (exp, a square root of a non-square, π) is left to floats, as
is a rational grown past MAX_BITS (an iteration of a polynomial loss
multiplies the digits of its numbers every step): from there on the chain
is computed as before, in floating point, from the nearest floats.
"""

import math
from dataclasses import replace
from fractions import Fraction

import sympy

from ..steps import EvaluationError, SolutionBuilder

MAX_BITS = 2048  # of a numerator or denominator; beyond it a value is carried as a float


class _Inexact(Exception):
    """The formula has no rational value on these numbers (or one too large to carry)."""


def decimal(value):
    """The exact value of a given as written: the float 0.1 is 1/10 (its shortest decimal), 3 is 3."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if isinstance(value, int):
        return Fraction(value)
    if not math.isfinite(value):
        return None
    return Fraction(repr(value))


def exact_value(formula, env):
    """The Fraction value of `formula` on `env` (key -> Fraction, or None where not exact), or None.

    Raises ZeroDivisionError where the exact value divides by zero.
    """
    function = _COMPILED.get(formula)
    if function is None:
        function = _COMPILED[formula] = _compile(formula)
    try:
        return _bounded(function(env))
    except _Inexact:
        return None


class ExactBuilder(SolutionBuilder):
    """A SolutionBuilder whose exact mode computes on the decimals as written.

    Each step is evaluated in floats as usual (which finds the errors and
    names their suspects); where its formula has an exact rational value on
    the exact values of its dependencies, the float nearest that value
    replaces it. With a rounding to N decimals nothing changes: rounding
    already removes the binary noise.
    """

    def __init__(self, rounding):
        super().__init__(rounding)
        self.exact = {}  # key -> Fraction, or None where the value is not exact

    def given(self, key, symbol, value, section="Given", group="", origin=None):
        result = super().given(key, symbol, value, section, group, origin)
        self.exact[key] = decimal(self.env[key])
        return result

    def step(self, key, symbol, formula, section, note=""):
        result = super().step(key, symbol, formula, section, note)
        if self.rounding.decimals is not None:
            return result
        try:
            value = exact_value(formula, self.exact)
        except ZeroDivisionError:
            error = EvaluationError(f"cannot evaluate {key}: division by zero", ZeroDivisionError)
            error.suspect = self.suspect(self.steps[-1].deps, ZeroDivisionError)
            raise error from None
        self.exact[key] = value
        if value is not None:
            nearest = _float(value)
            if nearest is None:
                self.exact[key] = None
            elif nearest != self.env[key]:
                step = self.steps[-1]
                self.steps[-1] = self.by_key[key] = _with_value(step, nearest)
                self.env[key] = nearest
        return result


def _with_value(step, value):
    return replace(step, value=value)


def _float(fraction):
    try:
        return float(fraction) + 0.0  # + 0.0 turns -0.0 into 0.0
    except OverflowError:
        return None


def _bounded(value):
    if max(value.numerator.bit_length(), value.denominator.bit_length()) > MAX_BITS:
        raise _Inexact
    return value


_COMPILED = {}


def _symbol(name):
    def value(env):
        exact = env.get(name)
        if exact is None:
            raise _Inexact
        return exact
    return value


def _constant(e):
    if e.is_Integer:
        exact = Fraction(int(e))
    elif e.is_Rational:
        exact = Fraction(int(e.p), int(e.q))
    elif e.is_Float and math.isfinite(float(e)):
        exact = Fraction(repr(float(e)))  # as written: Float("0.01") is 1/100
    else:
        return _never
    return lambda env: exact


def _never(env):
    raise _Inexact


def _power(base, exponent):
    if exponent.is_Integer:
        n = int(exponent)

        def integer_power(env):
            b = base(env)
            if b != 0 and max(b.numerator.bit_length(), b.denominator.bit_length()) * abs(n) > 4 * MAX_BITS:
                raise _Inexact
            return b**n
        return integer_power
    if exponent == sympy.S.Half:
        def square_root(env):
            b = base(env)
            if b < 0:
                raise _Inexact
            p, q = math.isqrt(b.numerator), math.isqrt(b.denominator)
            if p * p != b.numerator or q * q != b.denominator:
                raise _Inexact
            return Fraction(p, q)
        return square_root
    return _never


def _heaviside(parts):
    def step(env):
        t = parts[0](env)
        if t != 0:
            return Fraction(int(t > 0))
        return parts[1](env) if len(parts) > 1 else Fraction(0)
    return step


_FUNCTIONS = {
    "Abs": lambda parts: lambda env: abs(parts[0](env)),
    "sign": lambda parts: lambda env: Fraction((parts[0](env) > 0) - (parts[0](env) < 0)),
    "Max": lambda parts: lambda env: max(part(env) for part in parts),
    "Min": lambda parts: lambda env: min(part(env) for part in parts),
    "Heaviside": _heaviside,
}


def _compile(e):
    """A function env -> Fraction for `e`, raising _Inexact where it has no rational value."""
    if e.is_Symbol:
        return _symbol(e.name)
    if e.is_Number or e.is_NumberSymbol:
        return _constant(e)
    if isinstance(e, sympy.Piecewise):
        pieces = [(_compile(value), _condition(condition)) for value, condition in e.args]

        def piecewise(env):
            for value, condition in pieces:
                if condition(env):
                    return value(env)
            raise _Inexact
        return piecewise
    parts = [_compile(arg) for arg in e.args]
    if e.is_Add:
        return lambda env: _bounded(sum((part(env) for part in parts), Fraction(0)))
    if e.is_Mul:
        def product(env):  # a zero factor makes the product 0, as in the float evaluation
            result, inexact = Fraction(1), False
            for part in parts:
                try:
                    value = part(env)
                except _Inexact:
                    inexact = True
                    continue
                if value == 0:
                    return Fraction(0)
                result *= value
            if inexact:
                raise _Inexact
            return _bounded(result)
        return product
    if e.is_Pow:
        return _power(parts[0], e.exp)
    build = _FUNCTIONS.get(type(e).__name__)
    return build(parts) if build is not None else _never


def _condition(condition):
    if condition is sympy.true:
        return lambda env: True
    relations = {"<": Fraction.__lt__, "<=": Fraction.__le__, ">": Fraction.__gt__, ">=": Fraction.__ge__}
    if isinstance(condition, sympy.core.relational.Relational) and condition.rel_op in relations:
        compare = relations[condition.rel_op]
        left, right = _compile(condition.lhs), _compile(condition.rhs)
        return lambda env: compare(left(env), right(env))
    if isinstance(condition, (sympy.And, sympy.Or)):
        parts = [_condition(c) for c in condition.args]
        combine = all if isinstance(condition, sympy.And) else any
        return lambda env: combine(p(env) for p in parts)
    return _never
