"""Grading reports for people: one sheet item by item, or a whole class with a per-item summary.

Whatever a sheet brings (a student id, an answer, a file name) is printed
through `visible`, so that control characters show as escapes instead of
acting on the terminal or the page.
"""

import operator
import re
import unicodedata
from collections import Counter

from ..steps import format_number
from .printer import SolutionPrinter


_CODE = operator.attrgetter("code")


class TextReportPrinter(SolutionPrinter):
    """Prints a SheetResult (one student), a ClassResult (several), or an AssignmentResult."""

    _default_settings = {"width": 18}

    def doprint(self, result):
        return self._print(result)

    def _print_ClassResult(self, result):
        problem = result.problem
        if len(result.results) == 1:
            return self.header(problem) + self._print(result.results[0])
        lines = [f"{self.header(problem)}{len(result.results)} sheets, {len(result.unreadable)} unreadable", ""]
        names = [visible(r.student) for r in result.results]
        name_width = max([len("student")] + [len(name) for name in names])
        lines.append(f"  {'student':<{name_width}}  {'score':>11}  {'OK':>4} {'FT':>4} {'wrong':>6} {'missing':>8}")
        for sheet, name in zip(result.results, names):
            if sheet.error:
                lines.append(f"  {name:<{name_width}}  unreadable: {visible(sheet.error)}")
                continue
            codes = Counter(map(_CODE, sheet.verdicts))
            right, carried, missing = codes["OK"], codes["FT"], codes["MISSING"]
            wrong = len(sheet.verdicts) - right - carried - missing
            lines.append(f"  {name:<{name_width}}  {_score(sheet.score, sheet.max_score):>11}  "
                         f"{right:>4} {carried:>4} {wrong:>6} {missing:>8}")
        lines += self.warnings(result.results)
        lines += self.items(result)
        return "\n".join(lines) + "\n"

    @staticmethod
    def warnings(sheets):
        """The warnings of every sheet, each after its student."""
        warned = [(visible(sheet.student), warning) for sheet in sheets for warning in sheet.warnings]
        if not warned:
            return []
        return ["", "Warnings (what a sheet holds that was not graded):"] + [
            f"  {name}: {visible(warning)}" for name, warning in warned]

    def items(self, result):
        """Per item of a class: its outcomes and most frequent wrong answers; then the slips behind them."""
        lines = ["", "Per item (how many students got it right, by follow-through, wrong, missing):"]
        key_width = max([len("item")] + [len(visible(k)) for k in result.items])
        lines.append(f"  {'item':<{key_width}}  {'right':>5} {'FT':>4} {'wrong':>6} {'missing':>8}  most frequent wrong answers")
        for row in result.summary():
            frequent = ", ".join(f"{visible(_cut(answer))} ({count})" for answer, count in row["frequent_wrong"])
            lines.append(f"  {visible(row['key']):<{key_width}}  {row['right']:>5} {row['follow_through']:>4} "
                         f"{row['wrong']:>6} {row['missing']:>8}  {frequent}".rstrip())
        return lines + self.slips(result)

    def _print_AssignmentResult(self, result):
        """An assignment: each student's total and subtotal per part; then each part, item by item."""
        assignment = result.assignment
        lines = [f"Grading: {visible(assignment.title)} ({visible(assignment.name)}), {len(assignment.parts)} parts, "
                 f"out of {_points(result.max_score())}"]
        parts = list(result.classes)
        if len(result.results) == 1:
            return "\n".join(lines + [""] + self.assignment_sheet(result, result.results[0])) + "\n"
        lines[0] += f"; {len(result.results)} sheets, {len(result.unreadable)} unreadable"
        names = [visible(sheet.student) for sheet in result.results]
        name_width = max([len("student")] + [len(name) for name in names])
        widths = [max(len(visible(name)), 10) for name in parts]
        lines += ["", f"  {'student':<{name_width}}  {'total':>13}  "
                  + "  ".join(f"{visible(name):>{width}}" for name, width in zip(parts, widths))]
        for sheet, name in zip(result.results, names):
            if sheet.error:
                lines.append(f"  {name:<{name_width}}  unreadable: {visible(sheet.error)}")
                continue
            cells = ["unreadable" if sheet.parts[part].error else _points(result.subtotal(sheet, part))
                     for part in parts]
            total = f"{_points(result.score(sheet))}/{_points(result.max_score())}"
            lines.append(f"  {name:<{name_width}}  {total:>13}  "
                         + "  ".join(f"{cell:>{width}}" for cell, width in zip(cells, widths)))
        lines += self.warnings(result.results)
        broken = [(visible(sheet.student), part, sheet.parts[part].error) for sheet in result.results
                  if not sheet.error for part in parts if sheet.parts[part].error]
        if broken:
            lines += ["", "Sections that could not be read (the other parts are graded):"]
            lines += [f"  {name}: {visible(part)}: {visible(error)}" for name, part, error in broken]
        for part in parts:
            lines += ["", self.part_heading(result, part)] + self.items(result.classes[part])[1:]
        return "\n".join(lines) + "\n"

    @staticmethod
    def part_heading(result, name):
        problem = result.classes[name].problem
        return (f"== {visible(name)}: {visible(problem.title)} ({visible(problem.name)}), "
                f"{_points(result.part_max(name))} points ==")

    def assignment_sheet(self, result, sheet):
        """One student's sheet of an assignment: each part's items, its subtotal, and the total."""
        lines = [f"Student: {visible(sheet.student)} ({visible(sheet.path)})"]
        if sheet.error:
            return lines + [f"  unreadable: {visible(sheet.error)}"]
        lines += [f"  warning: {visible(warning)}" for warning in sheet.warnings]
        for name, part in sheet.parts.items():
            lines += ["", self.part_heading(result, name)]
            body = self._print(part).rstrip("\n").splitlines()[1:]  # its items, without the Student line
            if part.error:
                lines += body
                continue
            scaled = "" if result.weight(name) == 1 else f" (items: {_score(part.score, part.max_score)})"
            lines += body[:-1] + [f"Subtotal: {_points(result.subtotal(sheet, name))}/{_points(result.part_max(name))}"
                                  + scaled]
        return lines + ["", f"Total: {_points(result.score(sheet))}/{_points(result.max_score())}"]

    def slips(self, result):
        """What to re-teach: per item with wrong answers a known slip explains, how many it explains."""
        rows = slip_lines(result)
        if not rows:
            return []
        return ["", "Slips behind the wrong answers (what to re-teach):"] + [
            f"  {visible(key)}: {visible(text)}" for key, text in rows]

    def header(self, problem):
        return f"Grading: {visible(problem.title)} ({visible(problem.name)})\n"

    def _print_SheetResult(self, sheet):
        lines = [f"Student: {visible(sheet.student)} ({visible(sheet.path)})"]
        if sheet.error:
            return "\n".join(lines + [f"  unreadable: {visible(sheet.error)}"]) + "\n"
        lines += [f"  warning: {visible(w)}" for w in sheet.warnings]
        width = max([len("item")] + [len(visible(v.key)) for v in sheet.verdicts])
        answer_width = min(24, max([len("answer")] + [len(visible(v.answer)) for v in sheet.verdicts]))
        self.columns = (width, answer_width)
        lines.append("")
        lines.append(f"  {'item':<{width}}  {'answer':<{answer_width}}  {'verdict':<10} points")
        for verdict in sheet.verdicts:
            lines += self._print(verdict)
        lines += ["", f"Total: {_score(sheet.score, sheet.max_score)}"]
        return "\n".join(lines) + "\n"

    def _print_Verdict(self, v):
        width, answer_width = self.columns
        answer = visible(v.answer)
        answer = answer if len(answer) <= answer_width else answer[:answer_width - 3] + "..."
        detail, expected = visible(v.detail), visible(v.expected)
        first = (f"  {visible(v.key):<{width}}  {answer or '-':<{answer_width}}  {v.code:<10} "
                 f"{_score(v.points, v.max_points)}")
        if v.code == "OK":
            return [first + (f"  {detail}" if v.decided_by else "")]
        indent = " " * (width + answer_width + 6)
        lines = [first]
        if v.code == "FT":
            lines.append(f"{indent}{detail}")
        else:
            lines.append(f"{indent}{detail}; expected {expected}" if detail else f"{indent}expected {expected}")
        if v.slip_detail:
            lines.append(f"{indent}{visible(v.slip_detail)}")
        if v.calculation:
            lines.append(f"{indent}{visible(v.calculation)}")
        return lines


