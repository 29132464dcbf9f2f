"""`mlp_backprop` with `notation: matrix`: one step per layer quantity, against three oracles.

Every entry of every matrix step equals the numpy engine's value under the
same per-neuron key (derive.engine, an independent implementation), and
torch.autograd's gradients where torch is installed; the per-neuron
solver (a second implementation) agrees on every key both have. Grading
reads entries and whole matrices, with follow-through on the student's own
numbers; the printed forms are compared with golden files and compiled.
"""

import json
import math

import jsonschema
import numpy as np
import pytest
import yaml
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import PROBLEMS, latex_errors, needs_pdflatex, pdflatex
from derive.api import grade
from derive.cli import cli
from derive.engine import engine_values
from derive.grading.grader import Grader
from derive.matrix import EntryIndex, round_half_up
from derive.problem import load_problem
from derive.render import render
from derive.steps import EXACT, _half_up

MLP = sorted(p.stem for p in PROBLEMS.glob("*.yaml")
             if yaml.safe_load(p.read_text(encoding="utf-8")).get("kind") == "mlp_backprop")
PER_NEURON = [name for name in MLP if "matrix" not in name]
WITH_TARGETS = [name for name in PER_NEURON if name != "mlp-upstream-gradient"]  # the engine needs a loss


def as_notation(tmp_path, name, notation, **changes):
    """A bundled mlp problem rewritten in `notation` (and with `changes`): its path."""
    data = yaml.safe_load((PROBLEMS / f"{name}.yaml").read_text(encoding="utf-8"))
    data.update(notation=notation, **changes)
    data.pop("lecture", None)
    path = tmp_path / f"{name}-{notation}.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def network(tmp_path, sizes, samples, seed=0, name="wide", **fields):
    """A random (seeded) network in matrix notation: sigmoid hidden layers, a softmax output."""
    rng = np.random.default_rng(seed)
    layers = [{"activation": "softmax" if l == len(sizes) - 1 else "sigmoid",
               "weights": rng.uniform(-0.5, 0.5, (sizes[l - 1], sizes[l])).round(3).tolist(),
               "biases": rng.uniform(-0.1, 0.1, sizes[l]).round(3).tolist()}
              for l in range(1, len(sizes))]
    classes = rng.integers(0, sizes[-1], samples)
    data = {"kind": "mlp_backprop", "title": f"A {'-'.join(map(str, sizes))} network", "notation": "matrix",
            "sizes": list(sizes), "offset": "bias", "loss": "cross_entropy", "batch": "mean",
            "learning_rate": 0.5, "layers": layers,
            "samples": [{"x": rng.uniform(0, 1, sizes[0]).round(2).tolist(),
                         "y": [1 if j == c else 0 for j in range(sizes[-1])]} for c in classes], **fields}
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def entries(solution):
    """{per-neuron key: value} of every computed entry (and number) of a matrix solution."""
    values = {}
    for step in solution:
        if step.is_given or step.is_symbolic:
            continue
        if step.is_matrix:
            for r in range(step.value.shape[0]):
                for c in range(step.value.shape[1]):
                    values[step.entries.key(r, c)] = float(step.value[r, c])
        else:
            values[step.key] = step.value
    return values


def assert_close(found, expected, what):
    differ = [key for key in expected if not math.isclose(found[key], expected[key], rel_tol=1e-9, abs_tol=1e-12)]
    assert not differ, f"{what}: {[(k, found[k], expected[k]) for k in differ[:5]]}"


# -- values against the oracles -----------------------------------------------------------

@pytest.mark.parametrize("name", WITH_TARGETS)
def test_every_entry_equals_the_numpy_engine(tmp_path, name):
    problem = load_problem(as_notation(tmp_path, name, "matrix"))
    found = entries(problem.solve(EXACT))
    expected = engine_values(problem.spec)
    per_sample_gradients = {k for k in expected if k.startswith(("grad_w[", "grad_theta[", "grad_b[", "it"))
                            and k not in found}
    assert_close(found, {k: v for k, v in expected.items() if k not in per_sample_gradients}, "matrix vs engine")
    assert set(found) <= set(expected), set(found) - set(expected)


