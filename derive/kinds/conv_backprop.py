"""`kind: conv_backprop`: one convolution layer (and pooling) forward and back, in numbers.

The numeric companion of conv_derivation and pool_derivation
(the lecture notes): every output position of the convolution as its
sum of products, the activation, the pooling with the position each max
window keeps, the loss (or a given error from the layer above), then the
error routed back through the pooling, δ⁽ˡ⁾, the kernel and bias
gradients, and the error at the layer's input position by position,
∂L/∂a⁽ˡ⁻¹⁾_pq = Σ w_uv δ⁽ˡ⁾ over the outputs that position feeds (the full
convolution), and δ⁽ˡ⁻¹⁾ = f′(z⁽ˡ⁻¹⁾) ∂L/∂a⁽ˡ⁻¹⁾ when the file gives z⁽ˡ⁻¹⁾
and layer l-1's activation.

Every step's formula is written over the keys of the steps it uses, so a
student's own earlier numbers can be carried through when grading. With
max pooling, which position a window routes its error to is decided by the
forward pass (the first maximum in row-major order) and is part of the
formula.
"""

from dataclasses import dataclass

import sympy
from sympy import Max, Mul, Pow, Rational

from ..fields import Choice, Declarations, Declared, Integer, Structured
from ..steps import SolutionBuilder, Sym
from .conv_derivation import ACTIVATION, ConvGeometry, activation_note, indexed_sym, matrix_schema, minus, \
    read_elementwise_activation, unevaluated_sum

POOLINGS = ("max", "average")
LOSSES = ("half_squared_error", "mean_squared_error")
MAX_MAP, MAX_KERNEL, MAX_CHANNELS, MAX_FILTERS = 16, 7, 4, 4
MAX_STEPS = 3000  # with SymPy building each sigmoid, the solver makes about 1000 steps a second


def _maps(matrix, most):
    """One matrix, or a list of 1 to `most` matrices (all of one shape: not said here)."""
    return {"anyOf": [matrix, {"type": "array", "items": matrix, "minItems": 1, "maxItems": most}]}


# a kernel: one K x K matrix for one input channel, else a list of one per channel (a list of one is refused)
KERNEL = {"anyOf": [matrix_schema(MAX_KERNEL), {"type": "array", "items": matrix_schema(MAX_KERNEL), "minItems": 2,
                                                "maxItems": MAX_CHANNELS}]}
# the output map: at most the input, widened by the padding, less the kernel, plus one
OUTPUT = Structured(_maps(matrix_schema(MAX_MAP + MAX_KERNEL - 1), MAX_FILTERS))
INPUT = Structured(_maps(matrix_schema(MAX_MAP), MAX_CHANNELS))
ONE_OF_INPUT, ONE_OF_KERNEL, ONE_OF_TARGET = ("one of `input`, `input_z`", "one of `kernel`, `kernels`",
                                              "one of `target`, `grad_output`")
POOLING = Declarations(
    Declared("type", Choice(POOLINGS), "`max` or `average`"),
    Declared("window", Integer(1, MAX_KERNEL), f"K of the K×K windows, 1 to {MAX_KERNEL}, no larger than the "
             "convolution's output"),
    Declared("stride", Integer(1, MAX_KERNEL), f"1 to {MAX_KERNEL}", default=None, shown_default="the window"),
)

# where an error found while solving is reported when nothing nearer its cause is known (Problem.solve)
ERRORS_AT = ("input", "input_z", "activation")

