"""Formulas compiled to Python bytecode: one call evaluates a whole formula.

Grading evaluates the same few hundred formulas (each step's, and each
slip's rewriting of it) on thousands of students' numbers. A function per
node of the formula's tree costs a Python call per node; here the tree is
turned into one Python expression instead, built node by node with the
`ast` module (no text is parsed, and no name from the formula reaches the
code except as a string constant that looks its value up in `env`), and
compiled once.

The expression computes what derive.steps' node-per-node evaluation
computes, in the same order, so the two agree to the last bit:

- a sum adds its terms left to right;
- a product multiplies 1.0 by its factors left to right, and is 0.0 as
  soon as a factor is 0 (the later factors are then not evaluated, so
  that 0 log 0 = 0);
- x**-1 is 1.0 / x, x**2 is x ** 2, any other power math.pow;
- a Piecewise takes the first piece whose condition holds (ValueError if
  none does); a condition compares floats;
- log(1 + exp(u)) is softplus(u), the other functions derive.steps'.

A formula nested deeper than MAX_DEPTH (a sum of hundreds of terms) is
left to the node-per-node evaluation: Python's compiler recurses on depth.
"""

import ast
import math
import types

import sympy

from .steps import _is_one_plus_exp

MAX_DEPTH = 120  # nesting of the built expression; deeper formulas are evaluated node by node


class _Unsupported(Exception):
    """A node this compiler does not build (the node-per-node evaluation then handles, or refuses, it)."""


def compile_formula(formula, functions, softplus):
    """A function env -> value for the SymPy expression `formula`, or None where the node-per-node
    evaluation must be used (a node it does not build, a tree too deep). `functions` maps a SymPy
    function's class name to its Python implementation; `softplus` computes log(1 + exp(u))."""
    builder = _Builder(functions, softplus)
    try:
        body = builder.expression(formula, 0)
    except (_Unsupported, TypeError, ValueError):
        return None
    arguments = ast.arguments(posonlyargs=[], args=[ast.arg("env")], vararg=None, kwonlyargs=[],
                              kw_defaults=[], kwarg=None, defaults=[])
    function = ast.FunctionDef(name="formula", args=arguments, body=[ast.Return(body)], decorator_list=[],
                               returns=None, type_params=[])
    module = ast.Module(body=[function], type_ignores=[])
    ast.fix_missing_locations(module)
    try:
        code = compile(module, "<formula>", "exec")
    except (RecursionError, MemoryError, ValueError, SyntaxError):
        return None
    body_code = next(c for c in code.co_consts if isinstance(c, types.CodeType))
    return types.FunctionType(body_code, builder.namespace, "formula")


def _no_piece():
    raise ValueError("no piece applies")


_RELATIONS = {"<": ast.Lt, "<=": ast.LtE, ">": ast.Gt, ">=": ast.GtE}


class _Builder:
    """Builds the expression of one formula; `namespace` holds the functions it calls, under names of
    its own (f0, f1, ...), and its temporaries are t0, t1, ..."""

    def __init__(self, functions, softplus):
        self.functions = functions
        self.namespace = {"__builtins__": {}, "softplus": softplus, "power": math.pow, "to_float": float,
                          "no_piece": _no_piece}
        self._names = {}
        self._temporaries = 0

    def expression(self, e, depth):
        if depth > MAX_DEPTH:
            raise _Unsupported("too deep")
        if e.is_Symbol:
            return ast.Subscript(ast.Name("env", ast.Load()), ast.Constant(e.name), ast.Load())
        if e.is_Number or e.is_NumberSymbol:
            return ast.Constant(float(e))
        if isinstance(e, sympy.log) and _is_one_plus_exp(e.args[0]):
            exponent = next(a for a in e.args[0].args if isinstance(a, sympy.exp)).args[0]
            return self.call("softplus", [self.expression(exponent, depth + 1)])
        if isinstance(e, sympy.Piecewise):
            return self.piecewise(e, depth)
        if e.is_Add:
            parts = [self.expression(arg, depth + len(e.args)) for arg in e.args]
            total = parts[0]
            for part in parts[1:]:
                total = ast.BinOp(total, ast.Add(), part)
            return total
        if e.is_Mul:
            return self.product(e, depth)
        if e.is_Pow:
            base, exponent = (self.expression(arg, depth + 1) for arg in e.args)
            if e.exp == -1:
                return ast.BinOp(ast.Constant(1.0), ast.Div(), base)
            if e.exp == 2:
                return ast.BinOp(base, ast.Pow(), ast.Constant(2))
            return self.call("power", [base, exponent])
        function = self.functions.get(type(e).__name__)
        if function is None or not e.args:
            raise _Unsupported(type(e).__name__)
        name = self._names.setdefault(type(e).__name__, f"f{len(self._names)}")
        self.namespace[name] = function
        return self.call(name, [self.expression(arg, depth + 1) for arg in e.args])

    def product(self, e, depth):
        """1.0 * v0 * v1 * ..., each factor first tested for 0 (then 0.0, the rest unevaluated)."""
        temporaries = []
        for _ in e.args:
            temporaries.append(f"t{self._temporaries}")
            self._temporaries += 1
        result = ast.Constant(1.0)
        for name in temporaries:
            result = ast.BinOp(result, ast.Mult(), ast.Name(name, ast.Load()))
        inner = depth + 2 * len(e.args)
        for name, arg in reversed(list(zip(temporaries, e.args))):
            factor = ast.NamedExpr(ast.Name(name, ast.Store()), self.expression(arg, inner))
            test = ast.Compare(factor, [ast.Eq()], [ast.Constant(0)])
            result = ast.IfExp(test, ast.Constant(0.0), result)
        return result

    def piecewise(self, e, depth):
        result = self.call("no_piece", [])
        inner = depth + len(e.args)
        for value, condition in reversed(e.args):
            result = ast.IfExp(self.condition(condition, inner), self.expression(value, inner), result)
        return result

    def condition(self, c, depth):
        if c is sympy.true:
            return ast.Constant(True)
        if isinstance(c, sympy.core.relational.Relational) and c.rel_op in _RELATIONS:
            left = self.call("to_float", [self.expression(c.lhs, depth + 1)])
            right = self.call("to_float", [self.expression(c.rhs, depth + 1)])
            return ast.Compare(left, [_RELATIONS[c.rel_op]()], [right])
        if isinstance(c, (sympy.And, sympy.Or)):
            combine = ast.And() if isinstance(c, sympy.And) else ast.Or()
            return ast.BoolOp(combine, [self.condition(part, depth + 1) for part in c.args])
        raise _Unsupported(str(type(c)))

    @staticmethod
    def call(name, arguments):
        return ast.Call(ast.Name(name, ast.Load()), arguments, [])
