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
import numbers
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import AnswerSheetError, DeriveError, ExpressionError
from ..expr import parse_expression
from ..problem import check_yaml_depth, problem_from_yaml_error

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


MAX_SHEET_BYTES = 1_000_000
MAX_ANSWERS = 10_000
# Every level of YAML nesting starts at one of `[ { - : ?`; a sheet with fewer of
# them than this cannot nest deep enough to trouble libyaml or Python's recursion,
# and skips the (slower) event-by-event depth check.
_SHALLOW = 200


def read_sheet(path, known_keys):
    """Read an answer sheet; raise AnswerSheetError (with file and line) if it is not one."""
    data, lines = _load(path)
    if not isinstance(data, dict):
        raise AnswerSheetError("expected a mapping from step keys to answers", path=str(path), line=1)
    return _answer_sheet(data, lines, str(path), Path(path).stem, known_keys)


def sheet_from_mapping(mapping, known_keys, student="sheet", path="<in memory>"):
    """An answer sheet built in Python, `{key: answer}`, read exactly as the same YAML file would be.

    Values are first made what YAML would have given: numbers of any type
    (numpy's, Fraction, Decimal) become int or float, sequences and arrays
    lists; text stays text, for derive's own parser. `student` names the
    sheet unless it has an `id` (or `student`, `name`) entry.
    """
    data = {key: _as_yaml_value(value) for key, value in mapping.items()}
    return _answer_sheet(data, {}, path, student, known_keys)


def _as_yaml_value(value):
    if value is None or isinstance(value, (str, bool)):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    if hasattr(value, "tolist"):  # a numpy array or scalar
        return _as_yaml_value(value.tolist())
    if isinstance(value, (list, tuple)):
        return [_as_yaml_value(item) for item in value]
    if isinstance(value, Mapping):
        return dict(value)
    return value


def _answer_sheet(data, lines, path, default_student, known_keys):
    """The AnswerSheet of a sheet's top-level mapping; `lines` gives each key's line in the file, if any."""
    student = default_student
    answers, unknown = {}, []
    count = 0
    for key, value in data.items():
        line = lines.get(key)
        key = str(key)
        if key in IDENTITY_FIELDS:
            if key == "id" or student == default_student:
                student = str(value)
            continue
        for sub_key, sub_value in _expand(key, value):
            count += 1
            if count > MAX_ANSWERS:
                raise AnswerSheetError(f"too many answers (more than {MAX_ANSWERS})", path=path, line=line)
            if sub_key not in known_keys:
                unknown.append((sub_key, line))
                continue
            answers[sub_key] = read_answer(sub_value, line)
    return AnswerSheet(path, student, answers, _unknown_key_warnings(unknown, known_keys))


