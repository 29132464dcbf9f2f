"""`kind: pool_derivation` at a point with several channels, and the forward pass alone.

Every expected value comes from outside the code under test:

- a numpy pooling written here (sliding windows: the maximum or the mean of
  each K x K window at the stride, channel by channel; back: a max window's δ
  to its first maximum in row-major order, an average window's δ/K² to each
  of its positions, added where windows overlap);
- torch.nn.functional.max_pool2d and avg_pool2d, differentiated by autograd
  (where torch is installed);
- central differences of L = Σ δ·p, with p the solver's own pooled map
  re-evaluated at a perturbed input (average pooling is linear: exact).
"""

import re
from pathlib import Path

import numpy as np
import pytest
import yaml
from numpy.lib.stride_tricks import sliding_window_view

from derive.grading.grader import Grader
from derive.grading.sheet import AnswerSheet, read_answer
from derive.problem import load_problem
from derive.render import render
from derive.steps import EXACT

PROBLEMS = Path(__file__).parent.parent / "derive" / "problems"
SAME = dict(rel=1e-12, abs=1e-12)


# -- the oracle: numpy pooling, channel by channel ------------------------------------------

def numpy_pool(a, kind, window, stride):
    """(pooled, first): a is channels x rows x cols; first[c, r, s] is the flat index in its window of the
    first maximum in row-major order (max pooling)."""
    windows = sliding_window_view(a, (window, window), axis=(1, 2))[:, ::stride, ::stride]
    flat = windows.reshape(*windows.shape[:3], window * window)
    if kind == "average":
        return flat.mean(axis=-1), None
    return flat.max(axis=-1), flat.argmax(axis=-1)  # argmax: the first maximum


def numpy_routed(a, delta, kind, window, stride):
    """∂L/∂a for δ = ∂L/∂p: each window's error sent back, added where windows overlap."""
    _, first = numpy_pool(a, kind, window, stride)
    grad = np.zeros_like(a)
    channels, out_rows, out_cols = delta.shape
    c, r, s = np.meshgrid(range(channels), range(out_rows), range(out_cols), indexing="ij")
    if kind == "max":
        rows, cols = r * stride + first // window, s * stride + first % window
        np.add.at(grad, (c, rows, cols), delta)
        return grad
    for u in range(window):
        for v in range(window):
            np.add.at(grad, (c, r * stride + u, s * stride + v), delta / window ** 2)
    return grad


def keyed(name, array, channels):
    """{name[c][i][j]: value} (channel index only when there are several), 1-based."""
    values = {}
    for c, i, j in np.ndindex(array.shape):
        tag = f"[{c + 1}]" if channels > 1 else ""
        values[f"{name}{tag}[{i + 1}][{j + 1}]"] = float(array[c, i, j])
    return values


def problem_file(tmp_path, a, window, stride, pooling, delta=None, as_list=None):
    """A pool_derivation file at the point a (channels x rows x cols); one channel written as one matrix."""
    channels, rows, cols = a.shape
    stacked = channels > 1 if as_list is None else as_list
    at = {"input": a.tolist() if stacked else a[0].tolist()}
    if delta is not None:
        at["delta"] = delta.tolist() if stacked else delta[0].tolist()
    data = {"kind": "pool_derivation", "input_size": [rows, cols], "window": window, "stride": stride,
            "pooling": pooling, "at": at}
    path = tmp_path / "pool.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return load_problem(path)


def expected_at(a, delta, kinds, window, stride):
    prefix = len(kinds) > 1
    channels = a.shape[0]
    expected = {}
    for kind in kinds:
        tag = f"{kind}." if prefix else ""
        expected.update(keyed(f"at.{tag}pool", numpy_pool(a, kind, window, stride)[0], channels))
        if delta is not None:
            expected.update(keyed(f"at.{tag}grad_a", numpy_routed(a, delta, kind, window, stride), channels))
    return expected


CASES = {  # channels, rows, cols, window, stride
    "one channel, overlapping": (1, 4, 4, 2, 1),
    "two channels, 2x2 stride 2": (2, 4, 4, 2, 2),
    "three channels, 3x3 stride 1": (3, 5, 4, 3, 1),
    "two channels, 3x3 stride 2": (2, 5, 5, 3, 2),
    "four channels, gaps (stride > window)": (4, 5, 6, 2, 3),
    "two channels, 1x1": (2, 2, 3, 1, 1),
}


