"""Convolution and pooling in numpy: sliding windows forward, their gradients backward.

Maps are arrays of shape (channels, rows, columns); kernels are (filters,
channels, K, K). The convolution is the lecture's valid cross-correlation
(the lecture notes) with a stride and zero padding,

    z[f, i, j] = sum_{c,u,v} w[f, c, u, v] * apad[c, s*i + u, s*j + v] + b[f]

(0-based here; the solvers print the same sums 1-based). Each operation's
forward value and its gradient are written side by side, as micrograd
writes `__mul__` and its `_backward`. The gradients use the textbook
identities, not the step formulas of the solvers: the input gradient is a
full convolution of the (stride-dilated) delta with the kernel, computed as
a cross-correlation with the kernel turned 180 degrees; the kernel gradient
is a cross-correlation of the input with the delta; pooling scatters the
error back through the windows. The tests hold these against direct loops
and finite differences.
"""

from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .functions import activation_op


# -- windows ------------------------------------------------------------------

def pad(maps, padding):
    """Zero padding of `padding` rows and columns on every side of each map."""
    return np.pad(maps, ((0, 0), (padding, padding), (padding, padding)))


def windows(maps, size, stride):
    """Every size x size window at the given stride: shape (channels, out_rows, out_cols, size, size)."""
    return sliding_window_view(maps, (size, size), axis=(1, 2))[:, ::stride, ::stride]


def output_size(length, size, stride, padding=0):
    """How many windows of `size` fit along `length` (plus padding) at `stride`."""
    return (length + 2 * padding - size) // stride + 1


# -- convolution ----------------------------------------------------------------

def conv_forward(a, w, b, stride, padding):
    """z = w cross-correlated with the padded input a, plus one bias per filter."""
    patches = windows(pad(a, padding), w.shape[-1], stride)
    return np.einsum("cijuv,fcuv->fij", patches, w) + b[:, None, None]


def dilate(delta, stride):
    """delta with stride - 1 zeros between neighbours: the strided output spread on the input grid."""
    filters, rows, cols = delta.shape
    spread = np.zeros((filters, (rows - 1) * stride + 1, (cols - 1) * stride + 1))
    spread[:, ::stride, ::stride] = delta
    return spread


def conv_backward(a, w, delta, stride, padding):
    """(dL/da, dL/dw, dL/db) of conv_forward, given delta = dL/dz.

    dL/da: dilate delta by the stride, pad it with K - 1 zeros (a full
    convolution), cross-correlate with the kernel turned 180 degrees, and
    drop the rows and columns that belong to the padding. Rows of the
    padded input that no window reaches get no error (the extra zeros at
    the bottom and right).
    dL/dw: the padded input cross-correlated with the dilated delta, which
    is sum_ij delta_ij * apad[s*i + u, s*j + v].
    """
    size = w.shape[-1]
    channels, rows, cols = a.shape
    padded_rows, padded_cols = rows + 2 * padding, cols + 2 * padding
    spread = dilate(delta, stride)
    unreached = (padded_rows - (spread.shape[1] + size - 1), padded_cols - (spread.shape[2] + size - 1))
    full = np.pad(spread, ((0, 0), (size - 1, size - 1 + unreached[0]), (size - 1, size - 1 + unreached[1])))
    rotated = w[:, :, ::-1, ::-1]
    grad_padded = np.einsum("fpquv,fcuv->cpq", windows(full, size, 1), rotated)
    grad_a = grad_padded[:, padding:padding + rows, padding:padding + cols]
    reach = sliding_window_view(pad(a, padding), spread.shape[1:], axis=(1, 2))[:, :size, :size]
    grad_w = np.einsum("cuvij,fij->fcuv", reach, spread)
    return grad_a, grad_w, delta.sum(axis=(1, 2))


# -- pooling --------------------------------------------------------------------

def pool_forward(a, kind, size, stride):
    """(pooled maps, argmax): max or average over each window.

    argmax is the row-major index inside each window of the value that
    max pooling keeps (numpy's argmax: the first maximum wins a tie);
    None for average pooling.
    """
    patches = windows(a, size, stride)
    flat = patches.reshape(patches.shape[:3] + (size * size,))
    if kind == "average":
        return flat.mean(axis=-1), None
    argmax = flat.argmax(axis=-1)
    return np.take_along_axis(flat, argmax[..., None], axis=-1)[..., 0], argmax


