"""Assignments: several problems in one file, one sheet per student with a section per part, one report.

Each part's verdicts are held against the same part's sheet graded on its
own by `derive.grade` (a second path through the grader, in this process),
and the totals against the arithmetic of the points written in the file.
"""

import csv
import io
import json
import re
from pathlib import Path

import pytest
import yaml

from conftest import latex_errors, needs_pdflatex, pdflatex
from derive import api
from derive.assignment import Assignment, load, load_assignment
from derive.cli import cli
from derive.grading.config import read_grading
from derive.problem import BUNDLED

TESTS = Path(__file__).parent
TWO_PARTS = """\
kind: assignment
title: Two parts
feedback: expected
problems:
  - problem: lecture-forward
    name: forward
    points: 10
  - problem: hw2-sigmoid
"""


@pytest.fixture
def two_parts(tmp_path):
    path = tmp_path / "two.yaml"
    path.write_text(TWO_PARTS, encoding="utf-8")
    return path


def right_answers(problem):
    """{item: the expected number} of a problem's numeric items (its expression items left out)."""
    solution = problem.solve()
    return {key: round(float(solution[key].value), 6) for key in read_grading(problem, solution).items
            if not solution[key].is_symbolic}


def test_the_bundled_homework_is_the_lectures_five_homework_problems():
    homework = load("hw-lecture")
    assert isinstance(homework, Assignment)
    assert [(part.name, part.problem.name, part.points) for part in homework.parts] == [
        ("hw1", "hw1-relu", 20), ("hw2-sigmoid", "hw2-sigmoid", 10), ("hw2-log-softmax", "hw2-log-softmax", 10),
        ("hw3", "hw3-op-count", 20), ("hw4", "hw4-conv", 20), ("hw5", "hw5-pool", 20)]
    assert (BUNDLED / "assignments" / "hw-lecture.yaml").exists()


def test_check_list_and_template_take_an_assignment(runner):
    assert runner.invoke(cli, ["check", "hw-lecture"]).output.endswith("ok (assignment, 6 parts)\n")
    listed = runner.invoke(cli, ["list"]).output.splitlines()
    assert any(re.match(r"hw-lecture +assignment +Lecture homework", line) for line in listed)
    template = runner.invoke(cli, ["template", "hw-lecture"]).output
    sheet = yaml.safe_load(template)
    homework = load("hw-lecture")
    assert list(sheet) == ["id"] + [part.name for part in homework.parts]
    for part in homework.parts:
        own = yaml.safe_load(runner.invoke(cli, ["template", part.problem.path]).output)
        assert list(sheet[part.name]) == [key for key in own if key != "id"]  # the part's own items, in order


@pytest.mark.parametrize("text, message", [
    (TWO_PARTS.replace("feedback: expected", "feedbak: expected"), "two.yaml:3: feedbak: unknown field (did you mean 'feedback'?)"),
    (TWO_PARTS.replace("feedback: expected", "feedback: all"), "two.yaml:3: feedback: expected one of"),
    (TWO_PARTS.replace("lecture-forward", "lecture-forwrd"), "two.yaml:5: problems[0].problem: no such file or bundled problem (did you mean 'lecture-forward'?)"),
    (TWO_PARTS.replace("    name: forward\n", "    name: hw2-sigmoid\n"), "two.yaml:8: problems[1].problem: part name 'hw2-sigmoid' is used twice"),
    (TWO_PARTS.replace("    name: forward\n", "    name: 1st\n"), "two.yaml:6: problems[0].name: expected a part name"),
    (TWO_PARTS.replace("    points: 10\n", "    points: -1\n"), "two.yaml:7: problems[0].points: expected a positive number"),
    (TWO_PARTS.replace("    points: 10\n", "    points: 10\n    grading: {tolerence: 1}\n"),
     "two.yaml:8: problems[0].grading.tolerence: unknown field (did you mean 'tolerance'?)"),
    (TWO_PARTS.replace("problems:\n", "problems: []\n").split("  - problem")[0], "two.yaml:4: problems: expected 1 to 50 problems, got 0"),
])
def test_a_bad_assignment_file_is_one_line_naming_file_line_and_field(runner, tmp_path, text, message):
    path = tmp_path / "two.yaml"
    path.write_text(text, encoding="utf-8")
    result = runner.invoke(cli, ["check", str(path)])
    assert result.exit_code == 2 and len(result.stderr.splitlines()) == 1
    assert message in result.stderr, result.stderr


def test_a_broken_problem_of_an_assignment_names_the_problems_own_file_and_line(runner, tmp_path):
    (tmp_path / "broken.yaml").write_text("kind: derivative\nfunction: x^^2\n", encoding="utf-8")
    (tmp_path / "a.yaml").write_text("kind: assignment\nproblems:\n  - problem: broken.yaml\n", encoding="utf-8")
    result = runner.invoke(cli, ["check", str(tmp_path / "a.yaml")])
    assert result.exit_code == 2 and re.match(r".*broken\.yaml:2: function: ", result.stderr), result.stderr


