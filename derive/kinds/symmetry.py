"""`kind: symmetry`: why a layer's weights cannot all start equal, shown by running gradient descent.

Chapter 3.2 (参数初始化, 对称权重问题): if the hidden neurons of a layer start
with equal weights, they compute equal activations in the forward pass and
receive equal gradients in the backward pass, so the update keeps them
equal, iteration after iteration: the layer behaves as one neuron. A random
initialisation breaks the tie.

The problem is an mlp_backprop problem (the same fields, solved by the
same solver) whose weights may instead be drawn by `init`. To its steps
this kind adds, for every hidden layer and every neuron j >= 2, the
differences to neuron 1 of the same layer: of the weights into and out of
it at the start and after each update, and of its activation, delta and
gradients in each iteration. Each is a step whose formula is the difference
of two earlier steps; with equal starting weights each is exactly 0.
"""

from dataclasses import dataclass, replace

import sympy

from ..fields import REQUIRED, Choice, Declarations, Declared, Integer, Number, Structured
from ..problem import Field
from ..steps import Sym
from . import mlp_backprop
from .mlp_backprop import _minus, _MlpSolver, _section

DISTRIBUTIONS = ("normal", "uniform")
MAX_SEED = 2**63 - 1

ONE_OF_CONSTANT_SEED = "one of `constant`, `seed`"
INIT = Declarations(
    Declared("constant", Number(), "every weight starts at this number (nothing else may be given with it)",
             default=None, shown_default=ONE_OF_CONSTANT_SEED),
    Declared("seed", Integer(0, MAX_SEED), "a whole number ≥ 0: the weights are drawn with "
             "`numpy.random.Generator(PCG64(seed))`, one layer after another", default=None,
             shown_default=ONE_OF_CONSTANT_SEED),
    Declared("scale", Number(positive=True), "σ of `normal`, r of `uniform`: a positive number",
             default=None, shown_default="required with `seed`"),
    Declared("distribution", Choice(DISTRIBUTIONS), "`normal`: the lecture's `W = σ · randn(fan_in, fan_out)`; "
             "`uniform`: `W = 2r · rand(fan_in, fan_out) - r`", default="normal"),
    Declared("decimals", Integer(0, 12), "each drawn weight is rounded to this many decimals (0 to 12), so that it "
             "can be written by hand", default=2),
)
# mlp_backprop's fields, as a symmetry problem has them: a hidden layer, a target for every sample, weights that
# `init` may give instead of the layers
LAYER = Declarations(*(replace(d, default=None, shown_default="required without `init`") if d.name == "weights"
                       else d for d in mlp_backprop.LAYER.declared))
_MLP = mlp_backprop.DECLARED.by_name
_CHANGED = (
    replace(_MLP["sizes"], type=Structured({**_MLP["sizes"].type.schema(), "minItems": 3, "items": {
                "type": "integer", "minimum": 1, "maximum": mlp_backprop.MAX_WIDTH}}),
            description=f"layer sizes, input first: `[2, 2, 1]`, with a hidden layer of 2 or more neurons (3 to "
                        f"{mlp_backprop.MAX_LAYERS + 1} sizes of 1 to {mlp_backprop.MAX_WIDTH} neurons)"),
    replace(_MLP["layers"], type=Structured({"type": "array", "items": LAYER.object_schema()}),
            description="one mapping per layer after the input, in order, as in `mlp_backprop`; without `weights` "
                        "when `init` gives them (below)"),
    replace(_MLP["samples"], type=Structured({**_MLP["samples"].type.schema(),
                                              "items": {**mlp_backprop.SAMPLE, "required": ["x", "y"]}}),
            description="a list of `{x: [...], y: [...]}`, every sample with its target y (the symmetry shows in the "
                        "updates)"),
    replace(_MLP["learning_rate"], default=REQUIRED, shown_default=None),
)

# where an error found while solving is reported when nothing nearer its cause is known (Problem.solve)
ERRORS_AT = ("layers",)

