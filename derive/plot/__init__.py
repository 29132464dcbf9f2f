"""Pictures of solutions: the error surface of a critical-point analysis, the optimisers' paths, an
autodiff problem's computational graph."""


def plot_solution(problem, solution, path, dpi=None):
    """Draw the picture of a solved problem to `path` (.png, .svg or .pdf, at `dpi`, default 200): the
    optimisers' paths of an optimizer problem, the computational graph of an autodiff problem, or else the error surface (critical_points problems;
    others are refused there)."""
    if problem.kind == "optimizer":
        from .trajectories import plot_trajectories

        return plot_trajectories(problem, solution, path, dpi)
    if problem.kind == "autodiff":
        from .graph import plot_graph

        return plot_graph(problem, solution, path, dpi)
    from .surface import plot_surface

    return plot_surface(problem, solution, path, dpi)


def solution_figure(problem, solution, dpi=None):
    """The matplotlib Figure that plot_solution would write, for looking at (in a notebook) or testing."""
    if problem.kind == "optimizer":
        from .trajectories import trajectory_figure

        return trajectory_figure(problem, solution, dpi)
    if problem.kind == "autodiff":
        from .graph import graph_figure

        return graph_figure(problem, solution, dpi)
    from .surface import surface_figure

    return surface_figure(problem, solution, dpi)
