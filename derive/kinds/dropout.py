"""`kind: dropout`: a network's forward pass with a dropout mask on its hidden units, and at test time.

Chapter 3.2 (Dropout, 训练和测试时实现): while training, each hidden unit is
kept with probability p and set to 0 otherwise (h̃ = m h, the mask m drawn
as `np.random.rand(*H.shape) < p`); at test time no unit is dropped, and the
activations are multiplied by p (the weight-scaling rule, 权重比例推断规则:
multiplying a layer's outgoing weights by p gives the same z). Inverted
dropout divides the kept units by p while training instead, and scales
nothing at test time. Either way a unit's expected training output equals
its test output: E[m h] = p h, E[m h / p] = h.

The lecture writes p for the keep probability in its code and for the drop
probability in its text ("如果训练时dropout的概率为p, 那么所有的权重要乘以1-p"),
so a problem file names which it gives: `keep: 0.8` or `drop: 0.2`.
The network is read as mlp_backprop reads it (sizes, layers,
weights_layout, offset).

The input units can be dropped too, with their own keep probability (the
lecture: "输入单元被包括概率为0.8，隐藏单元为0.5", input units are included
with probability 0.8, hidden units with 0.5): x̃ = m⁰ x, and at test x is
scaled by p₀ (or, inverted, divided by p₀ while training).

DropConnect (the lecture: "将节点中的每个与其相连的输入权值以1-p的概率变成0",
each input weight of a node set to 0 with probability 1 - p; Wan et al.
2013) masks weights instead of units: while training a hidden layer
computes z = Σ (m w) h - θ with one mask value per weight into it; at test
every weight is kept, and the weight-scaling rule multiplies the weights by
p, so that z is the mean of the training z over the masks (E[m w] = p w;
Wan et al.'s "mean" inference, which they refine by sampling a Gaussian
fitted to z's mean and variance: not done here). Inverted, the kept
weights are divided by p while training and the test pass is plain. The
output layer's weights, the offsets and the inputs are not masked: the
lecture names a node's input weights, and Wan et al. mask one hidden layer.
"""

from contextlib import contextmanager
from dataclasses import dataclass

import sympy
from sympy import Add, Mul, Pow

from ..errors import DeriveError
from ..fields import Choice, Declarations, Declared, Integer, Interval, Structured
from ..steps import SolutionBuilder, Sym
from . import mlp_backprop
from .mlp_backprop import LAYER, MAX_LAYERS, MAX_STEPS, MAX_WIDTH, Notation, _sum, read_layers

RULES = ("weight_scaling", "inverted")
METHODS = ("dropout", "dropconnect")
MAX_SEED = 2**63 - 1

ONE_OF_KEEP_DROP, ONE_OF_MASKS_SEED = "one of `keep`, `drop`", "one of `masks`, `seed`"
NO_INPUT_DROPOUT = "none (inputs not dropped)"

_BITS = {"type": "array", "minItems": 1, "maxItems": MAX_WIDTH, "items": {"type": "number", "enum": [0, 1]}}
_BIT_MATRIX = {"type": "array", "minItems": 1, "maxItems": MAX_WIDTH, "items": _BITS}

# where an error found while solving is reported when nothing nearer its cause is known (Problem.solve)
ERRORS_AT = ("layers",)

