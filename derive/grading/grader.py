"""Marking an answer sheet against a Solution: tolerance, follow-through, symbolic answers.

Each item (a step key) gets a Verdict with a short stable code:

    OK          right: within tolerance of the expected value (the exact chain,
                or the problem's own rounded chain, the lecture's way)
    FT          right by follow-through: the step's formula evaluated on the
                student's own earlier answers gives the student's number
    SIGN        wrong: right size, wrong sign
    ROUNDING    wrong: the expected value rounded too coarsely (fewer decimals
                than the tolerance asks for)
    WRONG       wrong
    MISSING     no answer
    UNREADABLE  not a number or expression (the reason is given)
    UNDECIDED   an expression neither numbers nor SymPy could decide, or an
                answer that could not be graded within its budget (the
                reason is given)

Follow-through re-evaluates the step's formula (the same mechanism that
computes and prints it) on the student's values for the dependencies they
gave; for the rest it uses either the correct values or the values implied
by the student's own earlier answers, whichever credits the student, and
either the exact or the problem's rounded arithmetic. A wrong number early
in a chain therefore costs marks once.

Slips: an item graded SIGN, ROUNDING or WRONG is diagnosed (derive.grading.diagnose):
when exactly one known slip reproduces the student's number, the verdict
names it ("looks like δ³₁ w³₁₁ without the factor σ′(z²₁) = ..."). The
diagnosis changes no mark unless the problem's `grading.slips` gives that
slip partial credit.

Gaming guard: follow-through is refused when a wrong earlier value it would
rest on is 0 or a copy of a given number (an input, a weight, the learning
rate) while the correct value is not: such values make later steps trivial.
"""

import itertools
import math
import operator
import threading
from contextlib import nullcontext
from dataclasses import dataclass, field

import sympy

from ..errors import DeriveError, ExpressionError, Timeout
from ..expr import parse_tokens, written_tokens
from ..render.latex import escape
from ..steps import EXACT, evaluate_formula, format_number
from ..symbolic.limits import time_limit
from .config import read_grading

ANSWER_SECONDS = 10.0  # the time one answer may take to grade, whatever it contains
# verdicts, expressions decided, calculations printed, kept at once in each of a Grader's memos: a Grader
# kept between calls (derive.api.grade) or given 10,000 sheets of distinct answers grows no further
MAX_REMEMBERED = 200_000
MAX_REMEMBERED_TEXT = 200  # characters: an expression longer than any a hand types is parsed each time
_DIAGNOSED = object()  # remembered in place of a wrong number's verdict: its slip reads more of the sheet
# the verdicts that are the same for every student who writes the same text, by whether the item is an
# expression (decided once per text, whatever the rest of the sheet) or a number (whose other verdicts rest
# on the sheet's earlier numbers); never UNDECIDED, which a busier moment may decide
_SETTLED = {False: ("OK", "MISSING"), True: ("OK", "WRONG", "MISSING", "UNREADABLE")}

_POINTS, _MAX_POINTS = operator.attrgetter("points"), operator.attrgetter("max_points")
CODES = ("OK", "FT", "SIGN", "ROUNDING", "WRONG", "MISSING", "UNREADABLE", "UNDECIDED")
RIGHT = ("OK", "FT")
# each code in words, for readers who have not learnt the codes (a student's feedback page)
WORDS = {"OK": "right", "FT": "right by follow-through", "SIGN": "wrong sign", "ROUNDING": "rounded too coarsely",
         "WRONG": "wrong", "MISSING": "missing", "UNREADABLE": "unreadable", "UNDECIDED": "undecided"}


