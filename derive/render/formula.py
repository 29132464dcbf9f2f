"""Printers for one formula, in the lecture's reading order.

Formulas are SymPy trees built with `evaluate=False`, so their terms stand
in the order the lecture writes them (`h¹₁ w²₁₁ + h¹₂ w²₂₁ - θ²₁`). The
printers here walk that order as it is. Each prints a formula either with
its symbols (`symbols`: key -> Sym) or with the numbers substituted
(`values`: key -> float, formatted by `number`), which is how a solution
line reads "formula = numbers = value".

Dispatch is SymPy's: `_print_Add`, `_print_Mul`, ... on a Printer subclass;
TextFormula, LatexFormula and KeyFormula differ in a few tokens only.
"""

import re

from sympy import Pow
from sympy.printing.printer import Printer

from ..steps import format_number

ADD, MUL, POW, ATOM = 1, 2, 3, 4


class FormulaPrinter(Printer):
    """Common walk; subclasses set the tokens of their format."""

    printmethod = "_derive_formula"
    _default_settings = {"symbols": None, "values": None, "rounding": None}

    times_symbols = " "  # between symbols when printed as symbols
    times_numbers = "·"  # between factors when a number is involved
    minus = "-"

    def doprint(self, expr):
        return self._print(expr, leading=True)  # -0.0264·1, not (-0.0264)·1, at the start

    # -- helpers ---------------------------------------------------------
    def _precedence(self, expr):
        if expr.is_Add:
            return ADD
        if expr.is_Mul:
            return ADD if _negative_coefficient(expr) else MUL
        if expr.is_Rational and not expr.is_Integer:
            return MUL
        if expr.is_Number:
            return ADD if expr < 0 else ATOM
        if expr.is_Symbol and self._settings["values"] is not None:
            return ADD if self._settings["values"][expr.name] < 0 else ATOM
        if expr.is_Pow:
            return MUL if expr.exp.is_negative else POW
        return ATOM

    def paren(self, expr, level, leading=False):
        """Print `expr`, in parentheses if it binds less tightly than `level`."""
        if leading and self._precedence(expr) == ADD and not expr.is_Add and not (
            expr.is_Mul and _negative_coefficient(expr)
        ):
            return self._print(expr, leading=True)
        if self._precedence(expr) < level:
            return self.group(self._print(expr, leading=True))
        return self._print(expr, leading=leading)

    def group(self, text):
        return f"({text})"

    def is_numeric(self, expr):
        return expr.is_Number or (expr.is_Symbol and self._settings["values"] is not None)

    # -- nodes -----------------------------------------------------------
    def _print_Symbol(self, expr, leading=False):
        values = self._settings["values"]
        if values is not None:
            return self.number(values[expr.name])
        symbols = self._settings["symbols"] or {}
        shown = symbols.get(expr.name)
        return self.symbol_text(shown) if shown is not None else expr.name

    def _print_Number(self, expr, leading=False):
        if expr.is_Rational and not expr.is_Integer:
            return self.fraction(str(expr.p), str(expr.q))
        return self.number(float(expr))

    def _print_NumberSymbol(self, expr, leading=False):
        return self.constant(expr)

    def _print_Exp1(self, expr, leading=False):
        return "e"

    def _print_Add(self, expr, leading=False):
        terms = list(expr.args)
        if len(terms) > 1 and terms[0].is_Number and terms[0] < 0:
            terms = terms[1:] + terms[:1]  # x - 1, not -1 + x
        out = self.paren(terms[0], ADD, leading=True)
        for term in terms[1:]:
            if term.is_Mul and _negative_coefficient(term):
                out += f" {self.minus} " + self._print_Mul(term, negate=True)
            elif term.is_Number and term < 0:
                out += f" {self.minus} " + self._print(-term)
            else:
                out += " + " + self.paren(term, MUL)  # a + (-1), not a + -1
        return out

    def _print_Mul(self, expr, leading=False, negate=False):
        factors = list(expr.args)
        sign = ""
        if factors[0].is_Number and factors[0] < 0:
            if factors[0] == -1:
                factors = factors[1:]
            else:
                factors = [-factors[0]] + factors[1:]
            if not negate:
                sign = self.minus
        numerator = [f for f in factors if not _reciprocal(f)]
        denominator = [_inverted(f) for f in factors if _reciprocal(f)]
        if denominator:
            body = self.divide(numerator, denominator)
        else:
            body = self.product(numerator, leading=leading and not sign and not negate)
        return sign + body

    def product(self, factors, leading):
        parts = []
        previous = None
        for index, factor in enumerate(factors):
            text = self.paren(factor, MUL, leading=leading and index == 0)
            if previous is not None:
                parts.append(self.times(previous, factor))
            parts.append(text)
            previous = factor
        return "".join(parts)

    def times(self, left, right):
        """The multiplication sign between two printed factors."""
        if self._settings["values"] is not None or (self.is_numeric(left) and self.is_numeric(right)):
            return self.times_numbers
        if left.is_Rational and not left.is_Integer:
            return self.times_numbers  # 1/2·(ŷ - y)^2 reads unambiguously
        return self.times_symbols

    def divide(self, numerator, denominator):
        """numerator / denominator, each a list of factors (an empty numerator is 1).

        A product above the bar needs no parentheses (`a b/c` reads as (a b)/c);
        below it, a product or a negative number does (`a/(b c)`, `a/(-2)`).
        """
        return f"{self.division_part(numerator, below=False)}/{self.division_part(denominator, below=True)}"

    def division_part(self, factors, below):
        if not factors:
            return "1"
        text = self.product(factors, leading=not below)
        if (below and len(factors) > 1) or (len(factors) == 1 and self._precedence(factors[0]) == MUL):
            return self.group(text)
        return text

    def _print_Pow(self, expr, leading=False):
        if _reciprocal(expr):
            return self.divide([], [_inverted(expr)])
        if expr.exp == 0.5 or (expr.exp.is_Rational and expr.exp.p == 1 and expr.exp.q == 2):
            return self.sqrt(self._print(expr.base, leading=True))
        base = self.paren(expr.base, ATOM if self.parenthesize_symbol_bases else POW + 1)
        return self.power(base, self.paren(expr.exp, POW + 1))

    parenthesize_symbol_bases = True

    def _print_Function(self, expr, leading=False):
        name = self.function_names.get(type(expr).__name__, type(expr).__name__.lower())
        args = expr.args
        if type(expr).__name__ == "Heaviside":
            args = args[:1]
        return self.call(name, [self._print(a, leading=True) for a in args])

    def _print_exp(self, expr, leading=False):
        return self.exponential(self._print(expr.args[0], leading=True))

    _print_Max = _print_Function
    _print_Min = _print_Function
    _print_Heaviside = _print_Function

    def _print_Derivative(self, expr, leading=False):
        if len(expr.variable_count) != 1:
            return self._print_Basic(expr)
        (variable, order), = expr.variable_count
        return self.derivative(self._print(expr.expr, leading=True), self._print(variable), order,
                               partial=len(expr.expr.free_symbols) > 1)

    def _print_KroneckerDelta(self, expr, leading=False):
        """δᵢⱼ: 1 when its two indices are equal, else 0."""
        return self.kronecker([self._print(index, leading=True) for index in expr.args])

    def _print_MatrixBase(self, expr, leading=False):
        rows = [[self._print(expr[i, j], leading=True) for j in range(expr.cols)] for i in range(expr.rows)]
        return self.matrix(rows)

    def matrix(self, rows):
        return "[" + ", ".join("[" + ", ".join(row) + "]" for row in rows) + "]"

    def _print_DisplaySymbol(self, expr, leading=False):
        """A Symbol that carries its own display Sym (a derivation's w₁₁, δ⁽ˡ⁾₂₁), whatever its name."""
        return self.symbol_text(expr.display)

    def _print_DisplayFunctionBase(self, expr, leading=False):
        """A function that carries its own display Sym (a derivation's f₁, f′₂), applied to its arguments.

        SymPy dispatches a Function subclass to its own name or to a base
        whose name ends in `Base`, hence the name."""
        return self.call(self.symbol_text(expr.display), [self._print(a, leading=True) for a in expr.args])

    def _print_DisplayMatrix(self, expr, leading=False):
        """A matrix symbol that carries its own display Sym (W⁽²⁾, e⁽¹⁾)."""
        return self.symbol_text(expr.display)

    def _print_MatMul(self, expr, leading=False):
        """A matrix product, factors side by side (`W⁽²⁾ᵀ e⁽²⁾`); a leading -1 is a minus sign."""
        factors = list(expr.args)
        if factors[0] == -1:
            return self.minus + self.product(factors[1:], leading=False)
        return self.product(factors, leading=leading)

    def _print_Transpose(self, expr, leading=False):
        inner = self._print(expr.arg, leading=True)
        return self.transpose(inner if expr.arg.is_symbol else self.group(inner))

    def _print_HadamardProduct(self, expr, leading=False):
        """The elementwise product ⊙; a matrix product inside it is parenthesised."""
        parts = [self._print(a, leading=True) for a in expr.args]
        return self.hadamard([self.group(p) if a.is_MatMul else p for a, p in zip(expr.args, parts)])

    def transpose(self, inner):
        return f"{inner}ᵀ"

    def hadamard(self, parts):
        return " ⊙ ".join(parts)

    # -- matrix formulas (derive.matrix): one layer quantity per step ------------------
    matrix_tokens = {"ones": "1", "divide": " ⊘ ", "sum": "Σ ", "norm": ("‖", "‖²"), "prime": "′"}

    def _print_Ref(self, ref, leading=False):
        shown = (self._settings["symbols"] or {}).get(ref.key)
        return self.symbol_text(shown) if shown is not None else ref.key

    def _print_Op(self, op, leading=False):
        """A matrix formula in the lecture's notation: `W⁽²⁾ A⁽¹⁾ - θ⁽²⁾ 1ᵀ`, `σ′(Z⁽¹⁾) ⊙ (W⁽²⁾)ᵀ E⁽²⁾`."""
        t = self.matrix_tokens
        name, args = op.name, op.args
        if name == "matmul":
            return " ".join(self.operand(a, ("add", "sub", "times")) for a in args)
        if name == "add":
            return " + ".join(self.operand(a, ()) for a in args)
        if name == "sub":
            return f"{self.operand(args[0], ())} {self.minus} {self.operand(args[1], ('add', 'sub'))}"
        if name == "times":
            scale, inner = args
            body = self.operand(inner, ("add", "sub"))
            if scale == -1:
                return self.minus + body
            return f"{self.operand(scale, ('add', 'sub'))} {body}"
        if name == "broadcast":
            return f"{self.operand(args[0], ())} {self.transpose(t['ones'])}"
        if name == "transpose":
            inner = args[0]
            shown = self._print(inner, leading=True)
            simple = not isinstance(inner, type(op)) and not any(mark in shown for mark in ("⁽", "^", "("))
            return self.transpose(shown if simple else self.group(shown))
        if name == "hadamard":
            return self.hadamard([self.operand(a, ("add", "sub", "matmul", "times")) for a in args])
        if name == "divide":
            return t["divide"].join(self.operand(a, ("add", "sub", "matmul", "times", "hadamard")) for a in args)
        if name == "apply":
            return self.call(self.symbol_text(_Shown(op.data.text, op.data.latex)), [self._print(args[0], leading=True)])
        if name == "slope":
            return self.call(self.symbol_text(_Shown(op.data.text + "′", op.data.latex + "'")),
                             [self._print(args[0], leading=True)])
        if name in ("log", "sign"):
            return self.call(self.function_names.get(name, name), [self._print(args[0], leading=True)])
        if name == "rowsum":
            return f"{self.operand(args[0], ('add', 'sub', 'times'))} {t['ones']}"
        if name == "colsum":
            return f"{self.transpose(t['ones'])} {self.operand(args[0], ('add', 'sub', 'times', 'hadamard'))}"
        if name == "total":
            if not isinstance(args[0], type(op)):
                return t["sum"] + self._print(args[0], leading=True)
            return self._print(args[0], leading=True)  # one sample: its loss is the number the formula gives
        if name == "square_norm":
            opening, closing = t["norm"]
            return f"{opening}{self._print(args[0], leading=True)}{closing}"
        if name == "softmax_back":
            y, g = (self._print(a, leading=True) for a in args)
            inner = self.hadamard([self.operand(args[1], ("add", "sub")), y])
            return self.hadamard([y, self.group(f"{g} {self.minus} {t['ones']} {self.transpose(t['ones'])} "
                                                f"{self.group(inner)}")])
        return self.call(name, [self._print(a, leading=True) for a in args])

    def operand(self, node, loose):
        """A matrix formula's operand, in parentheses when it is an operation in `loose` (binds less tightly)."""
        import sympy

        if isinstance(node, (int, float)):
            return self.number(float(node)) if node >= 0 else self.group(self.number(float(node)))
        if isinstance(node, sympy.Basic):
            text = self._print(node, leading=True)
            return self.group(text) if node.is_Add else text
        text = self._print(node, leading=True)
        return self.group(text) if getattr(node, "name", None) in loose and hasattr(node, "args") else text

    def _print_Indexed(self, expr, leading=False):
        """An indexed name inside a general sum: `a⁽ˡ⁻¹⁾[u + 1, v]`."""
        return self.indexed(self._print(expr.base.label), [self._print(i, leading=True) for i in expr.indices])

    def _print_Sum(self, expr, leading=False):
        """Σ over index ranges; neighbouring ranges with equal bounds share one sign (`Σ_{u,v=1..2}`)."""
        ranges = []
        for variable, low, high in expr.limits:
            bounds = (self._print(low, leading=True), self._print(high, leading=True))
            if ranges and ranges[-1][1] == bounds:
                ranges[-1][0].append(self._print(variable))
            else:
                ranges.append(([self._print(variable)], bounds))
        return self.summation(ranges, self.paren(expr.function, MUL))

    def indexed(self, base, indices):
        return f"{base}[{', '.join(indices)}]"

    def summation(self, ranges, body):
        limits = ", ".join(f"{','.join(names)}={low}..{high}" for names, (low, high) in ranges)
        return f"Σ_{{{limits}}} {body}"

    def _print_Piecewise(self, expr, leading=False):
        """Cases: `{a if x > 1; b otherwise}`; a last condition that is always true reads "otherwise"."""
        pieces = [(self._print(value, leading=True), None if condition == True else self._print(condition))
                  for value, condition in expr.args]
        return self.cases(pieces)

    def _print_Relational(self, expr, leading=False):
        """A comparison in a condition: `x > 1`, `x ≤ 0`."""
        relation = self.relations.get(expr.rel_op, expr.rel_op)
        return f"{self._print(expr.lhs, leading=True)} {relation} {self._print(expr.rhs, leading=True)}"

    relations = {"<=": "≤", ">=": "≥", "!=": "≠", "==": "="}

    def cases(self, pieces):
        """pieces: (value, condition or None for "otherwise") as printed."""
        shown = [f"{value} if {condition}" if condition is not None else f"{value} otherwise"
                 for value, condition in pieces]
        return "{" + "; ".join(shown) + "}"

    def _print_Basic(self, expr, leading=False):
        return self.call(type(expr).__name__, [self._print(a, leading=True) for a in expr.args])

    function_names = {"Max": "max", "Min": "min", "Heaviside": "H", "Abs": "abs", "log": "log"}

    # -- format tokens ---------------------------------------------------
    def number(self, value):
        return format_number(value, self._settings["rounding"])

    def symbol_text(self, shown):
        return shown.text

    def fraction(self, p, q):
        return f"{p}/{q}"

    def constant(self, expr):
        return str(expr)

    def sqrt(self, inner):
        return f"sqrt({inner})"

    def power(self, base, exponent):
        return f"{base}^{exponent}"

    def call(self, name, args):
        return f"{name}({', '.join(args)})"

    def exponential(self, argument):
        return f"exp({argument})"

    def derivative(self, inner, variable, order, partial=False):
        d = "∂" if partial else "d"
        power = "" if order == 1 else "".join("⁰¹²³⁴⁵⁶⁷⁸⁹"[int(c)] for c in str(order))
        return f"{d}{power}/{d}{variable}{power} [{inner}]"

    def kronecker(self, indices):
        separator = "," if any(len(index) > 1 for index in indices) else ""
        return "δ" + subscript(separator.join(indices))


