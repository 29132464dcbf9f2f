"""`kind: autodiff`: automatic differentiation of a small computational graph, step by step.

Chapter 3.2 presents back-propagation as one case of "a more general method,
automatic differentiation (AD)", and notes that the factors ∂f^l/∂f^(l-1)
recur and can be stored and reused (存储复用). A problem writes a scalar
function as one expression or as a short program of assignments (`z1 = W1 *
x`, `a1 = sigmoid(z1)`, ...) with the inputs' values. The solution

- breaks the program into a graph of elementary operations (+, -, ×, /,
  powers, exp, log, tanh, σ, relu, max, min, abs, sin, cos), numbered in
  topological order, each node printed with its operation, its operands,
  the nodes that use it and its forward value;
- runs reverse mode: the output's adjoint is seeded with 1, then, node by
  node in reverse order, a node's adjoint ∂y/∂v is the *sum* over the nodes
  c that use v of ∂y/∂c · ∂c/∂v, and its own local derivatives ∂v/∂a are
  worked out for the nodes before it (a value used twice adds both uses);
- runs forward mode for one input x: each node's tangent ∂v/∂x is the sum
  over its operands a of ∂v/∂a · ∂a/∂x, the same local derivatives reused;
- counts the multiplications of each mode (one per edge of the graph and
  pass: forward mode needs one pass per input, reverse mode one in all);
- checks every gradient against a central finite difference.

Each node's forward value and its local derivatives are defined side by
side in `_operation`, as micrograd defines an operation's output and its
`_backward` together. Only nodes that depend on an input being
differentiated (`wrt`) get an adjoint, as only tensors that require grad do.

Step keys: `v[k]` node k's value; `local[k][i]` ∂v_k/∂(its i-th operand);
`adj[k]` ∂y/∂v_k; `grad[x]` ∂y/∂x for an input x (its adjoint); `dot[k]`
∂v_k/∂x in forward mode; `ops.*` the counts; `fd[x]` the central difference.

The program is read with derive's whitelist parser, one assignment at a
time, every earlier name standing for its node; SymPy merges what is written
twice within one expression (`a*a` is `a²`, one node), so a value used by two
nodes is written as a name used in two places.
"""

import difflib
import math
import re
from dataclasses import dataclass

import sympy
from sympy import Add, Heaviside, Integer, Mul, Pow, Symbol

from ..errors import DeriveError, ExpressionError
from ..expr import CONSTANTS, FUNCTIONS, parse_expression, written_order
from ..fields import Choice, Declarations, Declared, Structured, check_constants
from ..steps import EvaluationError, SolutionBuilder, Sym, evaluate_formula, format_number

MAX_STATEMENTS = 40
MAX_NODES = 80
MAX_INPUTS = 12
FD_STEP = 1e-4  # h of the central difference (f(x + h) - f(x - h)) / 2h: error ~h² f‴, far below 6 digits
FD_AGREE = 1e-6  # relative difference below which the check says the two agree
ROUNDED_AGREE = 10  # units of the last decimal kept by which a rounded chain may miss the central difference
MODES = ("both", "reverse", "forward")
OUTPUT = "f"  # the name of a program written as one expression
_NAME = re.compile(r"(?<![\w.])[^\W\d]\w*")
_ASSIGNMENT = re.compile(r"^\s*([^\W\d]\w*)\s*=(?!=)(.*)$", re.S)
_RESERVED = re.compile(r"^v\d+$")  # the graph's unnamed nodes are printed v₄, v₅, ...

ERRORS_AT = ("program",)

DECLARED = Declarations(
    Declared("program", Structured({"anyOf": [{"type": "string"},
                                              {"type": "array", "items": {"type": "string"}, "minItems": 1,
                                               "maxItems": MAX_STATEMENTS}]}),
             "the function: one expression in the inputs (`(x + y) * z`, its value named f), or assignments "
             "`name = expression`, one per list item (or per line, or separated by `;`), each using the inputs "
             "and the names assigned before it; the last one is the output. Operations: `+ - * / ^`, `exp`, "
             "`log`, `sqrt`, `tanh`, `sigmoid`, `relu`, `max`, `min`, `abs`, `sin`, `cos`"),
    Declared("inputs", Structured({"type": "object", "additionalProperties": {"type": "number"},
                                   "minProperties": 1, "maxProperties": MAX_INPUTS}),
             "the inputs' values, `name: number`, in the order the graph numbers them (`{x: -2, y: 5, z: -4}`)"),
    Declared("wrt", Structured({"type": "array", "items": {"type": "string"}}),
             "the inputs to differentiate with respect to (the others are held constant, as data)",
             default=None, shown_default="every input"),
    Declared("forward", Structured({"type": "string"}),
             "the input whose tangents forward mode pushes through the graph", default=None,
             shown_default="the first of `wrt`"),
    Declared("modes", Choice(MODES), "which modes are worked: `both`, `reverse` (back-propagation) or `forward`",
             default="both"),
)