@pytest.mark.parametrize("backward", [True, False], ids=["with delta", "forward only"])
@pytest.mark.parametrize("channels, rows, cols, window, stride", CASES.values(), ids=CASES.keys())
def test_pooled_and_routed_as_numpy(tmp_path, channels, rows, cols, window, stride, backward):
    rng = np.random.default_rng(channels * 100 + rows * 10 + cols)
    out_rows, out_cols = (rows - window) // stride + 1, (cols - window) // stride + 1
    for trial in range(2):
        # whole numbers 0..2 tie often: the first maximum in row-major order must take the error
        a = (rng.integers(0, 3, size=(channels, rows, cols)).astype(float) if trial
             else np.round(rng.normal(size=(channels, rows, cols)), 3))
        delta = np.round(rng.normal(size=(channels, out_rows, out_cols)), 3) if backward else None
        solution = problem_file(tmp_path, a, window, stride, ["max", "average"], delta).solve(EXACT)
        solved = {step.key: step.value for step in solution if step.key.startswith("at.") and not step.is_given}
        expected = expected_at(a, delta, ("max", "average"), window, stride)
        assert set(solved) == set(expected)
        for key, value in expected.items():
            assert solved[key] == pytest.approx(value, **SAME), key


def test_a_list_of_one_matrix_is_one_channel_with_todays_keys(tmp_path):
    a = np.array([[[1, 3, 0], [2, 3, 1], [0, 0.5, 2]]])
    delta = np.array([[[0.1, 0.2], [0.3, 0.4]]])
    as_list = problem_file(tmp_path, a, 2, 1, "max", delta, as_list=True).solve(EXACT)
    as_matrix = problem_file(tmp_path, a, 2, 1, "max", delta, as_list=False).solve(EXACT)
    assert [(s.key, s.value) for s in as_list] == [(s.key, s.value) for s in as_matrix]
    assert as_list["at.grad_a[1][2]"].value == pytest.approx(0.3, **SAME)  # the tie of hw5-pool: a12 first


def test_forward_only_derives_and_routes_nothing(tmp_path):
    a = np.arange(32, dtype=float).reshape(2, 4, 4)
    solution = problem_file(tmp_path, a, 2, 2, ["max", "average"]).solve(EXACT)
    keys = [step.key for step in solution]
    assert not [k for k in keys if "grad_a" in k or "dpool" in k or "delta" in k]
    assert [s.title for s in solution.sections] == ["At the point: given", "At the point: max pooling in numbers",
                                                     "At the point: average pooling in numbers"]
    assert solution["at.max.pool[2][2][1]"].value == 29  # channel 2, window (2, 1): rows 3-4, columns 1-2
    text = render(solution, "text")
    assert "p₂₁[2] = max(a₃₁[2], a₃₂[2], a₄₁[2], a₄₂[2]) = max(24, 25, 28, 29) = 29   (max at a₄₂[2])" in text
    assert "the error routed back" not in text and "∂" not in text


def test_with_delta_the_derivation_is_done_once_for_every_channel(tmp_path):
    a = np.arange(18, dtype=float).reshape(2, 3, 3)
    delta = np.ones((2, 2, 2))
    solution = problem_file(tmp_path, a, 2, 1, "average", delta).solve(EXACT)
    keys = {step.key for step in solution}
    assert "dpool[1][1][1][1]" in keys and "grad_a[2][2]" in keys  # the symbolic part: no channel index
    assert "at.grad_a[2][2][2]" in keys and "at.delta[2][1][1]" in keys
    assert any("each pooled alone" in note.text for note in solution.notes)


def test_the_pooled_map_is_graded_forward_only():
    """pool-channels: a right sheet gets every pooled value; a wrong one is flagged, its neighbours not."""
    problem = load_problem(PROBLEMS / "pool-channels.yaml")
    solution = problem.solve()
    right = {step.key: f"{step.value:g}" for step in solution if not step.is_given}
    assert len(right) == 16
    grader = Grader(problem)
    report = grader.grade(AnswerSheet("s.yaml", "student", {k: read_answer(v) for k, v in right.items()}))
    assert {v.code for v in report.verdicts} == {"OK"}
    wrong = {**right, "at.max.pool[2][2][1]": "-1"}
    report = grader.grade(AnswerSheet("s.yaml", "student", {k: read_answer(v) for k, v in wrong.items()}))
    assert {v.key for v in report.verdicts if v.code != "OK"} == {"at.max.pool[2][2][1]"}


