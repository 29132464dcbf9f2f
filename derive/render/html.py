"""HTML pages: a worked solution, a student's feedback, a class's results; each one self-contained file.

A page holds everything it shows: its style sheet inline, its mathematics
as MathML (see derive.render.mathml for why), its charts as inline SVG. It
loads nothing, runs no script, and reads on a phone (the viewport is the
device's; a formula too wide for it scrolls on its own, not the page).

Whatever a student's sheet brings (an id, an answer, a file name, an error)
reaches the page through `html.escape` after `visible`, so it shows as
written and never becomes markup.
"""

import html
import re

from ..steps import format_number
from .charts import count_bars, histogram, outcome_bars
from .formula import latex_formula
from .mathml import mathml, split_text
from .printer import SolutionPrinter
from .report import _solution_of, slip_lines, visible

STYLE = """
:root { color-scheme: light; --ink: #1b1b1b; --muted: #5f6368; --rule: #dadce0; --right: #2e7d32;
        --partial: #558b2f; --wrong: #c62828; --missing: #757575; }
* { box-sizing: border-box; }
body { margin: 0; color: var(--ink); background: #fff; font: 16px/1.5 system-ui, -apple-system, "Segoe UI",
       Roboto, "DejaVu Sans", sans-serif; }
main { max-width: 52rem; margin: 0 auto; padding: 1rem 1rem 3rem; }
h1 { font-size: 1.6rem; line-height: 1.25; margin: 0.5rem 0; }
h2 { font-size: 1.2rem; margin: 2rem 0 0.5rem; border-bottom: 1px solid var(--rule); padding-bottom: 0.2rem; }
p.meta { color: var(--muted); margin-top: 0; }
math { font-size: 1.1em; font-family: "Latin Modern Math", "STIX Two Math", "Cambria Math", "DejaVu Math TeX Gyre",
       math; }
.math { overflow-x: auto; overflow-y: hidden; padding: 0.2rem 0; }
.math > math { display: inline math; }  /* a display formula (its fractions full size), set from the left */
ol.steps, ul.givens, ul.notes { padding-left: 1.25rem; }
.line { overflow-x: auto; overflow-y: hidden; }  /* a list item's formula wider than a phone scrolls */
ol.steps > li { margin: 0.35rem 0; }
ol.steps > li::marker { color: var(--muted); font-size: 0.85em; }
p.note { margin: 0; color: var(--muted); font-size: 0.92em; }
p.lecture { margin: 0.2rem 0 0; padding: 0.1rem 0.6rem; border-left: 3px solid #f9a825; background: #fffde7;
            font-size: 0.92em; overflow-wrap: anywhere; }
p.lecture em { font-style: normal; color: var(--muted); }
code { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 0.92em; background: #f1f3f4;
       padding: 0.05rem 0.25rem; border-radius: 3px; overflow-wrap: anywhere; }
.score { font-size: 1.4rem; font-weight: 600; }
.verdict { display: inline-block; padding: 0.05rem 0.5rem; border-radius: 1rem; color: #fff; font-size: 0.85em;
           font-weight: 600; white-space: nowrap; }
.verdict.right { background: var(--right); } .verdict.partial { background: var(--partial); }
.verdict.wrong { background: var(--wrong); } .verdict.missing { background: var(--missing); }
.item { border: 1px solid var(--rule); border-left-width: 5px; border-radius: 6px; padding: 0.6rem 0.8rem;
        margin: 0.8rem 0; }
.item.right { border-left-color: var(--right); } .item.partial { border-left-color: var(--partial); }
.item.wrong { border-left-color: var(--wrong); } .item.missing { border-left-color: var(--missing); }
.item h3 { font-size: 1rem; margin: 0 0 0.3rem; display: flex; flex-wrap: wrap; gap: 0.5rem;
           align-items: baseline; }
.item h3 .points { margin-left: auto; color: var(--muted); font-weight: normal; }
.item dl { margin: 0; display: grid; grid-template-columns: max-content minmax(0, 1fr); gap: 0.2rem 0.8rem; }
.item dt { color: var(--muted); }
.item dd { margin: 0; min-width: 0; }
ul.look { columns: 14rem; padding-left: 1.25rem; }
.warning { background: #fff8e1; border: 1px solid #ffe082; padding: 0.4rem 0.7rem; border-radius: 6px; }
.table { overflow-x: auto; }
table { border-collapse: collapse; margin: 0.5rem 0; }
th, td { text-align: left; padding: 0.25rem 0.6rem; border-bottom: 1px solid var(--rule); vertical-align: top; }
td.number, th.number { text-align: right; font-variant-numeric: tabular-nums; }
figure { margin: 1rem 0; }
figure svg.chart { width: 100%; height: auto; max-width: 100%; }
figcaption { color: var(--muted); font-size: 0.92em; }
"""


