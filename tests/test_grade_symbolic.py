"""Expression answers: equivalence decided by numbers, then SymPy; untrusted text never evaluated."""

import pytest
import sympy

from derive.api import grade
from derive.grading.equivalence import equivalent
from derive.grading.grader import Grader
from derive.problem import load_problem
from derive.grading.sheet import AnswerSheet, read_answer
from conftest import PROBLEMS

x = sympy.Symbol("x", real=True)


@pytest.fixture(scope="module")
def grader():
    return Grader(load_problem(PROBLEMS / "lecture-bp-3layer.yaml"))


def verdict(grader, text):
    sheet = AnswerSheet("sheet.yaml", "student", {"fprime[2]": read_answer(text)})
    return next(v for v in grader.grade(sheet).verdicts if v.key == "fprime[2]")


def test_a_number_for_an_expression_leaves_the_numbers_graded_as_numbers(grader):
    """A number written where an expression is asked is a wrong expression; the sheet's numbers are still
    graded, with follow-through and slips, as if it were not there."""
    answers = {"fprime[2]": "0.25", "z[2][1]": "3.9", "delta[3][1]": "-0.05", "yhat[1]": "0.809"}
    sheet = AnswerSheet("sheet.yaml", "student", {key: read_answer(text) for key, text in answers.items()})
    graded = grader.grade(sheet)
    assert graded["fprime[2]"].code == "WRONG"
    assert graded["yhat[1]"].code == "OK"
    assert graded["z[2][1]"].code == "WRONG" and graded["delta[3][1]"].code == "WRONG"
    assert not [v for v in graded.verdicts if v.code == "UNDECIDED"]
    del answers["fprime[2]"]
    without = grader.grade(AnswerSheet("sheet.yaml", "student",
                                       {key: read_answer(text) for key, text in answers.items()}))
    assert [v for v in graded.verdicts if v.key != "fprime[2]"] == \
        [v for v in without.verdicts if v.key != "fprime[2]"]


# The derivative of the sigmoid, as students write it.
EQUIVALENT = [
    "s*(1-s)",
    "s(1-s)",
    "σ(1 - σ)",
    "sigmoid(x)*(1-sigmoid(x))",
    "σ(x)(1-σ(x))",
    "exp(-x)/(1+exp(-x))**2",
    "e^(-x)/(1+e^(-x))^2",
    "e^x/(1+e^x)^2",
    "1/(1+exp(-x)) - 1/(1+exp(-x))^2",
    "f(1-f)",
    "0.25*(1 - tanh(x/2)^2)",
]

NOT_EQUIVALENT = [
    "s",
    "1 - s",
    "s*(1+s)",
    "exp(-x)/(1+exp(-x))",
    "s^2(1-s)",
    "0.25",
]


@pytest.mark.parametrize("text", EQUIVALENT)
def test_equivalent_forms_are_right(grader, text):
    v = verdict(grader, text)
    assert (v.code, v.points) == ("OK", 1)
    assert v.decided_by in ("sympy", "numbers")


@pytest.mark.parametrize("text", NOT_EQUIVALENT)
def test_other_expressions_are_wrong_and_numbers_say_where(grader, text):
    v = verdict(grader, text)
    assert (v.code, v.decided_by) == ("WRONG", "numbers")
    assert v.detail.startswith("not equivalent: at x = ")


UNREADABLE = [
    ("__import__('os').system('true')", "character \"'\" is not allowed (at position 12)"),
    ("s.__class__", "attribute access '.' is not allowed (at position 2)"),
    ("9**9**9**9", "exponent 387420489 too large (at most 1000 in size)"),
    ("(" * 200 + "s" + ")" * 200, "expression nested too deeply (more than 60 levels)"),
    ("s" * 5000, "answer too long (5000 characters; at most 1000)"),
    ("y(1-y)", "unknown name 'y'; variables allowed here: f, h, s, sigma, x, σ"),
    ("s(1-s", "expected ')' at the end"),
]


@pytest.mark.parametrize("text, reason", UNREADABLE, ids=lambda v: v[:30])
def test_hostile_or_garbled_answers_are_unreadable_with_a_reason(grader, text, reason):
    v = verdict(grader, text)
    assert (v.code, v.points) == ("UNREADABLE", 0)
    assert v.detail == reason