class TextFormula(FormulaPrinter):
    """Plain text with Unicode symbols, for terminals."""


class LatexFormula(FormulaPrinter):
    """LaTeX math, for Markdown and LaTeX answer keys."""

    times_numbers = r" \cdot "
    function_names = {"Max": r"\max", "Min": r"\min", "Heaviside": "H", "Abs": r"\operatorname{abs}",
                      "log": r"\log", "tanh": r"\tanh", "sin": r"\sin", "cos": r"\cos", "tan": r"\tan",
                      "sinh": r"\sinh", "cosh": r"\cosh", "atan": r"\arctan", "sign": r"\operatorname{sign}"}

    def group(self, text):
        return rf"\left({text}\right)"

    def symbol_text(self, shown):
        return shown.latex

    def fraction(self, p, q):
        return rf"\frac{{{p}}}{{{q}}}"

    def constant(self, expr):
        return r"\pi" if str(expr) == "pi" else str(expr)

    def sqrt(self, inner):
        return rf"\sqrt{{{inner}}}"

    def power(self, base, exponent):
        """base^{exponent}; a base that carries its own script (a^{(1)}_{1}, \\sigma') is braced first,
        {a^{(1)}_{1}}^{2}, since a second superscript on one symbol is an error in LaTeX."""
        if _has_superscript(base):
            base = f"{{{base}}}"
        return f"{base}^{{{exponent}}}"

    def call(self, name, args):
        return rf"{name}\left({', '.join(args)}\right)"

    def exponential(self, argument):
        return f"e^{{{argument}}}"

    def derivative(self, inner, variable, order, partial=False):
        d = r"\partial " if partial else "d"
        power = "" if order == 1 else f"^{{{order}}}"
        return rf"\frac{{{d}{power}}}{{{d}{variable}{power}}}\left[{inner}\right]"

    def kronecker(self, indices):
        separator = "," if any(len(index) > 1 for index in indices) else ""
        return rf"\delta_{{{separator.join(indices)}}}"

    relations = {"<=": r"\le", ">=": r"\ge", "!=": r"\ne", "==": "="}

    def cases(self, pieces):
        otherwise = r"\text{otherwise}"
        rows = [f"{value} & {otherwise if condition is None else condition}" for value, condition in pieces]
        return r"\begin{cases} " + r" \\ ".join(rows) + r" \end{cases}"

    def matrix(self, rows):
        body = r" \\ ".join(" & ".join(row) for row in rows)
        return rf"\begin{{pmatrix}} {body} \end{{pmatrix}}"

    def indexed(self, base, indices):
        return f"{base}_{{{', '.join(indices)}}}"

    def transpose(self, inner):
        return f"{{{inner}}}^{{\\top}}"

    matrix_tokens = {"ones": r"\mathbf{1}", "divide": r" \oslash ", "sum": r"\sum ",
                     "norm": (r"\left\lVert ", r"\right\rVert^{2}"), "prime": "'"}

    def hadamard(self, parts):
        return r" \odot ".join(parts)

    def summation(self, ranges, body):
        signs = "".join(rf"\sum_{{{','.join(names)}={low}}}^{{{high}}}" for names, (low, high) in ranges)
        return f"{signs} {body}"

    def times(self, left, right):
        if left.is_Rational and not left.is_Integer and self._settings["values"] is None:
            return self.times_symbols
        return super().times(left, right)

    def division_part(self, factors, below=False):
        if len(factors) == 1:
            return self._print(factors[0], leading=True)
        return self.product(factors, leading=True) if factors else "1"

    def divide(self, numerator, denominator):
        return rf"\frac{{{self.division_part(numerator)}}}{{{self.division_part(denominator)}}}"


