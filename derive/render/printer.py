"""The base of the solution printers: dispatch on the class name, as SymPy's Printer does.

A printer calls `self._print(child)` for every part, which finds
`_print_<ClassName>` on the printer; a new format overrides only the
methods whose output differs.
"""

from sympy import Basic

from ..steps import format_number


class SolutionPrinter:
    """Prints a Solution; subclasses give `_print_Solution`, `_print_Section`, `_print_Step`."""

    _default_settings = {"keys": False, "full": False}

    def __init__(self, **settings):
        unknown = set(settings) - set(self._default_settings)
        if unknown:
            raise TypeError(f"unknown printer settings: {sorted(unknown)}")
        self._settings = {**self._default_settings, **settings}
        self.solution = None

    def doprint(self, solution):
        self.solution = solution
        self.symbols = solution.symbols()
        return self._print(solution)

    def _print(self, obj, **kwargs):
        for cls in type(obj).__mro__:
            method = getattr(self, f"_print_{cls.__name__}", None)
            if method is not None:
                return method(obj, **kwargs)
        raise TypeError(f"{type(self).__name__} cannot print {type(obj).__name__}")

    # shared pieces -------------------------------------------------------
    def number(self, value):
        if hasattr(value, "shape"):  # a matrix step's value
            return self.matrix_value(value)
        return format_number(value, self.solution.rounding)

    def matrix_value(self, value):
        """A vector or matrix, its middle elided as numpy elides it (all of it with `full`): a column
        vector on one line, transposed (`[0.1 0.2 0.3]ᵀ`); a matrix a row per line."""
        from ..matrix import shown_rows  # numpy, loaded only where a matrix is printed

        rows = shown_rows(value, self.number, self._settings["full"])
        if value.shape[1] == 1 and value.shape[0] > 1:
            return "[" + " ".join("…" if row is None else row[0] for row in rows) + "]ᵀ"
        width = max(len(cell) for row in rows if row is not None for cell in row)
        lines = [" ..." if row is None else " [" + " ".join(cell if cell == "…" else cell.rjust(width) for cell in row) + "]" for row in rows]
        lines[0] = "[" + lines[0][1:]
        return "\n".join(lines) + "]"

    def latex_matrix(self, value):
        """A vector or matrix in LaTeX, elided as `matrix_value` elides it, its shape as a subscript."""
        from ..matrix import shown_rows  # numpy, loaded only where a matrix is printed

        rows = shown_rows(value, self.number, self._settings["full"])
        dots = {"…": r"\cdots"}
        body = r" \\ ".join(
            " & ".join(r"\vdots" if c != "…" else r"\ddots" for c in next(r for r in rows if r is not None))
            if row is None else " & ".join(dots.get(cell, cell) for cell in row) for row in rows)
        columns = "r" * len(next(r for r in rows if r is not None))
        return (rf"\left[\begin{{array}}{{{columns}}} {body} \end{{array}}\right]_{{{value.shape[0]} \times "
                rf"{value.shape[1]}}}")

    def shape(self, step):
        """`(3×4)` after a matrix step's symbol; nothing for a number."""
        if not step.is_matrix:
            return ""
        from ..matrix import shape_text

        return f" ({shape_text(step.value)})"

    def step_parts(self, step, formula_printer):
        """[formula, substituted, value] for one computed step, without repeats.

        The numbers are the dependencies' values as the solution carries
        them (rounded, in a rounding mode), so the line can be checked by hand.
        """
        if not isinstance(step.formula, Basic):  # a matrix formula: the formula, then the value it gives
            return [formula_printer(step.formula, symbols=self.symbols), self.number(step.value)]
        if step.is_symbolic:
            formula = formula_printer(step.formula, symbols=self.symbols)
            value = formula_printer(step.value, symbols=self.symbols)
            return [formula] if formula == value else [formula, value]
        values = {key: self.solution[key].value for key in step.deps}
        formula = formula_printer(step.formula, symbols=self.symbols)
        substituted = formula_printer(step.formula, values=values, rounding=self.solution.rounding)
        value = self.number(step.value)
        parts = [] if formula in (step.symbol.text, step.symbol.latex) else [formula]
        if substituted not in (formula, value):
            parts.append(substituted)
        if value != formula:
            parts.append(value)
        return parts

    LECTURE_HEADING = "Where the lecture differs"  # the heading of the lecture notes on no single step
    PRINTED, WHY = "the lecture printed", "why it differs"  # the words before a LectureNote's two parts

    @staticmethod
    def lecture_of(steps):
        """The LectureNotes of some steps (a given group's, a step's), in order."""
        return [note for step in steps for note in step.lecture]

    @staticmethod
    def given_groups(steps):
        """Consecutive givens of one group (a matrix row; else the same key stem) as one line."""
        groups = []
        for step in steps:
            if step.is_matrix:  # a vector or matrix is a line (or block) of its own
                groups.append((None, [step]))
                continue
            stem = step.group or step.key.rsplit("[", 1)[0]
            if groups and groups[-1][0] == stem:
                groups[-1][1].append(step)
            else:
                groups.append((stem, [step]))
        return [group for _, group in groups]
