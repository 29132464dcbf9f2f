"""Answer sheets: a student's YAML mapping from step key to answer.

    id: s1234567            # optional; otherwise the file name is the student
    yhat[1]: 0.809
    delta[2]: [-0.0006, -0.0008]      # a list answers delta[2][1], delta[2][2]
    fprime[2]: "s(1-s)"               # an expression, in quotes

Answers are kept as the text the student wrote; numbers are read without
`eval` (a decimal, `1/2`, `−0.02` with a Unicode minus, `2e-3`). Unknown keys
are reported as warnings with the closest known key, and ignored.

A sheet is untrusted input: only a regular file is read, its size checked
before reading; aliases are counted before they are expanded; YAML's dates
and base-60 numbers stay the text the student wrote.
"""

import difflib
import errno
import functools
import math
import numbers
import os
import re
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import AnswerSheetError, DeriveError, ExpressionError
from ..expr import parse_expression
from ..problem import MAX_DEPTH, check_yaml_depth, problem_from_yaml_error

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
    values: tuple = None  # a whole vector or matrix answered at once (matrix notation): its rows of numbers


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
        return value if type(value) is WrittenFloat else float(value)  # a sheet's number keeps its text
    if hasattr(value, "tolist"):  # a numpy array or scalar
        return _as_yaml_value(value.tolist())
    if isinstance(value, (list, tuple)):
        return [_as_yaml_value(item) for item in value]
    if isinstance(value, Mapping):
        return dict(value)
    return value


def _answer_sheet(data, lines, path, default_student, known_keys):
    """The AnswerSheet of a sheet's top-level mapping; `lines` gives each key's line in the file, if any.

    A blank identity field (a template's `id:`) leaves the default student,
    the file name. A single value written at `K` answers the only item under
    `K` when that item is `K[1]` (or `K[1][1]`...): `yhat: 0.809` answers
    `yhat[1]`, unless the sheet answers `yhat[1]` itself.
    """
    student = default_student
    answers, unknown, shorthand = {}, [], []
    under = None
    count = 0
    for key, value in data.items():
        line = lines.get(key)
        key = str(key)
        if key in IDENTITY_FIELDS:
            if not _is_blank(value) and (key == "id" or student == default_student):
                student = str(value)
            continue
        if isinstance(value, list):
            if key in getattr(known_keys, "whole", ()):  # a whole vector or matrix
                count += len(value)
                if count > MAX_ANSWERS:
                    raise AnswerSheetError(f"too many answers (more than {MAX_ANSWERS})", path=path, line=line)
                answers[key] = read_matrix_answer(value, line)
                continue
            if key in known_keys:  # a list where one answer is asked
                count += 1
                answers[key] = _list_for_one_item(value, line)
                continue
            pairs = _expand(key, value)  # a list spread over the key's next index
        else:
            pairs = ((key, value),)  # one answer: the common line
        for sub_key, sub_value in pairs:
            count += 1
            if count > MAX_ANSWERS:
                raise AnswerSheetError(f"too many answers (more than {MAX_ANSWERS})", path=path, line=line)
            if sub_key in known_keys:
                answers[sub_key] = read_answer(sub_value, line)
            else:
                under = _unknown_or_shorthand(sub_key, sub_value, line, known_keys, under, unknown, shorthand)
    warnings = []
    for written, target, value, line in shorthand:
        if target in answers:
            where = f"line {line}: " if line is not None else ""
            warnings.append(f"{where}key {written!r} ignored: {target!r} is answered too")
        else:
            answers[target] = read_answer(value, line)
    return AnswerSheet(path, student, answers, warnings + _unknown_key_warnings(unknown, known_keys))


def _unknown_or_shorthand(key, value, line, known_keys, under, unknown, shorthand):
    """Note a key the problem does not know: a shorthand for the only item under it (`yhat` for `yhat[1]`),
    or unknown. Returns `under` (_only_items_under, made at the first such key)."""
    if under is None:
        under = _only_items_under(known_keys)
    target = under.get(key)
    if target is not None and _ONES.fullmatch(target[len(key):]):
        shorthand.append((key, target, value, line))
    else:
        unknown.append((key, line))
    return under


_ONES = re.compile(r"(?:\[1\])+")


