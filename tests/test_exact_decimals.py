"""Exact mode computes on the decimals as written: an optimizer's iterates, held to Fractions computed here."""

import time
from fractions import Fraction as F

import pytest
import sympy

from derive.kinds import optimizer
from derive.problem import load_problem
from derive.render import render
from derive.steps import SolutionBuilder
from derive.symbolic.exact import MAX_BITS, decimal, exact_value

MOMENTUM = """\
kind: optimizer
title: Momentum on (x - 4)^2, landing on the minimum
rounding: exact
parameters: [x]
loss: (x - 4)^2
start: {x: 10}
iterations: 4
optimizers:
  - method: momentum
    learning_rate: 0.2
    momentum: 0.9
"""

REGRESSION = """\
kind: optimizer
title: a line through three points
rounding: exact
parameters: [w, b]
loss: (w x + b - y)^2
data: {x: [0.1, 0.2, 0.3], y: [0.3, 0.5, 0.7]}
start: {w: 0.1, b: 0.2}
iterations: 6
optimizers:
  - method: gd
    learning_rate: 0.3
  - method: momentum
    learning_rate: 0.1
    momentum: 0.7
  - method: nesterov
    learning_rate: 0.1
    momentum: 0.7
"""


def solved(tmp_path, text, name="problem"):
    path = tmp_path / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    return load_problem(str(path)).solve()


def momentum_iterates(grad, x0, eta, lam, steps, nesterov=False):
    """θ^t, g^t, m^t of momentum (or Nesterov) in Fractions, the lecture's form: m^{t+1} = λ m^t − η g^t."""
    theta, m, out = list(x0), [F(0)] * len(x0), []
    for _ in range(steps):
        point = [th + lam * mi for th, mi in zip(theta, m)] if nesterov else theta
        g = grad(point)
        m = [lam * mi - eta * gi for mi, gi in zip(m, g)]
        theta = [th + mi for th, mi in zip(theta, m)]
        out.append((g, m, theta))
    return out


def test_the_lecture_momentum_example_lands_exactly_on_4(tmp_path, golden):
    solution = solved(tmp_path, MOMENTUM, "momentum-exact-decimals")
    expected = momentum_iterates(lambda p: [2 * p[0] - 8], [F(10)], F(1, 5), F(9, 10), 4)
    for t, (g, m, theta) in enumerate(expected):
        assert solution[f"momentum.g[{t}][x]"].value == float(g[0])
        assert solution[f"momentum.m[{t + 1}][x]"].value == float(m[0])
        assert solution[f"momentum.theta[{t + 1}][x]"].value == float(theta[0])
        assert solution[f"momentum.loss[{t + 1}]"].value == float((theta[0] - 4) ** 2)
    assert expected[1][2][0] == 4 and expected[2][0][0] == 0  # x² = 4 exactly, so g² = 0 and L(θ²) = 0
    text = render(solution, "text")
    assert "L(θ²) = (x² - 4)^2 = (4 - 4)^2 = 0\n" in text
    assert "g²_x = 2 x² - 8 = 2·4 - 8 = 0\n" in text
    assert "e-1" not in text  # no binary noise anywhere (1.77636e-15, 7.88861e-31)
    golden("optimizer-exact-decimals.txt", text)


def test_a_batch_of_decimal_data_gives_the_exact_iterates(tmp_path):
    solution = solved(tmp_path, REGRESSION)
    xs, ys = [F(1, 10), F(2, 10), F(3, 10)], [F(3, 10), F(5, 10), F(7, 10)]

    def grad(p):  # the mean over the samples of d/dw, d/db of (w x + b − y)²
        w, b = p
        residuals = [w * x + b - y for x, y in zip(xs, ys)]
        return [sum(2 * r * x for r, x in zip(residuals, xs)) / 3, sum(2 * r for r in residuals) / 3]

    start = [F(1, 10), F(2, 10)]
    theta = list(start)
    for t in range(6):  # plain gradient descent, η = 0.3
        g = grad(theta)
        theta = [th - F(3, 10) * gi for th, gi in zip(theta, g)]
        for name, gi, th in zip("wb", g, theta):
            assert solution[f"gd.g[{t}][{name}]"].value == float(gi)
            assert solution[f"gd.theta[{t + 1}][{name}]"].value == float(th)
    for method, nesterov in (("momentum", False), ("nesterov", True)):
        for t, (g, m, theta) in enumerate(momentum_iterates(grad, start, F(1, 10), F(7, 10), 6, nesterov)):
            for i, name in enumerate("wb"):
                assert solution[f"{method}.g[{t}][{name}]"].value == float(g[i])
                assert solution[f"{method}.m[{t + 1}][{name}]"].value == float(m[i])
                assert solution[f"{method}.theta[{t + 1}][{name}]"].value == float(theta[i])


