"""Problem files: YAML loading that remembers lines, and typed field access.

`load_problem(path)` reads a problem file, checks its common fields (`kind`,
`title`, `rounding`) and hands the rest to the reader of its kind. Every
value is reached through a `Field`, which knows the file, line and dotted
name of what it holds, so any complaint about it becomes one line:

    problems/net.yaml:12: layers[1].weights: expected a 2x3 matrix, got 2x2
"""

import difflib
import math
import re
from dataclasses import dataclass
from pathlib import Path

from .errors import DeriveError, ExpressionError, ProblemError
from .fields import MAGNITUDE_TEXT, MAX_MAGNITUDE, Declarations, Declared, Structured, Text
from .grading.config import GRADING, unknown_key
from .kinds import NAMES as KIND_NAMES
from .steps import EXACT, LectureNote, Origin, Rounding

MAX_FILE_BYTES = 2_000_000
MAX_NODES = 200_000
MAX_DEPTH = 32  # of nested mappings and lists; a problem file needs about five
MAX_DIGITS = 100  # of a whole number; longer ones are slow to convert, and no float holds 400
_MISSING = object()
_PLAIN_TAGS = {f"tag:yaml.org,2002:{name}" for name in ("str", "int", "float", "bool", "null", "map", "seq")}
# YAML 1.1 reads 1e-3 as text (it wants 1.0e-3); people mean a number, as YAML 1.2 says.
_EXPONENT_FLOAT = re.compile(r"[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)[eE][-+]?[0-9]+")


def read_yaml(path):
    """(data, lines) of a YAML file; lines maps field paths (tuples) to line numbers.

    Only plain data is built (mappings, lists, strings, numbers, booleans):
    no tags that construct objects, no duplicate keys, and bounds on nesting
    and on the number of values so that aliases cannot blow up ("billion
    laughs"). Errors found inside the file say their line; the path is added
    here, on the way up.
    """
    import yaml

    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ProblemError("no such file", path=str(path)) from None
    except IsADirectoryError:
        raise ProblemError("expected a problem file, got a directory", path=str(path)) from None
    except OSError as error:
        raise ProblemError(f"cannot read: {error.strerror or error}", path=str(path)) from None
    if len(raw) > MAX_FILE_BYTES:
        raise ProblemError(f"file too large ({len(raw)} bytes; at most {MAX_FILE_BYTES})", path=str(path))
    try:
        text = _decode(raw)
        loader_class = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: 10x faster
        check_yaml_depth(yaml, loader_class, text)
        loader = loader_class(text)
        node = _compose(yaml, loader, text)
        lines = {}
        data = _Builder(yaml, loader, lines).build(node, ())
    except ProblemError as error:
        raise error.locate(path=str(path)) from None
    return data, lines


def _decode(raw):
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw.count(b"\n", 0, error.start) + 1
        raise ProblemError(f"expected UTF-8 text, got byte 0x{raw[error.start]:02x}", line=line) from None


def check_yaml_depth(yaml, loader_class, text):
    """Refuse nesting deeper than MAX_DEPTH before a node tree is composed.

    The composer recurses once per level (libyaml's in C, where a deep
    enough `[[[[...` crashes the process), so the depth is counted first on
    the parser's events, which come from a loop, not a recursion.

    libyaml's scanner reads ahead along a line of `[[[[` and can stop at its
    own nesting limit before this count reaches MAX_DEPTH. So when libyaml
    fails on such a line, the text up to that line is counted again with
    PyYAML's own scanner, which has no limit of its own: derive's limit is
    the one reported, with either loader. Other errors are the loader's own.
    """
    try:
        _count_depth(yaml, loader_class, text)
        return
    except yaml.YAMLError as error:
        failure = error
    if loader_class is not yaml.SafeLoader and _opens_many_levels(failure, text):
        try:
            _count_depth(yaml, yaml.SafeLoader, text[:_end_of_line(text, failure.problem_mark.index)])
        except yaml.YAMLError:
            pass  # the text cut there may end mid-value: libyaml's error stands
    raise problem_from_yaml_error(yaml, failure, text)


def _count_depth(yaml, loader_class, text):
    """Raise ProblemError at the first event nested deeper than MAX_DEPTH (or the parser's YAMLError)."""
    loader = loader_class(text)
    try:
        depth = 0
        while loader.check_event():
            event = loader.get_event()
            if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                depth += 1
                if depth > MAX_DEPTH:
                    line = event.start_mark.line + 1
                    raise ProblemError(f"nested too deeply (more than {MAX_DEPTH} levels)", line=line)
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                depth -= 1
    finally:
        loader.dispose()


