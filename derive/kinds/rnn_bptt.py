"""`kind: rnn_bptt`: a recurrent network forward over a short sequence, then back-propagation through time.

The lecture's network (the CNN/RNN lecture, 循环神经网络 RNN):

    h^t = σ(z^t) = σ(U x^t + W h^{t-1}),    ŷ^t = σ(o^t) = σ(V h^t)

with no biases, as the lecture writes it. The solution prints the forward
pass time step by time step, the loss summed over the time steps, the error
at each output ∂L/∂o^t, the Jacobians ∂h^t/∂h^{t-1} = diag(σ′(z^t)) W, the
error ∂L/∂h^t carried back through them, δ^t = ∂L/∂z^t, and the gradients of
U, W and V summed over time. Then the product of the Jacobians from the last
step back (∂h^T/∂h^k), whose size decides whether the gradient vanishes or
explodes, and the lecture's scalar illustration w^T for w = 1, 1.01, 0.99,
0.01 and T = 1000.
"""

import math
from dataclasses import dataclass, replace

from sympy import Mul, Pow, Rational

from ..fields import Choice, Declarations, Declared, Integer, Structured
from ..steps import SolutionBuilder, Sym
from .recurrent import (
    MAX_TIME, MAX_UNITS, NUMBER, grad_sym, key, matrix_schema, minus, numbers_schema, partial_sym, read_activation,
    read_matrix, read_sequence, read_vector, sequence_schema, square_size, symbol_of, time_sym, times, total,
    vector_schema,
)

ACTIVATIONS = ("sigmoid", "tanh")
OUTPUT_ACTIVATIONS = ("sigmoid", "linear")
LOSSES = ("half_squared_error", "squared_error")
LONG_RANGE_W = (1, 1.01, 0.99, 0.01)  # the lecture's slide
LONG_RANGE_T = 1000
MAX_LONG_RANGE, MAX_T = 8, 100_000
MAX_POWER = 1e300  # |w|^T beyond this is not a float

LONG_RANGE = Declarations(
    Declared("w", Structured({"anyOf": [NUMBER, numbers_schema(MAX_LONG_RANGE)]}),
             f"the numbers w whose powers wᵀ are printed, 1 to {MAX_LONG_RANGE} of them (each wᵀ at most 1e300 "
             "in size)",
             default=list(LONG_RANGE_W)),
    Declared("T", Integer(1, MAX_T), f"the power T, 1 to {MAX_T}", default=LONG_RANGE_T),
)

# where an error found while solving is reported when nothing nearer its cause is known (Problem.solve)
ERRORS_AT = ("inputs",)

DECLARED = Declarations(
    Declared("inputs", Structured(sequence_schema()),
             f"x⁽¹⁾..x⁽ᵀ⁾: a list of numbers (one input) or of equal-length lists (1 to {MAX_UNITS} inputs); 1 to "
             f"{MAX_TIME} time steps"),
    Declared("targets", Structured(sequence_schema()), "y⁽¹⁾..y⁽ᵀ⁾, one per input, each as long as the output"),
    Declared("U", Structured(matrix_schema(MAX_UNITS, MAX_UNITS, flat=MAX_UNITS)), "input weights, hidden × inputs"),
    Declared("W", Structured(matrix_schema(MAX_UNITS, MAX_UNITS, flat=0)),
             f"recurrent weights, hidden × hidden (square; sets the hidden size, 1 to {MAX_UNITS})"),
    Declared("V", Structured(matrix_schema(MAX_UNITS, MAX_UNITS, flat=MAX_UNITS)),
             f"output weights, outputs × hidden (1 to {MAX_UNITS} outputs)"),
    Declared("h0", Structured(vector_schema(MAX_UNITS)), "h⁽⁰⁾, one number per hidden unit", default=None,
             shown_default="zeros"),
    Declared("activation", Choice(ACTIVATIONS), "the hidden σ: `sigmoid` (the lecture's) or `tanh` (as libraries use)",
             default="sigmoid"),
    Declared("output_activation", Choice(OUTPUT_ACTIVATIONS),
             "`sigmoid` (the lecture's ŷ = σ(V h)) or `linear` (ŷ = V h)", default="sigmoid"),
    Declared("loss", Choice(LOSSES), "`half_squared_error`: L = Σₜ ½ Σₖ (ŷ⁽ᵗ⁾ₖ − y⁽ᵗ⁾ₖ)²; `squared_error`: the same "
             "without ½ — both summed over the time steps", default="half_squared_error"),
    Declared("long_range", Structured({"anyOf": [{"const": False}, LONG_RANGE.object_schema()]}),
             "the scalar illustration: `{w: [numbers], T: whole number}` prints wᵀ for each w (below); `false` "
             "leaves it out", default={}, shown_default="`{w: [1, 1.01, 0.99, 0.01], T: 1000}` (the lecture's slide)"),
)