DECLARED = Declarations(
    Declared("sizes", Structured({"type": "array", "items": {"type": "integer", "minimum": 1, "maximum": MAX_WIDTH},
                                  "minItems": 3, "maxItems": MAX_LAYERS + 1}),
             f"layer sizes, input first, as in `mlp_backprop`, with at least one hidden layer (dropout acts on hidden "
             f"layers): 3 to {MAX_LAYERS + 1} sizes of 1 to {MAX_WIDTH} neurons"),
    mlp_backprop.DECLARED.by_name["weights_layout"],
    mlp_backprop.DECLARED.by_name["offset"],
    Declared("layers", Structured({"type": "array", "items": LAYER.object_schema(), "minItems": 2,
                                   "maxItems": MAX_LAYERS}),
             "one mapping per layer after the input, as in `mlp_backprop` (`activation`, `weights`, `thresholds` or "
             "`biases`; softmax on the output only)"),
    Declared("x", Structured({"anyOf": [{"type": "number"}, {"type": "array", "items": {"type": "number"},
                                                             "minItems": 1, "maxItems": MAX_WIDTH}]}),
             "the input, one number per input neuron"),
    Declared("keep", Interval(0, 1, "a keep probability in (0, 1]", open=("low",)),
             "the probability p of keeping a hidden unit (with `dropconnect`, a weight into one), 0 < p ≤ 1",
             default=None, shown_default=ONE_OF_KEEP_DROP),
    Declared("drop", Interval(0, 1, "a drop probability in [0, 1)", open=("high",)),
             "the probability q = 1 - p of dropping one, 0 ≤ q < 1. The lecture writes p for either in different "
             "slides, so the file names which it gives; giving both is an error", default=None,
             shown_default=ONE_OF_KEEP_DROP),
    Declared("rule", Choice(RULES), "`weight_scaling` (the lecture's `predict`: activations times p at test; "
             "with `dropconnect`, the weights times p) or `inverted` (divide by p while training)",
             default="weight_scaling"),
    Declared("method", Choice(METHODS), "`dropout` (a mask on the hidden units) or `dropconnect` (a mask on every "
             "weight into a hidden unit, Wan et al. 2013; the output layer's weights and the offsets are not "
             "masked)", default="dropout"),
    Declared("masks", Structured({"type": "array", "minItems": 1, "maxItems": MAX_LAYERS - 1,
                                  "items": {"anyOf": [_BITS, _BIT_MATRIX]}}),
             "one list of 0s and 1s per hidden layer, one value per neuron (1 = kept; a 0 needs p < 1); with "
             "`dropconnect`, one matrix per hidden layer, shaped as the `weights` into it", default=None,
             shown_default=ONE_OF_MASKS_SEED),
    Declared("seed", Integer(0, MAX_SEED),
             "a whole number ≥ 0: the masks are drawn as the lecture's `rand(n) < p`, reproducibly, with "
             "`numpy.random.Generator(PCG64(seed))`: `u = random(n)` for the input (with input dropout), then for "
             "each hidden layer in turn (with `dropconnect`, `u = random(shape)` of the weights into it, as "
             "written), `m = 1` where `u < p`", default=None, shown_default=ONE_OF_MASKS_SEED),
    Declared("input_keep", Interval(0, 1, "a keep probability in (0, 1]", open=("low",)),
             "dropout on the input units too: the probability p₀ of keeping one (the lecture's 0.8 for inputs, "
             "beside 0.5 for hidden units), 0 < p₀ ≤ 1; with `method: dropout` only", default=None,
             shown_default=NO_INPUT_DROPOUT),
    Declared("input_drop", Interval(0, 1, "a drop probability in [0, 1)", open=("high",)),
             "the same given as the probability q₀ = 1 - p₀ of dropping an input unit; giving both is an error",
             default=None, shown_default=NO_INPUT_DROPOUT),
    Declared("input_mask", Structured(_BITS),
             "with `masks` and input dropout: one 0 or 1 per input unit (1 = kept; a 0 needs p₀ < 1)",
             default=None, shown_default="drawn from `seed`"),
)


@dataclass(frozen=True)
class DropoutSpec:
    """A validated dropout problem.

    keep: the keep probability p (given as `keep`, or as 1 - `drop`);
    given: which of the two the file wrote, "keep" or "drop"; given_value: the number it wrote;
    method: "dropout" (masks on hidden units) or "dropconnect" (masks on the weights into them);
    masks[l-1]: the 0/1 mask of hidden layer l, a tuple per unit, or with dropconnect a matrix
    [i-1][j-1] over the weights w_ij into it (from i, to j, whatever the file's layout);
    seed: the seed they were drawn with, or None;
    input_keep, input_given, input_given_value, input_mask: the same for the input units
    (None when they are not dropped).
    `samples` (one input, no target) lets mlp_backprop's Notation name the symbols.
    """

    sizes: tuple
    layers: tuple
    weights_layout: str
    offset: str
    x: tuple
    keep: float
    given: str
    rule: str
    masks: tuple
    seed: object = None
    given_value: float = None
    method: str = "dropout"
    input_keep: float = None
    input_given: str = None
    input_given_value: float = None
    input_mask: tuple = None

    @property
    def samples(self):
        return ((self.x, None),)

    @property
    def dropconnect(self):
        return self.method == "dropconnect"


