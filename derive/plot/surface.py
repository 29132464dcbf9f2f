"""The picture of a critical-point analysis: the error surface as a contour plot.

Like the lecture's error-surface figure (lecture 10): the loss over the
problem's region as filled contours, every critical point marked by its
kind, the curves of critical points drawn, and at each saddle the escape
direction as an arrow. `surface_data` computes what is drawn, as numbers
(so it can be checked without looking at pixels); `plot_surface` draws it
with matplotlib (Agg, no display needed; imported only when a picture is
asked for) and writes a PNG or SVG whole or not at all.
"""

from dataclasses import dataclass

import numpy as np

from ..errors import DeriveError
from .figure import GRID, contour_levels, picture_format, shown, write_picture

CURVE_SAMPLES = 801  # samples of the free parameter along a curve of critical points
ARROW = 0.18  # arrow length, as a fraction of the region's width
STYLES = {  # verdict -> (marker, colour, legend label)
    "minimum": ("o", "#1a9641", "local minimum"),
    "maximum": ("v", "#d7191c", "local maximum"),
    "saddle": ("X", "#fdae61", "saddle point"),
    "neither": ("D", "#7b3294", "neither min nor max"),
    "undecided": ("s", "#969696", "undecided"),
    "inconclusive": ("s", "#969696", "undecided"),
}


@dataclass(frozen=True)
class Marker:
    """A critical point as drawn: where, its verdict, and its label (p1, p2, ...)."""

    x: float
    y: float
    verdict: str
    label: str


@dataclass(frozen=True)
class Curve:
    """A family of critical points as drawn: sampled points (NaN where it leaves the region)."""

    xs: tuple
    ys: tuple
    verdict: str
    label: str


@dataclass(frozen=True)
class Arrow:
    """An escape direction: from (x, y) by (dx, dy)."""

    x: float
    y: float
    dx: float
    dy: float


@dataclass(frozen=True)
class SurfaceData:
    """Everything the picture shows, as numbers."""

    names: tuple
    region: tuple
    xs: object
    ys: object
    loss: object
    levels: tuple
    markers: tuple
    curves: tuple
    arrows: tuple

    def describe(self):
        """A short text account of the picture, stable enough to compare with a golden file."""
        (x0, x1), (y0, y1) = self.region
        finite = self.loss[np.isfinite(self.loss)]
        lines = [f"axes: {self.names[0]} in [{x0:g}, {x1:g}], {self.names[1]} in [{y0:g}, {y1:g}]",
                 f"grid: {len(self.xs)} x {len(self.ys)}; L from {shown(finite.min())} to {shown(finite.max())}",
                 "contour levels: " + ", ".join(shown(v, 4) for v in self.levels)]
        lines += [f"point {m.label}: ({shown(m.x)}, {shown(m.y)}) {m.verdict}" for m in self.markers]
        for curve in self.curves:
            inside = [(x, y) for x, y in zip(curve.xs, curve.ys) if np.isfinite(x) and np.isfinite(y)]
            ends = (f"from ({shown(inside[0][0], 4)}, {shown(inside[0][1], 4)}) "
                    f"to ({shown(inside[-1][0], 4)}, {shown(inside[-1][1], 4)})") if inside else "outside the region"
            lines.append(f"curve {curve.label}: {len(inside)} samples in the region, {ends}, {curve.verdict}")
        lines += [f"arrow: from ({shown(a.x)}, {shown(a.y)}) by ({shown(a.dx)}, {shown(a.dy)})"
                  for a in self.arrows]
        return "\n".join(lines) + "\n"


def surface_data(problem, solution):
    """The SurfaceData of a solved critical_points problem with two parameters."""
    from ..kinds.critical_points import analysis_of
    from ..symbolic.critical_search import vectorised

    if problem.kind != "critical_points":
        raise DeriveError(f"a picture is drawn for critical_points problems, not {problem.kind}", path=problem.path)
    parameters = problem.spec.parameters
    if len(parameters) != 2:
        raise DeriveError(f"the error-surface picture needs 2 parameters; this problem has {len(parameters)}",
                          path=problem.path)
    region = problem.spec.region
    names = tuple(p.name for p in parameters)
    xs, ys = (np.linspace(low, high, GRID) for low, high in region)
    grid_x, grid_y = np.meshgrid(xs, ys)
    with np.errstate(all="ignore"):
        loss = np.broadcast_to(vectorised(problem.spec.loss)({names[0]: grid_x, names[1]: grid_y}),
                               grid_x.shape).astype(float)
    markers, arrows = _points(solution, region)
    curves = _curves(analysis_of(problem), parameters, region)
    return SurfaceData(names, region, xs, ys, loss, contour_levels(loss), tuple(markers), tuple(curves), tuple(arrows))


