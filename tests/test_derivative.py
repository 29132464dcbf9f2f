"""`kind: derivative`: the rule engine and the printed solutions, held against SymPy's own diff.

Oracles, all outside the code under test:
- `sympy.diff` applied here, compared by SymPy (the difference rewritten in
  exponentials cancels to 0) and by numbers at random points evaluated with
  SymPy's `evalf` (not derive's evaluator);
- the lecture's forms, typed here: σ′ = σ(1 - σ),
  σ″ = σ(1 - σ)(1 - 2σ), tanh′ = 1 - tanh², softplus′ = σ, max(1, x)′ = H(x - 1);
- hand arithmetic, in comments, for the values at points;
- the rule each small case calls for, as a calculus textbook names it.
"""

import math
import random
import re

import jsonschema
import numpy as np
import pytest
import sympy
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from derive.cli import cli
from derive.errors import ProblemError
from derive.expr import parse_expression
from derive.fields import schema
from derive.grading.grader import Grader
from derive.problem import load_problem
from derive.render import render
from derive.grading.sheet import AnswerSheet, read_answer
from derive.steps import Rounding
from derive.symbolic import differentiate as rules
from derive.symbolic.activations import X
from derive.symbolic.differentiate import Differentiator
from derive.symbolic.own_form import S, own_forms
from conftest import PROBLEMS, solve_error

x = X
_RNG = random.Random(7)
RANDOM_POINTS = [round(_RNG.uniform(-2.5, 2.5), 6) for _ in range(6)]
RANDOM_POINTS += [abs(p) for p in RANDOM_POINTS]  # half of them positive, for x^x and sqrt


def parse(text):
    return parse_expression(text, {"x": x})


def derivatives(text, order):
    """[(result, oracle)] for orders 1..order: the engine's n-th derivative and sympy.diff's."""
    f = parse(text)
    engine, current, out = Differentiator(), f, []
    for n in range(1, order + 1):
        current = engine.differentiate(current, x).result
        out.append((current, sympy.diff(f, x, n)))
    return out


def number(expression, variable, point):
    """The value of an expression at a point, by SymPy's evalf; None where it is not a finite real."""
    value = sympy.N(expression.subs(variable, point))
    if not value.is_real or not value.is_finite:
        return None
    return float(value)


def assert_same_numbers(mine, oracle, variable=x, points=RANDOM_POINTS):
    compared = 0
    for p in points:
        a, b = number(mine, variable, p), number(oracle, variable, p)
        if b is None:
            continue
        assert a is not None and math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12), (p, mine, oracle)
        compared += 1
    assert compared >= 3


# -- every result against sympy.diff ---------------------------------------------------

SMOOTH = [
    ("sigmoid(x)", 3), ("tanh(x)", 3), ("softplus(x)", 3), ("x^3", 2), ("x sin(x)", 2), ("x/(1 + x^2)", 2),
    ("exp(-x^2)", 3), ("log(1 + x^2)", 2), ("sqrt(1 + x^2)", 2), ("atan(2x)", 2), ("x^x", 2), ("2^x", 2),
    ("tan(x)", 2), ("cosh(x) sinh(x)", 2), ("x*sigmoid(x)", 2), ("1/x", 2), ("cos(3x - 1)^2", 2),
    ("e^(sin(x))", 2), ("x^2 sin(x)/(1 + x^2)", 2), ("0.5x(1 + tanh(0.8(x + 0.044715x^3)))", 1),
]


@pytest.mark.parametrize("text, order", SMOOTH)
def test_results_are_sympys_derivatives(text, order):
    for result, oracle in derivatives(text, order):
        assert sympy.cancel(sympy.expand((result - oracle).rewrite(sympy.exp))) == 0, (text, result)
        assert_same_numbers(result, oracle)


PIECEWISE = [("relu(x)", 2), ("max(1, x)", 2), ("abs(x - 1)", 2), ("min(0, x)", 1), ("max(x, x^2)", 1),
             ("abs(x^2 - 1)", 1), ("max(0, 2x + 1)", 1), ("max(sin(x), cos(x))", 1)]


@pytest.mark.parametrize("text, order", PIECEWISE)
def test_piecewise_results_are_sympys_away_from_the_kinks(text, order):
    for result, oracle in derivatives(text, order):  # random points miss the kinks
        assert_same_numbers(result, oracle)


