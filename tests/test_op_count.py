"""`kind: op_count` (chapter 3.2 homework 3): operation counts of one training step, in n and L.

Oracles, none of them derive's own code:

- a training step written here in plain Python, every operation done through
  a `Tally` method that counts it, for many (n, L) and every counting option
  (derive's own check runs a differently written instrumented step; this one
  is independent of it and of the formulas);
- the counts worked out by hand for the homework's form (the arithmetic in
  the comments);
- SymPy applied directly (expand, Poly) to compare expressions.
"""

import math
import random
import re
from collections import Counter

import jsonschema
import pytest
import sympy
import yaml

from derive.cli import cli
from derive.errors import ProblemError
from derive.fields import schema
from derive.grading.grader import Grader
from derive.problem import load_problem
from derive.render import render
from derive.grading.sheet import AnswerSheet, read_answer
from conftest import PROBLEMS

n, L = sympy.Symbol("n"), sympy.Symbol("L")


# -- the oracle: one training step that counts what it does ---------------------------

class Tally:
    """Arithmetic that counts itself: every call is one operation."""

    def __init__(self):
        self.counts = Counter()

    def mul(self, a, b):
        self.counts["mul"] += 1
        return a * b

    def add(self, a, b):
        self.counts["add"] += 1
        return a + b

    def sub(self, a, b):
        self.counts["add"] += 1  # a subtraction is counted as an addition
        return a - b

    def div(self, a, b):
        self.counts["div"] += 1
        return a / b

    def exp(self, a):
        self.counts["exp"] += 1
        return math.exp(a)


def training_step(width, layers, bias=True, loss="mean_squared_error", sigmoid="counted",
                  sigmoid_derivative="counted", update=True, input_error=False):
    """Counters of one step: forward[l], backward[l] (l = 1..L, index 0 unused) and the input's error.

    z_j = Σ_k W_jk a_k (+ b_j), a_j = σ(z_j); e_j = slope_j σ′(z_j) at the output
    with slope = 2/n (ŷ - y) or ŷ - y, e_j = σ′(z_j) Σ_s W_sj e_s below it;
    G_jk = e_j a_k; W_jk -= η G_jk, b_j -= η e_j.
    """
    rng = random.Random(width * 100 + layers)
    W = [None] + [[[rng.uniform(-1, 1) for _ in range(width)] for _ in range(width)] for _ in range(layers)]
    b = [None] + [[rng.uniform(-1, 1) for _ in range(width)] for _ in range(layers)]
    x = [rng.uniform(-1, 1) for _ in range(width)]
    y = [rng.uniform(0, 1) for _ in range(width)]
    forward, backward = [None], [None] * (layers + 1)

    def weighted_sum(t, terms):
        total = t.mul(*terms[0])
        for pair in terms[1:]:
            total = t.add(total, t.mul(*pair))
        return total

    a = [x]
    for l in range(1, layers + 1):
        t = Tally()
        z = [weighted_sum(t, [(W[l][j][k], a[l - 1][k]) for k in range(width)]) for j in range(width)]
        if bias:
            z = [t.add(z[j], b[l][j]) for j in range(width)]
        if sigmoid == "counted":
            a.append([t.div(1, t.add(1, t.exp(-zj))) for zj in z])
        else:
            a.append([1 / (1 + math.exp(-zj)) for zj in z])
        forward.append(t.counts)

    def slope_of_sigmoid(t, value):
        if sigmoid_derivative == "counted":
            return t.mul(value, t.sub(1, value))
        return value * (1 - value)

    e = [None] * (layers + 1)
    for l in range(layers, 0, -1):
        t = Tally()
        if l == layers:
            incoming = [t.sub(a[l][j], y[j]) for j in range(width)]
            if loss == "mean_squared_error":
                incoming = [t.mul(2 / width, g) for g in incoming]
        else:
            incoming = [weighted_sum(t, [(W[l + 1][s][j], e[l + 1][s]) for s in range(width)]) for j in range(width)]
        e[l] = [t.mul(slope_of_sigmoid(t, a[l][j]), incoming[j]) for j in range(width)]
        backward[l] = t.counts
    for l in range(1, layers + 1):  # gradients and update after every error term, with the old weights
        t = Tally()
        G = [[t.mul(e[l][j], a[l - 1][k]) for k in range(width)] for j in range(width)]
        if update:
            W[l] = [[t.sub(W[l][j][k], t.mul(0.5, G[j][k])) for k in range(width)] for j in range(width)]
            if bias:
                b[l] = [t.sub(b[l][j], t.mul(0.5, e[l][j])) for j in range(width)]
        backward[l] = backward[l] + t.counts
    t = Tally()
    if input_error:
        [weighted_sum(t, [(W[1][s][k], e[1][s]) for s in range(width)]) for k in range(width)]
    return forward, backward, t.counts