DECLARED = Declarations(
    Declared("input", INPUT, f"a⁽ˡ⁻¹⁾: a matrix, or a list of matrices of one shape (channels, up to "
             f"{MAX_CHANNELS}; up to {MAX_MAP}×{MAX_MAP})", default=None, shown_default=ONE_OF_INPUT),
    Declared("input_z", INPUT, "z⁽ˡ⁻¹⁾, shaped as `input`, with `input_activation`: a⁽ˡ⁻¹⁾ and δ⁽ˡ⁻¹⁾ are "
             "computed", default=None, shown_default=ONE_OF_INPUT),
    Declared("input_activation", ACTIVATION, "layer l-1's elementwise activation, with `input_z` only",
             default=None, shown_default="required with `input_z`"),
    Declared("kernel", Structured(KERNEL), f"one filter: a K×K matrix, or a list of one per input channel "
             f"(K ≤ {MAX_KERNEL})", default=None, shown_default=ONE_OF_KERNEL),
    Declared("kernels", Structured({"type": "array", "items": KERNEL, "minItems": 1, "maxItems": MAX_FILTERS}),
             f"a list of filters (up to {MAX_FILTERS}), each as `kernel`, all of one size", default=None,
             shown_default=ONE_OF_KERNEL),
    Declared("bias", Structured({"anyOf": [{"type": "number"}, {"type": "array", "items": {"type": "number"},
                                                                 "minItems": 1, "maxItems": MAX_FILTERS}]}),
             "one number per filter", default=None, shown_default="no bias"),
    Declared("stride", Integer(1, MAX_KERNEL), f"s, 1 to {MAX_KERNEL}", default=1),
    Declared("padding", Structured({"type": "integer", "minimum": 0, "maximum": MAX_KERNEL - 1}),
             "zero padding P, 0 to K-1", default=0),
    Declared("activation", ACTIVATION, "layer l's elementwise activation"),
    Declared("pooling", Structured(POOLING.object_schema()), "`{type, window, stride}` (below), applied to a⁽ˡ⁾",
             default=None, shown_default="none"),
    Declared("target", OUTPUT, "targets for the output map (the pooled map, else a⁽ˡ⁾), one matrix per filter",
             default=None, shown_default=ONE_OF_TARGET),
    Declared("loss", Choice(LOSSES), "with `target`: `half_squared_error`, `½ Σ (o - y)²`, or `mean_squared_error`, "
             "`1/N Σ (o - y)²` over the N entries of the output map o", default="half_squared_error"),
    Declared("grad_output", OUTPUT, "the error ∂L/∂(output) given from the layer above, shaped as `target`",
             default=None, shown_default=ONE_OF_TARGET),
)


@dataclass(frozen=True)
class Pooling:
    """kind (max or average), window K (K x K), stride."""

    kind: str
    window: int
    stride: int

    def size(self, length):
        return (length - self.window) // self.stride + 1

    def members(self, r, s):
        """The positions (1-based) of window (r, s), row-major."""
        top, left = self.stride * (r - 1), self.stride * (s - 1)
        return [(top + u, left + v) for u in range(1, self.window + 1) for v in range(1, self.window + 1)]


@dataclass(frozen=True)
class ConvBackpropSpec:
    """A validated conv_backprop problem (fields: docs/kinds/conv_backprop.md).

    input_map: channels x rows x cols; a⁽ˡ⁻¹⁾, or z⁽ˡ⁻¹⁾ when input_activation is set.
    kernels: filters x channels x K x K; biases: one per filter, or None (no bias).
    grad_output (filters x rows x cols of the output map) or target and loss.
    """

    input_map: tuple
    input_activation: object
    kernels: tuple
    biases: object
    stride: int
    padding: int
    activation: object
    pooling: object
    grad_output: object
    target: object
    loss: str

    @property
    def channels(self):
        return len(self.input_map)

    @property
    def filters(self):
        return len(self.kernels)

    @property
    def geometry(self):
        return ConvGeometry(len(self.input_map[0]), len(self.input_map[0][0]), len(self.kernels[0][0]),
                            self.stride, self.padding)

    def output_shape(self):
        """(rows, cols) of the map the loss or the given error applies to."""
        g = self.geometry
        if self.pooling is None:
            return g.out_rows, g.out_cols
        return self.pooling.size(g.out_rows), self.pooling.size(g.out_cols)


# -- reading ----------------------------------------------------------------------

def _is_stack(value):
    """A list of matrices (channels or filters) rather than one matrix."""
    return isinstance(value, list) and bool(value) and isinstance(value[0], list) and bool(value[0]) \
        and isinstance(value[0][0], list)


