"""`kind: lstm_step`: LSTM time steps forward with the lecture's gates, then back.

The lecture's cell (the CNN/RNN lecture, LSTM 前向传播):

    f^t = σ(W_f h^{t-1} + U_f x^t + b_f)        forget gate (遗忘门)
    i^t = σ(W_i h^{t-1} + U_i x^t + b_i)        input gate (输入门)
    a^t = tanh(W_a h^{t-1} + U_a x^t + b_a)     the candidate written into the cell
    C^t = C^{t-1} ⊙ f^t + i^t ⊙ a^t             cell update
    o^t = σ(W_o h^{t-1} + U_o x^t + b_o)        output gate (输出门)
    h^t = o^t ⊙ tanh(C^t)

With `V` (and `c`), the lecture's output layer y^t = σ(V h^t + c) is printed
at every step (as ŷ^t, y being the target) and the loss is 1/2 Σ (ŷ^T - y)²
on the last output. With `cell_jacobian`, the lecture's four terms of
∂C^t/∂C^{t-1} (through f^t, i^t and a^t via h^{t-1} = o^{t-1} tanh(C^{t-1}),
and f^t itself) are printed for every t ≥ 2.

The forward pass prints each gate's pre-activation z_g and the gate; the
backward pass starts from ∂L/∂h^T (given, or from a loss 1/2 Σ (h^T - y)²)
and prints, time step by time step, ∂L/∂h^t, ∂L/∂C^t (which the forget gate
carries back additively: the reason the LSTM eases vanishing gradients), the
gradient of every gate and of its pre-activation δ_g = ∂L/∂z_g, then the
gradients of every W_g, U_g, b_g summed over time.
"""

from dataclasses import dataclass

import sympy
from sympy import Mul, Pow, Rational, tanh

from ..fields import Boolean, Declarations, Declared, Structured
from ..steps import SolutionBuilder, Sym
from .recurrent import (
    MAX_UNITS, NUMBER, grad_sym, key, matrix_schema, minus, numbers_schema, one_minus, partial_sym, read_matrix,
    read_sequence, read_vector, sequence_schema, square_size, symbol_of, time_sym, times, total, vector_schema,
)

GATES = ("f", "i", "a", "o")  # the lecture's order: forget, input, candidate, output
GATE_NAMES = {"f": "forget gate", "i": "input gate", "a": "candidate", "o": "output gate"}
MAX_TIME = 4  # an LSTM step prints about 20 lines per hidden unit
MAX_HIDDEN = 3

ONE_OF_TARGET_GRAD_H = "one of `target`, `grad_h`"

# where an error found while solving is reported when nothing nearer its cause is known (Problem.solve)
ERRORS_AT = ("inputs",)

