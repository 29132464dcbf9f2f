"""Convolution and pooling: the engine, the three conv kinds, and their printed solutions.

Every expected value here comes from outside the code under test:

- direct loops written in this file, the sums of chapter 3.2's homework (4)-(5) term by term
  (forward: z_ij = Σ_{c,u,v} w a_{s(i-1)+u-P, s(j-1)+v-P} + b; backward: each
  product's derivative scattered to the input and the kernel, as by hand);
- central finite differences of a loss computed by those loops;
- SymPy applied here to an unrolled layer or pooling with a concrete loss;
- arithmetic by hand for the bundled conv-backprop problem (in comments).

The engine (derive/engine/conv.py, numpy sliding windows and the 180°-turned
kernel) and the step-by-step solvers are each held against these.
"""

import math
import re
from pathlib import Path

import jsonschema
import numpy as np
import pytest
import sympy
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from derive.engine.conv import conv_backward, conv_forward, pool_backward, pool_forward, run_conv
from derive.errors import ProblemError
from derive.fields import schema
from derive.grading.grader import Grader
from derive.problem import load_problem
from derive.render import render
from derive.grading.sheet import AnswerSheet, read_answer
from derive.steps import EXACT, Rounding, evaluate_formula
from conftest import load_error, solve_error

PROBLEMS = Path(__file__).parent.parent / "derive" / "problems"
SAME = dict(rel=1e-9, abs=1e-9)
FD_EPS = 1e-6
FD_CLOSE = dict(rel=1e-5, abs=1e-6)


# ================================================================================
# Direct loops: the oracle for the engine and the solvers
# ================================================================================

def loop_conv(a, w, b, stride, padding):
    """z[f, i, j] = Σ_{c,u,v} w[f, c, u, v] a[c, s i + u - P, s j + v - P] + b[f], padding read as 0 (0-based)."""
    filters, channels, size, _ = w.shape
    _, rows, cols = a.shape
    out_rows = (rows + 2 * padding - size) // stride + 1
    out_cols = (cols + 2 * padding - size) // stride + 1
    z = np.zeros((filters, out_rows, out_cols))
    for f in range(filters):
        for i in range(out_rows):
            for j in range(out_cols):
                total = b[f]
                for c in range(channels):
                    for u in range(size):
                        for v in range(size):
                            p, q = stride * i + u - padding, stride * j + v - padding
                            if 0 <= p < rows and 0 <= q < cols:
                                total += w[f, c, u, v] * a[c, p, q]
                z[f, i, j] = total
    return z


def loop_conv_backward(a, w, delta, stride, padding):
    """Each product w a of z[f, i, j] sends delta[f, i, j] w to a and delta[f, i, j] a to w."""
    filters, channels, size, _ = w.shape
    _, rows, cols = a.shape
    grad_a, grad_w = np.zeros_like(a), np.zeros_like(w)
    for f in range(filters):
        for i in range(delta.shape[1]):
            for j in range(delta.shape[2]):
                for c in range(channels):
                    for u in range(size):
                        for v in range(size):
                            p, q = stride * i + u - padding, stride * j + v - padding
                            if 0 <= p < rows and 0 <= q < cols:
                                grad_a[c, p, q] += w[f, c, u, v] * delta[f, i, j]
                                grad_w[f, c, u, v] += delta[f, i, j] * a[c, p, q]
    return grad_a, grad_w, delta.sum(axis=(1, 2))


def loop_pool(a, kind, size, stride):
    """(pooled, winners): winners[(c, r, s)] is the kept (row, col) of a max window, the first maximum row-major."""
    channels, rows, cols = a.shape
    out_rows, out_cols = (rows - size) // stride + 1, (cols - size) // stride + 1
    pooled = np.zeros((channels, out_rows, out_cols))
    winners = {}
    for c in range(channels):
        for r in range(out_rows):
            for s in range(out_cols):
                cells = [(stride * r + u, stride * s + v) for u in range(size) for v in range(size)]
                if kind == "average":
                    pooled[c, r, s] = sum(a[c, p, q] for p, q in cells) / len(cells)
                    continue
                best = cells[0]
                for cell in cells[1:]:
                    if a[c][cell] > a[c][best]:  # strictly greater: an earlier maximum keeps a tie
                        best = cell
                winners[c, r, s] = best
                pooled[c, r, s] = a[c][best]
    return pooled, winners


def loop_pool_backward(grad, a, kind, size, stride):
    _, winners = loop_pool(a, kind, size, stride)
    grad_a = np.zeros_like(a)
    for (c, r, s), value in np.ndenumerate(grad):
        if kind == "max":
            grad_a[(c,) + winners[c, r, s]] += value
        else:
            for u in range(size):
                for v in range(size):
                    grad_a[c, stride * r + u, stride * s + v] += value / size ** 2
    return grad_a


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


ACTIVATIONS = {  # name -> (f, f'), typed again here
    "sigmoid": (_sigmoid, lambda x: _sigmoid(x) * (1 - _sigmoid(x))),
    "tanh": (np.tanh, lambda x: 1 - np.tanh(x) ** 2),
    "relu": (lambda x: np.maximum(x, 0), lambda x: (x > 0) * 1.0),
    "linear": (lambda x: x, lambda x: np.ones_like(x)),
}


# ================================================================================
# The engine against the loops and finite differences
# ================================================================================

@st.composite
def conv_cases(draw):
    channels, filters = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    size = draw(st.integers(1, 4))
    padding = draw(st.integers(0, size - 1))
    rows = draw(st.integers(max(1, size - 2 * padding), 8))
    cols = draw(st.integers(max(1, size - 2 * padding), 8))
    stride = draw(st.integers(1, 3))
    seed = draw(st.integers(0, 2**32 - 1))
    return channels, filters, rows, cols, size, stride, padding, seed


@settings(max_examples=60, deadline=None)
@given(conv_cases())
def test_engine_convolution_matches_the_loops(case):
    channels, filters, rows, cols, size, stride, padding, seed = case
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(channels, rows, cols))
    w = rng.normal(size=(filters, channels, size, size))
    b = rng.normal(size=filters)
    z = conv_forward(a, w, b, stride, padding)
    np.testing.assert_allclose(z, loop_conv(a, w, b, stride, padding), rtol=1e-12, atol=1e-12)
    delta = rng.normal(size=z.shape)
    for got, expected in zip(conv_backward(a, w, delta, stride, padding),
                             loop_conv_backward(a, w, delta, stride, padding)):
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


