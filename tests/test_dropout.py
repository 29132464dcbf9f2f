"""`kind: dropout`: the training pass with a mask and the test pass, against outside oracles.

- a plain numpy forward pass written here (the lecture's train_step and
  predict: H = f(W X + b), H *= U, and at test H * p, or the inverted form);
- torch.nn.functional.dropout, whose training-mode output is mask * x / p
  (inverted dropout) and whose eval-mode output is x unchanged;
- the expected-value identities E[m h] = p h and E[m h / p] = h, by averaging
  many seeded masks;
- numpy's PCG64 stream drawn here as the lecture's `rand(n) < p`;
- dropout on the inputs and DropConnect (a mask per weight into a hidden
  unit) against a second numpy pass written here, and their test passes
  against the mean of the training output over every mask, enumerated with
  its probability, for networks small and linear enough that the mean is
  exact; torch.nn.functional.dropout applied to inputs and to a weight matrix
  (inverted DropConnect).
"""

import itertools

import re
from pathlib import Path

import jsonschema
import numpy as np
import pytest
import yaml

from derive.cli import cli
from derive.errors import ProblemError
from derive.fields import schema
from derive.kinds.dropout import draw, draw_masks
from derive.problem import load_problem
from derive.render import render
from derive.steps import EXACT
from conftest import edited, extended, solve_error

PROBLEMS = Path(__file__).parent.parent / "derive" / "problems"
SAME = dict(rel=1e-12, abs=1e-12)

ACTIVATIONS = {
    "sigmoid": lambda z: 1 / (1 + np.exp(-z)),
    "tanh": np.tanh,
    "relu": lambda z: np.maximum(0, z),
    "linear": lambda z: z,
    "softmax": lambda z: np.exp(z) / np.exp(z).sum(),
}


def problem_data(sizes, activations, *, layout="from_to", offset="threshold", draw=0, **fields):
    """A dropout problem with weights drawn here (from-to, transposed for to_from) and the given fields."""
    rng = np.random.default_rng(draw)
    name = "thresholds" if offset == "threshold" else "biases"
    layers = []
    for act, (n_from, n_to) in zip(activations, zip(sizes, sizes[1:])):
        w = np.round(rng.uniform(-1, 1, (n_from, n_to)), 2)
        stored = w.T if layout == "to_from" else w
        layers.append({"activation": act, "weights": stored.tolist(), name: np.round(rng.uniform(-0.5, 0.5, n_to), 2).tolist()})
    data = {"kind": "dropout", "sizes": list(sizes), "weights_layout": layout, "offset": offset, "layers": layers,
            "x": np.round(rng.uniform(-1, 1, sizes[0]), 2).tolist()}
    data.update(fields)
    return data


def load(tmp_path, data):
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return load_problem(path)


def plain_passes(data):
    """(train, test): per layer, z and the activation, and per hidden layer what it passes on.

    Written from the lecture's code: H = f(W X + b); H *= U (and / p, inverted); at test H * p (weight scaling).
    """
    keep = data["keep"] if "keep" in data else 1 - data["drop"]
    inverted = data.get("rule", "weight_scaling") == "inverted"
    sign = -1.0 if data["offset"] == "threshold" else 1.0
    masks = data["masks"] if "masks" in data else draw_masks(data["seed"], keep, data["sizes"][1:-1])
    layers = data["layers"]
    results = []
    for train in (True, False):
        a = np.array(data["x"], dtype=float)
        zs, hs, passed = [], [], []
        for l, layer in enumerate(layers):
            w = np.array(layer["weights"], dtype=float)
            if data["weights_layout"] == "to_from":
                w = w.T
            offsets = np.array(layer.get("thresholds", layer.get("biases")), dtype=float)
            z = a @ w + sign * offsets
            h = ACTIVATIONS[layer["activation"]](z)
            zs.append(z)
            hs.append(h)
            if l == len(layers) - 1:
                break
            if train:
                a = np.array(masks[l]) * h / (keep if inverted else 1)
            else:
                a = h if inverted else keep * h
            passed.append(a)
        results.append((zs, hs, passed))
    return results


def check_against_plain(solution, data):
    sizes = data["sizes"]
    L = len(sizes) - 1
    for prefix, (zs, hs, passed) in zip(("train.", "test."), plain_passes(data)):
        for l in range(1, L + 1):
            for j in range(1, sizes[l] + 1):
                assert solution[f"{prefix}z[{l}][{j}]"].value == pytest.approx(zs[l - 1][j - 1], **SAME)
                name = "yhat" if l == L else "h"
                key = f"{prefix}yhat[{j}]" if l == L else f"{prefix}h[{l}][{j}]"
                assert solution[key].value == pytest.approx(hs[l - 1][j - 1], **SAME), name
                if l == L:
                    continue
                inverted = data.get("rule", "weight_scaling") == "inverted"
                if prefix == "train.":
                    key = f"train.h_scaled[{l}][{j}]" if inverted else f"train.h_masked[{l}][{j}]"
                else:
                    key = f"test.h[{l}][{j}]" if inverted else f"test.h_scaled[{l}][{j}]"
                assert solution[key].value == pytest.approx(passed[l - 1][j - 1], **SAME)


