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

At a point (`at`), the map may have several channels, each pooled alone by
the same windows (so the derivation, done once, holds for every channel,
and no channel's error reaches another); without `at.delta` only the
forward pass is asked: the pooled map in numbers, and nothing derived or
routed back.
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
MAX_CHANNELS = 4
SYMPY_SECONDS = 10.0


def _fits(window, field, values):
    """A window no larger than the map of `input_size`."""
    rows, cols = values["input_size"]
    if window > min(rows, cols):
        raise field.error(f"a {window}x{window} window does not fit a {rows}x{cols} input")


def _channels_schema(most):
    """One matrix (one channel), or a list of 1 to MAX_CHANNELS matrices (one per channel)."""
    return {"anyOf": [matrix_schema(most), {"type": "array", "items": matrix_schema(most), "minItems": 1,
                                            "maxItems": MAX_CHANNELS}]}


AT = Declarations(
    Declared("input", Structured(_channels_schema(MAX_SIZE)),
             f"the map a, a matrix of the `input_size`; or a list of such matrices, one per channel (up to "
             f"{MAX_CHANNELS}), each pooled alone"),
    Declared("delta", Structured(_channels_schema(MAX_SIZE)),
             "δ of the pooled map, one number per window (one matrix per channel, as `input`)", default=None,
             shown_default="none: the forward pass only"),
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
             "numbers; without `delta`, the pooling alone, nothing derived", default=None, shown_default="none"),
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
    point: None, or (the map a, δ of the pooled map or None) as tuples of one matrix per channel,
    where the pooling (and, with δ, the routing) is shown in numbers.
    """

    geometry: PoolGeometry
    poolings: tuple
    point: object = None

    @property
    def channels(self):
        return 1 if self.point is None else len(self.point[0])

    @property
    def backward(self):
        """Whether the error is derived and routed back: always without `at`; with `at`, when δ is given."""
        return self.point is None or self.point[1] is not None


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
        inputs = read_channels(at.get("input"), rows, cols, " (the map a)")
        deltas = None
        if at.has("delta"):
            deltas = read_channels(at.get("delta"), geometry.out_rows, geometry.out_cols,
                                   " (δ, one number per window)", len(inputs))
        point = (inputs, deltas)
    return PoolDerivationSpec(geometry, poolings, point)


def read_channels(field, rows, cols, meaning, count=None):
    """One rows x cols matrix, or a list of them (one per channel), as a tuple of matrices.

    count: the channels expected (those of the input), or None for any number up to MAX_CHANNELS.
    """
    value = field.value
    stack = isinstance(value, list) and bool(value) and all(
        isinstance(row, list) and bool(row) and isinstance(row[0], list) for row in value)
    if not stack:
        if count is not None and count > 1:
            raise field.error(f"expected a list of {count} matrices, one per channel of the input")
        return (field.matrix(rows, cols, meaning),)
    items = field.items()
    if count is None and len(items) > MAX_CHANNELS:
        raise field.error(f"expected at most {MAX_CHANNELS} channels, got {len(items)}")
    if count is not None and len(items) != count:
        raise field.error(f"expected one matrix per channel of the input ({count}), got {len(items)}")
    return tuple(item.matrix(rows, cols, meaning) for item in items)


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
        if spec.backward:
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

    # the pooling (and routing) in numbers ----------------------------------------------
    def channel_list(self):
        """The channels at the point, 1-based."""
        return range(1, self.problem.spec.channels + 1)

    def at_key(self, name, c, *indices):
        """`at.a[p][q]` for one channel, `at.a[c][p][q]` for several."""
        tag = (c,) if self.problem.spec.channels > 1 else ()
        return name + "".join(f"[{i}]" for i in (*tag, *indices))

    def at_sym(self, text, latex, c, *indices):
        """a₁₁ for one channel; a₁₁[c] for several, as conv_backprop tags a channel."""
        shown = indexed_sym(text, latex, None, *indices)
        if self.problem.spec.channels == 1:
            return shown
        return Sym(f"{shown.text}[{c}]", f"{shown.latex}[{c}]")

    def point_givens(self):
        inputs, deltas = self.problem.spec.point
        section = "At the point: given"
        for c in self.channel_list():
            for p, q in self.g.inputs():
                self.out.given(self.at_key("at.a", c, p, q), self.at_sym("a", "a", c, p, q),
                               inputs[c - 1][p - 1][q - 1], section, group=self.at_key("at.a", c, p))
        if deltas is None:
            return
        for c in self.channel_list():
            for r, s in self.g.outputs():
                self.out.given(self.at_key("at.delta", c, r, s), self.at_sym("δ", r"\delta", c, r, s),
                               deltas[c - 1][r - 1][s - 1], section, group=self.at_key("at.delta", c, r))

    def at_point(self, kind, prefix):
        """The pooling, and with δ the derived routing, evaluated on the file's numbers, channel by channel."""
        g, out, spec = self.g, self.out, self.problem.spec
        section = f"At the point: {kind} pooling in numbers"
        for c in self.channel_list():
            entries = {key: sympy.Symbol(self.at_key("at.a", c, *key)) for key in self.a}
            for r, s in g.outputs():
                note = ""
                if kind == "max":
                    members = g.members(r, s)
                    values = [out.value(entries[m].name) for m in members]
                    first = values.index(max(values))  # the first maximum in row-major order
                    tie = ", a tie: the first in row-major order " + ("takes the error" if spec.backward else "is marked")
                    note = f"max at {self.at_sym('a', 'a', c, *members[first]).text}" + (
                        tie if values.count(values[first]) > 1 else "")
                out.step(self.at_key(f"at.{prefix}pool", c, r, s), self.at_sym("p", "p", c, r, s),
                         self.window_formula(kind, r, s, entries), section, note)
        if not spec.backward:
            return
        for c in self.channel_list():
            entries = {key: sympy.Symbol(self.at_key("at.a", c, *key)) for key in self.a}
            deltas = {key: sympy.Symbol(self.at_key("at.delta", c, *key)) for key in self.delta}
            for p, q in g.inputs():
                out.step(self.at_key(f"at.{prefix}grad_a", c, p, q), _gradient(self.at_sym("a", "a", c, p, q)),
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
        spec = self.problem.spec
        notes = [
            Sym(f"pooling: {g.describe()}; window (r, s) covers rows {_linear(S, 'r', 1 - S)}..{_linear(S, 'r', K - S)}"
                f" and columns {_linear(S, 's', 1 - S)}..{_linear(S, 's', K - S)}",
                rf"\text{{pooling: {g.describe()}}}"),
        ]
        if spec.channels > 1:
            notes.append(Sym(f"{spec.channels} channels, each pooled alone by the same windows: a₁₁[c] is entry "
                             "(1, 1) of channel c" + ("; the derivation holds for every channel, and no channel's "
                                                      "error reaches another" if spec.backward else ""),
                             rf"\text{{{spec.channels} channels, each pooled alone by the same windows: }} "
                             r"a_{11}[c] \text{ is entry (1, 1) of channel } c"))
        if not spec.backward:
            return notes + self.forward_notes()
        notes += [
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

    def forward_notes(self):
        """The notes of a forward pass alone (no δ given): what p is, and which maximum is marked."""
        g = self.g
        notes = [Sym("a: the map pooled; p: the pooled map; no δ is given, so only the forward pass is asked: "
                     "nothing is differentiated or routed back",
                     r"a \text{: the map pooled; } p \text{: the pooled map; no } \delta \text{ given: the "
                     r"forward pass only}")]
        if "max" in self.problem.spec.poolings:
            notes.append(Sym("max pooling: p_rs is the largest entry of window (r, s); its position is marked (on a "
                             "tie the first in row-major order, the one a backward pass would send the error to)",
                             r"\text{max pooling: } p_{rs} \text{ is the largest entry of its window}"))
        if "average" in self.problem.spec.poolings:
            notes.append(Sym(f"average pooling: p_rs is the mean of the K² = {g.window ** 2} entries of window (r, s)",
                             rf"\text{{average pooling: }} p_{{rs}} \text{{ is the mean of the }} K^2 = "
                             rf"{g.window ** 2} \text{{ entries of its window}}"))
        if g.stride > g.window or (g.rows - g.window) % g.stride or (g.cols - g.window) % g.stride:
            notes.append(Sym("some positions are in no window: they do not reach the pooled map",
                             r"\text{some positions are in no window: they do not reach the pooled map}"))
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
