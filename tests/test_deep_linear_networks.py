"""Critical points of small deep linear networks (critical_points, up to six parameters).

The verdicts are checked against the theory (Baldi & Hornik 1989; Kawaguchi
2016): with squared loss every local minimum of a deep linear network is
global and every other critical point is a saddle. The global minimum is
computed here independently, by least squares over the end-to-end linear
map (numpy's `lstsq`): these networks can realise any map of their shape.
Every family is also checked at sample points with finite differences of
the loss written as a plain numpy function: the gradient is 0 there, the
Hessian is positive semidefinite on the minima, and a strict saddle's
Hessian has the negative eigenvalue and the escape direction it states.
"""

import itertools
import time

import numpy as np
import pytest
import sympy

from derive.problem import load_problem
from derive.symbolic import classify, critical
from derive.kinds.critical_points import analysis_of

from conftest import PROBLEMS

# name: (hidden sizes as (inputs, hidden), samples [(x..., y)])
NETWORKS = {
    "1-1-1-1": ((1, None), [((1,), 1)]),
    "1-2-1": ((1, 2), [((1,), 1)]),
    "1-2-1, two samples": ((1, 2), [((1,), 1), ((2,), 1)]),
    "2-1-1": ((2, 1), [((1, 2), 1)]),
    "2-1-1, two samples": ((2, 1), [((1, 0), 1), ((0, 1), 2)]),
    "2-2-1, two samples": ((2, 2), [((1, 0), 1), ((0, 1), 2)]),
}


def network(shape):
    """(parameter names, ŷ as text, ŷ as a numpy function of (θ, x)) of a linear network."""
    inputs, hidden = shape
    if hidden is None:  # the 1-1-1-1 chain y = w1 w2 w3 x
        return ["w1", "w2", "w3"], "w1 w2 w3 x1", lambda t, x: t[0] * t[1] * t[2] * x[0]
    w = [[f"w{j + 1}{i + 1}" if inputs > 1 else f"w{j + 1}" for i in range(inputs)] for j in range(hidden)]
    v = [f"v{j + 1}" if hidden > 1 else "v" for j in range(hidden)]
    names = [name for row in w for name in row] + v
    terms = [f"{v[j]} (" + " + ".join(f"{w[j][i]} x{i + 1}" for i in range(inputs)) + ")" for j in range(hidden)]

    def output(t, x):
        weights = np.array(t[:inputs * hidden]).reshape(hidden, inputs)
        return float(np.array(t[inputs * hidden:]) @ (weights @ np.array(x, dtype=float)))

    return names, " + ".join(terms), output


def problem_text(shape, samples):
    names, output, _ = network(shape)
    inputs = shape[0]
    rows = "".join("    - {" + ", ".join(f"x{i + 1}: {x[i]}" for i in range(inputs)) + f", y: {y}}}\n"
                   for x, y in samples)
    return (f"kind: critical_points\nparameters: [{', '.join(names)}]\nmodel:\n  output: {output}\n"
            f"  inputs: [{', '.join(f'x{i + 1}' for i in range(inputs))}]\n  samples:\n{rows}")


def least_squares_minimum(samples):
    """min over end-to-end maps a of Σ (y − a·x)², by numpy."""
    X = np.array([x for x, _ in samples], dtype=float)
    y = np.array([y for _, y in samples], dtype=float)
    a, *_ = np.linalg.lstsq(X, y, rcond=None)
    return float(np.sum((y - X @ a) ** 2))


def numeric_loss(shape, samples):
    _, _, output = network(shape)
    return lambda t: sum((y - output(t, x)) ** 2 for x, y in samples)


def gradient(f, t, h=1e-5):
    t = np.array(t, dtype=float)
    return np.array([(f(t + h * e) - f(t - h * e)) / (2 * h) for e in np.eye(len(t))])


def hessian(f, t, h=1e-4):
    t = np.array(t, dtype=float)
    n = len(t)
    H = np.empty((n, n))
    for i, j in itertools.product(range(n), repeat=2):
        ei, ej = h * np.eye(n)[i], h * np.eye(n)[j]
        H[i, j] = (f(t + ei + ej) - f(t + ei - ej) - f(t - ei + ej) + f(t - ei - ej)) / (4 * h * h)
    return H