CASES = {
    "weight scaling, keep, relu": ([3, 4, 1], ["relu", "linear"], dict(keep=0.5, masks=[[1, 0, 1, 1]])),
    "inverted, keep, sigmoid": ([2, 3, 1], ["sigmoid", "sigmoid"],
                                dict(keep=0.8, rule="inverted", masks=[[0, 1, 1]])),
    "inverted, drop, two hidden layers": ([3, 4, 3, 2], ["tanh", "relu", "sigmoid"],
                                          dict(drop=0.25, rule="inverted", masks=[[1, 1, 0, 1], [0, 1, 1]])),
    "weight scaling, drop, to_from, biases": ([2, 3, 2, 1], ["sigmoid", "tanh", "linear"],
                                              dict(drop=0.5, masks=[[0, 1, 1], [1, 0]], layout="to_from",
                                                   offset="bias")),
    "softmax output, seed": ([2, 5, 3], ["relu", "softmax"], dict(keep=0.6, seed=11)),
    "inverted, seed, keep 1": ([2, 3, 1], ["tanh", "linear"], dict(keep=1, seed=3, rule="inverted")),
    "every unit dropped": ([2, 2, 1], ["sigmoid", "sigmoid"], dict(keep=0.3, masks=[[0, 0]])),
}


@pytest.mark.parametrize("sizes, activations, fields", CASES.values(), ids=CASES.keys())
def test_passes_match_a_plain_forward_pass(tmp_path, sizes, activations, fields):
    data = problem_data(sizes, activations, **fields)
    check_against_plain(load(tmp_path, data).solve(EXACT), data)


@pytest.mark.parametrize("given, value", [("keep", 0.8), ("drop", 0.2)])
def test_the_probability_not_given_is_derived(tmp_path, given, value):
    data = problem_data([2, 3, 1], ["relu", "linear"], masks=[[1, 0, 1]], **{given: value})
    solution = load(tmp_path, data).solve(EXACT)
    other = "drop" if given == "keep" else "keep"
    assert solution[given].is_given and not solution[other].is_given
    assert (solution["keep"].value, solution["drop"].value) == pytest.approx((0.8, 0.2), **SAME)


def test_weight_scaling_equals_scaling_the_outgoing_weights(tmp_path):
    """The slide's 权重比例推断规则 (weights times p) and its code (activations times p) give the same test pass."""
    data = problem_data([3, 4, 2], ["relu", "sigmoid"], keep=0.7, masks=[[1, 1, 0, 1]])
    solution = load(tmp_path, data).solve(EXACT)
    h = np.array([solution[f"test.h[1][{j}]"].value for j in range(1, 5)])
    w2 = 0.7 * np.array(data["layers"][1]["weights"])
    z = h @ w2 - np.array(data["layers"][1]["thresholds"])
    assert [solution[f"test.z[2][{j}]"].value for j in (1, 2)] == pytest.approx(z.tolist(), **SAME)


# -- inputs dropped too, and DropConnect: a second numpy pass ---------------------------

def probabilities(data):
    """(p, p0): the hidden (or weight) keep probability, and the inputs' (None: inputs not dropped)."""
    keep = data["keep"] if "keep" in data else 1 - data["drop"]
    input_keep = data.get("input_keep", 1 - data["input_drop"] if "input_drop" in data else None)
    return keep, input_keep


def weight_matrices(data):
    """Each layer's weights as [from][to] arrays, whatever the file's layout."""
    return [np.array(layer["weights"], dtype=float).T if data["weights_layout"] == "to_from"
            else np.array(layer["weights"], dtype=float) for layer in data["layers"]]


def masks_of(data):
    """(input mask or None, per hidden layer its mask: a vector, or with dropconnect a [from][to] matrix)."""
    keep, input_keep = probabilities(data)
    dropconnect = data.get("method") == "dropconnect"
    sizes = data["sizes"]
    if "masks" in data:
        masks = [np.array(m, dtype=float) for m in data["masks"]]
        if dropconnect and data["weights_layout"] == "to_from":
            masks = [m.T for m in masks]
        return (np.array(data["input_mask"], dtype=float) if input_keep is not None else None), masks
    # drawn here from the stated stream: Generator(PCG64(seed)), input first, then each hidden layer in turn
    rng = np.random.Generator(np.random.PCG64(data["seed"]))
    input_mask = (rng.random(sizes[0]) < input_keep).astype(float) if input_keep is not None else None
    masks = []
    for n_from, n_to in zip(sizes[:-2], sizes[1:-1]):
        if not dropconnect:
            masks.append((rng.random(n_to) < keep).astype(float))
        elif data["weights_layout"] == "to_from":
            masks.append((rng.random((n_to, n_from)) < keep).astype(float).T)
        else:
            masks.append((rng.random((n_from, n_to)) < keep).astype(float))
    return input_mask, masks


