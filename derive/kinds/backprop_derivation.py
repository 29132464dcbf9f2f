"""`kind: backprop_derivation`: the back-propagation recursion, derived in SymPy and checked.

A small network is written symbolically (its widths come from the file; its
activations are given, or left generic as f_l). Its loss is built by
unrolling the network and differentiated *directly* with respect to every
z, weight and threshold (or bias). Separately, the recursion is derived once
in general by the chain rule on one neuron -- the output delta, the delta of
a layer from the next layer's deltas, the weight and offset gradients, with
the minus sign a threshold brings -- and instantiated for every neuron.
Each instance is printed beside the direct derivative it must equal, and
SymPy reduces every difference to 0; a difference that is not 0 is a bug
and stops the solution.

Notations (the lectures', with the BP lecture's two-layer slide):
- `textbook`: z^l_j = sum_i h^{l-1}_i w^l_ij - theta^l_j, delta^l_j, loss E.
- `lecture`: the slide's x^i, v_ih, gamma_h, alpha_h, w_hj, beta_j, yhat_j,
  delta^L_j, delta^{L-1}_h, loss L (two weight layers only).
- `matrix`: chapter 3.2's z^(l) = W^(l) a^(l-1) + b^(l), error terms e^(l),
  loss L, and the vector forms e^(l) = f_l'(z^(l)) ⊙ (W^(l+1)^T e^(l+1)),
  dL/dW^(l) = e^(l) (a^(l-1))^T, dL/db^(l) = e^(l).

An optional `point` evaluates the recursion at numbers (a forward pass, the
deltas, the gradients): what a solution sheet then instantiates.
"""

import re
from dataclasses import dataclass

import sympy
from sympy import Add, Mul, Rational

from ..errors import DeriveError, ExpressionError
from ..fields import Choice, Declarations, Declared, Structured
from ..steps import SolutionBuilder, Sym
from ..symbolic.activations import X
from ..symbolic.activations import activation as read_activation
from ..symbolic.display import DisplaySymbol
from ..symbolic.limits import time_limit

NOTATIONS = ("textbook", "lecture", "matrix")
LOSSES = ("half_squared_error", "mean_squared_error", "binary_cross_entropy")
GENERIC = "generic"
OWN_FORMS = ("sigmoid", "tanh")  # derivatives the lecture writes in the function itself: f(1 - f), 1 - f^2
# An unrolled loss grows with every neuron and layer; 3-3-3-2 (32 weights and offsets) takes up to
# about 12 s with tanh and cross-entropy, the slowest combination, and a 2-2-2 network well under 1 s.
MAX_WIDTH, MAX_WEIGHT_LAYERS, MAX_PARAMETERS = 3, 3, 32
SECONDS = 30  # all SymPy work of one solution


def _list(items, most):
    return {"type": "array", "items": items, "minItems": 1, "maxItems": most}


NUMBER = {"type": "number"}
WIDE = _list(NUMBER, MAX_WIDTH)  # one number per neuron of a layer
NUMBERS = {"anyOf": [NUMBER, WIDE]}  # a lone number counts as a list of one
ACTIVATION = {"type": "string", "not": {"const": "softmax"}}  # softmax is not applied neuron by neuron
POINT_LAYER = Declarations(
    Declared("weights", Structured(_list(WIDE, MAX_WIDTH)),
             "the layer's weight matrix in the notation's layout: rows = the neurons of layer l - 1 (`textbook`, "
             "`lecture`) or of layer l (`matrix`)"),
    Declared("thresholds", Structured(NUMBERS), "one number per neuron, with `offset: threshold`", default=None,
             shown_default="zeros"),
    Declared("biases", Structured(NUMBERS), "one number per neuron, with `offset: bias`", default=None,
             shown_default="zeros"),
)
POINT = Declarations(
    Declared("x", Structured(NUMBERS), "the input, one number per input neuron"),
    Declared("y", Structured(NUMBERS), "the target, one number per output neuron (in [0, 1] for "
             "`binary_cross_entropy`)"),
    Declared("layers", Structured(_list({**POINT_LAYER.object_schema(), "not": {"required": ["thresholds", "biases"]}},
                                        MAX_WEIGHT_LAYERS)),
             "one mapping per weight layer, in order (below)"),
)

# where an error found while solving is reported when nothing nearer its cause is known (Problem.solve)
ERRORS_AT = ("point", "activations", "sizes")

DECLARED = Declarations(
    Declared("notation", Choice(NOTATIONS),
             "`textbook` (the BP lecture: `z^l_j = Σ_i h^(l-1)_i w^l_ij - θ^l_j`, `δ`, `E`), `lecture` (the BP "
             "lecture's two-layer slide: `x^i`, `v_ih`, `γ_h`, `α_h`, `w_hj`, `β_j`, `ŷ_j`, `δ^L_j`, `δ^(L-1)_h`, "
             "`L`; exactly two weight layers) or `matrix` (chapter 3.2: `z^(l) = W^(l) a^(l-1) + b^(l)`, `e^(l)`, "
             "`L`, plus the vector forms)", default="textbook"),
    Declared("sizes", Structured({"type": "array", "items": {"type": "integer", "minimum": 1, "maximum": MAX_WIDTH},
                                  "minItems": 2, "maxItems": MAX_WEIGHT_LAYERS + 1}),
             f"layer widths, input first: `[2, 2, 2]`; 1 to {MAX_WIDTH} neurons each, 1 to {MAX_WEIGHT_LAYERS} "
             f"weight layers, at most {MAX_PARAMETERS} weights and offsets"),
    Declared("activations", Structured({"anyOf": [ACTIVATION, _list(ACTIVATION, MAX_WEIGHT_LAYERS)]}),
             "one per weight layer (a list), or one for every layer: `sigmoid`, `tanh`, `relu`, `linear`, "
             "`softplus`, an expression in `x`, or `generic` (f_l stays a symbol with derivative f′_l)",
             default=GENERIC),
    Declared("offset", Choice(("threshold", "bias")),
             "`threshold` (`z = Σ - θ`, so `∂E/∂θ = -δ`) or `bias` (`z = Σ + b`, `∂E/∂b = δ`)", default=None,
             shown_default="`bias` in the matrix notation, else `threshold`"),
    Declared("loss", Choice(LOSSES),
             "`half_squared_error`, `mean_squared_error` (over the outputs) or `binary_cross_entropy`",
             default="half_squared_error"),
    Declared("point", Structured(POINT.object_schema()),
             "numbers to evaluate the recursion at: a mapping of `x`, `y` and `layers` (below); every activation "
             "must be given", default=None, shown_default="none"),
)


@dataclass(frozen=True)
class Point:
    """Numbers to evaluate the recursion at: x, y, weights[l-1][i][j] (from i to j), offsets[l-1][j]."""

    x: tuple
    y: tuple
    weights: tuple
    offsets: tuple


@dataclass(frozen=True)
class DerivationSpec:
    """A validated backprop_derivation problem; activations[l-1] is None where f_l is generic."""

    notation: str
    sizes: tuple
    activations: tuple
    offset: str
    loss: str
    point: object = None

    @property
    def depth(self):
        return len(self.sizes) - 1


