"""`kind: network_size`: a network's output sizes and parameter counts, layer by layer, as formulas in its sizes.

What Keras's `model.summary()` prints, worked by hand: for each layer the
size of its output and the number of its parameters, each a step whose
formula is written in the sizes (so the general formula shows: the BP
lecture's `(d + l + 1) q + l`), then with the numbers, then the value.
Layers: `dense`, `conv`, `max_pool`, `average_pool`, `flatten`. The output
side of a convolution or pooling window over an n × n input is PyTorch's
`⌊(n + 2p − d(k − 1) − 1)/s⌋ + 1` (kernel k, stride s, padding p,
dilation d); a convolution has `k k c + 1` parameters per filter (the CNN
lecture's 3 × 3 × 3 + 1), shared by every position of its output, and with
`compare: true` the solution also counts the same layer without sharing
(each output its own weights) and as a fully connected layer.

One kind rather than two (sizes; counts): a count depends on a size (a
dense layer after `flatten` has as many inputs as the flattened map; the
unshared count of a convolution grows with its output), and a student's
wrong size is carried into the counts after it only when both are steps of
one solution. A network without convolutions simply has no size steps.

Images are square (n × n × c), as the lectures' are.
"""

import re
from dataclasses import dataclass

import sympy
from sympy import Add, Integer, Mul, Pow

from ..fields import Boolean, Choice, Declarations, Declared, Integer as WholeNumber, Structured, Text
from ..steps import SolutionBuilder, Sym

LAYER_TYPES = ("dense", "conv", "max_pool", "average_pool", "flatten")
POOLS = ("max_pool", "average_pool")
MAX_UNITS, MAX_SIDE, MAX_CHANNELS, MAX_WINDOW, MAX_LAYERS = 1_000_000, 4096, 4096, 64, 32
MAX_COUNT = 10**15  # every count and size stays a whole number a float holds exactly
COUNT_TEXT = "10^15"

SYMBOL = Text("a one-letter symbol")
INPUT = Declarations(
    Declared("units", WholeNumber(1, MAX_UNITS), f"a vector input of this many numbers (1 to {MAX_UNITS})",
             default=None, shown_default="one of `units`, `size`"),
    Declared("size", WholeNumber(1, MAX_SIDE), f"an n × n image input: n, 1 to {MAX_SIDE}", default=None,
             shown_default="one of `units`, `size`"),
    Declared("channels", WholeNumber(1, MAX_CHANNELS), f"the image's channels c, 1 to {MAX_CHANNELS} (3 for RGB); "
             "with `size` only", default=1),
    Declared("symbol", SYMBOL, "the letter the vector input's width is shown as (the BP lecture's `d`); with "
             "`units` only", default=None, shown_default="n₀"),
)
LAYER = Declarations(
    Declared("type", Choice(LAYER_TYPES), "`dense`, `conv`, `max_pool`, `average_pool` or `flatten`"),
    Declared("units", WholeNumber(1, MAX_UNITS), f"dense: its width, 1 to {MAX_UNITS}", default=None,
             shown_default="required for `dense`"),
    Declared("symbol", SYMBOL, "dense: the letter its width is shown as (the BP lecture's `q`, `l`)", default=None,
             shown_default="nᵢ for layer i"),
    Declared("filters", WholeNumber(1, MAX_CHANNELS), f"conv: the number of filters, its output's channels, 1 to "
             f"{MAX_CHANNELS}", default=None, shown_default="required for `conv`"),
    Declared("kernel", WholeNumber(1, MAX_WINDOW), f"conv and pooling: k of the k × k filter or window, 1 to "
             f"{MAX_WINDOW}", default=None, shown_default="required for `conv` and pooling"),
    Declared("stride", WholeNumber(1, MAX_WINDOW), f"conv and pooling: s, 1 to {MAX_WINDOW}", default=None,
             shown_default="1 for `conv`, the kernel for pooling"),
    Declared("padding", WholeNumber(0, MAX_WINDOW), f"conv and pooling: p zeros on each side, 0 to {MAX_WINDOW}",
             default=0),
    Declared("dilation", WholeNumber(1, MAX_WINDOW), f"conv and pooling: d, the spacing of the window's taps, 1 to "
             f"{MAX_WINDOW}", default=1),
    Declared("bias", Boolean(), "dense and conv: one bias per unit or filter", default=True),
    Declared("compare", Boolean(), "conv: also count the layer without parameter sharing and as a fully connected "
             "layer with the same inputs and outputs", default=False),
)
FIELDS_OF = {  # the layer fields each type takes besides `type`
    "dense": {"units", "symbol", "bias"},
    "conv": {"filters", "kernel", "stride", "padding", "dilation", "bias", "compare"},
    "max_pool": {"kernel", "stride", "padding", "dilation"},
    "average_pool": {"kernel", "stride", "padding", "dilation"},
    "flatten": set(),
}

