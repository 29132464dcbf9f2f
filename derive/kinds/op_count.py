"""`kind: op_count`: how many multiplications and additions one training step costs, in n and L.

Chapter 3.2 homework (3): a feed-forward network of L layers, each with n
inputs and n neurons (z⁽ˡ⁾ = W⁽ˡ⁾ a⁽ˡ⁻¹⁾ + b⁽ˡ⁾, a⁽ˡ⁾ = σ(z⁽ˡ⁾)), with a
squared-error loss. The solution counts the operations part by part: the
forward pass of one layer; the backward pass of the output layer and of a
hidden layer (error term, weight gradient, update); then adds them up over
the L layers, gives the leading terms (the homework's "about"), the numbers
for a concrete n and L when the file gives them, and a check of every total
against an instrumented run: one training step computed in plain Python on
numbers that count each operation applied to them.

What is counted is a choice, and the problem file states it (`sigmoid`,
`sigmoid_derivative`, `bias`, `loss`, `update`, `input_error`); the
solution's notes repeat it. Fixed everywhere: a sum of n numbers takes n - 1
additions, a sign change is free, and constants of the network (2/n, η)
are computed once and not counted.
"""

import math
import random
from collections import Counter
from dataclasses import dataclass

import sympy
from sympy import Add, Integer, Mul, Pow

from ..errors import DeriveError
from ..fields import Boolean, Choice, Declarations, Declared, Integer as WholeNumber, Structured
from ..steps import SolutionBuilder, Sym

LOSSES = ("mean_squared_error", "half_squared_error")
COSTS = ("counted", "free")
MAX_WIDTH, MAX_LAYERS = 100_000, 1_000  # every total stays an exact whole number below 10^15
MAX_CHECK_WIDTH, MAX_CHECK_LAYERS, MAX_CHECK_VALUES = 16, 8, 8


def _check_grid(largest):
    """The schema of a list read by _check_values: 1 to MAX_CHECK_VALUES distinct whole numbers from 1 to `largest`."""
    return Structured({"type": "array", "items": {"type": "integer", "minimum": 1, "maximum": largest},
                       "minItems": 1, "maxItems": MAX_CHECK_VALUES, "uniqueItems": True})


CHECK_GRID = Declarations(
    Declared("n", _check_grid(MAX_CHECK_WIDTH), f"the widths to run, 1 to {MAX_CHECK_VALUES} distinct values, "
             f"each 1 to {MAX_CHECK_WIDTH}", default=[1, 2, 3, 4]),
    Declared("L", _check_grid(MAX_CHECK_LAYERS), f"the depths to run, 1 to {MAX_CHECK_VALUES} distinct values, "
             f"each 1 to {MAX_CHECK_LAYERS}", default=[1, 2, 3]),
)
BOTH_OR_NEITHER = "none; give both `n` and `L` or neither"

# where an error found while solving is reported when nothing nearer its cause is known (Problem.solve)
ERRORS_AT = ("n", "L")

DECLARED = Declarations(
    Declared("n", WholeNumber(1, MAX_WIDTH), f"a concrete width n (1 to {MAX_WIDTH}) to evaluate the totals at",
             default=None, shown_default=BOTH_OR_NEITHER),
    Declared("L", WholeNumber(1, MAX_LAYERS), f"a concrete depth L (1 to {MAX_LAYERS}) to evaluate the totals at",
             default=None, shown_default=BOTH_OR_NEITHER),
    Declared("bias", Boolean(), "`true`: `z = W a + b`, n additions forward; `∂ℒ/∂b = e` costs nothing; b is updated "
             "like W. `false`: `z = W a`, no bias", default=True),
    Declared("loss", Choice(LOSSES), "`mean_squared_error` (the output error has n extra multiplications by 2/n) or "
             "`half_squared_error`", default="mean_squared_error"),
    Declared("sigmoid", Choice(COSTS), "`counted`: σ(z) = 1/(1 + exp(−z)) costs 1 exp, 1 addition and 1 division per "
             "neuron; `free`: not counted", default="counted"),
    Declared("sigmoid_derivative", Choice(COSTS), "`counted`: σ′ = a(1 − a) costs 1 subtraction and 1 multiplication "
             "per neuron; `free`: not counted", default="counted"),
    Declared("update", Boolean(), "count the update `W ← W − η ∂ℒ/∂W` (and b) as part of the backward pass",
             default=True),
    Declared("input_error", Boolean(), "also compute the input's error `W⁽¹⁾ᵀ e⁽¹⁾` (no gradient needs it)",
             default=False),
    Declared("check", Structured(CHECK_GRID.object_schema()), "the grid of the instrumented check: a mapping of `n` and "
             "`L` (below)", default={}, shown_default="`{n: [1, 2, 3, 4], L: [1, 2, 3]}`"),
)

