"""The bundled problems, checked against numbers computed here without derive.

Every expected value in this file comes from one of three independent sources:

- a small numpy forward/backward pass written out for that one network (its
  formulas are the ones of the lectures' two notations, typed again here;
  nothing of derive's solver is used),
- the decimal module, for the lecture's "round every intermediate to N
  decimals, half up on the decimal value, carry it forward" chain,
- numbers worked out by hand (with the arithmetic in a comment), or quoted from
  the lecture's printed figures.

Keys are derive's answer-sheet keys (README, "key scheme"): `w[l][i][j]` is the
weight from neuron i of layer l-1 to neuron j of layer l in both layouts, so in
chapter 3.2's matrix layout (row = to) it is W^(l)[j][i].
"""

import math
from decimal import ROUND_HALF_UP, Decimal, localcontext
from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest
import yaml

from derive.problem import load_problem
from derive.render import render
from derive.steps import EXACT, Rounding

PROBLEMS = Path(__file__).resolve().parent.parent / "derive" / "problems"
NEW_PROBLEMS = ["hw1-relu", "softmax-cross-entropy", "batch-mean", "two-iterations"]


@lru_cache(maxsize=None)
def solved(name, rounding=None):
    """{key: value} of a bundled problem, in `rounding` (None: the file's own)."""
    return load_problem(PROBLEMS / f"{name}.yaml").solve(rounding).values()


def computed_keys(name, rounding=None):
    """The keys of the steps the solver computed (everything but the givens)."""
    solution = load_problem(PROBLEMS / f"{name}.yaml").solve(rounding)
    return {step.key for step in solution if not step.is_given}


# -- small helpers to name numbers with derive's keys ----------------------------

def vector(out, key, values):
    """out["z[1][1]"], out["z[1][2]"], ... from key "z[1]" and a vector."""
    for j, value in enumerate(values, start=1):
        out[f"{key}[{j}]"] = float(value)


def matrix_to_from(out, key, matrix):
    """A chapter 3.2 matrix (row j = to-neuron, column i = from-neuron) as key[i][j]."""
    for j, row in enumerate(matrix, start=1):
        for i, value in enumerate(row, start=1):
            out[f"{key}[{i}][{j}]"] = float(value)


def matrix_from_to(out, key, matrix):
    """A BP-lecture matrix (row i = from-neuron, column j = to-neuron) as key[i][j]."""
    for i, row in enumerate(matrix, start=1):
        for j, value in enumerate(row, start=1):
            out[f"{key}[{i}][{j}]"] = float(value)


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def assert_close(name, rounding, key, expected, tolerance=1e-9):
    values = solved(name, rounding)
    assert key in values, f"{name}: no step {key}"
    assert values[key] == pytest.approx(expected, rel=tolerance, abs=tolerance), f"{name}: {key}"


# -- round half up on the decimal value, independently of derive ------------------

def half_up(value, decimals):
    """Round a Decimal half up (away from zero) to `decimals` places."""
    return value.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)


def d(number):
    """A number of the problem file as the Decimal a person reads (0.1 is 1/10)."""
    return Decimal(str(number))


def d_sigmoid(z):
    return 1 / (1 + (-z).exp())


def d_tanh(z):
    e = (2 * z).exp()
    return (e - 1) / (e + 1)


# ================================================================================
# hw1-relu: chapter 3.2 homework (1), 2-2-1 ReLU network, one update of everything
# ================================================================================

def hw1_reference():
    """Exact values of hw1-relu.yaml, numpy, chapter 3.2 matrix form z = W a + b."""
    relu = lambda z: np.maximum(z, 0.0)
    step = lambda z: (z > 0).astype(float)  # ReLU'; no z here is 0
    x, y, eta = np.array([0.2, 0.3]), np.array([0.5]), 1.0
    W1, b1 = np.array([[1.0, 1.0], [1.0, -1.0]]), np.array([-0.2, 0.3])
    W2, b2 = np.array([[0.4, 0.3]]), np.array([0.1])

    def forward(W1, b1, W2, b2):
        z1 = W1 @ x + b1
        a1 = relu(z1)
        z2 = W2 @ a1 + b2
        yhat = relu(z2)
        return z1, a1, z2, yhat, 0.5 * np.sum((y - yhat) ** 2)

    out = {}
    z1, a1, z2, yhat, loss = forward(W1, b1, W2, b2)
    e2 = (yhat - y) * step(z2)            # dL/dz2
    e1 = (W2.T @ e2) * step(z1)           # f'(z1) ⊙ W2^T e2
    gW2, gb2 = np.outer(e2, a1), e2       # e (a^(l-1))^T, e
    gW1, gb1 = np.outer(e1, x), e1
    W1n, b1n, W2n, b2n = W1 - eta * gW1, b1 - eta * gb1, W2 - eta * gW2, b2 - eta * gb2
    vector(out, "z[1]", z1), vector(out, "h[1]", a1), vector(out, "z[2]", z2), vector(out, "yhat", yhat)
    out["loss"] = loss
    vector(out, "delta[2]", e2), vector(out, "delta[1]", e1)
    matrix_to_from(out, "grad_w[2]", gW2), vector(out, "grad_b[2]", gb2)
    matrix_to_from(out, "grad_w[1]", gW1), vector(out, "grad_b[1]", gb1)
    matrix_to_from(out, "w_new[1]", W1n), vector(out, "b_new[1]", b1n)
    matrix_to_from(out, "w_new[2]", W2n), vector(out, "b_new[2]", b2n)
    z1, a1, z2, yhat, after = forward(W1n, b1n, W2n, b2n)
    vector(out, "after.z[1]", z1), vector(out, "after.h[1]", a1)
    vector(out, "after.z[2]", z2), vector(out, "after.yhat", yhat)
    out["after.loss"] = after
    out["loss_change"] = after - loss
    return out