# -- the graph ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Node:
    """One node of the graph.

    index: its number, 1 first, in topological order; op: its operation's
    name (OPERATIONS); args: the numbers of its operands; formula: its value
    as a SymPy expression over the operands' Symbols `v[a]`; local: per
    operand, ∂v/∂operand over the Symbols of the operands and the node
    itself; name: the program's name for it, or ""; statement: the index of
    the assignment that made it (None for an input and a constant).
    """

    index: int
    op: str
    args: tuple
    formula: object
    local: tuple
    name: str = ""
    statement: int = None

    @property
    def is_input(self):
        return self.op == "input"

    @property
    def is_constant(self):
        return self.op == "const"


OPERATIONS = {  # op -> how a node's note names it
    "input": "input", "const": "constant", "add": "sum", "sub": "difference", "lin": "linear combination",
    "mul": "product", "scale": "constant multiple", "neg": "negation", "div": "quotient", "pow": "power",
    "powv": "power", "exp": "exp", "log": "log", "tanh": "tanh", "sigmoid": "sigmoid", "relu": "relu",
    "max": "max", "min": "min", "abs": "abs", "sin": "sin", "cos": "cos",
}
SUPPORTED = "+, -, *, /, ^, exp, log, sqrt, tanh, sigmoid, relu, max, min, abs, sin, cos"


def v(index):
    """The Symbol of node `index`'s value."""
    return Symbol(f"v[{index}]")


def _operation(op, operands, own, parameter=None):
    """(formula, local derivatives) of a node `op` of the operand Symbols `operands`; `own` is the node's
    Symbol (a derivative written in the node's own value reuses it: exp′ = exp, tanh′ = 1 - tanh²,
    σ′ = σ (1 - σ)); `parameter` holds an operation's constants."""
    a = operands[0] if operands else None
    b = operands[1] if len(operands) > 1 else None
    if op in ("add", "sub", "lin"):  # c = Σ kᵢ aᵢ + k₀: ∂c/∂aᵢ = kᵢ
        coefficients, constant = parameter
        terms = [k * x if k != 1 else x for k, x in zip(coefficients, operands)]
        terms += [constant] if constant != 0 else []
        return Add(*terms, evaluate=False), tuple(coefficients)
    if op == "mul":  # c = k a₁ a₂ ...: ∂c/∂aᵢ = k Π of the others
        k = parameter
        def product(factors):
            factors = ([k] if k != 1 else []) + list(factors)
            return factors[0] if len(factors) == 1 else Mul(*factors, evaluate=False)
        return product(operands), tuple(product(operands[:i] + operands[i + 1:]) for i in range(len(operands)))
    if op in ("scale", "neg"):  # c = k a: ∂c/∂a = k
        return Mul(parameter, a, evaluate=False), (parameter,)
    if op == "div":  # c = a / b: ∂c/∂a = 1/b, ∂c/∂b = -a/b²
        return Mul(a, Pow(b, -1), evaluate=False), (Pow(b, -1), Mul(-1, a, Pow(b, -2), evaluate=False))
    if op == "pow":  # c = aⁿ: ∂c/∂a = n aⁿ⁻¹
        n = parameter
        slope = n if n == 1 else Mul(n, a, evaluate=False) if n == 2 else Mul(n, Pow(a, n - 1), evaluate=False)
        return Pow(a, n, evaluate=False), (slope,)
    if op == "powv":  # c = a^b: ∂c/∂a = b a^(b-1), ∂c/∂b = c log a
        return Pow(a, b, evaluate=False), (Mul(b, Pow(a, b - 1), evaluate=False),
                                           Mul(own, sympy.log(a), evaluate=False))
    if op == "exp":  # c = exp(a): ∂c/∂a = c
        return sympy.exp(a), (own,)
    if op == "log":  # c = log(a): ∂c/∂a = 1/a
        return sympy.log(a), (Pow(a, -1),)
    if op == "tanh":  # c = tanh(a): ∂c/∂a = 1 - c²
        return sympy.tanh(a), (1 - own**2,)
    if op == "sigmoid":  # c = σ(a): ∂c/∂a = c (1 - c)
        return 1 / (1 + sympy.exp(-a)), (Mul(own, 1 - own, evaluate=False),)
    if op == "relu":  # c = max(0, a): ∂c/∂a = H(a), 0 at the kink
        return sympy.Max(0, a), (Heaviside(a, 0),)
    if op == "max":  # c = max(a, b): a's slope where a = b, as written
        return sympy.Max(a, b), (Heaviside(a - b, 1), Heaviside(b - a, 0))
    if op == "min":  # c = min(a, b): a's slope where a = b, as written
        return sympy.Min(a, b), (Heaviside(b - a, 1), Heaviside(a - b, 0))
    if op == "abs":  # c = |a|: ∂c/∂a = sign(a), 0 at the kink
        return sympy.Abs(a), (sympy.sign(a),)
    if op == "sin":
        return sympy.sin(a), (sympy.cos(a),)
    if op == "cos":
        return sympy.cos(a), (-sympy.sin(a),)
    raise DeriveError(f"internal: unknown operation {op}")