def verdict(item):
    return item.decision.verdict if item.decision is not None else item.test.verdict


def sample_points(family, parameters, count=3):
    """Points of a family at seeded random values of its free parameters (kept away from 0)."""
    rng = np.random.default_rng(7)
    for _ in range(count):
        free = {f: sympy.Float(float(rng.uniform(0.4, 1.6) * rng.choice([-1, 1]))) for f in family.free}
        solved = dict(family.solved)
        values = {}
        for p in parameters:
            expr = solved.get(p, next((f for f in family.free if f.name == p.name), None))
            values[p] = float(expr.xreplace(free)) if expr is not None else 0.0
        yield [values[p] for p in parameters], free


@pytest.fixture(scope="module")
def analyses(tmp_path_factory):
    folder = tmp_path_factory.mktemp("networks")
    out = {}
    for name, (shape, samples) in NETWORKS.items():
        path = folder / (name.replace(" ", "").replace(",", "_") + ".yaml")
        path.write_text(problem_text(shape, samples), encoding="utf-8")
        out[name] = analysis_of(load_problem(path))
    return out


@pytest.mark.parametrize("name", NETWORKS)
def test_every_local_minimum_is_global_and_every_other_critical_point_a_saddle(analyses, name):
    shape, samples = NETWORKS[name]
    analysis, best = analyses[name], least_squares_minimum(samples)
    items = list(analysis.points) + list(analysis.families)
    assert items and analysis.families, "a deep linear network has non-isolated critical points"
    for item in items:
        assert not item.loss_value.free_symbols, "L is constant on every piece of the critical set"
        value = float(item.loss_value)
        if verdict(item) == "minimum":
            assert value == pytest.approx(best, abs=1e-12)
        else:
            assert verdict(item) in ("saddle", "neither"), (item, verdict(item))
            assert value > best + 1e-9
    assert any(verdict(item) == "minimum" for item in items)


@pytest.mark.parametrize("name", NETWORKS)
def test_every_family_is_critical_and_its_hessian_agrees_with_finite_differences(analyses, name):
    shape, samples = NETWORKS[name]
    analysis = analyses[name]
    f = numeric_loss(shape, samples)
    for family in analysis.families:
        for theta, free in sample_points(family, analysis.parameters):
            assert np.max(np.abs(gradient(f, theta))) < 1e-6
            H = hessian(f, theta)
            exact = np.array(family.hessian.xreplace(free).evalf(), dtype=float)
            assert np.allclose(H, exact, atol=1e-5)
            values = np.linalg.eigvalsh(H)
            if verdict(family) == "minimum":
                assert values.min() > -1e-5, "a minimum's Hessian is positive semidefinite"
            if family.test.verdict == "saddle":
                assert values.min() < -1e-3 and values.max() > 1e-3, "a strict saddle: eigenvalues of both signs"


@pytest.mark.parametrize("name, network", [("linear-network-2-2-1", "2-2-1, two samples"),
                                           ("deep-linear-saddles", "1-1-1-1")])
def test_a_strict_saddle_family_states_its_escape_direction(name, network):
    """The 2-2-1 network's saddles (hidden layer orthogonal to the data, output weights 0; an eigenvalue −2√5
    all along) and the 1-1-1-1 chain's lines (eigenvalues ±2 w3: which is negative depends on the point): at
    every sampled point of each, a stated u whose eigenvalue is negative there is an eigenvector of H (finite
    differences) with that eigenvalue, and L falls along it."""
    analysis = analysis_of(load_problem(PROBLEMS / f"{name}.yaml"))
    f = numeric_loss(*NETWORKS[network])
    saddles = [family for family in analysis.families if family.test.verdict == "saddle"]
    assert saddles and all(family.escape for family in saddles)
    for family in saddles:
        for theta, free in sample_points(family, analysis.parameters):
            H = hessian(f, theta)
            falling = [(float(family.eigen[i].value.xreplace(free)), np.array([float(c.xreplace(free))
                                                                                for c in vector]))
                       for i, vector in family.escape]
            falling = [(value, u) for value, u in falling if value < 0 and np.linalg.norm(u) > 0]
            assert falling, "a direction for every point"
            for value, u in falling:
                assert np.allclose(H @ u, value * u, atol=1e-4)
                assert f(np.array(theta) + 1e-2 * u / np.linalg.norm(u)) < f(theta)


