"""`kind: early_stopping`: when training stops on a validation-loss curve, and which epoch's parameters are kept.

Chapter 3.2's SGD stops "when the error on the validation set no longer
goes down" (算法 2.1) and, under 提前终止 (early stop), keeps the model that
was best on the validation set. The rule is Keras's `EarlyStopping` on
`val_loss` (mode `min`), stated exactly:

- epochs count from 1; before epoch 1 the best loss is +∞, so epoch 1
  always improves;
- epoch t *improves* when v_t < best_{t-1} − Δmin (strictly: a tie is
  not an improvement, nor is a fall of exactly Δmin);
- on an improvement best_t = v_t, t*_t = t (the best epoch) and wait_t = 0;
  otherwise best_t = best_{t-1}, t*_t = t*_{t-1}, wait_t = wait_{t-1} + 1;
- training stops after the first epoch with wait_t ≥ p (the patience):
  p epochs in a row without improvement; if none does, all epochs are
  trained. Either way the last epoch trained is t*_t + wait_t.

Which parameters are kept is the problem's `keep`: `best` (the lecture's
"keep the model best on the validation set", and Keras's
`restore_best_weights=True` when it stops early), `keras` (Keras with
`restore_best_weights=True` exactly: the best epoch's if it stopped early,
else the last epoch's, since Keras restores only when it stops), or `last`
(`restore_best_weights=False`). Patience is at least 1: Keras's patience 0
stops where patience 1 does, since it counts the failing epoch before it
compares.

Each decision (improved or not) is taken by the solver on the decimals as
written, not in binary floating point, so a tie as written is a tie; the
step then holds the branch taken (best_t = v_t, or best_t = best_{t-1}),
which follow-through re-evaluates on a student's own numbers. Its own kind,
not a mode of `batch_noise`: the two share no input and no step.
"""

from dataclasses import dataclass
from fractions import Fraction

from sympy import Add, Integer, Symbol

from ..fields import Choice, Declarations, Declared, Integer as WholeNumber, Number, Structured
from ..steps import SolutionBuilder, Sym

MAX_EPOCHS = 1000
KEEPS = ("best", "keras", "last")

# where an error found while solving is reported when nothing nearer its cause is known (Problem.solve)
ERRORS_AT = ("val_loss",)

DECLARED = Declarations(
    Declared("val_loss", Structured({"type": "array", "items": {"type": "number"}, "minItems": 1,
                                     "maxItems": MAX_EPOCHS}),
             f"the validation loss after each epoch, epoch 1 first: a list of 1 to {MAX_EPOCHS} numbers"),
    Declared("patience", WholeNumber(1, MAX_EPOCHS), f"p: training stops after p epochs in a row without "
             f"improvement (1 to {MAX_EPOCHS}; Keras's 0 acts as 1)"),
    Declared("min_delta", Number(minimum=0), "Δmin ≥ 0: epoch t improves only when v_t < best − Δmin", default=0),
    Declared("keep", Choice(KEEPS), "whose parameters are kept: `best` (the best epoch's), `keras` (Keras's "
             "`restore_best_weights=True`: the best epoch's if training stopped early, else the last epoch's) or "
             "`last` (the last epoch trained)", default="best"),
)


@dataclass(frozen=True)
class EarlyStoppingSpec:
    """A validated early_stopping problem (fields: docs/kinds/early_stopping.md).

    val_loss: the curve, epoch 1 first (numbers from the file, with their origins);
    patience: p; min_delta: Δmin; keep: "best", "keras" or "last".
    """

    val_loss: tuple
    patience: int
    min_delta: float
    keep: str


def read(root):
    """Validate the early_stopping fields into an EarlyStoppingSpec."""
    field = DECLARED.field(root, "val_loss")
    items = field.items()
    if not 1 <= len(items) <= MAX_EPOCHS:
        raise field.error(f"expected a list of 1 to {MAX_EPOCHS} numbers, got {len(items)}")
    return EarlyStoppingSpec(
        val_loss=tuple(item.number() for item in items),
        patience=DECLARED.read(root, "patience"),
        min_delta=DECLARED.read(root, "min_delta"),
        keep=DECLARED.read(root, "keep"),
    )


def as_written(number):
    """A number of the file as its decimals are written (0.1 is 1/10), so that a tie as written is a tie."""
    return Fraction(repr(float(number))) if not float(number).is_integer() else Fraction(int(number))