def pass_totals(width, layers, **options):
    forward, backward, inputs = training_step(width, layers, **options)
    return sum(forward[1:], Counter()), sum(backward[1:], Counter()) + inputs


# -- solving a problem with given options ------------------------------------------------

def problem_text(options, concrete=None):
    lines = ["kind: op_count"]
    lines += [f"{key}: {str(value).lower() if isinstance(value, bool) else value}" for key, value in options.items()]
    if concrete:
        lines += [f"n: {concrete[0]}", f"L: {concrete[1]}"]
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def solve_options(tmp_path_factory):
    folder = tmp_path_factory.mktemp("op-count")
    cache = {}

    def solve(options, concrete=None, name="p"):
        text = problem_text(options, concrete)
        if text not in cache:
            path = folder / f"{name}{len(cache)}.yaml"
            path.write_text(text, encoding="utf-8")
            cache[text] = load_problem(path).solve()
        return cache[text]

    return solve


def at(expression, width, layers):
    return int(sympy.sympify(expression).subs({n: width, L: layers}))


OPTIONS = [
    {},  # the homework's form: the defaults
    {"bias": False},
    {"loss": "half_squared_error"},
    {"sigmoid": "free"},
    {"sigmoid_derivative": "free"},
    {"update": False},
    {"input_error": True},
    {"bias": False, "loss": "half_squared_error", "sigmoid": "free", "sigmoid_derivative": "free",
     "update": False, "input_error": True},
]
GRID = [(width, layers) for width in (1, 2, 3, 5) for layers in (1, 2, 4)]


def option_id(options):
    return ",".join(f"{k}={v}" for k, v in options.items()) or "homework"


@pytest.mark.parametrize("options", OPTIONS, ids=option_id)
def test_totals_match_the_counted_run(solve_options, options):
    solution = solve_options(options)
    for width, layers in GRID:
        forward, backward = pass_totals(width, layers, **options)
        for name, counted in (("forward", forward), ("backward", backward)):
            formulas = {step.key.rsplit("_", 1)[1]: at(step.value, width, layers) for step in solution
                        if step.key.startswith(f"total_{name}_")}
            assert {op: c for op, c in counted.items() if c} == {op: f for op, f in formulas.items() if f}, \
                (name, width, layers)
        for op in ("mul", "add"):
            assert at(solution[f"total_{op}"].value, width, layers) == forward[op] + backward[op]


@pytest.mark.parametrize("options", OPTIONS, ids=option_id)
def test_per_layer_formulas_match_each_counted_layer(solve_options, options):
    solution = solve_options(options)
    for width in (1, 2, 3, 6):
        layers = 3
        forward, backward, _ = training_step(width, layers, **options)
        for op in ("mul", "add", "div", "exp"):
            for l in range(1, layers + 1):
                key = f"forward_{op}"
                expected = at(solution[key].value, width, layers) if key in solution else 0
                assert forward[l][op] == expected, (key, width, l)
            for group, layer in (("output", layers), ("hidden", 1), ("hidden", 2)):
                key = f"{group}_{op}"
                expected = at(solution[key].value, width, layers) if key in solution else 0
                assert backward[layer][op] == expected, (key, width, layer)


@pytest.mark.parametrize("options", OPTIONS, ids=option_id)
def test_each_layer_total_is_the_sum_of_its_parts(solve_options, options):
    """forward_<op> adds up the forward_<op>.* parts; output_<op> and hidden_<op> their own
    parts and the backward_<op>.* parts every layer shares (SymPy sums the printed values)."""
    solution = solve_options(options)
    for group, shared in (("forward", None), ("output", "backward"), ("hidden", "backward")):
        for op in ("mul", "add", "div", "exp"):
            prefixes = tuple(f"{g}_{op}." for g in (group, shared) if g)
            parts = [step.value for step in solution if step.key.startswith(prefixes)]
            total = solution[f"{group}_{op}"].value if f"{group}_{op}" in solution else 0
            assert sympy.expand(sum(parts) - total) == 0, (group, op)


# -- the homework's form, by hand ----------------------------------------------------------