def draw(seed, draws):
    """Masks drawn as the lecture's `np.random.rand(*H.shape) < p`, reproducibly, one per (shape, p) in turn.

    numpy.random.Generator(PCG64(seed)) draws u = random(shape) for each in
    order; an entry is kept (m = 1) where u < p. The same seed gives the same
    masks on every machine and numpy version that keeps PCG64's stream.
    """
    import numpy as np

    rng = np.random.Generator(np.random.PCG64(seed))
    return tuple((rng.random(shape) < keep).astype(int).tolist() for shape, keep in draws)


def draw_masks(seed, keep, widths):
    """The hidden layers' masks, one tuple per layer of `widths`, drawn from `seed` (no input dropout)."""
    return tuple(tuple(mask) for mask in draw(seed, [(n, keep) for n in widths]))


def _read_probability(root, keep_name, drop_name, missing):
    """(p, which the file gave, the number it gave) from a keep/drop pair; None when neither and `missing` is None."""
    if root.has(keep_name) and root.has(drop_name):
        raise root.get(drop_name).error(f"give {keep_name} or {drop_name}, not both")
    if root.has(keep_name):
        value = DECLARED.read(root, keep_name)
        return value, "keep", value
    if root.has(drop_name):
        value = DECLARED.read(root, drop_name)
        return 1 - value, "drop", value
    if missing is None:
        return None, None, None
    raise root.missing(keep_name, missing)


def read(root):
    """Validate the dropout fields of a problem file into a DropoutSpec."""
    sizes_field = DECLARED.field(root, "sizes")
    sizes = tuple(item.integer(1, MAX_WIDTH) for item in sizes_field.items())
    if not 3 <= len(sizes) <= MAX_LAYERS + 1:
        raise sizes_field.error(f"expected 3 to {MAX_LAYERS + 1} layer sizes (input first): "
                                f"dropout acts on hidden layers, got {len(sizes)} sizes")
    layout = DECLARED.read(root, "weights_layout")
    offset = DECLARED.read(root, "offset")
    method = DECLARED.read(root, "method")
    dropconnect = method == "dropconnect"
    parameters = sum(n_from * n_to + n_to for n_from, n_to in zip(sizes, sizes[1:]))
    steps = parameters + 2 * (2 * sum(sizes[1:]) + 2 * sum(sizes[1:-1]))
    if root.has("input_keep") or root.has("input_drop"):
        steps += 3 * sizes[0]
    if dropconnect:
        steps += 4 * sum(n_from * n_to for n_from, n_to in zip(sizes[:-2], sizes[1:-1]))
    if steps > MAX_STEPS:
        raise sizes_field.error(f"problem too large to solve step by step (about {steps} steps; at most {MAX_STEPS}); "
                                "use fewer or narrower layers")
    layers = read_layers(root, sizes, layout, offset)
    x = DECLARED.field(root, "x").vector(sizes[0])

    keep, given, given_value = _read_probability(
        root, "keep", "drop", "missing: give keep (the probability of keeping a unit) or drop (of dropping it)")
    input_keep, input_given, input_given_value = _read_probability(root, "input_keep", "input_drop", None)
    if input_keep is not None and dropconnect:
        raise root.get(f"input_{input_given}").error(
            "input dropout goes with method: dropout (DropConnect masks weights, not units)")
    rule = DECLARED.read(root, "rule")

    # what each mask covers: (shape, p) in the order a seed draws them
    hidden = [((n_from, n_to) if layout == "from_to" else (n_to, n_from)) if dropconnect else n_to
              for n_from, n_to in zip(sizes[:-2], sizes[1:-1])]
    if root.has("masks") and root.has("seed"):
        raise root.get("seed").error("give masks or seed, not both")
    if root.has("input_mask") and input_keep is None:
        raise root.get("input_mask").error("goes with input_keep or input_drop (dropout on the input units)")
    seed, input_mask = None, None
    if root.has("masks"):
        masks = _read_masks(root.get("masks"), hidden, keep, dropconnect, layout)
        if input_keep is not None:
            if not root.has("input_mask"):
                raise root.missing("input_mask", "missing: with masks and input dropout, give input_mask "
                                                 "(one 0 or 1 per input unit)")
            input_mask = _read_bits(root.get("input_mask"), sizes[0], input_keep,
                                    "one per input unit", "an input", "input_keep")
    elif root.has("seed"):
        if root.has("input_mask"):
            raise root.get("seed").error("give input_mask or seed, not both")
        seed = DECLARED.read(root, "seed")
        drawn = draw(seed, ([(sizes[0], input_keep)] if input_keep is not None else []) +
                     [(shape, keep) for shape in hidden])
        if input_keep is not None:
            input_mask, drawn = tuple(drawn[0]), drawn[1:]
        masks = tuple(_from_to(mask, layout) if dropconnect else tuple(mask) for mask in drawn)
    else:
        raise root.missing("masks", "missing: give masks (one list of 0s and 1s per hidden layer) or a seed to draw them")
    return DropoutSpec(sizes, layers, layout, offset, x, keep, given, rule, masks, seed, given_value, method,
                       input_keep, input_given, input_given_value, input_mask)


