"""`kind: pool_derivation`: how the error passes back through max and average pooling.

Chapter 3.2 homework (5) (the lecture notes). The solution unrolls the
pooling for the sizes of the file and lets SymPy differentiate every
window's output by every position of its window: max pooling gives a unit
step, 1 where the position holds the window's maximum, average pooling
1/K². The error of a pooled value therefore goes to the maximum of its
window, or 1/K² of it to every position; a position in several windows
(stride < window) adds what each sends it.

Ties: SymPy's unit step is 1/2 at 0, which would split the error of a tied
window in halves. The rule used instead, as numpy's argmax and the
deep-learning libraries do: the first maximum in row-major order takes the
whole error. Written with unit steps, a_pq takes it when it is above every
earlier position of the window and at least every later one:
H(a_pq - max(earlier)) with H(0) = 0, times H(a_pq - max(later)) with H(0) = 1.
"""

from dataclasses import dataclass
from functools import lru_cache

import sympy
from sympy import Heaviside, Max, Mul, Rational

from ..errors import DeriveError
from ..fields import Declarations, Declared, Integer, Structured
from ..steps import SolutionBuilder, Sym
from ..symbolic.limits import time_limit
from .conv_derivation import SIZE, entry, indexed_sym, matrix_schema, minus, partial_sym, read_size, \
    unevaluated_sum

POOLINGS = ("max", "average")
MAX_SIZE = 9  # one digit per index, as in conv_derivation
MAX_WINDOW = 3
SYMPY_SECONDS = 10.0


def _fits(window, field, values):
    """A window no larger than the map of `input_size`."""
    rows, cols = values["input_size"]
    if window > min(rows, cols):
        raise field.error(f"a {window}x{window} window does not fit a {rows}x{cols} input")


AT = Declarations(
    Declared("input", Structured(matrix_schema(MAX_SIZE)), "the map a, a matrix of the `input_size`"),
    Declared("delta", Structured(matrix_schema(MAX_SIZE)), "δ of the pooled map, one number per window"),
)

# where an error found while solving is reported when nothing nearer its cause is known (Problem.solve)
ERRORS_AT = ("at", "input_size")

DECLARED = Declarations(
    Declared("input_size", SIZE, f"the map: `3` (square) or `[rows, cols]`, each 1 to {MAX_SIZE}"),
    Declared("window", Integer(1, MAX_WINDOW), f"K of the K×K windows, 1 to {MAX_WINDOW}, no larger than the map",
             check=_fits),
    Declared("stride", Integer(1, MAX_SIZE), f"1 to {MAX_SIZE}", default=None, shown_default="the window"),
    Declared("pooling", Structured({"anyOf": [{"enum": list(POOLINGS)}, {
                 "type": "array", "items": {"enum": list(POOLINGS)}, "minItems": 1, "maxItems": len(POOLINGS),
                 "uniqueItems": True}]}),
             "`max`, `average`, or a list of them without repeats", default=POOLINGS),
    Declared("at", Structured(AT.object_schema()), "`{input, delta}` matrices (below): pooling and routing in "
             "numbers", default=None, shown_default="none"),
)


@dataclass(frozen=True)
class PoolGeometry:
    """An input of rows x cols, K x K windows at a stride (1-based positions)."""

    rows: int
    cols: int
    window: int
    stride: int

    @property
    def out_rows(self):
        return (self.rows - self.window) // self.stride + 1

    @property
    def out_cols(self):
        return (self.cols - self.window) // self.stride + 1

    def outputs(self):
        return [(r, s) for r in range(1, self.out_rows + 1) for s in range(1, self.out_cols + 1)]

    def inputs(self):
        return [(p, q) for p in range(1, self.rows + 1) for q in range(1, self.cols + 1)]

    def members(self, r, s):
        """The positions of window (r, s), in row-major order."""
        top, left = self.stride * (r - 1), self.stride * (s - 1)
        return [(top + u, left + v) for u in range(1, self.window + 1) for v in range(1, self.window + 1)]

    def describe(self):
        overlap = "overlapping" if self.stride < self.window else "not overlapping"
        return (f"{self.rows}x{self.cols} input, {self.window}x{self.window} windows, stride {self.stride} "
                f"({overlap}): {self.out_rows}x{self.out_cols} output")


