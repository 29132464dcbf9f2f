"""`kind: softmax`: the softmax Jacobian, the gradient of log softmax and the
softmax + cross-entropy gradient, derived by SymPy from the definitions.

With s_i = exp(x_i) / Σ_k exp(x_k) (the lecture notes):

    ∂s_i/∂x_j       = s_i (δ_ij - s_j)
    ∂log s_i/∂x_j   = δ_ij - s_j
    ∂L/∂x_j         = s_j - y_j        for L = -Σ_k y_k log s_k, Σ_k y_k = 1

None of these is restated. For a concrete n (default 3) SymPy differentiates
the definition built on Symbols x_1..x_n entry by entry, and each result is
checked against the general form (their difference must cancel to 0, or the
solver stops). For a symbolic n SymPy differentiates the definition written
with an indexed x and a Sum over k = 1..n, and the result is checked against
the general form the same way. When the file gives a vector `at` (and a
target `y`), every quantity is also evaluated there as numeric steps whose
formulas are over the keys they use, so follow-through grading works.

Expression answers are written in x_1, x_2, ... and y_1, ... (concrete n) or
s_i, s_j (the general cases), the names printed as x₁, sᵢ.
"""

from dataclasses import dataclass
from functools import lru_cache

import sympy
from sympy import Add, KroneckerDelta, Mul, Pow, exp, log
from sympy.simplify.simplify import factor_sum

from ..errors import DeriveError
from ..fields import Declarations, Declared, Integer, Structured
from ..render.formula import KeyFormula, subscript
from ..steps import SolutionBuilder, Sym
from ..symbolic.limits import time_limit

RESULTS = ("jacobian", "log_softmax", "cross_entropy")
DEFAULT_N = 3
MAX_N = 6  # n² derivatives per result, printed one per line; n = 6 solves in about 2 s
MAX_ABS_X = 100  # exp(100) ~ 2.7e43: far from overflow, and a softmax is already one-hot there
SYMPY_SECONDS = 10.0


def _vector(number):
    """The schema of n numbers, each as `number` says (a lone one counts as a list of one, when n is 1)."""
    return {"anyOf": [number, {"type": "array", "items": number, "minItems": 1, "maxItems": MAX_N}]}


# where an error found while solving is reported when nothing nearer its cause is known (Problem.solve)
ERRORS_AT = ("n", "at", "results")

DECLARED = Declarations(
    Declared("n", Integer(1, MAX_N), f"the number of components, 1 to {MAX_N}", default=None,
             shown_default="the length of `at`, else 3"),
    Declared("results", Structured({"type": "array", "items": {"enum": list(RESULTS)}, "minItems": 1,
                                    "uniqueItems": True}),
             "a list of `jacobian`, `log_softmax`, `cross_entropy` (each at most once)", default=list(RESULTS),
             shown_default="all three"),
    Declared("at", Structured(_vector({"type": "number", "minimum": -MAX_ABS_X, "maximum": MAX_ABS_X})),
             f"a vector of n numbers in [−{MAX_ABS_X}, {MAX_ABS_X}] to evaluate at",
             default=None, shown_default="none: derivation only"),
    Declared("y", Structured(_vector({"type": "number", "minimum": 0})),
             "the target distribution: n numbers ≥ 0 summing to 1; only with `at` and `cross_entropy` in `results`",
             default=None, shown_default="required with `at` and `cross_entropy`"),
)


@dataclass(frozen=True)
class SoftmaxSpec:
    """A validated softmax problem: n, the results asked for, and the optional point `at` and target `y`."""

    n: int
    results: tuple
    at: tuple = None
    y: tuple = None


def read(root):
    """Validate the softmax fields of a problem file into a SoftmaxSpec."""
    results = _read_results(DECLARED.field(root, "results"))
    at_field = root.get("at") if root.has("at") else None
    if root.has("n"):
        n = DECLARED.read(root, "n")
    elif at_field is not None:
        n = len(at_field.items())
        if not 1 <= n <= MAX_N:
            raise at_field.error(f"expected 1 to {MAX_N} numbers, got {n}")
    else:
        n = DEFAULT_N
    at = at_field.vector(n) if at_field is not None else None
    if at is not None and any(abs(v) > MAX_ABS_X for v in at):
        outside = next(v for v in at if abs(v) > MAX_ABS_X)
        raise at_field.error(f"expected numbers from -{MAX_ABS_X} to {MAX_ABS_X}, got {outside:g}")
    y = _read_target(root, n, results, at)
    return SoftmaxSpec(n=n, results=results, at=at, y=y)


