"""Shared fixtures: a click runner, and golden files regenerated only on request.

Run `python -m pytest --update-golden` to rewrite tests/golden/ after a
deliberate change to printed output; read the diff before committing it.
"""

from pathlib import Path

import pytest
from click.testing import CliRunner

GOLDEN = Path(__file__).parent / "golden"
PROBLEMS = Path(__file__).parent.parent / "problems"


def pytest_addoption(parser):
    parser.addoption("--update-golden", action="store_true", help="rewrite tests/golden/ from current output")


@pytest.fixture
def runner():
    return CliRunner()


@pytest.fixture
def golden(request):
    """Compare text with tests/golden/<name>, byte for byte (or rewrite it with --update-golden)."""
    update = request.config.getoption("--update-golden")

    def check(name, text):
        path = GOLDEN / name
        if update:
            path.write_text(text, encoding="utf-8")
        assert path.exists(), f"missing golden file {path}; run pytest --update-golden and read it"
        assert text == path.read_text(encoding="utf-8"), f"output differs from {path}"

    return check


def edited(problem, line, text):
    """`problem` (YAML text) with its line `line` (1-based) replaced by `text` (several lines, or none)."""
    lines = problem.splitlines(keepends=True)
    lines[line - 1] = text + "\n" if text else ""
    return "".join(lines)


def extended(problem, text):
    """`problem` (YAML text) with the line(s) `text` added at the end."""
    return problem + text + "\n"