def feedback_lines(verdict):
    """The feedback of a verdict as a table's cell has it: why (for an OK only when an expression was
    decided), the slip named, the calculation."""
    lines = [verdict.detail] if verdict.detail and (verdict.code != "OK" or verdict.decided_by) else []
    return lines + [text for text in (verdict.slip_detail, verdict.calculation) if text]


def slip_lines(result):
    """(key, "n wrong, m of them <slip>, ...") per item of a class with wrong answers a known slip explains."""
    from ..grading.slips import LABELS

    lines = []
    for row in result.summary():
        if row["slips"]:
            named = ", ".join(f"{count} of them {LABELS.get(code, code)}" for code, count in row["slips"].items())
            lines.append((row["key"], f"{row['wrong']} wrong, {named}"))
    return lines


def _cut(answer, width=40):
    """A wrong answer as a class summary lists it: cut to `width` characters (as a refused answer is), so
    that one long answer leaves the table readable; `ClassResult.summary()` and each verdict keep it whole."""
    return answer if len(answer) <= width else answer[:width] + "..."


def _score(points, max_points):
    return f"{format_number(points)}/{format_number(max_points)}"


def _points(value):
    """Points of an assignment's scaled parts, to two decimals at most: 13.33, 20."""
    return format_number(round(value, 2))


