"""Hostile and odd answer sheets: what cannot be read says why in one line, fast and in bounded memory, and
one bad entry of a class costs only its own line; what a sheet brings is printed so that it cannot act on a
terminal or a spreadsheet; a template never shows an answer."""

import csv
import io
import json
import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import derive
from derive.cli import cli
from derive.errors import AnswerSheetError
from derive.grading.grader import Grader
from derive.grading.report import write_atomically
from derive.grading.sheet import MAX_ANSWER_LENGTH, _SheetLoader, _flat, blank_sheet, read_sheet, sheet_paths
from derive.problem import bundled_problems, load_problem
from derive.steps import format_number
from conftest import PROBLEMS, not_a_file

LECTURE = "lecture-bp-3layer"
KNOWN = set(Grader(load_problem(PROBLEMS / f"{LECTURE}.yaml")).exact_values)
needs_fifo = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
needs_dev_zero = pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="no /dev/zero here")


def alias_bomb():
    """The "billion laughs": under 500 bytes, nine levels of nine aliases, 9**9 values once expanded."""
    levels = ["&a0 [" + ", ".join(["x"] * 9) + "]"]
    levels += [f"&a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 9)]
    return "id: [" + ", ".join(levels) + "]\n"


def alias_chain(levels):
    """`a1: &a1 [1]`, `a2: &a2 [*a1]`, ...: a value nested one level deeper per line, all through aliases."""
    lines = ["a1: &a1 [1]"] + [f"a{i}: &a{i} [*a{i - 1}]" for i in range(2, levels + 1)]
    return "\n".join(lines) + "\n"


def sheet_error(tmp_path, text, name="s.yaml"):
    """The one line of the AnswerSheetError that reading `text` (as tmp_path/name) raises."""
    path = tmp_path / name
    path.write_bytes(text) if isinstance(text, bytes) else path.write_text(text, encoding="utf-8")
    with pytest.raises(AnswerSheetError) as caught:
        read_sheet(path, KNOWN)
    return str(caught.value)


def _bounded_memory():
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))


