"""`kind: mlp_backprop`: one or more gradient-descent steps of a multilayer perceptron.

Builds the Solution the lecture writes by hand: the forward pass layer by
layer, the loss, the deltas from the output back, every weight and
threshold (or bias) gradient, the update, and optionally the loss after it.

Conventions (the lecture notes), chosen by the problem file:
- `weights_layout: from_to` is the BP lecture's w_ij^l (row i = from, column j =
  to); `to_from` is chapter 3.2's W^(l) (row = to). Keys are the same either
  way: `w[l][i][j]` is always from neuron i of layer l-1 to neuron j of l.
- `offset: threshold` means z = sum - theta (so dE/dtheta = -delta);
  `offset: bias` means z = sum + b (dE/db = delta).
- `batch: sum` adds the per-sample gradients (the BP lecture), `mean` averages
  them (chapter 3.2).
- Regularisation (chapter 3.2, 正则化): `weight_decay: λ` is L2, the lecture's
  w ← (1 - ηλ) w - η ∂E/∂w; `l1: λ₁` is L1 by its subgradient,
  w ← w - η (∂E/∂w + λ₁ sign(w)) with sign(0) = 0. Both leave the thresholds
  (biases) alone, as the lecture does (一般不考虑bias), unless
  `decay_offsets: true`.
"""

import math
from contextlib import contextmanager
from dataclasses import dataclass

import sympy
from sympy import Add, Mul, Pow, Rational

from ..errors import DeriveError, ExpressionError
from ..fields import Boolean, Choice, Declarations, Declared, Integer, Number, Structured, Text
from ..steps import SolutionBuilder, Sym
from ..symbolic.activations import activation as read_activation

LOSSES = ("half_squared_error", "mean_squared_error", "cross_entropy", "binary_cross_entropy")
MAX_WIDTH, MAX_LAYERS, MAX_SAMPLES, MAX_ITERATIONS = 64, 16, 32, 20
MAX_STEPS = 20_000  # a solution printed step by step; the solver makes about 3000 a second
MATRIX_MAX_WIDTH = 784  # `notation: matrix`: one step per layer quantity, so width costs numpy time only (MNIST's 28²)

MATRIX = {"type": "array", "items": {"type": "array", "items": {"type": "number"}}}
NUMBERS = {"anyOf": [{"type": "number"}, {"type": "array", "items": {"type": "number"}}]}
LAYER = Declarations(
    Declared("activation", Text("an activation name or an expression in x"),
             "`sigmoid`, `tanh`, `relu`, `linear`, `softplus`, `softmax` (output layer only), `elu`, `leaky_relu`, "
             "`selu`, `gelu`, `gelu_tanh`, `mish` (their standard parameters: "
             "[activations by name](../lectures.md#activations-by-name)), or any expression in `x` such as `max(1, x)` or "
             "`elu(x, 0.5)`, whose derivative is derived symbolically"),
    Declared("weights", Structured(MATRIX), "the layer's weight matrix in the file's `weights_layout`"),
    Declared("thresholds", Structured(NUMBERS), "one number per neuron, with `offset: threshold`", default=(),
             shown_default="zeros"),
    Declared("biases", Structured(NUMBERS), "one number per neuron, with `offset: bias`", default=(),
             shown_default="zeros"),
)
LAYER_FIELDS = LAYER.names
# a layer as the JSON Schema of an mlp_backprop file has it: `weights` may be left out, for `init` to draw
DRAWN_LAYER_SCHEMA = {**LAYER.object_schema(), "required": [name for name in LAYER.object_schema().get("required", ())
                                                          if name != "weights"]}
SAMPLE = {"type": "object", "additionalProperties": False, "required": ["x"],
          "properties": {"x": NUMBERS, "y": NUMBERS, "grad_yhat": NUMBERS}, "not": {"required": ["y", "grad_yhat"]}}


# where an error found while solving is reported when nothing nearer its cause is known (Problem.solve)
ERRORS_AT = ("layers",)

