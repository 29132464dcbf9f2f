"""Rigorous values of expressions at points: interval arithmetic, precision raised until it decides.

An expression is evaluated at a point as an interval that certainly holds
its exact value (mpmath's interval primitives, outward rounding), so two
values whose intervals do not meet certainly differ, and a value whose
interval is narrow is known to that many digits. Where an interval is too
wide to decide, the precision is doubled, up to a ceiling; what the ceiling
cannot settle stays unknown, never guessed.

Real semantics, as a student means them: log and fractional powers need a
positive base, a division a nonzero divisor, tan a nonzero cosine. A point
outside an expression's domain raises Undefined, decided as rigorously as a
value. The work is bounded whatever the expression: exponentials beyond
e^100000 are not computed (an interval reaching infinity stands for them),
a trigonometric function of an argument too large for the precision is not
reduced, and the precision has a ceiling.
"""

import math

import sympy
from mpmath import libmp

PRECISIONS = (128, 256, 512, 1024, 2048)  # bits: each evaluation tries these in turn
DIGITS = 20  # a value is known when its interval is this many significant digits narrow
_EXP_LIMIT = 100_000  # exp of more than this is not computed: the interval reaches +inf
_RELATIVE = libmp.from_man_exp(1, -int(DIGITS * math.log2(10)))
_ZERO = (libmp.fzero, libmp.fzero)
_ONE = (libmp.fone, libmp.fone)


class Unknown(Exception):
    """The precision ceiling (or what is computed at all) does not settle the value here."""


class Undefined(Exception):
    """The point is certainly outside the expression's domain (log of a negative, division by 0)."""


def evaluate(expression, point, prec):
    """An interval (a, b) of mpf tuples holding `expression`'s value at `point` (name -> float or Fraction)."""
    return _Evaluator(point, prec).value(expression)


def compare(answer, expected, point, conditions=()):
    """How `answer` (with the domain `conditions` it was written under) and `expected` relate at `point`.

    Returns "equal" (both known to DIGITS digits, their intervals meet),
    "different" (the intervals are disjoint), "answer undefined",
    "expected undefined", "both undefined", "answer unknown" (the expected
    value is known, the answer's cannot be computed) or "unknown", each as
    decided at the lowest precision that decides it.
    """
    a = e = Unknown
    for prec in PRECISIONS:
        a = _defined_value(answer, point, prec, conditions)
        e = _defined_value(expected, point, prec, ())
        if a is Undefined or e is Undefined:
            if a is Undefined and e is Undefined:
                return "both undefined"
            if (a is Undefined and e is not Unknown) or (e is Undefined and a is not Unknown):
                return "answer undefined" if a is Undefined else "expected undefined"
            continue
        if a is Unknown or e is Unknown:
            continue
        if _disjoint(a, e):
            return "different"
        if _narrow(a) and _narrow(e):
            return "equal"
    if a is Unknown and e is not Unknown and e is not Undefined and _narrow(e):
        return "answer unknown"
    return "unknown"


def midpoint(interval):
    """The float nearest an interval's middle."""
    a, b = interval
    return libmp.to_float(libmp.mpf_shift(libmp.mpf_add(a, b, 64), -1))


def known_value(expression, point=None):
    """The value of `expression` at `point` as a float once it is known to DIGITS digits.

    Raises Undefined outside its domain and Unknown when the ceiling cannot settle it.
    """
    for prec in PRECISIONS:
        try:
            interval = evaluate(expression, point or {}, prec)
        except Unknown:
            continue
        if _narrow(interval):
            return midpoint(interval)
    raise Unknown("cannot be evaluated to enough digits")


def _defined_value(expression, point, prec, conditions):
    """The interval, or the class Undefined / Unknown."""
    try:
        evaluator = _Evaluator(point, prec)
        for kind, argument in conditions:
            evaluator.check(kind, evaluator.value(argument))
        return evaluator.value(expression)
    except Undefined:
        return Undefined
    except Unknown:
        return Unknown


def _disjoint(x, y):
    return libmp.mpf_lt(x[1], y[0]) or libmp.mpf_lt(y[1], x[0])