HW1 = hw1_reference()

# The same numbers by hand: every one is a short decimal.
HW1_BY_HAND = [
    ("z[1][1]", 0.3),            # 0.2*1 + 0.3*1 - 0.2
    ("z[1][2]", 0.2),            # 0.2*1 + 0.3*(-1) + 0.3
    ("h[1][1]", 0.3),            # ReLU(0.3)
    ("h[1][2]", 0.2),            # ReLU(0.2)
    ("z[2][1]", 0.28),           # 0.3*0.4 + 0.2*0.3 + 0.1 = 0.12 + 0.06 + 0.1
    ("yhat[1]", 0.28),           # ReLU(0.28): the output is alive
    ("loss", 0.0242),            # 1/2 (0.5 - 0.28)^2 = 1/2 * 0.0484
    ("delta[2][1]", -0.22),      # (0.28 - 0.5) * 1
    ("delta[1][1]", -0.088),     # -0.22 * 0.4 * 1
    ("delta[1][2]", -0.066),     # -0.22 * 0.3 * 1
    ("grad_w[2][1][1]", -0.066),  # -0.22 * 0.3
    ("grad_w[2][2][1]", -0.044),  # -0.22 * 0.2
    ("grad_b[2][1]", -0.22),
    ("grad_w[1][1][1]", -0.0176),  # -0.088 * 0.2
    ("grad_w[1][2][1]", -0.0264),  # -0.088 * 0.3
    ("grad_w[1][1][2]", -0.0132),  # -0.066 * 0.2
    ("grad_w[1][2][2]", -0.0198),  # -0.066 * 0.3
    ("grad_b[1][1]", -0.088),
    ("grad_b[1][2]", -0.066),
    ("w_new[1][1][1]", 1.0176),   # 1 + 0.0176
    ("w_new[1][2][1]", 1.0264),   # 1 + 0.0264
    ("w_new[1][1][2]", 1.0132),   # 1 + 0.0132
    ("w_new[1][2][2]", -0.9802),  # -1 + 0.0198
    ("b_new[1][1]", -0.112),      # -0.2 + 0.088
    ("b_new[1][2]", 0.366),       # 0.3 + 0.066
    ("w_new[2][1][1]", 0.466),    # 0.4 + 0.066
    ("w_new[2][2][1]", 0.344),    # 0.3 + 0.044
    ("b_new[2][1]", 0.32),        # 0.1 + 0.22
    ("after.z[1][1]", 0.39944),   # 0.2*1.0176 + 0.3*1.0264 - 0.112 = 0.20352 + 0.30792 - 0.112
    ("after.z[1][2]", 0.27458),   # 0.2*1.0132 + 0.3*(-0.9802) + 0.366 = 0.20264 - 0.29406 + 0.366
    # 0.39944*0.466 + 0.27458*0.344 + 0.32 = 0.18613904 + 0.09445552 + 0.32
    ("after.yhat[1]", 0.60059456),
    ("after.loss", 0.00505963),   # 1/2 (0.60059456 - 0.5)^2 = 1/2 * 0.0101192654... (to 8 places)
]


@pytest.mark.parametrize("key, expected", sorted(HW1.items()))
def test_hw1_relu_matches_numpy(key, expected):
    assert_close("hw1-relu", EXACT, key, expected)
    assert_close("hw1-relu", None, key, expected)  # the file's own mode is exact


@pytest.mark.parametrize("key, expected", HW1_BY_HAND)
def test_hw1_relu_matches_hand_arithmetic(key, expected):
    assert_close("hw1-relu", None, key, expected, tolerance=5e-9)


def test_hw1_relu_every_step_is_checked_and_the_loss_goes_down():
    assert computed_keys("hw1-relu") == set(HW1)
    values = solved("hw1-relu")
    assert all(values[f"z[{l}][{j}]"] > 0 for l, j in [(1, 1), (1, 2), (2, 1)])  # no kink, nothing dead
    assert values["after.loss"] < values["loss"] and values["loss_change"] < 0


# ================================================================================
# softmax-cross-entropy: 2-2-3, tanh hidden layer, softmax + cross-entropy
# ================================================================================

SMX_X, SMX_Y = [1, 0.5], [0, 1, 0]
SMX_W1, SMX_B1 = [[1, -1], [0.5, 0.5]], [0, 0]                   # row = to
SMX_W2, SMX_B2 = [[1, -1], [0.5, 0.5], [-1, 1]], [0.1, 0, -0.1]  # row = to


