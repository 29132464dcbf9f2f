"""Problem-file fields, each declared once.

A kind lists its fields as `Declared` entries: name, type, default, a
one-line description, and where a field's check depends on another field,
a `check` that says so. From that one declaration come:

- the reading and validation (`Declarations.read`), through `Field`, so the
  one-line `file:line: field: message` errors and their "did you mean" are
  the ones derive has always given;
- the JSON Schema of the kind (`schema`, `derive schema KIND`), which editors
  use to complete and check problem files;
- the field table of the kind's documentation (`Declarations.table`).

A field whose structure depends on others (a weight matrix sized by
`sizes`) is declared with the `Structured` type: its schema and its
description live here, its reading stays in the kind, which knows the sizes.
Our own small declarations rather than a model library: they keep derive's
exact error lines and cost nothing at start-up.
"""

import json
import math
from abc import ABC, abstractmethod
from dataclasses import dataclass, field as dataclass_field

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
# The largest size of a number in a problem file, written or as a constant of an expression. A course's
# numbers are far smaller; larger ones overflow, or lose every digit, somewhere along a solution.
MAX_MAGNITUDE = 1e9
MAGNITUDE_TEXT = "1e9"


class _Required:
    def __repr__(self):
        return "REQUIRED"


REQUIRED = _Required()


# -- types: how a value is read, and what JSON Schema says of it -----------------------------------

class FieldType(ABC):
    """How one field's value is read from its Field, and the JSON Schema of that value."""

    @abstractmethod
    def read(self, field):
        """The value of `field`, checked; a ProblemError naming the field if it is not one."""

    @abstractmethod
    def schema(self):
        """The JSON Schema of a value of this type."""


@dataclass(frozen=True)
class Number(FieldType):
    """A finite number, optionally bounded below (`minimum`; `positive` for > 0)."""

    minimum: float = None
    positive: bool = False

    def read(self, field):
        value = field.number()
        if self.positive and value <= 0:
            raise field.error(f"expected a positive number, got {value:g}")
        if self.minimum is not None and value < self.minimum:
            raise field.error(f"expected a number >= {self.minimum:g}, got {value:g}")
        return value

    def schema(self):
        schema = {"type": "number"}
        if self.positive:
            schema["exclusiveMinimum"] = 0
        if self.minimum is not None:
            schema["minimum"] = self.minimum
        return schema


@dataclass(frozen=True)
class Interval(FieldType):
    """A finite number from `low` to `high`; `open` names the ends left out ("low", "high").

    expected: the error's words for it, "a keep probability in (0, 1]", as in
    `expected a keep probability in (0, 1], got 1.5`.
    """

    low: float
    high: float
    expected: str
    open: tuple = ()

    def read(self, field):
        value = field.number()
        above = value > self.low if "low" in self.open else value >= self.low
        below = value < self.high if "high" in self.open else value <= self.high
        if not (above and below):
            raise field.error(f"expected {self.expected}, got {value:g}")
        return value

    def schema(self):
        return {"type": "number",
                "exclusiveMinimum" if "low" in self.open else "minimum": self.low,
                "exclusiveMaximum" if "high" in self.open else "maximum": self.high}


@dataclass(frozen=True)
class Integer(FieldType):
    """A whole number from `minimum` to `maximum`."""

    minimum: int = None
    maximum: int = None

    def read(self, field):
        return field.integer(self.minimum, self.maximum)

    def schema(self):
        schema = {"type": "integer"}
        if self.minimum is not None:
            schema["minimum"] = self.minimum
        if self.maximum is not None:
            schema["maximum"] = self.maximum
        return schema


@dataclass(frozen=True)
class Boolean(FieldType):
    def read(self, field):
        return field.boolean()

    def schema(self):
        return {"type": "boolean"}


@dataclass(frozen=True)
class Text(FieldType):
    """A string; `expected` says what kind of text, for the error."""

    expected: str = "text"

    def read(self, field):
        return field.text(self.expected)

    def schema(self):
        return {"type": "string"}


@dataclass(frozen=True)
class Choice(FieldType):
    """One of a few names."""

    options: tuple

    def read(self, field):
        return field.choice(self.options)

    def schema(self):
        return {"enum": list(self.options)}