def test_a_grading_override_replaces_the_problems_own_entries(tmp_path):
    path = tmp_path / "a.yaml"
    path.write_text("kind: assignment\nproblems:\n  - problem: lecture-forward\n"
                    "    grading: {items: ['yhat[1]'], tolerance: {absolute: 0.5}}\n", encoding="utf-8")
    part = load_assignment(path).parts[0]
    result = api.grade(part.problem, {"yhat[1]": 1.2})
    assert [(v.key, v.code) for v in result.verdicts] == [("yhat[1]", "OK")]  # 1.2 is within 0.5 of 0.809


@pytest.fixture
def homework_class(tmp_path):
    """Four sheets of the bundled homework: all numbers right; a part wrong and a section unreadable;
    a file that is no sheet; an empty file."""
    homework = load("hw-lecture")
    right = {part.name: right_answers(part.problem) for part in homework.parts}
    folder = tmp_path / "sheets"
    folder.mkdir()
    (folder / "ada.yaml").write_text(yaml.safe_dump({"id": "ada", **right}, sort_keys=False), encoding="utf-8")
    wrong = {key: value + 1 for key, value in right["hw1"].items()}
    (folder / "ben.yaml").write_text(yaml.safe_dump({"id": "ben", "hw1": wrong, "hw3": [1, 2],
                                                     "hw_4": right["hw4"]}, sort_keys=False), encoding="utf-8")
    (folder / "cleo.yaml").write_text("hw1: [\n", encoding="utf-8")
    (folder / "dan.yaml").write_text("", encoding="utf-8")
    return homework, right, folder, api.grade_assignment(homework, folder)


def test_every_part_is_graded_as_its_problem_alone_would_grade_that_section(homework_class):
    homework, right, folder, result = homework_class
    for sheet in result.results[:2]:
        written = yaml.safe_load((folder / f"{sheet.student}.yaml").read_text(encoding="utf-8"))
        for part in homework.parts:
            section = written.get(part.name)
            if not isinstance(section, dict):
                continue
            alone = api.grade(part.problem, section, student=sheet.student)
            assert [(v.key, v.code, v.points) for v in sheet.parts[part.name].verdicts] == \
                   [(v.key, v.code, v.points) for v in alone.verdicts]


def test_a_sections_numbers_are_kept_as_written(two_parts, tmp_path):
    """A number in a part's section is shown as the student wrote it, trailing zeros included, as in a
    sheet of that problem alone; a list of one answer at an item's key is that answer there too."""
    sheet = tmp_path / "ada.yaml"
    sheet.write_text("forward:\n  z[1][1]: 3.00\n  z[1][2]: [-2.00]\n  z[1][3]: -2.0e+00\n", encoding="utf-8")
    part = api.grade_assignment(two_parts, sheet)["ada"].parts["forward"]
    shown = {v.key: (v.answer, v.code) for v in part.verdicts if v.answer}
    assert shown == {"z[1][1]": ("3.00", "OK"), "z[1][2]": ("-2.00", "OK"), "z[1][3]": ("-2.0e+00", "OK")}


def test_totals_are_the_parts_scaled_to_their_points(homework_class):
    homework, right, folder, result = homework_class
    ada, ben = result["ada"], result["ben"]
    assert result.max_score() == pytest.approx(100)
    for part in homework.parts:  # every number right: a part's share of its points is its share of items
        items = result.classes[part.name].items
        expected = part.points * len(right[part.name]) / len(items)
        assert result.subtotal(ada, part.name) == pytest.approx(expected)
    assert result.score(ada) == pytest.approx(sum(result.subtotal(ada, p.name) for p in homework.parts))
    hw1 = result.classes["hw1"]
    assert result.subtotal(ben, "hw1") == pytest.approx(ben.parts["hw1"].score * 20 / len(hw1.items))
    assert result.score(ben) == pytest.approx(result.subtotal(ben, "hw1"))  # the other parts: missing or unreadable
    assert ben.parts["hw3"].error.endswith("section 'hw3': expected a mapping from step keys to answers")
    assert "section 'hw_4' ignored: no such part (did you mean 'hw4'?)" in " ".join(ben.warnings)
    assert [sheet.error != "" for sheet in result.results] == [False, False, True, True]