@dataclass(frozen=True)
class LongRange:
    """The scalar illustration of the Jacobian product: w^T for each w."""

    w: tuple
    T: int


@dataclass(frozen=True)
class RnnSpec:
    """A validated rnn_bptt problem (fields: docs/kinds/rnn_bptt.md).

    inputs, targets: one vector per time step; U: hidden x inputs; W: hidden x
    hidden; V: outputs x hidden; h0: the state before the first step;
    activation, output_activation: derive.symbolic.activations.Activation;
    long_range: LongRange, or None when the file says `long_range: false`.
    """

    inputs: tuple
    targets: tuple
    U: tuple
    W: tuple
    V: tuple
    h0: tuple
    activation: object
    output_activation: object
    loss: str
    long_range: object

    @property
    def steps(self):
        return len(self.inputs)

    @property
    def sizes(self):
        """(inputs, hidden units, outputs)."""
        return len(self.inputs[0]), len(self.W), len(self.V)


def read(root):
    """Validate the rnn_bptt fields into an RnnSpec."""
    inputs = read_sequence(DECLARED.field(root, "inputs"))
    n_in = len(inputs[0])
    W_field = DECLARED.field(root, "W")
    n_h = square_size(W_field)
    W = read_matrix(W_field, n_h, n_h, " (hidden x hidden)")
    U = read_matrix(DECLARED.field(root, "U"), n_h, n_in, " (hidden x inputs)")
    V_field = DECLARED.field(root, "V")
    n_out = _rows(V_field)
    V = read_matrix(V_field, n_out, n_h, " (outputs x hidden)")
    targets_field = DECLARED.field(root, "targets")
    targets = read_sequence(targets_field, n_out)
    if len(targets) != len(inputs):
        raise targets_field.error(f"expected one target per input ({len(inputs)}), got {len(targets)}")
    h0 = read_vector(DECLARED.field(root, "h0"), n_h)
    activation = read_activation(DECLARED.read(root, "activation"))
    output_activation = read_activation(DECLARED.read(root, "output_activation"))
    loss = DECLARED.read(root, "loss")
    long_range = _read_long_range(DECLARED.field(root, "long_range"))
    return RnnSpec(inputs, targets, U, W, V, h0, activation, output_activation, loss, long_range)


def _rows(field):
    """How many outputs V has: its rows (one number or a flat list: one output)."""
    value = field.value
    if isinstance(value, list) and value and all(isinstance(row, list) for row in value):
        if len(value) > MAX_UNITS:
            raise field.error(f"expected at most {MAX_UNITS} outputs, got {len(value)}")
        return len(value)
    return 1