@st.composite
def pool_cases(draw):
    size = draw(st.integers(1, 3))
    rows, cols = draw(st.integers(size, 7)), draw(st.integers(size, 7))
    return (draw(st.sampled_from(["max", "average"])), draw(st.integers(1, 3)), rows, cols, size,
            draw(st.integers(1, 3)), draw(st.booleans()), draw(st.integers(0, 2**32 - 1)))


@settings(max_examples=60, deadline=None)
@given(pool_cases())
def test_engine_pooling_matches_the_loops_ties_included(case):
    kind, channels, rows, cols, size, stride, ties, seed = case
    rng = np.random.default_rng(seed)
    # small whole numbers make ties in max windows; the first maximum row-major must win
    shape = (channels, rows, cols)
    a = rng.integers(0, 3, size=shape).astype(float) if ties else rng.normal(size=shape)
    pooled, argmax = pool_forward(a, kind, size, stride)
    np.testing.assert_allclose(pooled, loop_pool(a, kind, size, stride)[0], rtol=1e-12, atol=1e-12)
    grad = rng.normal(size=pooled.shape)
    np.testing.assert_allclose(pool_backward(grad, a.shape, kind, size, stride, argmax),
                               loop_pool_backward(grad, a, kind, size, stride), rtol=1e-12, atol=1e-12)


def central_difference(loss, x, index):
    bumped = x.copy()
    bumped[index] += FD_EPS
    up = loss(bumped)
    bumped[index] -= 2 * FD_EPS
    return (up - loss(bumped)) / (2 * FD_EPS)


def differentiable_at(loss, x, index):
    """The one-sided differences agree: no ReLU kink, no tied maximum at x (else no gradient to check)."""
    bumped = x.copy()
    middle = loss(x)
    bumped[index] += FD_EPS
    right = (loss(bumped) - middle) / FD_EPS
    bumped[index] -= 2 * FD_EPS
    left = (middle - loss(bumped)) / FD_EPS
    return abs(right - left) < 1e-4 * max(1.0, abs(right))


@pytest.mark.parametrize("stride, padding, size", [(1, 0, 2), (2, 1, 3), (3, 2, 3), (2, 0, 1)])
def test_engine_gradients_match_finite_differences(stride, padding, size):
    rng = np.random.default_rng(stride * 10 + padding)
    a, w, b = rng.normal(size=(2, 6, 5)), rng.normal(size=(2, 2, size, size)), rng.normal(size=2)
    weights = rng.normal(size=conv_forward(a, w, b, stride, padding).shape)
    loss_of_a = lambda x: float(np.sum(weights * loop_conv(x, w, b, stride, padding)))
    loss_of_w = lambda x: float(np.sum(weights * loop_conv(a, x, b, stride, padding)))
    grad_a, grad_w, grad_b = conv_backward(a, w, weights, stride, padding)
    for index in np.ndindex(a.shape):
        assert grad_a[index] == pytest.approx(central_difference(loss_of_a, a, index), **FD_CLOSE)
    for index in np.ndindex(w.shape):
        assert grad_w[index] == pytest.approx(central_difference(loss_of_w, w, index), **FD_CLOSE)
    # z is b + (terms without b): dz/db = 1 at every output
    assert grad_b == pytest.approx(weights.sum(axis=(1, 2)), **SAME)
    for kind, pool_stride in (("max", 1), ("average", 2), ("max", 2)):
        pooled, argmax = pool_forward(a, kind, 2, pool_stride)
        up = rng.normal(size=pooled.shape)
        loss = lambda x: float(np.sum(up * loop_pool(x, kind, 2, pool_stride)[0]))
        grad = pool_backward(up, a.shape, kind, 2, pool_stride, argmax)
        for index in np.ndindex(a.shape):
            assert grad[index] == pytest.approx(central_difference(loss, a, index), **FD_CLOSE)


# ================================================================================
# conv_backprop: the solver against the loops, the engine and finite differences
# ================================================================================

def conv_problem(tmp_path, name="conv.yaml", **fields):
    data = {"kind": "conv_backprop", "title": "generated"}
    data.update(fields)
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return load_problem(path)


def _maps(array):
    """A stack of maps as the file writes it: one matrix when there is one."""
    return array[0].tolist() if array.shape[0] == 1 else array.tolist()


def generated_case(seed, channels, filters, rows, size, stride, padding, activation, input_activation,
                   pooling, downstream):
    """The fields of a random conv_backprop problem, and its arrays."""
    rng = np.random.default_rng(seed)
    cols = rows + 1
    x = rng.normal(size=(channels, rows, cols)).round(3)
    w = rng.normal(size=(filters, channels, size, size)).round(3)
    b = rng.normal(size=filters).round(3)
    fields = {"activation": activation, "stride": stride, "padding": padding, "bias": b.tolist()}
    fields["input_z" if input_activation else "input"] = _maps(x)
    if input_activation:
        fields["input_activation"] = input_activation
    fields["kernels" if filters > 1 else "kernel"] = [_maps(k) for k in w] if filters > 1 else _maps(w[0])
    out_rows = (rows + 2 * padding - size) // stride + 1
    out_cols = (cols + 2 * padding - size) // stride + 1
    if pooling:
        kind, window, pool_stride = pooling
        fields["pooling"] = {"type": kind, "window": window, "stride": pool_stride}
        out_rows, out_cols = (out_rows - window) // pool_stride + 1, (out_cols - window) // pool_stride + 1
    final = rng.normal(size=(filters, out_rows, out_cols)).round(3)
    if downstream == "grad_output":
        fields["grad_output"] = _maps(final)
    else:
        fields["target"] = _maps(final)
        fields["loss"] = downstream
    return fields, dict(x=x, w=w, b=b, final=final)


# seed, channels, filters, rows, kernel, stride, padding, activation, input activation, pooling, downstream
CASES = [
    (1, 1, 1, 4, 2, 1, 0, "sigmoid", "tanh", ("max", 2, 1), "half_squared_error"),
    (2, 1, 1, 5, 3, 2, 1, "tanh", "sigmoid", ("average", 2, 2), "grad_output"),
    (3, 2, 1, 4, 2, 1, 1, "sigmoid", None, ("max", 2, 2), "mean_squared_error"),
    (4, 1, 2, 6, 3, 2, 2, "tanh", "tanh", None, "half_squared_error"),
    (5, 2, 2, 5, 2, 3, 1, "linear", "sigmoid", None, "grad_output"),
    (6, 3, 2, 4, 1, 1, 0, "sigmoid", None, ("average", 3, 1), "half_squared_error"),
    (7, 1, 1, 7, 3, 1, 2, "relu", "relu", ("max", 3, 2), "grad_output"),
    (8, 2, 3, 3, 3, 1, 1, "softplus", "tanh", ("max", 2, 1), "mean_squared_error"),
]