N, LAYERS = sympy.Symbol("n"), sympy.Symbol("L")
OPERATIONS = {  # name: (text, LaTeX) of its count symbol #×, #+, #÷, #exp
    "mul": ("×", r"\times"),
    "add": ("+", "+"),
    "div": ("÷", r"\div"),
    "exp": ("exp", r"\exp"),
}


@dataclass(frozen=True)
class OpCountSpec:
    """A validated op_count problem (fields: docs/kinds/op_count.md).

    width, layers: n and L when the file gives them (to evaluate the totals), else None.
    sigmoid, sigmoid_derivative: "counted" or "free".
    check_widths, check_layers: the (n, L) grid of the instrumented check.
    """

    width: object
    layers: object
    bias: bool
    loss: str
    sigmoid: str
    sigmoid_derivative: str
    update: bool
    input_error: bool
    check_widths: tuple
    check_layers: tuple


def read(root):
    """Validate the op_count fields of a problem file into an OpCountSpec."""
    width = DECLARED.read(root, "n") if root.has("n") else None
    layers = DECLARED.read(root, "L") if root.has("L") else None
    if (width is None) != (layers is None):
        absent = "L" if layers is None else "n"
        raise root.missing(absent, "missing (give both n and L to evaluate the totals, or neither)")
    check = DECLARED.field(root, "check").mapping(allowed=CHECK_GRID.names)
    return OpCountSpec(
        width=width,
        layers=layers,
        bias=DECLARED.read(root, "bias"),
        loss=DECLARED.read(root, "loss"),
        sigmoid=DECLARED.read(root, "sigmoid"),
        sigmoid_derivative=DECLARED.read(root, "sigmoid_derivative"),
        update=DECLARED.read(root, "update"),
        input_error=DECLARED.read(root, "input_error"),
        check_widths=_check_values(CHECK_GRID.field(check, "n"), MAX_CHECK_WIDTH),
        check_layers=_check_values(CHECK_GRID.field(check, "L"), MAX_CHECK_LAYERS),
    )


def _check_values(field, largest):
    """A list of 1 to MAX_CHECK_VALUES different whole numbers from 1 to `largest`."""
    items = field.items()
    if not 1 <= len(items) <= MAX_CHECK_VALUES:
        raise field.error(f"expected a list of 1 to {MAX_CHECK_VALUES} values, got {len(items)}")
    values = []
    for item in items:
        value = item.integer(1, largest)
        if value in values:
            raise item.error(f"{value} is listed twice")
        values.append(value)
    return tuple(values)


# -- how counts are written -------------------------------------------------------

class Times(sympy.Expr):
    """A count written as (how many)·(operations each), kept as written: n·(n - 1).

    SymPy would merge n·n into n², and the formula printers show a product
    of symbols with a space (`n n`); a count reads better with its dot.
    """

    def __new__(cls, *factors):
        return super().__new__(cls, *(Integer(f) if isinstance(f, int) else f for f in factors))

    def _derive_formula(self, printer, leading=False):
        """Printed by the formula printers (their `_derive_formula` hook), a sum in parentheses."""
        return printer.times_numbers.join(
            printer.group(printer._print(factor, leading=True)) if factor.is_Add else printer._print(factor)
            for factor in self.args)


class Lead(sympy.Function):
    """lead(p): the terms of the polynomial p of highest degree in n and L together."""

    nargs = 1

    def _derive_formula(self, printer, leading=False):
        """Printed by the formula printers (their `_derive_formula` hook); in LaTeX as an operator."""
        from ..render.formula import LatexFormula

        name = r"\operatorname{lead}" if isinstance(printer, LatexFormula) else "lead"
        return printer.call(name, [printer._print(self.args[0], leading=True)])