@dataclass(frozen=True)
class PoolDerivationSpec:
    """A validated pool_derivation problem: the geometry, the poolings to derive (in order), and
    point: None, or (the map a, δ of the pooled map) as matrices, where the routing is shown in numbers.
    """

    geometry: PoolGeometry
    poolings: tuple
    point: object = None


def read(root):
    """Validate the pool_derivation fields into a PoolDerivationSpec."""
    rows, cols = read_size(DECLARED.field(root, "input_size"))
    window = DECLARED.read(root, "window", {"input_size": (rows, cols)})
    stride = DECLARED.read_field(root.get("stride", window), "stride")
    pooling_field = root.get("pooling", list(POOLINGS))
    if isinstance(pooling_field.value, list):
        poolings = tuple(item.choice(POOLINGS) for item in pooling_field.items())
        if not poolings or len(set(poolings)) != len(poolings):
            raise pooling_field.error("expected max, average, or a list of them without repeats")
    else:
        poolings = (pooling_field.choice(POOLINGS),)
    geometry = PoolGeometry(rows, cols, window, stride)
    point = None
    if root.has("at"):
        at = root.get("at").mapping(allowed=AT.names)
        point = (at.get("input").matrix(rows, cols, " (the map a)"),
                 at.get("delta").matrix(geometry.out_rows, geometry.out_cols, " (δ, one number per window)"))
    return PoolDerivationSpec(geometry, poolings, point)


def solve(problem, rounding):
    """The Solution of a pool_derivation problem (symbolic: rounding does not apply)."""
    with time_limit(SYMPY_SECONDS, "the pooling derivation"):
        return _PoolDerivation(problem, rounding).solve()


@lru_cache(maxsize=None)
def sympy_max_slope(count, position):
    """SymPy's ∂/∂x_k max(x_1, ..., x_n): H(x_k - max(the others)), 1/2 at a tie.

    Every window of n entries is the same function of them, so the
    derivative is taken once per size and position, on plain symbols.
    """
    xs = sympy.symbols(f"x1:{count + 1}")
    derivative = sympy.diff(Max(*xs), xs[position])
    if derivative != Heaviside(xs[position] - Max(*(x for x in xs if x is not xs[position]))):
        raise DeriveError(f"internal: SymPy's derivative of a maximum is {derivative}")
    return derivative


@lru_cache(maxsize=None)
def sympy_average_slope(count, position):
    """SymPy's ∂/∂x_k of (x_1 + ... + x_n)/n: 1/n."""
    xs = sympy.symbols(f"x1:{count + 1}")
    return sympy.diff(sympy.Add(*xs) / count, xs[position])


def first_maximum_slope(value, earlier, later):
    """∂ max / ∂ value with the tie rule: above every earlier entry, at least every later one."""
    factors = []
    if earlier:
        factors.append(Heaviside(minus(value, _maximum(earlier)), 0, evaluate=False))
    if later:
        factors.append(Heaviside(minus(value, _maximum(later)), 1, evaluate=False))
    if not factors:
        return sympy.Integer(1)
    return factors[0] if len(factors) == 1 else Mul(*factors, evaluate=False)


