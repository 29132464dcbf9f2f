"""Every bundled problem with a picture: it is drawn the same way every time, and its words (legend,
title, axes) are the solution's own: the verdicts the text prints, the parameters' names."""

import re
import struct
from pathlib import Path

import numpy as np
import pytest

from derive.cli import cli
from derive.plot import plot_solution, solution_figure
from derive.plot.figure import colourbar_ticks, contour_levels, nice_number
from derive.plot.surface import printed_verdict
from derive.problem import load_problem
from derive.render import render

PROBLEMS = Path(__file__).parent.parent / "derive" / "problems"
SURFACES = ("degenerate-saddle", "lecture-saddle", "monkey-saddle", "numeric-double-well", "taylor-noncritical")
PATHS = ("gd-step-size", "optimizer-compare", "optimizer-each", "optimizer-minibatch", "optimizer-summary")
GRAPHS = ("autodiff-circuit", "autodiff-fanout", "autodiff-relu-power", "autodiff-seed001")


def solved(name):
    problem = load_problem(PROBLEMS / f"{name}.yaml")
    return problem, problem.solve()


def legend_texts(figure):
    return [text.get_text() for legend in figure.legends for text in legend.get_texts()]


def title_of(figure):
    return figure.get_suptitle()


def prefixes(solution, letter):
    k, found = 1, []
    while f"{letter}{k}.verdict" in solution:
        found.append(f"{letter}{k}.")
        k += 1
    return found


def test_the_pictured_problems_are_every_bundled_problem_with_a_picture(tmp_path):
    """A picture is drawn for exactly these bundled problems; the others are refused with one line."""
    from derive.errors import DeriveError

    drawn = []
    for path in sorted(PROBLEMS.glob("*.yaml")):
        problem = load_problem(path)
        if problem.kind not in ("critical_points", "optimizer", "autodiff"):
            continue
        try:
            plot_solution(problem, problem.solve(), tmp_path / "p.svg")
        except DeriveError as error:
            assert "\n" not in str(error)
            continue
        drawn.append(path.stem)
    assert sorted(drawn) == sorted(SURFACES + PATHS + GRAPHS)


@pytest.mark.parametrize("name", SURFACES + PATHS + GRAPHS)
def test_svg_is_the_same_bytes_every_time(tmp_path, name):
    problem, solution = solved(name)
    first, second = tmp_path / "a.svg", tmp_path / "b.svg"
    plot_solution(problem, solution, first)
    plot_solution(problem, solution, second)
    assert first.read_bytes() == second.read_bytes() and first.read_bytes().startswith(b"<?xml")


@pytest.mark.parametrize("name", ("lecture-saddle", "optimizer-compare"))
def test_png_pixels_and_pdf_bytes_are_the_same_every_time(tmp_path, name):
    problem, solution = solved(name)
    for suffix in (".png", ".pdf"):
        first, second = tmp_path / f"a{suffix}", tmp_path / f"b{suffix}"
        plot_solution(problem, solution, first)
        plot_solution(problem, solution, second)
        assert first.read_bytes() == second.read_bytes()
    assert (tmp_path / "a.pdf").read_bytes().startswith(b"%PDF")


@pytest.mark.parametrize("name", SURFACES)
def test_surface_legend_says_the_printed_verdicts(name):
    """Each point's and curve's legend entry is `<verdict>: <labels>`, the verdict as the text prints it."""
    problem, solution = solved(name)
    figure = solution_figure(problem, solution)
    texts = legend_texts(figure)
    text = render(solution, "text")
    expected = set()
    for prefix in prefixes(solution, "p") + prefixes(solution, "c"):
        verdict = printed_verdict(solution, prefix)
        key = "decided" if prefix + "decided" in solution else "second-order test"
        assert f"{key} = {verdict}" in text  # the word as the solution prints it
        expected.add(verdict)
        assert any(t.startswith(f"{verdict}: ") and prefix[:-1] in t for t in texts), (prefix, texts)
    shown = {t.split(":")[0] for t in texts if t != "escape direction u"}
    assert shown == expected
    assert not any("local" in t for t in texts)  # the text never says "local minimum" of a global one
    axes = figure.axes[0]
    names = [p.name for p in problem.spec.parameters]
    assert (axes.get_xlabel(), axes.get_ylabel()) == tuple(names)
    assert title_of(figure) == f"{solution.title}: error surface"


def test_lecture_saddle_legend_reads_as_the_solution():
    problem, solution = solved("lecture-saddle")
    texts = legend_texts(solution_figure(problem, solution))
    assert texts == [f"{solution['c1.decided'].value}: c1: w1 w2 = 1", f"{solution['p1.verdict'].value}: p1",
                     "escape direction u"]


@pytest.mark.parametrize("name", PATHS)
def test_optimiser_legend_names_the_paths_and_marks_the_minimum(name):
    from derive.plot.trajectories import trajectory_data

    problem, solution = solved(name)
    figure = solution_figure(problem, solution)
    texts = legend_texts(figure)
    data = trajectory_data(problem, solution)
    names = [o.name for o in problem.spec.optimizers]
    assert texts[:len(names) + 1] == names + ["start θ⁰"]
    minima = texts[len(names) + 1:]
    assert minima and all(t.startswith("minimum ") for t in minima)
    assert [f"{m.verdict} {m.label}" for m in data.minima] == minima
    axes = figure.axes[0]
    assert (axes.get_xlabel(), axes.get_ylabel()) == tuple(p.name for p in problem.spec.parameters)
    assert title_of(figure) == f"{solution.title}: optimiser paths"