def numpy_pass(data, input_mask, masks, train):
    """One pass, every quantity keyed as the solver keys it (prefix included), vectorised per layer."""
    keep, input_keep = probabilities(data)
    inverted = data.get("rule", "weight_scaling") == "inverted"
    dropconnect = data.get("method") == "dropconnect"
    sign = -1.0 if data["offset"] == "threshold" else 1.0
    prefix = "train." if train else "test."
    out = {}

    def put(name, values, *leading):
        for index, value in np.ndenumerate(np.asarray(values)):
            out[prefix + name + "".join(f"[{i}]" for i in (*leading, *(k + 1 for k in index)))] = float(value)

    a = np.array(data["x"], dtype=float)
    if input_keep is not None:
        if train:
            a = input_mask * a
            put("x_masked", a)
            if inverted:
                a = a / input_keep
                put("x_scaled", a)
        elif not inverted:
            a = input_keep * a
            put("x_scaled", a)
    weights = weight_matrices(data)
    L = len(weights)
    for l, (w, layer) in enumerate(zip(weights, data["layers"]), start=1):
        if dropconnect and l < L:
            if train:
                w = masks[l - 1] * w
                put("w_masked", w, l)
                if inverted:
                    w = w / keep
                    put("w_scaled", w, l)
            elif not inverted:
                w = keep * w
                put("w_scaled", w, l)
        z = a @ w + sign * np.array(layer.get("thresholds", layer.get("biases")), dtype=float)
        h = ACTIVATIONS[layer["activation"]](z)
        put("z", z, l)
        if l == L:
            put("yhat", h)
            break
        put("h", h, l)
        a = h
        if not dropconnect:
            if train:
                a = masks[l - 1] * h
                put("h_masked", a, l)
                if inverted:
                    a = a / keep
                    put("h_scaled", a, l)
            elif not inverted:
                a = keep * h
                put("h_scaled", a, l)
    return out


def check_against_numpy(solution, data):
    """Every computed quantity of both passes, as the numpy pass keys it, and no other pass step."""
    input_mask, masks = masks_of(data)
    expected = {**numpy_pass(data, input_mask, masks, True), **numpy_pass(data, input_mask, masks, False)}
    solved = {step.key: step.value for step in solution if step.key.startswith(("train.", "test."))}
    assert set(solved) == set(expected)
    for key, value in expected.items():
        assert solved[key] == pytest.approx(value, **SAME), key


NEW_CASES = {
    "inputs, weight scaling": ([3, 4, 1], ["relu", "linear"],
                               dict(input_keep=0.8, keep=0.5, input_mask=[1, 0, 1], masks=[[1, 0, 1, 1]])),
    "inputs, inverted, drop given": ([2, 3, 2, 1], ["tanh", "sigmoid", "linear"],
                                     dict(input_drop=0.2, drop=0.5, rule="inverted", input_mask=[0, 1],
                                          masks=[[1, 1, 0], [0, 1]])),
    "inputs, seed, to_from, biases": ([3, 3, 2], ["sigmoid", "softmax"],
                                      dict(input_keep=0.8, keep=0.5, seed=4, layout="to_from", offset="bias")),
    "inputs kept with probability 1": ([2, 2, 1], ["relu", "linear"],
                                       dict(input_keep=1, keep=0.5, input_mask=[1, 1], masks=[[0, 1]])),
    "dropconnect, weight scaling": ([2, 3, 1], ["tanh", "linear"],
                                    dict(method="dropconnect", keep=0.5, masks=[[[1, 0, 1], [1, 1, 0]]])),
    "dropconnect, inverted, to_from": ([3, 2, 1], ["sigmoid", "sigmoid"],
                                       dict(method="dropconnect", drop=0.3, rule="inverted", layout="to_from",
                                            offset="bias", masks=[[[1, 0, 1], [0, 1, 1]]])),
    "dropconnect, two hidden layers, seed": ([2, 3, 2, 2], ["relu", "tanh", "softmax"],
                                             dict(method="dropconnect", keep=0.6, seed=9)),
    "dropconnect, inverted, seed, to_from": ([2, 2, 2, 1], ["tanh", "relu", "linear"],
                                             dict(method="dropconnect", keep=0.7, rule="inverted", seed=21,
                                                  layout="to_from")),
}


@pytest.mark.parametrize("sizes, activations, fields", [*CASES.values(), *NEW_CASES.values()],
                         ids=[*CASES.keys(), *NEW_CASES.keys()])
def test_every_step_matches_a_second_numpy_pass(tmp_path, sizes, activations, fields):
    data = problem_data(sizes, activations, **fields)
    check_against_numpy(load(tmp_path, data).solve(EXACT), data)


