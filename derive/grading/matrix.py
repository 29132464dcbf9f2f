"""Grading a matrix-form solution (`notation: matrix`): per entry and per whole vector or matrix.

An item is an entry key of the per-neuron notation (`z[2][1][3]`,
`grad_w[1][4][2]`), a whole quantity's key (`z[2]`, `grad_w[1]`), or a
number (`loss`). A sheet answers a whole quantity as a list of rows (rows as
the solution prints them: `W⁽ˡ⁾` is to × from, a batch's quantities neuron
× sample; a vector as a flat list), or entry by entry; either form answers
both kinds of item.

Follow-through is derive.steps' one mechanism on whole arrays: a step's
matrix formula is evaluated with numpy on the student's own numbers (their
entries laid over the correct matrices, or over the values their earlier
answers imply where they skipped a step), once per step and sheet, and an
answer is judged against that matrix's entry. The gaming guard holds: a
candidate resting on a wrong 0 or a copied given number is dropped.
"""

import math

import numpy as np

from ..matrix import EntryIndex
from ..steps import EXACT, format_number
from .grader import SheetResult, Verdict

MAX_DEFAULT_ENTRIES = 2000  # a solution with more computed entries is graded per whole quantity unless items say


class KnownKeys:
    """The keys a sheet may answer: every step's key and every entry key of a matrix step (found by parsing,
    not listed); iterating gives the step keys. `whole`: the keys of the matrix steps."""

    def __init__(self, solution, index):
        self.steps = solution.steps
        self.index = index
        self.whole = {step.key for step in solution if step.is_matrix}

    def __contains__(self, key):
        return key in self.steps or self.index.find(key) is not None

    def __iter__(self):
        return iter(self.steps)

    def __len__(self):
        return len(self.steps)


def gradable_keys(solution, index, entries=True):
    """The keys items may name: each computed step's, and (with `entries`) each computed matrix's entry keys."""
    keys = []
    for step in solution:
        if step.is_given or step.is_symbolic:
            continue
        keys.append(step.key)
        if entries and step.is_matrix:
            keys += index.keys(step.key)
    return keys


def default_items(solution, index):
    """Every computed entry (and number), as the per-neuron notation grades, when there are at most
    MAX_DEFAULT_ENTRIES; else every computed quantity whole."""
    computed = [step for step in solution if not step.is_given and not step.is_symbolic]
    size = sum(step.value.size if step.is_matrix else 1 for step in computed)
    items = []
    for step in solution:
        if step.is_given:
            continue
        if step.is_matrix and size <= MAX_DEFAULT_ENTRIES:
            items += index.keys(step.key)
        else:
            items.append(step.key)
    return items