def test_the_minimum_comes_from_the_loss():
    """0.1 w1^2 + 2 w2^2 has its minimum at (0, 0); the line fit's is the least-squares solution."""
    from derive.plot.trajectories import trajectory_data

    data = trajectory_data(*solved("optimizer-compare"))
    assert [(m.xs, m.ys) for m in data.minima] == [((0.0,), (0.0,))]
    problem, solution = solved("optimizer-minibatch")
    (minimum,) = trajectory_data(problem, solution).minima
    x, y = np.array([0, 1, 2, 3, 4, 5.0]), np.array([1.2, 2.8, 5.1, 7.0, 8.9, 11.1])
    w, b = np.polyfit(x, y, 1)
    assert (minimum.xs[0], minimum.ys[0]) == pytest.approx((w, b))
    (curve,) = trajectory_data(*solved("optimizer-each")).minima
    inside = [(x, y) for x, y in zip(curve.xs, curve.ys) if np.isfinite(x)]
    assert inside and all(x * y == pytest.approx(1) for x, y in inside)


@pytest.mark.parametrize("name", SURFACES + PATHS + GRAPHS)
def test_title_fits_on_one_line(name):
    problem, solution = solved(name)
    figure = solution_figure(problem, solution)
    title = figure._suptitle
    assert "\n" not in title.get_text()
    width = title.get_window_extent(figure.canvas.get_renderer()).width
    assert width <= figure.get_figwidth() * figure.dpi


@pytest.mark.parametrize("name", SURFACES + PATHS)
def test_colourbar_ticks_are_round_numbers(name):
    problem, solution = solved(name)
    figure = solution_figure(problem, solution)
    figure.canvas.draw()
    bar = figure.axes[1]
    labels = [t.get_text() for t in bar.get_yticklabels() if t.get_text()]
    assert len(labels) >= 3
    for label in labels:  # a plain decimal of at most two significant digits: 0, 0.025, 0.8, 15, 250
        number = label.replace("−", "-").lstrip("-")
        assert re.fullmatch(r"\d+(\.\d+)?", number), labels
        assert len(number.replace(".", "").strip("0")) <= 2, labels


@pytest.mark.parametrize("value, nice", [(0.127, 0.15), (0.462, 0.5), (2.424, 2.5), (5.261, 5), (0.3336, 0.3),
                                         (12.31, 10), (0, 0), (-0.46, -0.5), (7.4, 8)])
def test_nice_number(value, nice):
    assert nice_number(value) == nice


def test_colourbar_ticks_of_the_lecture_levels():
    levels = (0, 0.0144, 0.0576, 0.1273, 0.2198, 0.3336, 0.4624, 0.5978, 0.7396, 0.8746, 1, 1.098, 1.26, 1.467,
              1.721, 2.037, 2.424, 2.906, 3.501, 4.26, 5.261, 6.621, 8.695, 12.31, 25)
    assert colourbar_ticks(levels) == (0, 0.2, 0.8, 1.5, 2.5, 5, 25)


def test_contour_levels_start_at_a_round_number():
    """A minimum of 2.5e-06 on a surface reaching 7 is shown from 0, not from 2.5e-06."""
    loss = np.linspace(2.5e-06, 7, 1000)
    levels = contour_levels(loss)
    assert (levels[0], levels[-1]) == (0, 7)


# -- the command line ----------------------------------------------------------------------------

def png_size(path):
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


@pytest.mark.parametrize("options, size", [((), (1600, 900)), (("--dpi", "100"), (800, 450)),
                                           (("--dpi", "300"), (2400, 1350))])
def test_dpi_sets_the_png_size(runner, tmp_path, options, size):
    path = tmp_path / "paths.png"
    result = runner.invoke(cli, ["solve", "optimizer-compare", "--plot", str(path), *options])
    assert result.exit_code == 0, result.output
    assert png_size(path) == size


@pytest.mark.parametrize("file, start", [("s.svg", b"<?xml"), ("s.pdf", b"%PDF"), ("S.PNG", b"\x89PNG")])
def test_format_from_the_suffix(runner, tmp_path, file, start):
    result = runner.invoke(cli, ["solve", "lecture-saddle", "--plot", str(tmp_path / file)])
    assert result.exit_code == 0
    assert (tmp_path / file).read_bytes().startswith(start)


@pytest.mark.parametrize("options, status, line", [
    (("--plot", "{tmp}/s.jpg"), 2, "{tmp}/s.jpg: expected a .png, .svg or .pdf file name for the picture, "
                                  "got 's.jpg'"),
    (("--plot", "{tmp}/s"), 2, "{tmp}/s: expected a .png, .svg or .pdf file name for the picture, got 's'"),
    (("--plot", "{tmp}/s.png", "--dpi", "10"), 2, "Error: Invalid value for '--dpi': 10 is not in the range "
                                                   "50<=x<=1200."),
])
def test_plot_refusals(runner, tmp_path, options, status, line):
    options = [o.format(tmp=tmp_path) for o in options]
    result = runner.invoke(cli, ["solve", "lecture-saddle", *options])
    assert result.exit_code == status
    assert result.output.strip().splitlines()[-1] == line.format(tmp=tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_colourbar_of_a_surface_symmetric_about_zero_has_zero_in_the_middle():
    levels = tuple(np.linspace(-16, 16, 25) ** 3 / 256)
    ticks = colourbar_ticks(levels)
    assert ticks[len(ticks) // 2] == 0 and ticks == tuple(-t for t in reversed(ticks))