def _narrow(interval):
    """Known to DIGITS significant digits (or exactly 0)."""
    a, b = interval
    if a == b:
        return True
    if _infinite(interval):
        return False
    size = _larger(libmp.mpf_abs(a), libmp.mpf_abs(b))
    width = libmp.mpf_sub(b, a, 64, libmp.round_ceiling)
    return libmp.mpf_le(width, libmp.mpf_mul(size, _RELATIVE, 64, libmp.round_floor))


def _infinite(interval):
    a, b = interval
    return a in (libmp.finf, libmp.fninf, libmp.fnan) or b in (libmp.finf, libmp.fninf, libmp.fnan)


def _bits(v):
    """About log2 |v| of a finite mpf (0 for 0)."""
    return 0 if v == libmp.fzero else v[2] + v[3]


def _contains_zero(x):
    return libmp.mpf_le(x[0], libmp.fzero) and libmp.mpf_ge(x[1], libmp.fzero)


def _positive(x):
    return libmp.mpf_gt(x[0], libmp.fzero)


class _Evaluator:
    """One expression at one point and precision; see `evaluate`."""

    def __init__(self, point, prec):
        self.prec = prec
        self.point = {}
        for name, value in point.items():
            exact = libmp.from_float(value) if isinstance(value, float) else libmp.from_rational(
                value.numerator, value.denominator, prec, libmp.round_floor)
            self.point[name] = (exact, exact) if isinstance(value, float) else (
                exact, libmp.from_rational(value.numerator, value.denominator, prec, libmp.round_ceiling))

    # -- domain conditions, as the parser records them ------------------------
    def check(self, kind, x):
        """Raise Undefined when `x` certainly breaks the condition, Unknown when it may."""
        if kind == "positive":  # log's argument, a fractional power's base under a negative exponent
            if _positive(x):
                return
            if libmp.mpf_le(x[1], libmp.fzero):
                raise Undefined
        elif kind == "nonnegative":  # a fractional power's base
            if libmp.mpf_ge(x[0], libmp.fzero):
                return
            if libmp.mpf_lt(x[1], libmp.fzero):
                raise Undefined
        elif kind == "nonzero":  # a divisor
            if not _contains_zero(x):
                return
            if x[0] == x[1] == libmp.fzero:
                raise Undefined
        else:
            raise ValueError(f"unknown condition {kind!r}")
        raise Unknown

    # -- values -----------------------------------------------------------------
    def value(self, e):
        prec = self.prec
        if e.is_Symbol:
            try:
                return self.point[e.name]
            except KeyError:
                raise Unknown(f"no value for {e.name}") from None
        if e.is_Integer:
            exact = libmp.from_int(int(e))
            return (exact, exact)
        if e.is_Rational:
            return (libmp.from_rational(e.p, e.q, prec, libmp.round_floor),
                    libmp.from_rational(e.p, e.q, prec, libmp.round_ceiling))
        if e.is_Float:  # the decimal as written, not its binary approximation
            return libmp.mpi_from_str(sympy.sstr(e, full_prec=False), prec)
        if e is sympy.pi:
            return (libmp.mpf_pi(prec, libmp.round_floor), libmp.mpf_pi(prec, libmp.round_ceiling))
        if e is sympy.E:
            return (libmp.mpf_e(prec, libmp.round_floor), libmp.mpf_e(prec, libmp.round_ceiling))
        if e.is_Add:
            total = self.value(e.args[0])
            for arg in e.args[1:]:
                total = libmp.mpi_add(total, self.value(arg), prec)
            return self._finite(total)
        if e.is_Mul:
            product = _ONE
            for arg in e.args:
                product = libmp.mpi_mul(product, self.value(arg), prec)
            return self._finite(product)
        if e.is_Pow:
            return self.power(e.base, e.exp)
        handler = _FUNCTIONS.get(type(e).__name__)
        if handler is None:
            raise Unknown(f"cannot evaluate {type(e).__name__}")
        return handler(self, e)

    def _finite(self, x):
        if libmp.fnan in x:
            raise Unknown("an infinite interval")
        return x

    def power(self, base, exponent):
        prec = self.prec
        b = self.value(base)
        if exponent.is_Integer:
            n = int(exponent)
            if n < 0:
                self.check("nonzero", b)
                return self._finite(libmp.mpi_div(_ONE, libmp.mpi_pow_int(b, -n, prec), prec))
            return self._finite(libmp.mpi_pow_int(b, n, prec))
        x = self.value(exponent)
        if libmp.mpf_le(x[0], libmp.fzero):  # a negative (or possibly negative) exponent needs base > 0
            self.check("positive", b)
        else:
            self.check("nonnegative", b)
            if b[1] == libmp.fzero:
                return _ZERO
            if not _positive(b):
                raise Unknown("a base that may be 0")
        return self.exp_of(libmp.mpi_mul(x, libmp.mpi_log(b, prec), prec))

    def exp_of(self, x):
        a, b = x
        limit = libmp.from_int(_EXP_LIMIT)
        if libmp.mpf_gt(a, limit):
            return (libmp.mpf_exp(limit, self.prec, libmp.round_floor), libmp.finf)
        if libmp.mpf_gt(b, limit):
            return (libmp.mpf_exp(a, self.prec, libmp.round_floor), libmp.finf)
        if libmp.mpf_lt(b, libmp.mpf_neg(limit)):
            return (libmp.fzero, libmp.mpf_exp(libmp.mpf_neg(limit), self.prec, libmp.round_ceiling))
        if libmp.mpf_lt(a, libmp.mpf_neg(limit)):
            return (libmp.fzero, libmp.mpf_exp(b, self.prec, libmp.round_ceiling))
        return libmp.mpi_exp(x, self.prec)

    def trig(self, function, e):
        x = self.value(e.args[0])
        if _infinite(x):
            raise Unknown("an infinite argument")
        if max(_bits(x[0]), _bits(x[1])) > self.prec // 2:  # the argument's size eats the precision: reduce it at a higher one
            raise Unknown("an argument too large for the precision")
        return function(x, self.prec)

    def compare(self, relation):
        """True or False for a relation between intervals, or Unknown when they overlap."""
        left = self.value(relation.lhs)
        right = self.value(relation.rhs)
        op = relation.rel_op
        if op in (">", ">="):
            left, right, op = right, left, "<" if op == ">" else "<="
        if op in ("<", "<="):
            if libmp.mpf_lt(left[1], right[0]):
                return True
            if libmp.mpf_gt(left[0], right[1]):
                return False
            if left[0] == left[1] == right[0] == right[1]:
                return op == "<="
            raise Unknown("a comparison too close to call")
        if op in ("==", "!="):
            if _disjoint(left, right):
                return op == "!="
            if left[0] == left[1] == right[0] == right[1]:
                return op == "=="
            raise Unknown("a comparison too close to call")
        raise Unknown(f"cannot evaluate the relation {op}")

    def truth(self, condition):
        if condition is sympy.true:
            return True
        if condition is sympy.false:
            return False
        if isinstance(condition, sympy.core.relational.Relational):
            return self.compare(condition)
        if isinstance(condition, sympy.And):
            return all(self.truth(c) for c in condition.args)
        if isinstance(condition, sympy.Or):
            return any(self.truth(c) for c in condition.args)
        if isinstance(condition, sympy.Not):
            return not self.truth(condition.args[0])
        raise Unknown(f"cannot evaluate the condition {type(condition).__name__}")


