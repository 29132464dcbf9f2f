"""Assignment files: several problems handed out, answered and graded as one homework.

    kind: assignment
    title: Lecture homework (1)-(5)
    feedback: calculation          # what students' feedback shows: verdict, expected or calculation
    problems:
      - problem: hw1-relu          # a bundled problem's name, or a path from this file's folder
        points: 20                 # the part's share of the total (default: the problem's own points)
      - problem: my-hw2.yaml
        name: hw2                  # the part's section in answer sheets (default: the file's name)
        grading: {tolerance: {decimals: 3}}   # entries that replace the problem's own `grading` ones

`load(name_or_path)` reads a problem or an assignment, whichever the file's
`kind` says, so every command takes either. A part's problem is loaded as
`derive solve` loads it, so an error in it names that file and line.
"""

import re
from dataclasses import dataclass, replace
from pathlib import Path

from .errors import ProblemError
from .fields import Choice, Declarations, Declared, Number, Structured, Text
from .grading.config import GRADING
from .problem import BUNDLED, Field, find_problem, load_problem, read_yaml

KIND = "assignment"
FEEDBACK = ("verdict", "expected", "calculation")
MAX_PARTS = 50
ASSIGNMENTS = BUNDLED / "assignments"  # bundled assignments, by name like the bundled problems
_PART_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_.-]{0,63}")

PART = Declarations(
    Declared("problem", Text("a problem's name or path"), "a bundled problem's name, or a problem file's path "
             "(relative to the assignment file's folder)"),
    Declared("name", Text("a part name"), "the part's section in answer sheets and its column in reports: a "
             "letter, then letters, digits, `_`, `.` or `-`", default=None, shown_default="the problem file's name"),
    Declared("points", Number(positive=True), "the part's share of the total: its items' points are scaled to "
             "add up to this", default=None, shown_default="the problem's own points"),
    Declared("grading", Structured(GRADING.object_schema()), "entries of a `grading` block that replace the "
             "problem's own ones for this assignment (`tolerance`, `points`, `items`...)", default=None,
             shown_default="none"),
)
DECLARED = Declarations(
    Declared("kind", Choice((KIND,)), "`assignment`"),
    Declared("title", Text(), "a one-line title", default=None, shown_default="the file name"),
    Declared("feedback", Choice(FEEDBACK), "what a student's feedback shows: `verdict` (each item's verdict and "
             "points), `expected` (also the expected value, why, and the slip named) or `calculation` (also the "
             "calculation, with the student's own numbers where they were used)", default="calculation"),
    Declared("problems", Structured({"type": "array", "minItems": 1, "maxItems": MAX_PARTS,
                                     "items": PART.object_schema()}),
             f"the parts, in order: 1 to {MAX_PARTS} mappings of the fields below"),
)


@dataclass(frozen=True)
class Part:
    """One problem of an assignment: its section name, the Problem (its `grading` as the assignment
    has it), and its share of the total (None: the problem's own points)."""

    name: str
    problem: object
    points: float = None


@dataclass(frozen=True)
class Assignment:
    """A validated assignment file: name (the file's), path, title, feedback policy, and its Parts."""

    name: str
    path: str
    title: str
    feedback: str
    parts: tuple

    def __getitem__(self, name):
        for part in self.parts:
            if part.name == name:
                return part
        raise KeyError(f"no part {name!r}")


def is_assignment(path):
    """Whether the file at `path` is an assignment (its `kind`); False for anything unreadable."""
    try:
        data, _ = read_yaml(path)
    except ProblemError:
        return False
    return isinstance(data, dict) and data.get("kind") == KIND


def find(name_or_path):
    """The path of a problem or an assignment: the path itself, or a bundled one's name."""
    path = Path(name_or_path)
    if not path.exists() and "/" not in str(name_or_path) and path.suffix not in (".yaml", ".yml"):
        bundled = ASSIGNMENTS / f"{name_or_path}.yaml"
        if bundled.exists():
            return bundled
    return find_problem(name_or_path)


def load(name_or_path):
    """A Problem or an Assignment, whichever the file is (a bundled one by name)."""
    path = find(name_or_path)
    return load_assignment(path) if is_assignment(path) else load_problem(path)


def load_assignment(path):
    """Read and validate an assignment file and every problem it names; raise ProblemError naming the
    file (the assignment's, or a problem's), line and field."""
    path = find(path)
    data, lines = read_yaml(path)
    root = Field(data, str(path), lines).mapping(allowed=DECLARED.names)
    DECLARED.read(root, "kind")
    title = root.get("title", Path(path).stem).text()
    feedback = DECLARED.read(root, "feedback")
    listed = root.get("problems")
    items = listed.items()
    if not 1 <= len(items) <= MAX_PARTS:
        raise listed.error(f"expected 1 to {MAX_PARTS} problems, got {len(items)}")
    parts, names = [], {}
    for item in items:
        item.mapping(allowed=PART.names)
        part = _read_part(item, Path(path).parent)
        if part.name.casefold() in names:
            raise (item.get("name") if item.has("name") else item.get("problem")).error(
                f"part name {part.name!r} is used twice (parts are told apart by name; give one a `name`)")
        names[part.name.casefold()] = part
        parts.append(part)
    return Assignment(Path(path).stem, str(path), title, feedback, tuple(parts))


def _read_part(item, folder):
    written = PART.read(item, "problem")
    target = Path(written)
    candidate = target if target.is_absolute() else folder / target
    location = candidate if (candidate.exists() or target.suffix in (".yaml", ".yml") or "/" in written) else written
    try:
        problem = load_problem(location)
    except ProblemError as error:
        if error.path == str(location) and error.line is None:  # the file itself is missing: say where it is named
            raise item.get("problem").error(f"{error.message}: {written}") from None
        raise
    name = PART.read(item, "name") if item.has("name") else problem.name
    if not _PART_NAME.fullmatch(name) or name in ("id", "student", "name"):
        raise item.get("name", name).error(f"expected a part name (a letter, then letters, digits, _ . -), got "
                                           f"{name!r}")
    if item.has("grading"):
        problem = _with_grading(problem, item.get("grading"))
    return Part(name, problem, PART.read(item, "points") if item.has("points") else None)


def _with_grading(problem, override):
    """The problem with the assignment's grading entries in place of its own ones.

    The merged block is located in the assignment file, at the part's
    `grading`: the problem's own entries were checked with the problem.
    """
    override.mapping(allowed=GRADING.names)
    own = problem.grading.value if problem.grading is not None else {}
    merged = {**(own if isinstance(own, dict) else {}), **override.value}
    return replace(problem, grading=Field(merged, override.path, override.lines, override.where))


def bundled_assignments():
    """Paths of the assignments shipped inside the package, sorted by name."""
    return sorted(ASSIGNMENTS.glob("*.yaml"), key=lambda path: path.stem) if ASSIGNMENTS.is_dir() else []