_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def visible(text):
    """`text` with each control character (C0, DEL, C1, and the marks that reorder bidirectional text,
    which could make a line read otherwise than it is written) as an escape: `\\x1b`, `\\u202e`."""
    return _CONTROL.sub(_escape_control, str(text))


def _escape_control(match):
    code = ord(match[0])
    return f"\\x{code:02x}" if code < 0x80 else f"\\u{code:04x}"


class MarkdownReportPrinter(SolutionPrinter):
    """Prints a SheetResult or a ClassResult as Markdown tables (how a notebook shows them), each
    item with its symbol and expected value in LaTeX math; `|` never appears inside a cell."""

    _default_settings = {}

    def doprint(self, result):
        self.solution = _solution_of(result)
        return self._print(result)

    def header(self, problem):
        return f"### Grading: {_escape(problem.title)} ({_code(problem.name)})\n"

    def _print_ClassResult(self, result):
        lines = [self.header(result.problem)]
        if len(result.results) == 1:
            return "\n".join(lines) + "\n" + self._print(result.results[0], header=False)
        lines += [f"{len(result.results)} sheets, {len(result.unreadable)} unreadable.", "",
                  "| student | score | OK | FT | wrong | missing |", "| --- | ---: | ---: | ---: | ---: | ---: |"]
        for sheet in result.results:
            if sheet.error:
                lines.append(f"| {_escape(sheet.student)} | unreadable: {_escape(sheet.error)} | | | | |")
                continue
            codes = [v.code for v in sheet.verdicts]
            wrong = sum(c not in ("OK", "FT", "MISSING") for c in codes)
            lines.append(f"| {_escape(sheet.student)} | {_score(sheet.score, sheet.max_score)} | {codes.count('OK')} "
                         f"| {codes.count('FT')} | {wrong} | {codes.count('MISSING')} |")
        lines += ["", "Per item: how many students got it right, by follow-through, wrong, missing.", "",
                  "| item | right | FT | wrong | missing | most frequent wrong answers |",
                  "| --- | ---: | ---: | ---: | ---: | --- |"]
        for row in result.summary():
            frequent = ", ".join(f"{_code(_cut(answer))} ({count})" for answer, count in row["frequent_wrong"])
            lines.append(f"| {self.item(row['key'])} | {row['right']} | {row['follow_through']} | {row['wrong']} "
                         f"| {row['missing']} | {frequent} |")
        slips = slip_lines(result)
        if slips:
            lines += ["", "Slips behind the wrong answers (what to re-teach):", ""]
            lines += [f"- {self.item(key)}: {_escape(text)}" for key, text in slips]
        return "\n".join(lines) + "\n"

    def _print_SheetResult(self, sheet, header=True):
        """The sheet's score and a row per item; under the problem's heading unless a class's report has it."""
        lines = [self.header(self.solution)] if header and self.solution is not None else []
        if sheet.error:
            lines.append(f"**{_escape(sheet.student)}** ({_code(sheet.path)}): unreadable: {_escape(sheet.error)}")
            return "\n".join(lines) + "\n"
        lines += [f"**{_escape(sheet.student)}** ({_code(sheet.path)}): **{_score(sheet.score, sheet.max_score)}**",
                  ""]
        lines += [f"- warning: {_escape(w)}" for w in sheet.warnings] + ([""] if sheet.warnings else [])
        lines += ["| item | answer | verdict | points | expected | feedback |",
                  "| --- | --- | --- | ---: | --- | --- |"]
        lines += [self._print(verdict) for verdict in sheet.verdicts]
        return "\n".join(lines) + "\n"

    def _print_Verdict(self, v):
        return (f"| {_code(v.key)} | {_code(v.answer) if v.answer else '–'} | {v.code} "
                f"| {_score(v.points, v.max_points)} | {self.expected(v)} | "
                f"{'<br>'.join(_escape(text) for text in feedback_lines(v))} |")

    def item(self, key):
        """An item's key, and its symbol in math when the solution is known."""
        if self.solution is None or key not in self.solution:
            return _code(key)
        return f"{_code(key)} {_math(self.solution[key].symbol.latex)}"

    def expected(self, verdict):
        """`$symbol = expected$`: the expected value, or for a symbolic item the expression in LaTeX."""
        if self.solution is None or verdict.key not in self.solution:
            return _code(verdict.expected)
        step = self.solution[verdict.key]
        if step.is_symbolic:
            from .formula import latex_formula

            return _math(f"{step.symbol.latex} = {latex_formula(step.value)}")
        return _math(f"{step.symbol.latex} = {verdict.expected}")