def test_the_gradebook_has_a_column_per_part_and_per_item(homework_class):
    homework, right, folder, result = homework_class
    rows = list(csv.reader(io.StringIO(result.gradebook_csv())))
    header = rows[0]
    parts = [part.name for part in homework.parts]
    assert header[:3] == ["student", "file", "hw1"] and header[-3:] == ["total", "max", "status"]
    assert [column for column in header if column in parts] == parts
    assert len(header) == 5 + len(parts) + sum(len(result.classes[name].items) for name in parts)
    ada = dict(zip(header, rows[1]))
    assert float(ada["total"]) == pytest.approx(result.score(result["ada"]), abs=1e-4)
    assert ada["hw1"] == "20" and ada["hw1:yhat[1]"] == "1"
    ben = dict(zip(header, rows[2]))
    assert ben["status"] == "graded; unreadable: hw3" and ben["hw3:total_mul"] == ""
    assert dict(zip(header, rows[3]))["status"].startswith("unreadable: ")


def test_the_json_report_carries_each_parts_weight_and_every_verdict(homework_class):
    homework, right, folder, result = homework_class
    document = json.loads(result.verdicts_json())
    assert [part["name"] for part in document["parts"]] == [part.name for part in homework.parts]
    assert sum(part["points"] for part in document["parts"]) == pytest.approx(100)
    ada = document["students"][0]
    assert ada["score"] == pytest.approx(result.score(result["ada"]))
    assert ada["parts"]["hw1"]["subtotal"] == pytest.approx(20)
    assert {v["code"] for v in ada["parts"]["hw1"]["verdicts"]} == {"OK"}


def test_derive_grade_takes_an_assignment_and_writes_its_reports(runner, homework_class, tmp_path):
    homework, right, folder, result = homework_class
    out = runner.invoke(cli, ["grade", "hw-lecture", str(folder), "--csv", str(tmp_path / "g.csv"),
                              "--json", str(tmp_path / "g.json")])
    assert out.exit_code == 1  # two sheets could not be read
    assert (tmp_path / "g.csv").read_text(encoding="utf-8") == result.gradebook_csv()
    assert "4 sheets, 2 unreadable" in out.output
    assert "Sections that could not be read (the other parts are graded):" in out.output


@needs_pdflatex
@pytest.mark.parametrize("which", ["class", "one sheet"])
def test_the_latex_report_of_an_assignment_compiles(runner, homework_class, tmp_path, which):
    homework, right, folder, result = homework_class
    hostile = folder / "zz.yaml"
    hostile.write_text('id: "\\\\input{/etc/passwd} $x$ %"\nhw1:\n  yhat[1]: "\\\\write18{ls}"\n', encoding="utf-8")
    sheets = [str(folder)] if which == "class" else [str(folder / "ben.yaml")]
    out = runner.invoke(cli, ["grade", "hw-lecture", *sheets, "--latex", str(tmp_path / "report.tex")])
    assert out.exit_code in (0, 1), out.output
    text = (tmp_path / "report.tex").read_text(encoding="utf-8")
    assert r"\input{" not in text and r"\write18" not in text
    assert text.count(r"\subsection*{Part ") == len(homework.parts)
    status, log = pdflatex(tmp_path, "report")
    assert (status, latex_errors(log)) == (0, [])