@dataclass(frozen=True)
class Vector(FieldType):
    """A list of numbers (a lone number counts as a list of one)."""

    def read(self, field):
        return field.vector()

    def schema(self):
        return {"anyOf": [{"type": "number"}, {"type": "array", "items": {"type": "number"}}]}


@dataclass(frozen=True)
class Structured(FieldType):
    """A value whose shape depends on other fields: the kind reads it; `json` is its schema."""

    json: dict = dataclass_field(default_factory=dict)

    def read(self, field):
        return field.value

    def schema(self):
        return dict(self.json)


def check_constants(expression):
    """Refuse an expression of a problem file with a constant beyond MAX_MAGNITUDE in size (or with no float value).

    `10^999*x` parses to a SymPy integer that no float holds, and `1e300*x`
    overflows when it is evaluated; both are refused here, where the
    expression is read, with an ExpressionError its Field locates. Each
    largest part without variables is taken as one constant (`exp(50)`).
    """
    import sympy

    from .errors import ExpressionError
    from .steps import evaluate_formula

    traversal = sympy.preorder_traversal(expression)
    for node in traversal:
        if node.free_symbols or not isinstance(node, sympy.Expr):
            continue
        traversal.skip()
        try:
            value = evaluate_formula(node, {})
        except Exception:  # no float value (a power too large), or a function derive evaluates otherwise
            value = _float_of(node)
        if value is not None and math.isfinite(value) and abs(value) <= MAX_MAGNITUDE:
            continue
        raise ExpressionError(f"constant {_shown_constant(node, value)} too large (at most {MAGNITUDE_TEXT} in size)")
    return expression