def page(title, body):
    """A whole HTML document: `title` (text) and `body` (HTML), with the style sheet inline."""
    return "\n".join([
        "<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_escape(title)}</title>", f"<style>{STYLE}</style>", "</head>", "<body>", "<main>",
        *body, "</main>", "</body>", "</html>"]) + "\n"


def _escape(text):
    """Text as it is, control characters shown as escapes, never markup."""
    return html.escape(visible(text), quote=True)


def inline(latex):
    """LaTeX that mixes words and mathematics (a note) as HTML: the words as text, which wraps, the
    rest as inline MathML."""
    pieces, _ = split_text(latex)
    return "".join(_escape(content) if kind == "text" else content for kind, content in pieces)


def block(latex):
    """A formula on a line of its own, scrolling sideways when it is wider than the page."""
    return f'<div class="math">{mathml(latex, display=True)}</div>'


class HtmlPrinter(SolutionPrinter):
    """The worked solution as one page: notes, then each section's givens and steps, each step's line
    "formula = numbers = value" as a formula of its own."""

    matrix_value = SolutionPrinter.latex_matrix

    def _print_Solution(self, solution):
        return page(solution.title, self.body(solution))

    def body(self, solution):
        """The page's contents: title, notes and sections (an assignment's page puts several together)."""
        body = [f"<h1>{_escape(solution.title)}</h1>",
                f'<p class="meta">Problem <code>{_escape(solution.name)}</code> ({_escape(solution.kind)}); '
                f"rounding: {_escape(solution.rounding.describe())}.</p>"]
        if solution.notes:
            body += ['<ul class="notes">'] + [f'<li><div class="line">{inline(note.latex)}</div></li>'
                                              for note in solution.notes] + ["</ul>"]
        if solution.lecture:
            body += [f'<div class="lecture" role="note" aria-label="{_escape(self.LECTURE_HEADING)}">']
            body += [self.lecture(note) for note in solution.lecture] + ["</div>"]
        return body + [self._print(section) for section in solution.sections]

    def _print_Section(self, section):
        lines = ["<section>", f"<h2>{_escape(section.title)}</h2>"]
        if all(step.is_given for step in section.steps):
            lines.append('<ul class="givens">')
            for group in self.given_groups(section.steps):
                lines.append('<li><div class="line">' + ", ".join(self._print(step) for step in group) + "</div>"
                             + "".join(self.lecture(note) for note in self.lecture_of(group)) + "</li>")
            lines.append("</ul>")
        else:
            lines += ['<ol class="steps">'] + [self.line(step) for step in section.steps] + ["</ol>"]
        return "\n".join(lines + ["</section>"])

    def _key(self, step):
        return f"<code>{_escape(step.key)}</code> " if self._settings["keys"] else ""

    def _print_Step(self, step):
        """A given as inline math (`x₁ = 1`); a computed step as its display formula."""
        if step.is_given:
            return self._key(step) + mathml(f"{step.symbol.latex} = {self.number(step.value)}")
        return block(" = ".join([step.symbol.latex] + self.step_parts(step, latex_formula)))

    def line(self, step):
        """One item of a section's list: the step's formula (a given's too), its note and its key."""
        formula = block(f"{step.symbol.latex} = {self.number(step.value)}") if step.is_given else self._print(step)
        note = f'<p class="note">{_escape(step.note)}</p>' if step.note else ""
        key = f'<p class="note">{self._key(step)}</p>' if self._settings["keys"] else ""
        lecture = "".join(self.lecture(lecture_note) for lecture_note in step.lecture)
        return f"<li>{key}{formula}{note}{lecture}</li>"

    def lecture(self, note):
        """A LectureNote as a paragraph of its own, marked: what the lecture printed, and why it differs."""
        return (f'<p class="lecture"><em>{_escape(self.PRINTED)}:</em> {_escape(note.printed)}; '
                f"<em>{_escape(self.WHY)}:</em> {_escape(note.why)}</p>")


