"""The `lecture` field: where the lecture printed something else, read, checked, and shown beside its step.

A problem file maps step keys (or `general`) to `{printed, why}` (or a list
of them); the Solution carries them on its Steps (and `Solution.lecture`);
every format prints them beside the step they concern. Checked here: the
reading and its one-line errors, each format's placement (our own contract:
the note follows its step's line, before the next step's), a golden file per
format of a small problem that has every case, the LaTeX compiled, the HTML
page held to the page checks, the JSON Schema and the docs' table of the
bundled problems' notes.
"""

import json
import re
from types import SimpleNamespace

import jsonschema
import pytest
import yaml

from conftest import PROBLEMS, SMALL_NETWORK, latex_errors, needs_pdflatex, pdflatex, solve_error
from derive.cli import cli
from derive.fields import schema
from derive.problem import bundled_problems, load_problem
from derive.render import PRINTERS, render
from derive.steps import LectureNote
from derive.vary.variants import variant_text
from test_html import check_page

# Every case at once: a general note and a list of two, a note on a given of a group of two, one on a
# computed step, one on a step that has a note of its own (printed beside the rows in LaTeX), and the
# signs each format must show as written (Markdown's * _ $, LaTeX's % & #, HTML's <b>).
LECTURE = """\
loss_after: true
lecture:
  general:
    - printed: "p = 0.5"
      why: "p is the keep probability on one slide and the drop probability on another"
    - printed: "E = (ŷ − y)²"
      why: "the lecture's loss has no 1/2 here, and 1/2 elsewhere"
  x[1]:
    printed: "x₁ = 2"
    why: "a misprint: the sample is x = (1, 0)"
  delta[1][1]:
    printed: "δ¹₁ = (ŷ − y)·ŷ(1 − ŷ) = −0.089 * 2"
    why: "the lecture doubled it: 50% too_much, & #1 <b>not</b> $5"
  loss_change:
    printed: "E′ − E = +0.01"
    why: "the loss went down, not up"
"""
NOTED = {"x[1]": 1, "delta[1][1]": 1, "loss_change": 1}


@pytest.fixture
def problem_file(tmp_path):
    path = tmp_path / "noted.yaml"
    path.write_text(SMALL_NETWORK + LECTURE, encoding="utf-8")
    return path


@pytest.fixture
def solution(problem_file):
    return load_problem(problem_file).solve()


# -- reading ---------------------------------------------------------------------------------------

def test_the_notes_ride_on_their_steps_and_the_general_ones_on_the_solution(solution):
    assert {step.key: len(step.lecture) for step in solution if step.lecture} == NOTED
    assert solution["delta[1][1]"].lecture == (
        LectureNote("δ¹₁ = (ŷ − y)·ŷ(1 − ŷ) = −0.089 * 2", "the lecture doubled it: 50% too_much, & #1 <b>not</b> $5"),)
    assert [note.printed for note in solution.lecture] == ["p = 0.5", "E = (ŷ − y)²"]


def test_a_note_changes_no_value_and_no_step_compares_differently(problem_file, tmp_path):
    plain = tmp_path / "plain.yaml"
    plain.write_text(SMALL_NETWORK + "loss_after: true\n", encoding="utf-8")
    noted, bare = load_problem(problem_file).solve(), load_problem(plain).solve()
    assert noted.values() == bare.values() and list(noted) == list(bare)
    assert bare.lecture == () and all(step.lecture == () for step in bare)