def _matrix_shape(field, what):
    """(rows, cols) of a matrix field, taken from the matrix itself."""
    value = field.value
    if not isinstance(value, list) or not value or not isinstance(value[0], list) or not value[0]:
        raise field.error(f"expected {what} as a matrix (a list of rows)")
    return len(value), len(value[0])


def read_maps(field, what, count=None, shape=None, max_size=MAX_MAP):
    """One matrix or a list of matrices of one shape, as a tuple of matrices.

    count: how many matrices are expected (None: any, up to MAX_CHANNELS);
    shape: the (rows, cols) expected (None: that of the first matrix, up to max_size).
    """
    stack = _is_stack(field.value)
    items = field.items() if stack else [field]
    if count is not None and len(items) != count:
        expected = "one matrix" if count == 1 else f"a list of {count} matrices"
        raise field.error(f"expected {what} as {expected}, got {len(items) if stack else 'one matrix'}")
    if count is None and len(items) > MAX_CHANNELS:
        raise field.error(f"expected at most {MAX_CHANNELS} channels, got {len(items)}")
    if shape is None:
        shape = _matrix_shape(items[0], what)
        if max(shape) > max_size:
            raise items[0].error(f"expected {what} of at most {max_size}x{max_size}, got {shape[0]}x{shape[1]}")
    return tuple(item.matrix(*shape) for item in items)


def _read_kernel(field, channels):
    """One filter: a K x K matrix for one input channel, a list of `channels` of them otherwise."""
    stack = _is_stack(field.value)
    if channels == 1 and stack or channels > 1 and not stack:
        want = "a K x K matrix (one input channel)" if channels == 1 else f"a list of {channels} K x K matrices"
        raise field.error(f"expected {want}, one per input channel")
    first = field.items()[0] if stack else field
    size = _matrix_shape(first, "a kernel")[0]
    if not 1 <= size <= MAX_KERNEL:
        raise first.error(f"expected a K x K kernel with K from 1 to {MAX_KERNEL}, got {size} rows")
    return read_maps(field, "the kernel", channels, (size, size))


def _read_pooling(field, rows, cols):
    field.mapping(allowed=POOLING.names)
    kind = POOLING.read(field, "type")
    window_field = field.get("window")
    window = POOLING.read_field(window_field, "window")
    if window > min(rows, cols):
        raise window_field.error(f"a {window}x{window} window does not fit the {rows}x{cols} output of the convolution")
    stride = POOLING.read_field(field.get("stride", window), "stride")
    return Pooling(kind, window, stride)


