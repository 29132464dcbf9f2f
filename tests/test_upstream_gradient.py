"""mlp_backprop with the loss's gradient given from above (`grad_yhat`), and the gradient with respect to the
input (`input_gradient`).

Every expected number comes from outside the solver: a plain numpy network
written here, differentiated by central differences of the linear functional
E = Σ_k ⟨g_k, ŷ_k⟩ (whose gradient is exactly back-propagation started from
∂E/∂ŷ_k = g_k), and torch.autograd's `ŷ.backward(g)` where torch is importable.
"""

import numpy as np
import pytest
import yaml

from derive.api import grade
from derive.problem import load_problem
from derive.steps import EXACT
from conftest import load_error

ACTIVATIONS = {"sigmoid": lambda z: 1 / (1 + np.exp(-z)), "tanh": np.tanh, "linear": lambda z: z,
               "softmax": lambda z: np.exp(z) / np.sum(np.exp(z))}
EPS = 1e-6
CLOSE = dict(rel=1e-6, abs=1e-9)


def problem_fields(seed, sizes, activations, samples, upstream=True, offset="bias"):
    """A random mlp_backprop problem in the to_from layout, and its numbers for the plain network."""
    rng = np.random.default_rng(seed)
    layers = []
    for l, act in enumerate(activations, start=1):
        layers.append({"activation": act, "weights": np.round(rng.uniform(-1, 1, (sizes[l], sizes[l - 1])), 2).tolist(),
                       "biases" if offset == "bias" else "thresholds": np.round(rng.uniform(-0.5, 0.5, sizes[l]), 2).tolist()})
    rows = []
    for _ in range(samples):
        x = np.round(rng.uniform(-1, 1, sizes[0]), 2).tolist()
        if upstream:
            rows.append({"x": x, "grad_yhat": np.round(rng.uniform(-1, 1, sizes[-1]), 2).tolist()})
        else:
            rows.append({"x": x, "y": np.round(rng.uniform(0.1, 0.9, sizes[-1]), 2).tolist()})
    fields = {"kind": "mlp_backprop", "sizes": list(sizes), "weights_layout": "to_from", "offset": offset,
              "layers": layers, "samples": rows, "input_gradient": True}
    if not upstream:
        fields["learning_rate"] = 0.5
    return fields


def objective(fields, weights, offsets, xs):
    """E = Σ_k ⟨g_k, ŷ_k⟩ with a given upstream gradient, or Σ_k 1/2 ‖ŷ_k − y_k‖² with targets."""
    sign = 1 if fields["offset"] == "bias" else -1
    total = 0.0
    for sample, x in zip(fields["samples"], xs):
        h = np.array(x, dtype=float)
        for layer, W, b in zip(fields["layers"], weights, offsets):
            h = ACTIVATIONS[layer["activation"]](W @ h + sign * b)
        if "grad_yhat" in sample:
            total += float(np.dot(sample["grad_yhat"], h))
        else:
            total += 0.5 * float(np.sum((h - np.array(sample["y"])) ** 2))
    return total


def expected(fields):
    """{key: value} of every weight, offset and input gradient, by central differences of `objective`."""
    weights = [np.array(layer["weights"], dtype=float) for layer in fields["layers"]]
    offsets = [np.array(layer.get("biases", layer.get("thresholds")), dtype=float) for layer in fields["layers"]]
    xs = [np.array(sample["x"], dtype=float) for sample in fields["samples"]]
    several = len(xs) > 1
    letter = "b" if fields["offset"] == "bias" else "theta"
    out = {}

    def central(array, index):
        keep = array[index]
        array[index] = keep + EPS
        up = objective(fields, weights, offsets, xs)
        array[index] = keep - EPS
        down = objective(fields, weights, offsets, xs)
        array[index] = keep
        return (up - down) / (2 * EPS)

    for l, (W, b) in enumerate(zip(weights, offsets), start=1):
        for j, i in np.ndindex(W.shape):  # to_from: row j = to-neuron, column i = from-neuron
            out[f"grad_w[{l}][{i + 1}][{j + 1}]"] = central(W, (j, i))
        for j in range(b.size):
            out[f"grad_{letter}[{l}][{j + 1}]"] = central(b, (j,))
    for k, x in enumerate(xs, start=1):
        for i in range(x.size):
            out[f"grad_x[{k}][{i + 1}]" if several else f"grad_x[{i + 1}]"] = central(x, (i,))
    return out


