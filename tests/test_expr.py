"""The safe expression parser: what people write, what it refuses, and parse -> print -> parse."""

import pytest
import sympy
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st
from sympy import Abs, E, Float, Max, Min, Rational, exp, log, pi, sqrt, tanh

from derive.errors import ExpressionError
from derive.expr import MAX_LENGTH, MAX_LITERAL, MAX_VARIABLE_EXPONENT, parse_expression

x, s = sympy.symbols("x s", real=True)  # as activations and answers use them
VARIABLES = {"x": x, "s": s}


def parse(text):
    return parse_expression(text, VARIABLES)


# -- what people write ------------------------------------------------------------

PARSED = [
    ("x^2", x**2),
    ("x**2", x**2),
    ("x ^ 2", x**2),
    ("2x", 2 * x),
    ("2 x", 2 * x),
    ("s(1-s)", s * (1 - s)),
    ("(x+1)(x-1)", (x + 1) * (x - 1)),
    ("2(x+1)^2", 2 * (x + 1) ** 2),
    ("x(x)", x**2),
    ("σ(x)", 1 / (1 + exp(-x))),
    ("sigmoid(x)", 1 / (1 + exp(-x))),
    ("σ(x)(1-σ(x))", 1 / (1 + exp(-x)) * (1 - 1 / (1 + exp(-x)))),
    ("e^x", exp(x)),
    ("e^(-x^2)", exp(-(x**2))),
    ("e", E),
    ("ln(x)", log(x)),
    ("log(1 + e^x)", log(1 + exp(x))),
    ("softplus(x)", log(1 + exp(x))),
    ("−x", -x),
    ("x − 1", x - 1),
    ("2·x", 2 * x),
    ("2×s", 2 * s),
    ("x^-1", 1 / x),
    ("-x^2", -(x**2)),
    ("2^3^2", sympy.Integer(512)),  # right associative, as in mathematics
    ("1/2x", x / 2),  # a product after a quotient: (1/2)·x
    ("2/3 s", Rational(2, 3) * s),  # whole numbers divide exactly
    ("x^(1/2)", sqrt(x)),
    ("sqrt(x)", sqrt(x)),
    ("1.5e-3", Float("1.5e-3")),
    (".5x", Float("0.5") * x),
    ("max(0, x)", Max(0, x)),
    ("relu(x)", Max(0, x)),
    ("min(max(0, x), 6)", Min(Max(0, x), 6)),
    ("abs(x)", Abs(x)),
    ("tanh(x)", tanh(x)),
    ("π x", pi * x),
    ("(x)", x),
    ("x\n+ 1", x + 1),
]


@pytest.mark.parametrize("text, expected", PARSED)
def test_parse(text, expected):
    assert parse(text) == expected


# -- what it refuses, and why -------------------------------------------------------

