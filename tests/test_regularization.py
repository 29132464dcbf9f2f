"""L2 weight decay and L1 regularisation in mlp_backprop, against a plain update and finite differences.

Oracles, all outside the solver:

- a plain regularised update written here, w' = (1 - ηλ) w - η (g + λ₁ sign(w)),
  applied to the gradients of the numpy engine (derive/engine/mlp.py, an
  implementation independent of the step-by-step solver), iteration after
  iteration;
- central finite differences of the penalised loss E + λ/2 ‖w‖² + λ₁ ‖w‖₁
  (offsets included with decay_offsets), computed by a forward pass written
  here: (w - w') / η must be its gradient;
- the subgradient sign(0) = 0: a weight at 0 moves by the data gradient alone.
"""

from pathlib import Path

import numpy as np
import pytest
import yaml

from derive.engine import Parameters
from derive.engine.mlp import gradient_step
from derive.problem import load_problem
from derive.render import render
from derive.steps import EXACT
from conftest import SMALL_NETWORK, edited, extended, solve_error

PROBLEMS = Path(__file__).parent.parent / "derive" / "problems"
SAME = dict(rel=1e-9, abs=1e-12)
FD_EPS = 1e-6
FD_CLOSE = dict(rel=1e-6, abs=1e-8)


def network(layout="from_to", offset="threshold", **fields):
    """A 2-3-2 sigmoid network, no weight at 0, one or two samples; the file fields as a dict."""
    w1 = [[0.5, -0.4, 0.3], [0.2, 0.7, -0.6]]
    w2 = [[0.4, -0.5], [-0.3, 0.6], [0.8, 0.1]]
    name = "thresholds" if offset == "threshold" else "biases"
    layers = []
    for matrix, offsets in ((w1, [0.1, -0.2, 0.3]), (w2, [-0.1, 0.2])):
        stored = [list(r) for r in zip(*matrix)] if layout == "to_from" else matrix
        layers.append({"activation": "sigmoid", "weights": stored, name: offsets})
    data = {"kind": "mlp_backprop", "rounding": "exact", "sizes": [2, 3, 2], "weights_layout": layout,
            "offset": offset, "layers": layers, "samples": [{"x": [1, -0.5], "y": [1, 0]}],
            "learning_rate": 0.5}
    data.update(fields)
    return data


def load(tmp_path, data):
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return load_problem(path)


# ================================================================================
# A plain regularised update and a plain penalised loss
# ================================================================================

def plain_updates(spec):
    """Every iteration's parameters by the engine's gradients and the update written out here."""
    eta, l2, l1 = spec.learning_rate, spec.weight_decay, spec.l1
    params = Parameters(tuple(np.array(layer.weights, dtype=float) for layer in spec.layers),
                        tuple(np.array(layer.offsets, dtype=float) for layer in spec.layers))
    history = []
    for _ in range(spec.iterations):
        step = gradient_step(spec, params)
        weights, offsets = params.weights, params.offsets
        if spec.update_weights:
            weights = tuple((1 - eta * l2) * w - eta * (g + l1 * np.sign(w)) for w, g in zip(weights, step.weight_grads))
        if spec.update_offsets:
            if spec.decay_offsets:
                offsets = tuple((1 - eta * l2) * b - eta * (g + l1 * np.sign(b))
                                for b, g in zip(offsets, step.offset_grads))
            else:
                offsets = tuple(b - eta * g for b, g in zip(offsets, step.offset_grads))
        params = Parameters(weights, offsets)
        history.append(params)
    return history


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def penalised_loss(spec, weights, offsets):
    """E + λ/2 ‖w‖² + λ₁ ‖w‖₁ of a sigmoid network with half squared error, summed over the samples."""
    sign = -1.0 if spec.offset == "threshold" else 1.0
    data = 0.0
    for x, y in spec.samples:
        h = np.array(x, dtype=float)
        for w, b in zip(weights, offsets):
            h = sigmoid(h @ w + sign * b)
        data += 0.5 * np.sum((h - np.array(y)) ** 2)
    if spec.batch == "mean":
        data /= len(spec.samples)
    penalised = list(weights) + (list(offsets) if spec.decay_offsets else [])
    return (data + spec.weight_decay / 2 * sum(np.sum(p ** 2) for p in penalised)
            + spec.l1 * sum(np.sum(np.abs(p)) for p in penalised))