class MatrixGrading:
    """What grading a matrix-form solution needs that does not depend on the sheet (built once per Grader)."""

    def __init__(self, grader):
        self.grader = grader
        self.exact = grader.exact
        self.index = EntryIndex(self.exact)
        self.chains = [(self.exact, EXACT)] + ([(grader.rounded, grader.rounding)] if grader.rounded else [])
        self.plan = []
        for key in grader.items:
            if key in self.exact:
                self.plan.append((key, key, None))
            else:
                step_key, row, col = self.index.find(key)
                self.plan.append((key, step_key, (row, col)))
        givens = [np.ravel(step.value) for step in self.exact if step.is_given and step.is_matrix]
        self.given_numbers = np.unique(np.concatenate(givens + [np.array(sorted(grader.given_numbers), dtype=float)]))
        self._formulas = {}

    def known_keys(self):
        return KnownKeys(self.exact, self.index)

    # -- one sheet ----------------------------------------------------------------
    def grade(self, sheet):
        result = SheetResult(sheet.student, sheet.path, warnings=list(sheet.warnings), solution=self.exact)
        own = _Own(self, sheet)
        for key, step_key, at in self.plan:
            result.verdicts.append(self.verdict(key, step_key, at, own, sheet))
        return result

    def verdict(self, key, step_key, at, own, sheet):
        grader, step = self.grader, self.exact[step_key]
        points = grader.config.points.get(key, 1.0)
        tolerance = grader.config.item_tolerance.get(key, grader.config.tolerance)
        expected = [chain[step_key].value if at is None or not step.is_matrix else chain[step_key].value[at]
                    for chain, _ in self.chains]
        expected_text = self.expected_text(step, at)

        def make(code, credit=0.0, written="", **fields):
            return Verdict(key, code, credit, credit * points, points, written, expected_text, **fields)

        whole = at is None and step.is_matrix
        answer, written, problem = own.answer(key, step_key, at, whole)
        if answer is None:
            return make("UNREADABLE", written=written, detail=problem) if problem else make("MISSING", detail="no answer")
        if whole:
            return self.whole_verdict(step, answer, written, tolerance, expected, own, make)
        if any(tolerance.accepts(answer, value) for value in expected):
            return make("OK", 1.0, written)
        if not step.is_given:
            for used, candidate in own.candidates(step_key):
                value = candidate[at] if step.is_matrix else candidate
                if tolerance.accepts(answer, float(value)):
                    return make("FT", grader.config.follow_through, written, used=used,
                                detail="follow-through, using your " + own.describe(used))
        if expected[0] != 0 and any(tolerance.accepts(-answer, value) for value in expected):
            return make("SIGN", written=written, detail="the sign is wrong")
        return make("WRONG", written=written, detail="wrong", calculation=self.calculation(step, at))

    def whole_verdict(self, step, answer, written, tolerance, expected, own, make):
        """A whole vector or matrix: right when every entry is, by follow-through when every entry matches
        the formula on the student's own numbers; else how many entries are wrong, and the first."""
        if any(tolerance.accepts_each(answer, value).all() for value in expected):
            return make("OK", 1.0, written)
        if not step.is_given:
            for used, candidate in own.candidates(step.key):
                if tolerance.accepts_each(answer, candidate).all():
                    return make("FT", self.grader.config.follow_through, written, used=used,
                                detail="follow-through, using your " + own.describe(used))
        right = np.zeros(answer.shape, dtype=bool)
        for value in expected:
            right |= tolerance.accepts_each(answer, value)
        if expected[0].any() and any(tolerance.accepts_each(-answer, value).all() for value in expected):
            return make("SIGN", written=written, detail="the sign is wrong")
        wrong = np.argwhere(~right)
        row, col = (int(i) for i in wrong[0])
        missing = int(np.isnan(answer).sum())
        first = step.entries.key(row, col)
        detail = (f"{len(wrong)} of {answer.size} entries wrong" + (f" ({missing} missing)" if missing else "")
                  + f"; the first, {first}: expected {self.number(expected[-1][row, col])}, got "
                  + ("nothing" if math.isnan(answer[row, col]) else format_number(float(answer[row, col]))))
        return make("WRONG", written=written, detail=detail)

    # -- display ----------------------------------------------------------------------
    def show(self, key):
        """The expected value of an item as a verdict prints it."""
        if key in self.exact:
            return self.expected_text(self.exact[key], None)
        step_key, row, col = self.index.find(key)
        return self.expected_text(self.exact[step_key], (row, col))

    def number(self, value):
        grader = self.grader
        return format_number(float(value), grader.rounding if grader.rounded else None)

    def expected_text(self, step, at):
        value = (self.grader.rounded or self.exact)[step.key].value
        if not step.is_matrix:
            return self.number(value)
        if at is not None:
            return self.number(value[at])
        from ..matrix import shape_text

        flat = value.ravel()
        shown = " ".join(self.number(v) for v in flat[:4]) + (" …" if flat.size > 4 else "")
        return f"{shape_text(value)} [{shown}]"

    def calculation(self, step, at):
        """Where an entry comes from: `z[2][1][3] is entry (3, 1) of Z⁽²⁾ = W⁽²⁾ A⁽¹⁾ - θ⁽²⁾ 1ᵀ`."""
        if step.is_given or not self.grader.calculations:
            return ""
        formula = self._formulas.get(step.key)
        if formula is None:
            from ..render.formula import text_formula

            formula = self._formulas[step.key] = text_formula(step.formula, self.grader.symbols)
        where = f"entry ({at[0] + 1}, {at[1] + 1}) of " if at is not None and step.is_matrix else ""
        return f"{where}{step.symbol.text} = {formula}"