def every_mask(data):
    """(probability, input mask, hidden masks) for every assignment of the masks of `data`'s network."""
    keep, input_keep = probabilities(data)
    dropconnect = data.get("method") == "dropconnect"
    sizes = data["sizes"]
    shapes = [(n_from, n_to) if dropconnect else (n_to,) for n_from, n_to in zip(sizes[:-2], sizes[1:-1])]
    shapes = ([(sizes[0],)] if input_keep is not None else []) + shapes
    probs = ([input_keep] if input_keep is not None else []) + [keep] * (len(shapes) - (input_keep is not None))
    counts = [int(np.prod(shape)) for shape in shapes]
    for bits in itertools.product((0, 1), repeat=sum(counts)):
        flat = np.array(bits, dtype=float)
        pieces, probability, start = [], 1.0, 0
        for shape, count, p in zip(shapes, counts, probs):
            piece = flat[start:start + count]
            start += count
            probability *= float(np.prod(np.where(piece == 1, p, 1 - p)))
            pieces.append(piece.reshape(shape))
        if input_keep is not None:
            yield probability, pieces[0], pieces[1:]
        else:
            yield probability, None, pieces


def as_file_masks(data, input_mask, masks):
    """The masks as a file writes them (dropconnect: in the weights' layout)."""
    fields = {}
    if input_mask is not None:
        fields["input_mask"] = input_mask.astype(int).tolist()
    if data.get("method") == "dropconnect" and data["weights_layout"] == "to_from":
        masks = [m.T for m in masks]
    fields["masks"] = [m.astype(int).tolist() for m in masks]
    return fields


# linear networks: the output is multilinear in the independent mask values, so its mean over the masks is the
# output with every mask value replaced by its mean p, which is what each rule's test pass computes
EXPECTATION_CASES = {
    "inputs and hidden units, weight scaling": ([2, 2, 1], dict(input_keep=0.8, keep=0.5)),
    "inputs and hidden units, inverted": ([2, 2, 1], dict(input_drop=0.2, keep=0.5, rule="inverted")),
    "two hidden layers and inputs, inverted, to_from": ([2, 2, 2, 1], dict(input_keep=0.8, keep=0.6,
                                                                           rule="inverted", layout="to_from")),
    "dropconnect, weight scaling": ([2, 2, 1], dict(method="dropconnect", keep=0.5)),
    "dropconnect, inverted, to_from, biases": ([2, 2, 2], dict(method="dropconnect", keep=0.7, rule="inverted",
                                                               layout="to_from", offset="bias")),
    "dropconnect, two hidden layers": ([2, 2, 2, 1], dict(method="dropconnect", drop=0.4)),
}


@pytest.mark.parametrize("sizes, fields", EXPECTATION_CASES.values(), ids=EXPECTATION_CASES.keys())
def test_test_pass_is_the_mean_training_output_over_every_mask(tmp_path, sizes, fields):
    """Σ over all masks of P(mask) · ŷ_train(mask), enumerated in numpy, equals the solver's test ŷ (exact here)."""
    data = problem_data(sizes, ["linear"] * (len(sizes) - 1), draw=len(sizes), **fields, seed=0)
    total, mean = 0.0, 0.0
    for probability, input_mask, masks in every_mask(data):
        total += probability
        mean = mean + probability * np.array([v for k, v in sorted(numpy_pass(data, input_mask, masks, True).items())
                                              if k.startswith("train.yhat")])
    assert total == pytest.approx(1, **SAME)
    solution = load(tmp_path, data).solve(EXACT)
    test = [solution[f"test.yhat[{j}]"].value for j in range(1, sizes[-1] + 1)]
    assert test == pytest.approx(mean.tolist(), **SAME)
    assert test == pytest.approx([v for k, v in sorted(numpy_pass(data, None, None, False).items())
                                  if k.startswith("test.yhat")], **SAME)


@pytest.mark.parametrize("fields", [dict(method="dropconnect", keep=0.5), dict(input_keep=0.8, keep=0.5),
                                    dict(method="dropconnect", keep=0.6, rule="inverted")],
                         ids=["dropconnect", "inputs", "dropconnect inverted"])
def test_the_solver_trains_as_numpy_under_every_mask(tmp_path, fields):
    """A 2-2-1 tanh network: the solver's training pass under each of the 16 masks, and the exact mean of the first
    layer's z over them (linear in the masks whatever the activation) is the test pass's z."""
    data = problem_data([2, 2, 1], ["tanh", "sigmoid"], draw=3, seed=0, **fields)
    del data["seed"]
    mean_z = np.zeros(2)
    for probability, input_mask, masks in every_mask(data):
        with_masks = {**data, **as_file_masks(data, input_mask, masks)}
        solution = load(tmp_path, with_masks).solve(EXACT)
        expected = numpy_pass(with_masks, input_mask, masks, True)
        for key, value in expected.items():
            assert solution[key].value == pytest.approx(value, **SAME), key
        mean_z += probability * np.array([expected["train.z[1][1]"], expected["train.z[1][2]"]])
    assert [solution["test.z[1][1]"].value, solution["test.z[1][2]"].value] == pytest.approx(mean_z.tolist(), **SAME)