def test_a_folded_why_is_one_line(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text(SMALL_NETWORK + "lecture:\n  y[1]:\n    printed: y = 0.98\n    why: >-\n      two\n      lines\n",
                    encoding="utf-8")
    assert load_problem(path).solve()["y[1]"].lecture == (LectureNote("y = 0.98", "two lines"),)


# Lines of SMALL_NETWORK + "lecture:" (line 10) + these lines: 11, 12, ...
@pytest.mark.parametrize("text, message", [
    ("  delta[9][9]:\n    printed: a\n    why: b\n",
     "12: lecture.delta[9][9]: unknown step key 'delta[9][9]' (did you mean 'delta[1][1]'?)"),
    ("  genral:\n    printed: a\n    why: b\n", "12: lecture.genral: unknown step key 'genral' (did you mean 'general'?)"),
    ("  delta[1][1]:\n    printed: a\n", "12: lecture.delta[1][1].why: missing required field"),
    ("  delta[1][1]:\n    printed: a\n    why: b\n    wy: c\n",
     "14: lecture.delta[1][1].wy: unknown field (did you mean 'why'?)"),
    ("  delta[1][1]:\n    printed: 3\n    why: b\n", "12: lecture.delta[1][1].printed: expected text, got 3"),
    ("  delta[1][1]: []\n", "11: lecture.delta[1][1]: expected a note {printed, why} or a list of them, got an "
                            "empty list"),
    ("  delta[1][1]: the lecture is wrong\n",
     "11: lecture.delta[1][1]: expected a mapping of fields, got text 'the lecture is wrong'"),
    ("  - printed: a\n    why: b\n", "11: lecture: expected a mapping of fields, got a list of 1"),
])
def test_a_bad_lecture_field_is_one_line_naming_file_line_and_field(runner, tmp_path, text, message):
    assert solve_error(runner, tmp_path, SMALL_NETWORK + "lecture:\n" + text) == f"{tmp_path / 'p.yaml'}:{message}\n"


def test_derive_check_finds_an_unknown_key_too(runner, tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text(SMALL_NETWORK + "lecture:\n  w[1][3][1]:\n    printed: a\n    why: b\n", encoding="utf-8")
    result = runner.invoke(cli, ["check", str(path)])
    assert result.exit_code == 2
    assert result.stderr == f"{path}:12: lecture.w[1][3][1]: unknown step key 'w[1][3][1]' (did you mean " \
                            "'w[1][2][1]'?)\n"


@pytest.mark.parametrize("entry", [
    {"x[1]": {"printed": "a"}},
    {"x[1]": {"printed": "a", "why": "b", "wy": "c"}},
    {"x[1]": []},
    {"x[1]": "text"},
    ["a"],
])
def test_the_schema_refuses_what_derive_refuses(entry):
    data = {**yaml.safe_load(SMALL_NETWORK), "lecture": entry}
    assert list(jsonschema.Draft202012Validator(schema("mlp_backprop")).iter_errors(data)) != []


def test_the_schema_accepts_one_note_or_a_list():
    data = {**yaml.safe_load(SMALL_NETWORK + LECTURE)}
    assert list(jsonschema.Draft202012Validator(schema("mlp_backprop")).iter_errors(data)) == []


def test_a_variant_leaves_the_lecture_out():
    data = {"kind": "mlp_backprop", "notes": "n", "lecture": {"general": {"printed": "a", "why": "b"}}}
    text = variant_text(data, SimpleNamespace(name="base"), "0" * 64, "s1", 1)
    assert "lecture" not in yaml.safe_load(text) and "notes" in yaml.safe_load(text)


# -- each format: the note beside its step ---------------------------------------------------------

def _after(text, before, note, following):
    """`note` appears after `before` and before `following` (the next step's line) in `text`."""
    start = text.index(before)
    return start < text.index(note, start) < text.index(following, start)


# (format, the printed text of the delta's note as the format shows it, the delta's line, the next line)
PLACES = [
    ("text", "the lecture printed: δ¹₁ = (ŷ − y)·ŷ(1 − ŷ) = −0.089 * 2", "δ¹₁ = ", "∂E/∂w¹₁₁"),
    ("markdown", "  - *the lecture printed:* `δ¹₁ = (ŷ − y)·ŷ(1 − ŷ) = −0.089 * 2`", r"- $\delta^{1}_{1} = ",
     r"\frac{\partial E}{\partial w^{1}_{11}}"),
    ("latex", r"\textit{the lecture printed:} \ensuremath{\delta^{1}_{1}} = (\ensuremath{\hat{y}", r"\delta^{1}_{1} &= ",
     r"\frac{\partial E}{\partial w^{1}_{11}}"),
    ("html", '<p class="lecture"><em>the lecture printed:</em> δ¹₁ = (ŷ − y)·ŷ(1 − ŷ) = −0.089 * 2',
     "<msubsup><mi>δ</mi>", "</li>"),
]


@pytest.mark.parametrize("format, note, step, following", PLACES, ids=[p[0] for p in PLACES])
def test_each_format_prints_the_note_right_after_its_step(solution, format, note, step, following):
    assert _after(render(solution, format), step, note, following)


@pytest.mark.parametrize("format, why", [
    ("text", "the lecture doubled it: 50% too_much, & #1 <b>not</b> $5"),
    ("markdown", r"the lecture doubled it: 50% too\_much, & \#1 \<b\>not\</b\> \$5"),
    ("latex", r"the lecture doubled it: 50\% too\_much, \& \#1 \textless{}b\textgreater{}not\textless{}/b\textgreater{} \$5"),
    ("html", "the lecture doubled it: 50% too_much, &amp; #1 &lt;b&gt;not&lt;/b&gt; $5"),
])
def test_each_format_shows_the_why_as_written(solution, format, why):
    assert why in render(solution, format)


@pytest.mark.parametrize("format", ["text", "markdown", "latex", "html"])
def test_the_general_notes_come_before_the_first_section(solution, format):
    text = render(solution, format)
    assert text.index("p is the keep probability") < text.index("E = (ŷ − y)²" if format != "latex" else
                                                                  "the lecture's loss has no 1/2") < text.index("Given")


def test_json_carries_each_note_on_its_step_and_the_general_ones_on_the_document(solution):
    document = json.loads(render(solution, "json"))
    assert document["lecture"] == [{"printed": "p = 0.5", "why": "p is the keep probability on one slide and the "
                                                                  "drop probability on another"},
                                   {"printed": "E = (ŷ − y)²", "why": "the lecture's loss has no 1/2 here, and 1/2 "
                                                                      "elsewhere"}]
    steps = {step["key"]: step["lecture"] for step in document["steps"]}
    assert {key: len(notes) for key, notes in steps.items() if notes} == NOTED
    assert steps["loss_change"] == [{"printed": "E′ − E = +0.01", "why": "the loss went down, not up"}]
    assert all(isinstance(notes, list) for notes in steps.values())  # on every step, empty on most


@pytest.mark.parametrize("format, suffix", [("text", "txt"), ("markdown", "md"), ("latex", "tex"), ("html", "html"),
                                            ("json", "json")])
def test_every_format_matches_its_golden_file(solution, golden, format, suffix):
    assert set(PRINTERS) == {"text", "markdown", "latex", "html", "json"}  # a new format needs a row here
    golden(f"lecture-notes.{suffix}", render(solution, format))


def test_the_page_passes_the_page_checks(solution):
    text = check_page(render(solution, "html"))
    assert "the lecture printed: x₁ = 2" in text and "\\" not in text


@needs_pdflatex
def test_the_latex_compiles_and_every_note_fits_the_page(solution, tmp_path):
    (tmp_path / "noted.tex").write_text(render(solution, "latex"), encoding="utf-8")
    code, log = pdflatex(tmp_path, "noted")
    assert code == 0, latex_errors(log)
    assert "Overfull \\hbox" not in log


@needs_pdflatex
@pytest.mark.parametrize("name", [path.stem for path in bundled_problems()
                                  if "\nlecture:" in path.read_text(encoding="utf-8")])
def test_a_bundled_problems_notes_fit_the_page(name, tmp_path):
    (tmp_path / f"{name}.tex").write_text(render(load_problem(name).solve(), "latex"), encoding="utf-8")
    code, log = pdflatex(tmp_path, name)
    assert code == 0, latex_errors(log)
    assert "Overfull \\hbox" not in log


# -- the bundled problems and the docs ---------------------------------------------------------------

def bundled_notes():
    """(problem, step key or `general`, printed) of every lecture note of the bundled problems."""
    rows = []
    for path in bundled_problems():
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for key, entry in (data.get("lecture") or {}).items():
            for note in entry if isinstance(entry, list) else [entry]:
                rows.append((path.stem, key, note["printed"]))
    return rows


def test_the_bundled_problems_record_the_lectures_slips():
    assert {(name, key) for name, key, _ in bundled_notes()} >= {
        ("lecture-bp-3layer", "grad_w[1][2][1]"), ("lecture-bp-3layer", "h[1][1]"),
        ("lecture-bp-3layer", "delta[1][1]"), ("lecture-bp-3layer", "grad_theta[3][1]"),
        ("lecture-forward", "z[2][2]"), ("bp-derivation-matrix", "vector.delta[2]"),
        ("bp-derivation-matrix", "rule.delta_output"), ("bp-derivation-matrix", "rule.grad_b"),
        ("optimizer-each", "adagrad.sigma[1][w1]"), ("dropout-inverted", "keep"), ("dropout-weight-scaling", "drop")}


def test_the_lectures_page_lists_every_note_of_the_bundled_problems():
    page = (PROBLEMS.parent.parent / "docs" / "lectures.md").read_text(encoding="utf-8")
    table = re.search(r"<!-- lecture notes -->\n(.*?)<!-- end lecture notes -->", page, re.S)[1]
    listed = re.findall(r"^\| `([\w-]+)` \| `([^`]+)` \|", table, re.M)
    assert listed == [(name, key) for name, key, _ in bundled_notes()]