def softmax_reference():
    """Exact values of softmax-cross-entropy.yaml, numpy."""
    x, y, eta = np.array(SMX_X, float), np.array(SMX_Y, float), 1.0
    W1, b1 = np.array(SMX_W1, float), np.array(SMX_B1, float)
    W2, b2 = np.array(SMX_W2, float), np.array(SMX_B2, float)

    def forward(W1, b1, W2, b2):
        z1 = W1 @ x + b1
        a1 = np.tanh(z1)
        z2 = W2 @ a1 + b2
        p = np.exp(z2) / np.sum(np.exp(z2))
        return z1, a1, z2, p, -np.sum(y * np.log(p))

    out = {}
    z1, a1, z2, p, loss = forward(W1, b1, W2, b2)
    e2 = p - y                            # softmax + cross-entropy
    e1 = (W2.T @ e2) * (1 - a1 ** 2)      # tanh' = 1 - tanh^2
    gW2, gW1 = np.outer(e2, a1), np.outer(e1, x)
    W1n, b1n, W2n, b2n = W1 - eta * gW1, b1 - eta * e1, W2 - eta * gW2, b2 - eta * e2
    vector(out, "z[1]", z1), vector(out, "h[1]", a1), vector(out, "z[2]", z2), vector(out, "yhat", p)
    out["loss"] = loss
    vector(out, "delta[2]", e2), vector(out, "delta[1]", e1)
    matrix_to_from(out, "grad_w[2]", gW2), vector(out, "grad_b[2]", e2)
    matrix_to_from(out, "grad_w[1]", gW1), vector(out, "grad_b[1]", e1)
    matrix_to_from(out, "w_new[1]", W1n), vector(out, "b_new[1]", b1n)
    matrix_to_from(out, "w_new[2]", W2n), vector(out, "b_new[2]", b2n)
    z1, a1, z2, p, after = forward(W1n, b1n, W2n, b2n)
    vector(out, "after.z[1]", z1), vector(out, "after.h[1]", a1)
    vector(out, "after.z[2]", z2), vector(out, "after.yhat", p)
    out["after.loss"] = after
    out["loss_change"] = after - loss
    return out


def softmax_rounded(decimals):
    """softmax-cross-entropy.yaml with every step rounded half up to `decimals`, in Decimal."""
    with localcontext() as context:
        context.prec = 50
        R = lambda v: half_up(v, decimals)
        x, y, eta = [d(v) for v in SMX_X], [d(v) for v in SMX_Y], Decimal(1)
        W1, b1 = [[d(v) for v in row] for row in SMX_W1], [d(v) for v in SMX_B1]
        W2, b2 = [[d(v) for v in row] for row in SMX_W2], [d(v) for v in SMX_B2]
        out = {}

        def forward(prefix, W1, b1, W2, b2):
            z1 = [R(x[0] * W1[j][0] + x[1] * W1[j][1] + b1[j]) for j in range(2)]
            a1 = [R(d_tanh(z)) for z in z1]
            z2 = [R(a1[0] * W2[k][0] + a1[1] * W2[k][1] + b2[k]) for k in range(3)]
            total = sum(z.exp() for z in z2)
            p = [R(z.exp() / total) for z in z2]
            loss = R(-sum(y[k] * p[k].ln() for k in range(3)))
            for key, values in (("z[1]", z1), ("h[1]", a1), ("z[2]", z2), ("yhat", p)):
                vector(out, prefix + key, values)
            out[prefix + "loss"] = float(loss)
            return a1, p, loss

        a1, p, loss = forward("", W1, b1, W2, b2)
        e2 = [R(p[k] - y[k]) for k in range(3)]
        e1 = [R((e2[0] * W2[0][i] + e2[1] * W2[1][i] + e2[2] * W2[2][i]) * (1 - a1[i] ** 2)) for i in range(2)]
        gW2 = [[R(e2[k] * a1[i]) for i in range(2)] for k in range(3)]
        gW1 = [[R(e1[j] * x[i]) for i in range(2)] for j in range(2)]
        W1n = [[R(W1[j][i] - eta * gW1[j][i]) for i in range(2)] for j in range(2)]
        W2n = [[R(W2[k][i] - eta * gW2[k][i]) for i in range(2)] for k in range(3)]
        b1n = [R(b1[j] - eta * e1[j]) for j in range(2)]
        b2n = [R(b2[k] - eta * e2[k]) for k in range(3)]
        vector(out, "delta[2]", e2), vector(out, "delta[1]", e1)
        matrix_to_from(out, "grad_w[2]", gW2), vector(out, "grad_b[2]", e2)
        matrix_to_from(out, "grad_w[1]", gW1), vector(out, "grad_b[1]", e1)
        matrix_to_from(out, "w_new[1]", W1n), vector(out, "b_new[1]", b1n)
        matrix_to_from(out, "w_new[2]", W2n), vector(out, "b_new[2]", b2n)
        _, _, after = forward("after.", W1n, b1n, W2n, b2n)
        out["loss_change"] = float(R(after - loss))
        return out


SMX = softmax_reference()
SMX_4 = softmax_rounded(4)


@pytest.mark.parametrize("key, expected", sorted(SMX.items()))
def test_softmax_cross_entropy_exact_matches_numpy(key, expected):
    assert_close("softmax-cross-entropy", EXACT, key, expected)


@pytest.mark.parametrize("key, expected", sorted(SMX_4.items()))
def test_softmax_cross_entropy_rounded_chain_matches_decimal(key, expected):
    values = solved("softmax-cross-entropy")  # the file's own mode: 4 decimals
    assert values[key] == expected, key


def test_softmax_cross_entropy_every_step_is_checked_and_the_loss_goes_down():
    assert load_problem(PROBLEMS / "softmax-cross-entropy.yaml").rounding == Rounding(4)
    assert computed_keys("softmax-cross-entropy", EXACT) == set(SMX) == set(SMX_4)
    for rounding in (EXACT, None):
        values = solved("softmax-cross-entropy", rounding)
        assert values["after.loss"] < values["loss"] and values["loss_change"] < 0
    # by hand, the first steps: z1 = (1 - 0.5, 0.5 + 0.25) = (0.5, 0.75); tanh(0.5) = 0.4621,
    # tanh(0.75) = 0.6351; z2_1 = 0.4621 - 0.6351 + 0.1 = -0.073, z2_2 = (0.4621 + 0.6351)/2 = 0.5486,
    # z2_3 = -0.4621 + 0.6351 - 0.1 = 0.073
    assert [SMX_4[f"z[2][{k}]"] for k in (1, 2, 3)] == [-0.073, 0.5486, 0.073]
    # the softmax output sums to 1 exactly in exact mode
    assert sum(SMX[f"yhat[{k}]"] for k in (1, 2, 3)) == pytest.approx(1.0, abs=1e-12)


