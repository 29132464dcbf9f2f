"""`kind: conv_derivation`: the error recursion of a convolution layer, derived on a small case.

Chapter 3.2 homework (4): replace a layer's linear map by the valid
cross-correlation z_ij = Σ_{u,v} w_uv a_{i+u, j+v} and find the recursion of
the error term (the lecture notes). The solution unrolls the layer for
the sizes of the file, lets SymPy differentiate every z_ij by every input
and every weight (the chain rule ∂L/∂a_pq = Σ_ij δ_ij ∂z_ij/∂a_pq), then
states the general recursion (a full convolution of δ with the kernel, with
the index maps of the stride and padding) and checks, position by position,
that it gives what SymPy gave.

Indices are 1-based throughout, as everywhere in derive: the lecture's
w_uv with u, v = 0..K-1 is w_{u+1, v+1} here, and its a_{i+u, j+v} is
a_{i+u-1, j+v-1}. With stride s and zero padding P the input index of
output i and kernel row u is s(i-1) + u - P.
"""

from dataclasses import dataclass

import sympy
from sympy import Add, IndexedBase, Mul, Sum

from ..errors import DeriveError, ExpressionError
from ..fields import Declarations, Declared, Integer, Structured, Text
from ..steps import SolutionBuilder, Sym
from ..symbolic.activations import activation as read_activation
from ..symbolic.display import DisplaySymbol
from ..symbolic.limits import time_limit

MAX_SIZE = 9  # one digit per index keeps the names a student types (`delta12`) unambiguous
MAX_WORK = 729  # input positions x kernel entries: the derivatives SymPy takes (a 9x9 input, a 3x3 kernel)
SYMPY_SECONDS = 10.0

ACTIVATION = Text("an activation name or an expression in x")  # an elementwise one: softmax is refused
SIDE = {"type": "integer", "minimum": 1, "maximum": MAX_SIZE}
SIZE = Structured({"anyOf": [SIDE, {"type": "array", "items": SIDE, "minItems": 2, "maxItems": 2}]})


def matrix_schema(most):
    """A list of 1 to `most` rows of 1 to `most` numbers (each row as long as the others: not said here)."""
    row = {"type": "array", "items": {"type": "number"}, "minItems": 1, "maxItems": most}
    return {"type": "array", "items": row, "minItems": 1, "maxItems": most}


AT = Declarations(
    Declared("input", Structured(matrix_schema(MAX_SIZE)), "the input map a⁽ˡ⁻¹⁾, a matrix of the `input_size`"),
    Declared("kernel", Structured(matrix_schema(MAX_SIZE)), "the kernel, a K×K matrix"),
    Declared("delta", Structured(matrix_schema(MAX_SIZE)), "δ⁽ˡ⁾, one number per output position"),
)

# where an error found while solving is reported when nothing nearer its cause is known (Problem.solve)
ERRORS_AT = ("at", "activation", "input_size")

DECLARED = Declarations(
    Declared("input_size", SIZE, f"the input map: `4` (square) or `[rows, cols]`, each 1 to {MAX_SIZE}"),
    Declared("kernel_size", Integer(1, MAX_SIZE), f"K of the K×K kernel, 1 to {MAX_SIZE}, no larger than the "
             "padded input"),
    Declared("stride", Integer(1, MAX_SIZE), f"s, 1 to {MAX_SIZE}", default=1),
    Declared("padding", Structured({"type": "integer", "minimum": 0, "maximum": MAX_SIZE - 1}),
             f"zero padding P, 0 to K-1 (output at most {MAX_SIZE}×{MAX_SIZE}; rows·cols·K² ≤ {MAX_WORK})",
             default=0),
    Declared("activation", ACTIVATION, "layer l-1's activation f (δ⁽ˡ⁻¹⁾ = f′(z⁽ˡ⁻¹⁾) ∂L/∂a⁽ˡ⁻¹⁾); any "
             "elementwise activation", default=None, shown_default="a general f, shown as f′(z)"),
    Declared("at", Structured(AT.object_schema()), "`{input, kernel, delta}` matrices (below): the recursion in "
             "numbers", default=None, shown_default="none"),
)