@pytest.mark.parametrize("name", PER_NEURON)
def test_per_neuron_and_matrix_notation_agree_on_every_shared_key(tmp_path, name):
    per_neuron = load_problem(as_notation(tmp_path, name, "neurons")).solve(EXACT)
    matrix = entries(load_problem(as_notation(tmp_path, name, "matrix")).solve(EXACT))
    shared = {step.key: step.value for step in per_neuron
              if not step.is_given and not step.is_symbolic and step.key in matrix}
    assert len(shared) >= len(matrix) - 0, "a matrix entry has no per-neuron step of the same key"
    assert_close(matrix, shared, "matrix vs per-neuron")
    missing = [step.key for step in per_neuron if not step.is_given and not step.is_symbolic
               and step.key not in matrix]
    # only the per-sample gradients of a batch are left out: the matrix form sums them in one product
    assert all(key.count("[") == 4 or key.startswith(("grad_theta[", "grad_b[")) for key in missing), missing


def test_the_bundled_matrix_problem_equals_the_engine():
    problem = load_problem("lecture-matrix-bp")
    found = entries(problem.solve(EXACT))
    assert_close(found, {k: v for k, v in engine_values(problem.spec).items() if k in found}, "matrix vs engine")


@pytest.mark.parametrize("sizes, samples", [([4, 5, 3, 2], 3), ([30, 20, 4], 8), ([784, 16, 10], 2)])
def test_gradients_equal_torch_autograd(tmp_path, sizes, samples):
    torch = pytest.importorskip("torch")
    problem = load_problem(network(tmp_path, sizes, samples))
    solution = problem.solve(EXACT)
    weights = [torch.tensor(np.array(layer.weights).T, dtype=torch.float64, requires_grad=True)
               for layer in problem.spec.layers]
    biases = [torch.tensor(np.array(layer.offsets), dtype=torch.float64, requires_grad=True)
              for layer in problem.spec.layers]
    x = torch.tensor(np.array([x for x, _ in problem.spec.samples]), dtype=torch.float64)
    y = torch.tensor([y for _, y in problem.spec.samples], dtype=torch.float64)
    h = x
    for l, (w, b) in enumerate(zip(weights, biases), start=1):
        z = h @ w.T + b
        h = torch.sigmoid(z) if l < len(weights) else torch.softmax(z, dim=1)
    loss = -(y * torch.log(h)).sum(dim=1).mean()
    loss.backward()
    assert math.isclose(solution["loss"].value, loss.item(), rel_tol=1e-12)
    for l, (w, b) in enumerate(zip(weights, biases), start=1):
        np.testing.assert_allclose(solution[f"grad_w[{l}]"].value, w.grad.numpy(), rtol=1e-9, atol=1e-14)
        np.testing.assert_allclose(solution[f"grad_b[{l}]"].value[:, 0], b.grad.numpy(), rtol=1e-9, atol=1e-14)
        np.testing.assert_allclose(solution[f"w_new[{l}]"].value, (w - 0.5 * w.grad).detach().numpy(), rtol=1e-12)


@pytest.mark.parametrize("changes", [
    {"offset": "threshold", "loss": "half_squared_error", "batch": "sum"},
    {"loss": "mean_squared_error", "iterations": 2, "loss_after": True},
    {"weight_decay": 0.1, "l1": 0.05, "decay_offsets": True, "input_gradient": True},
])
def test_options_equal_the_engine(tmp_path, changes):
    path = network(tmp_path, [6, 5, 3], 4, seed=3)
    data = yaml.safe_load(path.read_text())
    data.update(changes)
    if changes.get("offset") == "threshold":
        for layer in data["layers"]:
            layer["thresholds"] = layer.pop("biases")
    if changes.get("loss", "cross_entropy") != "cross_entropy":
        data["layers"][-1]["activation"] = "tanh"
    path.write_text(yaml.safe_dump(data))
    problem = load_problem(path)
    found = entries(problem.solve(EXACT))
    expected = engine_values(problem.spec)
    assert_close(found, {k: v for k, v in expected.items() if k in found}, "matrix vs engine")
    assert len(found) > 50


