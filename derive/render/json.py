"""The JSON contract for scripts: problem, kind, and every step with key, symbol,
section, formula (over step keys), value, deps and the lecture's differing text
(`lecture`: a list of {printed, why}, on the document for notes on no single
step). Sorted keys, fixed order, byte-identical run to run.
"""

import json
import math

from .formula import key_formula
from .printer import SolutionPrinter

SCHEMA_VERSION = 1


class JsonPrinter(SolutionPrinter):
    def _print_Solution(self, solution):
        document = {
            "schema": SCHEMA_VERSION,
            "problem": solution.name,
            "title": solution.title,
            "kind": solution.kind,
            "rounding": "exact" if solution.rounding.decimals is None else solution.rounding.decimals,
            "notes": [note.text for note in solution.notes],
            "lecture": _lecture(solution.lecture),
            "steps": [self._print(step) for step in solution],
        }
        return json.dumps(document, sort_keys=True, indent=2, ensure_ascii=False) + "\n"

    def _print_Step(self, step):
        if step.is_matrix:  # added fields: the shape, and the sheet keys of its entries
            return dict(self._print_Step_fields(step), shape=list(step.value.shape), entries=step.entries.template)
        return self._print_Step_fields(step)

    def _print_Step_fields(self, step):
        return {
            "key": step.key,
            "symbol": step.symbol.text,
            "latex": step.symbol.latex,
            "section": step.section,
            "formula": None if step.is_given else key_formula(step.formula),
            "value": key_formula(step.value) if step.is_symbolic else _json_value(step.value),
            "deps": list(step.deps),
            "given": step.is_given,
            "lecture": _lecture(step.lecture),
        }


def _lecture(notes):
    return [{"printed": note.printed, "why": note.why} for note in notes]


def _json_value(value):
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, float) and value == int(value) and abs(value) < 2**53:
        return int(value)
    if isinstance(value, (int, float)):
        return value
    if hasattr(value, "tolist"):  # a matrix step's array: a list of rows
        value = value.tolist()
    if isinstance(value, (list, tuple)):
        return [_json_value(v) for v in value]
    return str(value)
