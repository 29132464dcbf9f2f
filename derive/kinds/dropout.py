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
MAX_SEED = 2**63 - 1

ONE_OF_KEEP_DROP, ONE_OF_MASKS_SEED = "one of `keep`, `drop`", "one of `masks`, `seed`"

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
             "the probability p of keeping a hidden unit, 0 < p ≤ 1", default=None, shown_default=ONE_OF_KEEP_DROP),
    Declared("drop", Interval(0, 1, "a drop probability in [0, 1)", open=("high",)),
             "the probability q = 1 - p of dropping one, 0 ≤ q < 1. The lecture writes p for either in different "
             "slides, so the file names which it gives; giving both is an error", default=None,
             shown_default=ONE_OF_KEEP_DROP),
    Declared("rule", Choice(RULES), "`weight_scaling` (the lecture's `predict`: activations times p at test) or "
             "`inverted` (divide by p while training)", default="weight_scaling"),
    Declared("masks", Structured({"type": "array", "minItems": 1, "maxItems": MAX_LAYERS - 1, "items": {
                 "type": "array", "minItems": 1, "maxItems": MAX_WIDTH, "items": {"type": "number", "enum": [0, 1]}}}),
             "one list of 0s and 1s per hidden layer, one value per neuron (1 = kept; a 0 needs p < 1)", default=None,
             shown_default=ONE_OF_MASKS_SEED),
    Declared("seed", Integer(0, MAX_SEED),
             "a whole number ≥ 0: the masks are drawn as the lecture's `rand(n) < p`, reproducibly, with "
             "`numpy.random.Generator(PCG64(seed))`: `u = random(n)` for each hidden layer in turn, `m = 1` where "
             "`u < p`", default=None, shown_default=ONE_OF_MASKS_SEED),
)