@settings(max_examples=300, deadline=None)
@given(st.floats(min_value=-1e6, max_value=1e6, allow_nan=False), st.integers(0, 8))
def test_matrix_rounding_is_the_rounding_of_one_number(value, decimals):
    assert round_half_up(np.array([[value]]), decimals)[0, 0] == _half_up(value, decimals)


@pytest.mark.parametrize("value, decimals, rounded", [(1.44355, 4, 1.4436), (-1.44355, 4, -1.4436),
                                                      (0.00005, 4, 0.0001), (2.5, 0, 3.0), (-0.00004, 4, 0.0)])
def test_matrix_rounding_is_half_away_from_zero(value, decimals, rounded):
    assert round_half_up(np.array([[value]]), decimals)[0, 0] == rounded


# -- printing -----------------------------------------------------------------------------

def test_a_wide_network_prints_its_corners(tmp_path, golden):
    path = network(tmp_path, [12, 10, 3], 4, seed=1)
    result = CliRunner().invoke(cli, ["solve", str(path)])
    assert result.exit_code == 0, result.output
    golden("mlp_matrix/wide-elided.txt", result.output.replace(str(tmp_path), "<tmp>"))
    assert "…" in result.output and " ..." in result.output
    assert max(map(len, result.output.splitlines())) < 200


def test_full_prints_every_entry(tmp_path):
    path = network(tmp_path, [12, 10, 3], 4, seed=1)
    elided = CliRunner().invoke(cli, ["solve", str(path)]).output
    full = CliRunner().invoke(cli, ["solve", str(path), "--full"]).output
    assert "…" not in full and " ..." not in full
    block = full.split("W⁽¹⁾ (10×12) =\n", 1)[1].split("\n  b⁽¹⁾", 1)[0]
    assert len(block.splitlines()) == 10 and all(len(line.split()) >= 12 for line in block.splitlines())
    assert len(full) > len(elided)
    assert render(load_problem(path).solve(), "text", full=True) == full


def test_the_bundled_matrix_problem_prints_as_its_golden(golden):
    result = CliRunner().invoke(cli, ["solve", "lecture-matrix-bp"])
    assert result.exit_code == 0
    golden("mlp_matrix/lecture-matrix-bp.txt", result.output)


def test_json_holds_every_matrix_with_its_shape_and_entry_keys():
    result = CliRunner().invoke(cli, ["solve", "lecture-matrix-bp", "--format", "json", "--exact"])
    document = json.loads(result.output)
    solution = load_problem("lecture-matrix-bp").solve(EXACT)
    steps = {step["key"]: step for step in document["steps"]}
    for step in solution:
        printed = steps[step.key]
        if step.is_matrix:
            assert printed["shape"] == list(step.value.shape)
            np.testing.assert_array_equal(np.array(printed["value"], dtype=float), step.value)
            assert printed["entries"] == step.entries.template
        else:
            assert "shape" not in printed and "entries" not in printed
    assert steps["z[1]"]["formula"] == "add(matmul(w[1], x), broadcast(b[1]))"
    assert steps["delta[2]"]["deps"] == ["z[2]", "h[2]", "w[3]", "delta[3]"]


@needs_pdflatex
def test_latex_of_an_elided_network_compiles(tmp_path):
    path = network(tmp_path, [20, 12, 3], 5, seed=2)
    for full in (False, True):
        (tmp_path / "wide.tex").write_text(render(load_problem(path).solve(), "latex", full=full), encoding="utf-8")
        code, log = pdflatex(tmp_path, "wide")
        assert code == 0, latex_errors(log)