def _opens_many_levels(error, text):
    """Whether the line of a parser's error opens more than MAX_DEPTH flow lists and mappings."""
    mark = getattr(error, "problem_mark", None)
    if mark is None:
        return False
    line = text[text.rfind("\n", 0, mark.index) + 1:_end_of_line(text, mark.index)]
    return line.count("[") + line.count("{") > MAX_DEPTH


def _end_of_line(text, index):
    """The index just past the line break that ends the line holding `index` (or the text's end)."""
    end = text.find("\n", index)
    return len(text) if end < 0 else end + 1


def _compose(yaml, loader, text):
    """The YAML node tree of `text` (one document), not yet turned into data."""
    try:
        node = loader.get_single_node()
    except yaml.YAMLError as error:
        raise problem_from_yaml_error(yaml, error, text) from None
    finally:
        loader.dispose()
    if node is None:
        raise ProblemError("expected a mapping of fields, got an empty file", line=1)
    return node


def problem_from_yaml_error(yaml, error, text):
    """The ProblemError, with its line, for an error of the YAML parser."""
    if isinstance(error, yaml.reader.ReaderError):
        # libyaml counts the position in bytes, PyYAML in characters: find the character instead
        line = text.count("\n", 0, max(text.find(chr(error.character)), 0)) + 1
        return ProblemError(f"expected text, got the control character U+{error.character:04X}", line=line)
    if not isinstance(error, yaml.MarkedYAMLError):
        return ProblemError(f"malformed YAML: {str(error).splitlines()[0]}")
    mark = error.problem_mark or error.context_mark
    what = error.problem or error.context or "unreadable"
    return ProblemError(f"malformed YAML: {what}", line=mark.line + 1 if mark else None)


class _Builder:
    """Turns a composed YAML node tree into plain data, recording lines."""

    def __init__(self, yaml, loader, lines):
        self.yaml = yaml
        self.loader = loader
        self.lines = lines
        self.count = 0

    def build(self, node, where):
        line = node.start_mark.line + 1
        self.count += 1
        if self.count > MAX_NODES or len(where) > MAX_DEPTH:
            # aliases repeat nodes written elsewhere: name the top-level field that expands them
            what = (f"too many values (more than {MAX_NODES}; aliases expanding?)" if self.count > MAX_NODES
                    else f"nested too deeply (more than {MAX_DEPTH} levels)")
            raise ProblemError(what, line=self.lines.get(where[:1], line), field=_dotted(where[:1]) or None)
        if node.tag not in _PLAIN_TAGS:
            raise ProblemError(_tag_message(node.tag), line=line, field=_dotted(where) or None)
        self.lines[where] = line
        if isinstance(node, self.yaml.MappingNode):
            return self.mapping(node, where)
        if isinstance(node, self.yaml.SequenceNode):
            return [self.build(item, where + (index,)) for index, item in enumerate(node.value)]
        return self.scalar(node, where)

    def mapping(self, node, where):
        result = {}
        first_lines = {}
        for key_node, value_node in node.value:
            key = self.key(key_node, where)
            line = key_node.start_mark.line + 1
            if key in result:
                raise ProblemError(f"duplicate field (first given at line {first_lines[key]})",
                                   line=line, field=_dotted(where + (key,)))
            first_lines[key] = line
            result[key] = self.build(value_node, where + (key,))
        return result

    def key(self, node, where):
        """A mapping key: a name (or a whole number, as in `1: ...`)."""
        line = node.start_mark.line + 1
        if isinstance(node, self.yaml.MappingNode):
            got = "a mapping"
        elif isinstance(node, self.yaml.SequenceNode):
            got = "a list"
        elif node.tag not in _PLAIN_TAGS:
            raise ProblemError(_tag_message(node.tag), line=line, field=_dotted(where) or None)
        else:
            key = self.scalar(node, where)
            if isinstance(key, (str, int)) and not isinstance(key, bool):
                return key
            got = _describe(key)
        raise ProblemError(f"expected a field name, got {got}", line=line, field=_dotted(where) or None)

    def scalar(self, node, where):
        plain = not node.style  # None in PyYAML, "" in libyaml
        if node.tag == "tag:yaml.org,2002:str" and plain and _EXPONENT_FLOAT.fullmatch(node.value):
            return float(node.value)
        if node.tag == "tag:yaml.org,2002:int" and len(node.value) > MAX_DIGITS:
            raise ProblemError(f"number too long ({len(node.value)} digits; at most {MAX_DIGITS})",
                               line=node.start_mark.line + 1, field=_dotted(where) or None)
        return self.loader.construct_object(node)


