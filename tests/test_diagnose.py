"""Naming the slip behind a wrong answer.

Every rule of the catalogue is exercised the same way: a sheet holding the
right values (from the independent numpy engine, derive.engine) for every
item except one, where the test writes the number a slipped calculation
gives, worked out here from the engine's values and the published network
(the BP lecture's worked example); the diagnosis must name that rule. Random wrong numbers
and right answers must never be given a slip.
"""

import csv
import io
import json
import math
import random
from pathlib import Path

import pytest

from derive.engine.keys import engine_values
from derive.grading.grader import Grader
from derive.problem import load_problem
from derive.grading.report import ClassResult, gradescope_json, summary_csv, verdicts_json
from derive.render.report import TextReportPrinter
from derive.grading.sheet import read_sheet
from conftest import PROBLEMS


def sigmoid(t):
    return 1 / (1 + math.exp(-t))


LECTURE = (PROBLEMS / "lecture-bp-3layer.yaml").read_text(encoding="utf-8")
# The published network: inputs, target, and the weights the slips read.
X = (1, 0, 1)
Y = 0.98
W2 = {(1, 1): 1, (1, 2): 0.7, (2, 1): 1.2, (2, 2): 0.8}
W3 = {(1, 1): 1, (2, 1): 0.5}
GRADED_THETA = LECTURE.replace('"w_new[*]"]', '"w_new[*]", "grad_theta[*]"]')
HALF_RATE = LECTURE.replace("learning_rate: 1", "learning_rate: 0.5")
ZERO_INPUT = LECTURE.replace("- x: [1, 0, 1]", "- x: [0.5, 0, 2]")
BATCH = (PROBLEMS / "batch-mean.yaml").read_text(encoding="utf-8")
BATCH_SUM = BATCH.replace("batch: mean", "batch: sum")


def load(tmp_path, text, name="problem"):
    path = tmp_path / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    return load_problem(path)


def sheet_with(tmp_path, values, changed, name="student"):
    """A sheet with `values` (key -> number) for every key, `changed` (key -> text) instead where given."""
    lines = [f"{key}: {changed.get(key, repr(value))}" for key, value in values.items()]
    lines += [f'{key}: "{text}"' for key, text in changed.items() if key not in values]
    path = tmp_path / f"{name}.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def grade_one(tmp_path, text, key, written, config_text=None):
    problem = load(tmp_path, text)
    grader = Grader(problem)
    values = {k: v for k, v in engine_values(problem.spec).items() if k in grader.items}
    result = grader.grade(read_sheet(sheet_with(tmp_path, values, {key: written}), set(grader.exact_values)))
    verdicts = {v.key: v for v in result.verdicts}
    return verdicts[key], verdicts, values


def engine(text, tmp_path):
    return engine_values(load(tmp_path, text, "engine").spec)


def six(value):
    return f"{value:.6g}"


