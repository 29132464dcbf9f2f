"""Naming the slip behind a wrong answer: which rule of the catalogue reproduces the student's number.

For an item graded wrong, every Variant the catalogue (derive.grading.slips) makes of
the step's formula is evaluated on the correct values (exact and, where the
problem rounds, its rounded chain) and on the student's own earlier numbers
standing in for the correct ones. A rule explains the answer when one of
its variants lands within the item's tolerance of it *and* agrees with it
to the digits the student wrote (-0.0014 matches -0.00136, -0.00132 does
not), while differing from the right value there (a variant that changes
nothing explains nothing). A variant may read only steps that come before
the one it rewrites.
Exactly one rule explaining: that slip. Two or more: "ambiguous", with each.
None: silence. A diagnosis never changes a mark, unless the problem file
gives the slip partial credit (`grading.slips`).

Variants are made once per step, and their values on the correct chains
once per step; a sheet's own numbers cost one evaluation per variant, and
only for the variants that read a number the student changed.
"""

import bisect
import math
import re
from dataclasses import dataclass

from ..errors import DeriveError
from .slips import CATALOGUE, SlipContext

MAX_VARIANTS = 400  # per step: a bound on the work one wrong answer can cause
MAX_REMEMBERED = 200_000  # diagnoses, and variant values on students' own numbers, kept at once
# What a rule or a variant's evaluation may raise when a formula is not of the shape it reads:
# it then explains nothing, and grading goes on.
UNREADABLE = (DeriveError, TypeError, ValueError, ZeroDivisionError, KeyError, AttributeError, IndexError)


@dataclass(frozen=True)
class Diagnosis:
    """codes: the slip codes that explain the answer (one, or several when ambiguous); text: one line."""

    codes: tuple
    text: str

    @property
    def code(self):
        return self.codes[0] if len(self.codes) == 1 else "ambiguous"