DECLARED = Declarations(
    Declared("sizes", Structured({"type": "array", "items": {"type": "integer", "minimum": 1,
                                                             "maximum": MATRIX_MAX_WIDTH},
                                  "minItems": 2, "maxItems": MAX_LAYERS + 1}),
             f"layer sizes, input first: `[3, 2, 2, 1]` (1 to {MAX_WIDTH} neurons each, up to {MAX_LAYERS} weight "
             f"layers; up to {MATRIX_MAX_WIDTH} with `notation: matrix`)"),
    Declared("notation", Choice(("neurons", "matrix")),
             "`neurons`: one step per neuron and sample (`z²₁ = h¹₁ w²₁₁ + ... - θ²₁`); `matrix`: one step per "
             "layer quantity in chapter 3.2's matrix form (`Z⁽ˡ⁾ = W⁽ˡ⁾ A⁽ˡ⁻¹⁾ + b⁽ˡ⁾ 1ᵀ`, "
             "`E⁽ˡ⁾ = f′(Z⁽ˡ⁾) ⊙ (W⁽ˡ⁺¹⁾)ᵀ E⁽ˡ⁺¹⁾`, `∂L/∂W⁽ˡ⁾ = E⁽ˡ⁾ (A⁽ˡ⁻¹⁾)ᵀ`), the samples as columns; "
             "for wide networks. Entries keep the same keys", default="neurons"),
    Declared("init", Structured({"type": "object"}),
             "with `notation: matrix`, the weights drawn in place of each layer's `weights`, as `kind: symmetry` "
             "draws them: `{seed: s, scale: σ}` (`distribution: normal` or `uniform`, `decimals`, default 2) or "
             "`{constant: c}`; a 784-100-10 network's 79,400 weights in one line", default=None,
             shown_default="the layers' `weights`"),
    Declared("weights_layout", Choice(("from_to", "to_from")),
             "`from_to` (the BP lecture: rows = from-neurons) or `to_from` (chapter 3.2's `W^(l)`: rows = "
             "to-neurons)", default="from_to"),
    Declared("offset", Choice(("threshold", "bias")), "`threshold` (`z = Σ - θ`) or `bias` (`z = Σ + b`)",
             default="threshold"),
    Declared("layers", Structured({"type": "array", "items": DRAWN_LAYER_SCHEMA}),
             "one mapping per layer after the input, in order (below)"),
    Declared("samples", Structured({"type": "array", "items": SAMPLE, "minItems": 1, "maxItems": MAX_SAMPLES}),
             "a list of `{x: [...], y: [...]}`; leave out every `y` for a forward pass only; or `{x: [...], "
             "grad_yhat: [...]}`: the gradient ∂E/∂ŷ given from above in place of a loss (`grad_yhat: [1]` "
             "differentiates the output itself)"),
    Declared("loss", Choice(LOSSES),
             "`half_squared_error` (`1/2 Σ (ŷ - y)²`, the lecture's), `mean_squared_error` (`1/n Σ (ŷ - y)²` over "
             "the n outputs), `cross_entropy` (`-Σ y log ŷ`; needs a softmax output and targets summing to 1), "
             "`binary_cross_entropy` (`-Σ [y log ŷ + (1 - y) log(1 - ŷ)]`; targets in [0, 1])",
             default="half_squared_error"),
    Declared("batch", Choice(("sum", "mean")), "`sum` or `mean` of the per-sample losses and gradients",
             default="sum"),
    Declared("learning_rate", Number(positive=True), "η > 0", default=None,
             shown_default="required with targets; with `grad_yhat`, none: the gradients alone"),
    Declared("iterations", Integer(1, MAX_ITERATIONS), f"gradient-descent steps, 1 to {MAX_ITERATIONS}", default=1),
    Declared("update", Structured({"type": "array", "items": {"enum": ["weights", "thresholds", "biases"]}}),
             "which parameters are updated: a list of `weights` and `thresholds` (or `biases`)", default=None,
             shown_default="both"),
    Declared("weight_decay", Number(minimum=0), "L2 weight decay λ ≥ 0, the lecture's update `w′ = (1 - ηλ) w - η ∂E/∂w` "
             "(the gradient of `E + λ/2 ‖w‖²`)", default=0),
    Declared("l1", Number(minimum=0), "L1 penalty λ₁ ≥ 0, by its subgradient: `w′ = w - η (∂E/∂w + λ₁ sign(w))`, with "
             "`sign(0) = 0` (a weight at 0 moves by the data gradient alone). With `weight_decay` too: "
             "`w′ = (1 - ηλ) w - η (∂E/∂w + λ₁ sign(w))`", default=0),
    Declared("decay_offsets", Boolean(), "`true`: the penalties act on the thresholds (biases) too, "
             "`θ′ = (1 - ηλ) θ - η (∂E/∂θ + λ₁ sign(θ))`; the lecture leaves them out (一般不考虑bias). Needs "
             "`weight_decay` or `l1`, and the offsets in `update`", default=False),
    Declared("loss_after", Boolean(), "also print the forward pass and loss after the last update, and the change "
             "in loss", default=False),
    Declared("derivatives", Structured({"type": "array", "items": {"type": "integer", "minimum": 1}}),
             "layers whose activation derivative f′(x) is asked as an expression (`fprime[l]`)", default=(),
             shown_default="none"),
    Declared("input_gradient", Boolean(), "`true`: also the gradient with respect to the input, "
             "∂E/∂xᵢ = Σⱼ δ¹ⱼ w¹ᵢⱼ (`grad_x[i]`), after the deltas", default=False),
)


@dataclass(frozen=True)
class Layer:
    """One layer l >= 1: its activation, weights[i][j] (from i to j) and offsets[j].

    activation_at: (line, field) of the activation in the file, so that a value
    it cannot take (sqrt of a negative z) is reported where the activation is written.
    """

    activation: object
    weights: tuple
    offsets: tuple
    activation_at: tuple = (None, None)


@dataclass(frozen=True)
class MlpSpec:
    """A validated mlp_backprop problem (fields: docs/kinds/mlp_backprop.md)."""

    sizes: tuple
    layers: tuple
    weights_layout: str
    offset: str
    loss: str
    samples: tuple  # ((x, y), ...)
    batch: str
    learning_rate: float
    iterations: int
    update_weights: bool
    update_offsets: bool
    weight_decay: float
    loss_after: bool
    forward_only: bool = False
    derivatives: tuple = ()  # layers whose activation derivative f'(x) is asked as an expression
    l1: float = 0.0  # L1 penalty λ₁ (subgradient λ₁ sign(w))
    decay_offsets: bool = False  # the penalties act on the thresholds (biases) too
    upstream: tuple = ()  # per sample, ∂E/∂ŷ given from above in place of a loss (empty: the loss gives it)
    input_gradient: bool = False  # also ∂E/∂x
    notation: str = "neurons"  # or "matrix": one step per layer quantity (derive.kinds.mlp_matrix)