def _exp(self, e):
    return self._finite(self.exp_of(self.value(e.args[0])))


def _log(self, e):
    x = self.value(e.args[0])
    self.check("positive", x)
    if x[1] == libmp.finf:
        raise Unknown("log of an unbounded value")
    return libmp.mpi_log(x, self.prec)


def _tan(self, e):
    x = self.value(e.args[0])
    cosine = self.trig(libmp.mpi_cos, e)
    self.check("nonzero", cosine)
    return self._finite(libmp.mpi_tan(x, self.prec))


def _sinh(self, e):
    x = self.value(e.args[0])
    up, down = self.exp_of(x), self.exp_of(libmp.mpi_neg(x))
    return self._finite(libmp.mpi_mul(libmp.mpi_sub(up, down, self.prec), (libmp.mpf_shift(libmp.fone, -1),) * 2,
                                      self.prec))


def _cosh(self, e):
    x = self.value(e.args[0])
    up, down = self.exp_of(x), self.exp_of(libmp.mpi_neg(x))
    return self._finite(libmp.mpi_mul(libmp.mpi_add(up, down, self.prec), (libmp.mpf_shift(libmp.fone, -1),) * 2,
                                      self.prec))


def _tanh(self, e):
    """tanh x = 1 - 2/(e^(2x) + 1): monotone in e^(2x), so the interval stays tight."""
    x = self.value(e.args[0])
    prec = self.prec
    grown = self.exp_of(libmp.mpi_mul(x, (libmp.from_int(2),) * 2, prec))
    if grown[1] == libmp.finf:  # 2/(e^(2x) + 1) on an interval reaching +inf: its lower end is 0
        low = libmp.mpf_sub(libmp.fone, libmp.mpf_div(libmp.from_int(2),
                                                      libmp.mpf_add(grown[0], libmp.fone, prec, libmp.round_floor),
                                                      prec, libmp.round_ceiling), prec, libmp.round_floor)
        return (low, libmp.fone)
    fraction = libmp.mpi_div((libmp.from_int(2),) * 2, libmp.mpi_add(grown, _ONE, prec), prec)
    return libmp.mpi_sub(_ONE, fraction, prec)


