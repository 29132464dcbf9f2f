"""Every command the docs show runs as written, and prints what the docs show.

The pages are README.md and docs/*.md. A command is a line of a code block
that starts (after an optional `$ ` prompt) with `derive ` or `python -m
derive`; a `\\` at its end continues it on the next line. In a ```console
block the lines under a `$ ` line are what that command prints (stdout and
stderr, as a terminal shows them), compared byte for byte; a line `...`
stands for any lines left out. `$ echo $?` shows the status of the command
before it; every other command must exit 0, and one whose output is not
shown must write nothing to stderr. `$ cat FILE` shows a file a command wrote.

Each page runs in its own empty directory, in page order, after the files the
docs create are written there: a fenced block right after an
`<!-- file: NAME -->` line is the file NAME (the prose before it names it, so
a reader can save it). As sqlite-utils keeps its docs true, a change that
alters what derive prints fails here until the docs follow.
"""

import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
FENCE = re.compile(r"^(`{3,}|~{3,})\s*([\w-]*)")
FILE_MARK = re.compile(r"^<!-- file: (\S+) -->$")
COMMAND = re.compile(r"^(derive |python -m derive( |$))")
SHELL = re.compile(r"^(echo \$\?|cat \S+)$")  # shell lines a transcript may show beside derive's


@dataclass
class Block:
    """A code block of a page: its first line (1-based), its info-string language and its lines."""

    page: str
    line: int
    language: str
    lines: list
    file: str = None  # the file this block is, from an <!-- file: NAME --> line before it
    prose: str = ""  # the text between the previous block and this one


@dataclass
class Command:
    """A command shown in a block, and what the block shows it printing (None: not shown)."""

    page: str
    line: int
    text: str
    shown: list = None
    may_fail: bool = False  # an `echo $?` after it shows its status
    results: dict = field(default_factory=dict)


def code_blocks(text, page="page"):
    """Every fenced block, and every block indented by four spaces after a blank line, in page order."""
    blocks, lines, i, prose = [], text.splitlines(), 0, []
    while i < len(lines):
        fence = FENCE.match(lines[i])
        if fence:
            end = next((j for j in range(i + 1, len(lines)) if lines[j].startswith(fence[1])), len(lines))
            mark = next((FILE_MARK.match(p) for p in reversed(prose) if p.strip()), None)
            blocks.append(Block(page, i + 1, fence[2], lines[i + 1:end], mark and mark[1], "\n".join(prose)))
            i, prose = end + 1, []
        elif lines[i].startswith("    ") and (i == 0 or not lines[i - 1].strip()):
            end = i
            while end < len(lines) and (lines[end].startswith("    ") or not lines[end].strip()):
                end += 1
            body = [line[4:] for line in lines[i:end]]
            while body and not body[-1].strip():
                body.pop()
            blocks.append(Block(page, i + 1, "", body, None, "\n".join(prose)))
            i, prose = end, []
        else:
            prose.append(lines[i])
            i += 1
    return blocks


def commands(block):
    """The Commands of a block: its command lines with `\\` continuations joined, and their shown output."""
    found, i, lines = [], 0, block.lines
    console = block.language == "console"
    while i < len(lines):
        start, line = i, lines[i]
        if console and not line.startswith("$ "):
            raise AssertionError(f"{block.page}:{block.line + 1 + i}: a console line outside any command's "
                                 f"output: {line!r}")
        text = line[2:] if line.startswith("$ ") else line.strip()
        while text.endswith("\\") and i + 1 < len(lines):
            i += 1
            text += "\n" + lines[i]
        i += 1
        shown = None
        if console:
            shown = []
            while i < len(lines) and not lines[i].startswith("$ "):
                shown.append(lines[i])
                i += 1
            if not (COMMAND.match(text) or SHELL.match(text)):
                raise AssertionError(f"{block.page}:{block.line + 1 + start}: a command the docs show that "
                                     f"this test does not run: {text!r}")
        elif not COMMAND.match(text):
            continue
        found.append(Command(block.page, block.line + 1 + start, text, shown if shown else None))
    for before, after in zip(found, found[1:]):
        before.may_fail = after.text == "echo $?"
    return found


def page_blocks(path):
    return code_blocks(path.read_text(encoding="utf-8"), path.relative_to(ROOT).as_posix())


def created_files():
    """{name: text} of every file a page creates; one name, one text across all pages."""
    files = {}
    for path in PAGES:
        for block in page_blocks(path):
            if block.file:
                text = "\n".join(block.lines) + "\n"
                assert files.setdefault(block.file, text) == text, f"{block.page}:{block.line}: {block.file} " \
                                                                   "is created twice, differently"
    return files


PAGE_COMMANDS = {path.relative_to(ROOT).as_posix(): [c for b in page_blocks(path) for c in commands(b)]
                 for path in PAGES}
ALL = [command for page in PAGE_COMMANDS.values() for command in page]


def environment():
    """The environment commands run in: this Python's `derive` and `python` first on PATH."""
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env.pop("COLUMNS", None)
    return env


