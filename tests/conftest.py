"""Shared fixtures: a click runner, and golden files regenerated only on request.

Run `python -m pytest --update-golden` to rewrite tests/golden/ after a
deliberate change to printed output; read the diff before committing it.
"""

import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

GOLDEN = Path(__file__).parent / "golden"
PROBLEMS = Path(__file__).parent.parent / "derive" / "problems"


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


SMALL_NETWORK = """\
kind: mlp_backprop
sizes: [2, 1]
layers:
  - activation: sigmoid
    weights: [[0.5], [-0.5]]
samples:
  - x: [1, 0]
    y: [1]
learning_rate: 0.5
"""
#  1 kind  2 sizes  3 layers  4 activation  5 weights  6 samples  7 x  8 y  9 learning_rate


def solve_error(runner, tmp_path, text):
    """`derive solve` on `text` (written to tmp_path/p.yaml): assert it fails with status 2 and nothing
    on stdout, and return what it wrote on stderr."""
    from derive.cli import cli

    path = tmp_path / "p.yaml"
    path.write_text(text, encoding="utf-8")
    result = runner.invoke(cli, ["solve", str(path)])
    assert (result.exit_code, result.stdout) == (2, ""), result.output
    return result.stderr


def load_error(tmp_path, text):
    """The one-line message of the ProblemError that reading `text` (as tmp_path/p.yaml) raises."""
    from derive.errors import ProblemError
    from derive.problem import load_problem

    path = tmp_path / "p.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ProblemError) as caught:
        load_problem(path)
    return str(caught.value)


PDFLATEX = shutil.which("pdflatex")
needs_pdflatex = pytest.mark.skipif(
    PDFLATEX is None, reason="pdflatex is not installed (apt-get install texlive-latex-base "
                             "texlive-latex-recommended texlive-fonts-recommended)")


def pdflatex(directory, name):
    """Compile directory/name.tex with pdflatex as a user would; (return code, log text)."""
    process = subprocess.run([PDFLATEX, "-halt-on-error", "-interaction=nonstopmode", f"{name}.tex"],
                             cwd=directory, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, timeout=120)
    log = (directory / f"{name}.log").read_text(encoding="latin-1")
    return process.returncode, log


def latex_errors(log):
    """The error lines of a pdflatex log."""
    return [line for line in log.splitlines() if line.startswith("! ")]


def not_a_file(path, kind):
    """Make `path` an entry that is no regular file: "dev-zero" (a link to the device), "fifo", "dangling"
    (a link to nothing), "loop" (two links to each other, the second beside it as <stem>-back) or "directory";
    return it. Sheets and class directories must give each its own line."""
    import os

    if kind == "dev-zero":
        path.symlink_to("/dev/zero")
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "dangling":
        path.symlink_to(path.with_name("nowhere.yaml"))
    elif kind == "loop":
        back = path.with_name(f"{path.stem}-back{path.suffix}")
        path.symlink_to(back)
        back.symlink_to(path)
    elif kind == "directory":
        path.mkdir()
    else:
        raise ValueError(f"no such kind of entry: {kind}")
    return path


def right_numbers(problem):
    """Every computed number of a problem's own solution (a bundled problem's name, or a path), as a sheet
    holds them; expressions are answered as students write them in each kind's own tests."""
    from derive.problem import load_problem

    path = problem if isinstance(problem, Path) else PROBLEMS / f"{problem}.yaml"
    return {step.key: step.value for step in load_problem(path).solve() if not step.is_given and not step.is_symbolic}