_SUBSCRIPT = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
LAYER_TEXT = {"l": "⁽ˡ⁾", "l-1": "⁽ˡ⁻¹⁾"}


def indexed_sym(text, latex, layer, *indices):
    """Sym of a map entry: `a⁽ˡ⁻¹⁾₂₃`, `a^{(l-1)}_{23}` (layer None: no superscript)."""
    shown = [str(i) for i in indices]
    digits = ("," if any(len(i) > 1 for i in shown) else "").join(shown)  # a₁₂ but a₁₂,₃
    sup_text = LAYER_TEXT[layer] if layer else ""
    sup_latex = f"^{{({layer})}}" if layer else ""
    sub_latex = f"_{{{digits}}}" if digits else ""
    return Sym(f"{text}{sup_text}{digits.translate(_SUBSCRIPT)}", f"{latex}{sup_latex}{sub_latex}")


def entry(name, text, latex, layer, *indices):
    """The DisplaySymbol of one map entry, named `name` followed by its indices (`a23`)."""
    return DisplaySymbol(name + "".join(str(i) for i in indices), indexed_sym(text, latex, layer, *indices))


def partial_sym(top, bottom):
    """The display of ∂top/∂bottom for two Syms."""
    return Sym(f"∂{top.text}/∂{bottom.text}", rf"\frac{{\partial {top.latex}}}{{\partial {bottom.latex}}}")


def unevaluated_sum(terms):
    """The terms added in the order given (0 for none)."""
    if not terms:
        return sympy.Integer(0)
    return terms[0] if len(terms) == 1 else Add(*terms, evaluate=False)


def minus(a, b):
    """a - b, written in that order."""
    return Add(a, Mul(-1, b, evaluate=False), evaluate=False)


def index(*terms):
    """An index expression in the order written (`u + 1`, `3 - u`), zeros left out."""
    kept = [t for t in terms if t != 0]
    if not kept:
        return sympy.Integer(0)
    return kept[0] if len(kept) == 1 else Add(*kept, evaluate=False)


# the maps of the general formulas, indexed by expressions in u, v, i, j
W_GENERAL = IndexedBase(DisplaySymbol("w", Sym("w", "w")))
A_GENERAL = IndexedBase(DisplaySymbol("a", Sym("a⁽ˡ⁻¹⁾", "a^{(l-1)}")))
DELTA_GENERAL = IndexedBase(DisplaySymbol("delta", Sym("δ⁽ˡ⁾", r"\delta^{(l)}")))
DELTA_DILATED = IndexedBase(DisplaySymbol("delta_dilated", Sym("δ̃⁽ˡ⁾", r"\tilde{\delta}^{(l)}")))


# -- geometry ---------------------------------------------------------------------

@dataclass(frozen=True)
class ConvGeometry:
    """Sizes and index maps of one convolution (1-based): input rows x cols, K x K kernel, stride, padding."""

    rows: int
    cols: int
    kernel: int
    stride: int
    padding: int

    @property
    def out_rows(self):
        return (self.rows + 2 * self.padding - self.kernel) // self.stride + 1

    @property
    def out_cols(self):
        return (self.cols + 2 * self.padding - self.kernel) // self.stride + 1

    def input_index(self, i, u):
        """The input row (or column) that kernel row u meets for output row i: s(i-1) + u - P."""
        return self.stride * (i - 1) + u - self.padding

    def inside(self, p, q):
        return 1 <= p <= self.rows and 1 <= q <= self.cols

    def outputs(self):
        return [(i, j) for i in range(1, self.out_rows + 1) for j in range(1, self.out_cols + 1)]

    def inputs(self):
        return [(p, q) for p in range(1, self.rows + 1) for q in range(1, self.cols + 1)]

    def kernel_positions(self):
        return [(u, v) for u in range(1, self.kernel + 1) for v in range(1, self.kernel + 1)]

    def taps(self, i, j):
        """(u, v, p, q) of the kernel entries of output (i, j) that meet the input (not the padding)."""
        found = []
        for u, v in self.kernel_positions():
            p, q = self.input_index(i, u), self.input_index(j, v)
            if self.inside(p, q):
                found.append((u, v, p, q))
        return found

    def delta_index(self, p, u):
        """The output row whose kernel row u meets input row p, or None: (p + P - u)/s + 1 when whole."""
        offset = p + self.padding - u
        if offset % self.stride:
            return None
        return offset // self.stride + 1

    def describe(self):
        return (f"{self.rows}x{self.cols} input, {self.kernel}x{self.kernel} kernel, stride {self.stride}, "
                f"padding {self.padding}: {self.out_rows}x{self.out_cols} output")


