"""`kind: dropout`: the training pass with a mask and the test pass, against outside oracles.

- a plain numpy forward pass written here (the lecture's train_step and
  predict: H = f(W X + b), H *= U, and at test H * p, or the inverted form);
- torch.nn.functional.dropout, whose training-mode output is mask * x / p
  (inverted dropout) and whose eval-mode output is x unchanged;
- the expected-value identities E[m h] = p h and E[m h / p] = h, by averaging
  many seeded masks;
- numpy's PCG64 stream drawn here as the lecture's `rand(n) < p`.
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
from derive.kinds.dropout import draw_masks
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

@pytest.mark.parametrize("name", ["dropout-weight-scaling", "dropout-inverted"])
def test_bundled_solutions_print_as_read(golden, name):
    golden(f"{name}.txt", render(load_problem(PROBLEMS / f"{name}.yaml").solve(), "text"))


@pytest.mark.parametrize("name", ["dropout-weight-scaling", "dropout-inverted"])
def test_bundled_problems_match_the_plain_pass(name):
    path = PROBLEMS / f"{name}.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data.setdefault("weights_layout", "from_to")
    data.setdefault("offset", "threshold")
    check_against_plain(load_problem(path).solve(EXACT), data)


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
]


@pytest.mark.parametrize("fields, named", SCHEMA_REFUSED, ids=[named for _, named in SCHEMA_REFUSED])
def test_the_schema_refuses_what_derive_refuses(tmp_path, fields, named):
    data = {**yaml.safe_load((PROBLEMS / "dropout-inverted.yaml").read_text(encoding="utf-8")), **fields}
    assert list(jsonschema.Draft202012Validator(schema("dropout")).iter_errors(data)), "the schema accepted it"
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    with pytest.raises(ProblemError, match=re.escape(f": {named}: ")):
        load_problem(path)