class LoopNetwork:
    """The layer of one generated problem, computed with the loops, stage by stage."""

    def __init__(self, fields, arrays):
        self.fields, self.x, self.w, self.b = fields, arrays["x"], arrays["w"], arrays["b"]
        self.final = arrays["final"]
        self.stride, self.padding = fields["stride"], fields["padding"]
        self.act = _activation(fields["activation"])
        self.act_in = _activation(fields["input_activation"]) if "input_activation" in fields else None
        pooling = fields.get("pooling")
        self.pooling = (pooling["type"], pooling["window"], pooling["stride"]) if pooling else None

    # each stage from the one before; loss_from_* run the rest of the layer
    def a_prev(self, z_prev):
        return self.act_in[0](z_prev) if self.act_in else z_prev

    def z(self, a_prev, w=None, b=None):
        return loop_conv(a_prev, self.w if w is None else w, self.b if b is None else b, self.stride, self.padding)

    def output(self, a):
        return loop_pool(a, *self.pooling)[0] if self.pooling else a

    def loss_from_output(self, output):
        loss = self.fields.get("loss")
        if loss is None:  # a given downstream error: L = Σ g ⊙ output has exactly that gradient
            return float(np.sum(self.final * output))
        if loss == "half_squared_error":
            return 0.5 * float(np.sum((output - self.final) ** 2))
        return float(np.mean((output - self.final) ** 2))

    def loss_from_a(self, a):
        return self.loss_from_output(self.output(a))

    def loss_from_z(self, z):
        return self.loss_from_a(self.act[0](z))

    def loss_from_a_prev(self, a_prev, w=None, b=None):
        return self.loss_from_z(self.z(a_prev, w, b))

    def loss_from_z_prev(self, z_prev):
        return self.loss_from_a_prev(self.a_prev(z_prev))


def _activation(name):
    if name == "softplus":
        return (lambda x: np.log1p(np.exp(x)), _sigmoid)
    return ACTIVATIONS[name]


def keyed(values, name, array, optional):
    """values[name[...]] for every element; `optional` flags leading axes written only when longer than 1."""
    for index in np.ndindex(array.shape):
        shown = [i + 1 for i, axis_optional, length in zip(index, optional, array.shape)
                 if not axis_optional or length > 1]
        shown += [i + 1 for i in index[len(optional):]]
        values[name + "".join(f"[{i}]" for i in shown)] = float(array[index])


def loop_values(net):
    """Every computed step of the solver, by key, from the loops (forward) and their chain rule (backward)."""
    values = {}
    z_prev = net.x if net.act_in else None
    a_prev = net.a_prev(net.x)
    z = net.z(a_prev)
    a = net.act[0](z)
    out = net.output(a)
    if net.act_in:
        keyed(values, "a_prev", a_prev, [True])
    keyed(values, "z", z, [True])
    keyed(values, "a", a, [True])
    if net.pooling:
        keyed(values, "pool", out, [True])
    loss = net.fields.get("loss")
    if loss is None:
        grad_out = net.final
    else:
        values["loss"] = net.loss_from_output(out)
        grad_out = out - net.final if loss == "half_squared_error" else 2 * (out - net.final) / out.size
        keyed(values, "grad_pool" if net.pooling else "grad_a", grad_out, [True])
    grad_a = loop_pool_backward(grad_out, a, *net.pooling) if net.pooling else grad_out
    if net.pooling:
        keyed(values, "grad_a", grad_a, [True])
    delta = grad_a * net.act[1](z)
    keyed(values, "delta", delta, [True])
    grad_a_prev, grad_w, grad_b = loop_conv_backward(a_prev, net.w, delta, net.stride, net.padding)
    keyed(values, "grad_w", grad_w, [True, True])
    keyed(values, "grad_b", grad_b, [True])
    keyed(values, "grad_a_prev", grad_a_prev, [True])
    if net.act_in:
        keyed(values, "delta_prev", grad_a_prev * net.act_in[1](z_prev), [True])
    return values


def engine_values(run, net):
    """The same keys from the engine's arrays."""
    values = {}
    if net.act_in:
        keyed(values, "a_prev", run.a_prev, [True])
    keyed(values, "z", run.z, [True])
    keyed(values, "a", run.a, [True])
    if net.pooling:
        keyed(values, "pool", run.pooled, [True])
    if run.loss is not None:
        values["loss"] = run.loss
        keyed(values, "grad_pool" if net.pooling else "grad_a", run.grad_output, [True])
    if net.pooling:
        keyed(values, "grad_a", run.grad_a, [True])
    keyed(values, "delta", run.delta, [True])
    keyed(values, "grad_w", run.grad_w, [True, True])
    keyed(values, "grad_b", run.grad_b, [True])
    keyed(values, "grad_a_prev", run.grad_a_prev, [True])
    if net.act_in:
        keyed(values, "delta_prev", run.delta_prev, [True])
    return values


def computed(solution):
    return {step.key: step.value for step in solution if not step.is_given}


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"case{c[0]}")
def test_conv_backprop_every_step_matches_the_loops_and_the_engine(tmp_path, case):
    fields, arrays = generated_case(*case)
    problem = conv_problem(tmp_path, **fields)
    net = LoopNetwork(fields, arrays)
    solved = computed(problem.solve(EXACT))
    expected = loop_values(net)
    assert set(solved) == set(expected)
    from_engine = engine_values(run_conv(problem.spec), net)
    assert set(from_engine) == set(expected)
    for key, value in expected.items():
        assert solved[key] == pytest.approx(value, **SAME), key
        assert from_engine[key] == pytest.approx(value, **SAME), key


def _prefix_keys(values, name):
    return {k: v for k, v in values.items() if k.split("[")[0] == name}


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"case{c[0]}")
def test_conv_backprop_gradients_match_finite_differences(tmp_path, case):
    """Every gradient step against a central difference of the loss, computed by the loops."""
    fields, arrays = generated_case(*case)
    problem = conv_problem(tmp_path, **fields)
    net = LoopNetwork(fields, arrays)
    solved = computed(problem.solve(EXACT))
    a_prev = net.a_prev(net.x)
    z = net.z(a_prev)
    a = net.act[0](z)
    stages = [("grad_w", net.w, lambda w_: net.loss_from_a_prev(a_prev, w=w_), [True, True]),
              ("grad_b", net.b, lambda b_: net.loss_from_a_prev(a_prev, b=b_), [True]),
              ("grad_a_prev", a_prev, net.loss_from_a_prev, [True]),
              ("delta", z, net.loss_from_z, [True])]
    if net.pooling or "loss" in fields:  # otherwise ∂L/∂a⁽ˡ⁾ is the given error
        stages.append(("grad_a", a, net.loss_from_a, [True]))
    if net.act_in:
        stages.append(("delta_prev", net.x, net.loss_from_z_prev, [True]))
    if net.pooling and "loss" in fields:
        stages.append(("grad_pool", net.output(a), net.loss_from_output, [True]))
    checked = 0
    for name, array, loss, optional in stages:
        differences = {}
        fd = np.full(array.shape, np.nan)
        for index in np.ndindex(array.shape):
            if differentiable_at(loss, array, index):
                fd[index] = central_difference(loss, array, index)
        keyed(differences, name, fd, optional)
        assert set(differences) == set(_prefix_keys(solved, name)), name
        for key, value in differences.items():
            if not math.isnan(value):
                assert solved[key] == pytest.approx(value, **FD_CLOSE), key
                checked += 1
    assert checked >= 0.8 * sum(1 for key in solved if key.startswith(("grad_", "delta")))