def _read_results(field):
    chosen = [item.choice(RESULTS) for item in field.items()]
    if not chosen:
        raise field.error(f"expected at least one of {', '.join(RESULTS)}")
    for index, name in enumerate(chosen):
        if name in chosen[:index]:
            raise field.items()[index].error(f"{name} is listed twice")
    return tuple(name for name in RESULTS if name in chosen)


def _read_target(root, n, results, at):
    """The target distribution y: n numbers >= 0 summing to 1, for cross-entropy at a vector."""
    if not root.has("y"):
        if at is not None and "cross_entropy" in results:
            raise root.missing("y", "missing (cross_entropy at a vector needs the target y; "
                                    "or leave cross_entropy out of results)")
        return None
    field = root.get("y")
    if "cross_entropy" not in results:
        raise field.error("has no meaning without cross_entropy in results")
    if at is None:
        raise field.error("has no meaning without a vector `at` to evaluate the cross-entropy at")
    y = field.vector(n)
    if min(y) < 0:
        raise field.error(f"expected probabilities (numbers >= 0), got {min(y):g}")
    if abs(sum(y) - 1) > 1e-9:
        raise field.error(f"expected probabilities summing to 1, got a sum of {sum(y):g}")
    return y


# -- symbols -----------------------------------------------------------------------

class Component(sympy.Symbol):
    """A Symbol for one component of a vector: `x_1`, `y_2`, `s_i`.

    Its name is what a student types in an answer (`x_1`); solutions show it
    with a subscript, x₁ in text and x_{1} in LaTeX. derive's formula
    printers ask an expression to print itself through SymPy's printmethod
    hook (`_derive_formula`) before their own rules.
    """

    def _derive_formula(self, printer, leading=False):
        if isinstance(printer, KeyFormula):
            return self.name
        base, _, index = self.name.partition("_")
        return printer.symbol_text(Sym(base + subscript(index), f"{base}_{{{index}}}" if index else base))


def component(base, index):
    return Component(f"{base}_{index}", real=True)


def _in_order(expr):
    """`expr` with terms and factors in the order a derivation is read (same value).

    Positive terms first (δᵢⱼ - sⱼ, not -sⱼ + δᵢⱼ); in a product, numbers,
    deltas, exponentials, symbols, then sums, then the denominator.
    """
    if expr.is_Add:
        terms = [_in_order(t) for t in expr.args]
        return Add(*sorted(terms, key=lambda t: t.could_extract_minus_sign()), evaluate=False)
    if expr.is_Mul:
        def rank(factor):
            if factor.is_Pow and factor.exp.is_negative:
                return 5
            if factor.is_Number:
                return 0
            if isinstance(factor, KroneckerDelta):
                return 1
            if isinstance(factor, exp):
                return 2
            return 3 if factor.is_Symbol else 4
        factors = [_in_order(f) for f in expr.args]
        return Mul(*sorted(factors, key=rank), evaluate=False)
    if expr.is_Pow:
        return Pow(_in_order(expr.base), expr.exp, evaluate=False)
    return expr


# -- a concrete n --------------------------------------------------------------------

class ConcreteSoftmax:
    """s_i = exp(x_i) / (exp(x_1) + ... + exp(x_n)) on Symbols x_1..x_n, and exact checks.

    A check substitutes x_k = log(e_k) with positive Symbols e_k, which turns
    every expression here into a rational function of the e_k, where `cancel`
    decides "is it 0?" exactly and fast.
    """

    def __init__(self, n):
        self.n = n
        self.x = [component("x", k) for k in range(1, n + 1)]
        self.y = [component("y", k) for k in range(1, n + 1)]
        self.total = Add(*[exp(v) for v in self.x])
        self.s = [exp(v) / self.total for v in self.x]
        self.shown_total = Add(*[exp(v) for v in self.x], evaluate=False)
        e = [sympy.Symbol(f"e_{k}", positive=True) for k in range(1, n + 1)]
        self._to_e = {v: log(ek) for v, ek in zip(self.x, e)}
        self._from_e = {ek: exp(v) for v, ek in zip(self.x, e)}

    def shown_s(self, i):
        """s_i as it is written, exp(x_i) over the sum (unevaluated, so n = 1 still shows it)."""
        return Mul(exp(self.x[i]), Pow(self.shown_total, -1, evaluate=False), evaluate=False)

    def is_zero(self, expr):
        return sympy.cancel(expr.xreplace(self._to_e)) == 0

    def compact(self, expr):
        """`expr` factored (over the e_k, then written back in x)."""
        return _in_order(sympy.factor(expr.xreplace(self._to_e)).xreplace(self._from_e))

    def check(self, derivative, closed, what):
        if not self.is_zero(derivative - closed):
            raise DeriveError(f"internal: SymPy's {what} differs from the general form")


