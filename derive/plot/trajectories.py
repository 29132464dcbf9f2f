"""The picture of an optimizer problem: each optimiser's path over the loss contours.

Like the lecture's comparison of optimisers: the loss of a two-parameter
problem as filled contours, and for every optimiser the points θ⁰, θ¹, ...
joined in order, starting at a common mark. `trajectory_data` computes what
is drawn, as numbers read from the solved steps (so it can be checked
without looking at pixels); `plot_trajectories` draws it with matplotlib
(Agg) and writes a PNG or SVG whole or not at all, as derive.plot.surface does.
"""

import textwrap
from dataclasses import dataclass

import numpy as np

from ..errors import DeriveError
from .figure import GRID, contour_levels, picture_format, shown, write_picture

MARGIN = 0.25  # of the trajectories' extent, added on every side when the problem gives no region
COLOURS = ("#e41a1c", "#377eb8", "#4daf4a", "#984ea3", "#ff7f00", "#a65628")
MARKERS = ("o", "s", "^", "D", "v", "P")


@dataclass(frozen=True)
class Trajectory:
    """One optimiser's path: its name and the parameter values θ⁰ ... θ^T."""

    name: str
    xs: tuple
    ys: tuple


@dataclass(frozen=True)
class TrajectoryData:
    """Everything the picture shows, as numbers."""

    names: tuple
    region: tuple
    xs: object
    ys: object
    loss: object
    levels: tuple
    trajectories: tuple

    def describe(self):
        """A short text account of the picture, stable enough to compare with a golden file."""
        (x0, x1), (y0, y1) = self.region
        finite = self.loss[np.isfinite(self.loss)]
        lines = [f"axes: {self.names[0]} in [{shown(x0)}, {shown(x1)}], {self.names[1]} in "
                 f"[{shown(y0)}, {shown(y1)}]",
                 f"grid: {len(self.xs)} x {len(self.ys)}; L from {shown(finite.min())} to {shown(finite.max())}",
                 "contour levels: " + ", ".join(shown(v, 4) for v in self.levels)]
        for path in self.trajectories:
            points = " ".join(f"({shown(x)}, {shown(y)})" for x, y in zip(path.xs, path.ys))
            lines.append(f"path {path.name}: {points}")
        return "\n".join(lines) + "\n"


def trajectory_data(problem, solution):
    """The TrajectoryData of a solved optimizer problem with two parameters."""
    from ..symbolic.critical_search import vectorised

    spec = problem.spec
    if len(spec.parameters) != 2:
        raise DeriveError(f"the trajectory picture needs 2 parameters; this problem has {len(spec.parameters)}",
                          path=problem.path)
    names = tuple(p.name for p in spec.parameters)
    paths = []
    for optimizer in spec.optimizers:
        coordinates = [[solution[f"{optimizer.name}.theta[{t}][{n}]"].value for t in range(spec.iterations + 1)]
                       for n in names]
        paths.append(Trajectory(optimizer.name, tuple(coordinates[0]), tuple(coordinates[1])))
    region = spec.region or _region(paths)
    xs, ys = (np.linspace(low, high, GRID) for low, high in region)
    grid_x, grid_y = np.meshgrid(xs, ys)
    with np.errstate(all="ignore"):
        loss = np.broadcast_to(vectorised(spec.loss)({names[0]: grid_x, names[1]: grid_y}),
                               grid_x.shape).astype(float)
    return TrajectoryData(names, region, xs, ys, loss, contour_levels(loss), tuple(paths))


def _region(paths):
    """The box around every path, widened by MARGIN of its extent (at least 0.5) on each side."""
    region = []
    for axis in ("xs", "ys"):
        values = [v for path in paths for v in getattr(path, axis) if np.isfinite(v)]
        low, high = min(values), max(values)
        pad = max(MARGIN * (high - low), 0.5)
        region.append((float(low - pad), float(high + pad)))
    return tuple(region)


def plot_trajectories(problem, solution, path):
    """Draw the optimisers' paths of a solved optimizer problem to `path` (.png or .svg)."""
    form = picture_format(path)
    data = trajectory_data(problem, solution)
    write_picture(path, form, lambda figure: _draw(figure, data, solution.title))


def _draw(figure, data, title):
    from matplotlib.colors import BoundaryNorm

    axes = figure.add_subplot()
    norm = BoundaryNorm(data.levels, ncolors=256)
    loss = np.ma.masked_invalid(data.loss)
    filled = axes.contourf(data.xs, data.ys, loss, levels=data.levels, cmap="Greys_r", norm=norm, alpha=0.8)
    axes.contour(data.xs, data.ys, loss, levels=data.levels, colors="white", linewidths=0.4, alpha=0.6)
    figure.colorbar(filled, ax=axes, label="L", format="%.3g")
    for k, path in enumerate(data.trajectories):
        colour, marker = COLOURS[k % len(COLOURS)], MARKERS[k % len(MARKERS)]
        axes.plot(path.xs, path.ys, color=colour, marker=marker, markersize=4, linewidth=1.6, label=path.name,
                  zorder=3 + k)
    start = data.trajectories[0]
    axes.plot([start.xs[0]], [start.ys[0]], linestyle="none", marker="*", markersize=14, color="gold",
              markeredgecolor="black", label="start θ⁰", zorder=10)
    (x0, x1), (y0, y1) = data.region
    axes.set_xlim(x0, x1)
    axes.set_ylim(y0, y1)
    axes.set_xlabel(data.names[0])
    axes.set_ylabel(data.names[1])
    axes.set_title(textwrap.fill(f"{title}: optimiser paths", 64), fontsize=10)
    axes.legend(loc="upper right", fontsize=8, framealpha=0.85)