def _from_to(matrix, layout):
    """A weight-shaped matrix as written, turned to [from][to]."""
    rows = tuple(tuple(row) for row in matrix)
    return rows if layout == "from_to" else tuple(zip(*rows))


def _read_bits(field, n, keep, what, unit, keep_name):
    """A list of n 0s and 1s; a 0 only where the entry can be dropped (keep < 1)."""
    items = field.items()
    if len(items) != n:
        raise field.error(f"expected a mask of {n} values ({what}), got {len(items)}")
    values = []
    for item in items:
        value = item.number()
        if value not in (0, 1):
            raise item.error(f"expected 0 (dropped) or 1 (kept), got {value:g}")
        if value == 0 and keep == 1:
            raise item.error(f"{unit} kept with probability 1 cannot be dropped: a 0 here needs {keep_name} < 1")
        values.append(int(value))
    return tuple(values)


def _read_masks(masks_field, hidden, keep, dropconnect, layout):
    """One mask per hidden layer: a tuple per unit, or with dropconnect a [from][to] matrix per weight."""
    mask_fields = masks_field.items()
    if len(mask_fields) != len(hidden):
        raise masks_field.error(f"expected one mask per hidden layer ({len(hidden)}), got {len(mask_fields)}")
    if not dropconnect:
        return tuple(_read_bits(field, n, keep, f"one per neuron of layer {l}", "a unit", "keep")
                     for l, (field, n) in enumerate(zip(mask_fields, hidden), start=1))
    masks = []
    for l, (field, (rows, cols)) in enumerate(zip(mask_fields, hidden), start=1):
        row_fields = field.items()
        shape = f"{rows}x{cols} matrix, shaped as the weights into layer {l}"
        if not any(isinstance(row.value, list) for row in row_fields):
            raise field.error(f"expected a {shape}, got a list of numbers (one per unit, as method: dropout "
                              "writes a mask)")
        if len(row_fields) != rows:
            raise field.error(f"expected a {shape}, got {len(row_fields)} row(s)")
        masks.append(_from_to([_read_bits(row, cols, keep, f"row {r} of the {shape}", "a weight", "keep")
                               for r, row in enumerate(row_fields, start=1)], layout))
    return tuple(masks)


def solve(problem, rounding):
    """The Solution of a dropout problem: the training pass with the mask, then the test pass."""
    return _DropoutSolver(problem, rounding).solve()


def _tilde(plain):
    """x₁ -> x̃₁: the symbol of a masked quantity."""
    return Sym(plain.text[0] + "\u0303" + plain.text[1:], rf"\tilde{{{plain.latex[0]}}}{plain.latex[1:]}")


