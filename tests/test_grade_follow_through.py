"""Follow-through: a wrong number early in a chain costs marks once, and cannot be gamed.

Expected values are worked by hand in the lecture's 4-decimal mode (each line
rounded half up to 4 decimals and carried), from a student's wrong
delta^3_1 = -0.05 (the right value is -0.0264):

    delta^2_1 = -0.05 * 1 * 0.9781 * (1 - 0.9781)      = -0.00107102 -> -0.0011
    delta^2_2 = -0.05 * 0.5 * 0.9309 * (1 - 0.9309)    = -0.00160813 -> -0.0016
    delta^1_1 = (-0.0011 * 1 + -0.0016 * 0.7) * 1      = -0.00222    -> -0.0022
    delta^1_2 = (-0.0011 * 1.2 + -0.0016 * 0.8) * 1    = -0.0026
    dE/dw^3_11 = -0.05 * 0.9781                        = -0.048905   -> -0.0489
    w'^3_11   = 1 - 1 * (-0.0489)                      = 1.0489
    dE/dw^1_11 = -0.0022 * 1                           = -0.0022
    w'^1_11   = 1 - 1 * (-0.0022)                      = 1.0022
"""

import pytest
import yaml

from derive.grading.grader import Grader
from derive.problem import load_problem
from derive.grading.sheet import read_sheet
from conftest import PROBLEMS

CARRIED = {
    "delta[3][1]": -0.05,
    "delta[2][1]": -0.0011,
    "delta[2][2]": -0.0016,
    "delta[1][1]": -0.0022,
    "delta[1][2]": -0.0026,
    "grad_w[3][1][1]": -0.0489,
    "w_new[3][1][1]": 1.0489,
    "grad_w[1][1][1]": -0.0022,
    "w_new[1][1][1]": 1.0022,
}


def grade(tmp_path, answers, grading=None):
    problem_path = PROBLEMS / "lecture-bp-3layer.yaml"
    if grading is not None:
        data = yaml.safe_load(problem_path.read_text(encoding="utf-8"))
        data["grading"] = grading
        problem_path = tmp_path / "lecture.yaml"
        problem_path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    grader = Grader(load_problem(problem_path))
    sheet_path = tmp_path / "student.yaml"
    sheet_path.write_text(yaml.safe_dump(answers), encoding="utf-8")
    result = grader.grade(read_sheet(sheet_path, set(grader.exact_values)))
    return {v.key: v for v in result.verdicts if v.code != "MISSING"}


def test_a_wrong_delta_carried_correctly_loses_marks_once(tmp_path):
    verdicts = grade(tmp_path, CARRIED)
    assert verdicts["delta[3][1]"].code == "WRONG"
    assert {k: v.code for k, v in verdicts.items() if k != "delta[3][1]"} == {k: "FT" for k in CARRIED if k != "delta[3][1]"}
    assert all(v.points == 1 for k, v in verdicts.items() if k != "delta[3][1]")


def test_the_feedback_names_the_students_own_numbers(tmp_path):
    verdicts = grade(tmp_path, CARRIED)
    assert verdicts["delta[2][1]"].detail == "follow-through, using your δ³₁ = -0.05"
    assert verdicts["delta[2][1]"].calculation == (
        "δ²₁ = δ³₁ w³₁₁ h²₁ (1 - h²₁) = -0.05·1·0.9781·(1 - 0.9781) = -0.0011")
    assert verdicts["delta[1][1]"].used == (("delta[2][1]", -0.0011), ("delta[2][2]", -0.0016))


def test_the_problem_file_sets_the_follow_through_fraction(tmp_path):
    verdicts = grade(tmp_path, CARRIED, grading={"follow_through": 0.5})
    assert verdicts["delta[2][1]"].code == "FT" and verdicts["delta[2][1]"].points == 0.5


def test_an_answer_right_against_the_exact_chain_is_right_whatever_the_earlier_answers(tmp_path):
    verdicts = grade(tmp_path, {"delta[3][1]": -0.05, "delta[2][1]": -0.0006})
    assert verdicts["delta[2][1]"].code == "OK"


def test_a_skipped_intermediate_is_filled_in_from_the_students_own_numbers(tmp_path):
    # delta^2_1 is not on the sheet; dE/dw^2_11 = delta^2_1 * h^1_1 = -0.0011 * 2 = -0.0022
    # follows from the student's delta^3_1 = -0.05 through the skipped step.
    verdicts = grade(tmp_path, {"delta[3][1]": -0.05, "grad_w[2][1][1]": -0.0022})
    assert verdicts["grad_w[2][1][1]"].code == "FT"


GAMING = [
    # A zero entered early makes every later delta, gradient and update trivial.
    ({"delta[3][1]": 0, "delta[2][1]": 0, "grad_w[3][1][1]": 0, "w_new[3][1][1]": 1},
     ["delta[3][1]", "delta[2][1]", "grad_w[3][1][1]", "w_new[3][1][1]"]),
    # A given copied in (the target y = 0.98 as delta^3_1): later steps would follow from it.
    ({"delta[3][1]": 0.98, "grad_w[3][1][1]": 0.9586}, ["delta[3][1]", "grad_w[3][1][1]"]),
]


@pytest.mark.parametrize("answers, wrong", GAMING)
def test_follow_through_is_refused_from_a_zero_or_a_copied_given(tmp_path, answers, wrong):
    verdicts = grade(tmp_path, answers)
    assert sorted(k for k, v in verdicts.items() if v.code == "WRONG") == sorted(wrong)


def test_a_wrong_number_with_no_wrong_earlier_answers_is_wrong(tmp_path):
    verdicts = grade(tmp_path, {"delta[2][1]": -0.0011})
    assert verdicts["delta[2][1]"].code == "WRONG"
