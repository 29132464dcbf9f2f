"""Differentiation step by step: a recursive rule engine that records every rule it applies.

`Differentiator().differentiate(expression, x)` walks the SymPy tree from
the top and, at every node, applies the one rule that node calls for,
recording a RuleLine: the derivative being worked out, the rule's name,
the rule applied with the derivatives it leaves open written out
(`d/dx [u] v + u d/dx [v]`), and the result. Lines come in the order a
person writes them: a rule first, then the derivatives it leaves open, left
to right, so every open derivative is worked out on the lines after the
one that opens it (or, found before, is not worked out twice).

The rules, named as step-by-step derivative tools name them: constant,
constant multiple, power, sum (and difference), product, quotient, chain
(with its substitution `u = ...`), exponential, logarithm, trigonometric,
inverse trigonometric, hyperbolic, and piecewise (max, min, abs, sign and
the unit step, saying where the derivative is undefined and what is used
there). SymPy's `diff` is not used: it is the oracle the tests, and the
derivative kind's final check, hold this engine against.

Kinks follow derive's convention (`derive.symbolic.activations`): the unit
step has H(0) = 0 and sign(0) = 0; where max(a, b) has a = b the slope of
a, its first argument as written, is used (0 for relu and for max(1, x),
0.01 for max(0.01x, x), whose arguments SymPy keeps in another order); a
two-piece function {f if t > 0; g otherwise} uses g's slope where t = 0.
`at_kinks` then judges each kink of a result for the whole function: where
both one-sided derivatives agree, that value is used.
"""

from dataclasses import dataclass, replace

import sympy
from sympy import Add, Mul, Pow

from ..errors import ExpressionError
from ..expr import written_order

MAX_LINES = 300  # rule applications in one problem, all orders together
MAX_NODES = 400  # of any derivative: a larger one is refused, not printed
MAX_TIDY_NODES = 250  # larger results are not factored (factoring grows fast with size)

U = sympy.Symbol("u", real=True)  # the chain rule's inner function; each line that uses it says what it is

CONSTANT = "constant rule"
CONSTANT_MULTIPLE = "constant multiple rule"
POWER = "power rule"
SUM = "sum rule"
DIFFERENCE = "sum and difference rule"
PRODUCT = "product rule"
QUOTIENT = "quotient rule"
CHAIN = "chain rule"
EXPONENTIAL = "exponential rule"
LOGARITHM = "logarithm rule"
TRIGONOMETRIC = "trigonometric rule"
INVERSE_TRIGONOMETRIC = "inverse trigonometric rule"
HYPERBOLIC = "hyperbolic rule"
PIECEWISE = "piecewise rule"
POWER_OF_FUNCTION = "power of a function"
ERROR_FUNCTION = "error function rule"
RULES = (CONSTANT, CONSTANT_MULTIPLE, POWER, SUM, DIFFERENCE, PRODUCT, QUOTIENT, CHAIN, EXPONENTIAL,
         LOGARITHM, TRIGONOMETRIC, INVERSE_TRIGONOMETRIC, HYPERBOLIC, PIECEWISE, POWER_OF_FUNCTION, ERROR_FUNCTION)


def unit_step(t):
    """The unit step with H(0) = 0: the subgradient used at a kink."""
    return sympy.Heaviside(t, 0)


# f -> (rule, f'(u)): the functions of one argument the parser admits, and those their derivatives bring in
TABLE = {
    sympy.exp: (EXPONENTIAL, sympy.exp),
    sympy.log: (LOGARITHM, lambda u: 1 / u),
    sympy.sin: (TRIGONOMETRIC, sympy.cos),
    sympy.cos: (TRIGONOMETRIC, lambda u: -sympy.sin(u)),
    sympy.tan: (TRIGONOMETRIC, lambda u: 1 + sympy.tan(u) ** 2),
    sympy.atan: (INVERSE_TRIGONOMETRIC, lambda u: 1 / (1 + u**2)),
    sympy.sinh: (HYPERBOLIC, sympy.cosh),
    sympy.cosh: (HYPERBOLIC, sympy.sinh),
    sympy.tanh: (HYPERBOLIC, lambda u: 1 - sympy.tanh(u) ** 2),
    sympy.Abs: (PIECEWISE, sympy.sign),
    sympy.sign: (PIECEWISE, lambda u: sympy.S.Zero),
    sympy.Heaviside: (PIECEWISE, lambda u: sympy.S.Zero),
    sympy.erf: (ERROR_FUNCTION, lambda u: 2 / sympy.sqrt(sympy.pi) * sympy.exp(-u**2)),  # GELU's Φ
}
_STEPS = (sympy.Abs, sympy.sign, sympy.Heaviside)  # piecewise in their argument: a kink or a jump at 0


