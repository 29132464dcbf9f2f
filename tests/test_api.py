"""The Python API: load, solve, grade a sheet or a class, make variants, as `derive` does them.

The oracles are outside the code under test: the lecture's published numbers
(the 3-layer example's z³₁ = 1.4436, ŷ = 0.8090, δ³₁ = -0.0264, and its
printed answer key), and the command line's own files and JSON, which the
API must reproduce byte for byte.
"""

import json
import re
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import yaml

import derive
from derive.cli import cli
from conftest import PROBLEMS

SHEETS = Path(__file__).parent / "sheets"
ROSTER = Path(__file__).parent / "variants" / "roster.csv"
LECTURE = str(PROBLEMS / "lecture-bp-3layer.yaml")
KEY = SHEETS / "lecture-answer-key.yaml"

SLIPPED = {"id": "bob", "z[1][1]": 2, "z[3][1]": 1.4436, "delta[3][1]": -0.05, "delta[2]": [-0.0011, -0.0008],
           "grad_w[1]": [[-0.0012, 0], [-0.0012, -0.0014]], "fprime[2]": "1-s", "yhat[1]": "0,809",
           "h[2][2]": "2e-1", "unknown[1]": 3}


@pytest.fixture(scope="module")
def problem():
    return derive.load_problem("lecture-bp-3layer")


def marks(result):
    """What a SheetResult says, without where the sheet came from."""
    return result.student, result.score, result.max_score, result.warnings, result.verdicts


def cli_json(runner, tmp_path, *args):
    """The `--json` document `derive grade LECTURE args...` writes."""
    target = tmp_path / "out.json"
    result = runner.invoke(cli, ["grade", LECTURE, *map(str, args), "--json", str(target)])
    assert result.exit_code in (0, 1), result.output
    return json.loads(target.read_text(encoding="utf-8"))


# -- the public names ---------------------------------------------------------
def test_the_public_names_are_all_there_and_public():
    for name in derive.__all__:
        assert hasattr(derive, name), name
        assert not name.startswith("_")
    for name in ("load_problem", "render", "grade", "grade_class", "variants", "write_variants",
                 "SheetResult", "ClassResult", "Verdict", "VariantSet"):
        assert name in derive.__all__


