"""Problem files: YAML loading that remembers lines, and typed field access.

`load_problem(path)` reads a problem file, checks its common fields (`kind`,
`title`, `rounding`) and hands the rest to the reader of its kind. Every
value is reached through a `Field`, which knows the file, line and dotted
name of what it holds, so any complaint about it becomes one line:

    problems/net.yaml:12: layers[1].weights: expected a 2x3 matrix, got 2x2
"""

import difflib
import math
from dataclasses import dataclass
from pathlib import Path

from .errors import DeriveError, ExpressionError, ProblemError
from .steps import EXACT, Rounding

MAX_FILE_BYTES = 2_000_000
MAX_NODES = 200_000
_MISSING = object()


def read_yaml(path):
    """(data, lines) of a YAML file; lines maps field paths (tuples) to line numbers.

    Only plain data is built (mappings, lists, strings, numbers, booleans):
    no tags that construct objects, no duplicate keys, and a bound on the
    number of nodes so that aliases cannot blow up ("billion laughs").
    """
    import yaml

    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ProblemError("no such file", path=str(path)) from None
    except (IsADirectoryError, PermissionError, OSError) as error:
        raise ProblemError(f"cannot read: {error.strerror or error}", path=str(path)) from None
    if len(raw) > MAX_FILE_BYTES:
        raise ProblemError(f"file too large ({len(raw)} bytes; at most {MAX_FILE_BYTES})", path=str(path))
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ProblemError(f"not UTF-8 text (byte {error.start})", path=str(path)) from None
    try:
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)(text)  # libyaml when present: 10x faster
        try:
            node = loader.get_single_node()
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark else None
        what = error.problem or error.context or "malformed"
        raise ProblemError(f"malformed YAML: {what}", path=str(path), line=line) from None
    except yaml.YAMLError as error:
        raise ProblemError(f"malformed YAML: {error}", path=str(path)) from None
    if node is None:
        raise ProblemError("empty file", path=str(path), line=1)
    lines = {}
    data = _Builder(yaml, loader, str(path), lines).build(node, ())
    return data, lines


class _Builder:
    """Turns a composed YAML node tree into plain data, recording lines."""

    def __init__(self, yaml, loader, path, lines):
        self.yaml = yaml
        self.loader = loader
        self.path = path
        self.lines = lines
        self.count = 0

    def build(self, node, where):
        self.count += 1
        if self.count > MAX_NODES:
            raise ProblemError(f"too many values (more than {MAX_NODES}; aliases expanding?)", path=self.path)
        line = node.start_mark.line + 1
        self.lines[where] = line
        yaml = self.yaml
        if isinstance(node, yaml.MappingNode):
            result = {}
            for key_node, value_node in node.value:
                if not isinstance(key_node, yaml.ScalarNode):
                    raise ProblemError("a key must be a plain name", path=self.path, line=key_node.start_mark.line + 1)
                key = self.scalar(key_node)
                if not isinstance(key, (str, int)) or isinstance(key, bool):
                    raise ProblemError(f"a key must be a name, got {key!r}", path=self.path, line=key_node.start_mark.line + 1)
                if key in result:
                    raise ProblemError(f"duplicate key {key!r}", path=self.path, line=key_node.start_mark.line + 1,
                                       field=_dotted(where + (key,)))
                result[key] = self.build(value_node, where + (key,))
            return result
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, where + (index,)) for index, item in enumerate(node.value)]
        return self.scalar(node)

    def scalar(self, node):
        tag = node.tag
        if not tag.startswith("tag:yaml.org,2002:") or tag.rsplit(":", 1)[1] not in (
            "str", "int", "float", "bool", "null"
        ):
            raise ProblemError(f"unsupported YAML tag {tag}", path=self.path, line=node.start_mark.line + 1)
        try:
            return self.loader.construct_object(node)
        except (self.yaml.YAMLError, ValueError) as error:
            raise ProblemError(f"unreadable value {node.value!r}", path=self.path,
                               line=node.start_mark.line + 1) from None


def _dotted(where):
    out = ""
    for part in where:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


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
                    hint = f" (did you mean {close[0]!r}?)" if close else ""
                    raise self.child(key, None).error(
                        f"unknown field{hint}; allowed: {', '.join(sorted(allowed))}"
                    )
        return self

    def get(self, key, default=_MISSING):
        """The field `key` of this mapping; a missing one is an error unless a default is given."""
        if key in self.value:
            return self.child(key, self.value[key])
        if default is _MISSING:
            raise ProblemError(f"missing field {key!r}", path=self.path, line=self.line,
                               field=self.name or None)
        return self.child(key, default)

    def has(self, key):
        return key in self.value

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
        return value

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

    def text(self):
        if not isinstance(self.value, str):
            raise self.error(f"expected text, got {_describe(self.value)}")
        return self.value

    def choice(self, options):
        value = self.value
        if not isinstance(value, str) or value not in options:
            close = difflib.get_close_matches(str(value), list(options), n=1)
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

    def matrix(self, rows, columns, meaning=""):
        """A rows x columns list of lists of numbers."""
        expected = f"expected a {rows}x{columns} matrix{meaning}"
        if not isinstance(self.value, list) or not all(isinstance(r, list) for r in self.value):
            raise self.error(f"{expected}, got {_describe(self.value)}")
        shape = f"{len(self.value)}x{'/'.join(sorted({str(len(r)) for r in self.value})) or 0}"
        if len(self.value) != rows or any(len(r) != columns for r in self.value):
            raise self.error(f"{expected}, got {shape}")
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

    def solve(self, rounding=None):
        from .kinds import KINDS

        return KINDS[self.kind].solve(self, self.rounding if rounding is None else rounding)


COMMON_FIELDS = {"kind", "title", "source", "notes", "rounding", "grading"}


def load_problem(path):
    """Read and validate a problem file; raise ProblemError naming file, line and field."""
    from .kinds import KINDS

    data, lines = read_yaml(path)
    root = Field(data, str(path), lines).mapping()
    kind = root.get("kind").choice(sorted(KINDS))
    module = KINDS[kind]
    root.mapping(allowed=COMMON_FIELDS | set(module.FIELDS))
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
    return Problem(Path(path).stem, str(path), kind, title, rounding, spec, grading)


def read_rounding(field):
    if field.value == "exact":
        return EXACT
    if isinstance(field.value, int) and not isinstance(field.value, bool):
        return Rounding(field.integer(minimum=0, maximum=12))
    raise field.error(f"expected exact or a number of decimals (0 to 12), got {_describe(field.value)}")


BUNDLED = Path(__file__).resolve().parent.parent / "problems"


def bundled_problems():
    """Paths of the problems shipped in `problems/`, sorted by name."""
    return sorted(BUNDLED.glob("*.yaml")) if BUNDLED.is_dir() else []


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
