"""A class's grading: the per-item summary, and the report files (CSV, JSON, Gradescope).

Every file is written whole or not at all: to a temporary file beside the
target, then renamed over it, with the mode a new file gets (or the mode of
the file it replaces). A CSV cell that a spreadsheet would run as a formula
is written as text.
"""

import csv
import errno
import heapq
import io
import itertools
import json
import operator
import os
import re
import secrets
import stat
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import DeriveError
from ..steps import format_number

WRONG_CODES = ("SIGN", "ROUNDING", "WRONG", "UNREADABLE", "UNDECIDED")


class Sheets:
    """What a class's results share, whatever was graded: `results` in sheet order, found by student."""

    @property
    def unreadable(self):
        """The sheets that could not be read or graded."""
        return [sheet for sheet in self.results if sheet.error]

    def __getitem__(self, student):
        """The result of `student`'s sheet (the first, if two sheets name the same student)."""
        for sheet in self.results:
            if sheet.student == student:
                return sheet
        raise KeyError(f"no sheet of student {student!r}")


@dataclass
class ClassResult(Sheets):
    """Every sheet's result for one problem, in the order the sheets were given.

    problem: the Problem; items: the graded keys; points: key -> points
    (1 when not listed); results: one SheetResult per sheet, an unreadable
    one carrying its `error` (`result["alice"]` finds one by student).
    The reports of `derive grade` are methods: `to_text()`, `to_markdown()`
    (how a notebook shows it), `gradebook_csv()`, `summary_csv()`,
    `verdicts_json()`, `gradescope_json()`, `to_latex()`, `html_pages()`; `write(...)` writes them to files.
    """

    problem: object
    items: tuple
    points: dict
    results: list = field(default_factory=list)
    # (the sheets it was made of, the summary): every report reads the summary, made once per set of sheets
    _summary: tuple = field(default=None, init=False, repr=False, compare=False)

    def max_score(self):
        return sum(self.points.get(key, 1.0) for key in self.items)

    def __repr__(self):
        return (f"<ClassResult {self.problem.name}: {len(self.results)} sheets, {len(self.unreadable)} unreadable, "
                f"out of {format_number(self.max_score())}>")

    def to_text(self):
        """The report `derive grade` prints: one sheet item by item, or a line per student and a table per item."""
        from ..render.report import TextReportPrinter

        return TextReportPrinter().doprint(self)

    def to_markdown(self):
        """The same report as Markdown tables, with the items' symbols in LaTeX math."""
        from ..render.report import MarkdownReportPrinter

        return MarkdownReportPrinter().doprint(self)

    def _repr_markdown_(self):
        return self.to_markdown()

    def gradebook_csv(self):
        """`--csv`: one row per student, one column per item."""
        return gradebook_csv(self)

    def summary_csv(self):
        """`--summary-csv`: one row per item, its outcomes and slips."""
        return summary_csv(self)

    def verdicts_json(self):
        """`--json`: every verdict of every sheet, and the per-item summary."""
        return verdicts_json(self)

    def gradescope_json(self, index=0):
        """`--gradescope`: Gradescope's results.json of one sheet (the first, or `index`)."""
        return gradescope_json(self, index)

    def to_latex(self):
        """The report as a LaTeX document that pdflatex compiles (`derive grade --latex`)."""
        from ..render.report import latex_report

        return latex_report(self)

    def html_pages(self):
        """{relative path: HTML page} (`derive grade --html`): index.html, the class's page with its
        charts, and students/<id>.html, each sheet's feedback page."""
        from ..render.html import class_pages

        return class_pages(self)

    def write(self, csv=None, json=None, gradescope=None, summary_csv=None, latex=None, html=None):
        """Write each report given a path, as `derive grade --csv --json --gradescope --summary-csv --latex`
        do, and with `html` a directory of pages (`--html`); each file whole or not at all, and none
        before every report has been made."""
        targets = {"csv": csv, "json": json, "summary_csv": summary_csv, "latex": latex}
        files = {targets[option]: report(self) for option, report in REPORTS.items() if targets[option]}
        if gradescope:
            from .gradescope import results_files

            files.update(results_files(self, gradescope))
        if html:
            files.update(html_files(self, html))
        for path, text in files.items():
            write_atomically(path, text)

    def summary(self):
        """Per item: counts by outcome, the most frequent wrong answers (value, count), and the
        slips that explain wrong answers (code -> count, "ambiguous" for answers several explain)."""
        made = self._summary
        if made is not None and len(made[0]) == len(self.results) and all(map(operator.is_, made[0], self.results)):
            return [dict(row) for row in made[1]]
        rows = self._summarised()
        self._summary = (tuple(self.results), rows)
        return [dict(row) for row in rows]

    def _summarised(self):
        # A grader hands one Verdict object to every student who wrote the same thing: each distinct
        # object is read once, with the number of sheets that hold it (counted by identity, at C speed).
        verdicts = list(itertools.chain.from_iterable(sheet.verdicts for sheet in self.results if not sheet.error))
        numbers = list(map(id, verdicts))
        # both by identity, in the order each object first comes: the counts and the objects pair up
        held, objects = Counter(numbers), dict(zip(numbers, verdicts))
        tallies = {key: (Counter(), Counter(), Counter()) for key in self.items}  # codes, wrong answers, slips
        for count, verdict in zip(held.values(), objects.values()):
            tally = tallies.get(verdict.key)
            if tally is None:
                continue
            codes, wrong_answers, slips = tally
            codes[verdict.code] += count
            if verdict.code in WRONG_CODES:
                wrong_answers[verdict.answer] += count
            if verdict.slip:
                slips[verdict.slip] += count
        rows = []
        for key in self.items:
            codes, wrong_answers, slips = tallies[key]
            rows.append({
                "key": key,
                "right": codes["OK"],
                "follow_through": codes["FT"],
                "wrong": sum(codes[c] for c in WRONG_CODES),
                "missing": codes["MISSING"],
                "codes": dict(sorted(codes.items())),
                "frequent_wrong": _most_frequent(wrong_answers, 3),
                "slips": dict(sorted(slips.items(), key=lambda kv: (-kv[1], kv[0]))),
            })
        return rows