def test_markdown_shows_matrices_as_arrays():
    text = render(load_problem("lecture-matrix-bp").solve(), "markdown")
    assert r"\left[\begin{array}{rrr}" in text and r"\mathbf{E}^{(1)}" in text


# -- grading ------------------------------------------------------------------------------

def test_the_per_neuron_answers_grade_right_in_matrix_notation(tmp_path):
    per_neuron = load_problem(as_notation(tmp_path, "bp-pseudocode-samples", "neurons")).solve()
    problem = load_problem(as_notation(tmp_path, "bp-pseudocode-samples", "matrix"))
    sheet = {step.key: step.value for step in per_neuron if not step.is_given and not step.is_symbolic
             and step.key.count("[") != 4}
    result = grade(problem, sheet)
    assert result.score == result.max_score and len(result.verdicts) > 50


def whole_problem(tmp_path, items):
    path = network(tmp_path, [4, 3, 2], 3, seed=5, grading={"items": items})
    return load_problem(path)


def test_a_whole_matrix_answer_is_graded_whole(tmp_path):
    problem = whole_problem(tmp_path, ["z[1]", "h[1]", "grad_w[2]", "loss"])
    solution = problem.solve()
    right = {key: solution[key].value for key in ("z[1]", "h[1]", "grad_w[2]", "loss")}
    assert grade(problem, right).score == 4
    wrong_z = solution["z[1]"].value.copy()
    wrong_z[1, 2] += 0.3
    sheet = dict(right, **{"z[1]": wrong_z, "h[1]": 1 / (1 + np.exp(-wrong_z))})
    result = grade(problem, sheet)
    assert result["z[1]"].code == "WRONG"
    assert "1 of 9 entries wrong" in result["z[1]"].detail and "z[3][1][2]" in result["z[1]"].detail
    assert result["h[1]"].code == "FT"
    assert result["grad_w[2]"].code == "OK"  # computed from the correct h[1]: right, whatever the sheet's h[1]
    assert grade(problem, dict(right, **{"z[1]": -solution["z[1]"].value}))["z[1]"].code == "SIGN"


def test_a_whole_matrix_answer_of_the_wrong_shape_is_unreadable(tmp_path):
    problem = whole_problem(tmp_path, ["z[1]"])
    result = grade(problem, {"z[1]": [[0.1, 0.2], [0.3, 0.4]]})
    assert result["z[1]"].code == "UNREADABLE"
    assert result["z[1]"].detail == "expected a 3×3 matrix (rows as the solution prints Z⁽¹⁾), got 2×2"
    assert grade(problem, {"z[1]": [[1, "x", 2]]})["z[1]"].code == "UNREADABLE"


def test_entries_answer_a_whole_item_and_a_whole_answer_answers_entries(tmp_path):
    problem = whole_problem(tmp_path, ["z[1]", "delta[*][2][*]"])
    solution = problem.solve()
    index = EntryIndex(solution)
    by_entries = {key: float(solution["z[1]"].value[index.find(key)[1:]]) for key in index.keys("z[1]")}
    by_entries["delta[2]"] = solution["delta[2]"].value.tolist()
    result = grade(problem, by_entries)
    assert result.score == result.max_score == 1 + 6
    partial = dict(by_entries)
    del partial["z[3][1][2]"]
    assert "(1 missing)" in grade(problem, partial)["z[1]"].detail