# Each case: (slip code, problem text, key, the slipped number from the engine's values v).
NUMERIC_CASES = [
    ("missing_derivative", LECTURE, "delta[2][1]", lambda v: v["delta[3][1]"] * W3[1, 1]),
    ("derivative_at_h", LECTURE, "delta[2][1]",
     lambda v: v["delta[3][1]"] * W3[1, 1] * sigmoid(v["h[2][1]"]) * (1 - sigmoid(v["h[2][1]"]))),
    ("function_for_derivative", LECTURE, "delta[2][2]", lambda v: v["delta[3][1]"] * W3[2, 1] * v["h[2][2]"]),
    ("threshold_sign", GRADED_THETA, "grad_theta[3][1]", lambda v: v["delta[3][1]"]),
    ("update_sign", LECTURE, "w_new[3][1][1]", lambda v: W3[1, 1] + 1 * v["grad_w[3][1][1]"]),
    ("update_missing", LECTURE, "w_new[2][1][2]", lambda v: W2[1, 2]),
    ("rate_missing", HALF_RATE, "w_new[3][1][1]", lambda v: W3[1, 1] - v["grad_w[3][1][1]"]),
    ("rate_twice", HALF_RATE, "w_new[3][1][1]", lambda v: W3[1, 1] - 0.25 * v["grad_w[3][1][1]"]),
    ("target_output_swapped", LECTURE, "delta[3][1]", lambda v: (Y - v["yhat[1]"]) * v["yhat[1]"] * (1 - v["yhat[1]"])),
    ("transposed", LECTURE, "z[2][1]", lambda v: v["h[1][1]"] * W2[1, 1] + v["h[1][2]"] * W2[1, 2]),
    ("wrong_index", LECTURE, "grad_w[2][1][1]", lambda v: v["delta[2][2]"] * v["h[1][1]"]),
    ("wrong_layer", LECTURE, "grad_w[3][1][1]", lambda v: v["delta[3][1]"] * v["h[1][1]"]),
    ("z_for_h", LECTURE, "grad_w[3][1][1]", lambda v: v["delta[3][1]"] * v["z[2][1]"]),
    ("times_zero", ZERO_INPUT, "grad_w[1][2][1]", lambda v: v["delta[1][1]"]),
    ("sum_for_mean", BATCH, "grad_w[2][1][1]", lambda v: v["grad_w[1][2][1][1]"] + v["grad_w[2][2][1][1]"]),
    ("mean_for_sum", BATCH_SUM, "grad_w[2][1][1]", lambda v: (v["grad_w[1][2][1][1]"] + v["grad_w[2][2][1][1]"]) / 2),
]


@pytest.mark.parametrize("code, text, key, slipped", NUMERIC_CASES, ids=[c[0] for c in NUMERIC_CASES])
def test_each_numeric_slip_is_named(tmp_path, code, text, key, slipped):
    value = slipped(engine(text, tmp_path))
    verdict, verdicts, values = grade_one(tmp_path, text, key, six(value))
    assert not verdict.right, f"{key} = {six(value)} should be wrong"
    assert (verdict.slip, verdict.slip_codes) == (code, (code,)), verdict.slip_detail
    assert verdict.slip_detail.startswith("looks like ")
    assert verdict.points == 0  # a diagnosis changes no mark
    assert all(v.right for k, v in verdicts.items() if k != key and k in values)


ROUNDING_CASES = [
    # z³₁ = 1.443550 rounded to 2 places; ŷ from z³₁ rounded to 2 places too early: σ(1.44)
    ("z[3][1]", lambda v: round(v["z[3][1]"], 2), "rounded to 2 decimals"),
    ("yhat[1]", lambda v: round(sigmoid(round(v["z[3][1]"], 2)), 4), "from values rounded to 2 decimals"),
]


@pytest.mark.parametrize("key, slipped, words", ROUNDING_CASES, ids=["result", "early"])
def test_rounding_slips_are_named(tmp_path, key, slipped, words):
    value = slipped(engine(LECTURE, tmp_path))
    verdict, _, _ = grade_one(tmp_path, LECTURE, key, repr(value))
    assert verdict.slip == "rounding"
    assert words in verdict.slip_detail


OWN_Z = 2.34  # z³₁ as one class writes it, wrongly: ŷ is then rounded on it, each sheet its own way
OWN_ROUNDING = [
    (lambda: round(sigmoid(OWN_Z), 2), "rounded to 2 decimals"),
    (lambda: round(sigmoid(OWN_Z), 1), "rounded to 1 decimal"),
    (lambda: round(sigmoid(OWN_Z), 3), "rounded to 3 decimals"),
    (lambda: f"{sigmoid(round(OWN_Z, 1)):.4f}", "computed from values rounded to 1 decimal"),
]


