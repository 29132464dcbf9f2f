"""Markdown solutions with LaTeX math (`$z^{2}_{1} = ...$`), ready for an answer key."""

from .formula import latex_formula
from .printer import SolutionPrinter


class MarkdownPrinter(SolutionPrinter):
    def _print_Solution(self, solution):
        lines = [f"# {solution.title}", "",
                 f"Problem `{solution.name}` ({solution.kind}); rounding: {solution.rounding.describe()}."]
        if solution.notes:
            lines += [""] + [f"- ${note.latex}$" for note in solution.notes]
        for section in solution.sections:
            lines += ["", self._print(section)]
        return "\n".join(lines) + "\n"

    def _print_Section(self, section):
        lines = [f"## {section.title}", ""]
        if all(step.is_given for step in section.steps):
            for group in self.given_groups(section.steps):
                lines.append("- " + ", ".join(self._print(step) for step in group))
        else:
            lines += [f"- {self._print(step)}" for step in section.steps]
        return "\n".join(lines)

    def _print_Step(self, step):
        key = f"`{step.key}` " if self._settings["keys"] else ""
        if step.is_given:
            return f"{key}${step.symbol.latex} = {self.number(step.value)}$"
        math = " = ".join([step.symbol.latex] + self.step_parts(step, latex_formula))
        note = f" ({step.note})" if step.note else ""
        return f"{key}${math}${note}"
