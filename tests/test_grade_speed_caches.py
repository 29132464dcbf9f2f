"""What makes grading a class fast changes no verdict: a number's verdict remembered with the numbers it
rests on, an expression decided once however it is spaced, numbers with exponents read without the YAML
loader, a problem's Grader kept between `derive.grade` calls. Each sheet of a class graded by one Grader
gets the verdicts a fresh Grader gives it."""

import random
import shutil
import threading

import pytest

import derive
from derive import api
from derive.grading import grader as grader_module
from derive.grading.grader import Grader
from derive.grading.sheet import _SheetLoader, _flat, read_sheet
from derive.problem import load_problem
from conftest import PROBLEMS

LECTURE = PROBLEMS / "lecture-bp-3layer.yaml"
FORMS = ["s*(1-s)", "s * (1 - s)", "s*(1 - s)", "s(1-s)", "σ(1-σ)", "exp(-x)/(1+exp(-x))^2",
         "exp(-x) / (1 + exp(-x))**2", "1-s", "1 - s", "s*(1+s)", "s(1-s", "x*(1-x)"]


@pytest.fixture(scope="module")
def problem():
    return load_problem(LECTURE)


def written(rng, value):
    return rng.choice([f"{value:.3f}", f"{value:.4f}", f"{value:.6f}", repr(value), f"{value:.4e}"])


