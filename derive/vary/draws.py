"""Random givens: the `random` field of a problem file, and reproducible draws.

    random:
      layers[*].weights[*][*]: uniform -1..1 step 0.1   # every weight, each drawn on its own
      samples[0].y[0]: one of 0.1, 0.9                  # a set of choices (a YAML list works too)
      layers[1].thresholds[0]: 1 - layers[1].weights[0][0]   # an expression in other fields

A path names a number of the problem file the way error messages do: field
names joined by dots, list positions in brackets counted from 0, `*` for
every position of a list. A draw is not Python's `random` (whose algorithms
may change between versions) but a SHA-256 digest of the problem's text, the
student's id, the attempt number and the path, read as a whole number: the
same problem and id give the same numbers on any machine, in any version.
"""

import difflib
import hashlib
import re
from dataclasses import dataclass
from decimal import Decimal

from ..errors import DeriveError, ExpressionError
from ..expr import CONSTANTS, FUNCTIONS, parse_expression
from ..steps import evaluate_formula

ANY = "*"
MAX_DRAWN = 10_000  # numbers drawn for one student
_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
_PATH = re.compile(rf"({_NAME})((?:\[(?:[0-9]+|\*)\]|\.{_NAME})*)")
_PART = re.compile(rf"\[([0-9]+|\*)\]|\.({_NAME})")
_NUMBER = r"[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)"
_UNIFORM = re.compile(rf"uniform\s+({_NUMBER})\s*\.\.\s*({_NUMBER})\s+step\s+({_NUMBER})")
_REFERENCE = re.compile(rf"(?<![\w.\]])({_NAME}(?:\[[0-9]+\]|\.{_NAME})*)")
SPEC_FORMS = "expected `uniform A..B step S`, `one of a, b, c`, a list of numbers, or an expression in other fields"


@dataclass(frozen=True)
class Uniform:
    """Every number from `low` to `high` in steps of `step`, equally likely."""

    low: Decimal
    step: Decimal
    count: int  # how many numbers: (high - low) / step + 1

    def pick(self, index):
        return _plain(self.low + self.step * index)


@dataclass(frozen=True)
class Choice:
    """One of a few numbers, equally likely."""

    options: tuple  # of Decimal

    @property
    def count(self):
        return len(self.options)

    def pick(self, index):
        return _plain(self.options[index])


@dataclass(frozen=True)
class Formula:
    """A number computed from other fields (after every draw): `text`, parsed, and the paths it reads."""

    text: str
    expression: object
    references: dict  # symbol name -> path (tuple)


@dataclass(frozen=True)
class RandomField:
    """One entry of `random`: the concrete paths it sets and how their numbers are made."""

    pattern: str
    paths: tuple
    spec: object
    field: object  # the problem-file Field, for error locations


def read_random(root, data):
    """The RandomFields of a problem's `random` mapping (empty when there is none).

    `root` is the problem's root Field, `data` its plain data. Every path
    must reach numbers of the file; no number may be set by two entries.
    """
    if not root.has("random"):
        return ()
    random = root.get("random").mapping()
    entries, owners = [], {}
    for key, value in random.value.items():
        entry = random.child(key, value)
        pattern = parse_path(str(key), entry)
        paths = expand_path(pattern, data, entry)
        for path in paths:
            if path in owners:
                raise entry.error(f"{show_path(path)} is already drawn by {owners[path]}")
            owners[path] = str(key)
        entries.append(RandomField(str(key), tuple(paths), read_spec(entry, data), entry))
    if len(owners) > MAX_DRAWN:
        raise random.error(f"too many numbers drawn ({len(owners)}; at most {MAX_DRAWN})")
    _formula_order(entries)  # refuse circular formulas now, before any draw
    return tuple(entries)


def parse_path(text, field):
    """A path's parts: names (str), list positions (int) and ANY."""
    match = _PATH.fullmatch(text.strip())
    if match is None:
        raise field.error("expected a path to numbers of this file, such as layers[0].weights[1][0]")
    parts = [match.group(1)]
    for index, name in _PART.findall(match.group(2)):
        parts.append(name if name else (ANY if index == ANY else int(index)))
    return tuple(parts)


def show_path(parts):
    """A path as written in a problem file: `layers[0].weights[1][0]`."""
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) or part == ANY else (f".{part}" if out else part)
    return out


def expand_path(pattern, data, field):
    """The concrete paths of numbers a pattern names; an unknown field or a non-number is an error."""
    found = [((), data)]
    for depth, part in enumerate(pattern):
        reached = []
        for path, value in found:
            here = show_path(pattern[:depth]) or "the file"
            if part == ANY:
                if not isinstance(value, list):
                    raise field.error(f"{here} is not a list, so {show_path(pattern[:depth + 1])} names nothing")
                reached += [(path + (i,), item) for i, item in enumerate(value)]
            elif isinstance(part, int):
                if not isinstance(value, list) or part >= len(value):
                    size = f"a list of {len(value)}" if isinstance(value, list) else "not a list"
                    raise field.error(f"unknown field {show_path(pattern[:depth + 1])} ({here} is {size})")
                reached.append((path + (part,), value[part]))
            else:
                if not isinstance(value, dict) or part not in value:
                    names = [str(k) for k in value] if isinstance(value, dict) else []
                    close = difflib.get_close_matches(part, names, n=1)
                    hint = f" (did you mean {show_path(pattern[:depth] + (close[0],))!r}?)" if close else ""
                    raise field.error(f"unknown field {show_path(pattern[:depth + 1])!r}{hint}")
                reached.append((path + (part,), value[part]))
        found = reached
    for path, value in found:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            what = f"a list of {len(value)} (add [*] to draw each)" if isinstance(value, list) else type(value).__name__
            raise field.error(f"{show_path(path)} is not a number but {what}")
    return [path for path, _ in found]