def pool_backward(grad_pooled, input_shape, kind, size, stride, argmax):
    """dL/da of pool_forward: each window's error to its maximum, or 1/K^2 of it to every position.

    Windows that overlap add their shares (np.add.at accumulates repeated
    positions).
    """
    channels, out_rows, out_cols = grad_pooled.shape
    c, r, s = np.meshgrid(np.arange(channels), np.arange(out_rows), np.arange(out_cols), indexing="ij")
    grad_a = np.zeros(input_shape)
    if kind == "average":
        share = grad_pooled / (size * size)
        for u in range(size):
            for v in range(size):  # K^2 shifted scatters, each vectorised over every window
                np.add.at(grad_a, (c, r * stride + u, s * stride + v), share)
        return grad_a
    u, v = np.divmod(argmax, size)
    np.add.at(grad_a, (c, r * stride + u, s * stride + v), grad_pooled)
    return grad_a


# -- one layer, as a conv_backprop problem states it ------------------------------

@dataclass(frozen=True)
class ConvRun:
    """Every array of one conv_backprop problem (channels first, 0-based).

    z_prev: the given z^(l-1) (None when the file gives a^(l-1) directly).
    a_prev, z, a: a^(l-1), z^(l), a^(l). pooled, argmax: the pooling output
    (None without pooling). output: the map the loss or the downstream
    gradient applies to (pooled, or a). loss: None with a given downstream
    gradient. grad_output: dL/d(output). grad_a: dL/da^(l); delta: dL/dz^(l);
    grad_w, grad_b; grad_a_prev: dL/da^(l-1); delta_prev: dL/dz^(l-1) (None
    without an input activation).
    """

    z_prev: object
    a_prev: np.ndarray
    z: np.ndarray
    a: np.ndarray
    pooled: object
    argmax: object
    output: np.ndarray
    loss: object
    grad_output: np.ndarray
    grad_a: np.ndarray
    delta: np.ndarray
    grad_w: np.ndarray
    grad_b: np.ndarray
    grad_a_prev: np.ndarray
    delta_prev: object


def _elementwise(activation, z):
    """(f(z), f'(z)) of an elementwise activation, through its vector-Jacobian product."""
    op = activation_op(activation)
    h = op.forward(z)
    return h, op.backward(z, h, np.ones_like(z))


def run_conv(spec):
    """Forward and backward pass of a conv_backprop spec, in numpy."""
    z_prev = None
    if spec.input_activation is not None:
        z_prev = np.array(spec.input_map, dtype=float)
        a_prev, slope_prev = _elementwise(spec.input_activation, z_prev)
    else:
        a_prev = np.array(spec.input_map, dtype=float)
    w = np.array(spec.kernels, dtype=float)
    b = np.array(spec.biases if spec.biases is not None else [0.0] * len(spec.kernels), dtype=float)
    z = conv_forward(a_prev, w, b, spec.stride, spec.padding)
    a, slope = _elementwise(spec.activation, z)
    pooled = argmax = None
    output = a
    if spec.pooling is not None:
        pooled, argmax = pool_forward(a, spec.pooling.kind, spec.pooling.window, spec.pooling.stride)
        output = pooled
    if spec.target is not None:
        y = np.array(spec.target, dtype=float)
        if spec.loss == "half_squared_error":
            loss, grad_output = 0.5 * np.sum((output - y) ** 2), output - y
        else:
            loss, grad_output = np.mean((output - y) ** 2), 2.0 * (output - y) / output.size
    else:
        loss, grad_output = None, np.array(spec.grad_output, dtype=float)
    grad_a = grad_output
    if spec.pooling is not None:
        grad_a = pool_backward(grad_output, a.shape, spec.pooling.kind, spec.pooling.window,
                               spec.pooling.stride, argmax)
    delta = grad_a * slope
    grad_a_prev, grad_w, grad_b = conv_backward(a_prev, w, delta, spec.stride, spec.padding)
    delta_prev = grad_a_prev * slope_prev if z_prev is not None else None
    return ConvRun(z_prev, a_prev, z, a, pooled, argmax, output, loss, grad_output,
                   grad_a, delta, grad_w, grad_b, grad_a_prev, delta_prev)
