"""The critical points of a loss: where ∇L = 0, exactly where SymPy can say, numerically where not.

`analyse(loss, parameters, ...)` returns an Analysis: the gradient and
Hessian in general, then every real critical point (isolated points, with
their Hessian, eigen-decomposition, second-order test, the argument that
settles an inconclusive test, and the escape from a saddle) and every
non-isolated family (the lecture's curve w1 w2 = 1), analysed symbolically
along it.

How the set is found, and how that is checked:

- `sympy.solve(∇L = 0)`, within a time limit. A solution that leaves some
  parameters free is a family (w1 = 1/w2 for every w2 ≠ 0); complex
  solutions are dropped (a real loss has only real critical points).
- A Newton search from a grid of starts in the region (critical_search)
  runs as well; a point it finds that SymPy's solution does not contain is
  added, marked numeric, instead of being silently lost.
- When SymPy cannot solve at all (exp or sin mixed with polynomials) or
  runs out of time, the numeric search alone gives the points, and the
  analysis says they are numeric.
- A loss periodic in some parameters (sin(w1) cos(w2)) has an infinite
  critical set; SymPy returns one period's solutions, which the notes call
  a sample, with the periods, and a numeric point that is an exact one
  shifted by whole periods is said to be one.

Each piece of SymPy work runs under `time_limit`; one that overruns ends the
analysis with a one-line Timeout naming what took too long.
"""

import functools
from dataclasses import dataclass

import numpy as np
import sympy
from sympy.calculus.util import continuous_domain
from sympy.polys.polyerrors import PolynomialError
from sympy.solvers.solvers import unrad

from ..errors import DeriveError, Timeout
from ..steps import evaluate_formula
from . import classify
from .critical_search import STARTS_PER_AXIS, newton_search
from .limits import time_limit

MAX_POINTS = 12
MAX_FAMILIES = 6
MAX_HALVINGS = 30  # of the escape step t, until L(θ′ + t u) < L(θ′)


@dataclass(frozen=True)
class Escape:
    """The check that L falls along u from a saddle: L(θ′ + t u) − L(θ′) = change < 0.

    halvings: how often the stated t was halved before the change was negative.
    """

    direction: tuple
    step: object
    change: object
    halvings: int


@dataclass(frozen=True)
class PointAnalysis:
    """One critical point and what the Hessian says there.

    coordinates: exact SymPy numbers, or Floats when `numeric` (found by the
    search). origin: "solve", "search", "given" (stated by the problem) or
    "family" (a point of a family where the family's verdict does not hold).
    """

    coordinates: tuple
    numeric: bool
    origin: str
    loss_value: object
    hessian: object
    eigen: tuple
    test: classify.Test
    decision: classify.Decision = None
    escape: Escape = None


@dataclass(frozen=True)
class FamilyAnalysis:
    """A non-isolated set of critical points, analysed symbolically along it.

    solved: ((parameter, expression in the free parameters), ...);
    free: the free parameters, as Symbols carrying what the family assumes
    (nonzero where a denominator needs it); statement: the family as
    printed, "w1 w2 = 1 (w1 = 1/w2, w2 ≠ 0)"; noun: "curve", "surface" or
    "family"; eigen: None when the eigenvalues have no closed form along it.
    """

    solved: tuple
    free: tuple
    statement: str
    noun: str
    loss_value: object
    hessian: object
    eigen: tuple
    test: classify.Test
    decision: classify.Decision = None
    escape: tuple = None  # at a strict saddle: ((i, u), ...), u an eigenvector of eigen[i] where that is < 0


@dataclass(frozen=True)
class Analysis:
    """Everything the critical_points kind prints: see the module docstring."""

    parameters: tuple
    loss: object
    gradient: tuple
    hessian: object
    points: tuple
    families: tuple
    method: str  # "symbolic", "numeric" or "given"
    notes: tuple


