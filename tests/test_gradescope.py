"""Gradescope: results.json as its specification has it, and the autograder zip run in its real layout.

The schema below is written from Gradescope's specification
(gradescope/autograder_samples, docs/specs.md), not from derive's output.
The autograder is built by `derive gradescope`, unpacked under a temporary
root laid out as /autograder (AUTOGRADER_ROOT), installed from the wheel it
holds into a fresh venv, and run on good, partial, broken and hostile
submissions; every results.json it writes is validated.
"""

import json
import shutil
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import jsonschema
import pytest
import yaml

from derive import api
from derive.assignment import load
from derive.cli import cli
from derive.grading.gradescope import find_sheet, own_wheel, results

TESTS = Path(__file__).parent
VISIBILITY = {"enum": ["hidden", "after_due_date", "after_published", "visible"]}
FORMAT = {"enum": ["text", "html", "simple_format", "md", "ansi"]}
RESULTS_SCHEMA = {
    "type": "object",
    "properties": {
        "score": {"type": "number"},
        "execution_time": {"type": "number", "minimum": 0},
        "output": {"type": "string"},
        "output_format": FORMAT,
        "test_output_format": FORMAT,
        "test_name_format": FORMAT,
        "visibility": VISIBILITY,
        "stdout_visibility": VISIBILITY,
        "extra_data": {"type": "object"},
        "tests": {"type": "array", "items": {
            "type": "object",
            "properties": {
                "score": {"type": "number"}, "max_score": {"type": "number"},
                "status": {"enum": ["passed", "failed"]}, "name": {"type": "string"},
                "name_format": FORMAT, "number": {"type": "string"}, "output": {"type": "string"},
                "output_format": FORMAT, "tags": {"type": "array", "items": {"type": "string"}},
                "visibility": VISIBILITY, "extra_data": {"type": "object"},
            },
            "additionalProperties": False,
        }},
        "leaderboard": {"type": "array"},
    },
    "additionalProperties": False,
    "anyOf": [{"required": ["score"]}, {"required": ["tests"]}],
}


def valid(document):
    jsonschema.validate(document, RESULTS_SCHEMA)
    return document


@pytest.fixture(scope="module")
def lecture_class():
    return api.grade_class("lecture-bp-3layer", [str(TESTS / "sheets" / "class")])


def test_a_sheets_results_follow_the_spec_and_its_score_is_the_graders(lecture_class):
    ben = lecture_class.results.index(lecture_class["ben"])
    document = valid(results(lecture_class, ben))
    sheet = lecture_class["ben"]
    assert document["score"] == pytest.approx(sheet.score)
    graded = [test for test in document["tests"] if "solution" not in test["tags"]]
    assert [test["name"] for test in graded] == [verdict.key for verdict in sheet.verdicts]
    assert sum(test["score"] for test in graded) == pytest.approx(sheet.score)
    assert all(test["visibility"] == "visible" for test in graded)


def test_expected_values_wait_for_publishing_and_verdicts_do_not(lecture_class):
    document = results(lecture_class, lecture_class.results.index(lecture_class["ben"]))
    graded = [test for test in document["tests"] if "solution" not in test["tags"]]
    solutions = [test for test in document["tests"] if "solution" in test["tags"]]
    assert solutions and all(test["visibility"] == "after_published" and test["max_score"] == 0
                             for test in solutions)
    assert not any("expected" in test["output"] for test in graded)  # the value is not shown at once
    delta = next(test for test in solutions if test["name"].startswith("delta[3][1]"))
    assert "expected: -0.0264" in delta["output"]


@pytest.mark.parametrize("feedback, solutions, calculation", [
    ("verdict", False, False), ("expected", True, False), ("calculation", True, True)])
def test_the_feedback_policy_decides_what_is_shown(lecture_class, feedback, solutions, calculation):
    document = valid(results(lecture_class, lecture_class.results.index(lecture_class["ben"]), feedback))
    shown = [test for test in document["tests"] if "solution" in test["tags"]]
    assert bool(shown) == solutions
    assert any("=" in test["output"].split("\n", 1)[-1] for test in shown) == calculation


