"""LaTeX solutions: one `align*` block per section, ready to paste into an answer key."""

from .formula import latex_formula
from .printer import SolutionPrinter

_ESCAPES = str.maketrans({c: "\\" + c for c in "&%$#_{}"} | {"~": r"\textasciitilde{}",
                                                             "^": r"\textasciicircum{}",
                                                             "\\": r"\textbackslash{}"})


def escape(text):
    return text.translate(_ESCAPES)


class LatexPrinter(SolutionPrinter):
    def _print_Solution(self, solution):
        lines = [f"% {escape(solution.name)} ({solution.kind})",
                 rf"\section*{{{escape(solution.title)}}}",
                 rf"Rounding: {escape(solution.rounding.describe())}."]
        if solution.notes:
            lines += [r"\begin{itemize}"] + [rf"  \item ${note.latex}$" for note in solution.notes]
            lines += [r"\end{itemize}"]
        for section in solution.sections:
            lines += ["", self._print(section)]
        return "\n".join(lines) + "\n"

    def _print_Section(self, section):
        givens = all(step.is_given for step in section.steps)
        environment = "gather*" if givens else "align*"  # givens are centred, steps aligned at "="
        if givens:
            rows = [r",\quad ".join(self._print(step) for step in group)
                    for group in self.given_groups(section.steps)]
        else:
            rows = [self._print(step) for step in section.steps]
        lines = [rf"\subsection*{{{escape(section.title)}}}", rf"\begin{{{environment}}}"]
        lines += [f"  {row} \\\\" for row in rows[:-1]] + [f"  {rows[-1]}", rf"\end{{{environment}}}"]
        return "\n".join(lines)

    def _print_Step(self, step):
        comment = f" % {step.key}" if self._settings["keys"] else ""
        if step.is_given:
            return f"{step.symbol.latex} = {self.number(step.value)}"
        parts = self.step_parts(step, latex_formula)
        note = rf" && \text{{({escape(step.note)})}}" if step.note else ""
        return f"{step.symbol.latex} &= " + " = ".join(parts) + note + comment