def derivatives(loss, parameters):
    """(gradient, Hessian) of the loss: the first partial derivatives, then those of each of them."""
    gradient = tuple(sympy.diff(loss, p) for p in parameters)
    hessian = sympy.ImmutableMatrix(len(parameters), len(parameters),
                                    lambda i, j: sympy.diff(gradient[i], parameters[j]))
    return gradient, hessian


@functools.lru_cache(maxsize=32)
def analyse(loss, parameters, points, region, escape_step, seconds, text):
    """The Analysis of a loss (cached: it does not depend on how the solution is rounded).

    points: exact points to examine (None: find all); region: (low, high)
    per parameter, where the numeric search looks; escape_step: the t of
    the escape check; seconds: the time each piece of SymPy work may take;
    text: prints an expression for the words of notes and arguments.
    """
    with time_limit(seconds, "differentiating L twice"):
        gradient, hessian = derivatives(loss, parameters)
    context = _Context(loss, parameters, gradient, hessian, escape_step, seconds, text)
    notes = []
    if points is not None:
        found, families, method = [(point, False, "given") for point in points], [], "given"
    else:
        found, families, method = _critical_set(context, region, notes)
    analysed_families = []
    for family in families:
        analysed, excluded = context.family(family)
        analysed_families.append(analysed)
        found += [(point, False, "family") for point in excluded if point not in [f[0] for f in found]]
    analysed_points = [context.point(coordinates, numeric, origin) for coordinates, numeric, origin in found]
    analysed_points.sort(key=lambda p: tuple(float(c) for c in p.coordinates))
    if context.unfinished:
        notes.append("NOT FINISHED within the time limit (" + "; ".join(context.unfinished) + "): what depends "
                     "on it is marked below (an exact point examined in decimals instead, a test not made, a "
                     "verdict undecided); everything else is complete")
    return Analysis(parameters, loss, gradient, hessian, tuple(analysed_points), tuple(analysed_families),
                    method, tuple(notes))


# -- the critical set --------------------------------------------------------------