# -- reading the file -------------------------------------------------------------------

def read(root):
    """Validate the backprop_derivation fields of a problem file into a DerivationSpec."""
    notation = DECLARED.read(root, "notation")
    sizes_field = DECLARED.field(root, "sizes")
    sizes = tuple(item.integer(1, MAX_WIDTH) for item in sizes_field.items())
    if not 2 <= len(sizes) <= MAX_WEIGHT_LAYERS + 1:
        raise sizes_field.error(f"expected 2 to {MAX_WEIGHT_LAYERS + 1} layer sizes (input first), got {len(sizes)}")
    parameters = sum(n_from * n_to + n_to for n_from, n_to in zip(sizes, sizes[1:]))
    if parameters > MAX_PARAMETERS:
        raise sizes_field.error(f"network too large to derive symbolically ({parameters} weights and offsets; "
                                f"at most {MAX_PARAMETERS})")
    if notation == "lecture" and len(sizes) != 3:
        raise sizes_field.error(f"the lecture notation has two weight layers (v, w): expected 3 sizes, got {len(sizes)}")
    activations = _read_activations(DECLARED.field(root, "activations"), len(sizes) - 1)
    offset = DECLARED.read_field(root.get("offset", "bias" if notation == "matrix" else "threshold"), "offset")
    loss = DECLARED.read(root, "loss")
    point = None
    if root.has("point"):
        point = _read_point(root.get("point"), sizes, activations, offset, notation, loss)
    return DerivationSpec(notation, sizes, activations, offset, loss, point)


def _read_activations(field, depth):
    """One activation per weight layer: a list, or one text for every layer; `generic` keeps f_l."""
    items = field.items(depth) if isinstance(field.value, list) else [field] * depth
    activations = []
    for item in items:
        text = item.text("an activation name, an expression in x, or generic")
        if text.strip() == GENERIC:
            activations.append(None)
            continue
        try:
            act = read_activation(text)
        except ExpressionError as error:
            raise item.located(error) from None
        if act.is_softmax:
            raise item.error("softmax is not applied neuron by neuron; use an elementwise activation or generic")
        activations.append(act)
    return tuple(activations)


def _read_point(field, sizes, activations, offset, notation, loss):
    """The `point` mapping: x, y, and per layer its weights (in the notation's layout) and offsets."""
    field.mapping(allowed=POINT.names)
    if None in activations:
        raise field.error(f"a point needs every activation given; layer {activations.index(None) + 1}'s is generic")
    x = field.get("x").vector(sizes[0])
    y_field = field.get("y")
    y = y_field.vector(sizes[-1])
    if loss == "binary_cross_entropy" and not all(0 <= v <= 1 for v in y):
        raise y_field.error("expected targets between 0 and 1 for binary_cross_entropy")
    offset_name, other_name = ("thresholds", "biases") if offset == "threshold" else ("biases", "thresholds")
    weights, offsets = [], []
    for l, layer in enumerate(field.get("layers").items(len(sizes) - 1), start=1):
        if layer.mapping().has(other_name):
            raise layer.get(other_name).error(f"this problem uses {offset_name} (offset: {offset}); write "
                                              f"{offset_name}: or set offset: {'bias' if offset == 'threshold' else 'threshold'}")
        layer.mapping(allowed=POINT_LAYER.names - {other_name})
        n_from, n_to = sizes[l - 1], sizes[l]
        if notation == "matrix":
            stored = layer.get("weights").matrix(n_to, n_from, f" (rows = the {n_to} neurons of layer {l})")
            weights.append(tuple(zip(*stored)))
        else:
            weights.append(layer.get("weights").matrix(n_from, n_to, f" (rows = the {n_from} neurons of layer {l - 1})"))
        offsets.append(layer.get(offset_name, [0] * n_to).vector(n_to))
    return Point(x, y, tuple(weights), tuple(offsets))


# -- SymPy objects that print as the lecture writes them ------------------------------------