def _list_for_one_item(value, line):
    """The Answer of a list written where one answer is asked: `[0.809]` is 0.809; a list of several, or of
    lists, is that item's line."""
    if len(value) == 1 and not isinstance(value[0], (list, dict)):
        return read_answer(value[0], line)
    if not value:
        reason = "an empty list where one answer is asked"
    elif len(value) == 1:
        reason = "a list in a list where one answer is asked"
    else:
        reason = f"a list of {len(value)} answers where one is asked"
    return Answer(_matrix_text(value)[:40], problem=reason, line=line, refused=reason)


def _is_blank(value):
    return value is None or (isinstance(value, str) and not value.strip())


def _only_items_under(known_keys):
    """{K: the known key under K, or None when several are}, for every K such that a known key is `K[...]`."""
    under = {}
    for key in known_keys:
        for at in [i for i, c in enumerate(key) if c == "["]:
            prefix = key[:at]
            under[prefix] = None if prefix in under else key
    return under


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
# a decimal, or one with a signed exponent after its point (`-6.1e-04`): what the sheet loader reads as a number
_DECIMAL = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+(?:[eE][-+][0-9]+)?)?")
# a line _FLAT_LINE reads as a key and a _DECIMAL, without a comment: (key, number)
_NUMBER_LINE = re.compile(r"([A-Za-z_][A-Za-z0-9_.\[\]]*):[ ]+(-?(?:0|[1-9][0-9]*)(?:\.[0-9]+(?:[eE][-+][0-9]+)?)?)[ ]*")
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
    remembered = _FLAT_LINES.get
    for number, line in enumerate(text.split("\n"), start=1):
        read = remembered(line)  # a class writes the same lines: each is read once
        if read is None:
            read = _flat_line(line)
            # remembered: a short line (a hostile class's long ones would fill memory) not holding a list
            # (made anew for each sheet)
            if type(read) is tuple and len(line) <= MAX_REMEMBERED_LINE and type(read[1]) is not list:
                if len(_FLAT_LINES) >= MAX_REMEMBERED_LINES:
                    _FLAT_LINES.clear()
                _FLAT_LINES[line] = read
        if read is _BLANK:
            continue
        if read is _NOT_FLAT or read[0] in data:
            return None
        data[read[0]] = read[1]
        lines[read[0]] = number
    return (data, lines) if data else None


def _flat_line(line):
    """(key, value) of one line of a flat sheet; _BLANK for a blank or comment line; _NOT_FLAT for any other."""
    stripped = line.rstrip("\r")
    match = _NUMBER_LINE.fullmatch(stripped)  # the commonest line, `key: -0.0264`, in one match
    if match is not None:
        return match[1], _flat_number(match[2])
    if not stripped.strip() or stripped.lstrip().startswith("#"):
        return _BLANK
    match = _FLAT_LINE.fullmatch(stripped)
    if match is None:
        return _NOT_FLAT
    value = _flat_value(match["value"] or "")
    return _NOT_FLAT if value is _NOT_FLAT else (match["key"], value)


_NOT_FLAT = object()
_BLANK = object()
# (key, value) of each line read (its value a number or text, never changed once read), by the line's text
_FLAT_LINES = {}
MAX_REMEMBERED_LINES = 100_000
MAX_REMEMBERED_LINE = 200  # characters: a line longer than any a class writes by hand is read every time


def _flat_value(text):
    if not text:
        return None
    if _DECIMAL.fullmatch(text):
        return _flat_number(text)
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'" and text[0] not in text[1:-1] \
            and "\\" not in text:
        return text[1:-1]
    if text[0] == "[" and text[-1] == "]" and "[" not in text[1:]:
        items = [item.strip() for item in text[1:-1].split(",")]
        if items and all(_DECIMAL.fullmatch(item) for item in items):
            return [_flat_number(item) for item in items]
        return _NOT_FLAT
    if _WORD.fullmatch(text) and text.lower() not in _YAML_WORDS:
        return text
    return _NOT_FLAT


class WrittenFloat(float):
    """A float read from a sheet, with the text the student wrote for it (`0.8090`, `6.1e-04`): the
    answer shows it as written, and a slip is matched to the digits written, trailing zeros included."""

    __slots__ = ("text",)

    def __new__(cls, value, text):
        number = float.__new__(cls, value)
        number.text = text
        return number

    def __reduce__(self):
        return WrittenFloat, (float(self), self.text)


def _flat_number(text):
    """A number _DECIMAL matched, as the YAML loader builds it (a float when it has a point, with its text)."""
    if "." in text:
        return WrittenFloat(text, text)
    try:
        return int(text)
    except ValueError:  # more digits than Python converts (4300): the text, which reading then judges
        return text