@dataclass(frozen=True)
class Walk:
    """The epoch-by-epoch record of the rule, computed on the decimals as written.

    improved[t-1], best[t-1], wait[t-1], best_epoch[t-1]: after epoch t;
    stop: the last epoch trained; stopped: whether wait reached the patience (at the curve's last epoch too: Keras
    then stops, and restores the best weights).
    """

    improved: tuple
    best: tuple
    wait: tuple
    best_epoch: tuple
    stop: int
    stopped: bool


def walk(curve, patience, min_delta=0):
    """The rule applied to `curve` (numbers), epoch by epoch, until it stops or the curve ends."""
    delta = as_written(min_delta)
    improved, best, wait, best_epoch = [], [], [], []
    for t, value in enumerate(curve, start=1):
        v = as_written(value)
        better = t == 1 or v < best[-1] - delta
        improved.append(better)
        best.append(v if better else best[-1])
        wait.append(0 if better else wait[-1] + 1)
        best_epoch.append(t if better else best_epoch[-1])
        if wait[-1] >= patience:
            return Walk(tuple(improved), tuple(best), tuple(wait), tuple(best_epoch), t, True)
    return Walk(tuple(improved), tuple(best), tuple(wait), tuple(best_epoch), len(curve), False)


def kept_epoch(result, keep):
    """The epoch whose parameters are kept, by the rule `keep`."""
    if keep == "best" or (keep == "keras" and result.stopped):
        return result.best_epoch[-1]
    return result.stop


# -- symbols -----------------------------------------------------------------------

def _v(t):
    return Sym.indexed("v", "v", sub=(t,))


def _best(t):
    return Sym.indexed("best", r"\mathrm{best}", sub=(t,))


def _wait(t):
    return Sym.indexed("wait", r"\mathrm{wait}", sub=(t,))


def _best_epoch(t):
    return Sym.indexed("t*", "t^{*}", sub=(t,))


STOP = Sym("t_stop", r"t_{\mathrm{stop}}")
KEPT = Sym("t_kept", r"t_{\mathrm{kept}}")
KEPT_LOSS = Sym("v_kept", r"v_{\mathrm{kept}}")
PATIENCE = Sym("p", "p")
MIN_DELTA = Sym("Δmin", r"\Delta_{\min}")


def _shown(number):
    """A number of the file as a note shows it: its decimals as written."""
    return _decimal(as_written(number))


def _decimal(fraction):
    """A Fraction read from a decimal, written back as that decimal (41/100 -> 0.41)."""
    return str(fraction.numerator) if fraction.denominator == 1 else repr(float(fraction))


# -- the solver --------------------------------------------------------------------

GIVEN = "Given"
PER_LINE = 5  # losses of the curve printed on one line
RESULT = "When training stops"


def solve(problem, rounding):
    """The Solution of an early_stopping problem: the curve walked epoch by epoch, then the stop and the kept epoch."""
    spec = problem.spec
    out = SolutionBuilder(rounding)
    for t, value in enumerate(spec.val_loss, start=1):
        out.given(f"val[{t}]", _v(t), value, GIVEN, group=f"val{(t - 1) // PER_LINE}")
    out.given("patience", PATIENCE, spec.patience, GIVEN)
    out.given("min_delta", MIN_DELTA, spec.min_delta, GIVEN)
    result = walk(spec.val_loss, spec.patience, spec.min_delta)
    for t in range(1, result.stop + 1):
        _epoch(out, spec, result, t)
    _stop(out, spec, result)
    return out.build(problem.name, problem.kind, problem.title, notes=notes(spec))