def test_the_sheets_warnings_reach_the_student(tmp_path):
    sheet = tmp_path / "s.yaml"
    sheet.write_text("yhat: 0.809\nyhatt[1]: 1\n", encoding="utf-8")
    document = valid(results(api.grade_class("lecture-bp-3layer", [str(sheet)])))
    assert "Not graded: line 2: unknown key 'yhatt[1]' ignored (did you mean 'yhat[1]'?)" in document["output"]


def test_several_sheets_give_one_results_file_each(runner, tmp_path):
    out = tmp_path / "gradescope"
    result = runner.invoke(cli, ["grade", "lecture-bp-3layer", str(TESTS / "sheets" / "class"),
                                 "--gradescope", str(out)])
    assert result.exit_code == 1  # one sheet of that class is unreadable
    files = sorted(path.name for path in out.iterdir())
    assert files == ["anna.json", "ben.json", "chloe.json", "dan.json"]
    for path in out.iterdir():
        valid(json.loads(path.read_text(encoding="utf-8")))
    dan = json.loads((out / "dan.json").read_text(encoding="utf-8"))
    assert dan["score"] == 0 and "could not be graded" in dan["output"]


def test_an_assignments_results_scale_each_part(tmp_path):
    homework = load("hw-lecture")
    sheet = tmp_path / "ada.yaml"
    sheet.write_text("hw1:\n  yhat[1]: 0.5\nhw2-sigmoid:\n  d1: s(1-s)\nhw3: [1]\n", encoding="utf-8")
    result = api.grade_assignment(homework, [sheet])
    document = valid(results(result, 0, homework.feedback))
    assert document["score"] == pytest.approx(result.score(result.results[0]))
    assert sum(test["max_score"] for test in document["tests"]) == pytest.approx(100)
    assert any(test["name"] == "hw3: answers" and test["status"] == "failed" for test in document["tests"])


@pytest.mark.parametrize("files, message", [
    ({}, "No answer sheet (.yaml file) was found in your submission."),
    ({"answers.txt": "yhat: 1"}, "No answer sheet (.yaml file) was found in your submission (it holds: answers.txt)."),
    ({"a.yaml": "", "b.yml": ""}, "Your submission holds 2 YAML files (a.yaml, b.yml); upload exactly one answer sheet."),
])
def test_a_submission_without_one_sheet_is_told_what_to_upload(tmp_path, files, message):
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    assert find_sheet(tmp_path) == message


def test_a_link_in_a_submission_is_never_followed(tmp_path):
    (tmp_path / "sheet.yaml").symlink_to("/etc/passwd")
    assert find_sheet(tmp_path).startswith("No answer sheet")


def test_the_wheel_is_the_same_bytes_every_time_and_holds_every_bundled_file():
    name, first = own_wheel()
    assert own_wheel() == (name, first)
    with zipfile.ZipFile(__import__("io").BytesIO(first)) as archive:
        names = set(archive.namelist())
    package = Path(__import__("derive").__file__).parent
    for path in [*package.glob("problems/*.yaml"), *package.glob("problems/assignments/*.yaml")]:
        assert f"derive/{path.relative_to(package).as_posix()}" in names
    assert any(entry.endswith(".dist-info/RECORD") for entry in names)


# -- the autograder in its layout ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def autograder(tmp_path_factory):
    """(root, env): the zip of `derive gradescope` for a problem file of one's own, unpacked as
    /autograder/source under a temporary root, with derive installed from its wheel into a fresh venv
    (dependencies borrowed from this environment: the machine need not reach an index)."""
    from click.testing import CliRunner

    work = tmp_path_factory.mktemp("autograder")
    problem = work / "my-forward.yaml"
    shutil.copy(TESTS.parent / "derive" / "problems" / "lecture-forward.yaml", problem)
    result = CliRunner().invoke(cli, ["gradescope", str(problem), "--out", str(work / "autograder.zip")])
    assert result.exit_code == 0, result.output
    root = work / "root"
    (root / "source").mkdir(parents=True)
    with zipfile.ZipFile(work / "autograder.zip") as archive:
        archive.extractall(root / "source")
        names = archive.namelist()
        modes = {info.filename: info.external_attr >> 16 for info in archive.infolist()}
    assert {"setup.sh", "run_autograder"} <= set(names)
    assert modes["run_autograder"] & 0o111 and modes["setup.sh"] & 0o111
    environment = work / "venv"
    venv.EnvBuilder(with_pip=False).create(environment)
    python = environment / "bin" / "python"
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip())
    (site / "borrowed.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    wheel = next((root / "source").glob("derive-*.whl"))
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "-q", str(wheel)],
                   check=True, capture_output=True, timeout=300)
    env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "AUTOGRADER_ROOT": str(root), "DERIVE_VENV": str(environment)}
    return root, env