class _PoolDerivation:
    """Unrolls each pooling, differentiates every window with SymPy, routes the error back."""

    def __init__(self, problem, rounding):
        self.problem = problem
        self.g = problem.spec.geometry
        self.out = SolutionBuilder(rounding)
        self.a = {(p, q): entry("a", "a", "a", None, p, q) for p, q in self.g.inputs()}
        self.delta = {(r, s): entry("delta", "δ", r"\delta", None, r, s) for r, s in self.g.outputs()}

    def solve(self):
        spec = self.problem.spec
        several = len(spec.poolings) > 1
        for kind in spec.poolings:
            self.pooling(kind, f"{kind}." if several else "")
        if spec.point is not None:
            self.point_givens()
            for kind in spec.poolings:
                self.at_point(kind, f"{kind}." if several else "")
        problem = self.problem
        return self.out.build(problem.name, problem.kind, problem.title, notes=self.notes())

    def window_formula(self, kind, r, s, entries):
        """The pooled value of window (r, s) written in row-major order (entries: position -> symbol)."""
        members = [entries[m] for m in self.g.members(r, s)]
        if kind == "max":
            return Max(*members, evaluate=False)
        return Mul(Rational(1, len(members)), unevaluated_sum(members), evaluate=False)

    def slope(self, kind, r, s, p, q, entries):
        """∂p_rs/∂a_pq: SymPy's derivative for a window of this size, with the tie rule for max pooling."""
        members = self.g.members(r, s)
        position = members.index((p, q))
        if kind == "average":
            return sympy_average_slope(len(members), position)
        if len(members) > 1:
            sympy_max_slope(len(members), position)
        return first_maximum_slope(entries[p, q], [entries[m] for m in members[:position]],
                                   [entries[m] for m in members[position + 1:]])

    def windows_of(self, p, q):
        return [(r, s) for r, s in self.g.outputs() if (p, q) in self.g.members(r, s)]

    def routed_sum(self, kind, p, q, entries, deltas):
        """Σ δ_rs ∂p_rs/∂a_pq over the windows holding a_pq, on the given symbols."""
        return unevaluated_sum([self.routed(deltas[r, s], self.slope(kind, r, s, p, q, entries))
                                for r, s in self.windows_of(p, q)])

    def pooling(self, kind, prefix):
        g, out = self.g, self.out
        name = "Max" if kind == "max" else "Average"
        section = f"{name} pooling: each window differentiated by SymPy"
        for r, s in g.outputs():
            pooled = indexed_sym("p", "p", None, r, s)
            members = g.members(r, s)
            for index, (p, q) in enumerate(members):
                formula = sympy.Derivative(self.window_formula(kind, r, s, self.a), self.a[p, q])
                out.symbolic(f"{prefix}dpool[{r}][{s}][{p}][{q}]", partial_sym(pooled, self.a[p, q].display),
                             formula, self.slope(kind, r, s, p, q, self.a), section,
                             _tie_note(kind, index, len(members)))
        section = f"{name} pooling: the error routed back"
        for p, q in g.inputs():
            windows = self.windows_of(p, q)
            formula = unevaluated_sum([Mul(self.delta[r, s], sympy.Symbol(f"{prefix}dpool[{r}][{s}][{p}][{q}]"),
                                           evaluate=False) for r, s in windows])
            if not windows:
                note = "in no window: no error"
            elif len(windows) > 1:
                note = f"in {len(windows)} windows: their shares add"
            else:
                note = ""
            out.symbolic(f"{prefix}grad_a[{p}][{q}]", _gradient(self.a[p, q].display), formula,
                         self.routed_sum(kind, p, q, self.a, self.delta), section, note)

    # the routing in numbers ----------------------------------------------------------
    def point_givens(self):
        inputs, deltas = self.problem.spec.point
        section = "At the point: given"
        for (p, q), a in self.a.items():
            self.out.given(f"at.a[{p}][{q}]", a.display, inputs[p - 1][q - 1], section, group=f"at.a[{p}]")
        for (r, s), delta in self.delta.items():
            self.out.given(f"at.delta[{r}][{s}]", delta.display, deltas[r - 1][s - 1], section,
                           group=f"at.delta[{r}]")

    def at_point(self, kind, prefix):
        """The pooling and the derived routing evaluated on the file's numbers."""
        g, out = self.g, self.out
        entries = {key: sympy.Symbol(f"at.a[{key[0]}][{key[1]}]") for key in self.a}
        deltas = {key: sympy.Symbol(f"at.delta[{key[0]}][{key[1]}]") for key in self.delta}
        section = f"At the point: {kind} pooling in numbers"
        for r, s in g.outputs():
            note = ""
            if kind == "max":
                members = g.members(r, s)
                values = [out.value(entries[m].name) for m in members]
                first = values.index(max(values))  # the first maximum in row-major order
                note = f"max at {self.a[members[first]].display.text}" + (
                    ", a tie: the first in row-major order takes the error" if values.count(values[first]) > 1 else "")
            out.step(f"at.{prefix}pool[{r}][{s}]", indexed_sym("p", "p", None, r, s),
                     self.window_formula(kind, r, s, entries), section, note)
        for p, q in g.inputs():
            out.step(f"at.{prefix}grad_a[{p}][{q}]", _gradient(self.a[p, q].display),
                     self.routed_sum(kind, p, q, entries, deltas), section)

    @staticmethod
    def routed(delta, slope):
        """δ times the window's slope, written slope-first for a fraction (1/4 δ), δ-first otherwise."""
        if slope == 1:
            return delta
        if slope.is_Rational:
            return Mul(slope, delta, evaluate=False)
        return Mul(delta, slope, evaluate=False)

    def notes(self):
        g = self.g
        K, S = g.window, g.stride
        notes = [
            Sym(f"pooling: {g.describe()}; window (r, s) covers rows {_linear(S, 'r', 1 - S)}..{_linear(S, 'r', K - S)}"
                f" and columns {_linear(S, 's', 1 - S)}..{_linear(S, 's', K - S)}",
                rf"\text{{pooling: {g.describe()}}}"),
            Sym("a: the map pooled; p: the pooled map; δ_rs = ∂L/∂p_rs, the error arriving from the layer above; "
                "chain rule: ∂L/∂a_pq = Σ_rs δ_rs ∂p_rs/∂a_pq over the windows that hold a_pq",
                r"a \text{: the map pooled; } p \text{: the pooled map; } \delta_{rs} = \partial L / \partial p_{rs};"
                r"\ \frac{\partial L}{\partial a_{pq}} = \sum_{rs} \delta_{rs}"
                r" \frac{\partial p_{rs}}{\partial a_{pq}}"),
        ]
        if "max" in self.problem.spec.poolings:
            notes.append(Sym("max pooling: δ_rs goes whole to the position of the window's maximum, 0 to the others; "
                             "tie rule: the first maximum in row-major order wins (as numpy's argmax); "
                             "H is the unit step, with H(0) = 0 against earlier positions, H(0) = 1 against later ones",
                             r"\text{max pooling: } \delta_{rs} \text{ goes to the window's maximum (ties: the first "
                             r"in row-major order); } H \text{ is the unit step}"))
        if "average" in self.problem.spec.poolings:
            notes.append(Sym(f"average pooling: every position of a window gets δ_rs/K² = δ_rs/{K * K}",
                             rf"\text{{average pooling: every position gets }} \delta_{{rs}}/K^2 = "
                             rf"\delta_{{rs}}/{K * K}"))
        if S < K:
            notes.append(Sym("the windows overlap (stride < window): a position in several windows gets the sum "
                             "of what each routes to it",
                             r"\text{the windows overlap: a position in several windows gets the sum of their shares}"))
        elif S > K or (g.rows - K) % S or (g.cols - K) % S:
            notes.append(Sym("some positions are in no window: their error is 0",
                             r"\text{some positions are in no window: their error is 0}"))
        return notes


def _maximum(entries):
    """max(entries) as written (one entry stands alone)."""
    return entries[0] if len(entries) == 1 else Max(*entries, evaluate=False)


def _linear(coefficient, variable, constant):
    """`2r - 1`, `r + 1`, `r`: coefficient·variable + constant, written short."""
    text = f"{'' if coefficient == 1 else coefficient}{variable}"
    return text + (f"+{constant}" if constant > 0 else (f"-{-constant}" if constant < 0 else ""))


def _gradient(shown):
    return Sym(f"∂L/∂{shown.text}", rf"\frac{{\partial L}}{{\partial {shown.latex}}}")


def _tie_note(kind, index, count):
    """What a tie does at the index-th position (0-based, row-major) of a window of `count`."""
    if kind == "average" or count == 1:
        return ""
    if index == 0:
        return "first position: wins every tie"
    if index == count - 1:
        return "last position: loses every tie"
    return "ties: loses to earlier positions, wins over later ones"