CASES = [  # (seed, sizes, activations, samples, given upstream gradient, offset)
    (1, (2, 2, 2), ("tanh", "sigmoid"), 1, True, "bias"),
    (2, (3, 2, 1), ("sigmoid", "sigmoid"), 1, True, "threshold"),
    (3, (2, 3, 3), ("tanh", "softmax"), 1, True, "bias"),
    (4, (2, 2, 2, 1), ("sigmoid", "tanh", "linear"), 3, True, "bias"),
    (5, (3, 2, 2), ("tanh", "sigmoid"), 2, False, "threshold"),
]


def write(tmp_path, fields):
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump(fields), encoding="utf-8")
    return path


@pytest.mark.parametrize("case", CASES, ids=[f"case{n}" for n in range(len(CASES))])
def test_every_gradient_matches_central_differences(tmp_path, case):
    fields = problem_fields(*case)
    values = load_problem(write(tmp_path, fields)).solve(EXACT).values()
    wanted = expected(fields)
    for key, value in wanted.items():
        assert values[key] == pytest.approx(value, **CLOSE), key
    assert any(key.startswith("grad_x") for key in wanted)


def test_with_an_upstream_gradient_no_loss_and_without_a_rate_no_update_is_printed(tmp_path):
    solution = load_problem(write(tmp_path, problem_fields(*CASES[0]))).solve()
    keys = {step.key for step in solution}
    assert "loss" not in keys and "eta" not in keys and not any(k.startswith("w_new") for k in keys)
    assert solution["grad_yhat[1]"].is_given


def test_a_rate_updates_the_weights_by_the_given_gradient(tmp_path):
    fields = {**problem_fields(*CASES[0]), "learning_rate": 0.25}
    values = load_problem(write(tmp_path, fields)).solve(EXACT).values()
    W1 = fields["layers"][0]["weights"]
    assert values["w_new[1][2][1]"] == pytest.approx(W1[0][1] - 0.25 * values["grad_w[1][2][1]"], rel=1e-12)


def test_an_upstream_gradient_of_one_differentiates_the_output_itself(tmp_path):
    fields = problem_fields(2, (2, 2, 1), ("sigmoid", "sigmoid"), 1, True, "bias")
    fields["samples"][0]["grad_yhat"] = [1]
    values = load_problem(write(tmp_path, fields)).solve(EXACT).values()
    yhat = values["yhat[1]"]
    # ∂ŷ/∂b² = σ′(z²) = ŷ (1 − ŷ) for a sigmoid output
    assert values["grad_b[2][1]"] == pytest.approx(yhat * (1 - yhat), rel=1e-12)


@pytest.mark.parametrize("case", CASES, ids=[f"case{n}" for n in range(len(CASES))])
def test_torch_autograd_agrees(tmp_path, case):
    torch = pytest.importorskip("torch", reason="PyTorch is an optional oracle; CI installs it")
    fields = problem_fields(*case)
    values = load_problem(write(tmp_path, fields)).solve(EXACT).values()
    t64 = dict(dtype=torch.float64)
    functions = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "linear": lambda z: z,
                 "softmax": lambda z: torch.softmax(z, dim=0)}
    sign = 1 if fields["offset"] == "bias" else -1
    weights = [torch.tensor(layer["weights"], **t64, requires_grad=True) for layer in fields["layers"]]
    offsets = [torch.tensor(layer.get("biases", layer.get("thresholds")), **t64, requires_grad=True)
               for layer in fields["layers"]]
    xs = [torch.tensor(sample["x"], **t64, requires_grad=True) for sample in fields["samples"]]
    total = 0
    for sample, x in zip(fields["samples"], xs):
        h = x
        for layer, W, b in zip(fields["layers"], weights, offsets):
            h = functions[layer["activation"]](W @ h + sign * b)
        target = sample.get("grad_yhat")
        total = total + ((h * torch.tensor(target, **t64)).sum() if target is not None
                         else 0.5 * ((h - torch.tensor(sample["y"], **t64)) ** 2).sum())
    total.backward()
    letter = "b" if fields["offset"] == "bias" else "theta"
    for l, (W, b) in enumerate(zip(weights, offsets), start=1):
        for j, i in np.ndindex(tuple(W.shape)):
            assert values[f"grad_w[{l}][{i + 1}][{j + 1}]"] == pytest.approx(W.grad[j, i].item(), rel=1e-10, abs=1e-13)
        for j in range(b.shape[0]):
            assert values[f"grad_{letter}[{l}][{j + 1}]"] == pytest.approx(b.grad[j].item(), rel=1e-10, abs=1e-13)
    several = len(xs) > 1
    for k, x in enumerate(xs, start=1):
        for i in range(x.shape[0]):
            key = f"grad_x[{k}][{i + 1}]" if several else f"grad_x[{i + 1}]"
            assert values[key] == pytest.approx(x.grad[i].item(), rel=1e-10, abs=1e-13)