def _shown_constant(node, value):
    """A constant as a message shows it: `1e+30`, `10^999`, or its digits counted."""
    if value is not None and math.isfinite(value):
        return f"{value:g}"
    if node.is_Rational:
        from decimal import Decimal

        power = len(str(abs(node.p) // node.q)) - 1
        return f"10^{power}" if node == 10 ** power else f"{Decimal(node.p) / Decimal(node.q):.3g}"
    from .render.formula import text_formula

    shown = text_formula(node)
    return shown if len(shown) <= 40 else shown[:37] + "..."


def _float_of(node):
    try:
        return float(node)
    except (TypeError, ValueError, OverflowError):
        return None


# -- declarations ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Declared:
    """One problem-file field.

    name: as written in the file; type: a FieldType; description: one line
    for the docs and the schema; default: the value when the field is left
    out (REQUIRED: it may not be); shown_default: how the docs show the
    default when the value itself says too little ("both", "zeros");
    check: `check(value, field, values)`, the checks that need fields read
    before this one (`values`), raising `field.error(...)`.
    """

    name: str
    type: FieldType
    description: str
    default: object = REQUIRED
    shown_default: str = None
    check: object = None

    @property
    def required(self):
        return self.default is REQUIRED

    def default_text(self):
        if self.shown_default is not None:
            return self.shown_default
        if self.required:
            return "required"
        value = self.default
        if isinstance(value, bool):
            return f"`{str(value).lower()}`"
        if isinstance(value, (list, tuple)):
            return "none" if not value else "`[" + ", ".join(map(str, value)) + "]`"
        return f"`{value}`"


class Declarations:
    """The declared fields of a kind (or of a nested mapping), in the order the docs list them."""

    def __init__(self, *declared):
        self.declared = tuple(declared)
        self.by_name = {d.name: d for d in declared}
        if len(self.by_name) != len(self.declared):
            raise ValueError("a field is declared twice")

    @property
    def names(self):
        return set(self.by_name)

    def field(self, root, name):
        """The Field of `name` in the mapping `root`: its value, or its default if left out."""
        declared = self.by_name[name]
        if declared.required:
            return root.get(name)
        return root.get(name, declared.default)

    def read(self, root, name, values=None):
        """`name`'s value in `root`, read and checked as declared; `values` are the fields read before it."""
        return self.read_field(self.field(root, name), name, values)

    def read_field(self, field, name, values=None):
        """A Field's value read and checked as `name` declares (for fields the kind reaches itself)."""
        declared = self.by_name[name]
        value = declared.type.read(field)
        if declared.check is not None:
            declared.check(value, field, values or {})
        return value

    def properties(self):
        """JSON Schema `properties` and `required` of these fields."""
        properties = {}
        for declared in self.declared:
            schema = declared.type.schema()
            schema["description"] = declared.description
            if not declared.required and declared.shown_default is None:
                schema["default"] = list(declared.default) if isinstance(declared.default, tuple) else declared.default
            properties[declared.name] = schema
        return properties, [d.name for d in self.declared if d.required]

    def object_schema(self):
        """These fields as a closed JSON Schema object (no other field allowed)."""
        properties, required = self.properties()
        schema = {"type": "object", "properties": properties, "additionalProperties": False}
        if required:
            schema["required"] = required
        return schema

    def table(self):
        """The docs' Markdown table of these fields: field, meaning, default."""
        rows = ["| field | meaning | default |", "| --- | --- | --- |"]
        rows += [f"| `{d.name}` | {cell(d.description)} | {cell(d.default_text())} |" for d in self.declared]
        return "\n".join(rows) + "\n"


def cell(text):
    """Text for a Markdown table cell: a `|` in it would end the cell."""
    return text.replace("|", "\\|")


# -- the JSON Schema of problem files -----------------------------------------------------------------

def kind_schema(kind):
    """The JSON Schema of a problem file of `kind`: the common fields and the kind's own, no others."""
    from .kinds import KINDS
    from .problem import COMMON

    common, common_required = COMMON.properties()
    own, own_required = KINDS[kind].DECLARED.properties()
    properties = {**common, **own, "kind": {"const": kind, "description": common["kind"]["description"]}}
    return {"type": "object", "properties": properties, "required": sorted(set(common_required + own_required)),
            "additionalProperties": False}


def assignment_schema():
    """The JSON Schema of an assignment file (derive.assignment): its fields, and each part's."""
    from .assignment import DECLARED, KIND

    schema = DECLARED.object_schema()
    schema["properties"]["kind"] = {"const": KIND, "description": schema["properties"]["kind"]["description"]}
    return schema


def schema(kind=None):
    """The JSON Schema of one kind's problem files (or of assignment files), or of any file (chosen by its
    `kind`)."""
    from .assignment import KIND as ASSIGNMENT
    from .kinds import KINDS

    if kind == ASSIGNMENT:
        return _sized({"$schema": SCHEMA_DIALECT, "title": "derive assignment file", **assignment_schema()})
    if kind is not None:
        return _sized({"$schema": SCHEMA_DIALECT, "title": f"derive problem file, kind: {kind}",
                       **kind_schema(kind)})
    kinds = list(KINDS)
    return _sized({
        "$schema": SCHEMA_DIALECT,
        "title": "derive problem file",
        "type": "object",
        "required": ["kind"],
        "properties": {"kind": {"enum": kinds + [ASSIGNMENT]}},
        "allOf": [{"if": {"properties": {"kind": {"const": k}}, "required": ["kind"]}, "then": kind_schema(k)}
                  for k in kinds] + [{"if": {"properties": {"kind": {"const": ASSIGNMENT}}, "required": ["kind"]},
                                      "then": assignment_schema()}],
    })


def _sized(schema):
    """`schema` with every number bounded by MAX_MAGNITUDE, as `Field.number` bounds it when reading."""
    if isinstance(schema, list):
        return [_sized(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {key: _sized(value) for key, value in schema.items()}
    if out.get("type") == "number":
        if "minimum" not in out and "exclusiveMinimum" not in out or out.get("minimum", 0) < -MAX_MAGNITUDE:
            out["minimum"] = -MAX_MAGNITUDE
        if "maximum" not in out and "exclusiveMaximum" not in out or out.get("maximum", 0) > MAX_MAGNITUDE:
            out["maximum"] = MAX_MAGNITUDE
    return out


def schema_text(kind=None):
    """The schema as `derive schema` prints it: stable JSON, keys in declaration order."""
    return json.dumps(schema(kind), indent=2, ensure_ascii=False) + "\n"