@dataclass(frozen=True)
class Kink:
    """Where a piecewise function changes formula, and what its derivative does there.

    function: the piecewise function, as text (`max(1, x)`); where: the
    equation of the kink (`1 = x`); points: per point found, (point as
    text, the two pieces' slopes there, the value derive uses), or empty
    when the equation was not solved; jump: the function itself jumps (a
    unit step, sign), so its derivative is undefined at every point found.
    """

    function: str
    where: str
    points: tuple = ()
    jump: bool = False
    used: str = "0"

    @property
    def undefined_points(self):
        return [p for p in self.points if self.jump or p[1] != p[2]]

    def describe(self):
        """One sentence for a rule line: where the derivative is undefined and which value is used there."""
        if self.jump:
            where = " and ".join(p[0] for p in self.points) or f"{self.where}"
            return (f"{self.function} jumps at {where}, where its derivative is undefined; derive uses {self.used} "
                    "there")
        if not self.points:
            return (f"the derivative of {self.function} is undefined where {self.where} (unless both pieces have "
                    f"the same slope there); derive uses {self.used} there")
        parts = []
        undefined = self.undefined_points
        if undefined:
            where = " and ".join(f"{p} (slopes {a} and {b})" for p, a, b, _ in undefined)
            used = _used(undefined)
            parts.append(f"the derivative of {self.function} is undefined at {where}; derive uses {used} there")
        for p, a, b, _ in self.points:
            if a == b:
                parts.append(f"{self.function} is differentiable at {p}, where both pieces have the slope {a}")
        return "; ".join(parts)

    def summary(self):
        """A clause for the result: `undefined at x = 1, where 0 is used`; '' where the function is differentiable."""
        if not self.points:
            return f"may be undefined where {self.where}; {self.used} is used there"
        undefined = self.undefined_points
        if not undefined:
            return ""
        return f"undefined at {' and '.join(p[0] for p in undefined)}, where {_used(undefined)} is used"


def _used(points):
    """The value used at kink points: `0`, or `1 at x = 0 and 2 at x = 1` when they differ."""
    values = {used for *_, used in points}
    if len(values) == 1:
        return values.pop()
    return " and ".join(f"{used} at {p}" for p, _, _, used in points)


@dataclass(frozen=True)
class RuleLine:
    """One rule applied: target = formula = value.

    target: the derivative worked out, `Derivative(expression, variable)`;
    rule: its name (one of RULES); formula: the rule applied, with the
    derivatives it leaves open unevaluated; value: the result; detail:
    what the rule was applied with (`u = -x`, `n = 3`, `c = -1`); kinks:
    for a piecewise rule, where the derivative is undefined; reused: open
    derivatives that were worked out on earlier lines.
    """

    target: object
    rule: str
    formula: object
    value: object
    detail: str = ""
    kinks: tuple = ()
    reused: tuple = ()

    @property
    def note(self):
        """The rule as a reader wants it after the line: `chain rule, u = -x`."""
        parts = [self.rule + (f", {self.detail}" if self.detail else "")]
        parts += [kink.describe() for kink in self.kinks]
        if self.reused:
            parts.append(" and ".join(text(d) for d in self.reused) + " as above")
        return "; ".join(parts)


@dataclass(frozen=True)
class Derivation:
    """d/dx of `expression`: its `result` and the RuleLines that find it."""

    expression: object
    variable: object
    result: object
    lines: tuple
    kink_points: tuple = ()  # KinkPoints of the result (set by at_kinks)
    kinks_complete: bool = False  # every kink of the result is among them

    @property
    def kinks(self):
        """The kinks met on the way, where the derivative is undefined or needs a stated value."""
        return tuple(kink for line in self.lines for kink in line.kinks)


