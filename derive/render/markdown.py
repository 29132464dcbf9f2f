"""Markdown solutions with LaTeX math (`$z^{2}_{1} = ...$`), ready for an answer key."""

import re

from .formula import latex_formula
from .printer import SolutionPrinter


class MarkdownPrinter(SolutionPrinter):
    matrix_value = SolutionPrinter.latex_matrix

    def _print_Solution(self, solution):
        lines = [f"# {solution.title}", "",
                 f"Problem `{solution.name}` ({solution.kind}); rounding: {solution.rounding.describe()}."]
        if solution.notes:
            lines += [""] + [f"- ${note.latex}$" for note in solution.notes]
        if solution.lecture:
            lines += ["", f"**{self.LECTURE_HEADING}**", ""] + self.lecture_lines(solution.lecture, "")
        for section in solution.sections:
            lines += ["", self._print(section)]
        return "\n".join(lines) + "\n"

    def _print_Section(self, section):
        lines = [f"## {section.title}", ""]
        if all(step.is_given for step in section.steps):
            for group in self.given_groups(section.steps):
                lines.append("- " + ", ".join(self._print(step) for step in group))
                lines += self.lecture_lines(self.lecture_of(group), "  ")
        else:
            for step in section.steps:
                lines.append(f"- {self._print(step)}")
                lines += self.lecture_lines(step.lecture, "  ")
        return "\n".join(lines)

    def lecture_lines(self, notes, indent):
        """Each LectureNote as a list item (nested under its step's item by `indent`): what the lecture
        printed, verbatim in code, and why it differs."""
        return [f"{indent}- *{self.PRINTED}:* {_code(note.printed)}; *{self.WHY}:* {_plain(note.why)}"
                for note in notes]

    def _print_Step(self, step):
        key = f"`{step.key}` " if self._settings["keys"] else ""
        if step.is_given:
            return f"{key}${step.symbol.latex} = {self.number(step.value)}$"
        math = " = ".join([step.symbol.latex] + self.step_parts(step, latex_formula))
        note = f" ({step.note})" if step.note else ""
        return f"{key}${math}${note}"


def _code(text):
    """`text` as an inline code span, fenced by more backticks than it holds in a row."""
    fence = "`" * (max(map(len, re.findall("`+", text)), default=0) + 1)
    padding = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{padding}{text}{padding}{fence}"


def _plain(text):
    """`text` as Markdown that shows it as written: the signs Markdown (or its `$` math) would read escaped."""
    return re.sub(r"([\\`*_\[\]<>#|$])", r"\\\1", text)