def _critical_set(context, region, notes):
    """([(coordinates, numeric, origin)], [family solution dicts], method), notes appended."""
    parameters, text = context.parameters, context.text
    grid = " x ".join([str(STARTS_PER_AXIS[len(parameters)])] * len(parameters))
    where = " x ".join(f"[{low:g}, {high:g}]" for low, high in region)
    try:
        with time_limit(context.seconds, "solving ∇L = 0 with SymPy"):
            solutions = sympy.solve(list(context.gradient), list(parameters), dict=True)
    except (NotImplementedError, PolynomialError, Timeout) as error:
        reason = "ran out of time" if isinstance(error, Timeout) else "has no closed-form solution"
        found = _search(context, region)
        if len(found) > MAX_POINTS and isinstance(error, Timeout):  # say what is known, and print the rest
            context.unfinished.append(str(error))
            notes.append(f"SymPy ran out of time for ∇L = 0, and a numeric search (Newton's method from a {grid} grid "
                         f"of starts in {where}) found {len(found)} critical points, more than {MAX_POINTS}: they "
                         "may form curves or surfaces, which a numeric search cannot state exactly, so none is "
                         "examined; a longer `time_limit` may let SymPy solve it, or list the points to examine "
                         "under `points`")
            return [], [], "numeric"
        if len(found) > MAX_POINTS:
            raise DeriveError(f"the numeric search found {len(found)} critical points in the region (more than "
                              f"{MAX_POINTS}); they may form a curve, which a numeric search cannot state "
                              "exactly: narrow the region, or list the points to examine under `points`")
        notes.append(f"SymPy {reason} for ∇L = 0; the critical points below are NUMERIC: Newton's method "
                     f"on ∇L = 0 from a {grid} grid of starts in the region {where} (12 decimals); "
                     "critical points outside the region, or not reached from these starts, are not listed")
        if not found:
            notes.append(f"the numeric search found no critical point in the region {where}")
        return [(point, True, "search") for point in found], [], "numeric"
    points, families, complex_count = [], [], 0
    with time_limit(context.seconds, "the real solutions of ∇L = 0"):
        for solution in solutions:
            real_points, family, imaginary = _real_part(solution, parameters)
            complex_count += imaginary
            points += [p for p in real_points if p not in points]
            if family is not None and family not in families:
                families.append(family)
    with time_limit(context.seconds, "comparing the families of critical points"):
        families, within = _without_subsets(families, parameters)
    if len(points) > MAX_POINTS or len(families) > MAX_FAMILIES:
        raise DeriveError(f"too many critical points to print ({len(points)} points, {len(families)} families); "
                          "list the ones to examine under `points`")
    shown = [f"the point {_point_text(p, text)}" for p in points]
    shown += [f"the {_family_noun(f, parameters)} {_family_text(f, parameters, text)}" for f in families]
    periods = _periods(context) if shown else {}
    if periods:  # SymPy returns one period's solutions; the set itself repeats without end
        notes.append("∇L = 0 solved exactly by SymPy: " + ", ".join(shown) + "; "
                     + _periodic_text(periods, points, parameters, text))
    else:
        notes.append("critical set (∇L = 0 solved exactly by SymPy): " + (", ".join(shown) if shown else "empty"))
    for inner, outer in within:
        k, j = families.index(inner) + 1, families.index(outer) + 1
        notes.append(f"the {_family_noun(inner, parameters)} {k} satisfies the equations of the "
                     f"{_family_noun(outer, parameters)} {j} ({', '.join(_equation_text(r, text) for r in _equations(outer))}) "
                     f"where {j}'s parametrisation does not reach: SymPy states that set in pieces")
    if complex_count:
        notes.append(f"SymPy also returned {complex_count} complex solution(s); a real loss has only real "
                     "critical points, so only their real points (if any) are kept")
    found = [(p, False, "solve") for p in points]
    missed = [p for p in _search(context, region) if not _covered(p, points, families, parameters, region)]
    if len(missed) > MAX_POINTS:
        raise DeriveError(f"the numeric search found {len(missed)} critical points SymPy's solution does not "
                          "contain; list the points to examine under `points`")
    for point in missed:
        found.append((point, True, "search"))
    if missed and periods:
        shifted = sum(1 for m in missed if _shifted(m, points, periods, parameters, region))
        which = ("each" if shifted == len(missed) else f"{shifted} of them") + " an exact point shifted by whole periods"
        notes.append(f"the numeric search in {where} found {len(missed)} more critical point(s) ({which}); "
                     "they are listed as NUMERIC points")
    elif missed:
        notes.append(f"the numeric search in {where} found {len(missed)} critical point(s) SymPy's solution "
                     "does not contain; they are listed as NUMERIC points")
    else:
        notes.append(f"a numeric search (Newton's method from a {grid} grid in {where}) found no critical "
                     "point outside this set")
    return found, families, "symbolic"


def _without_subsets(families, parameters):
    """(families, [(family, other)]): SymPy's families less those contained in another (the curve v1 = w1 = 0,
    v2 w2 = 1 inside the surface w1 = 0, v2 w2 = 1), and the pairs where one satisfies the other's equations
    outside the other's parametrisation (w1 = 0 for v1 = (1 - v2 w2)/w1)."""
    kept = [f for f in families if not any(g is not f and _contains(g, f, parameters) for g in families)]
    within = [(f, g) for f in kept for g in kept if g is not f and _satisfies(f, _equations(g), parameters)]
    return kept, within


def _along(family, parameters):
    """The family's value of every parameter, its free parameters carrying what the family assumes."""
    assumed = {p: sympy.Symbol(p.name, real=True, nonzero=True) if p in _nonzero(family, parameters)
               else sympy.Symbol(p.name, real=True) for p in _free(family, parameters)}
    return {p: family[p].xreplace(assumed) if p in family else assumed[p] for p in parameters}


