"""`kind: derivative`: the derivatives of a one-variable function, one rule per line.

A problem names a function (sigmoid, tanh, softplus, relu, or any
expression in x such as `max(1, x)`) and an order. The solution works out
the first derivative, then the derivative of that, up to the order, each
as a chain of rule lines (derive.symbolic.differentiate: constant, power,
sum, product, quotient, chain with its `u = ...`, exponential, logarithm,
trigonometric, hyperbolic, piecewise); then the result; then, where the
function has one, the result in terms of the function itself (σ′ = σ (1 -
σ), σ″ = σ (1 - σ) (1 - 2σ), softplus′ = σ; tanh′ = 1 - tanh² already is);
and, at the points the problem gives, the derivatives' values, computed
the lecture's way from σ(x) or tanh(x) where the function has that form.

Piecewise functions say, on the rule line and the result, where the
derivative is undefined and which value derive uses there (the
subgradient convention of derive.symbolic.activations).

The derivation is worked out when the file is read, inside a time limit,
so that a function that cannot be differentiated quickly, or whose
derivative is not defined at a given point, is reported against its field.
Every result is checked against SymPy's own `diff` at a few points.
"""

import difflib
import math
from dataclasses import dataclass, replace

import sympy

from ..errors import DeriveError, ExpressionError
from ..expr import FUNCTIONS, parse_expression
from ..fields import Declarations, Declared, Integer, Text, Vector, check_constants
from ..render.formula import latex_formula, text_formula
from ..steps import SolutionBuilder, Sym, evaluate_formula, format_number
from ..symbolic.activations import X
from ..symbolic.differentiate import CHAIN, Differentiator, KinkPoint, at_kinks, nodes
from ..symbolic.limits import time_limit
from ..symbolic.own_form import own_forms

MAX_ORDER = 4
MAX_POINTS = 8
MAX_FUNCTION_NODES = 60
SECONDS = 5.0  # for all the derivatives of one problem
CHECK_POINTS = (-2.3, -0.7, 0.4, 1.3, 2.9)  # where each result is held against SymPy's diff


class _Points(Vector):
    """A Vector whose schema says how many numbers it may hold; the field's check refuses more, in words."""

    def schema(self):
        return {"anyOf": [{"type": "number"}, {"type": "array", "items": {"type": "number"}, "maxItems": MAX_POINTS}]}


def _at_most_points(points, field, values):
    if len(points) > MAX_POINTS:
        raise field.error(f"expected at most {MAX_POINTS} points, got {len(points)}")


# where an error found while solving is reported when nothing nearer its cause is known (Problem.solve)
ERRORS_AT = ("function",)

DECLARED = Declarations(
    Declared("function", Text("a function name or an expression in x"),
             "`sigmoid`, `tanh`, `softplus`, `relu`, `elu`, `leaky_relu`, `selu`, `gelu`, `gelu_tanh`, `mish` "
             "(with their standard parameters: [activations by name](../lectures.md#activations-by-name)), or an expression in `x` "
             "(same syntax as activations: "
             "`max(1, x)`, `x*sigmoid(x)`, `x^2 sin(x)/(1 + x^2)`); an expression that parses to a named one's "
             "own formula (`1/(1 + exp(-x))`, `sigmoid(x)`) is treated as that one, one equal to it but written "
             "otherwise (`exp(x)/(1 + exp(x))`) is not"),
    Declared("order", Integer(1, MAX_ORDER),
             f"the highest derivative, 1 to {MAX_ORDER}; every order up to it is derived, each from the one before",
             default=1),
    Declared("at", _Points(),
             f"points x₁, x₂, ... (up to {MAX_POINTS}, or one number) at which every derivative is evaluated; "
             "each derivative must be defined there", default=[], check=_at_most_points),
)


@dataclass(frozen=True)
class Named:
    """A function derive knows by name: its expression, how its name is printed, and its definition written out."""

    expression: object
    shown: Sym
    definition: object = None

    @property
    def written(self):
        """The definition as the notes print it (tanh in exponentials)."""
        return self.expression if self.definition is None else self.definition


