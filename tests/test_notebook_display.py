"""How a Solution and grading results show: Markdown with typeset math in a notebook, one line in a terminal.

The numbers asserted are the lecture's published ones (the 3-layer example:
z³₁ = 1.4436, ŷ = 0.809, δ³₁ = -0.0264). Where IPython is installed, the
objects also go through its display machinery, as Jupyter would show them.
"""

import re

import pytest
import yaml

import derive
from conftest import PROBLEMS

LECTURE = PROBLEMS / "lecture-bp-3layer.yaml"
SLIPPED = {"id": "bob", "z[3][1]": 1.4436, "yhat[1]": 0.809, "delta[3][1]": -0.05, "delta[2][1]": -0.0264,
           "fprime[2]": "1-s", "unknown": 1}
Z3 = (r"$z^{3}_{1} = h^{2}_{1} w^{3}_{11} + h^{2}_{2} w^{3}_{21} - \theta^{3}_{1} = 0.9781 \cdot 1 + "
      r"0.9309 \cdot 0.5 - 0 = 1.4436$")


@pytest.fixture(scope="module")
def problem():
    return derive.load_problem("lecture-bp-3layer")


@pytest.fixture(scope="module")
def solution(problem):
    return problem.solve()


@pytest.fixture(scope="module")
def sheet(problem):
    return derive.grade(problem, SLIPPED)


@pytest.fixture(scope="module")
def klass(problem, tmp_path_factory):
    folder = tmp_path_factory.mktemp("class")
    (folder / "alice.yaml").write_text("z[3][1]: 1.4436\nyhat[1]: 0.809\n", encoding="utf-8")
    (folder / "bob.yaml").write_text(yaml.safe_dump(SLIPPED), encoding="utf-8")
    (folder / "carol.yaml").write_text("z[1][1]: [2,\n", encoding="utf-8")  # malformed
    return derive.grade_class(problem, [folder])


def cells(row):
    """The cells of a Markdown table row, split at its unescaped bars."""
    return [cell.strip() for cell in re.split(r"(?<!\\)\|", row.strip())[1:-1]]


def tables(markdown):
    """Every table of a Markdown text, as lists of rows of cells."""
    found, current = [], []
    for line in markdown.splitlines() + [""]:
        if line.startswith("|"):
            current.append(cells(line))
        elif current:
            found.append(current)
            current = []
    return found


def row_of(table, key):
    return next(row for row in table if row[0].startswith(f"`{key}`"))


# -- a Solution -------------------------------------------------------------------
def test_a_solution_shows_as_its_markdown_with_the_lectures_numbers(solution):
    markdown = solution._repr_markdown_()
    assert markdown == derive.render(solution, "markdown")
    lines = markdown.splitlines()
    assert lines[0] == "# Lecture 3-layer back-propagation example"
    assert f"- {Z3}" in lines
    assert any(line.startswith(r"- $\hat{y} = ") and line.endswith("= 0.809$") for line in lines)
    assert any(line.startswith(r"- $\delta^{3}_{1} = ") and line.endswith("= -0.0264$") for line in lines)


def test_a_solution_is_one_short_line_in_a_terminal(solution):
    assert repr(solution) == "<Solution lecture-bp-3layer (mlp_backprop): 80 steps in 9 sections>"
    assert str(solution) == repr(solution)


# -- one sheet ----------------------------------------------------------------------
def test_a_sheet_shows_as_a_table_with_each_items_symbol_and_expected_value(sheet):
    markdown = sheet._repr_markdown_()
    assert markdown == sheet.to_markdown()
    assert markdown.startswith("### Grading: Lecture 3-layer back-propagation example (`lecture-bp-3layer`)\n")
    assert "**bob** (`<in memory>`): **2/40**" in markdown
    assert "- warning: unknown key 'unknown' ignored" in markdown
    [table] = tables(markdown)
    assert table[0] == ["item", "answer", "verdict", "points", "expected", "feedback"]
    assert row_of(table, "z[3][1]")[:5] == ["`z[3][1]`", "`1.4436`", "OK", "1/1", "$z^{3}_{1} = 1.4436$"]
    assert row_of(table, "yhat[1]")[:5] == ["`yhat[1]`", "`0.809`", "OK", "1/1", r"$\hat{y} = 0.809$"]
    wrong = row_of(table, "delta[3][1]")
    assert wrong[:5] == ["`delta[3][1]`", "`-0.05`", "WRONG", "0/1", r"$\delta^{3}_{1} = -0.0264$"]
    assert wrong[5].startswith("wrong<br>δ³₁ = ") and wrong[5].endswith("= -0.0264")
    slipped = row_of(table, "delta[2][1]")
    assert slipped[2] == "WRONG" and "looks like δ³₁ w³₁₁ without the factor σ′(z²₁)" in slipped[5]
    missing = row_of(table, "z[1][1]")
    assert missing[1:4] == ["–", "MISSING", "0/1"]
    expression = row_of(table, "fprime[2]")
    assert expression[2] == "WRONG" and expression[4].startswith("$f'_{2}")