# ================================================================================
# batch-mean: 2-2-1 sigmoid network, two samples, mean squared error, gradients averaged
# ================================================================================

def batch_reference():
    """Exact values of batch-mean.yaml, numpy: per-sample steps, then the batch means."""
    samples = [(np.array([1.0, 0.0]), np.array([1.0])), (np.array([0.0, 1.0]), np.array([0.0]))]
    eta = 1.0
    W1, b1 = np.array([[1.0, -1.0], [0.5, 1.0]]), np.array([0.0, -0.5])
    W2, b2 = np.array([[1.0, -1.0]]), np.array([0.5])

    def forward(W1, b1, W2, b2, x, y):
        z1 = W1 @ x + b1
        a1 = sigmoid(z1)
        z2 = W2 @ a1 + b2
        yhat = sigmoid(z2)
        return z1, a1, z2, yhat, np.mean((yhat - y) ** 2)   # 1/n sum over the n = 1 outputs

    out, grads, losses = {}, [], []
    for k, (x, y) in enumerate(samples, start=1):
        z1, a1, z2, yhat, loss = forward(W1, b1, W2, b2, x, y)
        e2 = 2 * (yhat - y) * yhat * (1 - yhat)     # d/dz of (yhat - y)^2
        e1 = (W2.T @ e2) * a1 * (1 - a1)
        gW2, gW1 = np.outer(e2, a1), np.outer(e1, x)
        grads.append((gW1, e1, gW2, e2))
        losses.append(loss)
        vector(out, f"z[{k}][1]", z1), vector(out, f"h[{k}][1]", a1)
        vector(out, f"z[{k}][2]", z2), vector(out, f"yhat[{k}]", yhat)
        out[f"loss[{k}]"] = loss
        vector(out, f"delta[{k}][2]", e2), vector(out, f"delta[{k}][1]", e1)
        matrix_to_from(out, f"grad_w[{k}][2]", gW2), vector(out, f"grad_b[{k}][2]", e2)
        matrix_to_from(out, f"grad_w[{k}][1]", gW1), vector(out, f"grad_b[{k}][1]", e1)
    loss = (losses[0] + losses[1]) / 2
    gW1, gb1, gW2, gb2 = [(grads[0][n] + grads[1][n]) / 2 for n in range(4)]
    out["loss"] = loss
    matrix_to_from(out, "grad_w[2]", gW2), vector(out, "grad_b[2]", gb2)
    matrix_to_from(out, "grad_w[1]", gW1), vector(out, "grad_b[1]", gb1)
    W1n, b1n, W2n, b2n = W1 - eta * gW1, b1 - eta * gb1, W2 - eta * gW2, b2 - eta * gb2
    matrix_to_from(out, "w_new[1]", W1n), vector(out, "b_new[1]", b1n)
    matrix_to_from(out, "w_new[2]", W2n), vector(out, "b_new[2]", b2n)
    after = []
    for k, (x, y) in enumerate(samples, start=1):
        z1, a1, z2, yhat, loss_k = forward(W1n, b1n, W2n, b2n, x, y)
        vector(out, f"after.z[{k}][1]", z1), vector(out, f"after.h[{k}][1]", a1)
        vector(out, f"after.z[{k}][2]", z2), vector(out, f"after.yhat[{k}]", yhat)
        out[f"after.loss[{k}]"] = loss_k
        after.append(loss_k)
    out["after.loss"] = (after[0] + after[1]) / 2
    out["loss_change"] = out["after.loss"] - loss
    return out


BATCH = batch_reference()


@pytest.mark.parametrize("key, expected", sorted(BATCH.items()))
def test_batch_mean_matches_numpy(key, expected):
    assert_close("batch-mean", EXACT, key, expected)
    assert_close("batch-mean", None, key, expected)  # the file's own mode is exact


def test_batch_mean_every_step_is_checked_and_only_the_mean_loss_must_go_down():
    assert computed_keys("batch-mean") == set(BATCH)
    values = solved("batch-mean")
    # by hand: sample 1 has z^(1) = (1*1 + 0*(-1) + 0, 1*0.5 + 0*1 - 0.5) = (1, 0), so a^(1) = (σ(1), 1/2)
    assert values["h[1][1][2]"] == 0.5
    # the batch gradient is the mean of the sample gradients, not their sum
    assert values["grad_b[2][1]"] == pytest.approx((values["grad_b[1][2][1]"] + values["grad_b[2][2][1]"]) / 2)
    assert values["after.loss"] < values["loss"] and values["loss_change"] < 0
    assert values["after.loss[1]"] > values["loss[1]"]  # as the notes say: sample 1's own loss goes up


# ================================================================================
# bp-pseudocode-samples: the BP lecture's pseudo-code over M = 3 samples, summed
# ================================================================================