def read_size(field):
    """A map size: one number (square) or [rows, columns], each 1..MAX_SIZE."""
    if isinstance(field.value, list):
        items = field.items(2)
        return items[0].integer(1, MAX_SIZE), items[1].integer(1, MAX_SIZE)
    size = field.integer(1, MAX_SIZE)
    return size, size


def read_geometry(root, rows, cols):
    """Kernel size, stride and padding of a convolution over a rows x cols input, checked to fit."""
    kernel_field = DECLARED.field(root, "kernel_size")
    kernel = DECLARED.read_field(kernel_field, "kernel_size")
    stride = DECLARED.read(root, "stride")
    padding = DECLARED.field(root, "padding").integer(0, kernel - 1)
    if kernel > min(rows, cols) + 2 * padding:
        raise kernel_field.error(f"a {kernel}x{kernel} kernel does not fit a {rows}x{cols} input "
                                 f"with padding {padding}")
    return ConvGeometry(rows, cols, kernel, stride, padding)


def read_elementwise_activation(field):
    """An elementwise activation (a name or an expression in x; softmax is refused)."""
    try:
        act = read_activation(ACTIVATION.read(field))
    except ExpressionError as error:
        raise field.located(error) from None
    if act.is_softmax:
        raise field.error("softmax is not elementwise; use sigmoid, tanh, relu, linear, softplus or an expression in x")
    return act


# -- the problem ------------------------------------------------------------------

@dataclass(frozen=True)
class ConvDerivationSpec:
    """A validated conv_derivation problem.

    geometry; activation: layer l-1's (None: a generic f); point: None, or
    (a⁽ˡ⁻¹⁾, kernel, δ⁽ˡ⁾) as matrices, where the recursion is also shown in numbers.
    """

    geometry: ConvGeometry
    activation: object = None
    point: object = None


def read(root):
    """Validate the conv_derivation fields into a ConvDerivationSpec."""
    size_field = DECLARED.field(root, "input_size")
    rows, cols = read_size(size_field)
    geometry = read_geometry(root, rows, cols)
    if max(geometry.out_rows, geometry.out_cols) > MAX_SIZE:
        raise root.get("padding").error(f"the output would be {geometry.out_rows}x{geometry.out_cols}; "
                                        f"at most {MAX_SIZE}x{MAX_SIZE} (use less padding)")
    work = rows * cols * geometry.kernel ** 2
    if work > MAX_WORK:
        raise size_field.error(f"too large to derive unrolled ({rows}x{cols} input times {geometry.kernel ** 2} "
                               f"kernel entries = {work}; at most {MAX_WORK})")
    activation = None
    if root.has("activation"):
        activation = read_elementwise_activation(root.get("activation"))
    point = None
    if root.has("at"):
        at = root.get("at").mapping(allowed=AT.names)
        g = geometry
        point = (at.get("input").matrix(rows, cols, " (the input map a⁽ˡ⁻¹⁾)"),
                 at.get("kernel").matrix(g.kernel, g.kernel, " (the kernel)"),
                 at.get("delta").matrix(g.out_rows, g.out_cols, " (δ⁽ˡ⁾, one number per output)"))
    return ConvDerivationSpec(geometry, activation, point)


