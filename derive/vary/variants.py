"""Per-student variants of a problem: drawn givens, constraints, files, answer key, grading.

A problem file marks givens as random (`random`, read by derive.vary.draws) and
says what every variant must satisfy (`constraints`), checked on the solved
variant's own step values:

    constraints:
      - abs(z[*][*]) < 4               # no neuron saturated
      - loss_change < 0                # the update lowers the loss
      - w[*][*][*] != 0                # no weight is 0
      - "differs from base: yhat[1], delta[3][1]"   # answers differ from the base problem's

`make_variants` draws each student's numbers again and again (draw 1, 2,
...) until every constraint holds, so a variant depends on the problem's
text and the student's id alone. A variant is the base problem file with
the drawn numbers in place, its `id` and a `variant_of` line: a problem on
its own, which `derive solve` and `derive check` accept.
"""

import csv
import io
import math
import re
import tempfile
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path

from .draws import draw, problem_digest, read_random
from ..errors import AnswerSheetError, DeriveError, ExpressionError, ProblemError
from ..expr import CONSTANTS, FUNCTIONS, parse_expression
from ..steps import Sym, evaluate_formula, format_number

MAX_DRAWS = 1000
MAX_CONSTRAINTS = 100
KEY_MARKDOWN, KEY_LATEX = "answer-key.md", "answer-key.tex"
SAFE_ID = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]{0,99}")
_OPERATORS = {"<=": float.__le__, ">=": float.__ge__, "==": float.__eq__, "!=": float.__ne__,
              "<": float.__lt__, ">": float.__gt__}
_SPLIT = re.compile(r"(<=|>=|==|!=|<|>)")
_KEY = re.compile(r"(?<![\w.\]])([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*(?:\[(?:[0-9]+|\*)\])*)")
_DIFFERS = re.compile(r"differs?\s+from\s+(?:the\s+)?base\s*:(.*)", re.DOTALL)


# -- the roster ---------------------------------------------------------------
def read_roster(path):
    """The student ids of a roster (CSV with a header line and an `id` column), in file order.

    Ids become file names (`<id>.yaml`), so they are letters, digits, `.`,
    `_` and `-` only, do not start with `.`, hold no `..`, and are unique
    even on a file system that ignores case.
    """
    where = str(path)
    try:
        text = Path(path).read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise ProblemError("no such file", path=where) from None
    except UnicodeDecodeError as error:
        raise ProblemError(f"expected UTF-8 text, got byte 0x{error.object[error.start]:02x}", path=where) from None
    except OSError as error:
        raise ProblemError(f"cannot read: {error.strerror or error}", path=where) from None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
        if header is None:
            raise ProblemError("empty roster: expected a header line with an id column", path=where, line=1)
        names = [name.strip().lower() for name in header]
        if "id" not in names:
            shown = ", ".join(name.strip() for name in header if name.strip()) or "no column names"
            raise ProblemError(f"no id column (the header has {shown})", path=where, line=1, field="id")
        column = names.index("id")
        ids, first = [], {}
        for row in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            student = row[column].strip() if column < len(row) else ""
            if not student:
                raise ProblemError("empty id", path=where, line=line, field="id")
            if not SAFE_ID.fullmatch(student) or ".." in student:
                raise ProblemError(f"{student!r} is not safe as a file name (use letters, digits, '.', '_', '-'; "
                                   "no '..', no leading '.')", path=where, line=line, field="id")
            if student.lower() in first:
                earlier, earlier_line = first[student.lower()]
                same = "" if earlier == student else f" {earlier!r}, the same file name where case is ignored,"
                raise ProblemError(f"duplicate id {student!r} (first{same} at line {earlier_line})",
                                   path=where, line=line, field="id")
            first[student.lower()] = (student, line)
            ids.append(student)
    except csv.Error as error:
        raise ProblemError(f"malformed CSV: {error}", path=where, line=reader.line_num) from None
    if not ids:
        raise ProblemError("no students (the roster has a header line only)", path=where, line=1, field="id")
    return ids