def test_dropconnect_weight_scaling_equals_the_mean_of_the_pre_activation_by_sampling(tmp_path):
    """With tanh the test ŷ is not the mean training ŷ, but the first layer's z is: checked over 4000 seeds."""
    data = problem_data([3, 4, 1], ["tanh", "linear"], method="dropconnect", keep=0.6, seed=0)
    solution = load(tmp_path, data).solve(EXACT)
    x, w = np.array(data["x"]), weight_matrices(data)[0]
    theta = np.array(data["layers"][0]["thresholds"])
    zs = np.array([x @ ((np.random.Generator(np.random.PCG64(seed)).random((3, 4)) < 0.6) * w) - theta
                   for seed in range(4000)])
    test_z = np.array([solution[f"test.z[1][{j}]"].value for j in range(1, 5)])
    assert np.all(np.abs(zs.mean(axis=0) - test_z) < 4 * zs.std(axis=0) / np.sqrt(len(zs)) + 1e-12)


# -- seeds: input first, then the hidden layers; DropConnect draws matrices ----------------------

def test_seeded_masks_follow_the_stated_stream(tmp_path):
    """input u = random(3) < p₀, then each hidden layer's random(n) < p; with dropconnect random(shape as written)."""
    data = problem_data([3, 4, 2, 1], ["relu", "relu", "linear"], input_keep=0.8, keep=0.5, seed=123)
    solution = load(tmp_path, data).solve(EXACT)
    rng = np.random.Generator(np.random.PCG64(123))
    m0, m1, m2 = rng.random(3) < 0.8, rng.random(4) < 0.5, rng.random(2) < 0.5
    assert [solution[f"m[0][{i}]"].value for i in (1, 2, 3)] == m0.astype(int).tolist()
    assert [solution[f"m[1][{j}]"].value for j in (1, 2, 3, 4)] == m1.astype(int).tolist()
    assert [solution[f"m[2][{j}]"].value for j in (1, 2)] == m2.astype(int).tolist()

    data = problem_data([3, 4, 1], ["relu", "linear"], method="dropconnect", keep=0.5, seed=123, layout="to_from")
    solution = load(tmp_path, data).solve(EXACT)
    written = np.random.Generator(np.random.PCG64(123)).random((4, 3)) < 0.5  # to_from: rows are the to-neurons
    assert [[solution[f"m[1][{i}][{j}]"].value for i in (1, 2, 3)] for j in (1, 2, 3, 4)] == \
        written.astype(int).tolist()


def test_seeded_masks_are_reproducible(tmp_path):
    data = problem_data([2, 3, 2, 1], ["tanh", "relu", "linear"], method="dropconnect", keep=0.5, seed=77)
    first, second = (render(load(tmp_path, data).solve(), "json") for _ in range(2))
    assert first == second
    assert draw(77, [((2, 3), 0.5), ((3, 2), 0.5)]) == draw(77, [((2, 3), 0.5), ((3, 2), 0.5)])
    # PCG64's stream is fixed: the bundled dropconnect problem's seed 3 drops w¹₁₃ and w¹₂₁
    assert draw(3, [((2, 3), 0.5)]) == ([[1, 1, 0], [0, 1, 1]],)
    solution = load_problem(PROBLEMS / "dropconnect.yaml").solve()
    assert [solution[f"m[1][{i}][{j}]"].value for i in (1, 2) for j in (1, 2, 3)] == [1, 1, 0, 0, 1, 1]


def test_bundled_dropout_inputs_by_hand():
    """dropout-inputs, exact: training z¹ = (0.5 + 0.5 + 0.1, 1 - 0.25, -0.5 - 0.5 - 0.2) with x₃ dropped,
    ŷ = 1.1 + 0.3 = 1.4; test x times 0.8, a times 0.5: ŷ = 0.65 - 0.35 + 0.6 + 0.3 = 1.2."""
    solution = load_problem(PROBLEMS / "dropout-inputs.yaml").solve(EXACT)
    assert solution["train.yhat[1]"].value == pytest.approx(1.4, **SAME)
    assert solution["test.x_scaled[3]"].value == pytest.approx(1.6, **SAME)
    assert solution["test.yhat[1]"].value == pytest.approx(1.2, **SAME)


# -- torch: F.dropout on the inputs, and on a weight matrix (inverted DropConnect) -------------