def read(root):
    """Validate the mlp_backprop fields of a problem file into an MlpSpec."""
    sizes_field = root.get("sizes")
    notation = DECLARED.read(root, "notation")
    widest = MATRIX_MAX_WIDTH if notation == "matrix" else MAX_WIDTH
    sizes = tuple(item.integer(1, widest) for item in sizes_field.items())
    if not 2 <= len(sizes) <= MAX_LAYERS + 1:
        raise sizes_field.error(f"expected 2 to {MAX_LAYERS + 1} layer sizes (input first), got {len(sizes)}")
    layout = DECLARED.read(root, "weights_layout")
    offset = DECLARED.read(root, "offset")
    offset_field = "thresholds" if offset == "threshold" else "biases"
    init = None
    if root.has("init"):
        if notation != "matrix":
            raise root.get("init").error("needs notation: matrix (per neuron, write the weights, or draw them with "
                                         "kind: symmetry)")
        import numpy as np  # matrix notation only: the per-neuron solution starts without numpy

        from .symmetry import draw_weights, read_init

        drawn = draw_weights(read_init(DECLARED.field(root, "init")), list(zip(sizes, sizes[1:])))
        init = [np.array(matrix, dtype=float) for matrix in drawn]
    layers = read_layers(root, sizes, layout, offset, init, fast=notation == "matrix")

    loss = DECLARED.read(root, "loss")
    output = layers[-1].activation
    if loss == "cross_entropy" and not output.is_softmax:
        raise root.get("loss").error("cross_entropy needs a softmax output layer (use binary_cross_entropy for sigmoid outputs)")

    samples, upstream = [], []
    sample_fields = root.get("samples").items()
    if not 1 <= len(sample_fields) <= MAX_SAMPLES:
        raise root.get("samples").error(f"expected 1 to {MAX_SAMPLES} samples, got {len(sample_fields)}")
    for field in sample_fields:
        field.mapping(allowed={"x", "y", "grad_yhat"})
        x = field.get("x").numbers(sizes[0]) if notation == "matrix" else field.get("x").vector(sizes[0])
        if field.has("grad_yhat"):
            if field.has("y"):
                raise field.get("grad_yhat").error("give y (for the loss) or grad_yhat (∂E/∂ŷ from above), not both")
            upstream.append(field.get("grad_yhat").vector(sizes[-1]))
            samples.append((x, None))
            continue
        if not field.has("y"):
            samples.append((x, None))
            continue
        y_field = field.get("y")
        y = y_field.vector(sizes[-1])
        if loss == "cross_entropy" and min(y) < 0:
            raise y_field.error(f"expected probabilities for cross_entropy, got {min(y):g}")
        if loss == "cross_entropy" and abs(sum(y) - 1) > 1e-9:
            raise y_field.error(f"expected probabilities summing to 1 for cross_entropy, got a sum of {sum(y):g}")
        if loss == "binary_cross_entropy" and not all(0 <= v <= 1 for v in y):
            outside = next(v for v in y if not 0 <= v <= 1)
            raise y_field.error(f"expected targets between 0 and 1 for binary_cross_entropy, got {outside:g}")
        samples.append((x, y))

    if upstream:
        if len(upstream) != len(samples):
            missing = next(n for n, field in enumerate(sample_fields) if not field.has("grad_yhat"))
            raise sample_fields[missing].missing("grad_yhat", "missing (give every sample its grad_yhat, or none)")
        for name, why in (("loss", "the gradient from above, grad_yhat, takes the loss's place"),
                          ("loss_after", "with grad_yhat there is no loss to print"),
                          ("iterations", "grad_yhat is the gradient at these weights only: one iteration")):
            if root.has(name):
                raise root.get(name).error(f"has no meaning with grad_yhat: {why}")
    with_targets = [y is not None for _, y in samples]
    if any(with_targets) and not all(with_targets):
        missing = with_targets.index(False)
        raise sample_fields[missing].missing("y", "missing (give every sample a target, or none for a forward pass only)")
    forward_only = not any(with_targets) and not upstream
    if forward_only:
        for name in ("learning_rate", "iterations", "update", "weight_decay", "l1", "decay_offsets",
                     "loss_after", "batch", "loss", "input_gradient"):
            if root.has(name):
                raise root.get(name).error("has no meaning without targets (the samples have no y: forward pass only)")
    learning_rate = None
    if not forward_only and (root.has("learning_rate") or not upstream):  # with grad_yhat, the gradients may be all
        learning_rate = DECLARED.read_field(root.get("learning_rate"), "learning_rate")
    elif upstream:
        for name in ("update", "weight_decay", "l1", "decay_offsets"):
            if root.has(name):
                raise root.get(name).error("has no meaning without a learning_rate (no update is made)")
    update_field = root.get("update", ["weights", offset_field])
    update = {item.choice(("weights", offset_field)) for item in update_field.items()}
    weight_decay = DECLARED.read(root, "weight_decay")
    l1 = DECLARED.read(root, "l1")
    decay_offsets = DECLARED.read(root, "decay_offsets")
    if decay_offsets and not (weight_decay or l1):
        raise root.get("decay_offsets").error("has no meaning without weight_decay or l1")
    if decay_offsets and offset_field not in update:
        raise root.get("decay_offsets").error(f"has no meaning when the {offset_field} are not updated "
                                              f"(add {offset_field} to update)")
    derivatives = ()
    if root.has("derivatives"):
        derivative_field = root.get("derivatives")
        derivatives = tuple(item.integer(1, len(layers)) for item in derivative_field.items())
        for item, l in zip(derivative_field.items(), derivatives):
            if layers[l - 1].activation.is_softmax:
                raise item.error("softmax is not a one-variable function; ask for another layer's derivative")
    iterations = DECLARED.read(root, "iterations")
    loss_after = DECLARED.read(root, "loss_after")
    steps = _solution_size(sizes, len(samples), iterations, forward_only, loss_after)
    if steps > MAX_STEPS and notation != "matrix":
        raise sizes_field.error(f"problem too large to solve step by step (about {steps} steps; at most {MAX_STEPS}); "
                                "use fewer neurons, samples or iterations, or notation: matrix")
    return MlpSpec(
        sizes=sizes,
        layers=layers,
        weights_layout=layout,
        offset=offset,
        loss=loss,
        samples=tuple(samples),
        batch=DECLARED.read(root, "batch"),
        learning_rate=learning_rate,
        iterations=iterations,
        update_weights="weights" in update,
        update_offsets=offset_field in update,
        weight_decay=weight_decay,
        loss_after=loss_after,
        forward_only=forward_only,
        derivatives=derivatives,
        l1=l1,
        decay_offsets=decay_offsets,
        upstream=tuple(upstream),
        input_gradient=DECLARED.read(root, "input_gradient"),
        notation=notation,
    )


def read_layers(root, sizes, layout, offset, init=None, fast=False):
    """The `layers` of a network of the given sizes, weights read in `layout`, offsets named by `offset`.

    With `init` (matrix notation: derive.kinds.symmetry's seeded draw) the weights are drawn, not read, and
    each layer's weights are numpy arrays (from-to); so they are with `fast` (matrix notation), read all at
    once."""
    offset_field = "thresholds" if offset == "threshold" else "biases"
    other_field = "biases" if offset == "threshold" else "thresholds"
    layers = []
    layer_fields = root.get("layers").items(len(sizes) - 1)
    for l, field in enumerate(layer_fields, start=1):
        field.mapping(allowed=LAYER_FIELDS)
        if field.has(other_field):
            raise field.get(other_field).error(
                f"this problem uses {offset_field} (offset: {offset}); write {offset_field}: "
                f"or set offset: {'bias' if offset == 'threshold' else 'threshold'}"
            )
        act_field = field.get("activation")
        try:
            act = read_activation(act_field.text("an activation name or an expression in x"))
        except ExpressionError as error:
            raise act_field.located(error) from None
        if act.is_softmax and l != len(sizes) - 1:
            raise act_field.error("softmax is supported on the output layer only")
        n_from, n_to = sizes[l - 1], sizes[l]
        if init is not None:
            if field.has("weights"):
                raise field.get("weights").error("given twice: init draws the weights; remove init or these weights")
            offsets = field.get(offset_field, [0] * n_to).vector(n_to)
            layers.append(Layer(act, init[l - 1], offsets, (act_field.line, act_field.name)))
            continue
        if fast:
            rows, columns = (n_from, n_to) if layout == "from_to" else (n_to, n_from)
            weights = field.get("weights").array(rows, columns, f" (rows = the {rows} neurons of layer "
                                                 f"{l - 1 if layout == 'from_to' else l}, columns = the {columns} "
                                                 f"of layer {l if layout == 'from_to' else l - 1})")
            weights = weights if layout == "from_to" else weights.T.copy()
        elif layout == "from_to":
            weights = field.get("weights").matrix(n_from, n_to, f" (rows = the {n_from} neurons of layer {l - 1}, "
                                                               f"columns = the {n_to} of layer {l})")
        else:
            stored = field.get("weights").matrix(n_to, n_from, f" (rows = the {n_to} neurons of layer {l}, "
                                                               f"columns = the {n_from} of layer {l - 1})")
            weights = tuple(zip(*stored))
        offsets = field.get(offset_field, [0] * n_to).vector(n_to)
        layers.append(Layer(act, weights, offsets, (act_field.line, act_field.name)))
    return tuple(layers)


