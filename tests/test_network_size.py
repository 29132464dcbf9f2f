"""kind: network_size: output sizes and parameter counts, held to computations that share nothing with derive.

Output sizes: a window actually slid over a padded numpy array, position by
position, for many (n, k, s, p, d), by hypothesis as well as on a grid; and
PyTorch's own Conv2d and MaxPool2d where torch is importable. Parameter
counts: the arrays a layer holds, built in numpy (or, for shapes too large to
allocate, broadcast views of that shape), and torch's modules where
importable. The lectures' own numbers (7,114; 3 × 3 × 3 + 1) are quoted.
Then grading (one wrong count is WRONG on that item only; a wrong size is
carried into the counts after it), bad input (one line, file:line: field),
and the printed solutions of the bundled problems in every format.
"""

import re
import tempfile
from pathlib import Path

import jsonschema
import numpy as np
import pytest
import yaml
from hypothesis import given, settings, strategies as st

import derive
from derive.cli import cli
from derive.errors import ProblemError
from derive.fields import schema
from derive.problem import load_problem
from derive.render import render
from conftest import PROBLEMS, right_numbers

BUNDLED = ["param-count-bp", "param-count-keras", "cnn-sizes", "cnn-params"]


def solved(name):
    return load_problem(PROBLEMS / f"{name}.yaml").solve().values()


def solve_text(text):
    """The values of the problem written as `text` (YAML)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "p.yaml"
        path.write_text(text, encoding="utf-8")
        return load_problem(path).solve().values()


# -- independent computations ------------------------------------------------------------------------

def slid_output(image, kernel, stride, padding, dilation):
    """The map a k × k window (taps `dilation` apart) gives, slid `stride` at a time over `image` padded with
    `padding` zeros: every position whose taps all fall on the padded image, summed there."""
    padded = np.pad(image, padding)
    reach = np.arange(kernel) * dilation
    rows = []
    top = 0
    while top + reach[-1] < padded.shape[0]:
        row, left = [], 0
        while left + reach[-1] < padded.shape[1]:
            row.append(padded[np.ix_(top + reach, left + reach)].sum())
            left += stride
        rows.append(row)
        top += stride
    return np.array(rows) if rows and rows[0] else np.zeros((0, 0))


def slid_side(n, kernel, stride, padding, dilation):
    """The side of the map slid over an n × n image of ones (0 when no window fits)."""
    return slid_output(np.ones((n, n)), kernel, stride, padding, dilation).shape[0]


def held(*shape):
    """How many numbers an array of `shape` holds, as numpy counts them (a broadcast view: nothing allocated)."""
    return np.broadcast_to(np.float32(0), shape).size


def dense_count(inputs, units, bias=True):
    """A dense layer's arrays: W (inputs × units) and b (units)."""
    return held(inputs, units) + (held(units) if bias else 0)


def conv_count(channels_in, filters, kernel, bias=True):
    """A convolution's arrays: filters × channels × k × k weights and one bias per filter."""
    return held(filters, channels_in, kernel, kernel) + (held(filters) if bias else 0)


def unshared_count(side_out, channels_in, filters, kernel, bias=True):
    """A locally connected layer: a window of weights (and a bias) for every output position and filter."""
    return held(side_out, side_out, filters, channels_in, kernel, kernel) + \
        (held(side_out, side_out, filters) if bias else 0)


def fully_connected_count(side_in, channels_in, side_out, filters, bias=True):
    """A dense layer from the flattened input to the flattened output."""
    return dense_count(side_in * side_in * channels_in, side_out * side_out * filters, bias)


def test_the_sliding_window_is_a_convolution():
    """The slider itself, on a case worked by hand: a 3×3 window of ones over 4×4 ones with padding 1."""
    out = slid_output(np.ones((4, 4)), 3, 1, 1, 1)
    assert out.tolist() == [[4, 6, 6, 4], [6, 9, 9, 6], [6, 9, 9, 6], [4, 6, 6, 4]]


def conv_problem(n, k, s, p, d, channels=1, filters=1, pool=False):
    layer = "max_pool" if pool else "conv"
    extra = "" if pool else f", filters: {filters}, compare: true"
    return (f"kind: network_size\ninput: {{size: {n}, channels: {channels}}}\nlayers:\n"
            f"  - {{type: {layer}, kernel: {k}, stride: {s}, padding: {p}, dilation: {d}{extra}}}\n")


