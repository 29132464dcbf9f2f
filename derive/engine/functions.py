"""Activations and losses in numpy, each value beside its derivative.

As micrograd defines an operation's output together with its `_backward`,
every entry here pairs a forward function with its derivative, so the two
cannot drift apart. Arrays are batches: one row per sample, one column per
neuron. Kinks use the subgradient 0 (ReLU'(0) = 0, unit step H(0) = 0): the left piece's slope.
"""

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def _unit_step(t, at_zero=None):
    """H(t) with H(0) = 0, whatever value at 0 the SymPy expression carries."""
    return np.heaviside(t, 0.0)


_erf = np.frompyfunc(math.erf, 1, 1)
SELU_LAMBDA, SELU_ALPHA = 1.0507009873554805, 1.6732632423543772  # torch.nn.SELU's constants
GELU_C = math.sqrt(2.0 / math.pi)


def _phi(z):
    """The standard normal CDF Φ(z), elementwise."""
    return 0.5 * (1.0 + _erf(z / math.sqrt(2.0)).astype(float))


def _gelu_tanh(z):
    return 0.5 * z * (1.0 + np.tanh(GELU_C * (z + 0.044715 * z**3)))


def _gelu_tanh_slope(z):
    t = np.tanh(GELU_C * (z + 0.044715 * z**3))
    return 0.5 * (1.0 + t) + 0.5 * z * (1.0 - t**2) * GELU_C * (1.0 + 3 * 0.044715 * z**2)


def _mish_slope(z):
    # mish = z tanh(sp(z)), sp' = sigma: mish' = tanh(sp) + z (1 - tanh(sp)^2) sigma(z)
    t = np.tanh(np.logaddexp(0.0, z))
    return t + z * (1.0 - t**2) * _sigmoid(z)


# name -> (f, f'), both elementwise on an array of z; at a kink (0) the slope of the left piece, as relu'(0) = 0
ELEMENTWISE = {
    "sigmoid": (_sigmoid, lambda z: _sigmoid(z) * (1.0 - _sigmoid(z))),
    "tanh": (np.tanh, lambda z: 1.0 - np.tanh(z) ** 2),
    "relu": (lambda z: np.maximum(z, 0.0), lambda z: (z > 0).astype(float)),
    "linear": (lambda z: z, np.ones_like),
    "softplus": (lambda z: np.logaddexp(0.0, z), _sigmoid),  # softplus' = sigma
    "elu": (lambda z: np.where(z > 0, z, np.expm1(np.minimum(z, 0.0))),
            lambda z: np.where(z > 0, 1.0, np.exp(np.minimum(z, 0.0)))),  # alpha = 1
    "leaky_relu": (lambda z: np.where(z > 0, z, 0.01 * z), lambda z: np.where(z > 0, 1.0, 0.01)),
    "selu": (lambda z: SELU_LAMBDA * np.where(z > 0, z, SELU_ALPHA * np.expm1(np.minimum(z, 0.0))),
             lambda z: SELU_LAMBDA * np.where(z > 0, 1.0, SELU_ALPHA * np.exp(np.minimum(z, 0.0)))),
    # gelu = z Φ(z), gelu' = Φ(z) + z φ(z)
    "gelu": (lambda z: z * _phi(z), lambda z: _phi(z) + z * np.exp(-z**2 / 2) / math.sqrt(2 * math.pi)),
    "gelu_tanh": (_gelu_tanh, _gelu_tanh_slope),
    "mish": (lambda z: z * np.tanh(np.logaddexp(0.0, z)), _mish_slope),
}


@dataclass(frozen=True)
class ActivationOp:
    """A layer's activation: `forward(z) -> h` and its vector-Jacobian product.

    `backward(z, h, grad_h) -> grad_z` turns dE/dh into dE/dz; for an
    elementwise f it is grad_h * f'(z), for softmax the Jacobian
    s_i (delta_ij - s_j) applied to grad_h.
    """

    name: str
    forward: object
    backward: object