def count_symbol(operation, what):
    """#×[W a]: the number of `operation`s spent on `what` (a Sym)."""
    text, latex = OPERATIONS[operation]
    return Sym(f"#{text}[{what.text}]", rf"\#_{{{latex}}}[{what.latex}]")


def leading_terms(polynomial):
    """The terms of highest total degree in n and L: what "about" means for a large network."""
    terms = sympy.Poly(polynomial, N, LAYERS).terms()
    top = max(a + b for (a, b), _ in terms)
    return sum(c * N**a * LAYERS**b for (a, b), c in terms if a + b == top)


def written(polynomial):
    """A polynomial in n and L as people write it: powers of n from the highest down, each
    with its coefficient in L (positive terms first), kept unevaluated so that it prints
    so: (3 L - 1) n^2 + (3 L + 1) n."""
    by_power = {}
    for (a, b), c in sympy.Poly(polynomial, N, LAYERS).terms():
        by_power.setdefault(a, []).append((b, c))
    terms = []
    for a in sorted(by_power, reverse=True):
        power = [] if a == 0 else [N if a == 1 else Pow(N, a)]
        coefficient = sorted(by_power[a], key=lambda term: (int(term[1]) < 0, -term[0]))  # 1 - L, not -L + 1
        if len(coefficient) == 1 or not power:
            terms += [_monomial(c, [LAYERS**b] if b else [], power) for b, c in coefficient]
        else:
            inner = Add(*[_monomial(c, [LAYERS**b] if b else [], []) for b, c in coefficient], evaluate=False)
            terms.append(Mul(inner, *power, evaluate=False))
    if not terms:
        return Integer(0)
    return terms[0] if len(terms) == 1 else Add(*terms, evaluate=False)


def _monomial(coefficient, *factor_lists):
    factors = [f for factors in factor_lists for f in factors]
    if not factors:
        return Integer(coefficient)
    if coefficient == 1:
        return factors[0] if len(factors) == 1 else Mul(*factors, evaluate=False)
    return Mul(Integer(coefficient), *factors, evaluate=False)


# -- what one layer does -----------------------------------------------------------

@dataclass(frozen=True)
class Part:
    """One counted operation of a layer: each of the n neurons does it `each` times.

    key: the step key (`forward_mul.weights`); operation: mul, add, div or exp;
    what: a Sym for what is computed (W a); note: why the count is what it is.
    """

    key: str
    operation: str
    what: Sym
    each: object
    note: str

    @property
    def count(self):
        return sympy.expand(N * self.each)


W_A = Sym("W a", "W a")
BIAS = Sym("+ b", "+ b")
SIGMA = Sym("σ", r"\sigma")
SIGMA_PRIME = Sym("σ′", r"\sigma'")
HADAMARD = Sym("⊙", r"\odot")
RESIDUAL = Sym("ŷ - y", r"\hat{y} - y")
SCALE = Sym("2/n·(ŷ - y)", r"\tfrac{2}{n}(\hat{y} - y)")
BACK = Sym("Wᵀ e", r"W^{\top} e")
INPUT_BACK = Sym("W⁽¹⁾ᵀ e⁽¹⁾", r"W^{(1)\top} e^{(1)}")
GRADIENT = Sym("e aᵀ", r"e\, a^{\top}")
STEP_W = Sym("η ∂ℒ/∂W", r"\eta\, \partial \mathcal{L} / \partial W")
UPDATE_W = Sym("W - η ∂ℒ/∂W", r"W - \eta\, \partial \mathcal{L} / \partial W")
STEP_B = Sym("η ∂ℒ/∂b", r"\eta\, \partial \mathcal{L} / \partial b")
UPDATE_B = Sym("b - η ∂ℒ/∂b", r"b - \eta\, \partial \mathcal{L} / \partial b")