@pytest.mark.parametrize("order", [1, -1], ids=["in order", "reversed"])
def test_rounding_slips_on_the_student_s_own_number_each_round_their_own_way(tmp_path, order):
    # One grader for the class, which remembers each variant's value on a wrong number many students share:
    # each sheet's rounding of ŷ on that number is named as that sheet's own, whichever sheet comes first.
    problem = load(tmp_path, LECTURE)
    grader = Grader(problem)
    values = {k: v for k, v in engine_values(problem.spec).items() if k in grader.items}
    for n, (slipped, words) in list(enumerate(OWN_ROUNDING))[::order]:
        changed = {"z[3][1]": repr(OWN_Z), "yhat[1]": str(slipped())}
        path = sheet_with(tmp_path, values, changed, name=f"student{n}")
        verdict = grader.grade(read_sheet(path, set(grader.exact_values)))["yhat[1]"]
        assert (verdict.slip, verdict.slip_codes) == ("rounding", ("rounding",)), verdict.slip_detail
        assert verdict.slip_detail.endswith(words) or f"{words}:" in verdict.slip_detail, verdict.slip_detail


def test_the_derivative_taken_at_the_activation_in_a_derivative_written_in_z(tmp_path):
    # softplus′(z) = σ(z) is written in z: σ(h) there, h = softplus(z), is f′(h) for f′(z).
    # hw1-relu with a softplus hidden layer: weights (to-from) [[1, 1], [1, -1]], output weights (0.4, 0.3).
    text = (PROBLEMS / "hw1-relu.yaml").read_text(encoding="utf-8").replace(
        "  - activation: relu\n    weights: [[1, 1], [1, -1]]", "  - activation: softplus\n    weights: [[1, 1], [1, -1]]")
    v = engine(text, tmp_path)
    verdict, _, _ = grade_one(tmp_path, text, "delta[1][1]", six(v["delta[2][1]"] * 0.4 * sigmoid(v["h[1][1]"])))
    assert verdict.slip == "derivative_at_h", verdict.slip_detail


class _Built:
    """A problem whose solution is built here by hand (for rules no bundled kind's formulas reach)."""

    name, title, kind, grading = "built", "built", "built", None

    def __init__(self, solution):
        from derive.steps import EXACT

        self.solution, self.rounding = solution, EXACT

    def solve(self, rounding=None):
        return self.solution


@pytest.mark.parametrize("code, written", [("h_for_z", 3 * sigmoid(0.8)), ("z_for_h", 0.8 + 0.8)])
def test_z_and_h_swapped_outside_a_derivative(tmp_path, code, written):
    import sympy

    from derive.steps import SolutionBuilder, Sym

    out = SolutionBuilder()
    x = out.given("x", Sym("x", "x"), 0.4)
    z = out.step("z[1][1]", Sym("z", "z"), sympy.Mul(2, x, evaluate=False), "Forward")
    h = out.step("h[1][1]", Sym("h", "h"), 1 / (1 + sympy.exp(-z)), "Forward")
    out.step("q", Sym("q", "q"), sympy.Mul(3, z, evaluate=False), "Other")  # reads z: 3 z = 2.4
    out.step("r", Sym("r", "r"), sympy.Add(h, x, x, evaluate=False), "Other")  # reads h: h + 2x
    grader = Grader(_Built(out.build("built", "built", "built")))
    key = "q" if code == "h_for_z" else "r"
    path = tmp_path / "s.yaml"
    path.write_text(f"{key}: {six(written)}\n", encoding="utf-8")
    verdict = next(v for v in grader.grade(read_sheet(path, set(grader.exact_values))).verdicts if v.key == key)
    assert verdict.slip == code, verdict.slip_detail


EXPRESSION_CASES = [
    ("factor_dropped", "lecture-bp-3layer", "fprime[2]", "1 - s"),
    ("factor_dropped", "hw2-sigmoid", "d2", "s*(1 - 2*s)"),
    ("chain_factor_missing", "lecture-bp-3layer", "fprime[2]", "-exp(-x)/(1 + exp(-x))^2"),
    ("chain_factor_missing", "hw2-sigmoid", "d1", "-1/(1 + exp(-x))^2"),
    ("expression_sign", "hw2-sigmoid", "d2", "-s*(1-s)*(1-2*s)"),
]


