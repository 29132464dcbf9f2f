"""A class: every sheet graded, broken ones reported, reports written whole."""

import csv
import json
from collections import Counter
from dataclasses import replace
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

import derive

from derive.api import grade_class
from derive.cli import cli
from derive.grading.report import _most_frequent
from derive.grading.sheet import read_sheet
from conftest import PROBLEMS

SHEETS = Path(__file__).parent / "sheets"
LECTURE = str(PROBLEMS / "lecture-bp-3layer.yaml")

GOOD = {"z[1][1]": 2, "delta[3][1]": -0.0264, "fprime[2]": "s*(1-s)"}
SLIPPED = {"z[1][1]": 2, "delta[3][1]": -0.05, "delta[2][1]": -0.0011, "fprime[2]": "1-s"}


@pytest.fixture
def class_dir(tmp_path):
    folder = tmp_path / "submissions"
    folder.mkdir()
    (folder / "alice.yaml").write_text(yaml.safe_dump(GOOD), encoding="utf-8")
    (folder / "bob.yaml").write_text(yaml.safe_dump(SLIPPED), encoding="utf-8")
    (folder / "carol.yaml").write_text("z[1][1]: [2,\n", encoding="utf-8")  # malformed
    (folder / "dave.yaml").write_text("- 2\n- 3\n", encoding="utf-8")  # a list, not a mapping
    (folder / "notes.txt").write_text("not a sheet", encoding="utf-8")  # ignored: not .yaml
    return folder


def run(runner, *args):
    return runner.invoke(cli, ["grade", LECTURE, *map(str, args)])


def test_a_class_with_broken_sheets_is_graded_and_exits_1(runner, class_dir):
    result = run(runner, class_dir)
    assert result.exit_code == 1
    out = result.output
    assert "4 sheets, 2 unreadable" in out
    lines = {line.split()[0]: line for line in out.splitlines() if line.startswith("  ")}
    assert "unreadable: " in lines["carol"] and "carol.yaml:2: malformed YAML" in lines["carol"]
    assert lines["dave"].endswith("dave.yaml:1: expected a mapping from step keys to answers")
    assert lines["alice"].split()[1:] == ["3/40", "3", "0", "0", "37"]


def test_the_summary_counts_outcomes_and_frequent_wrong_answers(runner, class_dir):
    out = run(runner, class_dir).output
    summary = out[out.index("Per item"):]
    row = next(line for line in summary.splitlines() if line.strip().startswith("delta[3][1]"))
    assert row.split()[1:5] == ["1", "0", "1", "0"]  # right, FT, wrong, missing
    assert row.endswith("-0.05 (1)")
    row = next(line for line in summary.splitlines() if line.strip().startswith("delta[2][1]"))
    assert row.split()[1:5] == ["0", "1", "0", "1"]


def test_a_long_wrong_answer_is_cut_in_the_printed_summary_and_kept_whole_in_the_data(tmp_path):
    """One student's 300-character answer leaves the class summary's table readable: 40 characters and
    `...` there (text, Markdown, LaTeX); whole in `summary()` and in the student's verdict."""
    long = "s*" * 150 + "1"
    for name, answer in (("ann", long), ("ben", "1-s")):
        (tmp_path / f"{name}.yaml").write_text(yaml.safe_dump({"fprime[2]": answer}), encoding="utf-8")
    result = grade_class(LECTURE, tmp_path, calculations=False)
    cut = long[:40] + "..."
    row = next(line for line in result.to_text().splitlines() if line.strip().startswith("fprime[2]"))
    assert row.endswith(f"1-s (1), {cut} (1)")
    assert f"`{cut}` (1)" in result.to_markdown() and rf"\texttt{{{cut}}} (1)" in result.to_latex()
    row = next(row for row in result.summary() if row["key"] == "fprime[2]")
    assert (long, 1) in row["frequent_wrong"] and result.results[0]["fprime[2]"].answer == long


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(["-0.05", "0.1", "-0.0011", "0.5", "2", "1-s", "x", ""]),
                       st.integers(min_value=1, max_value=4)), st.integers(min_value=1, max_value=4))
