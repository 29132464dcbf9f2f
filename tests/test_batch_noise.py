"""kind: batch_noise: the mini-batch gradient's mean and variance, held to an enumeration written here.

The oracle enumerates every batch with itertools (combinations without
replacement; every ordered draw, itertools.product, with replacement) in
Fractions of the decimals as written, and takes the mean and the variance
of the batch gradients over them; beside it the formulas σ²/B · (N − B)/(N − 1)
and σ²/B, written out here. Solved values must be the floats nearest those
fractions, over hypothesis's data sets as well as the bundled ones; the
printed notes must give the fractions where the digits do not. Then the
least-squares gradients against a difference quotient of the loss, grading
and follow-through, bad input (one line, file:line: field), the schema, and
the bundled problems' printed solutions in every format.
"""

import re
import tempfile
from fractions import Fraction
from itertools import combinations, product
from math import comb
from pathlib import Path

import jsonschema
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

BUNDLED = ["batch-noise-gradients", "batch-noise-least-squares", "batch-noise-replacement"]


def solve_text(text):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "p.yaml"
        path.write_text(text, encoding="utf-8")
        return load_problem(path).solve()


def problem(gradients, sizes=None, replacement=False):
    text = f"kind: batch_noise\ngradients: [{', '.join(map(str, gradients))}]\nreplacement: {str(replacement).lower()}\n"
    return text + (f"batch_sizes: [{', '.join(map(str, sizes))}]\n" if sizes else "")


# -- the oracle ------------------------------------------------------------------------------------------------

def exact(numbers):
    return [Fraction(str(n)) for n in numbers]


def enumerated(g, size, replacement):
    """(mean, variance) of the batch gradient over every equally likely batch: the C(N, B) sets of B different
    samples, or the N^B ordered draws with replacement."""
    draws = product(g, repeat=size) if replacement else combinations(g, size)
    means = [sum(batch, Fraction(0)) / size for batch in draws]
    mean = sum(means, Fraction(0)) / len(means)
    return mean, sum(((m - mean) ** 2 for m in means), Fraction(0)) / len(means)


def population_variance(g):
    mean = sum(g, Fraction(0)) / len(g)
    return sum(((x - mean) ** 2 for x in g), Fraction(0)) / len(g)


def formula(g, size, replacement):
    n, sigma2 = len(g), population_variance(g)
    return sigma2 / size if replacement else sigma2 / size * Fraction(n - size, n - 1)


# -- against the oracle ----------------------------------------------------------------------------------------

def check(values, g, sizes, replacement):
    full = sum(g, Fraction(0)) / len(g)
    assert values["g_bar"] == float(full)
    assert values["sigma2"] == float(population_variance(g))
    for size in sizes:
        mean, variance = enumerated(g, size, replacement)
        assert mean == full  # the mini-batch gradient is unbiased
        assert variance == formula(g, size, replacement)  # the two computations of the oracle agree
        assert values[f"mean[{size}]"] == float(mean)
        assert values[f"var[{size}]"] == float(variance)
        assert values[f"var_formula[{size}]"] == float(variance)
        batches = [key for key in values if key.startswith(f"batch[{size}]")]
        assert len(batches) == (comb(len(g) + size - 1, size) if replacement else comb(len(g), size))


decimals = st.integers(-300, 300).map(lambda n: n / 100)


@settings(max_examples=60, deadline=None)
@given(g=st.lists(decimals, min_size=2, max_size=6), data=st.data())
def test_mean_and_variance_are_the_enumeration_s_without_replacement(g, data):
    sizes = data.draw(st.lists(st.integers(1, len(g)), min_size=1, max_size=3, unique=True))
    check(solve_text(problem(g, sizes)).values(), exact(g), sizes, replacement=False)