# -- output sizes ----------------------------------------------------------------------------------------

GRID = [(n, k, s, p, d) for n in (1, 2, 5, 6, 7, 10) for k in (1, 2, 3, 5) for s in (1, 2, 3)
        for p in (0, 1, 2) for d in (1, 2)]


@pytest.mark.parametrize("pool", [False, True], ids=["conv", "pool"])
def test_output_sides_on_a_grid_are_the_slid_windows(pool):
    checked = 0
    for n, k, s, p, d in GRID:
        expected = slid_side(n, k, s, p, d)
        if expected == 0:
            with pytest.raises(ProblemError, match="does not fit"):
                solve_text(conv_problem(n, k, s, p, d, pool=pool))
            continue
        values = solve_text(conv_problem(n, k, s, p, d, pool=pool))
        assert values["size[1]"] == expected, (n, k, s, p, d)
        checked += 1
    assert checked > 300


@settings(max_examples=150, deadline=None)
@given(n=st.integers(1, 40), k=st.integers(1, 9), s=st.integers(1, 6), p=st.integers(0, 5), d=st.integers(1, 4),
       channels=st.integers(1, 4), filters=st.integers(1, 5))
def test_any_convolution_side_and_counts_are_the_slid_windows_and_the_arrays(n, k, s, p, d, channels, filters):
    side = slid_side(n, k, s, p, d)
    text = conv_problem(n, k, s, p, d, channels, filters)
    if side == 0:
        with pytest.raises(ProblemError, match="does not fit"):
            solve_text(text)
        return
    values = solve_text(text)
    assert values["size[1]"] == side
    assert values["per_filter[1]"] == conv_count(channels, 1, k)
    assert values["params[1]"] == conv_count(channels, filters, k) == values["total"]
    assert values["unshared[1]"] == unshared_count(side, channels, filters, k)
    assert values["fully_connected[1]"] == fully_connected_count(n, channels, side, filters)


@settings(max_examples=60, deadline=None)
@given(widths=st.lists(st.integers(1, 300), min_size=2, max_size=6), bias=st.booleans())
def test_any_dense_network_counts_its_arrays(widths, bias):
    layers = "".join(f"  - {{type: dense, units: {w}, bias: {str(bias).lower()}}}\n" for w in widths[1:])
    values = solve_text(f"kind: network_size\ninput: {{units: {widths[0]}}}\nlayers:\n{layers}")
    counts = [dense_count(a, b, bias) for a, b in zip(widths, widths[1:])]
    for index, count in enumerate(counts, start=1):
        assert values[f"params[{index}]"] == count
    assert values["total"] == values["total.sizes"] == sum(counts)


@pytest.mark.parametrize("d, q, l", [(1, 1, 1), (3, 4, 2), (100, 64, 10), (784, 300, 10), (2, 1000, 7)])
def test_the_lectures_formula_d_l_1_q_l_is_the_arrays(d, q, l):
    values = solve_text(f"kind: network_size\ninput: {{units: {d}, symbol: d}}\nlayers:\n"
                        f"  - {{type: dense, units: {q}, symbol: q}}\n  - {{type: dense, units: {l}, symbol: l}}\n")
    expected = dense_count(d, q) + dense_count(q, l)
    assert values["total.sizes"] == values["total"] == expected == (d + l + 1) * q + l


def test_a_flatten_then_dense_network_counts_through_the_sizes():
    """conv 28×28×1 → 5×5, 6 filters (24×24×6) → 2×2 max pool (12×12×6) → flatten (864) → dense 10."""
    values = solve_text("kind: network_size\ninput: {size: 28}\nlayers:\n"
                        "  - {type: conv, filters: 6, kernel: 5}\n  - {type: max_pool, kernel: 2}\n"
                        "  - {type: flatten}\n  - {type: dense, units: 10}\n")
    image = np.random.default_rng(0).random((28, 28))
    conv_map = slid_output(image, 5, 1, 0, 1)
    pooled = slid_output(conv_map, 2, 2, 0, 1)  # a window's sum stands in for its max: only the shape counts
    flat = np.stack([pooled] * 6).reshape(-1)
    assert (values["size[1]"], values["size[2]"], values["units[3]"]) == (24, 12, flat.size) == (24, 12, 864)
    assert values["params[1]"] == conv_count(1, 6, 5) == 156
    assert values["params[4]"] == dense_count(flat.size, 10) == 8650
    assert values["total"] == 156 + 8650