KINK_VALUES = [  # the subgradient convention: H(0) = 0, sign(0) = 0, max takes its first argument's slope
    ("relu(x)", 0, 0),            # H(0) = 0
    ("max(1, x)", 1, 0),          # H(1 - 1) = 0
    ("min(0, x)", 0, 0),          # H(-0) = 0
    ("abs(x - 1)", 1, 0),         # sign(0) = 0
    ("max(x, x^2)", 0, 1),        # the first argument, x, has slope 1
    ("max(x, x^2)", 1, 1),
]


@pytest.mark.parametrize("text, point, value", KINK_VALUES)
def test_at_a_kink_the_stated_value_is_used(text, point, value):
    (result, _), = derivatives(text, 1)
    assert number(result, x, point) == value


@pytest.mark.parametrize("text, order", SMOOTH + PIECEWISE)
def test_every_rule_line_is_right(text, order):
    """Each line's value is the derivative of its target (in x, or in the chain rule's u)."""
    engine, current = Differentiator(), parse(text)
    for _ in range(order):
        derivation = engine.differentiate(current, x)
        for line in derivation.lines:
            (variable, _), = line.target.variable_count
            assert_same_numbers(line.value, sympy.diff(line.target.expr, variable), variable,
                                [p for p in RANDOM_POINTS if abs(p) > 0.05] + [0.37, 1.71])
        current = derivation.result


def test_open_derivatives_are_worked_out_after_their_line_or_were_above():
    engine = Differentiator()
    derivation = engine.differentiate(parse("exp(-x)/(1 + exp(-x))^2 + x sin(x)"), x)
    targets = [line.target for line in derivation.lines]
    for index, line in enumerate(derivation.lines):
        for opened in line.formula.atoms(sympy.Derivative):
            assert opened in targets[index + 1:] or opened in line.reused, (line.target, opened)


# -- the rule names -------------------------------------------------------------------

RULE_OF = [
    ("3", rules.CONSTANT), ("pi", rules.CONSTANT), ("x", rules.POWER), ("x^3", rules.POWER), ("1/x", rules.POWER),
    ("sqrt(x)", rules.POWER), ("3x^2", rules.CONSTANT_MULTIPLE), ("-x", rules.CONSTANT_MULTIPLE),
    ("x^2 + x", rules.SUM), ("x^2 - x", rules.DIFFERENCE), ("sin(x) x", rules.PRODUCT),
    ("x exp(x) sin(x)", rules.PRODUCT), ("sin(x)/x", rules.QUOTIENT), ("exp(2x)", rules.CHAIN),
    ("(1 + x)^3", rules.CHAIN), ("1/(1 + x)", rules.CHAIN), ("exp(x)", rules.EXPONENTIAL),
    ("2^x", rules.EXPONENTIAL), ("log(x)", rules.LOGARITHM), ("sin(x)", rules.TRIGONOMETRIC),
    ("cos(x)", rules.TRIGONOMETRIC), ("tan(x)", rules.TRIGONOMETRIC), ("atan(x)", rules.INVERSE_TRIGONOMETRIC),
    ("sinh(x)", rules.HYPERBOLIC), ("cosh(x)", rules.HYPERBOLIC), ("tanh(x)", rules.HYPERBOLIC),
    ("relu(x)", rules.PIECEWISE), ("max(1, x)", rules.PIECEWISE), ("min(0, x)", rules.PIECEWISE),
    ("abs(x)", rules.PIECEWISE), ("x^x", rules.POWER_OF_FUNCTION),
]


@pytest.mark.parametrize("text, rule", RULE_OF)
def test_the_rule_applied_first(text, rule):
    assert Differentiator().differentiate(parse(text), x).lines[0].rule == rule


NOTES = [
    ("x^3", "power rule, n = 3"),
    ("exp(-x)", "chain rule, u = -x"),
    ("3 sin(x)", "constant multiple rule, c = 3"),
    ("2^x", "exponential rule, a = 2"),
    ("relu(x)", "piecewise rule; the derivative of max(0, x) is undefined at x = 0 (slopes 0 and 1); "
                "derive uses 0 there"),
    ("abs(x - 1)", "chain rule, u = x - 1; the derivative of abs(x - 1) is undefined at x = 1 "
                   "(slopes -1 and 1); derive uses 0 there"),
    ("max(x, x^2)", "piecewise rule; the derivative of max(x, x^2) is undefined at x = 0 (slopes 1 and 0) "
                    "and x = 1 (slopes 1 and 2); derive uses 1 there"),
    ("max(sin(x), cos(x))", "piecewise rule; the derivative of max(sin(x), cos(x)) is undefined where "
                            "sin(x) = cos(x) (unless both pieces have the same slope there); "
                            "derive uses the slope of sin(x) there"),
]