class KeyFormula(FormulaPrinter):
    """ASCII over step keys (`h[1][1]*w[2][1][1] - theta[2][1]`), for scripts."""

    times_symbols = "*"
    times_numbers = "*"
    parenthesize_symbol_bases = False

    def _print_Symbol(self, expr, leading=False):
        return expr.name

    _print_DisplaySymbol = _print_Symbol

    def _print_DisplayFunctionBase(self, expr, leading=False):
        return self.call(type(expr).__name__, [self._print(a, leading=True) for a in expr.args])

    def _print_DisplayMatrix(self, expr, leading=False):
        return expr.name

    def transpose(self, inner):
        return f"transpose({inner})"

    def _print_Ref(self, ref, leading=False):
        return ref.key

    def _print_Op(self, op, leading=False):
        """A matrix formula as calls of derive.matrix's vocabulary over step keys: `matmul(w[2], h[1])`."""
        def argument(node):
            if isinstance(node, (int, float)):
                return self.number(float(node))
            return self._print(node, leading=True)
        return self.call(op.name, [argument(a) for a in op.args])

    def hadamard(self, parts):
        return self.call("hadamard", parts)

    def summation(self, ranges, body):
        limits = ", ".join(f"({name}, {low}, {high})" for names, (low, high) in ranges for name in names)
        return f"sum({body}, {limits})"

    def number(self, value):
        return repr(float(value)) if value != int(value) else str(int(value))

    def power(self, base, exponent):
        return f"{base}**{exponent}"

    function_names = {"Max": "max", "Min": "min", "Heaviside": "heaviside", "Abs": "abs", "log": "log"}

    def derivative(self, inner, variable, order, partial=False):
        return f"diff({inner}, {variable}, {order})" if order != 1 else f"diff({inner}, {variable})"

    def kronecker(self, indices):
        return f"KroneckerDelta({', '.join(indices)})"

    relations = {}

    def cases(self, pieces):
        return self.call("piecewise", [f"({value}, {condition if condition is not None else 'True'})"
                                       for value, condition in pieces])

    def _print_Function(self, expr, leading=False):
        name = self.function_names.get(type(expr).__name__, type(expr).__name__.lower())
        return self.call(name, [self._print(a, leading=True) for a in expr.args])

    _print_Max = _print_Function
    _print_Min = _print_Function
    _print_Heaviside = _print_Function