def _elementwise(name, f, derivative):
    return ActivationOp(name, f, lambda z, h, grad_h: grad_h * derivative(z))


def _softmax(z):
    shifted = np.exp(z - z.max(axis=1, keepdims=True))  # the shift leaves softmax unchanged
    return shifted / shifted.sum(axis=1, keepdims=True)


def _softmax_backward(z, h, grad_h):
    # sum_i grad_i s_i (delta_ij - s_j) = s_j (grad_j - sum_i grad_i s_i)
    return h * (grad_h - (grad_h * h).sum(axis=1, keepdims=True))


@lru_cache(maxsize=None)
def activation_op(activation):
    """The ActivationOp of a derive.symbolic Activation.

    Named activations come from the tables above; any other expression is
    compiled with SymPy's lambdify, together with the derivative the
    Activation holds (the unit step taken as 0 at 0).
    """
    if activation.is_softmax:
        return ActivationOp("softmax", _softmax, _softmax_backward)
    if activation.name in ELEMENTWISE:
        return _elementwise(activation.name, *ELEMENTWISE[activation.name])
    import sympy

    from ..symbolic.activations import X

    modules = [{"Heaviside": _unit_step}, "numpy"]
    f = sympy.lambdify(X, _piecewise_max_min(activation.expression), modules)
    slope = sympy.lambdify(X, _piecewise_max_min(activation.derivative), modules)
    # a constant derivative (x -> 2x) lambdifies to a scalar: broadcast it to z's shape
    return _elementwise(activation.name, f, lambda z: slope(z) + np.zeros_like(z))


def _piecewise_max_min(expression):
    """`expression` with max and min written as Piecewise, which lambdify turns into numpy.select.

    SymPy before 1.14 prints Max(1, x) for numpy as `amax((1, x), axis=0)`,
    which fails when x is an array; a Piecewise is computed elementwise by
    every version.
    """
    import sympy

    return expression.replace(lambda e: isinstance(e, (sympy.Max, sympy.Min)), lambda e: e.rewrite(sympy.Piecewise))


@dataclass(frozen=True)
class LossOp:
    """A per-sample loss E(yhat, y) (one value per row) and its gradient dE/dyhat."""

    name: str
    value: object
    gradient: object


def _y_log(y, p):
    """y log p with 0 log 0 = 0, the limit the cross-entropies take for a target of 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(y == 0, 0.0, y * np.log(p))


LOSSES = {
    "half_squared_error": LossOp(
        "half_squared_error",
        lambda yhat, y: 0.5 * ((yhat - y) ** 2).sum(axis=1),
        lambda yhat, y: yhat - y,
    ),
    "mean_squared_error": LossOp(
        "mean_squared_error",
        lambda yhat, y: ((yhat - y) ** 2).mean(axis=1),
        lambda yhat, y: 2.0 * (yhat - y) / yhat.shape[1],
    ),
    "cross_entropy": LossOp(
        "cross_entropy",
        lambda yhat, y: -_y_log(y, yhat).sum(axis=1),
        lambda yhat, y: -y / yhat,
    ),
    "binary_cross_entropy": LossOp(
        "binary_cross_entropy",
        lambda yhat, y: -(_y_log(y, yhat) + _y_log(1.0 - y, 1.0 - yhat)).sum(axis=1),
        lambda yhat, y: (yhat - y) / (yhat * (1.0 - yhat)),
    ),
}


# (output activation, loss) -> dE/dz of the output layer, for the pairs whose
# product of dE/dyhat and the activation's Jacobian simplifies: computed
# directly it stays finite where yhat rounds to 0 or 1 and the two factors
# would be 0 and infinity (as losses on logits do in deep-learning libraries).
OUTPUT_DELTAS = {
    ("sigmoid", "binary_cross_entropy"): lambda yhat, y: yhat - y,
    # sum_i (-y_i / s_i) s_i (delta_ij - s_j) = s_j sum_i y_i - y_j
    ("softmax", "cross_entropy"): lambda yhat, y: yhat * y.sum(axis=1, keepdims=True) - y,
}