def read(root):
    """Validate the conv_backprop fields into a ConvBackpropSpec."""
    if root.has("input") == root.has("input_z"):
        raise root.error("give either input (the map a⁽ˡ⁻¹⁾) or input_z with input_activation "
                         "(z⁽ˡ⁻¹⁾ and layer l-1's activation, for δ⁽ˡ⁻¹⁾)")
    input_activation = None
    if root.has("input_z"):
        input_field = root.get("input_z")
        input_activation = read_elementwise_activation(root.get("input_activation"))
    else:
        input_field = root.get("input")
        if root.has("input_activation"):
            raise root.get("input_activation").error("goes with input_z (z⁽ˡ⁻¹⁾); with input the map is a⁽ˡ⁻¹⁾")
    input_map = read_maps(input_field, "the input map")
    channels, rows, cols = len(input_map), len(input_map[0]), len(input_map[0][0])

    if root.has("kernel") == root.has("kernels"):
        raise root.error("give either kernel (one filter) or kernels (a list of filters)")
    if root.has("kernel"):
        kernels = (_read_kernel(root.get("kernel"), channels),)
    else:
        filter_fields = root.get("kernels").items()
        if not 1 <= len(filter_fields) <= MAX_FILTERS:
            raise root.get("kernels").error(f"expected 1 to {MAX_FILTERS} filters, got {len(filter_fields)}")
        kernels = tuple(_read_kernel(item, channels) for item in filter_fields)
        if len({len(k[0]) for k in kernels}) > 1:
            raise root.get("kernels").error("expected kernels of one size")
    size = len(kernels[0][0])

    biases = None
    if root.has("bias"):
        biases = root.get("bias").vector(len(kernels))
    stride = DECLARED.read(root, "stride")
    padding = DECLARED.field(root, "padding").integer(0, size - 1)
    if size > min(rows, cols) + 2 * padding:
        raise root.get("kernel" if root.has("kernel") else "kernels").error(
            f"a {size}x{size} kernel does not fit the {rows}x{cols} input with padding {padding}")
    geometry = ConvGeometry(rows, cols, size, stride, padding)
    activation = read_elementwise_activation(root.get("activation"))
    pooling = None
    if root.has("pooling"):
        pooling = _read_pooling(root.get("pooling"), geometry.out_rows, geometry.out_cols)

    if root.has("grad_output") == root.has("target"):
        raise root.error("give either grad_output (the error from the layer above) or target (with a loss)")
    out_shape = (geometry.out_rows, geometry.out_cols) if pooling is None else \
        (pooling.size(geometry.out_rows), pooling.size(geometry.out_cols))
    grad_output = target = None
    loss = "half_squared_error"
    if root.has("target"):
        target = read_maps(root.get("target"), "the target", len(kernels), out_shape)
        loss = DECLARED.read(root, "loss")
    else:
        if root.has("loss"):
            raise root.get("loss").error("has no meaning with grad_output (the error is given)")
        grad_output = read_maps(root.get("grad_output"), "the error of the output", len(kernels), out_shape)

    spec = ConvBackpropSpec(input_map, input_activation, kernels, biases, stride, padding, activation,
                            pooling, grad_output, target, loss)
    steps = _solution_size(spec)
    if steps > MAX_STEPS:
        raise input_field.error(f"problem too large to solve step by step (about {steps} steps; at most {MAX_STEPS}); "
                                "use a smaller map, fewer channels or fewer filters")
    return spec


def _solution_size(spec):
    """About how many steps the Solution has: givens, forward, loss and backward."""
    g = spec.geometry
    inputs = spec.channels * g.rows * g.cols
    outputs = spec.filters * g.out_rows * g.out_cols
    weights = spec.filters * spec.channels * g.kernel ** 2
    final = spec.filters * spec.output_shape()[0] * spec.output_shape()[1]
    twice_if = 2 if spec.input_activation is not None else 1
    return (inputs * twice_if + weights + 2 * spec.filters + final * 3 + outputs * 4 + weights + inputs * twice_if)


# -- the solver ---------------------------------------------------------------------

def solve(problem, rounding):
    """The Solution of a conv_backprop problem."""
    return _ConvSolver(problem, rounding).solve()