def read_spec(field, data):
    """A Uniform, Choice or Formula from a `random` entry's value."""
    value = field.value
    if isinstance(value, list):
        if not value:
            raise field.error("expected at least one number to choose from")
        return Choice(tuple(_decimal(item, field.child(i, item)) for i, item in enumerate(value)))
    if not isinstance(value, str):
        raise field.error(SPEC_FORMS)
    text = value.strip()
    if text.startswith("uniform"):
        match = _UNIFORM.fullmatch(text)
        if match is None:
            raise field.error("expected `uniform A..B step S` (for example uniform -1..1 step 0.1)")
        low, high, step = (Decimal(group) for group in match.groups())
        if step <= 0 or high < low:
            raise field.error(f"expected A <= B and a step > 0, got {text}")
        count = (high - low) / step
        if count != count.to_integral_value():
            raise field.error(f"{match.group(1)}..{match.group(2)} is not a whole number of steps of {match.group(3)}")
        return Uniform(low, step, int(count) + 1)
    if text.startswith("one of"):
        items = [item.strip() for item in text[len("one of"):].split(",")]
        if not all(re.fullmatch(_NUMBER, item) for item in items):
            raise field.error("expected `one of a, b, c` with numbers a, b, c")
        return Choice(tuple(Decimal(item) for item in items))
    if ".." in text:
        raise field.error(SPEC_FORMS)
    return read_formula(text, field, data)


def read_formula(text, field, data):
    """A Formula: `text` with every path to a number of the file standing for that number."""
    references, names = {}, {}

    def replace(match):
        name = match.group(1)
        if name in FUNCTIONS or name in CONSTANTS:
            return name
        path = expand_path(parse_path(name, field), data, field)[0]
        symbol = names.setdefault(path, f"ref{len(names)}")
        references[symbol] = path
        return symbol

    import sympy

    substituted = _REFERENCE.sub(replace, text)
    try:
        expression = parse_expression(substituted, {s: sympy.Symbol(s) for s in references})
    except ExpressionError as error:
        raise field.error(error.message) from None
    return Formula(text, expression, references)


def _formula_order(entries):
    """The formula entries in an order where each is computed after the formulas it reads."""
    formulas = {path: entry for entry in entries if isinstance(entry.spec, Formula) for path in entry.paths}
    order, done, visiting = [], set(), set()

    def visit(path, entry):
        if path in done:
            return
        if path in visiting:
            raise entry.field.error(f"the expression reads {show_path(path)}, which is computed from it")
        visiting.add(path)
        for read in entry.spec.references.values():
            if read in formulas:
                visit(read, formulas[read])
        visiting.discard(path)
        done.add(path)
        order.append((path, entry))

    for path, entry in formulas.items():
        visit(path, entry)
    return order


def problem_digest(text):
    """SHA-256 of a problem file's text, with line ends made `\\n` (a Windows checkout draws the same)."""
    return hashlib.sha256(text.replace("\r\n", "\n").encode("utf-8")).hexdigest()


def draw_index(digest, student, attempt, path, count):
    """A whole number from 0 to count - 1, fixed by the problem, the student, the attempt and the path."""
    seed = f"derive-variants/1\n{digest}\n{student}\n{attempt}\n{show_path(path)}".encode("utf-8")
    return int.from_bytes(hashlib.sha256(seed).digest(), "big") % count


def draw(data, entries, digest, student, attempt):
    """A copy of the problem's data with every random number drawn for this student and attempt."""
    import copy

    drawn = copy.deepcopy(data)
    for entry in entries:
        if not isinstance(entry.spec, Formula):
            for path in entry.paths:
                _set(drawn, path, entry.spec.pick(draw_index(digest, student, attempt, path, entry.spec.count)))
    for path, entry in _formula_order(entries):
        env = {symbol: float(_get(drawn, read)) for symbol, read in entry.spec.references.items()}
        try:
            value = evaluate_formula(entry.spec.expression, env, entry.pattern)
        except DeriveError as error:  # a value outside the expression's domain
            raise entry.field.error(f"cannot compute {entry.spec.text!r}: {error.message}") from None
        _set(drawn, path, _plain(Decimal(repr(float(value))).quantize(Decimal("1e-10")).normalize()))
    return drawn


def _decimal(value, field):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise field.error("expected a number to choose from")
    return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)


def _plain(value):
    """A Decimal as the number a problem file holds: a whole number as int, else the nearest float."""
    if value == value.to_integral_value():
        return int(value)
    return float(value) + 0.0


def _get(data, path):
    for part in path:
        data = data[part]
    return data


def _set(data, path, value):
    _get(data, path[:-1])[path[-1]] = value