class _Shown:
    """A display name (text, latex) as symbol_text reads a Sym."""

    def __init__(self, text, latex):
        self.text, self.latex = text, latex


_SUBSCRIPTS = dict(zip("0123456789+-=(),aehijklmnoprstuvx", "₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎,ₐₑₕᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓ"))


def subscript(text):
    """`text` in Unicode subscripts (`12` -> ₁₂, `ij` -> ᵢⱼ); `_text` where a character has none."""
    if all(character in _SUBSCRIPTS for character in text):
        return "".join(_SUBSCRIPTS[character] for character in text)
    return f"_{text}" if len(text) == 1 else f"_({text})"


def _has_superscript(latex):
    """Whether `latex` has a superscript or a prime outside every group and every \\left...\\right pair:
    `a^{(1)}_{1}` and `\\sigma'` have, `u_{1}`, `{x}^{\\top}` and `\\left(a^{2} - y\\right)` have not."""
    depth = 0
    for token in re.findall(r"\\[A-Za-z]+|\\.|.", latex):
        if token in ("{", r"\left"):
            depth += 1
        elif token in ("}", r"\right"):
            depth -= 1
        elif depth == 0 and token in ("^", "'"):
            return True
    return False


def _reciprocal(expr):
    """A power with a negative number as exponent: printed under a fraction bar."""
    return expr.is_Pow and expr.exp.is_Number and expr.exp < 0


def _inverted(power):
    """b**-n as b**n (b for n = 1), the denominator of a reciprocal."""
    return power.base if power.exp == -1 else Pow(power.base, -power.exp, evaluate=False)


def _negative_coefficient(mul):
    first = mul.args[0]
    return first.is_Number and first < 0


def text_formula(expr, symbols=None, values=None, rounding=None):
    return TextFormula({"symbols": symbols, "values": values, "rounding": rounding}).doprint(expr)


def latex_formula(expr, symbols=None, values=None, rounding=None):
    return LatexFormula({"symbols": symbols, "values": values, "rounding": rounding}).doprint(expr)


def key_formula(expr):
    return KeyFormula({}).doprint(expr)