def forward_parts(spec):
    """z = W a + b and a = σ(z), for one layer."""
    parts = [
        Part("forward_mul.weights", "mul", W_A, N, "each neuron multiplies its n weights by the n inputs"),
        Part("forward_add.weights", "add", W_A, N - 1, "each neuron adds up its n products: n - 1 additions"),
    ]
    if spec.bias:
        parts.append(Part("forward_add.bias", "add", BIAS, 1, "one bias per neuron"))
    if spec.sigmoid == "counted":
        parts += [
            Part("forward_add.sigmoid", "add", SIGMA, 1, "the 1 + exp(-z) in sigmoid(z) = 1/(1 + exp(-z))"),
            Part("forward_div.sigmoid", "div", SIGMA, 1, "the division 1/(1 + exp(-z))"),
            Part("forward_exp.sigmoid", "exp", SIGMA, 1, "exp(-z); the sign change -z is free"),
        ]
    return parts


def output_parts(spec):
    """What only the output layer does: the slope of the loss, ∂ℒ/∂ŷ."""
    parts = [Part("output_add.residual", "add", RESIDUAL, 1, "yhat - y: one subtraction per output")]
    if spec.loss == "mean_squared_error":
        parts.append(Part("output_mul.scale", "mul", SCALE, 1,
                          "the slope of the loss, 2/n (yhat - y); the constant 2/n is computed once"))
    return parts


def hidden_parts():
    """What only a hidden layer l < L does: bring the error of layer l + 1 back through W⁽ˡ⁺¹⁾."""
    return [
        Part("hidden_mul.backprop", "mul", BACK, N, "W^(l+1) transposed times e^(l+1): n products per neuron"),
        Part("hidden_add.backprop", "add", BACK, N - 1, "each neuron adds up its n products"),
    ]


def every_layer_parts(spec):
    """What every layer's backward pass does: σ′, the product ⊙, the weight gradient, the update."""
    parts = []
    if spec.sigmoid_derivative == "counted":
        parts += [
            Part("backward_add.derivative", "add", SIGMA_PRIME, 1, "the 1 - a in a(1 - a), a from the forward pass"),
            Part("backward_mul.derivative", "mul", SIGMA_PRIME, 1, "a times (1 - a)"),
        ]
    parts += [
        Part("backward_mul.hadamard", "mul", HADAMARD, 1, "e = derivative times incoming error, neuron by neuron"),
        Part("backward_mul.gradient", "mul", GRADIENT, N,
             "dL/dW = e a^T: n products e_j a_k per neuron" + ("; dL/db = e costs nothing" if spec.bias else "")),
    ]
    if spec.update:
        parts += [
            Part("backward_mul.update_weights", "mul", STEP_W, N, "eta times each of the n^2 gradients"),
            Part("backward_add.update_weights", "add", UPDATE_W, N, "one subtraction per weight"),
        ]
        if spec.bias:
            parts += [
                Part("backward_mul.update_bias", "mul", STEP_B, 1, "eta times each bias gradient"),
                Part("backward_add.update_bias", "add", UPDATE_B, 1, "one subtraction per bias"),
            ]
    return parts


def input_parts(spec):
    """The error of the input x, W⁽¹⁾ᵀ e⁽¹⁾, when the problem asks for it."""
    if not spec.input_error:
        return []
    return [
        Part("input_mul.backprop", "mul", INPUT_BACK, N, "W^(1) transposed times e^(1): n products per input"),
        Part("input_add.backprop", "add", INPUT_BACK, N - 1, "each input adds up its n products"),
    ]


# -- the solver --------------------------------------------------------------------

FORWARD = "Forward pass, one layer"
OUTPUT = "Backward pass, output layer (l = L): error term from the loss"
HIDDEN = "Backward pass, hidden layer (l < L): error term from layer l + 1"
EVERY = "Backward pass, every layer"
INPUT = "Backward pass, the error of the input"
ONE_LAYER = "Backward pass, one layer"
TOTALS = "All L layers"
LEADING = "Leading terms for large n and L (the homework's \"about\")"
CHECK = "Check: the totals against an instrumented run"

LAYER_TOTALS = {  # group: what its totals are called
    "forward": Sym("forward, one layer", r"\text{forward, one layer}"),
    "output": Sym("backward, output layer", r"\text{backward, output layer}"),
    "hidden": Sym("backward, hidden layer", r"\text{backward, hidden layer}"),
}
NETWORK_TOTALS = {
    "total_forward": Sym("forward, L layers", r"\text{forward, } L \text{ layers}"),
    "total_backward": Sym("backward, L layers", r"\text{backward, } L \text{ layers}"),
    "total": Sym("forward + backward", r"\text{forward + backward}"),
}