# -- constraints --------------------------------------------------------------
@dataclass(frozen=True)
class Constraint:
    """One entry of `constraints`: its text, where it is written, and its test.

    test(values) -> "" when the constraint holds on a solution's step values,
    else a short account of the first place it fails (`z[2][1] = 4.2`).
    """

    text: str
    field: object
    test: object


def read_constraints(root, base, base_solution):
    """The Constraints of a problem's `constraints` list, checked against the base problem's step keys."""
    if not root.has("constraints"):
        return ()
    entries = root.get("constraints").items()
    if len(entries) > MAX_CONSTRAINTS:
        raise root.get("constraints").error(f"too many constraints ({len(entries)}; at most {MAX_CONSTRAINTS})")
    keys = [step.key for step in base_solution]
    constraints = []
    for entry in entries:
        text = _constraint_text(entry)
        differs = _DIFFERS.fullmatch(text.strip())
        try:
            if differs:
                test = _differs_from_base(differs.group(1), base, base_solution, keys)
            else:
                test = _comparison(text, base_solution, keys)
        except (ExpressionError, ProblemError) as error:
            raise entry.error(error.message) from None
        constraints.append(Constraint(text, entry, test))
    return tuple(constraints)


def _constraint_text(entry):
    """A constraint as text; `- differs from base: yhat[1]` left unquoted is a one-entry mapping in YAML."""
    value = entry.value
    if isinstance(value, dict) and len(value) == 1:
        (label, listed), = value.items()
        if _DIFFERS.fullmatch(f"{label}:"):
            listed = ", ".join(map(str, listed)) if isinstance(listed, list) else str(listed)
            return f"{label}: {listed}"
    return entry.text("a constraint such as abs(z[*][*]) < 4")


def _comparison(text, solution, keys):
    """The test of `A < B` (or <=, >, >=, ==, !=; chained: `-4 < z[*][*] < 4`) over step keys.

    A pattern with `*` stands for every key it matches; where several
    patterns appear, each `*` takes the same text in all of them
    (`w_new[*] != w[*]` compares each weight with its own update).
    """
    parts = _SPLIT.split(text)
    if len(parts) < 3:
        raise ProblemError("expected a comparison (<, <=, >, >=, ==, !=) or `differs from base: KEY, ...`")
    import sympy

    tokens = {}  # key or pattern -> symbol name

    def replace(match):
        name = match.group(1)
        if "[" not in name and "." not in name and (name in FUNCTIONS or name in CONSTANTS) and name not in keys:
            return name
        return tokens.setdefault(name, f"k{len(tokens)}")

    sides = []
    for side in parts[0::2]:
        substituted = _KEY.sub(replace, side)
        sides.append(parse_expression(substituted, {s: sympy.Symbol(s) for s in tokens.values()}))
    operators = [_OPERATORS[op] for op in parts[1::2]]
    bindings = _bindings(tokens, solution, keys)

    def test(values):
        for binding in bindings:
            env = {symbol: values[key] for symbol, key in binding.items()}
            try:
                numbers = [evaluate_formula(side, env) for side in sides]
            except DeriveError as error:
                return error.message
            if not all(op(numbers[i], numbers[i + 1]) for i, op in enumerate(operators)):
                return ", ".join(f"{key} = {format_number(values[key])}" for key in dict.fromkeys(binding.values()))
        return ""

    return test