def solver_weights(solution, spec, prefix=""):
    """The solver's updated weights w_new[l][i][j] as from-to arrays."""
    return [np.array([[solution[f"{prefix}w_new[{l}][{i}][{j}]"].value for j in range(1, n_to + 1)]
                      for i in range(1, n_from + 1)])
            for l, (n_from, n_to) in enumerate(zip(spec.sizes, spec.sizes[1:]), start=1)]


def solver_offsets(solution, spec, prefix=""):
    name = "theta" if spec.offset == "threshold" else "b"
    return [np.array([solution[f"{prefix}{name}_new[{l}][{j}]"].value for j in range(1, n + 1)])
            for l, n in enumerate(spec.sizes[1:], start=1)]


# ================================================================================
# The solver's updates against the plain ones
# ================================================================================

CASES = {
    "l2 weights only": dict(weight_decay=0.1),
    "l2 offsets too": dict(weight_decay=0.1, decay_offsets=True),
    "l1 weights only": dict(l1=0.05),
    "l1 offsets too": dict(l1=0.05, decay_offsets=True),
    "l1 and l2": dict(l1=0.05, weight_decay=0.2),
    "l2, to_from, biases": dict(weight_decay=0.3, decay_offsets=True, layout="to_from", offset="bias"),
    "l1, three iterations": dict(l1=0.02, weight_decay=0.1, iterations=3, decay_offsets=True),
    "l2, batch mean of two": dict(weight_decay=0.1, batch="mean",
                                  samples=[{"x": [1, -0.5], "y": [1, 0]}, {"x": [0.2, 0.9], "y": [0, 1]}]),
    "l1, weights updated only": dict(l1=0.1, update=["weights"]),
}


@pytest.mark.parametrize("fields", CASES.values(), ids=CASES.keys())
def test_updates_match_a_plain_regularised_update(tmp_path, fields):
    fields = dict(fields)
    data = network(fields.pop("layout", "from_to"), fields.pop("offset", "threshold"), **fields)
    problem = load(tmp_path, data)
    spec, solution = problem.spec, problem.solve()
    for t, expected in enumerate(plain_updates(spec), start=1):
        prefix = f"it{t}." if spec.iterations > 1 else ""
        for got, want in zip(solver_weights(solution, spec, prefix), expected.weights):
            assert got == pytest.approx(want, **SAME)
        if spec.update_offsets:
            for got, want in zip(solver_offsets(solution, spec, prefix), expected.offsets):
                assert got == pytest.approx(want, **SAME)


@pytest.mark.parametrize("fields", [CASES[name] for name in ("l2 weights only", "l2 offsets too", "l1 weights only",
                                                             "l1 offsets too", "l1 and l2", "l2, batch mean of two")],
                         ids=["l2", "l2 offsets", "l1", "l1 offsets", "l1 and l2", "batch mean"])
def test_update_descends_the_penalised_loss(tmp_path, fields):
    """(θ - θ′)/η is the central finite difference of E + λ/2 ‖w‖² + λ₁ ‖w‖₁ (away from w = 0)."""
    problem = load(tmp_path, network(**fields))
    spec, solution = problem.spec, problem.solve()
    weights = [np.array(layer.weights, dtype=float) for layer in spec.layers]
    offsets = [np.array(layer.offsets, dtype=float) for layer in spec.layers]
    eta = spec.learning_rate
    groups = [(weights, solver_weights(solution, spec))]
    if spec.decay_offsets:
        groups.append((offsets, solver_offsets(solution, spec)))
    for params, updated in groups:
        for index, (p, new) in enumerate(zip(params, updated)):
            for cell in np.ndindex(p.shape):
                original = p[cell]
                p[cell] = original + FD_EPS
                up = penalised_loss(spec, weights, offsets)
                p[cell] = original - FD_EPS
                down = penalised_loss(spec, weights, offsets)
                p[cell] = original
                assert (original - new[cell]) / eta == pytest.approx((up - down) / (2 * FD_EPS), **FD_CLOSE)


def test_offsets_are_not_decayed_unless_asked(tmp_path):
    """Chapter 3.2: 一般不考虑bias. Without decay_offsets, θ′ = θ - η ∂E/∂θ even with λ and λ₁ set."""
    plain = load(tmp_path, network()).solve()
    regularised = load(tmp_path, network(weight_decay=0.5, l1=0.1)).solve()
    for key in ("theta_new[1][1]", "theta_new[1][2]", "theta_new[2][2]"):
        assert regularised[key].value == plain[key].value
    assert regularised["w_new[1][1][1]"].value != plain["w_new[1][1][1]"].value