@settings(max_examples=40, deadline=None)
@given(g=st.lists(decimals, min_size=2, max_size=4), data=st.data())
def test_mean_and_variance_are_the_enumeration_s_with_replacement(g, data):
    sizes = data.draw(st.lists(st.integers(1, 4), min_size=1, max_size=2, unique=True))
    check(solve_text(problem(g, sizes, replacement=True)).values(), exact(g), sizes, replacement=True)


@pytest.mark.parametrize("name", BUNDLED)
def test_the_bundled_problems_against_the_enumeration(name):
    solution = load_problem(PROBLEMS / f"{name}.yaml").solve()
    values = solution.values()
    g = [Fraction(str(values[f"g[{n}]"])) for n in range(1, 9) if f"g[{n}]" in values]
    data = yaml.safe_load((PROBLEMS / f"{name}.yaml").read_text(encoding="utf-8"))
    if "least_squares" in data:
        ls = data["least_squares"]
        w = Fraction(str(ls["w"]))
        g = [(w * x - y) * x for x, y in zip(exact(ls["x"]), exact(ls["y"]))]  # d/dw ½ (w x − y)²
    sizes = data.get("batch_sizes") or range(1, len(g) + 1)
    check(values, g, sizes, data.get("replacement", False))


def test_the_finite_population_factor_at_the_ends():
    g = [0.6, -0.2, 0.3, 1.1]
    values = solve_text(problem(g)).values()
    assert values["var[1]"] == values["sigma2"]  # one sample: the per-sample variance itself
    assert values["var[4]"] == 0  # the whole set: no noise
    with_replacement = solve_text(problem(g, [4], replacement=True)).values()
    assert with_replacement["var[4]"] == float(population_variance(exact(g)) / 4) > 0


def test_least_squares_gradients_are_the_slope_of_the_loss():
    x, y, w = [0.5, 1, 1.5, 2], [0.4, 1.1, 1.4, 2.2], 1.0
    values = load_problem(PROBLEMS / "batch-noise-least-squares.yaml").solve().values()
    h = 1e-6
    for n, (xn, yn) in enumerate(zip(x, y), start=1):
        loss = lambda v: 0.5 * (v * xn - yn) ** 2
        assert values[f"g[{n}]"] == pytest.approx((loss(w + h) - loss(w - h)) / (2 * h), abs=1e-8)
    assert [values[f"g[{n}]"] for n in range(1, 5)] == [0.05, -0.1, 0.15, -0.4]  # by hand: (1·x − y)·x


# -- printed exactly ---------------------------------------------------------------------------------------------

def test_values_the_digits_do_not_hold_are_printed_as_fractions():
    text = render(load_problem(PROBLEMS / "batch-noise-gradients.yaml").solve(), "text")
    g = exact([0.6, -0.2, 0.3, 1.1])
    third = sum(g[:3], Fraction(0)) / 3  # batch {1, 2, 3}
    assert third == Fraction(7, 30)
    assert "ḡ{1,2,3} = 1/3·(g₁ + g₂ + g₃) = 1/3·(0.6 + (-0.2) + 0.3) = 0.233333   (exactly 7/30)" in text
    variance = formula(g, 3, False)
    assert f"the same as Var[ḡ⁽³⁾] of the batches: exactly {variance}" in text
    assert "E[ḡ⁽²⁾] = " in text and "(the same as ḡ: the batch gradient is unbiased, exactly)" in text


def test_the_formula_line_reads_formula_numbers_value():
    text = render(load_problem(PROBLEMS / "batch-noise-gradients.yaml").solve(), "text")
    sigma2 = population_variance(exact([0.6, -0.2, 0.3, 1.1]))
    assert sigma2 == Fraction(89, 400)
    assert ("σ²/B·(N - B)/(N - 1) = σ² (4 - 2)/(2 (4 - 1)) = 0.2225·(4 - 2)/(2·(4 - 1)) = 0.0741667   (the same as "
            "Var[ḡ⁽²⁾] of the batches: exactly 89/1200)") in text
    assert sigma2 / 2 * Fraction(2, 3) == Fraction(89, 1200)
    text = render(load_problem(PROBLEMS / "batch-noise-replacement.yaml").solve(), "text")
    assert "ḡ{1,2} = 1/2·(g₁ + g₂) = 1/2·(0.5 + (-0.1)) = 0.2   (drawn in 2 orders)" in text