@pytest.mark.parametrize("decimals", [None, 5, 8])
def test_conv_backprop_bundled_matches_the_engine(decimals):
    problem = load_problem(PROBLEMS / "conv-backprop.yaml")
    solved = computed(problem.solve(Rounding(decimals)))
    spec = problem.spec
    net = LoopNetwork({"stride": spec.stride, "padding": spec.padding, "activation": "relu",
                       "input_activation": "relu", "pooling": {"type": "max", "window": 2, "stride": 1},
                       "loss": "half_squared_error"},
                      {"x": np.array(spec.input_map), "w": np.array(spec.kernels), "b": np.array(spec.biases),
                       "final": np.array(spec.target)})
    expected = loop_values(net)
    assert set(solved) == set(expected) == set(engine_values(run_conv(spec), net))
    for key, value in expected.items():
        # every value has at most 5 decimals, so rounding to 5 or 8 places changes nothing
        assert solved[key] == pytest.approx(value, **SAME), key


# The bundled conv-backprop by hand (z⁽ˡ⁻¹⁾ and ReLU give a⁽ˡ⁻¹⁾; kernel [[1, -1], [0.5, 2]], b = 0.1):
CONV_BACKPROP_BY_HAND = [
    ("a_prev[1][2]", 0),         # ReLU(-0.2)
    ("z[1][1]", 1.65),           # 1·0.1 + (-1)·0 + 0.5·0.5 + 2·0.6 + 0.1
    ("z[2][3]", -0.15),          # 1·0 + (-1)·0.8 + 0.5·1.1 + 2·0 + 0.1
    ("a[2][3]", 0),              # ReLU(-0.15)
    ("z[3][3]", 5.15),           # 1·1.1 + (-1)·0 + 0.5·1.5 + 2·1.6 + 0.1
    ("pool[1][1]", 3.4),         # max(1.65, 0.1, 2.45, 3.4), at a[2][2]
    ("pool[2][2]", 5.15),        # max(3.4, 0, 3, 5.15), at a[3][3]
    ("loss", 0.17625),           # 1/2 (0.4² + 0.1² + 0.4² + 0.15²) = 1/2 · 0.3525
    ("grad_pool[1][2]", -0.1),   # 3.4 - 3.5
    ("grad_a[2][2]", 0.7),       # a[2][2] is the maximum of three windows: 0.4 - 0.1 + 0.4
    ("grad_a[1][1]", 0),         # the maximum of no window
    ("delta[3][3]", 0.15),       # 0.15 · H(5.15)
    ("grad_w[1][1]", 0.585),     # δ22 a22 + δ33 a33 = 0.7·0.6 + 0.15·1.1
    ("grad_w[2][2]", 1.01),      # 0.7·1.1 + 0.15·1.6
    ("grad_b", 0.85),            # 0.7 + 0.15
    ("grad_a_prev[3][3]", 1.55),  # w11 δ33 + w22 δ22 = 1·0.15 + 2·0.7
    ("grad_a_prev[2][3]", -0.7),  # w12 δ22 = -1·0.7
    ("delta_prev[2][3]", 0),     # z⁽ˡ⁻¹⁾₂₃ = -0.7 < 0: a dead input passes no error
    ("delta_prev[4][4]", 0.3),   # w22 δ33 · H(1.6) = 2·0.15
]


@pytest.mark.parametrize("key, expected", CONV_BACKPROP_BY_HAND)
def test_conv_backprop_bundled_by_hand(key, expected):
    assert load_problem(PROBLEMS / "conv-backprop.yaml").solve()[key].value == pytest.approx(expected, abs=1e-12)


def test_conv_backprop_follow_through_credits_a_carried_error():
    """A wrong z⁽ˡ⁾₂₂ = 3.6 carried on: a⁽ˡ⁾₂₂, p⁽ˡ⁾₁₁ and its error are right by follow-through."""
    grader = Grader(load_problem(PROBLEMS / "conv-backprop.yaml"))
    answers = {"z[2][2]": "3.6", "a[2][2]": "3.6", "pool[1][1]": "3.6", "grad_pool[1][1]": "0.6"}
    sheet = AnswerSheet("s.yaml", "student", {k: read_answer(v) for k, v in answers.items()})
    verdicts = {v.key: v.code for v in grader.grade(sheet).verdicts if v.code != "MISSING"}
    assert verdicts == {"z[2][2]": "WRONG", "a[2][2]": "FT", "pool[1][1]": "FT", "grad_pool[1][1]": "FT"}


# ================================================================================
# conv_derivation: the solver's expressions against SymPy applied here
# ================================================================================

GEOMETRIES = [  # rows, cols, kernel, stride, padding
    (4, 4, 2, 1, 0), (4, 4, 3, 1, 0), (5, 4, 3, 2, 1), (4, 5, 2, 2, 0), (3, 3, 2, 1, 1), (5, 5, 3, 3, 2),
]


def derivation(tmp_path, rows, cols, kernel, stride, padding, activation=None):
    data = {"kind": "conv_derivation", "input_size": [rows, cols], "kernel_size": kernel,
            "stride": stride, "padding": padding}
    if activation:
        data["activation"] = activation
    path = tmp_path / "derivation.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return load_problem(path).solve()


def by_name(expression, numbers):
    """The number an expression takes with its symbols, named like the solver's (`a12`), given values."""
    return float(expression.xreplace({s: numbers[s.name] for s in expression.free_symbols if s.name in numbers}))