HOMEWORK = [
    ("forward_mul.weights", n**2),            # n neurons, n products w_jk a_k each
    ("forward_add.weights", n**2 - n),        # n sums of n terms: n - 1 additions each
    ("forward_mul", n**2),
    ("forward_add", n**2 + n),                # n(n - 1) + n (bias) + n (the 1 + exp(-z) of σ)
    ("forward_div", n),                       # 1/(1 + exp(-z)) per neuron
    ("forward_exp", n),
    # output layer: 2/n (ŷ - y): n; σ′ = a(1 - a): n; ⊙: n; e aᵀ: n^2; η g_W: n^2; η g_b: n
    ("output_mul", 2 * n**2 + 4 * n),
    # ŷ - y: n; 1 - a: n; W - η g_W: n^2; b - η g_b: n
    ("output_add", n**2 + 3 * n),
    # hidden layer: Wᵀe: n^2; σ′: n; ⊙: n; e aᵀ: n^2; η g_W: n^2; η g_b: n
    ("hidden_mul", 3 * n**2 + 3 * n),
    # Wᵀe: n(n - 1); 1 - a: n; W - η g_W: n^2; b - η g_b: n
    ("hidden_add", 2 * n**2 + n),
    ("total_forward_mul", L * n**2),
    ("total_forward_add", L * n**2 + L * n),
    ("total_forward_div", L * n),
    ("total_forward_exp", L * n),
    # 2n^2 + 4n + (L - 1)(3n^2 + 3n) = 3L n^2 - n^2 + 3L n + n
    ("total_backward_mul", (3 * L - 1) * n**2 + (3 * L + 1) * n),
    # n^2 + 3n + (L - 1)(2n^2 + n) = 2L n^2 - n^2 + L n + 2n
    ("total_backward_add", (2 * L - 1) * n**2 + (L + 2) * n),
    ("total_mul", (4 * L - 1) * n**2 + (3 * L + 1) * n),
    ("total_add", (3 * L - 1) * n**2 + (2 * L + 2) * n),
    # the homework's "about": the terms of highest degree in n and L
    ("lead.forward_mul", n**2),
    ("lead.hidden_mul", 3 * n**2),
    ("lead.total_forward_mul", L * n**2),
    ("lead.total_backward_mul", 3 * L * n**2),
    ("lead.total_mul", 4 * L * n**2),
    ("lead.total_backward_add", 2 * L * n**2),
]


@pytest.fixture(scope="module")
def homework():
    return load_problem(PROBLEMS / "hw3-op-count.yaml").solve()


@pytest.mark.parametrize("key, expected", HOMEWORK, ids=[key for key, _ in HOMEWORK])
def test_homework_formulas_by_hand(homework, key, expected):
    assert sympy.expand(homework[key].value - expected) == 0


HOMEWORK_NUMBERS = [  # the bundled file's n = 100, L = 3
    ("value.total_forward_mul", 30_000),     # 3·100^2
    ("value.total_forward_add", 30_300),     # 3·100^2 + 3·100
    ("value.total_forward_div", 300),
    ("value.total_forward_exp", 300),
    ("value.total_backward_mul", 81_000),    # 8·100^2 + 10·100
    ("value.total_backward_add", 50_500),    # 5·100^2 + 5·100
    ("value.total_mul", 111_000),            # 30000 + 81000
    ("value.total_add", 80_800),             # 30300 + 50500
]


@pytest.mark.parametrize("key, expected", HOMEWORK_NUMBERS)
def test_homework_totals_as_numbers(homework, key, expected):
    assert homework[key].value == expected


def test_homework_totals_as_numbers_match_a_run(homework):
    forward, backward = pass_totals(100, 3)
    assert homework["value.total_forward_mul"].value == forward["mul"]
    assert homework["value.total_backward_mul"].value == backward["mul"]
    assert homework["value.total_add"].value == forward["add"] + backward["add"]


def test_the_printed_check_agrees_with_an_independent_run(homework):
    checks = [step for step in homework if step.key.startswith("check[")]
    assert len(checks) == 4 * 3 * 6  # n = 1..4, L = 1..3; six pass totals
    for step in checks:
        point, key = step.key.split(".", 1)
        width, layers = (int(v) for v in point[len("check["):-1].split("]["))
        counted = pass_totals(width, layers)[0 if key.startswith("total_forward") else 1]
        assert step.value == counted[key.rsplit("_", 1)[1]], step.key
        assert step.note == f"instrumented run: {int(step.value)}, equal"