NAMED = {
    "sigmoid": Named(1 / (1 + sympy.exp(-X)), Sym("σ", r"\sigma")),
    "tanh": Named(sympy.tanh(X), Sym("tanh", r"\tanh"),
                  (sympy.exp(X) - sympy.exp(-X)) / (sympy.exp(X) + sympy.exp(-X))),
    "softplus": Named(sympy.log(1 + sympy.exp(X)), Sym("softplus", r"\operatorname{softplus}")),
    "relu": Named(sympy.Max(0, X), Sym("relu", r"\operatorname{relu}")),
    # the activations by name, with their standard parameters (docs/kinds/derivative.md)
    **{name: Named(FUNCTIONS[name][2](X), Sym(name, r"\operatorname{%s}" % name.replace("_", r"\_")))
       for name in ("elu", "leaky_relu", "selu", "gelu", "gelu_tanh", "mish")},
}
GENERIC = Sym("f", "f")
OWN_FORMS = own_forms(X)
ORDINALS = {1: "First", 2: "Second", 3: "Third", 4: "Fourth"}
SUPERSCRIPTS = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")
BASE_WORDS = {"sigmoid": "the sigmoid", "tanh": "tanh"}  # for step notes, which stay ASCII (LaTeX prints them as text)


@dataclass(frozen=True)
class DerivativeSpec:
    """A validated derivative problem.

    expression: f(x); name: its printed name (σ, or f); named: its name
    among NAMED, or None; order: the highest derivative asked; points:
    where to evaluate the derivatives; derivations: one Derivation per
    order, the n-th differentiating the (n-1)-th's result.
    """

    expression: object
    name: Sym
    named: str
    order: int
    points: tuple
    derivations: tuple

    @property
    def own_form(self):
        """The function's derivatives in terms of itself (σ, tanh), or None."""
        return OWN_FORMS.get(self.named)


def read(root):
    """Validate the derivative fields of a problem file into a DerivativeSpec."""
    function_field = DECLARED.field(root, "function")
    text = DECLARED.read_field(function_field, "function")
    try:
        expression, named = read_function(text)
    except ExpressionError as error:
        raise function_field.located(error) from None
    order = DECLARED.read(root, "order")
    at_field = DECLARED.field(root, "at")
    points = DECLARED.read_field(at_field, "at")
    name = NAMED[named].shown if named else GENERIC
    try:
        with time_limit(SECONDS, "the derivation"):
            derivations = derive(expression, order)
    except DeriveError as error:
        raise function_field.located(error) from None
    items = at_field.items() if isinstance(at_field.value, list) else [at_field]
    for item, point in zip(items, points):
        for n, derivation in enumerate(derivations, start=1):
            _check_defined(item, derivation.result, derivative_symbol(name, n), point)
    return DerivativeSpec(expression, name, named, order, points, tuple(derivations))