def _tag_message(tag):
    short = tag.replace("tag:yaml.org,2002:", "!!")
    if short == "!!timestamp":
        return "expected a number or text, got a date (quote it to make it text)"
    if short == "!!merge":
        return "merge keys (<<) are not supported"
    return f"unsupported YAML tag {short} (only plain values are read)"


def _dotted(where):
    """A field's path as people write it (`layers[1].weights`), each name kept to one short line."""
    out = ""
    for part in where:
        if isinstance(part, int):
            out += f"[{part}]"
            continue
        if not part.isprintable() or len(part) > 40:
            part = repr(part if len(part) <= 40 else part[:37] + "...")
        out += f".{part}" if out else part
    return out


class FileNumber(float):
    """A number read from a problem file: a float that remembers its Origin (line and field).

    It reaches the Solution's givens through the kind's spec unchanged, so
    that a step that cannot be computed from it can say where it is written
    (SolutionBuilder.given keeps the origin and stores a plain float).
    Arithmetic on it gives plain floats; copies and pickles are plain floats.
    """

    __slots__ = ("origin",)

    def __new__(cls, value, origin):
        number = super().__new__(cls, value)
        number.origin = origin
        return number

    def __reduce__(self):
        return float, (float(self),)


class Field:
    """One value of a file, with the file, line and name needed to complain about it."""

    def __init__(self, value, path, lines, where=()):
        self.value = value
        self.path = path
        self.lines = lines
        self.where = where

    @property
    def name(self):
        return _dotted(self.where)

    @property
    def line(self):
        where = self.where
        while where not in self.lines and where:
            where = where[:-1]
        return self.lines.get(where)

    def error(self, message):
        return ProblemError(message, path=self.path, line=self.line, field=self.name or None)

    def located(self, error):
        """Give an error raised about this value its location."""
        return error.locate(path=self.path, line=self.line, field=self.name or None)

    # -- structure ------------------------------------------------------
    def child(self, key, value):
        return Field(value, self.path, self.lines, self.where + (key,))

    def mapping(self, allowed=None):
        if not isinstance(self.value, dict):
            raise self.error(f"expected a mapping of fields, got {_describe(self.value)}")
        if allowed is not None:
            for key in self.value:
                if key not in allowed:
                    close = difflib.get_close_matches(str(key), list(allowed), n=1)
                    if close:
                        raise self.child(key, None).error(f"unknown field (did you mean {close[0]!r}?)")
                    raise self.child(key, None).error(
                        f"unknown field; expected one of {', '.join(sorted(allowed))}"
                    )
        return self

    def get(self, key, default=_MISSING):
        """The field `key` of this mapping; a missing one is an error unless a default is given.

        The error for a missing field names the field and the line of the
        mapping that lacks it.
        """
        if key in self.value:
            return self.child(key, self.value[key])
        if default is _MISSING:
            raise self.missing(key, "missing required field")
        return self.child(key, default)

    def missing(self, key, message):
        """The error for the field `key`, absent from this mapping."""
        return ProblemError(message, path=self.path, line=self.line, field=_dotted(self.where + (key,)))

    def has(self, key):
        return key in self.value

    def dotted(self, name):
        """The Field at a dotted path of mappings (`model.output`), or None if the file has no such field."""
        field = self
        for key in name.split("."):
            if not isinstance(field.value, dict) or key not in field.value:
                return None
            field = field.child(key, field.value[key])
        return field

    def items(self, length=None):
        if not isinstance(self.value, list):
            raise self.error(f"expected a list, got {_describe(self.value)}")
        if length is not None and len(self.value) != length:
            raise self.error(f"expected a list of {length}, got {len(self.value)}")
        return [self.child(i, v) for i, v in enumerate(self.value)]

    # -- scalars --------------------------------------------------------
    def number(self):
        value = self.value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.error(f"expected a number, got {_describe(value)}")
        value = float(value)
        if not math.isfinite(value):
            raise self.error(f"expected a finite number, got {value}")
        if abs(value) > MAX_MAGNITUDE:
            raise self.error(f"expected a number at most {MAGNITUDE_TEXT} in size, got {value:g}")
        return FileNumber(value, Origin(self.line, self.name))

    def integer(self, minimum=None, maximum=None):
        value = self.value
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(f"expected a whole number, got {_describe(value)}")
        if minimum is not None and value < minimum:
            raise self.error(f"expected a whole number >= {minimum}, got {value}")
        if maximum is not None and value > maximum:
            raise self.error(f"expected a whole number <= {maximum}, got {value}")
        return value

    def boolean(self):
        if not isinstance(self.value, bool):
            raise self.error(f"expected true or false, got {_describe(self.value)}")
        return self.value

    def text(self, expected="text"):
        """The value as a string; `expected` says what kind of text, for the error."""
        if not isinstance(self.value, str):
            raise self.error(f"expected {expected}, got {_describe(self.value)}")
        return self.value

    def choice(self, options):
        value = self.value
        if not isinstance(value, str) or value not in options:
            close = difflib.get_close_matches(value, list(options), n=1) if isinstance(value, str) else []
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise self.error(f"expected one of {', '.join(options)}, got {_describe(value)}{hint}")
        return value

    def vector(self, length=None):
        """A list of numbers (a lone number counts as a list of one)."""
        if isinstance(self.value, (int, float)) and not isinstance(self.value, bool):
            items = [self]
        else:
            items = self.items()
        if length is not None and len(items) != length:
            raise self.error(f"expected {length} number(s), got {len(items)}")
        return tuple(item.number() for item in items)

    def numbers(self, length):
        """`vector` as a numpy array, checked all at once (a wide input); what `vector` would refuse is read by it."""
        import numpy as np

        value = self.value
        if isinstance(value, list) and len(value) == length and all(type(v) is float or type(v) is int for v in value):
            array = np.array(value, dtype=float)
            if np.isfinite(array).all() and (np.abs(array) <= MAX_MAGNITUDE).all():
                return array
        return np.array(self.vector(length), dtype=float)

    def array(self, rows, columns, meaning=""):
        """A rows x columns list of lists of numbers as a numpy array, checked all at once (a wide layer's
        weights); anything `matrix` would refuse is read by it, for its error."""
        import numpy as np

        value = self.value
        if isinstance(value, list) and len(value) == rows and all(
                isinstance(row, list) and len(row) == columns and all(type(v) is float or type(v) is int for v in row)
                for row in value):
            array = np.array(value, dtype=float).reshape(rows, columns)
            if np.isfinite(array).all() and (np.abs(array) <= MAX_MAGNITUDE).all():
                return array
        return np.array(self.matrix(rows, columns, meaning), dtype=float)

    def matrix(self, rows, columns, meaning=""):
        """A rows x columns list of lists of numbers."""
        expected = f"expected a {rows}x{columns} matrix{meaning}"
        if not isinstance(self.value, list) or not all(isinstance(r, list) for r in self.value):
            raise self.error(f"{expected}, got {_describe(self.value)}")
        if len(self.value) != rows or any(len(r) != columns for r in self.value):
            widths = sorted({len(r) for r in self.value}) or [0]
            shown = "/".join(map(str, widths)) if len(widths) <= 3 else f"{widths[0]}..{widths[-1]}"
            raise self.error(f"{expected}, got {len(self.value)}x{shown}")
        return tuple(tuple(cell.number() for cell in row.items()) for row in self.items())