def pseudocode_reference():
    """The pseudo-code as the slide writes it, in numpy (rows = from-neurons): for k = 1..M a forward pass,
    δ^L = (ŷ - y) f′, δ^l = (w^{l+1} δ^{l+1}) f′, ∂E_k/∂w^l = h^{l-1} ⊗ δ^l and ∂E_k/∂θ^l = -δ^l (z holds -θ);
    then w^l = w^l - η Σ_k ∂E_k/∂w^l, and θ likewise; the losses after the update."""
    w1, t1 = np.array([[0.5, -0.3], [0.2, 0.8]]), np.array([0.1, -0.2])
    w2, t2 = np.array([[1.0], [-0.6]]), np.array([0.3])
    samples = [([1, 0], [1]), ([0, 1], [0]), ([1, 1], [1])]
    eta = 0.5

    def forward(w1, t1, w2, t2, x):
        z1 = x @ w1 - t1
        h1 = sigmoid(z1)
        z2 = h1 @ w2 - t2
        return z1, h1, z2, sigmoid(z2)

    out, total = {}, [np.zeros_like(w1), np.zeros_like(t1), np.zeros_like(w2), np.zeros_like(t2)]
    for k, (x, y) in enumerate(samples, start=1):
        x, y = np.array(x, dtype=float), np.array(y, dtype=float)
        z1, h1, z2, yhat = forward(w1, t1, w2, t2, x)
        d2 = (yhat - y) * yhat * (1 - yhat)
        d1 = (w2 @ d2) * h1 * (1 - h1)
        per_sample = [np.outer(x, d1), -d1, np.outer(h1, d2), -d2]
        total = [a + b for a, b in zip(total, per_sample)]
        vector(out, f"z[{k}][1]", z1), vector(out, f"h[{k}][1]", h1), vector(out, f"z[{k}][2]", z2)
        vector(out, f"yhat[{k}]", yhat)
        out[f"loss[{k}]"] = 0.5 * float(np.sum((yhat - y) ** 2))
        vector(out, f"delta[{k}][2]", d2), vector(out, f"delta[{k}][1]", d1)
        matrix_from_to(out, f"grad_w[{k}][1]", per_sample[0]), vector(out, f"grad_theta[{k}][1]", per_sample[1])
        matrix_from_to(out, f"grad_w[{k}][2]", per_sample[2]), vector(out, f"grad_theta[{k}][2]", per_sample[3])
    out["loss"] = sum(out[f"loss[{k}]"] for k in range(1, 4))
    matrix_from_to(out, "grad_w[1]", total[0]), vector(out, "grad_theta[1]", total[1])
    matrix_from_to(out, "grad_w[2]", total[2]), vector(out, "grad_theta[2]", total[3])
    w1, t1, w2, t2 = w1 - eta * total[0], t1 - eta * total[1], w2 - eta * total[2], t2 - eta * total[3]
    matrix_from_to(out, "w_new[1]", w1), vector(out, "theta_new[1]", t1)
    matrix_from_to(out, "w_new[2]", w2), vector(out, "theta_new[2]", t2)
    for k, (x, y) in enumerate(samples, start=1):
        z1, h1, z2, yhat = forward(w1, t1, w2, t2, np.array(x, dtype=float))
        vector(out, f"after.z[{k}][1]", z1), vector(out, f"after.h[{k}][1]", h1)
        vector(out, f"after.z[{k}][2]", z2), vector(out, f"after.yhat[{k}]", yhat)
        out[f"after.loss[{k}]"] = 0.5 * float(np.sum((yhat - np.array(y)) ** 2))
    out["after.loss"] = sum(out[f"after.loss[{k}]"] for k in range(1, 4))
    out["loss_change"] = out["after.loss"] - out["loss"]
    return out


PSEUDOCODE = pseudocode_reference()


@pytest.mark.parametrize("key, expected", sorted(PSEUDOCODE.items()))
def test_the_pseudocode_over_m_samples_matches_numpy(key, expected):
    assert_close("bp-pseudocode-samples", EXACT, key, expected)


def test_the_pseudocode_problem_checks_every_step_and_its_summed_gradient_by_differences():
    assert computed_keys("bp-pseudocode-samples") == set(PSEUDOCODE)
    values = solved("bp-pseudocode-samples")
    problem = load_problem(PROBLEMS / "bp-pseudocode-samples.yaml")
    data = yaml.safe_load(Path(problem.path).read_text(encoding="utf-8"))

    def summed_loss(bumped, e):  # E = Σ_k E_k with one weight or threshold moved by e
        layers = [{"w": np.array(layer["weights"], dtype=float), "t": np.array(layer["thresholds"], dtype=float)}
                  for layer in data["layers"]]
        layers[bumped[1] - 1][bumped[0]][bumped[2:]] += e
        total = 0.0
        for sample in data["samples"]:
            h = np.array(sample["x"], dtype=float)
            for layer in layers:
                h = sigmoid(h @ layer["w"] - layer["t"])
            total += 0.5 * float(np.sum((h - np.array(sample["y"])) ** 2))
        return total

    for key, bumped in [("grad_w[1][2][1]", ("w", 1, 1, 0)), ("grad_w[2][1][1]", ("w", 2, 0, 0)),
                        ("grad_theta[1][2]", ("t", 1, 1)), ("grad_theta[2][1]", ("t", 2, 0))]:
        central = (summed_loss(bumped, 1e-6) - summed_loss(bumped, -1e-6)) / 2e-6
        assert values[key] == pytest.approx(central, rel=1e-6, abs=1e-9), key
    assert values["after.loss"] < values["loss"]


# ================================================================================
# two-iterations: 2-2-1 sigmoid, binary cross-entropy, thresholds, weight decay, 2 steps
# ================================================================================

TWO_X, TWO_Y = [1, 1], 1
TWO_W1, TWO_T1 = [[0.5, -0.5], [0.5, 1]], [0, 0.5]   # row = from (the BP lecture)
TWO_W2, TWO_T2 = [[1], [-1]], [0]
TWO_ETA, TWO_LAMBDA = 1, 0.1