def test_an_input_gradient_is_graded_with_follow_through(tmp_path):
    path = write(tmp_path, problem_fields(*CASES[0]))
    values = load_problem(path).solve().values()
    w = load_problem(path).solve().values()
    right = grade(path, {"delta[1][1]": values["delta[1][1]"], "delta[1][2]": values["delta[1][2]"],
                         "grad_x[1]": values["grad_x[1]"]})
    assert right["grad_x[1]"].code == "OK"
    wrong_delta = values["delta[1][1]"] + 0.1  # carried into ∂E/∂x₁ = δ¹₁ w¹₁₁ + δ¹₂ w¹₁₂ (w[1][i][j]: from i to j)
    carried = wrong_delta * w["w[1][1][1]"] + values["delta[1][2]"] * w["w[1][1][2]"]
    sheet = grade(path, {"delta[1][1]": wrong_delta, "delta[1][2]": values["delta[1][2]"], "grad_x[1]": carried})
    assert sheet["delta[1][1]"].code == "WRONG" and sheet["grad_x[1]"].code == "FT"


VALID = """\
kind: mlp_backprop
sizes: [2, 1]
offset: bias
layers:
  - activation: sigmoid
    weights: [[0.5], [-0.5]]
samples:
  - {x: [1, 2], grad_yhat: [1]}
input_gradient: true
"""
#  1 kind  2 sizes  3 offset  4 layers  5 activation  6 weights  7 samples  8 the sample  9 input_gradient

BAD = [
    (VALID.replace("grad_yhat: [1]}", "grad_yhat: [1], y: [0.5]}"), 8, "samples[0].grad_yhat",
     "give y (for the loss) or grad_yhat (∂E/∂ŷ from above), not both"),
    (VALID.replace("input_gradient", "  - {x: [0, 1]}\ninput_gradient"), 9, "samples[1].grad_yhat",
     "missing (give every sample its grad_yhat, or none)"),
    (VALID + "loss: mean_squared_error\n", 10, "loss",
     "has no meaning with grad_yhat: the gradient from above, grad_yhat, takes the loss's place"),
    (VALID + "iterations: 2\n", 10, "iterations",
     "has no meaning with grad_yhat: grad_yhat is the gradient at these weights only: one iteration"),
    (VALID + "loss_after: true\n", 10, "loss_after", "has no meaning with grad_yhat: with grad_yhat there is no loss to print"),
    (VALID + "update: [weights]\n", 10, "update", "has no meaning without a learning_rate (no update is made)"),
    (VALID.replace("grad_yhat: [1]}", "grad_yhat: [1, 2]}"), 8, "samples[0].grad_yhat", "expected 1 number(s), got 2"),
    (VALID.replace("{x: [1, 2], grad_yhat: [1]}", "{x: [1, 2]}"), 9, "input_gradient",
     "has no meaning without targets (the samples have no y: forward pass only)"),
]


@pytest.mark.parametrize("text, line, field, message", BAD, ids=range(len(BAD)))
def test_bad_input_is_one_located_line(tmp_path, text, line, field, message):
    assert load_error(tmp_path, text) == f"{tmp_path / 'p.yaml'}:{line}: {field}: {message}"


def test_the_valid_problem_of_the_table_solves(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text(VALID, encoding="utf-8")
    values = load_problem(path).solve(EXACT).values()
    s = values["yhat[1]"]
    assert values["grad_x[1]"] == pytest.approx(s * (1 - s) * 0.5, rel=1e-12)


def test_the_bundled_problem_matches_central_differences():
    from pathlib import Path

    path = Path(__file__).parent.parent / "derive" / "problems" / "mlp-upstream-gradient.yaml"
    fields = yaml.safe_load(path.read_text(encoding="utf-8"))
    values = load_problem(path).solve(EXACT).values()
    for key, value in expected(fields).items():
        assert values[key] == pytest.approx(value, **CLOSE), key