def solve(problem, rounding):
    """The Solution of an op_count problem."""
    spec = problem.spec
    out = SolutionBuilder(rounding)
    if spec.width is not None:
        out.given("n", Sym("n", "n"), spec.width)
        out.given("L", Sym("L", "L"), spec.layers)
    forward, output, hidden = forward_parts(spec), output_parts(spec), hidden_parts()
    every, inputs = every_layer_parts(spec), input_parts(spec)
    for parts, section in ((forward, FORWARD), (output, OUTPUT), (hidden, HIDDEN), (every, EVERY), (inputs, INPUT)):
        for part in parts:
            out.symbolic(part.key, count_symbol(part.operation, part.what), Times(N, part.each),
                         written(part.count), section, note=part.note)
    counts = {}  # step key -> its polynomial in n and L
    counts.update(_layer_totals(out, "forward", forward, FORWARD))
    counts.update(_layer_totals(out, "output", output + every, ONE_LAYER))
    counts.update(_layer_totals(out, "hidden", hidden + every, ONE_LAYER))
    counts.update(_network_totals(out, counts, inputs))
    symbols = {step.key: step.symbol for step in out.steps}
    for key, polynomial in counts.items():
        if key.endswith(("_mul", "_add")):
            what = symbols[key]
            out.symbolic(f"lead.{key}", Sym(f"lead({what.text})", rf"\operatorname{{lead}}\left({what.latex}\right)"),
                         Lead(written(polynomial)), written(leading_terms(polynomial)), LEADING)
    totals = {key: polynomial for key, polynomial in counts.items() if key.startswith("total_")}
    if spec.width is not None:
        section = f"At n = {spec.width}, L = {spec.layers}"
        for key, polynomial in totals.items():
            out.step(f"value.{key}", symbols[key], written(polynomial), section)
    _check(out, spec, totals, symbols)
    return out.build(problem.name, problem.kind, problem.title, notes=notes(spec))


def _layer_totals(out, group, parts, section):
    """`<group>_mul`, `<group>_add`, ...: the sum of one layer's parts, per operation.

    Formulas here are in n and L only, never over the parts' keys: a
    symbolic step's symbols are the variables a student's answer is read in.
    """
    counts = {}
    for operation in OPERATIONS:
        mine = [part for part in parts if part.operation == operation]
        if not mine:
            continue
        terms = [Times(N, part.each) for part in mine]
        total = sum(part.count for part in mine)
        key = f"{group}_{operation}"
        names = " + ".join(part.key.split(".", 1)[1] for part in mine)
        out.symbolic(key, count_symbol(operation, LAYER_TOTALS[group]), _sum(terms), written(total), section,
                     note=names if len(mine) > 1 else "")
        counts[key] = total
    return counts


def _network_totals(out, counts, inputs):
    """The totals over L layers: L forward layers, one output and L - 1 hidden layers backward."""
    totals = {}
    for operation in OPERATIONS:
        layer = counts.get(f"forward_{operation}")
        if layer is not None:
            key = f"total_forward_{operation}"
            totals[key] = _total(out, key, operation, "total_forward", [Times(LAYERS, written(layer))],
                                 LAYERS * layer)
    for operation in OPERATIONS:
        terms, total = [], 0
        output, hidden = counts.get(f"output_{operation}"), counts.get(f"hidden_{operation}")
        if output is not None:
            terms.append(written(output))
            total += output
        if hidden is not None:
            terms.append(Times(LAYERS - 1, written(hidden)))
            total += (LAYERS - 1) * hidden
        for part in inputs:
            if part.operation == operation:
                terms.append(written(part.count))
                total += part.count
        if terms:
            key = f"total_backward_{operation}"
            totals[key] = _total(out, key, operation, "total_backward", terms, total)
    for operation in ("mul", "add"):
        passes = [totals[key] for key in (f"total_forward_{operation}", f"total_backward_{operation}") if key in totals]
        totals[f"total_{operation}"] = _total(out, f"total_{operation}", operation, "total",
                                              [written(total) for total in passes], sum(passes))
    return totals


def _total(out, key, operation, name, terms, total):
    total = sympy.expand(total)
    out.symbolic(key, count_symbol(operation, NETWORK_TOTALS[name]), _sum(terms), written(total), TOTALS)
    return total