# where an error found while solving is reported when nothing nearer its cause is known (Problem.solve)
ERRORS_AT = ("layers",)

DECLARED = Declarations(
    Declared("input", Structured(INPUT.object_schema()), "the network's input: `{units}` (a vector) or "
             "`{size, channels}` (an image) (below)"),
    Declared("layers", Structured({"type": "array", "items": LAYER.object_schema(), "minItems": 1,
                                   "maxItems": MAX_LAYERS}),
             f"1 to {MAX_LAYERS} layers in order, each a mapping with its `type` (below)"),
)


@dataclass(frozen=True)
class Layer:
    """One layer of a network_size problem: its type and the fields that type takes (None where it takes none)."""

    type: str
    units: int = None
    symbol: str = None
    filters: int = None
    kernel: int = None
    stride: int = None
    padding: int = None
    dilation: int = None
    bias: bool = None
    compare: bool = False


@dataclass(frozen=True)
class NetworkSizeSpec:
    """A validated network_size problem (fields: docs/kinds/network_size.md).

    input_units (a vector input) or input_size and input_channels (an n × n × c image);
    input_symbol: the letter of a vector input's width, or None; layers: Layers, in order.
    """

    input_units: int
    input_size: int
    input_channels: int
    input_symbol: str
    layers: tuple