@dataclass(frozen=True)
class DropoutSpec:
    """A validated dropout problem.

    keep: the keep probability p (given as `keep`, or as 1 - `drop`);
    given: which of the two the file wrote, "keep" or "drop"; given_value: the number it wrote;
    masks[l-1]: the 0/1 mask of hidden layer l; seed: the seed they were drawn with, or None.
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

    @property
    def samples(self):
        return ((self.x, None),)


def draw_masks(seed, keep, widths):
    """The masks the lecture's `np.random.rand(*H.shape) < p` draws, reproducibly.

    numpy.random.Generator(PCG64(seed)) draws u = random(n) for each hidden
    layer in turn; a unit is kept (m = 1) where u < p. The same seed gives the
    same masks on every machine and numpy version that keeps PCG64's stream.
    """
    import numpy as np

    rng = np.random.Generator(np.random.PCG64(seed))
    return tuple(tuple(int(u < keep) for u in rng.random(n)) for n in widths)


def read(root):
    """Validate the dropout fields of a problem file into a DropoutSpec."""
    sizes_field = DECLARED.field(root, "sizes")
    sizes = tuple(item.integer(1, MAX_WIDTH) for item in sizes_field.items())
    if not 3 <= len(sizes) <= MAX_LAYERS + 1:
        raise sizes_field.error(f"expected 3 to {MAX_LAYERS + 1} layer sizes (input first): "
                                f"dropout acts on hidden layers, got {len(sizes)} sizes")
    layout = DECLARED.read(root, "weights_layout")
    offset = DECLARED.read(root, "offset")
    parameters = sum(n_from * n_to + n_to for n_from, n_to in zip(sizes, sizes[1:]))
    steps = parameters + 2 * (2 * sum(sizes[1:]) + 2 * sum(sizes[1:-1]))
    if steps > MAX_STEPS:
        raise sizes_field.error(f"problem too large to solve step by step (about {steps} steps; at most {MAX_STEPS}); "
                                "use fewer or narrower layers")
    layers = read_layers(root, sizes, layout, offset)
    x = DECLARED.field(root, "x").vector(sizes[0])

    if root.has("keep") and root.has("drop"):
        raise root.get("drop").error("give keep or drop, not both")
    if root.has("keep"):
        keep = given_value = DECLARED.read(root, "keep")
        given = "keep"
    elif root.has("drop"):
        given, given_value = "drop", DECLARED.read(root, "drop")
        keep = 1 - given_value
    else:
        raise root.missing("keep", "missing: give keep (the probability of keeping a unit) or drop (of dropping it)")
    rule = DECLARED.read(root, "rule")

    widths = sizes[1:-1]
    if root.has("masks") and root.has("seed"):
        raise root.get("seed").error("give masks or seed, not both")
    seed = None
    if root.has("masks"):
        masks = _read_masks(root.get("masks"), widths, keep)
    elif root.has("seed"):
        seed = DECLARED.read(root, "seed")
        masks = draw_masks(seed, keep, widths)
    else:
        raise root.missing("masks", "missing: give masks (one list of 0s and 1s per hidden layer) or a seed to draw them")
    return DropoutSpec(sizes, layers, layout, offset, x, keep, given, rule, masks, seed, given_value)


def _read_masks(masks_field, widths, keep):
    """One tuple of 0s and 1s per hidden layer, as long as the layer; a 0 only where a unit can be dropped."""
    mask_fields = masks_field.items()
    if len(mask_fields) != len(widths):
        raise masks_field.error(f"expected one mask per hidden layer ({len(widths)}), got {len(mask_fields)}")
    masks = []
    for l, (field, n) in enumerate(zip(mask_fields, widths), start=1):
        items = field.items()
        if len(items) != n:
            raise field.error(f"expected a mask of {n} values (one per neuron of layer {l}), got {len(items)}")
        values = []
        for item in items:
            value = item.number()
            if value not in (0, 1):
                raise item.error(f"expected 0 (dropped) or 1 (kept), got {value:g}")
            if value == 0 and keep == 1:
                raise item.error("a unit kept with probability 1 cannot be dropped: a 0 here needs keep < 1")
            values.append(int(value))
        masks.append(tuple(values))
    return tuple(masks)


def solve(problem, rounding):
    """The Solution of a dropout problem: the training pass with the mask, then the test pass."""
    return _DropoutSolver(problem, rounding).solve()


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
    def givens(self):
        spec, n, out = self.spec, self.n, self.out
        for i, value in enumerate(spec.x, start=1):
            out.given(self.key("x", i), n.x(i), value, group="x")
        self.weights, self.offsets = {}, {}
        for l, layer in enumerate(spec.layers, start=1):
            n_from, n_to = spec.sizes[l - 1], spec.sizes[l]
            order = ([(i, j) for j in range(1, n_to + 1) for i in range(1, n_from + 1)] if n.matrix
                     else [(i, j) for i in range(1, n_from + 1) for j in range(1, n_to + 1)])
            for i, j in order:
                self.weights[l, i, j] = out.given(self.key("w", l, i, j), n.w(l, i, j), layer.weights[i - 1][j - 1],
                                                  group=f"w{l}.{j if n.matrix else i}")
            for j, value in enumerate(layer.offsets, start=1):
                self.offsets[l, j] = out.given(self.key(self.offset_name, l, j), n.offset(l, j), value, group=f"o{l}")
        keep_symbol, drop_symbol = Sym("p", "p"), Sym("q", "q")
        section = "Keep and drop probabilities"
        if spec.given == "keep":
            self.p = out.given("keep", keep_symbol, spec.keep, group="p")
            out.step("drop", drop_symbol, Add(1, Mul(-1, self.p, evaluate=False), evaluate=False), section,
                     note="the drop probability")
        else:
            q = out.given("drop", drop_symbol, spec.given_value, group="p")
            self.p = out.step("keep", keep_symbol, Add(1, Mul(-1, q, evaluate=False), evaluate=False), section,
                              note="the keep probability")
        self.masks = {}
        for l, mask in enumerate(spec.masks, start=1):
            for j, value in enumerate(mask, start=1):
                self.masks[l, j] = out.given(self.key("m", l, j), Sym.indexed("m", "m", self.n._layer(l), (j,)),
                                             value, group=f"m{l}")

    # the two passes -------------------------------------------------------
    def forward(self, prefix, section, train):
        """One forward pass; hidden units masked (train) or scaled (test) as the rule says."""
        spec, n, out = self.spec, self.n, self.out
        inverted = spec.rule == "inverted"
        previous = [sympy.Symbol(self.key("x", i)) for i in range(1, spec.sizes[0] + 1)]
        for l, layer in enumerate(spec.layers, start=1):
            zs = []
            for j in range(1, spec.sizes[l] + 1):
                terms = [Mul(h, self.weights[l, i, j], evaluate=False) for i, h in enumerate(previous, start=1)]
                offset = self.offsets[l, j]
                terms.append(Mul(-1, offset, evaluate=False) if n.threshold else offset)
                zs.append(out.step(self.key("z", l, j, prefix=prefix), n.z(l, j), Add(*terms, evaluate=False), section))
            last = l == self.L
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
            previous = [self.thin(l, j, h, prefix, section, train, inverted) for j, h in enumerate(hs, start=1)]

    def thin(self, l, j, h, prefix, section, train, inverted):
        """What hidden unit (l, j) passes on: m h (and m h / p, inverted) in training; p h or h at test."""
        out, n = self.out, self.n
        plain = n.h(l, j)
        thinned = Sym(plain.text[0] + "\u0303" + plain.text[1:], rf"\tilde{{{plain.latex[0]}}}{plain.latex[1:]}")
        if train:
            masked = out.step(self.key("h_masked", l, j, prefix=prefix), thinned,
                              Mul(self.masks[l, j], h, evaluate=False), section)
            if not inverted:
                return masked
            return out.step(self.key("h_scaled", l, j, prefix=prefix),
                            Sym(f"({thinned.text}/p)", rf"\left({thinned.latex}/p\right)"),
                            Mul(masked, Pow(self.p, -1, evaluate=False), evaluate=False), section)
        if inverted:
            return h
        return out.step(self.key("h_scaled", l, j, prefix=prefix), Sym(f"p {plain.text}", f"p\\,{plain.latex}"),
                        Mul(self.p, h, evaluate=False), section)

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
            notes.append(Sym(f"the file gives the drop probability q = {spec.given_value:g}; "
                             "a unit is kept with probability p = 1 - q",
                             rf"\text{{the file gives the drop probability }} q = {spec.given_value:g}"
                             r"\text{; a unit is kept with probability } p = 1 - q"))
        if spec.seed is not None:
            notes.append(Sym(f"masks drawn with numpy.random.Generator(PCG64({spec.seed})): for each hidden layer in "
                             "turn u = random(n), and m = 1 (kept) where u < p, else 0",
                             rf"\text{{masks drawn with numpy.random.Generator(PCG64({spec.seed})): for each hidden "
                             r"layer in turn } u = \mathrm{random}(n)\text{, and } m = 1 \text{ (kept) where } u < p"
                             r"\text{, else 0}"))
        notes.append(Sym(f"m = 1 keeps a hidden unit, m = 0 drops it; {h}̃ = m {h}",
                         rf"m = 1 \text{{ keeps a hidden unit, }} m = 0 \text{{ drops it; }} \tilde{{{h}}} = m\,{h}"))
        if spec.rule == "weight_scaling":
            notes.append(Sym(f"weight-scaling rule: train with {h}̃ = m {h}; at test no unit is dropped and every "
                             f"hidden activation is multiplied by p (the same as multiplying its outgoing weights by p), "
                             f"because E[m {h}] = p·{h} + q·0 = p {h}",
                             rf"\text{{weight-scaling rule: train with }} \tilde{{{h}}} = m\,{h}\text{{; at test every "
                             rf"hidden activation is multiplied by }} p\text{{, because }} E[m\,{h}] = p \cdot {h} + "
                             rf"q \cdot 0 = p\,{h}"))
        else:
            notes.append(Sym(f"inverted dropout: train with {h}̃/p = m {h} / p; at test no unit is dropped and "
                             f"nothing is scaled, because E[m {h} / p] = (p·{h} + q·0) / p = {h}",
                             rf"\text{{inverted dropout: train with }} \tilde{{{h}}}/p = m\,{h}/p\text{{; at test "
                             rf"nothing is scaled, because }} E[m\,{h}/p] = (p \cdot {h} + q \cdot 0)/p = {h}"))
        notes.append(Sym("the expectation is over the mask, for a unit's given activation; "
                         "through later non-linear layers the test output only approximates the average training output",
                         r"\text{the expectation is over the mask, for a unit's given activation; through later "
                         r"non-linear layers the test output only approximates the average training output}"))
        return notes
