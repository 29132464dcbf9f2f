"""Matrix-valued steps: the small vocabulary of their formulas, evaluated with numpy.

A Step of a wide network holds a whole layer quantity (Z⁽ˡ⁾, a weight
matrix, its gradient) as one 2-D numpy array. Its formula is an `Op` tree
over `Ref`s to other steps, in the lecture's matrix notation
(`Z⁽ˡ⁾ = W⁽ˡ⁾ A⁽ˡ⁻¹⁾ + b⁽ˡ⁾ 1ᵀ`, `E⁽ˡ⁾ = f′(Z⁽ˡ⁾) ⊙ (W⁽ˡ⁺¹⁾)ᵀ E⁽ˡ⁺¹⁾`,
`∂L/∂W⁽ˡ⁾ = E⁽ˡ⁾ (A⁽ˡ⁻¹⁾)ᵀ`): evaluation is one numpy operation per node,
never a Python loop over entries, so a 784-100-10 network with a batch of 32
solves as fast as numpy computes it. The same `evaluate` serves the solver,
rounding-and-carry and follow-through grading (derive.steps).

The vocabulary (`Op.name`; `args` are Refs, Ops, SymPy scalars over step
keys, or plain numbers):

    matmul(A, B)          A B
    add(A, B, ...)        A + B + ...
    sub(A, B)             A - B
    times(s, A)           s A, s a scalar (a SymPy expression: η, 1/m, 1 - ηλ)
    broadcast(b)          b 1ᵀ: a column repeated over the m samples (data = m)
    transpose(A)          Aᵀ
    hadamard(A, B)        A ⊙ B (a zero factor gives 0, so that 0 log 0 = 0)
    divide(A, B)          A ⊘ B, entry by entry
    apply(Z)              f(Z) entry by entry, or softmax by columns (data = ActivationUse)
    slope(Z, A)           f′(Z) entry by entry, in the lecture's form (h(1 - h)) (data = ActivationUse)
    log(A)                log A entry by entry
    sign(A)               sign A entry by entry (sign 0 = 0)
    rowsum(A)             A 1: each row summed (∂L/∂b = E 1)
    colsum(A)             1ᵀ A: each column summed
    total(A)              Σ A: every entry summed, a number
    square_norm(A)        ‖A‖² by columns: 1ᵀ (A ⊙ A)
    softmax_back(Y, G)    Y ⊙ (G - 1 1ᵀ (G ⊙ Y)): a softmax's Jacobian (transposed) times G, by columns
"""

import math
from dataclasses import dataclass

import numpy as np
import sympy

from .errors import DeriveError

SUMMARISE_ABOVE = 100  # entries; a larger matrix prints its corners (numpy's threshold, set lower)
EDGE = 3  # rows and columns shown at each end of a summarised matrix (numpy's edgeitems)


@dataclass(frozen=True)
class Ref:
    """The value of the step `key` inside a matrix formula."""

    key: str


@dataclass(frozen=True)
class ActivationUse:
    """A layer's activation as a formula shows it: the Activation and its displayed name (f₁, σ)."""

    activation: object
    text: str
    latex: str


@dataclass(frozen=True)
class Op:
    """One operation of the vocabulary above: `name`, its operands `args`, and `data` some need."""

    name: str
    args: tuple
    data: object = None


def is_matrix_formula(formula):
    return isinstance(formula, (Op, Ref))


def matrix_dependencies(formula):
    """The step keys a matrix formula reads, in order of first appearance."""
    from .steps import dependencies

    seen = {}
    stack = [formula]
    while stack:
        node = stack.pop()
        if isinstance(node, Ref):
            seen.setdefault(node.key, None)
        elif isinstance(node, Op):
            stack.extend(reversed(node.args))
        elif isinstance(node, sympy.Basic):
            for key in dependencies(node):
                seen.setdefault(key, None)
    return tuple(seen)


# -- evaluation -------------------------------------------------------------------