def _typed(base, *indices):
    """A name as a student types it in an answer: s_1, y_2."""
    return base + "_" + "".join(str(i) for i in indices)


def concrete_jacobian(out, soft):
    """∂s_i/∂x_j for every i, j: SymPy's derivative, checked against s_i (δ_ij - s_j)."""
    section = f"Softmax Jacobian for n = {soft.n}"
    for i in range(soft.n):
        for j in range(soft.n):
            derivative = sympy.diff(soft.s[i], soft.x[j])
            delta = 1 if i == j else 0
            soft.check(derivative, soft.s[i] * (delta - soft.s[j]), f"∂s_{i + 1}/∂x_{j + 1}")
            s_i, s_j = _typed("s", i + 1), _typed("s", j + 1)
            closed = f"{s_i} (1 - {s_i})" if i == j else f"-{s_i} {s_j}"
            out.symbolic(f"expr.jacobian[{i + 1}][{j + 1}]", _jacobian_symbol(i + 1, j + 1),
                         sympy.Derivative(soft.shown_s(i), soft.x[j]), soft.compact(derivative),
                         section, note=f"= {closed}")


def concrete_log_softmax(out, soft):
    """∂log s_i/∂x_j for every i, j: SymPy's derivative, checked against δ_ij - s_j."""
    section = f"Gradient of log softmax for n = {soft.n}"
    for i in range(soft.n):
        for j in range(soft.n):
            derivative = sympy.diff(log(soft.s[i]), soft.x[j])
            delta = 1 if i == j else 0
            soft.check(derivative, delta - soft.s[j], f"∂log s_{i + 1}/∂x_{j + 1}")
            s_j = _typed("s", j + 1)
            closed = f"1 - {s_j}" if i == j else f"-{s_j}"
            out.symbolic(f"expr.log_softmax_grad[{i + 1}][{j + 1}]", _log_softmax_symbol(i + 1, j + 1),
                         sympy.Derivative(log(soft.shown_s(i)), soft.x[j]), soft.compact(derivative),
                         section, note=f"= {closed}")


def concrete_cross_entropy(out, soft):
    """∂L/∂x_j for L = -Σ_k y_k log s_k: SymPy's derivative is (Σ_k y_k) s_j - y_j, so s_j - y_j."""
    section = f"Cross-entropy gradient for n = {soft.n}"
    loss = -Add(*[y * log(s) for y, s in zip(soft.y, soft.s)])
    shown_loss = Mul(-1, Add(*[Mul(y, log(soft.shown_s(k)), evaluate=False)
                               for k, y in enumerate(soft.y)], evaluate=False), evaluate=False)
    y_total = Add(*soft.y)
    y_names = [_typed("y", k) for k in range(1, soft.n + 1)]
    y_sum = f"({' + '.join(y_names)})" if soft.n > 1 else y_names[0]
    for j in range(soft.n):
        derivative = sympy.diff(loss, soft.x[j])
        soft.check(derivative, y_total * soft.s[j] - soft.y[j], f"∂L/∂x_{j + 1}")
        closed = Add(soft.shown_s(j), -soft.y[j], evaluate=False)
        s_j, y_j = _typed("s", j + 1), y_names[j]
        out.symbolic(f"expr.grad[{j + 1}]", _loss_symbol(j + 1), sympy.Derivative(shown_loss, soft.x[j]),
                     closed, section,
                     note=f"SymPy: {y_sum} {s_j} - {y_j} = {s_j} - {y_j}, as the y_k sum to 1")