DECLARED = Declarations(
    *({d.name: d for d in _CHANGED}.get(d.name, d) for d in mlp_backprop.DECLARED.declared
      if d.name not in ("notation", "init")),  # per neuron only; its own init (below)
    Declared("init", Structured({**INIT.object_schema(), "oneOf": [
                 {"required": ["constant"], "maxProperties": 1},
                 {"required": ["seed", "scale"], "not": {"required": ["constant"]}}]}),
             "how the weights start, in place of each layer's `weights`: `{constant: c}`, or drawn at random by "
             "`{seed: s, scale: σ}` (below). Offsets still come from the layers (default 0, the lecture's "
             "偏置通常用0初始化)", default=None, shown_default="the layers' `weights`"),
)


@dataclass(frozen=True)
class Init:
    """How the weights were initialised: `constant` (value), or a seeded draw (distribution, scale, seed, decimals)."""

    kind: str  # "given", "constant" or "random"
    value: float = None
    distribution: str = None
    scale: float = None
    seed: int = None
    decimals: int = None


@dataclass(frozen=True)
class SymmetrySpec:
    """A validated symmetry problem: the network and its training as mlp_backprop reads them, and the init."""

    mlp: object
    init: Init


def draw_weights(init, shapes):
    """The weight matrices (from-to, n_{l-1} x n_l) an init gives, layer by layer.

    A draw follows the lecture's formulas with numpy.random.Generator(PCG64(seed)),
    one matrix per layer in order: normal W = σ · standard_normal((fan_in, fan_out)),
    uniform W = 2r · random((fan_in, fan_out)) - r; each value is then rounded to
    `decimals` places so that it can be written by hand.
    """
    import numpy as np

    if init.kind == "constant":
        return [[[init.value] * n_to for _ in range(n_from)] for n_from, n_to in shapes]
    rng = np.random.Generator(np.random.PCG64(init.seed))
    matrices = []
    for shape in shapes:
        if init.distribution == "normal":
            drawn = init.scale * rng.standard_normal(shape)
        else:
            drawn = 2 * init.scale * rng.random(shape) - init.scale
        matrices.append([[round(float(v), init.decimals) + 0.0 for v in row] for row in drawn])
    return matrices


def read_init(field):
    """`init: {constant: c}` or `init: {seed: s, scale: σ, distribution: normal, decimals: 2}`."""
    field.mapping(allowed=INIT.names)
    if field.has("constant"):
        for other in ("seed", "scale", "distribution", "decimals"):
            if field.has(other):
                raise field.get(other).error("has no meaning with constant (a constant init draws nothing)")
        return Init("constant", value=INIT.read(field, "constant"))
    if not field.has("seed"):
        raise field.missing("seed", "missing: give constant: c, or seed: s to draw the weights at random")
    seed = INIT.read(field, "seed")
    scale = INIT.read_field(field.get("scale"), "scale")
    distribution = INIT.read(field, "distribution")
    decimals = INIT.read(field, "decimals")
    return Init("random", distribution=distribution, scale=scale, seed=seed, decimals=decimals)


def read(root):
    """Validate a symmetry problem: the mlp_backprop fields, with `init` standing in for the weights."""
    init = Init("given")
    if root.has("init"):
        init = read_init(DECLARED.field(root, "init"))
        sizes = [item.integer(1, mlp_backprop.MAX_WIDTH) for item in root.get("sizes").items()]
        if not 2 <= len(sizes) <= mlp_backprop.MAX_LAYERS + 1:
            mlp_backprop.read(root)  # reports the sizes as mlp_backprop does
        layer_fields = root.get("layers").items(len(sizes) - 1)
        for field in layer_fields:
            field.mapping()
            if field.has("weights"):
                raise field.get("weights").error("given twice: init sets the weights; remove init or these weights")
        shapes = list(zip(sizes, sizes[1:]))
        matrices = draw_weights(init, shapes)
        if root.get("weights_layout", "from_to").value == "to_from":
            matrices = [[list(column) for column in zip(*matrix)] for matrix in matrices]
        value = {name: field for name, field in root.value.items() if name != "init"}  # drawn: the weights below
        value["layers"] = [dict(field.value, weights=matrix) for field, matrix in zip(layer_fields, matrices)]
        root = Field(value, root.path, root.lines, root.where)
    spec = mlp_backprop.read(root)
    if len(spec.sizes) < 3:
        raise root.get("sizes").error("expected a hidden layer (at least 3 sizes): the symmetry is between hidden neurons")
    if spec.forward_only:
        raise root.get("samples").error("expected a target y for every sample: the symmetry shows in the updates")
    if max(spec.sizes[1:-1]) < 2:
        raise root.get("sizes").error("expected a hidden layer of at least 2 neurons to compare")
    return SymmetrySpec(spec, init)