def test_inverted_input_dropout_and_dropconnect_match_torch_dropout(tmp_path):
    torch = pytest.importorskip("torch", reason="PyTorch is an optional oracle; CI installs it")
    F = torch.nn.functional
    data = problem_data([5, 3, 1], ["sigmoid", "linear"], input_drop=0.3, keep=1, rule="inverted",
                        masks=[[1, 1, 1]], input_mask=[1] * 5, draw=8)
    x = torch.tensor(data["x"], dtype=torch.float64)
    torch.manual_seed(2)
    dropped = F.dropout(x, p=0.3, training=True)
    data["input_mask"] = (dropped != 0).to(torch.int64).tolist()
    assert 0 < sum(data["input_mask"]) < 5
    solution = load(tmp_path, data).solve(EXACT)
    assert [solution[f"train.x_scaled[{i}]"].value for i in range(1, 6)] == pytest.approx(dropped.tolist(), **SAME)

    # DropConnect as torch writes it (F.dropout on the weight): z = x W̃ - θ with W̃ = M ⊙ W / p
    data = problem_data([4, 3, 1], ["tanh", "linear"], method="dropconnect", drop=0.4, rule="inverted",
                        masks=[[[1] * 3] * 4], draw=9)
    w = torch.tensor(data["layers"][0]["weights"], dtype=torch.float64)
    torch.manual_seed(4)
    w_dropped = F.dropout(w, p=0.4, training=True)
    mask = (w_dropped != 0).to(torch.int64)
    assert 0 < int(mask.sum()) < 12 and bool(torch.all(w != 0))
    data["masks"] = [mask.tolist()]
    solution = load(tmp_path, data).solve(EXACT)
    assert [solution[f"train.w_scaled[1][{i}][{j}]"].value for i in (1, 2, 3, 4) for j in (1, 2, 3)] == \
        pytest.approx(w_dropped.flatten().tolist(), **SAME)
    z = torch.tensor(data["x"], dtype=torch.float64) @ w_dropped - torch.tensor(data["layers"][0]["thresholds"],
                                                                                dtype=torch.float64)
    assert [solution[f"train.z[1][{j}]"].value for j in (1, 2, 3)] == pytest.approx(z.tolist(), **SAME)
    assert F.dropout(w, p=0.4, training=False).tolist() == data["layers"][0]["weights"]  # test: W as it is


# -- torch: F.dropout is inverted dropout -----------------------------------------

def test_inverted_training_pass_matches_torch_dropout(tmp_path):
    """With the mask torch drew, torch's training output m h / p is the solver's h_scaled; eval leaves h alone."""
    torch = pytest.importorskip("torch", reason="PyTorch is an optional oracle; CI installs it")
    data = problem_data([3, 6, 1], ["sigmoid", "linear"], drop=0.4, rule="inverted", masks=[[1] * 6])
    h = torch.tensor([load(tmp_path, data).solve(EXACT)[f"train.h[1][{j}]"].value for j in range(1, 7)],
                     dtype=torch.float64)
    torch.manual_seed(5)
    dropped = torch.nn.functional.dropout(h, p=0.4, training=True)
    mask = (dropped != 0).to(torch.int64).tolist()
    assert 0 < sum(mask) < 6  # seed 5 keeps some units and drops others
    data["masks"] = [mask]
    solution = load(tmp_path, data).solve(EXACT)
    assert [solution[f"train.h_scaled[1][{j}]"].value for j in range(1, 7)] == pytest.approx(dropped.tolist(), **SAME)
    assert torch.nn.functional.dropout(h, p=0.4, training=False).tolist() == \
        [solution[f"test.h[1][{j}]"].value for j in range(1, 7)]


# -- masks drawn from a seed ---------------------------------------------------------

def test_seeded_masks_are_the_lectures_rand_below_p():
    """Generator(PCG64(seed)).random(n) < p, layer after layer, as stated in the solution's note."""
    rng = np.random.Generator(np.random.PCG64(42))
    expected = [(rng.random(4) < 0.6).astype(int).tolist(), (rng.random(3) < 0.6).astype(int).tolist()]
    assert [list(m) for m in draw_masks(42, 0.6, (4, 3))] == expected


def test_seeded_masks_do_not_change_between_machines():
    """PCG64's stream is fixed: seed 7 of the bundled problem drops unit 2 of 4 at p = 0.8."""
    assert draw_masks(7, 0.8, (4,)) == ((1, 0, 1, 1),)
    assert draw_masks(0, 0.5, (3, 2)) == draw_masks(0, 0.5, (3, 2))


def test_expected_value_identities_by_averaging_seeded_masks():
    """E[m h] = p h and E[m h / p] = h: the mean over 4000 seeds is within 4 standard errors."""
    p, h = 0.7, np.array([0.3, -1.2, 2.0, 0.9, 0.05])
    masks = np.array([draw_masks(seed, p, (5,))[0] for seed in range(4000)], dtype=float)
    spread = 4 * np.sqrt(p * (1 - p) / len(masks))
    assert np.all(np.abs(masks.mean(axis=0) - p) < spread)
    assert np.all(np.abs((masks * h).mean(axis=0) - p * h) < spread * np.abs(h) + 1e-12)
    assert np.all(np.abs((masks * h / p).mean(axis=0) - h) < spread * np.abs(h) / p + 1e-12)


# -- bundled problems, goldens ----------------------------------------------------

BUNDLED = ["dropout-weight-scaling", "dropout-inverted", "dropout-inputs", "dropconnect"]

@pytest.mark.parametrize("name", BUNDLED)
def test_bundled_solutions_print_as_read(golden, name):
    golden(f"{name}.txt", render(load_problem(PROBLEMS / f"{name}.yaml").solve(), "text"))


