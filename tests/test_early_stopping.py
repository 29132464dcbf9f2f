"""kind: early_stopping: when training stops and which epoch is kept, held to an implementation written here.

The oracle is Keras's `EarlyStopping.on_epoch_end` transcribed line for line
(0-based epochs, `wait += 1` before the comparison, `min_delta` negated for
mode `min`, `current - min_delta < best`), run on the decimals as written
(Fractions), over hypothesis's curves and a grid; beside it, curves worked
by hand, with ties, a fall of exactly min_delta, and curves that never stop.
Then the printed walk, grading and follow-through, bad input (one line,
file:line: field), the schema, and the bundled problems' printed solutions
in every format.
"""

import re
import tempfile
from fractions import Fraction
from pathlib import Path

import jsonschema
import pytest
import yaml
from hypothesis import given, settings, strategies as st

import derive
from derive.cli import cli
from derive.errors import ProblemError
from derive.fields import schema
from derive.problem import load_problem
from derive.render import render
from conftest import PROBLEMS, right_numbers

BUNDLED = ["early-stopping-tie", "early-stopping-min-delta", "early-stopping-never"]


def solve_text(text):
    """The Solution of the problem written as `text` (YAML)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "p.yaml"
        path.write_text(text, encoding="utf-8")
        return load_problem(path).solve()


def problem(curve, patience, min_delta=0, keep="best"):
    return (f"kind: early_stopping\nval_loss: [{', '.join(map(str, curve))}]\npatience: {patience}\n"
            f"min_delta: {min_delta}\nkeep: {keep}\n")


# -- the oracle: Keras's callback, transcribed ----------------------------------------------------------------

class KerasEarlyStopping:
    """keras.callbacks.EarlyStopping(monitor="val_loss", mode="min", baseline=None, start_from_epoch=0), its
    on_train_begin and on_epoch_end as Keras 3 writes them, on exact decimals; `restore_best_weights` decides
    which weights the model ends with."""

    def __init__(self, patience, min_delta, restore_best_weights):
        self.patience = patience
        self.min_delta = -abs(Fraction(str(min_delta)))  # mode "min": Keras multiplies min_delta by -1
        self.restore_best_weights = restore_best_weights
        self.wait, self.stopped_epoch, self.best, self.best_epoch = 0, 0, None, 0
        self.stop_training = False
        self.weights = None  # the epoch whose weights the model holds
        self.best_weights = None

    def _is_improvement(self, current, reference):
        return reference is None or current - self.min_delta < reference  # best starts at +inf

    def on_epoch_end(self, epoch, current):
        self.weights = epoch  # the model's weights after this epoch
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights = epoch
        self.wait += 1
        if self._is_improvement(current, self.best):
            self.best = current
            self.best_epoch = epoch
            if self.restore_best_weights:
                self.best_weights = epoch
            self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.stop_training = True
            if self.restore_best_weights and self.best_weights is not None:
                self.weights = self.best_weights


def keras_fit(curve, patience, min_delta=0, restore_best_weights=True):
    """(last epoch trained, best epoch, epoch whose weights are kept), epochs from 1, as model.fit would end."""
    callback = KerasEarlyStopping(patience, min_delta, restore_best_weights)
    trained = 0
    for epoch, value in enumerate(curve):
        trained = epoch + 1
        callback.on_epoch_end(epoch, Fraction(str(value)))
        if callback.stop_training:
            break
    return trained, callback.best_epoch + 1, callback.weights + 1


def solved_results(curve, patience, min_delta=0, keep="best"):
    values = solve_text(problem(curve, patience, min_delta, keep)).values()
    return int(values["stop_epoch"]), int(values["kept_epoch"]), values["kept_loss"]


# -- against the oracle ---------------------------------------------------------------------------------------

curves = st.lists(st.integers(1, 60).map(lambda n: n / 100), min_size=1, max_size=25)


@settings(max_examples=150, deadline=None)
@given(curve=curves, patience=st.integers(1, 5), min_delta=st.sampled_from([0, 0.01, 0.02, 0.05]))
def test_the_stop_and_the_kept_epoch_are_keras_s(curve, patience, min_delta):
    trained, best, restored = keras_fit(curve, patience, min_delta, restore_best_weights=True)
    _, _, last = keras_fit(curve, patience, min_delta, restore_best_weights=False)
    assert last == trained
    for keep, kept in (("keras", restored), ("last", last), ("best", best)):
        stop, solved_kept, loss = solved_results(curve, patience, min_delta, keep)
        assert (stop, solved_kept) == (trained, kept)
        assert loss == curve[kept - 1]


@pytest.mark.parametrize("patience", [1, 2, 3])
@pytest.mark.parametrize("curve", [
    [0.5, 0.4, 0.3, 0.2],  # always better: never stops
    [0.5, 0.5, 0.5, 0.5],  # flat: every later epoch ties
    [0.2, 0.3, 0.4, 0.5],  # always worse
    [0.5, 0.4, 0.45, 0.4, 0.35, 0.36, 0.37, 0.38],
    [0.3],  # one epoch
])
def test_a_grid_of_curves_against_keras(curve, patience):
    trained, best, restored = keras_fit(curve, patience)
    assert solved_results(curve, patience, keep="keras")[:2] == (trained, restored)
    assert solved_results(curve, patience, keep="best")[:2] == (trained, best)


def test_every_epoch_s_best_and_wait_are_the_callback_s_after_that_epoch():
    curve, patience, min_delta = [0.9, 0.62, 0.48, 0.41, 0.43, 0.41, 0.44, 0.46, 0.47, 0.5], 3, 0
    callback = KerasEarlyStopping(patience, min_delta, True)
    values = solve_text(problem(curve, patience, min_delta)).values()
    for epoch, value in enumerate(curve):
        callback.on_epoch_end(epoch, Fraction(str(value)))
        t = epoch + 1
        assert values[f"best[{t}]"] == float(callback.best)
        assert values[f"wait[{t}]"] == callback.wait
        assert values[f"best_epoch[{t}]"] == callback.best_epoch + 1
        if callback.stop_training:
            break
    assert f"best[{t + 1}]" not in values  # the walk ends where training does


# -- worked by hand ---------------------------------------------------------------------------------------------

HAND = [  # curve, patience, min_delta, keep -> last epoch trained, kept epoch, its loss
    # falls to 0.41 at epoch 4; 0.43 (wait 1), 0.41 a tie (wait 2), 0.44 (wait 3 = p): stops at 7, keeps 4
    ([0.9, 0.62, 0.48, 0.41, 0.43, 0.41, 0.44, 0.46, 0.47, 0.5], 3, 0, "best", 7, 4, 0.41),
    # the same with patience 1: 0.43 at epoch 5 stops it at once
    ([0.9, 0.62, 0.48, 0.41, 0.43, 0.41, 0.44, 0.46, 0.47, 0.5], 1, 0, "best", 5, 4, 0.41),
    # min_delta 0.03: 0.32 is not below 0.33 - 0.03 = 0.3, and 0.3 is a tie with it: stops at 4, keeps 2
    ([0.5, 0.33, 0.32, 0.3, 0.29], 2, 0.03, "best", 4, 2, 0.33),
    # without min_delta both are improvements, and it never stops
    ([0.5, 0.33, 0.32, 0.3, 0.29], 2, 0, "best", 5, 5, 0.29),
    # never two failures in a row: all 8 epochs; best is 7; Keras keeps the last (8), `best` keeps 7
    ([0.8, 0.6, 0.65, 0.5, 0.45, 0.47, 0.44, 0.46], 2, 0, "keras", 8, 8, 0.46),
    ([0.8, 0.6, 0.65, 0.5, 0.45, 0.47, 0.44, 0.46], 2, 0, "best", 8, 7, 0.44),
    ([0.8, 0.6, 0.65, 0.5, 0.45, 0.47, 0.44, 0.46], 2, 0, "last", 8, 8, 0.46),
    # stopped early, keep: last keeps the stopping epoch's parameters
    ([0.4, 0.5, 0.6, 0.3], 2, 0, "last", 3, 3, 0.6),
    ([0.4, 0.5, 0.6, 0.3], 2, 0, "keras", 3, 1, 0.4),
    # a flat curve: epoch 1 is best, epochs 2.. tie; patience 3 stops at 4
    ([1, 1, 1, 1, 1, 1], 3, 0, "best", 4, 1, 1),
    # one epoch: trained, and kept
    ([0.7], 5, 0, "best", 1, 1, 0.7),
]


@pytest.mark.parametrize("curve, patience, min_delta, keep, stop, kept, loss", HAND)
def test_curves_worked_by_hand(curve, patience, min_delta, keep, stop, kept, loss):
    assert solved_results(curve, patience, min_delta, keep) == (stop, kept, loss)


def test_a_fall_of_exactly_min_delta_is_decided_on_the_decimals_not_the_floats():
    assert 0.3 < 0.33 - 0.03  # binary floating point would call it an improvement
    values = solve_text(problem([0.5, 0.33, 0.3], 1, 0.03)).values()
    assert (values["wait[3]"], values["stop_epoch"], values["kept_epoch"]) == (1, 3, 2)


def test_the_walk_prints_each_decision_and_the_stop():
    text = render(load_problem(PROBLEMS / "early-stopping-tie.yaml").solve(), "text")
    assert "best₆ = best₅ = 0.41   (no improvement: v₆ = 0.41 = best₅ = 0.41)" in text
    assert "wait₆ = wait₅ + 1 = 1 + 1 = 2" in text
    assert "wait₇ = wait₆ + 1 = 2 + 1 = 3   (wait₇ = 3 ≥ p = 3: training stops)" in text
    assert ("t_stop = t*₇ + wait₇ = 4 + 3 = 7   (3 epochs without improvement after the best, epoch 4; epochs "
            "8–10 of the curve are never trained)") in text
    assert "t_kept = t*₇ = 4" in text and "v_kept = v₄ = 0.41" in text
    text = render(load_problem(PROBLEMS / "early-stopping-min-delta.yaml").solve(), "text")
    assert "(no improvement: v₄ = 0.3 = best₃ - Δmin = 0.33 - 0.03 = 0.3)" in text
    text = render(load_problem(PROBLEMS / "early-stopping-never.yaml").solve(), "text")
    assert "t_stop = t*₈ + wait₈ = 7 + 1 = 8   (wait never reaches p = 2: training runs all 8 epochs)" in text
    assert "t_kept = t_stop = 8" in text


# -- grading ---------------------------------------------------------------------------------------------------

def test_a_wrong_wait_is_carried_through_the_epochs_after_it(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text(problem([0.9, 0.6, 0.65, 0.7, 0.75, 0.8], 9), encoding="utf-8")
    solution = load_problem(path).solve()
    sheet = {step.key: step.value for step in solution if not step.is_given}
    assert [sheet[f"wait[{t}]"] for t in range(3, 7)] == [1, 2, 3, 4]
    sheet.update({"wait[3]": 2, "wait[4]": 3, "wait[5]": 4, "wait[6]": 5, "stop_epoch": 7})  # one epoch too many
    verdicts = {v.key: v.code for v in derive.grade(str(path), sheet).verdicts}
    assert [verdicts[f"wait[{t}]"] for t in range(3, 7)] == ["WRONG", "FT", "FT", "FT"]
    assert (verdicts["stop_epoch"], verdicts["kept_epoch"], verdicts["best[3]"]) == ("FT", "OK", "OK")


def test_a_wrong_stop_is_wrong_on_that_item_only():
    sheet = right_numbers("early-stopping-tie")
    sheet["stop_epoch"] = 10
    verdicts = {v.key: v.code for v in derive.grade("early-stopping-tie", sheet).verdicts}
    assert verdicts.pop("stop_epoch") == "WRONG"
    assert set(verdicts.values()) == {"OK"}


# -- printed solutions -----------------------------------------------------------------------------------------

FORMATS = {"text": "txt", "markdown": "md", "latex": "tex", "json": "json", "html": "html"}


@pytest.mark.parametrize("format_", FORMATS)
@pytest.mark.parametrize("name", BUNDLED)
def test_printed_solution_matches_golden(runner, golden, name, format_):
    result = runner.invoke(cli, ["solve", name, "--format", format_])
    assert result.exit_code == 0, result.output
    golden(f"{name}.{FORMATS[format_]}", result.output)


# -- bad input: one line, file:line: field: what was expected ---------------------------------------------------

VALID = "kind: early_stopping\nval_loss: [0.5, 0.4, 0.45]\npatience: 2\n"
#  1 kind  2 val_loss  3 patience;  added lines are line 4

FAILURES = [
    (VALID.replace("patience: 2\n", ""), "p.yaml:1: patience: missing required field"),
    (VALID.replace("val_loss: [0.5, 0.4, 0.45]\n", ""), "p.yaml:1: val_loss: missing required field"),
    (VALID.replace("patience: 2", "patience: 0"), "p.yaml:3: patience: expected a whole number >= 1, got 0"),
    (VALID.replace("patience: 2", "patience: 1.5"), "p.yaml:3: patience: expected a whole number, got 1.5"),
    (VALID.replace("[0.5, 0.4, 0.45]", "[]"), "p.yaml:2: val_loss: expected a list of 1 to 1000 numbers, got 0"),
    (VALID.replace("[0.5, 0.4, 0.45]", "0.5"), "p.yaml:2: val_loss: expected a list, got 0.5"),
    (VALID.replace("[0.5, 0.4, 0.45]", "[0.5, low, 0.45]"),
     "p.yaml:2: val_loss[1]: expected a number, got text 'low'"),
    (VALID.replace("[0.5, 0.4, 0.45]", "[0.5, .nan, 0.45]"), "p.yaml:2: val_loss[1]: expected a finite number, got nan"),
    (VALID + "min_delta: -0.01\n", "p.yaml:4: min_delta: expected a number >= 0, got -0.01"),
    (VALID + "keep: first\n", "p.yaml:4: keep: expected one of best, keras, last, got text 'first'"),
    (VALID + "keep: kera\n", "p.yaml:4: keep: expected one of best, keras, last, got text 'kera' (did you mean "
                             "'keras'?)"),
    (VALID + "patients: 3\n", "p.yaml:4: patients: unknown field (did you mean 'patience'?)"),
]


@pytest.mark.parametrize("text, line", FAILURES, ids=[line.split(": ", 1)[1] for _, line in FAILURES])
def test_bad_input_is_one_line(runner, tmp_path, monkeypatch, text, line):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "p.yaml").write_text(text, encoding="utf-8")
    result = runner.invoke(cli, ["solve", "p.yaml"])
    assert result.exit_code == 2
    assert result.output == line + "\n"


def test_every_failure_case_starts_from_a_valid_file():
    assert solve_text(VALID)["stop_epoch"].value == 3


SCHEMA_REFUSED = [  # early-stopping-tie with a part replaced, and the field derive names when it refuses it
    ({"patience": 0}, "patience"),
    ({"val_loss": []}, "val_loss"),
    ({"val_loss": [0.5, "low"]}, "val_loss[1]"),
    ({"min_delta": -1}, "min_delta"),
    ({"keep": "first"}, "keep"),
]


@pytest.mark.parametrize("fields, named", SCHEMA_REFUSED, ids=[named for _, named in SCHEMA_REFUSED])
def test_the_schema_refuses_what_derive_refuses(tmp_path, fields, named):
    data = {**yaml.safe_load((PROBLEMS / "early-stopping-tie.yaml").read_text(encoding="utf-8")), **fields}
    assert list(jsonschema.Draft202012Validator(schema("early_stopping")).iter_errors(data)), "schema accepted it"
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    with pytest.raises(ProblemError, match=re.escape(f": {named}: ")):
        load_problem(path)
