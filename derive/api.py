"""Grading and variants as calls: what `derive grade` and `derive variants` do, for scripts and notebooks.

A problem may be given as a Problem, a file or a bundled problem's name; a
sheet as a file or as a mapping `{key: answer}` built in Python, which is
read as the same YAML sheet would be. The command line calls these same
functions, so a script and `derive grade` mark a sheet alike.
"""

import hashlib
import os
import stat
import threading
from collections import OrderedDict
from collections.abc import Mapping
from pathlib import Path

from .errors import DeriveError
from .grading.grader import Grader, SheetResult
from .grading.sheet import read_sheet, sheet_from_mapping, sheet_paths
from .problem import MAX_FILE_BYTES, Problem, find_problem, load_problem
from .vary.variants import MAX_DRAWS, SAFE_ID, VariantGraders, make_variants, read_roster


def grade(problem, sheet, variants=None, student="sheet"):
    """Mark one answer sheet against `problem`; return its SheetResult (score, max_score, verdicts).

    `sheet` is a YAML file's path or a mapping `{key: answer}` (numbers,
    lists for vectors, expressions as text); `student` names a mapping
    without an `id`. With `variants`, a directory written by
    `write_variants`, the sheet is marked against its student's own
    variant. A sheet that cannot be read raises AnswerSheetError.

    The problem's set-up (its solution and grading, then its slip variants
    and each distinct expression decided) is kept between calls for the
    KEPT_GRADERS problems graded last, so that a script grading a class one
    call per sheet pays it once: a file is known again by its bytes (an
    edited file is read anew), a Problem by identity. The result is the
    same as from a fresh start; calls from several threads take turns.
    """
    grader, lock = _KEPT.grader(problem)
    with lock:
        answers = _read(sheet, grader.known_keys, student)
        if variants is not None:
            grader = VariantGraders(grader, variants).for_sheet(answers)
        return grader.grade(answers)


def grade_class(problem, sheets, variants=None, calculations=True):
    """Mark a class's sheets against `problem`; return a ClassResult, as `derive grade` prints it.

    `sheets` is a path or a list of paths: files, or directories whose
    `.yaml` / `.yml` entries are taken in name order. A sheet that cannot be
    read, or cannot be graded within its budget (derive.grading.isolation:
    the sheets are graded in a child process that a hostile sheet cannot
    hang or exhaust), becomes its line in the report (its SheetResult's
    `error`); the others are still marked. `variants` as for `grade`.
    `calculations=False` leaves each verdict's calculation empty, for
    reports that show none (the class summary `to_text` prints, the CSV
    files): grading is then faster; a single sheet always has them.
    """
    from .grading.isolation import run_isolated
    from .grading.report import ClassResult

    loaded = _loaded(problem)
    arguments = [sheets] if isinstance(sheets, (str, os.PathLike)) else list(sheets)
    paths = sheet_paths(arguments)
    if not paths:
        raise DeriveError(f"no answer sheets (.yaml or .yml files) in {', '.join(map(str, arguments))}")
    grader = Grader(loaded, calculations=calculations or len(paths) == 1)
    known = grader.known_keys
    result = ClassResult(loaded, grader.items, grader.config.points)
    graders = VariantGraders(grader, variants) if variants is not None else None

    def work(path):  # in the child process: the sheet's result, without its Solution, and whose it is
        try:
            answers = read_sheet(path, known)
            chosen = graders.for_sheet(answers) if graders else grader
            sheet = chosen.grade(answers)
        except DeriveError as error:  # one bad sheet is reported; the others are still graded
            return SheetResult(path.stem, str(path), error=str(error)), None
        sheet.solution = None  # the parent has it: it is not sent back
        return sheet, (next(name for name, g in graders.graders.items() if g is chosen) if graders else None)

    def failed(path, reason):
        return SheetResult(path.stem, str(path), error=reason), None

    for sheet, variant in run_isolated(paths, work, failed):
        if not sheet.error:
            sheet.solution = (graders.grader(variant) if variant else grader).exact
        result.results.append(sheet)
    return result


def grade_assignment(assignment, sheets, variants=None, calculations=True):
    """Mark a class's sheets against an assignment (an Assignment, a file, or a bundled one's name):
    each sheet has a section per part; return an AssignmentResult (totals, subtotals, each part's
    ClassResult), as `derive grade` prints it. Sheets are given as for `grade_class`; `variants`, a
    directory from `derive variants` for the assignment, grades each drawn part on its student's own;
    `calculations` as for `grade_class`."""
    from .assignment import Assignment, load_assignment
    from .grading.assignment import grade_assignment as grade

    loaded = assignment if isinstance(assignment, Assignment) else load_assignment(assignment)
    return grade(loaded, [sheets] if isinstance(sheets, (str, os.PathLike)) else list(sheets), variants,
                 calculations)


