"""`mlp_backprop` with `notation: matrix`: one step per layer quantity, in chapter 3.2's matrix form.

The samples are the columns of X (n₀ × m); every layer quantity is one
matrix step (derive.matrix), so a 784-100-10 network with a batch of 32 is
a few dozen steps, each one numpy operation:

    Z⁽ˡ⁾ = W⁽ˡ⁾ A⁽ˡ⁻¹⁾ + b⁽ˡ⁾ 1ᵀ       (- θ⁽ˡ⁾ 1ᵀ with thresholds)     A⁽ˡ⁾ = f_l(Z⁽ˡ⁾)
    E⁽ᴸ⁾ = ∂L/∂Z⁽ᴸ⁾                     E⁽ˡ⁾ = f′_l(Z⁽ˡ⁾) ⊙ (W⁽ˡ⁺¹⁾)ᵀ E⁽ˡ⁺¹⁾
    ∂L/∂W⁽ˡ⁾ = E⁽ˡ⁾ (A⁽ˡ⁻¹⁾)ᵀ          ∂L/∂b⁽ˡ⁾ = E⁽ˡ⁾ 1    (times 1/m with `batch: mean`)

With one sample the columns are the lecture's vectors x, z⁽ˡ⁾, a⁽ˡ⁾, e⁽ˡ⁾.
Entries keep the keys of the per-neuron notation (`z[k][l][j]`,
`w[l][i][j]` from neuron i to j), so a sheet grades the same either way; a
whole quantity's key is its stem and layer (`z[2]`, `grad_w[1]`, `yhat`).
"""


import numpy as np
import sympy
from sympy import Rational

from ..matrix import ActivationUse, Entries, Op, Ref
from ..steps import SolutionBuilder, Sym
from .mlp_backprop import activation_derivatives, change_note

_MARKS = {0: "", 1: "′", 2: "″", 3: "‴"}


class MatrixNotation:
    """Chapter 3.2's symbols: lower-case vectors for one sample, capitals for a batch (its columns)."""

    def __init__(self, spec):
        self.batch = len(spec.samples) > 1
        self.threshold = spec.offset == "threshold"
        self.offset_text, self.offset_latex = ("θ", r"\theta") if self.threshold else ("b", "b")

    def sym(self, small, capital, latex_small, latex_capital, layer=None, primes=0, per_sample=True):
        """A symbol: capital for a batch's matrix (per_sample), primes (updates) before the layer."""
        text, latex = (capital, latex_capital) if self.batch and per_sample else (small, latex_small)
        marks = _MARKS.get(primes, "′" * primes)
        return Sym.indexed(text + marks, latex + "'" * primes, None if layer is None else f"({layer})")

    def x(self):
        return self.sym("x", "X", r"\mathbf{x}", r"\mathbf{X}")

    def y(self):
        return self.sym("y", "Y", r"\mathbf{y}", r"\mathbf{Y}")

    def z(self, l, primes=0):
        return self.sym("z", "Z", r"\mathbf{z}", r"\mathbf{Z}", l, primes)

    def a(self, l, primes=0):
        return self.sym("a", "A", r"\mathbf{a}", r"\mathbf{A}", l, primes)

    def yhat(self, primes=0):
        return self.sym("ŷ", "Ŷ", r"\hat{\mathbf{y}}", r"\hat{\mathbf{Y}}", None, primes)

    def e(self, l, primes=0):
        return self.sym("e", "E", r"\mathbf{e}", r"\mathbf{E}", l, primes)

    def w(self, l, primes=0):
        return self.sym("W", "W", r"\mathbf{W}", r"\mathbf{W}", l, primes, per_sample=False)

    def offset(self, l, primes=0):
        return self.sym(self.offset_text, self.offset_text, rf"\boldsymbol{{{self.offset_latex}}}",
                        rf"\boldsymbol{{{self.offset_latex}}}", l, primes, per_sample=False)

    def loss(self, primes=0):
        marks = _MARKS.get(primes, "′" * primes)
        return Sym("L" + marks, r"\mathcal{L}" + "'" * primes)

    def sample_losses(self, primes=0):
        marks = _MARKS.get(primes, "′" * primes)
        return Sym(f"L{marks}[·]", r"\mathcal{L}" + "'" * primes + r"[\cdot]")

    def gradient(self, of, primes=0):
        loss = self.loss(primes)
        return Sym(f"∂{loss.text}/∂{of.text}", rf"\frac{{\partial {loss.latex}}}{{\partial {of.latex}}}")

    def grad_yhat(self):
        return Sym("∂L/∂Ŷ" if self.batch else "∂L/∂ŷ",
                   r"\frac{\partial \mathcal{L}}{\partial \hat{\mathbf{Y}}}" if self.batch
                   else r"\frac{\partial \mathcal{L}}{\partial \hat{\mathbf{y}}}")