def _bindings(tokens, solution, keys):
    """Every assignment of step keys to the symbols of a constraint, `*` taking one text throughout."""
    fixed, patterns = {}, {}
    for name, symbol in tokens.items():
        if "*" in name:
            matched = _match(name, keys)
            if not matched:
                raise ProblemError(f"{name} matches no step key")
            patterns[symbol] = (name, matched)
        elif name in keys:
            fixed[symbol] = name
        else:
            import difflib

            close = difflib.get_close_matches(name, keys, n=1)
            raise ProblemError(f"unknown step key {name!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
    for symbol, key in list(fixed.items()) + [(s, k) for s, (_, m) in patterns.items() for k in m.values()]:
        if solution[key].is_symbolic:
            raise ProblemError(f"{key} is an expression, not a number")
    if not patterns:
        return [fixed]
    stars = {name.count("*") for name, _ in patterns.values()}
    if len(stars) > 1:
        raise ProblemError("every pattern of one constraint needs the same number of *")
    first = next(iter(patterns.values()))[1]
    common = [capture for capture in first if all(capture in m for _, m in patterns.values())]
    if not common:
        raise ProblemError(f"the patterns {', '.join(n for n, _ in patterns.values())} match no key in common")
    return [dict(fixed, **{symbol: matched[capture] for symbol, (_, matched) in patterns.items()})
            for capture in common]


def _match(pattern, keys):
    """{what the *s stand for: key} for the keys a pattern matches, in solution order."""
    regex = re.compile("^" + "(.*)".join(re.escape(part) for part in pattern.split("*")) + "$")
    found = {}
    for key in keys:
        match = regex.match(key)
        if match:
            found[match.groups()] = key
    return found


def _differs_from_base(listed, base, base_solution, keys):
    """The test that every listed key's value differs from the base problem's beyond the grading tolerance,
    so that the base problem's answers are marked wrong on a variant."""
    from ..grading.config import read_grading
    from ..steps import EXACT

    names = [name.strip() for name in listed.split(",") if name.strip()]
    if not names:
        raise ProblemError("expected `differs from base: KEY, ...` naming the answers that must differ")
    chosen = []
    for name in names:
        matched = list(_match(name, keys).values()) if "*" in name else ([name] if name in keys else [])
        if not matched:
            _bindings({name: "k"}, base_solution, keys)  # says why: unknown key, with a suggestion
        chosen += [key for key in matched if key not in chosen]
    for key in chosen:
        if base_solution[key].is_symbolic:
            raise ProblemError(f"{key} is an expression, not a number")
    config = read_grading(base, base.solve(EXACT))
    base_values = base_solution.values()

    def test(values):
        for key in chosen:
            tolerance = config.item_tolerance.get(key, config.tolerance)
            if tolerance.accepts(values[key], base_values[key]):
                return f"{key} = {format_number(values[key])}, as in the base problem"
        return ""

    return test


# -- making variants ----------------------------------------------------------
@dataclass(frozen=True)
class Variant:
    """One student's variant: the problem file's text, the draw that met the constraints, and the
    variant loaded (with the path it was checked under)."""

    student: str
    text: str
    attempt: int
    problem: object

    def __repr__(self):
        return f"<Variant for {self.student} (draw {self.attempt})>"


@dataclass(frozen=True)
class VariantSet:
    """The variants of one problem for a roster, in roster order."""

    base: object  # the base Problem
    digest: str
    variants: tuple

    def __repr__(self):
        return f"<VariantSet of {self.base.name} (sha256 {self.digest[:12]}): {len(self.variants)} students>"


def make_variants(path, students, max_draws=MAX_DRAWS):
    """Draw, check and return a VariantSet for `students` (ids) of the problem file at `path`.

    A constraint still failing after `max_draws` draws for a student is a
    ProblemError naming that constraint (the one that failed most often)
    and the number of draws.
    """
    from ..problem import Field, load_problem, read_yaml

    base = load_problem(path)
    data, lines = read_yaml(path)
    root = Field(data, str(path), lines)
    entries = read_random(root, data)
    if not entries:
        raise ProblemError("nothing to draw: the problem has no random field", path=str(path), line=1, field="random")
    constraints = read_constraints(root, base, base.solve())
    digest = problem_digest(Path(path).read_bytes().decode("utf-8"))
    variants = []
    with tempfile.TemporaryDirectory(prefix="derive-variants-") as scratch:
        for student in students:
            variants.append(_variant(base, root, entries, constraints, digest, student, max_draws, Path(scratch)))
    return VariantSet(base, digest, tuple(variants))


def check_random(path, base):
    """Validate a problem file's `random` and `constraints` fields without drawing (for `derive check`)."""
    from ..problem import Field, read_yaml

    data, lines = read_yaml(path)
    root = Field(data, str(path), lines)
    if not isinstance(data, dict) or not (root.has("random") or root.has("constraints")):
        return
    read_random(root, data)
    read_constraints(root, base, base.solve())


def _variant(base, root, entries, constraints, digest, student, max_draws, scratch):
    from ..problem import load_problem

    failures = Counter()
    last = {}
    target = scratch / f"{student}.yaml"
    for attempt in range(1, max_draws + 1):
        text = variant_text(draw(root.value, entries, digest, student, attempt), base, digest, student, attempt)
        target.write_text(text, encoding="utf-8")
        try:
            problem = load_problem(target)
            values = problem.solve().values()
        except DeriveError as error:  # the drawn numbers make no valid problem (a target outside [0, 1]...)
            failures[None] += 1
            last[None] = (f"{error.field}: " if error.field else "") + error.message
            continue
        failed = next(((c, detail) for c in constraints for detail in [c.test(values)] if detail), None)
        if failed is None:
            return Variant(student, text, attempt, problem)
        failures[failed[0]] += 1
        last[failed[0]] = failed[1]
    worst = max(failures, key=lambda c: (failures[c], -_position(constraints, c)))
    if worst is None:
        raise root.get("random").error(f"the drawn numbers made no valid problem in {_draws(max_draws)} for "
                                       f"student {student} (last: {last[None]})")
    raise worst.field.error(f"{worst.text!r} not met after {_draws(max_draws)} for student {student} "
                            f"(failed {_times(failures[worst])}; last: {last[worst]})")


def _draws(count):
    return "1 draw" if count == 1 else f"{count} draws"


def _times(count):
    return "once" if count == 1 else f"{count} times"


def _position(constraints, constraint):
    return -1 if constraint is None else constraints.index(constraint)


def variant_text(data, base, digest, student, attempt):
    """The variant's problem file: the base file's fields with the drawn numbers, its id and origin,
    without `random` and `constraints` (a variant is drawn once) and `lecture` (the lecture printed the base's numbers)."""
    fields = {"kind": data["kind"]}
    if "title" in data:
        fields["title"] = data["title"]
    fields["id"] = student
    fields["variant_of"] = f"{base.name} (sha256 {digest[:12]})"
    for key, value in data.items():
        if key not in fields and key not in ("random", "constraints", "id", "variant_of", "lecture"):
            fields[key] = value
    header = (f"# Variant of {base.name} for student {student}, written by `derive variants` (draw {attempt}).\n"
              "# Its numbers follow from the problem's text and the id alone: the same on every run.\n")
    return header + _dump(fields)


def _dump(data):
    """YAML text of plain data: fields in order, lists of numbers on one line, notes as a block."""
    import yaml

    class Dumper(yaml.SafeDumper):
        """SafeDumper with our string style, so that the shared SafeDumper is left as it is."""

    def text(dumper, value):
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|" if "\n" in value else None)

    Dumper.add_representer(str, text)
    return yaml.dump(data, Dumper=Dumper, sort_keys=False, default_flow_style=None, allow_unicode=True,
                     width=1000)


def write_variants(made, out_dir):
    """Write `<id>.yaml` per student and the answer key (Markdown, LaTeX), each file whole; return the paths."""
    from ..grading.report import write_atomically

    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise DeriveError("not a directory (a file of that name exists)", path=str(out))
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise DeriveError(f"cannot create the directory: {error.strerror or error}", path=str(out)) from None
    keys = answer_key(made)
    written = []
    for variant in made.variants:
        write_atomically(out / f"{variant.student}.yaml", variant.text)
        written.append(out / f"{variant.student}.yaml")
    for name, text in ((KEY_MARKDOWN, keys["markdown"]), (KEY_LATEX, keys["latex"])):
        write_atomically(out / name, text)
        written.append(out / name)
    return written


# -- the answer key -----------------------------------------------------------
def answer_key(made):
    """{"markdown": text, "latex": text}: every student's givens and expected answers, as the grader expects them."""
    from ..grading.grader import Grader

    students = []
    for variant in made.variants:
        grader = Grader(variant.problem)
        givens = [step for step in grader.exact if step.is_given]
        students.append((variant.student, givens, [(_item_step(grader, key), grader.show(key))
                                                    for key in grader.items]))
    return {"markdown": _markdown_key(made, students), "latex": _latex_key(made, students)}


def _item_step(grader, key):
    """The Step an item names; an entry of a matrix step (matrix notation) as a Step of its own key, shown as
    the matrix's symbol and the entry's place: Z⁽¹⁾ (2, 1)."""
    if key in grader.exact:
        return grader.exact[key]
    step_key, row, col = grader.matrix.index.find(key)
    step = grader.exact[step_key]
    place = f"({row + 1}, {col + 1})"
    return replace(step, key=key, symbol=Sym(f"{step.symbol.text} {place}", rf"{step.symbol.latex}_{{{place}}}"))


def _intro(made):
    count = len(made.variants)
    return (f"Variants of {made.base.name} (sha256 {made.digest[:12]}) for {count} student"
            f"{'s' if count != 1 else ''}, drawn by derive variants. Answers as the grader expects them; "
            f"rounding: {made.base.rounding.describe()}.")


def _markdown_key(made, students):
    lines = [f"# Answer key: {made.base.title}", "", _intro(made).replace("derive variants", "`derive variants`")]
    for student, givens, items in students:
        shown = ", ".join(f"{step.symbol.text} = {_given_text(step.value)}" for step in givens)
        lines += ["", f"## Student {student}", "", f"Given: {shown}", "",
                  "| Key | Quantity | Answer |", "|---|---|---|"]
        for step, expected in items:
            cell = expected.replace("|", r"\|")
            lines.append(f"| `{step.key}` | {step.symbol.text} | {cell} |")
    return "\n".join(lines) + "\n"


def _latex_key(made, students):
    """The answer key as a document plain pdflatex compiles: one page per student, a table that may run on.

    As with `derive solve --format latex`, the whole text goes through
    `plain_latex`, which writes the kinds' Unicode as macros and braces a
    symbol given a second superscript (`w^{1}_{11}^{(0)}`).
    """
    from ..render.formula import latex_formula
    from ..render.latex import PACKAGES, _text, plain_latex

    lines = [r"\documentclass{article}", r"\usepackage{%s}" % ",".join(PACKAGES),
             r"\usepackage[a4paper,margin=2cm,vmargin=1.5cm]{geometry}", r"\usepackage{longtable}",
             r"\renewcommand{\arraystretch}{1.25}", r"\begin{document}",  # room for the fractions of a row
             rf"\section*{{Answer key: {_text(made.base.title)}}}", _text(_intro(made))]
    for number, (student, givens, items) in enumerate(students):
        shown = ", ".join(f"${step.symbol.latex} = {_given_latex(step.value)}$" for step in givens)
        lines += [r"\clearpage"] if number else [""]  # the first student shares the title's page
        lines += [rf"\subsection*{{Student {_text(student)}}}", f"Given: {shown}", "", r"\begin{longtable}{lll}",
                  r"\textbf{Key} & \textbf{Quantity} & \textbf{Answer} \\ \hline", r"\endhead"]
        for step, expected in items:
            answer = latex_formula(step.value) if step.is_symbolic else _latex_value(expected)
            lines.append(rf"\texttt{{{_text(step.key)}}} & ${step.symbol.latex}$ & ${answer}$ \\")
        lines.append(r"\end{longtable}")
    return plain_latex("\n".join(lines + [r"\end{document}"]) + "\n")


def _given_text(value):
    """A given as the key prints it: a number, or a matrix (matrix notation) as rows `[1 0.5; -0.5 2]`, its
    middle elided as the solution prints it."""
    if not hasattr(value, "shape"):
        return format_number(value)
    from ..matrix import shape_text, shown_rows

    rows = shown_rows(value, format_number)
    return f"({shape_text(value)}) [" + "; ".join("…" if row is None else " ".join(row) for row in rows) + "]"


def _given_latex(value):
    """_given_text in math: a bmatrix, with \\cdots and \\vdots where entries are left out."""
    if not hasattr(value, "shape"):
        return _latex_value(format_number(value))
    from ..matrix import shown_rows

    rows = shown_rows(value, format_number)
    width = len(next(row for row in rows if row is not None))
    body = r" \\ ".join(" & ".join([r"\vdots"] * width) if row is None else
                        " & ".join(r"\cdots" if entry == "…" else _latex_value(entry) for entry in row)
                        for row in rows)
    return rf"\begin{{bmatrix}} {body} \end{{bmatrix}}"


_SCIENTIFIC = re.compile(r"(-?[0-9.]+)e([-+])0*([0-9]+)")


def _latex_value(text):
    """A value as the grader shows it, in math: `2.04301e-05` as `2.04301 \\times 10^{-5}`, `inf` as
    `\\infty`, and what is not a number (a word) in `\\text{...}`."""
    from ..render.latex import _text

    try:
        number = float(text)
    except ValueError:
        return rf"\text{{{_text(text)}}}"
    if math.isinf(number):
        return r"-\infty" if number < 0 else r"\infty"
    scientific = _SCIENTIFIC.fullmatch(text)
    if scientific:
        mantissa, sign, exponent = scientific.groups()
        return rf"{mantissa} \times 10^{{{sign.lstrip('+')}{exponent}}}"
    return text if math.isfinite(number) else rf"\text{{{_text(text)}}}"


# -- grading against variants -------------------------------------------------
class VariantGraders:
    """The Grader of each student's own variant, from a directory of `<id>.yaml` files.

    Every variant is graded with the base problem's grading (items, points,
    tolerances), so that a class's results share one table. A sheet is matched by its `id` field (or the file name when it has
    none), then by its file name (ignoring case, as roster ids are unique
    ignoring case); variants are loaded when first needed.
    """

    def __init__(self, base_grader, directory):
        self.base = base_grader
        self.directory = Path(directory)
        if not self.directory.is_dir():
            raise DeriveError("expected a directory of variant files (from derive variants)", path=str(directory))
        self.files = {path.stem: path for path in sorted(self.directory.iterdir())
                      if path.suffix in (".yaml", ".yml") and path.is_file()}
        if not self.files:
            raise DeriveError("no variant files (.yaml) in this directory", path=str(directory))
        self.graders = {}

    def for_sheet(self, sheet):
        """The Grader for this sheet's student; an AnswerSheetError when there is no variant for it."""
        folded = {stem.lower(): stem for stem in self.files}  # roster ids are unique ignoring case
        for name in (sheet.student, Path(sheet.path).stem):
            if name in self.files or name.lower() in folded:
                return self.grader(name if name in self.files else folded[name.lower()])
        raise AnswerSheetError(f"no variant for student {sheet.student!r} in {self.directory}",
                               path=str(sheet.path))

    def grader(self, name):
        from ..grading.grader import Grader
        from ..problem import load_problem

        if name not in self.graders:
            problem = load_problem(self.files[name])
            try:  # the base problem's items, points and tolerances, on this variant's numbers
                self.graders[name] = Grader(problem, config=self.base.config, slip_rewrites=self.base.slip_rewrites,
                                             calculations=self.base.calculations)
            except KeyError as missing:
                raise DeriveError(f"not a variant of {self.base.problem.name}: it has no step {missing}",
                                  path=str(self.files[name])) from None
        return self.graders[name]


@dataclass(frozen=True)
class AssignmentVariants:
    """The variants of an assignment's parts that draw numbers: part name -> VariantSet, in part order."""

    assignment: object
    parts: dict

    def __repr__(self):
        students = len(next(iter(self.parts.values())).variants)
        return f"<AssignmentVariants of {self.assignment.name}: parts {', '.join(self.parts)}; {students} students>"


def make_assignment_variants(assignment, students, max_draws=MAX_DRAWS):
    """Draw every part of `assignment` whose problem has a `random` field, for every student."""
    from ..problem import read_yaml

    parts = {}
    for part in assignment.parts:
        data, _ = read_yaml(part.problem.path)
        if isinstance(data, dict) and "random" in data:
            parts[part.name] = make_variants(Path(part.problem.path), students, max_draws)
    if not parts:
        raise ProblemError("nothing to draw: no problem of the assignment has a random field", path=assignment.path)
    return AssignmentVariants(assignment, parts)


def write_assignment_variants(made, out_dir):
    """Write each drawn part's variants and answer keys into `<out_dir>/<part>/`; return the paths."""
    written = []
    for name, variants in made.parts.items():
        written += write_variants(variants, Path(out_dir) / name)
    return written