def solve(problem, rounding):
    """The Solution of a conv_derivation problem (symbolic: rounding does not apply)."""
    with time_limit(SYMPY_SECONDS, "the convolution derivation"):
        return _ConvDerivation(problem, rounding).solve()


class _ConvDerivation:
    """Unrolls the layer, differentiates it with SymPy, and checks the general recursion."""

    def __init__(self, problem, rounding):
        self.problem = problem
        self.spec = problem.spec
        self.g = problem.spec.geometry
        self.out = SolutionBuilder(rounding)
        g = self.g
        self.w = {(u, v): entry("w", "w", "w", None, u, v) for u, v in g.kernel_positions()}
        self.a = {(p, q): entry("a", "a", "a", "l-1", p, q) for p, q in g.inputs()}
        self.delta = {(i, j): entry("delta", "δ", r"\delta", "l", i, j) for i, j in g.outputs()}
        self.z_syms = {(i, j): indexed_sym("z", "z", "l", i, j) for i, j in g.outputs()}
        self.z = {}  # (i, j) -> the unrolled z_ij

    def solve(self):
        self.forward()
        direct_a = self.input_gradients()
        self.input_deltas()
        direct_w = self.kernel_gradients()
        self.check_recursion(direct_a, direct_w)
        if self.spec.point is not None:
            self.at_point()
        problem = self.problem
        return self.out.build(problem.name, problem.kind, problem.title, notes=self.notes())

    # the layer, unrolled ------------------------------------------------------
    def forward(self):
        g = self.g
        u, v = sympy.symbols("u v", integer=True)
        section = f"Layer l, unrolled ({g.describe()})"
        for i, j in g.outputs():
            general = Sum(Mul(W_GENERAL[u, v], A_GENERAL[index(u, g.input_index(i, 0)),
                                                          index(v, g.input_index(j, 0))], evaluate=False),
                          (u, 1, g.kernel), (v, 1, g.kernel))
            taps = g.taps(i, j)
            value = unevaluated_sum([Mul(self.w[u_, v_], self.a[p, q], evaluate=False) for u_, v_, p, q in taps])
            self.z[i, j] = value
            on_padding = g.kernel ** 2 - len(taps)
            note = f"{on_padding} of the {g.kernel ** 2} terms fall on the zero padding" if on_padding else ""
            self.out.symbolic(f"z[{i}][{j}]", self.z_syms[i, j], general, value, section, note)

    # the chain rule on the unrolled layer ---------------------------------------
    def chain_rule(self, variable, variable_sym, key, symbol, section):
        """∂L/∂variable = Σ_ij δ_ij ∂z_ij/∂variable, each derivative taken by SymPy; returns the value."""
        chain, terms = [], []
        for (i, j), z in self.z.items():
            if variable not in z.free_symbols:
                continue  # ∂z/∂variable = 0: no product of z contains it
            slope = sympy.diff(z, variable)
            partial = DisplaySymbol(f"dz{i}{j}_d{variable.name}", partial_sym(self.z_syms[i, j], variable_sym))
            chain.append(Mul(self.delta[i, j], partial, evaluate=False))
            terms.append(Mul(slope, self.delta[i, j], evaluate=False) if key.startswith("grad_a")
                         else Mul(self.delta[i, j], slope, evaluate=False))
        value = unevaluated_sum(terms)
        note = "" if chain else "no window of the layer reaches it"
        self.out.symbolic(key, symbol, unevaluated_sum(chain), value, section, note)
        return value

    def input_gradients(self):
        section = "Error at the input of the layer, by the chain rule"
        direct = {}
        for (p, q), a in self.a.items():
            symbol = grad_sym(a.display)
            direct[p, q] = self.chain_rule(a, a.display, f"grad_a_prev[{p}][{q}]", symbol, section)
        return direct

    def input_deltas(self):
        """δ⁽ˡ⁻¹⁾ = f′(z⁽ˡ⁻¹⁾) ∂L/∂a⁽ˡ⁻¹⁾, with layer l-1's activation or a generic f."""
        section = "Error term of layer l-1"
        act = self.spec.activation
        for p, q in self.g.inputs():
            key = f"grad_a_prev[{p}][{q}]"
            gradient = self.out.value(key)
            z_prev = entry("zprev", "z", "z", "l-1", p, q)
            if act is None:
                slope = DisplaySymbol(f"fprime{p}{q}", Sym(f"f′({z_prev.display.text})",
                                                          rf"f'\left({z_prev.display.latex}\right)"))
            else:
                slope = act.derivative_at(z_prev, self.a[p, q])
            formula = sympy.Symbol(key) if slope is None else Mul(slope, sympy.Symbol(key), evaluate=False)
            value = gradient if slope is None or gradient == 0 else Mul(slope, gradient, evaluate=False)
            self.out.symbolic(f"delta_prev[{p}][{q}]", indexed_sym("δ", r"\delta", "l-1", p, q),
                              formula, value, section)

    def kernel_gradients(self):
        section = "Kernel gradient, by the chain rule"
        direct = {}
        for (u, v), w in self.w.items():
            direct[u, v] = self.chain_rule(w, w.display, f"grad_w[{u}][{v}]", grad_sym(w.display), section)
        return direct

    # the general recursion ------------------------------------------------------
    def check_recursion(self, direct_a, direct_w):
        """The general formulas at every position, each checked equal to the chain rule's result."""
        g = self.g
        u, v, i, j = sympy.symbols("u v i j", integer=True)
        section = "General recursion, checked at every position"
        spread = DELTA_GENERAL if g.stride == 1 else DELTA_DILATED
        for p, q in g.inputs():
            general = Sum(Mul(W_GENERAL[u, v], spread[index(p + g.padding + 1, -u),
                                                      index(q + g.padding + 1, -v)], evaluate=False),
                          (u, 1, g.kernel), (v, 1, g.kernel))
            terms = []
            for u_, v_ in g.kernel_positions():
                r, s = g.delta_index(p, u_), g.delta_index(q, v_)
                if r is not None and s is not None and (r, s) in self.delta:
                    terms.append(Mul(self.w[u_, v_], self.delta[r, s], evaluate=False))
            value = unevaluated_sum(terms)
            self.checked(f"recursion_a_prev[{p}][{q}]", grad_sym(self.a[p, q].display), general, value,
                         direct_a[p, q], section)
        for u_, v_ in g.kernel_positions():
            general = Sum(Mul(DELTA_GENERAL[i, j], A_GENERAL[index(g.stride * i, u_ - g.stride - g.padding),
                                                       index(g.stride * j, v_ - g.stride - g.padding)],
                              evaluate=False),
                          (i, 1, g.out_rows), (j, 1, g.out_cols))
            terms = []
            for r, s in g.outputs():
                p, q = g.input_index(r, u_), g.input_index(s, v_)
                if g.inside(p, q):
                    terms.append(Mul(self.delta[r, s], self.a[p, q], evaluate=False))
            self.checked(f"recursion_w[{u_}][{v_}]", grad_sym(self.w[u_, v_].display), general,
                         unevaluated_sum(terms), direct_w[u_, v_], section)

    # the recursion in numbers ------------------------------------------------------
    def at_point(self):
        """The recursion evaluated on the file's numbers: numeric steps over given keys."""
        g, out = self.g, self.out
        inputs, kernel, deltas = self.spec.point
        section = "At the point: given"
        for (p, q), a in self.a.items():
            out.given(f"at.a_prev[{p}][{q}]", a.display, inputs[p - 1][q - 1], section, group=f"at.a_prev[{p}]")
        for (u, v), w in self.w.items():
            out.given(f"at.w[{u}][{v}]", w.display, kernel[u - 1][v - 1], section, group=f"at.w[{u}]")
        for (i, j), delta in self.delta.items():
            out.given(f"at.delta[{i}][{j}]", delta.display, deltas[i - 1][j - 1], section, group=f"at.delta[{i}]")
        w = {key: sympy.Symbol(f"at.w[{key[0]}][{key[1]}]") for key in self.w}
        delta = {key: sympy.Symbol(f"at.delta[{key[0]}][{key[1]}]") for key in self.delta}
        a = {key: sympy.Symbol(f"at.a_prev[{key[0]}][{key[1]}]") for key in self.a}
        section = "At the point: the recursion in numbers"
        for p, q in g.inputs():
            terms = []
            for u, v in g.kernel_positions():
                r, s = g.delta_index(p, u), g.delta_index(q, v)
                if r is not None and s is not None and (r, s) in delta:
                    terms.append(Mul(w[u, v], delta[r, s], evaluate=False))
            out.step(f"at.grad_a_prev[{p}][{q}]", grad_sym(self.a[p, q].display), unevaluated_sum(terms), section,
                     "" if terms else "no window reaches it")
        slopes = self.numeric_slopes(a)
        if slopes is not None:
            for p, q in g.inputs():
                gradient = sympy.Symbol(f"at.grad_a_prev[{p}][{q}]")
                formula = gradient if slopes[p, q] is None else Mul(gradient, slopes[p, q], evaluate=False)
                out.step(f"at.delta_prev[{p}][{q}]", indexed_sym("δ", r"\delta", "l-1", p, q), formula, section)
        for u, v in g.kernel_positions():
            terms = [Mul(delta[r, s], a[g.input_index(r, u), g.input_index(s, v)], evaluate=False)
                     for r, s in g.outputs() if g.inside(g.input_index(r, u), g.input_index(s, v))]
            out.step(f"at.grad_w[{u}][{v}]", grad_sym(self.w[u, v].display), unevaluated_sum(terms), section)

    def numeric_slopes(self, a):
        """f′ at every input position in terms of a⁽ˡ⁻¹⁾ (None entries: f′ = 1), or None when f′ needs z⁽ˡ⁻¹⁾.

        With a general f, or an activation whose derivative is not written
        through its output (ReLU's H(z)), the point gives no δ⁽ˡ⁻¹⁾.
        """
        act = self.spec.activation
        if act is None:
            return None
        z = sympy.Symbol("z")
        if (act.derivative_at(z, sympy.Symbol("a")) or sympy.Integer(1)).has(z):
            return None
        return {key: act.derivative_at(z, symbol) for key, symbol in a.items()}

    def checked(self, key, symbol, general, value, direct, section):
        if sympy.expand(value - direct) != 0:
            raise DeriveError(f"internal: the general recursion at {key} differs from the chain rule")
        self.out.symbolic(key, symbol, general, value, section, "checked: equals the chain rule's result")

    # notes ------------------------------------------------------------------------
    def notes(self):
        g, act = self.g, self.spec.activation
        s, P, K = g.stride, g.padding, g.kernel
        row, col = _map_index("i", "u", s, P), _map_index("j", "v", s, P)
        notes = [
            Sym(f"layer: z⁽ˡ⁾ᵢⱼ = Σ_{{u,v=1..{K}}} w_uv a⁽ˡ⁻¹⁾_({row}),({col}), a⁽ˡ⁾ = f(z⁽ˡ⁾); {g.describe()}",
                rf"\text{{layer: }} z^{{(l)}}_{{ij}} = \sum_{{u,v=1}}^{{{K}}} w_{{uv}} a^{{(l-1)}}_{{{row},{col}}},"
                rf"\ a^{{(l)}} = f(z^{{(l)}})"),
            Sym("indices are 1-based: the lecture's w_uv, u, v = 0..K-1, is w_(u+1)(v+1) here",
                r"\text{indices are 1-based: the lecture's } w_{uv},\ u, v = 0..K-1"
                r" \text{ is } w_{u+1,v+1} \text{ here}"),
            Sym("δ⁽ˡ⁾ᵢⱼ = ∂L/∂z⁽ˡ⁾ᵢⱼ; chain rule: ∂L/∂a⁽ˡ⁻¹⁾_pq = Σᵢⱼ δ⁽ˡ⁾ᵢⱼ ∂z⁽ˡ⁾ᵢⱼ/∂a⁽ˡ⁻¹⁾_pq, "
                "each ∂z/∂a taken by SymPy on the unrolled layer",
                r"\delta^{(l)}_{ij} = \partial L / \partial z^{(l)}_{ij};\ \frac{\partial L}{\partial a^{(l-1)}_{pq}}"
                r" = \sum_{ij} \delta^{(l)}_{ij} \frac{\partial z^{(l)}_{ij}}{\partial a^{(l-1)}_{pq}}"),
        ]
        notes += self.recursion_notes()
        if act is None:
            notes.append(Sym("f is layer l-1's activation, left general: a⁽ˡ⁻¹⁾ = f(z⁽ˡ⁻¹⁾)",
                             r"f \text{ is layer } l-1\text{'s activation, left general: } a^{(l-1)} = f(z^{(l-1)})"))
        else:
            notes.append(activation_note(act, "layer l-1", entry("z", "z", "z", None), entry("a", "a", "a", None)))
        if self.spec.point is not None and self.numeric_slopes({}) is None:
            notes.append(Sym("at the point, δ⁽ˡ⁻¹⁾ is not shown: f′ in numbers needs an activation written through "
                             "its output a⁽ˡ⁻¹⁾ (sigmoid, tanh, linear)",
                             r"\text{at the point, } \delta^{(l-1)} \text{ needs } f' \text{ in terms of } a^{(l-1)}"))
        return notes

    def recursion_notes(self):
        g = self.g
        s, P, K = g.stride, g.padding, g.kernel
        shift = _offset_text(P + 1)
        if s == 1:
            rule = Sym(f"recursion: ∂L/∂a⁽ˡ⁻¹⁾_pq = Σ_{{u,v=1..{K}}} w_uv δ⁽ˡ⁾_(p{shift}-u),(q{shift}-v), "
                       "an index outside the output gives 0: a full convolution of δ⁽ˡ⁾ with the kernel, i.e. "
                       f"δ⁽ˡ⁾ padded with K-1 = {K - 1} zero{'s' if K != 2 else ''} cross-correlated with the kernel "
                       "turned 180°, "
                       f"w_({K + 1}-u),({K + 1}-v)",
                       rf"\frac{{\partial L}}{{\partial a^{{(l-1)}}_{{pq}}}} = \sum_{{u,v=1}}^{{{K}}} w_{{uv}}"
                       rf" \delta^{{(l)}}_{{p{shift}-u,\,q{shift}-v}} \text{{ (0 outside): a full convolution of }}"
                       r"\delta^{(l)} \text{ with } w \text{, i.e. a cross-correlation with } w \text{ turned }"
                       r" 180^\circ")
        else:
            rule = Sym(f"recursion with stride {s}: δ̃⁽ˡ⁾ is δ⁽ˡ⁾ with {s - 1} zero{'s' if s != 2 else ''} "
                       "between neighbours "
                       f"(δ̃_({s}i-{s - 1}),({s}j-{s - 1}) = δ_ij); ∂L/∂a⁽ˡ⁻¹⁾_pq = Σ_{{u,v=1..{K}}} "
                       f"w_uv δ̃⁽ˡ⁾_(p{shift}-u),(q{shift}-v), 0 outside: a full convolution of δ̃⁽ˡ⁾ with the "
                       "kernel (a cross-correlation with the kernel turned 180°)",
                       rf"\tilde\delta^{{(l)}}_{{{s}i-{s - 1},{s}j-{s - 1}}} = \delta^{{(l)}}_{{ij}} "
                       rf"\text{{ (zeros between)}};\ \frac{{\partial L}}{{\partial a^{{(l-1)}}_{{pq}}}} = "
                       rf"\sum_{{u,v=1}}^{{{K}}} w_{{uv}} \tilde\delta^{{(l)}}_{{p{shift}-u,\,q{shift}-v}}")
        row, col = _map_index("i", "u", s, P), _map_index("j", "v", s, P)
        kernel = Sym(f"kernel gradient: ∂L/∂w_uv = Σᵢⱼ δ⁽ˡ⁾ᵢⱼ a⁽ˡ⁻¹⁾_({row}),({col}): the input cross-correlated "
                     "with δ⁽ˡ⁾",
                     rf"\frac{{\partial L}}{{\partial w_{{uv}}}} = \sum_{{ij}} \delta^{{(l)}}_{{ij}}"
                     rf" a^{{(l-1)}}_{{{row},{col}}}")
        notes = [rule, kernel]
        if P:
            notes.append(Sym(f"padding {P}: input indices outside 1..n are the zero padding; their terms are 0 "
                             "and they get no error",
                             rf"\text{{padding {P}: indices outside the input are zeros, with no error}}"))
        spread_text, spread_latex = ("δ⁽ˡ⁾", r"\delta^{(l)}") if s == 1 else ("δ̃⁽ˡ⁾", r"\tilde\delta^{(l)}")
        notes.append(Sym(f"the error recursion: δ⁽ˡ⁻¹⁾ = f′(z⁽ˡ⁻¹⁾) ⊙ ∂L/∂a⁽ˡ⁻¹⁾, i.e. δ⁽ˡ⁻¹⁾_pq = f′(z⁽ˡ⁻¹⁾_pq) "
                         f"Σ_{{u,v=1..{K}}} w_uv {spread_text}_(p{shift}-u),(q{shift}-v)",
                         rf"\delta^{{(l-1)}}_{{pq}} = f'(z^{{(l-1)}}_{{pq}}) \sum_{{u,v=1}}^{{{K}}} w_{{uv}} "
                         rf"{spread_latex}_{{p{shift}-u,\,q{shift}-v}}"))
        return notes