def _sum(terms):
    return terms[0] if len(terms) == 1 else Add(*terms, evaluate=False)


def _check(out, spec, totals, symbols):
    """One step per (n, L) of the grid and per pass total: the formula's value, and the count of a run."""
    checked = {key: polynomial for key, polynomial in totals.items()
               if key.startswith(("total_forward_", "total_backward_"))}
    for width in spec.check_widths:
        for layers in spec.check_layers:
            counted = counted_operations(spec, width, layers)
            passes = {"total_forward": counted[0], "total_backward": counted[1]}
            for name, tally in passes.items():
                uncovered = {op for op in tally if f"{name}_{op}" not in checked}
                if uncovered:
                    raise DeriveError(f"internal: the run at n = {width}, L = {layers} did "
                                      f"{', '.join(sorted(uncovered))} operations no formula counts")
            for key, polynomial in checked.items():
                name, operation = key.rsplit("_", 1)
                got = passes[name][operation]
                what = symbols[key]
                expected = polynomial.subs({N: width, LAYERS: layers})
                verdict = "equal" if got == expected else "DIFFERENT"
                out.step(f"check[{width}][{layers}].{key}",
                         Sym(f"{what.text} at n = {width}, L = {layers}",
                             rf"{what.latex}\big|_{{n = {width},\ L = {layers}}}"),
                         expected, CHECK, note=f"instrumented run: {got}, {verdict}")


# -- the instrumented run ------------------------------------------------------------

class _Counted:
    """A number that adds one to a shared tally for every operation applied to it.

    `a * b` counts a mul, `a + b` and `a - b` an add, `a / b` a div,
    `a.exp()` an exp; `-a` is free. Plain numbers (the constants 2/n and η)
    combine with counted ones and count the same.
    """

    __slots__ = ("value", "tally")

    def __init__(self, value, tally):
        self.value = value
        self.tally = tally

    def _made(self, operation, value):
        self.tally[operation] += 1
        return _Counted(value, self.tally)

    def __add__(self, other):
        return self._made("add", self.value + _plain(other))

    __radd__ = __add__

    def __sub__(self, other):
        return self._made("add", self.value - _plain(other))

    def __rsub__(self, other):
        return self._made("add", _plain(other) - self.value)

    def __mul__(self, other):
        return self._made("mul", self.value * _plain(other))

    __rmul__ = __mul__

    def __truediv__(self, other):
        return self._made("div", self.value / _plain(other))

    def __rtruediv__(self, other):
        return self._made("div", _plain(other) / self.value)

    def __neg__(self):
        return _Counted(-self.value, self.tally)

    def exp(self):
        return self._made("exp", math.exp(self.value))

    def uncounted(self, function):
        """function(value) as a counted number, the work not counted (a lookup)."""
        return _Counted(function(self.value), self.tally)


def _plain(number):
    return number.value if isinstance(number, _Counted) else number


def _dot(row, vector):
    """Σ_k row[k] vector[k]: n products, n - 1 additions."""
    total = row[0] * vector[0]
    for weight, value in zip(row[1:], vector[1:]):
        total = total + weight * value
    return total


def _sigmoid(z, cost):
    if cost == "free":
        return z.uncounted(lambda v: 1 / (1 + math.exp(-v)))
    return 1 / (1 + (-z).exp())


def _sigmoid_slope(a, cost):
    """σ′(z) from a = σ(z)."""
    if cost == "free":
        return a.uncounted(lambda v: v * (1 - v))
    return a * (1 - a)


