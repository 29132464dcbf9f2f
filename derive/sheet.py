"""Answer sheets: a student's YAML mapping from step key to answer.

    id: s1234567            # optional; otherwise the file name is the student
    yhat[1]: 0.809
    delta[2]: [-0.0006, -0.0008]      # a list answers delta[2][1], delta[2][2]
    fprime[2]: "s(1-s)"               # an expression, in quotes

Answers are kept as the text the student wrote; numbers are read without
`eval` (a decimal, `1/2`, `−0.02` with a Unicode minus, `2e-3`). Unknown keys
are reported as warnings with the closest known key, and ignored.
"""

import difflib
import math
from dataclasses import dataclass, field
from pathlib import Path

from .errors import AnswerSheetError, DeriveError, ExpressionError
from .expr import parse_expression
from .problem import Field, read_yaml

IDENTITY_FIELDS = ("id", "student", "name")
MAX_ANSWER_LENGTH = 1000


@dataclass(frozen=True)
class Answer:
    """What a student wrote for one key.

    text: as written; number: its value if it is a number; problem: why it
    is not a number; refused: why it cannot be read at all (too long, a
    mapping, a boolean), as opposed to text that may still be an expression.
    """

    text: str
    number: float = None
    problem: str = ""
    line: int = None
    refused: str = ""


@dataclass
class AnswerSheet:
    path: str
    student: str
    answers: dict
    warnings: list = field(default_factory=list)


def read_sheet(path, known_keys):
    """Read an answer sheet; raise AnswerSheetError (with file and line) if it is not one."""
    try:
        data, lines = read_yaml(path)
    except DeriveError as error:
        raise AnswerSheetError(error.message, path=error.path, line=error.line) from None
    root = Field(data, str(path), lines)
    if not isinstance(data, dict):
        raise AnswerSheetError("expected a mapping from step keys to answers", path=str(path), line=1)
    student = Path(path).stem
    answers, warnings = {}, []
    for key, value in data.items():
        item = root.child(key, value)
        key = str(key)
        if key in IDENTITY_FIELDS:
            if key == "id" or student == Path(path).stem:
                student = str(value)
            continue
        for sub_key, sub_value, line in _expand(key, value, item):
            if sub_key not in known_keys:
                close = difflib.get_close_matches(sub_key, list(known_keys), n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                warnings.append(f"line {line}: unknown key {sub_key!r} ignored{hint}")
                continue
            answers[sub_key] = read_answer(sub_value, line)
    return AnswerSheet(str(path), student, answers, warnings)


def _expand(key, value, item):
    """(key, value, line) triples: a list answer spreads over the key's next index."""
    if isinstance(value, list):
        for index, sub in enumerate(value, start=1):
            yield from _expand(f"{key}[{index}]", sub, item.child(index - 1, sub))
    else:
        yield key, value, item.line


def read_answer(value, line=None):
    """An Answer from a YAML scalar: numbers as they are, text read as a number if it is one."""
    if value is None:
        return Answer("", line=line)
    if isinstance(value, bool):
        reason = f"{str(value).lower()} is not a number or an expression"
        return Answer(str(value).lower(), problem=reason, line=line, refused=reason)
    if isinstance(value, (int, float)):
        number = float(value)
        if not math.isfinite(number):
            return Answer(str(value), problem="not a finite number", line=line)
        return Answer(_as_text(value), number, line=line)
    if isinstance(value, dict):
        reason = "a mapping is not an answer"
        return Answer("{...}", problem=reason, line=line, refused=reason)
    text = str(value).strip()
    if len(text) > MAX_ANSWER_LENGTH:
        reason = f"answer too long ({len(text)} characters; at most {MAX_ANSWER_LENGTH})"
        return Answer(text[:40] + "...", problem=reason, line=line, refused=reason)
    return Answer(text, *_number(text), line=line)


def _as_text(value):
    return repr(value) if isinstance(value, float) else str(value)


def _number(text):
    """(number, problem) for answer text: a plain number, or a constant expression like 1/2."""
    plain = text.replace("−", "-").replace(" ", "")
    if "," in plain and "." not in plain:
        return None, f"{text!r}: use a decimal point, not a comma"
    try:
        number = float(plain)
        return (number, "") if math.isfinite(number) else (None, "not a finite number")
    except ValueError:
        pass
    try:
        expression = parse_expression(text, {})
    except ExpressionError as error:
        return None, error.message
    if expression.free_symbols or not expression.is_number:
        return None, "not a number"
    try:
        number = float(expression)
    except (TypeError, ValueError, OverflowError):
        return None, "not a real number"
    return (number, "") if math.isfinite(number) else (None, "not a finite number")


def blank_sheet(problem, solution, items):
    """A blank answer sheet: every item in solution order, an empty answer, and what it is."""
    width = max([len("id")] + [len(key) for key in items]) + 1
    lines = [
        f"# Answer sheet: {problem.title} ({problem.name})",
        "# Write each answer after its key: a number, or an expression in quotes.",
        "# A list answers a vector: delta[2]: [-0.0006, -0.0008].",
        f"{'id:':<{width + 1}}   # your student id",
    ]
    for key in items:
        step = solution[key]
        what = f"{step.symbol.text}: {step.section}"
        if step.is_symbolic:
            what += " (an expression in x, in quotes)"
        lines.append(f"{key + ':':<{width + 1}}   # {what}")
    return "\n".join(lines) + "\n"


def sheet_paths(arguments):
    """The answer sheets named on a command line: files as given, directories' *.yaml / *.yml sorted."""
    paths = []
    for argument in arguments:
        path = Path(argument)
        if path.is_dir():
            paths += sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
        else:
            paths.append(path)
    return paths
