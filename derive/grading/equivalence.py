"""Is a student's expression the expected one? Rigorous numbers first, SymPy to prove, never a guess.

Both expressions are evaluated at points spread over the whole real line
(most in [-3, 3], some out to ±1000, some near 0; the same points every run
for the same expected expression), and on both sides of every edge where a
piece of either begins or ends (where the arguments of a max or min cross,
where an abs, a step or a log's argument turns 0: roots of polynomials of
degree up to 4 in one variable, the others held at a sampled point), in
interval arithmetic
(derive.symbolic.intervals), the student's as written: a log, a fractional
power, a division or a tan keeps its domain even where SymPy simplified it
away (`0*log(x)` is undefined for x < 0). At a point:

- intervals that do not meet prove the expressions differ;
- a point where one side is certainly defined and the other certainly not
  decides "not equivalent": `sqrt(x**2)` and `x` part at the first
  negative point, `exp(log(w1 w2))` and `w1 w2` where w1 w2 < 0;
- both known to DIGITS significant digits and meeting: they agree there;
- otherwise the point decides nothing.

When they agree at every point that decides, SymPy tries, within a time
limit, to reduce the difference: to 0 proves "equivalent"; to a nonzero
constant proves "not equivalent". If SymPy cannot, agreement to DIGITS
digits at MIN_AGREED points or more decides "equivalent", and the verdict
says it was the numbers and how many; fewer, and the verdict is "undecided".
"""

import functools
import math
import random
import zlib
from dataclasses import dataclass

from ..errors import DeriveError, Timeout
from ..steps import evaluate_formula
from ..symbolic.intervals import DIGITS, Undefined, Unknown, compare, known_value
from ..symbolic.limits import time_limit

POINTS = 12  # points of the numbers-only check `agrees`
SIMPLIFY_SECONDS = 2.0
MIN_AGREED = 6
# (how many points, how a coordinate is drawn): the whole real line, its middle most
SPREAD = ((10, "middle"), (4, "wide"), (3, "far"), (3, "near zero"))
FARTHEST = 1000.0


@dataclass(frozen=True)
class Equivalence:
    """equal: True, False, or None (undecided); decided_by: "numbers", "sympy" or "undecided"."""

    equal: object
    decided_by: str
    detail: str = ""


def equivalent(answer, expected, variables, conditions=()):
    """Compare a student's SymPy expression, written under the domain `conditions`
    (derive.expr.Written), with the expected one; `variables` is a Symbol or several."""
    names = _names(variables, answer, expected)
    agreed = unknown = 0
    points = sample_points(names, expected)
    points += edge_points(points[0], (answer, expected), conditions)
    for point in points:
        outcome = compare(answer, expected, point, conditions)
        where = ", ".join(f"{name} = {value:.4g}" for name, value in point.items())
        if outcome == "different":
            return Equivalence(False, "numbers", f"at {where} yours is {_shown(answer, point)}, "
                                                 f"expected {_shown(expected, point)}")
        if outcome in ("answer undefined", "expected undefined"):
            side = "the expected expression" if outcome == "answer undefined" else "your expression"
            return Equivalence(False, "numbers", f"only {side} is defined at {where}")
        agreed += outcome == "equal"
        unknown += outcome == "answer unknown"
    proof = _sympy_verdict(answer - expected)
    if proof is not None:
        return proof
    if agreed >= MIN_AGREED:
        return Equivalence(True, "numbers", f"equal to {DIGITS} significant digits at {agreed} points spread "
                                            f"over [-{FARTHEST:g}, {FARTHEST:g}] (SymPy did not reduce the "
                                            "difference to 0)")
    if unknown and not agreed:
        return Equivalence(None, "undecided", "your expression could not be evaluated at any point tried (its "
                                              "numbers are too large or too delicate), and SymPy did not decide")
    return Equivalence(None, "undecided", f"the two could be compared at {agreed} points only (at least "
                                          f"{MIN_AGREED} are needed), and SymPy did not decide")


def sample_points(names, expected):
    """The points both expressions are compared at, drawn the same way every run for `expected`."""
    rng = random.Random(_seed(expected))
    points = []
    for count, how in SPREAD:
        for _ in range(count):
            points.append({name: _coordinate(rng, how) for name in names})
    return points


@functools.lru_cache(maxsize=4096)
def _seed(expected):
    """The points' seed for `expected`: its printed form's checksum, the same in every run (printing an
    expression is the dearest part of drawing its points: it is done once per expression)."""
    return zlib.crc32(str(expected).encode())


MAX_EDGES = 32  # edge points compared at most
EDGE_SECONDS = 1.0
_STEPS = (0.5, 5.0)  # how far either side of an edge the points lie (times 1 + |edge|)