class _GraphBuilder:
    """Breaks each assignment's expression into nodes, operands before the node that uses them."""

    def __init__(self):
        self.nodes = []
        self.known = {}  # Symbol of an input or assigned name -> node index

    def add(self, op, operands, parameter=None, name="", statement=None, value=None):
        index = len(self.nodes) + 1
        if index > MAX_NODES:
            raise ExpressionError(f"graph too large (more than {MAX_NODES} nodes)")
        if op == "input":
            formula, local = None, ()
        elif op == "const":
            formula, local = value, ()
        else:
            formula, local = _operation(op, [v(a) for a in operands], v(index), parameter)
        self.nodes.append(Node(index, op, tuple(operands), formula, local, name, statement))
        return index

    def statement(self, expression, name, number):
        """Add the nodes of one assignment's expression; the last one gets `name`."""
        if expression in self.known:
            raise ExpressionError(f"{name} = {expression} only renames a value; use that name itself")
        if not expression.free_symbols:
            raise ExpressionError(f"{name} = {expression} does not depend on any input (as SymPy reads it)")
        memo = {}
        top = self._node(expression, memo, number)
        node = self.nodes[top - 1]
        self.nodes[top - 1] = Node(node.index, node.op, node.args, node.formula, node.local, name, number)
        return top

    def _node(self, e, memo, number):
        if e in self.known:
            return self.known[e]
        if e in memo:
            return memo[e]
        if not e.free_symbols:
            index = self.add("const", (), value=e, statement=number)
        else:
            op, operands, parameter = _classify(e)
            index = self.add(op, [self._node(o, memo, number) for o in operands], parameter, statement=number)
        memo[e] = index
        return index


def _sigmoid_argument(e):
    """u where e is σ(u) = 1/(1 + exp(-u)) as the parser builds it, else None."""
    if e.is_Pow and e.exp == -1 and e.base.is_Add and len(e.base.args) == 2 and 1 in e.base.args:
        other = next(t for t in e.base.args if t != 1)
        if isinstance(other, sympy.exp):
            return -other.args[0]
    return None


def _classify(e):
    """(op, operand expressions, parameter) of a SymPy expression that is not a known name or a constant."""
    u = _sigmoid_argument(e)
    if u is not None:
        return "sigmoid", [u], None
    if e.is_Add:
        constant, rest = e.as_coeff_Add()
        pairs = [term.as_coeff_Mul() for term in Add.make_args(rest)]
        coefficients = [k for k, _ in pairs]
        operands = [x for _, x in pairs]
        if constant == 0 and len(pairs) == 2 and sorted(coefficients) == [-1, 1]:
            if coefficients[0] == -1:
                coefficients, operands = coefficients[::-1], operands[::-1]
            return "sub", operands, (tuple(coefficients), constant)
        op = "add" if constant == 0 and len(pairs) == 2 and coefficients == [1, 1] else "lin"
        return op, operands, (tuple(coefficients), constant)
    if e.is_Mul:
        k, factors = e.as_coeff_mul()
        factors = list(factors)
        if len(factors) == 1:
            return ("neg" if k == -1 else "scale"), factors, k
        inverted = [f for f in factors if f.is_Pow and f.exp == -1 and _sigmoid_argument(f) is None]
        if k == 1 and len(factors) == 2 and len(inverted) == 1:
            numerator = next(f for f in factors if f is not inverted[0])
            return "div", [numerator, inverted[0].base], None
        return "mul", factors, k
    if e.is_Pow:
        if e.exp.free_symbols:
            return "powv", [e.base, e.exp], None
        return "pow", [e.base], e.exp
    if isinstance(e, (sympy.Max, sympy.Min)):
        args = list(written_order(e))
        if len(args) != 2:
            raise ExpressionError(f"{type(e).__name__.lower()}() of {len(args)} values: nest max and min two "
                                  "values at a time")
        if isinstance(e, sympy.Max) and 0 in args:
            return "relu", [next(a for a in args if a != 0)], None
        return type(e).__name__.lower(), args, None
    for op, function in (("exp", sympy.exp), ("log", sympy.log), ("tanh", sympy.tanh), ("abs", sympy.Abs),
                         ("sin", sympy.sin), ("cos", sympy.cos)):
        if isinstance(e, function):
            return op, list(e.args), None
    name = type(e).__name__.lower()
    raise ExpressionError(f"operation {name} is not one of a computational graph's here ({SUPPORTED})")


