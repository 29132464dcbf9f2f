"""Pictures of solutions: the error surface of a critical-point analysis, the optimisers' paths."""


def plot_solution(problem, solution, path):
    """Draw the picture of a solved problem to `path` (.png or .svg): the optimisers' paths of an
    optimizer problem, or else the error surface (critical_points problems; others are refused there)."""
    if problem.kind == "optimizer":
        from .trajectories import plot_trajectories

        return plot_trajectories(problem, solution, path)
    from .surface import plot_surface

    return plot_surface(problem, solution, path)