REFUSED = [
    # not expressions at all
    ("", "empty expression"),
    ("   ", "empty expression"),
    ("x +", "unexpected end of expression"),
    ("(x", "expected ')' at the end"),
    ("x)", "unexpected ')' at position 2"),
    ("2 3", "missing operator before '3' at position 3"),
    ("sin x", "function 'sin' needs its argument in parentheses"),
    ("exp(x, x)", "exp() takes 1 argument(s), got 2"),
    ("max(x)", "max() takes 2 to 8 argument(s), got 1"),
    ("x y", "unknown name 'y'; variables allowed here: s, x"),
    ("sigmod(x)", "unknown name 'sigmod' (did you mean 'sigmoid'?); variables allowed here: s, x"),
    # Python, not mathematics
    ("__import__", "'__import__' is not an allowed name"),
    ("__import__('os')", "character \"'\" is not allowed (at position 12)"),
    ("x.__class__", "attribute access '.' is not allowed (at position 2)"),
    ("x; import os", "character ';' is not allowed (at position 2)"),
    ("lambda: 0", "character ':' is not allowed (at position 7)"),
    ("x[0]", "character '[' is not allowed (at position 2)"),
    ("x == 1", "character '=' is not allowed (at position 3)"),
    # numbers that explode
    ("9**9**9**9", "exponent 387420489 too large (at most 1000 in size)"),
    ("x^10^999", "exponent 10000000...(1000 digits) too large (at most 1000 in size)"),
    ("9999999999^999", "power 9999999999**999 too large"),
    ("(10^999x)^2", "power 10000000...(1002 characters)**2 too large"),
    ("10^999*10^999", "number with too many digits (more than 1000)"),
    ("x*10^999*10^999", "number with too many digits (more than 1000)"),
    ("1e300*1e300", "number too large (more than 1e+300)"),
    ("1e999", "number 1e999 out of range"),
    ("9" * 50, "number too long (50 characters)"),
    # values that are no real number
    ("x/0", "division by zero"),
    ("x/(1-1)", "division by zero"),
    ("0^-1", "division by zero (0 to a negative power)"),
    ("log(0)", "undefined value (such as log(0) or tan(pi/2))"),
    ("tan(pi/2)", "undefined value (such as log(0) or tan(pi/2))"),
    ("sqrt(-1)", "not a real number (such as sqrt(-1) or log(-1))"),
    ("x + (-8)^(1/3)", "not a real number (such as sqrt(-1) or log(-1))"),
    # SymPy work that grows with the square of the arguments
    ("max(max(abs(x-1), abs(x-2), abs(x-3), abs(x-4), abs(x-5)), abs(x-6), abs(x-7), abs(x-8), abs(x-9))",
     "max() of too many values (9; at most 8)"),
    # characters that look like others
    ("ｘ", "unknown name 'ｘ' (U+FF58 FULLWIDTH LATIN SMALL LETTER X); variables allowed here: s, x"),
    ("х", "unknown name 'х' (U+0445 CYRILLIC SMALL LETTER HA); variables allowed here: s, x"),
    ("𝐱", "unknown name '𝐱' (U+1D431 MATHEMATICAL BOLD SMALL X); variables allowed here: s, x"),
    ("２x", "character '２' (U+FF12 FULLWIDTH DIGIT TWO) is not allowed (at position 1)"),
    ("٣x", "character '٣' (U+0663 ARABIC-INDIC DIGIT THREE) is not allowed (at position 1)"),
    ("x\u200b", "character '\\u200b' (U+200B ZERO WIDTH SPACE) is not allowed (at position 2)"),
    ("x\u202e", "character '\\u202e' (U+202E RIGHT-TO-LEFT OVERRIDE) is not allowed (at position 2)"),
    # too big to look at
    ("x" + "+x" * 600, "expression too long (1201 characters; at most 1000)"),
    ("(" * 100 + "x" + ")" * 100, "expression nested too deeply (more than 60 levels)"),
    ("-" * 100 + "x", "expression nested too deeply (more than 60 levels)"),
]


@pytest.mark.parametrize("text, message", REFUSED)
def test_parse_fail(text, message):
    with pytest.raises(ExpressionError) as caught:
        parse(text)
    assert str(caught.value) == message


def test_only_text_is_parsed():
    with pytest.raises(ExpressionError) as caught:
        parse_expression(123, VARIABLES)
    assert str(caught.value) == "expected an expression as text, got int"