def two_iterations_reference():
    """Exact values of two-iterations.yaml, numpy, the BP lecture form z = h w - θ."""
    x, y, eta, lam = np.array(TWO_X, float), np.array([TWO_Y], float), float(TWO_ETA), TWO_LAMBDA
    w1, t1 = np.array(TWO_W1, float), np.array(TWO_T1, float)
    w2, t2 = np.array(TWO_W2, float), np.array(TWO_T2, float)
    out = {}

    def forward(prefix, w1, t1, w2, t2):
        z1 = x @ w1 - t1
        h1 = sigmoid(z1)
        z2 = h1 @ w2 - t2
        yhat = sigmoid(z2)
        loss = -np.sum(y * np.log(yhat) + (1 - y) * np.log(1 - yhat))
        vector(out, prefix + "z[1]", z1), vector(out, prefix + "h[1]", h1)
        vector(out, prefix + "z[2]", z2), vector(out, prefix + "yhat", yhat)
        out[prefix + "loss"] = loss
        return h1, yhat, loss

    for t in (1, 2):
        p = f"it{t}."
        h1, yhat, loss = forward(p, w1, t1, w2, t2)
        d2 = yhat - y                              # sigmoid + binary cross-entropy
        d1 = (w2 @ d2) * h1 * (1 - h1)             # δ_j^1 = Σ_s δ_s^2 w_js^2 f'(z_j^1)
        gw2, gt2 = np.outer(h1, d2), -d2           # dE/dw_ij = h_i δ_j, dE/dθ_j = -δ_j
        gw1, gt1 = np.outer(x, d1), -d1
        w1, w2 = (1 - eta * lam) * w1 - eta * gw1, (1 - eta * lam) * w2 - eta * gw2
        t1, t2 = t1 - eta * gt1, t2 - eta * gt2     # thresholds are not decayed
        vector(out, p + "delta[2]", d2), vector(out, p + "delta[1]", d1)
        matrix_from_to(out, p + "grad_w[2]", gw2), vector(out, p + "grad_theta[2]", gt2)
        matrix_from_to(out, p + "grad_w[1]", gw1), vector(out, p + "grad_theta[1]", gt1)
        matrix_from_to(out, p + "w_new[1]", w1), vector(out, p + "theta_new[1]", t1)
        matrix_from_to(out, p + "w_new[2]", w2), vector(out, p + "theta_new[2]", t2)
    _, _, after = forward("after.", w1, t1, w2, t2)
    out["loss_change"] = after - out["it1.loss"]
    return out


def two_iterations_rounded(decimals):
    """two-iterations.yaml with every step rounded half up to `decimals`, in Decimal."""
    with localcontext() as context:
        context.prec = 50
        R = lambda v: half_up(v, decimals)
        x, y = [d(v) for v in TWO_X], d(TWO_Y)
        eta, lam = d(TWO_ETA), d(TWO_LAMBDA)
        w1, t1 = [[d(v) for v in row] for row in TWO_W1], [d(v) for v in TWO_T1]
        w2, t2 = [[d(v) for v in row] for row in TWO_W2], [d(v) for v in TWO_T2]
        out = {}

        def forward(prefix, w1, t1, w2, t2):
            z1 = [R(x[0] * w1[0][j] + x[1] * w1[1][j] - t1[j]) for j in range(2)]
            h1 = [R(d_sigmoid(z)) for z in z1]
            z2 = R(h1[0] * w2[0][0] + h1[1] * w2[1][0] - t2[0])
            yhat = R(d_sigmoid(z2))
            loss = R(-(y * yhat.ln() + (1 - y) * (1 - yhat).ln()))
            vector(out, prefix + "z[1]", z1), vector(out, prefix + "h[1]", h1)
            out[prefix + "z[2][1]"], out[prefix + "yhat[1]"] = float(z2), float(yhat)
            out[prefix + "loss"] = float(loss)
            return h1, yhat, loss

        keep = 1 - eta * lam   # part of each update's formula, not a step of its own
        for t in (1, 2):
            p = f"it{t}."
            h1, yhat, loss = forward(p, w1, t1, w2, t2)
            if t == 1:
                first_loss = loss
            d2 = R(yhat - y)
            d1 = [R(d2 * w2[j][0] * h1[j] * (1 - h1[j])) for j in range(2)]
            gw2 = [[R(d2 * h1[i])] for i in range(2)]
            gt2 = [R(-d2)]
            gw1 = [[R(d1[j] * x[i]) for j in range(2)] for i in range(2)]
            gt1 = [R(-d1[j]) for j in range(2)]
            w1 = [[R(keep * w1[i][j] - eta * gw1[i][j]) for j in range(2)] for i in range(2)]
            w2 = [[R(keep * w2[i][0] - eta * gw2[i][0])] for i in range(2)]
            t1 = [R(t1[j] - eta * gt1[j]) for j in range(2)]
            t2 = [R(t2[0] - eta * gt2[0])]
            out[p + "delta[2][1]"] = float(d2)
            vector(out, p + "delta[1]", d1)
            matrix_from_to(out, p + "grad_w[2]", gw2), vector(out, p + "grad_theta[2]", gt2)
            matrix_from_to(out, p + "grad_w[1]", gw1), vector(out, p + "grad_theta[1]", gt1)
            matrix_from_to(out, p + "w_new[1]", w1), vector(out, p + "theta_new[1]", t1)
            matrix_from_to(out, p + "w_new[2]", w2), vector(out, p + "theta_new[2]", t2)
        _, _, after = forward("after.", w1, t1, w2, t2)
        out["loss_change"] = float(R(after - first_loss))
        return out


TWO = two_iterations_reference()
TWO_4 = two_iterations_rounded(4)


@pytest.mark.parametrize("key, expected", sorted(TWO.items()))
def test_two_iterations_exact_matches_numpy(key, expected):
    assert_close("two-iterations", EXACT, key, expected)