@pytest.mark.parametrize("code, problem, key, answer", EXPRESSION_CASES)
def test_each_expression_slip_is_named(tmp_path, code, problem, key, answer):
    grader = Grader(load_problem(PROBLEMS / f"{problem}.yaml"))
    path = tmp_path / "s.yaml"
    path.write_text(f'{key}: "{answer}"\n', encoding="utf-8")
    verdict = next(v for v in grader.grade(read_sheet(path, set(grader.exact_values))).verdicts if v.key == key)
    assert verdict.code == "WRONG"
    assert verdict.slip == code, verdict.slip_detail


def test_the_example_line_reads_as_the_lecture_writes_it(tmp_path):
    v = engine(LECTURE, tmp_path)
    verdict, _, _ = grade_one(tmp_path, LECTURE, "delta[2][1]", f"{v['delta[3][1]'] * W3[1, 1]:.4f}")
    assert verdict.slip_detail == "looks like δ³₁ w³₁₁ without the factor σ′(z²₁) = h²₁ (1 - h²₁)"


def test_the_lecture_answer_key_slips_are_named_ambiguous_between_two_rules(golden):
    from pathlib import Path

    grader = Grader(load_problem(PROBLEMS / "lecture-bp-3layer.yaml"))
    sheet = Path(__file__).parent / "sheets" / "lecture-answer-key.yaml"
    result = grader.grade(read_sheet(sheet, set(grader.exact_values)))
    slipped = {v.key: v for v in result.verdicts if v.slip}
    # δ¹₁ x₂ = -0.0012 · 0 printed as -0.0012: x₁ (= 1) for x₂, or the factor 0 dropped, give the same number.
    assert set(slipped) == {"grad_w[1][2][1]", "grad_w[1][2][2]"}
    for verdict in slipped.values():
        assert verdict.slip == "ambiguous"
        assert set(verdict.slip_codes) == {"wrong_index", "times_zero"}
    result.path = "sheets/lecture-answer-key.yaml"  # the same text on every machine
    golden("grade-lecture-key.txt", TextReportPrinter().doprint(
        ClassResult(grader.problem, grader.items, grader.config.points, [result])))


RANDOM_PROBLEMS = ["lecture-bp-3layer", "hw1-relu", "softmax-cross-entropy", "batch-mean", "two-iterations",
                   "lecture-forward"]


@pytest.mark.parametrize("name", RANDOM_PROBLEMS)
def test_right_answers_and_random_wrong_numbers_are_never_given_a_slip(tmp_path, name):
    problem = load_problem(PROBLEMS / f"{name}.yaml")
    grader = Grader(problem)
    values = {k: v for k, v in engine_values(problem.spec).items() if k in grader.items}
    rng = random.Random(20261124)
    right = grader.grade(read_sheet(sheet_with(tmp_path, values, {}), set(grader.exact_values)))
    assert all(v.right and not v.slip for v in right.verdicts if v.key in values)
    for n in range(40):
        changed = {}
        for key, value in values.items():
            if rng.random() < 0.5:  # a random number of the item's size, as a student's calculator prints it
                scale = max(abs(value), 0.01)
                changed[key] = repr(rng.uniform(-3 * scale, 3 * scale))
        result = grader.grade(read_sheet(sheet_with(tmp_path, values, changed, f"r{n}"), set(grader.exact_values)))
        named = [(v.key, v.answer, v.slip_detail) for v in result.verdicts if v.slip]
        assert named == []


