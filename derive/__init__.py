"""derive: solve, explain and grade the mathematics of neural-network courses.

The library's public API; the `derive` command line (`derive.cli`) is a thin
layer over it:

    problem = load_problem("lecture-bp-3layer")      # a file, or a bundled problem's name
    solution = problem.solve()                        # a Solution: Steps by key, in sections
    render(solution, "markdown")                      # also text, latex, json
    grade(problem, {"yhat[1]": 0.809})                # a SheetResult: score, verdicts by key
    grade_class(problem, ["submissions/"])            # a ClassResult and its reports
    grade_assignment("hw-lecture", ["submissions/"])  # several problems: totals and subtotals
    write_variants(variants(problem, ["s1", "s2"]), "variants/")

In a notebook a Solution, a SheetResult and a ClassResult show as Markdown
with their math typeset.
"""

import importlib
import os

# derive's matrices are at most 784 wide: OpenBLAS's threads cost more than they save on them (ten times
# more on a busy machine), so one thread unless the environment says otherwise; set before numpy loads.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from .errors import AnswerSheetError, DeriveError, ExpressionError, ProblemError, Timeout
from .expr import parse_expression
from .problem import Problem, load_problem
from .render import render
from .steps import Rounding, Section, Solution, Step, Sym

# Grading and variants are loaded on first use: `derive solve` never pays for them.
_LATER = {
    "grade": "api", "grade_class": "api", "grade_assignment": "api", "variants": "api",
    "Assignment": "assignment", "load_assignment": "assignment", "AssignmentResult": "grading.assignment",
    "SheetResult": "grading.grader", "Verdict": "grading.grader", "ClassResult": "grading.report",
    "Variant": "vary.variants", "VariantSet": "vary.variants", "write_variants": "vary.variants",
}


def __getattr__(name):
    if name not in _LATER:
        raise AttributeError(f"module 'derive' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_LATER[name]}", __name__), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_LATER))


__version__ = "0.1.0"

__all__ = [
    "AnswerSheetError", "DeriveError", "ExpressionError", "ProblemError", "Timeout",
    "Assignment", "AssignmentResult", "ClassResult", "Problem", "Rounding", "Section", "SheetResult", "Solution", "Step", "Sym", "Variant",
    "VariantSet", "Verdict",
    "grade", "grade_assignment", "grade_class", "load_assignment", "load_problem", "parse_expression", "render", "variants", "write_variants",
]