class Differentiator:
    """Applies the rules, remembering every derivative found so that none is worked out twice.

    One Differentiator serves all the orders of a problem: the second
    derivative's lines may rest on a derivative found for the first.
    """

    def __init__(self, max_lines=MAX_LINES, max_nodes=MAX_NODES):
        self.max_lines = max_lines
        self.max_nodes = max_nodes
        self.known = {}  # Derivative(e, x) -> its value
        self.applied = 0
        self.lines = []

    def differentiate(self, expression, variable):
        """The Derivation of d/d(variable) of `expression`, with the lines new to it."""
        self.lines = []
        result = self.derive(expression, variable)
        return Derivation(expression, variable, result, tuple(self.lines))

    # -- the walk -----------------------------------------------------------------
    def derive(self, e, x):
        """d/dx of e, recording the rule lines that find it."""
        target = sympy.Derivative(e, x)
        if target in self.known:
            return self.known[target]
        self.applied += 1
        if self.applied > self.max_lines:
            raise ExpressionError(f"derivation too long (more than {self.max_lines} rule applications)")
        slot = len(self.lines)
        self.lines.append(None)  # the rule's line comes before those of the derivatives it leaves open
        line = self.apply(e, x, target)
        line = replace(line, value=tidy(line.value))
        size = nodes(line.value)
        if size > self.max_nodes:
            raise ExpressionError(f"derivative too large ({size} nodes; at most {self.max_nodes})")
        self.lines[slot] = line
        self.known[target] = line.value
        return line.value

    def open(self, e, x):
        """(value, derivative, found before) for a derivative a rule leaves open."""
        derivative = sympy.Derivative(e, x)
        seen = derivative in self.known
        return self.derive(e, x), derivative, seen

    def apply(self, e, x, target):
        """The RuleLine of the one rule the outermost operation of e calls for."""
        if not e.has(x):
            return RuleLine(target, CONSTANT, sympy.S.Zero, sympy.S.Zero)
        if e == x:  # x = x^1: 1 x^(1 - 1)
            return RuleLine(target, POWER, Pow(x, Add(1, -1, evaluate=False), evaluate=False), sympy.S.One, "n = 1")
        if e.is_Add:
            return self.sum(e, x, target)
        if e.is_Mul:
            return self.product(e, x, target)
        if e.is_Pow:
            return self.power(e, x, target)
        if isinstance(e, (sympy.Max, sympy.Min)):
            return self.extremum(e, x, target)
        if isinstance(e, sympy.Piecewise):
            return self.piecewise(e, x, target)
        if e.func in TABLE:
            return self.function(e, x, target)
        raise ExpressionError(f"no differentiation rule for {type(e).__name__}")

    # -- rules ----------------------------------------------------------------------
    def sum(self, e, x, target):
        """(a + b - c)' = a' + b' - c'."""
        shown, values, reused = [], [], []
        for term in printed_order(e):
            negative = term.could_extract_minus_sign()
            value, derivative, seen = self.open(-term if negative else term, x)
            shown.append(Mul(-1, derivative, evaluate=False) if negative else derivative)
            values.append(-value if negative else value)
            reused += [derivative] if seen else []
        rule = DIFFERENCE if any(term.is_Mul for term in shown) else SUM
        return RuleLine(target, rule, Add(*shown, evaluate=False), Add(*values), reused=tuple(reused))

    def product(self, e, x, target):
        """(c u)' = c u' for a constant c; (n/d)' by the quotient rule; else the product rule."""
        constant = Mul(*[f for f in e.args if not f.has(x)])
        varying = [f for f in e.args if f.has(x)]
        if constant != 1:
            value, derivative, seen = self.open(Mul(*varying), x)
            return RuleLine(target, CONSTANT_MULTIPLE, Mul(constant, derivative, evaluate=False), constant * value,
                            f"c = {text(constant)}", reused=(derivative,) if seen else ())
        numerator = Mul(*[f for f in varying if not _reciprocal(f)])
        denominator = Mul(*[1 / f for f in varying if _reciprocal(f)])
        if numerator.has(x) and denominator.has(x):
            return self.quotient(numerator, denominator, x, target)
        return self.product_rule(varying, x, target)

    def product_rule(self, factors, x, target):
        """(u v w)' = u' v w + u v' w + u v w'."""
        opened = [self.open(f, x) for f in factors]
        terms, values = [], []
        for j in range(len(factors)):
            terms.append(Mul(*[opened[i][1] if i == j else f for i, f in enumerate(factors)], evaluate=False))
            values.append(Mul(*[opened[i][0] if i == j else f for i, f in enumerate(factors)]))
        reused = tuple(derivative for _, derivative, seen in opened if seen)
        return RuleLine(target, PRODUCT, Add(*terms, evaluate=False), Add(*values), reused=reused)

    def quotient(self, n, d, x, target):
        """(n/d)' = (n' d - n d')/d^2."""
        dn, Dn, seen_n = self.open(n, x)
        dd, Dd, seen_d = self.open(d, x)
        top = Add(Mul(Dn, d, evaluate=False), Mul(-1, n, Dd, evaluate=False), evaluate=False)
        formula = Mul(top, Pow(Pow(d, 2, evaluate=False), -1, evaluate=False), evaluate=False)
        reused = tuple(D for D, seen in ((Dn, seen_n), (Dd, seen_d)) if seen)
        return RuleLine(target, QUOTIENT, formula, (dn * d - n * dd) / d**2, reused=reused)

    def power(self, e, x, target):
        """x^n by the power rule, a^x by the exponential rule, g(x)^n and a^g(x) by the chain rule."""
        base, exponent = e.args
        if not exponent.has(x):
            if base == x:  # x^n: n x^(n - 1)
                shown = Mul(exponent, Pow(x, Add(exponent, -1, evaluate=False), evaluate=False), evaluate=False)
                return RuleLine(target, POWER, shown, exponent * x ** (exponent - 1), f"n = {text(exponent)}")
            return self.chain(e, base, U**exponent, x, target)
        if not base.has(x):  # a^x: a^x log(a)
            if exponent == x:
                return RuleLine(target, EXPONENTIAL, Mul(e, sympy.log(base), evaluate=False), e * sympy.log(base),
                                f"a = {text(base)}")
            return self.chain(e, exponent, base**U, x, target)
        rewritten = sympy.exp(exponent * sympy.log(base))  # b^n = exp(n log(b)) when both vary
        value, derivative, seen = self.open(rewritten, x)
        return RuleLine(target, POWER_OF_FUNCTION, derivative, value.subs(rewritten, e),
                        f"{text(e)} = {text(rewritten)}", reused=(derivative,) if seen else ())

    def function(self, e, x, target):
        """f(x)' from the table (exp, log, sin, tanh, abs, ...); f(g(x))' by the chain rule."""
        argument = e.args[0]
        if argument != x:
            return self.chain(e, argument, e.func(U, *e.args[1:]), x, target)
        rule, derivative = TABLE[e.func]
        value = derivative(x)
        return RuleLine(target, rule, value, value, kinks=self.kinks_of(e, x))

    def chain(self, e, inner, outer, x, target):
        """f(g(x))' = d/du [f(u)] d/dx [g(x)] with u = g(x)."""
        outer_value, D_outer, seen_outer = self.open(outer, U)
        inner_value, D_inner, seen_inner = self.open(inner, x)
        reused = tuple(D for D, seen in ((D_outer, seen_outer), (D_inner, seen_inner)) if seen)
        return RuleLine(target, CHAIN, Mul(D_outer, D_inner, evaluate=False), outer_value.subs(U, inner) * inner_value,
                        f"u = {text(inner)}", kinks=self.kinks_of(e, x), reused=reused)

    def extremum(self, e, x, target):
        """max(a, b)' is b' where b > a, else a' (min: b' where b < a); more values are taken two at a time."""
        first, *others = written_order(e)  # a, the slope used where a = b, is the first value as written
        second = e.func(*others) if len(others) > 1 else others[0]
        da, Da, seen_a = self.open(first, x)
        db, Db, seen_b = self.open(second, x)
        is_max = isinstance(e, sympy.Max)
        wins = second > first if is_max else second < first
        formula = sympy.Piecewise((Db, wins), (Da, True), evaluate=False)
        step = unit_step(second - first if is_max else first - second)
        value = step * db + (1 - step) * da
        kink = locate_kink(e, first, second, x, da, db, lambda slope_a, slope_b: slope_a, "the slope of " + text(first))
        reused = tuple(D for D, seen in ((Da, seen_a), (Db, seen_b)) if seen)
        return RuleLine(target, PIECEWISE, formula, value, kinks=(kink,), reused=reused)

    def piecewise(self, e, x, target):
        """{f₁ if c₁; f₂ otherwise}' = {f₁' if c₁; f₂' otherwise}, each piece by its own rules (elu, leaky_relu)."""
        opened = [(self.open(value, x), condition) for value, condition in e.args]
        formula = sympy.Piecewise(*[(D, condition) for (_, D, _), condition in opened], evaluate=False)
        value = sympy.Piecewise(*[(v, condition) for (v, _, _), condition in opened])
        reused = tuple(D for (_, D, seen), _ in opened if seen)
        kinks = ()
        condition = e.args[0].cond
        if len(e.args) == 2 and isinstance(condition, sympy.core.relational.Relational) and \
                condition.rel_op in ("<", "<=", ">", ">="):
            # at the boundary a strict condition is false, so the second piece's slope is the one used
            strict = condition.rel_op in ("<", ">")
            first, second = opened[0][0][0], opened[1][0][0]
            kink = locate_kink(e, condition.lhs, condition.rhs, x, first, second,
                               lambda slope_a, slope_b: slope_b if strict else slope_a,
                               "the slope of the " + ("second" if strict else "first") + " piece")
            (a, _), (b, _) = e.args
            if any(not _same(a.subs(x, p), b.subs(x, p)) for p in _kink_values(condition, x)):
                # the pieces do not meet: the function jumps there (a derivative that jumps, elu's f' for alpha != 1)
                used = (second if strict else first).subs(x, _kink_values(condition, x)[0])
                kink = replace(kink, jump=True, used=text(used))
            kinks = (kink,)
        return RuleLine(target, PIECEWISE, formula, value, kinks=kinks, reused=reused)

    def kinks_of(self, e, x):
        """Where abs, sign or a unit step changes formula: where its argument is 0 (none for the chain's u)."""
        if e.func not in _STEPS or x == U:
            return ()
        argument = e.args[0]
        if e.func is sympy.Abs:
            slope = Differentiator().derive(argument, x)
            return (locate_kink(e, argument, sympy.S.Zero, x, -slope, slope, lambda slope_a, slope_b: 0, "0"),)
        return (locate_kink(e, argument, sympy.S.Zero, x, None, None, None, "0"),)