def test_the_most_frequent_wrong_answers_are_the_first_by_count_then_by_text(counts, n):
    """The summary's most frequent wrong answers, whose counts tie often (most are written once): as a
    full sort by falling count, then by text, would give them."""
    assert _most_frequent(Counter(counts), n) == sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:n]


def test_the_csv_gradebook_has_a_row_per_student_and_a_column_per_item(runner, class_dir, tmp_path):
    target = tmp_path / "grades.csv"
    run(runner, class_dir, "--csv", target)
    rows = list(csv.DictReader(target.open(encoding="utf-8")))
    assert [r["student"] for r in rows] == ["alice", "bob", "carol", "dave"]
    alice = rows[0]
    assert (alice["z[1][1]"], alice["delta[3][1]"], alice["fprime[2]"], alice["z[1][2]"]) == ("1", "1", "1", "0")
    bob = rows[1]
    assert (bob["delta[3][1]"], bob["delta[2][1]"], bob["fprime[2]"], bob["total"]) == ("0", "1", "0", "2")
    assert rows[2]["status"].startswith("unreadable: ") and rows[2]["total"] == "0"
    assert alice["max"] == "40"  # the lecture problem grades 40 items, 1 point each


def test_the_json_report_has_every_verdict(runner, class_dir, tmp_path):
    target = tmp_path / "grades.json"
    run(runner, class_dir, "--json", target)
    report = json.loads(target.read_text(encoding="utf-8"))
    bob = next(s for s in report["students"] if s["student"] == "bob")
    verdict = next(v for v in bob["verdicts"] if v["key"] == "delta[2][1]")
    assert verdict["code"] == "FT" and verdict["used"] == [{"key": "delta[3][1]", "value": -0.05}]
    assert next(s for s in report["students"] if s["student"] == "carol")["error"]


def test_the_json_report_has_the_calculations_the_summary_does_not_need(runner, class_dir, tmp_path):
    target = tmp_path / "grades.json"
    run(runner, class_dir, "--json", target)
    bob = next(s for s in json.loads(target.read_text(encoding="utf-8"))["students"] if s["student"] == "bob")
    wrong = next(v for v in bob["verdicts"] if v["key"] == "delta[3][1]")
    assert wrong["calculation"].startswith("δ³₁ = ") and wrong["calculation"].endswith(" = -0.0264")


def test_a_class_graded_without_calculations_differs_in_them_only(class_dir):
    with_them, without = grade_class(LECTURE, class_dir), grade_class(LECTURE, class_dir, calculations=False)
    assert without.to_text() == with_them.to_text()
    assert without.gradebook_csv() == with_them.gradebook_csv()
    made = 0
    for full, bare in zip(with_them.results, without.results):
        for a, b in zip(full.verdicts, bare.verdicts):
            assert (b.calculation, b.calculation_latex) == ("", "")
            made += bool(a.calculation)
            assert replace(a, calculation="", calculation_latex="") == b
    assert made  # the full grading has calculations to leave out
    one = grade_class(LECTURE, class_dir / "bob.yaml", calculations=False)  # one sheet's report shows them
    assert one.results[0]["delta[3][1]"].calculation == with_them["bob"]["delta[3][1]"].calculation != ""


def test_gradescope_results_are_one_file_per_student_even_with_broken_sheets(runner, class_dir, tmp_path):
    target = tmp_path / "gradescope"
    run(runner, class_dir, "--gradescope", target)
    files = {path.stem: json.loads(path.read_text(encoding="utf-8")) for path in target.iterdir()}
    assert sorted(files) == ["alice", "bob", "carol", "dave"]
    for results in files.values():
        for test in results["tests"]:
            assert {"name", "score", "max_score", "output", "visibility"} <= set(test)
            assert isinstance(test["score"], (int, float)) and isinstance(test["max_score"], (int, float))
    for broken in ("carol", "dave"):
        assert files[broken]["score"] == 0 and files[broken]["tests"] == []
        assert "could not be graded" in files[broken]["output"]
    assert (files["alice"]["score"], files["bob"]["score"]) == (3, 2)  # alice 3 right; bob: z, delta[2][1] by FT


