"""The one core structure: a Solution of named Steps.

Every problem kind builds a Solution; every renderer prints one; the grader
re-evaluates one on a student's numbers. A Step's value is always the
evaluation of its formula on the values of its dependencies, so printing
("formula = numbers = value"), the lecture's rounding ("carry the 4-decimal
value forward") and follow-through grading are one mechanism:
`evaluate_formula` walked along one topological order.
"""

import functools
import math
from dataclasses import dataclass, field, replace
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal

import sympy

from .errors import DeriveError

_SUPERSCRIPT = str.maketrans("0123456789+-=(),", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾˒")
_SUBSCRIPT = str.maketrans("0123456789+-=(),", "₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎,")


@dataclass(frozen=True)
class Sym:
    """How a quantity is displayed: `text` for terminals (Unicode), `latex` for math."""

    text: str
    latex: str

    @classmethod
    def indexed(cls, text, latex, sup=None, sub=()):
        """A base symbol with an optional superscript and subscript indices.

        Indices are run together (`w¹₁₂`) unless one has two digits, then
        separated by commas (`w¹₁,₁₂`).
        """
        sub = tuple(str(i) for i in sub)
        joined = ("," if any(len(i) > 1 for i in sub) else "").join(sub)
        t, l = text, latex
        if sup is not None:
            t += str(sup).translate(_SUPERSCRIPT)
            l += "^{%s}" % sup
        if joined:
            t += joined.translate(_SUBSCRIPT)
            l += "_{%s}" % joined
        return cls(t, l)


    def called(self, argument):
        """The symbol applied to an argument: f′₂ -> f′₂(x)."""
        return Sym(f"{self.text}({argument})", rf"{self.latex}\left({argument}\right)")


@dataclass(frozen=True)
class Origin:
    """Where in the problem file a given value is written: its line and its field (`layers[0].weights[1][0]`)."""

    line: int
    field: str


@dataclass(frozen=True)
class LectureNote:
    """Where the lecture's own text differs from the solution: what it `printed` there, and `why` it differs.

    Read from a problem file's `lecture` field; printed by every renderer
    beside the step it concerns (or, for a note on no single step, with the
    solution's notes).
    """

    printed: str
    why: str


@dataclass(frozen=True)
class Step:
    """One named quantity of a solution.

    key: the stable name a student writes on an answer sheet (`delta[2][1]`).
    symbol: how it is displayed (a Sym: `δ²₁`, `\\delta^{2}_{1}`).
    formula: SymPy expression over Symbols named by the keys in `deps`;
        None for a given (a number stated by the problem).
    value: its value (a float for numeric kinds).
    deps: the keys the formula is computed from, in order of appearance.
    section: the heading it is printed under.
    note: optional words printed after it (why a rule was used, a verdict).
    group: givens with the same group are printed on one line (a matrix row).
    origin: for a given read from the problem file, the Origin of its number,
        so that a step that cannot be computed from it can name its line.
    lecture: the LectureNotes of this step (a tuple, usually empty): where
        the lecture printed something else at this step, and why.
    entries: for a matrix step (value a 2-D numpy array, formula a
        derive.matrix Op), how a sheet names its entries (derive.matrix.Entries);
        None for a number.
    """

    key: str
    symbol: Sym
    formula: object
    value: object
    deps: tuple = ()
    section: str = ""
    note: str = ""
    group: str = ""
    origin: Origin = field(default=None, compare=False)
    lecture: tuple = field(default=(), compare=False)
    entries: object = field(default=None, compare=False)

    @property
    def is_given(self):
        return self.formula is None

    @property
    def is_symbolic(self):
        """A step whose value is an expression (a derivative), not a number."""
        return isinstance(self.value, sympy.Basic)

    @property
    def is_matrix(self):
        """A step whose value is a whole vector or matrix (a numpy array), as the matrix notation has them."""
        return self.entries is not None


@dataclass(frozen=True)
class Rounding:
    """How computed values are rounded: exactly (None) or to `decimals` places.

    Rounding is half away from zero on the *decimal* value, as a person
    rounds: binary noise is removed first (1.44355 is stored as
    1.4435499999999999, which `round` would send down), and the rounded
    value is what later steps use.
    """

    decimals: int = None

    def apply(self, value):
        if self.decimals is None:
            return value
        if type(value) is float:  # the common case first: grading rounds floats by the million
            if not math.isfinite(value) or abs(value) >= 1e15:  # that large: no decimals left to round
                return value
            return _half_up(value, self.decimals)
        if hasattr(value, "shape"):  # a matrix step's array (or a numpy scalar): entry by entry
            from .matrix import round_half_up

            return round_half_up(value, self.decimals)
        if not isinstance(value, float) or not math.isfinite(value) or abs(value) >= 1e15:
            return value
        return _half_up(value, self.decimals)

    def describe(self):
        if self.decimals is None:
            return "exact (no intermediate rounding; values shown to 6 significant digits)"
        return (
            f"every intermediate rounded to {self.decimals} decimals "
            "(half away from zero) and carried forward"
        )


EXACT = Rounding()


@functools.lru_cache(maxsize=1 << 16)
def _half_up(value, decimals):
    """`value` rounded half away from zero to `decimals` places, on its decimal digits (remembered:
    grading rounds the same numbers again and again).

    What `_decimal_half_up` computes, found in floats wherever that is certain: the rounded
    magnitude is floor(|c| 10^d + 1/2) for c the value's decimal digits to 12 places, which moves only
    where |c| 10^d is a half. The float product |value| 10^d is within `error` of |c| 10^d (one rounding
    of the product, the value's own, and the 12-decimal cleaning); when it is further than twice that
    from a half, the floor is the same, and n / 10^d (both exact, the quotient correctly rounded) is
    the float of the decimal n 10^-d. Otherwise, Decimal decides.
    """
    if 0 <= decimals <= 12:
        scale = _POWERS_OF_TEN[decimals]
        scaled = abs(value) * scale
        if scaled < 2.0 ** 52:
            whole = math.floor(scaled)
            error = (scaled + abs(value) * scale) * 2.0 ** -52 + 1e-12 * scale
            if abs(scaled - whole - 0.5) > 2 * error + 1e-300:
                rounded = whole + (scaled - whole > 0.5)
                return math.copysign(rounded / scale, value) + 0.0
    return _decimal_half_up(value, decimals)


_POWERS_OF_TEN = [10.0 ** n for n in range(13)]  # exact in binary


def _decimal_half_up(value, decimals):
    """`value` rounded half away from zero to `decimals` places on its decimal digits, in Decimal: its repr,
    binary noise removed at 12 decimals, then rounded half up."""
    clean = Decimal(repr(value)).quantize(Decimal("1e-12"), rounding=ROUND_HALF_EVEN)
    rounded = clean.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    return float(rounded) + 0.0  # + 0.0 turns -0.0 into 0.0


@dataclass(frozen=True)
class Section:
    """A heading and the steps printed under it."""

    title: str
    steps: tuple


class Solution:
    """Ordered, sectioned Steps of one solved problem.

    The steps are kept in one topological order (every step after its
    dependencies), checked when the solution is built; evaluation and
    rendering walk it. `solution["yhat[1]"]` is a Step; in a notebook a
    Solution shows as its Markdown rendering, with the math typeset.

    notes: Syms printed before the sections (conventions, activations);
    lecture: LectureNotes on no single step (a step's own are on the Step),
    printed after the notes.
    """

    def __init__(self, name, kind, title, steps, rounding=EXACT, notes=(), lecture=()):
        self.name = name
        self.kind = kind
        self.title = title
        self.rounding = rounding
        self.notes = tuple(notes)
        self.lecture = tuple(lecture)
        self.steps = {}
        for step in steps:
            missing = [d for d in step.deps if d not in self.steps]
            if missing or step.key in self.steps:
                problem = f"depends on {missing} before they exist" if missing else "is defined twice"
                raise DeriveError(f"internal: step {step.key} {problem}")
            self.steps[step.key] = step

    def __getitem__(self, key):
        return self.steps[key]

    def __contains__(self, key):
        return key in self.steps

    def __iter__(self):
        return iter(self.steps.values())

    def __len__(self):
        return len(self.steps)

    def __repr__(self):
        return f"<Solution {self.name} ({self.kind}): {len(self.steps)} steps in {len(self.sections)} sections>"

    def _repr_markdown_(self):
        """A notebook shows the worked solution, as `render(solution, "markdown")` prints it."""
        from .render import render

        return render(self, "markdown")

    def with_lecture(self, by_key, general=()):
        """This solution with LectureNotes added: `by_key` maps step keys to tuples of them, `general` holds
        those on no single step (a new Solution; the steps' values are unchanged)."""
        steps = [replace(step, lecture=step.lecture + tuple(by_key[step.key])) if step.key in by_key else step
                 for step in self]
        return Solution(self.name, self.kind, self.title, steps, self.rounding, self.notes,
                        self.lecture + tuple(general))

    @property
    def sections(self):
        """The steps grouped under their headings, in order of first appearance."""
        grouped = {}
        for step in self:
            grouped.setdefault(step.section, []).append(step)
        return [Section(title, tuple(steps)) for title, steps in grouped.items()]

    def values(self):
        return {step.key: step.value for step in self}

    def symbols(self):
        return {step.key: step.symbol for step in self}

    def evaluate(self, overrides=None, rounding=None):
        """Every step's value, re-computed with some values replaced.

        `overrides` maps keys to values that stand in for the computed (or
        given) ones; all other steps are evaluated from their formulas in
        topological order. This is follow-through: a step evaluated on a
        student's own earlier numbers.
        """
        overrides = overrides or {}
        rounding = self.rounding if rounding is None else rounding
        env = {}
        for step in self:
            if step.key in overrides:
                env[step.key] = overrides[step.key]
            elif step.is_given or step.is_symbolic:
                env[step.key] = step.value
            else:
                env[step.key] = rounding.apply(evaluate_formula(step.formula, env, step.key))
        return env


class SolutionBuilder:
    """Collects Steps in order, evaluating each as it is added."""

    def __init__(self, rounding=EXACT):
        self.rounding = rounding
        self.steps = []
        self.env = {}
        self.by_key = {}

    def given(self, key, symbol, value, section="Given", group="", origin=None):
        """Add a given; a number read from the problem file (see derive.problem) brings its Origin along."""
        if origin is None:
            origin = getattr(value, "origin", None)
        if isinstance(value, float):
            value = float(value)  # a plain float from here on: the Step keeps the origin
        self._add(Step(key, symbol, None, value, (), section, group=group, origin=origin))
        return sympy.Symbol(key)

    def given_matrix(self, key, symbol, value, entries, section="Given"):
        """Add a given vector or matrix (a 2-D array), whose entries a sheet names as `entries` says."""
        self._add(Step(key, symbol, None, value, (), section, entries=entries))

    def matrix_step(self, key, symbol, formula, entries, section, note=""):
        """Add a computed matrix step (formula: a derive.matrix Op); return the Ref that stands for it."""
        from .matrix import Ref

        self.step(key, symbol, formula, section, note, entries)
        return Ref(key)

    def step(self, key, symbol, formula, section, note="", entries=None):
        """Add a computed step; return the Symbol that stands for it in later formulas."""
        deps = dependencies(formula)
        try:
            value = self.rounding.apply(evaluate_formula(formula, self.env, key))
        except EvaluationError as error:
            error.suspect = self.suspect(deps, error.cause)
            raise
        self._add(Step(key, symbol, formula, value, deps, section, note, entries=entries))
        return sympy.Symbol(key)

    def symbolic(self, key, symbol, formula, value, section, note=""):
        """Add a step whose value is an expression (derived, not evaluated on numbers)."""
        self._add(Step(key, symbol, formula, value, (), section, note))

    def _add(self, step):
        self.steps.append(step)
        self.by_key[step.key] = step
        self.env[step.key] = step.value

    def suspect(self, keys, cause):
        """The Origin of the given most likely to blame when a step over `keys` cannot be computed.

        Among the givens the step depends on, directly or not: for an
        overflow the largest in size, for a division by zero the first 0
        (else the smallest), for a value outside a function's domain the
        first negative one (else the largest). None if no given has an Origin.
        """
        givens, seen, stack = [], set(), list(keys)
        while stack:
            step = self.by_key.get(stack.pop())
            if step is None or step.key in seen:
                continue
            seen.add(step.key)
            if step.is_given and step.origin is not None and isinstance(step.value, (int, float)):
                givens.append(step)
            stack.extend(step.deps)
        if not givens:
            return None
        order = {key: index for index, key in enumerate(self.by_key)}
        givens.sort(key=lambda step: order[step.key])  # first in the solution's order among equals
        size = lambda step: abs(step.value)
        if cause is ZeroDivisionError:
            chosen = next((s for s in givens if s.value == 0), None) or min(givens, key=size)
        elif cause is OverflowError:
            chosen = max(givens, key=size)
        else:
            chosen = next((s for s in givens if s.value < 0), None) or max(givens, key=size)
        return chosen.origin

    def value(self, key):
        return self.env[key]

    def annotate(self, key, note):
        """Give the step `key` its note once its value is known (a loss that went up says so)."""
        step = self.by_key[key]
        at = next(n for n in range(len(self.steps) - 1, -1, -1) if self.steps[n] is step)
        self.steps[at] = self.by_key[key] = replace(step, note=note)

    def build(self, name, kind, title, notes=()):
        return Solution(name, kind, title, self.steps, self.rounding, notes)


def dependencies(formula):
    """Names of the Symbols in `formula`, in order of first appearance (as printed, whatever the hash seed).

    The walk follows `args`, which SymPy keeps in a fixed order; its own
    preorder_traversal walks max and min in the order of a set, which the
    hash seed decides.
    """
    if not isinstance(formula, sympy.Basic) and formula is not None:
        from .matrix import is_matrix_formula, matrix_dependencies

        if is_matrix_formula(formula):
            return matrix_dependencies(formula)
    seen = {}
    stack = [formula]
    while stack:
        node = stack.pop()
        if not isinstance(node, sympy.Basic):
            continue
        if node.is_Symbol:
            seen.setdefault(node.name, None)
        else:
            stack.extend(reversed(node.args))
    return tuple(seen)


# -- numeric evaluation -------------------------------------------------------

class EvaluationError(DeriveError):
    """A formula with no float value on its numbers (an overflow, a division by zero, log of a negative).

    cause: the Python exception class met; suspect: the Origin of the given
    most likely to blame (set by SolutionBuilder.step), which the problem
    names when nothing nearer the cause has located the error.
    """

    def __init__(self, message, cause=None, suspect=None):
        super().__init__(message)
        self.cause = cause
        self.suspect = suspect


def evaluate_formula(formula, env, key="?"):
    """The float value of `formula` with its Symbols taken from `env` (a matrix formula's: its array)."""
    if not isinstance(formula, sympy.Basic):
        from .matrix import evaluate, is_matrix_formula

        if is_matrix_formula(formula):
            return evaluate(formula, env, key)
    try:
        return float(_compiled(formula)(env))
    except (ZeroDivisionError, ValueError, OverflowError) as error:
        raise EvaluationError(f"cannot evaluate {key}: {_reason(error)}", type(error)) from None


def _reason(error):
    if isinstance(error, ZeroDivisionError):
        return "division by zero"
    if isinstance(error, OverflowError):
        return "number too large"
    return "outside the domain of a function (log or sqrt of a negative number?)"


_COMPILED = {}  # formula -> [its function]: a cell, which the formula's switch to bytecode updates
# id(formula) -> (formula, its cell): a formula object met again is found without hashing or comparing
# SymPy trees (an equal formula built anew, as each Grader builds its solution's, costs a deep comparison)
_BY_IDENTITY = {}
MAX_IDENTITIES = 1 << 16  # formula objects remembered by identity at once (each keeps its formula alive)
HOT = 1000  # evaluations of a formula after which it is compiled to bytecode (derive.bytecode)


def _compiled(formula):
    """A Python function env -> float for `formula`, built once per formula: first a function per node,
    cheap to build; once the formula has been evaluated HOT times (a step graded for a whole class),
    its bytecode (derive.bytecode), twenty times dearer to build (about 0.3 ms, what some 450
    evaluations save) and twice as fast to run."""
    found = _BY_IDENTITY.get(id(formula))
    if found is not None and found[0] is formula:
        return found[1][0]
    cell = _COMPILED.get(formula)
    if cell is None:
        cell = []
        cell.append(_warming(formula, cell))  # raises for a formula no function evaluates: nothing kept
        _COMPILED[formula] = cell
    if len(_BY_IDENTITY) >= MAX_IDENTITIES:
        _BY_IDENTITY.clear()
    _BY_IDENTITY[id(formula)] = (formula, cell)
    return cell[0]


def _warming(formula, cell):
    """The node-per-node function of `formula`, counting its calls until the formula is hot; then its
    bytecode takes its place in `cell`."""
    closure = _closure(formula)
    calls = 0

    def evaluate(env):
        nonlocal calls
        calls += 1
        if calls == HOT:
            cell[0] = _compile(formula)
        return closure(env)
    return evaluate


def _exp(v):
    try:
        return math.exp(v)
    except OverflowError:
        return math.inf


def _log(v):
    if v == 0:
        return -math.inf
    return math.log(v)


def _is_one_plus_exp(e):
    return e.is_Add and len(e.args) == 2 and 1 in e.args and any(isinstance(a, sympy.exp) for a in e.args)


def _softplus(u):
    """log(1 + exp(u)) without overflow for large u (softplus)."""
    return u + math.log1p(math.exp(-u)) if u > 0 else math.log1p(math.exp(u))


def _heaviside(v, at_zero=0.0):
    return 1.0 if v > 0 else (at_zero if v == 0 else 0.0)


def _sign(v):
    return (v > 0) - (v < 0)


_FUNCTIONS = {
    "exp": _exp,
    "log": _log,
    "sin": math.sin,
    "cos": math.cos,
    "tan": math.tan,
    "sinh": math.sinh,
    "cosh": math.cosh,
    "tanh": math.tanh,
    "atan": math.atan,
    "erf": math.erf,
    "Abs": abs,
    "sign": _sign,
    "Max": max,
    "Min": min,
    "Heaviside": _heaviside,
    "Floor": math.floor,  # ⌊x⌋ of an output size (derive.kinds.network_size.Floor, which prints its brackets)
}


def _compile(e):
    """`e` as a function env -> float: Python bytecode built from its tree (one call, no call per node),
    or, for a tree too deep for Python's compiler, a function per node (`_closure`). The two compute the
    same operations in the same order, so they agree to the last bit (tests/test_evaluate.py)."""
    from .bytecode import compile_formula

    return compile_formula(e, _FUNCTIONS, _softplus) or _closure(e)


def _closure(e):
    """`e` as nested Python functions, one per node: the evaluation `compile_formula` must agree with."""
    if e.is_Symbol:
        name = e.name
        return lambda env: env[name]
    if e.is_Number or e.is_NumberSymbol:
        constant = float(e)
        return lambda env: constant
    if isinstance(e, sympy.log) and _is_one_plus_exp(e.args[0]):
        exponent = _closure(next(a for a in e.args[0].args if isinstance(a, sympy.exp)).args[0])
        return lambda env: _softplus(exponent(env))
    if isinstance(e, sympy.Piecewise):
        pieces = [(_closure(value), _closure_condition(condition)) for value, condition in e.args]

        def piecewise(env):
            for value, condition in pieces:
                if condition(env):
                    return value(env)
            raise ValueError("no piece applies")
        return piecewise
    parts = [_closure(arg) for arg in e.args]
    if e.is_Add:
        def add(env):
            total = parts[0](env)
            for part in parts[1:]:
                total += part(env)
            return total
        return add
    if e.is_Mul:
        def mul(env):  # a zero factor makes the product 0, so that 0 log 0 = 0 (cross-entropy)
            product = 1.0
            for part in parts:
                value = part(env)
                if value == 0:
                    return 0.0
                product *= value
            return product
        return mul
    if e.is_Pow:
        base, exponent = parts
        if e.exp == -1:
            return lambda env: 1.0 / base(env)
        if e.exp == 2:
            return lambda env: base(env) ** 2
        return lambda env: math.pow(base(env), exponent(env))
    function = _FUNCTIONS.get(type(e).__name__)
    if function is None:
        raise DeriveError(f"cannot evaluate the function {type(e).__name__} numerically")
    return lambda env: function(*(part(env) for part in parts))


def _closure_condition(condition):
    if condition is sympy.true:
        return lambda env: True
    relations = {"<": float.__lt__, "<=": float.__le__, ">": float.__gt__, ">=": float.__ge__}
    if isinstance(condition, sympy.core.relational.Relational) and condition.rel_op in relations:
        compare = relations[condition.rel_op]
        left, right = _closure(condition.lhs), _closure(condition.rhs)
        return lambda env: compare(float(left(env)), float(right(env)))
    if isinstance(condition, (sympy.And, sympy.Or)):
        parts = [_closure_condition(c) for c in condition.args]
        combine = all if isinstance(condition, sympy.And) else any
        return lambda env: combine(p(env) for p in parts)
    raise DeriveError(f"cannot evaluate the condition {condition} numerically")


def format_number(value, rounding=None):
    """A number as a solution prints it.

    Whole numbers print without a decimal point (`2`, not `2.0`). In a
    rounding mode values are already rounded, so they print as they are
    (`0.9781`); exact values print to 6 significant digits (`0.978119`).
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    value = float(value)
    if not math.isfinite(value):
        return "inf" if value > 0 else ("-inf" if value < 0 else "nan")
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    if rounding is not None and rounding.decimals is not None:
        return repr(value)
    return f"{_significant(value, 6):.6g}"


@functools.lru_cache(maxsize=1 << 16)
def _significant(value, digits):
    """`value` rounded half away from zero to `digits` significant digits, on its decimal digits (as
    `_half_up`): the exact -0.02582385 prints -0.0258239, whichever way its float leans."""
    clean = Decimal(repr(value))
    clean = clean.quantize(Decimal(1).scaleb(clean.adjusted() - 11), rounding=ROUND_HALF_EVEN)
    return float(clean.quantize(Decimal(1).scaleb(clean.adjusted() - digits + 1), rounding=ROUND_HALF_UP))