# -- kinks ------------------------------------------------------------------------------

def locate_kink(function, a, b, x, da, db, used, used_text):
    """The Kink of `function` where a = b.

    The points are found when a - b is a polynomial of degree 1 or 2 in x;
    other equations are stated as they are, so that nothing here can take
    long. `da`, `db` are the pieces' slopes (None for a jump);
    `used(slope_a, slope_b)` is the value derive's formula gives at a
    point where a = b, `used_text` says it in words for an unsolved equation.
    """
    jump = da is None
    where = f"{text(a)} = {text(b)}"
    points = []
    try:
        poly = sympy.Poly(sympy.expand(a - b), x)
        if 1 <= poly.degree() <= 2:
            points = sorted((p for p in sympy.solve(poly.as_expr(), x) if p.is_real), key=float)
    except sympy.PolynomialError:
        pass  # not a polynomial: no kink points to list
    if not points:
        return Kink(text(function), where, jump=jump, used=used_text)
    found = []
    for p in points:
        at = f"{text(x)} = {text(p)}"
        if jump:
            found.append((at, "", "", "0"))
        else:
            slope_a, slope_b = da.subs(x, p), db.subs(x, p)
            found.append((at, text(slope_a), text(slope_b), text(sympy.sympify(used(slope_a, slope_b)))))
    return Kink(text(function), where, tuple(found), jump)