def _unknown_key_warnings(unknown, known_keys, shown=10):
    """One warning per unknown key, with the closest known key, for the first few."""
    warnings = []
    for key, line in unknown[:shown]:
        close = difflib.get_close_matches(key, list(known_keys), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        where = f"line {line}: " if line is not None else ""
        warnings.append(f"{where}unknown key {key!r} ignored{hint}")
    if len(unknown) > shown:
        warnings.append(f"and {len(unknown) - shown} more unknown keys ignored")
    return warnings


_FLAT_LINE = re.compile(r"(?P<key>[A-Za-z_][A-Za-z0-9_.\[\]]*):(?:[ ]+(?P<value>[^#]*?))?[ ]*(?:[ ]#.*)?")
_DECIMAL = re.compile(r"-?(?:0|[1-9][0-9]*)(?P<fraction>\.[0-9]+)?")
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_YAML_WORDS = {"true", "false", "yes", "no", "on", "off", "null", "y", "n"}


def _flat(text):
    """(data, lines) of a sheet made only of top-level `key: value` lines, or None.

    The common sheet (`delta[2][1]: -0.0006`, `fprime[2]: "s(1-s)"`,
    `delta[2]: [-0.0006, -0.0008]`) is read here directly, giving exactly
    the values the YAML loader would; anything else (indentation, nested
    lists, escapes, exponents, anchors...) returns None and goes to the
    YAML loader.
    """
    if "\t" in text:
        return None  # YAML refuses some tabs; let it say so
    data, lines = {}, {}
    for number, line in enumerate(text.split("\n"), start=1):
        stripped = line.rstrip("\r")
        if not stripped.strip() or stripped.lstrip().startswith("#"):
            continue
        match = _FLAT_LINE.fullmatch(stripped)
        if match is None or match["key"] in data:
            return None
        value = _flat_value(match["value"] or "")
        if value is _NOT_FLAT:
            return None
        data[match["key"]] = value
        lines[match["key"]] = number
    return (data, lines) if data else None


_NOT_FLAT = object()


def _flat_value(text):
    if not text:
        return None
    if _DECIMAL.fullmatch(text):
        return float(text) if "." in text else int(text)
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'" and text[0] not in text[1:-1] \
            and "\\" not in text:
        return text[1:-1]
    if text[0] == "[" and text[-1] == "]" and "[" not in text[1:]:
        items = [item.strip() for item in text[1:-1].split(",")]
        if items and all(_DECIMAL.fullmatch(item) for item in items):
            return [float(item) if "." in item else int(item) for item in items]
        return _NOT_FLAT
    if _WORD.fullmatch(text) and text.lower() not in _YAML_WORDS:
        return text
    return _NOT_FLAT


def _load(path):
    """(data, lines of the top-level keys) of a sheet, with libyaml when it is there.

    A sheet is plain data: no duplicate keys, no tags that build objects
    (the safe loader's), bounded size; aliases share values rather than copy
    them, and `MAX_ANSWERS` bounds what a list can spread into.
    """
    import yaml

    where = str(path)
    try:
        raw = Path(path).read_bytes()
    except OSError as error:
        raise AnswerSheetError(f"cannot read: {error.strerror or error}", path=where) from None
    if len(raw) > MAX_SHEET_BYTES:
        raise AnswerSheetError(f"file too large ({len(raw)} bytes; at most {MAX_SHEET_BYTES})", path=where)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise AnswerSheetError(f"not UTF-8 text (byte {error.start})", path=where) from None
    flat = _flat(text)
    if flat is not None:
        return flat
    if sum(text.count(c) for c in "[{-:?") > _SHALLOW:  # else it cannot nest deeply enough to matter
        try:
            check_yaml_depth(yaml, _loader_base(), text)
        except DeriveError as error:
            raise AnswerSheetError(error.message, path=where, line=error.line) from None
    loader = _SheetLoader(text)
    try:
        data = loader.get_single_data()
    except yaml.YAMLError as error:
        problem = problem_from_yaml_error(yaml, error, text)  # worded as for a problem file
        raise AnswerSheetError(problem.message, path=where, line=problem.line) from None
    except (RecursionError, ValueError, TypeError) as error:
        raise AnswerSheetError(f"malformed YAML: {type(error).__name__}", path=where) from None
    except _Duplicate as duplicate:
        raise AnswerSheetError(f"duplicate key {duplicate.key!r}", path=where, line=duplicate.line) from None
    finally:
        loader.dispose()
    if data is None:
        raise AnswerSheetError("empty answer sheet", path=where, line=1)
    return data, loader.key_lines


class _Duplicate(Exception):
    def __init__(self, key, line):
        self.key, self.line = key, line


def _loader_base():
    import yaml

    return getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _SheetLoader(_loader_base()):
    """The safe YAML loader, remembering the line of each top-level key and refusing duplicates."""

    def __init__(self, stream):
        super().__init__(stream)
        self.key_lines = {}
        self.top = None

    def construct_mapping(self, node, deep=False):
        if self.top is None:
            self.top = node
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if isinstance(key, (list, dict)):
                continue  # an unhashable key: the base class reports it
            if key in seen:
                raise _Duplicate(key, key_node.start_mark.line + 1)
            seen.add(key)
            if node is self.top:
                self.key_lines[key] = key_node.start_mark.line + 1
        return super().construct_mapping(node, deep=deep)


def _expand(key, value):
    """(key, value) pairs: a list answer spreads over the key's next index."""
    if isinstance(value, list):
        for index, sub in enumerate(value, start=1):
            yield from _expand(f"{key}[{index}]", sub)
    else:
        yield key, value


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
        pass  # not a plain number: perhaps a constant expression such as 1/2
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
            from .grader import answer_variables

            variables, aliases = answer_variables(step)
            names = ", ".join(v.name for v in variables) or "no variable"
            softmax = " (s_i = softmax(x)_i)" if "s_1" in aliases else ""
            what += f" (an expression in {names}{softmax}, in quotes)"
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