def test_the_pieces_of_one_manifold_are_not_repeated():
    """L = (1 − v1 w1 − v2 w2)²: SymPy returns the curve v1 = w1 = 0, v2 w2 = 1 inside the surface w1 = 0,
    v2 w2 = 1; only the surface is kept, and the notes say it lies on the family's equation."""
    analysis = analysis_of(load_problem(PROBLEMS / "linear-network-1-2-1.yaml"))
    statements = [family.statement for family in analysis.families]
    assert len(statements) == 2, statements
    assert any("lies" in note or "satisfies the equations" in note for note in analysis.notes)
    origin = [point for point in analysis.points if all(c == 0 for c in point.coordinates)]
    assert len(origin) == 1 and origin[0].test.verdict == "saddle"


def test_the_non_strict_saddle_of_three_weights_is_called_so():
    """L = (1 − w1 w2 w3)²: H = 0 at the origin, so no negative eigenvalue; it is a saddle all the same."""
    analysis = analysis_of(load_problem(PROBLEMS / "deep-linear-saddles.yaml"))
    origin = next(point for point in analysis.points if all(c == 0 for c in point.coordinates))
    assert origin.decision.verdict == "neither"
    assert "non-strict saddle" in origin.decision.argument
    lines = [family for family in analysis.families if family.test.verdict == "saddle"]
    assert lines and all("a strict saddle" in family.test.reason for family in lines)


def _slow(seconds):
    def work(*args, **kwargs):
        time.sleep(seconds)
    return work


def _overrun(tmp_path, monkeypatch, module, name):
    """(Solution, Analysis) of the bundled 1-2-1 network with a time limit of 2 s (ample, on a busy machine, for
    the work left as it is: SymPy's solve takes 0.4 s) and module.name made to sleep 30 s (the analysis is
    cached: cleared before and after)."""
    critical.analyse.cache_clear()
    monkeypatch.setattr(module, name, _slow(30))
    path = tmp_path / "p.yaml"
    path.write_text((PROBLEMS / "linear-network-1-2-1.yaml").read_text(encoding="utf-8")
                    + "time_limit: 2\n", encoding="utf-8")
    problem = load_problem(path)
    try:
        return problem.solve(), analysis_of(problem)
    finally:
        critical.analyse.cache_clear()


def test_a_time_limit_inside_the_analysis_leaves_that_piece_out_and_prints_the_rest(tmp_path, monkeypatch):
    """The eigenvalues along every family made to overrun: the analysis still ends, with each family's test and
    verdict, and the notes name what was not finished."""
    solution, analysis = _overrun(tmp_path, monkeypatch, classify, "eigen_decomposition")
    assert any(note.startswith("NOT FINISHED") and "took longer than 2 s" in note for note in analysis.notes)
    assert all(family.eigen is None for family in analysis.families)
    assert all(verdict(family) == "minimum" for family in analysis.families)
    assert "c1.verdict" in solution and "c1.decided" in solution


def test_a_critical_set_not_solved_in_time_is_said_so_and_the_rest_printed(tmp_path, monkeypatch):
    """SymPy's solve made to overrun, and the numeric search then finds a continuum it cannot state: the general
    part is printed and the notes say why no point is examined; it is not an error."""
    solution, analysis = _overrun(tmp_path, monkeypatch, sympy, "solve")
    assert not analysis.points and not analysis.families
    assert any("none is examined" in note for note in analysis.notes)
    assert any(note.startswith("NOT FINISHED") for note in analysis.notes)
    assert "H[4][4]" in solution


# -- signs proved by sums of squares ----------------------------------------------------

a, b, c = sympy.symbols("a b c", real=True)
n = sympy.Symbol("n", real=True, nonzero=True)