_TONES = {"OK": "right", "FT": "partial", "MISSING": "missing"}


def _tone(code):
    return _TONES.get(code, "wrong")


class HtmlReportPrinter(SolutionPrinter):
    """A SheetResult as a student's feedback page; a ClassResult as the class's page with its charts.

    `class_page` links a feedback page back to the class page; `pages`
    (student -> file name) links the class page to each student's page;
    `feedback` is what a student's page shows (an assignment's policy:
    `verdict`, `expected` or `calculation`).
    """

    _default_settings = {"class_page": None, "pages": None, "feedback": "calculation"}

    def doprint(self, result):
        self.solution = _solution_of(result)
        return self._print(result)

    def symbol(self, key):
        """An item's symbol as MathML and its key, or the key alone when the solution is not known."""
        if self.solution is None or key not in self.solution:
            return f"<code>{_escape(key)}</code>"
        return f"{mathml(self.solution[key].symbol.latex)} <code>{_escape(key)}</code>"

    def expected(self, verdict):
        """The expected value as `symbol = value`, in a box of its own that scrolls when it is wider than
        the page (an expression can be)."""
        if self.solution is None or verdict.key not in self.solution:
            return f"<code>{_escape(verdict.expected)}</code>"
        step = self.solution[verdict.key]
        value = latex_formula(step.value) if step.is_symbolic else verdict.expected
        return f'<div class="math">{mathml(f"{step.symbol.latex} = {value}")}</div>'

    # -- one student ---------------------------------------------------------------------------------
    def _print_SheetResult(self, sheet):
        title = self.solution.title if self.solution is not None else "Feedback"
        body = self.feedback_header(title, sheet)
        if sheet.error:
            return page(f"{sheet.student}: {title}", body + [
                f'<p class="warning">Your answer sheet could not be read: {_escape(sheet.error)}</p>'])
        body.append(f'<p><span class="score">{_score(sheet.score, sheet.max_score)}</span> points: '
                    f"{_counts(sheet.verdicts)}.</p>")
        body += [f'<p class="warning">Not graded: {_escape(warning)}</p>' for warning in sheet.warnings]
        return page(f"{sheet.student}: {title}", body + self.items(sheet.verdicts))

    def feedback_header(self, title, sheet):
        body = []
        if self._settings["class_page"]:
            body.append(f'<p class="meta"><a href="{html.escape(self._settings["class_page"])}">'
                        "← the class's results</a></p>")
        return body + [f"<h1>{_escape(title)}</h1>",
                       f'<p class="meta">Feedback for <strong>{_escape(sheet.student)}</strong> '
                       f"(<code>{_escape(sheet.path)}</code>)</p>"]

    def items(self, verdicts, anchor="item"):
        """The items to look at first, then a card per item: its answer, verdict and points, and as the
        feedback policy allows, the expected value, why, the slip and the calculation."""
        from ..grading.grader import WORDS

        feedback = self._settings["feedback"]
        body = []
        to_look_at = [(index, verdict) for index, verdict in enumerate(verdicts)
                      if _tone(verdict.code) in ("wrong", "missing")]
        if to_look_at:
            body += ["<p>To look at:</p>", '<ul class="look">']
            body += [f'<li><a href="#{anchor}-{index}">{self.symbol(verdict.key)}</a> {WORDS[verdict.code]}</li>'
                     for index, verdict in to_look_at]
            body.append("</ul>")
        for index, verdict in enumerate(verdicts):
            tone = _tone(verdict.code)
            rows = [("your answer", f"<code>{_escape(verdict.answer)}</code>" if verdict.answer else "none")]
            if feedback != "verdict":
                rows.append(("expected", self.expected(verdict)))
                if verdict.detail not in ("", WORDS[verdict.code]) and (verdict.code != "OK" or verdict.decided_by):
                    rows.append(("why", _escape(verdict.detail)))
                if verdict.slip_detail:
                    rows.append(("the slip", _escape(verdict.slip_detail)))
            if feedback == "calculation" and verdict.calculation_latex:
                rows.append(("calculation", _calculation(verdict.calculation_latex)))
            elif feedback == "calculation" and verdict.calculation:
                rows.append(("calculation", _escape(verdict.calculation)))
            body += [f'<section class="item {tone}" id="{anchor}-{index}">',
                     f"<h3>{self.symbol(verdict.key)} <span class=\"verdict {tone}\">{WORDS[verdict.code]}</span>"
                     f' <span class="points">{_score(verdict.points, verdict.max_points)}</span></h3>',
                     "<dl>" + "".join(f"<dt>{name}</dt><dd>{content}</dd>" for name, content in rows) + "</dl>",
                     "</section>"]
        return body

    # -- the class -----------------------------------------------------------------------------------
    def _print_ClassResult(self, result):
        problem = result.problem
        scores = [sheet.score for sheet in result.results if not sheet.error]
        body = [f"<h1>Grading: {_escape(problem.title)}</h1>",
                f'<p class="meta">Problem <code>{_escape(problem.name)}</code>; {len(result.results)} sheets, '
                f"{len(result.unreadable)} unreadable; out of {format_number(result.max_score())} points.</p>"]
        body += self.scores(scores, result.max_score())
        body += self.outcomes(result)
        body += self.students(result)
        return page(f"Grading: {problem.title}", body + self.warnings(result.results))

    def scores(self, scores, max_score):
        """The mean and median, and the histogram of the scores."""
        if not scores:
            return []
        ordered = sorted(scores)
        middle = len(ordered) // 2
        median = ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2
        return [f"<p>Mean score {format_number(round(sum(scores) / len(scores), 2))}, median "
                f"{format_number(round(median, 2))}, out of "
                f"{format_number(round(max_score, 2))}.</p>",
                "<h2>Scores</h2>", "<figure>", histogram(scores, max_score, "Scores of the graded sheets"),
                f"<figcaption>How many of the {len(scores)} graded sheets scored in each range "
                "(a range includes its lower end).</figcaption>", "</figure>"]

    def outcomes(self, result, heading="h2", title=""):
        """Per item, the bar of its outcomes; the most common slips, as bars and as lines naming them."""
        from ..grading.slips import LABELS

        summary = result.summary()
        rows = [(self.label(row["key"]), row) for row in summary]
        body = [f"<{heading}>Per item{title}</{heading}>", "<figure>",
                outcome_bars(rows, "Outcome of each item: right, follow-through, wrong, missing"),
                "<figcaption>For each item, how many sheets had it right, right by follow-through, wrong "
                "(a wrong sign, too coarse a rounding, unreadable or undecided included), or missing."
                "</figcaption>", "</figure>"]
        slips = sorted(((self.label(row["key"]) + ": " + LABELS.get(code, code), count)
                        for row in summary for code, count in row["slips"].items()), key=lambda kv: (-kv[1], kv[0]))
        if slips:
            body += [f"<{heading}>Most common slips{title}</{heading}>", "<figure>",
                     count_bars(slips[:10], "The slips behind the most wrong answers"),
                     "<figcaption>Wrong answers that one known slip reproduces, by item and slip: what to "
                     "re-teach.</figcaption>", "</figure>", "<ul>"]
            body += [f"<li>{self.symbol(key)}: {_escape(text)}</li>" for key, text in slip_lines(result)]
            body.append("</ul>")
        return body

    @staticmethod
    def warnings(sheets):
        warned = [(sheet.student, warning) for sheet in sheets for warning in sheet.warnings]
        if not warned:
            return []
        return (["<h2>Warnings</h2>", "<p>What a sheet holds that was not graded:</p>", "<ul>"]
                + [f"<li>{_escape(student)}: {_escape(warning)}</li>" for student, warning in warned] + ["</ul>"])

    # -- an assignment ---------------------------------------------------------------------------------
    def _print_AssignmentResult(self, result):
        """The class's page of an assignment: totals, then per part its outcomes and slips."""
        assignment = result.assignment
        totals = [result.score(sheet) for sheet in result.results if not sheet.error]
        body = [f"<h1>Grading: {_escape(assignment.title)}</h1>",
                f'<p class="meta">Assignment <code>{_escape(assignment.name)}</code>, {len(assignment.parts)} '
                f"parts; {len(result.results)} sheets, {len(result.unreadable)} unreadable; out of "
                f"{format_number(round(result.max_score(), 2))} points.</p>"]
        body += self.scores(totals, result.max_score())
        body += self.assignment_students(result)
        for name, klass in result.classes.items():
            self.solution = _solution_of(klass)
            body += [f'<h2 id="part-{_escape(name)}">Part {_escape(name)}: {_escape(klass.problem.title)} '
                     f"({format_number(round(result.part_max(name), 2))} points)</h2>"]
            body += self.outcomes(klass, heading="h3", title=f" of part {_escape(name)}")
        return page(f"Grading: {assignment.title}", body + self.warnings(result.results))

    def assignment_students(self, result):
        pages = self._settings["pages"] or {}
        names = list(result.classes)
        lines = ["<h2>Students</h2>", '<div class="table"><table>',
                 '<tr><th>student</th><th class="number">total</th>'
                 + "".join(f'<th class="number">{_escape(name)}</th>' for name in names) + "</tr>"]
        for index, sheet in enumerate(result.results):
            name = _escape(sheet.student)
            if index in pages:
                name = f'<a href="{html.escape(pages[index])}">{name}</a>'
            if sheet.error:
                lines.append(f'<tr><td>{name}</td><td colspan="{len(names) + 1}">unreadable: '
                             f"{_escape(sheet.error)}</td></tr>")
                continue
            cells = [_score(round(result.score(sheet), 2), round(result.max_score(), 2))]
            cells += ["unreadable" if sheet.parts[part].error else format_number(round(result.subtotal(sheet, part), 2))
                      for part in names]
            lines.append(f"<tr><td>{name}</td>" + "".join(f'<td class="number">{c}</td>' for c in cells) + "</tr>")
        return lines + ["</table></div>"]

    def assignment_sheet(self, result, sheet):
        """One student's feedback page of an assignment: the total, then each part's items."""
        assignment = result.assignment
        body = self.feedback_header(assignment.title, sheet)
        if sheet.error:
            return page(f"{sheet.student}: {assignment.title}", body + [
                f'<p class="warning">Your answer sheet could not be read: {_escape(sheet.error)}</p>'])
        body.append(f'<p><span class="score">{_score(round(result.score(sheet), 2), round(result.max_score(), 2))}'
                    "</span> points.</p>")
        body += [f'<p class="warning">Not graded: {_escape(warning)}</p>' for warning in sheet.warnings]
        for number, (name, part) in enumerate(sheet.parts.items(), 1):
            self.solution = _solution_of(result.classes[name])
            subtotal = f"{format_number(round(result.subtotal(sheet, name), 2))}/" \
                       f"{format_number(round(result.part_max(name), 2))}"
            body.append(f'<h2 id="part-{_escape(name)}">Part {_escape(name)}: {_escape(part_title(result, name))}'
                        f" ({subtotal} points)</h2>")
            if part.error:
                body.append(f'<p class="warning">This part could not be read: {_escape(part.error)}</p>')
                continue
            body.append(f"<p>{_counts(part.verdicts)}.</p>")
            body += self.items(part.verdicts, anchor=f"part{number}-item")
        return page(f"{sheet.student}: {assignment.title}", body)

    def label(self, key):
        """An item as a chart labels it: its symbol in Unicode and its key."""
        if self.solution is None or key not in self.solution:
            return visible(key)
        return f"{self.solution[key].symbol.text}  {visible(key)}"

    def students(self, result):
        pages = self._settings["pages"] or {}
        lines = ["<h2>Students</h2>", '<div class="table"><table>',
                 '<tr><th>student</th><th class="number">score</th><th class="number">right</th>'
                 '<th class="number">FT</th><th class="number">wrong</th><th class="number">missing</th></tr>']
        for index, sheet in enumerate(result.results):
            name = _escape(sheet.student)
            if index in pages:
                name = f'<a href="{html.escape(pages[index])}">{name}</a>'
            if sheet.error:
                lines.append(f'<tr><td>{name}</td><td colspan="5">unreadable: {_escape(sheet.error)}</td></tr>')
                continue
            codes = [v.code for v in sheet.verdicts]
            wrong = sum(_tone(code) == "wrong" for code in codes)
            cells = [_score(sheet.score, sheet.max_score), codes.count("OK"), codes.count("FT"), wrong,
                     codes.count("MISSING")]
            lines.append(f"<tr><td>{name}</td>" + "".join(f'<td class="number">{c}</td>' for c in cells) + "</tr>")
        return lines + ["</table></div>"]