@dataclass(frozen=True)
class Verdict:
    """The mark of one item.

    key: the step key; code: one of CODES; credit: fraction of the points
    earned; points, max_points: earned and available; answer: what the
    student wrote (text); expected: the expected value as printed; detail:
    one line of feedback; used: (key, value) pairs of the student's own
    numbers a follow-through verdict rests on; decided_by: for expressions,
    "numbers" or "sympy"; calculation: the line that gives the expected (or
    follow-through) value; slip: for a wrong answer a known slip explains,
    its code (or "ambiguous"), with slip_codes (every code that explains it)
    and slip_detail (one line: "looks like ..."); calculation_latex: the
    calculation in LaTeX, for pages that show it as mathematics.
    """

    key: str
    code: str
    credit: float
    points: float
    max_points: float
    answer: str
    expected: str
    detail: str = ""
    used: tuple = ()
    decided_by: str = ""
    calculation: str = ""
    slip: str = ""
    slip_codes: tuple = ()
    slip_detail: str = ""
    calculation_latex: str = ""

    @property
    def right(self):
        return self.code in RIGHT


@dataclass
class SheetResult:
    """All verdicts of one sheet, or why it could not be read.

    student, path: who and which file; verdicts: one Verdict per graded
    item, in solution order (`result["yhat[1]"]` finds one by key);
    warnings: unknown keys ignored; error: why the sheet could not be read
    ("" when it was graded); solution: the Solution graded against, for
    showing each item's symbol (None for an unreadable sheet).
    In a notebook it shows as a Markdown table (`to_markdown`).
    """

    student: str
    path: str
    verdicts: list = field(default_factory=list)
    warnings: list = field(default_factory=list)
    error: str = ""
    solution: object = field(default=None, compare=False)

    @property
    def score(self):
        return sum(map(_POINTS, self.verdicts))

    @property
    def max_score(self):
        return sum(map(_MAX_POINTS, self.verdicts))

    def __getitem__(self, key):
        """The Verdict of the item `key` (`"delta[3][1]"`)."""
        for verdict in self.verdicts:
            if verdict.key == key:
                return verdict
        import difflib

        close = difflib.get_close_matches(str(key), [v.key for v in self.verdicts], n=1)
        raise KeyError(f"no graded item {key!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))

    def __repr__(self):
        if self.error:
            return f"<SheetResult {self.student}: unreadable: {self.error}>"
        counts = ", ".join(f"{count} {code}" for code, count in _counts(self.verdicts).items())
        return f"<SheetResult {self.student}: {format_number(self.score)}/{format_number(self.max_score)} ({counts})>"

    def to_text(self):
        """The text report `derive grade` prints for this sheet: each item's answer, verdict and points."""
        from ..render.report import TextReportPrinter

        return TextReportPrinter().doprint(self)

    def to_markdown(self):
        """The same as a Markdown table, each item's symbol and expected value in LaTeX math."""
        from ..render.report import MarkdownReportPrinter

        return MarkdownReportPrinter().doprint(self)

    def _repr_markdown_(self):
        return self.to_markdown()


def _counts(verdicts):
    """{code: how many}, in the order of CODES, codes that occur only."""
    found = [v.code for v in verdicts]
    return {code: found.count(code) for code in CODES if code in found}


class Grader:
    """Grades sheets against one problem; everything that does not depend on the sheet is computed once."""

    def __init__(self, problem, config=None, diagnose=True, slip_rewrites=None, calculations=True):
        self.problem = problem
        self.matrix = None  # derive.grading.matrix's MatrixGrading, for a solution in matrix notation (below)
        self.diagnose = diagnose  # name the slips behind wrong answers (derive.grading.diagnose)
        # print each verdict's calculation (Verdict.calculation): False leaves them empty, for a class whose
        # reports show none (a class summary), as printing them is a fifth of the grading of a wrong number
        self.calculations = calculations
        # the rules' rewritings of each step, shared by the graders of one problem's variants
        self.slip_rewrites = {} if slip_rewrites is None else slip_rewrites
        self.exact = problem.solve(EXACT)
        self.config = config = config or read_grading(problem, self.exact)
        self.rounding = problem.rounding
        self.rounded = problem.solve() if problem.rounding.decimals is not None else None
        self.exact_values = self.exact.values()
        self.rounded_values = self.rounded.values() if self.rounded else None
        self.symbols = self.exact.symbols()
        # the steps whose value is a number (not an expression, not an array): those a number answers
        self.numeric_keys = {k for k, v in self.exact_values.items()
                             if isinstance(v, (int, float)) and not isinstance(v, bool)}
        givens = [s.value for s in self.exact if s.is_given]
        self.given_numbers = {float(v) for v in givens if isinstance(v, (int, float))}
        self.items = config.items
        matrix = any(step.is_matrix for step in self.exact)  # then derive.grading.matrix plans the items
        self.expected_text = {} if matrix else {key: self.show(key) for key in self.items}
        chains = [self.exact_values] + ([self.rounded_values] if self.rounded_values else [])
        self._plan = [] if matrix else [  # per item, what grading it needs, looked up once
            (key, self.exact[key], config.points.get(key, 1.0),
             config.item_tolerance.get(key, config.tolerance), tuple(chain[key] for chain in chains))
            for key in self.items]
        self._calculations = {}  # (key, student's numbers used) -> the printed calculation
        self._expressions = {}  # (key, answer text) -> verdict fields, decided once per distinct answer
        self._variables = {}  # key -> answer_variables of its step
        self._parsed = {}  # (key, parsed expression, its conditions) -> the same, once per distinct expression
        self._tokens = {}  # (key, an answer's tokens without their positions, joined) -> its key in _parsed
        self._numbers = {}  # (key, answer, the student's numbers it rests on) -> its verdict
        # per item: answer text -> the verdict of an answer right or missing for everyone who wrote it
        self._settled = {key: {} for key in self.items}
        # per item, as a sheet is walked: its key, its settled verdicts, whether it is an expression, its plan
        self._walk = [(plan[0], self._settled[plan[0]], plan[1].is_symbolic, plan) for plan in self._plan]
        self._is_close = {}  # (key, number) -> whether it is the correct value (_close), for _Numbers.differing
        self._ancestors = {}  # key -> the steps it rests on, in order (follow-through over skipped steps)
        # per item, the inputs a sheet must give for its verdict to rest on the sheet's numbers alone
        self._inputs = {} if matrix else {key: tuple(d for d in self.exact[key].deps if not self.exact[d].is_given)
                                          for key in self.items}
        self._diagnoser = None
        if matrix:  # matrix notation: per entry and per whole matrix
            from .matrix import MatrixGrading

            self.matrix = MatrixGrading(self)

    @property
    def known_keys(self):
        """The keys a sheet may answer (with matrix steps, their entries too, found without listing them)."""
        return self.matrix.known_keys() if self.matrix is not None else set(self.exact_values)

    # -- one sheet ----------------------------------------------------------
    def grade(self, sheet):
        """A SheetResult for an AnswerSheet (see derive.grading.sheet)."""
        if self.matrix is not None:
            return self.matrix.grade(sheet)
        result = SheetResult(sheet.student, sheet.path, warnings=list(sheet.warnings), solution=self.exact)
        numbers = _Numbers(self, {key: a.number for key, a in sheet.answers.items() if a.number is not None})
        answers, verdicts = sheet.answers, result.verdicts
        for key, same, symbolic, plan in self._walk:
            answer = answers.get(key)
            verdict = same.get(answer.text if answer is not None else "")
            if verdict is None or (answer is not None and answer.refused):  # a refusal's text is no answer's
                if answer is not None and answer.number is not None and not symbolic:
                    verdict = self._numeric_verdict(plan, answer, numbers)
                else:
                    verdict = self.grade_within_budget(plan, answer, numbers)
                if verdict.code in _SETTLED[symbolic] and (answer is None or not answer.refused):
                    if len(same) >= MAX_REMEMBERED:
                        same.clear()
                    same[verdict.answer] = verdict  # the same for every student who wrote it
            verdicts.append(verdict)
        return result

    def _numeric_verdict(self, plan, answer, numbers):
        """grade_within_budget of a number, remembered: its verdict depends on the answer and on the
        student's numbers for the step's inputs only (and, for a wrong answer whose slip is sought, for the
        keys the slips read), unless the sheet skips an input and follow-through fills it in from the
        rest of the sheet. A class repeats its wrong numbers, and the steps after them."""
        step = plan[1]
        if not all(map(numbers.__contains__, self._inputs[plan[0]])):
            return self.grade_within_budget(plan, answer, numbers)
        memo = (plan[0], answer.text, answer.number, tuple(map(numbers.get, step.deps)))
        verdict = self._numbers.get(memo)
        if verdict is _DIAGNOSED:
            memo += (tuple(map(numbers.get, self.diagnoser.reads(step))),)
            verdict = self._numbers.get(memo)
        if verdict is None:
            verdict = self.grade_within_budget(plan, answer, numbers)
            if verdict.code == "UNDECIDED":
                return verdict  # over its budget or a bug: tried again, never remembered
            if len(self._numbers) >= MAX_REMEMBERED:
                self._numbers.clear()
            if self.diagnose and verdict.code in ("SIGN", "ROUNDING", "WRONG") and len(memo) == 4:
                self._numbers[memo] = _DIAGNOSED
                memo += (tuple(map(numbers.get, self.diagnoser.reads(step))),)
            self._numbers[memo] = verdict
        return verdict

    def grade_within_budget(self, plan, answer, numbers):
        """grade_item, bounded: an answer over ANSWER_SECONDS, or one that meets a bug of derive's,
        is UNDECIDED with the reason, and the rest of the sheet is graded.

        Only what may reach SymPy (an expression, text that is not a number) runs under the timer: a
        number's grading is a bounded amount of float arithmetic whatever the number (follow-through,
        at most MAX_VARIANTS slip variants), so it skips the timer's four system calls; a class run's
        per-sheet budget (derive.grading.isolation) still bounds it."""
        key, points = plan[0], plan[2]
        written = answer.text if answer else ""
        try:
            if answer is not None and answer.number is not None and not plan[1].is_symbolic:
                return self.grade_item(plan, answer, numbers)
            with _answer_budget():
                return self.grade_item(plan, answer, numbers)
        except Timeout:
            detail = f"could not be graded within {ANSWER_SECONDS:g} s"
        except MemoryError:
            detail = "could not be graded within the memory budget"
        except Exception as error:  # a bug of derive's: this answer's verdict says so, grading goes on
            detail = f"derive could not grade this answer (internal error: {type(error).__name__})"
        return Verdict(key, "UNDECIDED", 0.0, 0.0, points, written, self.expected_text[key], detail=detail,
                       decided_by="undecided")

    def grade_item(self, plan, answer, numbers):
        """The Verdict of one item (`plan`, as Grader._plan holds it) for `answer` (an Answer, or None),
        on a sheet whose numbers are `numbers` (a _Numbers)."""
        key, step, points, tolerance, expected_values = plan
        written = answer.text if answer else ""

        def make(code, credit=0.0, **fields):
            credit = fields.pop("credit", credit)
            return Verdict(key, code, credit, credit * points, points, written, self.expected_text[key], **fields)

        if answer is None or answer.text.strip() == "":
            return make("MISSING", detail="no answer", **self.calculation(step, {}))
        if answer.refused:
            return make("UNREADABLE", detail=answer.refused)
        if step.is_symbolic:
            return self.grade_expression(step, answer, make)
        if answer.number is None:
            return make("UNREADABLE", detail=answer.problem or "not a number")
        a = answer.number
        if any(tolerance.accepts(a, expected) for expected in expected_values):
            return make("OK", 1.0)
        if not step.is_given:
            for used, value in self.follow_through(step, numbers):
                if tolerance.accepts(a, value):
                    credit = self.config.follow_through
                    shown = ", ".join(f"{self.symbols[k].text} = {format_number(v)}" for k, v in used)
                    return make("FT", credit, used=tuple(used), detail=f"follow-through, using your {shown}",
                                **self.calculation(step, dict(used)))
        differing = numbers.differing
        own = {d: differing[d] for d in step.deps if d in differing}
        calculation = self.calculation(step, {})
        if own:  # show what the student's own earlier numbers give, and where that differs
            calculation = self.calculation(step, own, prefix="with your numbers: ")
        expected = expected_values[0]
        if expected != 0 and any(tolerance.accepts(-a, value) for value in expected_values):
            code, detail = "SIGN", "the sign is wrong"
        elif a not in self.given_numbers and _coarsely_rounded(a, expected, tolerance):
            code, detail = "ROUNDING", "rounded too coarsely or too early"
        else:
            code, detail = "WRONG", "wrong"
        diagnosis = self.diagnoser.numeric(step, a, written, numbers, tolerance) if self.diagnose else None
        return make(code, detail=detail, **calculation, **self._slip_fields(diagnosis))

    @property
    def diagnoser(self):
        if self._diagnoser is None:
            from .diagnose import Diagnoser

            self._diagnoser = Diagnoser(self, shared=self.slip_rewrites)
        return self._diagnoser

    def _slip_fields(self, diagnosis):
        """The Verdict fields a diagnosis sets: the slip, and its partial credit if the problem gives one."""
        if diagnosis is None:
            return {}
        fields = {"slip": diagnosis.code, "slip_codes": diagnosis.codes, "slip_detail": diagnosis.text}
        if diagnosis.code in self.config.slips:
            fields["credit"] = self.config.slips[diagnosis.code]
        return fields

    def follow_through(self, step, numbers):
        """(used, value) candidates: the step's formula on the student's own earlier numbers.

        `numbers` is the sheet's _Numbers. `used` lists the student's numbers
        that differ from the correct ones; a candidate resting on none of them
        is no follow-through at all, and one resting on a 0 or a copied given
        (the gaming guard) is dropped. Candidates come lazily, cheapest
        first: the student's numbers with the correct values for the rest
        (evaluated once when the sheet gives every input: both chains then
        read the same numbers, and only their rounding differs); then, only
        if the sheet skips an input, with the values the student's own
        numbers imply for it.
        """
        differing = numbers.differing
        used = [(d, differing[d]) for d in step.deps if d in differing]
        skipped = [d for d in self._inputs[step.key] if d not in numbers]
        if used and not any(self._suspicious(d, v) for d, v in used):
            chains = [(self.exact_values, EXACT)]
            if self.rounded_values is not None:
                chains.append((self.rounded_values, self.rounding))
            same = all(map(numbers.__contains__, step.deps))  # every chain reads the sheet's numbers only
            evaluated = False
            for values, rounding in chains:
                if not (same and evaluated):
                    env = {d: numbers[d] if d in numbers else values[d] for d in step.deps}
                    try:
                        value = evaluate_formula(step.formula, env, step.key)
                    except DeriveError:  # the student's numbers leave the formula's domain
                        value = None
                    evaluated = True
                if value is not None:
                    yield used, rounding.apply(value)
        if not skipped:
            return  # nothing skipped: the implied values are the student's own
        for solution in (self.exact, self.rounded):
            if solution is not None:
                implied = numbers.implied.get(solution.rounding.decimals)
                if implied is None:
                    implied = numbers.implied[solution.rounding.decimals] = _Implied(self, solution, numbers)
                if implied.computable(step.deps):
                    candidate = self._candidate(step, solution.rounding, implied.__getitem__, numbers)
                    if candidate:
                        yield candidate

    def _candidate(self, step, rounding, fill, numbers):
        """(used, value): the step's formula on the sheet's numbers, `fill(key)` for the inputs it skips;
        None where it rests on no number of the student's, on a suspicious one, or leaves the formula's domain."""
        env, used = {}, []
        for d in step.deps:
            value = numbers[d] if d in numbers else fill(d)
            env[d] = value
            if not self._close(d, value):
                used.append((d, value))
        if not used or any(self._suspicious(d, v) for d, v in used):
            return None
        try:
            return used, rounding.apply(evaluate_formula(step.formula, env, step.key))
        except DeriveError:  # the student's numbers leave the formula's domain
            return None

    def ancestors(self, key):
        """The computed steps `key` rests on, directly or not, in solution order (found once per key)."""
        found = self._ancestors.get(key)
        if found is None:
            needed, stack = set(), list(self.exact[key].deps)
            while stack:
                d = stack.pop()
                if d not in needed:
                    needed.add(d)
                    stack.extend(self.exact[d].deps)
            found = self._ancestors[key] = [s.key for s in self.exact if s.key in needed]
        return found

    def _close(self, key, value):
        """The value is the correct one (exact, or the problem's rounded chain)."""
        expected = self.exact_values[key]
        return value == expected or math.isclose(value, expected, rel_tol=1e-12, abs_tol=1e-15) or (
            self.rounded_values is not None and value == self.rounded_values[key])

    def _right(self, key, value):
        tolerance = self.config.item_tolerance.get(key, self.config.tolerance)
        return tolerance.accepts(value, self.exact_values[key]) or (
            self.rounded_values is not None and tolerance.accepts(value, self.rounded_values[key]))

    def _suspicious(self, key, value):
        """A wrong value that makes later steps trivial: 0, or a given copied in."""
        expected = self.exact_values[key]
        if value == 0 and expected != 0:
            return True
        return value in self.given_numbers and value != expected and not self._right(key, value)

    # -- expressions --------------------------------------------------------
    def grade_expression(self, step, answer, make):
        """An expression answer, decided once per distinct text (a class writes few distinct forms)."""
        cache_key = (step.key, answer.text)
        if cache_key not in self._expressions:
            if len(self._expressions) >= MAX_REMEMBERED:
                self._expressions.clear()
            self._expressions[cache_key] = self._decide_expression(step, answer.text)
        code, credit, fields = self._expressions[cache_key]
        return make(code, credit, **fields)

    def _decide_expression(self, step, text):
        if step.key not in self._variables:
            self._variables[step.key] = answer_variables(step)
        variables, names = self._variables[step.key]
        try:
            tokens = written_tokens(text)
            # `s*(1-s)`, `s * (1 - s)` and `s^2` as `s**2`: the same tokens, parsed once; what a hand types
            # only, so that a class of long distinct answers cannot fill memory with their tokens
            token_key = (step.key, "\0".join(kind[0] + value for kind, value, _ in tokens)) \
                if len(text) <= MAX_REMEMBERED_TEXT else None
            parsed_key, written = self._tokens.get(token_key), None
            if parsed_key not in self._parsed:  # never seen, or forgotten since (MAX_REMEMBERED)
                written = parse_tokens(tokens, names)
        except ExpressionError as error:  # its message says where in this text: not remembered by tokens
            return "UNREADABLE", 0.0, {"detail": error.message}
        if written is not None:
            # `s*(1-s)` and `(1-s)*s` parse to one expression: it is decided once
            parsed_key = (step.key, written.expression, tuple(written.conditions))
            if token_key is not None:
                if len(self._tokens) >= MAX_REMEMBERED:
                    self._tokens.clear()
                self._tokens[token_key] = parsed_key
            if parsed_key not in self._parsed:
                if len(self._parsed) >= MAX_REMEMBERED:
                    self._parsed.clear()
                self._parsed[parsed_key] = self._decide_parsed(step, written, variables)
        code, credit, fields = self._parsed[parsed_key]
        return code, credit, dict(fields)

    def _decide_parsed(self, step, written, variables):
        from .equivalence import equivalent

        expression = written.expression
        verdict = equivalent(expression, step.value, variables, written.conditions)
        fields = {"decided_by": verdict.decided_by}
        if verdict.equal is True:
            return "OK", 1.0, dict(fields, detail=f"equivalent ({verdict.detail})")
        if verdict.equal is None:
            return "UNDECIDED", 0.0, dict(fields, detail=verdict.detail)
        if self.diagnose:
            fields.update(self._slip_fields(self.diagnoser.expression(step, expression, variables)))
        return "WRONG", fields.pop("credit", 0.0), dict(fields, detail=f"not equivalent: {verdict.detail}")

    # -- display ------------------------------------------------------------
    def show(self, key):
        if self.matrix is not None:  # an entry, or a whole vector or matrix
            return self.matrix.show(key)
        step = self.exact[key]
        if step.is_symbolic:
            from ..render.formula import text_formula

            return text_formula(step.value, {})
        value = (self.rounded_values or self.exact_values)[key]
        return format_number(value, self.rounding if self.rounded else None)

    def calculation(self, step, used, prefix=""):
        """The line that produces the expected value, with the student's numbers where `used` says:
        the Verdict fields `calculation` (text) and `calculation_latex`, each after `prefix`."""
        if step.is_given or step.is_symbolic or not self.calculations:
            return {}
        cache_key = (step.key, tuple(sorted(used.items())))
        if cache_key not in self._calculations:
            if len(self._calculations) >= MAX_REMEMBERED:
                self._calculations.clear()
            self._calculations[cache_key] = self._calculation(step, used)
        text, latex = self._calculations[cache_key]
        return {"calculation": prefix + text,
                "calculation_latex": (rf"\text{{{escape(prefix)}}}" if prefix else "") + latex}

    def _calculation(self, step, used):
        """(text, LaTeX) of the calculation: one evaluation, printed by both formula printers."""
        from ..render.formula import latex_formula, text_formula

        values = dict(self.rounded_values or self.exact_values)
        values.update(used)
        env = {d: values[d] for d in step.deps}
        rounding = self.rounding if self.rounded else None
        try:
            result = evaluate_formula(step.formula, env, step.key)
        except DeriveError as error:  # the student's numbers leave the formula's domain: say so, grade on
            result, reason = None, str(error).split(": ", 1)[-1]
        lines = []
        for formula, symbol in ((text_formula, step.symbol.text), (latex_formula, step.symbol.latex)):
            shown = (f"{symbol} = {formula(step.formula, self.symbols)} = "
                     f"{formula(step.formula, values=env, rounding=rounding)}")
            if result is None:
                shown += f": {reason}" if formula is text_formula else rf"\text{{: {escape(reason)}}}"
            else:
                shown += f" = {format_number(rounding.apply(result) if rounding else result, rounding)}"
            lines.append(shown)
        return tuple(lines)


class _Numbers(dict):
    """One sheet's numbers (key -> value), with what grading its items shares, found once per sheet:
    `differing`, the numbers that are not the correct values, `implied` (chain decimals -> _Implied), and
    `mixed`, the correct chains with the sheet's own numbers standing in, where the slips are sought."""

    def __init__(self, grader, numbers):
        super().__init__(numbers)
        self.grader = grader
        self.implied = {}
        self.mixed = []  # per correct chain: its values with this sheet's own numbers standing in (diagnose)
        self._differing = None

    @property
    def differing(self):
        """{key: value} of the student's own numbers: those that are not the correct value (exact, or the
        problem's rounded chain), on which follow-through and the slips rest."""
        if self._differing is None:
            grader = self.grader
            remembered, differing = grader._is_close, {}
            for item in self.items():  # a class writes the same numbers: each is judged once
                close = remembered.get(item)
                if close is None:
                    if len(remembered) >= MAX_REMEMBERED:
                        remembered.clear()
                    close = remembered[item] = item[0] not in grader.numeric_keys or grader._close(*item)
                if not close:
                    differing[item[0]] = item[1]
            self._differing = differing
        return self._differing


class _Implied(dict):
    """The values one sheet's numbers imply, on one chain: each step evaluated (with the chain's rounding)
    on the student's numbers where the sheet gives them, only when a follow-through over a skipped step
    asks for it, and only the steps it rests on. A step the student's numbers take out of a formula's
    domain has no implied value, nor has any step resting on it."""

    _FAILED = object()

    def __init__(self, grader, solution, numbers):
        super().__init__()
        self.grader, self.solution, self.numbers = grader, solution, numbers

    def computable(self, keys):
        """Evaluate what `keys` rest on; True when each of them has a value."""
        solution, numbers, failed = self.solution, self.numbers, self._FAILED
        for key in keys:
            if key in self:
                continue
            for k in itertools.chain(self.grader.ancestors(key), (key,)):
                if k in self:
                    continue
                step = solution[k]
                if k in numbers:
                    self[k] = numbers[k]
                elif step.is_given or step.is_symbolic:
                    self[k] = step.value
                elif any(self[d] is failed for d in step.deps):
                    self[k] = failed
                else:
                    try:
                        self[k] = solution.rounding.apply(evaluate_formula(step.formula, self, k))
                    except DeriveError:
                        self[k] = failed
        return all(self[key] is not failed for key in keys)


def answer_variables(step):
    """(variables, names) for parsing an expression answer to a symbolic step.

    The variables are those of the expected expression (and the variable a
    derivative is taken in; never the step keys a formula refers to); when
    the formula differentiates a function of one variable, `f` stands for
    that function (and `h`, the lecture's name for a unit's output, unless h
    is a variable; `f(x)` is f itself), and for the sigmoid also `s`, `σ`,
    `sigma`. Over a vector
    x_1 ... x_n whose softmax the formula takes, `s_i` (or `si`) stands for
    softmax(x)_i = exp(x_i)/Σ_k exp(x_k), as the lecture writes it.
    """
    formula = step.formula
    free = set(step.value.free_symbols)
    if isinstance(formula, sympy.Derivative):
        free |= set(formula.variables)  # d/dx of a constant is still a function of x
    variables = tuple(sorted(free, key=str))
    names = {variable.name: variable for variable in variables}
    if isinstance(formula, sympy.Derivative) and len(variables) == 1 \
            and formula.args[0].free_symbols <= set(variables):
        function, variable = formula.args[0], variables[0]
        names["f"] = function
        names.setdefault("h", function)
        if function == 1 / (1 + sympy.exp(-variable)):
            names.update({"s": function, "σ": function, "sigma": function})
    names.update(softmax_names(formula, variables))
    return variables, names


def _answer_budget():
    """The time limit of one answer; outside the main thread none can be set, and the class run's
    per-sheet budget (derive.grading.isolation) is what bounds it."""
    if threading.current_thread() is threading.main_thread():
        return time_limit(ANSWER_SECONDS, "grading this answer")
    return nullcontext()


def softmax_names(formula, variables):
    """{"s_i": softmax(x)_i, "si": ...} when `variables` are x_1 ... x_n and `formula` takes their softmax."""
    import re

    vector = {}
    for variable in variables:
        match = re.fullmatch(r"x_(\d+)", variable.name)
        if match:
            vector[int(match[1])] = variable
    if len(vector) < 2 or sorted(vector) != list(range(1, len(vector) + 1)):
        return {}
    total = sympy.Add(*(sympy.exp(x) for x in vector.values()))
    if not any(node == total for node in sympy.preorder_traversal(formula)):
        return {}
    names = {}
    for i, x in vector.items():
        names[f"s_{i}"] = names[f"s{i}"] = sympy.exp(x) / total
    return names


def _coarsely_rounded(answer, expected, tolerance):
    """True when `answer` is `expected` rounded (half up or down) to fewer decimals than asked."""
    asked = tolerance.decimals if tolerance.decimals is not None else 6
    if answer == 0:
        return False
    if asked > 0 and math.isfinite(answer):  # first, cheaply: a number of fewer decimals, up to isclose's slack?
        scale = 10.0 ** (asked - 1)
        slack = scale * (2.1e-9 * abs(answer) + 1e-12) + 1e-9
        scaled = answer * scale
        if slack < 0.5 and abs(scaled - round(scaled)) > slack:
            return False
    for places in range(0, asked):
        scale = 10.0 ** places
        if answer != 0 and any(math.isclose(answer, f(expected * scale) / scale, rel_tol=1e-9, abs_tol=1e-12)
                               for f in (round, math.floor, math.ceil)):
            return True
    return False