def output_side(side, kernel, stride, padding, dilation):
    """⌊(n + 2p − d(k − 1) − 1)/s⌋ + 1: how many window positions fit the padded input (≤ 0: none)."""
    return (side + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


def read(root):
    """Validate the network_size fields into a NetworkSizeSpec."""
    field = DECLARED.field(root, "input").mapping(allowed=INPUT.names)
    if field.has("units") == field.has("size"):
        raise field.error("give either units (a vector input) or size (an n × n image, with channels)")
    symbols = {}
    units = size = channels = symbol = None
    if field.has("units"):
        units = INPUT.read(field, "units")
        if field.has("channels"):
            raise field.get("channels").error("goes with size (an image); a vector input has no channels")
        if field.has("symbol"):
            symbol = _symbol(field.get("symbol"), symbols)
        shape = ("vector", units)
    else:
        size, channels = INPUT.read(field, "size"), INPUT.read(field, "channels")
        if field.has("symbol"):
            raise field.get("symbol").error("goes with units (a vector input); an image's sides are shown as n₀")
        shape = ("image", size, channels)
    layers_field = DECLARED.field(root, "layers")
    items = layers_field.items()
    if not 1 <= len(items) <= MAX_LAYERS:
        raise layers_field.error(f"expected 1 to {MAX_LAYERS} layers, got {len(items)}")
    layers, total = [], 0
    for item in items:
        layer = _read_layer(item, shape, symbols)
        shape, count = _shape_after(layer, shape, item)
        total = _bounded(item, total + count, "the total parameter count up to this layer")
        layers.append(layer)
    return NetworkSizeSpec(units, size, channels, symbol, tuple(layers))


def _symbol(field, symbols):
    """A one-letter display symbol, not used by another size of the network."""
    letter = LAYER.read_field(field, "symbol")
    if not re.fullmatch(r"[A-Za-z]", letter):
        raise field.error(f"expected one Latin letter, got {letter!r}")
    if letter in symbols:
        raise field.error(f"{letter!r} already stands for another size ({symbols[letter]})")
    symbols[letter] = field.name
    return letter


def _read_layer(item, shape, symbols):
    item.mapping(allowed=LAYER.names)
    kind = LAYER.read(item, "type")
    for name in item.value:
        if name != "type" and name not in FIELDS_OF[kind]:
            takes = ", ".join(sorted(FIELDS_OF[kind])) or "no other field"
            raise item.child(name, None).error(f"has no meaning for a {kind} layer (it takes {takes})")
    if kind == "dense":
        if shape[0] != "vector":
            raise item.get("type").error("a dense layer takes a vector; put a flatten layer before it")
        symbol = _symbol(item.get("symbol"), symbols) if item.has("symbol") else None
        return Layer(kind, units=_required(item, "units", kind), symbol=symbol, bias=LAYER.read(item, "bias"))
    if shape[0] != "image":
        raise item.get("type").error(f"a {kind} layer takes an image; the layer before gives a vector")
    if kind == "flatten":
        return Layer(kind)
    kernel = _required(item, "kernel", kind)
    stride = LAYER.read_field(item.get("stride", 1 if kind == "conv" else kernel), "stride")
    padding, dilation = LAYER.read(item, "padding"), LAYER.read(item, "dilation")
    side = shape[1]
    if output_side(side, kernel, stride, padding, dilation) < 1:
        reach = dilation * (kernel - 1) + 1
        raise item.get("kernel").error(f"a {kernel}×{kernel} window (dilation {dilation}, {reach} wide) does not fit "
                                       f"the {side}×{side} input with padding {padding}")
    if kind == "conv":
        return Layer(kind, filters=_required(item, "filters", kind), kernel=kernel, stride=stride, padding=padding,
                     dilation=dilation, bias=LAYER.read(item, "bias"), compare=LAYER.read(item, "compare"))
    return Layer(kind, kernel=kernel, stride=stride, padding=padding, dilation=dilation)


def _required(item, name, kind):
    if not item.has(name):
        raise item.missing(name, f"missing required field for a {kind} layer")
    return LAYER.read(item, name)


def _shape_after(layer, shape, item):
    """(the shape a layer gives, ("vector", units) or ("image", side, channels); its parameter count), every
    count checked to stay a whole number a float holds exactly."""
    if layer.type == "dense":
        return ("vector", layer.units), _bounded(item, (shape[1] + 1) * layer.units, "its parameter count")
    side, channels = shape[1], shape[2]
    if layer.type == "flatten":
        return ("vector", _bounded(item, side * side * channels, "its output")), 0
    out = output_side(side, layer.kernel, layer.stride, layer.padding, layer.dilation)
    if layer.type != "conv":
        return ("image", out, channels), 0
    per_filter = layer.kernel * layer.kernel * channels + 1
    if layer.compare:
        _bounded(item, out * out * layer.filters * per_filter, "its unshared count")
        _bounded(item, out * out * layer.filters * (side * side * channels + 1), "its fully connected count")
    return ("image", out, layer.filters), layer.filters * per_filter


def _bounded(item, count, what):
    if count > MAX_COUNT:
        raise item.error(f"{what} is {count:,}; at most {COUNT_TEXT} (a float holds every count exactly)")
    return count


# -- how the formulas are written ----------------------------------------------------

class Floor(sympy.Function):
    """⌊x⌋, printed with its brackets; evaluated by derive.steps as math.floor (its table of functions names it)."""

    nargs = 1

    def _derive_formula(self, printer, leading=False):
        """Printed by the formula printers (their `_derive_formula` hook): ⌊x⌋, \\lfloor x \\rfloor, floor(x)."""
        from ..render.formula import KeyFormula, LatexFormula

        inner = printer._print(self.args[0], leading=True)
        if isinstance(printer, LatexFormula):
            return rf"\left\lfloor {inner} \right\rfloor"
        if isinstance(printer, KeyFormula):
            return printer.call("floor", [inner])
        return f"⌊{inner}⌋"


def _times(*factors):
    return Mul(*factors, evaluate=False)


def _plus(*terms):
    return Add(*terms, evaluate=False)


def _square(symbol):
    return Pow(symbol, 2, evaluate=False)


def size_formula(n, k, s, p, d):
    """⌊(n + 2p − d(k − 1) − 1)/s⌋ + 1 over the Symbols of the sizes."""
    span = _plus(n, _times(Integer(2), p), _times(Integer(-1), d, _plus(k, Integer(-1))), Integer(-1))
    return _plus(Floor(_times(span, Pow(s, -1, evaluate=False))), Integer(1))


def _sym(letter, index):
    return Sym.indexed(letter, letter, sub=(index,))


# -- the solver --------------------------------------------------------------------

TOTAL = "All layers"


def solve(problem, rounding):
    """The Solution of a network_size problem."""
    spec = problem.spec
    out = SolutionBuilder(rounding)
    if spec.input_units is not None:
        section = "Input: a vector"
        symbol = Sym(spec.input_symbol, spec.input_symbol) if spec.input_symbol else _sym("n", 0)
        current = {"shape": "vector", "units": out.given("units[0]", symbol, spec.input_units, section)}
    else:
        n = spec.input_size
        section = "Input: an n × n image of c channels"
        current = {"shape": "image", "side": out.given("size[0]", _sym("n", 0), n, section),
                   "channels": out.given("channels[0]", _sym("c", 0), spec.input_channels, section)}
    counts = []
    for index, layer in enumerate(spec.layers, start=1):
        section = f"Layer {index}: {describe(layer)}"
        if layer.type == "dense":
            current, count = _dense(out, index, layer, current, section)
        elif layer.type == "flatten":
            current, count = _flatten(out, index, current, section), None
        else:
            current, count = _window(out, index, layer, current, section)
        if count is not None:
            counts.append(count)
    if counts:
        out.step("total", Sym("P", "P"), _plus(*counts) if len(counts) > 1 else counts[0], TOTAL,
                 note="the parameters of every layer")
        closed = _closed_total(spec)
        if closed is not None:
            formula, note = closed
            out.step("total.sizes", Sym("P", "P"), formula, TOTAL, note=note)
    return out.build(problem.name, problem.kind, problem.title, notes=notes(spec))


HEADINGS = {"dense": "dense", "conv": "convolution", "max_pool": "max pooling", "average_pool": "average pooling",
            "flatten": "flatten"}


def describe(layer):
    """A layer as a heading names it: `convolution`, `dense, no bias`. Its sizes are the givens printed under it
    (a heading shows no number: an answer sheet's template repeats it beside the items)."""
    return HEADINGS[layer.type] + ("" if layer.bias in (True, None) else ", no bias")


def _dense(out, index, layer, current, section):
    key = f"units[{index}]"
    symbol = Sym(layer.symbol, layer.symbol) if layer.symbol else _sym("n", index)
    units = out.given(key, symbol, layer.units, section)
    inputs = current["units"]
    if layer.bias:
        formula = _plus(_times(inputs, units), units)
        note = "a weight from each input to each unit, and one bias per unit"
    else:
        formula, note = _times(inputs, units), "a weight from each input to each unit (no bias)"
    count = out.step(f"params[{index}]", _sym("P", index), formula, section, note=note)
    return {"shape": "vector", "units": units}, count


def _flatten(out, index, current, section):
    n, c = current["side"], current["channels"]
    units = out.step(f"units[{index}]", _sym("n", index), _times(_square(n), c), section,
                     note="the map's numbers in one vector; no parameters")
    return {"shape": "vector", "units": units}


def _window(out, index, layer, current, section):
    """A convolution or pooling layer: its window's givens, its output side, and (conv) its parameters."""
    k = out.given(f"kernel[{index}]", _sym("k", index), layer.kernel, section)
    s = out.given(f"stride[{index}]", _sym("s", index), layer.stride, section)
    p = out.given(f"padding[{index}]", _sym("p", index), layer.padding, section)
    d = out.given(f"dilation[{index}]", _sym("d", index), layer.dilation, section)
    n_in, c_in = current["side"], current["channels"]
    side = out.step(f"size[{index}]", _sym("n", index), size_formula(n_in, k, s, p, d), section,
                    note="window positions along a side of the padded input; the floor drops a last window "
                         "that would run past it")
    if layer.type != "conv":
        return {"shape": "image", "side": side, "channels": c_in}, None
    c = out.given(f"channels[{index}]", _sym("c", index), layer.filters, section)
    window = _times(_square(k), c_in)
    per_filter = _plus(window, Integer(1)) if layer.bias else window
    bias_words = " and one bias" if layer.bias else " (no bias)"
    out.step(f"per_filter[{index}]", Sym(f"P{_sub(index)}/filter", rf"P_{{{index}}}/\text{{filter}}"), per_filter,
             section, note=f"a k × k × c′ window of weights{bias_words}, c′ the input's channels")
    count = out.step(f"params[{index}]", _sym("P", index), _times(c, per_filter), section,
                     note="parameter sharing: every position of the output uses the same filters")
    if layer.compare:
        out.step(f"unshared[{index}]", Sym(f"P{_sub(index)} unshared", rf"P_{{{index}}}^{{\text{{unshared}}}}"),
                 _times(_square(side), c, per_filter), section,
                 note="without sharing: each of the n² c outputs has a window of its own, a locally connected "
                      "layer")
        inputs = _plus(_times(_square(n_in), c_in), Integer(1)) if layer.bias else _times(_square(n_in), c_in)
        out.step(f"fully_connected[{index}]",
                 Sym(f"P{_sub(index)} fully connected", rf"P_{{{index}}}^{{\text{{fully connected}}}}"),
                 _times(_square(side), c, inputs), section,
                 note="a dense layer from every input number to the same outputs: each output sees the whole image")
    return {"shape": "image", "side": side, "channels": c}, count


def _sub(index):
    return str(index).translate(str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉"))


def _closed_total(spec):
    """The total in the sizes alone, for a network of dense layers on a vector: (formula, note), else None.

    One hidden layer with biases is chapter 3.2's (d + l + 1) q + l; deeper
    ones are Σ (nᵢ₋₁ + 1) nᵢ written out.
    """
    if spec.input_units is None or any(layer.type != "dense" for layer in spec.layers):
        return None
    widths = [sympy.Symbol("units[0]")] + [sympy.Symbol(f"units[{i}]") for i in range(1, len(spec.layers) + 1)]
    if len(spec.layers) == 2 and all(layer.bias for layer in spec.layers):
        d, q, l = widths
        return _plus(_times(_plus(d, l, Integer(1)), q), l), "chapter 3.2's (d + l + 1) q + l: (d + 1) q + (q + 1) l"
    terms = [_times(_plus(a, Integer(1)), b) if layer.bias else _times(a, b)
             for a, b, layer in zip(widths, widths[1:], spec.layers)]
    return (_plus(*terms) if len(terms) > 1 else terms[0]), "the sizes alone: (inputs + 1) × units per layer"


def notes(spec):
    """The conventions of the solution, in words."""
    result = [Sym(
        "a dense layer from n inputs to m units has n m weights and m biases; pooling and flatten have no parameters",
        r"\text{a dense layer from } n \text{ inputs to } m \text{ units has } n m \text{ weights and } m "
        r"\text{ biases; pooling and flatten have no parameters}")]
    if spec.input_size is not None:
        result.append(Sym(
            "output side of a k × k window over an n × n input, stride s, padding p, dilation d: "
            "⌊(n + 2p - d(k - 1) - 1)/s⌋ + 1 (PyTorch's Conv2d and MaxPool2d); images are square",
            r"\text{output side of a } k \times k \text{ window over an } n \times n \text{ input, stride } s"
            r"\text{, padding } p \text{, dilation } d:\ \left\lfloor \frac{n + 2p - d(k - 1) - 1}{s} \right\rfloor "
            r"+ 1 \text{ (PyTorch's Conv2d and MaxPool2d); images are square}"))
        result.append(Sym(
            "a convolution with c filters of k × k over c′ channels: k^2 c′ + 1 parameters per filter "
            "(weights and a bias), shared by every position of its output: c (k^2 c′ + 1)",
            r"\text{a convolution with } c \text{ filters of } k \times k \text{ over } c' \text{ channels: } "
            r"k^{2} c' + 1 \text{ parameters per filter, shared by every position of its output: } c\,(k^{2} c' + 1)"))
    return result