def test_follow_through_rests_on_the_students_own_earlier_matrix(tmp_path):
    """A wrong Z⁽¹⁾ entry carried through A⁽¹⁾, Z⁽²⁾, Ŷ and E⁽²⁾ costs one mark; each later entry is judged
    against the values recomputed from the student's own numbers, not the correct ones."""
    problem = whole_problem(tmp_path, ["z[*][*][*]", "h[*][*][*]", "yhat[*][*]", "delta[*][*][*]"])
    solution = problem.solve(EXACT)
    z1 = solution["z[1]"].value.copy()
    z1[0, 1] = 2.5
    h1 = 1 / (1 + np.exp(-z1))
    z2 = solution["w[2]"].value @ h1 + solution["b[2]"].value
    yhat = np.exp(z2) / np.exp(z2).sum(axis=0)
    e2 = yhat - solution["y"].value
    index = EntryIndex(solution)
    sheet = {}
    for key, value in (("z[1]", z1), ("h[1]", h1), ("z[2]", z2), ("yhat", yhat), ("delta[2]", e2)):
        for entry in index.keys(key):
            sheet[entry] = float(value[index.find(entry)[1:]])
    result = grade(problem, sheet)
    codes = {v.key: v.code for v in result.verdicts if v.code != "MISSING"}
    assert codes.pop("z[2][1][1]") == "WRONG"
    assert codes.pop("h[2][1][1]") == "FT"
    assert set(codes.values()) <= {"OK", "FT"} and list(codes.values()).count("FT") == 6
    assert result["h[2][1][1]"].used == (("z[2][1][1]", 2.5),)
    # skipping A⁽¹⁾: Z⁽²⁾ is still followed through, on the values the student's Z⁽¹⁾ implies
    skipped = {k: v for k, v in sheet.items() if not k.startswith("h[")}
    assert grade(problem, skipped)["z[2][2][1]"].code == "FT"


def test_a_copied_given_is_no_follow_through(tmp_path):
    problem = whole_problem(tmp_path, ["z[*][*][*]", "h[*][*][*]"])
    solution = problem.solve(EXACT)
    copied = float(solution["w[1]"].value[0, 0])
    result = grade(problem, {"z[1][1][1]": copied, "h[1][1][1]": 1 / (1 + math.exp(-copied))})
    assert result["h[1][1][1]"].code == "WRONG"