def _read_long_range(field):
    """`long_range: {w: [...], T: ...}` (defaults: the lecture's), or false to leave it out."""
    if field.value is False:
        return None
    field.mapping(allowed=LONG_RANGE.names)
    w_field = LONG_RANGE.field(field, "w")
    w = w_field.vector()
    if not 1 <= len(w) <= MAX_LONG_RANGE:
        raise w_field.error(f"expected 1 to {MAX_LONG_RANGE} numbers, got {len(w)}")
    T = LONG_RANGE.read(field, "T")
    for value in w:
        if value != 0 and T * math.log10(abs(value)) > math.log10(MAX_POWER):
            raise w_field.error(f"{value:g}^{T} is too large to compute (more than 1e300)")
    return LongRange(w, T)


# -- the solver ---------------------------------------------------------------------

def solve(problem, rounding):
    """The Solution of an rnn_bptt problem."""
    return _RnnSolver(problem, rounding).solve()


class _RnnSolver:
    """Builds the steps: givens, forward pass, loss, BPTT, gradients, the Jacobian product."""

    def __init__(self, problem, rounding):
        self.problem = problem
        self.spec = problem.spec
        self.out = SolutionBuilder(rounding)
        self.T = self.spec.steps
        self.n_in, self.n_h, self.n_out = self.spec.sizes

    # keys and symbols: an index of size 1 is left out ----------------------------------
    @staticmethod
    def _index(i, size):
        return i if size > 1 else None

    def _pair(self, i, rows, j, cols):
        return (None, None) if rows == cols == 1 else (i, j)

    def x(self, t, j):
        return key("x", t, self._index(j, self.n_in)), time_sym("x", "x", t, self._index(j, self.n_in))

    def y(self, t, k):
        return key("y", t, self._index(k, self.n_out)), time_sym("y", "y", t, self._index(k, self.n_out))

    def hidden(self, name, text, latex, t, j):
        return key(name, t, self._index(j, self.n_h)), time_sym(text, latex, t, self._index(j, self.n_h))

    def output(self, name, text, latex, t, k):
        return key(name, t, self._index(k, self.n_out)), time_sym(text, latex, t, self._index(k, self.n_out))

    def weight(self, name, i, j):
        rows, cols = {"U": (self.n_h, self.n_in), "W": (self.n_h, self.n_h), "V": (self.n_out, self.n_h)}[name]
        i, j = self._pair(i, rows, j, cols)
        return key(name, i, j), time_sym(name, name, None, i, j)

    def jacobian(self, t, i, j):
        """∂h^t_i/∂h^{t-1}_j: key `dh[t][i][j]`."""
        i, j = self._pair(i, self.n_h, j, self.n_h)
        return key("dh", t, i, j), partial_sym(time_sym("h", "h", t, i), time_sym("h", "h", t - 1, j))

    def product(self, k, i, j):
        """∂h^T_i/∂h^k_j: key `prod[k][i][j]` (for k = T-1 it is the Jacobian dh[T])."""
        if k == self.T - 1:
            return self.jacobian(self.T, i, j)
        i2, j2 = self._pair(i, self.n_h, j, self.n_h)
        return key("prod", k, i2, j2), partial_sym(time_sym("h", "h", self.T, i2), time_sym("h", "h", k, j2))

    S = staticmethod(symbol_of)

    # the whole solution -----------------------------------------------------------------
    def solve(self):
        self.givens()
        for t in range(1, self.T + 1):
            self.forward(t)
        self.loss()
        self.output_errors()
        self.jacobians()
        self.through_time()
        self.gradients()
        if self.T > 1:
            self.jacobian_products()
        if self.spec.long_range is not None:
            self.long_range()
        problem = self.problem
        return self.out.build(problem.name, problem.kind, problem.title, notes=self.notes())

    def givens(self):
        spec, out = self.spec, self.out
        for t, x in enumerate(spec.inputs, start=1):
            for j, value in enumerate(x, start=1):
                out.given(*self.x(t, j), value, group="x" if self.n_in == 1 else f"x{t}")
        for t, y in enumerate(spec.targets, start=1):
            for k, value in enumerate(y, start=1):
                out.given(*self.y(t, k), value, group="y" if self.n_out == 1 else f"y{t}")
        for j, value in enumerate(spec.h0, start=1):
            out.given(*self.hidden("h", "h", "h", 0, j), value, group="h0")
        for name, matrix in (("U", spec.U), ("W", spec.W), ("V", spec.V)):
            for i, row in enumerate(matrix, start=1):
                for j, value in enumerate(row, start=1):
                    out.given(*self.weight(name, i, j), value, group=f"{name}{i}")

    def forward(self, t):
        spec, out = self.spec, self.out
        section = f"Forward pass, t = {t}"
        for i in range(1, self.n_h + 1):
            terms = [Mul(self.S(self.weight("U", i, j)), self.S(self.x(t, j)), evaluate=False)
                     for j in range(1, self.n_in + 1)]
            terms += [Mul(self.S(self.weight("W", i, j)), self.S(self.hidden("h", "h", "h", t - 1, j)), evaluate=False)
                      for j in range(1, self.n_h + 1)]
            out.step(*self.hidden("z", "z", "z", t, i), total(terms), section)
        for i in range(1, self.n_h + 1):
            out.step(*self.hidden("h", "h", "h", t, i),
                     spec.activation.apply(self.S(self.hidden("z", "z", "z", t, i))), section)
        for k in range(1, self.n_out + 1):
            terms = [Mul(self.S(self.weight("V", k, j)), self.S(self.hidden("h", "h", "h", t, j)), evaluate=False)
                     for j in range(1, self.n_h + 1)]
            out.step(*self.output("o", "o", "o", t, k), total(terms), section)
        for k in range(1, self.n_out + 1):
            out.step(*self.output("yhat", "ŷ", r"\hat{y}", t, k),
                     spec.output_activation.apply(self.S(self.output("o", "o", "o", t, k))), section)

    def loss(self):
        factor = Rational(1, 2) if self.spec.loss == "half_squared_error" else None
        losses = []
        for t in range(1, self.T + 1):
            squares = [Pow(minus(self.S(self.output("yhat", "ŷ", "", t, k)), self.S(self.y(t, k))), 2, evaluate=False)
                       for k in range(1, self.n_out + 1)]
            formula = total(squares) if factor is None else Mul(factor, total(squares), evaluate=False)
            if self.T == 1:
                self.out.step("loss", Sym("L", "L"), formula, "Loss")
                return
            losses.append(self.out.step(key("loss", t), time_sym("L", "L", t), formula, "Loss"))
        self.out.step("loss", Sym("L", "L"), total(losses), "Loss")

    def output_errors(self):
        """∂L/∂o^t_k = ∂L/∂ŷ^t_k σ′(o^t_k)."""
        spec = self.spec
        for t in range(1, self.T + 1):
            for k in range(1, self.n_out + 1):
                yhat = self.S(self.output("yhat", "", "", t, k))
                error = minus(yhat, self.S(self.y(t, k)))
                if spec.loss == "squared_error":
                    error = Mul(2, error, evaluate=False)
                slope = spec.output_activation.derivative_at(self.S(self.output("o", "", "", t, k)), yhat)
                name, shown = self.output("delta_o", "o", "o", t, k)
                self.out.step(name, grad_sym(shown), times(error, slope), "Backward pass: error at each output")

    def slope(self, t, i):
        """σ′(z^t_i) in the lecture's form (h(1 - h), or 1 - h² for tanh)."""
        return self.spec.activation.derivative_at(self.S(self.hidden("z", "", "", t, i)),
                                                  self.S(self.hidden("h", "", "", t, i)))

    def jacobians(self):
        """∂h^t_i/∂h^{t-1}_j = σ′(z^t_i) W_ij: the matrix diag(σ′(z^t)) W."""
        for t in range(1, self.T + 1):
            for i in range(1, self.n_h + 1):
                for j in range(1, self.n_h + 1):
                    self.out.step(*self.jacobian(t, i, j), times(self.slope(t, i), self.S(self.weight("W", i, j))),
                                  "Backward pass: Jacobians of h(t) by h(t-1), diag(f'(z(t))) W")

    def through_time(self):
        """∂L/∂h^t (from ŷ^t and from h^{t+1}) and δ^t = ∂L/∂z^t, from t = T down to 1, then ∂L/∂h⁰."""
        for t in range(self.T, -1, -1):
            section = f"Backward pass through time, t = {t}"
            for j in range(1, self.n_h + 1):
                terms = []
                if t > 0:
                    terms = [Mul(self.S(self.output("delta_o", "", "", t, k)), self.S(self.weight("V", k, j)),
                                 evaluate=False) for k in range(1, self.n_out + 1)]
                if t < self.T:
                    terms += [Mul(self.S(self.hidden("grad_h", "", "", t + 1, i)), self.S(self.jacobian(t + 1, i, j)),
                                  evaluate=False) for i in range(1, self.n_h + 1)]
                name, shown = self.hidden("grad_h", "h", "h", t, j)
                self.out.step(name, grad_sym(shown), total(terms), section)
            if t == 0:
                break
            for j in range(1, self.n_h + 1):
                self.out.step(*self.hidden("delta", "δ", r"\delta", t, j),
                              times(self.S(self.hidden("grad_h", "", "", t, j)), self.slope(t, j)), section)

    def gradients(self):
        section = "Gradients, summed over time"
        sums = (("U", self.n_h, self.n_in, lambda t, i: self.hidden("delta", "", "", t, i), self.x),
                ("W", self.n_h, self.n_h, lambda t, i: self.hidden("delta", "", "", t, i),
                 lambda t, j: self.hidden("h", "", "", t - 1, j)),
                ("V", self.n_out, self.n_h, lambda t, k: self.output("delta_o", "", "", t, k),
                 lambda t, j: self.hidden("h", "", "", t, j)))
        for name, rows, cols, error, source in sums:
            for i in range(1, rows + 1):
                for j in range(1, cols + 1):
                    terms = [Mul(self.S(error(t, i)), self.S(source(t, j)), evaluate=False)
                             for t in range(1, self.T + 1)]
                    weight, shown = self.weight(name, i, j)
                    self.out.step("grad_" + weight, grad_sym(shown), total(terms), section)

    def jacobian_products(self):
        """∂h^T/∂h^k = ∂h^T/∂h^{k+1} ∂h^{k+1}/∂h^k, for k = T-2 down to 0."""
        section = f"Vanishing or exploding: the product of the Jacobians from h({self.T}) back to h(k)"
        for k in range(self.T - 2, -1, -1):
            for i in range(1, self.n_h + 1):
                for j in range(1, self.n_h + 1):
                    terms = [Mul(self.S(self.product(k + 1, i, m)), self.S(self.jacobian(k + 1, m, j)),
                                 evaluate=False) for m in range(1, self.n_h + 1)]
                    self.out.step(*self.product(k, i, j), total(terms), section)

    def long_range(self):
        """The lecture's slide: h^t = w h^{t-1} carries a factor w^T after T steps."""
        spec, out = self.spec.long_range, self.out
        given = "Long-range dependency: the scalar factors w and the length T"
        T = out.given("long_T", Sym("T", "T"), float(spec.T), section=given)
        ws = [out.given(key("long_w", k), Sym.indexed("w", "w", None, (k,)), value, section=given, group="long_w")
              for k, value in enumerate(spec.w, start=1)]
        section = f"Long-range dependency: the product of T = {spec.T} factors w"
        for k, (w, value) in enumerate(zip(ws, spec.w), start=1):
            shown = Sym.indexed("w", "w", None, (k,))
            step = out.step(key("long_power", k), Sym(shown.text + "ᵀ", shown.latex + "^{T}"),
                            Pow(w, T, evaluate=False), section, note=_verdict(value))
            if value != 0 and out.value(step.name) == 0:
                out.steps[-1] = replace(out.steps[-1], note=_verdict(value) + "; below the smallest float, so 0")

    # notes ------------------------------------------------------------------------------
    def notes(self):
        spec = self.spec
        act, out_act = spec.activation, spec.output_activation
        hidden = {"sigmoid": "σ(z⁽ᵗ⁾) with σ(x) = 1/(1 + exp(-x)), σ′ written h(1 - h)",
                  "tanh": "tanh(z⁽ᵗ⁾) in place of the lecture's σ, tanh′ written 1 - h²"}[act.name]
        output = {"sigmoid": "ŷ⁽ᵗ⁾ = σ(o⁽ᵗ⁾) = σ(V h⁽ᵗ⁾) with the sigmoid σ, σ′ written ŷ(1 - ŷ)",
                  "linear": "ŷ⁽ᵗ⁾ = o⁽ᵗ⁾ = V h⁽ᵗ⁾ (a linear output)"}[out_act.name]
        half = "1/2 " if spec.loss == "half_squared_error" else ""
        notes = [
            Sym(f"forward: z⁽ᵗ⁾ = U x⁽ᵗ⁾ + W h⁽ᵗ⁻¹⁾, h⁽ᵗ⁾ = {hidden}; "
                f"{output}; no biases, as in the lecture",
                r"h^{(t)} = \sigma(U x^{(t)} + W h^{(t-1)}),\ \hat{y}^{(t)} = \sigma(V h^{(t)})"),
            Sym(f"loss summed over the time steps: L = Σ_t L⁽ᵗ⁾, L⁽ᵗ⁾ = {half}Σ_k (ŷ⁽ᵗ⁾_k - y⁽ᵗ⁾_k)²",
                r"L = \sum_t " + (r"\frac{1}{2} " if half else "") + r"\sum_k (\hat{y}^{(t)}_k - y^{(t)}_k)^2"),
            Sym("BPTT: ∂L/∂h⁽ᵗ⁾ = Vᵀ ∂L/∂o⁽ᵗ⁾ + (∂h⁽ᵗ⁺¹⁾/∂h⁽ᵗ⁾)ᵀ ∂L/∂h⁽ᵗ⁺¹⁾, δ⁽ᵗ⁾ = ∂L/∂z⁽ᵗ⁾ = ∂L/∂h⁽ᵗ⁾ ⊙ σ′(z⁽ᵗ⁾); "
                "∂L/∂U = Σ_t δ⁽ᵗ⁾ x⁽ᵗ⁾ᵀ, ∂L/∂W = Σ_t δ⁽ᵗ⁾ h⁽ᵗ⁻¹⁾ᵀ, ∂L/∂V = Σ_t ∂L/∂o⁽ᵗ⁾ h⁽ᵗ⁾ᵀ",
                r"\delta^{(t)} = \frac{\partial L}{\partial h^{(t)}} \odot \sigma'(z^{(t)})"),
            Sym("the gradient reaching h⁽ᵏ⁾ from step T passes through ∂h⁽ᵀ⁾/∂h⁽ᵏ⁾ = Π_{j=k+1..T} ∂h⁽ʲ⁾/∂h⁽ʲ⁻¹⁾: "
                "factors smaller than 1 make it vanish, larger than 1 explode, as j and k move apart",
                r"\frac{\partial h^{(T)}}{\partial h^{(k)}} = \prod_{j=k+1}^{T} "
                r"\frac{\partial h^{(j)}}{\partial h^{(j-1)}}"),
        ]
        return notes


def _verdict(w):
    """What w^T does as T grows: the lecture's 小于1 梯度消失, 大于1 梯度爆炸."""
    if abs(w) > 1:
        return "|w| > 1: explodes"
    if abs(w) < 1:
        return "|w| < 1: vanishes"
    return "|w| = 1: stays at size 1"