def test_equal_only_on_part_of_the_domain_is_not_equivalent():
    result = equivalent(sympy.sqrt(x**2), x, x)
    assert result.equal is False and result.decided_by == "numbers"


def test_sympy_decides_what_numbers_only_suggest():
    result = equivalent(sympy.sin(x) ** 2 + sympy.cos(x) ** 2, sympy.Integer(1), x)
    assert result.equal is True and result.decided_by == "sympy"


def test_an_identical_answer_is_decided_once_per_class(grader):
    first = verdict(grader, "s*(1-s)")
    assert verdict(grader, "s*(1-s)") == first
    assert ("fprime[2]", "s*(1-s)") in grader._expressions


# The softmax Jacobian and the log-softmax gradient written with s_i = softmax(x)_i, as the lecture does
# (the lectures' activation derivatives: ds_i/dx_j = s_i (δ_ij - s_j); d/dx_j log s_i = δ_ij - s_j).
SOFTMAX_ALIASES = [
    ("softmax-jacobian", "expr.jacobian[1][1]", "s_1*(1 - s_1)", "OK"),
    ("softmax-jacobian", "expr.jacobian[1][1]", "s1(1-s1)", "OK"),
    ("softmax-jacobian", "expr.jacobian[2][3]", "-s_2 s_3", "OK"),
    ("softmax-jacobian", "expr.jacobian[2][3]", "s_2 s_3", "WRONG"),
    ("softmax-jacobian", "expr.jacobian[3][3]", "s_3 - s_3^2", "OK"),
    ("hw2-log-softmax", "expr.log_softmax_grad[1][1]", "1 - s_1", "OK"),
    ("hw2-log-softmax", "expr.log_softmax_grad[1][2]", "-s_2", "OK"),
    ("hw2-log-softmax", "expr.log_softmax_grad[1][2]", "1 - s_2", "WRONG"),
]


@pytest.mark.parametrize("problem, key, text, code", SOFTMAX_ALIASES)
def test_softmax_entries_may_be_written_s_i(problem, key, text, code):
    grader = Grader(load_problem(PROBLEMS / f"{problem}.yaml"))
    sheet = AnswerSheet("sheet.yaml", "student", {key: read_answer(text)})
    assert next(v for v in grader.grade(sheet).verdicts if v.key == key).code == code


def test_the_blank_sheet_says_s_i_stands_for_softmax():
    from derive.grading.sheet import blank_sheet

    problem = load_problem(PROBLEMS / "softmax-jacobian.yaml")
    solution = problem.solve()
    sheet = blank_sheet(problem, solution, [step.key for step in solution if step.is_symbolic][:1])
    assert "(an expression in x_1, x_2, x_3 (s_i = softmax(x)_i), in quotes)" in sheet


@pytest.mark.parametrize("answer, code", [
    ("H(a11 - max(a12, a21, a22))", "OK"),  # the lecture's unit step, as a max-pooling derivative is written
    ("heaviside(a11 - max(a12, a21, a22))", "OK"),
    ("H(a12 - max(a11, a21, a22))", "WRONG"),  # another window element's step
    ("1", "WRONG"),
])
def test_the_unit_step_H_answers_a_max_pooling_derivative(answer, code):
    from derive import grade, load_problem

    verdict = grade(load_problem("hw5-pool"), {"max.dpool[1][1][1][1]": answer})["max.dpool[1][1][1][1]"]
    assert verdict.code == code, verdict.detail


GELU_ANSWERS = [  # GELU's derivative written with erf, as students write it: decided, never left undecided
    ("(1 + erf(x/sqrt(2)))/2 + x*exp(-x^2/2)/sqrt(2*pi)", "OK"),
    ("gelu(x)/x + x*exp(-x^2/2)/sqrt(2*pi)", "OK"),
    ("(1 + erf(x/sqrt(2)))/2", "WRONG"),  # the product rule's second term left out
    ("(1 + erf(x))/2 + x*exp(-x^2)/sqrt(pi)", "WRONG"),  # erf(x) for erf(x/√2)
]


@pytest.mark.parametrize("answer, code", GELU_ANSWERS, ids=[a for a, _ in GELU_ANSWERS])
def test_an_answer_with_erf_is_decided(tmp_path, answer, code):
    path = tmp_path / "gelu.yaml"
    path.write_text("kind: derivative\nfunction: gelu(x)\n", encoding="utf-8")
    assert grade(path, {"d1": answer})["d1"].code == code