def test_a_slip_given_partial_credit_earns_it_and_only_it(tmp_path):
    text = LECTURE.replace("  follow_through: 1", "  follow_through: 1\n  slips: {missing_derivative: 0.5}")
    v = engine(LECTURE, tmp_path)
    verdict, _, _ = grade_one(tmp_path, text, "delta[2][1]", six(v["delta[3][1]"] * W3[1, 1]))
    assert (verdict.slip, verdict.credit, verdict.points) == ("missing_derivative", 0.5, 0.5)
    other, _, _ = grade_one(tmp_path, text, "delta[3][1]",
                            six((Y - v["yhat[1]"]) * v["yhat[1]"] * (1 - v["yhat[1]"])))
    assert (other.slip, other.points) == ("target_output_swapped", 0)


@pytest.mark.parametrize("entry, message", [
    ("slips: {missing_derivativ: 0.5}", "unknown slip 'missing_derivativ' (did you mean 'missing_derivative'?)"),
    ("slips: {rounding: 2}", "expected a fraction from 0 to 1, got 2"),
    ("slips: [rounding]", "expected a mapping"),
])
def test_bad_slip_credit_is_one_line(tmp_path, runner, entry, message):
    from derive.cli import cli

    text = LECTURE.replace("  follow_through: 1", f"  follow_through: 1\n  {entry}")
    path = tmp_path / "p.yaml"
    path.write_text(text, encoding="utf-8")
    sheet = tmp_path / "s.yaml"
    sheet.write_text("z[1][1]: 2\n", encoding="utf-8")
    out = runner.invoke(cli, ["grade", str(path), str(sheet)])
    assert out.exit_code == 2
    assert out.output.count("\n") == 1 and "grading.slips" in out.output and message in out.output


def test_the_class_summary_counts_slips_per_item_in_every_report(tmp_path):
    v = engine(LECTURE, tmp_path)
    grader = Grader(load_problem(PROBLEMS / "lecture-bp-3layer.yaml"))
    values = {k: x for k, x in engine_values(grader.problem.spec).items() if k in grader.items}
    missing = six(v["delta[3][1]"] * W3[1, 1])
    swapped = six((Y - v["yhat[1]"]) * v["yhat[1]"] * (1 - v["yhat[1]"]))
    plan = [{"delta[2][1]": missing}] * 3 + [{"delta[2][1]": "0.5"}, {"delta[3][1]": swapped}, {}]
    result = ClassResult(grader.problem, grader.items, grader.config.points)
    for n, changed in enumerate(plan):
        result.results.append(grader.grade(read_sheet(sheet_with(tmp_path, values, changed, f"s{n}"),
                                                      set(grader.exact_values))))
    rows = {row["key"]: row for row in result.summary()}
    assert (rows["delta[2][1]"]["wrong"], rows["delta[2][1]"]["slips"]) == (4, {"missing_derivative": 3})
    assert rows["delta[3][1]"]["slips"] == {"target_output_swapped": 1}
    text = TextReportPrinter().doprint(result)
    assert "  delta[2][1]: 4 wrong, 3 of them missing f′" in text
    table = {row["item"]: row for row in csv.DictReader(io.StringIO(summary_csv(result)))}
    assert table["delta[2][1]"]["wrong"] == "4"
    assert table["delta[2][1]"]["slips"] == "missing f′ (missing_derivative): 3"
    document = json.loads(verdicts_json(result))
    summary = {row["key"]: row for row in document["summary"]}
    assert summary["delta[2][1]"]["slips"] == {"missing_derivative": 3}
    first = {x["key"]: x for x in document["students"][0]["verdicts"]}
    assert first["delta[2][1]"]["slip"]["code"] == "missing_derivative"
    assert first["z[1][1]"]["slip"] is None
    tests = {t["name"]: t for t in json.loads(gradescope_json(result, 0))["tests"]}
    assert "\nlooks like δ³₁ w³₁₁ without the factor σ′(z²₁)" in tests["delta[2][1]: the expected answer"]["output"]