# -- a symbolic n ---------------------------------------------------------------------

class GeneralSoftmax:
    """s_i = exp(x_i) / Σ_{k=1}^{n} exp(x_k) with an indexed x and a symbolic n.

    SymPy differentiates the Sum term by term (∂x_k/∂x_j = δ_kj) and gives
    its answer under the condition j <= n, which holds for every index in
    1..n. Printed expressions use Components (x_i, s_j) for the indexed
    symbols, so they read and grade as the concrete ones do, and S for the
    sum (a Sum in a power or a denominator would need parentheses).
    """

    def __init__(self):
        self.i, self.j, self.k, self.m = sympy.symbols("i j k m", integer=True, positive=True)
        self.n = sympy.Symbol("n", integer=True, positive=True)
        self.x = sympy.IndexedBase("x", real=True)
        self.y = sympy.IndexedBase("y", real=True)
        self.total = sympy.Sum(exp(self.x[self.k]), (self.k, 1, self.n))
        self.shown_total = Component("S", positive=True)

    def s(self, index):
        return exp(self.x[index]) / self.total

    def derivative(self, expr):
        """∂expr/∂x_j, with SymPy's condition j <= n discharged."""
        result = sympy.diff(expr, self.x[self.j]).doit()
        return result.replace(lambda e: isinstance(e, sympy.Piecewise), self._within_range)

    def _within_range(self, piecewise):
        value, condition = piecewise.args[0]
        if condition not in (sympy.Le(self.j, self.n), sympy.Ge(self.n, self.j)):
            raise DeriveError(f"internal: unexpected condition {condition} in a softmax derivative")
        return value

    def check(self, derivative, closed, what):
        if sympy.cancel((derivative - closed).subs(self.total, self.shown_total)) != 0:
            raise DeriveError(f"internal: SymPy's {what} differs from the general form")

    def shown(self, expr):
        """The sum as S, indexed symbols as Components (x[j] -> x_j), terms in reading order."""
        def as_component(indexed):
            return component(str(indexed.base), "".join(str(i) for i in indexed.indices))
        expr = expr.subs(self.total, self.shown_total)
        return _in_order(expr.replace(lambda e: isinstance(e, sympy.Indexed), as_component))


def general_jacobian(out, general):
    i, j = general.i, general.j
    s = sympy.IndexedBase("s", positive=True)
    section = "Softmax Jacobian for any n"
    derivative = general.derivative(general.s(i))
    closed = s[i] * (KroneckerDelta(i, j) - s[j])
    general.check(derivative, closed.subs({s[i]: general.s(i), s[j]: general.s(j)}), "∂s_i/∂x_j")
    diagonal, off_diagonal = closed.subs(j, i), closed.subs(KroneckerDelta(i, j), 0)
    symbol = _jacobian_symbol("i", "j")
    out.symbolic("general.jacobian", symbol, general.shown(derivative), general.shown(closed), section,
                 note="quotient rule; d/dx_j of the sum is exp(x_j)")
    out.symbolic("general.jacobian.diagonal", _jacobian_symbol("i", "i"),
                 general.shown(s[i] * (KroneckerDelta(i, i, evaluate=False) - s[i])), general.shown(diagonal),
                 section)
    out.symbolic("general.jacobian.off_diagonal", _unequal(symbol), general.shown(closed),
                 general.shown(off_diagonal), section, note="delta_ij = 0")


def general_log_softmax(out, general):
    i, j = general.i, general.j
    s = sympy.IndexedBase("s", positive=True)
    section = "Gradient of log softmax for any n"
    log_s = sympy.expand_log(log(general.s(i)), force=True)  # x_i - log Σ_k exp(x_k)
    derivative = general.derivative(log_s)
    closed = KroneckerDelta(i, j) - s[j]
    general.check(derivative, closed.subs(s[j], general.s(j)), "∂log s_i/∂x_j")
    symbol = _log_softmax_symbol("i", "j")
    out.symbolic("general.log_softmax_grad", symbol, general.shown(derivative), general.shown(closed), section,
                 note="log s_i = x_i - log(sum_k exp(x_k))")
    out.symbolic("general.log_softmax_grad.diagonal", _log_softmax_symbol("i", "i"),
                 general.shown(KroneckerDelta(i, i, evaluate=False) - s[i]), general.shown(closed.subs(j, i)),
                 section)
    out.symbolic("general.log_softmax_grad.off_diagonal", _unequal(symbol), general.shown(closed),
                 general.shown(closed.subs(KroneckerDelta(i, j), 0)), section, note="delta_ij = 0")