def test_l1_subgradient_at_zero_is_zero(tmp_path):
    """sign(0) = 0: a weight at 0 moves by -η g alone, whatever λ₁."""
    data = network(l1=0.3)
    data["layers"][0]["weights"][1][2] = 0
    spec = load(tmp_path, data).spec
    gradient = gradient_step(spec, Parameters(tuple(np.array(layer.weights, dtype=float) for layer in spec.layers),
                                              tuple(np.array(layer.offsets, dtype=float) for layer in spec.layers)))
    solution = load(tmp_path, data).solve()
    assert solution["w_new[1][2][3]"].value == pytest.approx(-0.5 * gradient.weight_grads[0][1, 2], **SAME)
    assert solution["w_new[1][2][2]"].value == pytest.approx(
        0.7 - 0.5 * (gradient.weight_grads[0][1, 1] + 0.3), **SAME)


def test_the_lecture_l2_form_is_printed(tmp_path):
    """(1 - ηλ) θ - η ∇L, chapter 3.2's last line, for weights and (asked for) offsets."""
    text = render(load(tmp_path, network(weight_decay=0.1, decay_offsets=True)).solve(), "text")
    assert "w′¹₁₁ = (1 - η λ) w¹₁₁ - η ∂E/∂w¹₁₁ = (1 - 0.5·0.1)·0.5 - 0.5·" in text
    assert "θ′¹₁ = (1 - η λ) θ¹₁ - η ∂E/∂θ¹₁ = (1 - 0.5·0.1)·0.1 - 0.5·" in text
    text = render(load(tmp_path, network(l1=0.05)).solve(), "text")
    assert "w′¹₁₂ = w¹₁₂ - η (∂E/∂w¹₁₂ + λ₁ sign(w¹₁₂)) = -0.4 - 0.5·(" in text
    assert "0.05·sign(-0.4))" in text


# ================================================================================
# Bundled problems and bad input
# ================================================================================

@pytest.mark.parametrize("name", ["l1-subgradient", "l2-decay-offsets"])
def test_bundled_solutions_print_as_read(golden, name):
    golden(f"{name}.txt", render(load_problem(PROBLEMS / f"{name}.yaml").solve(), "text"))


def test_bundled_l1_problem_matches_the_plain_update():
    problem = load_problem(PROBLEMS / "l1-subgradient.yaml")
    spec = problem.spec
    for got, want in zip(solver_weights(problem.solve(EXACT), spec), plain_updates(spec)[0].weights):
        assert got == pytest.approx(want, **SAME)
    # w¹₂₁ = 0: sign(0) = 0, so with the file's 4 decimals w′ = 0 - 1·(0.0097 + 0.01·0) = -0.0097
    assert problem.solve()["w_new[1][2][1]"].value == pytest.approx(-0.0097, abs=1e-12)


VALID = SMALL_NETWORK  # its lines: 1 kind  2 sizes  3 layers  4 activation  5 weights  6 samples  7 x  8 y  9 learning_rate

FAILURES = [
    (extended(VALID, "l1: -0.1"), "p.yaml:10: l1: expected a number >= 0, got -0.1"),
    (extended(VALID, "l1: lots"), "p.yaml:10: l1: expected a number, got text 'lots'"),
    (extended(VALID, "decay_offsets: true"), "p.yaml:10: decay_offsets: has no meaning without weight_decay or l1"),
    (extended(VALID, "weight_decay: 0.1\ndecay_offsets: 2"),
     "p.yaml:11: decay_offsets: expected true or false, got 2"),
    (extended(VALID, "l1: 0.1\nupdate: [weights]\ndecay_offsets: true"),
     "p.yaml:12: decay_offsets: has no meaning when the thresholds are not updated (add thresholds to update)"),
    (extended(edited(VALID, 8, ""), "l1: 0.1").replace("learning_rate: 0.5\n", ""),
     "p.yaml:8: l1: has no meaning without targets (the samples have no y: forward pass only)"),
    (extended(VALID, "l_1: 0.1"), "p.yaml:10: l_1: unknown field (did you mean 'l1'?)"),
]


@pytest.mark.parametrize("text, message", FAILURES, ids=[m.split(": ", 1)[1] for _, m in FAILURES])
def test_bad_regularisation_fields(runner, tmp_path, text, message):
    assert solve_error(runner, tmp_path, text) == f"{tmp_path}/{message}\n"