def test_a_sheet_file_is_read_and_graded_by_the_cli(tmp_path):
    problem_path = network(tmp_path, [4, 3, 2], 3, seed=5, grading={"items": ["z[1]", "z[*][1][*]"]})
    solution = load_problem(problem_path).solve()
    rows = solution["z[1]"].value.tolist()
    sheet = tmp_path / "s1.yaml"
    sheet.write_text(f"id: s1\nz[1]: {rows}\nz[1][1][1]: {rows[0][0]}\nz[1][1][2]: oops\nq[1]: 2\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["grade", str(problem_path), str(sheet)])
    assert result.exit_code == 0, result.output
    assert "unknown key 'q[1]' ignored" in result.output
    lines = {line.split()[0]: line for line in result.output.splitlines() if line.startswith("  z[")}
    assert " OK " in lines["z[1]"] and " OK " in lines["z[1][1][1]"] and "UNREADABLE" in lines["z[1][1][2]"]
    assert " OK " in lines["z[2][1][1]"]  # answered by the whole matrix


def test_a_large_solution_is_graded_per_whole_quantity_by_default(tmp_path):
    problem = load_problem(network(tmp_path, [60, 40, 10], 8))
    grader = Grader(problem)
    assert "grad_w[1]" in grader.items and "z[1][1][1]" not in grader.items
    small = Grader(load_problem("lecture-matrix-bp"))
    assert "z[1][1][1]" in small.items and "z[1]" not in small.items


# -- bad input ----------------------------------------------------------------------------

@pytest.mark.parametrize("notation, size, error", [
    ("matrix", 785, "sizes[0]: expected a whole number <= 784, got 785"),
    ("neurons", 100, "sizes[0]: expected a whole number <= 64, got 100"),
])
def test_widths_have_their_notations_limits(tmp_path, notation, size, error):
    path = network(tmp_path, [3, 2], 1)
    data = yaml.safe_load(path.read_text())
    data.update(sizes=[size, 2], notation=notation)
    path.write_text(yaml.safe_dump(data))
    result = CliRunner().invoke(cli, ["solve", str(path)])
    assert result.exit_code != 0 and error in result.output and "Traceback" not in result.output


def test_a_network_too_large_per_neuron_solves_in_matrix_notation(tmp_path):
    path = network(tmp_path, [40, 40, 40], 4)
    data = yaml.safe_load(path.read_text())
    per_neuron = tmp_path / "per-neuron.yaml"
    per_neuron.write_text(yaml.safe_dump(dict(data, notation="neurons")))
    refused = CliRunner().invoke(cli, ["solve", str(per_neuron)])
    assert refused.exit_code != 0 and "or notation: matrix" in refused.output
    result = CliRunner().invoke(cli, ["solve", str(path)])
    assert result.exit_code == 0 and len(result.output.splitlines()) < 250


def test_notation_is_one_of_two(tmp_path):
    path = network(tmp_path, [3, 2], 1)
    path.write_text(path.read_text().replace("notation: matrix", "notation: matrices"))
    result = CliRunner().invoke(cli, ["solve", str(path)])
    assert "notation: expected one of neurons, matrix, got text 'matrices' (did you mean 'matrix'?)" in result.output


# -- weights drawn by a seed --------------------------------------------------------------

def drawn_problem(tmp_path, **changes):
    data = yaml.safe_load(network(tmp_path, [30, 8, 3], 4, seed=9).read_text())
    for layer in data["layers"]:
        del layer["weights"]
    data.update({"init": {"seed": 11, "scale": 0.1, "distribution": "uniform", "decimals": 4}, **changes})
    path = tmp_path / "drawn.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def test_init_draws_the_weights_as_the_symmetry_kind_does(tmp_path):
    solution = load_problem(drawn_problem(tmp_path)).solve(EXACT)
    rng = np.random.Generator(np.random.PCG64(11))
    for l, (n_from, n_to) in enumerate(((30, 8), (8, 3)), start=1):
        expected = np.round(0.2 * rng.random((n_from, n_to)) - 0.1, 4)
        np.testing.assert_array_equal(solution[f"w[{l}]"].value, expected.T)  # W⁽ˡ⁾ is to × from
    assert load_problem(drawn_problem(tmp_path)).solve(EXACT)["loss"].value == solution["loss"].value


@pytest.mark.parametrize("changes, error", [
    ({"notation": "neurons"}, "init: needs notation: matrix (per neuron, write the weights, or draw them with kind: "
                              "symmetry)"),
    ({"init": {"seed": 1}}, "init.scale: missing required field"),
])
def test_init_fail(tmp_path, changes, error):
    result = CliRunner().invoke(cli, ["solve", str(drawn_problem(tmp_path, **changes))])
    assert result.exit_code != 0 and error in result.output and "Traceback" not in result.output, result.output


def test_init_and_written_weights_are_not_both_given(tmp_path):
    path = drawn_problem(tmp_path)
    data = yaml.safe_load(path.read_text())
    data["layers"][0]["weights"] = [[0.1] * 30] * 8
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    result = CliRunner().invoke(cli, ["solve", str(path)])
    assert "layers[0].weights: given twice: init draws the weights; remove init or these weights" in result.output


def test_the_template_lists_the_entries_sample_by_sample_with_their_place():
    result = CliRunner().invoke(cli, ["template", "lecture-matrix-bp"])
    lines = [line for line in result.output.splitlines() if line.startswith("z[")]
    assert lines[0].startswith("z[1][1][1]:") and "# Z⁽¹⁾ entry (1, 1): Forward pass" in lines[0]
    assert lines[1].startswith("z[1][1][2]:") and "entry (2, 1)" in lines[1]
    keys = [line.split(":")[0] for line in result.output.splitlines() if not line.startswith(("#", "id:"))]
    assert keys == list(Grader(load_problem("lecture-matrix-bp")).items)


def test_a_file_with_init_passes_the_json_schema(tmp_path):
    from derive.fields import schema

    validator = jsonschema.Draft202012Validator(schema("mlp_backprop"))
    drawn = yaml.safe_load(drawn_problem(tmp_path).read_text())
    assert list(validator.iter_errors(drawn)) == []
    drawn["sizes"] = [785, 8, 3]
    assert list(validator.iter_errors(drawn))  # wider than any notation allows