class _Own:
    """One sheet's numbers as matrices: each step's answered entries over NaN, and the candidates its
    formula gives on them (computed once, when an answer asks)."""

    def __init__(self, grading, sheet):
        self.grading = grading
        self.sheet = sheet
        self.exact = grading.exact
        self.matrices = {}  # step key -> the student's entries, NaN where not answered (None: nothing answered)
        by_step = {}
        for key, answer in sheet.answers.items():
            if key in self.exact:
                continue
            found = grading.index.find(key)
            if found is not None and answer.number is not None:
                by_step.setdefault(found[0], []).append((found[1], found[2], answer.number))
        self.entries = by_step
        self._candidates = {}
        self._implied = {}

    def answer(self, key, step_key, at, whole):
        """(the answer: a number, or for `whole` an array with NaN where no entry is given; its text; why it
        cannot be read). (None, text, "") when nothing is answered."""
        step = self.exact[step_key]
        sheet = self.sheet.answers
        if not step.is_matrix:
            answer = sheet.get(key)
            return _number(answer)
        if at is not None and key in sheet:
            return _number(sheet[key])
        matrix = self.matrix(step_key)
        if isinstance(matrix, str):
            return None, sheet[step_key].text, matrix
        if matrix is None:
            return None, "", ""
        if whole:
            written = sheet[step_key].text if step_key in sheet else f"{int((~np.isnan(matrix)).sum())} entries"
            return matrix, written, ""
        value = matrix[at]
        if math.isnan(value):
            return None, "", ""
        return float(value), format_number(float(value)), ""

    def matrix(self, step_key):
        """The student's matrix for a step (NaN where not answered), None if nothing, or why it is unreadable."""
        if step_key in self.matrices:
            return self.matrices[step_key]
        step = self.exact[step_key]
        answer = self.sheet.answers.get(step_key)
        shape = step.value.shape
        matrix = None
        if answer is not None and answer.values is not None:
            matrix = _as_shape(answer.values, shape)
            if matrix is None:
                matrix = (f"expected a {shape[0]}×{shape[1]} matrix (rows as the solution prints "
                          f"{step.symbol.text}), got {_shape_of(answer.values)}")
        elif answer is not None and answer.number is not None and step.value.size == 1:
            matrix = np.full(shape, answer.number)
        elif answer is not None and answer.text.strip():
            matrix = answer.refused or answer.problem or f"expected a {shape[0]}×{shape[1]} matrix of numbers"
        if matrix is None and step_key in self.entries:
            matrix = np.full(shape, np.nan)
            for row, col, number in self.entries[step_key]:
                matrix[row, col] = number
        if isinstance(matrix, np.ndarray) and not matrix.flags.writeable:
            matrix = matrix.copy()
        self.matrices[step_key] = matrix
        return matrix

    def given(self, key):
        """The student's own numbers for `key` as an array (or a number), NaN where not answered; None if none."""
        step = self.exact[key]
        if step.is_matrix:
            matrix = self.matrix(key)
            return matrix if isinstance(matrix, np.ndarray) else None
        answer = self.sheet.answers.get(key)
        return answer.number if answer is not None and answer.number is not None else None

    def candidates(self, step_key):
        """(used, value) pairs: the step's formula on the student's numbers, over the correct values (each
        chain) and over the values the student's answers imply; only those resting on a wrong number of the
        student's, none resting on a wrong 0 or a copied given."""
        if step_key in self._candidates:
            return self._candidates[step_key]
        step = self.exact[step_key]
        found = []
        for solution, rounding in self.grading.chains:
            correct = solution.values()
            env, used = {}, []
            for d in step.deps:
                own = self.given(d)
                env[d], differs = _overlay(correct[d], own)
                if differs:
                    used.append(d)
            if used and not any(self.suspicious(d, env[d], correct[d]) for d in used):
                value = self.evaluate(step, env, rounding)
                if value is not None:
                    found.append((self.used_pairs(used, env), value))
            implied = self.implied(solution, rounding)
            env = {d: implied[d] for d in step.deps}
            used = [d for d in step.deps if not _same(env[d], correct[d])]
            if used and not any(self.suspicious(d, env[d], correct[d]) for d in used):
                value = self.evaluate(step, env, rounding)
                if value is not None:
                    found.append((self.used_pairs(used, env), value))
        self._candidates[step_key] = found
        return found

    def implied(self, solution, rounding):
        """Every step's value recomputed in order with the student's answered entries laid over it."""
        decimals = rounding.decimals
        if decimals in self._implied:
            return self._implied[decimals]
        env = {}
        for step in solution:
            if step.is_given or step.is_symbolic:
                value = step.value
            else:
                value = self.evaluate(step, env, rounding)
                if value is None:
                    value = step.value * np.nan if step.is_matrix else math.nan
            env[step.key] = _overlay(value, self.given(step.key))[0]
        self._implied[decimals] = env
        return env

    @staticmethod
    def evaluate(step, env, rounding):
        from ..errors import DeriveError
        from ..steps import evaluate_formula

        try:
            return rounding.apply(evaluate_formula(step.formula, env, step.key))
        except DeriveError:
            return None

    def suspicious(self, key, value, correct):
        """A wrong 0, or a given number copied in, where the correct value is not that (the gaming guard)."""
        value, correct = np.asarray(value, dtype=float), np.asarray(correct, dtype=float)
        wrong = ~np.isclose(value, correct, rtol=1e-12, atol=1e-15)
        if (wrong & (value == 0) & (correct != 0)).any():
            return True
        givens = self.grading.given_numbers
        if self.exact[key].is_given or givens.size == 0:
            return False
        copied = np.isin(value[wrong], givens) & ~np.isin(correct[wrong], givens)
        return bool(copied.any())

    def used_pairs(self, used, env):
        """(key, value) of the student's numbers a candidate rests on: numbers, and up to 10 entries of each
        matrix that differ from the correct ones."""
        pairs = []
        for d in used:
            step = self.exact[d]
            if not step.is_matrix:
                pairs.append((d, float(env[d])))
                continue
            differs = np.argwhere(~np.isclose(env[d], step.value, rtol=1e-12, atol=1e-15))
            pairs += [(step.entries.key(int(r), int(c)), float(env[d][r, c])) for r, c in differs[:10]]
        return tuple(pairs)

    def describe(self, used):
        symbols = self.grading.grader.symbols
        shown = [f"{symbols[k].text if k in symbols else k} = {format_number(v)}" for k, v in used[:3]]
        return ", ".join(shown) + (f" and {len(used) - 3} more" if len(used) > 3 else "")