def edge_points(base, expressions, conditions=()):
    """Points either side of the edges of the expressions' pieces (see the module's docstring)."""
    import sympy

    edges = []
    try:
        with time_limit(EDGE_SECONDS, "finding the pieces' edges"):
            for function in _piece_functions(expressions, conditions):
                for symbol in sorted(function.free_symbols, key=lambda s: s.name):
                    others = {s: base[s.name] for s in function.free_symbols if s != symbol and s.name in base}
                    if len(others) != len(function.free_symbols) - 1:
                        continue
                    for root in _real_roots(function.subs(others), symbol, sympy):
                        for step in _STEPS:
                            for side in (-1, 1):
                                point = dict(base)
                                point[symbol.name] = root + side * step * (1 + abs(root))
                                edges.append(point)
                                if len(edges) >= MAX_EDGES:
                                    return edges
    except Timeout:
        pass  # what was found in time is compared
    except (ArithmeticError, ValueError, TypeError, AttributeError, RecursionError):
        pass  # SymPy failing on a piece: the edges found so far and the spread points stand
    return edges


def _piece_functions(expressions, conditions):
    """The functions whose sign changes start or end a piece: max/min argument differences, the
    arguments of abs, Heaviside, sign and of the domain conditions, a Piecewise's comparisons."""
    import sympy

    found = [argument for _, argument in conditions]
    for expression in expressions:
        for node in sympy.preorder_traversal(expression):
            if isinstance(node, (sympy.Max, sympy.Min)):
                found += [a - b for i, a in enumerate(node.args) for b in node.args[i + 1:]]
            elif isinstance(node, (sympy.Abs, sympy.Heaviside, sympy.sign, sympy.log)):
                found.append(node.args[0])
            elif isinstance(node, sympy.core.relational.Relational):
                found.append(node.lhs - node.rhs)
    return [f for f in dict.fromkeys(found) if f.free_symbols]


def _real_roots(function, symbol, sympy):
    """The real roots of `function` in `symbol` as floats, if it is a polynomial of degree 1 to 4."""
    if function.free_symbols != {symbol} or not function.is_polynomial(symbol):
        return []
    polynomial = sympy.Poly(function, symbol)
    if not 1 <= polynomial.degree() <= 4:
        return []
    from mpmath.libmp import NoConvergence

    try:
        found = polynomial.nroots(n=20)
    except (NoConvergence, sympy.PolynomialError, ValueError, ZeroDivisionError):
        return []  # no edges from this piece; the spread points still stand
    roots = []
    for root in found:
        if root.is_real:
            value = float(root)
            if math.isfinite(value) and abs(value) < 1e12:
                roots.append(value)
    return sorted(set(roots))


def _coordinate(rng, how):
    if how == "middle":
        return rng.uniform(-3.0, 3.0)
    if how == "wide":
        return rng.uniform(-30.0, 30.0)
    sign = rng.choice((-1.0, 1.0))
    if how == "far":
        return sign * math.exp(rng.uniform(math.log(30.0), math.log(FARTHEST)))
    return sign * math.exp(rng.uniform(math.log(1e-6), math.log(1e-2)))


def _names(variables, *expressions):
    names = [variables.name] if hasattr(variables, "name") else [v.name for v in variables]
    for expression in expressions:
        names += sorted(s.name for s in expression.free_symbols if s.name not in names)
    return names


def _shown(expression, point):
    try:
        return f"{known_value(expression, point):.6g}"
    except (Undefined, Unknown):
        return "(not evaluable)"


def _sympy_verdict(difference):
    """Equivalent if SymPy reduces `difference` to 0, not if to a nonzero constant; else None."""
    try:
        with time_limit(SIMPLIFY_SECONDS):
            reduced = _reduced(difference)
    except Timeout:
        return None  # too slow to prove: the numbers decide
    except (ArithmeticError, ValueError, TypeError, AttributeError, RecursionError):
        return None  # SymPy failing on what a student wrote (tan(exp(10^999))) proves nothing either way
    if reduced == 0:
        return Equivalence(True, "sympy", "SymPy reduces the difference to 0")
    if not reduced.free_symbols:
        try:
            value = known_value(reduced)
        except (Undefined, Unknown):
            return None
        if value != 0:
            return Equivalence(False, "sympy", f"yours differs from the expected expression by the constant "
                                               f"{value:.6g}")
    return None


def agrees(answer, expected, variables, domain=(-3.0, 3.0), points=POINTS):
    """Numbers only, in floats: the two expressions agree at every sampled point where either is
    defined (and at three at least). Used to match a wrong answer against a slip's rewritten
    expression, which names a slip and never makes an answer right."""
    names = _names(variables, answer, expected)
    rng = random.Random(_seed(expected))
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


def _reduced(difference):
    """The difference reduced: exponentials and cancelled fractions settle what students write
    (sigmoid and tanh forms) cheaply; `simplify` is the slow last resort."""
    import sympy

    reduced = sympy.cancel(sympy.expand(difference.rewrite(sympy.exp)))
    if reduced == 0 or not reduced.free_symbols:
        return reduced
    return sympy.simplify(difference)


def _value(expression, point):
    """A float value for the numbers-only check, None where there is none."""
    try:
        value = evaluate_formula(expression, point)
    except (DeriveError, TypeError, KeyError, OverflowError, ValueError):
        return None
    return value if math.isfinite(value) else None