def _points(solution, region):
    """Markers of the critical points and arrows of their escape directions, read from the solution."""
    width = max(high - low for low, high in region)
    markers, arrows = [], []
    k = 1
    while f"p{k}.theta[1]" in solution:
        prefix = f"p{k}."
        x, y = solution[prefix + "theta[1]"].value, solution[prefix + "theta[2]"].value
        decided = solution[prefix + "decided"] if prefix + "decided" in solution else None
        verdict = str((decided or solution[prefix + "verdict"]).value)
        markers.append(Marker(x, y, verdict, f"p{k}"))
        if prefix + "u[1]" in solution:
            u = np.array([solution[prefix + "u[1]"].value, solution[prefix + "u[2]"].value])
            dx, dy = u * ARROW * width / np.linalg.norm(u)
            arrows.append(Arrow(x, y, float(dx), float(dy)))
        k += 1
    return markers, arrows


def _curves(analysis, parameters, region):
    """Each family of critical points with one free parameter, sampled across the region."""
    from ..symbolic.critical_search import vectorised

    curves = []
    for k, family in enumerate(analysis.families, start=1):
        if len(family.free) != 1:
            continue
        free = family.free[0]
        index = [p.name for p in parameters].index(free.name)
        samples = np.linspace(*region[index], CURVE_SAMPLES)
        coordinates = {free.name: samples}
        with np.errstate(all="ignore"):
            for parameter, expr in family.solved:
                coordinates[parameter.name] = np.broadcast_to(vectorised(expr)({free.name: samples}),
                                                              samples.shape).astype(float)
        xs, ys = (coordinates[p.name].copy() for p in parameters)
        outside = ~((xs >= region[0][0]) & (xs <= region[0][1]) & (ys >= region[1][0]) & (ys <= region[1][1]))
        xs[outside], ys[outside] = np.nan, np.nan
        verdict = family.decision.verdict if family.decision is not None else family.test.verdict
        curves.append(Curve(tuple(xs), tuple(ys), verdict, f"c{k}: {family.statement.split(' (')[0]}"))
    return curves


def _draw(figure, data, title):
    axes = figure.add_subplot()
    from matplotlib.colors import BoundaryNorm

    norm = BoundaryNorm(data.levels, ncolors=256)  # one colour step per band, however uneven the levels
    filled = axes.contourf(data.xs, data.ys, np.ma.masked_invalid(data.loss), levels=data.levels, cmap="viridis",
                           norm=norm)
    axes.contour(data.xs, data.ys, np.ma.masked_invalid(data.loss), levels=data.levels, colors="white",
                 linewidths=0.3, alpha=0.5)
    figure.colorbar(filled, ax=axes, label="L", format="%.3g")
    for curve in data.curves:
        marker, colour, label = STYLES[curve.verdict]
        axes.plot(curve.xs, curve.ys, color=colour, linewidth=2.5, label=f"critical curve {curve.label} ({label})")
    shown = set()
    for m in data.markers:
        marker, colour, label = STYLES[m.verdict]
        axes.plot([m.x], [m.y], linestyle="none", marker=marker, markersize=11, color=colour,
                  markeredgecolor="black", label=None if label in shown else label, zorder=4)
        shown.add(label)
        axes.annotate(m.label, (m.x, m.y), textcoords="offset points", xytext=(-20, -16), color="white",
                      fontsize=9, zorder=5)
    for a in data.arrows:
        axes.annotate("", xy=(a.x + a.dx, a.y + a.dy), xytext=(a.x, a.y), zorder=5,
                      arrowprops={"arrowstyle": "-|>", "color": "black", "linewidth": 1.8})
    if data.arrows:
        axes.plot([], [], color="black", marker=">", label="escape direction u")
    (x0, x1), (y0, y1) = data.region
    axes.set_xlim(x0, x1)
    axes.set_ylim(y0, y1)
    if x1 - x0 == y1 - y0:
        axes.set_aspect("equal")  # a circle of critical points looks like one
    axes.set_xlabel(data.names[0])
    axes.set_ylabel(data.names[1])
    axes.set_title(f"{title}: error surface")
    axes.legend(loc="upper right", fontsize=8, framealpha=0.85)


def plot_surface(problem, solution, path):
    """Draw the error surface of a solved critical_points problem with two parameters to `path` (.png or .svg)."""
    form = picture_format(path)
    data = surface_data(problem, solution)
    write_picture(path, form, lambda figure: _draw(figure, data, solution.title))