# -- the bundled problems: the lectures' numbers ----------------------------------------------------------

def test_keras_100_64_10_has_7114_parameters():
    values = solved("param-count-keras")
    assert values["params[1]"] == dense_count(100, 64) == 100 * 64 + 64 == 6464
    assert values["params[2]"] == dense_count(64, 10) == 64 * 10 + 10 == 650
    assert values["total"] == values["total.sizes"] == 7114


def test_bp_network_count_is_d_l_1_q_l():
    values = solved("param-count-bp")
    d, q, l = values["units[0]"], values["units[1]"], values["units[2]"]
    assert (d, q, l) == (3, 4, 2)
    assert values["total.sizes"] == values["total"] == (d + l + 1) * q + l == dense_count(3, 4) + dense_count(4, 2)


def test_cnn_sizes_6x6_conv_3x3_then_2x2_max_pooling():
    values = solved("cnn-sizes")
    conv_map = slid_output(np.arange(36.0).reshape(6, 6), 3, 1, 0, 1)
    pooled = slid_output(conv_map, 2, 2, 0, 1)
    assert conv_map.shape == (4, 4) and pooled.shape == (2, 2)
    assert (values["size[1]"], values["size[2]"], values["units[3]"]) == (4, 2, 2 * 2 * 2)
    assert values["per_filter[1]"] == conv_count(1, 1, 3) == 10
    assert values["params[1]"] == values["total"] == conv_count(1, 2, 3) == 20


def test_cnn_params_3x3x3_plus_1_per_filter_against_unshared_and_fully_connected():
    values = solved("cnn-params")
    assert values["size[1]"] == slid_side(100, 3, 1, 1, 1) == 100
    assert values["per_filter[1]"] == 3 * 3 * 3 + 1 == conv_count(3, 1, 3) == 28  # the lecture's 3 x 3 x 3 + bias
    assert values["params[1]"] == conv_count(3, 64, 3) == 1792
    assert values["unshared[1]"] == unshared_count(100, 3, 64, 3) == 17_920_000
    assert values["fully_connected[1]"] == fully_connected_count(100, 3, 100, 64) == 19_200_640_000


# -- PyTorch, where importable ------------------------------------------------------------------------------

def test_sizes_and_counts_match_pytorch():
    torch = pytest.importorskip("torch")
    nn = torch.nn
    for n, k, s, p, d in GRID:
        if slid_side(n, k, s, p, d) == 0:
            continue
        conv = nn.Conv2d(2, 3, k, stride=s, padding=p, dilation=d)
        values = solve_text(conv_problem(n, k, s, p, d, channels=2, filters=3))
        assert values["size[1]"] == conv(torch.zeros(1, 2, n, n)).shape[-1], (n, k, s, p, d)
        assert values["params[1]"] == sum(t.numel() for t in conv.parameters())
        if p <= k // 2:  # MaxPool2d's own limit on padding
            pool = nn.MaxPool2d(k, stride=s, padding=p, dilation=d)
            pooled = solve_text(conv_problem(n, k, s, p, d, pool=True))
            assert pooled["size[1]"] == pool(torch.zeros(1, 1, n, n)).shape[-1], (n, k, s, p, d)
    keras = nn.Sequential(nn.Linear(100, 64), nn.ReLU(), nn.Linear(64, 10), nn.Softmax(dim=1))
    assert solved("param-count-keras")["total"] == sum(t.numel() for t in keras.parameters()) == 7114
    values = solved("cnn-params")
    conv = nn.Conv2d(3, 64, 3, padding=1)
    assert values["params[1]"] == sum(t.numel() for t in conv.parameters())
    dense = nn.Linear(100 * 100 * 3, 100 * 100 * 64, device="meta")  # shapes only, nothing allocated
    assert values["fully_connected[1]"] == sum(t.numel() for t in dense.parameters())


# -- grading -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name, key, wrong", [
    ("param-count-keras", "params[2]", 640),
    ("param-count-bp", "total.sizes", 24),
    ("cnn-params", "params[1]", 1728),
    ("cnn-params", "fully_connected[1]", 1_920_064_000),
    ("cnn-sizes", "size[1]", 5),
])
def test_one_wrong_count_is_wrong_on_that_item_only(name, key, wrong):
    sheet = right_numbers(name)
    sheet[key] = wrong
    verdicts = {v.key: v.code for v in derive.grade(name, sheet).verdicts}
    assert verdicts.pop(key) == "WRONG"
    assert set(verdicts.values()) == {"OK"}