def evaluate(formula, env, key="?"):
    """The value of a matrix formula on `env` (key -> array or number): an array, or a float for `total`."""
    with np.errstate(all="ignore"):
        value = _evaluate(formula, env)
    if isinstance(value, np.ndarray):
        if np.isnan(value).any():
            raise _domain_error(key)
        return value
    value = float(value)
    if math.isnan(value):
        raise _domain_error(key)
    return value


def _domain_error(key):
    from .steps import EvaluationError

    return EvaluationError(f"cannot evaluate {key}: outside the domain of a function (log or sqrt of a negative "
                           "number?)", ValueError)


def _evaluate(node, env):
    if isinstance(node, Ref):
        return env[node.key]
    if isinstance(node, (int, float)):
        return float(node)
    if isinstance(node, sympy.Basic):
        from .steps import evaluate_formula

        return evaluate_formula(node, env)
    args = [_evaluate(a, env) for a in node.args]
    return _OPERATIONS[node.name](node, *args)


def _hadamard(a, b):
    product = np.multiply(a, b)
    if np.isfinite(product).all():
        return product
    return np.where((np.asarray(a) == 0) | (np.asarray(b) == 0), 0.0, product)  # 0 · inf = 0: 0 log 0 = 0


def _softmax_columns(z):
    shifted = np.exp(z - z.max(axis=0, keepdims=True))
    return shifted / shifted.sum(axis=0, keepdims=True)


def _softmax_back(y, g):
    return y * (g - (g * y).sum(axis=0, keepdims=True))


def _apply(node, z):
    use = node.data
    if use.activation.is_softmax:
        return _softmax_columns(z)
    return elementwise(use.activation.apply(_Z), (_Z,))(z)


def _slope(node, z, h):
    formula = node.data.activation.derivative_at(_Z, _H)
    if formula is None:
        return np.ones_like(z)
    return elementwise(formula, (_Z, _H))(z, h)


_Z, _H = sympy.Symbol("z"), sympy.Symbol("h")

_OPERATIONS = {
    "matmul": lambda node, a, b: a @ b,
    "add": lambda node, *parts: sum(parts[1:], parts[0]),
    "sub": lambda node, a, b: a - b,
    "times": lambda node, s, a: s * a,
    "broadcast": lambda node, b: np.broadcast_to(b, (b.shape[0], node.data)),
    "transpose": lambda node, a: a.T,
    "hadamard": lambda node, a, b: _hadamard(a, b),
    "divide": lambda node, a, b: a / b,
    "apply": _apply,
    "slope": _slope,
    "log": lambda node, a: np.where(a == 0, -np.inf, np.log(np.where(a == 0, 1.0, a))),
    "sign": lambda node, a: np.sign(a),
    "rowsum": lambda node, a: a.sum(axis=1, keepdims=True),
    "colsum": lambda node, a: a.sum(axis=0, keepdims=True),
    "total": lambda node, a: float(np.sum(a)),
    "square_norm": lambda node, a: (a * a).sum(axis=0, keepdims=True),
    "softmax_back": lambda node, y, g: _softmax_back(y, g),
}
OPS = tuple(_OPERATIONS)


# -- an activation's formula, entry by entry ---------------------------------------

_COMPILED = {}


def elementwise(formula, variables):
    """A numpy function of arrays for a SymPy formula in `variables` (an activation f(z), its f′(z, h)).

    The common nodes become numpy operations on whole arrays; a function with
    no numpy counterpart falls back to the scalar evaluation of derive.steps,
    entry by entry (correct, slower; no named activation needs it).
    """
    cache = (formula, variables)
    function = _COMPILED.get(cache)
    if function is None:
        names = [v.name for v in variables]
        try:
            compiled = _vectorised(formula)
            function = lambda *arrays: np.broadcast_to(compiled(dict(zip(names, arrays))), arrays[0].shape) + 0.0
        except _NoNumpy:
            from .steps import evaluate_formula

            scalar = np.vectorize(lambda *values: evaluate_formula(formula, dict(zip(names, values))), otypes=[float])
            function = lambda *arrays: scalar(*arrays)
        _COMPILED[cache] = function
    return function


class _NoNumpy(Exception):
    pass


