"""What the recurrent kinds (rnn_bptt, lstm_step) share: reading sequences and
weight matrices, step keys, display symbols and formula shapes.

Sizes come from the file itself: the hidden size from the square matrix W
(W_f for an LSTM), the input size from the first input x¹, the output size
from V. A vector index is left out of a key and a symbol when its size is 1
(`h[2]`, not `h[2][1]`), and a matrix's two indices when it is 1x1 (`W`, not
`W[1][1]`), so a scalar problem reads as the lecture's scalar example.
"""

import sympy
from sympy import Add, Mul

from ..steps import Sym

MAX_TIME = 8  # time steps a solution is printed for; each adds a forward and a backward block
MAX_UNITS = 4  # inputs, hidden units or outputs


def key(name, *indices):
    """`name[i][j]`, indices that are None left out."""
    return name + "".join(f"[{i}]" for i in indices if i is not None)


def symbol_of(pair):
    """The Symbol of a (key, Sym) pair, to use in a formula."""
    return sympy.Symbol(pair[0])


def time_sym(text, latex, t, *indices):
    """`h⁽²⁾₁` / `h^{(2)}_{1}`: a quantity at time t (None: no time), indices that are None left out."""
    return Sym.indexed(text, latex, None if t is None else f"({t})", tuple(i for i in indices if i is not None))


def grad_sym(shown):
    """∂L/∂x for the display Sym of x."""
    return Sym(f"∂L/∂{shown.text}", rf"\frac{{\partial L}}{{\partial {shown.latex}}}")


def partial_sym(top, bottom):
    """∂top/∂bottom for two display Syms."""
    return Sym(f"∂{top.text}/∂{bottom.text}", rf"\frac{{\partial {top.latex}}}{{\partial {bottom.latex}}}")


def total(terms):
    """The terms added in the order given (0 for none)."""
    if not terms:
        return sympy.Integer(0)
    return terms[0] if len(terms) == 1 else Add(*terms, evaluate=False)


def times(*factors):
    """The factors multiplied in the order given; a factor None (a slope of 1) is left out."""
    kept = []
    for factor in factors:
        if factor is not None:
            kept.extend(factor.args if factor.is_Mul else (factor,))
    return kept[0] if len(kept) == 1 else Mul(*kept, evaluate=False)


def minus(a, b):
    """a - b, written in that order."""
    return Add(a, Mul(-1, b, evaluate=False), evaluate=False)


def one_minus(a):
    """1 - a."""
    return Add(1, Mul(-1, a, evaluate=False), evaluate=False)


# -- reading ------------------------------------------------------------------------

def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def read_sequence(field, width=None, max_time=MAX_TIME):
    """x¹..x^T (or targets): a list of numbers (size 1) or of equal-length lists of numbers."""
    items = field.items()
    if not 1 <= len(items) <= max_time:
        raise field.error(f"expected 1 to {max_time} time steps, got {len(items)}")
    vectors = []
    for item in items:
        vector = item.vector(width)
        if width is None:
            width = len(vector)
            if not 1 <= width <= MAX_UNITS:
                raise item.error(f"expected 1 to {MAX_UNITS} numbers per time step, got {width}")
        vectors.append(vector)
    return tuple(vectors)


def square_size(field, largest=MAX_UNITS):
    """The size n of a square matrix field (one number: n = 1), at most `largest`."""
    value = field.value
    if _is_number(value):
        return 1
    if not isinstance(value, list) or not value or not all(isinstance(row, list) for row in value):
        raise field.error("expected a square matrix (a list of rows) or one number")
    if len(value) > largest:
        raise field.error(f"expected at most {largest} hidden units, got {len(value)}")
    return len(value)


def read_matrix(field, rows, cols, meaning=""):
    """A rows x cols matrix; one number when it is 1x1, a flat list when it is one row or one column."""
    value = field.value
    if rows == cols == 1 and _is_number(value):
        return ((field.number(),),)
    if (rows == 1 or cols == 1) and isinstance(value, list) and value and not any(isinstance(v, list) for v in value):
        if len(value) != rows * cols:
            raise field.error(f"expected a {rows}x{cols} matrix{meaning}, got {len(value)} numbers")
        numbers = field.vector()
        return (numbers,) if rows == 1 else tuple((n,) for n in numbers)
    return field.matrix(rows, cols, meaning)


def read_vector(field, length, default=0.0):
    """A vector of `length` numbers (one number when the length is 1); all `default` when absent."""
    return field.vector(length) if field.value is not None else (default,) * length


def read_activation(name):
    """The named activation (a choice already read), as derive.symbolic.activations builds it."""
    from ..symbolic.activations import activation

    return activation(name)


# -- the JSON Schema of what the readers above accept --------------------------------------------

NUMBER = {"type": "number"}


def numbers_schema(most):
    """A list of 1 to `most` numbers."""
    return {"type": "array", "items": NUMBER, "minItems": 1, "maxItems": most}


def sequence_schema(max_time=MAX_TIME):
    """What read_sequence reads: 1 to `max_time` time steps, each a number or a list of 1 to MAX_UNITS."""
    return {"type": "array", "minItems": 1, "maxItems": max_time,
            "items": {"anyOf": [NUMBER, numbers_schema(MAX_UNITS)]}}


def matrix_schema(max_rows, max_cols, flat):
    """What read_matrix reads: one number, a list of rows, or one row or one column as a flat list of at
    most `flat` numbers (0: never flat)."""
    rows = {"type": "array", "minItems": 1, "maxItems": max_rows, "items": numbers_schema(max_cols)}
    return {"anyOf": [NUMBER, numbers_schema(flat), rows] if flat else [NUMBER, rows]}


def vector_schema(most):
    """What read_vector reads: one number, a list of 1 to `most`, or nothing (null: all zeros)."""
    return {"anyOf": [NUMBER, numbers_schema(most), {"type": "null"}]}