def _satisfies(family, relations, parameters):
    """Does every point of `family` satisfy the `relations` (expressions equal to 0)?"""
    values = _along(family, parameters)
    return all(sympy.simplify(r.xreplace(values)) == 0 for r in relations)


def _contains(outer, inner, parameters):
    """Is every point of `inner` a point of `outer`: outer's parametrisation defined there, and giving it?"""
    values = _along(inner, parameters)
    for p, expr in outer.items():
        denominator = sympy.denom(sympy.together(expr)).xreplace(values)
        if not (sympy.simplify(denominator).is_nonzero and sympy.simplify(expr.xreplace(values) - values[p]) == 0):
            return False
    return True


def _periods(context):
    """{parameter: its period} for the parameters L is periodic in (sin(w1) cos(w2): 2·pi in each)."""
    loss, periods = context.loss, {}
    if not loss.has(sympy.sin, sympy.cos, sympy.tan):
        return periods
    for p in context.parameters:
        try:
            with time_limit(min(context.seconds, 2), "the period of L"):
                period = sympy.periodicity(loss, p)
        except (NotImplementedError, TypeError, ValueError, Timeout):
            period = None
        if period is not None and period.is_positive:
            periods[p] = period
    return periods


def _periodic_text(periods, points, parameters, text):
    """What the exact points are of a periodic loss: a sample of an infinite set, and where they lie."""
    each = " and ".join(f"{text(period)} in {p.name}" for p, period in periods.items())
    words = (f"these are a sample: L is periodic (period {each}), so the critical set is infinite, every critical "
             "point shifted by whole periods being one too")
    within = points and len(periods) == len(parameters) and all(
        0 <= c < periods[p] for point in points for p, c in zip(parameters, point))
    if within:
        box = " x ".join(f"[0, {text(periods[p])})" for p in parameters)
        words += f"; SymPy's points lie in {box}"
    return words


def _shifted(point, points, periods, parameters, region):
    """Is a numerically found point an exact point shifted by whole periods?"""
    tolerance = 1e-6 * max(high - low for low, high in region)
    for exact in points:
        for p, c, e in zip(parameters, point, exact):
            difference = float(c) - float(e)
            if p in periods:
                turns = difference / float(periods[p])
                difference = (turns - round(turns)) * float(periods[p])
            if abs(difference) > tolerance:
                break
        else:
            return True
    return False


def _search(context, region):
    points = newton_search(context.gradient, context.hessian, context.parameters, region)
    return [tuple(_number(c) for c in p.coordinates) for p in points]


def _real_part(solution, parameters):
    """(real points, real family or None, whether the solution is complex) for one of SymPy's solutions.

    A complex family (y = i x, from (x^2 + y^2)^2) still has real points
    where its imaginary parts vanish (x = 0: the origin); those are kept.
    """
    values = [solution.get(p, p) for p in parameters]
    free = sorted(set().union(*(v.free_symbols for v in values)), key=str)
    imaginary = [v for v in values if v.has(sympy.I) or v.is_real is False]
    if not free:
        return ([], None, True) if imaginary else ([tuple(_evaluable(v) for v in values)], None, False)
    if imaginary:
        where = sympy.solve([sympy.im(v) for v in imaginary], free, dict=True)
        real = [tuple(sympy.simplify(v.subs(w)) for v in values) for w in where]
        return [tuple(_evaluable(c) for c in p) for p in real
                if all(not c.free_symbols and not c.has(sympy.I) for c in p)], None, True
    family = {p: v for p, v in solution.items() if v != p}
    if _domain(family, parameters) is sympy.S.EmptySet:
        return [], None, True
    return [], family, False


def _evaluable(value):
    """An exact coordinate derive can evaluate (exp, log, sqrt, ...), else its 15-digit decimal."""
    try:
        evaluate_formula(value, {})
        return value
    except DeriveError:
        return sympy.Float(sympy.N(value, 15), 15)


