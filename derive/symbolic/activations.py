"""Activation functions: their formula, and their derivative as the lecture writes it.

The named activations give the derivative in the form students use, in
terms of the activation's own output where that is the custom
(`σ'(z) = h (1 - h)`, `tanh'(z) = 1 - h²`); any other one-variable
expression (`max(1, x)`) is parsed safely and differentiated by SymPy.
At a kink, where both one-sided derivatives agree that value is used (elu
written with max and min has slope 1 at 0); where they differ, the
subgradient convention: the unit step H(t) is 0 at t = 0, max(a, b) takes
a's slope (a as written), a two-piece activation its left piece's slope.

A written activation is bounded in size before SymPy differentiates it, and
its derivative after: the solver substitutes the derivative once per neuron,
sample and iteration, so its size multiplies the time of the whole solution.
"""

import difflib
from dataclasses import dataclass

import sympy

from ..errors import ExpressionError
from ..expr import FUNCTIONS, parse_expression
from ..fields import check_constants
from .differentiate import Differentiator, at_kinks

X = sympy.Symbol("x", real=True)

NAMED = ("sigmoid", "tanh", "relu", "linear", "softplus", "softmax", "elu", "leaky_relu", "selu", "gelu",
         "gelu_tanh", "mish")
MAX_NODES = 40  # of f(x); the tanh approximation of GELU has 20
MAX_DERIVATIVE_NODES = 100  # of f'(x); that GELU's has 56
MAX_DERIVATIVE_LINES = 60  # rule applications finding f'(x) of a max or min


@dataclass(frozen=True)
class Activation:
    """An activation f applied to a layer's z.

    name: the name as written (`sigmoid`, or the expression text).
    expression: f(x) as a SymPy expression in X (None for softmax).
    derivative: f'(x) in X, or for named activations the lecture's form
        (built by `derivative_at`).
    """

    name: str
    expression: object
    derivative: object

    @property
    def is_softmax(self):
        return self.name == "softmax"

    def apply(self, z):
        """h = f(z) as a formula in the Symbol z."""
        if self.name == "sigmoid":
            return 1 / (1 + sympy.exp(-z))
        return self.expression.subs(X, z)

    def derivative_at(self, z, h):
        """f'(z) as a formula in z and h = f(z), or None when it is 1 (linear)."""
        if self.name == "sigmoid":
            return sympy.Mul(h, sympy.Add(1, -h, evaluate=False), evaluate=False)
        if self.name == "tanh":
            return sympy.Add(1, -h**2, evaluate=False)
        if self.name == "softplus":
            return 1 / (1 + sympy.exp(-z))  # softplus' = sigmoid, which stays finite for large z
        if self.derivative == 1:
            return None
        return self.derivative.subs(X, z)


def _step_at_kinks(expression):
    """Heaviside(t) with the value 0 at t = 0 (the subgradient used at kinks)."""
    # SymPy writes Heaviside(t) as Heaviside(t, 1/2): whatever value it carries at 0 becomes 0.
    return expression.replace(
        lambda e: isinstance(e, sympy.Heaviside),
        lambda e: sympy.Heaviside(e.args[0], 0),
    )


def _from_expression(name, expression):
    derivative = None
    if expression.has(sympy.Max, sympy.Min):  # max(a, b) takes a's slope, a as written, where a = b
        try:
            derivative = Differentiator(max_lines=MAX_DERIVATIVE_LINES).derive(expression, X)
        except ExpressionError:  # too long or too large: SymPy's derivative, and its size, are judged below
            pass
    if derivative is None:
        derivative = _step_at_kinks(sympy.diff(expression, X))
    # where both one-sided derivatives agree (elu written max(0, x) + min(0, exp(x) - 1), at 0), that value
    derivative = at_kinks(derivative, X)[0]
    if derivative.has(sympy.Derivative, sympy.Subs, sympy.DiracDelta):
        raise ExpressionError(f"the derivative of {_short(name)!r} has no closed form derive can evaluate")
    return Activation(name, expression, derivative)


def _nodes(expression):
    return sum(1 for _ in sympy.preorder_traversal(expression))


def _short(text):
    return text if len(text) <= 40 else text[:37] + "..."


_NAMED_EXPRESSIONS = {
    "sigmoid": 1 / (1 + sympy.exp(-X)),
    "tanh": sympy.tanh(X),
    "relu": sympy.Max(0, X),
    "linear": X,
    "softplus": sympy.log(1 + sympy.exp(X)),
    # with their standard parameters (derive.expr): ELU alpha = 1, leaky ReLU slope 0.01, SELU's lambda and alpha
    **{name: FUNCTIONS[name][2](X) for name in ("elu", "leaky_relu", "selu", "gelu", "gelu_tanh", "mish")},
}


def activation(text):
    """The Activation named or written as `text` (an expression in x).

    Raises ExpressionError for an unknown name, an expression that is not
    a function of x, or one too large to differentiate and substitute.
    """
    if not isinstance(text, str):
        raise ExpressionError(f"expected an activation name or an expression in x, got {type(text).__name__}")
    name = text.strip()
    if name == "softmax":
        return Activation("softmax", None, None)
    if name in _NAMED_EXPRESSIONS:
        return _from_expression(name, _NAMED_EXPRESSIONS[name])
    try:
        expression = parse_expression(name, {"x": X})
    except ExpressionError:
        if name.isidentifier() and name.isascii():
            close = difflib.get_close_matches(name, NAMED, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ExpressionError(
                f"expected {', '.join(NAMED)} or an expression in x, got {_short(name)!r}{hint}"
            ) from None
        raise
    if X not in expression.free_symbols:
        raise ExpressionError(f"expected a function of x, got the constant {_short(name)!r}")
    check_constants(expression)
    size = _nodes(expression)
    if size > MAX_NODES:
        raise ExpressionError(f"activation too large ({size} nodes; at most {MAX_NODES})")
    result = _from_expression(name, expression)
    size = _nodes(result.derivative)
    if size > MAX_DERIVATIVE_NODES:
        raise ExpressionError(f"derivative too large ({size} nodes; at most {MAX_DERIVATIVE_NODES})")
    return result