@pytest.mark.parametrize("text, note", NOTES)
def test_the_first_lines_note(text, note):
    assert Differentiator().differentiate(parse(text), x).lines[0].note == note


def test_the_sigmoid_rule_by_rule():
    """By hand: σ = (1 + e^-x)^-1; chain rule (u = 1 + e^-x) leaves d/du u^-1 (power rule) and
    d/dx (1 + e^-x) (sum rule: constant rule for 1, chain rule for e^-x with u = -x, whose
    outer derivative is the exponential rule and inner one -x the constant multiple rule,
    leaving d/dx x, the power rule with n = 1)."""
    lines = Differentiator().differentiate(parse("sigmoid(x)"), x).lines
    assert [(line.rule, line.detail) for line in lines] == [
        (rules.CHAIN, "u = 1 + exp(-x)"), (rules.POWER, "n = -1"), (rules.SUM, ""), (rules.CONSTANT, ""),
        (rules.CHAIN, "u = -x"), (rules.EXPONENTIAL, ""), (rules.CONSTANT_MULTIPLE, "c = -1"),
        (rules.POWER, "n = 1"),
    ]


def test_a_derivative_found_before_is_not_worked_out_again():
    engine = Differentiator()
    engine.differentiate(parse("sigmoid(x)"), x)
    second = engine.differentiate(parse("exp(-x)/(1 + exp(-x))^2"), x)
    targets = [rules.text(line.target) for line in second.lines]
    assert "d/dx [exp(-x)]" not in targets and "d/dx [1 + exp(-x)]" not in targets
    assert second.lines[0].note == "quotient rule; d/dx [exp(-x)] as above"


# -- in terms of the function itself ---------------------------------------------------

FORMS = own_forms(x)
SIGMA = 1 / (1 + sympy.exp(-x))


@pytest.mark.parametrize("name, function", [("sigmoid", SIGMA), ("tanh", sympy.tanh(x)),
                                            ("softplus", sympy.log(1 + sympy.exp(x)))])
@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_the_form_in_terms_of_the_function_is_its_derivative(name, function, n):
    t = sympy.Symbol("t", positive=True)  # exp(x): both sides are rational functions of it
    difference = (FORMS[name].in_x(n) - sympy.diff(function, x, n)).rewrite(sympy.exp).subs(sympy.exp(x), t)
    assert sympy.cancel(difference) == 0


LECTURE_FORMS = [  # the lectures' activation derivatives, as polynomials in s = σ(x) or t = tanh(x)
    ("sigmoid", 1, S * (1 - S)),
    ("sigmoid", 2, S * (1 - S) * (1 - 2 * S)),
    ("tanh", 1, 1 - S**2),
    ("tanh", 2, -2 * S * (1 - S**2)),
    ("softplus", 1, S),
    ("softplus", 2, S * (1 - S)),
]


@pytest.mark.parametrize("name, n, polynomial", LECTURE_FORMS)
def test_the_lectures_forms(name, n, polynomial):
    assert sympy.expand(FORMS[name].polynomial(n) - polynomial) == 0


# -- the bundled problems ------------------------------------------------------------------

def solved(name, rounding=None):
    return load_problem(PROBLEMS / f"{name}.yaml").solve(rounding)


def test_hw2_sigmoid_results_and_forms():
    solution = solved("hw2-sigmoid")
    sigma_prime, sigma_second = sympy.diff(SIGMA, x), sympy.diff(SIGMA, x, 2)
    assert sympy.cancel(sympy.expand(solution["d1"].value - sigma_prime)) == 0
    assert sympy.cancel(sympy.expand(solution["d2"].value - sigma_second)) == 0
    assert solution["d1"].formula == sympy.Derivative(SIGMA, x)
    printed = {key: rules.text(solution[key].formula) for key in ("d1.form", "d2.form")}
    assert printed == {"d1.form": "σ (1 - σ)", "d2.form": "σ (1 - σ) (1 - 2 σ)"}
    assert solution["d1.form"].value == solution["d1"].value