def _section(heading, name):
    return f"{heading}: {name[0].lower()}{name[1:]}" if heading else name


def _add(*parts):
    return Op("add", tuple(parts))


class MatrixSolver:
    """Builds the matrix-form Solution of an mlp_backprop problem (spec: derive.kinds.mlp_backprop.MlpSpec)."""

    def __init__(self, problem, rounding, notes):
        self.problem = problem
        self.spec = spec = problem.spec
        self.n = MatrixNotation(spec)
        self.out = SolutionBuilder(rounding)
        self.m = len(spec.samples)
        self.L = len(spec.layers)
        self.offset_name = "theta" if self.n.threshold else "b"
        self.notes = notes
        self.uses = {}
        for l, layer in enumerate(spec.layers, start=1):
            act = layer.activation
            name = {"sigmoid": ("σ", r"\sigma"), "tanh": ("tanh", r"\tanh"),
                    "softmax": ("softmax", r"\operatorname{softmax}")}.get(act.name)
            if name is None:
                name = (f"f{_sub(l)}", f"f_{{{l}}}")
            self.uses[l] = ActivationUse(act, *name)

    # entry keys: those of the per-neuron notation ---------------------------
    def per_sample(self, prefix, stem, *indices):
        """The Entries of a per-sample quantity (columns = samples): `z[k][l][j]`, or `z[l][j]` for one."""
        inner = "".join(f"[{i}]" for i in indices) + "[{row}]"
        return Entries(f"{prefix}{stem}" + ("[{col}]" if self.m > 1 else "") + inner)

    def weights_entries(self, prefix, stem, l):
        return Entries(f"{prefix}{stem}[{l}]" + "[{col}][{row}]")

    def offsets_entries(self, prefix, stem, l):
        return Entries(f"{prefix}{stem}[{l}]" + "[{row}]")

    # the whole solution --------------------------------------------------------
    def solve(self):
        spec, out = self.spec, self.out
        params = self.givens()
        self.activation_derivatives()
        if spec.forward_only:
            self.forward(params, "", "", 0)
            return out.build(self.problem.name, self.problem.kind, self.problem.title, notes=self.notes())
        first_loss = None
        for t in range(1, spec.iterations + 1):
            prefix = f"it{t}." if spec.iterations > 1 else ""
            heading = f"Iteration {t}" if spec.iterations > 1 else ""
            loss = self.forward(params, prefix, heading, t - 1)
            deltas = self.backward(params, prefix, heading, t - 1)
            grads = self.gradients(deltas, prefix, heading, t - 1)
            if first_loss is None:
                first_loss = loss
            if spec.learning_rate is not None:
                params = self.update(params, grads, prefix, heading, t)
        if spec.loss_after:
            updates = spec.iterations
            heading = "After the update" if updates == 1 else f"After {updates} updates"
            after = self.forward(params, "after.", heading, updates)
            before, now = self.n.loss(0), self.n.loss(updates)
            difference = sympy.Add(sympy.Symbol(after), sympy.Mul(-1, sympy.Symbol(first_loss), evaluate=False),
                                   evaluate=False)
            out.step("loss_change", Sym(f"{now.text} - {before.text}", f"{now.latex} - {before.latex}"), difference,
                     _section(heading, "Loss"), note=self.change_note(first_loss))
        return out.build(self.problem.name, self.problem.kind, self.problem.title, notes=self.notes())

    def change_note(self, first_loss):
        return change_note(self.out.value(first_loss), self.out.value("after.loss"))

    def givens(self):
        spec, n, out = self.spec, self.n, self.out
        columns = lambda rows: _frozen(np.array(rows, dtype=float).T)
        out.given_matrix("x", n.x(), columns([x for x, _ in spec.samples]), self.per_sample("", "x"))
        if not spec.forward_only and not spec.upstream:
            out.given_matrix("y", n.y(), columns([y for _, y in spec.samples]), self.per_sample("", "y"))
        if spec.upstream:
            out.given_matrix("grad_yhat", n.grad_yhat(), columns(spec.upstream), self.per_sample("", "grad_yhat"))
        weights, offsets = {}, {}
        for l, layer in enumerate(spec.layers, start=1):
            key = f"w[{l}]"
            out.given_matrix(key, n.w(l), _frozen(np.asarray(layer.weights, dtype=float).T),
                             self.weights_entries("", "w", l))
            weights[l] = Ref(key)
            key = f"{self.offset_name}[{l}]"
            out.given_matrix(key, n.offset(l), np.array(layer.offsets, dtype=float).reshape(-1, 1),
                             self.offsets_entries("", self.offset_name, l))
            offsets[l] = Ref(key)
        if spec.forward_only or spec.learning_rate is None:
            return weights, offsets
        self.eta = out.given("eta", Sym("η", r"\eta"), spec.learning_rate)
        self.decay = out.given("lambda", Sym("λ", r"\lambda"), spec.weight_decay) if spec.weight_decay else None
        self.l1 = out.given("lambda1", Sym("λ₁", r"\lambda_{1}"), spec.l1) if spec.l1 else None
        return weights, offsets

    def activation_derivatives(self):
        activation_derivatives(self.spec, self.out)

    # forward pass and loss --------------------------------------------------------
    def forward(self, params, prefix, heading, primes):
        """The forward pass (and loss, given targets); returns the loss's key or None."""
        spec, n, out = self.spec, self.n, self.out
        weights, offsets = params
        section = _section(heading, "Forward pass")
        previous = Ref("x")
        self.z, self.a = {}, {0: previous}
        for l in range(1, self.L + 1):
            offset = offsets[l] if self.m == 1 else Op("broadcast", (offsets[l],), self.m)
            product = Op("matmul", (weights[l], previous))
            formula = Op("sub", (product, offset)) if n.threshold else _add(product, offset)
            z = out.matrix_step(f"{prefix}z[{l}]", n.z(l, primes), formula, self.per_sample(prefix, "z", l), section)
            if l == self.L:
                key, symbol, entries = f"{prefix}yhat", n.yhat(primes), self.per_sample(prefix, "yhat")
            else:
                key, symbol, entries = f"{prefix}h[{l}]", n.a(l, primes), self.per_sample(prefix, "h", l)
            with self.activation_of(l):
                previous = out.matrix_step(key, symbol, Op("apply", (z,), self.uses[l]), entries, section)
            self.z[l], self.a[l] = z, previous
        if spec.forward_only or spec.upstream:
            return None
        return self.loss(prefix, heading, primes)

    def activation_of(self, l):
        from .mlp_backprop import _MlpSolver

        return _MlpSolver.activation_of(self, l)

    def loss(self, prefix, heading, primes):
        spec, n, out = self.spec, self.n, self.out
        yhat, y = self.a[self.L], Ref("y")
        section = _section(heading, "Loss")
        error = Op("sub", (yhat, y))
        if spec.loss == "half_squared_error":
            per_sample = Op("times", (Rational(1, 2), Op("square_norm", (error,))))
        elif spec.loss == "mean_squared_error":
            per_sample = Op("times", (Rational(1, spec.sizes[-1]), Op("square_norm", (error,))))
        elif spec.loss == "cross_entropy":
            per_sample = Op("times", (-1, Op("colsum", (Op("hadamard", (y, Op("log", (yhat,)))),))))
        else:
            ones = 1.0
            per_sample = Op("times", (-1, Op("colsum", (_add(
                Op("hadamard", (y, Op("log", (yhat,)))),
                Op("hadamard", (Op("sub", (ones, y)), Op("log", (Op("sub", (ones, yhat)),))))),))))
        if self.m == 1:
            key = f"{prefix}loss"
            out.step(key, n.loss(primes), Op("total", (per_sample,)), section)
            return key
        losses = out.matrix_step(f"{prefix}losses", n.sample_losses(primes), per_sample,
                                 Entries(f"{prefix}loss" + "[{col}]"), section)
        total = Op("total", (losses,))
        if spec.batch == "mean":
            total = Op("times", (Rational(1, self.m), total))
        key = f"{prefix}loss"
        out.step(key, n.loss(primes), total, section)
        return key

    # backward pass and gradients -------------------------------------------------------
    def output_error(self):
        """E⁽ᴸ⁾ = ∂L/∂Z⁽ᴸ⁾ for the problem's loss and output activation."""
        spec = self.spec
        use = self.uses[self.L]
        yhat, z, y = self.a[self.L], self.z[self.L], Ref("y")
        if spec.upstream:
            slope = Ref("grad_yhat")
        elif spec.loss == "cross_entropy" or (spec.loss == "binary_cross_entropy" and use.activation.name == "sigmoid"):
            return Op("sub", (yhat, y))  # the softmax's (sigmoid's) slope cancels the loss's
        elif spec.loss == "half_squared_error":
            slope = Op("sub", (yhat, y))
        elif spec.loss == "mean_squared_error":
            slope = Op("times", (Rational(2, spec.sizes[-1]), Op("sub", (yhat, y))))
        else:  # binary cross-entropy: (ŷ - y) / (ŷ (1 - ŷ))
            slope = Op("divide", (Op("sub", (yhat, y)), Op("hadamard", (yhat, Op("sub", (1.0, yhat))))))
        if use.activation.is_softmax:
            return Op("softmax_back", (yhat, slope))
        if use.activation.derivative_at(sympy.Symbol("z"), sympy.Symbol("h")) is None:
            return slope
        return Op("hadamard", (Op("slope", (z, yhat), use), slope))

    def backward(self, params, prefix, heading, primes):
        spec, n, out = self.spec, self.n, self.out
        weights, _ = params
        section = _section(heading, "Backward pass")
        deltas = {}
        with self.activation_of(self.L):
            deltas[self.L] = out.matrix_step(f"{prefix}delta[{self.L}]", n.e(self.L, primes), self.output_error(),
                                             self.per_sample(prefix, "delta", self.L), section)
        for l in range(self.L - 1, 0, -1):
            back = Op("matmul", (Op("transpose", (weights[l + 1],)), deltas[l + 1]))
            use = self.uses[l]
            if use.activation.derivative_at(sympy.Symbol("z"), sympy.Symbol("h")) is not None:
                back = Op("hadamard", (Op("slope", (self.z[l], self.a[l]), use), back))
            with self.activation_of(l):
                deltas[l] = out.matrix_step(f"{prefix}delta[{l}]", n.e(l, primes), back,
                                            self.per_sample(prefix, "delta", l), section)
        if spec.input_gradient:
            out.matrix_step(f"{prefix}grad_x", n.gradient(n.x(), primes),
                            Op("matmul", (Op("transpose", (weights[1],)), deltas[1])),
                            self.per_sample(prefix, "grad_x"), section)
        return deltas

    def gradients(self, deltas, prefix, heading, primes):
        spec, n, out = self.spec, self.n, self.out
        section = _section(heading, "Gradients" if self.m == 1 else
                           ("Gradients summed over the samples" if spec.batch == "sum"
                            else "Gradients averaged over the samples"))
        scale = Rational(1, self.m) if spec.batch == "mean" and self.m > 1 else None
        grads = {}
        for l in range(self.L, 0, -1):
            weight = Op("matmul", (deltas[l], Op("transpose", (self.a[l - 1],))))
            offset = deltas[l] if self.m == 1 else Op("rowsum", (deltas[l],))
            if n.threshold:
                offset = Op("times", (-1, offset))
            if scale is not None:
                weight, offset = Op("times", (scale, weight)), Op("times", (scale, offset))
            grads["w", l] = out.matrix_step(f"{prefix}grad_w[{l}]", n.gradient(n.w(l, primes), primes), weight,
                                            self.weights_entries(prefix, "grad_w", l), section)
            grads["offset", l] = out.matrix_step(
                f"{prefix}grad_{self.offset_name}[{l}]", n.gradient(n.offset(l, primes), primes), offset,
                self.offsets_entries(prefix, f"grad_{self.offset_name}", l), section)
        return grads

    def update(self, params, grads, prefix, heading, primes):
        spec, n, out = self.spec, self.n, self.out
        weights, offsets = params
        section = _section(heading, "Update")
        new_weights, new_offsets = dict(weights), dict(offsets)
        for l in range(1, self.L + 1):
            if spec.update_weights:
                new_weights[l] = out.matrix_step(f"{prefix}w_new[{l}]", n.w(l, primes),
                                                 self.descent(weights[l], grads["w", l], True),
                                                 self.weights_entries(prefix, "w_new", l), section)
            if spec.update_offsets:
                new_offsets[l] = out.matrix_step(f"{prefix}{self.offset_name}_new[{l}]", n.offset(l, primes),
                                                 self.descent(offsets[l], grads["offset", l], spec.decay_offsets),
                                                 self.offsets_entries(prefix, f"{self.offset_name}_new", l), section)
        return new_weights, new_offsets

    def descent(self, parameter, gradient, regularised):
        """θ - η g; with L2, (1 - ηλ) θ - η g; with L1, the subgradient λ₁ sign(θ) added to g."""
        slope = gradient
        if regularised and self.l1 is not None:
            slope = _add(gradient, Op("times", (self.l1, Op("sign", (parameter,)))))
        step = Op("times", (self.eta, slope))
        if regularised and self.decay is not None:
            keep = sympy.Add(1, sympy.Mul(-1, self.eta, self.decay, evaluate=False), evaluate=False)
            return Op("sub", (Op("times", (keep, parameter)), step))
        return Op("sub", (parameter, step))


def _frozen(array):
    """A read-only view: a given's value cannot drift after it is built (the spec's arrays stay its own)."""
    view = array.view()
    view.flags.writeable = False
    return view


def _sub(number):
    return str(number).translate(str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉"))
