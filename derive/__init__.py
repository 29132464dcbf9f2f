"""derive: solve, explain and grade the mathematics of neural-network courses.

The library's public API; the `derive` command line (`derive.cli`) is a thin
layer over it.
"""

from .errors import AnswerSheetError, DeriveError, ExpressionError, ProblemError, Timeout
from .expr import parse_expression
from .problem import Problem, load_problem
from .render import render
from .steps import Rounding, Section, Solution, Step, Sym

__version__ = "0.1.0"

__all__ = [
    "AnswerSheetError", "DeriveError", "ExpressionError", "ProblemError", "Timeout",
    "Problem", "Rounding", "Section", "Solution", "Step", "Sym",
    "load_problem", "parse_expression", "render",
]