def test_a_wrong_size_is_carried_into_the_sizes_after_it():
    sheet = right_numbers("cnn-sizes")
    sheet["size[2]"] = 5  # a 5×5 pooled map: flatten then holds 5·5·2 = 50 numbers
    sheet["units[3]"] = 50
    verdicts = {v.key: v for v in derive.grade("cnn-sizes", sheet).verdicts}
    assert verdicts["size[2]"].code == "WRONG"
    assert verdicts["units[3]"].code == "FT"
    assert verdicts["units[3]"].points == verdicts["units[3]"].max_points


def test_a_wrong_convolution_side_is_carried_into_its_unshared_count():
    sheet = right_numbers("cnn-params")
    sheet["size[1]"] = 98  # padding forgotten
    sheet["unshared[1]"] = 98 * 98 * 64 * 28
    sheet["fully_connected[1]"] = 98 * 98 * 64 * 30001
    verdicts = {v.key: v.code for v in derive.grade("cnn-params", sheet).verdicts}
    assert verdicts == {"size[1]": "WRONG", "per_filter[1]": "OK", "params[1]": "OK", "unshared[1]": "FT",
                        "fully_connected[1]": "FT", "total": "OK"}


def test_a_wrong_layer_count_is_carried_into_the_total():
    sheet = right_numbers("param-count-keras")
    sheet["params[1]"] = 6400  # biases forgotten
    sheet["total"] = 6400 + 650
    verdicts = {v.key: v.code for v in derive.grade("param-count-keras", sheet).verdicts}
    assert (verdicts["params[1]"], verdicts["total"], verdicts["total.sizes"]) == ("WRONG", "FT", "OK")


# -- printed formulas ----------------------------------------------------------------------------------------

def test_the_size_line_reads_formula_numbers_value():
    text = render(load_problem(PROBLEMS / "cnn-sizes.yaml").solve(), "text")
    assert "n₂ = ⌊(n₁ + 2 p₂ - d₂ (k₂ - 1) - 1)/s₂⌋ + 1 = ⌊(4 + 2·0 - 1·(2 - 1) - 1)/2⌋ + 1 = 2" in text
    assert "P = (d + l + 1) q + l = (3 + 2 + 1)·4 + 2 = 26" in render(
        load_problem(PROBLEMS / "param-count-bp.yaml").solve(), "text")


def test_the_size_formula_in_latex_and_json():
    solution = load_problem(PROBLEMS / "cnn-sizes.yaml").solve()
    assert (r"n_{1} &= \left\lfloor \frac{n_{0} + 2 p_{1} - d_{1} \left(k_{1} - 1\right) - 1}{s_{1}} \right\rfloor + 1"
            in render(solution, "latex"))
    assert '"formula": "floor((size[0] + 2*padding[1] - dilation[1]*(kernel[1] - 1) - 1)/stride[1]) + 1"' in \
        render(solution, "json")


FORMATS = {"text": "txt", "markdown": "md", "latex": "tex", "json": "json", "html": "html"}


@pytest.mark.parametrize("format_", FORMATS)
@pytest.mark.parametrize("name", BUNDLED)
def test_printed_solution_matches_golden(runner, golden, name, format_):
    result = runner.invoke(cli, ["solve", name, "--format", format_])
    assert result.exit_code == 0, result.output
    golden(f"network-size-{name}.{FORMATS[format_]}", result.output)


# -- bad input: one line, file:line: field: what was expected ------------------------------------------------

VALID = "kind: network_size\ninput: {size: 6}\nlayers:\n  - {type: conv, filters: 2, kernel: 3}\n" \
        "  - {type: max_pool, kernel: 2}\n"
#  1 kind  2 input  3 layers  4 conv  5 max_pool;  added lines are line 6
DENSE = "kind: network_size\ninput: {units: 3, symbol: d}\nlayers:\n  - {type: dense, units: 4, symbol: q}\n"
#  1 kind  2 input  3 layers  4 dense