def _covered(point, points, families, parameters, region):
    """Is a numerically found point one of the exact points, or on one of the families?"""
    tolerance = 1e-6 * max(high - low for low, high in region)
    env = {p.name: float(c) for p, c in zip(parameters, point)}
    for exact in points:
        if max(abs(env[p.name] - float(c)) for p, c in zip(parameters, exact)) <= tolerance:
            return True
    for family in families:
        try:
            if all(abs(evaluate_formula(expr, env) - env[p.name]) <= tolerance for p, expr in family.items()):
                return True
        except DeriveError:  # outside the family's domain (the square root of a negative number)
            continue
    return False


# -- families: how they are stated ---------------------------------------------------

def _free(family, parameters):
    """The parameters a family leaves free, in parameter order."""
    solved = set(family)
    return [p for p in parameters if p not in solved]


def _family_noun(family, parameters):
    return {1: "curve", 2: "surface"}.get(len(_free(family, parameters)), "family")


def _domain(family, parameters):
    """The real values of the single free parameter where the family is defined (a SymPy set), or None."""
    free = _free(family, parameters)
    if len(free) != 1:
        return None
    domain = sympy.S.Reals
    for expr in family.values():
        domain = domain.intersect(continuous_domain(expr, free[0], sympy.S.Reals))
    return domain


def _domain_text(family, parameters, text):
    """The family's condition on its free parameters, in words: "w2 ≠ 0", "-1 ≤ x ≤ 1", or ""."""
    free = _free(family, parameters)
    domain = _domain(family, parameters)
    if domain is None:
        denominators = {sympy.denom(sympy.together(e)).as_coeff_Mul()[1] for e in family.values()} - {1}
        return ", ".join(f"{text(d)} ≠ 0" for d in sorted(denominators, key=sympy.default_sort_key))
    name = text(free[0])
    if domain == sympy.S.Reals:
        return ""
    if isinstance(domain, sympy.Union) and all(isinstance(a, sympy.Interval) for a in domain.args):
        gaps = [a.end for a, b in zip(domain.args, domain.args[1:]) if a.end == b.start]
        if len(gaps) == len(domain.args) - 1 and domain.inf == -sympy.oo and domain.sup == sympy.oo:
            return ", ".join(f"{name} ≠ {text(g)}" for g in gaps)
    if isinstance(domain, sympy.Interval):
        low = "" if domain.start == -sympy.oo else f"{text(domain.start)} {'<' if domain.left_open else '≤'} "
        high = "" if domain.end == sympy.oo else f" {'<' if domain.right_open else '≤'} {text(domain.end)}"
        return f"{low}{name}{high}"
    return f"{name} in {domain}"


def _equations(family):
    """Expressions without fractions or radicals whose common zeros contain the family (w1 w2 - 1)."""
    result = []
    for parameter, expr in family.items():
        relation = sympy.numer(sympy.together(parameter - expr))
        if relation.has(sympy.Pow) and any(a.exp.is_Rational and not a.exp.is_Integer
                                           for a in relation.atoms(sympy.Pow)):
            freed = unrad(relation)
            relation = freed[0] if freed and not freed[1] else relation
        relation = sympy.expand(relation)
        if relation.could_extract_minus_sign():
            relation = -relation
        result.append(relation)
    return tuple(result)


def _equation_text(relation, text):
    """`w1 w2 - 1` as "w1 w2 = 1": the constant term moved to the right."""
    constant, rest = relation.as_independent(*relation.free_symbols, as_Add=True)
    return f"{text(rest)} = {text(-constant)}"


def _family_text(family, parameters, text, condition=None):
    """The family as the lecture states it, with its parametrisation: "w1 w2 = 1 (w1 = 1/w2, w2 ≠ 0)"."""
    implicit = ", ".join(_equation_text(r, text) for r in _equations(family))
    explicit = ", ".join(f"{text(p)} = {text(e)}" for p, e in family.items())
    if condition is None:
        condition = _domain_text(family, parameters, text)
    condition = condition or ", ".join(text(f) for f in _free(family, parameters)) + " any"
    return f"{implicit} ({explicit}, {condition})" if explicit != implicit else f"{implicit} ({condition})"


