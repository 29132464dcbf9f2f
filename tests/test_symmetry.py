"""`kind: symmetry`: equal hidden neurons stay equal under gradient descent; a random init tells them apart.

Oracles outside the solver:

- a plain gradient-descent loop written here (forward, deltas, outer-product
  gradients, update), whose weights the solver's must match iteration after
  iteration, and in which the columns of a constant init stay equal;
- exact zeros: with equal starting weights every difference step is 0.0,
  not merely small, for several activations, losses, layouts and iterations;
- numpy's PCG64 draw written here as the lecture's W = σ randn(fan_in, fan_out).
"""

import re
from pathlib import Path

import jsonschema
import numpy as np
import pytest
import yaml

from derive.cli import cli
from derive.errors import ProblemError
from derive.fields import schema
from derive.kinds.symmetry import Init, draw_weights
from derive.problem import load_problem
from derive.render import render
from derive.steps import EXACT
from conftest import edited, extended, solve_error

PROBLEMS = Path(__file__).parent.parent / "derive" / "problems"
SAME = dict(rel=1e-9, abs=1e-12)

FORWARD = {
    "sigmoid": lambda z: 1 / (1 + np.exp(-z)),
    "tanh": np.tanh,
    "relu": lambda z: np.maximum(0, z),
    "linear": lambda z: z,
    "softmax": lambda z: np.exp(z) / np.exp(z).sum(),
}
SLOPE = {  # f'(z) written with h = f(z)
    "sigmoid": lambda z, h: h * (1 - h),
    "tanh": lambda z, h: 1 - h ** 2,
    "relu": lambda z, h: (z > 0).astype(float),
    "linear": lambda z, h: np.ones_like(z),
}


def plain_descent(data, weights):
    """Parameters after each iteration of gradient descent, written out here (from-to weights)."""
    sign = -1.0 if data.get("offset", "threshold") == "threshold" else 1.0
    acts = [layer["activation"] for layer in data["layers"]]
    offset_name = "thresholds" if sign < 0 else "biases"
    offsets = [np.array(layer.get(offset_name, [0] * len(w[0])), dtype=float) for layer, w in zip(data["layers"], weights)]
    weights = [np.array(w, dtype=float) for w in weights]
    eta, mean = data["learning_rate"], data.get("batch", "sum") == "mean"
    history = []
    for _ in range(data.get("iterations", 1)):
        grads_w = [np.zeros_like(w) for w in weights]
        grads_b = [np.zeros_like(b) for b in offsets]
        for sample in data["samples"]:
            hs, zs = [np.array(sample["x"], dtype=float)], []
            for act, w, b in zip(acts, weights, offsets):
                zs.append(hs[-1] @ w + sign * b)
                hs.append(FORWARD[act](zs[-1]))
            y = np.array(sample["y"], dtype=float)
            if acts[-1] == "softmax":  # with cross-entropy
                delta = hs[-1] - y
            else:
                delta = (hs[-1] - y) * SLOPE[acts[-1]](zs[-1], hs[-1])
            for l in range(len(weights) - 1, -1, -1):
                grads_w[l] += np.outer(hs[l], delta)
                grads_b[l] += sign * delta
                if l:
                    delta = (weights[l] @ delta) * SLOPE[acts[l - 1]](zs[l - 1], hs[l])
        n = len(data["samples"]) if mean else 1
        weights = [w - eta * g / n for w, g in zip(weights, grads_w)]
        offsets = [b - eta * g / n for b, g in zip(offsets, grads_b)]
        history.append((weights, offsets))
    return history


def load(tmp_path, data):
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return load_problem(path)


def problem(sizes, activations, init=None, weights=None, **fields):
    layers = [{"activation": act} for act in activations]
    if weights is not None:
        for layer, w in zip(layers, weights):
            layer["weights"] = w
    data = {"kind": "symmetry", "sizes": sizes, "layers": layers,
            "samples": [{"x": [1.0, -0.5, 0.25][:sizes[0]], "y": [1.0, 0.0][:sizes[-1]]}],
            "learning_rate": 1, "iterations": 3}
    if init is not None:
        data["init"] = init
    data.update(fields)
    return data