@pytest.mark.parametrize("name", BUNDLED)
def test_bundled_problems_match_the_plain_pass(name):
    path = PROBLEMS / f"{name}.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data.setdefault("weights_layout", "from_to")
    data.setdefault("offset", "threshold")
    check_against_numpy(load_problem(path).solve(EXACT), data)


def test_bundled_weight_scaling_numbers_by_hand():
    """dropout-weight-scaling, exact: training ŷ = 1.65·2 + 0.5 = 3.8; test ŷ = 0.2375 + 2·0.4875 + 0.5 = 1.7125."""
    solution = load_problem(PROBLEMS / "dropout-weight-scaling.yaml").solve(EXACT)
    assert solution["train.yhat[1]"].value == pytest.approx(3.8, **SAME)
    assert solution["test.yhat[1]"].value == pytest.approx(1.7125, **SAME)


# -- bad input ----------------------------------------------------------------------

VALID = """\
kind: dropout
sizes: [2, 3, 1]
layers:
  - activation: relu
    weights: [[1, 0, -1], [0.5, 1, 1]]
  - activation: linear
    weights: [[1], [1], [1]]
x: [1, 2]
keep: 0.5
rule: inverted
masks:
  - [1, 0, 1]
"""
#  1 kind  2 sizes  3 layers  4 relu  5 weights  6 linear  7 weights  8 x  9 keep  10 rule  11 masks  12 mask


def edit(line, text):
    return edited(VALID, line, text)


FAILURES = [
    (extended(VALID, "drop: 0.5"), "p.yaml:13: drop: give keep or drop, not both"),
    (edit(9, ""), "p.yaml:1: keep: missing: give keep (the probability of keeping a unit) or drop (of dropping it)"),
    (edit(9, "keep: 0"), "p.yaml:9: keep: expected a keep probability in (0, 1], got 0"),
    (edit(9, "keep: 1.5"), "p.yaml:9: keep: expected a keep probability in (0, 1], got 1.5"),
    (edit(9, "keep: -0.2"), "p.yaml:9: keep: expected a keep probability in (0, 1], got -0.2"),
    (edit(9, "drop: 1"), "p.yaml:9: drop: expected a drop probability in [0, 1), got 1"),
    (edit(9, "drop: -0.1"), "p.yaml:9: drop: expected a drop probability in [0, 1), got -0.1"),
    (edit(9, "keep: half"), "p.yaml:9: keep: expected a number, got text 'half'"),
    (edit(10, "rule: dropconnect"), "p.yaml:10: rule: expected one of weight_scaling, inverted, got text 'dropconnect'"),
    (edit(10, "rule: invert"),
     "p.yaml:10: rule: expected one of weight_scaling, inverted, got text 'invert' (did you mean 'inverted'?)"),
    (edit(12, "  - [1, 0]"), "p.yaml:12: masks[0]: expected a mask of 3 values (one per neuron of layer 1), got 2"),
    (edit(12, "  - [1, 0, 1, 1]"),
     "p.yaml:12: masks[0]: expected a mask of 3 values (one per neuron of layer 1), got 4"),
    (edit(12, "  - [1, 0.5, 1]"), "p.yaml:12: masks[0][1]: expected 0 (dropped) or 1 (kept), got 0.5"),
    (edit(12, "  - [1, 0, 2]"), "p.yaml:12: masks[0][2]: expected 0 (dropped) or 1 (kept), got 2"),
    (edit(12, "  - [1, 0, 1]\n  - [1, 1, 1]"), "p.yaml:12: masks: expected one mask per hidden layer (1), got 2"),
    (edit(12, "  - 1"), "p.yaml:12: masks[0]: expected a list, got 1"),
    (extended(VALID, "seed: 3"), "p.yaml:13: seed: give masks or seed, not both"),
    (edit(11, "").replace("  - [1, 0, 1]\n", ""),
     "p.yaml:1: masks: missing: give masks (one list of 0s and 1s per hidden layer) or a seed to draw them"),
    (edit(11, "seed: -1").replace("  - [1, 0, 1]\n", ""), "p.yaml:11: seed: expected a whole number >= 0, got -1"),
    (edit(2, "sizes: [2, 1]"), "p.yaml:2: sizes: expected 3 to 17 layer sizes (input first): "
                               "dropout acts on hidden layers, got 2 sizes"),
    (edit(8, "x: [1]"), "p.yaml:8: x: expected 2 number(s), got 1"),
    (edit(2, "sizes: [64, 64, 64, 64, 64, 64, 1]"),
     "p.yaml:2: sizes: problem too large to solve step by step (about 23429 steps; at most 20000); "
     "use fewer or narrower layers"),
    (edit(9, "keeep: 0.5"), "p.yaml:9: keeep: unknown field (did you mean 'keep'?)"),
    (edit(9, "keep: 1"), "p.yaml:12: masks[0][1]: a unit kept with probability 1 cannot be dropped: a 0 here needs keep < 1"),
    # the input units
    (extended(VALID, "input_keep: 0.8\ninput_drop: 0.2"), "p.yaml:14: input_drop: give input_keep or input_drop, not both"),
    (extended(VALID, "input_keep: 0"), "p.yaml:13: input_keep: expected a keep probability in (0, 1], got 0"),
    (extended(VALID, "input_drop: 1"), "p.yaml:13: input_drop: expected a drop probability in [0, 1), got 1"),
    (extended(VALID, "input_keep: 0.8"),
     "p.yaml:1: input_mask: missing: with masks and input dropout, give input_mask (one 0 or 1 per input unit)"),
    (extended(VALID, "input_mask: [1, 0]"),
     "p.yaml:13: input_mask: goes with input_keep or input_drop (dropout on the input units)"),
    (extended(VALID, "input_keep: 0.8\ninput_mask: [1]"),
     "p.yaml:14: input_mask: expected a mask of 2 values (one per input unit), got 1"),
    (extended(VALID, "input_keep: 0.8\ninput_mask: [1, 2]"),
     "p.yaml:14: input_mask[1]: expected 0 (dropped) or 1 (kept), got 2"),
    (extended(VALID, "input_keep: 1\ninput_mask: [1, 0]"),
     "p.yaml:14: input_mask[1]: an input kept with probability 1 cannot be dropped: a 0 here needs input_keep < 1"),
    (edit(11, "seed: 3").replace("  - [1, 0, 1]\n", "") + "input_keep: 0.8\ninput_mask: [1, 1]\n",
     "p.yaml:11: seed: give input_mask or seed, not both"),
    # DropConnect
    (extended(VALID, "method: dropconect"),
     "p.yaml:13: method: expected one of dropout, dropconnect, got text 'dropconect' (did you mean 'dropconnect'?)"),
    (extended(VALID, "method: dropconnect"), "p.yaml:12: masks[0]: expected a 2x3 matrix, shaped as the weights "
                                             "into layer 1, got a list of numbers (one per unit, as method: dropout "
                                             "writes a mask)"),
    (extended(edit(12, "  - [[1, 0, 1]]"), "method: dropconnect"),
     "p.yaml:12: masks[0]: expected a 2x3 matrix, shaped as the weights into layer 1, got 1 row(s)"),
    (extended(edit(12, "  - [[1, 0, 1], [1, 1]]"), "method: dropconnect"),
     "p.yaml:12: masks[0][1]: expected a mask of 3 values (row 2 of the 2x3 matrix, shaped as the weights into "
     "layer 1), got 2"),
    (extended(edit(12, "  - [[1, 0, 1], [1, 0.5, 1]]"), "method: dropconnect"),
     "p.yaml:12: masks[0][1][1]: expected 0 (dropped) or 1 (kept), got 0.5"),
    (extended(edit(9, "keep: 1"), "method: dropconnect").replace("[1, 0, 1]", "[[1, 1, 1], [1, 1, 0]]"),
     "p.yaml:12: masks[0][1][2]: a weight kept with probability 1 cannot be dropped: a 0 here needs keep < 1"),
    (extended(VALID, "method: dropconnect\ninput_keep: 0.8"),
     "p.yaml:14: input_keep: input dropout goes with method: dropout (DropConnect masks weights, not units)"),
]