@lru_cache(maxsize=None)
def run_page(page, directory):
    """Run every command of a page in order, in `directory`; each Command gets its `results`."""
    directory = Path(directory)
    for name, text in created_files().items():
        (directory / name).parent.mkdir(parents=True, exist_ok=True)
        (directory / name).write_text(text, encoding="utf-8")
    status, env = 0, environment()
    for command in PAGE_COMMANDS[page]:
        if command.text == "echo $?":
            command.results = {"output": f"{status}\n", "status": 0, "stderr": ""}
            continue
        merged = command.shown is not None
        process = subprocess.run(["bash", "-c", command.text], cwd=directory, env=env, text=True,
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT if merged else subprocess.PIPE,
                                 timeout=300)
        status = process.returncode
        command.results = {"output": process.stdout, "status": status, "stderr": process.stderr or ""}
    return True


def matches(shown, output):
    """Whether output is the shown lines, a `...` line standing for any lines."""
    pattern = "".join(r"(?:.*\n)*?" if line == "..." else re.escape(line + "\n") for line in shown)
    return re.fullmatch(pattern, output) is not None


@pytest.fixture(scope="session")
def docs_directories(tmp_path_factory):
    return {page: tmp_path_factory.mktemp(Path(page).stem) for page in PAGE_COMMANDS}


@pytest.mark.parametrize("command", ALL, ids=[f"{c.page}:{c.line}" for c in ALL])
def test_a_command_in_the_docs_runs_and_prints_what_they_show(command, docs_directories):
    run_page(command.page, str(docs_directories[command.page]))
    results = command.results
    where = f"{command.page}:{command.line}: {command.text}"
    if not command.may_fail:
        assert results["status"] == 0, f"{where}\nexit status {results['status']}\n{results['output']}" \
                                       f"{results['stderr']}"
    if command.shown is None:
        assert results["stderr"] == "", where
    else:
        same = matches(command.shown, results["output"])
        assert same, f"{where}\n--- the docs show:\n" + "\n".join(command.shown) + f"\n--- it prints:\n{results['output']}"


def test_the_docs_show_commands_and_output():
    assert len(ALL) >= 30
    assert sum(command.shown is not None for command in ALL) >= 10
    assert {"docs/tutorial.md", "docs/grading.md", "docs/variants.md", "README.md"} <= {c.page for c in ALL}


def test_every_file_a_command_reads_is_created_and_named_in_the_prose():
    files = created_files()
    assert {"alice.yaml", "roster.csv"} <= set(files)
    assert any(name.startswith("submissions/") for name in files)
    for path in PAGES:
        for block in page_blocks(path):
            if block.file:
                assert f"`{block.file}`" in block.prose, f"{block.page}:{block.line}: the prose before " \
                                                         f"the block does not name {block.file}"


def test_the_readmes_example_lines_are_lines_of_the_solution_they_come_from():
    """The README's opening example is three lines of `derive solve lecture-bp-3layer`, as printed."""
    blocks = page_blocks(ROOT / "README.md")
    example = next(b for b in blocks if b.prose.rstrip().endswith("in the lecture's own notation:"))
    result = subprocess.run([sys.executable, "-m", "derive", "solve", "lecture-bp-3layer"], capture_output=True,
                            text=True, timeout=300)
    printed = [line.strip() for line in result.stdout.splitlines()]
    assert len(example.lines) == 3
    for line in example.lines:
        assert line.strip() in printed, line


def test_the_sites_front_page_shows_the_readmes_tour():
    def tour(path):
        return next(b.lines for b in page_blocks(path) if b.prose.rstrip().endswith("## A short tour"))
    assert tour(ROOT / "docs" / "index.md") == tour(ROOT / "README.md")


# The parser and the matcher, on small texts: what the tests above rely on.

def test_blocks_commands_and_their_output_are_read():
    text = ("intro\n\n    derive list    # a comment\n    pip install x\n\nSave it as `a.yaml`:\n\n"
            "<!-- file: a.yaml -->\n\n```yaml\nkind: x\n```\n\n```console\n$ derive check a.yaml \\\n"
            "    --quiet\nsome output\n\n$ echo $?\n2\n$ derive list\n```\n")
    blocks = code_blocks(text)
    assert [(b.line, b.language, b.file) for b in blocks] == [(3, "", None), (10, "yaml", "a.yaml"),
                                                               (14, "console", None)]
    assert [c.text for c in commands(blocks[0])] == ["derive list    # a comment"]
    found = commands(blocks[2])
    assert [(c.line, c.text, c.shown, c.may_fail) for c in found] == [
        (15, "derive check a.yaml \\\n    --quiet", ["some output", ""], True),
        (19, "echo $?", ["2"], False),
        (21, "derive list", None, False)]


def test_a_console_line_that_is_not_run_is_an_error():
    with pytest.raises(AssertionError, match="does not run: 'pip install derive'"):
        commands(code_blocks("```console\n$ pip install derive\n```\n")[0])


@pytest.mark.parametrize("shown, output, expected", [
    (["a", "b"], "a\nb\n", True),
    (["a", "b"], "a\nb", False),
    (["a", "b"], "a\nb\nc\n", False),
    (["a", "...", "d"], "a\nb\nc\nd\n", True),
    (["a", "...", "d"], "a\nd\n", True),
    (["a", "...", "d"], "a\nb\nc\n", False),
    (["a."], "ab\n", False),
])
def test_shown_output_matches_byte_for_byte_but_for_the_lines_left_out(shown, output, expected):
    assert matches(shown, output) is expected