def from_to_weights(problem_):
    return [np.array(layer.weights, dtype=float) for layer in problem_.spec.mlp.layers]


def differences(solution):
    return {step.key: step.value for step in solution if "diff_" in step.key}


CONSTANT = {
    "zero, sigmoid, the lecture's": problem([2, 2, 1], ["sigmoid", "sigmoid"], {"constant": 0}, offset="bias"),
    "0.3, tanh, linear output, biases": problem([3, 3, 1], ["tanh", "linear"], {"constant": 0.3}, offset="bias",
                                                iterations=4),
    "0.5, relu, two samples, mean": problem([2, 3, 2], ["relu", "sigmoid"], {"constant": 0.5}, batch="mean",
                                           samples=[{"x": [1, 2], "y": [0, 1]}, {"x": [-1, 0.5], "y": [1, 1]}]),
    "0.2, two hidden layers, to_from": problem([2, 2, 3, 1], ["sigmoid", "tanh", "sigmoid"], {"constant": 0.2},
                                              weights_layout="to_from"),
    "0.1, softmax and cross-entropy": problem([2, 3, 2], ["sigmoid", "softmax"], {"constant": 0.1},
                                             loss="cross_entropy"),
    "given equal columns, thresholds, 4 decimals": problem(
        [2, 2, 1], ["sigmoid", "sigmoid"], weights=[[[0.4, 0.4], [-0.2, -0.2]], [[0.7], [0.7]]], rounding=4),
    "zero, with L2 and L1": problem([2, 2, 1], ["sigmoid", "sigmoid"], {"constant": 0.25}, weight_decay=0.1,
                                    l1=0.01),
}


@pytest.mark.parametrize("data", CONSTANT.values(), ids=CONSTANT.keys())
def test_equal_init_keeps_every_difference_exactly_zero(tmp_path, data):
    solution = load(tmp_path, data).solve()
    found = differences(solution)
    iterations = data.get("iterations", 3)
    assert any(k.startswith(f"it{iterations}.diff_w_in") for k in found)  # the last update is compared too
    assert {k: v for k, v in found.items() if v != 0} == {}
    assert "conclusion: every difference is 0" in render(solution, "text")


@pytest.mark.parametrize("data", [d for name, d in CONSTANT.items() if "softmax" not in name and "L2" not in name
                                  and "4 decimals" not in name],
                         ids=[name for name in CONSTANT if "softmax" not in name and "L2" not in name
                              and "4 decimals" not in name])
def test_constant_init_matches_a_plain_loop_where_columns_stay_equal(tmp_path, data):
    problem_ = load(tmp_path, data)
    solution = problem_.solve(EXACT)
    history = plain_descent(data, from_to_weights(problem_))
    for t, (weights, _) in enumerate(history, start=1):
        for l, w in enumerate(weights, start=1):
            for i, j in np.ndindex(w.shape):
                assert solution[f"it{t}.w_new[{l}][{i + 1}][{j + 1}]"].value == pytest.approx(w[i, j], **SAME)
        for w in weights[:-1]:  # into the hidden layers: every column equal to the first
            assert np.array_equal(w, np.repeat(w[:, :1], w.shape[1], axis=1))
        for w in weights[1:]:  # out of the hidden layers: every row equal to the first
            assert np.array_equal(w, np.repeat(w[:1, :], w.shape[0], axis=0))


RANDOM = {
    "normal draw": problem([2, 2, 1], ["sigmoid", "sigmoid"], {"seed": 2, "scale": 0.5}, offset="bias"),
    "uniform draw, tanh": problem([3, 3, 1], ["tanh", "linear"], {"seed": 5, "scale": 1, "distribution": "uniform",
                                                                   "decimals": 3}),
    "given matrices": problem([2, 3, 1], ["sigmoid", "linear"],
                              weights=[[[0.1, -0.3, 0.5], [0.2, 0.4, -0.6]], [[0.3], [-0.2], [0.1]]]),
}