def _heaviside(t, at_zero=0.0):
    return np.where(t > 0, 1.0, np.where(t == 0, at_zero, 0.0))


_NUMPY = {
    "exp": np.exp, "log": lambda v: np.where(v == 0, -np.inf, np.log(np.where(v == 0, 1.0, v))),
    "sin": np.sin, "cos": np.cos, "tan": np.tan, "sinh": np.sinh, "cosh": np.cosh, "tanh": np.tanh,
    "atan": np.arctan, "Abs": np.abs, "sign": np.sign, "Heaviside": _heaviside,
    "erf": np.frompyfunc(math.erf, 1, 1),
}


def _vectorised(e):
    if e.is_Symbol:
        name = e.name
        return lambda env: env[name]
    if e.is_Number or e.is_NumberSymbol:
        constant = float(e)
        return lambda env: constant
    if isinstance(e, sympy.log) and e.args[0].is_Add and len(e.args[0].args) == 2 and 1 in e.args[0].args \
            and any(isinstance(a, sympy.exp) for a in e.args[0].args):
        exponent = _vectorised(next(a for a in e.args[0].args if isinstance(a, sympy.exp)).args[0])
        return lambda env: np.logaddexp(0.0, exponent(env))  # softplus without overflow
    if isinstance(e, sympy.Piecewise):
        pieces = [(_vectorised(value), _condition(condition)) for value, condition in e.args]

        def piecewise(env):
            result, decided = None, None
            for value, condition in pieces:
                holds = np.asarray(condition(env), dtype=bool)
                taken = holds if decided is None else holds & ~decided
                piece = np.asarray(value(env), dtype=float)
                result = np.where(taken, piece, np.nan if result is None else result)
                decided = holds if decided is None else decided | holds
            return result
        return piecewise
    parts = [_vectorised(arg) for arg in e.args]
    if e.is_Add:
        return lambda env: sum((part(env) for part in parts[1:]), parts[0](env))
    if e.is_Mul:
        def mul(env):
            product = 1.0
            for part in parts:
                product = _hadamard(product, part(env))
            return product
        return mul
    if e.is_Pow:
        base, exponent = parts
        return lambda env: np.power(np.asarray(base(env), dtype=float), exponent(env))
    name = type(e).__name__
    if name in ("Max", "Min"):
        reduce = np.maximum if name == "Max" else np.minimum
        return lambda env: _reduce(reduce, [part(env) for part in parts])
    function = _NUMPY.get(name)
    if function is None:
        raise _NoNumpy(name)
    if name == "erf":
        return lambda env: function(parts[0](env)).astype(float)
    return lambda env: function(*(part(env) for part in parts))


def _reduce(function, values):
    result = values[0]
    for value in values[1:]:
        result = function(result, value)
    return result


def _condition(condition):
    if condition is sympy.true:
        return lambda env: True
    relations = {"<": np.less, "<=": np.less_equal, ">": np.greater, ">=": np.greater_equal}
    if isinstance(condition, sympy.core.relational.Relational) and condition.rel_op in relations:
        compare, left, right = relations[condition.rel_op], _vectorised(condition.lhs), _vectorised(condition.rhs)
        return lambda env: compare(left(env), right(env))
    if isinstance(condition, (sympy.And, sympy.Or)):
        parts = [_condition(c) for c in condition.args]
        combine = np.logical_and if isinstance(condition, sympy.And) else np.logical_or
        return lambda env: _reduce(combine, [p(env) for p in parts])
    raise _NoNumpy(type(condition).__name__)


# -- rounding ------------------------------------------------------------------------