def solve(problem, rounding):
    """The mlp_backprop solution of the problem, with the differences between hidden neurons added."""
    return _SymmetrySolver(replace(problem, spec=problem.spec.mlp), rounding, problem.spec.init).solve()


class _SymmetrySolver(_MlpSolver):
    """mlp_backprop's solver, adding the neuron-to-neuron differences after each iteration's update."""

    def __init__(self, problem, rounding, init):
        super().__init__(problem, rounding)
        self.init = init
        self.difference_keys = []
        self.hidden = [l for l in range(1, self.L) if self.spec.sizes[l] >= 2]

    def difference(self, key, a, b, a_symbol, b_symbol, section):
        """The step a - b, shown as `a_symbol - b_symbol`."""
        self.difference_keys.append(key)
        return self.out.step(key, Sym(f"{a_symbol.text} - {b_symbol.text}", f"{a_symbol.latex} - {b_symbol.latex}"),
                             _minus(sympy.Symbol(a), sympy.Symbol(b)), section)

    def parameter_differences(self, weight_keys, offset_keys, primes, prefix, section):
        """w into and out of neuron j minus those of neuron 1, and the offsets, for every hidden layer."""
        n, sizes = self.notation, self.spec.sizes
        for l in self.hidden:
            for j in range(2, sizes[l] + 1):
                for i in range(1, sizes[l - 1] + 1):
                    self.difference(self.key("diff_w_in", l, j, i, prefix=prefix), weight_keys(l, i, j),
                                    weight_keys(l, i, 1), n.w(l, i, j, primes), n.w(l, i, 1, primes), section)
                for s in range(1, sizes[l + 1] + 1):
                    self.difference(self.key("diff_w_out", l, j, s, prefix=prefix), weight_keys(l + 1, j, s),
                                    weight_keys(l + 1, 1, s), n.w(l + 1, j, s, primes), n.w(l + 1, 1, s, primes),
                                    section)
                if offset_keys is not None:
                    self.difference(self.key(f"diff_{self.offset_name}", l, j, prefix=prefix), offset_keys(l, j),
                                    offset_keys(l, 1), n.offset(l, j, primes), n.offset(l, 1, primes), section)

    def givens(self):
        params = super().givens()
        self.parameter_differences(lambda l, i, j: self.key("w", l, i, j),
                                   lambda l, j: self.key(self.offset_name, l, j), 0, "init.", "Symmetry at the start")
        return params

    def update(self, params, prefix, heading, primes):
        """The iteration's differences of activations, deltas and gradients, the update, then the new weights'."""
        n, sizes = self.notation, self.spec.sizes
        section = _section(heading, "Symmetry check")
        before = primes - 1
        for k in self.samples:
            sample = k if self.several else None
            for l in self.hidden:
                for name, symbol in (("h", n.h), ("delta", n.delta)):
                    for j in range(2, sizes[l] + 1):
                        self.difference(self.key(f"diff_{name}", l, j, sample=k, prefix=prefix),
                                        self.key(name, l, j, sample=k, prefix=prefix),
                                        self.key(name, l, 1, sample=k, prefix=prefix),
                                        symbol(l, j, before, sample), symbol(l, 1, before, sample), section)
        for l in self.hidden:
            for j in range(2, sizes[l] + 1):
                for i in range(1, sizes[l - 1] + 1):
                    self.difference(self.key("diff_grad_w_in", l, j, i, prefix=prefix),
                                    self.key("grad_w", l, i, j, prefix=prefix), self.key("grad_w", l, i, 1, prefix=prefix),
                                    n.gradient(n.w(l, i, j, before), before), n.gradient(n.w(l, i, 1, before), before),
                                    section)
                for s in range(1, sizes[l + 1] + 1):
                    self.difference(self.key("diff_grad_w_out", l, j, s, prefix=prefix),
                                    self.key("grad_w", l + 1, j, s, prefix=prefix),
                                    self.key("grad_w", l + 1, 1, s, prefix=prefix),
                                    n.gradient(n.w(l + 1, j, s, before), before),
                                    n.gradient(n.w(l + 1, 1, s, before), before), section)
                grad = f"grad_{self.offset_name}"
                self.difference(self.key(f"diff_{grad}", l, j, prefix=prefix), self.key(grad, l, j, prefix=prefix),
                                self.key(grad, l, 1, prefix=prefix), n.gradient(n.offset(l, j, before), before),
                                n.gradient(n.offset(l, 1, before), before), section)
        new = super().update(params, prefix, heading, primes)
        spec = self.spec

        def weight(l, i, j):
            updated = spec.update_weights
            return self.key("w_new", l, i, j, prefix=prefix) if updated else params[0][l, i, j].name

        def offset(l, j):
            updated = spec.update_offsets
            return self.key(f"{self.offset_name}_new", l, j, prefix=prefix) if updated else params[1][l, j].name

        self.parameter_differences(weight, offset, primes, prefix, _section(heading, "Symmetry after the update"))
        return new

    def notes(self):
        notes = super().notes()
        notes.append(Sym("symmetry: each difference compares hidden neuron j with neuron 1 of its layer "
                         "(the same weight, activation, delta or gradient)",
                         r"\text{symmetry: each difference compares hidden neuron } j \text{ with neuron 1 of its "
                         r"layer (the same weight, activation, delta or gradient)}"))
        if self.init.kind == "constant":
            notes.append(Sym(f"init: every weight starts at {self.init.value:g}",
                             rf"\text{{init: every weight starts at {self.init.value:g}}}"))
        elif self.init.kind == "random":
            how = ("W = σ · standard_normal((fan_in, fan_out)), σ" if self.init.distribution == "normal"
                   else "W = 2r · random((fan_in, fan_out)) - r, r")
            text = (f"init: weights drawn with numpy.random.Generator(PCG64({self.init.seed})), one layer after "
                    f"another, {how} = {self.init.scale:g}, rounded to {self.init.decimals} decimals")
            notes.append(Sym(text, rf"\text{{{text}}}"))
        notes.append(self.conclusion())
        return notes

    def conclusion(self):
        """What the differences show: symmetry kept (all 0) or broken."""
        iterations = self.spec.iterations
        over = "the update" if iterations == 1 else f"all {iterations} iterations"
        start = [k for k in self.difference_keys if k.startswith("init.")]
        later = [k for k in self.difference_keys if not k.startswith("init.")]
        nonzero = [k for k in later if self.out.value(k) != 0]
        if not nonzero and all(self.out.value(k) == 0 for k in start):
            text = (f"conclusion: every difference is 0. The hidden neurons start equal, so they get equal "
                    f"activations, equal deltas and equal gradients, and the update keeps them equal, through "
                    f"{over}: a constant initialisation leaves each hidden layer acting as a single neuron")
        elif any(self.out.value(k) != 0 for k in start):
            text = (f"conclusion: the hidden neurons start different (the differences at the start are not all 0), "
                    f"and their activations, gradients and updates differ ({len(nonzero)} of the {len(later)} "
                    f"differences after the start are not 0): a random initialisation breaks the symmetry")
        else:
            text = (f"conclusion: the weights start equal, yet {len(nonzero)} of the {len(later)} later differences "
                    f"are not 0: something other than the weights (the offsets or the update) tells the neurons apart")
        return Sym(text, rf"\text{{{text}}}")
