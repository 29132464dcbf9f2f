"""A numeric search for critical points, for losses SymPy cannot solve in closed form.

Newton's method on the gradient, `θ <- θ - H⁺ g` with the pseudo-inverse of
the Hessian, started from every point of a grid over the stated region and
run for all starts at once (numpy arrays, one per parameter). Newton's
method on `g = 0` is drawn to critical points of every kind (minima, maxima
and saddles alike), which is what a critical-point analysis needs; at a
degenerate point (a singular Hessian, as at the origin of x^4 + y^4) it
still converges, only linearly, so the iteration count allows for that.

The same search checks SymPy's answers: a critical point it finds that the
symbolic solution does not contain is reported, not lost.
"""

import math
from dataclasses import dataclass

import numpy as np

from ..errors import ExpressionError

ITERATIONS = 160  # a degenerate zero converges like (2/3)^k: 160 steps reach 1e-28
STARTS_PER_AXIS = {1: 41, 2: 11, 3: 7, 4: 5, 5: 4, 6: 3}
GRADIENT_TOLERANCE = 1e-8
STEP_TOLERANCE = 1e-9
SAME_POINT = 1e-6  # relative to the region's size: closer points are one point

_UNARY = {
    "exp": np.exp, "log": np.log, "sin": np.sin, "cos": np.cos, "tan": np.tan,
    "sinh": np.sinh, "cosh": np.cosh, "tanh": np.tanh, "atan": np.arctan,
}


def vectorised(expr):
    """A function env -> array for a SymPy expression, env mapping Symbol names to arrays."""
    if expr.is_Symbol:
        name = expr.name
        return lambda env: env[name]
    if expr.is_Number or expr.is_NumberSymbol:
        constant = float(expr)
        return lambda env: constant
    parts = [vectorised(arg) for arg in expr.args]
    if expr.is_Add:
        return lambda env: sum(part(env) for part in parts)
    if expr.is_Mul:
        def product(env):
            result = 1.0
            for part in parts:
                result = result * part(env)
            return result
        return product
    if expr.is_Pow:
        base, exponent = parts
        return lambda env: np.power(base(env), exponent(env))
    function = _UNARY.get(type(expr).__name__)
    if function is None:
        raise ExpressionError(f"cannot evaluate {type(expr).__name__} numerically")
    argument = parts[0]
    return lambda env: function(argument(env))


@dataclass(frozen=True)
class NumericPoint:
    """A critical point found numerically: coordinates and the largest |∂L/∂θᵢ| left there."""

    coordinates: tuple
    residual: float


def starts(region):
    """The grid of starting points over `region` ((low, high) per parameter), shape (S, n)."""
    count = STARTS_PER_AXIS[len(region)]
    axes = [np.linspace(low, high, count) for low, high in region]
    return np.stack([axis.ravel() for axis in np.meshgrid(*axes, indexing="ij")], axis=-1)


def newton_search(gradient, hessian, parameters, region):
    """The distinct critical points Newton's method reaches inside `region`, sorted.

    gradient: the n partial derivatives; hessian: the n x n second
    derivatives (SymPy expressions in `parameters`); region: (low, high)
    per parameter. A point counts when the gradient there is below
    GRADIENT_TOLERANCE and the last Newton step below STEP_TOLERANCE.
    """
    names = [p.name for p in parameters]
    g_functions = [vectorised(g) for g in gradient]
    h_functions = [[vectorised(hessian[i, j]) for j in range(len(names))] for i in range(len(names))]
    size = max(high - low for low, high in region)
    theta = starts(region)

    def evaluate(theta):
        env = {name: theta[:, i] for i, name in enumerate(names)}
        shape = theta.shape[:1]
        g = np.stack([np.broadcast_to(f(env), shape) for f in g_functions], axis=-1)
        h = np.stack([np.stack([np.broadcast_to(f(env), shape) for f in row], axis=-1) for row in h_functions],
                     axis=-2)
        return g, h

    step = np.zeros_like(theta)
    active = np.arange(len(theta))  # the starts still moving: a converged one is left where it is
    with np.errstate(all="ignore"):
        for _ in range(ITERATIONS):
            g, h = evaluate(theta[active])
            usable = np.isfinite(g).all(axis=1) & np.isfinite(h).all(axis=(1, 2))
            g = np.where(usable[:, None], g, 0.0)
            h = np.where(usable[:, None, None], h, 0.0)
            moved = np.einsum("sij,sj->si", np.linalg.pinv(h, rcond=1e-12), g)
            length = np.linalg.norm(moved, axis=1)
            moved *= np.minimum(1.0, size / np.maximum(length, 1e-300))[:, None]  # no leap out of the region
            theta[active] = np.where(usable[:, None], theta[active] - moved, np.nan)
            step[active] = moved
            active = active[usable & (length > STEP_TOLERANCE * 1e-3 * max(size, 1.0))]
            if not active.size:
                break  # every start has converged (or left the domain of L)
        g, _ = evaluate(theta)
    residual = np.abs(g).max(axis=1)
    margin = SAME_POINT * size
    inside = np.all([(theta[:, i] >= low - margin) & (theta[:, i] <= high + margin)
                     for i, (low, high) in enumerate(region)], axis=0)
    converged = (np.isfinite(residual) & (residual <= GRADIENT_TOLERANCE)
                 & (np.linalg.norm(step, axis=1) <= STEP_TOLERANCE * max(size, 1.0)) & inside)
    return _distinct(theta[converged], residual[converged], margin)


def _distinct(points, residuals, tolerance):
    """One NumericPoint per cluster of points closer than `tolerance`, the best converged kept."""
    kept = []
    for index in np.argsort(residuals, kind="stable"):
        point = points[index]
        if all(np.max(np.abs(point - other.coordinates)) > tolerance for other in kept):
            kept.append(NumericPoint(tuple(_clean(v) for v in point), float(residuals[index])))
    return sorted(kept, key=lambda p: p.coordinates)


def _clean(value):
    """A coordinate without the noise of the last digits (and without -0.0)."""
    rounded = round(float(value), 12)
    return rounded + 0.0 if rounded == 0 or not math.isfinite(rounded) else rounded

