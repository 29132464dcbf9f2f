"""Safe parsing of expressions written by people (problem files, answers).

Text is tokenised and parsed by a small recursive-descent parser straight
into SymPy objects. Nothing here calls `eval`, `exec`, `sympify` or
`parse_expr` (all of which run Python code): only the names, functions and
operators listed below exist, and the size of what is built is bounded
(length, nesting, exponents, digits, values in one max or min), so hostile
text ends in an ExpressionError, quickly. Digits are ASCII and names that
are not understood are shown with their code points, so that a fullwidth
`ｘ` or a Cyrillic `х` is told apart from `x`; values that are no real
number (log(0), sqrt(-1)) are refused where they appear.

What people write is accepted where it is unambiguous: `^` or `**` for
powers, implicit multiplication (`2x`, `s(1-s)`, `(a)(b)`), `σ` for the
sigmoid, `e^x`, `ln`, `·`, `×` and the Unicode minus sign.
"""

import difflib
import math
import re
import unicodedata
from dataclasses import dataclass

import sympy

from .errors import ExpressionError

MAX_LENGTH = 1000
MAX_DEPTH = 60
MAX_EXPONENT = 1000
# A power of a variable above this makes SymPy's own checks (is tanh(a^n) real?) expand n-term
# binomials: refused, wherever it arises (a^100, (a^10)^10, a^50 a^50, exp(100 log(a))).
MAX_VARIABLE_EXPONENT = 64
MAX_NUMBER_DIGITS = 1000  # decimal digits of a constant the parser may build
MAX_LITERAL = 40  # characters of one numeric literal
MAX_LATTICE_ARGS = 8  # values in one max() or min(), after nested ones are merged
_LARGEST = 10**MAX_NUMBER_DIGITS
_LARGEST_FLOAT = 1e300  # beyond this a float constant only overflows later


def _sigmoid(x):
    return 1 / (1 + sympy.exp(-x))


def _relu(x):
    return sympy.Max(0, x)


def _unit_step(x):
    """H(x), the lecture's unit step: 1 for x > 0, 0 for x <= 0."""
    return sympy.Heaviside(x, 0)


def _softplus(x):
    return sympy.log(1 + sympy.exp(x))


# The activations by name, each the textbook formula. Those with a kink are Piecewise, the right piece
# for x > 0 and the left one otherwise, so that at the kink the left slope is used (as relu'(0) = 0).
ELU_ALPHA = 1  # ELU's alpha (Clevert et al. 2015; torch.nn.ELU)
LEAKY_RELU_SLOPE = sympy.Float("0.01", 15)  # leaky ReLU's negative slope (torch.nn.LeakyReLU)
SELU_LAMBDA = sympy.Float("1.0507009873554805", 17)  # SELU's scale lambda (Klambauer et al. 2017; torch.nn.SELU)
SELU_ALPHA = sympy.Float("1.6732632423543772", 17)  # SELU's alpha
GELU_TANH_C = sympy.Float("0.044715", 15)  # the cubic coefficient of GELU's tanh approximation


def _parameter(name, value, what):
    """An activation's parameter: a real number written in place (not an expression in a variable)."""
    if value.free_symbols or not value.is_real:
        raise ExpressionError(f"{name}()'s {what} must be a number, got {_short(value)}")
    return value


def _kinked(x, left):
    """x where x > 0, `left` otherwise."""
    return sympy.Piecewise((x, x > 0), (left, True))


def _elu(x, alpha=ELU_ALPHA):
    """ELU: x for x > 0, alpha (exp(x) - 1) otherwise."""
    return _kinked(x, _parameter("elu", sympy.sympify(alpha), "alpha") * (sympy.exp(x) - 1))


def _leaky_relu(x, slope=LEAKY_RELU_SLOPE):
    """Leaky ReLU: x for x > 0, slope x otherwise."""
    return _kinked(x, _parameter("leaky_relu", sympy.sympify(slope), "slope") * x)


def _selu(x, scale=SELU_LAMBDA, alpha=SELU_ALPHA):
    """SELU: lambda x for x > 0, lambda alpha (exp(x) - 1) otherwise."""
    scale = _parameter("selu", sympy.sympify(scale), "lambda")
    alpha = _parameter("selu", sympy.sympify(alpha), "alpha")
    return sympy.Piecewise((scale * x, x > 0), (scale * alpha * (sympy.exp(x) - 1), True))