class Diagnoser:
    """Diagnoses wrong answers against one Grader's solution."""

    def __init__(self, grader, catalogue=CATALOGUE, shared=None):
        self.grader = grader
        self.catalogue = catalogue
        self.shared = {} if shared is None else shared  # (key, formula, inputs at 0) -> the rules' rewritings
        self.context = SlipContext(grader.exact)
        self._numeric = {}  # step key -> ([(code, variant, deps, [(value, right) per correct chain])], keys read)
        self._expressions = {}  # step key -> [(code, variant)]
        self._cache = {}  # (key, answer, the student's differing numbers) -> Diagnosis or None
        self._own_values = {}  # (key, variant, the student's numbers it reads) -> its value per correct chain
        self._rows = {}  # step key -> per variant: (code, variant, values on the correct chains, keys it reads
        #                  sorted, whether it is a rounding slip), as the search reads them
        self._chain_values = {}  # step key -> the variants' values on the correct chains, sorted
        self._readers_of = {}  # (step key, keys of the student's numbers) -> the variants reading them

    # -- numbers -----------------------------------------------------------------
    def numeric(self, step, answer, text, numbers, tolerance):
        """The Diagnosis of a wrong number `answer` (written as `text`) to `step`, or None; `numbers` is the
        sheet's numbers (the Grader's _Numbers)."""
        if answer == 0:
            return None  # a 0 is as often "I don't know" as a slip, and many variants land on it
        variants, relevant, readers = self._variants(step)
        if not variants:
            return None
        differing = numbers.differing
        if len(differing) < len(relevant):  # the sheet's own numbers a variant reads, in key order
            own = tuple(sorted(item for item in differing.items() if item[0] in readers))
        else:
            own = tuple((d, differing[d]) for d in relevant if d in differing)
        cache_key = (step.key, answer, text, own)
        if cache_key not in self._cache:
            if len(self._cache) >= MAX_REMEMBERED:
                self._cache.clear()
            self._cache[cache_key] = self._explain(step, answer, _half_unit(text), dict(own), variants, readers,
                                                   tolerance, numbers)
        return self._cache[cache_key]

    def reads(self, step):
        """The keys whose numbers a diagnosis of `step` reads, sorted."""
        return self._variants(step)[1]

    def _explain(self, step, answer, half_unit, own, variants, readers, tolerance, numbers):
        copied = answer in self.grader.given_numbers  # a copied given
        # Each correct chain with the student's own numbers standing in: the variants that read them are
        # evaluated there. The sheet's numbers stand in for the correct ones in one environment per chain
        # for all its items: a variant reads only numbers of `own` (the sheet's, for the keys variants read).
        mixed = numbers.mixed if own else ()
        if own and not mixed:
            differing = numbers.differing
            for chain, (values, rounding) in enumerate(self._chains()):
                env = dict(values)
                env.update(differing)
                mixed.append((chain, env, values, rounding))
        rights = {}

        def right_on(chain):
            """The step's right value on chain `chain` with the student's own numbers (`own`) standing in:
            what follow-through would accept, so a variant landing on it explains nothing. None where
            the step cannot be evaluated there: that chain then explains nothing."""
            if chain not in rights:
                _, _, values, rounding = mixed[chain]
                env = dict(values)
                env.update(own)
                try:
                    rights[chain] = rounding.apply(_evaluate(step.formula, env))
                except UNREADABLE:
                    rights[chain] = None
            return rights[chain]

        near = self._near(step, variants, answer, half_unit)
        # the only variants that can explain the answer: those near it on a correct chain, and those reading
        # one of the student's own numbers; tried in the catalogue's order, the first rule to explain names it
        order, reading = self._reading(step.key, own, readers) if own else ((), ())
        if near:
            order = sorted(near.union(order))
        key, rows, remembered = step.key, self._rows[step.key], self._own_values.get
        explained = {}
        for n in order:
            code, variant, on_chains, reads, rounds = rows[n]
            if code in explained or (copied and rounds):
                continue  # a copied given is no rounding slip
            if n in near and any(_matches(answer, value, right, half_unit, tolerance) for value, right in on_chains):
                explained[code] = variant
            elif n in reading:
                memo = (key, n, tuple(map(own.get, reads)))  # a class repeats its wrong numbers: remembered
                values = remembered(memo)
                if values is None:
                    values = self._on_own(memo, variant, mixed, variants[n][2])
                chain = 0
                for value in values:
                    if value is not None and abs(answer - value) <= half_unit + 1e-12 * abs(value):  # else no match
                        right = right_on(chain)
                        if right is not None and _matches(answer, value, right, half_unit, tolerance):
                            explained[code] = variant
                            break
                    chain += 1
        return _diagnosis(explained)

    def _reading(self, key, own, readers):
        """(in order, as a set) the numbers of the variants of step `key` that read one of the student's numbers
        (`own`): a class repeats which of its numbers differ, so each such set of keys is looked up once."""
        keys = tuple(own)
        found = self._readers_of.get((key, keys))
        if found is None:
            if len(self._readers_of) >= MAX_REMEMBERED:
                self._readers_of.clear()
            numbers = set().union(*(readers[d] for d in keys))
            found = self._readers_of[(key, keys)] = (tuple(sorted(numbers)), frozenset(numbers))
        return found

    def _near(self, step, variants, answer, half_unit):
        """The numbers of the variants that may land, on some correct chain, within `half_unit` of the
        answer (the first test of `matches`, a window found by bisection; `matches` decides)."""
        if step.key not in self._chain_values:
            rows, always = [], set()
            for n, (_, _, _, on_chains) in enumerate(variants):
                for value, _ in on_chains:
                    try:
                        number = float(value)
                    except (TypeError, ValueError, OverflowError):
                        number = math.nan
                    if math.isfinite(number):
                        rows.append((number, n))
                    else:
                        always.add(n)  # tried in full every time
            rows.sort()
            self._chain_values[step.key] = [number for number, _ in rows], [n for _, n in rows], always
        values, numbers, always = self._chain_values[step.key]
        if not math.isfinite(half_unit) or not math.isfinite(answer):
            return set(range(len(variants)))
        # wider than `matches` asks: 1e-12 |value| < 1e-11 (|answer| + half_unit) wherever it matches
        margin = half_unit + 1e-11 * (abs(answer) + half_unit)
        low, high = bisect.bisect_left(values, answer - margin), bisect.bisect_right(values, answer + margin)
        return always.union(numbers[low:high])

    def _on_own(self, memo, variant, mixed, deps):
        """The values of a variant on each correct chain with the student's numbers standing in (`mixed`,
        the sheet's environments), remembered under `memo` (step key, variant, the student's numbers it
        reads): many students share a wrong number. None on a chain where it cannot be evaluated."""
        if len(self._own_values) >= MAX_REMEMBERED:
            self._own_values.clear()
        values = []
        for _, env, _, rounding in mixed:
            try:
                values.append(variant.evaluate(env, rounding, deps))
            except UNREADABLE:
                values.append(None)
        values = self._own_values[memo] = tuple(values)
        return values

    def _chains(self):
        grader = self.grader
        chains = [(grader.exact_values, grader.exact.rounding)]
        if grader.rounded_values is not None:
            chains.append((grader.rounded_values, grader.rounding))
        return chains

    def _variants(self, step):
        """(variants, the keys they read, sorted, {key: the numbers of the variants that read it}) of a
        step, made once."""
        if step.key not in self._numeric:
            variants = self._make_variants(step)
            readers = {}
            for n, (_, _, deps, _) in enumerate(variants):
                for d in deps:
                    readers.setdefault(d, set()).add(n)
            self._numeric[step.key] = variants, tuple(sorted(readers)), readers
            self._rows[step.key] = [(code, variant, on_chains, tuple(sorted(deps)), variant.places is not None)
                                    for code, variant, deps, on_chains in variants]
        return self._numeric[step.key]

    def _make_variants(self, step):
        """[(code, variant, deps, [(value, right) per correct chain])]: the rules' variants, on this solution's values."""
        out = []
        for code, variant, deps in self._rewrites(step):
            on_chains = []
            for values, rounding in self._chains():
                try:
                    on_chains.append((variant.evaluate(values, rounding, deps), values[step.key]))
                except UNREADABLE:
                    continue
            out.append((code, variant, deps, on_chains))
        return out

    def _rewrites(self, step):
        """[(code, variant, deps)]: every rule's rewriting of the step's formula, duplicates named once.

        They depend on the formula and on which of its inputs are 0 (TimesZero), not on the other
        numbers, so graders of variants of one problem share them (`shared`).
        """
        zeros = frozenset(d for d in step.deps if self.grader.exact_values.get(d) == 0)
        shared_key = (step.key, step.formula, zeros)
        if shared_key in self.shared:
            return self.shared[shared_key]
        out, seen = [], []
        earlier = self.context.before(step.key)
        for slip in self.catalogue:
            try:
                made = list(slip.variants(step, self.context))
            except UNREADABLE:
                continue  # a rule that cannot read this formula explains nothing here
            for variant in made:
                if len(out) >= MAX_VARIANTS:
                    break
                deps = {s.name for s in variant.formula.free_symbols}
                if not deps <= earlier:
                    continue  # a variant reads only what is known before the step
                signature = _signature(variant, deps, self.grader.exact_values)
                if signature is not None and signature in seen:
                    continue  # the same formula as an earlier rule's: that rule names it
                seen.append(signature)
                out.append((slip.code, self.context.worded(variant), deps))
        self.shared[shared_key] = out
        return out

    # -- expressions ----------------------------------------------------------------
    def expression(self, step, expression, variables):
        """The Diagnosis of a wrong expression answer, or None."""
        from .equivalence import agrees

        if step.key not in self._expressions:
            made, seen = [], []
            for slip in self.catalogue:
                try:
                    variants = list(slip.expression_variants(step, self.context))
                except UNREADABLE:
                    continue
                for variant in variants:
                    if any(agrees(variant.formula, earlier, variables) for earlier in seen):
                        continue
                    seen.append(variant.formula)
                    made.append((slip.code, self.context.worded(variant)))
            self._expressions[step.key] = made
        explained = {}
        for code, variant in self._expressions[step.key]:
            if code not in explained and agrees(expression, variant.formula, variables):
                explained[code] = variant
        return _diagnosis(explained)