def read_function(text):
    """(expression in x, name among NAMED or None) of a function written in a problem file."""
    stripped = text.strip()
    if stripped in NAMED:
        return NAMED[stripped].expression, stripped
    try:
        expression = parse_expression(stripped, {"x": X})
    except ExpressionError:
        if stripped.isidentifier() and stripped.isascii():
            close = difflib.get_close_matches(stripped, list(NAMED), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            expected = f"expected {', '.join(NAMED)} or an expression in x"
            raise ExpressionError(f"{expected}, got {stripped!r}{hint}") from None
        raise
    check_constants(expression)
    size = nodes(expression)
    if size > MAX_FUNCTION_NODES:
        raise ExpressionError(f"function too large ({size} nodes; at most {MAX_FUNCTION_NODES})")
    named = next((key for key, known in NAMED.items() if known.expression == expression), None)
    return expression, named


def derive(expression, order):
    """The Derivations of orders 1..order, each checked against SymPy's diff."""
    engine = Differentiator()
    derivations, current, jumps = [], expression, ()
    for n in range(1, order + 1):
        derivation = engine.differentiate(current, X)
        # where both one-sided derivatives agree, the function is differentiable and that value is used
        result, points, complete = at_kinks(derivation.result, X)
        # where the derivative before jumps, this one is undefined, whatever its one-sided limits
        points = tuple(replace(k, left=None, right=None) if any(k.point == j.point for j in jumps) else k
                       for k in points)
        points += tuple(KinkPoint(j.point, None, None, _value(result, j.point)) for j in jumps
                        if all(k.point != j.point for k in points) and _value(result, j.point) is not None)
        jumps = tuple(k for k in points if not k.differentiable)
        derivation = replace(derivation, result=result, kink_points=points, kinks_complete=complete)
        _check_against_sympy(derivation.result, sympy.diff(expression, X, n), n)
        derivations.append(derivation)
        current = derivation.result
    return derivations


def _value(expression, point):
    """The exact value of `expression` at x = point, or None where it has none."""
    value = sympy.simplify(expression.subs(X, point))
    return value if value.is_number and value.is_finite else None


def _check_against_sympy(result, oracle, n):
    """Refuse, as a bug of derive, a result that differs from SymPy's derivative where both are defined."""
    for point in CHECK_POINTS:
        mine, theirs = _value_at(result, point), _value_at(oracle, point)
        if mine is not None and theirs is not None and not math.isclose(mine, theirs, rel_tol=1e-9, abs_tol=1e-12):
            raise DeriveError(f"internal: derivative {n} differs from SymPy's at x = {point}")


def _value_at(expression, point):
    """The float value at x = point, or None where it has none."""
    try:
        value = evaluate_formula(expression, {X.name: point})
    except DeriveError:  # SymPy's DiracDelta, or a point outside the domain
        return None
    return value if math.isfinite(value) else None


def _check_defined(field, derivative, symbol, point):
    """Refuse, against the point's field, a point where a derivative has no finite value (1/x at 0)."""
    where = f"{symbol.text} at x = {format_number(point)}"
    try:
        value = evaluate_formula(derivative, {X.name: point}, where)
    except DeriveError as error:
        raise field.error(error.message) from None
    if not math.isfinite(value):
        raise field.error(f"{where} is not a finite number")


# -- solution ---------------------------------------------------------------------------

def solve(problem, rounding):
    """The Solution: the points given, each derivative rule by rule, then the values at the points."""
    spec = problem.spec
    out = SolutionBuilder(rounding)
    points = [out.given(f"at[{k}]", Sym.indexed("x", "x", None, (k,)), p) for k, p in enumerate(spec.points, 1)]
    for n, derivation in enumerate(spec.derivations, start=1):
        derivation_steps(out, spec, n, derivation)
    if points:
        values_at_points(out, spec, points)
    return out.build(problem.name, problem.kind, problem.title, notes=solution_notes(spec))


def derivation_steps(out, spec, n, derivation):
    """The rule lines of the n-th derivative, its result, and the result in terms of the function itself."""
    section = f"{ORDINALS[n]} derivative"
    for k, line in enumerate(derivation.lines, start=1):
        target = Sym(text_formula(line.target), latex_formula(line.target))
        out.symbolic(f"d{n}.line[{k}]", target, line.formula, line.value, section, line.note)
    clauses = [point.describe(X) for point in derivation.kink_points]
    if not derivation.kinks_complete:  # the kinks at_kinks could not find, as the rules state them
        clauses += [kink.summary() for kink in derivation.kinks if not kink.points]
    kinks = "; ".join(s for s in clauses if s)
    symbol = derivative_symbol(spec.name, n)
    formula = sympy.Derivative(spec.expression, (X, n))
    out.symbolic(f"d{n}", symbol, formula, derivation.result, section, kinks)
    own = spec.own_form
    if own is not None and derivation.result.subs(own.expression, sympy.Dummy()).has(X):
        out.symbolic(f"d{n}.form", symbol, own.shown_with(n, own.shown), derivation.result, section,
                     f"in terms of {BASE_WORDS[own.base]}")


def values_at_points(out, spec, points):
    """Each derivative at each point: from σ(x) or tanh(x) where the function has that form, else directly."""
    own = spec.own_form
    section = "Values at the given points"
    for k, x_k in enumerate(points, start=1):
        argument = Sym.indexed("x", "x", None, (k,))
        if own is not None:
            base = NAMED[own.base].shown
            shown = Sym(f"{base.text}({argument.text})", rf"{base.latex}\left({argument.latex}\right)")
            b = out.step(f"{own.base}.at[{k}]", shown, own.expression.subs(X, x_k), section)
        for n, derivation in enumerate(spec.derivations, start=1):
            formula = own.shown_with(n, b) if own is not None else derivation.result.subs(X, x_k)
            bound = _BOUNDS.get(spec.named) if n == 1 else None
            note = "" if bound is None else (bound[1] if spec.points[k - 1] == 0 else bound[2])
            out.step(f"d{n}.at[{k}]", derivative_symbol(spec.name, n, argument), formula, section, note=note)


# the first derivative's bound, for a function whose derivative peaks at 0: (the solution's note; a value's note
# at x = 0; at another point)
_BOUNDS = {
    "sigmoid": ("σ′ = σ (1 − σ) = 1/4 − (σ − 1/2)² ≤ 1/4, with equality only where σ = 1/2, at x = 0: each sigmoid "
                "layer multiplies a gradient passed back through it by at most 1/4 (why deep sigmoid networks' "
                "gradients vanish)",
                "the largest value σ′ takes: σ (1 − σ) ≤ 1/4, reached at x = 0 only",
                "below 1/4, the largest value σ′ takes (at x = 0)"),
    "tanh": ("tanh′ = 1 − tanh² ≤ 1, with equality only at x = 0",
             "the largest value tanh′ takes: 1 − tanh² ≤ 1, reached at x = 0 only",
             "below 1, the largest value tanh′ takes (at x = 0)"),
}


def derivative_symbol(name, n, argument=Sym("x", "x")):
    """f⁽ⁿ⁾(x) as printed: σ′(x), σ″(x), f‴(x₁), f⁽⁴⁾(x)."""
    text_mark = {1: "′", 2: "″", 3: "‴"}.get(n, f"⁽{n}⁾".translate(SUPERSCRIPTS))
    latex_mark = {1: "'", 2: "''", 3: "'''"}.get(n, f"^{{({n})}}")
    return Sym(f"{name.text}{text_mark}({argument.text})", rf"{name.latex}{latex_mark}\left({argument.latex}\right)")


def solution_notes(spec):
    """The function's definition, how to read the lines, and the conventions the solution uses."""
    name = spec.name
    written = NAMED[spec.named].written if spec.named else spec.expression
    shown = latex_formula(written)
    if written.has(sympy.Piecewise):  # braced: a note's top-level \text is set as words; "otherwise" is not one
        shown = f"{{{shown}}}"
    notes = [Sym(f"{name.text}(x) = {text_formula(written)}", rf"{name.latex}(x) = {shown}")]
    lines = [line for derivation in spec.derivations for line in derivation.lines]
    notes.append(_words("each line applies one rule; the derivatives it leaves open are worked out on the lines "
                        "after it, or above where they were found before"))
    if any(line.rule == CHAIN for line in lines):
        notes.append(_words("u is the inner function of the chain rule on its line (u = ...)"))
    shown = [d.result for d in spec.derivations] + [line.value for line in lines]
    if any(e.has(sympy.Heaviside) for e in shown):
        notes.append(Sym("H(t) is the unit step: 1 for t > 0, 0 for t ≤ 0 (at a kink derive uses the subgradient 0)",
                         r"H(t) \text{ is the unit step: 1 for } t > 0, \text{ 0 for } t \le 0 "
                         r"\text{ (at a kink derive uses the subgradient 0)}"))
    if any(e.has(sympy.sign) for e in shown):
        notes.append(Sym("sign(t) is 1 for t > 0, -1 for t < 0 and 0 at t = 0 (the subgradient 0 at the kink of abs)",
                         r"\operatorname{sign}(t) \text{ is 1 for } t > 0, \text{ -1 for } t < 0 \text{ and 0 at } "
                         r"t = 0 \text{ (the subgradient 0 at the kink of abs)}"))
    own = spec.own_form
    if own is not None:
        notes.append(_own_form_note(own))
    if spec.named in _BOUNDS:
        notes.append(_words(_BOUNDS[spec.named][0]))
    return notes


def _own_form_note(own):
    """How the derivatives are written in terms of the function: b′ = g(b), then the chain rule."""
    base = NAMED[own.base].shown
    b_text, b_latex = text_formula(own.shown), latex_formula(own.shown)
    slope = own.slope_with(own.shown)
    return Sym(f"in terms of {b_text}: {base.text}′ = {text_formula(slope)}, and d/dx P({b_text}) = P′({b_text}) "
               f"{base.text}′ for a polynomial P (the chain rule)",
               rf"\text{{in terms of }} {b_latex}:\ {base.latex}' = {latex_formula(slope)}, \text{{ and }} "
               rf"\frac{{d}}{{dx}} P({b_latex}) = P'({b_latex})\, {base.latex}' "
               r"\text{ for a polynomial } P \text{ (the chain rule)}")


def _words(text):
    return Sym(text, rf"\text{{{text}}}")