def test_tanh_is_already_in_its_lecture_form():
    solution = solved("tanh-derivatives")
    assert solution["d1"].value == 1 - sympy.tanh(x) ** 2
    assert sympy.expand(solution["d2"].value - (-2 * sympy.tanh(x) * (1 - sympy.tanh(x) ** 2))) == 0
    assert "d1.form" not in solution  # nothing to rewrite


def test_max_activation_is_the_unit_step_with_the_kink_stated():
    solution = solved("lecture-max-activation")
    assert solution["d1"].value == sympy.Heaviside(x - 1, 0)  # the lectures' activation derivatives
    assert solution["d1"].note == "undefined at x = 1 (one-sided derivatives 0 and 1), where 0 is used"
    assert solution["d2"].value == 0
    assert "H(x - 1) jumps at x = 1" in solution["d2.line[1]"].note


VALUES = [
    ("hw2-sigmoid", None, [("sigmoid.at[1]", 0.5), ("d1.at[1]", 0.25), ("d2.at[1]", 0.0)]),  # σ(0) = 1/2,
    # σ′(0) = 1/2 (1 - 1/2) = 1/4, σ″(0) = 1/4 (1 - 2/2) = 0
    ("hw2-sigmoid", Rounding(1), [("sigmoid.at[1]", 0.5), ("d1.at[1]", 0.3), ("d2.at[1]", 0.0)]),  # 0.25 -> 0.3
    ("lecture-max-activation", None, [("d1.at[1]", 1.0), ("d1.at[2]", 1.0), ("d1.at[3]", 0.0), ("d1.at[4]", 0.0),
                                      ("d2.at[1]", 0.0), ("d2.at[3]", 0.0)]),  # H(x - 1), H(0) = 0 at the kink
    ("tanh-derivatives", None, [("tanh.at[1]", math.tanh(0.5)), ("d1.at[1]", 1 - math.tanh(0.5) ** 2),
                                ("d2.at[1]", -2 * math.tanh(0.5) * (1 - math.tanh(0.5) ** 2))]),
    # swish = x σ: swish′ = σ + x σ′ = 1/2 at 0; swish″ = 2σ′ + x σ″ = 2/4 at 0;
    # at 1: σ(1) = 0.7310586, σ′(1) = 0.1966119, σ″(1) = σ′(1)(1 - 2σ(1)) = -0.0908577
    ("swish-derivative", None, [("d1.at[1]", 0.5), ("d2.at[1]", 0.5), ("d1.at[2]", 0.7310586 + 0.1966119),
                                ("d2.at[2]", 2 * 0.1966119 - 0.0908577)]),
]


@pytest.mark.parametrize("name, rounding, expected", VALUES, ids=lambda v: v if isinstance(v, str) else None)
def test_values_at_the_given_points(name, rounding, expected):
    values = solved(name, rounding).values()
    for key, value in expected:
        assert values[key] == pytest.approx(value, abs=2e-7), key


# -- printed output --------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["hw2-sigmoid", "lecture-max-activation"])
def test_golden_text(golden, name):
    golden(f"derivative-{name}.txt", render(solved(name), "text"))


def test_golden_latex(golden):
    golden("derivative-hw2-sigmoid.tex", render(solved("hw2-sigmoid"), "latex"))


def test_template_lists_the_two_derivatives(runner):
    result = runner.invoke(cli, ["template", str(PROBLEMS / "hw2-sigmoid.yaml")])
    assert result.exit_code == 0
    assert result.output.splitlines()[3:] == [
        "id:    # your student id",
        "d1:    # σ′(x): First derivative (an expression in x, in quotes)",
        "d2:    # σ″(x): Second derivative (an expression in x, in quotes)",
    ]


# -- grading -----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def grader():
    return Grader(load_problem(PROBLEMS / "hw2-sigmoid.yaml"))


ANSWERS = [
    ("d1", "s*(1-s)", "OK"),
    ("d1", "σ(1 - σ)", "OK"),
    ("d1", "sigmoid(x)*(1 - sigmoid(x))", "OK"),
    ("d1", "exp(-x)/(1 + exp(-x))^2", "OK"),
    ("d1", "e^x/(1 + e^x)^2", "OK"),
    ("d1", "s*(1+s)", "WRONG"),
    ("d1", "s", "WRONG"),
    ("d2", "s(1-s)(1-2s)", "OK"),
    ("d2", "exp(-x)(exp(-x) - 1)/(1 + exp(-x))^3", "OK"),
    ("d2", "s(1-s)(2s-1)", "WRONG"),
    ("d2", "s(1-s)", "WRONG"),
    ("d2", "__import__('os')", "UNREADABLE"),
]


