"""`kind: optimizer`: T iterations of a gradient-based optimiser, step by step.

The lecture's optimisers (all four lectures),
each in the lecture's own form, on a loss given as an expression in named
parameters, as an expression in parameters and data variables over a data
table (mini-batch SGD), or as the loss of a small network (read as
mlp_backprop reads one). Every learning rate, gradient component, state
component, update and new parameter is its own Step whose formula is over
earlier steps; the gradient's formula is the SymPy derivative of the loss
with the parameters replaced by the current parameter steps.

Forms (t = 0, 1, ...; g^t the gradient at θ^t; η^t the scheduled rate):
- gd: θ^{t+1} = θ^t − η^t g^t.
- momentum: m^0 = 0, m^{t+1} = λ m^t − η^t g^t, θ^{t+1} = θ^t + m^{t+1}.
- nesterov: as momentum, g^t taken at the look-ahead point θ^t + λ m^t.
- adagrad (form lecture): σ^t = sqrt(1/(t+1) Σ_{k≤t} (g^k)²), θ^{t+1} = θ^t − η^t/σ^t g^t;
  (form library): s^t = s^{t−1} + (g^t)², θ^{t+1} = θ^t − η^t g^t/(sqrt(s^t) + ε).
- rmsprop (form lecture): σ^0 = |g^0|, σ^t = sqrt(α (σ^{t−1})² + (1 − α)(g^t)²),
  θ^{t+1} = θ^t − η^t/σ^t g^t; (form library): v^0 = 0, v^{t+1} = α v^t + (1 − α)(g^t)²,
  θ^{t+1} = θ^t − η^t g^t/(sqrt(v^{t+1}) + ε).
- adam: m^{t+1} = β1 m^t + (1 − β1) g^t, v^{t+1} = β2 v^t + (1 − β2)(g^t)²,
  m̂ = m^{t+1}/(1 − β1^{t+1}), v̂ = v^{t+1}/(1 − β2^{t+1}), θ^{t+1} = θ^t − η^t m̂/(sqrt(v̂) + ε).
- summary (the CNN/RNN lecture's "Summary of Optimization", θ_i^{t+1} = θ_i^t − η^t/σ_i^t m_i^t, with
  its words for the parts: momentum, "the weighted sum of the previous gradients" (the direction);
  "the root mean square of the gradients" (the size); scheduling): m^t = λ m^{t−1} + g^t with m^0 = g^0
  (the lecture's momentum with η taken out), σ^t as lecture rmsprop (σ^0 = |g^0|), and no bias correction,
  which is what sets it apart from Adam.

Step keys (P is the optimiser's name, t the iteration, p a parameter's name):
`P.theta[t][p]`, `P.loss[t]`, `P.eta[t]` (with a schedule), `P.ahead[t][p]`
(nesterov), `P.g[t][p]`, `P.m[t][p]`, `P.sigma[t][p]`, `P.s[t][p]`,
`P.v[t][p]`, `P.mhat[t][p]`, `P.vhat[t][p]`, `P.update[t][p]`.
"""

from dataclasses import dataclass, replace

import sympy
from sympy import Add, Mul, Pow, Rational

from ..errors import ExpressionError
from ..expr import CONSTANTS, FUNCTIONS, parse_expression
from ..fields import Boolean, Choice, Declarations, Declared, Integer, Interval, Number, Structured, Text, check_constants
from ..problem import Field, read_names
from ..render.latex import escape
from ..steps import Sym, format_number
from ..symbolic.exact import ExactBuilder
from . import mlp_backprop

