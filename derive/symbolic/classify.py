"""What the Hessian says at a critical point, and what settles it when it says nothing.

At a critical point θ′ (∇L = 0) the lecture (lecture 10)
reads L(θ) ≈ L(θ′) + 1/2 (θ − θ′)ᵀ H (θ − θ′) and classifies by the
eigenvalues of H: all > 0 a local minimum, all < 0 a local maximum, some > 0
and some < 0 a saddle (even if others are 0), otherwise (a zero eigenvalue,
the others of one sign) the second-order test is inconclusive.

Everything here is exact where SymPy allows:

- The signs of the eigenvalues are the inertia of H, read from the
  coefficients of det(H − λI) by Descartes' rule of signs, exact because
  every root of a symmetric matrix's characteristic polynomial is real. So
  the verdict is exact even when the eigenvalues themselves have no usable
  closed form (a cubic's roots) and are shown as decimals.
- An inconclusive point is decided only by an argument that holds: a bound
  that is reached (L(θ) − L(θ′) ≥ 0 for every θ, as for (1 − w1 w2)^2 on the
  curve w1 w2 = 1), or lines through θ′ along which L − L(θ′) rises or falls
  on both sides or changes sign (an odd leading power). Lines can only show
  that θ′ is *not* an extremum; a minimum or maximum is never concluded from
  them (a function can rise along every line through a point and still fall
  along a curve). Otherwise the answer is "undecided", with what was tried.
"""

import functools
import itertools
from dataclasses import dataclass

import numpy as np
import sympy
from sympy.matrices.utilities import dotprodsimp

from ..errors import DeriveError

TEST_VERDICTS = ("minimum", "maximum", "saddle", "inconclusive")
DECIDED_VERDICTS = ("minimum", "maximum", "saddle", "neither", "undecided")
SERIES_ORDER = 8  # the highest power of t examined along a line through a degenerate point
MAX_ROOT_OPERATIONS = 60  # an exact eigenvalue longer than this is shown as a decimal
NUMERIC_ZERO = 1e-9  # |λ| below this (relative to the largest |λ|) counts as 0 at a numeric point


class Verdict(sympy.Symbol):
    """A verdict: a word chosen from a fixed list (`saddle` among minimum, maximum, saddle, inconclusive).

    It prints, evaluates and compares as the Symbol of its word, but its
    free symbols are the whole list: the grader reads a student's answer
    against exactly these words (and the answer-sheet template names them
    all), so the expected word is not given away and `local minimum` gets
    "unknown name 'local'; variables allowed here: inconclusive, maximum, ...".
    """

    def __new__(cls, word, words):
        verdict = sympy.Symbol.__xnew__(cls, word)  # uncached, as sympy.Dummy is: `others` differs per list
        verdict.others = tuple(sympy.Symbol(w) for w in words if w != word)
        return verdict

    @property
    def free_symbols(self):
        return {self, *self.others}

    def _hashable_content(self):
        return super()._hashable_content() + self.others


@dataclass(frozen=True)
class Eigen:
    """One eigenvalue of H with an eigenvector, scaled so its first non-zero component is 1.

    value, vector: exact SymPy numbers or expressions when `exact`, floats otherwise
    (vector None along a family where no one expression holds).
    sign: +1, -1 or 0 (exact for exact points, by Descartes' rule; numeric otherwise),
    None along a family where it changes.
    """

    value: object
    vector: tuple
    sign: int
    exact: bool


@dataclass(frozen=True)
class Decision:
    """How an inconclusive second-order test was settled: a verdict and the argument, in words."""

    verdict: str
    argument: str
    direction: tuple = None  # for a saddle: a line along which L falls (an escape direction)


@dataclass(frozen=True)
class Test:
    """The second-order test: its verdict and why, in words."""

    verdict: str
    reason: str


# -- signs ---------------------------------------------------------------------

def sign_of(expr):
    """+1, -1 or 0 for an expression whose sign SymPy can prove (assumptions, then 50 digits); else None."""
    return _sign_of(sympy.sympify(expr))


