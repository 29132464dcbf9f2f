"""The README's command lines run as written: its first two lines and its tour.

The tour is read from README.md itself, so a command added there is run here
too; each runs in an empty directory (nothing of the checkout to lean on), as
a user who has only installed derive would type it.
"""

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
BUNDLED = sorted(p.stem for p in (Path(__file__).resolve().parent.parent / "derive" / "problems").glob("*.yaml"))
ASSIGNMENTS = sorted(p.stem for p in (Path(__file__).resolve().parent.parent / "derive" / "problems" / "assignments")
                     .glob("*.yaml"))


def section(title):
    """The text of one `## title` section of the README."""
    start = README.index(f"\n## {title}\n")
    end = README.find("\n## ", start + 1)
    return README[start:end if end >= 0 else None]


def indented_commands(text):
    """The indented lines of a text that are commands, without their trailing comments."""
    lines = [line[4:] for line in text.splitlines() if line.startswith("    ") and line.strip()]
    return [line.split("  #")[0].strip() for line in lines]


TOUR = [line for line in indented_commands(section("A short tour")) if line.startswith(("derive ", "python -m"))]


def test_the_readme_starts_with_its_two_commands():
    first, second = indented_commands(README[:README.index("\n\n", README.index("    pip"))])
    assert re.fullmatch(r"pip install \. && derive solve [a-z0-9-]+", first)
    assert second == "pip install -e '.[test]' && python -m pytest"
    assert first.split()[-1] in BUNDLED  # a bundled problem: the line works from a wheel too


def test_the_tour_has_commands():
    assert len(TOUR) >= 5


@pytest.mark.parametrize("command", TOUR)
def test_a_tour_command_runs_as_written(command, tmp_path):
    words = shlex.split(command)
    words = words[3:] if words[:3] == ["python", "-m", "derive"] else words[1:]
    result = subprocess.run([sys.executable, "-m", "derive", *words], cwd=tmp_path, capture_output=True,
                            text=True, timeout=120)
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.strip()
    for word in words:  # a file the command writes (`--plot paths.png`) is there, and not empty
        if word.endswith((".png", ".svg")):
            assert (tmp_path / word).stat().st_size > 0


def test_derive_list_names_every_bundled_problem(tmp_path):
    result = subprocess.run([sys.executable, "-m", "derive", "list"], cwd=tmp_path, capture_output=True, text=True)
    assert [line.split()[0] for line in result.stdout.splitlines()] == BUNDLED + ASSIGNMENTS


@pytest.mark.parametrize("command", [["list"], ["solve", "lecture-bp-3layer"]])
def test_a_closed_pipe_ends_derive_quietly(command, tmp_path):
    """`derive list | head -1`: the reader has gone before derive writes; derive says nothing about it."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    process = subprocess.run([sys.executable, "-m", "derive", *command], cwd=tmp_path, stdout=write_end,
                             stderr=subprocess.PIPE, timeout=120)
    os.close(write_end)
    assert process.stderr == b""
    assert process.returncode == 1  # as click reports a closed pipe; not 3, an internal error