METHODS = ("gd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "summary")
SCHEDULES = ("constant", "step", "linear", "inverse_time")
NETWORK_LOSSES = ("half_squared_error", "mean_squared_error", "binary_cross_entropy")
MAX_PARAMETERS, MAX_ITERATIONS, MAX_OPTIMIZERS, MAX_SAMPLES, MAX_STEPS = 12, 200, 8, 64, 20_000
MAX_COLUMNS, MAX_NETWORK_WIDTH, MAX_SEED = 8, 9, 2**63 - 1
DESCRIPTIONS = {
    "gd": "gradient descent: θ^{t+1} = θ^t − η g^t",
    "momentum": "momentum: m^0 = 0, m^{t+1} = λ m^t − η g^t, θ^{t+1} = θ^t + m^{t+1}",
    "nesterov": "Nesterov (NAG): m^{t+1} = λ m^t − η ∇L(θ^t + λ m^t), θ^{t+1} = θ^t + m^{t+1}",
    ("adagrad", "lecture"): "Adagrad, lecture form: σ^t = sqrt(1/(t+1) Σ_{k≤t} (g^k)^2), "
                            "θ^{t+1} = θ^t − η/σ^t g^t",
    ("adagrad", "library"): "Adagrad, library form (as torch.optim.Adagrad): s^t = s^{t−1} + (g^t)^2, "
                            "θ^{t+1} = θ^t − η g^t/(sqrt(s^t) + ε)",
    ("rmsprop", "lecture"): "RMSProp, lecture form: σ^0 = |g^0|, σ^t = sqrt(α (σ^{t−1})^2 + (1 − α)(g^t)^2), "
                            "θ^{t+1} = θ^t − η/σ^t g^t",
    ("rmsprop", "library"): "RMSProp, library form (as torch.optim.RMSprop): v^0 = 0, "
                            "v^{t+1} = α v^t + (1 − α)(g^t)^2, θ^{t+1} = θ^t − η g^t/(sqrt(v^{t+1}) + ε)",
    "summary": "the lecture's summary: m^t = λ m^{t−1} + g^t (m^0 = g^0, the weighted sum of the gradients: "
               "direction), σ^t = sqrt(α (σ^{t−1})^2 + (1 − α)(g^t)^2) (σ^0 = |g^0|, their root mean square: size), "
               "θ^{t+1} = θ^t − η^t/σ^t m^t, no bias correction",
    "adam": "Adam: m^{t+1} = β1 m^t + (1 − β1) g^t, v^{t+1} = β2 v^t + (1 − β2)(g^t)^2, "
            "m̂ = m^{t+1}/(1 − β1^{t+1}), v̂ = v^{t+1}/(1 − β2^{t+1}), θ^{t+1} = θ^t − η m̂/(sqrt(v̂) + ε)",
}
# the same in LaTeX, for the notes of a LaTeX, Markdown or HTML solution
DESCRIPTIONS_LATEX = {
    "summary": r"\text{the lecture's summary: } m^{t} = \lambda m^{t-1} + g^{t},\ \sigma^{t} = \sqrt{\alpha "
               r"(\sigma^{t-1})^{2} + (1 - \alpha)(g^{t})^{2}},\ \theta^{t+1} = \theta^{t} - "
               r"\frac{\eta^{t}}{\sigma^{t}} m^{t}",
    "gd": r"\text{gradient descent: } \theta^{t+1} = \theta^{t} - \eta g^{t}",
    "momentum": r"\text{momentum: } m^{0} = 0,\ m^{t+1} = \lambda m^{t} - \eta g^{t},\ "
                r"\theta^{t+1} = \theta^{t} + m^{t+1}",
    "nesterov": r"\text{Nesterov (NAG): } m^{t+1} = \lambda m^{t} - \eta \nabla L(\theta^{t} + \lambda m^{t}),\ "
                r"\theta^{t+1} = \theta^{t} + m^{t+1}",
    ("adagrad", "lecture"): r"\text{Adagrad, lecture form: } \sigma^{t} = \sqrt{\tfrac{1}{t+1} \sum_{k \le t} "
                            r"(g^{k})^{2}},\ \theta^{t+1} = \theta^{t} - \frac{\eta}{\sigma^{t}} g^{t}",
    ("adagrad", "library"): r"\text{Adagrad, library form (as torch.optim.Adagrad): } s^{t} = s^{t-1} + (g^{t})^{2},\ "
                            r"\theta^{t+1} = \theta^{t} - \eta \frac{g^{t}}{\sqrt{s^{t}} + \epsilon}",
    ("rmsprop", "lecture"): r"\text{RMSProp, lecture form: } \sigma^{0} = |g^{0}|,\ \sigma^{t} = \sqrt{\alpha "
                            r"(\sigma^{t-1})^{2} + (1 - \alpha)(g^{t})^{2}},\ \theta^{t+1} = \theta^{t} - "
                            r"\frac{\eta}{\sigma^{t}} g^{t}",
    ("rmsprop", "library"): r"\text{RMSProp, library form (as torch.optim.RMSprop): } v^{0} = 0,\ "
                            r"v^{t+1} = \alpha v^{t} + (1 - \alpha)(g^{t})^{2},\ "
                            r"\theta^{t+1} = \theta^{t} - \eta \frac{g^{t}}{\sqrt{v^{t+1}} + \epsilon}",
    "adam": r"\text{Adam: } m^{t+1} = \beta_{1} m^{t} + (1 - \beta_{1}) g^{t},\ v^{t+1} = \beta_{2} v^{t} + "
            r"(1 - \beta_{2})(g^{t})^{2},\ \hat{m} = \frac{m^{t+1}}{1 - \beta_{1}^{t+1}},\ "
            r"\hat{v} = \frac{v^{t+1}}{1 - \beta_{2}^{t+1}},\ \theta^{t+1} = \theta^{t} - "
            r"\eta \frac{\hat{m}}{\sqrt{\hat{v}} + \epsilon}",
}
# hyperparameter -> the methods it belongs to, in the order they are read
HYPERPARAMETERS = {
    "momentum": ("momentum", "nesterov", "summary"),
    "alpha": ("rmsprop", "summary"),
    "beta1": ("adam",),
    "beta2": ("adam",),
    "epsilon": ("adagrad", "rmsprop", "adam"),
    "form": ("adagrad", "rmsprop"),
}
EPSILON = {"adagrad": 1e-10, "rmsprop": 1e-8, "adam": 1e-8}  # torch.optim's defaults
# schedule type -> the fields it takes besides `type` and `warmup`, and those of them it needs
SCHEDULE_TAKES = {"constant": (), "step": ("every", "factor"), "linear": ("final", "over"),
                  "inverse_time": ("beta",)}
SCHEDULE_NEEDS = {"constant": (), "step": ("every", "factor"), "linear": (), "inverse_time": ("beta",)}


@dataclass(frozen=True)
class _Pattern(Text):
    """Text whose schema gives its `pattern`; the field's `check` refuses what the pattern does, in words."""

    pattern: str = ""

    def schema(self):
        return {"type": "string", "pattern": self.pattern}


def _key_name(name, field, values):
    if not (name.isidentifier() and name.isascii()):
        raise field.error(f"expected a name of letters, digits and _ (it starts every key), got {name!r}")


def _at_most_the_samples(size, field, values):
    """A batch is at most every sample (`values["samples"]`: how many the data table or network has)."""
    if size > values["samples"]:
        raise field.error(f"expected a whole number <= {values['samples']}, got {size}")


# a parameter's or data variable's name, as read_names and _read_loss accept it
NAME = {"type": "string", "pattern": "^[A-Za-z][A-Za-z0-9_]*$",
        "not": {"enum": sorted(name for name in {**FUNCTIONS, **CONSTANTS} if name.isascii())}}
UNIT = "a number from 0 up to (not including) 1"
SCHEDULE = Declarations(
    Declared("type", Choice(SCHEDULES), "η^t is `constant`: η₀; `step`: η₀ γ^⌊t/k⌋; `linear`: η₀ + min(t, T′)/T′ "
             "(η_end − η₀); `inverse_time` (1/t decay): η₀/(1 + β t). Each type takes only its own numbers"),
    Declared("every", Integer(1, MAX_ITERATIONS), f"k of `step`: γ is applied every k iterations (1 to "
             f"{MAX_ITERATIONS})", default=None, shown_default="required with `step`"),
    Declared("factor", Interval(0, 1, "a number above 0 and at most 1", open=("low",)),
             "γ of `step`, in (0, 1]", default=None, shown_default="required with `step`"),
    Declared("final", Number(minimum=0), "η_end of `linear`, ≥ 0", default=0),
    Declared("over", Integer(1, MAX_ITERATIONS), f"T′ of `linear`: the iterations it takes to reach η_end (1 to "
             f"{MAX_ITERATIONS})", default=None, shown_default="`iterations`"),
    Declared("beta", Number(positive=True), "β of `inverse_time`, > 0", default=None,
             shown_default="required with `inverse_time`"),
    Declared("warmup", Integer(0, MAX_ITERATIONS), f"n: η^t is multiplied by (t + 1)/n while t < n (0 to "
             f"{MAX_ITERATIONS}; 0: none), with any type", default=0),
)
SCHEDULE_SCHEMA = {**SCHEDULE.object_schema(), "allOf": [
    {"if": {"properties": {"type": {"const": kind}}, "required": ["type"]},
     "then": {"propertyNames": {"enum": ["type", *takes, "warmup"]}, "required": list(SCHEDULE_NEEDS[kind])}}
    for kind, takes in SCHEDULE_TAKES.items()]}
OPTIMIZER = Declarations(
    Declared("method", Choice(METHODS), "`gd`, `momentum`, `nesterov`, `adagrad`, `rmsprop`, `adam`, or `summary` "
             "(the CNN/RNN lecture's summary of them: θ − η^t/σ^t m^t)"),
    Declared("name", _Pattern("a name", pattern="^[A-Za-z_][A-Za-z0-9_]*$"),
             "the key prefix and section title (ASCII letters, digits and `_`, not starting with a digit; distinct)",
             default=None, shown_default="the method", check=_key_name),
    Declared("learning_rate", Number(positive=True), "η (η₀ with a schedule), a number > 0"),
    Declared("momentum", Interval(0, 1, UNIT, open=("high",)), "λ of `momentum`, `nesterov` and `summary`, in [0, 1)",
             default=0.9),
    Declared("form", Choice(("lecture", "library")), "`adagrad` and `rmsprop`: `lecture` or `library` (below)",
             default="lecture"),
    Declared("alpha", Interval(0, 1, UNIT, open=("high",)), "α of `rmsprop` and `summary`, in [0, 1)", default=0.9),
    Declared("beta1", Interval(0, 1, UNIT, open=("high",)), "β1 of `adam`, in [0, 1)", default=0.9),
    Declared("beta2", Interval(0, 1, UNIT, open=("high",)), "β2 of `adam`, in [0, 1)", default=0.999),
    Declared("epsilon", Number(minimum=0), "ε (≥ 0) of `adam`, and of the library forms of `adagrad` and "
             "`rmsprop` (the lecture forms have none)", default=None,
             shown_default="`1e-8` (adam, rmsprop), `1e-10` (adagrad), torch.optim's"),
    Declared("schedule", Structured(SCHEDULE_SCHEMA), "the learning-rate schedule: a mapping with `type` and that "
             "type's numbers (below)", default=None, shown_default="constant"),
)
OPTIMIZER_SCHEMA = {**OPTIMIZER.object_schema(), "allOf": [
    *({"if": {"required": [key]}, "then": {"properties": {"method": {"enum": list(methods)}}}}
      for key, methods in HYPERPARAMETERS.items() if key != "epsilon"),
    {"if": {"required": ["epsilon"]}, "then": {"anyOf": [
        {"properties": {"method": {"const": "adam"}}},
        {"properties": {"form": {"const": "library"}}, "required": ["form"]}]}},
]}
# mlp_backprop's fields, as a network here has them: small, every sample with its target, a loss with a derivative
_MLP = mlp_backprop.DECLARED.by_name
NETWORK = Declarations(
    replace(_MLP["sizes"], type=Structured({
                **_MLP["sizes"].type.schema(),
                "items": {"type": "integer", "minimum": 1, "maximum": MAX_NETWORK_WIDTH},
                "maxItems": MAX_PARAMETERS // 2 + 1}),  # each layer has a weight and an offset at least
            description=f"layer sizes, input first: `[2, 2, 1]` (1 to {MAX_NETWORK_WIDTH} neurons each; the "
                        f"weights and offsets, at most {MAX_PARAMETERS} in all, are the parameters)"),
    _MLP["weights_layout"],
    _MLP["offset"],
    replace(_MLP["layers"], type=Structured({"type": "array", "items": mlp_backprop.LAYER.object_schema()}),
            description="one mapping per layer after the input, in order, as in `mlp_backprop`: "
                                        "`activation`, `weights`, `thresholds` or `biases`"),
    replace(_MLP["samples"], type=Structured({**_MLP["samples"].type.schema(),
                                              "items": {**mlp_backprop.SAMPLE, "required": ["x", "y"]}}),
            description="a list of `{x: [...], y: [...]}`, every sample with its target y"),
    replace(_MLP["loss"], type=Choice(NETWORK_LOSSES),
            description="`half_squared_error` (`1/2 Σ (ŷ - y)²`, the lecture's), `mean_squared_error` "
                        "(`1/n Σ (ŷ - y)²` over the n outputs) or `binary_cross_entropy` "
                        "(`-Σ [y log ŷ + (1 - y) log(1 - ŷ)]`; targets in [0, 1])"),
    replace(_MLP["batch"], description="`sum` or `mean` of the per-sample losses and gradients (of a batch, and "
                                       "in L(θ^t))"),
)
REQUIRED_WITHOUT_NETWORK = "required (not with `network`)"

# where an error found while solving is reported when nothing nearer its cause is known (Problem.solve)
ERRORS_AT = ("loss", "network")

DECLARED = Declarations(
    Declared("parameters", Structured({"type": "array", "items": NAME, "minItems": 1, "maxItems": MAX_PARAMETERS,
                                       "uniqueItems": True}),
             f"1 to {MAX_PARAMETERS} distinct parameter names (ASCII letters, digits and `_`, starting with a "
             "letter; not a function's or a constant's name)", default=None, shown_default=REQUIRED_WITHOUT_NETWORK),
    Declared("loss", Structured({"type": "string"}), "without `data`: an expression in the parameters; with `data`: "
             "the loss of one sample, in the parameters and the data variables", default=None,
             shown_default=REQUIRED_WITHOUT_NETWORK),
    Declared("start", Structured({"type": "object", "propertyNames": NAME, "additionalProperties": {"type": "number"},
                                  "minProperties": 1, "maxProperties": MAX_PARAMETERS}),
             "a mapping `{name: value}` giving every parameter's θ⁰", default=None,
             shown_default=REQUIRED_WITHOUT_NETWORK),
    Declared("data", Structured({"type": "object", "propertyNames": NAME, "minProperties": 1,
                                 "maxProperties": MAX_COLUMNS, "additionalProperties": {"anyOf": [
                                     {"type": "number"},
                                     {"type": "array", "items": {"type": "number"}, "minItems": 1,
                                      "maxItems": MAX_SAMPLES}]}}),
             f"a table by columns, `{{x: [0, 1, 2], y: [1.2, 2.8, 5.1]}}`: 1 to {MAX_COLUMNS} data variables "
             f"(names not a parameter's), 1 to {MAX_SAMPLES} samples, every column as long", default=None,
             shown_default="none"),
    Declared("batch_reduction", Choice(("mean", "sum")), "with `data`: `mean` or `sum` of the samples' losses (and "
             "gradients) in a batch and in L(θ^t)", default="mean"),
    Declared("batch_size", Integer(1), "with `data` or `network`: draw mini-batches of this size (1 to the number of "
             "samples); without it every iteration uses every sample", default=None, shown_default="none (full batch)",
             check=_at_most_the_samples),
    Declared("seed", Integer(0, MAX_SEED), "with `batch_size`: the seed of the shuffles (a whole number from 0 to "
             "2⁶³ − 1)", default=0),
    Declared("network", Structured(NETWORK.object_schema()), "a small network, read exactly as `mlp_backprop` reads "
             "one (below): its weights and offsets are the parameters, their values the start, its loss over its "
             "samples the loss", default=None, shown_default="none"),
    Declared("iterations", Integer(1, MAX_ITERATIONS), f"T, the number of updates (1 to {MAX_ITERATIONS}; the whole "
             "solution at most about 20 000 steps)", default=3),
    Declared("optimizers", Structured({"type": "array", "items": OPTIMIZER_SCHEMA, "minItems": 1,
                                       "maxItems": MAX_OPTIMIZERS}),
             f"1 to {MAX_OPTIMIZERS} optimisers (below), each printed in its own sections and keys, all from the "
             "same start"),
    Declared("smoothness", Boolean(), "`true`: for a quadratic loss (its Hessian H constant), L = the largest |eigenvalue| "
             "of H, and the step sizes 1/L (each gradient step lowers the loss by at least η/2 ‖g‖²) and 2/L (below "
             "it the loss never rises; above it gradient descent diverges), each a step; each `gd` run is placed "
             "against them", default=False),
    Declared("region", Structured({"type": "object", "propertyNames": NAME, "minProperties": 2, "maxProperties": 2,
                                   "additionalProperties": {"type": "array", "items": {"type": "number"},
                                                            "minItems": 2, "maxItems": 2}}),
             "for `--plot` on two parameters: `{w1: [low, high], w2: [low, high]}`, low < high", default=None,
             shown_default="the box of the paths and the isolated minima, widened by a quarter on each side"),
)


@dataclass(frozen=True)
class Schedule:
    """η^t from η_0: `kind` of decay, its numbers, and `warmup` iterations (0: none)."""

    kind: str = "constant"
    every: int = 1
    factor: float = 0.5
    final: float = 0.0
    over: int = 1
    beta: float = 1.0
    warmup: int = 0

    @property
    def varies(self):
        return self.kind != "constant" or self.warmup > 0


@dataclass(frozen=True)
class Optimizer:
    """One optimiser of a problem: its name (key prefix), method, rate and hyperparameters."""

    name: str
    method: str
    learning_rate: float
    momentum: float = 0.9
    form: str = "lecture"
    alpha: float = 0.9
    beta1: float = 0.9
    beta2: float = 0.999
    epsilon: float = None
    schedule: Schedule = Schedule()

    @property
    def description(self):
        return DESCRIPTIONS.get((self.method, self.form)) or DESCRIPTIONS[self.method]

    @property
    def description_latex(self):
        return DESCRIPTIONS_LATEX.get((self.method, self.form)) or DESCRIPTIONS_LATEX[self.method]


@dataclass(frozen=True)
class Neuron:
    """Neuron j of layer l in one sample's forward pass: z and a = f(z) in the parameters."""

    layer: int
    index: int
    z: object
    a: object
    activation: object


@dataclass(frozen=True)
class OptimizerSpec:
    """A validated optimizer problem (fields: docs/kinds/optimizer.md).

    parameters: Symbols; labels: their display Syms; terms: the loss of each
    sample (one term for a plain loss) in the parameters; reduction: mean or
    sum over samples; batches: the sample indices of each iteration's batch
    (None: all samples every iteration); start: θ^0; loss_text: how the loss
    is described in the notes; region: ((low, high), (low, high)) or None.
    """

    parameters: tuple
    labels: tuple
    terms: tuple
    reduction: str
    batches: tuple
    start: tuple
    iterations: int
    optimizers: tuple
    loss_text: str
    seed: int = None
    region: tuple = None
    network: tuple = None  # per sample, per layer, its Neurons (a network's forward pass), or None
    sample_loss: object = None  # with data: the loss of one sample, in the parameters and data variables
    rows: tuple = None  # with data: each sample's {data Symbol: value}
    hessian: tuple = None  # with smoothness: the quadratic loss's constant Hessian, exact

    @property
    def loss(self):
        """The whole loss: the reduction of every sample's term."""
        return _reduce(self.terms, self.reduction)


def _reduce(terms, reduction):
    if len(terms) == 1:
        return terms[0]
    total = Add(*terms, evaluate=False)
    return Mul(Rational(1, len(terms)), total, evaluate=False) if reduction == "mean" else total


# -- reading the problem file ----------------------------------------------------------------

def read(root):
    """Validate the optimizer fields of a problem file into an OptimizerSpec."""
    if root.has("network"):
        for name in ("parameters", "loss", "data", "start"):
            if root.has(name):
                raise root.get(name).error("has no meaning with network (the network gives the parameters, "
                                           "their start values and the loss)")
        parameters, labels, terms, reduction, start, text, network = _read_network(root.get("network"))
        sample_loss = rows = None
    else:
        parameters = read_names(root.get("parameters"), MAX_PARAMETERS, "parameter", ascii_only=True)
        labels = tuple(Sym(p.name, p.name) for p in parameters)
        network = sample_loss = rows = None
        terms, reduction, text, (sample_loss, rows) = _read_loss(root, parameters)
        start_field = root.get("start").mapping(allowed={p.name for p in parameters})
        start = tuple(start_field.get(p.name).number() for p in parameters)
    iterations = DECLARED.read(root, "iterations")
    batches, seed = _read_batches(root, len(terms), iterations)
    optimizers = _read_optimizers(root.get("optimizers"), iterations)
    steps = iterations * len(optimizers) * (6 * len(parameters) + 2)
    if steps > MAX_STEPS:
        raise root.get("iterations").error(f"problem too large to print step by step (about {steps} steps; at "
                                           f"most {MAX_STEPS}); use fewer iterations, parameters or optimizers")
    region = _read_region(root.get("region"), parameters) if root.has("region") else None
    hessian = None
    if DECLARED.read(root, "smoothness"):
        hessian = _constant_hessian(root.get("smoothness"), _reduce(terms, reduction), parameters)
    return OptimizerSpec(parameters, labels, terms, reduction, batches, start, iterations, optimizers, text, seed,
                         region, network, sample_loss, rows, hessian)


def _constant_hessian(field, loss, parameters):
    """The Hessian of a quadratic loss, a tuple of rows of exact numbers; an error where it is not constant."""
    rows = []
    for p in parameters:
        row = []
        for q in parameters:
            entry = sympy.nsimplify(sympy.diff(loss, p, q), rational=True)
            if entry.free_symbols:
                raise field.error(f"needs a quadratic loss (a constant Hessian): ∂²L/∂{p.name}∂{q.name} = {entry} "
                                  "depends on the parameters")
            row.append(entry)
        rows.append(tuple(row))
    return tuple(rows)


def _parse(field, expected, variables):
    try:
        return check_constants(parse_expression(field.text(expected), variables))
    except ExpressionError as error:
        raise field.located(error) from None


def _read_loss(root, parameters):
    """(terms, reduction, text): the loss, or one term per row of the data table."""
    loss_field = root.get("loss")
    if not root.has("data"):
        for name in ("batch_size", "seed", "batch_reduction"):
            if root.has(name):
                raise root.get(name).error("has no meaning without data (a table of samples)")
        loss = _parse(loss_field, "an expression in the parameters", {p.name: p for p in parameters})
        _check_loss(loss_field, loss, parameters)
        return (loss,), "mean", loss_field.value, (None, None)
    data_field = root.get("data").mapping()
    if not 1 <= len(data_field.value) <= MAX_COLUMNS:
        raise data_field.error(f"expected 1 to {MAX_COLUMNS} data variables, got {len(data_field.value)}")
    columns = []
    for name in data_field.value:
        item = data_field.get(name)
        if not isinstance(name, str) or not name.isidentifier() or not name.isascii() or name.startswith("_"):
            raise item.error(f"expected a data variable name (letters, digits, _), got {name!r}")
        if name in FUNCTIONS or name in CONSTANTS:
            raise item.error(f"{name!r} is the name of a function or constant; choose another data variable name")
        if name in {p.name for p in parameters}:
            raise item.error(f"data variable {name!r} is also a parameter's name; choose another name")
        columns.append(sympy.Symbol(name, real=True))
    columns = tuple(columns)
    rows = None
    values = {}
    for column in columns:
        item = data_field.get(column.name)
        numbers = item.vector()
        if rows is None:
            rows = len(numbers)
            if not 1 <= rows <= MAX_SAMPLES:
                raise item.error(f"expected 1 to {MAX_SAMPLES} values, got {rows}")
        elif len(numbers) != rows:
            raise item.error(f"expected {rows} values (as many as {columns[0].name}), got {len(numbers)}")
        values[column] = [_exact(v) for v in numbers]
    variables = {s.name: s for s in parameters + columns}
    loss = _parse(loss_field, "an expression in the parameters and the data variables", variables)
    _check_loss(loss_field, loss, parameters)
    table = tuple({c: values[c][k] for c in columns} for k in range(rows))
    terms = tuple(loss.xreplace(row) for row in table)
    reduction = DECLARED.read(root, "batch_reduction")
    names = ", ".join(c.name for c in columns)
    return terms, reduction, f"the {reduction} over the samples ({names}) of {loss_field.value}", (loss, table)


def _check_loss(field, loss, parameters):
    if not loss.free_symbols & set(parameters):
        raise field.error("the loss does not depend on the parameters")
    for p in parameters:
        if sympy.diff(loss, p).has(sympy.Derivative, sympy.Subs, sympy.DiracDelta):
            raise field.error(f"the derivative of the loss in {p.name} has no closed form derive can evaluate")


def _exact(number):
    """The exact value of a number as written (0.1 is 1/10), so that formulas print it as written."""
    return sympy.Integer(int(number)) if float(number).is_integer() else sympy.Float(repr(float(number)), 15)


def _read_batches(root, samples, iterations):
    """The sample indices of each iteration's batch, or (None, None) for the full batch every time."""
    if not root.has("batch_size"):
        if root.has("seed"):
            raise root.get("seed").error("has no meaning without batch_size")
        return None, None
    size = DECLARED.read(root, "batch_size", {"samples": samples})
    seed = DECLARED.read(root, "seed")
    return draw_batches(samples, size, iterations, seed), seed


def draw_batches(samples, size, iterations, seed):
    """The batches of `iterations` mini-batch steps: each epoch a fresh shuffle cut into batches of `size`.

    The shuffle is Fisher–Yates driven by the raw 64-bit output of NumPy's
    PCG64 bit generator seeded with `seed` (a stream NumPy keeps the same on
    every machine and version; its higher-level `permutation` may change):
    for i = n−1 down to 1, j = r mod (i+1) from the next raw number r, drawn
    again while r ≥ 2^64 − 2^64 mod (i+1) (no modulo bias); swap i and j.
    A last batch smaller than `size` is kept (batches never span epochs).
    """
    from numpy.random import PCG64

    generator = PCG64(seed)
    batches = []
    while len(batches) < iterations:
        order = list(range(samples))
        for i in range(samples - 1, 0, -1):
            bound = i + 1
            limit = 2**64 - 2**64 % bound
            r = int(generator.random_raw())
            while r >= limit:
                r = int(generator.random_raw())
            j = r % bound
            order[i], order[j] = order[j], order[i]
        batches += [tuple(order[k:k + size]) for k in range(0, samples, size)]
    return tuple(batches[:iterations])


def _read_optimizers(field, iterations):
    items = field.items()
    if not 1 <= len(items) <= MAX_OPTIMIZERS:
        raise field.error(f"expected 1 to {MAX_OPTIMIZERS} optimizers, got {len(items)}")
    optimizers = []
    for item in items:
        item.mapping(allowed=OPTIMIZER.names)
        method = OPTIMIZER.read(item, "method")
        name_field = item.get("name", method)
        name = OPTIMIZER.read_field(name_field, "name")
        if name in [o.name for o in optimizers]:
            raise name_field.error(f"two optimizers are named {name!r}; give each its own name")
        rate = OPTIMIZER.read(item, "learning_rate")
        settings = {}
        for key, methods in HYPERPARAMETERS.items():
            if item.has(key) and method not in methods:
                raise item.get(key).error(f"has no meaning for method {method} (only for {', '.join(methods)})")
            if method not in methods:
                continue
            if key == "epsilon":
                settings[key] = OPTIMIZER.read_field(item.get(key, EPSILON[method]), key)
            else:
                settings[key] = OPTIMIZER.read(item, key)
        if method == "adagrad" and settings["form"] == "lecture" and item.has("epsilon"):
            raise item.get("epsilon").error("has no meaning for the lecture form of adagrad (form: library adds it)")
        if method == "rmsprop" and settings["form"] == "lecture" and item.has("epsilon"):
            raise item.get("epsilon").error("has no meaning for the lecture form of rmsprop (form: library adds it)")
        schedule = _read_schedule(item.get("schedule"), iterations) if item.has("schedule") else Schedule()
        optimizers.append(Optimizer(name, method, rate, schedule=schedule, **settings))
    return tuple(optimizers)


def _read_schedule(field, iterations):
    """A Schedule from `{type: ..., <its numbers>, warmup: n}`."""
    field.mapping(allowed=SCHEDULE.names)
    kind = SCHEDULE.read(field, "type")
    for key in field.value:
        if key not in ("type", "warmup") and key not in SCHEDULE_TAKES[kind]:
            allowed = ", ".join(sorted(SCHEDULE_TAKES[kind])) or "only warmup"
            raise field.get(key).error(f"has no meaning for the {kind} schedule (it takes {allowed})")
    numbers = {"warmup": SCHEDULE.read(field, "warmup")}
    if kind == "step":
        numbers["every"] = SCHEDULE.read_field(field.get("every"), "every")
        numbers["factor"] = SCHEDULE.read_field(field.get("factor"), "factor")
    elif kind == "linear":
        numbers["final"] = SCHEDULE.read(field, "final")
        numbers["over"] = SCHEDULE.read_field(field.get("over", iterations), "over")
    elif kind == "inverse_time":
        numbers["beta"] = SCHEDULE.read_field(field.get("beta"), "beta")
    return Schedule(kind, **numbers)


def _read_region(field, parameters):
    if len(parameters) != 2:
        raise field.error(f"a region is drawn for 2 parameters; this problem has {len(parameters)}")
    field.mapping(allowed={p.name for p in parameters})
    region = []
    for p in parameters:
        entry = field.get(p.name)
        low, high = entry.vector(2)
        if not low < high:
            raise entry.error(f"expected [low, high] with low < high, got [{low:g}, {high:g}]")
        region.append((low, high))
    return tuple(region)


# -- a network's loss ------------------------------------------------------------------------

def _read_network(field):
    """Parameters, labels, per-sample loss terms, reduction, start and description of a `network:`.

    The network is read by mlp_backprop's reader (sizes, layers, weights,
    offsets, samples, loss, batch); its weights and offsets become the
    parameters (w1_12 is w¹₁₂, from neuron 1 of layer 0 to neuron 2 of
    layer 1; b2_1 or th2_1 the bias or threshold of neuron 1 of layer 2)
    and their values the start point.
    """
    field.mapping(allowed=NETWORK.names)
    stand_in = Field({**field.value, "learning_rate": 1}, field.path, field.lines, field.where)
    spec = mlp_backprop.read(stand_in)
    if spec.forward_only:
        raise field.get("samples").error("every sample needs a target y (the loss compares the output with it)")
    if spec.loss not in NETWORK_LOSSES:
        raise field.get("loss").error(f"expected one of {', '.join(NETWORK_LOSSES)}, got text {spec.loss!r}")
    if max(spec.sizes) > MAX_NETWORK_WIDTH:
        raise field.get("sizes").error(f"expected layers of at most {MAX_NETWORK_WIDTH} neurons (each weight is a "
                                       "parameter)")
    parameters, labels, start = [], [], []
    weights, offsets = [], []
    offset = "b" if spec.offset == "bias" else "th"
    for l, layer in enumerate(spec.layers, start=1):
        w = {}
        for i, row in enumerate(layer.weights, start=1):
            for j, value in enumerate(row, start=1):
                w[i, j] = sympy.Symbol(f"w{l}_{i}{j}", real=True)
                parameters.append(w[i, j])
                labels.append(Sym.indexed("w", "w", l, (i, j)))
                start.append(value)
        c = {}
        for j, value in enumerate(layer.offsets, start=1):
            c[j] = sympy.Symbol(f"{offset}{l}_{j}", real=True)
            parameters.append(c[j])
            labels.append(Sym.indexed("b" if offset == "b" else "θ", "b" if offset == "b" else r"\theta", l, (j,)))
            start.append(value)
        weights.append(w)
        offsets.append(c)
    if len(parameters) > MAX_PARAMETERS:
        raise field.get("sizes").error(f"expected a network of at most {MAX_PARAMETERS} weights and offsets, "
                                       f"got {len(parameters)}")
    terms, passes = [], []
    for x, y in spec.samples:
        h = [_exact(v) for v in x]
        neurons = []
        for l, layer in enumerate(spec.layers, start=1):
            sign = 1 if offset == "b" else -1
            zs = [Add(*[weights[l - 1][i + 1, j] * h[i] for i in range(len(h))], sign * offsets[l - 1][j])
                  for j in range(1, len(layer.offsets) + 1)]
            h = [layer.activation.apply(z) for z in zs]
            neurons.append(tuple(Neuron(l, j, z, a, layer.activation) for j, (z, a) in enumerate(zip(zs, h), 1)))
        passes.append(tuple(neurons))
        targets = [_exact(v) for v in y]
        if spec.loss == "half_squared_error":
            term = Rational(1, 2) * Add(*[(t - o) ** 2 for o, t in zip(h, targets)])
        elif spec.loss == "mean_squared_error":
            term = Rational(1, len(h)) * Add(*[(t - o) ** 2 for o, t in zip(h, targets)])
        else:
            term = -Add(*[t * sympy.log(o) + (1 - t) * sympy.log(1 - o) for o, t in zip(h, targets)])
        terms.append(term)
    sizes = "-".join(str(n) for n in spec.sizes)
    acts = ", ".join(layer.activation.name for layer in spec.layers)
    text = (f"network {sizes} ({acts}), {spec.loss.replace('_', ' ')}, "
            f"{'summed' if spec.batch == 'sum' else 'averaged'} over {len(terms)} sample(s)")
    return tuple(parameters), tuple(labels), tuple(terms), spec.batch, tuple(start), text, tuple(passes)


# -- symbols ---------------------------------------------------------------------------------

_SUP = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


def _at(base, latex, t, label=None):
    """base^t_p: `g³_w1`, `g^{3}_{w1}` (p the parameter's label)."""
    text, tex = f"{base}{str(t).translate(_SUP)}", f"{latex}^{{{t}}}"
    if label is not None:
        text += f"_{label.text}"
        tex += f"_{{{label.latex}}}"
    return Sym(text, tex)


def _minus(a, b):
    return Add(a, Mul(-1, b, evaluate=False), evaluate=False)


def _square(a):
    return Pow(a, 2, evaluate=False)


def _over(a, b):
    return Mul(a, Pow(b, -1, evaluate=False), evaluate=False)


def _scaled_step(eta, numerator, denominator):
    """−η a/(d): one flat product, so that a negative a prints in parentheses."""
    return Mul(-1, eta, numerator, Pow(denominator, -1, evaluate=False), evaluate=False)


def _sqrt(a):
    return Pow(a, Rational(1, 2), evaluate=False)


# -- the solution ----------------------------------------------------------------------------

def solve(problem, rounding):
    """The Solution of an optimizer problem: each optimiser's T iterations in turn."""
    spec = problem.spec
    out = ExactBuilder(rounding)  # exact mode computes on the decimals as written
    limits = _smoothness(spec, out) if spec.hessian is not None else None
    for optimizer in spec.optimizers:
        _Trajectory(spec, optimizer, out).build()
    notes = _notes(spec)
    if limits is not None:
        notes += _step_size_notes(spec, out, limits)
    if rounding.decimals is not None:
        thrown = sorted({key.split(".")[0] for key, value in out.env.items()
                         if ".update[" in key and abs(value) > 1e6})
        if thrown:
            notes.append(_note(f"{', '.join(thrown)}: rounding to {rounding.decimals} decimals makes a small state "
                               "exactly 0 and the step divides by ε; solve exactly (--exact) or with more decimals"))
    return out.build(problem.name, problem.kind, problem.title, notes=notes)


SMOOTHNESS = "When gradient descent cannot increase the loss (L-smoothness)"


def _smoothness(spec, out):
    """The Hessian, its eigenvalues, L and the step sizes 1/L and 2/L, as steps; returns (1/L, 2/L) as keys."""
    names, n = [p.name for p in spec.parameters], len(spec.parameters)
    for i, row in enumerate(spec.hessian):
        for j, entry in enumerate(row):
            out.step(f"hessian[{names[i]}][{names[j]}]",
                     Sym(f"∂²L/∂{names[i]}∂{names[j]}", rf"\frac{{\partial^2 L}}{{\partial {names[i]} \partial {names[j]}}}"),
                     entry, SMOOTHNESS, note="constant: the loss is quadratic" if i == j == 0 else "")
    eigenvalues = sorted(sympy.Matrix(spec.hessian).eigenvals(multiple=True), key=lambda v: float(v))
    shown = [out.step(f"eigenvalue[{k}]", Sym(f"λ{str(k).translate(_SUB)}", rf"\lambda_{{{k}}}"), value, SMOOTHNESS,
                      note="the eigenvalues of the Hessian, smallest first" if k == 1 else "")
             for k, value in enumerate(eigenvalues, start=1)]
    largest = sympy.Max(*[sympy.Abs(v) for v in shown]) if n > 1 else sympy.Abs(shown[0])
    constant = out.step("L_smooth", Sym("L", "L"), largest, SMOOTHNESS,
                        note="the largest |eigenvalue|: ‖∇L(a) − ∇L(b)‖ ≤ L ‖a − b‖ everywhere")
    descent = out.step("eta_descent", Sym("1/L", r"1/L"), Pow(constant, -1, evaluate=False), SMOOTHNESS,
                       note="η ≤ 1/L: each step lowers the loss by at least η/2 ‖g‖² (the descent lemma)")
    limit = out.step("eta_limit", Sym("2/L", r"2/L"), Mul(2, Pow(constant, -1, evaluate=False), evaluate=False),
                     SMOOTHNESS, note="η < 2/L: the loss never rises; above it gradient descent diverges along the "
                                      "eigenvector of the largest |eigenvalue|")
    return descent.name, limit.name


def _step_size_notes(spec, out, limits):
    """Where each constant-rate gd run stands against 1/L and 2/L."""
    descent, limit = (out.value(key) for key in limits)
    notes = []
    for o in spec.optimizers:
        if o.method != "gd" or o.schedule.varies:
            continue
        eta = o.learning_rate
        if eta <= descent:
            where = f"η = {eta:g} ≤ 1/L = {descent:.6g}: every step lowers the loss by at least η/2 ‖g‖²"
        elif eta < limit:
            where = f"1/L = {descent:.6g} < η = {eta:g} < 2/L = {limit:.6g}: the loss still falls at every step"
        elif eta == limit:
            where = f"η = 2/L = {limit:.6g}: along the top eigenvector the error flips sign and keeps its size"
        else:
            where = (f"η = {eta:g} > 2/L = {limit:.6g}: along the top eigenvector the error grows by "
                     f"|1 − η L| = {abs(1 - eta * out.value('L_smooth')):.6g} a step, and the loss diverges")
        notes.append(_note(f"{o.name}: {where}"))
    return notes


_SUB = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


def _notes(spec):
    names = ", ".join(p.name for p in spec.parameters)
    notes = [_loss_note(spec, names)]
    if len(spec.terms) > 1:
        reduction = "mean" if spec.reduction == "mean" else "sum"
        notes.append(_note(f"the loss of a batch is the {reduction} of its samples' losses, and its gradient "
                           f"the {reduction} of theirs; L(θ^t) is the loss over all {len(spec.terms)} samples",
                           rf"\text{{the loss of a batch is the {reduction} of its samples' losses, and its gradient "
                           rf"the {reduction} of theirs; }} L(\theta^{{t}}) \text{{ is the loss over all "
                           rf"{len(spec.terms)} samples}}"))
    if spec.batches is not None:
        drawn = "; ".join(f"t = {t}: " + ", ".join(str(k + 1) for k in batch) for t, batch in enumerate(spec.batches))
        notes.append(_note(f"mini-batches (seed {spec.seed}; a fresh shuffle every epoch, Fisher–Yates on "
                           f"numpy PCG64's raw output; samples numbered from 1): {drawn}"))
    for o in spec.optimizers:
        text, latex = _schedule_text(o.schedule)
        notes.append(_note(f"{o.name}: {o.description}" + text,
                           rf"\text{{{escape(o.name)}: }}" + o.description_latex + latex))
    notes.append(_note("g^t is the gradient of the loss at θ^t (for nesterov at the look-ahead point), "
                       "t = 0, 1, ...; the loss L(θ^t) is printed after every update",
                       r"g^{t} \text{ is the gradient of the loss at } \theta^{t} \text{ (for nesterov at the "
                       r"look-ahead point), } t = 0, 1, \dots\text{; the loss } L(\theta^{t}) \text{ is printed "
                       r"after every update}"))
    return notes


def _loss_note(spec, names):
    """The loss, as written in the problem; in LaTeX the expression derive read (a network's, in words)."""
    from ..render.formula import latex_formula

    text = f"loss: L({names}) = {spec.loss_text}"
    if spec.network is not None:
        return _note(text)
    if spec.sample_loss is None:
        shown = latex_formula(spec.terms[0])
    else:
        columns = ", ".join(column.name for column in spec.rows[0])
        shown = (rf"\text{{ the {spec.reduction} over the samples ({escape(columns)}) of }} "
                 + latex_formula(spec.sample_loss))
    return _note(text, rf"\text{{loss: }} L({escape(names)}) = {shown}")


def _schedule_text(schedule):
    """(text, LaTeX) of a learning-rate schedule, to follow an optimiser's description."""
    every, over = schedule.every, schedule.over
    words = {
        "constant": ("", ""),
        "step": (f"; step decay: η^t = η_0 γ^⌊t/{every}⌋ with γ = {schedule.factor:g}",
                 rf"\text{{; step decay: }} \eta^{{t}} = \eta_{{0}} \gamma^{{\lfloor t/{every} \rfloor}} "
                 rf"\text{{ with }} \gamma = {schedule.factor:g}"),
        "linear": (f"; linear decay: η^t = η_0 + (η_end − η_0) min(t, {over})/{over}, η_end = {schedule.final:g}",
                   rf"\text{{; linear decay: }} \eta^{{t}} = \eta_{{0}} + (\eta_{{\text{{end}}}} - \eta_{{0}}) "
                   rf"\min(t, {over})/{over},\ \eta_{{\text{{end}}}} = {schedule.final:g}"),
        "inverse_time": (f"; 1/t decay: η^t = η_0/(1 + β t) with β = {schedule.beta:g}",
                         rf"\text{{; 1/t decay: }} \eta^{{t}} = \eta_{{0}}/(1 + \beta t) \text{{ with }} "
                         rf"\beta = {schedule.beta:g}"),
    }[schedule.kind]
    if schedule.warmup:
        warmup = schedule.warmup
        words = (words[0] + f"; warm-up: η^t times (t+1)/{warmup} while t < {warmup}",
                 words[1] + rf"\text{{; warm-up: }} \eta^{{t}} \text{{ times }} (t+1)/{warmup} \text{{ while }} "
                 rf"t < {warmup}")
    return words


def _note(text, latex=None):
    """A note of the solution: `text` for a terminal, and `latex` (by default the text, as words)."""
    return Sym(text, latex if latex is not None else r"\text{" + escape(text) + "}")


class _Trajectory:
    """The steps of one optimiser: hyperparameters, then each iteration's section."""

    def __init__(self, spec, optimizer, out):
        self.spec, self.o, self.out = spec, optimizer, out
        self.names = [p.name for p in spec.parameters]
        self.prefix = optimizer.name + "."
        self.forwards = {}  # point (its step Symbols) -> {a network's z or a expression: its step's Symbol}
        self.terms = {}  # (sample, parameter or None) -> that sample's loss or derivative, as printed

    def key(self, name, *indices):
        return self.prefix + name + "".join(f"[{i}]" for i in indices)

    def build(self):
        o, out = self.o, self.out
        section = f"{o.name}: {o.description.split(':')[0]}"
        given = lambda key, symbol, value: out.given(self.key(key), symbol, float(value), section=section,
                                                     group="hyper", origin=getattr(value, "origin", None))
        self.eta0 = given("eta", Sym("η₀" if o.schedule.varies else "η", r"\eta_{0}" if o.schedule.varies
                                     else r"\eta"), o.learning_rate)
        self.hyper = {}
        if o.method in ("momentum", "nesterov", "summary"):
            self.hyper["lambda"] = given("lambda", Sym("λ", r"\lambda"), o.momentum)
        if o.method in ("rmsprop", "summary"):
            self.hyper["alpha"] = given("alpha", Sym("α", r"\alpha"), o.alpha)
        if o.method == "adam":
            self.hyper["beta1"] = given("beta1", Sym("β1", r"\beta_1"), o.beta1)
            self.hyper["beta2"] = given("beta2", Sym("β2", r"\beta_2"), o.beta2)
        if o.epsilon is not None and not (o.method in ("adagrad", "rmsprop") and o.form == "lecture"):
            self.hyper["epsilon"] = given("epsilon", Sym("ε", r"\epsilon"), o.epsilon)
        schedule = o.schedule
        if schedule.kind == "step":
            self.hyper["gamma"] = given("gamma", Sym("γ", r"\gamma"), schedule.factor)
        if schedule.kind == "linear":
            self.hyper["eta_end"] = given("eta_end", Sym("η_end", r"\eta_{\mathrm{end}}"), schedule.final)
        if schedule.kind == "inverse_time":
            self.hyper["beta"] = given("beta", Sym("β", r"\beta"), schedule.beta)
        theta = [out.given(self.key("theta", 0, n), self.value_symbol(label, 0), value, section=section,
                           group="start")
                 for n, label, value in zip(self.names, self.spec.labels, self.spec.start)]
        state = self.initial_state(section)
        self.loss(0, theta, section)
        for t in range(self.spec.iterations):
            theta, state = self.iteration(t, theta, state)

    def initial_state(self, section):
        """m^0 = 0 (momentum, nesterov, adam) and v^0 = 0 (adam, library rmsprop), as givens."""
        o, state = self.o, {}
        zero = lambda name, base, latex: [self.out.given(self.key(name, 0, n), _at(base, latex, 0, label), 0.0,
                                                         section=section, group=name)
                                          for n, label in zip(self.names, self.spec.labels)]
        if o.method in ("momentum", "nesterov", "adam"):
            state["m"] = zero("m", "m", "m")
        if o.method == "adam" or (o.method == "rmsprop" and o.form == "library"):
            state["v"] = zero("v", "v", "v")
        state["g"] = [[] for _ in self.names]  # every earlier gradient (lecture adagrad)
        return state

    def value_symbol(self, label, t):
        """θ^t of one parameter: `x³`; a network's weight takes its time in parentheses, `w¹₁₂⁽³⁾`."""
        if self.spec.network is None:
            return _at(label.text, label.latex, t)
        # braced, {w^{1}_{12}}^{(3)}: a second superscript on one symbol is an error in LaTeX
        return Sym(f"{label.text}⁽{str(t).translate(_SUP)}⁾", rf"{{{label.latex}}}^{{({t})}}")

    def at(self, expression, point):
        """`expression` with the parameters replaced by the steps of `point` (and a network's z and a by
        the forward pass's steps at that point, where they appear)."""
        mapping = dict(zip(self.spec.parameters, point))
        mapping.update(self.forwards.get(tuple(point), {}))
        return _substitute(expression, mapping)

    def forward(self, t, point, section, name=""):
        """A network's forward pass at `point`: z and a of every neuron (every sample), as steps."""
        network = self.spec.network
        if network is None or tuple(point) in self.forwards:
            return
        known = {}
        several = len(network) > 1
        swap = dict(zip(self.spec.parameters, point))
        swap_and_known = lambda expression: _substitute(expression, {**swap, **known})
        for k, neurons in enumerate(network, start=1):
            for layer in neurons:
                for n in layer:
                    where = ((k,) if several else ()) + (n.layer, n.index)
                    time = f"⁽{str(t).translate(_SUP)}⁾" + ("" if not name else "~")
                    tail = f"[{k}]" if several else ""
                    z_formula = swap_and_known(n.z)
                    z_symbol = Sym.indexed("z", "z", n.layer, (n.index,))
                    z = self.out.step(self.key("z" + name, t, *where), Sym(z_symbol.text + time + tail,
                                      z_symbol.latex + f"{{}}^{{({t})}}"), z_formula, section)
                    known[n.z] = z
                    a_symbol = Sym.indexed("a", "a", n.layer, (n.index,))
                    a = self.out.step(self.key("a" + name, t, *where), Sym(a_symbol.text + time + tail,
                                      a_symbol.latex + f"{{}}^{{({t})}}"), n.activation.apply(z), section)
                    known[n.a] = a
        self.forwards[tuple(point)] = known

    def loss(self, t, theta, section):
        self.forward(t, theta, section)
        key = self.key("loss", t)
        self.out.step(key, Sym(f"L(θ{str(t).translate(_SUP)})", rf"L(\theta^{{{t}}})"),
                      self.at(_reduce([self.term(k) for k in range(len(self.spec.terms))], self.spec.reduction),
                              theta), section)
        if t > 0 and self.out.value(key) > self.out.value(self.key("loss", t - 1)):
            self.out.annotate(key, f"the loss went up from {format_number(self.out.value(self.key('loss', t - 1)))}")

    def term(self, k, parameter=None):
        """Sample k's loss, or its derivative in `parameter`, as printed: data values written in place."""
        spec = self.spec
        key = (k, parameter)
        if key not in self.terms:
            if spec.sample_loss is not None:
                general = spec.sample_loss if parameter is None else self.derivative(spec.sample_loss, parameter)
                self.terms[key] = _substitute(general, spec.rows[k])
            else:
                term = spec.terms[k]
                self.terms[key] = term if parameter is None else self.derivative(term, parameter)
        return self.terms[key]

    def derivative(self, expression, parameter):
        key = (expression, parameter)
        if key not in _DERIVATIVES:
            _DERIVATIVES[key] = _subgradient(sympy.diff(expression, parameter))
        return _DERIVATIVES[key]

    def rate(self, t, section):
        """η^t: the given η when constant, else a step with the schedule's formula."""
        s, h = self.o.schedule, self.hyper
        if not s.varies:
            return self.eta0
        if s.kind == "step":
            formula = Mul(self.eta0, Pow(h["gamma"], t // s.every, evaluate=False), evaluate=False)
        elif s.kind == "linear":
            fraction = Rational(min(t, s.over), s.over)
            formula = Add(self.eta0, Mul(fraction, _minus(h["eta_end"], self.eta0), evaluate=False),
                          evaluate=False) if fraction else self.eta0
        elif s.kind == "inverse_time":
            formula = _over(self.eta0, Add(1, Mul(t, h["beta"], evaluate=False), evaluate=False)) if t else self.eta0
        else:
            formula = self.eta0
        if t + 1 < s.warmup:
            formula = Mul(Rational(t + 1, s.warmup), formula, evaluate=False)
        return self.out.step(self.key("eta", t), _at("η", r"\eta", t), formula, section,
                             note="warm-up" if t + 1 < s.warmup else "")

    def gradient(self, t, point, section, note):
        """g^t: the derivative of the (batch) loss, with the parameters replaced by `point`."""
        spec = self.spec
        batch = range(len(spec.terms)) if spec.batches is None else spec.batches[t]
        gradients = []
        for i, (p, label) in enumerate(zip(spec.parameters, spec.labels)):
            parts = [self.term(k, p) for k in batch]
            formula = _reduce(parts, spec.reduction) if len(parts) > 1 else parts[0]
            gradients.append(self.out.step(self.key("g", t, p.name), _at("g", "g", t, label), self.at(formula, point),
                                           section, note=note if i == 0 else ""))
        return gradients

    def iteration(self, t, theta, state):
        o, out, spec, h = self.o, self.out, self.spec, self.hyper
        section = f"{o.name}: iteration t = {t}"
        note = ""
        if spec.batches is not None:
            note = "batch: samples " + ", ".join(str(k + 1) for k in spec.batches[t])
        eta = self.rate(t, section)
        labels = spec.labels
        point = theta
        if o.method == "nesterov":
            point = [out.step(self.key("ahead", t, n), _at("θ̃", r"\tilde{\theta}", t, label),
                              Add(th, Mul(h["lambda"], m, evaluate=False), evaluate=False), section,
                              note="look-ahead point θ^t + λ m^t" if i == 0 else "")
                     for i, (n, label, th, m) in enumerate(zip(self.names, labels, theta, state["m"]))]
            self.forward(t, point, section, name="_ahead")
        g = self.gradient(t, point, section, note)
        new_theta, new_state = [], dict(state)
        for i, (n, label) in enumerate(zip(self.names, labels)):
            key = lambda name, step=t: self.key(name, step, n)
            sym = lambda base, latex, step=t: _at(base, latex, step, label)
            state["g"][i].append(g[i])
            if o.method in ("momentum", "nesterov"):
                m = out.step(key("m", t + 1), sym("m", "m", t + 1),
                             _minus(Mul(h["lambda"], state["m"][i], evaluate=False), Mul(eta, g[i], evaluate=False)),
                             section)
                new_state.setdefault("m_new", []).append(m)
                update = m
            elif o.method == "gd":
                update = out.step(key("update"), sym("Δ", r"\Delta"), Mul(-1, eta, g[i], evaluate=False), section)
            elif o.method == "adagrad" and o.form == "lecture":
                squares = Add(*[_square(x) for x in state["g"][i]], evaluate=False) if t else _square(g[i])
                sigma = out.step(key("sigma"), sym("σ", r"\sigma"),
                                 _sqrt(Mul(Rational(1, t + 1), squares, evaluate=False)) if t else _sqrt(squares),
                                 section)
                update = out.step(key("update"), sym("Δ", r"\Delta"), Mul(-1, _over(eta, sigma), g[i], evaluate=False),
                                  section)
            elif o.method == "adagrad":
                previous = state.get("s")
                total = _square(g[i]) if previous is None else Add(previous[i], _square(g[i]), evaluate=False)
                s = out.step(key("s"), sym("s", "s"), total, section)
                new_state.setdefault("s_new", []).append(s)
                update = out.step(key("update"), sym("Δ", r"\Delta"),
                                  _scaled_step(eta, g[i], Add(_sqrt(s), h["epsilon"], evaluate=False)), section)
            elif o.method == "summary":  # m: the direction; σ: the size (the lecture's RMSProp form); no bias correction
                m_formula = g[i] if t == 0 else Add(Mul(h["lambda"], state["m"][i], evaluate=False), g[i], evaluate=False)
                m = out.step(key("m"), sym("m", "m"), m_formula, section,
                             note="the weighted sum of the gradients so far: the direction" if i == 0 else "")
                if t == 0:
                    sigma_formula = sympy.Abs(g[i], evaluate=False)
                else:
                    sigma_formula = _sqrt(Add(Mul(h["alpha"], _square(state["sigma"][i]), evaluate=False),
                                              Mul(_minus(1, h["alpha"]), _square(g[i]), evaluate=False), evaluate=False))
                sigma = out.step(key("sigma"), sym("σ", r"\sigma"), sigma_formula, section,
                                 note="the root mean square of the gradients: the size" if i == 0 else "")
                new_state.setdefault("m_new", []).append(m)
                new_state.setdefault("sigma_new", []).append(sigma)
                update = out.step(key("update"), sym("Δ", r"\Delta"), Mul(-1, _over(eta, sigma), m, evaluate=False),
                                  section)
            elif o.method == "rmsprop" and o.form == "lecture":
                if t == 0:
                    formula = sympy.Abs(g[i], evaluate=False)
                else:
                    formula = _sqrt(Add(Mul(h["alpha"], _square(state["sigma"][i]), evaluate=False),
                                        Mul(_minus(1, h["alpha"]), _square(g[i]), evaluate=False), evaluate=False))
                sigma = out.step(key("sigma"), sym("σ", r"\sigma"), formula, section)
                new_state.setdefault("sigma_new", []).append(sigma)
                update = out.step(key("update"), sym("Δ", r"\Delta"), Mul(-1, _over(eta, sigma), g[i], evaluate=False),
                                  section)
            elif o.method == "rmsprop":
                v = out.step(key("v", t + 1), sym("v", "v", t + 1),
                             Add(Mul(h["alpha"], state["v"][i], evaluate=False),
                                 Mul(_minus(1, h["alpha"]), _square(g[i]), evaluate=False), evaluate=False), section)
                new_state.setdefault("v_new", []).append(v)
                update = out.step(key("update"), sym("Δ", r"\Delta"),
                                  _scaled_step(eta, g[i], Add(_sqrt(v), h["epsilon"], evaluate=False)), section)
            else:  # adam
                b1, b2 = h["beta1"], h["beta2"]
                m = out.step(key("m", t + 1), sym("m", "m", t + 1),
                             Add(Mul(b1, state["m"][i], evaluate=False), Mul(_minus(1, b1), g[i], evaluate=False),
                                 evaluate=False), section)
                v = out.step(key("v", t + 1), sym("v", "v", t + 1),
                             Add(Mul(b2, state["v"][i], evaluate=False), Mul(_minus(1, b2), _square(g[i]),
                                                                             evaluate=False), evaluate=False), section)
                mhat = out.step(key("mhat", t + 1), sym("m̂", r"\hat{m}", t + 1),
                                _over(m, _minus(1, Pow(b1, t + 1, evaluate=False))), section)
                vhat = out.step(key("vhat", t + 1), sym("v̂", r"\hat{v}", t + 1),
                                _over(v, _minus(1, Pow(b2, t + 1, evaluate=False))), section)
                new_state.setdefault("m_new", []).append(m)
                new_state.setdefault("v_new", []).append(v)
                update = out.step(key("update"), sym("Δ", r"\Delta"),
                                  _scaled_step(eta, mhat, Add(_sqrt(vhat), h["epsilon"], evaluate=False)), section)
            new_theta.append(out.step(key("theta", t + 1), self.value_symbol(label, t + 1),
                                      Add(theta[i], update, evaluate=False), section))
        for name in ("m", "v", "s", "sigma"):
            if f"{name}_new" in new_state:
                new_state[name] = new_state.pop(f"{name}_new")
        self.loss(t + 1, new_theta, section)
        return new_theta, new_state


def _subgradient(derivative):
    """A derivative with every Heaviside step taking the value 0 at 0 (the subgradient at a relu kink)."""
    return derivative.replace(lambda e: isinstance(e, sympy.Heaviside), lambda e: sympy.Heaviside(e.args[0], 0))


_DERIVATIVES = {}  # (expression, parameter) -> derivative: SymPy's diff is the slow part of a solution


def _substitute(expression, mapping):
    """`expression` with the subexpressions in `mapping` replaced, its shape otherwise kept.

    Unlike xreplace, nothing is re-evaluated (2·(7 − 3 w) stays as written,
    a batch's terms stay apart), and a product's numbers come first (3 w,
    not w 3), as people write them. Only what a data value of 0 or 1 makes
    trivial is tidied: a product with a factor 0 is 0 and leaves its sum,
    a factor 1 is not written (7 − w, not 7 − 1 w).
    """
    if expression in mapping:
        return mapping[expression]
    if expression.is_Atom:
        return expression
    args = [_substitute(arg, mapping) for arg in expression.args]
    if args == list(expression.args):
        return expression
    if expression.is_Mul:
        if any(a.is_Number and a == 0 for a in args):
            return sympy.S.Zero
        args = [a for a in args if not (a.is_Number and a == 1)] or [sympy.S.One]
        args.sort(key=lambda a: not a.is_Number)
        if len(args) == 1:
            return args[0]
    if expression.is_Add:
        args = [a for a in args if not (a.is_Number and a == 0)] or [sympy.S.Zero]
        if len(args) == 1:
            return args[0]
    return expression.func(*args, evaluate=False)