def _number(answer):
    if answer is None or not answer.text.strip():
        return None, "", ""
    if answer.number is None:
        return None, answer.text, answer.refused or answer.problem or "not a number"
    return answer.number, answer.text, ""


def _as_shape(values, shape):
    """Rows of numbers as an array of `shape`; a flat list fits a vector (n×1 or 1×n); None if it does not fit."""
    try:
        array = np.array(values, dtype=float)
    except (TypeError, ValueError):
        return None
    if array.ndim == 1 and 1 in shape and array.size == shape[0] * shape[1]:
        return array.reshape(shape)
    if array.shape == shape:
        return array
    return None


def _shape_of(values):
    if values and all(isinstance(row, tuple) for row in values):
        widths = sorted({len(row) for row in values})
        return f"{len(values)}×{'/'.join(map(str, widths[:3]))}"
    return f"a list of {len(values)}"


def _overlay(correct, own):
    """`own` (NaN where not answered) laid over `correct`; and whether any of it differs from `correct`."""
    if own is None:
        return correct, False
    if not hasattr(correct, "shape"):
        return own, not math.isclose(own, correct, rel_tol=1e-12, abs_tol=1e-15)
    answered = ~np.isnan(own)
    value = np.where(answered, own, correct)
    return value, bool((answered & ~np.isclose(own, correct, rtol=1e-12, atol=1e-15)).any())


def _same(value, correct):
    if hasattr(correct, "shape"):
        return bool(np.isclose(value, correct, rtol=1e-12, atol=1e-15).all())
    return math.isclose(value, correct, rel_tol=1e-12, abs_tol=1e-15)