# -- grading -----------------------------------------------------------------------------------------------------

def test_a_wrong_sigma2_is_carried_into_the_formula_only():
    sheet = right_numbers("batch-noise-gradients")
    sheet["sigma2"] = 0.89  # the sum of the squares, not divided by N
    sheet["var_formula[2]"] = 0.89 / 2 * 2 / 3
    verdicts = {v.key: v.code for v in derive.grade("batch-noise-gradients", sheet).verdicts}
    assert (verdicts.pop("sigma2"), verdicts.pop("var_formula[2]")) == ("WRONG", "FT")
    assert set(verdicts.values()) == {"OK"}


def test_a_wrong_batch_mean_is_carried_into_the_batch_size_s_mean():
    sheet = right_numbers("batch-noise-gradients")
    sheet["batch[2][1_2]"] = 0.4  # (0.6 - 0.2)/2 = 0.2, with the sign of g₂ lost: (0.6 + 0.2)/2
    sheet["mean[2]"] = (0.4 + 0.45 + 0.85 + 0.05 + 0.45 + 0.7) / 6
    verdicts = {v.key: v.code for v in derive.grade("batch-noise-gradients", sheet).verdicts}
    assert (verdicts["batch[2][1_2]"], verdicts["mean[2]"]) == ("WRONG", "FT")


# -- printed solutions ---------------------------------------------------------------------------------------------

FORMATS = {"text": "txt", "markdown": "md", "latex": "tex", "json": "json", "html": "html"}


@pytest.mark.parametrize("format_", FORMATS)
@pytest.mark.parametrize("name", BUNDLED)
def test_printed_solution_matches_golden(runner, golden, name, format_):
    result = runner.invoke(cli, ["solve", name, "--format", format_])
    assert result.exit_code == 0, result.output
    golden(f"{name}.{FORMATS[format_]}", result.output)


# -- bad input: one line, file:line: field: what was expected -----------------------------------------------------

VALID = "kind: batch_noise\ngradients: [0.6, -0.2, 0.3, 1.1]\nbatch_sizes: [1, 2]\n"
#  1 kind  2 gradients  3 batch_sizes;  added lines are line 4
SQUARES = "kind: batch_noise\nleast_squares:\n  x: [1, 2, 3]\n  y: [1, 1, 2]\n  w: 0.5\n"
#  1 kind  2 least_squares  3 x  4 y  5 w

