"""A property-based campaign: hostile and random answers through the real grading path.

Answers are drawn from a grammar of what students and attackers write
(functions nested deep, towers of exponentials, huge and tiny literals,
Python and shell code, control characters, look-alike digits and letters)
and marked, a sheet of them at a time, by the Graders of problems with
numeric and symbolic items. Whatever an answer holds: no exception escapes,
every item gets one of the documented verdicts with a reason, nothing is
executed, and no answer outlasts its budget (an answer over it is
UNDECIDED, saying so). More than 10,000 answers are graded per run.
"""

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from derive.grading.grader import ANSWER_SECONDS, CODES, Grader
from derive.grading.sheet import AnswerSheet, read_answer
from derive.problem import load_problem

SHEETS = 220  # examples per problem
ANSWERS_PER_SHEET = 12
PROBLEMS = ("hw2-sigmoid", "lecture-bp-3layer", "degenerate-saddle", "hw5-pool")  # 4 x 220 x 12 = 10,560 answers
SENTINEL = "/tmp/derive-hostile-answer-executed"

_GRADERS = {}


def grader_for(problem):
    if problem not in _GRADERS:
        _GRADERS[problem] = Grader(load_problem(problem))
    return _GRADERS[problem]


NAMES = ["x", "y", "s", "f", "h", "σ", "a11", "a12", "w1", "w2", "e", "pi", "π", "z", "ｘ", "х", "_x", "__class__"]
FUNCTIONS = ["exp", "log", "ln", "sqrt", "sin", "cos", "tan", "tanh", "sinh", "cosh", "atan", "abs", "sigmoid",
             "relu", "softplus", "σ", "f", "s", "max", "min", "eval", "__import__", "open"]
NUMBERS = ["0", "1", "2", "0.5", "1e-11", "1e300", "1e-300", "1" + "0" * 309, "10^999", "9^9^9", "0.8 09",
           "٣", "３", "1_000", "0x10", "1e400", "-0", "2020-01-01", "12:30", ".5", "5.", "1/0", "0^-1"]
HOSTILE = ["__import__('os').system('touch " + SENTINEL + "')", "open('" + SENTINEL + "', 'w')",
           "exec('1')", "lambda: 1", "x.__class__", "[x for x in ()]", "\x1b]0;pwned\x07\x1b[2J", "a\x00b",
           "x" * 2000, "(" * 500 + "x" + ")" * 500, "-" * 900 + "x", "sin(e^(e^15))", "tan(e^(e^(e^3)))",
           "(tanh(a11^1000)+1)^2", "min(1.0, (-2)^pi)", "exp(log(w1 w2))", "s(1-s) + 0*log(x)",
           "max(" + ",".join("x" * 1 for _ in range(50)) + ")", "e^e^e^e^e^e", "x^1000^1000",
           "sqrt(-1)", "log(0)", "𝑥", "x\u200b", "1,5", "true", "null",
           "tan((exp(10^999)))", "max(1E100,x*x)"]  # the last two: found by longer runs


def expressions(depth=3):
    leaf = st.one_of(st.sampled_from(NAMES), st.sampled_from(NUMBERS))
    if depth == 0:
        return leaf
    inner = expressions(depth - 1)
    return st.one_of(
        leaf,
        st.builds(lambda f, a: f"{f}({a})", st.sampled_from(FUNCTIONS), inner),
        st.builds(lambda a, op, b: f"{a}{op}{b}", inner, st.sampled_from(["+", "-", "*", "/", "^", "**", " ", ""]),
                  inner),
        st.builds(lambda a: f"({a})", inner),
        st.builds(lambda a, b: f"max({a}, {b})", inner, inner),
    )


ANSWERS = st.one_of(
    expressions(),
    st.sampled_from(HOSTILE),
    st.text(max_size=40),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-10 ** 400, max_value=10 ** 400),
    st.none(),
    st.booleans(),
)


@pytest.fixture(scope="module", autouse=True)
def no_sentinel():
    if os.path.exists(SENTINEL):
        os.remove(SENTINEL)
    yield
    assert not os.path.exists(SENTINEL), "an answer was executed"


@pytest.mark.parametrize("problem", PROBLEMS)
def test_any_answer_gets_a_documented_verdict_within_its_budget(problem):
    grader = grader_for(problem)
    keys = list(grader.items)
    graded = []

    @settings(max_examples=SHEETS, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(st.integers(0, len(keys) - 1),
           st.lists(ANSWERS, min_size=ANSWERS_PER_SHEET, max_size=ANSWERS_PER_SHEET))
    def grade(first, values):
        # a sheet per answer, the answers spread over the items from a drawn one on
        for index, value in enumerate(values):
            key = keys[(first + index) % len(keys)]
            result = grader.grade(AnswerSheet("hostile.yaml", "hostile", {key: read_answer(value, line=1)}))
            graded.append(value)
            assert [v.key for v in result.verdicts] == keys
            for verdict in result.verdicts:
                assert verdict.code in CODES
                assert 0 <= verdict.points <= verdict.max_points
                if verdict.code not in ("OK", "MISSING"):
                    assert verdict.detail, verdict
                assert "internal error" not in verdict.detail, verdict
                assert f"within {ANSWER_SECONDS:g} s" not in verdict.detail, verdict

    grade()
    # hypothesis ran every example: the problems' share of the 10,000
    assert len(graded) >= SHEETS * ANSWERS_PER_SHEET


def test_the_campaign_is_more_than_ten_thousand_answers():
    assert len(PROBLEMS) * SHEETS * ANSWERS_PER_SHEET >= 10_000
