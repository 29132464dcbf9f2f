"""The command line as a user meets it: every command, every format, bundled names."""

import json
import re
import subprocess
import sys

import click
import pytest

from derive.cli import cli
from derive.kinds import available
from conftest import PROBLEMS

COMMANDS = [name for name in cli.commands]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(runner, command):
    """--help shows the command's own first line and names every option it declares."""
    result = runner.invoke(cli, [command, "--help"])
    assert result.exit_code == 0
    declared = cli.commands[command]
    assert declared.help.split("\n")[0] in result.output
    options = [name for param in declared.params if isinstance(param, click.Option) and not param.hidden
               for name in param.opts + param.secondary_opts]
    assert all(name in result.output for name in options), result.output


def test_list_shows_every_bundled_problem_once(runner):
    result = runner.invoke(cli, ["list"])
    assert result.exit_code == 0
    lines = result.output.splitlines()
    bundled = [*PROBLEMS.glob("*.yaml"), *(PROBLEMS / "assignments").glob("*.yaml")]
    assert sorted(line.split()[0] for line in lines) == sorted(p.stem for p in bundled)
    assert all(line.split()[1] in [*available(), "assignment"] for line in lines)


@pytest.mark.parametrize("format_", ["text", "markdown", "latex", "json"])
@pytest.mark.parametrize("problem", sorted(p.stem for p in PROBLEMS.glob("*.yaml")))
def test_every_bundled_problem_solves_in_every_format(runner, problem, format_):
    result = runner.invoke(cli, ["solve", problem, "--format", format_])
    assert result.exit_code == 0, result.output
    assert result.output.strip()
    if format_ == "json":
        assert json.loads(result.output)["problem"] == problem


def test_a_bundled_problem_is_found_by_name_and_by_path(runner):
    by_name = runner.invoke(cli, ["solve", "lecture-bp-3layer"]).output
    by_path = runner.invoke(cli, ["solve", str(PROBLEMS / "lecture-bp-3layer.yaml")]).output
    assert by_name == by_path


def test_an_unknown_bundled_name_suggests_the_closest(runner):
    result = runner.invoke(cli, ["solve", "lecture-bp-3layr"])
    assert result.exit_code == 2
    assert "did you mean 'lecture-bp-3layer'?" in result.output


def test_keys_flag_shows_answer_sheet_keys(runner):
    result = runner.invoke(cli, ["solve", "lecture-bp-3layer", "--keys"])
    assert "δ²₁ = δ³₁ w³₁₁ h²₁ (1 - h²₁) = -0.0264·1·0.9781·(1 - 0.9781) = -0.0006   [delta[2][1]]" in result.output


def test_exact_overrides_the_files_rounding(runner):
    rounded = runner.invoke(cli, ["solve", "lecture-bp-3layer"]).output
    exact = runner.invoke(cli, ["solve", "lecture-bp-3layer", "--exact"]).output
    assert "h²₁ = 1/(1 + exp(-z²₁)) = 1/(1 + exp(-3.8)) = 0.9781\n" in rounded
    assert "h²₁ = 1/(1 + exp(-z²₁)) = 1/(1 + exp(-3.8)) = 0.978119\n" in exact


def test_check_reports_ok(runner):
    result = runner.invoke(cli, ["check", str(PROBLEMS / "lecture-bp-3layer.yaml")])
    assert result.exit_code == 0
    assert result.output.endswith("lecture-bp-3layer.yaml: ok (mlp_backprop)\n")


def test_python_dash_m_is_the_same_program():
    result = subprocess.run([sys.executable, "-m", "derive", "list"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0
    assert "lecture-bp-3layer" in result.stdout


def test_list_lines_up_its_columns(runner):
    """Name, kind and title each start at one column, however long the longest kind name is."""
    columns = [re.match(r"(\S+ +)(\S+ +)\S", line) for line in runner.invoke(cli, ["list"]).output.splitlines()]
    assert all(columns)
    assert len({len(m.group(1)) for m in columns}) == 1
    assert len({len(m.group(1) + m.group(2)) for m in columns}) == 1


def test_bundled_problems_come_in_name_order_even_when_one_name_begins_another(tmp_path, monkeypatch):
    import derive.problem

    for name in ("batch-noise-x", "batch-noise", "batch-mean"):
        (tmp_path / f"{name}.yaml").write_text("kind: derivative\n", encoding="utf-8")
    monkeypatch.setattr(derive.problem, "BUNDLED", tmp_path)
    assert [p.stem for p in derive.problem.bundled_problems()] == ["batch-mean", "batch-noise", "batch-noise-x"]