# -- tidying --------------------------------------------------------------------------------

def tidy(expression):
    """The shortest of a result as the rules leave it, its common factors pulled out, or it factored.

    Factoring treats the exponentials as they appear (exp(-x) stays
    exp(-x)), so a result reads like the function it came from.
    """
    if nodes(expression) > MAX_TIDY_NODES:
        return expression
    candidates = [sympy.factor_terms(expression), expression, _factor_keeping_exponentials(expression)]
    return min(candidates, key=sympy.count_ops)  # the first of the shortest on a tie


def _factor_keeping_exponentials(expression):
    """factor(), with exp(k g) written as t^k for one generator t = exp(g) when every exponential allows it."""
    arguments = [e.args[0] for e in sorted(expression.atoms(sympy.exp), key=sympy.default_sort_key)]
    if not arguments:
        return sympy.factor(expression)
    parts = [argument.as_coeff_Mul() for argument in arguments]
    smallest, rest = min(parts, key=lambda part: abs(part[0]))
    if any(part[1] != rest or not (part[0] / smallest).is_integer for part in parts):
        return sympy.factor(expression)
    generator = sympy.exp(smallest * rest)
    t = sympy.Dummy("t", positive=True)
    return sympy.factor(expression.subs(generator, t)).subs(t, generator)


