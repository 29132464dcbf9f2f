"""Grading an assignment: one answer sheet per student, a section per part, one report with subtotals.

    id: s1234567
    hw1:
      z[1][1]: 2
      delta[2]: [-0.0006, -0.0008]
    hw2-sigmoid:
      d1: "s(1-s)"

Each part is graded by its problem's own Grader, exactly as `derive grade`
grades a sheet of that problem alone. A section that cannot be read (a list,
too many answers) is that part's error and the other parts are still graded;
a part left out of the sheet is graded with every item missing, and says so.
The class is graded in isolated children (derive.grading.isolation), each
sheet within its budget, as `derive grade` grades a problem's class.

A part with `points` counts for that many points: its score is its items'
points scaled by points / (its items' total).
"""

import difflib
import io
import json
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import AnswerSheetError, DeriveError
from ..steps import format_number
from .grader import Grader, SheetResult
from .report import ClassResult, Sheets, _SafeWriter, _number, _sheet_json
from .sheet import IDENTITY_FIELDS, blank_sheet, load_sheet, sheet_from_mapping, sheet_paths


@dataclass
class AssignmentSheet:
    """One student's sheet over every part: `parts` is part name -> SheetResult (in the assignment's
    order); `error` says why the whole file could not be read ("" when it was graded)."""

    student: str
    path: str
    parts: dict = field(default_factory=dict)
    warnings: list = field(default_factory=list)
    error: str = ""


@dataclass
class AssignmentResult(Sheets):
    """A class's sheets graded against an assignment.

    assignment: the Assignment; classes: part name -> ClassResult (every
    sheet's result for that part, in sheet order: the per-part reports);
    results: one AssignmentSheet per sheet. `weight(part)` scales a part's
    points to its share; `score(sheet)` is a sheet's total.
    Reports: `to_text()`, `gradebook_csv()`, `summary_csv()`, `verdicts_json()`, `to_latex()`, `html_pages()`;
    `write(...)`.
    """

    assignment: object
    classes: dict
    results: list = field(default_factory=list)

    def weight(self, name):
        part, result = self.assignment[name], self.classes[name]
        raw = result.max_score()
        return part.points / raw if part.points is not None and raw > 0 else 1.0

    def part_max(self, name):
        return self.classes[name].max_score() * self.weight(name)

    def max_score(self):
        return sum(self.part_max(name) for name in self.classes)

    def subtotal(self, sheet, name):
        part = sheet.parts.get(name)
        return 0.0 if part is None or part.error else part.score * self.weight(name)

    def score(self, sheet):
        return 0.0 if sheet.error else sum(self.subtotal(sheet, name) for name in self.classes)

    def __repr__(self):
        return (f"<AssignmentResult {self.assignment.name}: {len(self.results)} sheets, "
                f"{len(self.unreadable)} unreadable, out of {format_number(self.max_score())}>")

    def to_text(self):
        """The report `derive grade` prints for an assignment."""
        from ..render.report import TextReportPrinter

        return TextReportPrinter().doprint(self)

    def gradebook_csv(self):
        """One row per student: each part's subtotal and each item's points, the total and the status."""
        out = io.StringIO()
        writer = _SafeWriter(out)
        columns = [(name, key) for name, result in self.classes.items() for key in (None, *result.items)]
        writer.writerow(["student", "file", *[name if key is None else f"{name}:{key}" for name, key in columns],
                         "total", "max", "status"])
        for sheet in self.results:
            if sheet.error:
                writer.writerow([sheet.student, sheet.path, *[""] * len(columns), 0, _number(self.max_score()),
                                 f"unreadable: {sheet.error}"])
                continue
            cells = []
            for name, key in columns:
                part = sheet.parts[name]
                if key is None:
                    cells.append(_number(round(self.subtotal(sheet, name), 6)))
                else:
                    cells.append("" if part.error else _number(part[key].points))
            broken = [name for name, part in sheet.parts.items() if part.error]
            status = "graded" if not broken else "graded; unreadable: " + ", ".join(broken)
            writer.writerow([sheet.student, sheet.path, *cells, _number(round(self.score(sheet), 6)),
                             _number(round(self.max_score(), 6)), status])
        return out.getvalue()

    def to_latex(self):
        """The report as a LaTeX document that pdflatex compiles (`derive grade --latex`)."""
        from ..render.report import latex_report

        return latex_report(self)

    def summary_csv(self):
        """The per-item summary of every part, one row per item, its part first."""
        from .report import summary_csv

        lines = ["part," + summary_csv(next(iter(self.classes.values()))).split("\n", 1)[0]]
        for name, result in self.classes.items():
            rows = summary_csv(result).splitlines()[1:]
            lines += [f"{name},{row}" for row in rows]  # a part's name needs no quoting: letters, digits, _ . -
        return "\n".join(lines) + "\n"

    def verdicts_json(self):
        """Every part's verdicts of every sheet, each part's weight and summary, and each sheet's totals."""
        document = {
            "assignment": self.assignment.name,
            "title": self.assignment.title,
            "feedback": self.assignment.feedback,
            "max_score": self.max_score(),
            "parts": [{"name": name, "problem": result.problem.name, "items": list(result.items),
                       "points": self.part_max(name), "weight": self.weight(name),
                       "summary": json.loads(result.verdicts_json())["summary"]}
                      for name, result in self.classes.items()],
            "students": [self._sheet_json(sheet) for sheet in self.results],
        }
        return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"

    def _sheet_json(self, sheet):
        entry = {"student": sheet.student, "file": sheet.path, "error": sheet.error or None,
                 "warnings": list(sheet.warnings)}
        if not sheet.error:
            entry.update(score=self.score(sheet), max_score=self.max_score(), parts={
                name: dict(_sheet_json(part), subtotal=self.subtotal(sheet, name)) for name, part in sheet.parts.items()})
        return entry

    def html_pages(self):
        """{relative path: page} (`--html`): index.html, the class's totals and each part's outcomes, and
        students/<id>.html, each student's feedback as the assignment's `feedback` allows."""
        from ..render.html import class_pages

        return class_pages(self)

    def write(self, csv=None, json=None, gradescope=None, html=None, summary_csv=None, latex=None):
        """Write the gradebook (`csv`), the verdicts (`json`), Gradescope's results (`gradescope`) and the
        pages (`html`, a directory), as for a ClassResult: each file whole or not at all."""
        from .report import html_files, write_atomically

        files = {path: report() for path, report in ((csv, self.gradebook_csv), (json, self.verdicts_json),
                                                     (summary_csv, self.summary_csv), (latex, self.to_latex))
                 if path}
        if gradescope:
            from .gradescope import results_files

            files.update(results_files(self, gradescope))
        if html:
            files.update(html_files(self, html))
        for path, text in files.items():
            write_atomically(path, text)