def _gelu(x):
    """GELU, exact: x Phi(x) = x/2 (1 + erf(x/sqrt(2)))."""
    return x / 2 * (1 + sympy.erf(x / sympy.sqrt(2)))


def _gelu_tanh(x):
    """GELU's tanh approximation: x/2 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))."""
    return x / 2 * (1 + sympy.tanh(sympy.sqrt(2 / sympy.pi) * (x + GELU_TANH_C * x**3)))


def _mish(x):
    """Mish: x tanh(softplus(x))."""
    return x * sympy.tanh(_softplus(x))


def _lattice(function):
    """max or min, refusing more than MAX_LATTICE_ARGS values in all.

    SymPy compares every pair of arguments when it builds Max or Min, and
    merges nested ones (`max(max(a, b), c)` has three), so the cost grows
    with the merged count, which is bounded before SymPy is called.
    """
    def build(*args):
        merged = sum(len(arg.args) if isinstance(arg, function) else 1 for arg in args)
        name = function.__name__.lower()
        if merged > MAX_LATTICE_ARGS:
            raise ExpressionError(f"{name}() of too many values ({merged}; at most {MAX_LATTICE_ARGS})")
        try:
            result = function(*args)
        except (TypeError, ValueError):  # SymPy cannot order the values
            raise ExpressionError(f"{name}() of values that cannot be compared") from None
        if isinstance(result, function):
            _remember_written_order(result, args)
        return result
    return build


# A max or min built here -> its values in the order written. SymPy keeps them sorted (max(0.01 x, x) is
# Max(x, 0.01 x)); derive's kink convention gives max(a, b) a's slope where a = b, a as written.
WRITTEN_ORDER = {}


def _remember_written_order(result, args):
    written = []
    for arg in args:
        written += WRITTEN_ORDER.get(arg, arg.args) if type(arg) is type(result) else [arg]
    kept = tuple(dict.fromkeys(a for a in written if a in result.args))
    if len(kept) == len(result.args):
        if len(WRITTEN_ORDER) >= 4096:
            WRITTEN_ORDER.clear()
        WRITTEN_ORDER[result] = kept


def written_order(lattice):
    """The values of a max or min in the order they were written (as SymPy keeps them, if not parsed here)."""
    return WRITTEN_ORDER.get(lattice, lattice.args)


# name -> (minimum arguments, maximum arguments, builder)
FUNCTIONS = {
    "exp": (1, 1, sympy.exp),
    "log": (1, 1, sympy.log),
    "ln": (1, 1, sympy.log),
    "sqrt": (1, 1, sympy.sqrt),
    "sin": (1, 1, sympy.sin),
    "cos": (1, 1, sympy.cos),
    "tan": (1, 1, sympy.tan),
    "sinh": (1, 1, sympy.sinh),
    "cosh": (1, 1, sympy.cosh),
    "tanh": (1, 1, sympy.tanh),
    "atan": (1, 1, sympy.atan),
    "abs": (1, 1, sympy.Abs),
    "max": (2, MAX_LATTICE_ARGS, _lattice(sympy.Max)),
    "min": (2, MAX_LATTICE_ARGS, _lattice(sympy.Min)),
    "sigmoid": (1, 1, _sigmoid),
    "sigma": (1, 1, _sigmoid),
    "σ": (1, 1, _sigmoid),
    "relu": (1, 1, _relu),
    "H": (1, 1, _unit_step),
    "heaviside": (1, 1, _unit_step),
    "softplus": (1, 1, _softplus),
    "erf": (1, 1, sympy.erf),
    "elu": (1, 2, _elu),
    "leaky_relu": (1, 2, _leaky_relu),
    "selu": (1, 3, _selu),
    "gelu": (1, 1, _gelu),
    "gelu_tanh": (1, 1, _gelu_tanh),
    "mish": (1, 1, _mish),
}

CONSTANTS = {"e": sympy.E, "pi": sympy.pi, "π": sympy.pi}

_TRANSLATE = str.maketrans({"−": "-", "·": "*", "×": "*", "⋅": "*", "∗": "*"})

