"""The two checks a teacher tries first, on the lecture's own published numbers.

The sheets in tests/sheets/ are typed from the BP lecture slides (not produced
by derive): the 3-layer example's answer key with its slips, and the opening
forward pass as printed.
"""

from pathlib import Path

from derive.grading.grader import Grader
from derive.problem import load_problem
from derive.grading.sheet import read_sheet
from conftest import PROBLEMS

SHEETS = Path(__file__).parent / "sheets"


def grade(problem, sheet):
    grader = Grader(load_problem(PROBLEMS / f"{problem}.yaml"))
    result = grader.grade(read_sheet(SHEETS / sheet, set(grader.exact_values)))
    return {v.key: v for v in result.verdicts}, result


def test_the_lecture_answer_key_is_right_except_its_two_slips():
    verdicts, result = grade("lecture-bp-3layer", "lecture-answer-key.yaml")
    # the BP lecture's worked example: Δw_21^1 = δ_1^1 x_2 = -0.0012 * 0 is printed as -0.0012 (and Δw_22^1 as -0.0014);
    # the product is 0. Everything else on the key is the lecture's right rounded chain.
    slips = {"grad_w[1][2][1]", "grad_w[1][2][2]"}
    assert {k for k, v in verdicts.items() if v.code != "OK"} == slips
    assert all(verdicts[k].code == "WRONG" and verdicts[k].expected == "0" for k in slips)
    assert result.score == len(verdicts) - 2


def test_the_slipped_products_still_lead_to_the_right_updated_weights():
    verdicts, _ = grade("lecture-bp-3layer", "lecture-answer-key.yaml")
    assert verdicts["w_new[1][2][1]"].code == "OK"  # the lecture's w_21^1 = 1 is right
    assert verdicts["w_new[1][2][2]"].code == "OK"  # and w_22^1 = 0.5


def test_the_sigmoid_derivative_in_the_lectures_form_is_equivalent():
    verdicts, _ = grade("lecture-bp-3layer", "lecture-answer-key.yaml")
    assert verdicts["fprime[2]"].code == "OK"


def test_the_opening_forward_pass_accepts_out_1_and_flags_out_2():
    verdicts, _ = grade("lecture-forward", "lecture-forward-slide.yaml")
    # out 1: 0.12*2 + 0.12*1 + 0.95*4 = 4.16 from the slide's rounded hidden values
    # (exact 4.167905), and sigma(4.16) = 0.9847 -> 0.98.
    assert verdicts["z[2][1]"].code == "FT"
    assert verdicts["yhat[1]"].code == "OK"
    # out 2: the slide's 0.73 stands where 0.95 belongs: 0.39 is wrong; with the
    # student's own hidden values the sum is 0.12*3 + 0.12*(-2) + 0.95*(-1) + 1 = 0.17.
    assert verdicts["z[2][2]"].code == "WRONG"
    assert verdicts["z[2][2]"].calculation.endswith("= 0.17")
    # sigma(0.39) = 0.5963, which is 0.6 to the 2 decimals this problem grades to:
    # right by follow-through from the wrong 0.39.
    assert verdicts["yhat[2]"].code == "FT"
    assert all(verdicts[k].code == "OK" for k in ("z[1][1]", "h[1][1]", "z[1][2]", "h[1][2]", "z[1][3]", "h[1][3]"))
