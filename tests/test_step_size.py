"""Why gradient descent does not increase the loss, and when it does (optimizer's `smoothness`).

Held against what the code under test does not compute: the Hessian by
central differences of the loss, its eigenvalues by numpy, gradient descent
run in plain numpy, and the theorem it illustrates (below 2/L the loss of a
quadratic never rises; above it, it diverges along the top eigenvector).
"""

import numpy as np
import pytest
import yaml

from derive.problem import load_problem
from derive.render import render
from derive.steps import EXACT
from conftest import PROBLEMS, load_error

# quadratic losses (text, as numpy) over x and y
QUADRATICS = [
    ("(x - 4)^2 + 2 (y + 1)^2", lambda x, y: (x - 4) ** 2 + 2 * (y + 1) ** 2),
    ("x^2 + x y + y^2", lambda x, y: x ** 2 + x * y + y ** 2),
    ("3 x^2 - 2 x y + 0.5 y^2 + x", lambda x, y: 3 * x ** 2 - 2 * x * y + 0.5 * y ** 2 + x),
    ("x^2 - y^2", lambda x, y: x ** 2 - y ** 2),  # a saddle: L is the largest |eigenvalue|, here |−2| = 2 = |2|
    ("0.5 (x + y)^2 + 0.1 (x - y)^2", lambda x, y: 0.5 * (x + y) ** 2 + 0.1 * (x - y) ** 2),
]


def problem(tmp_path, loss, rates, start=(1.0, -2.0), iterations=6):
    fields = {"kind": "optimizer", "parameters": ["x", "y"], "loss": loss, "start": {"x": start[0], "y": start[1]},
              "iterations": iterations, "smoothness": True,
              "optimizers": [{"name": f"gd{n}", "method": "gd", "learning_rate": rate} for n, rate in enumerate(rates)]}
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump(fields), encoding="utf-8")
    return load_problem(path)


def hessian_by_differences(f, point=(0.3, -0.7), h=1e-3):
    x, y = point
    fxx = (f(x + h, y) - 2 * f(x, y) + f(x - h, y)) / h ** 2
    fyy = (f(x, y + h) - 2 * f(x, y) + f(x, y - h)) / h ** 2
    fxy = (f(x + h, y + h) - f(x + h, y - h) - f(x - h, y + h) + f(x - h, y - h)) / (4 * h ** 2)
    return np.array([[fxx, fxy], [fxy, fyy]])


def plain_gd_losses(f, start, rate, iterations, h=1e-6):
    point, losses = np.array(start, dtype=float), [f(*start)]
    for _ in range(iterations):
        gradient = np.array([(f(point[0] + h, point[1]) - f(point[0] - h, point[1])) / (2 * h),
                             (f(point[0], point[1] + h) - f(point[0], point[1] - h)) / (2 * h)])
        point = point - rate * gradient
        losses.append(f(*point))
    return losses


@pytest.mark.parametrize("text, f", QUADRATICS, ids=[text for text, _ in QUADRATICS])
def test_L_is_the_largest_absolute_eigenvalue_of_the_hessian(tmp_path, text, f):
    values = problem(tmp_path, text, [0.1]).solve(EXACT).values()
    H = hessian_by_differences(f)
    for (i, p), (j, q) in [((0, "x"), (0, "x")), ((0, "x"), (1, "y")), ((1, "y"), (1, "y"))]:
        assert values[f"hessian[{p}][{q}]"] == pytest.approx(H[i, j], abs=1e-6)
    eigenvalues = np.linalg.eigvalsh(H)
    assert [values["eigenvalue[1]"], values["eigenvalue[2]"]] == pytest.approx(sorted(eigenvalues), abs=1e-6)
    L = max(abs(eigenvalues))
    assert values["L_smooth"] == pytest.approx(L, rel=1e-6)
    assert values["eta_descent"] == pytest.approx(1 / L, rel=1e-6)
    assert values["eta_limit"] == pytest.approx(2 / L, rel=1e-6)


@pytest.mark.parametrize("text, f", QUADRATICS[:3] + QUADRATICS[4:], ids=[t for t, _ in QUADRATICS[:3] + QUADRATICS[4:]])
def test_below_2_over_L_the_loss_never_rises_above_it_it_diverges(tmp_path, text, f):
    """The convex quadratics: a rate just under 2/L lowers the loss at every step (numpy's run and derive's); a
    rate just over it makes the loss grow without bound."""
    L = max(abs(np.linalg.eigvalsh(hessian_by_differences(f))))
    below, above = 1.9 / L, 2.2 / L
    losses = plain_gd_losses(f, (1.0, -2.0), below, 6)
    assert all(b <= a + 1e-12 for a, b in zip(losses, losses[1:]))
    far = plain_gd_losses(f, (1.0, -2.0), above, 60)
    assert far[-1] > 100 * far[0]
    values = problem(tmp_path, text, [round(float(below), 6), round(float(above), 6)], iterations=6).solve(EXACT).values()
    for t in range(6):
        assert values[f"gd0.loss[{t + 1}]"] <= values[f"gd0.loss[{t}]"] + 1e-12


def test_every_loss_that_went_up_says_so_and_no_other(tmp_path):
    text, f = QUADRATICS[0]
    rates = [0.2, 0.45, 0.55]
    solution = problem(tmp_path, text, rates, start=(0.0, 0.0), iterations=5).solve()
    for n, rate in enumerate(rates):
        losses = plain_gd_losses(f, (0.0, 0.0), rate, 5)
        for t in range(1, 6):
            note = solution[f"gd{n}.loss[{t}]"].note
            assert ("went up" in note) == (losses[t] > losses[t - 1] + 1e-9), (rate, t, note)


def test_each_gd_run_is_placed_against_1_over_L_and_2_over_L(tmp_path):
    text = render(load_problem(PROBLEMS / "gd-step-size.yaml").solve(), "text")
    assert "small: η = 0.2 ≤ 1/L = 0.25" in text
    assert "medium: 1/L = 0.25 < η = 0.45 < 2/L = 0.5" in text
    assert "large: η = 0.55 > 2/L = 0.5: along the top eigenvector the error grows by |1 − η L| = 1.2 a step" in text


def test_the_bundled_run_above_2_over_L_rises_where_numpy_rises():
    values = load_problem(PROBLEMS / "gd-step-size.yaml").solve(EXACT).values()
    losses = plain_gd_losses(QUADRATICS[0][1], (0.0, 0.0), 0.55, 5)
    assert [values[f"large.loss[{t}]"] for t in range(6)] == pytest.approx(losses, rel=1e-6)
    assert values["large.loss[5]"] > values["large.loss[1]"]


def test_smoothness_needs_a_quadratic_loss(tmp_path):
    text = ("kind: optimizer\nparameters: [w1, w2]\nloss: (1 - w1 w2)^2\nstart: {w1: 0.5, w2: 1.5}\niterations: 1\n"
            "smoothness: true\noptimizers:\n  - {method: gd, learning_rate: 0.1}\n")
    assert load_error(tmp_path, text) == (
        f"{tmp_path / 'p.yaml'}:6: smoothness: needs a quadratic loss (a constant Hessian): "
        "∂²L/∂w1∂w1 = 2*w2**2 depends on the parameters")