def _solution_of(result):
    """The Solution a result was graded against (a class's: any graded sheet's), or None."""
    sheets = result.results if hasattr(result, "results") else [result]
    return next((sheet.solution for sheet in sheets if getattr(sheet, "solution", None) is not None), None)


_MARKDOWN_SPECIAL = str.maketrans({c: "\\" + c for c in "\\`*_[]<>|$~"})


def _escape(text):
    """Text that Markdown prints as it is, on one line of a table cell, control characters escaped."""
    return visible(str(text).replace("\n", " ")).translate(_MARKDOWN_SPECIAL)


def _code(text):
    """Text in a code span (a student's answer, a key), safe inside a table cell, control characters escaped."""
    text = visible(str(text).replace("\n", " ")).replace("|", r"\|")
    return f"`` {text} ``" if "`" in text else f"`{text}`"


def _math(latex):
    """Inline math, with its bars written as commands so that no `|` can end a table cell."""
    return "$" + latex.replace(r"\|", r"\Vert ").replace("|", r"\vert ") + "$"


class LatexReportPrinter(SolutionPrinter):
    """Prints a SheetResult, a ClassResult or an AssignmentResult as a whole LaTeX document that plain
    pdflatex compiles.

    Whatever a sheet brings is `visible`, then escaped as text (`_literal`),
    so that it prints as written and never runs as TeX; the whole document
    then goes through `plain_latex`, as a solution's does. The tables are
    longtables, which break across pages.
    """

    _default_settings = {}
    PACKAGES = ("amsmath", "amssymb", "array", "longtable")  # all in texlive-latex-base

    def doprint(self, result):
        from .latex import _text, plain_latex

        self.solution = _solution_of(result)
        problem = getattr(result, "problem", None) or getattr(result, "assignment", None) or self.solution
        preamble = [r"\documentclass{article}", r"\usepackage{%s}" % ",".join(self.PACKAGES),
                    r"\usepackage[margin=2cm]{geometry}", r"\setlength{\emergencystretch}{3em}",
                    r"\begin{document}"]
        title = f"Grading: {_text(visible(problem.title))} ({_text(visible(problem.name))})" if problem else ""
        header = [rf"\section*{{{title}}}"] if problem else []
        body = self._print(result)
        return plain_latex("\n".join(preamble + header + [body, r"\end{document}"]) + "\n")

    def _print_ClassResult(self, result):
        if len(result.results) == 1:
            return self._print(result.results[0])
        lines = [f"{len(result.results)} sheets, {len(result.unreadable)} unreadable.", "",
                 # fixed widths, so that the line of an unreadable sheet, across the five, widens none
                 r"\begin{longtable}{@{}>{\raggedright\arraybackslash}p{7cm}>{\raggedleft\arraybackslash}p{1.5cm}"
                 r"*{4}{>{\raggedleft\arraybackslash}p{1.2cm}}@{}}",
                 r"student & score & OK & FT & wrong & missing \\ \hline \endhead"]
        for sheet in result.results:
            name = _literal(sheet.student)
            if sheet.error:
                lines.append(rf"{name} & \multicolumn{{5}}{{>{{\raggedright\arraybackslash}}"
                             r"p{\dimexpr 6.3cm+6\tabcolsep}@{}}"
                             rf"{{unreadable: {_literal(sheet.error)}}} \\")
                continue
            codes = [v.code for v in sheet.verdicts]
            wrong = sum(c not in ("OK", "FT", "MISSING") for c in codes)
            lines.append(f"{name} & {_score(sheet.score, sheet.max_score)} & {codes.count('OK')} & "
                         f"{codes.count('FT')} & {wrong} & {codes.count('MISSING')} \\\\")
        lines.append(r"\end{longtable}")
        warned = [(sheet.student, warning) for sheet in result.results for warning in sheet.warnings]
        if warned:
            lines += [r"\subsection*{Warnings (what a sheet holds that was not graded)}", r"\begin{itemize}"]
            lines += [rf"  \item {_literal(name)}: {_literal(warning)}" for name, warning in warned]
            lines.append(r"\end{itemize}")
        return "\n".join(lines + self.items(result))

    def items(self, result, heading=r"\subsection*{Per item}"):
        """Per item: its outcomes and most frequent wrong answers; then the slips behind them."""
        from .latex import _text

        lines = [heading, "How many students got it right, by follow-through, wrong, missing.", "",
                  r"\begin{longtable}{@{}>{\raggedright\arraybackslash}p{5.2cm}rrrr"
                  r">{\raggedright\arraybackslash}p{5.5cm}@{}}",
                  r"item & right & FT & wrong & missing & most frequent wrong answers \\ \hline \endhead"]
        for row in result.summary():
            frequent = ", ".join(f"{_literal(_cut(answer))} ({count})" for answer, count in row["frequent_wrong"])
            lines.append(f"{self.item(row['key'])} & {row['right']} & {row['follow_through']} & {row['wrong']} & "
                         f"{row['missing']} & {frequent} \\\\")
        lines.append(r"\end{longtable}")
        slips = slip_lines(result)
        if slips:
            lines += [r"\subsection*{Slips behind the wrong answers (what to re-teach)}", r"\begin{itemize}"]
            lines += [rf"  \item {self.item(key)}: {_text(visible(text))}" for key, text in slips]
            lines.append(r"\end{itemize}")
        return lines

    def _print_AssignmentResult(self, result):
        """An assignment: each student's total and subtotals, then per part its items (one sheet: its
        items part by part)."""
        from .latex import _text

        parts = list(result.classes)
        lines = [f"{len(result.assignment.parts)} parts, out of {_points(result.max_score())} points."]
        if len(result.results) == 1:
            sheet = result.results[0]
            lines += [r"\medskip", rf"\noindent\textbf{{Student:}} {_literal(sheet.student)} ({_literal(sheet.path)})"]
            if sheet.error:
                return "\n".join(lines + ["", f"Unreadable: {_literal(sheet.error)}"])
            lines += ["", rf"\noindent\textbf{{Total: {_points(result.score(sheet))}/{_points(result.max_score())}}}"]
            if sheet.warnings:
                lines += [r"\begin{itemize}"] + [rf"  \item warning: {_literal(w)}" for w in sheet.warnings]
                lines.append(r"\end{itemize}")
            for name in parts:
                self.solution = _solution_of(result.classes[name])
                lines.append(rf"\subsection*{{{self.part_heading(result, name, sheet)}}}")
                part = sheet.parts[name]
                if part.error:
                    lines.append(f"Unreadable: {_literal(part.error)}")
                    continue
                body = self._print_SheetResult(part).split("\n")
                lines += body[body.index(""):]  # its items' table, without the student's line and total
            return "\n".join(lines)
        lines += [f"{len(result.results)} sheets, {len(result.unreadable)} unreadable.", "",
                  r"\begin{longtable}{@{}>{\raggedright\arraybackslash}p{5cm}>{\raggedleft\arraybackslash}p{2cm}"
                  r">{\raggedright\arraybackslash}p{9cm}@{}}",
                  r"student & total & per part \\ \hline \endhead"]
        for sheet in result.results:
            if sheet.error:
                lines.append(rf"{_literal(sheet.student)} & & unreadable: {_literal(sheet.error)} \\")
                continue
            subtotals = "; ".join(f"{_text(name)}: " + ("unreadable" if sheet.parts[name].error
                                                       else _points(result.subtotal(sheet, name))) for name in parts)
            lines.append(rf"{_literal(sheet.student)} & {_points(result.score(sheet))} & {subtotals} \\")
        lines.append(r"\end{longtable}")
        warned = [(sheet.student, warning) for sheet in result.results for warning in sheet.warnings]
        if warned:
            lines += [r"\subsection*{Warnings (what a sheet holds that was not graded)}", r"\begin{itemize}"]
            lines += [rf"  \item {_literal(name)}: {_literal(warning)}" for name, warning in warned]
            lines.append(r"\end{itemize}")
        for name in parts:
            self.solution = _solution_of(result.classes[name])
            lines += self.items(result.classes[name], rf"\subsection*{{{self.part_heading(result, name)}}}")
        return "\n".join(lines)

    @staticmethod
    def part_heading(result, name, sheet=None):
        from .latex import _text

        problem = result.classes[name].problem
        points = (f"{_points(result.subtotal(sheet, name))}/" if sheet is not None else "") + \
            f"{_points(result.part_max(name))} points"
        return f"Part {_text(name)}: {_text(visible(problem.title))} ({points})"

    def _print_SheetResult(self, sheet):
        lines = [r"\medskip", rf"\noindent\textbf{{Student:}} {_literal(sheet.student)} ({_literal(sheet.path)})", ""]
        if sheet.error:
            return "\n".join(lines + [f"Unreadable: {_literal(sheet.error)}"])
        lines.append(rf"\noindent\textbf{{Total: {_score(sheet.score, sheet.max_score)}}}")
        if sheet.warnings:
            lines += [r"\begin{itemize}"] + [rf"  \item warning: {_literal(w)}" for w in sheet.warnings]
            lines.append(r"\end{itemize}")
        lines += ["", r"\begin{longtable}{@{}>{\raggedright\arraybackslash}p{2.4cm}>{\raggedright\arraybackslash}"
                      r"p{2.4cm}lr>{\raggedright\arraybackslash}p{3.4cm}>{\raggedright\arraybackslash}p{3.9cm}@{}}",
                  r"item & answer & verdict & points & expected & feedback \\ \hline \endhead"]
        lines += [self._print(verdict) for verdict in sheet.verdicts]
        return "\n".join(lines + [r"\end{longtable}"])

    def _print_Verdict(self, v):
        return (f"{_literal(v.key)} & {_literal(v.answer) if v.answer else '--'} & {v.code} & "
                f"{_score(v.points, v.max_points)} & {self.expected(v)} & "
                f"{_NEWLINE.join(_literal(text) for text in feedback_lines(v))} \\\\")

    def item(self, key):
        """An item's key (a long one may break after a dot), and its symbol in math when the solution is known."""
        shown = _literal(key).replace(".", r".\allowbreak{}")
        if self.solution is None or key not in self.solution:
            return shown
        return rf"{shown} ${self.solution[key].symbol.latex}$"

    def expected(self, verdict):
        """`$symbol = expected$`: the expected value (a number, or else text), or a symbolic item's expression."""
        if self.solution is None or verdict.key not in self.solution:
            return _literal(verdict.expected)
        step = self.solution[verdict.key]
        if step.is_symbolic:
            from .formula import latex_formula

            value = latex_formula(step.value)
        elif _NUMBER.fullmatch(verdict.expected):
            value = verdict.expected
        else:
            value = rf"\text{{{_literal(verdict.expected)}}}"
        return f"${step.symbol.latex} = {value}$"


_NEWLINE = r" \newline "
_NUMBER = re.compile(r"-?[0-9]+(?:\.[0-9]+)?(?:e[-+]?[0-9]+)?")
_ASCII_RUNS = re.compile(r"[\x00-\x7f]+|[^\x00-\x7f]+")


def _literal(text):
    """Text that LaTeX prints as written and never runs, in typewriter type: control characters
    `visible`; each of TeX's special signs (and ` of the ligatures ?` !`) a `\\symbol{code}`, which
    cmtt has at its ASCII place, so that `\\`, `_`, `~` print as themselves; each run of non-ASCII
    characters as macros (`ascii_latex`)."""
    from .latex import ascii_latex

    text = unicodedata.normalize("NFC", visible(text))
    return r"\texttt{" + "".join(run.translate(_TYPED) if run.isascii() else ascii_latex(run)
                                  for run in _ASCII_RUNS.findall(text)) + "}"


_TYPED = str.maketrans({c: rf"\symbol{{{ord(c)}}}" for c in "\\{}$&#^_~%`"})


def latex_report(result):
    """A SheetResult, a ClassResult or an AssignmentResult as a whole LaTeX document (`derive grade --latex`)."""
    return LatexReportPrinter().doprint(result)