def grade_assignment(assignment, sheets, variants=None, calculations=True):
    """Mark a class's sheets (files, or directories of .yaml files) against `assignment`.

    `variants`: a directory written by `derive variants` for the assignment;
    a part with its own folder there (`<part>/<id>.yaml`) is graded against
    each student's own variant, as `derive grade --variants` grades a problem.
    `calculations=False` leaves the verdicts' calculations empty (for reports
    that show none; a single sheet always has them).
    """
    from ..vary.variants import VariantGraders
    from .isolation import run_isolated

    paths = sheet_paths(sheets)
    if not paths:
        raise DeriveError(f"no answer sheets (.yaml or .yml files) in {', '.join(map(str, sheets))}")
    calculations = calculations or len(paths) == 1
    graders = {part.name: Grader(part.problem, calculations=calculations) for part in assignment.parts}
    drawn = {}
    if variants is not None:
        folder = Path(variants)
        if not folder.is_dir():
            raise DeriveError("expected a directory of variants (from derive variants)", path=str(variants))
        drawn = {name: VariantGraders(grader, folder / name) for name, grader in graders.items()
                 if (folder / name).is_dir()}
        if not drawn:
            raise DeriveError("no part's variants here (a folder named as a part, from derive variants)",
                              path=str(variants))
    known = {name: set(grader.exact_values) for name, grader in graders.items()}

    def work(path):  # in the child: the sheet's results, and which variant each drawn part was graded on
        try:
            sheet = read_sections(path, assignment, known)
        except DeriveError as error:
            return AssignmentSheet(path.stem, str(path), error=str(error)), {}
        chosen = {}
        for name, answers in list(sheet.parts.items()):
            if isinstance(answers, SheetResult):
                continue  # the section could not be read
            grader = graders[name]
            if name in drawn:
                answers.path = sheet.path
                try:
                    grader = drawn[name].for_sheet(answers)
                except DeriveError as error:
                    sheet.parts[name] = SheetResult(sheet.student, sheet.path, error=error.message)
                    continue
                chosen[name] = next(key for key, value in drawn[name].graders.items() if value is grader)
            result = grader.grade(answers)
            result.solution = None  # the parent has it: it is not sent back
            sheet.parts[name] = result
        return sheet, chosen

    def failed(path, reason):
        return AssignmentSheet(path.stem, str(path), error=reason), {}

    classes = {name: ClassResult(part.problem, graders[name].items, graders[name].config.points)
               for name, part in zip(graders, assignment.parts)}
    result = AssignmentResult(assignment, classes)
    for sheet, chosen in run_isolated(paths, work, failed):
        for name, grader in graders.items():
            part = sheet.parts.get(name) or SheetResult(sheet.student, sheet.path, error=sheet.error)
            if not part.error:
                part.solution = (drawn[name].grader(chosen[name]) if name in chosen else grader).exact
            classes[name].results.append(part)
        result.results.append(sheet)
    return result