@pytest.mark.parametrize("geometry", GEOMETRIES, ids=lambda g: "x".join(map(str, g)))
def test_conv_derivation_equals_sympy_on_a_concrete_loss(tmp_path, geometry):
    """The solver's ∂L/∂a and ∂L/∂w, with δ = ∂L/∂z, against SymPy differentiating L(z(a, w)) here."""
    rows, cols, kernel, stride, padding = geometry
    solution = derivation(tmp_path, *geometry, activation="sigmoid")
    rng = np.random.default_rng(sum(geometry))
    a = {(p, q): sympy.Symbol(f"A{p}_{q}") for p in range(1, rows + 1) for q in range(1, cols + 1)}
    w = {(u, v): sympy.Symbol(f"W{u}_{v}") for u in range(1, kernel + 1) for v in range(1, kernel + 1)}
    out_rows = (rows + 2 * padding - kernel) // stride + 1
    out_cols = (cols + 2 * padding - kernel) // stride + 1
    z = {}
    for i in range(1, out_rows + 1):
        for j in range(1, out_cols + 1):
            z[i, j] = sum(w[u, v] * a.get((stride * (i - 1) + u - padding, stride * (j - 1) + v - padding), 0)
                          for u, v in w)
    # a concrete smooth loss of z: its δ_ij = ∂L/∂z_ij are numbers once a and w are
    weights = {key: rng.normal() for key in z}
    loss = sum(c * sympy.sin(z[key]) + z[key] ** 2 / 2 for key, c in weights.items())
    point = {symbol: rng.normal() for symbol in list(a.values()) + list(w.values())}
    numbers = {f"a{p}{q}": point[s] for (p, q), s in a.items()}
    numbers.update({f"w{u}{v}": point[s] for (u, v), s in w.items()})
    for (i, j), zij in z.items():
        zval = float(sympy.sympify(zij).xreplace(point))
        numbers[f"delta{i}{j}"] = weights[i, j] * math.cos(zval) + zval  # ∂L/∂z_ij
    for (p, q), symbol in a.items():
        direct = float(sympy.diff(loss, symbol).xreplace(point))
        assert by_name(solution[f"grad_a_prev[{p}][{q}]"].value, numbers) == pytest.approx(direct, **SAME)
        assert by_name(solution[f"recursion_a_prev[{p}][{q}]"].value, numbers) == pytest.approx(direct, **SAME)
        # δ⁽ˡ⁻¹⁾ = σ'(z⁽ˡ⁻¹⁾) ∂L/∂a with σ' written a(1 - a)
        slope = numbers[f"a{p}{q}"] * (1 - numbers[f"a{p}{q}"])
        assert by_name(solution[f"delta_prev[{p}][{q}]"].value, numbers) == pytest.approx(slope * direct, **SAME)
    for (u, v), symbol in w.items():
        direct = float(sympy.diff(loss, symbol).xreplace(point))
        assert by_name(solution[f"grad_w[{u}][{v}]"].value, numbers) == pytest.approx(direct, **SAME)
        assert by_name(solution[f"recursion_w[{u}][{v}]"].value, numbers) == pytest.approx(direct, **SAME)


def test_conv_derivation_recursion_is_the_rotated_kernel_full_correlation(tmp_path):
    """4x4 input, 2x2 kernel: ∂L/∂a₂₂ = w₂₂δ₁₁ + w₂₁δ₁₂ + w₁₂δ₂₁ + w₁₁δ₂₂ (the kernel turned 180° over δ)."""
    solution = derivation(tmp_path, 4, 4, 2, 1, 0)
    names = {name: sympy.Symbol(name) for name in ("w11", "w12", "w21", "w22", "delta11", "delta12",
                                                   "delta21", "delta22")}
    n = names
    by_hand = n["w22"] * n["delta11"] + n["w21"] * n["delta12"] + n["w12"] * n["delta21"] + n["w11"] * n["delta22"]
    value = solution["grad_a_prev[2][2]"].value
    plain = value.xreplace({s: sympy.Symbol(s.name) for s in value.free_symbols})
    assert sympy.expand(plain - by_hand) == 0
    generic = solution["delta_prev[2][2]"].value  # f left general: f′(z⁽ˡ⁻¹⁾₂₂) times the sum
    assert {s.name for s in generic.free_symbols} == {"fprime22"} | set(names)


def test_conv_derivation_answers_are_graded_as_expressions():
    grader = Grader(load_problem(PROBLEMS / "hw4-conv.yaml"))
    answers = {"grad_a_prev[2][2]": "w22*delta11 + w21*delta12 + w12*delta21 + w11*delta22",
               "grad_w[1][1]": "delta11*a11 + delta12*a12 + delta21*a21 + delta22*a22",
               "grad_a_prev[1][1]": "2*w11*delta11"}
    sheet = AnswerSheet("s.yaml", "student", {k: read_answer(v) for k, v in answers.items()})
    verdicts = {v.key: v.code for v in grader.grade(sheet).verdicts if v.code != "MISSING"}
    # with a 3x3 kernel on a 4x4 input, a₁₁ meets only w₁₁, through z₁₁: ∂L/∂a₁₁ = w₁₁ δ₁₁
    assert verdicts == {"grad_a_prev[2][2]": "OK", "grad_w[1][1]": "OK", "grad_a_prev[1][1]": "WRONG"}


@pytest.mark.parametrize("geometry", GEOMETRIES, ids=lambda g: "x".join(map(str, g)))
def test_conv_derivation_at_a_point_matches_the_loops_and_the_engine(tmp_path, geometry):
    rows, cols, kernel, stride, padding = geometry
    rng = np.random.default_rng(7 + sum(geometry))
    out_rows = (rows + 2 * padding - kernel) // stride + 1
    out_cols = (cols + 2 * padding - kernel) // stride + 1
    a = rng.uniform(0.1, 0.9, size=(1, rows, cols)).round(2)  # sigmoid outputs
    w = rng.normal(size=(1, 1, kernel, kernel)).round(2)
    delta = rng.normal(size=(1, out_rows, out_cols)).round(2)
    data = {"kind": "conv_derivation", "input_size": [rows, cols], "kernel_size": kernel, "stride": stride,
            "padding": padding, "activation": "sigmoid",
            "at": {"input": a[0].tolist(), "kernel": w[0, 0].tolist(), "delta": delta[0].tolist()}}
    path = tmp_path / "at.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    solved = computed(load_problem(path).solve())
    expected = {}
    grad_a, grad_w, _ = loop_conv_backward(a, w, delta, stride, padding)
    keyed(expected, "at.grad_a_prev", grad_a, [True])
    keyed(expected, "at.grad_w", grad_w, [True, True])
    keyed(expected, "at.delta_prev", grad_a * a * (1 - a), [True])  # σ' = a(1 - a)
    engine_a, engine_w, _ = conv_backward(a, w, delta, stride, padding)
    np.testing.assert_allclose(engine_a, grad_a, atol=1e-12)
    np.testing.assert_allclose(engine_w, grad_w, atol=1e-12)
    assert {k for k in solved if k.startswith("at.")} == set(expected)
    for key, value in expected.items():
        assert solved[key] == pytest.approx(value, **SAME), key


