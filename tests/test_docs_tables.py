"""The docs' tables of names are derive's own lists: verdict codes, slip codes, bundled problems.

A table's first column names things derive has; a name added to derive and
not to the page, or left on the page after derive dropped it, fails here.
"""

import re
from pathlib import Path

from derive.grading.grader import CODES as VERDICTS
from derive.grading.slips import CODES as SLIPS

ROOT = Path(__file__).resolve().parent.parent
BUNDLED = sorted(p.stem for p in (ROOT / "derive" / "problems").glob("*.yaml"))


def first_column(page, header):
    """The `code` names of the first column of the table whose header row starts with `| header |`."""
    text = (ROOT / "docs" / page).read_text(encoding="utf-8")
    table = re.search(rf"^\| {re.escape(header)} \|.*\n\| --- .*\n((?:\|.*\n)+)", text, re.M)
    assert table, f"{page}: no table headed {header!r}"
    return [name for row in table[1].splitlines() for name in re.findall(r"`(\w[\w-]*)`", row.split("|")[1])]


def test_the_verdict_table_is_the_graders_codes_in_order():
    assert first_column("grading.md", "code | meaning | credit") == list(VERDICTS)


def test_the_slip_table_is_the_catalogue_in_order():
    assert first_column("grading.md", "code | the slip | example") == list(SLIPS)


def test_the_bundled_table_names_every_bundled_problem_once():
    names = first_column("bundled.md", "name | what")
    assert sorted(names) == BUNDLED
