"""Back-propagation of a multilayer perceptron on whole batches, in numpy.

An implementation of `kind: mlp_backprop` independent of the step-by-step
solver (no Step formulas, no SymPy outside compiling custom activations),
so that the two can be held against each other. Arrays hold one row per
sample; weights are always from-to (`weights[l-1][i, j]` is w_ij^l, from
neuron i of layer l-1 to neuron j of layer l), offsets one value per neuron.
Conventions are the problem's (the lecture notes): thresholds enter
as z = h W - theta, biases as z = h W + b; the batch loss and gradients are
the sum or the mean of the per-sample ones; weight decay is
w' = (1 - eta lambda) w - eta grad and never touches the offsets.
"""

from dataclasses import dataclass

import numpy as np

from .functions import LOSSES, OUTPUT_DELTAS, activation_op


@dataclass(frozen=True)
class Parameters:
    """weights[l-1]: the n_{l-1} x n_l matrix of layer l; offsets[l-1]: its n_l thresholds or biases."""

    weights: tuple
    offsets: tuple


@dataclass(frozen=True)
class ForwardPass:
    """z[l-1] and h[l-1] (samples x n_l) for every layer l; h[-1] is yhat.

    sample_losses (one per sample) and loss (their sum or mean) are None
    without targets.
    """

    z: tuple
    h: tuple
    sample_losses: object = None
    loss: float = None

    @property
    def yhat(self):
        return self.h[-1]


@dataclass(frozen=True)
class Iteration:
    """One gradient-descent step.

    forward: the pass on the parameters before the step.
    deltas[l-1]: dE_k/dz^l, one row per sample k.
    sample_weight_grads[l-1] (samples x n_{l-1} x n_l), sample_offset_grads[l-1]
        (samples x n_l): gradients of each sample's own loss.
    weight_grads, offset_grads: the batch gradients (sum or mean of those).
    updated: the parameters after the step.
    """

    forward: ForwardPass
    deltas: tuple
    sample_weight_grads: tuple
    sample_offset_grads: tuple
    weight_grads: tuple
    offset_grads: tuple
    updated: Parameters


@dataclass(frozen=True)
class MlpRun:
    """Everything the engine computes for one problem.

    forward: the forward pass on the given parameters.
    iterations: the gradient-descent steps (empty for a forward pass only).
    after: the forward pass after the last update (None unless loss_after).
    loss_change: after.loss minus the loss of the first iteration, the
        change over the whole run (None unless loss_after).
    """

    forward: ForwardPass
    iterations: tuple
    after: ForwardPass = None
    loss_change: float = None


def given_parameters(spec):
    """The problem's weights and offsets as arrays (from-to whatever the file layout)."""
    return Parameters(
        tuple(np.array(layer.weights, dtype=float) for layer in spec.layers),
        tuple(np.array(layer.offsets, dtype=float) for layer in spec.layers),
    )


def inputs(spec):
    """The samples' x, one row each."""
    return np.array([x for x, _ in spec.samples], dtype=float)


def targets(spec):
    """The samples' y, one row each; None for a forward pass only."""
    if spec.forward_only:
        return None
    return np.array([y for _, y in spec.samples], dtype=float)


def _offset_sign(spec):
    """The sign with which an offset enters z: -theta or +b."""
    return -1.0 if spec.offset == "threshold" else 1.0


def _batch(per_sample, spec):
    """Sum or mean over the samples (axis 0), as the problem's batch says."""
    return per_sample.mean(axis=0) if spec.batch == "mean" else per_sample.sum(axis=0)


def forward_pass(spec, params):
    """z and h of every layer for all samples at once, and the loss when there are targets."""
    sign = _offset_sign(spec)
    h = inputs(spec)
    zs, hs = [], []
    for layer, weights, offsets in zip(spec.layers, params.weights, params.offsets):
        z = h @ weights + sign * offsets
        h = activation_op(layer.activation).forward(z)
        zs.append(z)
        hs.append(h)
    y = targets(spec)
    if y is None:
        return ForwardPass(tuple(zs), tuple(hs))
    sample_losses = LOSSES[spec.loss].value(h, y)
    return ForwardPass(tuple(zs), tuple(hs), sample_losses, float(_batch(sample_losses, spec)))


def output_delta(spec, forward):
    """dE_k/dz^L: the fused form for sigmoid + BCE and softmax + CE, else dE/dyhat through f_L."""
    y, op = targets(spec), activation_op(spec.layers[-1].activation)
    fused = OUTPUT_DELTAS.get((op.name, spec.loss))
    if fused is not None:
        return fused(forward.yhat, y)
    return op.backward(forward.z[-1], forward.yhat, LOSSES[spec.loss].gradient(forward.yhat, y))


def backward_pass(spec, params, forward):
    """The deltas dE_k/dz^l of every layer, from the output back."""
    deltas = [output_delta(spec, forward)]
    for index in range(len(spec.layers) - 2, -1, -1):  # the hidden layers, last first
        grad_h = deltas[0] @ params.weights[index + 1].T  # dE/dh, back through the weights above
        op = activation_op(spec.layers[index].activation)
        deltas.insert(0, op.backward(forward.z[index], forward.h[index], grad_h))
    return tuple(deltas)


def gradient_step(spec, params):
    """One Iteration: forward, backward, per-sample and batch gradients, update."""
    forward = forward_pass(spec, params)
    deltas = backward_pass(spec, params, forward)
    layer_inputs = (inputs(spec),) + forward.h[:-1]
    # dE_k/dw_ij = h_i delta_j for each sample k: a batch of outer products
    sample_weight_grads = tuple(np.einsum("ki,kj->kij", h, d) for h, d in zip(layer_inputs, deltas))
    sample_offset_grads = tuple(_offset_sign(spec) * d for d in deltas)
    weight_grads = tuple(_batch(g, spec) for g in sample_weight_grads)
    offset_grads = tuple(_batch(g, spec) for g in sample_offset_grads)
    return Iteration(forward, deltas, sample_weight_grads, sample_offset_grads,
                     weight_grads, offset_grads, updated_parameters(spec, params, weight_grads, offset_grads))


def updated_parameters(spec, params, weight_grads, offset_grads):
    """Gradient descent on what the problem updates, with its penalties: L2 weight decay,
    (1 - ηλ) w - η g, and L1 by its subgradient, - η λ₁ sign(w) (sign(0) = 0); on the
    offsets too when the problem says so."""
    eta, decay, l1 = spec.learning_rate, spec.weight_decay, spec.l1

    def step(value, gradient):
        return (1.0 - eta * decay) * value - eta * (gradient + l1 * np.sign(value))

    weights, offsets = params.weights, params.offsets
    if spec.update_weights:
        weights = tuple(step(w, g) for w, g in zip(weights, weight_grads))
    if spec.update_offsets:
        if spec.decay_offsets:
            offsets = tuple(step(b, g) for b, g in zip(offsets, offset_grads))
        else:
            offsets = tuple(b - eta * g for b, g in zip(offsets, offset_grads))
    return Parameters(weights, offsets)


def run_mlp(spec):
    """Every iteration of the problem, then the pass after the last update if asked for."""
    params = given_parameters(spec)
    if spec.forward_only:
        return MlpRun(forward_pass(spec, params), ())
    iterations = []
    for _ in range(spec.iterations):
        iterations.append(gradient_step(spec, params))
        params = iterations[-1].updated
    if not spec.loss_after:
        return MlpRun(iterations[0].forward, tuple(iterations))
    after = forward_pass(spec, params)
    return MlpRun(iterations[0].forward, tuple(iterations), after, after.loss - iterations[0].forward.loss)