_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<number>(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+(?![A-Za-z_]))?)
  | (?P<name>[^\W\d]\w*)
  | (?P<op>\*\*|[-+*/^(),])
    """,
    re.VERBOSE,
)


@dataclass(frozen=True)
class Written:
    """An expression and the domain it was written under.

    SymPy simplifies as it builds (`0*log(x)` is 0, `exp(log(u))` is u), so
    the expression alone forgets where what was written is defined.
    `conditions` keeps it: ("positive" | "nonnegative" | "nonzero", argument)
    for every log, fractional power, division and tan over the variables, as
    written.
    """

    expression: object
    conditions: tuple = ()


def parse_expression(text, variables, *, max_length=MAX_LENGTH):
    """Parse `text` into a SymPy expression over `variables` (name -> Symbol).

    Raises ExpressionError, with one line saying what was not understood,
    for anything outside the whitelist or the size bounds.
    """
    return parse_written(text, variables, max_length=max_length).expression


def parse_written(text, variables, *, max_length=MAX_LENGTH):
    """Parse `text` as `parse_expression` does, keeping the domain it was written under (a Written)."""
    return parse_tokens(written_tokens(text, max_length=max_length), variables)


def written_tokens(text, *, max_length=MAX_LENGTH):
    """The tokens of `text`, each (kind, value, position); ExpressionError if it has none or is not
    made of them. The parse rests on the kinds and values alone (`^` is read as `**`; the positions
    only say where an error is), so texts spaced differently that have the same ones parse alike."""
    if not isinstance(text, str):
        raise ExpressionError(f"expected an expression as text, got {type(text).__name__}")
    if len(text) > max_length:
        raise ExpressionError(
            f"expression too long ({len(text)} characters; at most {max_length})"
        )
    tokens = _tokenize(text.translate(_TRANSLATE))
    if not tokens:
        raise ExpressionError("empty expression")
    return tokens


def parse_tokens(tokens, variables):
    """The Written of `written_tokens`' tokens over `variables` (name -> Symbol)."""
    parser = _Parser(tokens, variables)
    expression = parser.parse()
    return Written(expression, tuple(dict.fromkeys(parser.conditions)))


def _tokenize(text):
    tokens = []
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            char = text[position]
            what = "attribute access" if char == "." else "character"
            raise ExpressionError(f"{what} {_quoted(char)} is not allowed (at position {position + 1})")
        kind = match.lastgroup
        value = match.group()
        if kind == "number" and len(value) > MAX_LITERAL:
            raise ExpressionError(f"number too long ({len(value)} characters)")
        if kind != "space":
            tokens.append((kind, "**" if value == "^" else value, position + 1))
        position = match.end()
    return tokens


