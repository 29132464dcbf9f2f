"""Is a student's expression the expected one? Numbers first, SymPy where numbers cannot decide.

Both expressions are evaluated at pseudo-random points of the domain (the
same points every run for the same expected expression). One point where
they differ, or where one is defined and the other is not, decides "not
equivalent": `sqrt(x**2)` and `x` part at the first negative point. When
they agree everywhere sampled, SymPy simplifies the difference, within a
time limit, to prove it is 0; if SymPy cannot, the agreement of the numbers
decides, and the verdict says so.
"""

import math
import random
import zlib
from dataclasses import dataclass

from ..errors import DeriveError, Timeout
from ..steps import evaluate_formula
from ..symbolic.limits import time_limit

POINTS = 12
SIMPLIFY_SECONDS = 2.0


@dataclass(frozen=True)
class Equivalence:
    """equal: True, False, or None (undecided); decided_by: "numbers", "sympy" or "undecided"."""

    equal: object
    decided_by: str
    detail: str = ""


def equivalent(answer, expected, variables, domain=(-3.0, 3.0), points=POINTS):
    """Compare two SymPy expressions over `domain` in each of `variables` (a Symbol or several)."""
    names = [variables.name] if hasattr(variables, "name") else [v.name for v in variables]
    rng = random.Random(zlib.crc32(str(expected).encode()))
    agreed = 0
    for _ in range(points):
        point = {name: rng.uniform(*domain) for name in names}
        where = ", ".join(f"{name} = {value:.4g}" for name, value in point.items())
        a, e = _value(answer, point), _value(expected, point)
        if a is None and e is None:
            continue
        if a is None or e is None:
            side = "the expected expression" if a is None else "your expression"
            return Equivalence(False, "numbers", f"only {side} is defined at {where}")
        if not math.isclose(a, e, rel_tol=1e-8, abs_tol=1e-10):
            return Equivalence(False, "numbers", f"at {where} yours is {a:.6g}, expected {e:.6g}")
        agreed += 1
    try:
        with time_limit(SIMPLIFY_SECONDS):
            if _difference_is_zero(answer - expected):
                return Equivalence(True, "sympy", "SymPy reduces the difference to 0")
    except Timeout:
        pass  # too slow to prove: the agreement of the numbers decides below
    if agreed >= 3:
        return Equivalence(True, "numbers", f"equal at {agreed} random points (SymPy did not simplify the difference to 0)")
    return Equivalence(None, "undecided", "could not be evaluated at enough points, and SymPy did not decide")


def agrees(answer, expected, variables, domain=(-3.0, 3.0), points=POINTS):
    """Numbers only: the two expressions agree at every sampled point where either is defined
    (and at three at least). Used to match a wrong answer against a slip's rewritten expression."""
    names = [variables.name] if hasattr(variables, "name") else [v.name for v in variables]
    rng = random.Random(zlib.crc32(str(expected).encode()))
    agreed = 0
    for _ in range(points):
        point = {name: rng.uniform(*domain) for name in names}
        a, e = _value(answer, point), _value(expected, point)
        if a is None and e is None:
            continue
        if a is None or e is None or not math.isclose(a, e, rel_tol=1e-8, abs_tol=1e-10):
            return False
        agreed += 1
    return agreed >= 3


def _difference_is_zero(difference):
    """Prove difference == 0: exponentials and cancelled fractions settle what students write
    (sigmoid and tanh forms) cheaply; `simplify` is the slow last resort."""
    import sympy

    if sympy.cancel(sympy.expand(difference.rewrite(sympy.exp))) == 0:
        return True
    return sympy.simplify(difference) == 0


def _value(expression, point):
    try:
        value = evaluate_formula(expression, point)
    except (DeriveError, TypeError):
        return None
    return value if math.isfinite(value) else None