@pytest.mark.parametrize("text, message", FAILURES, ids=[m.split(": ", 1)[1] for _, m in FAILURES])
def test_bad_input(runner, tmp_path, text, message):
    assert solve_error(runner, tmp_path, text) == f"{tmp_path}/{message}\n"


def test_valid_file_solves(runner, tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text(VALID, encoding="utf-8")
    result = runner.invoke(cli, ["solve", str(path)])
    assert result.exit_code == 0, result.output
    # h¹₁ = max(0, 1·1 + 2·0.5) = 2, kept (m¹₁ = 1), then divided by p = 0.5
    assert "(h̃¹₁/p) = h̃¹₁/p = 2/0.5 = 4\n" in result.output


# -- the JSON Schema refuses what derive refuses ---------------------------------------

# a bundled problem with fields set as given, and the field derive names when it refuses it
SCHEMA_REFUSED = [
    ({"rulle": "inverted"}, "rulle"),  # an unknown field
    ({"rule": "invert"}, "rule"),
    ({"drop": 1}, "drop"),
    ({"seed": -1}, "seed"),
    ({"method": "connect"}, "method"),
    ({"input_keep": 0}, "input_keep"),
    ({"input_drop": 1}, "input_drop"),
]


@pytest.mark.parametrize("fields, named", SCHEMA_REFUSED, ids=[named for _, named in SCHEMA_REFUSED])
def test_the_schema_refuses_what_derive_refuses(tmp_path, fields, named):
    data = {**yaml.safe_load((PROBLEMS / "dropout-inverted.yaml").read_text(encoding="utf-8")), **fields}
    assert list(jsonschema.Draft202012Validator(schema("dropout")).iter_errors(data)), "the schema accepted it"
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    with pytest.raises(ProblemError, match=re.escape(f": {named}: ")):
        load_problem(path)