class _ConvSolver:
    """Builds the steps: givens, forward pass, loss, backward pass."""

    def __init__(self, problem, rounding):
        self.problem = problem
        self.spec = problem.spec
        self.g = problem.spec.geometry
        self.out = SolutionBuilder(rounding)
        self.several_channels = self.spec.channels > 1
        self.several_filters = self.spec.filters > 1

    # keys and symbols ----------------------------------------------------------
    def key(self, name, *indices):
        return name + "".join(f"[{i}]" for i in indices)

    def channel(self, c):
        return (c,) if self.several_channels else ()

    def filter(self, f):
        return (f,) if self.several_filters else ()

    def sym(self, text, latex, layer, indices, f=None, c=None):
        """A map entry's display, with `[f]`, `[c]` or `[f,c]` after it when there are several."""
        shown = indexed_sym(text, latex, layer, *indices)
        tags = [str(t) for t, several in ((f, self.several_filters), (c, self.several_channels))
                if t is not None and several]
        if not tags:
            return shown
        tag = "[" + ",".join(tags) + "]"
        return Sym(shown.text + tag, shown.latex + tag)

    def a_prev(self, c, p, q):
        return sympy.Symbol(self.key("a_prev", *self.channel(c), p, q))

    def w(self, f, c, u, v):
        return sympy.Symbol(self.key("w", *self.filter(f), *self.channel(c), u, v))

    def map_key(self, name, f, i, j):
        return self.key(name, *self.filter(f), i, j)

    # the whole solution -----------------------------------------------------------
    def solve(self):
        spec = self.spec
        self.givens()
        if spec.input_activation is not None:
            self.input_activation()
        self.convolution()
        self.activation()
        if spec.pooling is not None:
            self.pool()
        if spec.target is not None:
            self.loss()
        if spec.pooling is not None:
            self.route()
        self.deltas()
        self.kernel_gradients()
        self.input_gradients()
        problem = self.problem
        return self.out.build(problem.name, problem.kind, problem.title, notes=self.notes())

    def givens(self):
        spec, out = self.spec, self.out
        given_name = "z_prev" if spec.input_activation is not None else "a_prev"
        given_text = ("z", "z") if spec.input_activation is not None else ("a", "a")
        for c, matrix in enumerate(spec.input_map, start=1):
            for p, row in enumerate(matrix, start=1):
                for q, value in enumerate(row, start=1):
                    out.given(self.key(given_name, *self.channel(c), p, q),
                              self.sym(*given_text, "l-1", (p, q), c=c), value,
                              group=self.key(given_name, *self.channel(c), p))
        for f, kernel in enumerate(spec.kernels, start=1):
            for c, matrix in enumerate(kernel, start=1):
                for u, row in enumerate(matrix, start=1):
                    for v, value in enumerate(row, start=1):
                        out.given(self.key("w", *self.filter(f), *self.channel(c), u, v),
                                  self.sym("w", "w", None, (u, v), f=f, c=c), value,
                                  group=self.key("w", *self.filter(f), *self.channel(c), u))
        if spec.biases is not None:
            for f, value in enumerate(spec.biases, start=1):
                out.given(self.key("b", *self.filter(f)), self.bias_sym(f), value, group="b")
        if spec.target is not None:
            name, maps, shown = "y", spec.target, ("y", "y", None)
        else:
            name = "grad_pool" if spec.pooling is not None else "grad_a"
            maps, shown = spec.grad_output, None
        for f, matrix in enumerate(maps, start=1):
            for i, row in enumerate(matrix, start=1):
                for j, value in enumerate(row, start=1):
                    symbol = self.sym(*shown, (i, j), f=f) if shown else self.output_gradient_sym(f, i, j)
                    out.given(self.map_key(name, f, i, j), symbol, value, group=self.key(name, *self.filter(f), i))

    def bias_sym(self, f):
        return Sym("b" + (f"[{f}]" if self.several_filters else ""), "b" + (f"[{f}]" if self.several_filters else ""))

    def output_sym(self, f, i, j):
        """The displayed entry of the map the loss applies to: p (pooled) or a⁽ˡ⁾."""
        if self.spec.pooling is not None:
            return self.sym("p", "p", "l", (i, j), f=f)
        return self.sym("a", "a", "l", (i, j), f=f)

    def output_gradient_sym(self, f, i, j):
        return _gradient(self.output_sym(f, i, j))

    # forward ------------------------------------------------------------------------
    def input_activation(self):
        act, g = self.spec.input_activation, self.g
        for c in range(1, self.spec.channels + 1):
            for p, q in g.inputs():
                z = sympy.Symbol(self.key("z_prev", *self.channel(c), p, q))
                self.out.step(self.key("a_prev", *self.channel(c), p, q), self.sym("a", "a", "l-1", (p, q), c=c),
                              act.apply(z), "Layer l-1: activation")

    def convolution(self):
        g, spec = self.g, self.spec
        section = f"Forward pass: convolution ({g.describe()})"
        for f in range(1, spec.filters + 1):
            for i, j in g.outputs():
                terms = []
                for c in range(1, spec.channels + 1):
                    terms += [Mul(self.w(f, c, u, v), self.a_prev(c, p, q), evaluate=False)
                              for u, v, p, q in g.taps(i, j)]
                on_padding = spec.channels * g.kernel ** 2 - len(terms)
                if spec.biases is not None:
                    terms.append(sympy.Symbol(self.key("b", *self.filter(f))))
                note = f"{on_padding} product(s) with the zero padding left out" if on_padding else ""
                self.out.step(self.map_key("z", f, i, j), self.sym("z", "z", "l", (i, j), f=f),
                              unevaluated_sum(terms), section, note)

    def activation(self):
        act = self.spec.activation
        for f in range(1, self.spec.filters + 1):
            for i, j in self.g.outputs():
                z = sympy.Symbol(self.map_key("z", f, i, j))
                self.out.step(self.map_key("a", f, i, j), self.sym("a", "a", "l", (i, j), f=f), act.apply(z),
                              "Forward pass: activation")

    def pool(self):
        pooling, out = self.spec.pooling, self.out
        rows, cols = self.spec.output_shape()
        self.routes = {}  # (f, i, j) of a⁽ˡ⁾ -> the pooled keys whose error it receives
        section = (f"Forward pass: {pooling.kind} pooling ({pooling.window}x{pooling.window} windows, "
                   f"stride {pooling.stride})")
        for f in range(1, self.spec.filters + 1):
            for r in range(1, rows + 1):
                for s in range(1, cols + 1):
                    members = pooling.members(r, s)
                    keys = [self.map_key("a", f, i, j) for i, j in members]
                    entries = [sympy.Symbol(k) for k in keys]
                    pooled = self.map_key("pool", f, r, s)
                    if pooling.kind == "max":
                        values = [out.value(k) for k in keys]
                        winner = values.index(max(values))  # the first maximum in row-major order
                        i, j = members[winner]
                        tie = values.count(values[winner]) > 1
                        note = f"max at {self.sym('a', 'a', 'l', (i, j), f=f).text}" + \
                               (" (a tie: the first in row-major order)" if tie else "")
                        self.routes.setdefault((f, i, j), []).append(pooled)
                        formula = Max(*entries, evaluate=False)
                    else:
                        for i, j in members:
                            self.routes.setdefault((f, i, j), []).append(pooled)
                        note = ""
                        formula = Mul(Rational(1, len(entries)), unevaluated_sum(entries), evaluate=False)
                    out.step(pooled, self.sym("p", "p", "l", (r, s), f=f), formula, section, note)

    def output_keys(self):
        """[(key of the output entry, key of its gradient, f, i, j)] of the map the loss applies to."""
        rows, cols = self.spec.output_shape()
        name, grad = ("pool", "grad_pool") if self.spec.pooling is not None else ("a", "grad_a")
        return [(self.map_key(name, f, i, j), self.map_key(grad, f, i, j), f, i, j)
                for f in range(1, self.spec.filters + 1) for i in range(1, rows + 1) for j in range(1, cols + 1)]

    def loss(self):
        spec, out = self.spec, self.out
        entries = self.output_keys()
        pairs = [(sympy.Symbol(o), sympy.Symbol(self.map_key("y", f, i, j))) for o, _, f, i, j in entries]
        squares = unevaluated_sum([Pow(minus(o, y), 2, evaluate=False) for o, y in pairs])
        factor = Rational(1, 2) if spec.loss == "half_squared_error" else Rational(1, len(pairs))
        out.step("loss", Sym("L", "L"), Mul(factor, squares, evaluate=False), "Loss")
        for (o, y), (_, grad, f, i, j) in zip(pairs, entries):
            formula = minus(o, y) if spec.loss == "half_squared_error" else \
                Mul(Rational(2, len(pairs)), minus(o, y), evaluate=False)
            out.step(grad, self.output_gradient_sym(f, i, j), formula, "Backward pass: error at the output")

    # backward -----------------------------------------------------------------------
    def route(self):
        pooling = self.spec.pooling
        section = "Backward pass: the pooling routes the error back"
        share = Rational(1, pooling.window ** 2)
        for f in range(1, self.spec.filters + 1):
            for i, j in self.g.outputs():
                sources = self.routes.get((f, i, j), [])
                grads = [sympy.Symbol("grad_" + key) for key in sources]
                if pooling.kind == "max":
                    formula = unevaluated_sum(grads)
                    note = "the maximum of no window" if not sources else (
                        f"the maximum of {len(sources)} windows: their errors add" if len(sources) > 1 else "")
                else:
                    formula = unevaluated_sum([Mul(share, g_, evaluate=False) for g_ in grads])
                    note = "in no window" if not sources else (
                        f"in {len(sources)} windows: their shares add" if len(sources) > 1 else "")
                self.out.step(self.map_key("grad_a", f, i, j), _gradient(self.sym("a", "a", "l", (i, j), f=f)),
                              formula, section, note)

    def deltas(self):
        act = self.spec.activation
        for f in range(1, self.spec.filters + 1):
            for i, j in self.g.outputs():
                slope = act.derivative_at(sympy.Symbol(self.map_key("z", f, i, j)),
                                          sympy.Symbol(self.map_key("a", f, i, j)))
                self.out.step(self.map_key("delta", f, i, j), self.sym("δ", r"\delta", "l", (i, j), f=f),
                              _product(sympy.Symbol(self.map_key("grad_a", f, i, j)), slope),
                              "Backward pass: delta of layer l")

    def delta(self, f, i, j):
        return sympy.Symbol(self.map_key("delta", f, i, j))

    def kernel_gradients(self):
        g, spec = self.g, self.spec
        section = "Backward pass: kernel and bias gradients"
        for f in range(1, spec.filters + 1):
            for c in range(1, spec.channels + 1):
                for u, v in g.kernel_positions():
                    terms = []
                    for i, j in g.outputs():
                        p, q = g.input_index(i, u), g.input_index(j, v)
                        if g.inside(p, q):
                            terms.append(Mul(self.delta(f, i, j), self.a_prev(c, p, q), evaluate=False))
                    w_sym = self.sym("w", "w", None, (u, v), f=f, c=c)
                    self.out.step(self.key("grad_w", *self.filter(f), *self.channel(c), u, v), _gradient(w_sym),
                                  unevaluated_sum(terms), section)
            if spec.biases is not None:
                self.out.step(self.key("grad_b", *self.filter(f)), _gradient(self.bias_sym(f)),
                              unevaluated_sum([self.delta(f, i, j) for i, j in g.outputs()]), section)

    def input_gradients(self):
        """∂L/∂a⁽ˡ⁻¹⁾ position by position (terms in kernel order), then δ⁽ˡ⁻¹⁾."""
        g, spec = self.g, self.spec
        section = "Backward pass: error at the input (a full convolution of delta with the kernel)"
        reach = {}
        for i, j in g.outputs():
            for u, v, p, q in g.taps(i, j):
                reach.setdefault((p, q), []).append((u, v, i, j))
        for c in range(1, spec.channels + 1):
            for p, q in g.inputs():
                terms = [Mul(self.w(f, c, u, v), self.delta(f, i, j), evaluate=False)
                         for f in range(1, spec.filters + 1) for u, v, i, j in sorted(reach.get((p, q), []))]
                note = "" if terms else "no window reaches it"
                self.out.step(self.key("grad_a_prev", *self.channel(c), p, q),
                              _gradient(self.sym("a", "a", "l-1", (p, q), c=c)), unevaluated_sum(terms), section, note)
        act = spec.input_activation
        if act is None:
            return
        for c in range(1, spec.channels + 1):
            for p, q in g.inputs():
                z_prev = sympy.Symbol(self.key("z_prev", *self.channel(c), p, q))
                slope = act.derivative_at(z_prev, self.a_prev(c, p, q))
                self.out.step(self.key("delta_prev", *self.channel(c), p, q),
                              self.sym("δ", r"\delta", "l-1", (p, q), c=c),
                              _product(sympy.Symbol(self.key("grad_a_prev", *self.channel(c), p, q)), slope),
                              "Backward pass: delta of layer l-1")

    # notes ---------------------------------------------------------------------------
    def notes(self):
        spec, g = self.spec, self.g
        s, P, K = g.stride, g.padding, g.kernel
        row = f"{'' if s == 1 else s}i+u{_signed(-s - P)}"
        col = f"{'' if s == 1 else s}j+v{_signed(-s - P)}"
        channel_sum, channel_sum_latex = ("Σ_c ", r"\sum_c ") if self.several_channels else ("", "")
        bias = " + b" if spec.biases is not None else ""
        notes = [Sym(f"convolution: z⁽ˡ⁾ᵢⱼ = {channel_sum}Σ_{{u,v=1..{K}}} w_uv a⁽ˡ⁻¹⁾_({row}),({col}){bias} "
                     f"(indices from 1; the padding is 0); {g.describe()}",
                     rf"z^{{(l)}}_{{ij}} = {channel_sum_latex}\sum_{{u,v=1}}^{{{K}}} "
                     rf"w_{{uv}} a^{{(l-1)}}_{{{row},{col}}}{bias}")]
        notes.append(activation_note(spec.activation, "layer l", sympy.Symbol("z"), sympy.Symbol("a")))
        if spec.input_activation is not None:
            notes.append(activation_note(spec.input_activation, "layer l-1", sympy.Symbol("z"), sympy.Symbol("a")))
        if self.several_channels or self.several_filters:
            notes.append(Sym("[f] names the filter (output map), [c] the input channel; the kernel w[f,c] joins them",
                             r"[f] \text{ names the filter, } [c] \text{ the input channel}"))
        if spec.pooling is not None:
            if spec.pooling.kind == "max":
                notes.append(Sym("max pooling routes each window's error to its maximum, the first in row-major "
                                 "order on a tie; overlapping windows add",
                                 r"\text{max pooling: each window's error goes to its maximum (ties: the first in "
                                 r"row-major order)}"))
            else:
                k2 = spec.pooling.window ** 2
                notes.append(Sym(f"average pooling gives every position of a window 1/{k2} of its error; "
                                 "overlapping windows add",
                                 rf"\text{{average pooling: every position gets }} 1/{k2}"
                                 r" \text{ of the window's error}"))
        if spec.target is not None:
            if spec.loss == "half_squared_error":
                notes.append(Sym("loss: L = 1/2 Σ (output - y)², so ∂L/∂output = output - y",
                                 r"L = \frac{1}{2} \sum (\text{output} - y)^2"))
            else:
                notes.append(Sym("loss: L = 1/n Σ (output - y)² over the n outputs, so ∂L/∂output = 2/n (output - y)",
                                 r"L = \frac{1}{n} \sum (\text{output} - y)^2"))
        else:
            notes.append(Sym("the error of the output, ∂L/∂(output), is given (from the layer above)",
                             r"\partial L / \partial\,\text{output is given}"))
        notes.append(Sym(f"∂L/∂w_uv = Σᵢⱼ δ⁽ˡ⁾ᵢⱼ a⁽ˡ⁻¹⁾_({row}),({col}); ∂L/∂a⁽ˡ⁻¹⁾_pq = Σ w_uv δ⁽ˡ⁾ᵢⱼ over the "
                         "(i, j, u, v) with that index map = (p, q): a full convolution of δ⁽ˡ⁾ with the kernel",
                         rf"\frac{{\partial L}}{{\partial w_{{uv}}}} = \sum_{{ij}} \delta^{{(l)}}_{{ij}} "
                         rf"a^{{(l-1)}}_{{{row},{col}}}"))
        return notes


def _gradient(shown):
    return Sym(f"∂L/∂{shown.text}", rf"\frac{{\partial L}}{{\partial {shown.latex}}}")


def _product(first, second):
    """first · second, or first alone when the second factor is 1 (None)."""
    if second is None:
        return first
    factors = second.args if second.is_Mul else (second,)
    return Mul(first, *factors, evaluate=False)


def _signed(n):
    return f"+{n}" if n > 0 else (f"-{-n}" if n < 0 else "")