def read_sections(path, assignment, known):
    """An AssignmentSheet whose parts are AnswerSheets (or SheetResults saying why a section is unreadable).

    `known`: part name -> the step keys of its problem.
    """
    data, lines = load_sheet(path)
    if not isinstance(data, dict):
        raise AnswerSheetError("expected a mapping from part names to sections of answers", path=str(path), line=1)
    student = path.stem
    for key in IDENTITY_FIELDS:
        value = data.get(key)
        if value is not None and str(value).strip() and (key == "id" or student == path.stem):
            student = str(value)
    sheet = AssignmentSheet(student, str(path))
    names = [part.name for part in assignment.parts]
    for key in data:
        if str(key) not in names and str(key) not in IDENTITY_FIELDS:
            close = difflib.get_close_matches(str(key), names, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else f"; the parts are {', '.join(names)}"
            where = f"line {lines[key]}: " if key in lines else ""
            sheet.warnings.append(f"{where}section {str(key)!r} ignored: no such part{hint}")
    for name in names:
        section = data.get(name)
        if section is None:
            section = {}
            sheet.warnings.append(f"no section {name!r}: every item of that part is missing")
        if not isinstance(section, dict):
            where = f"line {lines[name]}: " if name in lines else ""
            sheet.parts[name] = SheetResult(student, str(path), error=f"{where}section {name!r}: expected a mapping "
                                            "from step keys to answers")
            continue
        try:
            answers = sheet_from_mapping(section, known[name], student=student, path=str(path))
        except AnswerSheetError as error:
            sheet.parts[name] = SheetResult(student, str(path), error=f"section {name!r}: {error.message}")
            continue
        answers.student = student  # an `id` inside a section is not the student's
        answers.warnings = [f"{name}: {warning}" for warning in answers.warnings]
        sheet.parts[name] = answers
    return sheet


def blank_assignment_sheet(assignment):
    """A blank answer sheet of an assignment: `id`, then a section per part with every item it grades."""
    from .config import read_grading

    lines = [f"# Answer sheet: {assignment.title} ({assignment.name})",
             "# Write each answer under its part, after its key: a number, or an expression in quotes.",
             "# A list answers a vector: delta[2]: [-0.0006, -0.0008].",
             "id:      # your student id"]
    for part in assignment.parts:
        solution = part.problem.solve()
        items = read_grading(part.problem, solution).items
        body = blank_sheet(part.problem, solution, items).splitlines()[4:]  # its items, after its header and id
        points = f", {format_number(part.points)} points" if part.points is not None else ""
        lines += ["", f"{part.name}:      # {part.problem.title}{points}"] + [f"  {line}" for line in body]
    return "\n".join(lines) + "\n"