def test_one_sheet_gives_a_plain_gradescope_file(runner, tmp_path):
    sheet = tmp_path / "alice.yaml"
    sheet.write_text(yaml.safe_dump(GOOD), encoding="utf-8")
    target = tmp_path / "results.json"
    assert run(runner, sheet, "--gradescope", target).exit_code == 0
    names = [t["name"] for t in json.loads(target.read_text(encoding="utf-8"))["tests"]]
    assert names[:2] == ["fprime[2]", "z[1][1]"]


def test_reports_are_written_whole_or_not_at_all(runner, class_dir, tmp_path):
    target = tmp_path / "grades.csv"
    target.write_text("previous gradebook\n", encoding="utf-8")
    result = run(runner, class_dir, "--csv", tmp_path / "missing-folder" / "grades.csv")
    assert result.exit_code == 2
    assert "cannot write" in result.output
    run(runner, class_dir, "--csv", target)
    assert target.read_text(encoding="utf-8").startswith("student,file,")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["grades.csv", "submissions"]  # no temporary files left


def test_no_sheets_is_bad_usage(runner, tmp_path):
    result = run(runner, tmp_path)
    assert result.exit_code == 2
    assert "no answer sheets" in result.output


def test_unknown_keys_are_warned_about_with_the_closest_key(runner, tmp_path):
    sheet = tmp_path / "typo.yaml"
    sheet.write_text("delat[3][1]: -0.0264\n", encoding="utf-8")
    out = run(runner, sheet).output
    assert "warning: line 1: unknown key 'delat[3][1]' ignored (did you mean 'delta[3][1]'?)" in out


def test_a_list_answers_a_vector_key(tmp_path):
    sheet = tmp_path / "s.yaml"
    sheet.write_text("delta[2]: [-0.0006, -0.0008]\nid: s1234567\n", encoding="utf-8")
    read = read_sheet(sheet, {"delta[2][1]", "delta[2][2]"})
    assert read.student == "s1234567"
    assert {k: a.number for k, a in read.answers.items()} == {"delta[2][1]": -0.0006, "delta[2][2]": -0.0008}


@pytest.mark.parametrize("written, code, detail", [
    ("[0.809]", "OK", ""),
    ("[0.8090]", "OK", ""),
    ("[0.8]", "WRONG", "wrong"),
    ("[0.809, 0.1]", "UNREADABLE", "a list of 2 answers where one is asked"),
    ("[]", "UNREADABLE", "an empty list where one answer is asked"),
    ("[[0.809]]", "UNREADABLE", "a list in a list where one answer is asked"),
])
def test_a_list_at_an_item_s_own_key_is_its_answer_or_its_line(tmp_path, written, code, detail):
    """`yhat[1]: [0.809]` answers yhat[1]; a list of several is that item's line, never a missing answer with
    warnings about keys the student did not write."""
    sheet = tmp_path / "s.yaml"
    sheet.write_text(f"yhat[1]: {written}\nz[1][1]: 2\n", encoding="utf-8")
    result = derive.grade("lecture-bp-3layer", sheet)
    verdict = result["yhat[1]"]
    assert (verdict.code, verdict.detail, result.warnings) == (code, detail, [])
    assert verdict.answer == written.strip("[]") if code != "UNREADABLE" else verdict.answer == written
    assert result["z[1][1]"].code == "OK"


def test_the_template_lists_every_graded_item_in_order_and_reads_back_as_all_missing(runner, tmp_path):
    result = runner.invoke(cli, ["template", LECTURE])
    assert result.exit_code == 0
    keys = [line.split(":")[0] for line in result.output.splitlines() if line and not line.startswith("#")]
    assert keys[0] == "id" and keys[1:4] == ["fprime[2]", "z[1][1]", "z[1][2]"]
    assert len(keys) == 41 and keys[-1] == "w_new[3][2][1]"
    sheet = tmp_path / "blank.yaml"
    sheet.write_text(result.output, encoding="utf-8")
    graded = run(runner, sheet)
    assert graded.exit_code == 0 and "Total: 0/40" in graded.output