def _point_text(point, text):
    return "(" + ", ".join(text(c) for c in point) + ")"


# -- the analysis of one point or family ----------------------------------------------

class _Context:
    """The loss and its derivatives, shared by the analysis of every point and family."""

    def __init__(self, loss, parameters, gradient, hessian, escape_step, seconds, text):
        self.loss, self.parameters = loss, parameters
        self.gradient, self.hessian = gradient, hessian
        self.escape_step, self.seconds, self.text = escape_step, seconds, text
        self.unfinished = []  # what took longer than the time limit, in words

    def attempt(self, what, work, fallback=None):
        """work() within the time limit; over it, `fallback`, and what was not finished is noted."""
        try:
            with time_limit(self.seconds, what):
                return work()
        except Timeout as error:
            self.unfinished.append(str(error))
            return fallback

    def point(self, coordinates, numeric, origin):
        """The PointAnalysis of one critical point.

        An exact point whose Hessian and eigenvalues take longer than the time
        limit is examined in decimals instead (noted), as a numerically found
        point is; a decision or escape check over the limit is left out (noted).
        """
        at = dict(zip(self.parameters, coordinates))
        shown = _point_text(coordinates, self.text)
        exact = None
        if not numeric:
            def work():
                hessian = self.hessian.subs(at).applyfunc(sympy.simplify)
                return hessian, classify.eigen_decomposition(sympy.Matrix(hessian)), sympy.simplify(self.loss.subs(at))
            exact = self.attempt(f"the Hessian and its eigenvalues at {shown}", work)
        if exact is None:
            numeric = True
            env = {p.name: float(c) for p, c in at.items()}
            hessian = np.array([[evaluate_formula(h, env) for h in row] for row in self.hessian.tolist()])
            eigen = classify.numeric_eigen(hessian)
            loss_value = _number(evaluate_formula(self.loss, env))
            hessian = sympy.ImmutableMatrix([[_number(h) for h in row] for row in hessian.tolist()])
        else:
            hessian, eigen, loss_value = exact
        signs = [e.sign for e in eigen]
        counts = (signs.count(1), signs.count(-1), signs.count(0))
        test = classify.second_order_test(counts, signs, [f"λ{_sub(i)}" for i in range(1, len(signs) + 1)])
        decision = None
        if test.verdict == "inconclusive":
            decision = self.decide_point(coordinates, numeric, loss_value, eigen, shown)
        escape = None
        if test.verdict == "saddle":
            escape = self.escape(coordinates, eigen[-1].vector, loss_value, numeric)
        elif decision is not None and decision.verdict == "saddle" and decision.direction is not None:
            escape = self.escape(coordinates, decision.direction, loss_value, numeric)
        return PointAnalysis(tuple(coordinates), numeric, origin, loss_value, hessian, eigen, test, decision,
                             escape)

    def decide_point(self, coordinates, numeric, loss_value, eigen, shown):
        if numeric:
            return classify.Decision("undecided", "a numerically found point: the terms of L beyond the second "
                                                  "order cannot be examined exactly there")
        what = f"deciding the inconclusive test at {shown}"
        return self.attempt(what, lambda: classify.bound_argument(self.loss, loss_value, self.text)
                            or classify.line_argument(self.loss, self.parameters, coordinates, eigen, self.text),
                            _out_of_time(what, self.seconds))

    def escape(self, coordinates, direction, loss_value, numeric):
        """L(θ′ + t u) − L(θ′) for the stated t, halved until it is negative."""
        step = self.escape_step
        for halvings in range(MAX_HALVINGS + 1):
            moved = [c + step * u for c, u in zip(coordinates, direction)]
            if numeric:
                env = {p.name: float(m) for p, m in zip(self.parameters, moved)}
                change = sympy.Float(evaluate_formula(self.loss, env) - float(loss_value), 15)
            else:
                change = self.attempt("the escape check", lambda: sympy.simplify(
                    self.loss.subs(dict(zip(self.parameters, moved))) - loss_value))
                if change is None:
                    return None
            if change.is_negative:
                return Escape(tuple(direction), step, change, halvings)
            step = step / 2
        raise DeriveError(f"internal: L does not fall along {direction} from a saddle")

    def escape_along(self, test, hessian, eigen, names, statement):
        """(Test, ((i, u), ...) or None): the saddle Test along a family with its escape directions, each u an
        eigenvector of eigen[i] < 0 where one expression gives it (holding wherever u ≠ 0), the words added to
        the reason. An eigenvalue proved negative all along gives one; else a pair ±λ (±2 w3 on the line
        w1 = w2 = 0 of L = (1 − w1 w2 w3)²) gives two, each where its eigenvalue is the negative one."""
        negative = [i for i, e in enumerate(eigen) if e.sign == -1]
        pairs = [] if negative else [(i, j) for i, a in enumerate(eigen) for j, b in enumerate(eigen)
                                     if i < j and a.sign is None and b.sign is None
                                     and sympy.expand(a.value + b.value) == 0]
        chosen = [negative[-1]] if negative else list(pairs[0]) if pairs else []
        directions = []
        for i in chosen:
            vector = self.attempt(f"the escape direction along {statement}",
                                  lambda: classify.direction_along(sympy.Matrix(hessian), eigen[i].value))
            if vector is None:
                return test, None
            directions.append((i, vector))
        if not directions:
            return test, None
        shown = lambda vector: "(" + ", ".join(self.text(c) for c in vector) + ")"
        if negative:
            (i, vector), = directions
            words = (f"escape direction along it: u = {shown(vector)}, the eigenvector of {names[i]} = "
                     f"{self.text(eigen[i].value)} < 0, wherever u ≠ 0 (L falls along u: uᵀHu = {names[i]} ‖u‖² < 0)")
        else:
            words = "escape direction along it: " + "; ".join(
                f"where {self.text(eigen[i].value)} < 0, u = {shown(vector)}, the eigenvector of {names[i]}"
                for i, vector in directions) + " (wherever u ≠ 0; L falls along u: uᵀHu = λ ‖u‖² < 0)"
        return _with_escape(test, words), tuple(directions)

    def family(self, family):
        """(FamilyAnalysis, points excluded from its verdict) for one family of critical points.

        Along the family the free parameters are real, and nonzero where a
        denominator needs it. When the signs of the eigenvalues depend on the
        point (±2 w3 on the line w1 = w2 = 0 of L = (1 - w1 w2 w3)^2), the test
        is tried again with the free parameter nonzero; if that settles it, the
        one point where it is 0 is excluded and examined as a point of its own.
        """
        parameters, text = self.parameters, self.text
        free = _free(family, parameters)
        statement = _family_text(family, parameters, text)
        assumed = {p: sympy.Symbol(p.name, real=True, nonzero=True) if p in _nonzero(family, parameters) else p
                   for p in free}
        along = {**{p: e.xreplace(assumed) for p, e in family.items()}, **assumed}
        hessian = self.hessian.xreplace(along)
        simplified = self.attempt(f"the Hessian along {statement}", lambda: hessian.applyfunc(_simplified))
        counts = None
        if simplified is not None:
            hessian = simplified
            counts = self.attempt(f"the signs of the eigenvalues along {statement}",
                                  lambda: classify.inertia(sympy.Matrix(hessian)))
        excluded, condition = [], _domain_text(family, parameters, text)
        if simplified is not None and counts is None and len(free) == 1 and assumed[free[0]] == free[0]:
            sharper = {free[0]: sympy.Symbol(free[0].name, real=True, nonzero=True)}
            counts = self.attempt(f"the eigenvalues along {statement}", lambda: classify.inertia(
                sympy.Matrix(hessian.xreplace(sharper))))
            if counts is not None:
                assumed, hessian = sharper, hessian.xreplace(sharper)
                excluded = [tuple(sympy.simplify(family.get(p, p).subs(free[0], 0)) for p in parameters)]
                condition = ", ".join(filter(None, [condition, f"{text(free[0])} ≠ 0"]))
        solved = {p: e.xreplace(assumed) for p, e in family.items()}
        on_family = self.loss.xreplace({**solved, **assumed})
        loss_value = self.attempt(f"L along {statement}", lambda: sympy.simplify(on_family), on_family)
        eigen = None
        if simplified is not None:
            # eigenvectors along a family are shown for two parameters only (derive.kinds.critical_points)
            eigen = self.attempt(f"the eigenvalues along {statement}", lambda: classify.eigen_decomposition(
                sympy.Matrix(hessian), vectors=len(parameters) <= 2))
        if eigen is not None:
            eigen = tuple(classify.Eigen(_shortest(e.value), e.vector, e.sign, e.exact) for e in eigen)
        names = [f"λ{_sub(i)}" for i in range(1, len(parameters) + 1)]
        if counts is not None:
            test = classify.second_order_test(counts, None if eigen is None else [e.sign for e in eigen], names)
        elif simplified is None:
            test = classify.Test("inconclusive", "not made: the Hessian along the family was not found within "
                                                 "the time limit")
        else:
            test = classify.partial_test(None if eigen is None else [e.sign for e in eigen], names)
        escape = None
        if test.verdict == "saddle" and eigen is not None:
            test, escape = self.escape_along(test, hessian, eigen, names, statement)
        decision = None
        if test.verdict == "inconclusive":
            what = f"deciding the inconclusive test along {statement}"
            if not loss_value.free_symbols:
                decision = self.attempt(what, lambda: classify.bound_argument(self.loss, loss_value, text),
                                        _out_of_time(what, self.seconds))
            if decision is None:
                decision = classify.Decision("undecided", "no bound of L was found that settles it along the "
                                                          "family, and along the family itself L does not change")
            elif decision.verdict == "minimum" and counts is None:
                decision = classify.Decision("minimum", decision.argument + "; so H is positive semidefinite "
                                             "all along it: every eigenvalue ≥ 0")
        analysis = FamilyAnalysis(tuple(solved.items()), tuple(assumed[p] for p in free),
                                  _family_text(family, parameters, text, condition), _family_noun(family, parameters),
                                  loss_value, hessian, eigen, test, decision, escape)
        return analysis, excluded