def class_sheets(grader, folder, count=40, seed=3):
    """Sheets that share wrong numbers, carry them through with different inputs, and space expressions."""
    rng = random.Random(seed)
    chain = grader.rounded or grader.exact
    breaks = [chain.evaluate({"delta[3][1]": wrong}) for wrong in (-0.05, 0.1)]
    for n in range(count):
        lines = [f"id: s{n}"]
        carried = rng.choice(breaks) if rng.random() < 0.4 else None
        for key in grader.items:
            if grader.exact[key].is_symbolic:
                lines.append(f'{key}: "{rng.choice(FORMS)}"')
                continue
            r = rng.random()
            if r < 0.1:
                continue
            value = carried[key] if carried else grader.rounded_values[key] * rng.choice([1, 1, 1, -1, 1.1, 2])
            lines.append(f"{key}: {written(rng, value)}")
        (folder / f"s{n:02d}.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return sorted(folder.glob("*.yaml"))


@pytest.mark.parametrize("diagnose", [True, False])
def test_a_class_graded_by_one_grader_gets_each_sheet_s_fresh_verdicts(problem, tmp_path, diagnose):
    grader = Grader(problem, diagnose=diagnose)
    known = set(grader.exact_values)
    paths = class_sheets(grader, tmp_path)
    together = [grader.grade(read_sheet(path, known)) for path in paths]
    alone = [Grader(problem, diagnose=diagnose).grade(read_sheet(path, known)) for path in paths]
    assert [r.verdicts for r in together] == [r.verdicts for r in alone]
    assert {v.code for r in together for v in r.verdicts} >= {"OK", "FT", "WRONG", "SIGN", "MISSING", "UNREADABLE"}
    if diagnose:
        assert any(v.slip for r in together for v in r.verdicts)


def test_a_grader_whose_memos_fill_up_forgets_and_still_gives_fresh_verdicts(problem, tmp_path, monkeypatch):
    monkeypatch.setattr(grader_module, "MAX_REMEMBERED", 3)  # every memo cleared again and again
    grader = Grader(problem)
    known = set(grader.exact_values)
    paths = class_sheets(grader, tmp_path)
    together = [grader.grade(read_sheet(path, known)) for path in paths]
    # a wrong number's slip is remembered under two keys (derive.grading.grader._DIAGNOSED): one more
    assert len(grader._numbers) <= 4
    assert all(len(memo) <= 3 for memo in (grader._expressions, grader._parsed, grader._calculations,
                                            *grader._settled.values()))
    alone = [Grader(problem).grade(read_sheet(path, known)) for path in paths]
    assert [r.verdicts for r in together] == [r.verdicts for r in alone]


def fresh(problem, path):
    """A sheet's result from a Grader made for it alone."""
    grader = Grader(problem)
    return grader.grade(read_sheet(path, grader.known_keys))


@pytest.mark.parametrize("given", ["name", "path", "problem"])
def test_one_call_per_sheet_gives_each_sheet_s_fresh_verdicts(problem, tmp_path, given):
    api._KEPT.clear()
    paths = class_sheets(Grader(problem), tmp_path)
    which = {"name": "lecture-bp-3layer", "path": str(LECTURE), "problem": problem}[given]
    called = [derive.grade(which, path) for path in paths]
    assert [(r.student, r.verdicts) for r in called] == [(r.student, r.verdicts) for r in
                                                         (fresh(problem, path) for path in paths)]
    assert any(v.calculation for r in called for v in r.verdicts)  # one sheet's verdicts show their calculations


def test_a_problem_file_edited_between_calls_is_graded_as_it_now_reads(problem, tmp_path):
    (tmp_path / "sheets").mkdir()
    path = class_sheets(Grader(problem), tmp_path / "sheets", count=1)[0]
    copy = tmp_path / "net.yaml"
    shutil.copy(LECTURE, copy)
    before = derive.grade(copy, path)
    text = LECTURE.read_text(encoding="utf-8")
    copy.write_text(text.replace("  follow_through: 1\n", "  follow_through: 1\n  points: {\"yhat[1]\": 5}\n"),
                    encoding="utf-8")
    after = derive.grade(copy, path)
    assert after.max_score == before.max_score + 4
    assert after.verdicts == fresh(load_problem(copy), path).verdicts
    copy.write_text(text, encoding="utf-8")  # and back: the first file's grading again
    assert derive.grade(copy, path).verdicts == before.verdicts


def test_calls_from_several_threads_give_the_verdicts_of_one_at_a_time(problem, tmp_path):
    api._KEPT.clear()
    paths = class_sheets(Grader(problem), tmp_path)
    alone = threading.Thread(target=lambda: expected.extend(fresh(problem, path).verdicts for path in paths))
    expected = []
    alone.start()
    alone.join()  # in a thread, as the calls below: outside the main thread the numbers decide an expression
    found, errors = {}, []

    def work(part):
        try:
            for n in part:
                found[n] = derive.grade("lecture-bp-3layer", paths[n]).verdicts
        except Exception as error:  # reported below, with the others' results
            errors.append(error)

    threads = [threading.Thread(target=work, args=(range(k, len(paths), 4),)) for k in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert [found[n] for n in range(len(paths))] == expected
    on_main = [derive.grade("lecture-bp-3layer", path).verdicts for path in paths]  # kept apart from theirs
    assert on_main == [fresh(problem, path).verdicts for path in paths]
    assert any(v.decided_by == "sympy" for verdicts in on_main for v in verdicts)


def test_an_expression_spaced_differently_is_decided_once(problem):
    grader = Grader(problem)
    known = set(grader.exact_values)
    from derive.grading.sheet import sheet_from_mapping

    verdicts = [grader.grade(sheet_from_mapping({"fprime[2]": form}, known))["fprime[2]"]
                for form in ("s*(1-s)", "s * (1 - s)", "s*(1 - s)", "1-s", "1 - s")]
    assert [v.code for v in verdicts] == ["OK", "OK", "OK", "WRONG", "WRONG"]
    assert [v.answer for v in verdicts] == ["s*(1-s)", "s * (1 - s)", "s*(1 - s)", "1-s", "1 - s"]
    assert verdicts[0].detail == verdicts[1].detail and verdicts[3].detail == verdicts[4].detail
    assert len(grader._parsed) == 2


def test_an_expression_is_parsed_once_per_tokens_and_spacing_that_makes_other_tokens_is_read_anew(problem,
                                                                                                   monkeypatch):
    parsed = []
    real = grader_module.parse_tokens
    monkeypatch.setattr(grader_module, "parse_tokens", lambda tokens, names: parsed.append(1) or real(tokens, names))
    grader = Grader(problem)
    from derive.grading.sheet import sheet_from_mapping

    forms = {"s*(1-s)": "OK", "s * (1 - s)": "OK", " s*( 1-s ) ": "OK",  # one parse
             "s*(1-s)^1": "OK", "s*(1-s)**1": "OK",  # one more: ^ is read as **
             "s s": "WRONG", "ss": "UNREADABLE",  # the space makes two names of one: s times s, or no name
             "s+*1": "UNREADABLE", "s + * 1": "UNREADABLE"}  # each told where in its own text
    verdicts = [grader.grade(sheet_from_mapping({"fprime[2]": form}, grader.known_keys))["fprime[2]"]
                for form in forms]
    assert [v.code for v in verdicts] == list(forms.values())
    assert len(parsed) == 6
    assert "position 3" in verdicts[-2].detail and "position 5" in verdicts[-1].detail


@pytest.mark.parametrize("text", [
    "-6.1e-04", "8.0900e-01", "0.5E+3", "2.5e+10", "[1.0e-02, 3, -4.50E-01]", "-0.0", "0", "12", "-0.000",
])
def test_a_number_with_an_exponent_reads_as_the_yaml_loader_reads_it(text):
    data, lines = _flat(f"k: {text}\n")
    loaded = _SheetLoader(f"k: {text}\n").get_single_data()
    assert data == loaded and lines == {"k": 1}
    values = data["k"] if isinstance(data["k"], list) else [data["k"]]
    expected = loaded["k"] if isinstance(loaded["k"], list) else [loaded["k"]]
    assert [type(v) for v in values] == [type(v) for v in expected]


@pytest.mark.parametrize("text", ["1e-3", "1.5e3", "1.e-3", "007", ".5e-3", "1_000.5e-3"])
def test_a_number_the_loader_reads_its_own_way_is_left_to_it(text):
    assert _flat(f"k: {text}\n") is None


def test_reading_a_class_gives_what_the_yaml_loader_gives(problem, tmp_path):
    grader = Grader(problem)
    known = set(grader.exact_values)
    for path in class_sheets(grader, tmp_path, count=20, seed=5):
        text = path.read_text(encoding="utf-8")
        loader = _SheetLoader(text)
        assert _flat(text) == (loader.get_single_data(), loader.key_lines)
        assert read_sheet(path, known).answers  # and it is read as a sheet


@pytest.mark.parametrize("written, refused", [
    ("true", True),                      # a boolean is refused with its own reason
    ("{...}", {"a": 1}),                 # a mapping
    ("[1, 2]", [1, 2]),                  # a list of two where one answer is asked
    ("s" * 40 + "...", "s" * 1001),      # an answer too long, shown cut to 40 characters
])
@pytest.mark.parametrize("first", ["written", "refused"])
def test_an_expression_decided_once_is_never_a_refused_answer_s_verdict(problem, written, refused, first):
    """An expression's verdict is kept for everyone who writes its text; a refused answer shown as the same
    text still gets its own verdict, whichever comes first in the class."""
    from derive.grading.sheet import sheet_from_mapping

    grader = Grader(problem)
    known = set(grader.exact_values)
    answers = [written, refused] if first == "written" else [refused, written]
    together = [grader.grade(sheet_from_mapping({"fprime[2]": a}, known))["fprime[2]"] for a in answers]
    alone = [Grader(problem).grade(sheet_from_mapping({"fprime[2]": a}, known))["fprime[2]"] for a in answers]
    assert together == alone
    assert together[0].answer == together[1].answer and together[0].detail != together[1].detail