FAILURES = [
    ("kind: batch_noise\n", "p.yaml:1: gradients: give either gradients (per-sample gradients) or least_squares "
                            "(x, y and w)"),
    (VALID + SQUARES.split("\n", 1)[1], "p.yaml:5: least_squares: give either gradients or least_squares, not both"),
    (VALID.replace("[0.6, -0.2, 0.3, 1.1]", "[0.6]"), "p.yaml:2: gradients: expected a list of 2 to 8 numbers, got 1"),
    (VALID.replace("[0.6, -0.2, 0.3, 1.1]", "[1, 2, 3, 4, 5, 6, 7, 8, 9]"),
     "p.yaml:2: gradients: expected a list of 2 to 8 numbers, got 9"),
    (VALID.replace("-0.2", "x"), "p.yaml:2: gradients[1]: expected a number, got text 'x'"),
    (VALID.replace("[1, 2]", "[1, 5]"), "p.yaml:3: batch_sizes[1]: expected a whole number <= 4, got 5"),
    (VALID.replace("[1, 2]", "[0]"), "p.yaml:3: batch_sizes[0]: expected a whole number >= 1, got 0"),
    (VALID.replace("[1, 2]", "[2, 2]"), "p.yaml:3: batch_sizes[1]: 2 is listed twice"),
    (VALID.replace("[1, 2]", "[]"), "p.yaml:3: batch_sizes: expected a list of 1 to 8 batch sizes, got 0"),
    (VALID.replace("[1, 2]", "[1.5]"), "p.yaml:3: batch_sizes[0]: expected a whole number, got 1.5"),
    ("kind: batch_noise\ngradients: [1, 2, 3, 4, 5, 6, 7, 8]\nreplacement: true\n",
     "p.yaml:1: batch_sizes: 12869 batches to list; at most 256 (ask for fewer batch sizes)"),
    ("kind: batch_noise\ngradients: [1, 2, 3, 4, 5, 6, 7, 8]\nreplacement: true\nbatch_sizes: [4]\n",
     "p.yaml:4: batch_sizes: 330 batches to list; at most 256 (ask for fewer batch sizes)"),
    (VALID + "replacement: yes please\n", "p.yaml:4: replacement: expected true or false, got text 'yes please'"),
    (SQUARES.replace("y: [1, 1, 2]", "y: [1, 1]"), "p.yaml:4: least_squares.y: expected 3 numbers, one per x, got 2"),
    (SQUARES.replace("  w: 0.5\n", ""), "p.yaml:3: least_squares.w: missing required field"),
    (SQUARES.replace("  w: 0.5\n", "  v: 0.5\n"), "p.yaml:5: least_squares.v: unknown field; expected one of w, x, y"),
    (SQUARES.replace("x: [1, 2, 3]", "x: 1"), "p.yaml:3: least_squares.x: expected a list, got 1"),
    (VALID + "batch_size: [2]\n", "p.yaml:4: batch_size: unknown field (did you mean 'batch_sizes'?)"),
]


@pytest.mark.parametrize("text, line", FAILURES, ids=[line.split(": ", 1)[1] for _, line in FAILURES])
def test_bad_input_is_one_line(runner, tmp_path, monkeypatch, text, line):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "p.yaml").write_text(text, encoding="utf-8")
    result = runner.invoke(cli, ["solve", "p.yaml"])
    assert result.exit_code == 2
    assert result.output == line + "\n"


def test_the_largest_listing_is_allowed():
    values = solve_text("kind: batch_noise\ngradients: [1, 2, 3, 4, 5, 6, 7, 8]\n").values()  # 2^8 - 1 = 255 batches
    assert sum(key.startswith("batch[") for key in values) == 255
    assert values["var[8]"] == 0


def test_every_failure_case_starts_from_a_valid_file():
    assert solve_text(VALID)["var[2]"].value == solve_text(VALID)["var_formula[2]"].value
    assert solve_text(SQUARES)["g[1]"].value == -0.5  # (0.5·1 − 1)·1


SCHEMA_REFUSED = [  # batch-noise-gradients with a part replaced, and the field derive names when it refuses it
    ({"gradients": [1]}, "gradients"),
    ({"gradients": [1, "x"]}, "gradients[1]"),
    ({"batch_sizes": [0]}, "batch_sizes[0]"),
    ({"batch_sizes": []}, "batch_sizes"),
    ({"replacement": "no"}, "replacement"),
    ({"least_squares": {"x": [1, 2], "y": [1, 2], "w": 1, "b": 0}}, "least_squares"),
]


@pytest.mark.parametrize("fields, named", SCHEMA_REFUSED, ids=[named for _, named in SCHEMA_REFUSED])
def test_the_schema_refuses_what_derive_refuses(tmp_path, fields, named):
    data = {**yaml.safe_load((PROBLEMS / "batch-noise-gradients.yaml").read_text(encoding="utf-8")), **fields}
    assert list(jsonschema.Draft202012Validator(schema("batch_noise")).iter_errors(data)), "schema accepted it"
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    with pytest.raises(ProblemError, match=re.escape(f": {named}")):
        load_problem(path)