def in_child(code, *args, timeout=120):
    """What `code` prints, run by a child Python bounded in time (and, on Linux, to 2 GiB), so that a sheet
    that blocks or blows up fails the test instead of hanging it or exhausting the machine."""
    bounded = _bounded_memory if sys.platform.startswith("linux") else None
    done = subprocess.run([sys.executable, "-c", code, *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, preexec_fn=bounded)
    assert done.returncode in (0, 1), done.stderr
    return done.stdout


READ = """\
import sys, time, tracemalloc
from derive.errors import AnswerSheetError
from derive.grading.sheet import read_sheet
tracemalloc.start()
started = time.perf_counter()
try:
    read_sheet(sys.argv[1], set())
    print("read")
except AnswerSheetError as error:
    print(error)
print(time.perf_counter() - started, tracemalloc.get_traced_memory()[1])
"""


def read_elsewhere(path, measure=None):
    """read_sheet(path) in a bounded child process: the error's line, or "read"; with `measure` (a list),
    also the seconds it took and the peak of its Python allocations, appended to it."""
    line, cost = in_child(READ, path).splitlines()
    if measure is not None:
        measure += [float(part) for part in cost.split()]
    return line


# -- aliases -----------------------------------------------------------------------------------------------------

ALIASES = [
    ("a: &a [*a]\n", "s.yaml:1: recursive alias: a value contains itself"),
    ("id: s1\nz[1][1]: &a {b: [1, *a]}\n", "s.yaml:2: recursive alias: a value contains itself"),
    (alias_bomb(), "s.yaml:1: too many values through aliases (more than 40000)"),
    (alias_chain(40), "s.yaml:32: nested too deeply (more than 32 levels)"),
]


@pytest.mark.parametrize("text, message", ALIASES, ids=["list", "mapping", "billion-laughs", "chain"])
def test_aliases_that_contain_themselves_or_blow_up_are_refused_naming_file_and_line(tmp_path, text, message):
    path = tmp_path / "s.yaml"
    path.write_text(text, encoding="utf-8")
    assert read_elsewhere(path) == f"{tmp_path}/{message}"


def test_the_billion_laughs_is_refused_at_once_in_little_memory(tmp_path):
    assert len(alias_bomb().encode()) < 500
    path = tmp_path / "bomb.yaml"
    path.write_text(alias_bomb(), encoding="utf-8")
    seconds_and_bytes = []
    assert read_elsewhere(path, seconds_and_bytes).endswith("too many values through aliases (more than 40000)")
    seconds, peak = seconds_and_bytes
    assert seconds < 1 and peak < 10_000_000, (seconds, peak)


def test_aliases_within_the_budget_are_read_as_their_values(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text("z[1]: &z [2, 1.5]\nh[1]: *z\n", encoding="utf-8")
    answers = read_sheet(path, KNOWN).answers
    assert {k: a.number for k, a in answers.items()} == {"z[1][1]": 2, "z[1][2]": 1.5, "h[1][1]": 2, "h[1][2]": 1.5}


# -- what is not a regular file ------------------------------------------------------------------------------------

def make_special(tmp_path, kind):
    """A sheet path in tmp_path that is no regular file, of the given kind; return it."""
    return not_a_file(tmp_path / f"{kind}.yaml", kind)


SPECIAL = [
    pytest.param("dev-zero", "not a regular file (a character device)", marks=needs_dev_zero),
    pytest.param("fifo", "not a regular file (a named pipe)", marks=needs_fifo),
    ("dangling", "dangling symbolic link"),
    ("loop", "symbolic link loop"),
    ("directory", "a directory, not a file"),
]


@pytest.mark.parametrize("kind, reason", SPECIAL)
def test_only_a_regular_file_is_read_and_the_others_say_what_they_are(tmp_path, kind, reason):
    path = make_special(tmp_path, kind)
    assert read_elsewhere(path) == f"{path}: {reason}"


@pytest.mark.parametrize("text, message", [
    ("#" * 1_000_001, "s.yaml: file too large (1000001 bytes; at most 1000000)"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe", "s.yaml: not UTF-8 text (byte 0)"),
], ids=["too-large", "binary"])
def test_a_sheet_too_large_or_not_text_says_so(tmp_path, text, message):
    assert sheet_error(tmp_path, text) == f"{tmp_path}/{message}"


def test_every_yaml_entry_of_a_directory_is_a_sheet_in_name_order(tmp_path):
    for kind in ("dangling", "loop", "directory"):
        make_special(tmp_path, kind)
    (tmp_path / "b.yml").write_text("id: b\n", encoding="utf-8")
    (tmp_path / "a.yaml").write_text("id: a\n", encoding="utf-8")
    (tmp_path / "notes.txt").write_text("not a sheet\n", encoding="utf-8")
    names = [path.name for path in sheet_paths([tmp_path])]
    assert names == ["a.yaml", "b.yml", "dangling.yaml", "directory.yaml", "loop-back.yaml", "loop.yaml"]


# -- blank identity fields --------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, student", [
    ("id:\nyhat[1]: 0.809\n", "blank"),
    ("id: ''\nstudent:\nname: ' '\n", "blank"),
    ("id:\nname: Ada\n", "Ada"),
    ("name: Ada\nid: s1\n", "s1"),
])
def test_a_blank_id_leaves_the_file_name_as_the_student(tmp_path, text, student):
    path = tmp_path / "blank.yaml"
    path.write_text(text, encoding="utf-8")
    assert read_sheet(path, KNOWN).student == student


# -- a single value answers the one item under its key -------------------------------------------------------------

def test_a_single_value_answers_the_only_item_under_its_key(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text("yhat: 0.809\ndelta[3]: -0.0264\ndelta[2]: 0.1\n", encoding="utf-8")
    sheet = read_sheet(path, KNOWN)
    assert {k: a.number for k, a in sheet.answers.items()} == {"yhat[1]": 0.809, "delta[3][1]": -0.0264}
    assert len(sheet.warnings) == 1 and sheet.warnings[0].startswith("line 3: unknown key 'delta[2]' ignored")
    result = derive.grade(LECTURE, path)
    assert result["yhat[1]"].code == "OK" and result["delta[3][1]"].code == "OK"


def test_a_single_value_gives_way_to_the_item_written_out(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text("yhat: 0.5\nyhat[1]: 0.809\n", encoding="utf-8")
    sheet = read_sheet(path, KNOWN)
    assert sheet.answers["yhat[1]"].number == 0.809
    assert sheet.warnings == ["line 1: key 'yhat' ignored: 'yhat[1]' is answered too"]


# -- what YAML would read as something else -----------------------------------------------------------------------

# (as written on the sheet, the number read or None, the reason it is not a number)
WRITTEN = [
    ("2020-01-01", None, "'2020-01-01' is a date, not a number"),
    ("2020-01-01 10:00:00", None, "'2020-01-01 10:00:00' is a date, not a number"),
    ("12:30", None, "'12:30' is a time, not a number"),
    ("'0.8 09'", None, "'0.8 09': a space inside a number"),
    ("'1 000'", None, "'1 000': a space inside a number"),
    ("'٠.٨٠٩'", None, None),  # Arabic-Indic digits
    ("'０.８０９'", None, None),  # fullwidth digits
    ("010", 10.0, ""),  # not octal
    ("1e-3", 0.001, ""),
    ("-0.5", -0.5, ""),
    ("'1/2'", 0.5, ""),
    ("−0.02", -0.02, ""),  # Unicode minus
    ("'- 0.5'", -0.5, ""),
]


@pytest.mark.parametrize("written, number, problem", WRITTEN)
def test_only_plain_ascii_numbers_are_numbers(tmp_path, written, number, problem):
    path = tmp_path / "s.yaml"
    path.write_text(f"yhat[1]: {written}\n", encoding="utf-8")
    answer = read_sheet(path, KNOWN).answers["yhat[1]"]
    assert answer.number == number
    if problem is None:
        assert answer.problem  # derive's expression parser says which character it refuses
    else:
        assert answer.problem == problem


def test_a_date_is_unreadable_with_its_reason(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text("yhat[1]: 2020-01-01\nz[1][1]: 12:30\n", encoding="utf-8")
    result = derive.grade(LECTURE, path)
    assert (result["yhat[1]"].code, result["yhat[1]"].detail) == ("UNREADABLE", "'2020-01-01' is a date, not a number")
    assert (result["z[1][1]"].code, result["z[1][1]"].detail) == ("UNREADABLE", "'12:30' is a time, not a number")


@pytest.mark.parametrize("digits", [999, 1000, 1001, 4299, 4301, 5000, 100_000])
@pytest.mark.parametrize("more", ["", "yhat[1]: '(0.8)'\n# a quoted expression: the sheet is read by the YAML loader\n"])
def test_an_integer_of_thousands_of_digits_is_that_item_s_line_and_the_rest_is_graded(tmp_path, digits, more):
    """A number, like any answer, is at most MAX_ANSWER_LENGTH characters (Python converts at most 4300 digits
    to an int: past that the answer is read as text), whether the sheet is read line by line or by the YAML
    loader; one within the length too large for a float is not a finite number."""
    path = tmp_path / "s.yaml"
    path.write_text(f"z[1][1]: {'9' * digits}\nz[1][2]: 1.5\ng: [{'7' * digits}, 1]\n{more}", encoding="utf-8")
    result = derive.grade(LECTURE, path)
    detail = result["z[1][1]"].detail
    assert result["z[1][1]"].code == "UNREADABLE"
    if digits <= MAX_ANSWER_LENGTH:
        assert detail == "not a finite number"
    else:
        assert detail == f"answer too long ({digits} characters; at most {MAX_ANSWER_LENGTH})"
    assert result["z[1][2]"].code == "OK"


@pytest.mark.parametrize("line", ["z[1][1]: !!float abc", "z[1][1]: !!int abc", "z[1][1]: !!int 1.5x"])
def test_text_tagged_as_a_number_is_that_item_s_line_and_the_rest_is_graded(tmp_path, line):
    path = tmp_path / "s.yaml"
    path.write_text(f"{line}\nz[1][2]: 1.5\nyhat[1]: '(0.8)'\n", encoding="utf-8")
    result = derive.grade(LECTURE, path)
    assert result["z[1][1]"].code == "UNREADABLE"
    assert result["z[1][2]"].code == "OK"


def sheet_loader(text):
    loader = _SheetLoader(text)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


FLAT_LINES = ["a: 1", "b: -0.0264", "c: 2020-01-01", "d: 12:30", "e: 010", "f: '0.8 09'", "g: [1, 2.5]", "h: x",
              "i: yes", "j:", "k: 1e-3", "l: \"s(1-s)\"", "m: 1_000", "n: 0x1f", "o: 1:2:3", "p: .5"]


@pytest.mark.parametrize("line", FLAT_LINES)
def test_the_fast_path_reads_what_the_sheet_loader_reads(line):
    text = line + "\nid: s1\n"
    flat = _flat(text)
    expected = sheet_loader(text)
    assert flat is None or (flat[0] == expected and [type(v) for v in flat[0].values()]
                            == [type(v) for v in expected.values()])
    key = line.split(":")[0]
    if key in "cdfo":  # a date, a time, spaced digits stay text
        assert isinstance(expected[key], str)


# -- a template never shows an answer ------------------------------------------------------------------------------

def shows(text, comment):
    """Whether `comment` shows `text` as a value: a token of its own, not an ordinal after a word (`sample 1`)."""
    return re.search(r"(?<![\w.\-])(?<![A-Za-z] )" + re.escape(text) + r"(?![\w.])", comment) is not None


@pytest.mark.parametrize("name", [path.stem for path in bundled_problems()])
def test_a_template_never_shows_an_expected_value(name):
    """The comment after the item's symbol (which may be the question itself, `d/dx [x - 1]`) and before the
    variables an expression may use (a verdict's are its words) shows neither the grader's expected text
    nor the value."""
    problem = load_problem(PROBLEMS / f"{name}.yaml")
    grader = Grader(problem)
    comments = dict(line.split(":", 1) for line in blank_sheet(problem, grader.exact, grader.items).splitlines()
                    if not line.startswith("#"))
    for key in grader.items:
        step, value = grader.exact[key] if key in grader.exact else None, None
        if step is None:  # an entry of a matrix step (matrix notation): its matrix's symbol, its own value
            from derive.matrix import EntryIndex

            step_key, row, col = EntryIndex(grader.exact).find(key)
            step, value = grader.exact[step_key], float(grader.exact[step_key].value[row, col])
        elif not step.is_symbolic:
            value = step.value
        comment = comments[key].split("# ", 1)[1]
        assert comment.startswith(step.symbol.text), (key, comment)
        rest = re.sub(r" \(an expression in .*, in quotes\)$", "", comment[len(step.symbol.text):])
        values = {grader.show(key)} | (set() if value is None or hasattr(value, "shape") else {format_number(value)})
        assert not any(shows(value, rest) for value in values), (key, values, comment)


def test_a_critical_points_template_names_each_point_without_where_it_is():
    problem = load_problem(PROBLEMS / "numeric-double-well.yaml")
    grader = Grader(problem)
    lines = blank_sheet(problem, grader.exact, grader.items).splitlines()
    assert "p1.theta[1]:      # w1: Critical point 1" in lines
    problem = load_problem(PROBLEMS / "lecture-saddle.yaml")
    grader = Grader(problem)
    lines = blank_sheet(problem, grader.exact, grader.items).splitlines()
    assert ("c1.verdict:       # second-order test: Critical curve 1 "
            "(an expression in inconclusive, maximum, minimum, saddle, in quotes)") in lines


# -- what a sheet brings is printed safely ------------------------------------------------------------------------

HOSTILE_ID = "\x1b]0;pwned\x07\x1b[2J"
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # any control character but a tab and a line break


@pytest.fixture
def hostile_class(tmp_path, monkeypatch):
    """A class of two sheets in tmp_path (the working directory): one with a terminal-escape id and answers
    holding control characters, one with a spreadsheet formula as its id."""
    monkeypatch.chdir(tmp_path)
    Path("evil.yaml").write_text(yaml.safe_dump({"id": HOSTILE_ID, "yhat[1]": "0.8\x00\x9b1",
                                                 "z[1][1]": "2\x1b[31m", "delta[3][1]": "-0.0264"}),
                                 encoding="utf-8")
    Path("formula.yaml").write_text(yaml.safe_dump({"id": "=HYPERLINK(\"http://x\")", "z[1][1]": 2}),
                                    encoding="utf-8")
    return derive.grade_class(LECTURE, ["evil.yaml", "formula.yaml"])


def test_control_characters_are_escaped_in_the_text_report(hostile_class, golden):
    text = hostile_class.to_text()
    assert not CONTROL.search(text)
    assert "\\x1b]0;pwned\\x07\\x1b[2J" in text
    golden("hostile-class.txt", text)
    one = hostile_class.results[0].to_text()
    assert not CONTROL.search(one)
    assert "Student: \\x1b]0;pwned\\x07\\x1b[2J (evil.yaml)" in one
    assert "  yhat[1]          0.8\\x00\\u009b1" in one


def test_control_characters_are_escaped_in_the_markdown_report(hostile_class):
    for text in (hostile_class.to_markdown(), hostile_class.results[0].to_markdown()):
        assert not CONTROL.search(text)
        assert "\\\\x1b\\]0;pwned\\\\x07\\\\x1b\\[2J" in text  # the escape's backslash, escaped for Markdown
    assert "`0.8\\x00\\u009b1`" in hostile_class.results[0].to_markdown()


def test_a_csv_cell_a_spreadsheet_would_run_is_text(hostile_class):
    rows = list(csv.reader(io.StringIO(hostile_class.gradebook_csv(), newline="")))
    assert rows[2][0] == "'=HYPERLINK(\"http://x\")"
    assert rows[1][0] == HOSTILE_ID  # not a formula: as written
    for cell, written in [("-0.5", "-0.5"), ("+1", "+1"), ("@SUM(A1)", "'@SUM(A1)"), ("-cmd|x", "'-cmd|x"),
                          ("\tx", "'\tx"), ("\rx", "'\rx"), ("+", "'+"), ("1e-3", "1e-3"), ("abc", "abc")]:
        hostile_class.results[1].student = cell
        assert list(csv.reader(io.StringIO(hostile_class.gradebook_csv(), newline="")))[2][0] == written, cell


# -- report files ----------------------------------------------------------------------------------------------

@pytest.fixture
def umask():
    """Set the process's umask for a test, and put the old one back."""
    old = os.umask(0o022)
    yield os.umask
    os.umask(old)


@pytest.mark.parametrize("mask, mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_a_new_report_gets_the_mode_a_new_file_gets(tmp_path, umask, mask, mode):
    umask(mask)
    write_atomically(tmp_path / "grades.csv", "student\n")
    assert stat.S_IMODE((tmp_path / "grades.csv").stat().st_mode) == mode


def test_a_replaced_report_keeps_its_mode_and_is_written_whole(tmp_path, umask):
    target = tmp_path / "grades.csv"
    target.write_text("previous\n", encoding="utf-8")
    target.chmod(0o640)
    write_atomically(target, "student\n")
    assert stat.S_IMODE(target.stat().st_mode) == 0o640 and target.read_text(encoding="utf-8") == "student\n"
    assert [p.name for p in tmp_path.iterdir()] == ["grades.csv"]


# -- derive variants --out --------------------------------------------------------------------------------------

def test_variants_out_naming_a_file_is_one_line(runner, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("roster.csv").write_text("id\ns1\n", encoding="utf-8")
    Path("taken.txt").write_text("not a directory\n", encoding="utf-8")
    result = runner.invoke(cli, ["variants", LECTURE, "--roster", "roster.csv", "--out", "taken.txt"])
    assert (result.exit_code, result.output) == (2, "taken.txt: not a directory (a file of that name exists)\n")
    assert Path("taken.txt").read_text(encoding="utf-8") == "not a directory\n"


# -- a class with every kind of broken entry -------------------------------------------------------------------

GOOD = {"z[1][1]": 2, "delta[3][1]": -0.0264, "fprime[2]": "s*(1-s)"}
BROKEN = {  # file name -> the reason its line gives
    "alias-bomb.yaml": "alias-bomb.yaml:1: too many values through aliases (more than 40000)",
    "binary.yaml": "binary.yaml: not UTF-8 text (byte 0)",
    "dangling.yaml": "dangling.yaml: dangling symbolic link",
    "directory.yaml": "directory.yaml: a directory, not a file",
    "huge.yaml": "huge.yaml: file too large (1000001 bytes; at most 1000000)",
    "loop.yaml": "loop.yaml: symbolic link loop",
    "loop-back.yaml": "loop-back.yaml: symbolic link loop",
    "recursive.yaml": "recursive.yaml:1: recursive alias: a value contains itself",
}
if hasattr(os, "mkfifo"):
    BROKEN["fifo.yaml"] = "fifo.yaml: not a regular file (a named pipe)"
if os.path.exists("/dev/zero"):
    BROKEN["dev-zero.yaml"] = "dev-zero.yaml: not a regular file (a character device)"


@pytest.fixture
def hostile_dir(tmp_path):
    """submissions/: three good sheets, two with a blank id, and every kind of broken entry."""
    folder = tmp_path / "submissions"
    folder.mkdir()
    for name in ("alice", "bob", "carol"):
        (folder / f"{name}.yaml").write_text(yaml.safe_dump(GOOD), encoding="utf-8")
    for name in ("blank1", "blank2"):
        (folder / f"{name}.yaml").write_text("id:\nyhat: 0.809\n", encoding="utf-8")
    (folder / "recursive.yaml").write_text("a: &a [*a]\n", encoding="utf-8")
    (folder / "alias-bomb.yaml").write_text(alias_bomb(), encoding="utf-8")
    (folder / "binary.yaml").write_bytes(bytes([0xff, 0xd8, 0xff, 0xe0, 0, 0x10]) + os.urandom(200))
    (folder / "huge.yaml").write_text("#" * 1_000_001, encoding="utf-8")
    for kind in ("dangling", "loop", "directory", "fifo", "dev-zero"):
        if f"{kind}.yaml" in BROKEN:
            make_special(folder, kind)
    return folder


def check_lines(text, folder):
    """Every good sheet is graded and every broken entry has its line with its reason."""
    rows = {line.split()[0]: line for line in text.splitlines() if line.startswith("  ")}
    for name in ("alice", "bob", "carol"):
        assert rows[name].split()[1] == "3/40", rows[name]
    for name in ("blank1", "blank2"):
        assert rows[name].split()[1] == "1/40", rows[name]  # yhat answers yhat[1]
    for name, reason in BROKEN.items():
        assert rows[Path(name).stem].endswith(f"unreadable: {folder}/{reason}"), rows[Path(name).stem]


GRADE_CLASS = """\
import sys, derive
result = derive.grade_class("lecture-bp-3layer", sys.argv[1])
print(len(result.results), len(result.unreadable))
print(result.to_text(), end="")
"""


def test_a_class_grades_every_good_sheet_and_gives_each_broken_entry_its_line(hostile_dir):
    counts, text = in_child(GRADE_CLASS, hostile_dir, timeout=60).split("\n", 1)
    assert counts == f"{5 + len(BROKEN)} {len(BROKEN)}"
    check_lines(text, hostile_dir)


def test_derive_grade_on_a_hostile_class_writes_every_report_promptly(hostile_dir, tmp_path):
    reports = {option: tmp_path / name for option, name in
               (("--csv", "c.csv"), ("--json", "j.json"), ("--gradescope", "gradescope"))}
    done = subprocess.run([sys.executable, "-m", "derive", "grade", LECTURE, str(hostile_dir),
                           *[str(part) for pair in reports.items() for part in pair]],
                          capture_output=True, text=True, timeout=60,
                          preexec_fn=_bounded_memory if sys.platform.startswith("linux") else None)
    assert (done.returncode, done.stderr) == (1, "")
    check_lines(done.stdout, hostile_dir)
    rows = list(csv.DictReader(reports["--csv"].open(encoding="utf-8")))
    assert len(rows) == 5 + len(BROKEN)
    assert sum(row["status"].startswith("unreadable: ") for row in rows) == len(BROKEN)
    students = json.loads(reports["--json"].read_text(encoding="utf-8"))["students"]
    assert {s["student"] for s in students if s["error"]} == {Path(name).stem for name in BROKEN}
    results = [json.loads(path.read_text(encoding="utf-8")) for path in reports["--gradescope"].iterdir()]
    assert len(results) == 5 + len(BROKEN)  # one per entry, each named apart
    assert sum(r["output"].startswith("Your answer sheet could not be graded") for r in results) == len(BROKEN)