@pytest.mark.parametrize("key, expected", sorted(TWO_4.items()))
def test_two_iterations_rounded_chain_matches_decimal(key, expected):
    values = solved("two-iterations")  # the file's own mode: 4 decimals
    assert values[key] == expected, key


# Iteration 1 by hand, 4 decimals: z^1 = (0.5 + 0.5 - 0, -0.5 + 1 - 0.5) = (1, 0),
# h^1 = (σ(1), σ(0)) = (0.7311, 0.5), z^2 = 0.7311 - 0.5 = 0.2311, ŷ = σ(0.2311) = 0.5575,
# E = -ln 0.5575 = 0.5843, δ^2 = 0.5575 - 1 = -0.4425,
# δ^1_2 = -0.4425 * (-1) * 0.5 * 0.5 = 0.110625 -> 0.1106,
# w'^1_22 = 0.9 * 1 - 0.1106 = 0.7894, θ'^1_2 = 0.5 - (-0.1106) = 0.6106,
# w'^2_11 = 0.9 * 1 - (-0.4425 * 0.7311 = -0.32351... -> -0.3235) = 1.2235.
TWO_BY_HAND = [
    ("it1.z[1][1]", 1), ("it1.z[1][2]", 0), ("it1.h[1][1]", 0.7311), ("it1.h[1][2]", 0.5),
    ("it1.z[2][1]", 0.2311), ("it1.yhat[1]", 0.5575), ("it1.loss", 0.5843), ("it1.delta[2][1]", -0.4425),
    ("it1.delta[1][2]", 0.1106), ("it1.grad_theta[1][2]", -0.1106), ("it1.w_new[1][2][2]", 0.7894),
    ("it1.theta_new[1][2]", 0.6106), ("it1.grad_w[2][1][1]", -0.3235), ("it1.w_new[2][1][1]", 1.2235),
]


@pytest.mark.parametrize("key, expected", TWO_BY_HAND)
def test_two_iterations_first_steps_by_hand(key, expected):
    assert solved("two-iterations")[key] == expected


def test_two_iterations_every_step_is_checked_and_the_loss_goes_down():
    assert load_problem(PROBLEMS / "two-iterations.yaml").rounding == Rounding(4)
    assert computed_keys("two-iterations", EXACT) == set(TWO) == set(TWO_4)
    for rounding in (EXACT, None):
        values = solved("two-iterations", rounding)
        assert values["after.loss"] < values["it2.loss"] < values["it1.loss"]
        assert values["loss_change"] < 0
    # iteration 2 starts from iteration 1's updated parameters
    values = solved("two-iterations")
    assert values["it2.z[1][1]"] == 1.161  # 0.537 + 0.537 - (-0.087)


# ================================================================================
# The lecture's own examples (the BP lecture's worked examples)
# ================================================================================

FORWARD_EXACT = [  # the BP lecture's opening forward pass, to 6 decimals
    ("z[1][1]", 3), ("z[1][2]", -2), ("z[1][3]", -2),
    ("h[1][1]", 0.952574), ("h[1][2]", 0.119203), ("h[1][3]", 0.119203),
    ("z[2][1]", 4.167905), ("yhat[1]", 0.984751),
    ("z[2][2]", 0.166629), ("yhat[2]", 0.541561),
]

FORWARD_2_DECIMALS = [  # the slide's chain, every step rounded to 2 decimals
    ("h[1][1]", 0.95),   # σ(3) = 0.952574 -> 0.95
    ("h[1][2]", 0.12),   # σ(-2) = 0.119203 -> 0.12
    ("h[1][3]", 0.12),
    ("z[2][1]", 4.16),   # 0.95*4 + 0.12*2 + 0.12*1 + 0 = 3.8 + 0.24 + 0.12 = 4.16 (the slide's 4.16)
    ("yhat[1]", 0.98),   # σ(4.16) = 0.98463 -> 0.98 (the slide's 0.98)
    ("z[2][2]", 0.17),   # 0.95*(-1) + 0.12*3 + 0.12*(-2) + 1 = -0.95 + 0.36 - 0.24 + 1 = 0.17 (slide: 0.39, a slip)
    ("yhat[2]", 0.54),   # σ(0.17) = 0.54240 -> 0.54 (slide: 0.6)
]


@pytest.mark.parametrize("key, expected", FORWARD_EXACT)
def test_lecture_forward_exact(key, expected):
    assert solved("lecture-forward", EXACT)[key] == pytest.approx(expected, abs=5e-7)
    assert solved("lecture-forward")[key] == pytest.approx(expected, abs=5e-7)  # the file is exact


@pytest.mark.parametrize("key, expected", FORWARD_2_DECIMALS)
def test_lecture_forward_rounded_to_2_decimals(key, expected):
    assert solved("lecture-forward", Rounding(2))[key] == expected


BP_LECTURE_4_DECIMALS = [  # the lecture's printed chain and final weights
    ("z[1][1]", 2), ("z[1][2]", 1.5), ("h[1][1]", 2), ("h[1][2]", 1.5),
    ("z[2][1]", 3.8), ("z[2][2]", 2.6),
    ("h[2][1]", 0.9781), ("h[2][2]", 0.9309),
    ("z[3][1]", 1.4436),   # 0.9781 + 0.9309*0.5 = 1.44355 -> 1.4436 (half up on the decimal value)
    ("yhat[1]", 0.8090),
    ("delta[3][1]", -0.0264),
    ("delta[2][1]", -0.0006), ("delta[2][2]", -0.0008),
    ("delta[1][1]", -0.0012), ("delta[1][2]", -0.0014),
    ("grad_w[2][1][1]", -0.0012),   # -0.0006 * 2, the lecture's Δw_11^2
    ("w_new[1][1][1]", 1.0012), ("w_new[1][1][2]", 0.0014),
    ("w_new[1][2][1]", 1), ("w_new[1][2][2]", 0.5),
    ("w_new[1][3][1]", 1.0012), ("w_new[1][3][2]", 1.5014),
    ("w_new[2][1][1]", 1.0012), ("w_new[2][1][2]", 0.7016),
    ("w_new[2][2][1]", 1.2009), ("w_new[2][2][2]", 0.8012),
    ("w_new[3][1][1]", 1.0258), ("w_new[3][2][1]", 0.5246),
]