def test_grade_and_variants_stay_functions_when_the_machinery_is_imported():
    """Importing the grading and variants modules (as scripts do) leaves `derive.grade` and `derive.variants` the functions."""
    code = ("import derive.grading.grader, derive.vary.variants\n"
            "from derive.grading.grader import Grader\n"
            "import derive, types\n"
            "assert callable(derive.grade) and not isinstance(derive.grade, types.ModuleType)\n"
            "assert callable(derive.variants) and not isinstance(derive.variants, types.ModuleType)\n"
            "print('ok')\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.stdout == "ok\n", done.stderr


# -- solving --------------------------------------------------------------------
def test_load_and_solve_give_the_lectures_numbers(problem):
    solution = problem.solve()
    assert isinstance(solution, derive.Solution)
    values = solution.values()
    assert (values["z[3][1]"], values["yhat[1]"], values["delta[3][1]"]) == (1.4436, 0.809, -0.0264)
    exact = problem.solve(derive.Rounding()).values()  # no intermediate rounding (z³₁ = 1.44355 is a tie)
    assert [round(exact[k], 4) for k in ("yhat[1]", "delta[3][1]")] == [0.809, -0.0264]
    assert exact["z[3][1]"] == pytest.approx(1.44355, abs=1e-5)


def test_a_problem_by_name_by_path_and_loaded_is_the_same(problem, tmp_path):
    by_path = derive.load_problem(LECTURE)
    assert (by_path.name, by_path.kind, by_path.title) == (problem.name, problem.kind, problem.title)
    sheet = {"yhat[1]": 0.809}
    assert marks(derive.grade("lecture-bp-3layer", sheet)) == marks(derive.grade(problem, sheet))
    assert marks(derive.grade(Path(LECTURE), sheet)) == marks(derive.grade(problem, sheet))


# -- one sheet --------------------------------------------------------------------
def test_the_published_answer_key_scores_as_the_command_line_says(problem, runner, tmp_path):
    result = derive.grade(problem, KEY)
    assert result.max_score == 40
    assert result["z[3][1]"].code == "OK" and result["z[3][1]"].expected == "1.4436"
    assert result["delta[3][1]"].code == "OK" and result["delta[3][1]"].expected == "-0.0264"
    document = cli_json(runner, tmp_path, KEY)["students"][0]
    assert result.score == document["score"] and result.max_score == document["max_score"]
    assert [(v.key, v.code, v.points, v.expected, v.detail, v.calculation or None) for v in result.verdicts] == [
        (v["key"], v["code"], v["points"], v["expected"], v["detail"], v["calculation"]) for v in document["verdicts"]]


@pytest.mark.parametrize("sheet", [
    SLIPPED,
    yaml.safe_load(KEY.read_text(encoding="utf-8")),
    yaml.safe_load((SHEETS / "class" / "ben.yaml").read_text(encoding="utf-8")),
    {"fprime[2]": "s(1-s)", "delta[3][1]": "-0.0264", "yhat[1]": "1/2", "z[1][1]": True, "z[1][2]": None},
], ids=["slipped", "answer-key", "ben", "text-answers"])
def test_a_mapping_is_marked_exactly_as_the_same_yaml_file(problem, tmp_path, sheet):
    path = tmp_path / "sheet.yaml"
    path.write_text(yaml.safe_dump(sheet, allow_unicode=True), encoding="utf-8")
    from_file = derive.grade(problem, path)
    from_mapping = derive.grade(problem, sheet, student="sheet")  # the file's name, when it has no id
    assert from_mapping.verdicts == from_file.verdicts
    assert (from_mapping.student, from_mapping.score) == (from_file.student, from_file.score)
    assert from_mapping.warnings == [re.sub(r"^line \d+: ", "", w) for w in from_file.warnings]  # no lines
    assert from_mapping.path == "<in memory>" and from_file.path == str(path)


def test_the_slipped_sheet_gets_its_verdicts(problem):
    result = derive.grade(problem, SLIPPED)
    codes = {key: result[key].code for key in ("z[1][1]", "z[3][1]", "delta[3][1]", "delta[2][1]", "delta[2][2]",
                                               "fprime[2]", "yhat[1]", "h[2][2]", "z[2][1]")}
    assert codes == {"z[1][1]": "OK", "z[3][1]": "OK", "delta[3][1]": "WRONG", "delta[2][1]": "FT",
                     "delta[2][2]": "OK", "fprime[2]": "WRONG", "yhat[1]": "UNREADABLE", "h[2][2]": "WRONG",
                     "z[2][1]": "MISSING"}
    assert result.student == "bob"
    assert result["delta[2][1]"].detail == "follow-through, using your δ³₁ = -0.05"
    assert result["yhat[1]"].detail == "'0,809': use a decimal point, not a comma"
    assert result.warnings == ["unknown key 'unknown[1]' ignored"]


def test_numbers_and_arrays_of_any_type_are_read_as_yaml_numbers_and_lists(problem):
    plain = derive.grade(problem, {"delta[3][1]": -0.0264, "z[1][1]": 2, "delta[2]": [-0.0006, -0.0008],
                                   "yhat[1]": 0.5})
    typed = derive.grade(problem, {"delta[3][1]": np.float64(-0.0264), "z[1][1]": np.int64(2),
                                   "delta[2]": np.array([-0.0006, -0.0008]), "yhat[1]": Fraction(1, 2)})
    assert typed.verdicts == plain.verdicts
    assert typed["delta[3][1]"].answer == "-0.0264"  # not "np.float64(-0.0264)"
    as_tuple = derive.grade(problem, {"delta[2]": (-0.0006, -0.0008)})
    assert as_tuple["delta[2][2]"].code == "OK"


@pytest.mark.parametrize("answer", ["__import__('os').system('echo hacked')", "exec('1')", "s.__class__", "lambda: 1"])
def test_answer_text_is_never_evaluated_as_python(problem, answer, capfd):
    result = derive.grade(problem, {"fprime[2]": answer, "yhat[1]": answer})
    assert result["fprime[2]"].code == "UNREADABLE" and result["yhat[1]"].code == "UNREADABLE"
    assert "hacked" not in capfd.readouterr().out


def test_a_verdict_is_found_by_key_or_the_closest_key_is_named(problem):
    result = derive.grade(problem, {"yhat[1]": 0.809})
    assert result["yhat[1]"].right
    with pytest.raises(KeyError, match=r"no graded item 'yhat\[2\]' \(did you mean 'yhat\[1\]'\?\)"):
        result["yhat[2]"]


def test_one_sheet_that_cannot_be_read_raises(problem, tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text("z[1][1]: [2,\n", encoding="utf-8")
    with pytest.raises(derive.AnswerSheetError, match=r"broken.yaml:2: malformed YAML"):
        derive.grade(problem, broken)
    with pytest.raises(derive.AnswerSheetError, match=r"too many answers"):
        derive.grade(problem, {"delta[2]": [0.1] * 10_001})
    with pytest.raises(TypeError, match="expected an answer sheet's path or a mapping"):
        derive.grade(problem, 0.809)


def test_the_text_report_of_one_sheet_is_what_the_command_line_prints(problem, runner):
    printed = runner.invoke(cli, ["grade", LECTURE, str(SHEETS / "class" / "ben.yaml")]).output
    result = derive.grade(problem, SHEETS / "class" / "ben.yaml")
    assert printed == f"Grading: {problem.title} ({problem.name})\n" + result.to_text()


# -- a class ------------------------------------------------------------------------
@pytest.fixture
def class_dir(tmp_path):
    folder = tmp_path / "submissions"
    folder.mkdir()
    (folder / "alice.yaml").write_text(KEY.read_text(encoding="utf-8"), encoding="utf-8")
    (folder / "bob.yaml").write_text(yaml.safe_dump({k: v for k, v in SLIPPED.items() if k != "id"}),
                                     encoding="utf-8")
    (folder / "carol.yaml").write_text("z[1][1]: [2,\n", encoding="utf-8")  # malformed
    (folder / "notes.txt").write_text("not a sheet", encoding="utf-8")  # ignored: not .yaml
    return folder


def test_a_class_is_graded_and_reported_as_the_command_line_does(problem, runner, class_dir, tmp_path):
    out = tmp_path / "cli"
    out.mkdir()
    files = {"csv": out / "g.csv", "json": out / "g.json", "gradescope": out / "gs", "summary_csv": out / "s.csv"}
    printed = runner.invoke(cli, ["grade", LECTURE, str(class_dir), "--csv", str(files["csv"]), "--json",
                                  str(files["json"]), "--gradescope", str(files["gradescope"]), "--summary-csv",
                                  str(files["summary_csv"])])
    assert printed.exit_code == 1
    result = derive.grade_class(problem, [class_dir])
    assert [sheet.student for sheet in result.results] == ["alice", "bob", "carol"]
    assert result.to_text() == printed.output
    assert result.gradebook_csv() == files["csv"].read_text(encoding="utf-8")
    assert result.verdicts_json() == files["json"].read_text(encoding="utf-8")
    assert result.gradescope_json(1) == (files["gradescope"] / "bob.json").read_text(encoding="utf-8")
    assert result.summary_csv() == files["summary_csv"].read_text(encoding="utf-8")
    written = tmp_path / "api"
    written.mkdir()
    result.write(**{option: written / path.name for option, path in files.items()})
    for path in files.values():
        for file in (sorted(path.iterdir()) if path.is_dir() else [path]):  # gradescope: a file per student
            assert (written / file.relative_to(out)).read_bytes() == file.read_bytes()


def test_an_unreadable_sheet_is_its_line_and_the_others_are_graded(problem, class_dir):
    result = derive.grade_class(problem, str(class_dir))  # one path, not a list
    assert [sheet.student for sheet in result.unreadable] == ["carol"]
    assert "carol.yaml:2: malformed YAML" in result["carol"].error
    assert result["alice"].score == derive.grade(problem, KEY).score
    assert result["bob"]["delta[2][1]"].code == "FT"
    with pytest.raises(KeyError, match="no sheet of student 'zoe'"):
        result["zoe"]


def test_files_and_directories_mix_in_the_order_given(problem, class_dir):
    result = derive.grade_class(problem, [KEY, class_dir / "bob.yaml", class_dir])
    assert [sheet.student for sheet in result.results] == ["lecture-answer-key", "bob", "alice", "bob", "carol"]


def test_no_sheets_is_an_error(problem, tmp_path):
    with pytest.raises(derive.DeriveError, match=r"^no answer sheets \(.yaml or .yml files\) in "):
        derive.grade_class(problem, [tmp_path])


# -- variants -------------------------------------------------------------------------
IDS = ["s1234567", "s2345678", "s3456789"]


def test_variants_are_the_files_derive_variants_writes(problem, runner, tmp_path):
    result = runner.invoke(cli, ["variants", LECTURE, "--roster", str(ROSTER), "--out", str(tmp_path / "cli")])
    assert result.exit_code == 0, result.output
    for students in (IDS, ROSTER, str(ROSTER)):
        made = derive.variants(problem, students)
        assert [variant.student for variant in made.variants] == IDS
        written = derive.write_variants(made, tmp_path / "api")
        assert [path.name for path in written] == [f"{s}.yaml" for s in IDS] + ["answer-key.md", "answer-key.tex"]
        for path in written:
            assert path.read_bytes() == (tmp_path / "cli" / path.name).read_bytes(), path.name
    assert repr(made).startswith("<VariantSet of lecture-bp-3layer (sha256 ") and repr(made).endswith(": 3 students>")


def test_a_sheet_is_graded_against_its_students_own_variant(problem, tmp_path):
    made = derive.variants("lecture-bp-3layer", IDS[:2], draws=1000)
    derive.write_variants(made, tmp_path / "variants")
    own = made.variants[0].problem.solve().values()
    assert own["yhat[1]"] != 0.809  # the problem's constraint: the lecture's answer is wrong for every variant
    theirs = {"id": IDS[0], "yhat[1]": own["yhat[1]"]}
    result = derive.grade(problem, theirs, variants=tmp_path / "variants")
    assert (result["yhat[1]"].code, result["yhat[1]"].expected) == ("OK", str(own["yhat[1]"]))
    lecture = derive.grade(problem, {"id": IDS[0], "yhat[1]": 0.809}, variants=tmp_path / "variants")
    assert lecture["yhat[1]"].code != "OK"
    with pytest.raises(derive.AnswerSheetError, match="no variant for student 'nobody'"):
        derive.grade(problem, {"id": "nobody"}, variants=tmp_path / "variants")


@pytest.mark.parametrize("students, message", [
    (["s1", "../escape"], "student id '../escape' is not safe as a file name (use letters, digits, '.', '_', "
                          "'-'; no '..', no leading '.')"),
    (["s1", ".hidden"], "student id '.hidden' is not safe as a file name (use letters, digits, '.', '_', "
                        "'-'; no '..', no leading '.')"),
    (["Ann", "ann"], "duplicate student id 'ann' ('Ann' is the same file name where case is ignored)"),
    (["s1", "s1"], "duplicate student id 's1'"),
    ([], "no students"),
])
def test_unsafe_or_repeated_student_ids_are_refused(problem, students, message):
    with pytest.raises(derive.DeriveError) as refused:
        derive.variants(problem, students)
    assert str(refused.value) == message


@pytest.mark.parametrize("draws", [0, -1, 1_000_001, 2.5, True])
def test_draws_is_a_whole_number_from_1(problem, draws):
    with pytest.raises(ValueError, match="draws: expected a whole number from 1 to 1000000"):
        derive.variants(problem, IDS, draws=draws)