def test_the_leading_term_is_the_top_degree_part_of_each_count(homework):
    for step in homework:
        if step.key.startswith("lead."):
            exact = sympy.Poly(sympy.expand(homework[step.key[len("lead."):]].value), n, L)
            top = max(sum(m) for m in exact.monoms())
            expected = sum(c * n**a * L**b for (a, b), c in exact.terms() if a + b == top)
            assert sympy.expand(step.value - expected) == 0, step.key


def test_without_n_and_l_there_are_no_numbers_but_the_check(solve_options):
    solution = solve_options({})
    assert not any(step.key.startswith("value.") or step.is_given for step in solution)
    assert all(isinstance(step.value, float) == step.key.startswith("check[") for step in solution)


def test_check_grid_comes_from_the_file(solve_options):
    solution = solve_options({"check": "{n: [2, 7], L: [5]}"})
    points = sorted({step.key.split(".")[0] for step in solution if step.key.startswith("check[")})
    assert points == ["check[2][5]", "check[7][5]"]
    forward, backward = pass_totals(7, 5)
    assert solution["check[7][5].total_backward_mul"].value == backward["mul"]


# -- printing -----------------------------------------------------------------------

def test_homework_solution_golden(runner, golden):
    result = runner.invoke(cli, ["solve", "hw3-op-count"])
    assert result.exit_code == 0, result.output
    golden("op-count-hw3.txt", result.output)


def test_options_solution_golden(runner, golden, tmp_path):
    options = {"bias": False, "loss": "half_squared_error", "sigmoid": "free", "update": False,
               "input_error": True, "check": "{n: [1, 3], L: [1, 2]}"}
    path = tmp_path / "op-count-options.yaml"
    path.write_text(problem_text(options), encoding="utf-8")
    result = runner.invoke(cli, ["solve", str(path)])
    assert result.exit_code == 0, result.output
    golden("op-count-options.txt", result.output.replace(str(tmp_path) + "/", ""))


LATEX_LINES = [
    r"\#_{\times}[W a] &= n \cdot n = n^{2} \\",  # its note on a line of its own below: the section's notes
    r"&\qquad \parbox[t]{317pt}{\raggedright\textnormal{(each neuron multiplies its n weights by the n inputs)}} \\",
    r"\#_{+}[W a] &= n \cdot \left(n - 1\right) = n^{2} - n \\",
    r"&\qquad \parbox[t]{317pt}{\raggedright\textnormal{(each neuron adds up its n products: n - 1 additions)}} \\",
    r"\#_{\times}[\text{backward, } L \text{ layers}] &= 2 n^{2} + 4 n + \left(L - 1\right) \cdot "
    r"\left(3 n^{2} + 3 n\right) = \left(3 L - 1\right) n^{2} + \left(3 L + 1\right) n \\",
    r"\operatorname{lead}\left(\#_{\times}[\text{backward, } L \text{ layers}]\right) &= "
    r"\operatorname{lead}\left(\left(3 L - 1\right) n^{2} + \left(3 L + 1\right) n\right) = 3 L n^{2} \\",
]


@pytest.mark.parametrize("line", LATEX_LINES)
def test_latex_lines(homework, line):
    assert "  " + line + "\n" in render(homework, "latex")


def test_json_formulas_are_over_step_keys(homework):
    import json

    steps = {step["key"]: step for step in json.loads(render(homework, "json"))["steps"]}
    assert steps["forward_add.weights"]["formula"] == "n*(n - 1)"
    assert steps["total_backward_mul"]["formula"] == "2*n**2 + 4*n + (L - 1)*(3*n**2 + 3*n)"
    assert steps["total_backward_mul"]["value"] == "(3*L - 1)*n**2 + (3*L + 1)*n"
    assert steps["value.total_mul"]["value"] == 111000


# -- grading ------------------------------------------------------------------------

ANSWERS = [  # (key, what a student writes, verdict)
    ("total_forward_mul", "L n^2", "OK"),
    ("total_forward_mul", "L*n*n", "OK"),
    ("hidden_mul", "3n^2 + 3n", "OK"),
    ("total_backward_mul", "3 L n^2 + 3 L n - n^2 + n", "OK"),
    ("total_backward_mul", "3 L n^2", "WRONG"),     # the "about", not the exact count
    ("lead.total_backward_mul", "3 L n^2", "OK"),
    ("lead.total_backward_mul", "3 L n^2 + 3 L n", "WRONG"),
    ("value.total_mul", "111000", "OK"),
]


@pytest.fixture(scope="module")
def grader():
    return Grader(load_problem(PROBLEMS / "hw3-op-count.yaml"))