@functools.lru_cache(maxsize=1024)
def _sign_of(expr):
    """sign_of, remembered: the same eigenvalues are sorted by sign, then classified."""
    if expr.is_zero:
        return 0
    if expr.is_positive:
        return 1
    if expr.is_negative:
        return -1
    if expr.free_symbols:
        by_squares = _sign_by_squares(expr)
        if by_squares is not None:
            return by_squares
        if expr.is_polynomial():
            simpler = sympy.factor(expr)  # a polynomial's sign shows in its squares (above) or factors; simplify is slow
        elif expr.count_ops() > MAX_ROOT_OPERATIONS:
            return None  # too long to show (see _short_real_roots), and simplify is slow on it
        else:
            simpler = sympy.factor(sympy.simplify(expr))
        if simpler.is_zero:
            return 0
        return 1 if simpler.is_positive else -1 if simpler.is_negative else None
    value = sympy.N(expr, 50)
    if value.is_real is not False and abs(sympy.re(value)) > sympy.Float("1e-40"):
        return 1 if sympy.re(value) > 0 else -1
    return 0 if sympy.simplify(expr) == 0 else None


def _sign_by_squares(expr):
    """+1 or -1 when expr is positive (negative) for every real value of its symbols allowed by their
    assumptions, shown by writing its numerator as a sum of squares; None when that does not show it.

    The numerator p is written p = mᵀ Q m, m the monomials whose squares are terms of p with a positive
    coefficient, each other term's coefficient shared evenly among the pairs of m giving it. Q positive
    semidefinite (exactly: `inertia`) shows p ≥ 0; if Q stays semidefinite with half of the diagonal entry of
    a monomial that cannot be 0 (1, or a product of nonzero symbols) taken away, p ≥ that half times the
    monomial squared > 0. (2 + 2 w1⁴ + 2 v2² w1² − 4 v2 w2 + 2 v2² w2² = 2 (1 − v2 w2)² + 2 w1² (w1² + v2²).)
    A sufficient test, never a guess: a positive p that is no such sum gives None.
    """
    if not all(symbol.is_real for symbol in expr.free_symbols):
        return None
    numerator, denominator = sympy.fraction(sympy.together(expr))
    below = 1 if denominator.is_positive else -1 if denominator.is_negative else None
    if below is None:
        return None
    for sign in (1, -1):
        if _positive_by_squares(sign * sympy.expand(numerator)):
            return sign * below
    return None


MAX_SQUARES = 12  # monomials in a sum-of-squares test: its exact semidefiniteness check stays quick