# -- reading ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class AutodiffSpec:
    """A validated autodiff problem (fields: docs/kinds/autodiff.md).

    nodes: the graph, inputs first, in topological order; inputs: (name,
    value) pairs; output: the index of the output node; output_name: its
    name; wrt: the inputs differentiated; forward: the input of forward
    mode; modes: "both", "reverse" or "forward"; values: every node's
    forward value (floats).
    """

    nodes: tuple
    inputs: tuple
    output: int
    output_name: str
    wrt: tuple
    forward: str
    modes: str
    values: tuple


def read(root):
    """Validate the autodiff fields into an AutodiffSpec: the program parsed and broken into its graph."""
    inputs_field = DECLARED.field(root, "inputs").mapping()
    if not inputs_field.value:
        raise inputs_field.error("expected at least one input, `name: number`")
    if len(inputs_field.value) > MAX_INPUTS:
        raise inputs_field.error(f"expected at most {MAX_INPUTS} inputs, got {len(inputs_field.value)}")
    graph, inputs = _GraphBuilder(), []
    for name, _ in inputs_field.value.items():
        field = inputs_field.child(name, inputs_field.value[name])
        _check_name(field, str(name), "an input")
        value = field.number()
        index = graph.add("input", (), name=str(name))
        graph.known[Symbol(str(name))] = index
        inputs.append((str(name), value))
    statements = _statements(DECLARED.field(root, "program"))
    assigned = {}
    for number, (field, name, text) in enumerate(statements):
        later = {other for _, other, _ in statements[number:]}
        _check_statement(field, name, text, assigned, dict(inputs), later)
        variables = {symbol.name: symbol for symbol in graph.known}
        try:
            expression = check_constants(parse_expression(text, variables))
            top = graph.statement(expression, name, number)
        except ExpressionError as error:
            raise field.error(error.message) from None
        graph.known[Symbol(name)] = top
        assigned[name] = field
    nodes = tuple(graph.nodes)
    output = graph.known[Symbol(statements[-1][1])]
    _check_used(nodes, output, inputs_field, statements)
    values = _forward_values(nodes, statements, inputs_field)
    wrt = _read_wrt(root, inputs)
    forward = _read_forward(root, wrt)
    return AutodiffSpec(nodes, tuple(inputs), output, statements[-1][1], wrt, forward,
                        DECLARED.read(root, "modes"), values)


def _statements(field):
    """[(field, name, expression text)] of the program: one expression (named f), or assignments."""
    if isinstance(field.value, list):
        items = field.items()
        if not 1 <= len(items) <= MAX_STATEMENTS:
            raise field.error(f"expected 1 to {MAX_STATEMENTS} assignments, got {len(items)}")
        pieces = [(item, item.text("an assignment `name = expression`")) for item in items]
        if len(pieces) == 1 and not _ASSIGNMENT.match(pieces[0][1]):
            return [(pieces[0][0], OUTPUT, pieces[0][1])]
    else:
        text = field.text("an expression or assignments `name = expression`")
        parts = [p for p in re.split(r"[;\n]", text) if p.strip()]
        if not parts:
            raise field.error("expected an expression or assignments `name = expression`, got empty text")
        if len(parts) == 1 and not _ASSIGNMENT.match(parts[0]):
            return [(field, OUTPUT, parts[0])]
        if len(parts) > MAX_STATEMENTS:
            raise field.error(f"expected 1 to {MAX_STATEMENTS} assignments, got {len(parts)}")
        pieces = [(field, p) for p in parts]
    out = []
    for item, text in pieces:
        match = _ASSIGNMENT.match(text)
        if match is None:
            raise item.error(f"expected an assignment `name = expression`, got {text.strip()!r}")
        out.append((item, match[1], match[2]))
    return out


def _check_name(field, name, what):
    if not re.fullmatch(r"[A-Za-z_]\w*", name) or not name.isascii():
        raise field.error(f"expected {what}'s name to be letters, digits and _ (starting with a letter), got {name!r}")
    if name in FUNCTIONS or name in CONSTANTS:
        raise field.error(f"{name!r} is the name of a function or a constant; choose another name for {what}")
    if _RESERVED.match(name):
        raise field.error(f"names v1, v2, ... are kept for the graph's unnamed nodes; choose another for {what}")