@pytest.mark.parametrize("key, text, code", ANSWERS)
def test_answers_are_graded(grader, key, text, code):
    sheet = AnswerSheet("sheet.yaml", "student", {key: read_answer(text)})
    verdict = next(v for v in grader.grade(sheet).verdicts if v.key == key)
    assert verdict.code == code, verdict.detail


# -- bad input: one line, file:line: field: what was expected ---------------------------

VALID = "kind: op_count\nn: 4\nL: 2\n"
#  1 kind  2 n  3 L;  added lines are line 4

FAILURES = [
    (VALID.replace("n: 4", "n: 0"), "p.yaml:2: n: expected a whole number >= 1, got 0"),
    (VALID.replace("n: 4", "n: 2.5"), "p.yaml:2: n: expected a whole number, got 2.5"),
    (VALID.replace("n: 4", "n: 100001"), "p.yaml:2: n: expected a whole number <= 100000, got 100001"),
    (VALID.replace("L: 2", "L: 1001"), "p.yaml:3: L: expected a whole number <= 1000, got 1001"),
    (VALID.replace("L: 2\n", ""), "p.yaml:1: L: missing (give both n and L to evaluate the totals, or neither)"),
    (VALID.replace("n: 4\n", ""), "p.yaml:1: n: missing (give both n and L to evaluate the totals, or neither)"),
    (VALID + "sigmoid: lookup\n", "p.yaml:4: sigmoid: expected one of counted, free, got text 'lookup'"),
    (VALID + "sigmoid_derivative: true\n",
     "p.yaml:4: sigmoid_derivative: expected one of counted, free, got true (a boolean)"),
    (VALID + "loss: mean_square_error\n", "p.yaml:4: loss: expected one of mean_squared_error, "
     "half_squared_error, got text 'mean_square_error' (did you mean 'mean_squared_error'?)"),
    (VALID + "bias: maybe\n", "p.yaml:4: bias: expected true or false, got text 'maybe'"),
    (VALID + "inputs_error: true\n", "p.yaml:4: inputs_error: unknown field (did you mean 'input_error'?)"),
    (VALID + "check: [1, 2]\n", "p.yaml:4: check: expected a mapping of fields, got a list of 2"),
    (VALID + "check: {m: [1]}\n", "p.yaml:4: check.m: unknown field; expected one of L, n"),
    (VALID + "check: {n: []}\n", "p.yaml:4: check.n: expected a list of 1 to 8 values, got 0"),
    (VALID + "check: {L: [1, 2, 3, 4, 5, 6, 7, 8, 9]}\n",
     "p.yaml:4: check.L: expected a list of 1 to 8 values, got 9"),
    (VALID + "check: {n: [0]}\n", "p.yaml:4: check.n[0]: expected a whole number >= 1, got 0"),
    (VALID + "check: {n: [17]}\n", "p.yaml:4: check.n[0]: expected a whole number <= 16, got 17"),
    (VALID + "check: {n: [1, 1]}\n", "p.yaml:4: check.n[1]: 1 is listed twice"),
]


@pytest.mark.parametrize("text, line", FAILURES, ids=[line.split(": ", 1)[1] for _, line in FAILURES])
def test_bad_input_is_one_line(runner, tmp_path, monkeypatch, text, line):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "p.yaml").write_text(text, encoding="utf-8")
    result = runner.invoke(cli, ["solve", "p.yaml"])
    assert result.exit_code == 2
    assert result.output == line + "\n"


# -- the JSON Schema refuses what derive refuses ---------------------------------------

# hw3-op-count, with fields set as given, and the field derive names when it refuses it
SCHEMA_REFUSED = [
    ({"inputs_error": True}, "inputs_error"),  # an unknown field
    ({"sigmoid": "lookup"}, "sigmoid"),
    ({"n": 100_001}, "n"),
    ({"check": {"m": [1]}}, "check.m"),
    ({"check": {"n": [1, 1]}}, "check.n[1]"),
]


@pytest.mark.parametrize("fields, named", SCHEMA_REFUSED, ids=[named for _, named in SCHEMA_REFUSED])
def test_the_schema_refuses_what_derive_refuses(tmp_path, fields, named):
    data = {**yaml.safe_load((PROBLEMS / "hw3-op-count.yaml").read_text(encoding="utf-8")), **fields}
    assert list(jsonschema.Draft202012Validator(schema("op_count")).iter_errors(data)), "the schema accepted it"
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    with pytest.raises(ProblemError, match=re.escape(f": {named}: ")):
        load_problem(path)