class _DropoutSolver:
    """Builds the givens, the probability left unsaid, then the two forward passes."""

    def __init__(self, problem, rounding):
        self.problem = problem
        self.spec = problem.spec
        self.n = Notation(self.spec)
        self.out = SolutionBuilder(rounding)
        self.L = len(self.spec.layers)
        self.offset_name = "theta" if self.n.threshold else "b"

    @staticmethod
    def key(name, *indices, prefix=""):
        return prefix + name + "".join(f"[{i}]" for i in indices)

    @contextmanager
    def activation_of(self, l):
        """Errors evaluating layer l's activation name its `activation:` line."""
        try:
            yield
        except DeriveError as error:
            line, field = self.spec.layers[l - 1].activation_at
            raise error.locate(line=line, field=field) from None

    def solve(self):
        self.givens()
        self.forward("train.", "Training pass", train=True)
        self.forward("test.", "Test pass", train=False)
        return self.out.build(self.problem.name, self.problem.kind, self.problem.title, notes=self.notes())

    # givens ---------------------------------------------------------------
    def weight_order(self, l):
        """(i, j) of layer l's weights in the order they are printed: as the file's layout writes them."""
        n_from, n_to = self.spec.sizes[l - 1], self.spec.sizes[l]
        if self.n.matrix:
            return [(i, j) for j in range(1, n_to + 1) for i in range(1, n_from + 1)]
        return [(i, j) for i in range(1, n_from + 1) for j in range(1, n_to + 1)]

    def mask_sym(self, l, i, j):
        """The mask of weight (l, i, j), indexed as the weight is: M⁽ˡ⁾_ji (matrix layout) or mˡ_ij."""
        if self.n.matrix:
            return Sym.indexed("M", "M", self.n._layer(l), (j, i))
        return Sym.indexed("m", "m", l, (i, j))

    def givens(self):
        spec, n, out = self.spec, self.n, self.out
        for i, value in enumerate(spec.x, start=1):
            out.given(self.key("x", i), n.x(i), value, group="x")
        self.weights, self.offsets = {}, {}
        for l, layer in enumerate(spec.layers, start=1):
            for i, j in self.weight_order(l):
                self.weights[l, i, j] = out.given(self.key("w", l, i, j), n.w(l, i, j), layer.weights[i - 1][j - 1],
                                                  group=f"w{l}.{j if n.matrix else i}")
            for j, value in enumerate(layer.offsets, start=1):
                self.offsets[l, j] = out.given(self.key(self.offset_name, l, j), n.offset(l, j), value, group=f"o{l}")
        section = "Keep and drop probabilities"
        self.p = self.probability("keep", "drop", Sym("p", "p"), Sym("q", "q"), spec.given, spec.given_value,
                                  section, "")
        self.p0 = None
        if spec.input_keep is not None:
            self.p0 = self.probability("input_keep", "input_drop", Sym("p₀", "p_{0}"), Sym("q₀", "q_{0}"),
                                       spec.input_given, spec.input_given_value, section, " of an input unit")
        self.masks = {}
        if spec.input_mask is not None:
            for i, value in enumerate(spec.input_mask, start=1):
                self.masks[0, i] = out.given(self.key("m", 0, i), Sym.indexed("m", "m", n._layer(0), (i,)),
                                             value, group="m0")
        for l, mask in enumerate(spec.masks, start=1):
            if spec.dropconnect:
                for i, j in self.weight_order(l):
                    self.masks[l, i, j] = out.given(self.key("m", l, i, j), self.mask_sym(l, i, j),
                                                    mask[i - 1][j - 1], group=f"m{l}.{j if n.matrix else i}")
                continue
            for j, value in enumerate(mask, start=1):
                self.masks[l, j] = out.given(self.key("m", l, j), Sym.indexed("m", "m", n._layer(l), (j,)),
                                             value, group=f"m{l}")

    def probability(self, keep_key, drop_key, keep_symbol, drop_symbol, given, value, section, of):
        """The given probability and the other, 1 minus it; the keep probability's Symbol."""
        out, group = self.out, "p0" if keep_key.startswith("input") else "p"
        if given == "keep":
            p = out.given(keep_key, keep_symbol, value, group=group)
            out.step(drop_key, drop_symbol, Add(1, Mul(-1, p, evaluate=False), evaluate=False), section,
                     note=f"the drop probability{of}")
            return p
        q = out.given(drop_key, drop_symbol, value, group=group)
        return out.step(keep_key, keep_symbol, Add(1, Mul(-1, q, evaluate=False), evaluate=False), section,
                        note=f"the keep probability{of}")

    # the two passes -------------------------------------------------------
    def forward(self, prefix, section, train):
        """One forward pass; units (or weights) masked (train) or scaled (test) as the rule says."""
        spec, n, out = self.spec, self.n, self.out
        inverted = spec.rule == "inverted"
        previous = [sympy.Symbol(self.key("x", i)) for i in range(1, spec.sizes[0] + 1)]
        if self.p0 is not None:
            previous = [self.thin_input(i, x, prefix, section, train, inverted) for i, x in enumerate(previous, 1)]
        for l, layer in enumerate(spec.layers, start=1):
            last = l == self.L
            weights = self.weights
            if spec.dropconnect and not last:
                weights = self.connect(l, prefix, section, train, inverted)
            zs = []
            for j in range(1, spec.sizes[l] + 1):
                terms = [Mul(h, weights[l, i, j], evaluate=False) for i, h in enumerate(previous, start=1)]
                offset = self.offsets[l, j]
                terms.append(Mul(-1, offset, evaluate=False) if n.threshold else offset)
                zs.append(out.step(self.key("z", l, j, prefix=prefix), n.z(l, j), Add(*terms, evaluate=False), section))
            hs = []
            for j, z in enumerate(zs, start=1):
                if layer.activation.is_softmax:
                    total = _sum([sympy.exp(v) for v in zs])
                    formula = Mul(sympy.exp(z), Pow(total, -1, evaluate=False), evaluate=False)
                else:
                    formula = layer.activation.apply(z)
                key, symbol = ((self.key("yhat", j, prefix=prefix), n.yhat(j)) if last
                               else (self.key("h", l, j, prefix=prefix), n.h(l, j)))
                with self.activation_of(l):
                    hs.append(out.step(key, symbol, formula, section))
            if last:
                break
            previous = hs if spec.dropconnect else \
                [self.thin(l, j, h, prefix, section, train, inverted) for j, h in enumerate(hs, start=1)]

    def masked(self, name, indices, mask, value, p, plain, p_text, prefix, section, train, inverted):
        """What a masked quantity passes on: m v (and m v / p, inverted) in training; p v or v at test."""
        out = self.out
        thinned = _tilde(plain)
        if train:
            step = out.step(self.key(f"{name}_masked", *indices, prefix=prefix), thinned,
                            Mul(mask, value, evaluate=False), section)
            if not inverted:
                return step
            return out.step(self.key(f"{name}_scaled", *indices, prefix=prefix),
                            Sym(f"({thinned.text}/{p_text.text})", rf"\left({thinned.latex}/{p_text.latex}\right)"),
                            Mul(step, Pow(p, -1, evaluate=False), evaluate=False), section)
        if inverted:
            return value
        return out.step(self.key(f"{name}_scaled", *indices, prefix=prefix),
                        Sym(f"{p_text.text} {plain.text}", f"{p_text.latex}\\,{plain.latex}"),
                        Mul(p, value, evaluate=False), section)

    def thin(self, l, j, h, prefix, section, train, inverted):
        """What hidden unit (l, j) passes on: m h (and m h / p, inverted) in training; p h or h at test."""
        return self.masked("h", (l, j), self.masks.get((l, j)), h, self.p, self.n.h(l, j), Sym("p", "p"),
                           prefix, section, train, inverted)

    def thin_input(self, i, x, prefix, section, train, inverted):
        """What input unit i passes on: m⁰ x (and / p₀, inverted) in training; p₀ x or x at test."""
        return self.masked("x", (i,), self.masks.get((0, i)), x, self.p0, self.n.x(i), Sym("p₀", "p_{0}"),
                           prefix, section, train, inverted)

    def connect(self, l, prefix, section, train, inverted):
        """DropConnect: the weights into hidden layer l as this pass uses them, keyed as self.weights."""
        used = {}
        for i, j in self.weight_order(l):
            used[l, i, j] = self.masked("w", (l, i, j), self.masks.get((l, i, j)), self.weights[l, i, j], self.p,
                                        self.n.w(l, i, j), Sym("p", "p"), prefix, section, train, inverted)
        return used

    # notes ----------------------------------------------------------------
    def notes(self):
        spec = self.spec
        h = self.n.h(1, 1).text[0]
        notes = []
        if spec.given == "keep":
            notes.append(Sym(f"the file gives the keep probability p = {spec.keep:g}; the drop probability is q = 1 - p",
                             rf"\text{{the file gives the keep probability }} p = {spec.keep:g}"
                             r"\text{; the drop probability is } q = 1 - p"))
        else:
            kept = "a weight" if spec.dropconnect else "a unit"
            notes.append(Sym(f"the file gives the drop probability q = {spec.given_value:g}; "
                             f"{kept} is kept with probability p = 1 - q",
                             rf"\text{{the file gives the drop probability }} q = {spec.given_value:g}"
                             rf"\text{{; {kept} is kept with probability }} p = 1 - q"))
        if spec.input_keep is not None:
            given = (f"the keep probability p₀ = {spec.input_keep:g}" if spec.input_given == "keep"
                     else f"the drop probability q₀ = {spec.input_given_value:g}, so p₀ = 1 - q₀")
            given_latex = (rf"\text{{the keep probability }} p_{{0}} = {spec.input_keep:g}"
                           if spec.input_given == "keep" else
                           rf"\text{{the drop probability }} q_{{0}} = {spec.input_given_value:g}"
                           r"\text{, so } p_{0} = 1 - q_{0}")
            m0 = Sym.indexed("m", "m", self.n._layer(0), ())
            notes.append(Sym(f"the input units are dropped too, with {given} (the lecture keeps inputs with "
                             f"probability 0.8 and hidden units with 0.5); x̃ = {m0.text} x",
                             rf"\text{{the input units are dropped too, with }} {given_latex}"
                             rf"\text{{; }} \tilde{{x}} = {m0.latex}\,x"))
        if spec.seed is not None:
            order = ("for the input, then for each hidden layer in turn" if spec.input_keep is not None
                     else "for each hidden layer in turn")
            shape = "u = random(shape of the weights into it, as written)" if spec.dropconnect else "u = random(n)"
            shape_latex = (r"u = \mathrm{random}(\text{shape of its weights})" if spec.dropconnect
                           else r"u = \mathrm{random}(n)")
            inputs = " (u < p₀ for the input)" if spec.input_keep is not None else ""
            inputs_latex = r"\text{ (} u < p_{0} \text{ for the input)}" if spec.input_keep is not None else ""
            notes.append(Sym(f"masks drawn with numpy.random.Generator(PCG64({spec.seed})): {order} {shape}, "
                             f"and m = 1 (kept) where u < p{inputs}, else 0",
                             rf"\text{{masks drawn with numpy.random.Generator(PCG64({spec.seed})): {order} }} "
                             rf"{shape_latex}\text{{, and }} m = 1 \text{{ (kept) where }} u < p{inputs_latex}"
                             r"\text{, else 0}"))
        if spec.dropconnect:
            notes.extend(self.dropconnect_notes())
            return notes
        notes.append(Sym(f"m = 1 keeps a hidden unit, m = 0 drops it; {h}̃ = m {h}",
                         rf"m = 1 \text{{ keeps a hidden unit, }} m = 0 \text{{ drops it; }} \tilde{{{h}}} = m\,{h}"))
        inputs = spec.input_keep is not None
        if spec.rule == "weight_scaling":
            also = " and every input by p₀" if inputs else ""
            also_latex = r"\text{ and every input by } p_{0}" if inputs else ""
            whose = "their outgoing weights by p and p₀" if inputs else "its outgoing weights by p"
            notes.append(Sym(f"weight-scaling rule: train with {h}̃ = m {h}; at test no unit is dropped and every "
                             f"hidden activation is multiplied by p{also} (the same as multiplying {whose}), "
                             f"because E[m {h}] = p·{h} + q·0 = p {h}",
                             rf"\text{{weight-scaling rule: train with }} \tilde{{{h}}} = m\,{h}\text{{; at test every "
                             rf"hidden activation is multiplied by }} p{also_latex}\text{{, because }} E[m\,{h}] = "
                             rf"p \cdot {h} + q \cdot 0 = p\,{h}"))
        else:
            also = " (and each kept input by p₀)" if inputs else ""
            also_latex = r"\text{ (and each kept input by } p_{0}\text{)}" if inputs else ""
            notes.append(Sym(f"inverted dropout: train with {h}̃/p = m {h} / p{also}; at test no unit is dropped and "
                             f"nothing is scaled, because E[m {h} / p] = (p·{h} + q·0) / p = {h}",
                             rf"\text{{inverted dropout: train with }} \tilde{{{h}}}/p = m\,{h}/p{also_latex}"
                             rf"\text{{; at test nothing is scaled, because }} E[m\,{h}/p] = (p \cdot {h} + "
                             rf"q \cdot 0)/p = {h}"))
        notes.append(Sym("the expectation is over the mask, for a unit's given activation; "
                         "through later non-linear layers the test output only approximates the average training output",
                         r"\text{the expectation is over the mask, for a unit's given activation; through later "
                         r"non-linear layers the test output only approximates the average training output}"))
        return notes

    def dropconnect_notes(self):
        spec = self.spec
        w = self.n.w(1, 1, 1).text[0]
        m = self.mask_sym(1, 1, 1).text[0]  # M beside chapter 3.2's W, m beside the BP lecture's w
        notes = [Sym(f"DropConnect (Wan et al. 2013): each weight into a hidden unit has its own mask value, "
                     f"{m} = 1 keeps it, {m} = 0 drops it; {w}̃ = {m} {w}; the output layer's weights and the offsets "
                     "are never dropped",
                     rf"\text{{DropConnect (Wan et al. 2013): each weight into a hidden unit has its own mask "
                     rf"value; }} \tilde{{{w}}} = {m}\,{w}\text{{; the output layer's weights and the offsets are "
                     r"never dropped}")]
        if spec.rule == "weight_scaling":
            notes.append(Sym(f"weight-scaling rule (Wan et al.'s mean inference): train with {w}̃ = {m} {w}; at test "
                             f"no weight is dropped and every masked weight is multiplied by p, because "
                             f"E[Σ {m} {w} h] = Σ p {w} h: the test z is the mean of the training z",
                             rf"\text{{weight-scaling rule: train with }} \tilde{{{w}}} = {m}\,{w}\text{{; at test "
                             rf"every masked weight is multiplied by }} p\text{{, because }} E[\sum {m}\,{w}\,h] = "
                             rf"\sum p\,{w}\,h"))
        else:
            notes.append(Sym(f"inverted DropConnect: train with {w}̃/p = {m} {w} / p; at test no weight is dropped "
                             f"and nothing is scaled, because E[Σ {m} {w} h / p] = Σ {w} h",
                             rf"\text{{inverted DropConnect: train with }} \tilde{{{w}}}/p = {m}\,{w}/p\text{{; at "
                             rf"test nothing is scaled, because }} E[\sum {m}\,{w}\,h/p] = \sum {w}\,h"))
        notes.append(Sym("the expectation is over the masks, for the layer's given input; through the activation "
                         "and later layers the test output only approximates the average training output (Wan et al. "
                         "sample a Gaussian fitted to z's mean and variance instead; not done here)",
                         r"\text{the expectation is over the masks, for the layer's given input; through the "
                         r"activation and later layers the test output only approximates the average training "
                         r"output}"))
        return notes