@pytest.mark.parametrize("data", RANDOM.values(), ids=RANDOM.keys())
def test_random_init_breaks_the_symmetry(tmp_path, data):
    problem_ = load(tmp_path, data)
    solution = problem_.solve(EXACT)
    found = differences(solution)
    history = plain_descent(data, from_to_weights(problem_))
    sizes = data["sizes"]
    for t, (weights, offsets) in enumerate(history, start=1):
        w_in, w_out = weights[0], weights[1]
        for j in range(2, sizes[1] + 1):
            for i in range(1, sizes[0] + 1):
                value = found[f"it{t}.diff_w_in[1][{j}][{i}]"]
                assert value == pytest.approx(w_in[i - 1, j - 1] - w_in[i - 1, 0], **SAME)
                assert value != 0
            for s in range(1, sizes[2] + 1):
                assert found[f"it{t}.diff_w_out[1][{j}][{s}]"] == pytest.approx(w_out[j - 1, s - 1] - w_out[0, s - 1],
                                                                                  **SAME)
            assert found[f"it{t}.diff_h[1][{j}]"] != 0
    assert "a random initialisation breaks the symmetry" in render(solution, "text")


def test_draws_are_the_lectures_formulas():
    """W = σ · randn(fan_in, fan_out) and W = 2r · rand(fan_in, fan_out) - r from Generator(PCG64(seed)), rounded."""
    rng = np.random.Generator(np.random.PCG64(9))
    normal = [np.round(0.5 * rng.standard_normal((2, 3)), 2), np.round(0.5 * rng.standard_normal((3, 1)), 2)]
    got = draw_weights(Init("random", distribution="normal", scale=0.5, seed=9, decimals=2), [(2, 3), (3, 1)])
    for matrix, expected in zip(got, normal):
        assert np.array(matrix) == pytest.approx(expected)
    rng = np.random.Generator(np.random.PCG64(9))
    uniform = np.round(2 * 0.3 * rng.random((2, 2)) - 0.3, 4)
    got = draw_weights(Init("random", distribution="uniform", scale=0.3, seed=9, decimals=4), [(2, 2)])
    assert np.array(got[0]) == pytest.approx(uniform)


def test_the_lectures_first_update(tmp_path):
    """Chapter 3.2: with all zeros, ∂L/∂w13 = ∂L/∂w23 and the first layer's gradients are 0 in the first update."""
    solution = load(tmp_path, problem([2, 2, 1], ["sigmoid", "sigmoid"], {"constant": 0}, offset="bias")).solve()
    assert solution["it1.grad_w[2][1][1]"].value == solution["it1.grad_w[2][2][1]"].value != 0
    assert all(solution[f"it1.grad_w[1][{i}][{j}]"].value == 0 for i in (1, 2) for j in (1, 2))
    assert solution["it2.grad_w[1][1][1]"].value == solution["it2.grad_w[1][1][2]"].value != 0


# -- bundled problems ----------------------------------------------------------------

@pytest.mark.parametrize("name", ["symmetry-zero-init", "symmetry-random-init"])
def test_bundled_solutions_print_as_read(golden, name):
    golden(f"{name}.txt", render(load_problem(PROBLEMS / f"{name}.yaml").solve(), "text"))


def test_bundled_zero_init_by_hand():
    """symmetry-zero-init: ŷ = σ(0) = 0.5, δ² = (0.5 - 1)·0.5·0.5 = -0.125, ∂E/∂w²ⱼ₁ = -0.125·0.5 = -0.0625."""
    solution = load_problem(PROBLEMS / "symmetry-zero-init.yaml").solve()
    assert solution["it1.delta[2][1]"].value == -0.125
    assert solution["it1.diff_grad_w_out[1][2][1]"].value == 0
    assert solution["it1.grad_w[2][2][1]"].value == -0.0625


# -- bad input ----------------------------------------------------------------------

