"""Plain-text solutions for the terminal, in the lecture's notation with Unicode indices."""

from .formula import text_formula
from .printer import SolutionPrinter


class TextPrinter(SolutionPrinter):
    indent = "  "

    def _print_Solution(self, solution):
        lines = [solution.title, "=" * len(solution.title),
                 f"problem: {solution.name} ({solution.kind})",
                 f"rounding: {solution.rounding.describe()}"]
        if solution.notes:
            lines += ["", "Notes"] + [self.indent + note.text for note in solution.notes]
        if solution.lecture:
            lines += ["", self.LECTURE_HEADING] + self.lecture_lines(solution.lecture, self.indent)
        for section in solution.sections:
            lines += ["", self._print(section)]
        return "\n".join(lines) + "\n"

    def _print_Section(self, section):
        lines = [section.title]
        if all(step.is_given for step in section.steps):
            for group in self.given_groups(section.steps):
                lines.append(self.indent + ",  ".join(self.given(step) for step in group))
                lines += self.lecture_lines(self.lecture_of(group), self.indent * 3)
        else:
            for step in section.steps:
                lines.append(self.indent + self._print(step))
                lines += self.lecture_lines(step.lecture, self.indent * 3)
        return "\n".join(lines)

    def lecture_lines(self, notes, indent):
        """Each LectureNote as two lines under what it concerns: what the lecture printed, and why it differs."""
        return [line for note in notes for line in (f"{indent}{self.PRINTED}: {note.printed}",
                                                    f"{indent}  {self.WHY}: {note.why}")]

    def given(self, step):
        text = f"{step.symbol.text}{self.shape(step)} = {self.number(step.value)}"
        return self.block(text + (f"  [{step.key}]" if self._settings["keys"] else ""))

    def _print_Step(self, step):
        if step.is_given:
            return self.given(step)
        line = " = ".join([step.symbol.text + self.shape(step)] + self.step_parts(step, text_formula))
        if step.note:
            line += f"   ({step.note})"
        if self._settings["keys"]:
            line += f"   [{step.key}]"
        return self.block(line)

    def matrix_value(self, value):
        """A matrix of several rows starts on a line of its own, under its formula."""
        shown = super().matrix_value(value)
        return "\n" + shown if "\n" in shown else shown

    def block(self, text):
        """A step whose value is a matrix of several rows: its rows indented under the step's line."""
        return text.replace(" = \n", " =\n").replace("\n", "\n" + self.indent * 2)