def general_cross_entropy(out, general):
    j, m, n, x, y = general.j, general.m, general.n, general.x, general.y
    s = sympy.IndexedBase("s", positive=True)
    loss = -sympy.Sum(y[m] * (x[m] - log(general.total)), (m, 1, n))  # -Σ_m y_m log s_m
    derivative = general.derivative(loss).replace(lambda e: isinstance(e, sympy.Sum), factor_sum)
    closed = s[j] - y[j]
    general.check(derivative.subs(sympy.Sum(y[m], (m, 1, n)), 1), closed.subs(s[j], general.s(j)), "∂L/∂x_j")
    out.symbolic("general.grad", _loss_symbol("j"), general.shown(derivative), general.shown(closed),
                 "Cross-entropy gradient for any n", note="the y_k sum to 1")


# -- numbers at a vector ------------------------------------------------------------

def numeric(out, spec):
    """The softmax, and each result asked for, evaluated at `at` (and `y`)."""
    n = spec.n
    indices = range(1, n + 1)
    x = {k: out.given(f"x[{k}]", Sym.indexed("x", "x", None, (k,)), v, group="x")
         for k, v in zip(indices, spec.at)}
    y = {k: out.given(f"y[{k}]", Sym.indexed("y", "y", None, (k,)), v, group="y")
         for k, v in zip(indices, spec.y or ())}
    point = ", ".join(_plain(v) for v in spec.at)
    where = f"x = ({point})"
    total = out.step("sum_exp", Sym("Σₖ exp(xₖ)", r"\sum_{k} e^{x_{k}}"),
                     Add(*[exp(x[k]) for k in indices], evaluate=False) if n > 1 else exp(x[1]),
                     f"Softmax at {where}")
    s = {k: out.step(f"s[{k}]", Sym.indexed("s", "s", None, (k,)),
                     Mul(exp(x[k]), Pow(total, -1, evaluate=False), evaluate=False), f"Softmax at {where}")
         for k in indices}
    if "jacobian" in spec.results:
        for i in indices:
            for j in indices:
                formula = (Mul(s[i], Add(1, Mul(-1, s[i], evaluate=False), evaluate=False), evaluate=False)
                           if i == j else Mul(-1, s[i], s[j], evaluate=False))
                out.step(f"jacobian[{i}][{j}]", _jacobian_symbol(i, j), formula, f"Softmax Jacobian at {where}")
    if "log_softmax" in spec.results:
        for i in indices:
            for j in indices:
                formula = Add(1, Mul(-1, s[j], evaluate=False), evaluate=False) if i == j else Mul(-1, s[j])
                out.step(f"log_softmax_grad[{i}][{j}]", _log_softmax_symbol(i, j), formula,
                         f"Gradient of log softmax at {where}")
    if "cross_entropy" in spec.results:
        section = f"Cross-entropy at {where}"
        terms = [Mul(y[k], log(s[k]), evaluate=False) for k in indices]
        out.step("loss", Sym("L", "L"), Mul(-1, Add(*terms, evaluate=False) if n > 1 else terms[0],
                                            evaluate=False), section)
        for j in indices:
            out.step(f"grad[{j}]", _loss_symbol(j), Add(s[j], Mul(-1, y[j], evaluate=False), evaluate=False),
                     section)


def _plain(value):
    return str(int(value)) if value == int(value) else repr(value)


# -- display symbols ------------------------------------------------------------------

def _indices(*indices):
    text = "".join(str(i) for i in indices)
    return subscript(text), text


def _jacobian_symbol(i, j):
    (ti, li), (tj, lj) = _indices(i), _indices(j)
    return Sym(f"∂s{ti}/∂x{tj}", rf"\frac{{\partial s_{{{li}}}}}{{\partial x_{{{lj}}}}}")


def _log_softmax_symbol(i, j):
    (ti, li), (tj, lj) = _indices(i), _indices(j)
    return Sym(f"∂log s{ti}/∂x{tj}", rf"\frac{{\partial \log s_{{{li}}}}}{{\partial x_{{{lj}}}}}")