def _solution_size(sizes, samples, iterations, forward_only, loss_after):
    """About how many steps the Solution of such a network has (its time and length grow with it).

    Per sample: z and h of every neuron, the loss, every delta and every
    gradient; per iteration: the batch totals and the updates.
    """
    neurons = sum(sizes[1:])
    parameters = sum(n_from * n_to + n_to for n_from, n_to in zip(sizes, sizes[1:]))
    forward = samples * 2 * neurons
    if forward_only:
        return parameters + samples * sizes[0] + forward
    givens = parameters + samples * (sizes[0] + sizes[-1])
    iteration = forward + samples * (1 + neurons + parameters) + (parameters + 1 if samples > 1 else 0) + parameters
    return givens + iterations * iteration + (forward + samples + 1 if loss_after else 0)


# -- notation -------------------------------------------------------------------

class Notation:
    """The display symbols of one convention: the BP lecture's textbook or chapter 3.2's matrix form.

    `primes` counts the updates a quantity's parameters have had: w, w′ after
    one update, w″ after two; z′ and E′ are computed with w′. With several
    samples, per-sample quantities carry the sample as `[k]` (z²₁[2]).
    """

    def __init__(self, spec, matrix=False):
        self.matrix = matrix or spec.weights_layout == "to_from"
        self.threshold = spec.offset == "threshold"
        self.single_output = spec.sizes[-1] == 1
        self.several = len(spec.samples) > 1
        self.loss_text, self.loss_latex = ("L", r"\mathcal{L}") if self.matrix else ("E", "E")
        self.weight_text = "W" if self.matrix else "w"
        self.offset_text, self.offset_latex = ("θ", r"\theta") if self.threshold else ("b", "b")

    def _layer(self, l):
        return f"({l})" if self.matrix else l

    def _sym(self, text, latex, sup=None, sub=(), primes=0, sample=None):
        marks = {0: "", 1: "′", 2: "″", 3: "‴"}.get(primes, "′" * primes)
        symbol = Sym.indexed(text + marks, latex + "'" * primes, sup, sub)
        if sample is not None and self.several:
            symbol = Sym(f"{symbol.text}[{sample}]", f"{symbol.latex}[{sample}]")
        return symbol

    def x(self, i, sample=None):
        return self._sym("x", "x", None, (i,), sample=sample)

    def y(self, j, sample=None):
        return self._sym("y", "y", None, () if self.single_output else (j,), sample=sample)

    def yhat(self, j, primes=0, sample=None):
        return self._sym("ŷ", r"\hat{y}", None, () if self.single_output else (j,), primes, sample)

    def z(self, l, j, primes=0, sample=None):
        return self._sym("z", "z", self._layer(l), (j,), primes, sample)

    def h(self, l, j, primes=0, sample=None):
        name = "a" if self.matrix else "h"
        return self._sym(name, name, self._layer(l), (j,), primes, sample)

    def w(self, l, i, j, primes=0):
        if self.matrix:
            return self._sym("W", "W", self._layer(l), (j, i), primes)
        return self._sym("w", "w", l, (i, j), primes)

    def offset(self, l, j, primes=0):
        return self._sym(self.offset_text, self.offset_latex, self._layer(l), (j,), primes)

    def delta(self, l, j, primes=0, sample=None):
        if self.matrix:
            return self._sym("e", "e", self._layer(l), (j,), primes, sample)
        return self._sym("δ", r"\delta", l, (j,), primes, sample)

    def loss(self, primes=0, sample=None):
        return self._sym(self.loss_text, self.loss_latex, None, (), primes, sample)

    def gradient(self, parameter, primes=0, sample=None):
        loss = self.loss(primes, sample)
        return Sym(f"∂{loss.text}/∂{parameter.text}",
                   rf"\frac{{\partial {loss.latex}}}{{\partial {parameter.latex}}}")

    eta = Sym("η", r"\eta")
    decay = Sym("λ", r"\lambda")
    l1 = Sym("λ₁", r"\lambda_{1}")


# -- the solver -------------------------------------------------------------------

def change_note(before, after):
    """The words beside the change in loss after the last update, the same in either notation."""
    if not (math.isfinite(before) and math.isfinite(after)):
        return "the change cannot be computed (a loss is not finite)"
    if after < before:
        return "the loss went down"
    return "the loss went up" if after > before else "the loss did not change"


def activation_derivatives(spec, out):
    """f'_l(x) for the layers the problem asks about, derived by SymPy (an expression answer): the steps
    `fprime[l]`, the same in either notation."""
    from ..symbolic.activations import X

    for l in spec.derivatives:
        act = spec.layers[l - 1].activation
        lecture_form = {"sigmoid": "= f(x)(1 - f(x))", "tanh": "= 1 - f(x)^2"}.get(act.name, "")
        out.symbolic(f"fprime[{l}]", Sym.indexed("f′", "f'", None, (l,)).called("x"),
                     sympy.Derivative(act.expression, X), sympy.diff(act.expression, X),
                     "Activation derivatives", note=lecture_form)


def _sum(terms):
    return terms[0] if len(terms) == 1 else Add(*terms, evaluate=False)


def _product(*factors):
    flat = []
    for factor in factors:
        if factor is None:
            continue
        flat.extend(factor.args if factor.is_Mul else (factor,))
    return flat[0] if len(flat) == 1 else Mul(*flat, evaluate=False)


def _minus(a, b):
    return Add(a, Mul(-1, b, evaluate=False), evaluate=False)


def _section(heading, name):
    """`Forward pass`, or `Iteration 2: forward pass` under a heading."""
    return f"{heading}: {name[0].lower()}{name[1:]}" if heading else name


def solve(problem, rounding):
    """The Solution of an mlp_backprop problem: per neuron, or in matrix form (derive.kinds.mlp_matrix)."""
    if problem.spec.notation == "matrix":
        from .mlp_matrix import MatrixSolver

        return MatrixSolver(problem, rounding, _MlpSolver(problem, rounding, matrix=True).notes).solve()
    return _MlpSolver(problem, rounding).solve()