SUBMISSIONS = {
    "good": {"answers.yaml": yaml.safe_dump({"yhat": [0.9848, 0.5416], "z[2]": [4.1679, 0.1666]})},
    "partial": {"answers.yaml": "yhat[1]: 0.5\nyhatt: 1\n"},
    "broken": {"answers.yaml": "yhat: [0.98,\n"},
    "empty": {},
    "binary": {"answers.yaml": "\x00\xff\xfe garbage"},
    "hostile": {"answers.yaml": "id: \"<script>alert(1)</script>\\u202e\"\nyhat[1]: \"exp(exp(exp(exp(9))))\"\n"
                                "z[2][1]: \"" + "(" * 5000 + "\"\n"},
    "in a folder": {"upload/answers.yml": "yhat[1]: 0.9848\n"},
}


@pytest.mark.parametrize("kind", list(SUBMISSIONS))
def test_the_autograder_writes_a_valid_result_for_every_submission(autograder, kind):
    root, env = autograder
    submission = root / "submission"
    shutil.rmtree(submission, ignore_errors=True)
    submission.mkdir()
    for name, text in SUBMISSIONS[kind].items():
        (submission / name).parent.mkdir(parents=True, exist_ok=True)
        (submission / name).write_bytes(text.encode("utf-8", "surrogateescape"))
    process = subprocess.run(["bash", str(root / "source" / "run_autograder")], env=env, capture_output=True,
                             text=True, timeout=600)
    assert process.returncode == 0, process.stderr
    document = valid(json.loads((root / "results" / "results.json").read_text(encoding="utf-8")))
    graded = [test for test in document["tests"] if "solution" not in test["tags"]]
    if kind == "good":
        assert document["score"] == 4 and all(test["status"] == "passed" for test in graded
                                               if test["name"] in ("yhat[1]", "yhat[2]", "z[2][1]", "z[2][2]"))
    elif kind == "in a folder":
        assert document["score"] == 1
    elif kind == "partial":
        assert document["score"] == 0 and "unknown key 'yhatt' ignored" in document["output"]
    elif kind == "hostile":
        assert "<script>" in document["output"] and "\\u202e" in document["output"]  # text, shown as written
        assert document["output_format"] == "text" and all(t["output_format"] == "text" for t in document["tests"])
    else:
        assert document["score"] == 0 and document["tests"] == []
        assert "Upload one YAML answer sheet" in document["output"]


def test_without_derive_the_autograder_still_writes_a_result(autograder, tmp_path):
    root, env = autograder
    process = subprocess.run(["bash", str(root / "source" / "run_autograder")],
                             env={**env, "DERIVE_VENV": str(tmp_path / "nothing")}, capture_output=True, text=True,
                             timeout=120)
    assert process.returncode == 0
    document = valid(json.loads((root / "results" / "results.json").read_text(encoding="utf-8")))
    assert document["score"] == 0 and "could not run derive" in document["output"]


def test_the_zip_is_byte_identical_run_to_run(runner, tmp_path):
    for name in ("a.zip", "b.zip"):
        assert runner.invoke(cli, ["gradescope", "hw-lecture", "--out", str(tmp_path / name)]).exit_code == 0
    assert (tmp_path / "a.zip").read_bytes() == (tmp_path / "b.zip").read_bytes()