def activation_note(act, where, z, a):
    """`layer l-1: f(x) = sigmoid, f′(z) = a(1 - a)`: an activation and the derivative the solution uses."""
    from ..render.formula import latex_formula, text_formula

    x = sympy.Symbol("x")
    slope = act.derivative_at(z, a)
    slope = sympy.Integer(1) if slope is None else slope
    f_text = text_formula(act.apply(x), {"x": Sym("x", "x")})
    f_latex = latex_formula(act.apply(x), {"x": Sym("x", "x")})
    step_text, step_latex = "", ""
    if slope.has(sympy.Heaviside):
        step_text, step_latex = " (H: the unit step, 0 at 0)", r"\ (H \text{: the unit step, 0 at 0})"
    return Sym(f"{where}: f(x) = {f_text}, a = f(z), f′(z) = {text_formula(slope)}{step_text}",
               rf"\text{{{where}: }} f(x) = {f_latex},\ a = f(z),\ f'(z) = {latex_formula(slope)}{step_latex}")


def grad_sym(display):
    """∂L/∂x for the display Sym of x."""
    return Sym(f"∂L/∂{display.text}", rf"\frac{{\partial L}}{{\partial {display.latex}}}")


def _offset_text(n):
    return f"+{n}" if n > 0 else (f"-{-n}" if n < 0 else "")


def _map_index(i, u, stride, padding):
    """s(i-1) + u - P written short: `i+u-1`, `2i+u-2`."""
    constant = -stride - padding
    return f"{'' if stride == 1 else stride}{i}+{u}{_offset_text(constant)}"
