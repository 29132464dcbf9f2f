"""The `grading` field: every entry checked where the file is checked, one line naming file, line and field.

`derive check` reads the block against the solved problem (a pattern must
match a step key, points go to graded items), as `derive grade` does before
marking anything; a broken block is refused by both, with the same line, and
the entries the JSON Schema can express are refused by the schema too.
"""

import json

import jsonschema
import pytest
import yaml

from derive.cli import cli
from derive.fields import schema
from conftest import SMALL_NETWORK, extended

# (the block, line 10 onwards; the message after `p.yaml:LINE: `; whether the schema refuses it too)
BROKEN = [
    ("grading:\n  follow_through: 2", "11: grading.follow_through: expected a fraction from 0 to 1, got 2", True),
    ("grading:\n  follow_through: -0.5", "11: grading.follow_through: expected a fraction from 0 to 1, got -0.5",
     True),
    ("grading:\n  items: ['z[9][1]']", "11: grading.items[0]: unknown step key 'z[9][1]' (did you mean 'z[1][1]'?)", False),
    ("grading:\n  items: ['delta[*]']\n  points: {loss: 2}", "12: grading.points.loss: unknown step key 'loss' "
     "among the graded items", False),
    ("grading:\n  points: {loss: -1}", "11: grading.points.loss: expected a number >= 0, got -1", True),
    ("grading:\n  tolerance: {}", "11: grading.tolerance: expected at least one of absolute, relative, decimals, "
     "sig_figs", True),
    ("grading:\n  tolerance: {decimal: 4}", "11: grading.tolerance.decimal: unknown field (did you mean "
     "'decimals'?)", True),
    ("grading:\n  tolerance: {sig_figs: 0}", "11: grading.tolerance.sig_figs: expected a whole number >= 1, "
     "got 0", True),
    ("grading:\n  item_tolerance: {'w_new[*]': {relative: -0.1}}",
     "11: grading.item_tolerance.w_new[*].relative: expected a number >= 0, got -0.1", True),
    ("grading:\n  slips: {rounding: 1.5}", "11: grading.slips.rounding: expected a fraction from 0 to 1, got 1.5",
     True),
    ("grading:\n  follow-through: 1", "11: grading.follow-through: unknown field (did you mean "
     "'follow_through'?)", True),
]


def write(tmp_path, block):
    path = tmp_path / "p.yaml"
    path.write_text(extended(SMALL_NETWORK, block), encoding="utf-8")
    return path


@pytest.mark.parametrize("block, message, _", BROKEN, ids=[m.split(": ")[1] + ":" + m[-12:] for _, m, _ in BROKEN])
@pytest.mark.parametrize("command", ["check", "grade"])
def test_a_broken_grading_block_is_one_line_from_check_and_grade(tmp_path, runner, command, block, message, _):
    path = write(tmp_path, block)
    sheet = tmp_path / "sheet.yaml"
    sheet.write_text("z[1][1]: 0.5\n", encoding="utf-8")
    args = [command, str(path)] + ([str(sheet)] if command == "grade" else [])
    result = runner.invoke(cli, args)
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == f"{path}:{message}\n"


@pytest.mark.parametrize("block, message, refused", BROKEN, ids=[m.split(": ")[1] for _, m, _ in BROKEN])
def test_the_schema_refuses_what_it_can_express(tmp_path, block, message, refused):
    data = yaml.safe_load(extended(SMALL_NETWORK, block))
    errors = list(jsonschema.Draft202012Validator(schema("mlp_backprop")).iter_errors(data))
    assert bool(errors) == refused


def test_a_good_grading_block_checks_ok_and_grades_by_it(tmp_path, runner):
    path = write(tmp_path, "grading:\n  items: ['z[*]', loss]\n  points: {loss: 2}\n  follow_through: 0.5\n"
                           "  tolerance: {decimals: 2}\n  item_tolerance: {'z[*]': {absolute: 0.1}}\n"
                           "  slips: {rounding: 0.5}")
    assert list(jsonschema.Draft202012Validator(schema()).iter_errors(yaml.safe_load(path.read_text()))) == []
    checked = runner.invoke(cli, ["check", str(path)])
    assert (checked.exit_code, checked.stdout) == (0, f"{path}: ok (mlp_backprop)\n")
    sheet = tmp_path / "sheet.yaml"
    sheet.write_text("z[1][1]: 0.45\nloss: 0\n", encoding="utf-8")  # z = 0.5·1 - 0.5·0 = 0.5, within 0.1
    report = tmp_path / "report.json"
    graded = runner.invoke(cli, ["grade", str(path), str(sheet), "--json", str(report)])
    assert graded.exit_code == 0
    [student] = json.loads(report.read_text(encoding="utf-8"))["students"]
    verdicts = {v["key"]: v for v in student["verdicts"]}
    assert list(verdicts) == ["z[1][1]", "loss"]
    assert (verdicts["z[1][1]"]["code"], verdicts["z[1][1]"]["points"]) == ("OK", 1)
    assert (verdicts["loss"]["code"], verdicts["loss"]["max_points"]) == ("WRONG", 2)