def _describe(value):
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"{str(value).lower()} (a boolean)"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"text {shown!r}"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return f"a list of {len(value)}"
    return repr(value)


@dataclass(frozen=True)
class Problem:
    """A validated problem: its kind's typed spec plus what every kind shares."""

    name: str
    path: str
    kind: str
    title: str
    rounding: Rounding
    spec: object
    grading: object = None  # the `grading` Field, read by derive.grading when a sheet is marked
    root: object = None  # the Field of the whole file: where errors found while solving are located
    lecture: tuple = ()  # (key Field, LectureNotes) per entry of the `lecture` field (see read_lecture)

    def solve(self, rounding=None):
        """The Solution; an error found while solving names this file, and a line and field of it.

        Code that knows the cause locates its error itself (a layer's
        activation); a value that cannot be computed is located at the given
        it depends on that is most likely to blame (`EvaluationError.suspect`);
        anything else at the field the kind solves from (its ERRORS_AT), or
        at `kind` when the file has none of those.
        """
        from .kinds import KINDS

        module = KINDS[self.kind]
        try:
            solution = module.solve(self, self.rounding if rounding is None else rounding)
        except DeriveError as error:
            raise self.located(error, getattr(module, "ERRORS_AT", ())) from None
        return self.with_lecture(solution) if self.lecture else solution

    def with_lecture(self, solution):
        """`solution` with the file's `lecture` notes on their steps; a key that names no step is an error
        at its line."""
        by_key, general = {}, []
        entries = None
        for field, notes in self.lecture:
            key = field.where[-1]
            if key == GENERAL:
                general += notes
            elif key in solution:
                by_key[key] = by_key.get(key, ()) + notes
            elif any(step.is_matrix for step in solution) and (entries := _entry_step(solution, key, entries)):
                by_key[entries[1]] = by_key.get(entries[1], ()) + notes  # an entry's note goes on its matrix
            else:
                raise field.error(unknown_key(key, [*solution.steps, GENERAL]))
        return solution.with_lecture(by_key, general)

    def located(self, error, fallback):
        """`error` with this file's path and, if it has none, a line and field (the suspect, or `fallback`)."""
        suspect = getattr(error, "suspect", None)
        if error.line is None and suspect is not None:
            error.locate(line=suspect.line, field=suspect.field)
        if error.line is None and self.root is not None:
            for name in (*fallback, "kind"):
                field = self.root.dotted(name)
                if field is not None:
                    error.locate(line=field.line, field=field.name)
                    break
        return error.locate(path=self.path)