def _calculation(latex):
    """A calculation: the words before it as text, the formula as a block of its own."""
    pieces, _ = split_text(latex)
    words = "".join(_escape(content) for kind, content in pieces[:1] if kind == "text")
    rest = pieces[1:] if words else pieces
    shown = "".join(content if kind == "math" else _escape(content) for kind, content in rest)
    return (f"{words}" if words else "") + f'<div class="math">{shown}</div>'


def _score(points, max_points):
    return f"{format_number(points)}/{format_number(max_points)}"


_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")


def page_names(result):
    """{index of a sheet in result.results: its page's file name}, one distinct name per sheet, made of
    the student's id in letters a file system keeps (`Ada Lovelace` -> `Ada-Lovelace.html`)."""
    names, taken = {}, {"index"}
    for index, sheet in enumerate(result.results):
        stem = _UNSAFE.sub("-", sheet.student).strip("-")[:60] or "sheet"
        candidate, number = stem, 1
        while candidate.casefold() in taken:
            number += 1
            candidate = f"{stem}-{number}"
        taken.add(candidate.casefold())
        names[index] = f"{candidate}.html"
    return names


def class_pages(result):
    """{relative path: page} for `derive grade --html DIR`: index.html and one page per sheet under
    students/, each linking to the other; an assignment's pages follow its feedback policy."""
    names = page_names(result)
    assignment = getattr(result, "assignment", None)
    feedback = assignment.feedback if assignment is not None else "calculation"
    pages = {"index.html": HtmlReportPrinter(pages={i: f"students/{name}" for i, name in names.items()})
             .doprint(result)}
    printer = HtmlReportPrinter(class_page="../index.html", feedback=feedback)
    for index, sheet in enumerate(result.results):
        if assignment is not None:
            pages[f"students/{names[index]}"] = printer.assignment_sheet(result, sheet)
            continue
        printer.solution = sheet.solution or _solution_of(result)  # a variant's sheet, its own solution
        pages[f"students/{names[index]}"] = printer._print(sheet)
    return pages


def part_title(result, name):
    return result.classes[name].problem.title


def _counts(verdicts):
    """`n right, n by follow-through, n wrong, n missing` of a list of verdicts."""
    return ", ".join(f"{sum(_tone(v.code) == tone for v in verdicts)} {word}" for tone, word in (
        ("right", "right"), ("partial", "by follow-through"), ("wrong", "wrong"), ("missing", "missing")))