class _Parser:
    """Recursive descent over the grammar

        sum     := product (('+' | '-') product)*
        product := unary (('*' | '/' | <implicit>) unary)*
        unary   := ('+' | '-') unary | power
        power   := atom ('**' unary)?            (right associative)
        atom    := number | constant | variable | function '(' args ')' | '(' sum ')'
    """

    def __init__(self, tokens, variables):
        self.tokens = tokens
        self.index = 0
        self.depth = 0
        self.variables = variables
        self.conditions = []  # the domain as written: see Written

    def parse(self):
        result = self.sum()
        if self.index < len(self.tokens):
            kind, value, position = self.tokens[self.index]
            raise ExpressionError(f"unexpected {value!r} at position {position}")
        return result

    # -- helpers ---------------------------------------------------------
    def peek(self):
        return self.tokens[self.index] if self.index < len(self.tokens) else (None, None, None)

    def take(self):
        token = self.peek()
        self.index += 1
        return token

    def expect(self, value):
        kind, got, position = self.take()
        if got != value:
            where = f"at position {position}" if position else "at the end"
            raise ExpressionError(f"expected {value!r} {where}, got {got!r}" if got else f"expected {value!r} {where}")

    def enter(self):
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ExpressionError(f"expression nested too deeply (more than {MAX_DEPTH} levels)")

    # -- grammar ---------------------------------------------------------
    def sum(self):
        self.enter()
        result = self.product()
        while self.peek()[1] in ("+", "-"):
            op = self.take()[1]
            right = self.product()
            result = result + right if op == "+" else result - right
        self.depth -= 1
        return result

    def product(self):
        result = self.unary()
        while True:
            kind, value, position = self.peek()
            if value in ("*", "/"):
                self.take()
                right = self.unary()
                if value == "/":
                    if right == 0:
                        raise ExpressionError("division by zero")
                    self.condition("nonzero", right)
                    result = result / right
                else:
                    result = result * right
            elif kind == "number":
                raise ExpressionError(f"missing operator before {value!r} at position {position}")
            elif kind == "name" or value == "(":
                result = result * self.unary()  # implicit multiplication: 2x, s(1-s)
            else:
                return _bounded(result)

    def unary(self):
        kind, value, _ = self.peek()
        if value in ("+", "-"):
            self.take()
            self.enter()
            operand = self.unary()
            self.depth -= 1
            return -operand if value == "-" else operand
        return self.power()

    def power(self):
        base = self.atom()
        if self.peek()[1] == "**":
            self.take()
            self.enter()
            exponent = self.unary()
            self.depth -= 1
            if not (exponent.is_Integer and exponent >= 0):
                if exponent.is_Integer:
                    self.condition("nonzero", base)
                elif exponent.is_Rational and exponent > 0:
                    self.condition("nonnegative", base)
                else:
                    self.condition("positive", base)
            return _power(base, exponent)
        return base

    def atom(self):
        kind, value, position = self.take()
        if kind is None:
            raise ExpressionError("unexpected end of expression")
        if kind == "number":
            return _number(value)
        if value == "(":
            inner = self.sum()
            self.expect(")")
            return inner
        if kind == "name":
            return self.name(value, position)
        raise ExpressionError(f"unexpected {value!r} at position {position}")

    def name(self, name, position):
        if name.startswith("_"):
            raise ExpressionError(f"{name!r} is not an allowed name")
        if name in self.variables and not (name in FUNCTIONS and self._reads_as_call()):
            self._application(name)
            return self.variables[name]
        if name in FUNCTIONS:
            if self.peek()[1] != "(":
                raise ExpressionError(f"function {name!r} needs its argument in parentheses")
            self.take()
            args = [self.sum()]
            while self.peek()[1] == ",":
                self.take()
                args.append(self.sum())
            self.expect(")")
            low, high, build = FUNCTIONS[name]
            if not low <= len(args) <= high:
                count = f"{low}" if low == high else f"{low} to {high}"
                raise ExpressionError(f"{name}() takes {count} argument(s), got {len(args)}")
            if name in ("log", "ln"):
                self.condition("positive", args[0])
            elif name == "sqrt":
                self.condition("nonnegative", args[0])
            elif name == "tan":
                self.condition("nonzero", sympy.cos(args[0]))
            return _defined(_bounded(build(*args)))
        if name in CONSTANTS:
            return CONSTANTS[name]
        known = sorted(set(self.variables) | set(FUNCTIONS) | set(CONSTANTS))
        close = difflib.get_close_matches(name, known, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        allowed = ", ".join(sorted(self.variables)) or "none"
        raise ExpressionError(f"unknown name {_quoted(name)}{hint}; variables allowed here: {allowed}")

    def condition(self, kind, argument):
        """Remember a domain condition on `argument` (constants are checked where they are built)."""
        if argument.free_symbols:
            self.conditions.append((kind, argument))

    def _application(self, name):
        """Read `f(x)` as f itself when f stands for a function of the one variable x.

        The lecture writes f'(x) = f(x)(1 - f(x)); with f an alias of the
        activation of x, `f(x)` is that activation, not f times x. Only the
        variable itself in the parentheses is read so: `f(1 - f)` stays a
        product, as the lecture's shorthand means it.
        """
        alias = self.variables[name]
        if alias.is_Symbol or self.peek()[1] != "(" or self.index + 2 >= len(self.tokens):
            return
        kind, inner, _ = self.tokens[self.index + 1]
        closing = self.tokens[self.index + 2][1]
        variable = self.variables.get(inner) if kind == "name" else None
        if closing == ")" and variable is not None and variable.is_Symbol and alias.free_symbols == {variable}:
            self.index += 3

    def _reads_as_call(self):
        """For a name that is both a variable and a function (σ for σ(x)): is `name(...)` a call?

        It is, unless the parentheses hold a name that stands for an expression
        (an alias such as σ itself): `σ(x)` and `σ(2x)` are calls, `σ(1 - σ)`
        is σ times (1 - σ), as the lecture writes the sigmoid's derivative.
        """
        if self.peek()[1] != "(":
            return False
        depth = 0
        for kind, value, _ in self.tokens[self.index:]:
            depth += {"(": 1, ")": -1}.get(value, 0)
            if depth == 0:
                return True
            if kind == "name" and value in self.variables and not self.variables[value].is_Symbol:
                return False
        return True


def _number(text):
    """A numeric literal as a SymPy number: decimals stay exact as written."""
    mantissa, _, power = text.lower().partition("e")
    if power and abs(int(power)) > 300:
        raise ExpressionError(f"number {text} out of range")
    if "." in text or power:
        return sympy.Float(text)
    return sympy.Integer(text)


def _power(base, exponent):
    """base**exponent, refusing powers whose size would explode (9**9**9**9).

    SymPy raises a product's numeric factor to the power at once
    (`(10x)^3` is `1000 x^3`), so that factor's size is checked too.
    """
    if exponent.is_Number:
        if abs(exponent) > MAX_EXPONENT:
            raise ExpressionError(f"exponent {_short(exponent)} too large (at most {MAX_EXPONENT} in size)")
        factor = base.as_coeff_Mul()[0]
        if factor != 0 and abs(exponent) * abs(_digits(factor)) > MAX_NUMBER_DIGITS:
            raise ExpressionError(f"power {_short(base)}**{_short(exponent)} too large")
    if base == 0 and exponent.is_Number and exponent < 0:
        raise ExpressionError("division by zero (0 to a negative power)")
    return _defined(_bounded(sympy.Pow(base, exponent)))


def _bounded(value):
    """Refuse numbers too big to be worth building on (products of huge literals),
    and powers of variables above MAX_VARIABLE_EXPONENT.

    The numeric factor of a product is checked as well as a lone number:
    `x*10^999*10^999` would otherwise carry a 2000-digit factor.
    """
    for node in (value, *value.args):
        if node.is_Pow and node.exp.is_Number and node.base.free_symbols \
                and abs(node.exp) > MAX_VARIABLE_EXPONENT:
            raise ExpressionError(f"power {_short(node.exp)} of an expression in a variable too large "
                                  f"(at most {MAX_VARIABLE_EXPONENT})")
    factor = value.as_coeff_Mul()[0]
    if factor.is_Float and abs(factor) > _LARGEST_FLOAT:
        raise ExpressionError(f"number too large (more than {_LARGEST_FLOAT:g})")
    if factor.is_Rational and max(abs(factor.p), factor.q) > _LARGEST:
        raise ExpressionError(f"number with too many digits (more than {MAX_NUMBER_DIGITS})")
    return value


def _defined(value):
    """Refuse a value that is no real number (log(0), tan(pi/2), sqrt(-1)).

    A constant is evaluated in bounded interval arithmetic, not by SymPy's
    assumptions, which may evaluate numerically without a bound.
    """
    if value.has(sympy.zoo, sympy.nan, sympy.oo, sympy.S.NegativeInfinity):
        raise ExpressionError("undefined value (such as log(0) or tan(pi/2))")
    if value.has(sympy.I):
        raise ExpressionError("not a real number (such as sqrt(-1) or log(-1))")
    if not value.free_symbols and not value.is_Number:
        from .symbolic.intervals import Undefined, Unknown, known_value

        try:
            known_value(value)
        except Undefined:
            raise ExpressionError("not a real number (such as sqrt(-1) or log(-1))") from None
        except Unknown:
            pass  # a real number too large or too delicate to evaluate; it is judged where it is used
    return value


def _digits(number):
    """log10 of a nonzero SymPy number's size, without converting it to a float.

    A float is stored as mantissa * 2**exponent; SymPy keeps far larger and
    smaller ones than Python's float can hold.
    """
    if number.is_Rational:
        return math.log10(abs(number.p)) - math.log10(number.q)
    _, _, exponent, bits = number._mpf_
    return (exponent + bits) * math.log10(2)


def _quoted(text):
    """`text` in quotes, with the code points of its non-ASCII characters.

    A fullwidth `ｘ` or a Cyrillic `х` looks like `x` in a message; the code
    point shows why it was not understood.
    """
    shown = text if len(text) <= 30 else text[:27] + "..."
    odd = list(dict.fromkeys(c for c in shown if not c.isascii()))[:3]
    codes = [f"U+{ord(c):04X} {unicodedata.name(c, 'unnamed')}" for c in odd]
    return f"{shown!r} ({', '.join(codes)})" if codes else repr(shown)


def _short(value):
    text = str(value)
    if len(text) <= 20:
        return text
    return f"{text[:8]}...({len(text)} {'digits' if text.isdigit() else 'characters'})"
