"""Grading reports for people: one sheet item by item, or a whole class with a per-item summary."""

from ..steps import format_number
from .printer import SolutionPrinter


class TextReportPrinter(SolutionPrinter):
    """Prints a SheetResult (one student) or a ClassResult (several)."""

    _default_settings = {"width": 18}

    def doprint(self, result):
        return self._print(result)

    def _print_ClassResult(self, result):
        problem = result.problem
        if len(result.results) == 1:
            return self.header(problem) + self._print(result.results[0])
        lines = [f"{self.header(problem)}{len(result.results)} sheets, {len(result.unreadable)} unreadable", ""]
        name_width = max([len("student")] + [len(r.student) for r in result.results])
        lines.append(f"  {'student':<{name_width}}  {'score':>11}  {'OK':>4} {'FT':>4} {'wrong':>6} {'missing':>8}")
        for sheet in result.results:
            if sheet.error:
                lines.append(f"  {sheet.student:<{name_width}}  unreadable: {sheet.error}")
                continue
            codes = [v.code for v in sheet.verdicts]
            wrong = sum(c not in ("OK", "FT", "MISSING") for c in codes)
            lines.append(f"  {sheet.student:<{name_width}}  {_score(sheet.score, sheet.max_score):>11}  "
                         f"{codes.count('OK'):>4} {codes.count('FT'):>4} {wrong:>6} {codes.count('MISSING'):>8}")
        lines += ["", "Per item (how many students got it right, by follow-through, wrong, missing):"]
        key_width = max([len("item")] + [len(k) for k in result.items])
        lines.append(f"  {'item':<{key_width}}  {'right':>5} {'FT':>4} {'wrong':>6} {'missing':>8}  most frequent wrong answers")
        for row in result.summary():
            frequent = ", ".join(f"{answer} ({count})" for answer, count in row["frequent_wrong"])
            lines.append(f"  {row['key']:<{key_width}}  {row['right']:>5} {row['follow_through']:>4} "
                         f"{row['wrong']:>6} {row['missing']:>8}  {frequent}".rstrip())
        lines += self.slips(result)
        return "\n".join(lines) + "\n"

    def slips(self, result):
        """What to re-teach: per item with wrong answers a known slip explains, how many it explains."""
        from ..slips import LABELS

        rows = [row for row in result.summary() if row["slips"]]
        if not rows:
            return []
        lines = ["", "Slips behind the wrong answers (what to re-teach):"]
        for row in rows:
            named = ", ".join(f"{count} of them {LABELS.get(code, code)}" for code, count in row["slips"].items())
            lines.append(f"  {row['key']}: {row['wrong']} wrong, {named}")
        return lines

    def header(self, problem):
        return f"Grading: {problem.title} ({problem.name})\n"

    def _print_SheetResult(self, sheet):
        lines = [f"Student: {sheet.student} ({sheet.path})"]
        if sheet.error:
            return "\n".join(lines + [f"  unreadable: {sheet.error}"]) + "\n"
        lines += [f"  warning: {w}" for w in sheet.warnings]
        width = max([len("item")] + [len(v.key) for v in sheet.verdicts])
        answer_width = min(24, max([len("answer")] + [len(v.answer) for v in sheet.verdicts]))
        self.columns = (width, answer_width)
        lines.append("")
        lines.append(f"  {'item':<{width}}  {'answer':<{answer_width}}  {'verdict':<10} points")
        for verdict in sheet.verdicts:
            lines += self._print(verdict)
        lines += ["", f"Total: {_score(sheet.score, sheet.max_score)}"]
        return "\n".join(lines) + "\n"

    def _print_Verdict(self, v):
        width, answer_width = self.columns
        answer = v.answer if len(v.answer) <= answer_width else v.answer[:answer_width - 3] + "..."
        first = f"  {v.key:<{width}}  {answer or '-':<{answer_width}}  {v.code:<10} {_score(v.points, v.max_points)}"
        if v.code == "OK":
            return [first + (f"  {v.detail}" if v.decided_by else "")]
        indent = " " * (width + answer_width + 6)
        lines = [first]
        if v.code == "FT":
            lines.append(f"{indent}{v.detail}")
        else:
            lines.append(f"{indent}{v.detail}; expected {v.expected}" if v.detail else f"{indent}expected {v.expected}")
        if v.slip_detail:
            lines.append(f"{indent}{v.slip_detail}")
        if v.calculation:
            lines.append(f"{indent}{v.calculation}")
        return lines


def _score(points, max_points):
    return f"{format_number(points)}/{format_number(max_points)}"
