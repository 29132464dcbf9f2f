"""Gradescope: the results.json of one student's sheet, and the autograder zip that writes it.

The format is Gradescope's autograder specification
(github.com/gradescope/autograder_samples, docs/specs.md): the zip has
`setup.sh` and `run_autograder` at its root and unpacks to
/autograder/source; the student's files are in /autograder/submission; the
result goes to /autograder/results/results.json. The root is /autograder
unless AUTOGRADER_ROOT says otherwise, so the same layout runs anywhere.

What a student sees follows the feedback policy (an assignment's
`feedback`; `calculation` for a problem): each item is a test, always
visible, with its verdict and points; with `expected` or `calculation`,
each item not fully right has a second test of no points with the expected
value (and the calculation), shown only once the instructor publishes the
grades (`after_published`). Whatever the sheet holds, `run` writes a valid
results.json: a missing, empty, unreadable or hostile submission scores 0
with a message that says what to upload.
"""

import base64
import hashlib
import io
import json
import os
import sys
import time
import zipfile
from pathlib import Path

from ..errors import DeriveError
from ..render.report import visible
from .grader import WORDS

SOLUTION_VISIBILITY = "after_published"
SHEET_SUFFIXES = (".yaml", ".yml")
CONFIG = "derive-autograder.json"  # in the zip: what to grade, and how


# -- results.json -------------------------------------------------------------------------------------

def results(result, index=0, feedback="calculation", execution_time=None):
    """Gradescope's results document (a dict) for sheet `index` of a ClassResult or an AssignmentResult."""
    from .assignment import AssignmentResult

    if isinstance(result, AssignmentResult):
        sheet = result.results[index]
        parts = [(name, sheet.parts.get(name), result.weight(name), result.classes[name]) for name in result.classes]
        score, max_score = result.score(sheet), result.max_score()
        warnings, error = sheet.warnings, sheet.error
    else:
        sheet = result.results[index]
        parts = [(None, sheet, 1.0, result)]
        score, max_score = (0.0 if sheet.error else sheet.score), result.max_score()
        warnings, error = sheet.warnings, sheet.error
    student = visible(sheet.student)
    if error:
        return _document(0.0, f"Your answer sheet could not be graded: {visible(error)}\n\n{_HOW}", [],
                         execution_time)
    lines = [f"Student: {student}", f"Score: {_number(score)}/{_number(max_score)}"]
    lines += [f"Not graded: {visible(warning)}" for warning in warnings]
    tests = []
    for number, (name, part, weight, klass) in enumerate(parts, 1):
        prefix = f"{name}: " if name is not None else ""
        if part is None or part.error:
            reason = visible(part.error if part is not None else "no section")
            lines.append(f"Part {name} could not be read: {reason}")
            tests.append(_test(f"{prefix}answers", f"{number}", 0.0, klass.max_score() * weight, "failed",
                               f"This part could not be read: {reason}", ["UNREADABLE"], "visible"))
            continue
        lines += [f"Not graded ({name}): {visible(warning)}" for warning in part.warnings] if name else []
        for item, verdict in enumerate(part.verdicts, 1):
            label = f"{number}.{item}" if name is not None else f"{item}"
            tags = [verdict.code] + ([verdict.slip] if verdict.slip else [])
            shown = [f"{WORDS[verdict.code]}: {_number(verdict.points * weight)}/{_number(verdict.max_points * weight)}"
                     f" points", f"your answer: {visible(verdict.answer) or '(none)'}"]
            if verdict.detail and verdict.detail != WORDS[verdict.code] and feedback != "verdict":
                shown.append(visible(verdict.detail))
            tests.append(_test(f"{prefix}{verdict.key}", label, verdict.points * weight, verdict.max_points * weight,
                               "passed" if verdict.right else "failed", "\n".join(shown), tags, "visible"))
            if feedback != "verdict" and verdict.code != "OK":
                solution = [f"expected: {visible(verdict.expected)}"]
                if verdict.slip_detail:
                    solution.append(visible(verdict.slip_detail))
                if feedback == "calculation" and verdict.calculation:
                    solution.append(visible(verdict.calculation))
                tests.append(_test(f"{prefix}{verdict.key}: the expected answer", f"{label}.1", 0.0, 0.0, "passed",
                                   "\n".join(solution), ["solution"], SOLUTION_VISIBILITY))
    return _document(score, "\n".join(lines), tests, execution_time)


_HOW = ("Upload one YAML answer sheet (a file ending in .yaml, as `derive template` prints it): "
        "each key followed by your answer, a number or an expression in quotes.")


def results_files(result, path):
    """{path: results.json text} for `--gradescope PATH`: one sheet's at PATH; several sheets', one per
    student in the directory PATH (`<id>.json`, the id in letters a file system keeps)."""
    if len(result.results) == 1:
        return {path: dumps(results(result, 0, _feedback(result)))}
    from ..render.html import page_names

    try:
        Path(path).mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise DeriveError(f"cannot write the Gradescope results: {error.strerror}", path=str(path)) from None
    names = page_names(result)
    return {Path(path) / (names[index].removesuffix(".html") + ".json"): dumps(results(result, index,
                                                                                        _feedback(result)))
            for index in range(len(result.results))}


