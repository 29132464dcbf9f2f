"""The docs' field tables are the declarations, printed: they cannot drift from what derive reads.

A table in the docs sits between `<!-- fields: KIND -->` (or `<!-- fields:
KIND NAME -->` for the nested Declarations NAME of the kind's module, such as
mlp_backprop's LAYER; `common` for the fields every kind shares, `grading` and
`tolerance` for the entries of the `grading` field, `assignment` and `assignment_part` for an assignment file) and `<!-- end fields -->`; it must be exactly what
`Declarations.table()` prints. `python -m pytest --update-golden` rewrites
them after a deliberate change to a declaration.
"""

import re
from pathlib import Path

import pytest

from derive import assignment
from derive.kinds import KINDS
from derive.grading.config import GRADING
from derive.grading.tolerance import TOLERANCE
from derive.problem import COMMON

ROOT = Path(__file__).resolve().parent.parent
DOCS = sorted([ROOT / "README.md", *(ROOT / "docs").rglob("*.md")])
# tables not of one kind: what every problem file shares, the grading block, an assignment file and its parts
OWN = {"common": COMMON, "grading": GRADING, "tolerance": TOLERANCE, "assignment": assignment.DECLARED,
       "assignment_part": assignment.PART}
MARKED = re.compile(r"(<!-- fields: (\w+)(?: (\w+))? -->\n)(.*?)(<!-- end fields -->)", re.S)


def tables():
    return [(path, m.group(2), m.group(3)) for path in DOCS for m in MARKED.finditer(path.read_text("utf-8"))]


def declarations(kind, name):
    if kind in OWN:
        return OWN[kind]
    return getattr(KINDS[kind], name or "DECLARED")


@pytest.mark.parametrize("path, kind, name", tables(), ids=[f"{p.name}:{k}:{n or ''}" for p, k, n in tables()])
def test_a_field_table_is_its_declarations(request, path, kind, name):
    text = path.read_text("utf-8")
    update = request.config.getoption("--update-golden")
    for match in MARKED.finditer(text):
        if (match.group(2), match.group(3)) != (kind, name):
            continue
        expected = declarations(kind, name).table()
        if update and match.group(4) != expected:
            text = text.replace(match.group(0), match.group(1) + expected + match.group(5))
            path.write_text(text, "utf-8")
            return
        assert match.group(4) == expected


def test_every_declared_kind_has_its_table_in_the_docs():
    documented = {kind for _, kind, name in tables() if name is None}
    assert set(OWN) <= documented
    declared = {kind for kind in KINDS if hasattr(KINDS[kind], "DECLARED")}
    assert declared <= documented
