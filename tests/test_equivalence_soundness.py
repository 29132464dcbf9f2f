"""Expression answers: equivalent forms are right, non-equivalent ones never are.

Every row goes through the real grading path (a bundled problem's Grader,
the student's text parsed as a sheet's answer would be). The non-equivalent
rows are the ones a float comparison at a dozen points in [-3, 3] accepts:
differences below float precision, differences only beyond ±3, and domain
differences SymPy's own simplification erases (`0*log(x)`). Each must be
marked WRONG (or at most UNDECIDED), never OK.
"""

import pytest

from derive.grading.grader import Grader
from derive.grading.sheet import AnswerSheet, read_answer
from derive.problem import load_problem

_GRADERS = {}


def verdict(problem, key, text):
    if problem not in _GRADERS:
        _GRADERS[problem] = Grader(load_problem(problem))
    grader = _GRADERS[problem]
    sheet = AnswerSheet("s.yaml", "s", {key: read_answer(text)})
    return next(v for v in grader.grade(sheet).verdicts if v.key == key)


EQUIVALENT = [
    # the sigmoid's derivative, in the forms the lecture and students write
    ("hw2-sigmoid", "d1", "s(1-s)"),
    ("hw2-sigmoid", "d1", "σ(1 - σ)"),
    ("hw2-sigmoid", "d1", "sigma(x)(1 - sigma(x))"),
    ("hw2-sigmoid", "d1", "f(x)(1-f(x))"),
    ("hw2-sigmoid", "d1", "s(x)*(1-s(x))"),
    ("hw2-sigmoid", "d1", "h(1-h)"),
    ("hw2-sigmoid", "d1", "s - s^2"),
    ("hw2-sigmoid", "d1", "exp(-x)/(1 + exp(-x))^2"),
    ("hw2-sigmoid", "d1", "e^x/(1 + e^x)^2"),
    ("hw2-sigmoid", "d1", "1/(2 + exp(x) + exp(-x))"),
    ("hw2-sigmoid", "d1", "1/(4 cosh(x/2)^2)"),
    ("hw2-sigmoid", "d1", "(1 - tanh(x/2)^2)/4"),
    ("hw2-sigmoid", "d1", "exp(log(s(1-s)))"),  # s(1-s) > 0 everywhere: the log is defined
    ("hw2-sigmoid", "d1", "sqrt(s(1-s))^2"),
    ("hw2-sigmoid", "d1", "0.25 (1 - tanh(0.5 x)^2)"),  # decimals read as written: 0.25 is 1/4
    ("hw2-sigmoid", "d2", "s(1-s)(1-2s)"),
    ("lecture-bp-3layer", "fprime[2]", "f(x)(1-f(x))"),
    ("lecture-bp-3layer", "fprime[2]", "h(1-h)"),
    ("tanh-derivatives", "d1", "1 - tanh(x)^2"),
    ("tanh-derivatives", "d1", "1/cosh(x)^2"),
    ("tanh-derivatives", "d1", "4/(e^x + e^(-x))^2"),
    ("degenerate-saddle", "grad[1]", "4x^3"),
    ("degenerate-saddle", "grad[1]", "4 x x x"),
    ("lecture-saddle", "yhat", "w2 w1"),
]

NOT_EQUIVALENT = [
    # differences below what floats at [-3, 3] see
    ("hw2-sigmoid", "d1", "s(1-s) + 1e-11"),
    ("hw2-sigmoid", "d1", "1.000000001 s(1-s)"),
    ("hw2-sigmoid", "d1", "s(1-s) + 10^-300"),
    ("hw2-sigmoid", "d1", "s - s^2 + 10^-300"),
    ("hw2-sigmoid", "d1", "(1 + 10^-30) s(1-s)"),
    # differences only beyond ±3
    ("hw2-sigmoid", "d1", "s(1-s) + max(0, x-3)"),
    ("hw2-sigmoid", "d1", "s(1-s) + relu(abs(x) - 3)"),
    ("hw2-sigmoid", "d1", "s(1-s) + relu(x - 20)"),
    ("degenerate-saddle", "grad[1]", "4x^3 + relu(abs(x) - 3)"),
    ("degenerate-saddle", "grad[1]", "4x^3 + max(0, -x - 100)"),
    # domains SymPy's simplification erases
    ("hw2-sigmoid", "d1", "s(1-s) + 0*log(x)"),
    ("hw2-sigmoid", "d1", "s(1-s) + 0 sqrt(x)"),
    ("hw2-sigmoid", "d1", "s(1-s) + log(x) - log(x)"),
    ("degenerate-saddle", "grad[1]", "4 exp(log(x))^3"),
    ("lecture-saddle", "yhat", "exp(log(w1 w2))"),
    ("lecture-saddle", "yhat", "sqrt(w1 w2)^2"),
    # plainly different
    ("hw2-sigmoid", "d1", "s(1+s)"),
    ("hw2-sigmoid", "d1", "s^2(1-s)"),
    ("hw2-sigmoid", "d1", "-s(1-s)"),
    ("degenerate-saddle", "grad[1]", "f"),
    ("degenerate-saddle", "grad[1]", "4x^3 + 1e-40"),
]


@pytest.mark.parametrize("problem, key, text", EQUIVALENT, ids=lambda v: v if isinstance(v, str) else None)
def test_equivalent_forms_are_right(problem, key, text):
    v = verdict(problem, key, text)
    assert (v.code, v.points) == ("OK", 1), v.detail


@pytest.mark.parametrize("problem, key, text", NOT_EQUIVALENT, ids=lambda v: v if isinstance(v, str) else None)
def test_non_equivalent_answers_are_never_right(problem, key, text):
    v = verdict(problem, key, text)
    assert v.code in ("WRONG", "UNREADABLE", "UNDECIDED"), v.detail
    assert v.points == 0


def test_a_domain_difference_says_where():
    v = verdict("lecture-saddle", "yhat", "exp(log(w1 w2))")
    assert v.code == "WRONG"
    assert "only the expected expression is defined at " in v.detail


def test_a_difference_beyond_the_middle_says_where():
    v = verdict("hw2-sigmoid", "d1", "s(1-s) + max(0, x-3)")
    assert v.code == "WRONG"
    assert v.detail.startswith("not equivalent: at x = ")


def test_a_numbers_verdict_states_its_confidence(monkeypatch):
    # Forced: SymPy cannot reduce the difference, so only the numbers speak, and say how much.
    import derive.grading.equivalence as equivalence

    monkeypatch.setattr(equivalence, "_sympy_verdict", lambda difference: None)
    _GRADERS.pop("hw2-sigmoid", None)
    v = verdict("hw2-sigmoid", "d1", "1/(4 cosh(x/2)^2)")
    _GRADERS.pop("hw2-sigmoid", None)
    assert (v.code, v.decided_by) == ("OK", "numbers")
    assert "significant digits at" in v.detail and "points" in v.detail
