"""Printed grading reports, compared byte for byte with reviewed golden files."""

from pathlib import Path

import pytest

from derive.cli import cli

TESTS = Path(__file__).parent

CASES = [
    ("grade-class.txt", ["sheets/class"], 1),
    ("grade-chloe.txt", ["sheets/class/chloe.yaml"], 0),
    ("grade-ben.txt", ["sheets/class/ben.yaml"], 0),
    ("grade-lecture-forward.txt", ["sheets/lecture-forward-slide.yaml"], 0),
]


@pytest.mark.parametrize("name, sheets, status", CASES)
def test_grading_report_matches_golden(runner, golden, monkeypatch, name, sheets, status):
    monkeypatch.chdir(TESTS)  # sheet paths in the report stay relative
    problem = "lecture-forward" if "forward" in name else "lecture-bp-3layer"
    result = runner.invoke(cli, ["grade", problem, *sheets])
    assert result.exit_code == status, result.output
    golden(name, result.output)