DECLARED = Declarations(
    Declared("inputs", Structured(sequence_schema(MAX_TIME)),
             f"x⁽¹⁾..x⁽ᵀ⁾ as in rnn_bptt; 1 to {MAX_TIME} time steps, 1 to {MAX_UNITS} inputs"),
    # W_f is read first and sets the hidden size: a square list of rows or one number; the others may be
    # a flat list of one number when the hidden size is 1
    Declared("W_f", Structured(matrix_schema(MAX_HIDDEN, MAX_HIDDEN, flat=0)),
             f"the forget gate's weights on h⁽ᵗ⁻¹⁾, hidden × hidden (sets the hidden size, 1 to {MAX_HIDDEN})"),
    *(Declared(f"W_{g}", Structured(matrix_schema(MAX_HIDDEN, MAX_HIDDEN, flat=1)),
               f"the {GATE_NAMES[g]}'s weights on h⁽ᵗ⁻¹⁾, hidden × hidden") for g in GATES[1:]),
    *(Declared(f"U_{g}", Structured(matrix_schema(MAX_HIDDEN, MAX_UNITS, flat=max(MAX_HIDDEN, MAX_UNITS))),
               f"the {GATE_NAMES[g]}'s weights on x⁽ᵗ⁾, hidden × inputs") for g in GATES),
    *(Declared(f"b_{g}", Structured(vector_schema(MAX_HIDDEN)), f"the {GATE_NAMES[g]}'s biases, one number per "
               "hidden unit", default=None, shown_default="zeros") for g in GATES),
    Declared("h0", Structured(vector_schema(MAX_HIDDEN)), "h⁽⁰⁾, one number per hidden unit", default=None,
             shown_default="zeros"),
    Declared("C0", Structured(vector_schema(MAX_HIDDEN)), "C⁽⁰⁾, one number per hidden unit", default=None,
             shown_default="zeros"),
    Declared("target", Structured({"anyOf": [NUMBER, numbers_schema(MAX_UNITS)]}),
             "y: the loss is L = ½ Σⱼ (h⁽ᵀ⁾ⱼ − yⱼ)² on the last state, or with `V` L = ½ Σₖ (ŷ⁽ᵀ⁾ₖ − yₖ)² on the "
             "last output", default=None, shown_default=ONE_OF_TARGET_GRAD_H),
    Declared("grad_h", Structured({"anyOf": [NUMBER, numbers_schema(MAX_HIDDEN)]}),
             "∂L/∂h⁽ᵀ⁾ given from above (no loss is printed; not with `V`)", default=None,
             shown_default=ONE_OF_TARGET_GRAD_H),
    Declared("V", Structured(matrix_schema(MAX_UNITS, MAX_HIDDEN, flat=max(MAX_UNITS, MAX_HIDDEN))),
             f"the output layer's weights, outputs × hidden (1 to {MAX_UNITS} outputs): ŷ⁽ᵗ⁾ = σ(V h⁽ᵗ⁾ + c), "
             "the lecture's y⁽ᵗ⁾", default=None, shown_default="no output layer"),
    Declared("c", Structured(vector_schema(MAX_UNITS)), "the output layer's biases, one number per output",
             default=None, shown_default="zeros"),
    Declared("cell_jacobian", Boolean(), "`true`: print ∂C⁽ᵗ⁾/∂C⁽ᵗ⁻¹⁾ for t ≥ 2 as the lecture's four terms "
             "(through f⁽ᵗ⁾, i⁽ᵗ⁾ and a⁽ᵗ⁾ by way of h⁽ᵗ⁻¹⁾, and f⁽ᵗ⁾ itself)", default=False),
)


@dataclass(frozen=True)
class LstmSpec:
    """A validated lstm_step problem (fields: docs/kinds/lstm_step.md).

    inputs: one vector x^t per time step; weights: gate -> (W_g hidden x hidden,
    U_g hidden x inputs, b_g); h0, C0: the state before the first step;
    grad_h: the given ∂L/∂h^T, or None when `target` (y) gives the loss;
    V, c: the output layer (outputs x hidden, outputs), V None without one;
    cell_jacobian: print ∂C^t/∂C^{t-1}.
    """

    inputs: tuple
    weights: dict
    h0: tuple
    C0: tuple
    grad_h: object
    target: object
    V: tuple = None
    c: tuple = ()
    cell_jacobian: bool = False

    @property
    def steps(self):
        return len(self.inputs)

    @property
    def sizes(self):
        """(inputs, hidden units)."""
        return len(self.inputs[0]), len(self.h0)


def read(root):
    """Validate the lstm_step fields into an LstmSpec."""
    inputs = read_sequence(DECLARED.field(root, "inputs"), max_time=MAX_TIME)
    n_in = len(inputs[0])
    n_h = square_size(DECLARED.field(root, "W_f"), MAX_HIDDEN)
    weights = {}
    for g in GATES:
        weights[g] = (read_matrix(DECLARED.field(root, f"W_{g}"), n_h, n_h, " (hidden x hidden)"),
                      read_matrix(DECLARED.field(root, f"U_{g}"), n_h, n_in, " (hidden x inputs)"),
                      read_vector(DECLARED.field(root, f"b_{g}"), n_h))
    h0 = read_vector(DECLARED.field(root, "h0"), n_h)
    C0 = read_vector(DECLARED.field(root, "C0"), n_h)
    if root.has("grad_h") == root.has("target"):
        raise root.error("give either grad_h (∂L/∂h at the last step, from above) or target (y for the loss "
                         "1/2 Σ (h - y)² at the last step)")
    V, c = None, ()
    if root.has("V"):
        if root.has("grad_h"):
            raise DECLARED.field(root, "grad_h").error("with an output layer (V) the loss is on its output: give "
                                                       "target instead")
        V_field = DECLARED.field(root, "V")
        V = read_matrix(V_field, _outputs(V_field, n_h), n_h, " (outputs x hidden)")
        c = read_vector(DECLARED.field(root, "c"), len(V))
    elif root.has("c"):
        raise DECLARED.field(root, "c").error("c is the output layer's bias: give V too")
    grad_h = DECLARED.field(root, "grad_h").vector(n_h) if root.has("grad_h") else None
    target = DECLARED.field(root, "target").vector(len(V) if V else n_h) if root.has("target") else None
    return LstmSpec(inputs, weights, h0, C0, grad_h, target, V, c, DECLARED.read(root, "cell_jacobian"))