@pytest.mark.parametrize("key, text, code", ANSWERS)
def test_grading_expression_answers(grader, key, text, code):
    sheet = AnswerSheet("sheet.yaml", "student", {key: read_answer(text)})
    verdict = next(v for v in grader.grade(sheet).verdicts if v.key == key)
    assert verdict.code == code, verdict.detail


# -- problem files that cannot be used ----------------------------------------------------------

def problem(*lines):
    return "kind: derivative\n" + "".join(line + "\n" for line in lines)


FAILURES = [
    (problem("order: 2"), "p.yaml:1: function: missing required field"),
    (problem("function: sigmod"), "p.yaml:2: function: expected sigmoid, tanh, softplus, relu, elu, leaky_relu, selu, gelu, "
                                  "gelu_tanh, mish or an expression "
                                  "in x, got 'sigmod' (did you mean 'sigmoid'?)"),
    (problem("function: softmax"), "p.yaml:2: function: expected sigmoid, tanh, softplus, relu, elu, leaky_relu, selu, gelu, "
                                   "gelu_tanh, mish or an expression "
                                   "in x, got 'softmax'"),
    (problem("function: 3"), "p.yaml:2: function: expected a function name or an expression in x, got 3"),
    (problem("function: ''"), "p.yaml:2: function: empty expression"),
    (problem("function: 2*y"), "p.yaml:2: function: unknown name 'y'; variables allowed here: x"),
    (problem("function: ｘ"), "p.yaml:2: function: unknown name 'ｘ' (U+FF58 FULLWIDTH LATIN SMALL LETTER X); "
                              "variables allowed here: x"),
    (problem("function: __import__('os').system('true')"),
     "p.yaml:2: function: character \"'\" is not allowed (at position 12)"),
    (problem("function: x.__class__"), "p.yaml:2: function: attribute access '.' is not allowed (at position 2)"),
    (problem("function: 9**9**9**9"), "p.yaml:2: function: exponent 387420489 too large (at most 1000 in size)"),
    (problem("function: '" + "(" * 100 + "x" + ")" * 100 + "'"),
     "p.yaml:2: function: expression nested too deeply (more than 60 levels)"),
    (problem("function: 'log(0)*x'"), "p.yaml:2: function: undefined value (such as log(0) or tan(pi/2))"),
    (problem("function: " + "+".join(f"x^{k}" for k in range(1, 25))),
     "p.yaml:2: function: function too large (71 nodes; at most 60)"),
    (problem("function: " + "sin(" * 30 + "x" + ")" * 30),
     "p.yaml:2: function: derivative too large (406 nodes; at most 400)"),
    (problem("function: x^x^x^x", "order: 4"), "p.yaml:2: function: derivative too large (698 nodes; at most 400)"),
    (problem("function: sigmoid", "order: 0"), "p.yaml:3: order: expected a whole number >= 1, got 0"),
    (problem("function: sigmoid", "order: 9"), "p.yaml:3: order: expected a whole number <= 4, got 9"),
    (problem("function: sigmoid", "order: two"), "p.yaml:3: order: expected a whole number, got text 'two'"),
    (problem("function: sigmoid", "orders: 2"), "p.yaml:3: orders: unknown field (did you mean 'order'?)"),
    (problem("function: sigmoid", "at: [zero]"), "p.yaml:3: at[0]: expected a number, got text 'zero'"),
    (problem("function: sigmoid", "at: [1, 2, 3, 4, 5, 6, 7, 8, 9]"), "p.yaml:3: at: expected at most 8 points, got 9"),
    (problem("function: log(x)", "order: 2", "at: [1, 0]"),
     "p.yaml:4: at[1]: cannot evaluate f′(x) at x = 0: division by zero"),
    (problem("function: sqrt(x)", "at: -1"),
     "p.yaml:3: at: cannot evaluate f′(x) at x = -1: outside the domain of a function (log or sqrt of a negative "
     "number?)"),
    (problem("function: exp(x)", "at: [1000]"), "p.yaml:3: at[0]: f′(x) at x = 1000 is not a finite number"),
]


@pytest.mark.parametrize("text, message", FAILURES, ids=[row[1].split(": ", 1)[1][:60] for row in FAILURES])
def test_bad_problem_files_get_one_line(runner, tmp_path, text, message):
    assert solve_error(runner, tmp_path, text) == f"{tmp_path}/{message}\n"