def _erf(self, e):
    """erf is increasing, so erf([a, b]) = [erf(a), erf(b)]: each end computed 20 bits past the working
    precision (mpmath's erf is accurate to a few units in the last place there, relative to its value) and
    widened outward by 2^-prec of its size, far more than that error; erf(0) = 0 exactly."""
    a, b = self.value(e.args[0])
    prec = self.prec

    def end(x, rounding, outward):
        if x == libmp.finf or x == libmp.fninf:
            return libmp.fone if x == libmp.finf else libmp.fnone
        value = libmp.mpf_erf(x, prec + 20, rounding)
        return outward(value, libmp.mpf_shift(libmp.mpf_abs(value), -prec), prec, rounding)

    return end(a, libmp.round_floor, libmp.mpf_sub), end(b, libmp.round_ceiling, libmp.mpf_add)


def _atan(self, e):
    x = self.value(e.args[0])
    return self._finite(libmp.mpi_atan(x, self.prec))


def _abs(self, e):
    return libmp.mpi_abs(self.value(e.args[0]), self.prec)


def _lattice(pick):
    def evaluate_lattice(self, e):
        values = [self.value(arg) for arg in e.args]
        low = values[0][0]
        high = values[0][1]
        for a, b in values[1:]:
            low = pick(low, a)
            high = pick(high, b)
        return (low, high)
    return evaluate_lattice


def _larger(x, y):
    return y if libmp.mpf_gt(y, x) else x


def _smaller(x, y):
    return y if libmp.mpf_lt(y, x) else x


def _heaviside(self, e):
    x = self.value(e.args[0])
    if _positive(x):
        return _ONE
    if libmp.mpf_lt(x[1], libmp.fzero):
        return _ZERO
    if x[0] == x[1] == libmp.fzero:
        return self.value(e.args[1]) if len(e.args) > 1 else self.value(sympy.S.Half)
    raise Unknown("Heaviside at a point too close to 0")


def _sign(self, e):
    x = self.value(e.args[0])
    if _positive(x):
        return _ONE
    if libmp.mpf_lt(x[1], libmp.fzero):
        return (libmp.fnone, libmp.fnone)
    if x[0] == x[1] == libmp.fzero:
        return _ZERO
    raise Unknown("sign at a point too close to 0")


def _piecewise(self, e):
    for value, condition in e.args:
        if self.truth(condition):
            return self.value(value)
    raise Undefined


_FUNCTIONS = {
    "exp": _exp,
    "log": _log,
    "sin": lambda self, e: self.trig(libmp.mpi_sin, e),
    "cos": lambda self, e: self.trig(libmp.mpi_cos, e),
    "tan": _tan,
    "sinh": _sinh,
    "cosh": _cosh,
    "tanh": _tanh,
    "atan": _atan,
    "erf": _erf,
    "Abs": _abs,
    "Max": _lattice(_larger),
    "Min": _lattice(_smaller),
    "Heaviside": _heaviside,
    "sign": _sign,
    "Piecewise": _piecewise,
}