# Far beyond every bound: each is refused by a check made before the work it
# prevents (length before tokenising, depth before recursing, exponent size
# before SymPy computes a power), so none of them can take long.
HUGE = [
    "x+" * 500_000 + "x",
    "(" * 1_000_000,
    "9" * 1_000_000,
    "é" * 1_000_000,
    "(" * (MAX_LENGTH // 2 - 1) + "x" + ")" * (MAX_LENGTH // 2 - 1),
    "9**" * (MAX_LENGTH // 3 - 1) + "9",
    "x^" * (MAX_LENGTH // 2 - 1) + "x",
    "exp(" * (MAX_LENGTH // 5) + "x" + ")" * (MAX_LENGTH // 5),
    "*".join(["10^999"] * (MAX_LENGTH // 7)),
]


@pytest.mark.parametrize("text", HUGE, ids=lambda text: f"{text[:12]}...({len(text)})")
def test_huge_input_fails_fast(text):
    with pytest.raises(ExpressionError):
        parse(text)


# -- parse -> print -> parse ------------------------------------------------------

NAMES = {sympy.exp: "exp", sympy.log: "log", sympy.tanh: "tanh", sympy.sin: "sin", Abs: "abs"}


def written(e):
    """`e` in the parser's syntax, one pair of parentheses per SymPy node.

    SymPy's own `str` is no inverse of parsing: it prints Mul(1/2, 1/(a + 1))
    as `1/(2*(a + 1))`, and 2*(a + 1) is then multiplied out. Written node by
    node, each operation the parser performs rebuilds the node it came from;
    a product starts with its numeric factor for the same reason.
    """
    if e is E:
        return "e"
    if e is pi:
        return "π"
    if e.is_Symbol or e.is_Integer:
        return f"({e})"
    if e.is_Rational:
        return f"({e.p}/{e.q})"
    if e.is_Add:
        return "(" + " + ".join(written(a) for a in e.args) + ")"
    if e.is_Mul:
        factor, rest = e.as_coeff_Mul()
        product = "(" + "*".join(written(a) for a in sympy.Mul.make_args(rest)) + ")"
        return product if factor == 1 else f"({written(factor)}*{product})"
    if e.is_Pow:
        return f"({written(e.base)}^{written(e.exp)})"
    return f"{NAMES[e.func]}(" + ", ".join(written(a) for a in e.args) + ")"


FUNCTIONS = {"exp": exp, "ln": log, "log": log, "tanh": tanh, "sin": sympy.sin, "abs": Abs,
             "σ": lambda a: 1 / (1 + exp(-a))}


def accepted(expression):
    """Whether the parser accepts this value: real (no 1/0, log(0), log(-1)), no number beyond its bounds."""
    if expression.has(sympy.zoo, sympy.nan, sympy.oo, -sympy.oo, sympy.I):
        return False
    if expression.is_number and expression.is_extended_real is False:
        return False
    if any(abs(p.exp) > MAX_VARIABLE_EXPONENT for p in expression.atoms(sympy.Pow)
           if p.exp.is_Number and p.base.free_symbols):
        return False  # x^72: a power of a variable above the bound
    return all(abs(n) <= 1000 for n in expression.atoms(sympy.Rational))  # e^(3^3^3) is refused


def node(text, expression, *children):
    """(text, expression, whether the parser accepts it and every part of it)."""
    return text, expression, all(c[2] for c in children) and accepted(expression)


def leaves():
    """Digits, the variables and the constants."""
    return st.one_of(
        st.integers(0, 9).map(lambda n: node(str(n), sympy.Integer(n))),
        st.sampled_from([node("x", x), node("s", s), node("e", E), node("π", pi)]),
    )


def extend(children):
    """One more level of the tree, written as a person might write it."""
    def binary(op, spellings):
        return st.tuples(children, st.sampled_from(spellings), children).map(
            lambda t: node(f"({t[0][0]}){t[1]}({t[2][0]})", op(t[0][1], t[2][1]), t[0], t[2]))

    return st.one_of(
        binary(lambda a, b: a + b, ["+", " + "]),
        binary(lambda a, b: a - b, ["-", " − "]),
        binary(lambda a, b: a * b, ["*", "·", "×", ""]),  # "" is implicit multiplication: (a)(b)
        binary(lambda a, b: a / b, ["/"]),
        st.tuples(children, st.sampled_from(["^", "**"]), st.integers(-3, 3)).map(
            lambda t: node(f"({t[0][0]}){t[1]}({t[2]})", t[0][1] ** t[2], t[0])),
        children.map(lambda c: node(f"-({c[0]})", -c[1], c)),
        st.tuples(st.sampled_from(sorted(FUNCTIONS)), children).map(
            lambda t: node(f"{t[0]}({t[1][0]})", FUNCTIONS[t[0]](t[1][1]), t[1])),
        children.map(lambda c: node(f"e^({c[0]})", exp(c[1]), c)),
    )


TREES = st.recursive(leaves(), extend, max_leaves=12)


@settings(max_examples=300, deadline=None)
@given(TREES)
def test_written_text_means_the_tree_it_was_written_from(tree):
    text, expected, is_accepted = tree
    assume(is_accepted)
    assert parse(text) == expected


@settings(max_examples=300, deadline=None)
@given(TREES)
@example(("e^(-(((7)^(2))*(ln(7))))", exp(-49 * log(7)), True))
def test_parse_print_parse_is_the_identity(tree):
    text, _, is_accepted = tree
    assume(is_accepted)
    parsed = parse(text)
    # e^(-7^2 ln 7) is read as 1/7^49, whose denominator written out is longer than a number may be
    assume(all(len(str(abs(n.p))) <= MAX_LITERAL and len(str(n.q)) <= MAX_LITERAL
               for n in parsed.atoms(sympy.Rational)))
    assert parse(written(parsed)) == parsed