def _with_escape(test, words):
    return classify.Test(test.verdict, test.reason + "; " + words)


def _simplified(expr):
    """A Hessian entry along a family in its simplest form: a polynomial or a number as it is, anything
    else (a fraction from the family's parametrisation) by SymPy's `simplify`."""
    expanded = sympy.expand(expr)
    return expanded if expanded.is_polynomial() else sympy.simplify(expr)


def _out_of_time(what, seconds):
    """The Decision when deciding took longer than the time limit."""
    return classify.Decision("undecided", f"not decided: {what} took longer than {seconds:g} s")


def _nonzero(family, parameters):
    """The free parameters the family needs nonzero: excluded from its domain, or in a denominator."""
    domain = _domain(family, parameters)
    if domain is not None:
        return set(_free(family, parameters)) if not domain.contains(0) else set()
    return set().union(*(sympy.denom(sympy.together(e)).free_symbols for e in family.values()))


def _number(value):
    """A float as a SymPy number: a whole number exactly (2, not 2.0), anything else to 15 digits."""
    return sympy.Integer(int(value)) if float(value).is_integer() else sympy.Float(value, 15)


def _shortest(expr):
    """The expanded form when it is no longer (2 w2^2 + 2/w2^2 rather than 2 (w2^4 + 1)/w2^2)."""
    expanded = sympy.expand(expr)
    return expanded if sympy.count_ops(expanded) <= sympy.count_ops(expr) + 1 else expr


_SUBSCRIPTS = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


def _sub(index):
    return str(index).translate(_SUBSCRIPTS)