def test_square_roots_and_exponentials_fall_back_to_floats(tmp_path):
    text = MOMENTUM.replace("method: momentum", "method: adam").replace("    momentum: 0.9\n", "")
    solution = solved(tmp_path, text)
    # m and v stay rational: m¹ = 0.1 g⁰, v¹ = 0.001 (g⁰)², with g⁰ = 12
    assert solution["adam.m[1][x]"].value == float(F(1, 10) * 12)
    assert solution["adam.v[1][x]"].value == float(F(1, 1000) * 144)
    # the update divides by sqrt(v̂) + ε: no longer rational, computed in floats as before
    x, m, v = 10.0, 0.0, 0.0
    for t in range(4):
        g = 2 * x - 8
        m, v = 0.9 * m + 0.1 * g, 0.999 * v + 0.001 * g * g
        x -= 0.2 * (m / (1 - 0.9 ** (t + 1))) / ((v / (1 - 0.999 ** (t + 1))) ** 0.5 + 1e-8)
        assert solution[f"adam.theta[{t + 1}][x]"].value == pytest.approx(x, rel=1e-12)


def test_rounding_to_decimals_is_unchanged(tmp_path, monkeypatch):
    text = REGRESSION.replace("rounding: exact", "rounding: 4")
    exact = solved(tmp_path, text).values()
    monkeypatch.setattr(optimizer, "ExactBuilder", SolutionBuilder)
    assert solved(tmp_path, text).values() == exact


def test_a_polynomial_iteration_stays_fast_and_close_to_floats(tmp_path):
    # x ← x − η 4x³ triples the digits of x every step: past MAX_BITS the chain goes on in floats
    text = MOMENTUM.replace("(x - 4)^2", "x^4").replace("{x: 10}", "{x: 0.7}").replace("iterations: 4",
                                                                                      "iterations: 60")
    text = text.replace("method: momentum", "method: gd").replace("    momentum: 0.9\n", "")
    began = time.perf_counter()
    solution = solved(tmp_path, text)
    assert time.perf_counter() - began < 5
    x = 0.7
    for t in range(60):
        x -= 0.2 * 4 * x**3
        assert solution[f"gd.theta[{t + 1}][x]"].value == pytest.approx(x, rel=1e-9)


X, Y = sympy.symbols("X Y")


@pytest.mark.parametrize("formula, env, expected", [
    (X + Y, {"X": F(1, 10), "Y": F(2, 10)}, F(3, 10)),
    (2 * X - 8, {"X": F(4)}, F(0)),
    (sympy.sqrt(X), {"X": F(9, 100)}, F(3, 10)),
    (sympy.Max(X, Y), {"X": F(-1), "Y": F(1, 3)}, F(1, 3)),
    (sympy.Heaviside(X, 0), {"X": F(0)}, F(0)),
    (sympy.Abs(X) * sympy.Float("0.01"), {"X": F(-3)}, F(3, 100)),
    (sympy.Piecewise((X, X > 0), (X / 10, True)), {"X": F(-2)}, F(-1, 5)),
    (X * sympy.exp(Y), {"X": F(0), "Y": F(1)}, F(0)),  # a zero factor, as the float evaluation has it
])
def test_exact_value(formula, env, expected):
    assert exact_value(formula, env) == expected


@pytest.mark.parametrize("formula, env", [
    (sympy.sqrt(X), {"X": F(2)}),
    (sympy.exp(X), {"X": F(0, 1) + 1}),
    (X * sympy.pi, {"X": F(1)}),
    (X + Y, {"X": F(1), "Y": None}),  # Y not exact: nor is anything computed from it
    (X**3, {"X": F(1, 3 ** (MAX_BITS // 2))}),  # too many digits to carry
])
def test_exact_value_fail(formula, env):
    assert exact_value(formula, env) is None


def test_a_division_by_an_exact_zero_is_one():
    with pytest.raises(ZeroDivisionError):
        exact_value(1 / X, {"X": F(0)})


@pytest.mark.parametrize("value, expected", [(0.1, F(1, 10)), (3, F(3)), (1e-08, F(1, 10**8)), (-2.5, F(-5, 2)),
                                             (float("inf"), None), (True, None)])
def test_a_given_is_the_decimal_as_written(value, expected):
    assert decimal(value) == expected