BP_LECTURE_EXACT = [  # the BP lecture's worked example, exact chain to 6 decimals
    ("z[1][1]", 2), ("z[1][2]", 1.5), ("h[1][1]", 2), ("h[1][2]", 1.5),
    ("z[2][1]", 3.8), ("z[2][2]", 2.6),
    ("h[2][1]", 0.978119), ("h[2][2]", 0.930862),
    ("z[3][1]", 1.443550), ("yhat[1]", 0.809004),
    ("delta[3][1]", -0.026422),
    ("delta[2][1]", -0.000565), ("delta[2][2]", -0.000850),
    ("delta[1][1]", -0.001161), ("delta[1][2]", -0.001359),
    # δ_1^2 h_1^1 = -0.00056549... * 2 = -0.001131 (the exact chain gives -0.00113,
    # against the lecture's rounded -0.0006 * 2 = -0.0012)
    ("grad_w[2][1][1]", -0.001131),
]


@pytest.mark.parametrize("key, expected", BP_LECTURE_4_DECIMALS)
def test_lecture_bp_in_its_own_4_decimal_mode(key, expected):
    assert load_problem(PROBLEMS / "lecture-bp-3layer.yaml").rounding == Rounding(4)
    assert solved("lecture-bp-3layer")[key] == expected


@pytest.mark.parametrize("key, expected", BP_LECTURE_EXACT)
def test_lecture_bp_exact(key, expected):
    assert solved("lecture-bp-3layer", EXACT)[key] == pytest.approx(expected, abs=5e-7)


def test_lecture_bp_exact_chain_against_numpy():
    """The whole exact chain of the lecture example, numpy, the BP lecture form (thresholds 0)."""
    x, y = np.array([1.0, 0.0, 1.0]), 0.98
    w1 = np.array([[1, 0], [1, 0.5], [1, 1.5]])
    w2 = np.array([[1, 0.7], [1.2, 0.8]])
    w3 = np.array([[1.0], [0.5]])
    z1 = x @ w1
    h1 = np.maximum(1, z1)                          # the lecture's max(1, x)
    z2 = h1 @ w2
    h2 = sigmoid(z2)
    z3 = h2 @ w3
    yhat = sigmoid(z3)
    d3 = (yhat - y) * yhat * (1 - yhat)
    d2 = (w3 @ d3) * h2 * (1 - h2)
    d1 = (w2 @ d2) * (z1 > 1)                       # max(1, x)' = H(x - 1)
    values = solved("lecture-bp-3layer", EXACT)
    expected = {"yhat[1]": yhat[0], "delta[3][1]": d3[0]}
    vector(expected, "h[2]", h2), vector(expected, "delta[2]", d2), vector(expected, "delta[1]", d1)
    matrix_from_to(expected, "w_new[1]", w1 - np.outer(x, d1))
    matrix_from_to(expected, "w_new[2]", w2 - np.outer(h1, d2))
    matrix_from_to(expected, "w_new[3]", w3 - np.outer(h2, d3))
    for key, value in expected.items():
        assert values[key] == pytest.approx(value, rel=1e-9, abs=1e-12), key


# ================================================================================
# The project's problems/ as a whole
# ================================================================================

ALL_PROBLEMS = sorted(PROBLEMS.glob("*.yaml"))
ROUNDINGS = [EXACT] + [Rounding(n) for n in range(13)]


def test_the_new_problems_are_bundled():
    names = {path.stem for path in ALL_PROBLEMS}
    assert set(NEW_PROBLEMS) <= names


@pytest.mark.parametrize("path", ALL_PROBLEMS, ids=lambda p: p.stem)
def test_every_problem_documents_itself(path):
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    for field in ("title", "source", "notes"):
        assert isinstance(data.get(field), str) and data[field].strip(), f"{path.name}: {field}"


@pytest.mark.parametrize("path", ALL_PROBLEMS, ids=lambda p: p.stem)
@pytest.mark.parametrize("rounding", ROUNDINGS, ids=lambda r: "exact" if r.decimals is None else f"{r.decimals}dp")
def test_every_problem_solves_and_prints_in_every_rounding_mode(path, rounding):
    solution = load_problem(path).solve(rounding)
    assert len(solution) > 0
    for format_ in ("text", "markdown", "latex", "json"):
        assert render(solution, format_)
    if rounding.decimals == 0:
        return  # see test_zero_decimals_keep_the_losses_finite
    numbers = [step for step in solution if isinstance(step.value, float)]  # symbolic steps aside
    for step in numbers:
        assert math.isfinite(step.value), f"{path.stem}: {step.key}"


@pytest.mark.parametrize("name", ["softmax-cross-entropy", "two-iterations"])
def test_zero_decimals_keep_the_losses_finite(name):
    values = load_problem(PROBLEMS / f"{name}.yaml").solve(Rounding(0)).values()
    assert all(math.isfinite(v) for v in values.values() if isinstance(v, float))
