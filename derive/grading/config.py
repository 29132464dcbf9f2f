"""The `grading` field of a problem file: its entries declared once, read into a GradingConfig.

The declarations give the reading, the JSON Schema (`derive schema`) and the
docs' table. What an entry may name depends on the problem's Solution (the
step keys a pattern matches, the items points are given to), so the block is
read against the solved problem: when a sheet is graded, and by `derive
check`, which solves every file it checks.
"""

import difflib
import re
from dataclasses import dataclass, field

from ..fields import Declarations, Declared, Interval, Number, Structured
from .tolerance import default_tolerance, read_tolerance, tolerance_schema

FRACTION = Interval(0, 1, "a fraction from 0 to 1")

GRADING = Declarations(
    Declared("items", Structured({"type": "array", "items": {"type": "string"}}),
             "the keys to grade, in order; `*` matches any text (`delta[*]`)", default=None,
             shown_default="every computed step but a matrix"),
    Declared("points", Structured({"type": "object", "additionalProperties": {"type": "number", "minimum": 0}}),
             "a mapping from item key to points ≥ 0 (keys as written, no `*`)", default=None,
             shown_default="1 each"),
    Declared("tolerance", Structured(tolerance_schema()), "a tolerance mapping, such as `{decimals: 4}` (see "
             "Tolerance)", default=None, shown_default="see Tolerance"),
    Declared("item_tolerance", Structured({"type": "object", "additionalProperties": tolerance_schema()}),
             "a mapping from key (or pattern) to a tolerance mapping", default=None, shown_default="none"),
    Declared("follow_through", FRACTION, "the fraction of an item's points that follow-through earns, 0 to 1",
             default=1),
    Declared("slips", Structured({"type": "object", "additionalProperties": FRACTION.schema()}),
             "a mapping from slip code to the fraction of an item's points a wrong answer that slip alone "
             "explains earns, such as `{missing_derivative: 0.5}`", default=None, shown_default="none"),
)


@dataclass(frozen=True)
class GradingConfig:
    """What a problem file says about grading (see the `grading` field in docs/grading.md)."""

    items: tuple
    points: dict
    tolerance: object
    item_tolerance: dict
    follow_through: float
    slips: dict = field(default_factory=dict)  # slip code -> credit for a wrong answer it alone explains


def read_grading(problem, solution):
    """The GradingConfig of a problem (its `grading` field, or the defaults).

    Items default to every computed step a sheet can answer (a number or an
    expression; not a matrix, which no answer is read as); a pattern with `*`
    (`delta[*][*]`) stands for every key it matches, in solution order.
    """
    gradable = [step.key for step in solution if not step.is_given and not getattr(step.value, "is_Matrix", False)]
    default_items = gradable
    if any(step.is_matrix for step in solution):  # matrix notation: entries and whole quantities (grading.matrix)
        from ..matrix import EntryIndex
        from .matrix import default_items as matrix_items, gradable_keys

        index = EntryIndex(solution)
        default_items = matrix_items(solution, index)
        if problem.grading is not None and problem.grading.has("items"):
            gradable = gradable_keys(solution, index)
    default = default_tolerance(problem.rounding)
    block = problem.grading
    if block is None:
        return GradingConfig(tuple(default_items), {}, default, {}, 1.0)
    block.mapping(allowed=GRADING.names)
    items = default_items
    if block.has("items"):
        items = []
        for entry in block.get("items").items():
            matched = match_keys(entry.text(), gradable)
            if not matched:
                raise entry.error(unknown_key(entry.value, gradable))
            items += [key for key in matched if key not in items]
    points = {}
    if block.has("points"):
        mapping = block.get("points").mapping()
        for key, value in mapping.value.items():
            entry = mapping.child(key, value)
            if str(key) not in items:
                raise entry.error(unknown_key(key, items) + " among the graded items")
            points[str(key)] = Number(minimum=0).read(entry)
    tolerance = read_tolerance(block.get("tolerance")) if block.has("tolerance") else default
    item_tolerance = {}
    if block.has("item_tolerance"):
        tolerances = block.get("item_tolerance").mapping()
        for key, value in tolerances.value.items():
            entry = tolerances.child(key, value)
            matched = match_keys(str(key), items)
            if not matched:
                raise entry.error(unknown_key(key, items) + " among the graded items")
            for item in matched:
                item_tolerance[item] = read_tolerance(entry)
    follow_through = GRADING.read(block, "follow_through")
    slips = _read_slip_credit(block.get("slips")) if block.has("slips") else {}
    return GradingConfig(tuple(items), points, tolerance, item_tolerance, follow_through, slips)


def _read_slip_credit(mapping_field):
    """`grading.slips`: slip code -> the fraction of an item's points a wrong answer it explains earns."""
    from .slips import CODES

    credit = {}
    mapping = mapping_field.mapping()
    for code, value in mapping.value.items():
        entry = mapping.child(code, value)
        if str(code) not in CODES:
            close = difflib.get_close_matches(str(code), CODES, n=1)
            raise entry.error(f"unknown slip {code!r}" + (f" (did you mean {close[0]!r}?)" if close else
                                                           f"; known: {', '.join(CODES)}"))
        credit[str(code)] = FRACTION.read(entry)
    return credit


def match_keys(pattern, keys):
    """The keys a pattern names: itself if it is one, or every key its `*`s match, in order."""
    if "*" not in pattern:
        return [pattern] if pattern in (keys if len(keys) < 100 else set(keys)) else []
    regex = re.compile("^" + ".*".join(re.escape(part) for part in pattern.split("*")) + "$")
    return [key for key in keys if regex.match(key)]


def unknown_key(key, keys):
    close = difflib.get_close_matches(str(key), keys, n=1)
    return f"unknown step key {key!r}" + (f" (did you mean {close[0]!r}?)" if close else "")