def _load(path):
    """(data, lines of the top-level keys) of a sheet, with libyaml when it is there.

    A sheet is plain data: no duplicate keys, no tags that build objects
    (the safe loader's), bounded size and nesting; aliases are counted on
    the composed node graph before any value is built, so that one that
    contains itself or spreads into too many values is refused (MAX_NODES).
    """
    import yaml

    where = str(path)
    raw = _read_bytes(path)
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
        node = loader.get_single_node()
        if node is None:
            raise AnswerSheetError("empty answer sheet", path=where, line=1)
        _check_expansion(node)
        data = loader.construct_document(node)
    except AnswerSheetError as error:
        raise error.locate(path=where) from None
    except yaml.YAMLError as error:
        problem = problem_from_yaml_error(yaml, error, text)  # worded as for a problem file
        raise AnswerSheetError(problem.message, path=where, line=problem.line) from None
    except RecursionError:
        raise AnswerSheetError("malformed YAML: nested too deeply", path=where) from None
    except (ValueError, TypeError):  # an explicit tag its text cannot be made into (`!!int abc`)
        raise AnswerSheetError("malformed YAML: a value that cannot be read as its tag says", path=where) from None
    except _Duplicate as duplicate:
        raise AnswerSheetError(f"duplicate key {duplicate.key!r}", path=where, line=duplicate.line) from None
    finally:
        loader.dispose()
    if data is None:
        raise AnswerSheetError("empty answer sheet", path=where, line=1)
    return data, loader.key_lines