def variants(problem, students, draws=MAX_DRAWS):
    """Draw one variant of `problem` per student; return the VariantSet, as `derive variants` does.

    `students` is a list of ids or the path of a roster (CSV with an `id`
    column). An id becomes a file name, so it is letters, digits, `.`,
    `_` and `-`. The same problem text and id always give the same numbers.
    `write_variants(made, directory)` writes them with their answer key. For an
    assignment, each part that draws numbers is drawn (an AssignmentVariants);
    `write_assignment_variants` writes each into a folder named as the part.
    """
    if isinstance(students, (str, os.PathLike)):
        students = read_roster(students)
    else:
        students = _checked_ids(students)
    if isinstance(draws, bool) or not isinstance(draws, int) or not 1 <= draws <= 1_000_000:
        raise ValueError(f"draws: expected a whole number from 1 to 1000000, got {draws!r}")
    from .assignment import Assignment, find, is_assignment, load_assignment

    if isinstance(problem, Assignment) or (not isinstance(problem, Problem) and is_assignment(find(problem))):
        from .vary.variants import make_assignment_variants

        assignment = problem if isinstance(problem, Assignment) else load_assignment(problem)
        return make_assignment_variants(assignment, students, draws)
    path = Path(problem.path) if isinstance(problem, Problem) else find_problem(problem)
    return make_variants(path, students, draws)


def _loaded(problem):
    return problem if isinstance(problem, Problem) else load_problem(problem)


def _read(sheet, known, student):
    if isinstance(sheet, Mapping):
        return sheet_from_mapping(sheet, known, student=student)
    if isinstance(sheet, (str, os.PathLike)):
        return read_sheet(sheet, known)
    raise TypeError(f"expected an answer sheet's path or a mapping {{key: answer}}, got {type(sheet).__name__}")


def _checked_ids(students):
    """The ids as a list, refusing what `read_roster` refuses: no file name, or one id twice."""
    ids, seen = [], {}
    for student in students:
        student = str(student)
        if not SAFE_ID.fullmatch(student) or ".." in student:
            raise DeriveError(f"student id {student!r} is not safe as a file name (use letters, digits, '.', '_', "
                              "'-'; no '..', no leading '.')")
        earlier = seen.get(student.lower())
        if earlier is not None:
            same = "" if earlier == student else f" ({earlier!r} is the same file name where case is ignored)"
            raise DeriveError(f"duplicate student id {student!r}{same}")
        seen[student.lower()] = student
        ids.append(student)
    if not ids:
        raise DeriveError("no students")
    return ids


KEPT_GRADERS = 8  # problems whose Grader `grade` keeps between calls


class _KeptGraders:
    """The Graders `grade` made for the KEPT_GRADERS problems it graded last, each with a lock (a Grader's
    memos are not for two threads at once). Making a Grader is a problem's set-up: 0.1-0.5 s with what it
    then learns from its first sheets, against about a millisecond for a sheet once it is made."""

    def __init__(self):
        self._graders = OrderedDict()  # key -> (the Problem it stands for, or None for a file; Grader; lock)
        self._lock = threading.Lock()

    def grader(self, problem):
        """(the Grader of `problem`, its lock): kept, or made and kept."""
        # outside the main thread no time limit can be set, so SymPy proves nothing there and the numbers
        # decide an expression (derive.grading.equivalence): those verdicts are kept apart
        main = threading.current_thread() is threading.main_thread()
        if isinstance(problem, Problem):
            key, held = (main, "problem", id(problem)), problem  # held, so that its id is no other object's
        else:
            path = find_problem(problem)
            digest = _digest(path)
            if digest is None:
                return Grader(load_problem(path)), threading.Lock()  # load_problem says why, at the file
            key, held = (main, "file", digest), None
        with self._lock:
            kept = self._graders.get(key)
            if kept is not None and kept[0] is held:
                self._graders.move_to_end(key)
                return kept[1], kept[2]
        made = Grader(held if held is not None else load_problem(path)), threading.Lock()
        if held is None and _digest(path) != digest:
            return made  # the file changed while it was read: graded as read, not kept under the old bytes
        with self._lock:
            self._graders[key] = (held, *made)
            while len(self._graders) > KEPT_GRADERS:
                self._graders.popitem(last=False)
        return made

    def clear(self):
        with self._lock:
            self._graders.clear()


_KEPT = _KeptGraders()


def _digest(path):
    """(device, inode, SHA-256 of the bytes) of a problem file, None if it is no regular file that can be
    read: the same file however its path is written, known to have changed when its bytes have."""
    try:
        found = os.stat(path)
        if not stat.S_ISREG(found.st_mode) or found.st_size > MAX_FILE_BYTES:
            return None
        with open(path, "rb") as file:
            return found.st_dev, found.st_ino, hashlib.sha256(file.read(MAX_FILE_BYTES + 1)).digest()
    except OSError:
        return None