def test_the_report_of_a_small_assignment_matches_its_golden_file(runner, golden, two_parts, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    forward = right_answers(load("lecture-forward"))
    Path("s").mkdir()
    Path("s/ada.yaml").write_text(yaml.safe_dump({"id": "ada", "forward": forward, "hw2-sigmoid": {
        "d1": "s(1-s)", "d2": "s(1-s)"}}, sort_keys=False), encoding="utf-8")
    Path("s/ben.yaml").write_text(yaml.safe_dump({"id": "ben", "forward": {"yhat[1]": 0.8},
                                                  "hw2_sigmoid": {"d1": "s(1-s)"}}, sort_keys=False), encoding="utf-8")
    result = runner.invoke(cli, ["grade", "two.yaml", "s"])
    assert result.exit_code == 0, result.output
    golden("assignment-class.txt", result.output)
    one = runner.invoke(cli, ["grade", "two.yaml", "s/ada.yaml"])
    golden("assignment-ada.txt", one.output)


@pytest.mark.parametrize("format_", ["text", "markdown", "json", "latex", "html"])
def test_solve_prints_every_part_of_an_assignment(runner, two_parts, format_):
    result = runner.invoke(cli, ["solve", str(two_parts), "--format", format_])
    assert result.exit_code == 0, result.output
    for part in load_assignment(two_parts).parts:
        assert part.problem.title in result.output or part.problem.title.replace("(", r"\(") in result.output


@needs_pdflatex
def test_the_assignments_latex_compiles(runner, tmp_path):
    text = runner.invoke(cli, ["solve", "hw-lecture", "--format", "latex"]).output
    (tmp_path / "hw.tex").write_text(text, encoding="utf-8")
    status, log = pdflatex(tmp_path, "hw")
    assert (status, latex_errors(log)) == (0, [])


def test_the_assignments_html_is_one_self_contained_page(runner):
    from test_html import check_page

    page = runner.invoke(cli, ["solve", "hw-lecture", "--format", "html"]).output
    check_page(page)
    assert page.count("<article") == 6


@pytest.mark.parametrize("feedback, shown", [("verdict", []), ("expected", ["expected", "why"]),
                                             ("calculation", ["expected", "why", "calculation"])])
def test_the_pages_of_an_assignment_show_what_its_feedback_policy_allows(tmp_path, feedback, shown):
    from test_html import check_page

    path = tmp_path / "two.yaml"
    path.write_text(TWO_PARTS.replace("feedback: expected", f"feedback: {feedback}"), encoding="utf-8")
    (tmp_path / "s").mkdir()
    (tmp_path / "s" / "ben.yaml").write_text("forward:\n  yhat[1]: 0.8\n  z[2][1]: 4.1679\n"
                                             "hw2-sigmoid:\n  d2: s(1-s)\n", encoding="utf-8")
    (tmp_path / "s" / "cleo.yaml").write_text("forward: [1]\n", encoding="utf-8")
    result = api.grade_assignment(path, tmp_path / "s")
    pages = result.html_pages()
    assert sorted(pages) == ["index.html", "students/ben.html", "students/cleo.html"]
    for page in pages.values():
        check_page(page)
    ben = pages["students/ben.html"]
    assert ben.count("<h2") == 2 and "your answer" in ben
    labels = set(re.findall(r"<dt>([a-z ]+)</dt>", ben)) - {"your answer", "the slip"}
    assert labels == set(shown)
    assert "This part could not be read" in pages["students/cleo.html"]
    index = pages["index.html"]
    assert index.count("<svg") == 1 + 2 + (1 if "Most common slips" in index else 0)  # totals; a bar chart per part
    assert '<a href="students/ben.html">ben</a>' in index


def test_the_summary_has_a_row_per_item_of_every_part(homework_class, tmp_path):
    homework, right, folder, result = homework_class
    rows = list(csv.reader(io.StringIO(result.summary_csv())))
    assert rows[0] == ["part", "item", "right", "follow_through", "wrong", "missing", "slips"]
    assert [(row[0], row[1]) for row in rows[1:]] == [(name, key) for name, klass in result.classes.items()
                                                       for key in klass.items]
    for row in rows[1:]:  # each part's row is that part's own summary
        own = next(r for r in result.classes[row[0]].summary() if r["key"] == row[1])
        assert [int(n) for n in row[2:6]] == [own["right"], own["follow_through"], own["wrong"], own["missing"]]


def test_variants_of_an_assignment_draw_its_random_parts_and_grade_each_student_on_their_own(runner, tmp_path):
    path = tmp_path / "a.yaml"
    path.write_text("kind: assignment\nproblems:\n  - problem: lecture-bp-3layer\n    name: bp\n"
                    "  - problem: hw2-sigmoid\n", encoding="utf-8")
    (tmp_path / "roster.csv").write_text("id\ns1\ns2\n", encoding="utf-8")
    made = runner.invoke(cli, ["variants", str(path), "--roster", str(tmp_path / "roster.csv"),
                               "--out", str(tmp_path / "v")])
    assert made.exit_code == 0, made.output
    assert sorted(p.name for p in (tmp_path / "v").iterdir()) == ["bp"]  # hw2-sigmoid draws nothing
    assert sorted(p.name for p in (tmp_path / "v" / "bp").iterdir()) == ["answer-key.md", "answer-key.tex",
                                                                        "s1.yaml", "s2.yaml"]
    own = {student: load(tmp_path / "v" / "bp" / f"{student}.yaml").solve()["yhat[1]"].value for student in ("s1", "s2")}
    (tmp_path / "s").mkdir()
    for student in ("s1", "s2", "s3"):  # s1 answers s1's number; s2 answers s1's; s3 has no variant
        (tmp_path / "s" / f"{student}.yaml").write_text(
            f"id: {student}\nbp:\n  yhat[1]: {round(own['s1'], 4)}\nhw2-sigmoid:\n  d1: s(1-s)\n", encoding="utf-8")
    result = api.grade_assignment(path, tmp_path / "s", variants=tmp_path / "v")
    assert own["s1"] != own["s2"]
    assert result["s1"].parts["bp"]["yhat[1]"].code == "OK" and result["s2"].parts["bp"]["yhat[1]"].code != "OK"
    assert "no variant for student 's3'" in result["s3"].parts["bp"].error
    assert result["s3"].parts["hw2-sigmoid"]["d1"].code == "OK"  # the part without variants is still graded
    assert result.classes["bp"]["s1"].solution["yhat[1]"].value == pytest.approx(own["s1"], abs=5e-4)  # their own