HW4_AT_THE_POINT = [  # kernel [[1, 0, -1]] * 3 rows, δ = [[0.1, -0.2], [0.3, 0.4]]
    ("at.grad_a_prev[2][2]", 0.2),    # w11 δ22 + w12 δ21 + w21 δ12 + w22 δ11 = 0.4 + 0 - 0.2 + 0
    ("at.grad_a_prev[1][4]", 0.2),    # w13 δ12 = -1 · -0.2
    ("at.grad_a_prev[4][4]", -0.4),   # w33 δ22 = -1 · 0.4
    ("at.grad_w[1][1]", 0.5),         # δ11 a11 + δ12 a12 + δ21 a21 + δ22 a22 = 0.1 + 0 + 0 + 0.4
    ("at.grad_w[3][3]", 0.9),         # δ11 a33 + δ12 a34 + δ21 a43 + δ22 a44 = 0 - 0.2 + 0.3 + 0.8
]


@pytest.mark.parametrize("key, expected", HW4_AT_THE_POINT)
def test_hw4_at_the_point_by_hand(key, expected):
    assert load_problem(PROBLEMS / "hw4-conv.yaml").solve()[key].value == pytest.approx(expected, abs=1e-12)


# ================================================================================
# pool_derivation: routing against SymPy, the loops and the tie rule
# ================================================================================

def pool_solution(tmp_path, rows, window, stride, pooling):
    path = tmp_path / "pool.yaml"
    path.write_text(yaml.safe_dump({"kind": "pool_derivation", "input_size": rows, "window": window,
                                    "stride": stride, "pooling": pooling}), encoding="utf-8")
    return load_problem(path).solve()


def routed_numbers(solution, prefix, a, delta):
    """The solver's ∂L/∂a_pq, evaluated on numbers (a from `a`, δ from `delta`)."""
    env = {f"a{p + 1}{q + 1}": float(a[p, q]) for p, q in np.ndindex(a.shape)}
    env.update({f"delta{r + 1}{s + 1}": float(delta[r, s]) for r, s in np.ndindex(delta.shape)})
    grad = np.zeros_like(a)
    for p, q in np.ndindex(a.shape):
        grad[p, q] = evaluate_formula(solution[f"{prefix}grad_a[{p + 1}][{q + 1}]"].value, env)
    return grad


@pytest.mark.parametrize("rows, window, stride", [(3, 2, 1), (4, 2, 2), (5, 3, 2), (4, 3, 1), (5, 2, 3)])
def test_pool_derivation_routes_as_the_loops_ties_included(tmp_path, rows, window, stride):
    solution = pool_solution(tmp_path, rows, window, stride, ["max", "average"])
    rng = np.random.default_rng(rows * window * stride)
    out = (rows - window) // stride + 1
    for trial in range(6):
        # whole numbers 0..2 tie often: the first maximum in row-major order must take the error
        a = rng.integers(0, 3, size=(rows, rows)).astype(float) if trial % 2 else rng.normal(size=(rows, rows))
        delta = rng.normal(size=(out, out))
        for kind in ("max", "average"):
            expected = loop_pool_backward(delta[None], a[None], kind, window, stride)[0]
            np.testing.assert_allclose(routed_numbers(solution, f"{kind}.", a, delta), expected, atol=1e-12)


@pytest.mark.parametrize("kind", ["max", "average"])
def test_pool_derivation_at_a_point_matches_the_loops(tmp_path, kind):
    a = np.array([[1, 3, 0, 2], [2, 3, 1, 2], [0, 0.5, 2, 2], [1, 1, 1, 1]])  # ties in several windows
    delta = np.array([[0.1, 0.2, -0.3], [0.3, 0.4, 0.5], [-0.6, 0.7, 0.8]])
    path = tmp_path / "pool.yaml"
    path.write_text(yaml.safe_dump({"kind": "pool_derivation", "input_size": 4, "window": 2, "stride": 1,
                                    "pooling": kind, "at": {"input": a.tolist(), "delta": delta.tolist()}}),
                    encoding="utf-8")
    solved = computed(load_problem(path).solve())
    pooled, _ = loop_pool(a[None], kind, 2, 1)
    expected = {}
    keyed(expected, "at.pool", pooled[0], [])
    keyed(expected, "at.grad_a", loop_pool_backward(delta[None], a[None], kind, 2, 1)[0], [])
    assert {k for k in solved if k.startswith("at.")} == set(expected)
    for key, value in expected.items():
        assert solved[key] == pytest.approx(value, **SAME), key


HW5_AT_THE_POINT = [  # a = [[1, 3, 0], [2, 3, 1], [0, 0.5, 2]], δ = [[0.1, 0.2], [0.3, 0.4]]
    ("at.max.grad_a[1][2]", 0.3),       # a12 = a22 = 3 tie in p11 and p12: a12 comes first, gets δ11 + δ12
    ("at.max.grad_a[2][2]", 0.7),       # the maximum of p21 and p22 alone: δ21 + δ22
    ("at.max.grad_a[3][3]", 0),         # 2 < 3 in p22
    ("at.average.grad_a[2][2]", 0.25),  # (0.1 + 0.2 + 0.3 + 0.4)/4
    ("at.average.pool[2][1]", 1.375),   # (2 + 3 + 0 + 0.5)/4
]


@pytest.mark.parametrize("key, expected", HW5_AT_THE_POINT)
def test_hw5_at_the_point_by_hand(key, expected):
    assert load_problem(PROBLEMS / "hw5-pool.yaml").solve()[key].value == pytest.approx(expected, abs=1e-12)


def test_pool_derivation_max_slopes_are_sympys_away_from_ties(tmp_path):
    """∂p/∂a_pq against SymPy's own derivative of max, at points without ties."""
    solution = pool_solution(tmp_path, 3, 2, 1, "max")
    rng = np.random.default_rng(5)
    a = {(p, q): sympy.Symbol(f"A{p}{q}") for p in range(1, 4) for q in range(1, 4)}
    derivatives = {}
    for r in range(1, 3):
        for s in range(1, 3):
            window = [a[r + u, s + v] for u in range(2) for v in range(2)]
            for u in range(2):
                for v in range(2):
                    key = f"dpool[{r}][{s}][{r + u}][{s + v}]"
                    derivatives[key] = sympy.diff(sympy.Max(*window), a[r + u, s + v])
    for _ in range(5):
        point = {symbol: float(value) for symbol, value in zip(a.values(), rng.permutation(9) / 3.0)}  # distinct
        env = {f"a{p}{q}": point[s] for (p, q), s in a.items()}
        for key, direct in derivatives.items():
            assert evaluate_formula(solution[key].value, env) == float(direct.xreplace(point)), key


