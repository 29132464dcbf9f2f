"""Every verdict code, each from a sheet whose answer is worked out by hand.

The lecture problem grades in its 4-decimal mode; the right values are the
lecture's own: z^3 = 1.4436, yhat = 0.8090, delta^3 = -0.0264.
"""

import pytest
import sympy

from derive.api import grade
from derive.grading.equivalence import equivalent
from derive.grading.grader import CODES, Grader
from derive.problem import load_problem
from derive.grading.sheet import AnswerSheet, read_answer
from conftest import PROBLEMS, right_numbers


@pytest.fixture(scope="module")
def grader():
    return Grader(load_problem(PROBLEMS / "lecture-bp-3layer.yaml"))


def grade_one(grader, key, answer, **others):
    answers = {k.replace("_", "[", 1): read_answer(v) for k, v in others.items()}
    answers[key] = read_answer(answer)
    sheet = AnswerSheet("s.yaml", "s", answers)
    return next(v for v in grader.grade(sheet).verdicts if v.key == key)


VERDICTS = [
    ("z[3][1]", 1.4436, "OK"),  # the lecture's rounded chain
    ("z[3][1]", 1.44355, "OK"),  # the exact chain (1.443550)
    ("delta[3][1]", "-0.0264", "OK"),  # a number written as text
    ("delta[3][1]", "−0.0264", "OK"),  # with a Unicode minus
    ("delta[3][1]", 0.0264, "SIGN"),
    ("z[3][1]", 1.44, "ROUNDING"),  # 1.4436 to 2 decimals; 4 are asked
    ("yhat[1]", 0.81, "ROUNDING"),
    ("z[3][1]", 1.5, "WRONG"),
    ("z[3][1]", None, "MISSING"),
    ("z[3][1]", "", "MISSING"),
    ("z[3][1]", "one point four", "UNREADABLE"),
    ("z[3][1]", True, "UNREADABLE"),
    ("z[3][1]", "1,4436", "UNREADABLE"),
]


@pytest.mark.parametrize("key, answer, code", VERDICTS)
def test_verdict(grader, key, answer, code):
    verdict = grade_one(grader, key, answer)
    assert verdict.code == code
    assert verdict.points == (1 if code == "OK" else 0)


def test_follow_through_verdict(grader):
    # delta^2_1 from the student's delta^3_1 = -0.05: -0.05 * 1 * 0.9781 * 0.0219 = -0.00107 -> -0.0011
    sheet = AnswerSheet("s.yaml", "s", {"delta[3][1]": read_answer(-0.05), "delta[2][1]": read_answer(-0.0011)})
    verdict = next(v for v in grader.grade(sheet).verdicts if v.key == "delta[2][1]")
    assert (verdict.code, verdict.points) == ("FT", 1)


def test_undecided_when_neither_numbers_nor_sympy_can_decide(monkeypatch):
    # Both are undefined (as real numbers) at every point sampled (all below 1000), so no point
    # can compare them; with SymPy unable to decide (forced here), nothing decides.
    import derive.grading.equivalence

    monkeypatch.setattr(derive.grading.equivalence, "_sympy_verdict", lambda difference: None)
    x = sympy.Symbol("x", real=True)
    result = equivalent(sympy.log(x - 2000) + sympy.log(x - 2001), sympy.log(x - 2000) + sympy.log(x - 2001), x)
    assert (result.equal, result.decided_by) == (None, "undecided")


def test_only_one_side_defined_is_not_equivalent():
    x = sympy.Symbol("x", real=True)
    result = equivalent(2 * sympy.log(x - 10), sympy.log((x - 10) ** 2), x)
    assert (result.equal, result.decided_by) == (False, "numbers")
    assert result.detail.startswith("only the expected expression is defined at x = ")


def test_the_codes_are_the_documented_ones():
    assert CODES == ("OK", "FT", "SIGN", "ROUNDING", "WRONG", "MISSING", "UNREADABLE", "UNDECIDED")


def test_a_calculation_the_students_numbers_cannot_evaluate_is_said_and_grading_goes_on():
    # A probability of -0.5 for the target class puts log(ŷ₂) outside its domain: the loss is still graded, and the line says why.
    grader = Grader(load_problem(PROBLEMS / "softmax-cross-entropy.yaml"))
    sheet = AnswerSheet("s.yaml", "s", {"yhat[2]": read_answer(-0.5), "loss": read_answer(2.5)})
    verdicts = {v.key: v for v in grader.grade(sheet).verdicts}
    assert verdicts["loss"].code == "WRONG"
    assert verdicts["loss"].calculation.startswith("with your numbers: L = ")
    assert verdicts["loss"].calculation.endswith("outside the domain of a function (log or sqrt of a negative number?)")


@pytest.mark.parametrize("path", sorted(PROBLEMS.glob("*.yaml")), ids=lambda p: p.stem)
def test_a_problems_own_numbers_are_right(path):
    answers = right_numbers(path)
    result = grade(path, answers)
    graded = [v for v in result.verdicts if v.key in answers]
    assert all(v.code == "OK" and v.points == v.max_points for v in graded), [v for v in graded if v.code != "OK"][:3]