def _read_bytes(path):
    """The bytes of a sheet that is a regular file of at most MAX_SHEET_BYTES, or AnswerSheetError saying why not.

    The file is opened without blocking (a named pipe with no writer) and
    checked on the open descriptor before anything is read, so that a device
    (a link to /dev/zero) or a directory is refused, never read.
    """
    where = str(path)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        descriptor = os.open(path, flags)
    except OSError as error:
        raise AnswerSheetError(_cannot_open(path, error), path=where) from None
    try:
        status = os.fstat(descriptor)
        if stat.S_ISDIR(status.st_mode):
            raise AnswerSheetError("a directory, not a file", path=where)
        if not stat.S_ISREG(status.st_mode):
            raise AnswerSheetError(f"not a regular file ({_file_type(status.st_mode)})", path=where)
        if status.st_size > MAX_SHEET_BYTES:
            raise AnswerSheetError(f"file too large ({status.st_size} bytes; at most {MAX_SHEET_BYTES})", path=where)
        chunks, size = [], 0
        while size <= MAX_SHEET_BYTES:  # the file may grow while it is read
            chunk = os.read(descriptor, MAX_SHEET_BYTES + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > MAX_SHEET_BYTES:
            raise AnswerSheetError(f"file too large (more than {MAX_SHEET_BYTES} bytes)", path=where)
        return b"".join(chunks)
    except OSError as error:
        raise AnswerSheetError(f"cannot read: {error.strerror or error}", path=where) from None
    finally:
        os.close(descriptor)


def _cannot_open(path, error):
    """Why a sheet could not be opened, in a few words."""
    if error.errno == errno.ELOOP:
        return "symbolic link loop"
    if error.errno == errno.ENOENT:
        return "dangling symbolic link" if os.path.islink(path) else "no such file"
    if error.errno == errno.EISDIR:
        return "a directory, not a file"
    return f"cannot read: {error.strerror or error}"


def _file_type(mode):
    for test, name in ((stat.S_ISFIFO, "a named pipe"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "a special file"


MAX_NODES = 4 * MAX_ANSWERS  # keys, lists and values of a sheet of MAX_ANSWERS answers, with room to spare


def _check_expansion(root):
    """Refuse a node graph whose aliases make a value contain itself, nest deeper than MAX_DEPTH, or
    spread into more than MAX_NODES values; each top-level key is blamed for its own value.

    Each node is visited once (its expanded size and depth remembered), with
    a stack rather than recursion, so a billion laughs costs what its text does.
    """
    import yaml

    sizes, depths = {}, {}
    shared = False
    total = 1
    pairs = root.value if isinstance(root, yaml.MappingNode) else [(None, root)]
    for key_node, value_node in pairs:
        line = key_node.start_mark.line + 1 if key_node is not None else None
        for node in (key_node, value_node):
            if node is None:
                continue
            try:
                shared |= _measure(yaml, node, sizes, depths)
            except AnswerSheetError as error:
                raise error.locate(line=line) from None
            levels = depths[id(node)] + (key_node is not None)  # the top-level mapping is a level too
            if levels > MAX_DEPTH:
                raise AnswerSheetError(f"nested too deeply (more than {MAX_DEPTH} levels)", line=line)
            total += sizes[id(node)]
        if shared and total > MAX_NODES:
            raise AnswerSheetError(f"too many values through aliases (more than {MAX_NODES})", line=line)


def _measure(yaml, root, sizes, depths):
    """Record the expanded size (capped past MAX_NODES) and depth of `root` and the nodes under it;
    return whether some node was reached twice (through an alias)."""
    shared = False
    open_ = set()  # the nodes being measured: the current path from `root`
    stack = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        children = _children(yaml, node)
        if children_done:
            open_.discard(key)
            sizes[key] = min(MAX_NODES + 1, 1 + sum(sizes[id(child)] for child in children))
            depths[key] = 1 + max((depths[id(child)] for child in children), default=0) \
                if not isinstance(node, yaml.ScalarNode) else 0
            continue
        if key in sizes:
            shared = True
            continue
        if key in open_:
            raise AnswerSheetError("recursive alias: a value contains itself")
        open_.add(key)
        stack.append((node, True))
        stack.extend((child, False) for child in children)
    return shared


def _children(yaml, node):
    if isinstance(node, yaml.MappingNode):
        return [child for pair in node.value for child in pair]
    if isinstance(node, yaml.SequenceNode):
        return node.value
    return ()


class _Duplicate(Exception):
    def __init__(self, key, line):
        self.key, self.line = key, line


def _loader_base():
    import yaml

    return getattr(yaml, "CSafeLoader", yaml.SafeLoader)


# YAML 1.1 reads `2020-01-01` as a date and `12:30` as 750 (base 60), `010` as 8 (octal): a student meant
# none of these, so a sheet resolves only decimal numbers, and the rest stays the text that was written.
_INT_TAG, _FLOAT_TAG = "tag:yaml.org,2002:int", "tag:yaml.org,2002:float"
_RESOLVED_ELSEWHERE = {_INT_TAG, _FLOAT_TAG, "tag:yaml.org,2002:timestamp"}
_DECIMAL_INT = re.compile(r"^[-+]?(?:0|[1-9][0-9_]*)$")
_DECIMAL_FLOAT = re.compile(r"""^(?:[-+]?[0-9][0-9_]*\.[0-9_]*(?:[eE][-+][0-9]+)?
                                |\.[0-9_]+(?:[eE][-+][0-9]+)?
                                |[-+]?\.(?:inf|Inf|INF)
                                |\.(?:nan|NaN|NAN))$""", re.X)


class _SheetLoader(_loader_base()):
    """The safe YAML loader, remembering the line of each top-level key and refusing duplicates;
    it reads no dates and no base-60, octal or hexadecimal numbers."""

    yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag not in _RESOLVED_ELSEWHERE]
        for first, resolvers in _loader_base().yaml_implicit_resolvers.items()}

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

    def construct_yaml_int(self, node):
        """An integer; one of more digits than Python converts (4300) is read as text, as the one-line reader
        does, so that its item gets its own line and the rest of the sheet is graded."""
        try:
            return super().construct_yaml_int(node)
        except ValueError:
            return self.construct_scalar(node)

    def construct_yaml_float(self, node):
        """A float; text tagged as one that is none (`!!float abc`) is read as text, that item's line."""
        try:
            return WrittenFloat(super().construct_yaml_float(node), node.value)
        except ValueError:
            return self.construct_scalar(node)


_SheetLoader.add_constructor(_INT_TAG, _SheetLoader.construct_yaml_int)
_SheetLoader.add_constructor(_FLOAT_TAG, _SheetLoader.construct_yaml_float)
_SheetLoader.add_implicit_resolver(_INT_TAG, _DECIMAL_INT, list("-+0123456789"))
_SheetLoader.add_implicit_resolver(_FLOAT_TAG, _DECIMAL_FLOAT, list("-+0123456789."))


def _expand(key, value):
    """(key, value) pairs: a list answer spreads over the key's next index."""
    if isinstance(value, list):
        for index, sub in enumerate(value, start=1):
            yield from _expand(f"{key}[{index}]", sub)
    else:
        yield key, value


def read_matrix_answer(value, line=None):
    """The Answer of a whole vector (a list of numbers) or matrix (a list of rows) written at a matrix step's key."""
    text = _matrix_text(value)
    rows = value if value and all(isinstance(row, list) for row in value) else None
    cells = [cell for row in rows for cell in row] if rows is not None else value
    numbers = []
    for cell in cells:
        answer = read_answer(cell, line) if not isinstance(cell, (list, dict)) else Answer(str(cell))
        if answer.number is None:
            reason = f"not a vector or matrix of numbers ({_matrix_text(cell)[:40]!r} is not a number)"
            return Answer(text, problem=reason, line=line, refused=reason)
        numbers.append(answer.number)
    if rows is None:
        return Answer(text, line=line, values=tuple(numbers))
    at, shaped = 0, []
    for row in rows:
        shaped.append(tuple(numbers[at:at + len(row)]))
        at += len(row)
    return Answer(text, line=line, values=tuple(shaped))


def _matrix_text(value):
    """A list answer as written, compactly: `[[0.1, 0.2], [0.3, 0.4]]`."""
    if isinstance(value, list):
        return "[" + ", ".join(_matrix_text(item) for item in value) + "]"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            return _as_text(value)  # as written
        except ValueError:  # an integer of more digits than Python prints
            return "..."
    return str(value)


def read_answer(value, line=None):
    """An Answer from a YAML scalar: numbers as they are, text read as a number if it is one."""
    if type(value) is WrittenFloat:  # the commonest answer, read before on the same line of another sheet
        answer = _NUMBER_ANSWERS.get((value.text, line))
        if answer is not None:
            return answer
    if value is None:
        return Answer("", line=line)
    if isinstance(value, bool):
        reason = f"{str(value).lower()} is not a number or an expression"
        return Answer(str(value).lower(), problem=reason, line=line, refused=reason)
    if isinstance(value, (int, float)):
        try:
            text = _as_text(value)
        except ValueError:  # an integer of more digits than Python prints (4300)
            reason = f"answer too long (more than {MAX_ANSWER_LENGTH} characters)"
            return Answer(f"an integer of {value.bit_length()} bits", problem=reason, line=line, refused=reason)
        remembered = (text, line)
        answer = _NUMBER_ANSWERS.get(remembered)
        if answer is not None:
            return answer
        if len(text) > MAX_ANSWER_LENGTH:
            reason = f"answer too long ({len(text)} characters; at most {MAX_ANSWER_LENGTH})"
            return Answer(text[:40] + "...", problem=reason, line=line, refused=reason)
        try:
            number = float(value)
        except OverflowError:  # an integer of hundreds of digits
            number = math.inf
        if not math.isfinite(number):
            return Answer(text, problem="not a finite number", line=line)
        answer = Answer(text, number, line=line)
        if len(_NUMBER_ANSWERS) >= MAX_REMEMBERED_ANSWERS:
            _NUMBER_ANSWERS.clear()
        _NUMBER_ANSWERS[remembered] = answer
        return answer
    if isinstance(value, dict):
        reason = "a mapping is not an answer"
        return Answer("{...}", problem=reason, line=line, refused=reason)
    text = str(value).strip()
    if len(text) > MAX_ANSWER_LENGTH:
        reason = f"answer too long ({len(text)} characters; at most {MAX_ANSWER_LENGTH})"
        return Answer(text[:40] + "...", problem=reason, line=line, refused=reason)
    return Answer(text, *_number(text), line=line)


# A class writes the same numbers on the same lines: each (number, line) is made an Answer once (it is frozen).
_NUMBER_ANSWERS = {}
MAX_REMEMBERED_ANSWERS = 100_000


def _as_text(value):
    """A number's text: as the student wrote it, if it was read from a sheet (WrittenFloat)."""
    if isinstance(value, float):
        return value.text if type(value) is WrittenFloat else float.__repr__(value)
    return int.__repr__(value) if isinstance(value, int) else str(value)


# a number as people write it, in ASCII digits: float() also takes `１`, `٣` and `1_000`, which are not
_PLAIN_NUMBER = re.compile(r"[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?")
_NOT_FINITE = re.compile(r"[-+]?(?:inf|infinity|nan)", re.IGNORECASE)
_DATE = re.compile(r"[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:[Tt ].*)?")
_SPACED_DIGITS = re.compile(r"[0-9.]\s+[0-9.]")
_TIME = re.compile(r"[-+]?[0-9]+(?::[0-9]{1,2})+(?:\.[0-9]*)?")


@functools.lru_cache(maxsize=4096)  # a class writes the same expressions, each tried as a number first
def _number(text):
    """(number, problem) for answer text: a plain number, or a constant expression like 1/2.

    Only ASCII digits make a number, and a space never joins two parts of
    one (`0.8 09` is not 0.809); a date or a time is text, not a number.
    """
    plain = re.sub(r"^([-+])\s+", r"\1", text.replace("−", "-"))
    if "," in plain and "." not in plain:
        return None, f"{text!r}: use a decimal point, not a comma"
    if _PLAIN_NUMBER.fullmatch(plain):
        number = float(plain)
        return (number, "") if math.isfinite(number) else (None, "not a finite number")
    if _NOT_FINITE.fullmatch(plain):
        return None, "not a finite number"
    if _DATE.fullmatch(plain):
        return None, f"{text!r} is a date, not a number"
    if _TIME.fullmatch(plain):
        return None, f"{text!r} is a time, not a number"
    if _SPACED_DIGITS.search(plain):
        return None, f"{text!r}: a space inside a number"
    try:
        expression = parse_expression(text, {})
    except ExpressionError as error:
        return None, error.message
    if expression.free_symbols or not expression.is_number:
        return None, "not a number"
    from ..symbolic.intervals import Undefined, Unknown, known_value

    try:  # bounded interval arithmetic, never SymPy's unbounded evalf (sin(e^(e^15)))
        number = known_value(expression)
    except Undefined:
        return None, "not a real number"
    except Unknown:
        return None, "too large or too delicate a number to evaluate"
    return (number, "") if math.isfinite(number) else (None, "not a finite number")


def blank_sheet(problem, solution, items):
    """A blank answer sheet: every item in solution order, an empty answer, and what it is.

    A comment never shows an expected value: it gives the item's symbol, its
    section's heading (without the statement of a critical point or curve,
    which is an answer) and the kind of answer; a verdict lists every word
    it may be.
    """
    width = max([len("id")] + [len(key) for key in items]) + 1
    lines = [
        f"# Answer sheet: {problem.title} ({problem.name})",
        "# Write each answer after its key: a number, or an expression in quotes.",
        "# A list answers a vector: delta[2]: [-0.0006, -0.0008].",
        f"{'id:':<{width + 1}}   # your student id",
    ]
    index = None
    for key in items:
        entry = ""
        if key not in solution:  # an entry of a matrix step (matrix notation)
            from ..matrix import EntryIndex

            index = index or EntryIndex(solution)
            step_key, row, col = index.find(key)
            key_step = solution[step_key]
            entry = f" entry ({row + 1}, {col + 1})"
        step = solution[key] if not entry else key_step
        heading = neutral_heading(step.section)
        what = f"{step.symbol.text}{entry}: {heading}" if heading else step.symbol.text + entry
        if step.is_symbolic:
            from sympy import Heaviside

            from .grader import answer_variables

            variables, aliases = answer_variables(step)
            names = ", ".join(v.name for v in variables) or "no variable"
            softmax = " (s_i = softmax(x)_i)" if "s_1" in aliases else ""
            step_function = "; H(t) is the unit step" if step.value.has(Heaviside) else ""
            what += f" (an expression in {names}{softmax}{step_function}, in quotes)"
        lines.append(f"{key + ':':<{width + 1}}   # {what}")
    return "\n".join(lines) + "\n"


# `Critical point 1: (w1, w2) = (-1.01118, 0)`: a numbered heading, then a statement of where it is
_STATED = re.compile(r"(?P<label>[^:=]*?[0-9]+): (?P<statement>.*=.*)")


def neutral_heading(section):
    """A section's heading as an answer sheet may show it: a numbered heading that goes on to state
    values (`Critical curve 1: w1 w2 = 1`) keeps its label only (`Critical curve 1`)."""
    match = _STATED.fullmatch(section)
    return match["label"] if match else section


def sheet_paths(arguments):
    """The answer sheets named on a command line: files as given; of a directory, every entry whose name
    ends in .yaml or .yml, sorted by name.

    Every such entry is returned, whatever it is (a dangling link, a
    directory, a pipe), so that reading it says why it is no sheet and a
    class's report has its line.
    """
    paths = []
    for argument in arguments:
        path = Path(argument)
        if path.is_dir():
            paths += sorted((p for p in path.iterdir() if p.suffix in (".yaml", ".yml")), key=lambda p: p.name)
        else:
            paths.append(path)
    return paths


def load_sheet(path):
    """(data, lines of its top-level keys) of an answer sheet file, read with every guard `read_sheet` has;
    for a sheet whose values are themselves mappings (an assignment's sections)."""
    return _load(path)