def test_pool_derivation_tie_goes_to_the_first_maximum(tmp_path):
    solution = pool_solution(tmp_path, 2, 2, 2, "max")
    env = {"a11": 0.0, "a12": 5.0, "a21": 5.0, "a22": 5.0}  # three tied maxima
    slopes = {key: evaluate_formula(solution[f"dpool[1][1][{key[1]}][{key[2]}]"].value, env) for key in env}
    assert slopes == {"a11": 0.0, "a12": 1.0, "a21": 0.0, "a22": 0.0}


def test_pool_derivation_average_is_one_over_k_squared(tmp_path):
    solution = pool_solution(tmp_path, 3, 3, 1, "average")
    assert solution["dpool[1][1][2][3]"].value == sympy.Rational(1, 9)


# ================================================================================
# Bad input: one line, file:line: field: what was expected
# ================================================================================

# a pool_derivation point with two 2x2 channels, lines 1-5
TWO_CHANNELS = "kind: pool_derivation\ninput_size: 2\nwindow: 2\nat:\n  input: [[[1, 2], [3, 4]], [[5, 6], [7, 8]]]\n"

BAD = [
    ("kind: conv_derivation\ninput_size: 10\nkernel_size: 2\n", 2, "input_size",
     "expected a whole number <= 9, got 10"),
    ("kind: conv_derivation\ninput_size: 4\nkernel_size: 3\npadding: 3\n", 4, "padding",
     "expected a whole number <= 2, got 3"),
    ("kind: conv_derivation\ninput_size: [2, 4]\nkernel_size: 3\n", 3, "kernel_size",
     "a 3x3 kernel does not fit a 2x4 input with padding 0"),
    ("kind: conv_derivation\ninput_size: 4\nkernel_size: 2\nactivation: softmax\n", 4, "activation",
     "softmax is not elementwise; use sigmoid, tanh, relu, linear, softplus or an expression in x"),
    ("kind: conv_derivation\ninput_size: 9\nkernel_size: 4\n", 2, "input_size",
     "too large to derive unrolled (9x9 input times 16 kernel entries = 1296; at most 729)"),
    ("kind: conv_derivation\ninput_size: 4\nkernel_sise: 2\n", 3, "kernel_sise",
     "unknown field (did you mean 'kernel_size'?)"),
    ("kind: conv_derivation\ninput_size: 3\nkernel_size: 2\nat:\n  input: [[1, 2], [3, 4]]\n", 5, "at.input",
     "expected a 3x3 matrix (the input map a⁽ˡ⁻¹⁾), got 2x2"),
    ("kind: conv_derivation\ninput_size: 3\nkernel_size: 2\nat:\n  kernel: [[1, 2], [3, 4]]\n", 5, "at.input",
     "missing required field"),
    ("kind: pool_derivation\ninput_size: 3\nwindow: 2\nat:\n  input: [[1, 2, 3], [1, 2, 3], [1, 2, 3]]\n"
     "  delta: [[1, 2]]\n", 6, "at.delta", "expected a 1x1 matrix (δ, one number per window), got 1x2"),
    ("kind: pool_derivation\ninput_size: 4\nwindow: 2\npooling: [max, mean]\n", 4, "pooling[1]",
     "expected one of max, average, got text 'mean'"),
    ("kind: pool_derivation\ninput_size: 4\nwindow: 5\n", 3, "window", "expected a whole number <= 3, got 5"),
    ("kind: pool_derivation\ninput_size: [2, 4]\nwindow: 3\n", 3, "window", "a 3x3 window does not fit a 2x4 input"),
    # pool_derivation with several channels at the point
    (TWO_CHANNELS + "  delta: [[1]]\n", 6, "at.delta",
     "expected a list of 2 matrices, one per channel of the input"),
    (TWO_CHANNELS + "  delta: [[[1]], [[2]], [[3]]]\n", 6,
     "at.delta", "expected one matrix per channel of the input (2), got 3"),
    (TWO_CHANNELS + "  delta: [[[1]], [[2, 3]]]\n", 6,
     "at.delta[1]", "expected a 1x1 matrix (δ, one number per window), got 1x2"),
    ("kind: pool_derivation\ninput_size: 2\nwindow: 2\nat:\n  input: [[[1, 2], [3, 4]], [[5, 6], [7]]]\n", 5,
     "at.input[1]", "expected a 2x2 matrix (the map a), got 2x1/2"),
    ("kind: pool_derivation\ninput_size: 1\nwindow: 1\nat:\n  input: [[[1]], [[2]], [[3]], [[4]], [[5]]]\n", 5,
     "at.input", "expected at most 4 channels, got 5"),
    ("kind: pool_derivation\ninput_size: 2\nwindow: 2\nat:\n  delta: [[1]]\n", 5, "at.input",
     "missing required field"),
    ("kind: pool_derivation\ninput_size: 2\nwindow: 2\nat:\n  input: [[1, 2], [3, 4]]\n  detla: [[1]]\n", 6,
     "at.detla", "unknown field (did you mean 'delta'?)"),
    ("kind: conv_backprop\ninput: [[1, 2], [3, 4]]\nkernel: [[1]]\nactivation: relu\n", 1, None,
     "give either grad_output (the error from the layer above) or target (with a loss)"),
    ("kind: conv_backprop\ninput: [[1, 2], [3, 4]]\ninput_z: [[1, 2], [3, 4]]\n", 1, None,
     "give either input (the map a⁽ˡ⁻¹⁾) or input_z with input_activation (z⁽ˡ⁻¹⁾ and layer l-1's activation, "
     "for δ⁽ˡ⁻¹⁾)"),
    ("kind: conv_backprop\ninput: [[1, 2], [3]]\nkernel: [[1]]\nactivation: relu\ngrad_output: [[1, 2], [3, 4]]\n",
     2, "input", "expected a 2x2 matrix, got 2x1/2"),
    ("kind: conv_backprop\ninput: [[1, 2], [3, 4]]\nkernel: [[1, 2]]\nactivation: relu\n"
     "grad_output: [[1, 2], [3, 4]]\n", 3, "kernel", "expected a 1x1 matrix, got 1x2"),
    ("kind: conv_backprop\ninput: [[[1, 2], [3, 4]], [[1, 2], [3, 4]]]\nkernel: [[1]]\nactivation: relu\n"
     "grad_output: [[1, 2], [3, 4]]\n", 3, "kernel", "expected a list of 2 K x K matrices, one per input channel"),
    ("kind: conv_backprop\ninput: [[1, 2], [3, 4]]\nkernel: [[1]]\nactivation: relu\n"
     "grad_output: [[1, 2, 3], [3, 4, 5]]\n", 5, "grad_output", "expected a 2x2 matrix, got 2x3"),
    ("kind: conv_backprop\ninput: [[1, 2], [3, 4]]\nkernel: [[1]]\nactivation: relu\n"
     "pooling: {type: max, window: 3}\ngrad_output: [[1]]\n", 5, "pooling.window",
     "a 3x3 window does not fit the 2x2 output of the convolution"),
    ("kind: conv_backprop\ninput: [[1, 2], [3, 4]]\nkernel: [[1]]\nactivation: relu\n"
     "pooling: {type: min, window: 2}\ngrad_output: [[1]]\n", 5, "pooling.type",
     "expected one of max, average, got text 'min'"),
    ("kind: conv_backprop\ninput: [[1, 2], [3, 4]]\nkernel: [[1]]\nactivation: relu\n"
     "grad_output: [[1, 2], [3, 4]]\nloss: half_squared_error\n", 6, "loss",
     "has no meaning with grad_output (the error is given)"),
    ("kind: conv_backprop\ninput: [[1, 2], [3, 4]]\nkernel: [[1]]\nactivation: relu\n"
     "target: [[1, 2], [3, 4]]\nloss: cross_entropy\n", 6, "loss",
     "expected one of half_squared_error, mean_squared_error, got text 'cross_entropy'"),
    ("kind: conv_backprop\ninput: [[1, 2], [3, 4]]\nkernel: [[1]]\nactivation: relu\ninput_activation: relu\n"
     "target: [[1, 2], [3, 4]]\n", 5, "input_activation", "goes with input_z (z⁽ˡ⁻¹⁾); with input the map is a⁽ˡ⁻¹⁾"),
    ("kind: conv_backprop\ninput: [[1, 2], [3, 4]]\nkernel: [[1]]\nactivation: relu\nbias: [1, 2]\n"
     "target: [[1, 2], [3, 4]]\n", 5, "bias", "expected 1 number(s), got 2"),
    ("kind: conv_backprop\ninput: [[1, 2], [3, 4]]\nkernel: [[1]]\nactivation: relu\nstride: 0\n"
     "target: [[1, 2], [3, 4]]\n", 5, "stride", "expected a whole number >= 1, got 0"),
]