# -- helpers ------------------------------------------------------------------------------

def printed_order(add):
    """The terms of a sum in the order derive prints them: a leading negative number goes last (x - 1)."""
    terms = list(add.args)
    if len(terms) > 1 and terms[0].is_Number and terms[0] < 0:
        terms = terms[1:] + terms[:1]
    return terms


def _reciprocal(factor):
    return factor.is_Pow and factor.exp.is_number and factor.exp.is_negative


def nodes(expression):
    """The size of an expression: its number of nodes."""
    return sum(1 for _ in sympy.preorder_traversal(expression))


def text(expression):
    """An expression as derive prints it in text (`1 + exp(-x)`)."""
    from ..render.formula import text_formula

    return text_formula(expression)


# -- the value used at a kink -----------------------------------------------------------------

@dataclass(frozen=True)
class KinkPoint:
    """A point where a derivative's formula changes pieces: the one-sided derivatives there, and the value used.

    point: x there (a SymPy number); left, right: the one-sided limits of
    the derivative; used: the value the derivative takes there (their
    common value where they agree, else derive's convention).
    """

    point: object
    left: object
    right: object
    used: object

    @property
    def differentiable(self):
        return self.left is not None and self.left == self.right

    def describe(self, x):
        """A clause for the result line: `differentiable at x = 0: both one-sided derivatives are 1`."""
        at = f"{text(x)} = {text(self.point)}"
        if self.left is None:  # the derivative before this one jumps here
            return f"undefined at {at}, where the derivative before it jumps; {text(self.used)} is used"
        if self.differentiable:
            return f"differentiable at {at}: both one-sided derivatives are {text(self.left)}"
        return (f"undefined at {at} (one-sided derivatives {text(self.left)} and {text(self.right)}), "
                f"where {text(self.used)} is used")


def at_kinks(derivative, x):
    """(derivative, KinkPoints, complete): the derivative made to take, at every kink where both one-sided
    derivatives agree, that common value; and what happens at each kink found.

    The kinks are the zeros of the arguments of the unit steps and signs in
    the derivative (solved when they are polynomials of degree 1 or 2, or a
    short equation SymPy solves at once). At a zero where the one-sided
    limits agree the function is differentiable: a unit step H(t) rising
    through it is written 1 - H(-t), which is the same step except that it
    takes its right-hand value there, so the derivative's own formula gives
    the common value (or, where that is not enough, the point gets its
    value by a piece of its own). Where they differ, derive's convention
    stands (H(0) = 0, sign(0) = 0, max(a, b) takes a's slope where a = b).
    `complete`: every kink was found (False where an equation was not solved).
    """
    steps = [e for e in derivative.atoms(sympy.Heaviside, sympy.sign, sympy.Piecewise)
             if _switch(e) is not None and _switch(e).has(x)]
    points, complete = set(), True
    for step in steps:
        zeros = _zeros(_switch(step), x)
        complete = complete and zeros is not None
        points.update(zeros or ())
    found, fixed = [], derivative
    for p in sorted(points, key=float):
        sides = _one_sided(derivative, x, p, steps)
        if sides is None:
            continue
        left, right = sides
        here = _value(derivative, x, p)
        if here is None:
            continue
        if _equal(left, right):
            found.append(KinkPoint(p, left, left, left))
        else:
            found.append(KinkPoint(p, left, right, here))
    wanted = {k.point: k.used for k in found}
    if all(_equal(_value(derivative, x, p), v) for p, v in wanted.items()):
        return derivative, tuple(found), complete
    rising = {}
    for step in steps:
        if isinstance(step, sympy.Heaviside):
            t = step.args[0]
            for k in found:
                if k.differentiable and _equal(t.subs(x, k.point), 0) and _slope_sign(t, x, k.point) > 0:
                    rising[step] = 1 - unit_step(-t)
    fixed = derivative.xreplace(rising)
    if not all(_equal(_value(fixed, x, p), v) for p, v in wanted.items()):
        fixed = sympy.Piecewise(*[(k.used, sympy.Eq(x, k.point)) for k in found if k.differentiable],
                                (derivative, True))
    return fixed, tuple(found), complete