# The timer may fire inside another library's callback, which reports and drops the Timeout; the
# limit raises it again (tests/test_time_limit.py), so the warning about the dropped one is expected.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_a_derivation_over_its_time_limit_ends_with_one_line(runner, tmp_path, monkeypatch):
    from derive.kinds import derivative

    monkeypatch.setattr(derivative, "SECONDS", 0.001)
    path = tmp_path / "p.yaml"
    path.write_text(problem("function: sigmoid", "order: 4"), encoding="utf-8")
    result = runner.invoke(cli, ["check", str(path)])
    assert (result.exit_code, result.stderr) == (2, f"{path}:2: function: the derivation took longer than 0.001 s\n")


# -- the engine on random expressions --------------------------------------------------------------

LEAVES = st.sampled_from([x, x, sympy.Integer(2), sympy.Rational(1, 2), sympy.Integer(-3)])
UNARY = [sympy.exp, sympy.sin, sympy.cos, sympy.tanh, sympy.atan, lambda e: sympy.log(1 + e**2),
         lambda e: sympy.sqrt(1 + e**2), lambda e: e**3, lambda e: 1 / (2 + e**2), lambda e: sympy.Max(0, e)]
BINARY = [lambda a, b: a + b, lambda a, b: a - b, lambda a, b: a * b, lambda a, b: a / (1 + b**2)]
EXPRESSIONS = st.recursive(
    LEAVES,
    lambda inner: st.one_of(
        st.tuples(st.sampled_from(UNARY), inner).map(lambda pair: pair[0](pair[1])),
        st.tuples(st.sampled_from(BINARY), inner, inner).map(lambda triple: triple[0](triple[1], triple[2])),
    ),
    max_leaves=5,
)


@settings(max_examples=40, deadline=None)
@given(EXPRESSIONS)
def test_the_engine_agrees_with_sympy_on_random_expressions(expression):
    result = Differentiator().differentiate(expression, x).result
    oracle = sympy.diff(expression, x)
    for p in (-1.37, 0.41, 1.93):  # where a max(0, ...) has no kink, almost surely
        a, b = number(result, x, p), number(oracle, x, p)
        if b is not None:
            assert a is not None and math.isclose(a, b, rel_tol=1e-8, abs_tol=1e-10), (expression, p)


# -- the JSON Schema refuses what derive refuses ---------------------------------------

# hw2-sigmoid, with fields set as given, and the field derive names when it refuses it
SCHEMA_REFUSED = [
    ({"orders": 2}, "orders"),  # an unknown field
    ({"order": 5}, "order"),
    ({"at": [0, 1, 2, 3, 4, 5, 6, 7, 8]}, "at"),  # more than 8 points
]


@pytest.mark.parametrize("fields, named", SCHEMA_REFUSED, ids=[named for _, named in SCHEMA_REFUSED])
def test_the_schema_refuses_what_derive_refuses(tmp_path, fields, named):
    data = {**yaml.safe_load((PROBLEMS / "hw2-sigmoid.yaml").read_text(encoding="utf-8")), **fields}
    assert list(jsonschema.Draft202012Validator(schema("derivative")).iter_errors(data)), "the schema accepted it"
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    with pytest.raises(ProblemError, match=re.escape(f": {named}: ")):
        load_problem(path)


@pytest.mark.parametrize("name, derivative, bound", [
    ("sigmoid", lambda x: np.exp(-x) / (1 + np.exp(-x)) ** 2, 0.25),
    ("tanh", lambda x: 1 - np.tanh(x) ** 2, 1.0),
])
def test_the_stated_bound_of_the_first_derivative_holds_and_is_reached_at_0_only(tmp_path, name, derivative, bound):
    xs = np.linspace(-12, 12, 240001)
    values = derivative(xs)
    assert values.max() <= bound and xs[values.argmax()] == 0.0
    assert np.all(values[xs != 0] < bound)
    path = tmp_path / "p.yaml"
    path.write_text(f"kind: derivative\nfunction: {name}\nat: [0, 1.5]\n", encoding="utf-8")
    solution = load_problem(path).solve()
    stated = "1/4" if bound == 0.25 else "1"
    assert any(f"≤ {stated}" in note.text for note in solution.notes)
    assert solution["d1.at[1]"].value == bound and "reached at x = 0 only" in solution["d1.at[1]"].note
    assert solution["d1.at[2]"].value < bound and "below" in solution["d1.at[2]"].note
