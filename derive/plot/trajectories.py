"""The picture of an optimizer problem: each optimiser's path over the loss contours.

Like the lecture's comparison of optimisers: the loss of a two-parameter
problem as filled contours, and for every optimiser the points θ⁰, θ¹, ...
joined in order, starting at a common mark, and the loss's minimum where
it is known: the critical points (and curves of them) that the
critical_points kind's analysis of the same loss finds to be minima, marked
with that analysis's verdict word. `trajectory_data` computes what is
drawn, as numbers read from the solved steps (so it can be checked without
looking at pixels); `plot_trajectories` draws it with matplotlib (Agg) and
writes a PNG, SVG or PDF whole or not at all, as derive.plot.surface does.
"""

from dataclasses import dataclass

import numpy as np

from ..errors import DeriveError
from .figure import GRID, add_colourbar, contour_levels, fit_title, new_figure, picture_format, shown, write_picture

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
class Minimum:
    """A minimum of the loss as drawn: a point (xs, ys of length 1) or a sampled curve of minima;
    verdict: the analysis's word for it; label: where it is (`(0, 0)`, `w1 w2 = 1`)."""

    xs: tuple
    ys: tuple
    verdict: str
    label: str


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
    minima: tuple = ()

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
        for minimum in self.minima:
            inside = sum(1 for x in minimum.xs if np.isfinite(x))
            lines.append(f"{minimum.verdict} {minimum.label}: {inside} samples in the region" if len(minimum.xs) > 1
                         else f"{minimum.verdict}: ({shown(minimum.xs[0])}, {shown(minimum.ys[0])})")
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
    analysis = _analysis(spec, spec.region or _region(paths))
    region = spec.region or _region(paths, _minimum_points(analysis))
    minima = _minima(analysis, spec.parameters, region)
    xs, ys = (np.linspace(low, high, GRID) for low, high in region)
    grid_x, grid_y = np.meshgrid(xs, ys)
    with np.errstate(all="ignore"):
        loss = np.broadcast_to(vectorised(spec.loss)({names[0]: grid_x, names[1]: grid_y}),
                               grid_x.shape).astype(float)
    return TrajectoryData(names, region, xs, ys, loss, contour_levels(loss), tuple(paths),
                          tuple(minima))


def _verdict(analysed):
    """The verdict the critical_points kind ends on: what settled an inconclusive test, else the test's."""
    return (analysed.decision or analysed.test).verdict


def _analysis(spec, region):
    """The critical_points kind's Analysis of the whole loss (its escape step 1/10 unused here), or None
    when it cannot be had in time."""
    import sympy

    from ..kinds.critical_points import DEFAULT_SECONDS
    from ..render.formula import text_formula
    from ..symbolic.critical import analyse

    try:
        return analyse(spec.loss, tuple(spec.parameters), None, tuple(region), sympy.Rational(1, 10),
                       DEFAULT_SECONDS, text_formula)
    except DeriveError:  # no minimum is marked, rather than no picture
        return None


def _minimum_points(analysis):
    """The isolated minima of an Analysis (None: no analysis, no minima) as (x, y) floats."""
    points = analysis.points if analysis is not None else ()
    return [tuple(float(c) for c in p.coordinates) for p in points if _verdict(p) == "minimum"]


def _minima(analysis, parameters, region):
    """Minimum markers: the isolated minima inside the region, then each curve of minima."""
    from .surface import sample_family

    if analysis is None:
        return []
    (x0, x1), (y0, y1) = region
    minima = []
    for x, y in _minimum_points(analysis):
        if x0 <= x <= x1 and y0 <= y <= y1:
            minima.append(Minimum((x,), (y,), "minimum", f"({shown(x, 4)}, {shown(y, 4)})"))
    for family in analysis.families:
        sampled = sample_family(family, parameters, region) if _verdict(family) == "minimum" else None
        if sampled is not None and np.isfinite(sampled[0]).any():
            minima.append(Minimum(*sampled, "minimum", family.statement.split(" (")[0]))
    return minima


def _region(paths, points=()):
    """The box around every path and the isolated minima `points`, widened by MARGIN of its extent
    (at least 0.5) on each side."""
    region = []
    for index, axis in enumerate(("xs", "ys")):
        values = [v for path in paths for v in getattr(path, axis) if np.isfinite(v)]
        values += [point[index] for point in points]
        low, high = min(values), max(values)
        pad = max(MARGIN * (high - low), 0.5)
        region.append((float(low - pad), float(high + pad)))
    return tuple(region)


def plot_trajectories(problem, solution, path, dpi=None):
    """Draw the optimisers' paths of a solved optimizer problem to `path` (.png, .svg or .pdf)."""
    form = picture_format(path)
    data = trajectory_data(problem, solution)
    write_picture(path, form, lambda figure: _draw(figure, data, solution.title), dpi)


def trajectory_figure(problem, solution, dpi=None):
    """The matplotlib Figure of the optimisers' paths (not written anywhere), to look at or to test."""
    data = trajectory_data(problem, solution)
    return new_figure(lambda figure: _draw(figure, data, solution.title), *([dpi] if dpi else []))


def _draw(figure, data, title):
    from matplotlib.colors import BoundaryNorm

    axes = figure.add_subplot()
    norm = BoundaryNorm(data.levels, ncolors=256)
    loss = np.ma.masked_invalid(data.loss)
    filled = axes.contourf(data.xs, data.ys, loss, levels=data.levels, cmap="Greys_r", norm=norm, alpha=0.8)
    axes.contour(data.xs, data.ys, loss, levels=data.levels, colors="white", linewidths=0.4, alpha=0.6)
    add_colourbar(figure, axes, filled, data.levels)
    for k, path in enumerate(data.trajectories):
        colour, marker = COLOURS[k % len(COLOURS)], MARKERS[k % len(MARKERS)]
        axes.plot(path.xs, path.ys, color=colour, marker=marker, markersize=4, linewidth=1.6, label=path.name,
                  zorder=3 + k)
    start = data.trajectories[0]
    axes.plot([start.xs[0]], [start.ys[0]], linestyle="none", marker="*", markersize=14, color="gold",
              markeredgecolor="black", label="start θ⁰", zorder=10)
    for minimum in data.minima:
        label = f"{minimum.verdict} {minimum.label}"
        if len(minimum.xs) == 1:
            axes.plot(minimum.xs, minimum.ys, linestyle="none", marker="P", markersize=13, color="#1a9641",
                      markeredgecolor="white", label=label, zorder=11)
        else:
            axes.plot(minimum.xs, minimum.ys, color="#1a9641", linewidth=2.5, linestyle="--", label=label,
                      zorder=2)
    (x0, x1), (y0, y1) = data.region
    axes.set_xlim(x0, x1)
    axes.set_ylim(y0, y1)
    axes.set_xlabel(data.names[0])
    axes.set_ylabel(data.names[1])
    fit_title(figure, f"{title}: optimiser paths")
    figure.legend(loc="outside right center", fontsize=8)