_PLAIN = re.compile(r"[+-]?(?=\.?[0-9])[0-9]*(?:\.([0-9]*))?(?:[eE]([+-]?[0-9]+))?")


def _half_unit(text):
    """Half a unit in the last digit the student wrote (-0.0014: 0.00005); unbounded if unreadable."""
    exponent = _last_digit(text.strip().replace("\u2212", "-"))
    if exponent is None or exponent > 308:
        return float("inf")
    return 0.5 * 10.0 ** max(exponent, -400)


def _last_digit(text):
    """The power of ten of the last digit written (-0.0014: -4, 1.5e3: 2), or None if `text` is no number."""
    plain = _PLAIN.fullmatch(text)
    if plain:  # digits, a point, an exponent: read off the text
        written = plain[2] or "0"
        if len(written.lstrip("+-").lstrip("0")) > 6:  # int() of thousands of digits is refused
            return -10 ** 6 if written.startswith("-") else 10 ** 6
        return int(written) - len(plain[1] or "")
    from decimal import Decimal, InvalidOperation

    try:
        exponent = Decimal(text).as_tuple().exponent
    except (InvalidOperation, ValueError, AttributeError):
        return None
    return exponent if isinstance(exponent, int) else None


def _matches(answer, value, right, half_unit, tolerance):
    """A variant's value explains the answer: it agrees with it to the digits written and within the
    tolerance, while the right value there (`right`) is not within the tolerance of it."""
    return (abs(answer - value) <= half_unit + 1e-12 * abs(value) and tolerance.accepts(answer, value)
            and not tolerance.accepts(right, value))


def _diagnosis(explained):
    if not explained:
        return None
    if len(explained) == 1:
        (code, variant), = explained.items()
        return Diagnosis((code,), f"looks like {variant.text}")
    texts = [str(variant.text) for variant in explained.values()]
    return Diagnosis(tuple(explained), "ambiguous: looks like " + "; or ".join(texts))


def _evaluate(formula, env):
    from ..steps import evaluate_formula

    return evaluate_formula(formula, env)


_PROBES = (1.0137, 0.9731)  # two perturbations of the correct values, to tell formulas apart


def _signature(variant, deps, values):
    """The variant's values at perturbed points: equal signatures mean the same formula."""
    out = []
    for k, factor in enumerate(_PROBES):
        env = {}
        for n, d in enumerate(sorted(deps)):
            value = float(values[d])
            env[d] = value * factor + 0.001 * (n + 1) * (k + 1)
        try:
            out.append(round(variant.evaluate(env, _EXACT, deps), 9))
        except UNREADABLE:
            return None
    out.append((variant.places, variant.inputs))
    return tuple(out)


class _Exact:
    @staticmethod
    def apply(value):
        return value


_EXACT = _Exact()