def _gram(polynomial):
    """(Q, m) with polynomial = mᵀ Q m as _sign_by_squares builds it, m the exponent tuples of its monomials over
    the sorted symbols; None when some term is not a product of two of them."""
    symbols = sorted(polynomial.free_symbols, key=str)
    try:
        terms = sympy.Poly(polynomial, *symbols, domain="QQ").terms()
    except (sympy.PolynomialError, sympy.CoercionFailed, sympy.GeneratorsNeeded):
        return None
    halves = [tuple(e // 2 for e in powers) for powers, c in terms if c > 0 and all(e % 2 == 0 for e in powers)]
    if not halves or len(halves) > MAX_SQUARES:
        return None
    n = len(halves)
    gram = sympy.zeros(n, n)
    for powers, coefficient in terms:
        pairs = [(i, j) for i in range(n) for j in range(i, n)
                 if tuple(a + b for a, b in zip(halves[i], halves[j])) == powers]
        if not pairs:
            return None
        share = sympy.Rational(coefficient) / len(pairs)
        for i, j in pairs:
            if i == j:
                gram[i, i] += share
            else:
                gram[i, j] += share / 2
                gram[j, i] += share / 2
    return gram, halves, symbols


def _positive_by_squares(polynomial):
    found = _gram(polynomial)
    if found is None or not _semidefinite(found[0]):
        return False
    gram, halves, symbols = found
    for k, half in enumerate(halves):
        if all(e == 0 or symbol.is_nonzero for e, symbol in zip(half, symbols)):
            reduced = gram.copy()
            reduced[k, k] -= gram[k, k] / 2
            if _semidefinite(reduced):
                return True
    return False


def nonnegative_by_squares(expr):
    """Is a polynomial ≥ 0 for every real value of its (real) symbols, shown as a sum of squares mᵀQm?"""
    if not expr.free_symbols or not all(symbol.is_real for symbol in expr.free_symbols):
        return False
    found = _gram(sympy.expand(expr))
    return found is not None and _semidefinite(found[0])


def _semidefinite(matrix):
    """Is a symmetric matrix of rational numbers positive semidefinite (exactly)?"""
    return inertia(matrix)[1] == 0


def inertia(matrix):
    """(positive, negative, zero) eigenvalue counts of a symmetric matrix, or None if a sign is unknown.

    Descartes' rule of signs on det(H − λI): the number of positive roots is
    the number of sign changes of its coefficients, exactly, because all
    its roots are real; negative roots likewise from p(−λ); the zero roots
    are the lowest powers with a zero coefficient.
    """
    coefficients = [sympy.factor(c) if c.free_symbols else c for c in _charpoly(matrix)]  # highest power first
    signs = [sign_of(c) for c in coefficients]
    if None in signs:
        return None
    zero = 0
    while zero < len(signs) - 1 and signs[-1 - zero] == 0:
        zero += 1
    degree = len(signs) - 1
    mirrored = [s * (-1) ** (degree - k) for k, s in enumerate(signs)]
    return _sign_changes(signs), _sign_changes(mirrored), zero


def _charpoly(matrix):
    """The coefficients of det(H − λI), highest power first."""
    return _charpoly_of(sympy.ImmutableMatrix(matrix))


@functools.lru_cache(maxsize=64)
def _charpoly_of(matrix):
    """_charpoly, remembered: the signs of the eigenvalues and the eigenvalues themselves both need it."""
    return tuple(matrix.charpoly(sympy.Dummy("lambda")).all_coeffs())


def _sign_changes(signs):
    nonzero = [s for s in signs if s != 0]
    return sum(1 for a, b in zip(nonzero, nonzero[1:]) if a != b)


# -- eigen-decomposition ---------------------------------------------------------------

def first_component_one(vector):
    """The vector scaled so its first non-zero component is 1 (the lecture's u = (1, 1))."""
    pivot = next(v for v in vector if v != 0)
    return tuple(sympy.simplify(v / pivot) if isinstance(v, sympy.Basic) else v / pivot for v in vector)


def closed_form_2x2(matrix):
    """(λ₁, λ₂) of a symmetric 2x2 matrix [[a, b], [b, c]], λ₁ ≥ λ₂:
    (a + c)/2 ± sqrt(((a − c)/2)^2 + b^2), the radicand factored so the root comes out."""
    a, b, c = matrix[0, 0], matrix[0, 1], matrix[1, 1]
    radius = sympy.sqrt(sympy.factor(sympy.simplify(((a - c) / 2) ** 2 + b ** 2)))
    mean = (a + c) / 2
    return sympy.factor(sympy.simplify(mean + radius)), sympy.factor(sympy.simplify(mean - radius))


def eigenvector_2x2(matrix, value):
    """The eigenvector of `value`: (1, b/(λ − c)) when b ≠ 0, else the axis of the diagonal entry.

    With b ≠ 0 the eigenvalues lie strictly outside [min(a, c), max(a, c)],
    so λ − c is never 0.
    """
    b, c = matrix[0, 1], matrix[1, 1]
    if sign_of(b) in (1, -1):
        return (sympy.Integer(1), sympy.factor(sympy.radsimp(sympy.simplify(b / (value - c)))))
    return None


def eigen_decomposition(matrix, vectors=True):
    """The Eigen of an exact symmetric matrix (numbers, or expressions along a family), largest first.

    Eigenvalues are exact when they have a short closed form (always for
    2 x 2); otherwise a matrix of numbers falls back to numpy's `eigh`, its
    signs still exact (`inertia`), and a matrix of expressions gives None.
    `vectors=False`: the eigenvalues alone (every vector None), for a
    family whose eigenvectors are not shown; a symbolic eigenspace is
    the costly part.
    """
    n = matrix.rows
    numbers = not matrix.free_symbols
    counts = inertia(matrix) if numbers else None
    if numbers and counts is None:
        raise DeriveError("internal: the signs of the eigenvalues of a matrix of numbers are unknown")
    if n == 1:
        values = [matrix[0, 0]]
    elif n == 2:
        values = list(closed_form_2x2(matrix))
    else:
        values = _short_real_roots(matrix)
    if values is None or any(v.count_ops() > MAX_ROOT_OPERATIONS for v in values):
        return _numeric_eigen(np.array(matrix.evalf(30).tolist(), dtype=float), counts) if numbers else None
    if not vectors:
        return tuple(Eigen(value, None, sign_of(value), True) for value in values)
    eigen = []
    for value in _distinct(values):
        basis = _eigenvectors(matrix, value)
        if basis is None:
            return _numeric_eigen(np.array(matrix.evalf(30).tolist(), dtype=float), counts) if numbers else None
        eigen += [Eigen(value, vector, sign_of(value), True) for vector in basis[:values.count(value)]]
    return tuple(eigen) if len(eigen) == n else None


def _distinct(values):
    seen = []
    for value in values:
        if value not in seen:
            seen.append(value)
    return seen


def _short_real_roots(matrix):
    """The roots of det(H − λI), largest first, when all are real and closed-form; else None."""
    variable = sympy.Symbol("lambda")
    polynomial = sympy.factor(sympy.Poly(_charpoly(matrix), variable).as_expr())
    if matrix.free_symbols and any(sum(sympy.count_ops(c) for c in factor.all_coeffs()) > MAX_ROOT_OPERATIONS
                                   for factor in (sympy.Poly(f, variable) for f in sympy.Mul.make_args(polynomial)
                                                  if f.has(variable))
                                   if factor.degree() >= 2):
        return None  # a root of a factor of degree 2 or more holds all its coefficients: too long to show
    roots = sympy.roots(polynomial, variable)
    if sum(roots.values()) != matrix.rows:
        return None
    values = []
    for root, multiplicity in roots.items():
        root = sympy.factor(sympy.radsimp(sympy.simplify(root) if not root.free_symbols else root))
        if root.has(sympy.I) or root.is_real is False or root.count_ops() > MAX_ROOT_OPERATIONS:
            return None  # complex, or too long to show: the caller falls back (decimals, or no eigenvalues)
        values += [root] * multiplicity
    if matrix.free_symbols:
        return sorted(values, key=lambda r: -(sign_of(r) or 0))
    if any(not root.is_real for root in values):
        return None
    return sorted(values, key=lambda r: -float(r))


def _eigenvectors(matrix, value):
    """A basis of the eigenspace of `value`, each vector with first non-zero component 1.

    Along a family, a 2 x 2 eigenvector whose form changes where b = 0 is
    not stated (None): no single expression is right all along it.
    """
    if matrix.rows == 2:
        vector = eigenvector_2x2(matrix, value)
        if vector is not None:
            return [vector]
        if matrix.free_symbols and sign_of(matrix[0, 1]) != 0:
            return [None]
    with dotprodsimp(False):  # its intermediate simplification is most of the time, and changes no basis here
        basis = (matrix - value * sympy.eye(matrix.rows)).nullspace(simplify=True)
    if not basis:
        return None
    return [first_component_one(tuple(sympy.simplify(c) for c in v)) for v in basis]


def direction_along(matrix, value):
    """An eigenvector of `value` for a matrix of expressions (a Hessian along a family), with its denominators
    cleared so that it holds wherever it is not the zero vector, checked: (H − λI) u = 0; None if none is found."""
    basis = _eigenvectors(matrix, value)
    if not basis or basis[0] is None:
        return None
    scale = sympy.lcm([sympy.denom(sympy.together(c)) for c in basis[0]])
    vector = tuple(sympy.factor(sympy.simplify(c * scale)) for c in basis[0])
    residual = (matrix - value * sympy.eye(matrix.rows)) * sympy.Matrix(vector)
    return vector if all(sympy.simplify(r) == 0 for r in residual) and any(v != 0 for v in vector) else None


def _numeric_eigen(matrix, counts=None):
    """numpy's `eigh`, largest eigenvalue first; signs from `counts` (exact) or a relative tolerance."""
    values, vectors = np.linalg.eigh(matrix)
    order = np.argsort(-values, kind="stable")
    scale = max(1.0, float(np.max(np.abs(values))))
    if counts is not None:
        positive, negative, zero = counts
        signs = [1] * positive + [0] * zero + [-1] * negative
    else:
        signs = [0 if abs(v) <= NUMERIC_ZERO * scale else (1 if v > 0 else -1) for v in values[order]]
    eigen = []
    for sign, index in zip(signs, order):
        vector = vectors[:, index]
        pivot = next(v for v in vector if abs(v) > 1e-12)
        eigen.append(Eigen(float(values[index]), tuple(float(v / pivot) + 0.0 for v in vector), sign, False))
    return tuple(eigen)


def numeric_eigen(matrix):
    """The eigen-decomposition of a float matrix (a numerically found point), largest first."""
    return _numeric_eigen(np.array(matrix, dtype=float))


# -- the second-order test ----------------------------------------------------------

def second_order_test(counts, signs=None, names=None):
    """The Test for (positive, negative, zero) eigenvalue counts.

    `signs` (+1, -1, 0 per eigenvalue, in order) and `names` (λ₁, ...) word the reason when known.
    """
    positive, negative, zero = counts
    if signs is not None and None not in signs:
        names = names or [f"λ{i}" for i in range(1, len(signs) + 1)]
        shown = ", ".join(f"{name} {'> 0' if s > 0 else '< 0' if s < 0 else '= 0'}" for name, s in zip(names, signs))
    else:
        shown = f"{positive} positive, {negative} negative and {zero} zero eigenvalue(s)"
    if negative == zero == 0:
        return Test("minimum", f"{shown}: every eigenvalue positive, H is positive definite")
    if positive == zero == 0:
        return Test("maximum", f"{shown}: every eigenvalue negative, H is negative definite")
    if positive and negative:
        return Test("saddle", f"{shown}: eigenvalues of both signs, a strict saddle")
    return Test("inconclusive", f"{shown}: a zero eigenvalue and no eigenvalues of opposite signs; "
                                "the terms of L beyond the second order decide")


def partial_test(signs, names):
    """The Test along a family when the signs of some eigenvalues are not proved (None in `signs`).

    One eigenvalue proved > 0 and another proved < 0 all along it make a
    (strict) saddle whatever the others are; anything less is inconclusive,
    and says which signs are not proved rather than guess them.
    """
    if signs is None:
        return Test("inconclusive", "the signs of the eigenvalues along the family are not proved (no closed "
                                    "form of the eigenvalues, and the coefficients of det(H − λI) have no "
                                    "proved sign)")
    shown = ", ".join(f"{name} {'> 0' if s == 1 else '< 0' if s == -1 else '= 0' if s == 0 else '(sign not proved)'}"
                      for name, s in zip(names, signs))
    if 1 in signs and -1 in signs:
        return Test("saddle", f"{shown}: eigenvalues of both signs all along it, a strict saddle")
    return Test("inconclusive", f"{shown}: the signs of the eigenvalues along the family are not all proved")


# -- deciding an inconclusive test -----------------------------------------------------

def bound_argument(loss, value, text):
    """minimum/maximum when L(θ) − L(θ′) (L(θ′) = `value`) has one sign for every real θ; else None.

    The sign is read from SymPy's assumptions on L − L(θ′) as written and factored, else from a sum of
    squares (`nonnegative_by_squares`: an expanded (w1 w2 − 1)² + (w3 w4 − 1)²). `text` prints an
    expression, for the argument's words.
    """
    difference = loss - value
    real = difference.xreplace({s: sympy.Symbol(s.name, real=True) for s in difference.free_symbols
                                if s.is_real is None})
    for candidate in (difference, sympy.factor(difference), None):
        for sign, verdict, bound, relation in ((1, "minimum", "lower", "≥"), (-1, "maximum", "upper", "≤")):
            if candidate is None:  # a sum of squares that SymPy's assumptions do not see
                if not nonnegative_by_squares(sign * real):
                    continue
                shown_as, because = difference, " (a sum of squares: its Gram matrix is positive semidefinite)"
            elif candidate.is_nonnegative if sign > 0 else candidate.is_nonpositive:
                shown_as, because = candidate, ""
            else:
                continue
            words = "smallest" if sign > 0 else "largest"
            if value == 0:
                shown = f"L(θ) = {text(shown_as)} {relation} 0 for every θ{because}, and L(θ′) = 0"
            else:
                shown = (f"L(θ) − L(θ′) = {text(shown_as)} {relation} 0 for every θ{because} "
                         f"(L(θ′) = {text(value)})")
            article = "a" if bound == "lower" else "an"
            return Decision(verdict, f"{article} {bound} bound that is reached: {shown}, so L(θ′) is the {words} "
                                     f"value of L: a global {verdict}")
    return None


def line_argument(loss, parameters, point, eigen, text):
    """Decide a degenerate point from lines θ′ + t v, v among the zero-eigenvalue directions.

    The lines tried are the kernel's basis vectors and their sums and
    differences (weights -1, 0, 1). Along each such line the leading term c t^m of L(θ′ + t v) − L(θ′)
    says: m even, c > 0: L rises on both sides; c < 0: it falls on both
    sides; m odd: it changes sign at t = 0. The eigenvectors of positive and
    negative eigenvalues rise or fall quadratically. Rising and falling
    lines together make a saddle; a sign change alone makes θ′ neither a
    minimum nor a maximum; anything else is undecided.
    """
    t = sympy.Symbol("t", real=True)
    value = loss.subs(dict(zip(parameters, point)))
    kernel = [e.vector for e in eigen if e.sign == 0]
    directions = []
    for weights in itertools.product((0, 1, -1), repeat=len(kernel)):
        if next((w for w in weights if w), -1) == 1:  # one of v and -v: the first weight is 1
            directions.append(tuple(sum(w * v[k] for w, v in zip(weights, kernel)) for k in range(len(point))))
    rising = [(f"the eigenvector {_vector(e.vector, text)} of {text(e.value)} > 0", None)
              for e in eigen if e.sign > 0]
    falling = [(f"the eigenvector {_vector(e.vector, text)} of {text(e.value)} < 0", e.vector)
               for e in eigen if e.sign < 0]
    changing = []
    tried = []
    for direction in directions:
        moved = {p: c + t * v for p, c, v in zip(parameters, point, direction)}
        along = sympy.expand(sympy.series(loss.subs(moved) - value, t, 0, SERIES_ORDER + 1).removeO())
        tried.append(_vector(direction, text))
        if along == 0:
            continue
        power = min(sympy.Poly(along, t).monoms())[0]
        coefficient = sympy.simplify(along.coeff(t, power))
        sign = sign_of(coefficient)
        if sign is None:
            continue
        described = f"along {_vector(direction, text)}, L(θ′ + t v) − L(θ′) = {text(coefficient * t**power)} + …"
        if power % 2:
            changing.append(described + f" (t^{power}, an odd power: it changes sign at t = 0)")
        elif sign > 0:
            rising.append((described + " > 0", None))
        else:
            falling.append((described + " < 0", direction))
    strict = ("a strict saddle (H has a negative eigenvalue)" if any(e.sign == -1 for e in eigen) else
              "a non-strict saddle: H has no negative eigenvalue, L falls only through terms beyond the second order")
    if rising and falling:
        return Decision("saddle", f"L rises and falls near θ′: {rising[0][0]}; {falling[0][0]}; {strict}",
                        falling[0][1])
    if changing:
        return Decision("neither", f"{changing[0]}: θ′ is neither a local minimum nor a local maximum, "
                                   f"{strict}")
    lines = ", ".join(tried) if tried else "none"
    return Decision("undecided", "no bound of L was found, and no line through θ′ settles it "
                                 f"(tried the directions {lines} up to t^{SERIES_ORDER}); "
                                 "it depends on terms of L beyond the second order that a line does not show")


def _vector(vector, text):
    return "(" + ", ".join(text(v) for v in vector) + ")"