def _most_frequent(counts, n):
    """The `n` commonest (answer, count) pairs of a Counter, ties in the answers' order: a class's wrong
    answers are mostly each written once, so only those counted at least as often as the n-th are sorted."""
    if len(counts) > n:
        least = heapq.nlargest(n, counts.values())[-1]
        counts = {answer: count for answer, count in counts.items() if count >= least}
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:n]


def html_files(result, directory):
    """{path: page} of `--html DIRECTORY` for a ClassResult or an AssignmentResult, the directory and its
    students/ made (nothing is written in them yet)."""
    pages = {Path(directory) / name: page for name, page in result.html_pages().items()}
    for folder in sorted({path.parent for path in pages}):
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise DeriveError(f"cannot write the pages: {error.strerror}", path=str(folder)) from None
    return pages


def write_atomically(path, text):
    """Write `text` (str, or bytes as they are) to `path` whole or not at all (temporary file, then rename).

    The file gets the permissions of the file it replaces, or else those
    any new file gets (0o666 less the umask), as `open(path, "w")` would.
    """
    path = Path(path)
    directory = path.parent if str(path.parent) else Path(".")
    try:
        handle, temporary = _new_file_beside(directory, path.name)
    except OSError as error:
        raise DeriveError(f"cannot write the report: {error.strerror}", path=str(path)) from None
    try:
        with (os.fdopen(handle, "wb") if isinstance(text, bytes)
              else os.fdopen(handle, "w", encoding="utf-8", newline="")) as stream:
            stream.write(text)
        try:
            os.chmod(temporary, stat.S_IMODE(os.stat(path).st_mode) & 0o777)
        except FileNotFoundError:
            pass  # a new report: the mode it was created with
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def _new_file_beside(directory, name):
    """(descriptor, path) of a new hidden file in `directory`, created with mode 0o666 for the umask to
    narrow, as any new file is (`tempfile.mkstemp` would make it 0o600)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0) | getattr(os, "O_NOFOLLOW", 0)
    for _ in range(100):
        candidate = directory / f".{name}.{secrets.token_hex(4)}"
        try:
            return os.open(candidate, flags, 0o666), str(candidate)
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "no unused temporary file name")


def gradebook_csv(result):
    """One row per student, one column per item (points earned), the total, and the status."""
    out = io.StringIO()
    writer = _SafeWriter(out)
    writer.writerow(["student", "file", *result.items, "total", "max", "status"])
    for sheet in result.results:
        if sheet.error:
            writer.writerow([sheet.student, sheet.path, *[""] * len(result.items), 0,
                             _number(result.max_score()), f"unreadable: {sheet.error}"])
            continue
        by_key = {v.key: v for v in sheet.verdicts}
        writer.writerow([sheet.student, sheet.path, *(_number(by_key[k].points) for k in result.items),
                         _number(sheet.score), _number(sheet.max_score), "graded"])
    return out.getvalue()


class _SafeWriter:
    """A csv writer of rows ending in a line feed whose cells a spreadsheet shows as written: text it
    would take for a formula (starting with =, +, -, @, a tab or a carriage return) gets a leading ' ,
    a number stays a number, and a cell holding a line break of either kind is quoted."""

    def __init__(self, out):
        self.out = out
        self.row = io.StringIO()
        self.writer = csv.writer(self.row, lineterminator="\r\n")  # so that a lone "\r" gets its cell quoted

    def writerow(self, cells):
        self.row.seek(0)
        self.row.truncate()
        self.writer.writerow([_cell(cell) for cell in cells])
        self.out.write(self.row.getvalue()[:-2] + "\n")


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?")


def _cell(value):
    if not isinstance(value, str) or not value.startswith(_FORMULA_START) or _PLAIN_NUMBER.fullmatch(value):
        return value
    return "'" + value


def summary_csv(result):
    """The class summary, one row per item: counts by outcome and the slips behind the wrong answers."""
    from .slips import LABELS

    out = io.StringIO()
    writer = _SafeWriter(out)
    writer.writerow(["item", "right", "follow_through", "wrong", "missing", "slips"])
    for row in result.summary():
        slips = "; ".join(f"{LABELS.get(code, code)} ({code}): {count}" for code, count in row["slips"].items())
        writer.writerow([row["key"], row["right"], row["follow_through"], row["wrong"], row["missing"], slips])
    return out.getvalue()


def verdicts_json(result):
    """Every verdict of every sheet, and the class summary."""
    document = {
        "problem": result.problem.name,
        "items": list(result.items),
        "max_score": result.max_score(),
        "students": [_sheet_json(sheet) for sheet in result.results],
        "summary": [dict(row, frequent_wrong=[{"answer": a, "count": c} for a, c in row["frequent_wrong"]])
                    for row in result.summary()],
    }
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _sheet_json(sheet):
    entry = {"student": sheet.student, "file": sheet.path, "error": sheet.error or None,
             "warnings": list(sheet.warnings)}
    if not sheet.error:
        entry.update(score=sheet.score, max_score=sheet.max_score, verdicts=[
            {"key": v.key, "code": v.code, "credit": v.credit, "points": v.points, "max_points": v.max_points,
             "answer": v.answer, "expected": v.expected, "detail": v.detail,
             "used": [{"key": k, "value": value} for k, value in v.used],
             "decided_by": v.decided_by or None, "calculation": v.calculation or None,
             "slip": {"code": v.slip, "codes": list(v.slip_codes), "detail": v.slip_detail} if v.slip else None}
            for v in sheet.verdicts])
    return entry


def gradescope_json(result, index=0):
    """Gradescope's results.json of sheet `index` (see derive.grading.gradescope): its score, a test per
    item, the sheet's warnings in the top-level output, the expected values shown once published."""
    from .gradescope import dumps, results

    return dumps(results(result, index))


def _number(value):
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


# the report files of a class, by the name of their `derive grade` option, in the order they are written
REPORTS = {"csv": gradebook_csv, "json": verdicts_json, "summary_csv": summary_csv,
           "latex": lambda result: result.to_latex()}