def _loss_symbol(j):
    tj, lj = _indices(j)
    return Sym(f"∂L/∂x{tj}", rf"\frac{{\partial L}}{{\partial x_{{{lj}}}}}")


def _unequal(symbol):
    return Sym(f"{symbol.text} (i ≠ j)", rf"{symbol.latex}\ (i \neq j)")


# -- the solution ---------------------------------------------------------------------

CONCRETE = {"jacobian": concrete_jacobian, "log_softmax": concrete_log_softmax,
            "cross_entropy": concrete_cross_entropy}
GENERAL = {"jacobian": general_jacobian, "log_softmax": general_log_softmax,
           "cross_entropy": general_cross_entropy}


def solve(problem, rounding):
    """The Solution of a softmax problem: per result asked for, n concrete, then any n; then the numbers."""
    spec = problem.spec
    out = SolutionBuilder(rounding)
    for key, symbol, formula, value, section, note in derivation(spec.n, spec.results):
        out.symbolic(key, symbol, formula, value, section, note)
    if spec.at is not None:
        numeric(out, spec)
    return out.build(problem.name, problem.kind, problem.title, notes=notes(spec))


@lru_cache(maxsize=16)
def derivation(n, results):
    """The symbolic steps for n and the results asked for, as (key, symbol, formula, value, section, note).

    They do not depend on the vector or the rounding, and the grader solves
    a problem twice (exact, and in its rounding mode): derived once per process.
    """
    steps = _Recorder()
    with time_limit(SYMPY_SECONDS, f"the softmax derivation for n = {n}"):
        soft, general = ConcreteSoftmax(n), GeneralSoftmax()
        for result in results:
            CONCRETE[result](steps, soft)
            GENERAL[result](steps, general)
    return tuple(steps)


class _Recorder(list):
    """Collects symbolic steps as SolutionBuilder.symbolic would add them."""

    def symbolic(self, key, symbol, formula, value, section, note=""):
        self.append((key, symbol, formula, value, section, note))


def notes(spec):
    """The definitions and conventions the solution uses."""
    n = spec.n
    total = " + ".join(f"exp(x{subscript(str(k))})" for k in range(1, n + 1))
    latex_total = " + ".join(f"e^{{x_{{{k}}}}}" for k in range(1, n + 1))
    if n > 1:
        total, latex_total = f"({total})", rf"\left({latex_total}\right)"
    names = ", ".join(f"x{subscript(str(k))}" for k in range(1, n + 1)) if n <= 3 else f"x₁..x{subscript(str(n))}"
    latex_names = ", ".join(f"x_{k}" for k in range(1, n + 1)) if n <= 3 else rf"x_1, \dots, x_{n}"
    out = [
        Sym("softmax: sᵢ = exp(xᵢ)/S with S = Σₖ exp(xₖ), the sum over k = 1..n",
            r"\text{softmax: } s_i = \frac{e^{x_i}}{S},\ S = \sum_{k=1}^{n} e^{x_k}"),
        Sym("δᵢⱼ is the Kronecker delta: 1 when i = j, else 0",
            r"\delta_{ij} \text{ is the Kronecker delta: 1 when } i = j \text{, else 0}"),
        Sym(f"n = {n}: SymPy differentiates sᵢ = exp(xᵢ)/{total} in the symbols {names}; "
            "each derivative is checked against the general form (their difference cancels to 0)",
            rf"n = {n}\text{{: SymPy differentiates }} s_i = e^{{x_i}} / {latex_total} \text{{ in the symbols }} "
            rf"{latex_names}\text{{; each derivative is checked against the general form "
            r"(their difference cancels to 0)}"),
    ]
    if "cross_entropy" in spec.results:
        out.append(Sym("cross-entropy: L = -Σₖ yₖ log sₖ for targets yₖ >= 0 with Σₖ yₖ = 1 "
                       "(one-hot for a class label); the x are the logits",
                       r"\text{cross-entropy: } L = -\sum_k y_k \log s_k \text{ for targets } y_k \ge 0, "
                       r"\sum_k y_k = 1 \text{ (one-hot for a class label); the } x \text{ are the logits}"))
    return out
