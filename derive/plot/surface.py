"""The picture of a critical-point analysis: the error surface as a contour plot.

Like the lecture's error-surface figure (lecture 10): the loss over the
problem's region as filled contours, every critical point marked by its
kind, the curves of critical points drawn, and at each saddle the escape
direction as an arrow. `surface_data` computes what is drawn, as numbers
(so it can be checked without looking at pixels); `plot_surface` draws it
with matplotlib (Agg, no display needed; imported only when a picture is
asked for) and writes a PNG, SVG or PDF whole or not at all.

The legend's words are the verdicts as the text solution prints them (the
`pk.decided` step where an inconclusive test was settled, else
`pk.verdict`), so the picture and the text cannot disagree.
"""

from dataclasses import dataclass

import numpy as np

from ..errors import DeriveError
from .figure import GRID, add_colourbar, contour_levels, fit_title, new_figure, picture_format, shown, write_picture

CURVE_SAMPLES = 801  # samples of the free parameter along a curve of critical points
ARROW = 0.18  # arrow length, as a fraction of the region's width
STYLES = {  # verdict word -> (marker, colour); the legend prints the word itself
    "minimum": ("o", "#1a9641"),
    "maximum": ("v", "#d7191c"),
    "saddle": ("X", "#fdae61"),
    "neither": ("D", "#7b3294"),
    "undecided": ("s", "#969696"),
    "inconclusive": ("s", "#969696"),
}


def verdict_step(solution, prefix):
    """The Step whose verdict the text solution ends on for `prefix` (`p1.`, `c1.`): decided, else verdict."""
    return solution[prefix + "decided"] if prefix + "decided" in solution else solution[prefix + "verdict"]


def printed_verdict(solution, prefix):
    """The verdict word for `prefix` exactly as the text solution prints it (`saddle`, `minimum`)."""
    from ..render.formula import text_formula

    return text_formula(verdict_step(solution, prefix).value, symbols=solution.symbols())


@dataclass(frozen=True)
class Marker:
    """A critical point as drawn: where, its verdict as the text prints it, and its label (p1, p2, ...)."""

    x: float
    y: float
    verdict: str
    label: str


@dataclass(frozen=True)
class Curve:
    """A family of critical points as drawn: sampled points (NaN where it leaves the region), its
    verdict as the text prints it, and its label (`c1: w1 w2 = 1`)."""

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
    curves = _curves(analysis_of(problem), parameters, region, solution)
    return SurfaceData(names, region, xs, ys, loss, contour_levels(loss), tuple(markers), tuple(curves), tuple(arrows))


def _points(solution, region):
    """Markers of the critical points and arrows of their escape directions, read from the solution."""
    width = max(high - low for low, high in region)
    markers, arrows = [], []
    k = 1
    while f"p{k}.theta[1]" in solution:
        prefix = f"p{k}."
        x, y = solution[prefix + "theta[1]"].value, solution[prefix + "theta[2]"].value
        markers.append(Marker(x, y, printed_verdict(solution, prefix), f"p{k}"))
        if prefix + "u[1]" in solution:
            u = np.array([solution[prefix + "u[1]"].value, solution[prefix + "u[2]"].value])
            dx, dy = u * ARROW * width / np.linalg.norm(u)
            arrows.append(Arrow(x, y, float(dx), float(dy)))
        k += 1
    return markers, arrows


def _curves(analysis, parameters, region, solution):
    """Each family of critical points with one free parameter, sampled across the region."""
    curves = []
    for k, family in enumerate(analysis.families, start=1):
        sampled = sample_family(family, parameters, region)
        if sampled is not None:
            curves.append(Curve(*sampled, printed_verdict(solution, f"c{k}."),
                                f"c{k}: {family.statement.split(' (')[0]}"))
    return curves


def sample_family(family, parameters, region):
    """(xs, ys) of a family of critical points with one free parameter, sampled across the region
    (NaN where it leaves it); None for a family with more free parameters."""
    from ..symbolic.critical_search import vectorised

    if len(family.free) != 1:
        return None
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
    return tuple(xs), tuple(ys)


def _draw(figure, data, title):
    from matplotlib.colors import BoundaryNorm

    axes = figure.add_subplot()
    norm = BoundaryNorm(data.levels, ncolors=256)  # one colour step per band, however uneven the levels
    loss = np.ma.masked_invalid(data.loss)
    filled = axes.contourf(data.xs, data.ys, loss, levels=data.levels, cmap="viridis", norm=norm)
    axes.contour(data.xs, data.ys, loss, levels=data.levels, colors="white", linewidths=0.3, alpha=0.5)
    add_colourbar(figure, axes, filled, data.levels)
    for curve in data.curves:
        axes.plot(curve.xs, curve.ys, color=STYLES[curve.verdict][1], linewidth=2.5,
                  label=f"{curve.verdict}: {curve.label}")
    for verdict in dict.fromkeys(m.verdict for m in data.markers):  # one legend entry per verdict, in order
        group = [m for m in data.markers if m.verdict == verdict]
        marker, colour = STYLES[verdict]
        axes.plot([m.x for m in group], [m.y for m in group], linestyle="none", marker=marker, markersize=11,
                  color=colour, markeredgecolor="black", zorder=4,
                  label=f"{verdict}: " + ", ".join(m.label for m in group))
    for m in data.markers:
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
    fit_title(figure, f"{title}: error surface")
    figure.legend(loc="outside right center", fontsize=8)


def surface_figure(problem, solution, dpi=None):
    """The matplotlib Figure of the error surface (not written anywhere), to look at or to test."""
    data = surface_data(problem, solution)
    return new_figure(lambda figure: _draw(figure, data, solution.title), *([dpi] if dpi else []))


def plot_surface(problem, solution, path, dpi=None):
    """Draw the error surface of a solved critical_points problem with two parameters to `path`
    (.png, .svg or .pdf)."""
    form = picture_format(path)
    data = surface_data(problem, solution)
    write_picture(path, form, lambda figure: _draw(figure, data, solution.title), dpi)