def _outputs(field, n_h):
    """How many outputs V has: its rows; one number, or a flat list as long as h, is one output."""
    value = field.value
    if isinstance(value, list) and value and all(isinstance(row, list) for row in value):
        if len(value) > MAX_UNITS:
            raise field.error(f"expected at most {MAX_UNITS} outputs, got {len(value)}")
        return len(value)
    if isinstance(value, list) and n_h == 1:
        return len(value)  # a column: one weight per output
    return 1


# -- the solver ---------------------------------------------------------------------

def solve(problem, rounding):
    """The Solution of an lstm_step problem."""
    return _LstmSolver(problem, rounding).solve()


def _sigmoid(z):
    return 1 / (1 + sympy.exp(-z))


class _LstmSolver:
    """Builds the steps: givens, the forward pass step by step, the loss, the backward pass, the gradients."""

    def __init__(self, problem, rounding):
        self.problem = problem
        self.spec = problem.spec
        self.out = SolutionBuilder(rounding)
        self.T = self.spec.steps
        self.n_in, self.n_h = self.spec.sizes
        self.n_out = len(self.spec.V) if self.spec.V else 0

    # keys and symbols: an index of size 1 is left out -------------------------------------
    def _h(self, j):
        return j if self.n_h > 1 else None

    def unit(self, name, text, latex, t, j):
        """(key, Sym) of a per-unit quantity at time t: `f[2][1]`, f⁽²⁾₁."""
        return key(name, t, self._h(j)), time_sym(text, latex, t, self._h(j))

    def x(self, t, j):
        j = j if self.n_in > 1 else None
        return key("x", t, j), time_sym("x", "x", t, j)

    def parameter(self, kind, g, i, j=None):
        """(key, Sym) of W_g[i][j], U_g[i][j] or b_g[i]; a 1x1 matrix or a length-1 vector has no index."""
        name = f"{kind}_{g}"
        cols = {"W": self.n_h, "U": self.n_in, "b": 1}[kind]
        if kind == "b":
            indices = (self._h(i),)
        elif self.n_h == 1 and cols == 1:
            indices = (None, None)
        else:
            indices = (i, j)
        return key(name, *indices), time_sym(name, "{%s_%s}" % (kind, g), None, *indices)

    def z(self, g, t, j):
        return self.unit(f"z_{g}", f"z_{g}", "{z_%s}" % g, t, j)

    def gate(self, g, t, j):
        return self.unit(g, g, g, t, j)

    def delta(self, g, t, j):
        return self.unit(f"delta_{g}", f"δ_{g}", r"{\delta_%s}" % g, t, j)

    # the output layer: an index over outputs is left out when there is one output
    def _k(self, k):
        return k if self.n_out > 1 else None

    def output(self, name, text, latex, t, k):
        """(key, Sym) of a per-output quantity at time t (None: no time): `yhat[2][1]`, ŷ⁽²⁾₁."""
        return key(name, t, self._k(k)), time_sym(text, latex, t, self._k(k))

    def output_parameter(self, kind, k, j=None):
        """(key, Sym) of V[k][j] (no index when 1x1) or c[k]."""
        if kind == "c":
            indices = (self._k(k),)
        elif self.n_out == 1 and self.n_h == 1:
            indices = (None, None)
        else:
            indices = (k, j)
        return key(kind, *indices), time_sym(kind, kind, None, *indices)

    def target(self, k):
        return key("y", self._k(k) if self.spec.V else self._h(k)), \
            time_sym("y", "y", None, self._k(k) if self.spec.V else self._h(k))

    S = staticmethod(symbol_of)

    # the whole solution ----------------------------------------------------------------------
    def solve(self):
        self.givens()
        for t in range(1, self.T + 1):
            self.forward(t)
        if self.spec.V:
            self.output_loss()
        elif self.spec.target is not None:
            self.loss()
        for t in range(self.T, 0, -1):
            self.backward(t)
        self.initial_state_gradients()
        if self.spec.cell_jacobian:
            for t in range(2, self.T + 1):
                self.cell_jacobian(t)
        self.parameter_gradients()
        if self.spec.V:
            self.output_gradients()
        problem = self.problem
        return self.out.build(problem.name, problem.kind, problem.title, notes=self.notes())

    def givens(self):
        spec, out = self.spec, self.out
        for t, x in enumerate(spec.inputs, start=1):
            for j, value in enumerate(x, start=1):
                out.given(*self.x(t, j), value, group="x" if self.n_in == 1 else f"x{t}")
        for name, values in (("h", spec.h0), ("C", spec.C0)):
            for j, value in enumerate(values, start=1):
                out.given(*self.unit(name, name, name, 0, j), value, group=name + "0")
        for g in GATES:
            W, U, b = spec.weights[g]
            for kind, matrix in (("W", W), ("U", U)):
                for i, row in enumerate(matrix, start=1):
                    for j, value in enumerate(row, start=1):
                        out.given(*self.parameter(kind, g, i, j), value, group=f"{kind}_{g}{i}")
            for i, value in enumerate(b, start=1):
                out.given(*self.parameter("b", g, i), value, group=f"b_{g}")
        last = self.T
        if spec.V:
            for k, row in enumerate(spec.V, start=1):
                for j, value in enumerate(row, start=1):
                    out.given(*self.output_parameter("V", k, j), value, group=f"V{k}")
            for k, value in enumerate(spec.c, start=1):
                out.given(*self.output_parameter("c", k), value, group="c")
        if spec.target is not None:
            for j, value in enumerate(spec.target, start=1):
                out.given(*self.target(j), value, group="y")
        else:
            for j, value in enumerate(spec.grad_h, start=1):
                name, shown = self.unit("grad_h", "h", "h", last, j)
                out.given(name, grad_sym(shown), value, group="grad_h")

    def forward(self, t):
        out = self.out
        section = f"Forward pass, t = {t}"
        for g in GATES:
            for i in range(1, self.n_h + 1):
                terms = [Mul(self.S(self.parameter("W", g, i, j)), self.S(self.unit("h", "", "", t - 1, j)),
                             evaluate=False) for j in range(1, self.n_h + 1)]
                terms += [Mul(self.S(self.parameter("U", g, i, j)), self.S(self.x(t, j)), evaluate=False)
                          for j in range(1, self.n_in + 1)]
                terms.append(self.S(self.parameter("b", g, i)))
                out.step(*self.z(g, t, i), total(terms), section)
            for i in range(1, self.n_h + 1):
                z = self.S(self.z(g, t, i))
                out.step(*self.gate(g, t, i), tanh(z) if g == "a" else _sigmoid(z), section,
                         note=GATE_NAMES[g] if i == 1 else "")
            if g == "a":
                for j in range(1, self.n_h + 1):
                    formula = total([Mul(self.S(self.unit("C", "", "", t - 1, j)), self.S(self.gate("f", t, j)),
                                         evaluate=False),
                                     Mul(self.S(self.gate("i", t, j)), self.S(self.gate("a", t, j)), evaluate=False)])
                    out.step(*self.unit("C", "C", "C", t, j), formula, section, note="cell update" if j == 1 else "")
        for j in range(1, self.n_h + 1):
            out.step(*self.unit("h", "h", "h", t, j),
                     Mul(self.S(self.gate("o", t, j)), tanh(self.S(self.unit("C", "", "", t, j))), evaluate=False),
                     section)
        for k in range(1, self.n_out + 1):
            terms = [Mul(self.S(self.output_parameter("V", k, j)), self.S(self.unit("h", "", "", t, j)),
                         evaluate=False) for j in range(1, self.n_h + 1)]
            out.step(*self.output("z_y", "z_y", "{z_y}", t, k),
                     total(terms + [self.S(self.output_parameter("c", k))]), section)
        for k in range(1, self.n_out + 1):
            out.step(*self.output("yhat", "ŷ", r"\hat{y}", t, k), _sigmoid(self.S(self.output("z_y", "", "", t, k))),
                     section, note="the output, the lecture's y⁽ᵗ⁾ = σ(V h⁽ᵗ⁾ + c)" if k == 1 else "")

    def loss(self):
        T = self.T
        pairs = [(self.S(self.unit("h", "", "", T, j)), sympy.Symbol(key("y", self._h(j))))
                 for j in range(1, self.n_h + 1)]
        squares = total([Pow(minus(h, y), 2, evaluate=False) for h, y in pairs])
        self.out.step("loss", Sym("L", "L"), Mul(Rational(1, 2), squares, evaluate=False), "Loss")
        for j, (h, y) in enumerate(pairs, start=1):
            name, shown = self.unit("grad_h", "h", "h", T, j)
            self.out.step(name, grad_sym(shown), minus(h, y), "Loss")

    def output_loss(self):
        """L = 1/2 Σ (ŷ^T - y)² on the last output; back through σ and V to ∂L/∂h^T."""
        T, out = self.T, self.out
        pairs = [(self.S(self.output("yhat", "", "", T, k)), self.S(self.target(k))) for k in range(1, self.n_out + 1)]
        out.step("loss", Sym("L", "L"), Mul(Rational(1, 2), total([Pow(minus(yhat, y), 2, evaluate=False)
                                                                   for yhat, y in pairs]), evaluate=False), "Loss")
        for k, (yhat, y) in enumerate(pairs, start=1):
            name, shown = self.output("grad_yhat", "ŷ", r"\hat{y}", T, k)
            out.step(name, grad_sym(shown), minus(yhat, y), "Loss")
        for k, (yhat, _) in enumerate(pairs, start=1):
            out.step(*self.output("delta_y", "δ_y", r"{\delta_y}", T, k),
                     times(self.S(self.output("grad_yhat", "", "", T, k)), Mul(yhat, one_minus(yhat), evaluate=False)),
                     "Loss")
        for j in range(1, self.n_h + 1):
            terms = [Mul(self.S(self.output("delta_y", "", "", T, k)), self.S(self.output_parameter("V", k, j)),
                         evaluate=False) for k in range(1, self.n_out + 1)]
            name, shown = self.unit("grad_h", "h", "h", T, j)
            out.step(name, grad_sym(shown), total(terms), "Loss")

    def backward(self, t):
        """∂L/∂h^t, ∂L/∂C^t, the gates' gradients and δ_g = ∂L/∂z_g at time t."""
        out, n_h = self.out, self.n_h
        section = f"Backward pass, t = {t}"

        def grad(name, shown_name, j, at=t):
            return self.unit(name, shown_name, shown_name, at, j)

        if t < self.T:
            for j in range(1, n_h + 1):
                terms = [Mul(self.S(self.delta(g, t + 1, i)), self.S(self.parameter("W", g, i, j)), evaluate=False)
                         for g in GATES for i in range(1, n_h + 1)]
                name, shown = grad("grad_h", "h", j)
                out.step(name, grad_sym(shown), total(terms), section)
        for j in range(1, n_h + 1):
            name, shown = grad("grad_o", "o", j)
            out.step(name, grad_sym(shown),
                     Mul(self.S(grad("grad_h", "", j)), tanh(self.S(self.unit("C", "", "", t, j))), evaluate=False),
                     section)
        for j in range(1, n_h + 1):
            C = self.S(self.unit("C", "", "", t, j))
            terms = [times(self.S(grad("grad_h", "", j)), self.S(self.gate("o", t, j)),
                           one_minus(Pow(tanh(C), 2, evaluate=False)))]
            if t < self.T:
                terms.append(Mul(self.S(grad("grad_C", "", j, t + 1)), self.S(self.gate("f", t + 1, j)),
                                 evaluate=False))
            name, shown = grad("grad_C", "C", j)
            out.step(name, grad_sym(shown), total(terms), section)
        sources = {"f": lambda j: self.S(self.unit("C", "", "", t - 1, j)),
                   "i": lambda j: self.S(self.gate("a", t, j)),
                   "a": lambda j: self.S(self.gate("i", t, j))}
        for g in ("f", "i", "a"):
            for j in range(1, n_h + 1):
                name, shown = grad(f"grad_{g}", g, j)
                out.step(name, grad_sym(shown), Mul(self.S(grad("grad_C", "", j)), sources[g](j), evaluate=False),
                         section)
        for g in GATES:
            for j in range(1, n_h + 1):
                value = self.S(self.gate(g, t, j))
                slope = one_minus(Pow(value, 2, evaluate=False)) if g == "a" else \
                    Mul(value, one_minus(value), evaluate=False)
                out.step(*self.delta(g, t, j), times(self.S(grad(f"grad_{g}", "", j)), slope), section)

    def initial_state_gradients(self):
        """∂L/∂h⁰ through every gate at t = 1, and ∂L/∂C⁰ through the forget gate."""
        section = "Backward pass, t = 0"
        for j in range(1, self.n_h + 1):
            terms = [Mul(self.S(self.delta(g, 1, i)), self.S(self.parameter("W", g, i, j)), evaluate=False)
                     for g in GATES for i in range(1, self.n_h + 1)]
            name, shown = self.unit("grad_h", "h", "h", 0, j)
            self.out.step(name, grad_sym(shown), total(terms), section)
        for j in range(1, self.n_h + 1):
            name, shown = self.unit("grad_C", "C", "C", 0, j)
            self.out.step(name, grad_sym(shown), Mul(self.S(self.unit("grad_C", "", "", 1, j)),
                                                     self.S(self.gate("f", 1, j)), evaluate=False), section)

    def cell_jacobian(self, t):
        """∂C⁽ᵗ⁾ⱼ/∂C⁽ᵗ⁻¹⁾ₖ, the lecture's four terms: through f, i and a by way of h⁽ᵗ⁻¹⁾ₖ = o⁽ᵗ⁻¹⁾ₖ tanh(C⁽ᵗ⁻¹⁾ₖ)
        (o⁽ᵗ⁻¹⁾ does not depend on C⁽ᵗ⁻¹⁾), and f⁽ᵗ⁾ⱼ itself when j = k."""
        now, before = time_sym("C", "C", t).text, time_sym("C", "C", t - 1).text
        out, section = self.out, f"How the cell carries the gradient: ∂{now}/∂{before}"
        for k in range(1, self.n_h + 1):
            C = self.S(self.unit("C", "", "", t - 1, k))
            h = self.unit("h", "h", "h", t - 1, k)
            name, shown = self.unit("dh_dC", "", "", t - 1, k)
            out.step(name, partial_sym(h[1], self.unit("C", "C", "C", t - 1, k)[1]),
                     Mul(self.S(self.gate("o", t - 1, k)), one_minus(Pow(tanh(C), 2, evaluate=False)), evaluate=False),
                     section)
        through = {"f": lambda j: self.S(self.unit("C", "", "", t - 1, j)),  # ∂C/∂f, ∂C/∂i, ∂C/∂a
                   "i": lambda j: self.S(self.gate("a", t, j)),
                   "a": lambda j: self.S(self.gate("i", t, j))}
        for j in range(1, self.n_h + 1):
            for k in range(1, self.n_h + 1):
                pair = (j, k) if self.n_h > 1 else ()
                C_t = self.unit("C", "C", "C", t, j)[1]
                C_before = self.unit("C", "C", "C", t - 1, k)[1]
                terms = []
                for g in ("f", "i", "a"):
                    value = self.S(self.gate(g, t, j))
                    slope = one_minus(Pow(value, 2, evaluate=False)) if g == "a" else \
                        Mul(value, one_minus(value), evaluate=False)
                    term_key = key(f"dC_{g}", t, *pair)
                    shown = Sym(f"∂{C_t.text}/∂{C_before.text} via {g}",
                                rf"\frac{{\partial {C_t.latex}}}{{\partial {C_before.latex}}}\Big|_{{\text{{via }} {g}}}")
                    out.step(term_key, shown, times(through[g](j), slope, self.S(self.parameter("W", g, j, k)),
                                                    self.S(self.unit("dh_dC", "", "", t - 1, k))), section,
                             note={"f": "∂C/∂f · ∂f/∂h⁽ᵗ⁻¹⁾ · ∂h⁽ᵗ⁻¹⁾/∂C⁽ᵗ⁻¹⁾", "i": "∂C/∂i · ∂i/∂h⁽ᵗ⁻¹⁾ · ∂h⁽ᵗ⁻¹⁾/∂C⁽ᵗ⁻¹⁾",
                                   "a": "∂C/∂a · ∂a/∂h⁽ᵗ⁻¹⁾ · ∂h⁽ᵗ⁻¹⁾/∂C⁽ᵗ⁻¹⁾"}[g] if j == k == 1 else "")
                    terms.append(sympy.Symbol(term_key))
                if j == k:
                    terms.append(self.S(self.gate("f", t, j)))
                out.step(key("dC", t, *pair), partial_sym(C_t, C_before), total(terms), section,
                         note="the four terms: the forget gate's f⁽ᵗ⁾ is added, not multiplied" if j == k == 1 else "")

    def output_gradients(self):
        section = "Gradients of the output layer's weights"
        T = self.T
        for k in range(1, self.n_out + 1):
            delta = self.S(self.output("delta_y", "", "", T, k))
            for j in range(1, self.n_h + 1):
                name, shown = self.output_parameter("V", k, j)
                self.out.step("grad_" + name, grad_sym(shown),
                              Mul(delta, self.S(self.unit("h", "", "", T, j)), evaluate=False), section)
            name, shown = self.output_parameter("c", k)
            self.out.step("grad_" + name, grad_sym(shown), delta, section)

    def parameter_gradients(self):
        for g in GATES:
            section = f"Gradients of the {GATE_NAMES[g]}'s weights, summed over time"
            for i in range(1, self.n_h + 1):
                deltas = [self.S(self.delta(g, t, i)) for t in range(1, self.T + 1)]
                for kind, cols, source in (("W", self.n_h, lambda t, j: self.unit("h", "", "", t - 1, j)),
                                           ("U", self.n_in, self.x)):
                    for j in range(1, cols + 1):
                        terms = [Mul(d, self.S(source(t, j)), evaluate=False)
                                 for t, d in enumerate(deltas, start=1)]
                        name, shown = self.parameter(kind, g, i, j)
                        self.out.step("grad_" + name, grad_sym(shown), total(terms), section)
                name, shown = self.parameter("b", g, i)
                self.out.step("grad_" + name, grad_sym(shown), total(deltas), section)

    # notes -------------------------------------------------------------------------------------
    def notes(self):
        notes = [
            Sym("gates, as the lecture: f⁽ᵗ⁾ = σ(W_f h⁽ᵗ⁻¹⁾ + U_f x⁽ᵗ⁾ + b_f), i⁽ᵗ⁾ = σ(W_i h⁽ᵗ⁻¹⁾ + U_i x⁽ᵗ⁾ + b_i), "
                "a⁽ᵗ⁾ = tanh(W_a h⁽ᵗ⁻¹⁾ + U_a x⁽ᵗ⁾ + b_a), o⁽ᵗ⁾ = σ(W_o h⁽ᵗ⁻¹⁾ + U_o x⁽ᵗ⁾ + b_o); z_g is the sum "
                "inside gate g, σ(x) = 1/(1 + exp(-x))",
                r"f^{(t)} = \sigma(W_f h^{(t-1)} + U_f x^{(t)} + b_f),\ \dots"),
            Sym("C⁽ᵗ⁾ = C⁽ᵗ⁻¹⁾ ⊙ f⁽ᵗ⁾ + i⁽ᵗ⁾ ⊙ a⁽ᵗ⁾, h⁽ᵗ⁾ = o⁽ᵗ⁾ ⊙ tanh(C⁽ᵗ⁾)",
                r"C^{(t)} = C^{(t-1)} \odot f^{(t)} + i^{(t)} \odot a^{(t)},\ h^{(t)} = o^{(t)} \odot \tanh(C^{(t)})"),
        ]
        if self.spec.V:
            last = time_sym("ŷ", r"\hat{y}", self.T).text
            notes.append(Sym("the output layer, the lecture's y⁽ᵗ⁾ = σ(V h⁽ᵗ⁾ + c), written ŷ⁽ᵗ⁾ here (y is the "
                             f"target); loss on the last output: L = 1/2 Σ_k ({last}_k - y_k)², so ∂L/∂{last} = "
                             f"{last} - y, δ_y = ∂L/∂{last} {last}(1 - {last}), ∂L/∂h⁽ᵀ⁾ = Vᵀ δ_y, ∂L/∂V = δ_y "
                             "h⁽ᵀ⁾ᵀ, ∂L/∂c = δ_y",
                             r"\hat{y}^{(t)} = \sigma(V h^{(t)} + c),\ L = \frac{1}{2} \sum_k "
                             r"(\hat{y}^{(T)}_k - y_k)^2"))
        elif self.spec.target is not None:
            last = time_sym("h", "h", self.T).text
            notes.append(Sym(f"loss on the last state: L = 1/2 Σ_j ({last}_j - y_j)², so ∂L/∂{last} = {last} - y",
                             r"L = \frac{1}{2} \sum_j (h^{(T)}_j - y_j)^2"))
        else:
            notes.append(Sym("∂L/∂h at the last step is given (the error from above); nothing else reaches the cell",
                             r"\partial L / \partial h^{(T)} \text{ is given}"))
        if self.spec.cell_jacobian:
            notes.append(Sym("∂C⁽ᵗ⁾/∂C⁽ᵗ⁻¹⁾, as the lecture writes it: ∂C/∂f ∂f/∂h⁽ᵗ⁻¹⁾ ∂h⁽ᵗ⁻¹⁾/∂C⁽ᵗ⁻¹⁾ + ∂C/∂i "
                             "∂i/∂h⁽ᵗ⁻¹⁾ ∂h⁽ᵗ⁻¹⁾/∂C⁽ᵗ⁻¹⁾ + ∂C/∂a ∂a/∂h⁽ᵗ⁻¹⁾ ∂h⁽ᵗ⁻¹⁾/∂C⁽ᵗ⁻¹⁾ + f⁽ᵗ⁾, with "
                             "∂h⁽ᵗ⁻¹⁾/∂C⁽ᵗ⁻¹⁾ = o⁽ᵗ⁻¹⁾ (1 - tanh² C⁽ᵗ⁻¹⁾); the backward pass's ∂L/∂C⁽ᵗ⁻¹⁾ takes the three "
                             "gate paths by way of ∂L/∂h⁽ᵗ⁻¹⁾, and the fourth, f⁽ᵗ⁾, directly",
                             r"\frac{\partial C^{(t)}}{\partial C^{(t-1)}} = \sum_{g \in \{f, i, a\}} "
                             r"\frac{\partial C^{(t)}}{\partial g^{(t)}} \frac{\partial g^{(t)}}{\partial h^{(t-1)}} "
                             r"\frac{\partial h^{(t-1)}}{\partial C^{(t-1)}} + f^{(t)}"))
        notes.append(Sym("backward: ∂L/∂C⁽ᵗ⁾ = ∂L/∂h⁽ᵗ⁾ o⁽ᵗ⁾ (1 - tanh²C⁽ᵗ⁾) + ∂L/∂C⁽ᵗ⁺¹⁾ f⁽ᵗ⁺¹⁾ (the cell path is "
                         "added, not multiplied by W: the reason the LSTM eases vanishing gradients); "
                         "δ_g = ∂L/∂z_g = ∂L/∂g · σ′ (g(1 - g), or 1 - a² for a); ∂L/∂h⁽ᵗ⁻¹⁾ = Σ_g W_gᵀ δ_g⁽ᵗ⁾; "
                         "∂L/∂W_g = Σ_t δ_g⁽ᵗ⁾ h⁽ᵗ⁻¹⁾ᵀ, ∂L/∂U_g = Σ_t δ_g⁽ᵗ⁾ x⁽ᵗ⁾ᵀ, ∂L/∂b_g = Σ_t δ_g⁽ᵗ⁾",
                         r"\frac{\partial L}{\partial C^{(t)}} = \frac{\partial L}{\partial h^{(t)}} o^{(t)} "
                         r"(1 - \tanh^2 C^{(t)}) + \frac{\partial L}{\partial C^{(t+1)}} f^{(t+1)}"))
        return notes