def _feedback(result):
    assignment = getattr(result, "assignment", None)
    return assignment.feedback if assignment is not None else "calculation"


def _document(score, output, tests, execution_time):
    document = {"score": round(score, 6), "output": output, "output_format": "text", "test_output_format": "text",
                "test_name_format": "text", "visibility": "visible", "stdout_visibility": "hidden", "tests": tests}
    if execution_time is not None:
        document["execution_time"] = round(execution_time, 3)
    return document


def _test(name, number, score, max_score, status, output, tags, visibility):
    return {"name": name, "number": number, "score": round(score, 6), "max_score": round(max_score, 6),
            "status": status, "output": output, "output_format": "text", "tags": tags, "visibility": visibility}


def _number(value):
    return f"{round(value, 4):g}"


def dumps(document):
    return json.dumps(document, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


# -- the autograder run ---------------------------------------------------------------------------------

def run(root):
    """Grade the submission under `root` (Gradescope's /autograder) and write results/results.json.

    Never raises: whatever goes wrong becomes a results.json with score 0
    and a message, so the student hears what happened."""
    root = Path(root)
    started = time.monotonic()
    target = root / "results" / "results.json"
    try:
        document = _grade_submission(root, started)
    except DeriveError as error:
        document = _document(0.0, f"Your submission could not be graded: {visible(error)}\n\n{_HOW}", [],
                             time.monotonic() - started)
    except Exception as error:  # a bug of derive's: the student still gets a result that says so
        document = _document(0.0, f"The autograder met an internal error ({type(error).__name__}); please tell "
                             "your instructor.", [], time.monotonic() - started)
    target.parent.mkdir(parents=True, exist_ok=True)
    from .report import write_atomically

    write_atomically(target, dumps(document))
    return document


def _grade_submission(root, started):
    from .. import api
    from ..assignment import Assignment, load

    config = json.loads((root / "source" / CONFIG).read_text(encoding="utf-8"))
    name = config["target"]
    loaded = load(root / "source" / name if (root / "source" / name).exists() else name)
    feedback = loaded.feedback if isinstance(loaded, Assignment) else config.get("feedback", "calculation")
    sheet = find_sheet(root / "submission")
    if isinstance(sheet, str):  # no sheet: what to upload
        return _document(0.0, f"{sheet}\n\n{_HOW}", [], time.monotonic() - started)
    if isinstance(loaded, Assignment):
        result = api.grade_assignment(loaded, [sheet])
    else:
        result = api.grade_class(loaded, [sheet])
    return results(result, 0, feedback, time.monotonic() - started)


def find_sheet(folder):
    """The submission's answer sheet: its one .yaml or .yml file (searched one level down too, as a zip
    upload leaves it); else a sentence saying what was found instead."""
    folder = Path(folder)
    if not folder.is_dir():
        return "No submission was found."
    found = []
    for path in sorted(folder.iterdir()):
        if path.is_symlink():
            continue  # only what the student uploaded, never a link out of the submission
        if path.is_dir():
            found += [p for p in sorted(path.iterdir()) if p.suffix.lower() in SHEET_SUFFIXES and not p.is_symlink()]
        elif path.suffix.lower() in SHEET_SUFFIXES:
            found.append(path)
    if not found:
        names = ", ".join(visible(p.name) for p in sorted(folder.iterdir())[:5])
        return f"No answer sheet (.yaml file) was found in your submission{f' (it holds: {names})' if names else ''}."
    if len(found) > 1:
        names = ", ".join(visible(p.name) for p in found[:5])
        return f"Your submission holds {len(found)} YAML files ({names}); upload exactly one answer sheet."
    return found[0]


def main(argv=None):
    """`python -m derive.grading.gradescope [ROOT]`: what run_autograder runs."""
    argv = sys.argv[1:] if argv is None else argv
    run(argv[0] if argv else os.environ.get("AUTOGRADER_ROOT", "/autograder"))
    return 0


# -- the autograder zip ----------------------------------------------------------------------------------

SETUP = """\
#!/usr/bin/env bash
# Installs derive from the wheel in this zip, and its dependencies, into a virtual environment.
set -euo pipefail
ROOT="${AUTOGRADER_ROOT:-/autograder}"
VENV="${DERIVE_VENV:-$ROOT/derive-venv}"
cd "$(dirname "$0")"
if ! command -v python3 >/dev/null || ! python3 -m venv --help >/dev/null 2>&1; then
    apt-get update && apt-get install -y python3 python3-venv python3-pip
fi
python3 -m venv "$VENV"
"$VENV/bin/python" -m pip install --upgrade pip
"$VENV/bin/python" -m pip install -r requirements.txt
"$VENV/bin/python" -m pip install --no-deps ./WHEEL
"""

RUN = """\
#!/usr/bin/env bash
# Grades the submission with derive; a results.json is written whatever happens.
ROOT="${AUTOGRADER_ROOT:-/autograder}"
VENV="${DERIVE_VENV:-$ROOT/derive-venv}"
mkdir -p "$ROOT/results"
rm -f "$ROOT/results/results.json"
"$VENV/bin/python" -m derive.grading.gradescope "$ROOT"
if [ ! -s "$ROOT/results/results.json" ]; then
    printf '%s\\n' '{"score": 0, "output": "The autograder could not run derive; please tell your instructor.", \
"output_format": "text", "visibility": "visible", "stdout_visibility": "hidden", "tests": []}' \
        > "$ROOT/results/results.json"
fi
"""


def build_autograder(loaded, out):
    """Write Gradescope's autograder zip for a Problem or an Assignment to `out`; return its member names.

    The zip holds a wheel of this very derive (so grading needs no index for
    derive itself), the pinned versions of its dependencies, the problem
    files (a bundled one is found by name in the wheel), and the two scripts.
    """
    from ..assignment import Assignment
    from ..problem import BUNDLED

    files = {}
    wheel_name, wheel = own_wheel()
    files[wheel_name] = wheel
    files["requirements.txt"] = requirements().encode()
    if isinstance(loaded, Assignment):
        target, extra = _assignment_files(loaded, BUNDLED)
        files.update(extra)
        feedback = loaded.feedback
    else:
        path = Path(loaded.path)
        if path.parent == BUNDLED:
            target = loaded.name
        else:
            target = f"problems/{path.name}"
            files[target] = path.read_bytes()
        feedback = "calculation"
    files[CONFIG] = (json.dumps({"target": target, "feedback": feedback}, indent=2, sort_keys=True) + "\n").encode()
    files["setup.sh"] = SETUP.replace("WHEEL", wheel_name).encode()
    files["run_autograder"] = RUN.encode()
    from .report import write_atomically

    write_atomically(out, _zip(files, executable={"setup.sh", "run_autograder"}))
    return sorted(files)


def _assignment_files(assignment, bundled):
    """(target, files): the assignment rewritten to name its problems inside the zip, and those problems."""
    import yaml

    from ..problem import read_yaml

    data, _ = read_yaml(assignment.path)
    files = {}
    for index, (entry, part) in enumerate(zip(data["problems"], assignment.parts)):
        path = Path(part.problem.path)
        if path.parent == bundled:
            entry["problem"] = part.problem.name
        else:
            inside = f"problems/{index + 1}-{path.name}"
            files[inside] = path.read_bytes()
            entry["problem"] = inside
    target = f"{assignment.name}.yaml"
    files[target] = yaml.safe_dump(data, sort_keys=False, allow_unicode=True).encode()
    return target, files


def requirements():
    """derive's dependencies pinned at the versions installed here, one per line."""
    import importlib.metadata as metadata
    import re

    lines = []
    for requirement in metadata.requires("derive") or []:
        if ";" in requirement:
            continue  # an extra's (the tests')
        name = re.match(r"[A-Za-z0-9_.-]+", requirement).group()
        lines.append(f"{name}=={metadata.version(name)}")
    return "\n".join(sorted(lines, key=str.lower)) + "\n"


_EPOCH = (1980, 1, 1, 0, 0, 0)


def _zip(files, executable=()):
    """A zip of {name: bytes}, byte-identical for the same files: fixed times and modes, sorted names."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, _EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = ((0o755 if name in executable else 0o644) | 0o100000) << 16
            archive.writestr(info, files[name])
    return buffer.getvalue()


def own_wheel():
    """(file name, bytes) of a wheel of the derive that is running: its package files as they are here,
    its metadata from the installed distribution; the same bytes every time."""
    import importlib.metadata as metadata

    import derive

    distribution = metadata.distribution("derive")
    version = distribution.version
    package = Path(derive.__file__).resolve().parent
    files = {}
    for path in sorted(package.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix not in (".pyc", ".pyo"):
            files["derive/" + path.relative_to(package).as_posix()] = path.read_bytes()
    info = f"derive-{version}.dist-info"
    requires = [r for r in (distribution.requires or []) if ";" not in r]
    summary = distribution.metadata.get("Summary") or "derive"
    files[f"{info}/METADATA"] = ("Metadata-Version: 2.1\nName: derive\n"
                                 f"Version: {version}\nSummary: {summary}\nRequires-Python: >=3.10\n"
                                 + "".join(f"Requires-Dist: {r}\n" for r in requires)).encode()
    files[f"{info}/WHEEL"] = b"Wheel-Version: 1.0\nGenerator: derive\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    files[f"{info}/entry_points.txt"] = b"[console_scripts]\nderive = derive.cli:main\n"
    record = [f"{name},sha256={_digest(data)},{len(data)}" for name, data in sorted(files.items())]
    files[f"{info}/RECORD"] = ("\n".join(record + [f"{info}/RECORD,,"]) + "\n").encode()
    return f"derive-{version}-py3-none-any.whl", _zip(files)


def _digest(data):
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


if __name__ == "__main__":
    sys.exit(main())