def _check_statement(field, name, text, assigned, inputs, later):
    """Refuse a name assigned twice, an input reassigned, and a name used before it has a value."""
    _check_name(field, name, "an assigned value")
    if name in inputs:
        raise field.error(f"{name} is an input (given under inputs); a name is assigned once")
    if name in assigned:
        raise field.error(f"{name} is assigned twice (first at line {assigned[name].line}); a name is assigned "
                          "once, so the graph has no cycle")
    for used in dict.fromkeys(_NAME.findall(text)):
        if used in FUNCTIONS or used in CONSTANTS or used in inputs or used in assigned:
            continue
        if re.search(rf"(?<![\w.]){re.escape(used)}\s*\(", text):
            close = difflib.get_close_matches(used, list(FUNCTIONS), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise field.error(f"unknown operation {used!r}{hint}; a graph's operations are {SUPPORTED}")
        if used == name or used in later:
            raise field.error(f"{used} is used before it is assigned; assign every name before using it, so the "
                              "graph has no cycle")
        known = ", ".join([*inputs, *assigned])
        raise field.error(f"unknown name {used!r}: give its value under inputs, or assign it before this line "
                          f"(known here: {known})")


def _check_used(nodes, output, inputs_field, statements):
    """Refuse an input or an assignment that does not lead to the output."""
    used = {output}
    for node in reversed(nodes):
        if node.index in used:
            used.update(node.args)
    for node in nodes:
        if node.name and node.index not in used:
            if node.is_input:
                raise inputs_field.child(node.name, 0).error(f"input {node.name} is not used by the program")
            field = statements[node.statement][0]
            raise field.error(f"{node.name} is assigned but does not lead to the output "
                              f"{statements[-1][1]}")


def _forward_values(nodes, statements, inputs_field):
    """Every node's value and local derivatives on the inputs, refused where one has no finite value."""
    env = {}
    for node in nodes:
        key = str(v(node.index))
        if node.is_input:
            env[key] = float(inputs_field.value[node.name])
            continue
        field = statements[node.statement][0]
        shown = _plain(node, nodes)
        try:
            env[key] = evaluate_formula(node.formula, env, key)
        except EvaluationError as error:
            reason = {ZeroDivisionError: "a division by zero", OverflowError: "a number too large"}.get(
                error.cause, f"outside the domain of {_operation_word(node)}")
            raise field.error(f"{shown} has no value at these inputs ({_operand_values(node, env, nodes)}): "
                              f"{reason}") from None
        if not math.isfinite(env[key]):
            raise field.error(f"{shown} is not a finite number at these inputs ({_operand_values(node, env, nodes)})")
        for i, local in enumerate(node.local):
            try:
                slope = evaluate_formula(local, env, key)
            except DeriveError:
                slope = math.nan
            if not math.isfinite(slope) and not nodes[node.args[i] - 1].is_constant:
                raise field.error(f"the derivative of {shown} is not defined at these inputs "
                                  f"({_operand_values(node, env, nodes)})")
    return tuple(env[str(v(n.index))] for n in nodes)


def _plain(node, nodes):
    """A node as an error message names it: `node 5, log(b)`, `node 6, log(a - z)` (an operand without a
    name in the program is written out, as the program writes it)."""
    from ..render.formula import text_formula

    return f"node {node.index}, {text_formula(node.formula.xreplace(_operands_written(node, nodes)), {})}"


def _operands_written(node, nodes):
    """{operand Symbol: the operand as the program writes it}: its name, or its unnamed operations spelt out."""
    return {v(a): _written(a, nodes) for a in node.args}


def _written(index, nodes):
    node = nodes[index - 1]
    if node.name:
        return Symbol(node.name)
    return node.formula.xreplace(_operands_written(node, nodes))


def _operation_word(node):
    """The operation as the program writes it: `sqrt` for the power 1/2, `a power` for another power."""
    if node.op != "pow":
        return node.op
    exponent = node.formula.exp if isinstance(node.formula, sympy.Pow) else None
    return "sqrt" if exponent == sympy.Rational(1, 2) else "a power"


def _name_of(index, nodes):
    from ..render.formula import text_formula

    return nodes[index - 1].name or text_formula(_written(index, nodes), {})


def _operand_values(node, env, nodes):
    return ", ".join(f"{_name_of(a, nodes)} = {format_number(env[str(v(a))])}" for a in dict.fromkeys(node.args))


def _read_wrt(root, inputs):
    names = [name for name, _ in inputs]
    field = DECLARED.field(root, "wrt") if root.has("wrt") else None
    if field is None:
        return tuple(names)
    items = field.items()
    if not items:
        raise field.error("expected at least one input to differentiate with respect to")
    chosen = []
    for item in items:
        name = item.text("an input's name")
        if name not in names:
            raise item.error(f"expected one of the inputs {', '.join(names)}, got {name!r}")
        if name in chosen:
            raise item.error(f"{name} is listed twice")
        chosen.append(name)
    return tuple(n for n in names if n in chosen)


def _read_forward(root, wrt):
    if not root.has("forward"):
        return wrt[0]
    field = DECLARED.field(root, "forward")
    name = field.text("an input's name")
    if name not in wrt:
        raise field.error(f"expected one of the inputs differentiated ({', '.join(wrt)}), got {name!r}")
    return name


# -- symbols ---------------------------------------------------------------------------------------

def _shown_name(name):
    """A program's name as printed: z1 -> z₁, W3 -> W₃, x_2 -> x₂, rate -> rate."""
    match = re.fullmatch(r"([A-Za-z]+)_?(\d+)", name)
    if match:
        base, index = match.groups()
        latex = base if len(base) == 1 else r"\mathrm{%s}" % base
        return Sym.indexed(base, latex, sub=(index,))
    latex = name if len(name) == 1 else r"\mathrm{%s}" % name.replace("_", r"\_")
    return Sym(name, latex)


def node_symbol(node):
    """How node k is printed: its program name, or v with its number (v₄)."""
    return _shown_name(node.name) if node.name else Sym.indexed("v", "v", sub=(node.index,))


def _partial(top, bottom):
    """∂top/∂bottom."""
    return Sym(f"∂{top.text}/∂{bottom.text}",
               r"\frac{\partial %s}{\partial %s}" % (top.latex, bottom.latex))


def _accented(node, mark, command, word):
    """A node's symbol with a mark over its letter (v̄₄, ż₁); a name of several letters is written
    `word(name)` in text and under a wide mark in LaTeX."""
    match = re.fullmatch(r"([A-Za-z]+)_?(\d+)", node.name)
    base, index = match.groups() if match else (node.name, None)
    if not node.name:
        base, index = "v", str(node.index)
    if len(base) == 1:
        text, latex = base + mark, r"\%s{%s}" % (command, base)
    else:
        wide = "overline" if command == "bar" else command
        text, latex = f"{word}({base})", r"\%s{\mathrm{%s}}" % (wide, base.replace("_", r"\_"))
    return Sym.indexed(text, latex, sub=(index,) if index else ())


def adjoint_symbol(node):
    """v̄ = ∂y/∂v, the adjoint of a node."""
    return _accented(node, "\u0304", "bar", "adj")


def tangent_symbol(node):
    """v̇ = ∂v/∂x, the tangent of a node in forward mode."""
    return _accented(node, "\u0307", "dot", "dot")


# -- the solution ----------------------------------------------------------------------------------

FORWARD = "Forward pass (the graph in topological order)"
REVERSE = "Reverse mode: adjoints from the output back"
COUNTS = "Operation count"
CHECK_VALUES = "Check: the whole function evaluated a step h away"
CHECK = "Check: central differences"


class Graph:
    """The graph of a spec with what the solution asks of it: who uses each node, which nodes are active."""

    def __init__(self, spec):
        self.spec = spec
        self.nodes = spec.nodes
        self.by_name = {node.name: node for node in self.nodes if node.is_input}
        self.users = {node.index: [] for node in self.nodes}  # node -> [(user, operand position)]
        for node in self.nodes:
            for i, a in enumerate(node.args):
                self.users[a].append((node.index, i))
        self.active = self.depending_on(spec.wrt)

    def depending_on(self, names):
        """The nodes whose value depends on one of the inputs `names`."""
        found = {self.by_name[name].index for name in names}
        for node in self.nodes:
            if any(a in found for a in node.args):
                found.add(node.index)
        return found

    def symbol(self, index):
        return node_symbol(self.nodes[index - 1])


def adjoint_key(graph, index):
    node = graph.nodes[index - 1]
    return f"grad[{node.name}]" if node.is_input else f"adj[{index}]"


def solve(problem, rounding):
    """The Solution: the inputs, the forward pass, reverse mode, forward mode, the counts and the check."""
    spec = problem.spec
    graph = Graph(spec)
    out = SolutionBuilder(rounding)
    output = graph.symbol(spec.output)
    for node in graph.nodes:
        if node.is_input:
            value = dict(spec.inputs)[node.name]
            out.given(str(v(node.index)), node_symbol(node), value)
    for node in graph.nodes:
        if not node.is_input:
            out.step(str(v(node.index)), node_symbol(node), node.formula, FORWARD, note=_node_note(graph, node))
    emitted = set()
    if spec.modes in ("both", "reverse"):
        _reverse(out, graph, output, emitted)
    if spec.modes in ("both", "forward"):
        _forward_mode(out, graph, emitted)
    _counts(out, graph)
    _check(out, graph, output)
    return out.build(problem.name, problem.kind, problem.title, notes=_notes(graph, output))


def _node_note(graph, node):
    """node k: the operation of its operands; the nodes that use it."""
    operands = ", ".join(graph.symbol(a).text for a in node.args)
    note = f"node {node.index}: {OPERATIONS[node.op]} of {operands}"
    users = sorted({user for user, _ in graph.users[node.index]})
    if len(users) > 1:
        note += f"; used by {len(users)} nodes ({', '.join(graph.symbol(u).text for u in users)})"
    elif users:
        note += f"; used by {graph.symbol(users[0]).text}"
    return note + ("; the output" if node.index == graph.spec.output else "")


def _locals(out, graph, node, section, emitted):
    """Node `node`'s local derivatives ∂v/∂a, for its operands a that need one (once)."""
    for i, a in enumerate(node.args):
        key = f"local[{node.index}][{i + 1}]"
        if key in emitted or a not in graph.active:
            continue
        emitted.add(key)
        note = "the value stored in the forward pass, reused" if node.local[i] == v(node.index) else ""
        out.step(key, _partial(graph.symbol(node.index), graph.symbol(a)), node.local[i], section, note=note)


def _reverse(out, graph, output, emitted):
    """The output seeded with 1; then, in reverse order, each active node's adjoint and local derivatives."""
    spec = graph.spec
    for node in reversed(graph.nodes):
        if node.index not in graph.active or (node.is_input and node.name not in spec.wrt):
            continue
        key, symbol = adjoint_key(graph, node.index), adjoint_symbol(node)
        if node.index == spec.output:
            out.step(key, symbol, Integer(1), REVERSE,
                     note=f"the seed: {symbol.text} = ∂{output.text}/∂{output.text} = 1")
        else:
            uses = [(user, i) for user, i in graph.users[node.index] if user in graph.active]
            terms = [Mul(Symbol(adjoint_key(graph, user)), Symbol(f"local[{user}][{i + 1}]"), evaluate=False)
                     for user, i in uses]
            formula = terms[0] if len(terms) == 1 else Add(*terms, evaluate=False)
            note = f"= ∂{output.text}/∂{symbol_text(graph, node.index)}"
            if len(terms) > 1:
                note += f"; {symbol_text(graph, node.index)} is used {len(terms)} times: the contributions add"
            out.step(key, symbol, formula, REVERSE, note=note)
        if not node.is_input:
            _locals(out, graph, node, REVERSE, emitted)


def symbol_text(graph, index):
    return graph.symbol(index).text


def _forward_mode(out, graph, emitted):
    """Tangents ∂v/∂x of every node that depends on x, from x's seed 1 forward."""
    spec = graph.spec
    x = graph.by_name[spec.forward]
    section = f"Forward mode: tangents ∂v/∂{graph.symbol(x.index).text}"
    shown_x = graph.symbol(x.index)
    reached = graph.depending_on([spec.forward])
    for node in graph.nodes:
        if node.index not in reached:
            continue
        symbol = tangent_symbol(node)
        if node.index == x.index:
            out.step(f"dot[{node.index}]", symbol, Integer(1), section,
                     note=f"the seed: {symbol.text} = ∂{shown_x.text}/∂{shown_x.text} = 1")
            continue
        _locals(out, graph, node, section, emitted)
        terms = [Mul(Symbol(f"local[{node.index}][{i + 1}]"), Symbol(f"dot[{a}]"), evaluate=False)
                 for i, a in enumerate(node.args) if a in reached]
        formula = terms[0] if len(terms) == 1 else Add(*terms, evaluate=False)
        note = f"= ∂{symbol_text(graph, node.index)}/∂{shown_x.text}"
        if node.index == spec.output and spec.modes == "both":
            note += ", the same number as reverse mode's"
        out.step(f"dot[{node.index}]", symbol, formula, section, note=note)


def _gradients(n):
    return "the gradient" if n == 1 else f"all {n} gradients"


def _edges(graph, reached):
    """The edges (node, operand) whose operand lies in `reached`: one multiplication each per pass."""
    return sum(1 for node in graph.nodes for a in node.args if a in reached)


def _counts(out, graph):
    """Multiplications of the chain rule in each mode: one per edge and pass."""
    spec = graph.spec
    reverse = _edges(graph, graph.active)
    out.step("ops.reverse", Sym("N_reverse", r"N_{\mathrm{reverse}}"), Integer(reverse), COUNTS,
             note=f"one pass back gives {_gradients(len(spec.wrt))}: one product c̄ · ∂c/∂v per edge, each "
                  "adjoint stored and reused by the nodes before it")
    terms = []
    for name in spec.wrt:
        x = graph.by_name[name]
        count = _edges(graph, graph.depending_on([name]))
        key = f"ops.forward[{name}]"
        out.step(key, Sym(f"N_forward({graph.symbol(x.index).text})",
                          r"N_{\mathrm{forward}}(%s)" % graph.symbol(x.index).latex), Integer(count), COUNTS,
                 note=f"one pass forward for {graph.symbol(x.index).text}: one product ∂v/∂a · ȧ per edge")
        terms.append(Symbol(key))
    if len(terms) > 1:
        out.step("ops.forward", Sym("N_forward", r"N_{\mathrm{forward}}"), Add(*terms, evaluate=False), COUNTS,
                 note=f"forward mode needs one pass per input: {len(terms)} passes for {len(terms)} gradients")


def _check(out, graph, output):
    """Each gradient against the central difference (f(x + h) - f(x - h)) / 2h.

    f(x ± h) is the function evaluated afresh at the shifted input (the
    nodes' forward formulas in floating point, no derivative involved), not
    through the steps above, and given to the check unrounded (a difference
    of rounded values would be noise).
    """
    spec = graph.spec
    h = out.given("fd.h", Sym("h", "h"), FD_STEP, section=CHECK_VALUES)
    inputs = {str(v(node.index)): out.value(str(v(node.index))) for node in graph.nodes if node.is_input}
    checks = []
    for name in spec.wrt:
        x = graph.by_name[name]
        shown_x = graph.symbol(x.index)
        shifted = []
        for sign, mark, latex in ((1, "+", "+"), (-1, "-", "-")):
            moved = {**inputs, str(v(x.index)): inputs[str(v(x.index))] + sign * FD_STEP}
            value = _function_at(graph, moved)
            if not math.isfinite(value):
                break
            key = f"fd[{name}].{'plus' if sign > 0 else 'minus'}"
            shifted.append(out.given(key, Sym(f"{output.text}({shown_x.text} {mark} h)",
                                              r"%s(%s %s h)" % (output.latex, shown_x.latex, latex)),
                                     value, section=CHECK_VALUES, group=f"fd.{name}"))
        if len(shifted) < 2:
            continue  # the function is not defined a step h away: no check there
        checks.append((name, shown_x, shifted))
    for name, shown_x, shifted in checks:
        formula = Mul(Add(shifted[0], -shifted[1], evaluate=False),
                      Pow(Mul(2, h, evaluate=False), -1, evaluate=False), evaluate=False)
        if f"grad[{name}]" in out.env:
            gradient = out.value(f"grad[{name}]")
        else:  # forward mode alone: its output tangent is the gradient for its one input
            gradient = out.value(f"dot[{spec.output}]") if name == spec.forward else None
        key = f"fd[{name}]"
        out.step(key, Sym(f"fd({shown_x.text})", r"\mathrm{fd}(%s)" % shown_x.latex), formula, CHECK)
        shown = f"∂{output.text}/∂{shown_x.text}"
        if gradient is None:
            continue
        difference = abs(out.value(key) - gradient)
        allowed = FD_AGREE * max(1.0, abs(gradient))
        if out.rounding.decimals is not None:  # the chain's rounding errors add up along the graph
            allowed += ROUNDED_AGREE * 10.0 ** -out.rounding.decimals
        if difference <= allowed:
            note = (f"agrees with {shown} = {format_number(gradient)}; computed from the values at "
                    f"{shown_x.text} ± h unrounded")
        else:
            note = (f"differs from {shown} = {format_number(gradient)} by {format_number(difference)}: the "
                    "function has a kink here (relu, max, min or abs at a tie), where the graph uses a one-sided "
                    "slope")
        out.annotate(key, note)


def _function_at(graph, inputs):
    """The output's value with the inputs at `inputs` (key -> float), node by node; NaN where it has none."""
    env = dict(inputs)
    for node in graph.nodes:
        if not node.is_input:
            try:
                env[str(v(node.index))] = evaluate_formula(node.formula, env)
            except DeriveError:
                return math.nan
    return env[str(v(graph.spec.output))]


def _notes(graph, output):
    """How the steps are named and what each mode computes."""
    y = output.text
    inputs = [node for node in graph.nodes if node.is_input]
    computed = [node for node in graph.nodes if not node.is_input]

    def listed(nodes):
        return ", ".join(f"{node.index} {node_symbol(node).text}" for node in nodes)

    def listed_latex(nodes):
        return r",\ ".join(f"{node.index}\\ {node_symbol(node).latex}" for node in nodes)

    notes = [
        Sym(f"the graph's nodes in topological order: {listed(inputs)} (the inputs); {listed(computed)} "
            "(each worked out below, from its operands)",
            r"\text{the graph's nodes in topological order: } %s \text{ (the inputs); } %s "
            r"\text{ (each worked out below, from its operands)}" % (listed_latex(inputs), listed_latex(computed))),
        _words(f"reverse mode: the adjoint v̄ = ∂{y}/∂v of a node v is the sum, over the nodes c that use v, of "
               f"c̄ · ∂c/∂v; a value used twice gets both contributions"),
        _words("forward mode: the tangent v̇ = ∂v/∂x of a node v is the sum, over its operands a, of ∂v/∂a · ȧ"),
        _words("keys: v[k] node k's value, local[k][i] the derivative of node k by its i-th operand, adj[k] the "
               "adjoint of node k, grad[x] that of input x, dot[k] node k's tangent, fd[x] the central "
               "difference"),
    ]
    ops = {node.op for node in graph.nodes}
    if ops & {"relu", "max", "min", "abs"}:
        notes.append(_words("at a kink the graph uses one slope: relu′(0) = 0, abs′(0) = 0, and max or min takes "
                            "the slope of its first value where the two are equal"))
    if graph.spec.wrt != tuple(name for name, _ in graph.spec.inputs):
        held = [name for name, _ in graph.spec.inputs if name not in graph.spec.wrt]
        notes.append(_words(f"held constant (not differentiated): {', '.join(held)}"))
    return notes


def _words(text):
    return Sym(text, r"\text{%s}" % text)