@pytest.mark.parametrize("text, line, field, message", BAD, ids=range(len(BAD)))
def test_bad_input_is_one_located_line(tmp_path, text, line, field, message):
    message_read = load_error(tmp_path, text)
    where = f"{tmp_path / 'p.yaml'}:{line}: " + (f"{field}: " if field else "")
    assert message_read == where + message


def test_bad_input_through_the_cli_is_one_line_and_status_2(tmp_path, runner):
    assert solve_error(runner, tmp_path, BAD[0][0]) == f"{tmp_path / 'p.yaml'}:2: input_size: expected a whole number <= 9, got 10\n"


# the JSON Schema refuses what derive refuses: a bundled problem with fields set as given, and the field derive
# names when it refuses it
SCHEMA_REFUSED = [
    ("hw4-conv", {"kernel_sise": 3}, "kernel_sise"),  # an unknown field
    ("hw4-conv", {"stride": 0}, "stride"),
    ("hw4-conv", {"padding": 9}, "padding"),
    ("hw5-pool", {"pooling": "min"}, "pooling"),
    ("hw5-pool", {"window": 4}, "window"),
    ("pool-channels", {"at": {"input": [[[1]]] * 5}}, "at.input"),  # five channels
    ("conv-backprop", {"pooling": {"type": "min", "window": 2, "stride": 1}}, "pooling.type"),
    ("conv-backprop", {"loss": "cross_entropy"}, "loss"),
    ("conv-backprop", {"stride": 8}, "stride"),
]


@pytest.mark.parametrize("name, fields, named", SCHEMA_REFUSED,
                         ids=[f"{name}-{named}" for name, _, named in SCHEMA_REFUSED])
def test_the_schema_refuses_what_derive_refuses(tmp_path, name, fields, named):
    data = {**yaml.safe_load((PROBLEMS / f"{name}.yaml").read_text(encoding="utf-8")), **fields}
    assert list(jsonschema.Draft202012Validator(schema(data["kind"])).iter_errors(data)), "the schema accepted it"
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    with pytest.raises(ProblemError, match=re.escape(f": {named}: ")):
        load_problem(path)


# ================================================================================
# The printed solutions, read by eye and kept byte for byte
# ================================================================================

@pytest.mark.parametrize("name", ["hw4-conv", "hw5-pool", "conv-backprop"])
def test_bundled_solutions_print_as_read(golden, name):
    solution = load_problem(PROBLEMS / f"{name}.yaml").solve()
    golden(f"conv-{name}.txt" if not name.startswith("conv") else f"{name}.txt", render(solution, "text"))


def test_printed_lines_read_as_the_lecture_writes_them():
    text = render(load_problem(PROBLEMS / "conv-backprop.yaml").solve(), "text")
    assert ("z⁽ˡ⁾₁₁ = w₁₁ a⁽ˡ⁻¹⁾₁₁ + w₁₂ a⁽ˡ⁻¹⁾₁₂ + w₂₁ a⁽ˡ⁻¹⁾₂₁ + w₂₂ a⁽ˡ⁻¹⁾₂₂ + b = "
            "1·0.1 + (-1)·0 + 0.5·0.5 + 2·0.6 + 0.1 = 1.65\n") in text
    assert "p⁽ˡ⁾₁₁ = max(a⁽ˡ⁾₁₁, a⁽ˡ⁾₁₂, a⁽ˡ⁾₂₁, a⁽ˡ⁾₂₂) = max(1.65, 0.1, 2.45, 3.4) = 3.4   (max at a⁽ˡ⁾₂₂)\n" in text
    hw4 = render(load_problem(PROBLEMS / "hw4-conv.yaml").solve(), "text")
    assert "∂L/∂a⁽ˡ⁻¹⁾₂₂ = Σ_{u,v=1..3} w[u, v] δ⁽ˡ⁾[3 - u, 3 - v] = " in hw4
    latex = render(load_problem(PROBLEMS / "hw4-conv.yaml").solve(), "latex")
    assert r"\sum_{u,v=1}^{3} w_{u, v} a^{(l-1)}_{u, v}" in latex