_SUPERSCRIPT = str.maketrans("0123456789+-()lLi", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁽⁾ˡᴸⁱ")
_SUBSCRIPT = str.maketrans("0123456789+-ijshl", "₀₁₂₃₄₅₆₇₈₉₊₋ᵢⱼₛₕₗ")


def _sym(text, latex, sup=None, sub=""):
    """A display symbol with a superscript and a subscript of digits and index letters (w¹₁₂, δˡ⁺¹ₛ)."""
    sub = str(sub)
    if sup is not None:
        text, latex = text + str(sup).translate(_SUPERSCRIPT), latex + "^{%s}" % sup
    if sub:
        text, latex = text + sub.translate(_SUBSCRIPT), latex + "_{%s}" % sub
    return Sym(text, latex)


def _ascii(name, sup=None, sub=""):
    """The name an answer writes for name^sup_sub: w¹₁₂ is w1_12, W⁽²⁾₂₁ is W2_21, δˡ⁺¹ₛ is deltalp1_s."""
    def clean(part):
        return re.sub(r"[^A-Za-z0-9]", "", str(part).replace("+", "p").replace("-", "m"))
    sup, sub = clean("" if sup is None else sup), clean(sub)
    return name + sup + ("_" if sup and sub else "") + sub


class DisplayMatrix(sympy.MatrixSymbol):
    """A vector or matrix symbol shown as `display` (W⁽²⁾, e⁽¹⁾), for chapter 3.2's vector forms."""

    def __new__(cls, name, rows, columns, display):
        matrix = sympy.MatrixSymbol.__new__(cls, name, rows, columns)
        matrix.display = display
        return matrix

    def doit(self, **hints):
        return self  # nothing to evaluate, and rebuilding from its args would lose the display


class DisplayFunctionBase(sympy.Function):
    """A function shown as `display` (f₁, f′₂); `rule(u)` is its derivative at u.

    Each layer's function is a subclass made by `_function`. SymPy's
    printers skip the intermediate classes of a Function subclass unless
    their name ends in `Base`: hence the name, which `_print_DisplayFunctionBase`
    dispatches on.
    """

    display = None
    rule = None

    def fdiff(self, argindex=1):
        return type(self).rule(self.args[0])


def _function(name, display, rule=None):
    """A DisplayFunctionBase subclass named `name` (the name JSON and answers use: f1, fprime1)."""
    return type(name, (DisplayFunctionBase,), {"display": display, "rule": staticmethod(rule) if rule else None})


def _partial(top, bottom):
    """∂top/∂bottom as one display symbol, for the chain-rule formulas of the general statements."""
    return DisplaySymbol(f"d{top.name}_d{bottom.name}",
                         Sym(f"∂{top.display.text}/∂{bottom.display.text}",
                             rf"\frac{{\partial {top.display.latex}}}{{\partial {bottom.display.latex}}}"))


def _called(symbol, argument):
    return Sym(f"{symbol.text}({argument.text})", rf"{symbol.latex}\left({argument.latex}\right)")


# -- notations ----------------------------------------------------------------------------------

class Notation:
    """The symbols of the BP lecture's textbook notation, for concrete indices (1, 2) and general ones ("l+1", "j").

    `layer` is a number or a general label ("l", "L"); the input is layer 0
    (h⁰ = x) and the last layer's h is ŷ. Every quantity is one
    DisplaySymbol, the same object wherever it appears.
    """

    loss = Sym("E", "E")

    def __init__(self, spec):
        self.spec = spec
        self.L = spec.depth
        self.threshold = spec.offset == "threshold"
        self.single_output = spec.sizes[-1] == 1
        self._symbols = {}

    def symbol(self, name, display):
        if name not in self._symbols:
            self._symbols[name] = DisplaySymbol(name, display)
        return self._symbols[name]

    def is_output(self, layer):
        return layer in (self.L, "L")

    def loss_symbol(self):
        return self.symbol(_ascii(self.loss.text), self.loss)

    def y(self, j):
        sub = "" if self.single_output and j != "j" else j
        return self.symbol(_ascii("y", None, sub), _sym("y", "y", None, sub))

    def yhat(self, j):
        sub = "" if self.single_output and j != "j" else j
        return self.symbol(_ascii("yhat", None, sub), _sym("ŷ", r"\hat{y}", None, sub))

    def sup(self, layer):
        return layer

    def x(self, i):
        return self.symbol(_ascii("x", None, i), _sym("x", "x", None, i))

    def h(self, layer, j):
        if layer == 0:
            return self.x(j)
        if self.is_output(layer):
            return self.yhat(j)
        return self.symbol(_ascii("h", self.sup(layer), j), _sym("h", "h", self.sup(layer), j))

    def z(self, layer, j):
        return self.symbol(_ascii("z", self.sup(layer), j), _sym("z", "z", self.sup(layer), j))

    def weight(self, layer, i, j):
        """The weight from neuron i of the layer before to neuron j of `layer`."""
        return self.symbol(_ascii("w", self.sup(layer), f"{i}{j}"), _sym("w", "w", self.sup(layer), f"{i}{j}"))

    def offset(self, layer, j):
        if self.threshold:
            return self.symbol(_ascii("theta", self.sup(layer), j), _sym("θ", r"\theta", self.sup(layer), j))
        return self.symbol(_ascii("b", self.sup(layer), j), _sym("b", "b", self.sup(layer), j))

    def delta(self, layer, j):
        return self.symbol(_ascii("delta", self.sup(layer), j), _sym("δ", r"\delta", self.sup(layer), j))

    def function_sym(self, layer):
        """(f_l, f′_l) as shown."""
        if layer == "L":
            return Sym("f_L", "f_{L}"), Sym("f′_L", "f'_{L}")
        return _sym("f", "f", None, layer), _sym("f′", "f'", None, layer)

    def gradient(self, parameter):
        return Sym(f"∂{self.loss.text}/∂{parameter.display.text}",
                   rf"\frac{{\partial {self.loss.latex}}}{{\partial {parameter.display.latex}}}")

    @staticmethod
    def previous(layer):
        """The layer before: 2 -> 1, l -> l-1."""
        return layer - 1 if isinstance(layer, int) else f"{layer}-1"

    def general_layers(self):
        """What the general statements are written for: the output layer (label, neuron);
        the hidden layer (label, neuron); the layer after it (label, neuron, bound as text and LaTeX);
        the layers of the gradient statements (label, from-neuron, to-neuron)."""
        return ("L", "j"), ("l", "j"), ("l+1", "s", "nₗ₊₁", "n_{l+1}"), [("l", "i", "j")]

    def rule_key(self, name, layer):
        return f"rule.{name}"

    def notes(self):
        o, ol = ("- θ^l_j", r"- \theta^{l}_{j}") if self.threshold else ("+ b^l_j", "+ b^{l}_{j}")
        return [Sym(f"notation (the BP lecture): z^l_j = Σ_i h^(l-1)_i w^l_ij {o}, h^l_j = f_l(z^l_j), h^0 = x, "
                    "h^L = ŷ; δ^l_j = ∂E/∂z^l_j",
                    rf"\text{{notation (the BP lecture): }} z^{{l}}_{{j}} = \sum_i h^{{l-1}}_{{i}} w^{{l}}_{{ij}} {ol},\ "
                    r"h^{l}_{j} = f_l(z^{l}_{j}),\ h^{0} = x,\ h^{L} = \hat{y};\ "
                    r"\delta^{l}_{j} = \partial E / \partial z^{l}_{j}")]


class LectureNotation(Notation):
    """The BP lecture's two-layer slide: x^i -v_ih-> gamma_h, alpha_h = f(gamma_h) -w_hj-> beta_j, yhat_j = f(beta_j)."""

    loss = Sym("L", "L")

    def __init__(self, spec):
        super().__init__(spec)
        first, second = spec.activations
        self.shared_f = (first is None and second is None) or (
            first is not None and second is not None and first.name == second.name)

    def x(self, i):
        return self.symbol(_ascii("x", i), _sym("x", "x", i))

    def h(self, layer, j):
        if layer == 0:
            return self.x(j)
        if layer == 1:
            return self.symbol(_ascii("alpha", None, j), _sym("α", r"\alpha", None, j))
        return self.yhat(j)

    def z(self, layer, j):
        if layer == 1:
            return self.symbol(_ascii("gamma", None, j), _sym("γ", r"\gamma", None, j))
        return self.symbol(_ascii("beta", None, j), _sym("β", r"\beta", None, j))

    def weight(self, layer, i, j):
        letter = "v" if layer == 1 else "w"
        return self.symbol(_ascii(letter, None, f"{i}{j}"), _sym(letter, letter, None, f"{i}{j}"))

    def delta(self, layer, j):
        sup = "L" if layer == 2 else "L-1"
        return self.symbol(_ascii("delta", sup, j), _sym("δ", r"\delta", sup, j))

    def function_sym(self, layer):
        if self.shared_f:
            return Sym("f", "f"), Sym("f′", "f'")
        return super().function_sym(layer)

    def general_layers(self):
        return (2, "j"), (1, "h"), (2, "j", "l", "l"), [(2, "h", "j"), (1, "i", "h")]

    def rule_key(self, name, layer):
        return f"rule.{name}" if name.startswith("delta") else f"rule.{name}[{layer}]"

    def notes(self):
        o, ol = ("- θ", r"- \theta") if self.threshold else ("+ b", "+ b")
        return [Sym(f"notation (the BP lecture, two-layer slide): γ_h = Σ_i v_ih x^i {o}¹_h, α_h = f(γ_h), "
                    f"β_j = Σ_h w_hj α_h {o}²_j, ŷ_j = f(β_j); δ^L_j = ∂L/∂β_j, δ^(L-1)_h = ∂L/∂γ_h",
                    rf"\text{{notation (the BP lecture, two-layer slide): }} \gamma_h = \sum_i v_{{ih}} x^{{i}} "
                    rf"{ol}^{{1}}_{{h}},\ \alpha_h = f(\gamma_h),\ \beta_j = \sum_h w_{{hj}} \alpha_h {ol}^{{2}}_{{j}},\ "
                    r"\hat{y}_j = f(\beta_j);\ \delta^{L}_{j} = \partial L / \partial \beta_j,\ "
                    r"\delta^{L-1}_{h} = \partial L / \partial \gamma_h"),
                Sym("the slide writes one threshold per layer (θ_1, θ_2); here every neuron has its own, θ¹_h "
                    "and θ²_j (a threshold shared by a layer gets the sum of their gradients)",
                    r"\text{the slide writes one threshold per layer } (\theta_1, \theta_2)\text{; here every "
                    r"neuron has its own, } \theta^{1}_{h}, \theta^{2}_{j}")]


class MatrixNotation(Notation):
    """Chapter 3.2: z^(l) = W^(l) a^(l-1) + b^(l), W^(l) row = to-neuron, error terms e^(l), loss L."""

    loss = Sym("L", r"\mathcal{L}")

    def sup(self, layer):
        return f"({layer})"

    def h(self, layer, j):
        if layer == 0:
            return self.x(j)
        if self.is_output(layer):
            return self.yhat(j)
        return self.symbol(_ascii("a", self.sup(layer), j), _sym("a", "a", self.sup(layer), j))

    def weight(self, layer, i, j):
        return self.symbol(_ascii("W", self.sup(layer), f"{j}{i}"), _sym("W", "W", self.sup(layer), f"{j}{i}"))

    def delta(self, layer, j):
        return self.symbol(_ascii("e", self.sup(layer), j), _sym("e", "e", self.sup(layer), j))

    def vector(self, letter, layer, rows, columns=1):
        """A whole layer's vector or matrix (e⁽¹⁾, W⁽²⁾, a⁽¹⁾; the input is x), for the vector forms."""
        if layer == 0:
            return DisplayMatrix("x", rows, columns, Sym("x", "x"))
        latex = {"θ": r"\theta"}.get(letter, letter)
        return DisplayMatrix(_ascii({"θ": "theta"}.get(letter, letter), layer), rows, columns,
                             _sym(letter, latex, self.sup(layer)))

    def notes(self):
        o, ol = ("- θ", r"- \theta") if self.threshold else ("+ b", "+ b")
        return [Sym(f"notation (chapter 3.2): z^(l) = W^(l) a^(l-1) {o}^(l), W^(l)_ji from neuron i of layer l-1 "
                    "to neuron j of layer l, a^(l) = f_l(z^(l)), a^(0) = x, a^(L) = ŷ; e^(l)_j = ∂L/∂z^(l)_j",
                    rf"\text{{notation (chapter 3.2): }} z^{{(l)}} = W^{{(l)}} a^{{(l-1)}} {ol}^{{(l)}},\ "
                    r"a^{(l)} = f_l(z^{(l)}),\ a^{(0)} = x,\ a^{(L)} = \hat{y};\ "
                    r"e^{(l)}_{j} = \partial \mathcal{L} / \partial z^{(l)}_{j}")]


NOTATION_CLASSES = {"textbook": Notation, "lecture": LectureNotation, "matrix": MatrixNotation}


# -- the unrolled network ---------------------------------------------------------------------

class Network:
    """The network's SymPy functions, its unrolled outputs and loss, and the direct derivatives.

    Layer l's activation is a DisplayFunctionBase f_l. Its derivative is the
    lecture's form written with f_l itself (σ' = f(1 - f), tanh' = 1 - f²),
    or f′_l: for a generic layer f′_l stays, for any other activation
    `concrete` turns it into the activation's derivative at the end. Direct
    derivatives are taken on the unrolled loss, then written back in each
    layer's z and h, so that they read as the lecture writes them. The
    checks compare expressions before `concrete`, where f′_l is one symbol-
    like factor whatever the activation.
    """

    def __init__(self, spec, notation):
        self.spec = spec
        self.n = notation
        self.L = spec.depth
        self.sizes = spec.sizes
        self.f, self.fprime, self.deferred = {}, {}, {}
        for l, act in enumerate(spec.activations, start=1):
            self.f[l], self.fprime[l] = self._layer_functions(l, act)
        self.rank = self._reading_ranks()

    def _layer_functions(self, layer, act):
        """(f_l, f′_l): f_l differentiates to the lecture's form in f_l itself (sigmoid, tanh), to 1
        (linear), or to f′_l, which `concrete` replaces once its argument is a layer's z symbol
        (an activation such as max(1, x) has H(z - 1) as derivative, and H(Σ h w - θ - 1) would
        merge the sum into a larger one that no longer reads back as z)."""
        shown, shown_prime = self.n.function_sym(layer)
        prime = _function(_ascii("fprime", layer), shown_prime)
        if act is not None and act.name in OWN_FORMS:
            def rule(u):
                return act.derivative_at(u, f(u)).doit()
        elif act is not None and act.derivative == 1:
            def rule(u):
                return sympy.S.One
        else:
            rule = prime
            if act is not None:
                self.deferred[prime] = act.derivative
        f = _function(_ascii("f", layer), shown, rule)
        return f, prime

    def concrete(self, expression):
        """`expression` with each deferred f′_l(z) replaced by the activation's derivative at z."""
        for prime, derivative in self.deferred.items():
            expression = expression.replace(lambda e, prime=prime: isinstance(e, prime),
                                            lambda e, derivative=derivative: derivative.subs(X, e.args[0]))
        return expression

    def general_function(self, layer):
        """f of a general layer ("l", "L"): generic, with derivative f′_l."""
        shown, shown_prime = self.n.function_sym(layer)
        return _function(_ascii("f", layer), shown, _function(_ascii("fprime", layer), shown_prime))

    def _reading_ranks(self):
        """Where each symbol stands in the lecture's reading order: from the output back to the input."""
        n, rank = self.n, {}
        for j in range(1, self.sizes[-1] + 1):
            rank[n.y(j)] = 0
        for l in range(self.L, 0, -1):
            near = 2 * (self.L - l)
            for j in range(1, self.sizes[l] + 1):
                for symbol in (n.z(l, j), n.h(l, j), n.delta(l, j), n.offset(l, j)):
                    rank[symbol] = near
                for i in range(1, self.sizes[l - 1] + 1):
                    rank[n.weight(l, i, j)] = near + 1
        for i in range(1, self.sizes[0] + 1):
            rank[n.x(i)] = 2 * self.L
        return rank

    def weight_order(self, l):
        """(i, j) of layer l's weights in the notation's reading order (the rows of its matrix)."""
        n_from, n_to = self.sizes[l - 1], self.sizes[l]
        if self.spec.notation == "matrix":
            return [(i, j) for j in range(1, n_to + 1) for i in range(1, n_from + 1)]
        return [(i, j) for i in range(1, n_from + 1) for j in range(1, n_to + 1)]

    def pre_activation(self, l, j, inputs):
        """z^l_j from the previous layer's outputs: Σ_i h_i w_ij - θ_j (or + b_j)."""
        total = Add(*[h * self.n.weight(l, i, j) for i, h in enumerate(inputs, start=1)])
        offset = self.n.offset(l, j)
        return total - offset if self.n.threshold else total + offset

    def unrolled(self, start=0):
        """(outputs, write_back): the network from layer `start`'s z (0: from the inputs) to ŷ.

        write_back(expression) rewrites an expression of the unrolled
        network in each layer's z and h symbols.
        """
        n = self.n
        functions, pre_activations = {}, []
        if start == 0:
            values = [n.x(i) for i in range(1, self.sizes[0] + 1)]
        else:
            values = [self.f[start](n.z(start, j)) for j in range(1, self.sizes[start] + 1)]
            functions.update({value: n.h(start, j) for j, value in enumerate(values, start=1)})
        for l in range(start + 1, self.L + 1):
            zs = [self.pre_activation(l, j, values) for j in range(1, self.sizes[l] + 1)]
            values = [self.f[l](z) for z in zs]
            for j, (z, value) in enumerate(zip(zs, values), start=1):
                functions[value] = n.h(l, j)
                functions[self.f[l](n.z(l, j))] = n.h(l, j)
                pre_activations.append((z, n.z(l, j)))
        exact = {**functions, **dict(pre_activations)}

        def write_back(expression):
            return expression.xreplace(exact)

        return values, write_back

    def loss(self, outputs):
        """The loss of one sample, a SymPy expression in the outputs."""
        n = self.n
        pairs = [(yhat, n.y(j)) for j, yhat in enumerate(outputs, start=1)]
        if self.spec.loss == "binary_cross_entropy":
            return -Add(*[y * sympy.log(yhat) + (1 - y) * sympy.log(1 - yhat) for yhat, y in pairs])
        return self.loss_factor() * Add(*[(yhat - y) ** 2 for yhat, y in pairs])

    def loss_factor(self):
        return Rational(1, 2) if self.spec.loss == "half_squared_error" else Rational(1, self.sizes[-1])

    def loss_formula(self, pairs):
        """The loss over (ŷ_j, y_j) pairs, unevaluated in the lecture's order (for printing)."""
        if self.spec.loss == "binary_cross_entropy":
            terms = [Add(Mul(y, sympy.log(yhat), evaluate=False),
                         Mul(_minus(1, y), sympy.log(_minus(1, yhat)), evaluate=False), evaluate=False)
                     for yhat, y in pairs]
            return Mul(-1, _sum(terms), evaluate=False)
        squares = _sum([sympy.Pow(_minus(yhat, y), 2, evaluate=False) for yhat, y in pairs])
        factor = self.loss_factor()
        return squares if factor == 1 else Mul(factor, squares, evaluate=False)

    def loss_slope(self, yhat, y):
        """∂E/∂ŷ_j, derived by SymPy from the one term of the loss that contains ŷ_j."""
        if self.spec.loss == "binary_cross_entropy":
            term = -(y * sympy.log(yhat) + (1 - y) * sympy.log(1 - yhat))
        else:
            term = self.loss_factor() * (yhat - y) ** 2
        # over a common denominator, ŷ(1 - ŷ) for cross-entropy, which cancels against the sigmoid's ŷ(1 - ŷ)
        numerator, denominator = sympy.fraction(sympy.together(sympy.diff(term, yhat)))
        return sympy.factor_terms(sympy.expand(numerator)) / denominator

    def derivative_form(self, l, j):
        """f_l'(z^l_j) as the recursion uses it: the lecture's form in h (h(1 - h)), or f′_l(z^l_j)
        (`concrete` turns a given activation's f′_l into its derivative)."""
        z = self.n.z(l, j)
        return self.f[l](z).diff(z).xreplace({self.f[l](z): self.n.h(l, j)})

    def shown(self, expression):
        """An expression as printed: f′_l made concrete, factors in reading order."""
        return _readable(self.concrete(expression), self.rank)


# -- reading order for printing ---------------------------------------------------------------

def _sum(terms):
    return terms[0] if len(terms) == 1 else Add(*terms, evaluate=False)


def _minus(a, b):
    return Add(a, Mul(-1, b, evaluate=False), evaluate=False)


def _negative(term):
    coefficient = term.as_coeff_Mul()[0]
    return coefficient.is_Number and coefficient < 0


def _readable(expression, rank):
    """`expression` rebuilt unevaluated in reading order.

    A product's factors run from the output back to the input -- the error
    (ŷ - y), then ŷ, then (1 - ŷ), then the weights -- as the lecture writes
    δ; a sum's negative terms come last (ŷ - y, not -y + ŷ).
    """
    if isinstance(expression, sympy.MatrixBase):
        return sympy.ImmutableMatrix(expression.rows, expression.cols, [_readable(e, rank) for e in expression])
    if not expression.args or expression.is_Symbol or expression.is_Number:
        return expression
    args = [_readable(a, rank) for a in expression.args]
    if expression.is_Add:
        return Add(*[a for a in args if not _negative(a)], *[a for a in args if _negative(a)], evaluate=False)
    if expression.is_Mul:
        numbers = [a for a in args if a.is_Number]
        others = sorted((a for a in args if not a.is_Number), key=lambda a: _factor_rank(a, rank))
        return Mul(*numbers, *others, evaluate=False)
    if expression.is_Pow:
        return sympy.Pow(*args, evaluate=False)
    return expression.func(*args)


def _factor_rank(factor, rank):
    """(how near the output, shape): among equals the error (ŷ - y) first, then lone symbols, then the rest."""
    ranks = [rank[s] for s in factor.free_symbols if s in rank]
    near = min(ranks) if ranks else len(rank)
    error = factor.is_Add and any(rank.get(s) == 0 and s.name.startswith("y") and not s.name.startswith("yhat")
                                  for s in factor.free_symbols)
    shape = 0 if error else 1 if (factor.is_Symbol or factor.is_Function) else 2
    return near, shape


# -- the general statements ---------------------------------------------------------------------

class _GeneralRules:
    """The recursion in general indices, each statement derived by SymPy from one neuron's relation.

    A neuron's z is written as the one term that matters plus the rest
    (`r`, the terms without it): differentiating that relation gives the
    chain rule's local factor (∂z/∂h = w, ∂z/∂w = h, ∂z/∂θ = -1).
    """

    def __init__(self, notation, network):
        self.n = notation
        self.net = network
        self.loss = notation.loss_symbol()

    def steps(self):
        """(key, symbol, formula, value, note) of every general statement."""
        output, hidden, following, gradient_layers = self.n.general_layers()
        steps = [self.output_delta(*output)]
        if self.net.L > 1:
            steps.append(self.hidden_delta(hidden, following))
        for layer, i, j in gradient_layers:
            steps += [self.weight_gradient(layer, i, j), self.offset_gradient(layer, j)]
        return steps

    def rest(self, layer, j):
        return self.n.symbol(_ascii("r", self.n.sup(layer), j), _sym("r", "r", self.n.sup(layer), j))

    def relation(self, layer, j, term):
        """z_j of `layer` as `term` + (the other terms) - θ_j (or + b_j)."""
        offset = self.n.offset(layer, j)
        return term + self.rest(layer, j) + (-offset if self.n.threshold else offset)

    def output_delta(self, layer, j):
        n = self.n
        z, yhat, y = n.z(layer, j), n.yhat(j), n.y(j)
        f = self.net.general_function(layer)
        slope = self.net.loss_slope(yhat, y)  # ∂E/∂ŷ_j
        local = f(z).diff(z)  # ∂ŷ_j/∂z_j = f′(z_j)
        formula = Mul(_partial(self.loss, yhat), _partial(yhat, z), evaluate=False)
        value = Mul(self.net.shown(slope), local, evaluate=False)
        note = f"chain rule; of all the terms of {n.loss.text} only the j-th contains yhat_j"
        return n.rule_key("delta_output", layer), n.delta(layer, j).display, formula, value, note

    def hidden_delta(self, hidden, following):
        n = self.n
        layer, j = hidden
        next_layer, s, bound_text, bound_latex = following
        z, h, z_next = n.z(layer, j), n.h(layer, j), n.z(next_layer, s)
        f = self.net.general_function(layer)
        dz_dh = self.relation(next_layer, s, h * n.weight(next_layer, j, s)).diff(h)
        dh_dz = f(z).diff(z)
        index = n.symbol(s, Sym(s, s))
        bound = n.symbol(_ascii("n", next_layer), Sym(bound_text, bound_latex))
        formula = Mul(_partial(h, z), sympy.Sum(Mul(_partial(self.loss, z_next), _partial(z_next, h), evaluate=False),
                                                (index, 1, bound)), evaluate=False)
        value = Mul(dh_dz, sympy.Sum(Mul(n.delta(next_layer, s), dz_dh, evaluate=False), (index, 1, bound)),
                    evaluate=False)
        note = "chain rule through the next layer's weighted sums; each holds this neuron's output once, times a weight"
        return n.rule_key("delta_hidden", layer), n.delta(layer, j).display, formula, value, note

    def weight_gradient(self, layer, i, j):
        n = self.n
        z, w, previous = n.z(layer, j), n.weight(layer, i, j), n.h(n.previous(layer), i)
        dz_dw = self.relation(layer, j, previous * w).diff(w)
        formula = Mul(_partial(self.loss, z), _partial(z, w), evaluate=False)
        value = Mul(n.delta(layer, j), dz_dw, evaluate=False)
        note = "chain rule; the weight enters only the weighted sum it leads into, times the output it carries"
        return n.rule_key("grad_w", layer), n.gradient(w), formula, value, note

    def offset_gradient(self, layer, j):
        n = self.n
        z, offset = n.z(layer, j), n.offset(layer, j)
        dz_do = self.relation(layer, j, 0).diff(offset)
        formula = Mul(_partial(self.loss, z), _partial(z, offset), evaluate=False)
        value = Mul(dz_do, n.delta(layer, j), evaluate=False) if dz_do != 1 else n.delta(layer, j)
        if n.threshold:
            note = "the weighted sum holds -theta, so the gradient is -delta; the lecture's pseudo-code writes +delta, a slip"
            key = n.rule_key("grad_theta", layer)
        else:
            note = "the weighted sum holds +b, so the gradient is delta"
            key = n.rule_key("grad_b", layer)
        return key, n.gradient(offset), formula, value, note


# -- the solution ---------------------------------------------------------------------------------

def solve(problem, rounding):
    """The Solution of a backprop_derivation problem."""
    with time_limit(SECONDS, "deriving the back-propagation recursion"):
        return _Derivation(problem, rounding).solve()


def same(a, b, outputs=frozenset()):
    """Is a - b zero? SymPy's proof that a recursion instance equals its direct derivative.

    Expanding settles the products of back-propagation. Cross-entropy adds
    quotients in ŷ_j and 1 - ŷ_j. Every term of a loss's derivative belongs
    to one output (it contains that output's ŷ_j or y_j and no other's), so
    the terms are grouped by the `outputs` symbols they contain, and each
    group, multiplied through by its own denominators term by term, must
    expand to 0: that proves the whole difference 0, at far less cost than
    one common denominator.
    """
    difference = sympy.expand(a - b)
    if difference == 0:
        return True
    groups = {}
    for term in Add.make_args(difference):
        groups.setdefault(frozenset(term.free_symbols & outputs), []).append(term)
    for terms in groups.values():
        powers = {}
        for term in terms:
            for factor in Mul.make_args(term.as_numer_denom()[1]):
                base, exponent = factor.as_base_exp()
                powers[base] = max(powers.get(base, 0), exponent)
        common = Mul(*[base ** exponent for base, exponent in powers.items()])
        if sympy.expand(Add(*[term * common for term in terms])) != 0:
            return False
    return True


class _Derivation:
    """Builds the steps: activation derivatives, loss, general rules, deltas, gradients, vector forms, point."""

    def __init__(self, problem, rounding):
        self.problem = problem
        self.spec = problem.spec
        self.n = NOTATION_CLASSES[self.spec.notation](self.spec)
        self.net = Network(self.spec, self.n)
        self.out = SolutionBuilder(rounding)
        self.L = self.spec.depth
        self.E = self.n.loss.text
        self.offset_name = "theta" if self.n.threshold else "b"
        self.delta_direct, self.delta_recursion, self.gradient_direct = {}, {}, {}
        self.outputs = frozenset(symbol for j in range(1, self.spec.sizes[-1] + 1)
                                 for symbol in (self.n.yhat(j), self.n.y(j)))

    def solve(self):
        self.activation_derivatives()
        self.loss()
        self.general_rules()
        self.deltas()
        self.gradients()
        if self.spec.notation == "matrix":
            self.vector_forms()
        if self.spec.point is not None:
            _PointEvaluation(self).build()
        return self.out.build(self.problem.name, self.problem.kind, self.problem.title, notes=self.notes())

    def check(self, direct, recursion, what):
        if not same(direct, recursion, self.outputs):
            raise DeriveError(f"internal: the recursion for {what} disagrees with direct differentiation")

    def activation_derivatives(self):
        """f_l'(x) by SymPy for each given activation, with the lecture's form where it has one."""
        shown = set()
        for l, act in enumerate(self.spec.activations, start=1):
            prime_sym = self.n.function_sym(l)[1]
            if act is None or (prime_sym, act.name) in shown:
                continue
            shown.add((prime_sym, act.name))
            derivative = sympy.diff(act.expression, X)
            self.out.symbolic(f"fprime[{l}]", prime_sym.called("x"), sympy.Derivative(act.expression, X),
                              derivative, "Activation derivatives", note=_own_form(act, derivative))

    def loss(self):
        outputs, _ = self.net.unrolled()
        self.loss_unrolled = self.net.loss(outputs)
        pairs = [(self.n.yhat(j), self.n.y(j)) for j in range(1, self.spec.sizes[-1] + 1)]
        self.loss_formula = self.net.loss_formula(pairs)
        unrolled = self.net.loss_formula([(self.net.shown(yhat), y) for yhat, (_, y) in zip(outputs, pairs)])
        self.out.symbolic("loss", self.n.loss, self.loss_formula, unrolled, "The loss of the unrolled network",
                          note="the network written out layer by layer")

    def general_rules(self):
        for key, symbol, formula, value, note in _GeneralRules(self.n, self.net).steps():
            self.out.symbolic(key, symbol, formula, value, "The recursion in general (chain rule on one neuron)",
                              note=note)

    def deltas(self):
        """δ^l_j = ∂E/∂z^l_j directly, and by the recursion from the output back; each pair checked."""
        n, net = self.n, self.net
        section = f"Deltas: {self.E} differentiated directly, and the recursion"
        for l in range(self.L, 0, -1):
            outputs, write_back = net.unrolled(l)
            loss = net.loss(outputs)
            for j in range(1, self.spec.sizes[l] + 1):
                z = n.z(l, j)
                direct = write_back(loss.diff(z))
                formula, recursion = self.recursion_instance(l, j)
                self.check(direct, recursion, f"delta[{l}][{j}]")
                self.delta_direct[l, j], self.delta_recursion[l, j] = direct, recursion
                self.out.symbolic(f"delta[{l}][{j}]", n.delta(l, j).display,
                                  sympy.Derivative(self.loss_formula, z, evaluate=False), net.shown(direct),
                                  section, note=f"direct differentiation of {self.E}")
                self.out.symbolic(f"recursion.delta[{l}][{j}]", n.delta(l, j).display, formula,
                                  net.shown(recursion), section, note="by the recursion; minus the direct result: 0")

    def recursion_instance(self, l, j):
        """(formula with f′ and the next layer's deltas as symbols, value with everything substituted)."""
        n, net = self.n, self.net
        form, prime = net.derivative_form(l, j), net.fprime[l](n.z(l, j))
        if l == self.L:
            slope = net.loss_slope(n.yhat(j), n.y(j))
            return Mul(net.shown(slope), prime, evaluate=False), slope * form
        following = range(1, self.spec.sizes[l + 1] + 1)
        back = _sum([Mul(n.delta(l + 1, s), n.weight(l + 1, j, s), evaluate=False) for s in following])
        value = Add(*[self.delta_recursion[l + 1, s] * n.weight(l + 1, j, s) for s in following]) * form
        return Mul(back, prime, evaluate=False), value

    def gradients(self):
        """∂E/∂w and ∂E/∂θ (or ∂E/∂b) directly, and as δ h and -δ (or δ); each pair checked."""
        n, net = self.n, self.net
        section = f"Gradients: {self.E} differentiated directly, and the recursion"
        _, write_back = net.unrolled()
        for l in range(self.L, 0, -1):
            for i, j in net.weight_order(l):
                w, previous = n.weight(l, i, j), n.h(l - 1, i)
                direct = write_back(self.loss_unrolled.diff(w))
                self.gradient_direct["w", l, i, j] = direct
                self.gradient_pair(f"grad_w[{l}][{i}][{j}]", w, direct, Mul(n.delta(l, j), previous, evaluate=False),
                                   self.delta_recursion[l, j] * previous, section)
            for j in range(1, self.spec.sizes[l] + 1):
                offset = n.offset(l, j)
                direct = write_back(self.loss_unrolled.diff(offset))
                if n.threshold:
                    formula, recursion = Mul(-1, n.delta(l, j), evaluate=False), -self.delta_recursion[l, j]
                else:
                    formula, recursion = n.delta(l, j), self.delta_recursion[l, j]
                self.gradient_pair(f"grad_{self.offset_name}[{l}][{j}]", offset, direct, formula, recursion, section)

    def gradient_pair(self, key, parameter, direct, formula, recursion, section):
        self.check(direct, recursion, key)
        symbol = self.n.gradient(parameter)
        self.out.symbolic(key, symbol, sympy.Derivative(self.loss_formula, parameter, evaluate=False),
                          self.net.shown(direct), section, note=f"direct differentiation of {self.E}")
        self.out.symbolic(f"recursion.{key}", symbol, formula, self.net.shown(recursion), section,
                          note="by the recursion; minus the direct result: 0")

    def vector_forms(self):
        """Chapter 3.2's vector forms, computed with explicit matrices and checked entry by entry."""
        n, net, sizes = self.n, self.net, self.spec.sizes
        section = "Vector form (chapter 3.2)"
        for l in range(self.L, 0, -1):
            e = n.vector("e", l, sizes[l])
            if l < self.L:
                self.vector_delta(l, e, section)
            deltas = sympy.ImmutableMatrix([n.delta(l, j) for j in range(1, sizes[l] + 1)])
            inputs = sympy.ImmutableMatrix([n.h(l - 1, i) for i in range(1, sizes[l - 1] + 1)])
            gradient = deltas * inputs.T
            for i, j in net.weight_order(l):
                entry = gradient[j - 1, i - 1].xreplace({n.delta(l, j): self.delta_recursion[l, j]})
                self.check(self.gradient_direct["w", l, i, j], entry, f"vector.grad_w[{l}]")
            previous = n.vector("a", l - 1, sizes[l - 1])
            W = n.vector("W", l, sizes[l], sizes[l - 1])
            self.out.symbolic(f"vector.grad_w[{l}]", n.gradient(W), sympy.MatMul(e, previous.T),
                              net.shown(gradient), section, note="entry by entry the direct gradients: difference 0")
            offsets = n.vector("θ" if n.threshold else "b", l, sizes[l])
            sign = -1 if n.threshold else 1
            self.out.symbolic(f"vector.grad_{self.offset_name}[{l}]", n.gradient(offsets),
                              sympy.MatMul(-1, e) if n.threshold else e, sign * deltas, section,
                              note="entry by entry the direct gradients: difference 0")

    def vector_delta(self, l, e, section):
        """e^(l) = f_l'(z^(l)) ⊙ (W^(l+1)^T e^(l+1)) with explicit matrices (W row = to-neuron)."""
        n, net, sizes = self.n, self.net, self.spec.sizes
        W = sympy.ImmutableMatrix(sizes[l + 1], sizes[l], lambda s, j: n.weight(l + 1, j + 1, s + 1))
        e_next = sympy.ImmutableMatrix([n.delta(l + 1, s) for s in range(1, sizes[l + 1] + 1)])
        forms = sympy.ImmutableMatrix([net.derivative_form(l, j) for j in range(1, sizes[l] + 1)])
        value = (W.T * e_next).multiply_elementwise(forms)
        recursion = {n.delta(l + 1, s): self.delta_recursion[l + 1, s] for s in range(1, sizes[l + 1] + 1)}
        for j in range(1, sizes[l] + 1):
            self.check(self.delta_direct[l, j], value[j - 1].xreplace(recursion), f"vector.delta[{l}]")
        prime = DisplayMatrix(_ascii("fprime", l, "z"), sizes[l], 1,
                                _called(n.function_sym(l)[1], n.vector("z", l, sizes[l]).display))
        W_next = n.vector("W", l + 1, sizes[l + 1], sizes[l])
        formula = sympy.HadamardProduct(prime, sympy.MatMul(W_next.T, n.vector("e", l + 1, sizes[l + 1])))
        self.out.symbolic(f"vector.delta[{l}]", e.display, formula, net.shown(value), section,
                          note="entry by entry the direct deltas: difference 0")

    def notes(self):
        n, spec = self.n, self.spec
        notes = n.notes()
        sizes = "-".join(str(s) for s in spec.sizes)
        parts = []
        for l, act in enumerate(spec.activations, start=1):
            f_sym, prime_sym = n.function_sym(l)
            what = f"generic (its derivative stays {prime_sym.text})" if act is None else act.name
            parts.append((f"layer {l}: {f_sym.text} = {what}",
                          rf"\text{{layer {l}: }} {f_sym.latex} = " + (
                              rf"\text{{generic (its derivative stays }} {prime_sym.latex}\text{{)}}" if act is None
                              else rf"\text{{{act.name}}}")))
        notes.append(Sym(f"network {sizes}; " + "; ".join(text for text, _ in parts),
                         rf"\text{{network {sizes}; }} " + r";\ ".join(latex for _, latex in parts)))
        loss_words = {
            "half_squared_error": (f"{self.E} = 1/2 Σ_j (ŷ_j - y_j)^2",
                                   rf"{n.loss.latex} = \frac{{1}}{{2}} \sum_j (\hat{{y}}_j - y_j)^2"),
            "mean_squared_error": (f"{self.E} = 1/n Σ_j (ŷ_j - y_j)^2 over the n outputs",
                                   rf"{n.loss.latex} = \frac{{1}}{{n}} \sum_j (\hat{{y}}_j - y_j)^2"),
            "binary_cross_entropy": (f"{self.E} = -Σ_j [y_j log ŷ_j + (1 - y_j) log(1 - ŷ_j)]",
                                     rf"{n.loss.latex} = -\sum_j [y_j \log \hat{{y}}_j + (1 - y_j) "
                                     r"\log(1 - \hat{y}_j)]"),
        }
        text, latex = loss_words[spec.loss]
        notes.append(Sym(f"loss of one sample: {text}", rf"\text{{loss of one sample: }} {latex}"))
        notes.append(Sym(f"every delta and gradient is found twice: by differentiating the unrolled {self.E} "
                         "directly (then written in each layer's z and h), and by the recursion; SymPy reduces "
                         "each difference to 0",
                         r"\text{every delta and gradient is found twice: by differentiating the unrolled loss "
                         r"directly, and by the recursion; SymPy reduces each difference to 0}"))
        return notes


def _own_form(act, derivative):
    """The note `= f(x)(1 - f(x))` (sigmoid) or `= 1 - f(x)^2` (tanh), checked by SymPy; else no note."""
    f = act.expression
    forms = {"sigmoid": (f * (1 - f), "= f(x)(1 - f(x))"), "tanh": (1 - f ** 2, "= 1 - f(x)^2")}
    if act.name not in forms:
        return ""
    form, note = forms[act.name]
    if sympy.cancel(sympy.expand((derivative - form).rewrite(sympy.exp))) != 0:
        raise DeriveError(f"internal: the derivative of {act.name} is not {note[2:]}")
    return note


# -- the recursion at numbers --------------------------------------------------------------------

class _PointEvaluation:
    """The recursion at the file's `point`: forward pass, loss, deltas, gradients, as numeric steps.

    Keys carry the prefix `at.`; formulas are the instances derived above,
    over the keys of the numbers they use.
    """

    def __init__(self, derivation):
        self.d = derivation
        self.n = derivation.n
        self.net = derivation.net
        self.out = derivation.out
        self.spec = derivation.spec
        self.point = derivation.spec.point
        self.L = derivation.L
        self.offset_name = derivation.offset_name

    def build(self):
        self.givens()
        self.forward()
        self.backward()
        self.gradients()

    def key(self, name, *indices):
        return "at." + name + "".join(f"[{i}]" for i in indices)

    def value(self, name, *indices):
        return sympy.Symbol(self.key(name, *indices))

    def h(self, l, j):
        if l == 0:
            return self.value("x", j)
        return self.value("yhat", j) if l == self.L else self.value("h", l, j)

    def givens(self):
        n, point, out = self.n, self.point, self.out
        section = "At the point: given"
        for i, v in enumerate(point.x, start=1):
            out.given(self.key("x", i), n.x(i).display, v, section, group="x")
        for j, v in enumerate(point.y, start=1):
            out.given(self.key("y", j), n.y(j).display, v, section, group="y")
        for l in range(1, self.L + 1):
            for i, j in self.net.weight_order(l):
                row = j if self.spec.notation == "matrix" else i
                out.given(self.key("w", l, i, j), n.weight(l, i, j).display, point.weights[l - 1][i - 1][j - 1],
                          section, group=f"w{l}.{row}")
            for j, v in enumerate(point.offsets[l - 1], start=1):
                out.given(self.key(self.offset_name, l, j), n.offset(l, j).display, v, section, group=f"o{l}")

    def forward(self):
        n, out = self.n, self.out
        section = "At the point: forward pass"
        for l in range(1, self.L + 1):
            act = self.spec.activations[l - 1]
            for j in range(1, self.spec.sizes[l] + 1):
                terms = [Mul(self.h(l - 1, i), self.value("w", l, i, j), evaluate=False)
                         for i in range(1, self.spec.sizes[l - 1] + 1)]
                offset = self.value(self.offset_name, l, j)
                terms.append(Mul(-1, offset, evaluate=False) if n.threshold else offset)
                z = out.step(self.key("z", l, j), n.z(l, j).display, Add(*terms, evaluate=False), section)
                key = self.key("yhat", j) if l == self.L else self.key("h", l, j)
                out.step(key, n.h(l, j).display, act.apply(z), section)
        pairs = [(self.value("yhat", j), self.value("y", j)) for j in range(1, self.spec.sizes[-1] + 1)]
        out.step(self.key("loss"), n.loss, self.net.loss_formula(pairs), section)

    def backward(self):
        n, out = self.n, self.out
        section = "At the point: deltas by the recursion"
        for l in range(self.L, 0, -1):
            act = self.spec.activations[l - 1]
            for j in range(1, self.spec.sizes[l] + 1):
                if l == self.L:
                    slope = self.net.loss_slope(n.yhat(j), n.y(j)).xreplace(
                        {n.yhat(j): self.value("yhat", j), n.y(j): self.value("y", j)})
                    first = _readable(slope, {})
                else:
                    first = _sum([Mul(self.value("delta", l + 1, s), self.value("w", l + 1, j, s), evaluate=False)
                                  for s in range(1, self.spec.sizes[l + 1] + 1)])
                form = act.derivative_at(self.value("z", l, j), self.h(l, j))
                formula = first if form is None else Mul(first, form, evaluate=False)
                out.step(self.key("delta", l, j), n.delta(l, j).display, formula, section)

    def gradients(self):
        n, out = self.n, self.out
        section = "At the point: gradients"
        for l in range(self.L, 0, -1):
            for i, j in self.net.weight_order(l):
                out.step(self.key("grad_w", l, i, j), n.gradient(n.weight(l, i, j)),
                         Mul(self.value("delta", l, j), self.h(l - 1, i), evaluate=False), section)
            for j in range(1, self.spec.sizes[l] + 1):
                delta = self.value("delta", l, j)
                out.step(self.key(f"grad_{self.offset_name}", l, j), n.gradient(n.offset(l, j)),
                         Mul(-1, delta, evaluate=False) if n.threshold else delta, section)