def test_diagnosis_never_changes_a_mark(tmp_path):
    problem = load_problem(PROBLEMS / "lecture-bp-3layer.yaml")
    sheets = sorted((Path(__file__).parent / "sheets" / "class").glob("[abc]*.yaml"))
    with_slips, without = Grader(problem), Grader(problem, diagnose=False)
    for path in sheets:
        a = with_slips.grade(read_sheet(path, set(with_slips.exact_values)))
        b = without.grade(read_sheet(path, set(without.exact_values)))
        assert [(x.key, x.code, x.points) for x in a.verdicts] == [(x.key, x.code, x.points) for x in b.verdicts]
        assert not any(x.slip for x in b.verdicts)
    assert any(x.slip for path in sheets for x in with_slips.grade(read_sheet(path, set(with_slips.exact_values))).verdicts)


MOMENTUM = """kind: optimizer
title: one momentum step on (1 - w1 w2)^2
parameters: [w1, w2]
loss: (1 - w1 w2)^2
start: {w1: 0.5, w2: 1.5}
iterations: 1
optimizers:
  - method: momentum
    learning_rate: 0.2
    momentum: 0.9
"""
# By hand: g⁰_w1 = -2 w2 (1 - w1 w2) = -2·1.5·0.25 = -0.75; m¹ = 0.9·0 - 0.2·(-0.75) = 0.15.
G0_W1, ETA = -2 * 1.5 * (1 - 0.5 * 1.5), 0.2


@pytest.mark.parametrize("code, written", [
    ("update_sign", 0.9 * 0 + ETA * G0_W1),  # + η g: a step up the gradient
    ("rate_missing", 0.9 * 0 - G0_W1),  # η left out
])
def test_the_same_rules_name_slips_in_another_kind(tmp_path, code, written):
    problem = load(tmp_path, MOMENTUM)
    grader = Grader(problem)
    path = tmp_path / "s.yaml"
    path.write_text(f"momentum.g[0][w1]: {G0_W1}\nmomentum.m[1][w1]: {six(written)}\n", encoding="utf-8")
    verdicts = {v.key: v for v in grader.grade(read_sheet(path, set(grader.exact_values))).verdicts}
    assert verdicts["momentum.g[0][w1]"].code == "OK"
    assert verdicts["momentum.m[1][w1]"].slip == code, verdicts["momentum.m[1][w1]"].slip_detail


def test_an_answer_of_0_is_never_diagnosed(tmp_path):
    # z¹₂ = x₁ w¹₁₂ + x₂ w¹₂₂ + x₃ w¹₃₂ = 1.5; with x₂ for x₃ it would be 0, but a 0 is no evidence of that
    verdict, _, _ = grade_one(tmp_path, LECTURE, "z[1][2]", "0")
    assert verdict.code == "WRONG" and verdict.slip == ""


@pytest.mark.parametrize("written, slip", [
    ("0.978", "wrong_layer"),    # σ(z²₁) = 0.978119: to the 3 decimals written, it is 0.978
    ("0.97810", "wrong_layer"),  # to 5 decimals, 0.97812: within half a unit of the last digit and the tolerance
    ("0.9780", ""),              # to 4 decimals it is 0.9781 (the rounded chain's too): the written 0 disagrees
])
def test_a_slip_agrees_with_every_digit_written_trailing_zeros_included(tmp_path, written, slip):
    """Under a tolerance looser than the digits written (0.2 % here), a slip explains a number only if it
    agrees with it to its last written digit, and a trailing zero is a digit written."""
    text = LECTURE.replace("  follow_through: 1", "  follow_through: 1\n  tolerance: {relative: 0.002}")
    grader = Grader(load(tmp_path, text))
    path = tmp_path / "s.yaml"
    path.write_text(f"yhat[1]: {written}\n", encoding="utf-8")
    verdict = grader.grade(read_sheet(path, set(grader.exact_values)))["yhat[1]"]
    assert (verdict.answer, verdict.code, verdict.slip) == (written, "WRONG", slip)