GENERAL = "general"  # the `lecture` key of a note on no single step
_LECTURE_NOTE = {"type": "object", "properties": {
    "printed": {"type": "string", "description": "what the lecture printed, as it printed it"},
    "why": {"type": "string", "description": "why that differs from the solution"}},
    "required": ["printed", "why"], "additionalProperties": False}
LECTURE_SCHEMA = {"type": "object", "additionalProperties": {
    "anyOf": [_LECTURE_NOTE, {"type": "array", "items": _LECTURE_NOTE, "minItems": 1}]}}


def _entry_step(solution, key, found):
    """(the EntryIndex of `solution`, the key of the matrix step whose entry `key` is), or None."""
    from .matrix import EntryIndex

    index = found[0] if found else EntryIndex(solution)
    entry = index.find(key)
    return (index, entry[0]) if entry else None


def read_lecture(field):
    """The `lecture` field: ((key Field, LectureNotes), ...) in file order. Each key maps to one
    `{printed, why}` or a list of them; the keys are checked against the solution's steps when it is solved."""
    entries = []
    for key in field.mapping().value:
        entry = field.child(key, field.value[key])
        items = entry.items() if isinstance(entry.value, list) else [entry]
        if not items:
            raise entry.error("expected a note {printed, why} or a list of them, got an empty list")
        notes = []
        for item in items:
            item.mapping(allowed={"printed", "why"})
            printed, why = (item.get(name).text() for name in ("printed", "why"))
            notes.append(LectureNote(printed.strip(), " ".join(why.split())))
        entries.append((entry, tuple(notes)))
    return tuple(entries)


def _common_fields():
    """The fields every problem file may have, declared once (see derive.fields)."""
    return Declarations(
        # `kind` is read first, by load_problem, to know which fields the file may have
        Declared("kind", Structured({"type": "string"}), "the problem kind: " + ", ".join(f"`{k}`" for k in KIND_NAMES)
                 + " (a page each); it decides the other fields"),
        Declared("title", Text(), "a one-line title", default=None, shown_default="the file name"),
        Declared("source", Text(), "where the problem comes from", default=None, shown_default="none"),
        Declared("notes", Text(), "free text: what was given, what was inferred", default=None,
                 shown_default="none"),
        Declared("lecture", Structured(LECTURE_SCHEMA),
                 "where the lecture printed something else: a step key (or `general`, for a note on no single "
                 "step) and what it `printed` there and `why` that differs (one such pair or a list); shown "
                 "beside the step in every format", default=None, shown_default="none"),
        Declared("rounding", Structured({"anyOf": [{"const": "exact"}, {"type": "integer", "minimum": 0,
                                                                         "maximum": 12}]}),
                 "`exact`, or a number of decimals (0 to 12) to round every intermediate to and carry forward",
                 default="exact"),
        Declared("grading", Structured(GRADING.object_schema()), "how answer sheets are marked (see Grading): items, points, tolerance, "
                 "follow-through, slips", default=None, shown_default="every step, 1 point each"),
        Declared("random", Structured({"type": "object", "additionalProperties": {
                     "anyOf": [{"type": "string"}, {"type": "number"}, {"type": "array", "items": {"type": "number"}}]}}),
                 "for `derive variants`: which numbers are drawn per student, and how", default=None,
                 shown_default="none"),
        Declared("constraints", Structured({"type": "array", "items": {"anyOf": [{"type": "string"},
                                                                                  {"type": "object"}]}}),
                 "for `derive variants`: conditions every variant's solution must meet", default=None,
                 shown_default="none"),
        Declared("id", Text(), "written by `derive variants`: the student a variant belongs to", default=None,
                 shown_default="none"),
        Declared("variant_of", Text(), "written by `derive variants`: the base problem and its SHA-256",
                 default=None, shown_default="none"),
    )