SIGNS = [
    # the 1-2-1 network's nonzero eigenvalue on its family: 2 (1 - b c)^2 / n^2 + 2 (n^2 + b^2 + c^2)
    (2 * b**2 + 2 * c**2 + 2 / n**2 + 2 * n**2 - 4 * b * c / n**2 + 2 * b**2 * c**2 / n**2, 1),
    (-(a**2 + 2 * a * b + 2 * b**2 + 1), -1),
    (a**4 + b**4 + 1 - a**2 * b**2, 1),
    (a**2 - 2 * a * b + b**2, None),  # (a - b)^2 is 0 where a = b: not > 0
    (a**2 - 3 * a * b + b**2, None),  # indefinite
    (a**2 * b**2 - 1, None),
    (n**2, 1),
]


@pytest.mark.parametrize("expr, sign", SIGNS, ids=[str(s[0]) for s in SIGNS])
def test_signs_proved_by_sums_of_squares(expr, sign):
    assert classify.sign_of(expr) == sign


def _values(expr, rng, count=400):
    symbols = sorted(expr.free_symbols, key=str)
    f = sympy.lambdify(symbols, expr, "numpy")
    points = rng.normal(scale=2.0, size=(count, len(symbols)))
    points[np.abs(points) < 1e-3] = 1e-3  # nonzero symbols stay nonzero
    return f(*points.T)


def test_a_sign_proved_is_never_contradicted_by_a_value():
    """Random polynomials in a, b, n (n nonzero): sums of squares of binomials of monomials, plus a random cross
    term that often makes them indefinite, plus 0 or 1. Whenever a sign is proved, every sampled value has it;
    and some signs are proved, so the check is not empty."""
    monomials = [1, a, b, n, a * b, a * n, b * n, a**2, b**2, n**2]
    proved = 0
    for seed in range(60):
        rng = np.random.default_rng(seed)
        pick = lambda: monomials[int(rng.integers(len(monomials)))]
        expr = sum((int(rng.integers(1, 3)) * pick() + int(rng.integers(-2, 3)) * pick()) ** 2 for _ in range(3))
        expr = sympy.expand(expr + int(rng.integers(-4, 5)) * pick() * pick() + int(rng.integers(0, 2)))
        sign = classify.sign_of(expr)
        if sign in (1, -1) and expr.free_symbols:
            proved += 1
            assert np.all(np.sign(_values(expr, rng)) == sign), expr
    assert proved >= 4


def test_an_expanded_sum_of_squares_is_decided_by_its_lower_bound(tmp_path):
    """L = (w1 w2 − 1)² + (w3 w4 − 1)² written expanded: SymPy's assumptions do not see L ≥ 0, the sum of squares
    does; every family where L = 0 is a global minimum, the others strict saddles."""
    path = tmp_path / "p.yaml"
    path.write_text("kind: critical_points\nparameters: [w1, w2, w3, w4]\n"
                    "loss: w1^2 w2^2 - 2 w1 w2 + w3^2 w4^2 - 2 w3 w4 + 2\n", encoding="utf-8")
    analysis = analysis_of(load_problem(path))
    f = lambda t: (t[0] * t[1] - 1) ** 2 + (t[2] * t[3] - 1) ** 2
    for item in list(analysis.points) + list(analysis.families):
        if item.loss_value == 0:
            assert verdict(item) == "minimum" and "sum of squares" in item.decision.argument
        else:
            assert verdict(item) == "saddle"
            for theta, _ in (sample_points(item, analysis.parameters) if hasattr(item, "free") else
                             [([float(c) for c in item.coordinates], None)]):
                assert np.linalg.eigvalsh(hessian(f, theta)).min() < -1e-3


@pytest.mark.parametrize("expr, holds", [
    (sympy.expand((a * b - 1) ** 2 + (a - n) ** 2), True),
    (a**2 - a * b + b**2, True),
    (a**2 - 3 * a * b + b**2, False),
    (a**4 - a**2 + 1, True),  # (a² − 1/2)² + 3/4
    (a**4 * b**2 + a**2 * b**4 - 3 * a**2 * b**2 + 1, False),  # Motzkin's: ≥ 0, but no sum of squares
    (a**4 + b**4 - a**2 * b, False),  # below 0 near a² = b/2 for small b
])
def test_nonnegative_by_squares(expr, holds):
    assert classify.nonnegative_by_squares(expr) is holds
    if holds:
        assert np.all(_values(expr, np.random.default_rng(0)) >= -1e-9)