def counted_operations(spec, width, layers, seed=0):
    """(forward, backward): Counters of the operations one training step on one sample performs.

    The step is computed, on random numbers, the way it is written by hand:
    forward layer by layer, the error terms from the output down, every
    weight gradient, then the update.
    """
    tally = Counter()
    rng = random.Random(seed)

    def numbers(count):
        return [_Counted(rng.uniform(-1, 1), tally) for _ in range(count)]

    weights = [[numbers(width) for _ in range(width)] for _ in range(layers)]  # weights[l][j][k]: k -> j
    biases = [numbers(width) for _ in range(layers)]
    x, y = numbers(width), numbers(width)

    activations = [x]
    for l in range(layers):
        z = [_dot(row, activations[-1]) for row in weights[l]]
        if spec.bias:
            z = [zj + bj for zj, bj in zip(z, biases[l])]
        activations.append([_sigmoid(zj, spec.sigmoid) for zj in z])
    forward = Counter(tally)
    tally.clear()

    slope = [yhat - target for yhat, target in zip(activations[-1], y)]
    if spec.loss == "mean_squared_error":
        scale = 2 / width  # a constant of the network
        slope = [scale * s for s in slope]
    errors = [None] * layers
    errors[-1] = [_sigmoid_slope(a, spec.sigmoid_derivative) * s for a, s in zip(activations[-1], slope)]
    for l in range(layers - 2, -1, -1):
        columns = list(zip(*weights[l + 1]))
        back = [_dot(column, errors[l + 1]) for column in columns]
        errors[l] = [_sigmoid_slope(a, spec.sigmoid_derivative) * g for a, g in zip(activations[l + 1], back)]
    if spec.input_error:
        for column in zip(*weights[0]):
            _dot(column, errors[0])  # the input's error: only its cost matters here
    gradients = [[[e * a for a in activations[l]] for e in errors[l]] for l in range(layers)]
    if spec.update:
        eta = 0.5
        for l in range(layers):
            weights[l] = [[w - eta * g for w, g in zip(row, grad)] for row, grad in zip(weights[l], gradients[l])]
            if spec.bias:
                biases[l] = [b - eta * e for b, e in zip(biases[l], errors[l])]
    return forward, Counter(tally)


# -- notes -------------------------------------------------------------------------