COMMON = _common_fields()
COMMON_FIELDS = COMMON.names


def load_problem(path):
    """Read and validate a problem file, or a bundled problem given by name (`lecture-bp-3layer`).

    Raise ProblemError naming file, line and field.
    """
    from .kinds import KINDS

    path = find_problem(path)
    data, lines = read_yaml(path)
    root = Field(data, str(path), lines).mapping()
    kind = root.get("kind").choice(sorted(KINDS))
    module = KINDS[kind]
    root.mapping(allowed=COMMON_FIELDS | module.DECLARED.names)
    title = root.get("title", Path(path).stem).text()
    rounding = read_rounding(root.get("rounding", "exact"))
    for optional in ("source", "notes"):
        if root.has(optional):
            root.get(optional).text()
    try:
        spec = module.read(root)
    except ExpressionError as error:  # raised below a Field that did not locate it
        raise root.located(error) from None
    grading = root.get("grading") if root.has("grading") else None
    lecture = read_lecture(root.get("lecture")) if root.has("lecture") else ()
    return Problem(Path(path).stem, str(path), kind, title, rounding, spec, grading, root, lecture)


def read_names(field, most, what, ascii_only=False):
    """1 to `most` distinct names usable in expressions (not a function's or a constant's), as real Symbols.

    `what` names them in messages ("parameter"); `ascii_only` for names that
    also appear in step keys.
    """
    import sympy

    from .expr import CONSTANTS, FUNCTIONS

    items = field.items()
    if not 1 <= len(items) <= most:
        raise field.error(f"expected 1 to {most} {what} names, got {len(items)}")
    names = []
    for item in items:
        name = item.text(f"a {what} name")
        if not name.isidentifier() or name.startswith("_") or (ascii_only and not name.isascii()):
            raise item.error(f"expected a {what} name (letters, digits, _), got {name!r}")
        if name in FUNCTIONS or name in CONSTANTS:
            raise item.error(f"{name!r} is the name of a function or constant; choose another {what} name")
        if name in names:
            raise item.error(f"{what} {name!r} is listed twice")
        names.append(name)
    return tuple(sympy.Symbol(name, real=True) for name in names)


def read_rounding(field):
    """`rounding: exact` or a number of decimals from 0 to 12."""
    value = field.value
    if value == "exact":
        return EXACT
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 12:
        return Rounding(value)
    raise field.error(f"expected exact or a number of decimals (0 to 12), got {_describe(value)}")


BUNDLED = Path(__file__).resolve().parent / "problems"  # package data: present in every install


def bundled_problems():
    """Paths of the problems shipped inside the package (`derive/problems/`), sorted by name."""
    return sorted(BUNDLED.glob("*.yaml"), key=lambda path: path.stem) if BUNDLED.is_dir() else []  # not by path:
    # `batch-noise.yaml` sorts after `batch-noise-x.yaml`, as "." comes after "-"


def find_problem(name_or_path):
    """A problem file's path: the path itself, or a bundled problem's name (`lecture-bp-3layer`)."""
    path = Path(name_or_path)
    if path.exists() or path.suffix in (".yaml", ".yml") or "/" in str(name_or_path):
        return path
    bundled = BUNDLED / f"{name_or_path}.yaml"
    if bundled.exists():
        return bundled
    names = [p.stem for p in bundled_problems()]
    close = difflib.get_close_matches(str(name_or_path), names, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    raise ProblemError(f"no such file or bundled problem{hint}; `derive list` shows the bundled ones",
                       path=str(name_or_path))