def _epoch(out, spec, result, t):
    """Epoch t's best, wait and best epoch: the branch the rule took, with the comparison that decided it."""
    section = f"Epoch {t}"
    v = Symbol(f"val[{t}]")
    if t == 1:
        out.step("best[1]", _best(1), v, section, note="the best before epoch 1 is +∞: epoch 1 always improves")
        out.step("wait[1]", _wait(1), Integer(0), section)
        out.step("best_epoch[1]", _best_epoch(1), Integer(1), section)
        return
    before, delta = result.best[t - 2], as_written(spec.min_delta)
    if spec.min_delta:
        bound = f"best{_sub(t - 1)} - Δmin = {_decimal(before)} - {_decimal(delta)} = {_decimal(before - delta)}"
    else:
        bound = f"best{_sub(t - 1)} = {_decimal(before)}"
    shown = f"v{_sub(t)} = {_shown(spec.val_loss[t - 1])}"
    if result.improved[t - 1]:
        out.step(f"best[{t}]", _best(t), v, section, note=f"improved: {shown} < {bound}")
        out.step(f"wait[{t}]", _wait(t), Integer(0), section)
        out.step(f"best_epoch[{t}]", _best_epoch(t), Integer(t), section)
        return
    relation = "=" if as_written(spec.val_loss[t - 1]) == before - delta else "≥"
    out.step(f"best[{t}]", _best(t), Symbol(f"best[{t - 1}]"), section,
             note=f"no improvement: {shown} {relation} {bound}")
    wait = result.wait[t - 1]
    out.step(f"wait[{t}]", _wait(t), Add(Symbol(f"wait[{t - 1}]"), Integer(1), evaluate=False), section,
             note=f"wait{_sub(t)} = {wait} ≥ p = {spec.patience}: training stops" if wait >= spec.patience else "")
    out.step(f"best_epoch[{t}]", _best_epoch(t), Symbol(f"best_epoch[{t - 1}]"), section)


def _stop(out, spec, result):
    """The last epoch trained (t* + wait there), the epoch whose parameters are kept, and its loss."""
    last, epochs = result.stop, len(spec.val_loss)
    if result.stopped:
        note = (f"{spec.patience} epoch{'s' * (spec.patience != 1)} without improvement after the best, epoch "
                f"{result.best_epoch[-1]}")
        if last + 1 == epochs:
            note += f"; epoch {epochs} of the curve is never trained"
        elif last < epochs:
            note += f"; epochs {last + 1}–{epochs} of the curve are never trained"
        else:
            note += "; it is the curve's last epoch"
    else:
        note = f"wait never reaches p = {spec.patience}: training runs all {epochs} epochs"
    out.step("stop_epoch", STOP, Add(Symbol(f"best_epoch[{last}]"), Symbol(f"wait[{last}]"), evaluate=False), RESULT,
             note=note)
    kept = kept_epoch(result, spec.keep)
    if spec.keep == "best" or (spec.keep == "keras" and result.stopped):
        note = ("the best epoch's parameters are restored" if spec.keep == "best"
                else "Keras stopped early, so it restores the best epoch's weights")
        out.step("kept_epoch", KEPT, Symbol(f"best_epoch[{last}]"), RESULT, note=note)
    else:
        note = ("Keras restores the best weights only when it stops early; it ran all epochs, so the last epoch's "
                "are kept" if spec.keep == "keras" else "the last epoch's parameters, nothing restored")
        out.step("kept_epoch", KEPT, Symbol("stop_epoch"), RESULT, note=note)
    out.step("kept_loss", KEPT_LOSS, Symbol(f"val[{kept}]"), RESULT, note=f"the validation loss of epoch {kept}")


def _sub(number):
    return str(number).translate(str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉"))


def notes(spec):
    """The rule, in words."""
    result = [Sym(
        "Keras's EarlyStopping on val_loss: epoch t improves when v_t < best_{t-1} - Δmin (best before epoch 1 is "
        "+∞; a tie is no improvement); wait_t counts the epochs since the last improvement; training stops after "
        "the first epoch with wait_t ≥ p",
        r"\text{Keras's EarlyStopping on val\_loss: epoch } t \text{ improves when } v_t < \mathrm{best}_{t-1} - "
        r"\Delta_{\min} \text{ (best before epoch 1 is } +\infty\text{; a tie is no improvement); } \mathrm{wait}_t "
        r"\text{ counts the epochs since the last improvement; training stops after the first epoch with } "
        r"\mathrm{wait}_t \ge p")]
    keep = {
        "best": ("kept: the best epoch's parameters t*, as the lecture keeps the model best on the validation set "
                 "(keep: best)",
                 r"\text{kept: the best epoch's parameters } t^{*} \text{, as the lecture keeps the model best on "
                 r"the validation set}"),
        "keras": ("kept: Keras's restore_best_weights=True: the best epoch's parameters if training stops early, "
                  "else the last epoch's (keep: keras)",
                  r"\text{kept: Keras's restore\_best\_weights=True: the best epoch's parameters if training stops "
                  r"early, else the last epoch's}"),
        "last": ("kept: the last epoch's parameters, nothing restored (keep: last)",
                 r"\text{kept: the last epoch's parameters, nothing restored}"),
    }[spec.keep]
    result.append(Sym(*keep))
    return result