def test_every_row_of_a_sheets_table_has_every_cell_whatever_the_answers(problem):
    awkward = {"fprime[2]": "|x| * `s`", "yhat[1]": "a | b", "z[3][1]": "$1$ _x_ <b>", "delta[3][1]": "1\\"}
    markdown = derive.grade(problem, awkward).to_markdown()
    [table] = tables(markdown)
    assert {len(row) for row in table} == {6}
    assert row_of(table, "yhat[1]")[1] == r"`a \| b`"
    assert row_of(table, "fprime[2]")[1] == r"`` \|x\| * `s` ``"


def test_a_sheet_is_one_short_line_in_a_terminal(sheet):
    assert repr(sheet) == "<SheetResult bob: 2/40 (2 OK, 3 WRONG, 35 MISSING)>"
    assert str(sheet) == repr(sheet)


def test_an_unreadable_sheet_says_why(klass):
    carol = klass["carol"]
    assert repr(carol).startswith("<SheetResult carol: unreadable: ") and "carol.yaml:2: malformed YAML" in repr(carol)
    markdown = carol.to_markdown()
    assert markdown.startswith("**carol** (`") and "unreadable: " in markdown and "|" not in markdown


# -- a class --------------------------------------------------------------------------
def test_a_class_shows_a_line_per_student_and_a_row_per_item(klass):
    markdown = klass._repr_markdown_()
    assert markdown == klass.to_markdown()
    assert markdown.startswith("### Grading: Lecture 3-layer back-propagation example (`lecture-bp-3layer`)\n")
    assert "3 sheets, 1 unreadable." in markdown
    students, items = tables(markdown)
    assert students[0] == ["student", "score", "OK", "FT", "wrong", "missing"]
    assert students[2] == ["alice", "2/40", "2", "0", "0", "38"]
    assert students[3] == ["bob", "2/40", "2", "0", "3", "35"]
    assert students[4][0] == "carol" and students[4][1].startswith("unreadable: ")
    assert {len(row) for row in students} == {6} and {len(row) for row in items} == {6}
    assert row_of(items, "z[3][1]")[:5] == ["`z[3][1]` $z^{3}_{1}$", "2", "0", "0", "0"]
    assert row_of(items, "delta[3][1]") == [r"`delta[3][1]` $\delta^{3}_{1}$", "0", "0", "1", "1", "`-0.05` (1)"]
    assert "Slips behind the wrong answers (what to re-teach):" in markdown
    assert r"- `delta[2][1]` $\delta^{2}_{1}$: 1 wrong, 1 of them missing f′" in markdown


def test_a_class_of_one_sheet_shows_that_sheet_under_the_problems_heading(problem):
    one = derive.grade_class(problem, [PROBLEMS.parent.parent / "tests" / "sheets" / "lecture-answer-key.yaml"])
    markdown = one.to_markdown()
    assert markdown.count("### Grading:") == 1
    assert "**lecture-answer-key** (`" in markdown
    assert row_of(tables(markdown)[0], "z[3][1]")[4] == "$z^{3}_{1} = 1.4436$"


def test_a_class_is_one_short_line_in_a_terminal(klass):
    assert repr(klass) == "<ClassResult lecture-bp-3layer: 3 sheets, 1 unreadable, out of 40>"
    assert str(klass) == repr(klass)


# -- through IPython, as Jupyter shows them ----------------------------------------------
def test_ipython_displays_markdown_with_the_short_line_as_plain_text(solution, sheet, klass):
    formatters = pytest.importorskip("IPython.core.formatters")
    for shown in (solution, sheet, klass):
        bundle, _ = formatters.DisplayFormatter().format(shown)
        assert bundle["text/markdown"] == shown._repr_markdown_()
        assert bundle["text/plain"] == repr(shown)
    bundle, _ = formatters.DisplayFormatter().format(solution)
    assert Z3 in bundle["text/markdown"]