def test_pool_channels_by_hand():
    """pool-channels: channel 1's max pooling is [[3, 0], [3, 1]]; channel 2's average of its last window
    (-4 + 3 - 4 + 3)/4 = -0.5; channel 2's first window ties at -1 (a₁₁[2] is marked)."""
    solution = load_problem(PROBLEMS / "pool-channels.yaml").solve()
    assert [solution[f"at.max.pool[1][{r}][{s}]"].value for r in (1, 2) for s in (1, 2)] == [3, 0, 3, 1]
    assert solution["at.average.pool[2][2][2]"].value == pytest.approx(-0.5, **SAME)
    assert "a tie" in solution["at.max.pool[2][1][1]"].note


# -- torch autograd and central differences -----------------------------------------------------

@pytest.mark.parametrize("kind, window, stride", [("max", 2, 2), ("max", 2, 1), ("average", 2, 1),
                                                  ("average", 3, 2), ("max", 3, 2)])
def test_routing_with_channels_matches_torch_autograd(tmp_path, kind, window, stride):
    torch = pytest.importorskip("torch", reason="PyTorch is an optional oracle; CI installs it")
    rng = np.random.default_rng(window * 10 + stride)
    channels, rows, cols = 3, 5, 6
    a = rng.permutation(channels * rows * cols).reshape(channels, rows, cols) / 8.0  # no ties: any argmax agrees
    out_rows, out_cols = (rows - window) // stride + 1, (cols - window) // stride + 1
    delta = np.round(rng.normal(size=(channels, out_rows, out_cols)), 3)
    x = torch.tensor(a[None], dtype=torch.float64, requires_grad=True)
    pool = torch.nn.functional.max_pool2d if kind == "max" else torch.nn.functional.avg_pool2d
    pooled = pool(x, window, stride)
    pooled.backward(torch.tensor(delta[None], dtype=torch.float64))
    solution = problem_file(tmp_path, a, window, stride, kind, delta).solve(EXACT)
    expected = {**keyed("at.pool", pooled.detach().numpy()[0], channels),
                **keyed("at.grad_a", x.grad.numpy()[0], channels)}
    for key, value in expected.items():
        assert solution[key].value == pytest.approx(value, **SAME), key


def test_average_routing_is_the_central_difference_of_the_pooled_map(tmp_path):
    """∂L/∂a[c]_pq with L = Σ δ·p, p re-evaluated by the solver at a ± ε (average pooling: exact up to rounding)."""
    rng = np.random.default_rng(11)
    channels, rows, cols, window, stride = 2, 4, 5, 3, 1
    a = np.round(rng.normal(size=(channels, rows, cols)), 3)
    out_rows, out_cols = rows - window + 1, cols - window + 1
    delta = np.round(rng.normal(size=(channels, out_rows, out_cols)), 3)
    solution = problem_file(tmp_path, a, window, stride, "average", delta).solve(EXACT)
    pooled = [f"at.pool[{c}][{r}][{s}]" for c in range(1, channels + 1) for r in range(1, out_rows + 1)
              for s in range(1, out_cols + 1)]
    weights = delta.reshape(-1)

    def loss(overrides):
        values = solution.evaluate(overrides)
        return float(np.dot(weights, [values[key] for key in pooled]))

    eps = 1e-4
    for c, p, q in np.ndindex(a.shape):
        key = f"at.a[{c + 1}][{p + 1}][{q + 1}]"
        slope = (loss({key: a[c, p, q] + eps}) - loss({key: a[c, p, q] - eps})) / (2 * eps)
        assert solution[f"at.grad_a[{c + 1}][{p + 1}][{q + 1}]"].value == pytest.approx(slope, rel=1e-7, abs=1e-9)


def test_the_schema_takes_channels_and_no_delta():
    import jsonschema

    from derive.fields import schema

    data = yaml.safe_load((PROBLEMS / "pool-channels.yaml").read_text(encoding="utf-8"))
    assert not list(jsonschema.Draft202012Validator(schema("pool_derivation")).iter_errors(data))
    five = {**data, "at": {"input": [[[1]]] * 5}}
    assert list(jsonschema.Draft202012Validator(schema("pool_derivation")).iter_errors(five))
    assert re.search(r"one matrix per channel", schema("pool_derivation")["properties"]["at"]["properties"]
                     ["delta"]["description"])


def test_bundled_pool_channels_prints_as_read(golden):
    golden("pool-channels.txt", render(load_problem(PROBLEMS / "pool-channels.yaml").solve(), "text"))