VALID = """\
kind: symmetry
sizes: [2, 2, 1]
init:
  constant: 0
layers:
  - activation: sigmoid
  - activation: sigmoid
samples:
  - x: [1, 0.5]
    y: [1]
learning_rate: 1
"""
#  1 kind  2 sizes  3 init  4 constant  5 layers  6 sigmoid  7 sigmoid  8 samples  9 x  10 y  11 learning_rate


def edit(line, text):
    return edited(VALID, line, text)


FAILURES = [
    (edit(4, "  constant: 0\n  seed: 1"), "p.yaml:5: init.seed: has no meaning with constant (a constant init draws nothing)"),
    (edit(4, "  scale: 1"), "p.yaml:4: init.seed: missing: give constant: c, or seed: s to draw the weights at random"),
    (edit(4, "  seed: 1"), "p.yaml:4: init.scale: missing required field"),
    (edit(4, "  seed: 1\n  scale: 0"), "p.yaml:5: init.scale: expected a positive number, got 0"),
    (edit(4, "  seed: 1\n  scale: 1\n  distribution: gauss"),
     "p.yaml:6: init.distribution: expected one of normal, uniform, got text 'gauss'"),
    (edit(4, "  constnt: 0"), "p.yaml:4: init.constnt: unknown field (did you mean 'constant'?)"),
    (edit(6, "  - activation: sigmoid\n    weights: [[0, 0], [0, 0]]"),
     "p.yaml:7: layers[0].weights: given twice: init sets the weights; remove init or these weights"),
    (edit(2, "sizes: [2, 1]").replace("  - activation: sigmoid\n", "", 1),
     "p.yaml:2: sizes: expected a hidden layer (at least 3 sizes): the symmetry is between hidden neurons"),
    (edit(2, "sizes: [2, 1, 1]"), "p.yaml:2: sizes: expected a hidden layer of at least 2 neurons to compare"),
    (edit(10, "").replace("learning_rate: 1\n", ""),
     "p.yaml:9: samples: expected a target y for every sample: the symmetry shows in the updates"),
    (edit(4, "  constant: zero"), "p.yaml:4: init.constant: expected a number, got text 'zero'"),
    (edit(2, "sizes: [2]"), "p.yaml:2: sizes: expected 2 to 17 layer sizes (input first), got 1"),
]


@pytest.mark.parametrize("text, message", FAILURES, ids=[m.split(": ", 1)[1] for _, m in FAILURES])
def test_bad_input(runner, tmp_path, text, message):
    assert solve_error(runner, tmp_path, text) == f"{tmp_path}/{message}\n"


def test_valid_file_solves(runner, tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text(extended(VALID, "iterations: 2"), encoding="utf-8")
    result = runner.invoke(cli, ["solve", str(path)])
    assert result.exit_code == 0, result.output
    assert "  h′¹₂ - h′¹₁ = 0.5 - 0.5 = 0\n" in result.output


# -- the JSON Schema refuses what derive refuses ---------------------------------------

# a bundled problem with fields set as given, and the field derive names when it refuses it
SCHEMA_REFUSED = [
    ({"init": {"constnt": 0}}, "init.constnt"),  # an unknown field
    ({"init": {"seed": 2, "scale": 0.5, "distribution": "gauss"}}, "init.distribution"),
    ({"init": {"seed": 2, "scale": 0}}, "init.scale"),
    ({"init": {"constant": 0, "seed": 2}}, "init.seed"),
    ({"iterations": 0}, "iterations"),
]


@pytest.mark.parametrize("fields, named", SCHEMA_REFUSED, ids=[named for _, named in SCHEMA_REFUSED])
def test_the_schema_refuses_what_derive_refuses(tmp_path, fields, named):
    data = {**yaml.safe_load((PROBLEMS / "symmetry-random-init.yaml").read_text(encoding="utf-8")), **fields}
    assert list(jsonschema.Draft202012Validator(schema("symmetry")).iter_errors(data)), "the schema accepted it"
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    with pytest.raises(ProblemError, match=re.escape(f": {named}: ")):
        load_problem(path)