class _MlpSolver:
    """Builds the steps in the lecture's order; `primes` is the number of updates made so far."""

    def __init__(self, problem, rounding, matrix=False):
        self.problem = problem
        self.spec = problem.spec
        self.notation = Notation(self.spec, matrix)
        self.matrix_form = matrix  # notes for the matrix notation (derive.kinds.mlp_matrix)
        self.out = SolutionBuilder(rounding)
        self.several = len(self.spec.samples) > 1
        self.samples = range(1, len(self.spec.samples) + 1)
        self.L = len(self.spec.layers)
        self.offset_name = "theta" if self.notation.threshold else "b"

    # keys ---------------------------------------------------------------
    def key(self, name, *indices, sample=None, prefix=""):
        if sample is not None and self.several:
            indices = (sample,) + indices
        return prefix + name + "".join(f"[{i}]" for i in indices)

    def _symbol(self, name, *indices, sample=None, prefix=""):
        return sympy.Symbol(self.key(name, *indices, sample=sample, prefix=prefix))

    @contextmanager
    def activation_of(self, l):
        """Errors evaluating layer l's activation or its derivative name the `activation:` line."""
        try:
            yield
        except DeriveError as error:
            line, field = self.spec.layers[l - 1].activation_at
            raise error.locate(line=line, field=field) from None

    def _sample_section(self, heading, name, k):
        return _section(heading, name + (f", sample {k}" if self.several else ""))

    # the whole solution -------------------------------------------------------
    def solve(self):
        spec, n = self.spec, self.notation
        params = self.givens()
        self.activation_derivatives()
        if spec.forward_only:
            for k in self.samples:
                self.forward(params, k, "", "", 0)
            return self.out.build(self.problem.name, self.problem.kind, self.problem.title, notes=self.notes())
        first_loss = None
        for t in range(1, spec.iterations + 1):
            prefix = f"it{t}." if spec.iterations > 1 else ""
            heading = f"Iteration {t}" if spec.iterations > 1 else ""
            loss = self.iteration(params, prefix, heading, primes=t - 1)
            if first_loss is None:
                first_loss = loss
            if spec.learning_rate is not None:  # given grad_yhat, only the gradients may be asked
                params = self.update(params, prefix, heading, primes=t)
        if spec.loss_after:
            updates = spec.iterations
            heading = "After the update" if updates == 1 else f"After {updates} updates"
            after = self.forward_all(params, "after.", heading, primes=updates)
            before, now = n.loss(0), n.loss(updates)
            self.out.step("loss_change", Sym(f"{now.text} - {before.text}", f"{now.latex} - {before.latex}"),
                          _minus(after, first_loss), _section(heading, "Loss"), note=self.change_note(first_loss))
        return self.out.build(self.problem.name, self.problem.kind, self.problem.title, notes=self.notes())

    def change_note(self, first_loss):
        return change_note(self.out.value(first_loss.name), self.out.value("after.loss"))

    # givens -------------------------------------------------------------
    def givens(self):
        spec, n, out = self.spec, self.notation, self.out
        for k, (x, y) in enumerate(spec.samples, start=1):
            for i, value in enumerate(x, start=1):
                out.given(self.key("x", i, sample=k), n.x(i, k), value, group=f"x{k}")
            for j, value in enumerate(y or (), start=1):
                out.given(self.key("y", j, sample=k), n.y(j, k), value, group=f"y{k}")
            for j, value in enumerate(spec.upstream[k - 1] if spec.upstream else (), start=1):
                out.given(self.key("grad_yhat", j, sample=k), n.gradient(n.yhat(j, 0, k), 0, k if self.several else None),
                          value, group=f"g{k}")
        weights, offsets = {}, {}
        for l, layer in enumerate(spec.layers, start=1):
            for i, j in self.weight_order(l):
                weights[l, i, j] = out.given(self.key("w", l, i, j), n.w(l, i, j), layer.weights[i - 1][j - 1],
                                             group=f"w{l}.{j if n.matrix else i}")
            for j, value in enumerate(layer.offsets, start=1):
                offsets[l, j] = out.given(self.key(self.offset_name, l, j), n.offset(l, j), value, group=f"o{l}")
        if spec.forward_only or spec.learning_rate is None:
            return weights, offsets
        self.eta = out.given("eta", n.eta, spec.learning_rate)
        self.decay = out.given("lambda", n.decay, spec.weight_decay) if spec.weight_decay else None
        self.l1 = out.given("lambda1", n.l1, spec.l1) if spec.l1 else None
        return weights, offsets

    def weight_order(self, l):
        """(i, j) of layer l's weights in the order the file's layout reads them (row by row)."""
        n_from, n_to = self.spec.sizes[l - 1], self.spec.sizes[l]
        if self.notation.matrix:
            return [(i, j) for j in range(1, n_to + 1) for i in range(1, n_from + 1)]
        return [(i, j) for i in range(1, n_from + 1) for j in range(1, n_to + 1)]

    def activation_derivatives(self):
        activation_derivatives(self.spec, self.out)

    # forward pass and loss -----------------------------------------------
    def forward_all(self, params, prefix, heading, primes):
        """Forward pass and loss of every sample; returns the Symbol of the (batch) loss."""
        losses = [self.forward(params, k, prefix, heading, primes) for k in self.samples]
        return self.batch_loss(losses, prefix, heading, primes) if self.several else losses[0]

    def forward(self, params, k, prefix, heading, primes):
        """Sample k's forward pass (and loss, given targets); returns the loss Symbol or None."""
        spec, n, out = self.spec, self.notation, self.out
        weights, offsets = params
        section = self._sample_section(heading, "Forward pass", k)
        previous = [self._symbol("x", i, sample=k) for i in range(1, spec.sizes[0] + 1)]
        for l, layer in enumerate(spec.layers, start=1):
            zs = []
            for j in range(1, spec.sizes[l] + 1):
                terms = [Mul(h, weights[l, i, j], evaluate=False) for i, h in enumerate(previous, start=1)]
                terms.append(Mul(-1, offsets[l, j], evaluate=False) if n.threshold else offsets[l, j])
                zs.append(out.step(self.key("z", l, j, sample=k, prefix=prefix), n.z(l, j, primes, k),
                                   Add(*terms, evaluate=False), section))
            last = l == self.L
            hs = []
            for j, z in enumerate(zs, start=1):
                if layer.activation.is_softmax:
                    formula = Mul(sympy.exp(z), Pow(_sum([sympy.exp(v) for v in zs]), -1, evaluate=False),
                                  evaluate=False)
                else:
                    formula = layer.activation.apply(z)
                if last:
                    key, symbol = self.key("yhat", j, sample=k, prefix=prefix), n.yhat(j, primes, k)
                else:
                    key, symbol = self.key("h", l, j, sample=k, prefix=prefix), n.h(l, j, primes, k)
                with self.activation_of(l):
                    hs.append(out.step(key, symbol, formula, section))
            previous = hs
        self.yhat, self.z_out = previous, zs
        if spec.forward_only or spec.upstream:
            return None  # no loss: nothing, or only its gradient from above, is known
        return self.loss(k, prefix, heading, primes)

    def loss(self, k, prefix, heading, primes):
        spec, n = self.spec, self.notation
        ys = [self._symbol("y", j, sample=k) for j in range(1, spec.sizes[-1] + 1)]
        pairs = list(zip(self.yhat, ys))
        if spec.loss in ("half_squared_error", "mean_squared_error"):
            body = _sum([Pow(_minus(yh, y), 2, evaluate=False) for yh, y in pairs])
            factor = Rational(1, 2) if spec.loss == "half_squared_error" else Rational(1, len(pairs))
            formula = body if factor == 1 else Mul(factor, body, evaluate=False)
        elif spec.loss == "cross_entropy":
            formula = Mul(-1, _sum([Mul(y, sympy.log(yh), evaluate=False) for yh, y in pairs]), evaluate=False)
        else:
            formula = Mul(-1, _sum([
                Add(Mul(y, sympy.log(yh), evaluate=False),
                    Mul(_minus(1, y), sympy.log(_minus(1, yh)), evaluate=False), evaluate=False)
                for yh, y in pairs]), evaluate=False)
        return self.out.step(self.key("loss", sample=k, prefix=prefix), n.loss(primes, k), formula,
                             self._sample_section(heading, "Loss", k))

    def batch_loss(self, losses, prefix, heading, primes):
        total = _sum(losses)
        if self.spec.batch == "mean":
            total = Mul(Rational(1, len(losses)), total, evaluate=False)
        return self.out.step(prefix + "loss", self.notation.loss(primes), total, _section(heading, "Loss"))

    # one iteration: forward, backward, gradients -----------------------
    def iteration(self, params, prefix, heading, primes):
        per_sample, losses = [], []
        for k in self.samples:
            losses.append(self.forward(params, k, prefix, heading, primes))
            deltas = self.backward(params, k, prefix, heading, primes)
            per_sample.append(self.gradients(deltas, k, prefix, heading, primes))
        if not self.several:
            self.gradients_total = per_sample[0]
            return losses[0]
        loss = self.batch_loss(losses, prefix, heading, primes) if not self.spec.upstream else None
        self.gradients_total = self.batch(per_sample, prefix, heading, primes)
        return loss

    def output_delta(self, j, k):
        """delta^L_j = dE/dz^L_j for the problem's loss and output activation."""
        spec = self.spec
        yhat, z = self.yhat, self.z_out
        y = [self._symbol("y", i, sample=k) for i in range(1, spec.sizes[-1] + 1)]
        act = spec.layers[-1].activation
        m = len(yhat)

        def loss_slope(i):
            """dE/dyhat_i."""
            if spec.upstream:
                return self._symbol("grad_yhat", i + 1, sample=k)
            if spec.loss == "half_squared_error":
                return _minus(yhat[i], y[i])
            if spec.loss == "mean_squared_error":
                return _product(Rational(2, m), _minus(yhat[i], y[i]))
            if spec.loss == "cross_entropy":
                return Mul(-1, y[i], Pow(yhat[i], -1, evaluate=False), evaluate=False)
            return Mul(_minus(yhat[i], y[i]),
                       Pow(Mul(yhat[i], _minus(1, yhat[i]), evaluate=False), -1, evaluate=False), evaluate=False)

        i = j - 1
        if act.is_softmax:
            if spec.loss == "cross_entropy" and not spec.upstream:
                return _minus(yhat[i], y[i])
            terms = []
            for s in range(m):
                if s == i:
                    terms.append(_product(loss_slope(s), yhat[s], _minus(1, yhat[s])))
                else:
                    terms.append(_product(sympy.S.NegativeOne, loss_slope(s), yhat[s], yhat[i]))
            return _sum(terms)
        if spec.loss == "binary_cross_entropy" and act.name == "sigmoid" and not spec.upstream:
            return _minus(yhat[i], y[i])
        return _product(loss_slope(i), act.derivative_at(z[i], yhat[i]))

    def backward(self, params, k, prefix, heading, primes):
        spec, n, out = self.spec, self.notation, self.out
        weights, _ = params
        section = self._sample_section(heading, "Backward pass", k)
        deltas = {}
        for j in range(1, spec.sizes[-1] + 1):
            with self.activation_of(self.L):
                deltas[self.L, j] = out.step(self.key("delta", self.L, j, sample=k, prefix=prefix),
                                             n.delta(self.L, j, primes, k), self.output_delta(j, k), section)
        for l in range(self.L - 1, 0, -1):
            act = spec.layers[l - 1].activation
            for j in range(1, spec.sizes[l] + 1):
                back = _sum([Mul(deltas[l + 1, s], weights[l + 1, j, s], evaluate=False)
                             for s in range(1, spec.sizes[l + 1] + 1)])
                z = self._symbol("z", l, j, sample=k, prefix=prefix)
                h = self._symbol("h", l, j, sample=k, prefix=prefix)
                formula = _product(back, act.derivative_at(z, h))
                with self.activation_of(l):
                    deltas[l, j] = out.step(self.key("delta", l, j, sample=k, prefix=prefix),
                                            n.delta(l, j, primes, k), formula, section)
        if spec.input_gradient:  # the input is one more layer back, without an activation: Σ_j δ¹_j w¹_ij
            for i in range(1, spec.sizes[0] + 1):
                back = _sum([Mul(deltas[1, j], weights[1, i, j], evaluate=False) for j in range(1, spec.sizes[1] + 1)])
                out.step(self.key("grad_x", i, sample=k, prefix=prefix),
                         n.gradient(n.x(i, k), primes, k if self.several else None), back, section)
        return deltas

    def gradients(self, deltas, k, prefix, heading, primes):
        spec, n, out = self.spec, self.notation, self.out
        section = self._sample_section(heading, "Gradients", k)
        sample = k if self.several else None
        grads = {}
        for l in range(self.L, 0, -1):  # from the output back, as the lecture lists them
            if l == 1:
                inputs = {i: self._symbol("x", i, sample=k) for i in range(1, spec.sizes[0] + 1)}
            else:
                inputs = {i: self._symbol("h", l - 1, i, sample=k, prefix=prefix)
                          for i in range(1, spec.sizes[l - 1] + 1)}
            for i, j in self.weight_order(l):
                grads["w", l, i, j] = out.step(
                    self.key("grad_w", l, i, j, sample=k, prefix=prefix),
                    n.gradient(n.w(l, i, j, primes), primes, sample),
                    Mul(deltas[l, j], inputs[i], evaluate=False), section)
            for j in range(1, spec.sizes[l] + 1):
                formula = Mul(-1, deltas[l, j], evaluate=False) if n.threshold else deltas[l, j]
                grads["offset", l, j] = out.step(
                    self.key(f"grad_{self.offset_name}", l, j, sample=k, prefix=prefix),
                    n.gradient(n.offset(l, j, primes), primes, sample), formula, section)
        return grads

    def batch(self, per_sample, prefix, heading, primes):
        n, out = self.notation, self.out
        section = _section(heading, "Gradients summed over the samples" if self.spec.batch == "sum"
                           else "Gradients averaged over the samples")
        total = {}
        for name in per_sample[0]:
            terms = _sum([grads[name] for grads in per_sample])
            if self.spec.batch == "mean":
                terms = Mul(Rational(1, len(per_sample)), terms, evaluate=False)
            if name[0] == "w":
                _, l, i, j = name
                key, parameter = self.key("grad_w", l, i, j, prefix=prefix), n.w(l, i, j, primes)
            else:
                _, l, j = name
                key, parameter = self.key(f"grad_{self.offset_name}", l, j, prefix=prefix), n.offset(l, j, primes)
            total[name] = out.step(key, n.gradient(parameter, primes), terms, section)
        return total

    # update --------------------------------------------------------------
    def update(self, params, prefix, heading, primes):
        """The update that gives the parameters their `primes`-th prime."""
        spec, n, out = self.spec, self.notation, self.out
        weights, offsets = params
        section = _section(heading, "Update")
        new_weights, new_offsets = dict(weights), dict(offsets)
        grads = self.gradients_total
        if spec.update_weights:
            for (l, i, j), w in weights.items():
                new_weights[l, i, j] = out.step(self.key("w_new", l, i, j, prefix=prefix), n.w(l, i, j, primes),
                                                self.descent(w, grads["w", l, i, j], True), section)
        if spec.update_offsets:
            for (l, j), offset in offsets.items():
                new_offsets[l, j] = out.step(self.key(f"{self.offset_name}_new", l, j, prefix=prefix),
                                             n.offset(l, j, primes),
                                             self.descent(offset, grads["offset", l, j], spec.decay_offsets), section)
        return new_weights, new_offsets

    def descent(self, parameter, gradient, regularised):
        """One gradient-descent update of a parameter, in the lecture's form.

        Plain: θ - η g. L2 (weight decay): (1 - ηλ) θ - η g. L1: θ - η (g + λ₁ sign(θ)),
        the subgradient with sign(0) = 0. Both: (1 - ηλ) θ - η (g + λ₁ sign(θ)).
        """
        decay = self.decay if regularised else None
        l1 = self.l1 if regularised else None
        slope = gradient if l1 is None else Add(gradient, Mul(l1, sympy.sign(parameter), evaluate=False),
                                                evaluate=False)
        step = Mul(-1, self.eta, slope, evaluate=False)
        if decay is None:
            return Add(parameter, step, evaluate=False)
        keep = _minus(1, Mul(self.eta, decay, evaluate=False))
        return Add(Mul(keep, parameter, evaluate=False), step, evaluate=False)

    # notes ---------------------------------------------------------------
    def update_rule(self, text, latex, regularised):
        """`w′ = (1 - ηλ) w - η ∂E/∂w` and the like, as `descent` builds it."""
        E, El = self.notation.loss_text, self.notation.loss_latex
        l2 = regularised and self.spec.weight_decay
        l1 = regularised and self.spec.l1
        keep, keep_latex = ("(1 - ηλ) ", r"(1 - \eta\lambda) ") if l2 else ("", "")
        grad, grad_latex = f"∂{E}/∂{text}", rf"\partial {El} / \partial {latex}"
        if l1:
            return Sym(f"{text}′ = {keep}{text} - η ({grad} + λ₁ sign({text}))",
                       rf"{latex}' = {keep_latex}{latex} - \eta \left({grad_latex} + \lambda_{{1}} "
                       rf"\operatorname{{sign}}({latex})\right)")
        return Sym(f"{text}′ = {keep}{text} - η {grad}", rf"{latex}' = {keep_latex}{latex} - \eta \, {grad_latex}")

    def penalty_note(self):
        """What the regularised update minimises: the data loss plus the penalties, which the losses shown leave out."""
        spec, n = self.spec, self.notation
        w, o, ol = n.weight_text, n.offset_text, n.offset_latex
        squares, squares_latex = (f"‖{w}‖² + ‖{o}‖²", rf"\|{w}\|^2 + \|{ol}\|^2") if spec.decay_offsets \
            else (f"‖{w}‖²", rf"\|{w}\|^2")
        absolutes, absolutes_latex = (f"‖{w}‖₁ + ‖{o}‖₁", rf"\|{w}\|_1 + \|{ol}\|_1") if spec.decay_offsets \
            else (f"‖{w}‖₁", rf"\|{w}\|_1")
        terms, terms_latex = [], []
        if spec.weight_decay:
            terms.append(f"λ/2 ({squares})" if spec.decay_offsets else f"λ/2 {squares}")
            terms_latex.append(rf"\tfrac{{\lambda}}{{2}} ({squares_latex})" if spec.decay_offsets
                               else rf"\tfrac{{\lambda}}{{2}} {squares_latex}")
        if spec.l1:
            terms.append(f"λ₁ ({absolutes})" if spec.decay_offsets else f"λ₁ {absolutes}")
            terms_latex.append(rf"\lambda_{{1}} ({absolutes_latex})" if spec.decay_offsets
                               else rf"\lambda_{{1}} {absolutes_latex}")
        return Sym("the update descends the penalised loss; the losses shown leave out " + " + ".join(terms),
                   r"\text{the update descends the penalised loss; the losses shown leave out } "
                   + " + ".join(terms_latex))

    def notes(self):
        from ..render.formula import latex_formula, text_formula

        spec, n = self.spec, self.notation
        notes = []
        x = {"x": Sym("x", "x")}
        for l, layer in enumerate(spec.layers, start=1):
            act = layer.activation
            where = f"layer {l}"
            if act.is_softmax:
                notes.append(Sym(f"{where}: softmax, ŷ_j = exp(z_j) / Σ_k exp(z_k)",
                                 rf"\text{{{where}: softmax, }} \hat{{y}}_j = e^{{z_j}} / \sum_k e^{{z_k}}"))
                continue
            if act.name == "sigmoid":
                d_text, d_latex = "f(x)(1 - f(x)), written h(1 - h)", "f(x)(1 - f(x))"
            elif act.name == "tanh":
                d_text, d_latex = "1 - f(x)^2, written 1 - h^2", "1 - f(x)^2"
            elif act.name == "softplus":
                d_text, d_latex = "1/(1 + exp(-x)), the sigmoid", r"\frac{1}{1 + e^{-x}}"
            else:
                d_text, d_latex = text_formula(act.derivative, x), latex_formula(act.derivative, x)
            notes.append(Sym(f"{where}: f(x) = {text_formula(act.expression, x)}, f'(x) = {d_text}",
                             rf"\text{{{where}: }} f(x) = {latex_formula(act.expression, x)},\quad f'(x) = {d_latex}"))
        if any(not layer.activation.is_softmax and layer.activation.derivative.has(sympy.Heaviside)
               for layer in spec.layers):
            notes.append(Sym("H(t) is the unit step: 1 for t > 0, 0 for t <= 0 "
                             "(at a kink the subgradient 0 is used)",
                             r"H(t) \text{ is the unit step: 1 for } t > 0 \text{, 0 for } t \le 0 "
                             r"\text{ (at a kink the subgradient 0 is used)}"))
        if spec.forward_only:
            return notes
        E, El = n.loss_text, n.loss_latex
        d, d_latex = ("e", "e") if n.matrix else ("δ", r"\delta")
        loss_words = {
            "half_squared_error": (f"{E} = 1/2 Σ_j (ŷ_j - y_j)^2", rf"{El} = \frac{{1}}{{2}} \sum_j (\hat{{y}}_j - y_j)^2"),
            "mean_squared_error": (f"{E} = 1/n Σ_j (ŷ_j - y_j)^2", rf"{El} = \frac{{1}}{{n}} \sum_j (\hat{{y}}_j - y_j)^2"),
            "cross_entropy": (f"{E} = -Σ_j y_j log ŷ_j; with softmax, {d}_j = ŷ_j - y_j",
                              rf"{El} = -\sum_j y_j \log \hat{{y}}_j;\ \text{{with softmax }} "
                              rf"{d_latex}_j = \hat{{y}}_j - y_j"),
            "binary_cross_entropy": (f"{E} = -Σ_j [y_j log ŷ_j + (1 - y_j) log(1 - ŷ_j)] (0 log 0 = 0)",
                                     rf"{El} = -\sum_j [y_j \log \hat{{y}}_j + (1 - y_j) \log(1 - \hat{{y}}_j)]"),
        }
        if spec.upstream:
            notes.append(Sym(f"no loss is given: its gradient ∂{E}/∂ŷ_j comes from above (grad_yhat), and "
                             f"{d}ᴸ_j = Σ_s ∂{E}/∂ŷ_s ∂ŷ_s/∂zᴸ_j (∂{E}/∂ŷ_j f′(zᴸ_j) for an activation of one variable)",
                             rf"\text{{no loss is given: }} \partial {El} / \partial \hat{{y}}_j "
                             rf"\text{{ comes from above, and }} {d_latex}^L_j = \sum_s \frac{{\partial {El}}}"
                             rf"{{\partial \hat{{y}}_s}} \frac{{\partial \hat{{y}}_s}}{{\partial z^L_j}}"))
        else:
            text, latex = loss_words[spec.loss]
            notes.append(Sym(f"loss: {text}", rf"\text{{loss: }} {latex}"))
        if self.several and self.matrix_form:
            how = "summed" if spec.batch == "sum" else "averaged"
            notes.append(Sym(f"{len(spec.samples)} samples, the columns of X (sample k is column k; its entries keep "
                             f"their keys, z[k][l][j]); losses and gradients are {how} over them",
                             rf"\text{{{len(spec.samples)} samples, the columns of $\mathbf{{X}}$; losses and gradients "
                             rf"are {how} over them}}"))
        elif self.several:
            how = "summed" if spec.batch == "sum" else "averaged"
            notes.append(Sym(f"{len(spec.samples)} samples, written [k]; losses and gradients are {how} over them",
                             rf"\text{{{len(spec.samples)} samples, written $[k]$; losses and gradients are {how} over them}}"))
        if spec.learning_rate is None:
            return notes
        w, o = n.weight_text, n.offset_text
        rules = []
        if spec.update_weights:
            rules.append(self.update_rule(w, w, True))
        if spec.update_offsets:
            rules.append(self.update_rule(o, n.offset_latex, spec.decay_offsets))
        if not spec.update_offsets:
            rules.append(Sym(f"{'thresholds' if n.threshold else 'biases'} are not updated",
                             rf"\text{{{'thresholds' if n.threshold else 'biases'} are not updated}}"))
        notes.append(Sym("update: " + "; ".join(r.text for r in rules),
                         r"\text{update: } " + r";\ ".join(r.latex for r in rules)))
        if spec.weight_decay and not spec.l1 and not spec.decay_offsets:
            notes.append(Sym(f"weight decay λ enters the update only: the losses shown leave out λ/2 ‖{w}‖²",
                             rf"\text{{weight decay enters the update only: the losses shown leave out }} "
                             rf"\tfrac{{\lambda}}{{2}} \|{w}\|^2"))
        elif spec.weight_decay or spec.l1:
            notes.append(self.penalty_note())
        if spec.l1:
            notes.append(Sym("L1 by its subgradient: sign(t) = 1 for t > 0, -1 for t < 0, and 0 at t = 0",
                             r"\text{L1 by its subgradient: } \operatorname{sign}(t) = 1 \text{ for } t > 0"
                             r"\text{, } -1 \text{ for } t < 0 \text{, and 0 at } t = 0"))
        if spec.iterations > 1 or spec.loss_after:
            notes.append(Sym(f"a prime marks values after an update: {w}′ after one, {w}″ after two",
                             rf"\text{{a prime marks values after an update: }} {w}' \text{{ after one, }} "
                             rf"{w}'' \text{{ after two}}"))
        return notes