def notes(spec):
    """What is counted, in words: every choice the problem file made."""
    z_text, z_latex = ("W⁽ˡ⁾ a⁽ˡ⁻¹⁾ + b⁽ˡ⁾", r"W^{(l)} a^{(l-1)} + b^{(l)}") if spec.bias else \
        ("W⁽ˡ⁾ a⁽ˡ⁻¹⁾", r"W^{(l)} a^{(l-1)}")
    result = [Sym(
        f"L layers of n neurons with n inputs each: z⁽ˡ⁾ = {z_text}, a⁽ˡ⁾ = σ(z⁽ˡ⁾), a⁽⁰⁾ = x; "
        "one training step on one sample",
        rf"L \text{{ layers of }} n \text{{ neurons with }} n \text{{ inputs each: }} z^{{(l)}} = {z_latex},\ "
        r"a^{(l)} = \sigma(z^{(l)}),\ a^{(0)} = x;\ \text{one training step on one sample}")]
    result.append(Sym(
        "counted: #× multiplications, #+ additions and subtractions, #÷ divisions, #exp exponentials; "
        "a sign change is free; a sum of n numbers takes n - 1 additions",
        r"\text{counted: } \#_{\times} \text{ multiplications, } \#_{+} \text{ additions and subtractions, } "
        r"\#_{\div} \text{ divisions, } \#_{\exp} \text{ exponentials; a sign change is free; a sum of } n "
        r"\text{ numbers takes } n - 1 \text{ additions}"))
    if spec.loss == "mean_squared_error":
        result.append(Sym(
            "loss ℒ = 1/n Σ_j (ŷ_j - y_j)^2, so ∂ℒ/∂ŷ = 2/n (ŷ - y); the constant 2/n is computed once, "
            "not counted; ℒ's own value is not computed (no gradient needs it)",
            r"\mathcal{L} = \frac{1}{n} \sum_j (\hat{y}_j - y_j)^2,\ \partial \mathcal{L} / \partial \hat{y} = "
            r"\tfrac{2}{n} (\hat{y} - y);\ \text{the constant } \tfrac{2}{n} \text{ is computed once, not counted; "
            r"the value of } \mathcal{L} \text{ is not computed}"))
    else:
        result.append(Sym(
            "loss ℒ = 1/2 Σ_j (ŷ_j - y_j)^2, so ∂ℒ/∂ŷ = ŷ - y; ℒ's own value is not computed (no gradient needs it)",
            r"\mathcal{L} = \frac{1}{2} \sum_j (\hat{y}_j - y_j)^2,\ \partial \mathcal{L} / \partial \hat{y} = "
            r"\hat{y} - y;\ \text{the value of } \mathcal{L} \text{ is not computed}"))
    if spec.sigmoid == "counted":
        result.append(Sym("σ(z) = 1/(1 + exp(-z)): 1 exp, 1 addition, 1 division per neuron (sigmoid: counted)",
                          r"\sigma(z) = 1/(1 + e^{-z}):\ \text{1 exp, 1 addition, 1 division per neuron}"))
    else:
        result.append(Sym("σ(z) is not counted: a table or a library call (sigmoid: free)",
                          r"\sigma(z) \text{ is not counted: a table or a library call}"))
    if spec.sigmoid_derivative == "counted":
        result.append(Sym("σ′(z) = a(1 - a) with the forward pass's a: 1 subtraction, 1 multiplication per neuron "
                          "(sigmoid_derivative: counted)",
                          r"\sigma'(z) = a(1 - a) \text{ with the forward pass's } a:\ "
                          r"\text{1 subtraction, 1 multiplication per neuron}"))
    else:
        result.append(Sym("σ′(z) is not counted: kept from the forward pass (sigmoid_derivative: free)",
                          r"\sigma'(z) \text{ is not counted: kept from the forward pass}"))
    result.append(Sym(
        "error terms: e⁽ᴸ⁾ = ∂ℒ/∂ŷ ⊙ σ′(z⁽ᴸ⁾), e⁽ˡ⁾ = σ′(z⁽ˡ⁾) ⊙ (W⁽ˡ⁺¹⁾ᵀ e⁽ˡ⁺¹⁾); gradient ∂ℒ/∂W⁽ˡ⁾ = e⁽ˡ⁾ a⁽ˡ⁻¹⁾ᵀ"
        + (", ∂ℒ/∂b⁽ˡ⁾ = e⁽ˡ⁾" if spec.bias else ""),
        r"e^{(L)} = \partial \mathcal{L} / \partial \hat{y} \odot \sigma'(z^{(L)}),\ "
        r"e^{(l)} = \sigma'(z^{(l)}) \odot (W^{(l+1)\top} e^{(l+1)}),\ "
        r"\partial \mathcal{L} / \partial W^{(l)} = e^{(l)} a^{(l-1)\top}"
        + (r",\ \partial \mathcal{L} / \partial b^{(l)} = e^{(l)}" if spec.bias else "")))
    if spec.input_error:
        result.append(Sym("the error of the input, W⁽¹⁾ᵀ e⁽¹⁾, is computed too (input_error: true)",
                          r"\text{the error of the input, } W^{(1)\top} e^{(1)} \text{, is computed too}"))
    else:
        result.append(Sym("the error of the input, W⁽¹⁾ᵀ e⁽¹⁾, is not computed: no gradient needs it "
                          "(input_error: false)",
                          r"\text{the error of the input, } W^{(1)\top} e^{(1)} \text{, is not computed: "
                          r"no gradient needs it}"))
    if spec.update:
        rule = "W ← W - η ∂ℒ/∂W" + (", b ← b - η ∂ℒ/∂b" if spec.bias else "")
        rule_latex = r"W \leftarrow W - \eta\, \partial \mathcal{L} / \partial W" + (
            r",\ b \leftarrow b - \eta\, \partial \mathcal{L} / \partial b" if spec.bias else "")
        result.append(Sym(f"update: {rule}, η fixed (update: true)", rf"\text{{update: }} {rule_latex}"))
    else:
        result.append(Sym("the update is not counted: the backward pass ends with the gradients (update: false)",
                          r"\text{the update is not counted: the backward pass ends with the gradients}"))
    widths = ", ".join(map(str, spec.check_widths))
    layers = ", ".join(map(str, spec.check_layers))
    result.append(Sym(
        f"check: each total against the operations counted while one training step runs in plain Python "
        f"on numbers that count every operation applied to them, for n = {widths} and L = {layers}",
        rf"\text{{check: each total against the operations counted in a run of one training step, for }} "
        rf"n = {widths},\ L = {layers}"))
    result.append(Sym("lead(p): the terms of p of highest degree in n and L together",
                      r"\operatorname{lead}(p)\text{: the terms of } p \text{ of highest degree in } n "
                      r"\text{ and } L \text{ together}"))
    return result