FAILURES = [
    (VALID.replace("{size: 6}", "{size: 6, units: 3}"),
     "p.yaml:2: input: give either units (a vector input) or size (an n × n image, with channels)"),
    (VALID.replace("{size: 6}", "{}"),
     "p.yaml:2: input: give either units (a vector input) or size (an n × n image, with channels)"),
    (VALID.replace("{size: 6}", "{size: 0}"), "p.yaml:2: input.size: expected a whole number >= 1, got 0"),
    (VALID.replace("{size: 6}", "{size: 4097}"), "p.yaml:2: input.size: expected a whole number <= 4096, got 4097"),
    (VALID.replace("{size: 6}", "{size: 6.5}"), "p.yaml:2: input.size: expected a whole number, got 6.5"),
    (VALID.replace("{size: 6}", "{sise: 6}"), "p.yaml:2: input.sise: unknown field (did you mean 'size'?)"),
    (VALID.replace("{size: 6}", "{size: 6, symbol: n}"),
     "p.yaml:2: input.symbol: goes with units (a vector input); an image's sides are shown as n₀"),
    (DENSE.replace("{units: 3,", "{units: 3, channels: 3,"),
     "p.yaml:2: input.channels: goes with size (an image); a vector input has no channels"),
    (DENSE.replace("symbol: d", "symbol: dd"), "p.yaml:2: input.symbol: expected one Latin letter, got 'dd'"),
    (DENSE.replace("symbol: d", "symbol: 3"), "p.yaml:2: input.symbol: expected a one-letter symbol, got 3"),
    (DENSE.replace("symbol: q", "symbol: d"),
     "p.yaml:4: layers[0].symbol: 'd' already stands for another size (input.symbol)"),
    (VALID.split("layers:")[0] + "layers: []\n", "p.yaml:3: layers: expected 1 to 32 layers, got 0"),
    (VALID.split("layers:")[0] + "layers: {type: conv}\n", "p.yaml:3: layers: expected a list, got a mapping"),
    (VALID.replace("type: conv,", "type: convolution,"),
     "p.yaml:4: layers[0].type: expected one of dense, conv, max_pool, average_pool, flatten, "
     "got text 'convolution'"),
    (VALID.replace("type: max_pool,", "type: max_pol,"),
     "p.yaml:5: layers[1].type: expected one of dense, conv, max_pool, average_pool, flatten, "
     "got text 'max_pol' (did you mean 'max_pool'?)"),
    (VALID.replace("type: conv, filters: 2,", "type: conv,"),
     "p.yaml:4: layers[0].filters: missing required field for a conv layer"),
    (VALID.replace("type: max_pool, kernel: 2", "type: max_pool"),
     "p.yaml:5: layers[1].kernel: missing required field for a max_pool layer"),
    (VALID.replace("kernel: 3", "kernel: 7"),
     "p.yaml:4: layers[0].kernel: a 7×7 window (dilation 1, 7 wide) does not fit the 6×6 input with padding 0"),
    (VALID.replace("kernel: 3", "kernel: 3, dilation: 3"),
     "p.yaml:4: layers[0].kernel: a 3×3 window (dilation 3, 7 wide) does not fit the 6×6 input with padding 0"),
    (VALID.replace("kernel: 2", "kernel: 5"),
     "p.yaml:5: layers[1].kernel: a 5×5 window (dilation 1, 5 wide) does not fit the 4×4 input with padding 0"),
    (VALID.replace("kernel: 3", "kernel: 3, stride: 0"),
     "p.yaml:4: layers[0].stride: expected a whole number >= 1, got 0"),
    (VALID.replace("kernel: 3", "kernel: 3, padding: -1"),
     "p.yaml:4: layers[0].padding: expected a whole number >= 0, got -1"),
    (VALID.replace("kernel: 3", "kernel: 3, strides: 2"),
     "p.yaml:4: layers[0].strides: unknown field (did you mean 'stride'?)"),
    (VALID.replace("kernel: 2", "kernel: 2, units: 4"),
     "p.yaml:5: layers[1].units: has no meaning for a max_pool layer (it takes dilation, kernel, padding, stride)"),
    (VALID.replace("kernel: 2", "kernel: 2, bias: false"),
     "p.yaml:5: layers[1].bias: has no meaning for a max_pool layer (it takes dilation, kernel, padding, stride)"),
    (VALID + "  - {type: flatten, units: 8}\n",
     "p.yaml:6: layers[2].units: has no meaning for a flatten layer (it takes no other field)"),
    (VALID.replace("kernel: 3", "kernel: 3, compare: 2"),
     "p.yaml:4: layers[0].compare: expected true or false, got 2"),
    (VALID + "  - {type: dense, units: 10}\n",
     "p.yaml:6: layers[2].type: a dense layer takes a vector; put a flatten layer before it"),
    (DENSE + "  - {type: flatten}\n", "p.yaml:5: layers[1].type: a flatten layer takes an image; the layer before "
     "gives a vector"),
    (DENSE.replace("type: dense, units: 4", "type: dense"),
     "p.yaml:4: layers[0].units: missing required field for a dense layer"),
    (DENSE.replace("units: 4", "units: 1000001"),
     "p.yaml:4: layers[0].units: expected a whole number <= 1000000, got 1000001"),
    ("kind: network_size\ninput: {size: 4096, channels: 4096}\nlayers:\n  - {type: flatten}\n"
     "  - {type: dense, units: 1000000}\n",
     "p.yaml:5: layers[1]: its parameter count is 68,719,476,737,000,000; at most 10^15 (a float holds every count exactly)"),
    ("kind: network_size\ninput: {size: 1000, channels: 100}\nlayers:\n"
     "  - {type: conv, filters: 1000, kernel: 1, compare: true}\n",
     "p.yaml:4: layers[0]: its fully connected count is 100,000,001,000,000,000; at most 10^15 (a float holds every count exactly)"),
    ("kind: network_size\ninput: {size: 4096, channels: 4096}\nlayers:\n  - {type: flatten}\n"
     "  - {type: dense, units: 14500}\n" + "  - {type: dense, units: 1000000}\n" * 5,
     "p.yaml:10: layers[6]: the total parameter count up to this layer is 1,000,446,917,686,500; at most 10^15 "
     "(a float holds every count exactly)"),
    ("kind: network_size\ninput: {size: 128, channels: 4096}\nlayers:\n"
     "  - {type: conv, filters: 4096, kernel: 64, padding: 64, compare: true}\n",
     "p.yaml:4: layers[0]: its unshared count is 2,559,731,941,511,168; at most 10^15 (a float holds every count "
     "exactly)"),
    (VALID + "shape: [6, 6]\n", "p.yaml:6: shape: unknown field; expected one of constraints, grading, id, input, "
     "kind, layers, lecture, notes, random, rounding, source, title, variant_of"),
]