def _kink_values(condition, x):
    try:
        poly = sympy.Poly(sympy.expand(condition.lhs - condition.rhs), x)
    except sympy.PolynomialError:
        return []
    return [p for p in sympy.solve(poly.as_expr(), x) if p.is_real] if 1 <= poly.degree() <= 2 else []


def _same(a, b):
    return sympy.simplify(a - b) == 0


def _switch(e):
    """What a unit step, sign or two-piece function switches on: t in H(t), sign(t), {a if t > 0; b otherwise}."""
    if isinstance(e, (sympy.Heaviside, sympy.sign)):
        return e.args[0]
    if isinstance(e, sympy.Piecewise) and len(e.args) == 2 and e.args[1].cond is sympy.true:
        condition = e.args[0].cond
        if isinstance(condition, sympy.core.relational.Relational) and condition.rel_op in ("<", "<=", ">", ">="):
            return condition.lhs - condition.rhs
    return None


def _zeros(t, x):
    """The real zeros of t(x), where they are quick to find and finitely many; else None."""
    from ..errors import DeriveError
    from .limits import time_limit

    try:
        poly = sympy.Poly(sympy.expand(t), x)
        if 1 <= poly.degree() <= 2:
            return [p for p in sympy.solve(poly.as_expr(), x) if p.is_real]
        return None
    except sympy.PolynomialError:
        pass
    if nodes(t) > 12 or t.has(sympy.sin, sympy.cos, sympy.tan):  # a periodic t has infinitely many zeros
        return None
    try:
        with time_limit(0.5, "the kinks"):
            return [p for p in sympy.solve(t, x) if p.is_real and p.is_number]
    except (DeriveError, NotImplementedError, TypeError, ValueError):
        return None


def _slope_sign(t, x, p):
    """The sign of t'(p), or 0 where it is 0 or unknown."""
    slope = sympy.diff(t, x).subs(x, p)
    if not slope.is_number or slope.is_zero is None:
        return 0
    return 0 if slope.is_zero else (1 if slope > 0 else -1)


def _one_sided(derivative, x, p, steps):
    """(left, right): the limits of the derivative at p from either side, or None where a step's side is unknown."""
    sides = []
    for side in (-1, 1):
        replaced = {}
        for step in steps:
            t = _switch(step)
            if not _equal(t.subs(x, p), 0):
                continue
            direction = _slope_sign(t, x, p) * side
            if direction == 0:
                return None
            if isinstance(step, sympy.Piecewise):  # the piece whose condition holds on this side
                holds = (direction > 0) == (step.args[0].cond.rel_op in (">", ">="))
                replaced[step] = step.args[0].expr if holds else step.args[1].expr
            elif isinstance(step, sympy.Heaviside):
                replaced[step] = sympy.S.One if direction > 0 else sympy.S.Zero
            else:
                replaced[step] = sympy.Integer(direction)
        value = _value(derivative.xreplace(replaced), x, p)
        if value is None:
            return None
        sides.append(value)
    return tuple(sides)


def _value(expression, x, p):
    value = sympy.simplify(expression.subs(x, p))
    return value if value.is_number and value.is_finite else None


def _equal(a, b):
    try:
        return a is not None and b is not None and sympy.simplify(a - b) == 0
    except TypeError:
        return False