def round_half_up(values, decimals):
    """Every entry rounded half away from zero to `decimals` places on its decimal digits, as
    derive.steps.Rounding rounds one number (binary noise removed first: 1.44355 rounds to 1.4436);
    entries of 1e15 or more in size, and those not finite, are left as they are."""
    values = np.asarray(values, dtype=float)
    finite = np.isfinite(values) & (np.abs(values) < 1e15)
    clean = np.round(np.where(finite, values, 0.0), 12)
    scaled = np.round(np.abs(clean) * 10.0 ** decimals, max(0, 12 - decimals))
    rounded = np.copysign(np.floor(scaled + 0.5) / 10.0 ** decimals, clean) + 0.0
    rounded = np.where(finite, rounded, values) + 0.0
    large = finite & (np.abs(values) >= 1000)  # too few binary digits left for the noise removal above
    if large.any():
        from .steps import _half_up

        rounded[large] = [_half_up(float(v), decimals) for v in values[large]]
    return rounded


# -- entry keys ----------------------------------------------------------------------

@dataclass(frozen=True)
class Entries:
    """How a matrix step's entries are named on an answer sheet: `template` with `{row}` and `{col}`
    (1-based), e.g. `z[{col}][2][{row}]` (neuron j of layer 2, sample k) or `w[2][{col}][{row}]`
    (from neuron i = col to j = row), the keys of the per-neuron notation."""

    template: str

    def key(self, row, col):
        return self.template.format(row=row + 1, col=col + 1)

    def pattern(self):
        """(stem, the indices' pattern): each index a number, or "row" / "col"."""
        stem, _, rest = self.template.partition("[")
        indices = tuple(part for part in ("[" + rest).replace("][", "]\0[").split("\0") if part) if rest else ()
        return stem, tuple(index[1:-1].strip("{}") for index in indices)


class EntryIndex:
    """Entry key -> (step key, row, column) for the matrix steps of a Solution, found by parsing the key
    (no list of every entry is built: a 784-100-10 network has a few hundred thousand)."""

    def __init__(self, solution):
        self.solution = solution
        self.by_stem = {}
        for step in solution:
            if step.entries is not None:
                stem, pattern = step.entries.pattern()
                self.by_stem.setdefault((stem, len(pattern)), []).append((pattern, step.key))

    def find(self, key):
        """(step key, row, col) of an entry key, or None."""
        stem, _, rest = key.partition("[")
        if not rest or not rest.endswith("]"):
            return None
        indices = rest[:-1].split("][")
        if not all(index.isdigit() and index[0] != "0" for index in indices):
            return None
        for pattern, step_key in self.by_stem.get((stem, len(indices)), ()):
            row = col = 0
            for index, part in zip(indices, pattern):
                if part == "row":
                    row = int(index) - 1
                elif part == "col":
                    col = int(index) - 1
                elif part != index:
                    break
            else:
                shape = self.solution[step_key].value.shape
                if row < shape[0] and col < shape[1]:
                    return step_key, row, col
        return None

    def keys(self, step_key):
        """The entry keys of one matrix step: sample by sample for a per-sample quantity (as the per-neuron
        notation orders them), else row by row."""
        step = self.solution[step_key]
        rows, cols = step.value.shape
        stem = step.entries.template.partition("[")[0]
        if step.entries.template.startswith(stem + "[{col}]"):
            return [step.entries.key(r, c) for c in range(cols) for r in range(rows)]
        return [step.entries.key(r, c) for r in range(rows) for c in range(cols)]


# -- display ------------------------------------------------------------------------

def shape_text(value):
    return f"{value.shape[0]}×{value.shape[1]}"


def shown_rows(value, number, full=False):
    """The matrix as rows of printed entries, its middle elided as numpy elides it (`…` for the left-out
    columns, None for the left-out rows) unless `full`."""
    rows, cols = value.shape
    summarise = not full and value.size > SUMMARISE_ABOVE
    row_at = list(range(rows)) if not summarise or rows <= 2 * EDGE else \
        list(range(EDGE)) + [None] + list(range(rows - EDGE, rows))
    col_at = list(range(cols)) if not summarise or cols <= 2 * EDGE else \
        list(range(EDGE)) + [None] + list(range(cols - EDGE, cols))
    return [None if r is None else ["…" if c is None else number(float(value[r, c])) for c in col_at]
            for r in row_at]


def check_shape(value, shape, key):
    if value.shape != shape:
        raise DeriveError(f"internal: {key} has the shape {value.shape}, expected {shape}")