@pytest.mark.parametrize("text, line", FAILURES, ids=[line.split(": ", 1)[1] for _, line in FAILURES])
def test_bad_input_is_one_line(runner, tmp_path, monkeypatch, text, line):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "p.yaml").write_text(text, encoding="utf-8")
    result = runner.invoke(cli, ["solve", "p.yaml"])
    assert result.exit_code == 2
    assert result.output == line + "\n"


def test_every_failure_case_starts_from_a_valid_file():
    for text in (VALID, DENSE):
        assert solve_text(text)


# -- the JSON Schema refuses what derive refuses, where it can say it ----------------------------------------

SCHEMA_REFUSED = [  # cnn-sizes with a part replaced, and the field derive names when it refuses it
    ({"input": {"size": 6, "colour": 3}}, "input.colour"),
    ({"input": {"size": 0}}, "input.size"),
    ({"layers": [{"type": "convolution", "filters": 2, "kernel": 3}]}, "layers[0].type"),
    ({"layers": [{"type": "conv", "filters": 2, "kernel": 65}]}, "layers[0].kernel"),
    ({"layers": [{"type": "conv", "filters": 2, "kernel": 3, "strides": 2}]}, "layers[0].strides"),
    ({"layers": []}, "layers"),
]


@pytest.mark.parametrize("fields, named", SCHEMA_REFUSED, ids=[named for _, named in SCHEMA_REFUSED])
def test_the_schema_refuses_what_derive_refuses(tmp_path, fields, named):
    data = {**yaml.safe_load((PROBLEMS / "cnn-sizes.yaml").read_text(encoding="utf-8")), **fields}
    assert list(jsonschema.Draft202012Validator(schema("network_size")).iter_errors(data)), "the schema accepted it"
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    with pytest.raises(ProblemError, match=re.escape(f": {named}: ")):
        load_problem(path)
