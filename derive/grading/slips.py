"""The catalogue of slips: rules that rewrite a step's formula the way a known mistake does.

A wrong answer is often a right calculation of the wrong thing: the
activation's derivative left out, the target and the output swapped, a
neighbour's weight. Every step carries its formula, so each such mistake is
a rule that rewrites the formula; evaluating the rewritten formula on the
student's own numbers (or the correct ones) and finding the student's
number says what happened. No answer is wired in by hand: a rule applies
to every step of every problem kind whose formula has the shape it looks
for.

A rule is a `Slip` subclass with a stable `code` (used in reports and in a
problem's `grading.slips` partial credit), a short `label` for class
summaries, and one or both of

    variants(step, context)             -> Variants of a numeric step
    expression_variants(step, context)  -> Variants of an expression step

A Variant is the rewritten formula (a SymPy expression over step keys, or
over the derivative's variable for expression steps) and the words that
explain it. To add a slip: subclass Slip, yield Variants, and append an
instance to CATALOGUE. Rules earlier in CATALOGUE win when two rewrite a
step into the same formula (a missing chain-rule factor -1 *is* the sign
error, and is named as the more specific slip).

Key conventions the rules read: keys are `name[i][j]...` with an optional
`prefix.` (`after.`, `it2.`); `x` is the input, `h`/`z` the activation and
pre-activation of a layer (first index the layer, after the sample index
when samples are numbered), `yhat` the output and `y` the target, `eta` the
learning rate. A rule that finds no such keys yields nothing.
"""

import functools
import itertools
import math
import re
from dataclasses import dataclass, field, replace
from functools import cached_property

import sympy
from sympy import Add, Mul

from ..errors import DeriveError
from ..steps import Rounding as RoundTo, Sym, evaluate_formula

PLACEHOLDER = "\u27e8slip\u27e9"  # a Symbol name no key can take: shown with a Sym of our choosing
_KEY = re.compile(r"^(?P<prefix>(?:[A-Za-z_]\w*\.)*)(?P<base>[A-Za-z_]\w*?)(?P<indices>(?:\[\w+\])*)$")
_MARK = re.compile("\x00([0-9]+)\x00")  # a formula in a variant's words, printed when they are read
_TEST_POINTS = (-1.7, -0.45, 0.3, 1.15, 2.35)  # where a product is compared with an activation's derivative
_ARITY = {"h": 2, "z": 2, "delta": 2, "w": 3, "grad_w": 3, "w_new": 3,
          "theta": 2, "b": 2, "grad_theta": 2, "grad_b": 2, "theta_new": 2, "b_new": 2}
MAX_FACTORS = 4  # factors of a product tried as an activation's derivative


@dataclass(frozen=True)
class Variant:
    """A step's formula rewritten by a slip.

    formula: the rewritten formula; text: what the student seems to have
    computed, in words and symbols ("δ³₁ w³₁₁ without the factor σ′(z²₁) =
    h²₁ (1 - h²₁)"): a str, or Words, printed when read (`str(text)`);
    places: for rounding slips, the decimals the inputs (`inputs`) or the
    result were rounded to.
    """

    formula: object
    text: str
    places: int = None
    inputs: bool = False

    def evaluate(self, env, rounding, deps=()):
        """The variant's value on `env` (key -> number; `deps`, the keys it reads), rounded as the problem rounds."""
        if self.places is not None and self.inputs:
            coarse = _round_to(self.places)
            env = {key: coarse.apply(float(env[key])) for key in deps}
        value = rounding.apply(evaluate_formula(self.formula, env))
        if self.places is not None and not self.inputs:
            value = _round_to(self.places).apply(value)
        return value


@functools.lru_cache(maxsize=None)
def _round_to(places):
    """The Rounding to `places` decimals (one per number of places: variants are evaluated by the thousand)."""
    return RoundTo(places)


@dataclass(frozen=True)
class Words:
    """A variant's words as a rule wrote them, its formulas marked by `SlipContext.show`; `str()` prints
    them in the solution's symbols."""

    marked: str
    context: object = field(compare=False, repr=False)

    def __str__(self):
        return self.context.words(self.marked)


class Slip:
    """One known mistake. Subclasses set `code` and `label` and yield Variants."""

    code = ""
    label = ""

    def variants(self, step, context):
        return ()

    def expression_variants(self, step, context):
        return ()


# -- the solution's shape, as the rules read it ----------------------------------

@dataclass(frozen=True)
class ParsedKey:
    prefix: str
    base: str
    indices: tuple

    def key(self):
        return self.prefix + self.base + "".join(f"[{i}]" for i in self.indices)


def parse_key(key):
    """`it2.w[1][2][1]` -> ParsedKey("it2.", "w", (1, 2, 1)); an index may also be a name (`theta[0][w1]`)."""
    match = _KEY.match(key)
    if match is None:
        return None
    indices = tuple(int(i) if i.isdigit() else i for i in re.findall(r"\[(\w+)\]", match["indices"]))
    return ParsedKey(match["prefix"], match["base"], indices)


@dataclass(frozen=True)
class DerivativeFactor:
    """A sub-product of a Mul in a formula that is an activation's derivative f′(z), written in h = f(z) or z.

    mul: the Mul node; positions: the indices of its factors that form the
    derivative; h, z: the activation's and the pre-activation's keys;
    function: f as an expression in Symbol(z); name: how f is printed (σ, tanh, f).
    """

    mul: object
    positions: tuple
    h: str
    z: str
    function: object
    name: str

    @property
    def product(self):
        return Mul(*(self.mul.args[i] for i in self.positions), evaluate=False)

    @property
    def derivative(self):
        return _derivative(self.function, self.z)


class SlipContext:
    """What the rules need to know about one solution: steps, symbols, values, key structure, activations."""

    def __init__(self, solution):
        self.solution = solution
        self.steps = {step.key: step for step in solution}
        self.symbols = solution.symbols()
        self.values = solution.values()
        self.parsed = {key: parse_key(key) for key in self.steps}
        self.by_parsed = {parsed: key for key, parsed in self.parsed.items() if parsed is not None}
        self.order = {step.key: n for n, step in enumerate(solution)}
        self._factors = {}
        self._shown = []  # the formulas `show` marked, in order
        self._words = {}  # marked words -> printed
        self._neighbours = {}  # key -> its neighbours

    def before(self, key):
        """The keys of the steps before `key` (what a variant of it may read)."""
        position = self.order[key]
        return {k for k, n in self.order.items() if n < position}

    # -- display ---------------------------------------------------------------
    def show(self, formula, extra=None):
        """A formula in the solution's symbols (text), with `extra` key -> Sym for placeholders, as it
        appears in a variant's words: a mark that `words` replaces by the printed formula, so that only
        the words a report shows are printed (a class's diagnoses name few of the variants made)."""
        self._shown.append((formula, extra))
        return f"\x00{len(self._shown) - 1}\x00"

    def worded(self, variant):
        """`variant` with its words, if `show` marked formulas in them, as Words that this context prints."""
        if isinstance(variant.text, str) and "\x00" in variant.text:
            return replace(variant, text=Words(variant.text, self))
        return variant

    def words(self, text):
        """`text` with each formula `show` marked in it printed (once: a class's reports name the same
        variants again and again)."""
        printed = self._words.get(text)
        if printed is None:
            from ..render.formula import text_formula

            def formula(mark):
                shown, extra = self._shown[int(mark[1])]
                return text_formula(shown, self.symbols if not extra else {**self.symbols, **extra})
            printed = self._words[text] = _MARK.sub(formula, text)
        return printed

    def shown(self, key):
        return self.symbols[key].text

    # -- structure ---------------------------------------------------------------
    def layer_position(self, parsed):
        """Which index of a key is its layer (None for keys without one: x, yhat, y, eta).

        A layered quantity has its own indices (h: layer, neuron; w: layer,
        from, to); one more in front is the sample's.
        """
        arity = _ARITY.get(parsed.base)
        if arity is None or len(parsed.indices) < arity:
            return None
        return len(parsed.indices) - arity

    def neighbours(self, key):
        """Keys of the same name whose indices differ from `key`'s in one position: (position, key);
        found once per key (the rules ask for the neighbours of each input of each step)."""
        found = self._neighbours.get(key)
        if found is None:
            found = self._neighbours[key] = self._find_neighbours(key)
        return found

    def _find_neighbours(self, key):
        parsed = self.parsed.get(key)
        if parsed is None or not parsed.indices:
            return []
        out = []
        for position, index in enumerate(parsed.indices):
            for other in sorted({p.indices[position] for p in self.by_parsed
                                 if p.base == parsed.base and p.prefix == parsed.prefix
                                 and len(p.indices) == len(parsed.indices)}, key=str):
                if other == index:
                    continue
                indices = parsed.indices[:position] + (other,) + parsed.indices[position + 1:]
                neighbour = self.by_parsed.get(ParsedKey(parsed.prefix, parsed.base, indices))
                if neighbour is not None:
                    out.append((position, neighbour))
        return out

    @cached_property
    def layered(self):
        """key -> (family, prefix, sample, layer, neuron) for the quantities that belong to a layer.

        Families: "h" (x is layer 0's, yhat the last layer's), "z", "delta".
        Indices in front of a quantity's own (layer, neuron) are the sample's.
        """
        out, last = {}, {}
        numbered = {parsed: key for parsed, key in self.by_parsed.items()
                    if all(isinstance(i, int) for i in parsed.indices)}
        for parsed, key in numbered.items():
            if parsed.base in ("h", "z", "delta") and len(parsed.indices) >= 2:
                sample, (layer, neuron) = parsed.indices[:-2], parsed.indices[-2:]
                out[key] = (parsed.base, parsed.prefix, sample, layer, (neuron,))
                if parsed.base == "h":
                    last[parsed.prefix] = max(last.get(parsed.prefix, 0), layer)
        for parsed, key in numbered.items():
            if parsed.base == "yhat" and parsed.indices:
                layer = last.get(parsed.prefix, 0) + 1
                out[key] = ("h", parsed.prefix, parsed.indices[:-1], layer, parsed.indices[-1:])
            elif parsed.base == "x" and parsed.indices and not parsed.prefix:
                out[key] = ("h", "", parsed.indices[:-1], 0, parsed.indices[-1:])
        self.by_layer = {place: key for key, place in out.items()}
        prefixes = {place[1] for place in out.values()}
        for key, (family, prefix, sample, layer, neuron) in list(out.items()):
            if family == "h" and layer == 0:  # the input is every pass's layer 0
                for other in prefixes:
                    self.by_layer.setdefault((family, other, sample, 0, neuron), key)
        return out

    @cached_property
    def activations(self):
        """h key -> (z key, f as an expression in Symbol(z)) for every step h = f(z) with f non-linear."""
        out = {}
        for step in self.solution:
            if step.is_given or step.is_symbolic or len(step.deps) != 1:
                continue
            z = step.deps[0]
            if self.steps[z].is_given:
                continue
            if _derivative(step.formula, z).free_symbols:  # non-linear: a derivative that depends on z
                out[step.key] = (z, step.formula)
        return out

    def derivative_factors(self, step):
        """Every DerivativeFactor in the step's formula (found once per step)."""
        if step.key not in self._factors:
            self._factors[step.key] = list(self._find_derivative_factors(step))
        return self._factors[step.key]

    def _find_derivative_factors(self, step):
        deps = set(step.deps)
        pairs = [(h, z, f) for h, (z, f) in self.activations.items() if h in deps or z in deps]
        if not pairs:
            return
        for node in sympy.preorder_traversal(step.formula):
            if not node.is_Mul:
                continue
            for h, z, function in pairs:
                allowed = {sympy.Symbol(h), sympy.Symbol(z)}
                candidates = [i for i, factor in enumerate(node.args)
                              if factor.free_symbols and factor.free_symbols <= allowed]
                if not candidates or len(candidates) > MAX_FACTORS:
                    continue
                derivative = _derivative(function, z)
                for size in range(len(candidates), 0, -1):
                    found = next((positions for positions in itertools.combinations(candidates, size)
                                  if _is_derivative(node, positions, h, z, function, derivative)), None)
                    if found:
                        yield DerivativeFactor(node, found, h, z, function, _function_name(function, z))
                        break


_Z = sympy.Dummy("z")  # every neuron's activation, in one variable: differentiated once per distinct activation


@functools.lru_cache(maxsize=1024)
def _derivative(function, z):
    """d function / d Symbol(z): the units of a layer share their activation, so it is differentiated
    once (in _Z) and the result renamed to each unit's z; remembered, as the rules ask for it step after
    step (renaming a max or a Heaviside re-evaluates it, which is dearer than the look-up)."""
    variable = sympy.Symbol(z)
    return _derivative_in_z(function.xreplace({variable: _Z})).xreplace({_Z: variable})


@functools.lru_cache(maxsize=1024)
def _derivative_in_z(function):
    return sympy.diff(function, _Z)


def _is_derivative(mul, positions, h, z, function, derivative):
    """The product of the factors at `positions`, with h = f(z), equals f′(z) at the test points."""
    product = Mul(*(mul.args[i] for i in positions), evaluate=False)
    agreed = 0
    for t in _TEST_POINTS:
        try:
            h_value = evaluate_formula(function, {z: t})
            expected = evaluate_formula(derivative, {z: t})
            value = evaluate_formula(product, {z: t, h: h_value})
        except (DeriveError, TypeError, KeyError):
            continue
        if not math.isclose(value, expected, rel_tol=1e-9, abs_tol=1e-12):
            return False
        agreed += 1
    return agreed >= 3


def _function_name(function, z):
    variable = sympy.Symbol(z)
    if function == 1 / (1 + sympy.exp(-variable)):
        return "σ"
    if function == sympy.tanh(variable):
        return "tanh"
    return "f"


# -- rewriting ---------------------------------------------------------------------

def rebuild(expr, replace):
    """`expr` with every node for which `replace(node)` is not None replaced, keeping the written order."""
    new = replace(expr)
    if new is not None:
        return new
    if not expr.args:
        return expr
    args = [rebuild(arg, replace) for arg in expr.args]
    if all(a is b for a, b in zip(args, expr.args)):
        return expr
    try:
        return expr.func(*args, evaluate=False)  # as written; Max and Min would otherwise simplify, slowly
    except TypeError:
        return expr.func(*args)


def substitute(expr, old, new):
    """`expr` with the node `old` (compared by identity first, then equality) replaced by `new`."""
    return rebuild(expr, lambda node: new if node is old or node == old else None)


def without_factors(mul, positions):
    """The Mul `mul` with the factors at `positions` removed (1 if none is left)."""
    rest = [factor for i, factor in enumerate(mul.args) if i not in positions]
    if not rest:
        return sympy.S.One
    return rest[0] if len(rest) == 1 else Mul(*rest, evaluate=False)


def rename(expr, old_key, new_key):
    old, new = sympy.Symbol(old_key), sympy.Symbol(new_key)
    return rebuild(expr, lambda node: new if node == old else None)


def _reading(step, context, meant, used, words):
    """The Variant of a step that read the value of `used` where `meant` belongs; `words` says how,
    with {used} and {meant} standing for their symbols."""
    formula = rename(step.formula, meant, used)
    why = words.format(used=context.shown(used), meant=context.shown(meant))
    return Variant(formula, f"{context.show(formula)}: {why}")


def _placeholder(text):
    return sympy.Symbol(PLACEHOLDER), {PLACEHOLDER: Sym(text, text)}


def _is_rate(key):
    parsed = parse_key(key)
    return parsed is not None and parsed.base == "eta"


# -- numeric rules -------------------------------------------------------------------

class MissingDerivative(Slip):
    """δ = (Σ δ w) without the factor f′(z): the chain rule's activation step forgotten."""

    code = "missing_derivative"
    label = "missing f′"

    def variants(self, step, context):
        for factor in context.derivative_factors(step):
            formula = substitute(step.formula, factor.mul, without_factors(factor.mul, factor.positions))
            yield Variant(formula, f"{context.show(formula)} without the factor "
                                   f"{factor.name}′({context.shown(factor.z)}) = {context.show(factor.product)}")


class DerivativeAtActivation(Slip):
    """f′(h) for f′(z): the derivative evaluated at the activation instead of the pre-activation."""

    code = "derivative_at_h"
    label = "f′(h) for f′(z)"

    def variants(self, step, context):
        for factor in context.derivative_factors(step):
            wrong = factor.derivative.subs(sympy.Symbol(factor.z), sympy.Symbol(factor.h))
            mul = without_factors(factor.mul, factor.positions)
            formula = substitute(step.formula, factor.mul, Mul(mul, wrong, evaluate=False))
            name = factor.name
            mark, extra = _placeholder(f"{name}′({context.shown(factor.h)})")
            shown = substitute(step.formula, factor.mul, Mul(mul, mark, evaluate=False))
            yield Variant(formula, f"{context.show(shown, extra)}: {name}′({context.shown(factor.h)}) "
                                   f"for {name}′({context.shown(factor.z)})")


class FunctionForDerivative(Slip):
    """σ(z) for σ′(z): the activation itself where its derivative belongs."""

    code = "function_for_derivative"
    label = "f(z) for f′(z)"

    def variants(self, step, context):
        for factor in context.derivative_factors(step):
            mul = without_factors(factor.mul, factor.positions)
            formula = substitute(step.formula, factor.mul, Mul(mul, sympy.Symbol(factor.h), evaluate=False))
            name, z = factor.name, context.shown(factor.z)
            yield Variant(formula, f"{context.show(formula)}: {name}({z}) = {context.shown(factor.h)} "
                                   f"for {name}′({z})")


class ThresholdSign(Slip):
    """+δ for −δ: the threshold enters z = Σ w h − θ with a minus sign, so ∂E/∂θ = −δ."""

    code = "threshold_sign"
    label = "+δ for −δ"

    def variants(self, step, context):
        negated = -step.formula
        if not (step.formula.could_extract_minus_sign() and negated.is_Symbol):
            return
        parsed = context.parsed.get(step.key)
        why = ("the threshold enters z with a minus sign" if parsed and "theta" in parsed.base
               else "the minus sign dropped")
        shown = context.show(negated)
        yield Variant(negated, f"+{shown} for -{shown}: {why}")


class UpdateSign(Slip):
    """w + η g for w − η g: a step up the gradient."""

    code = "update_sign"
    label = "w + η g for w − η g"

    def variants(self, step, context):
        formula = step.formula
        if formula.is_Mul and formula.could_extract_minus_sign() and any(_is_rate(s.name) for s in formula.free_symbols):
            yield Variant(-formula, f"{context.show(-formula)}: the update's sign (a step against the gradient "
                                    "subtracts η times the gradient)")
            return
        if not step.formula.is_Add:
            return
        terms = step.formula.args
        flip = [i for i, term in enumerate(terms)
                if term.could_extract_minus_sign() and any(_is_rate(s.name) for s in term.free_symbols)]
        if not flip:
            return
        formula = Add(*(-term if i in flip else term for i, term in enumerate(terms)), evaluate=False)
        yield Variant(formula, f"{context.show(formula)}: the update's sign (a step against the gradient "
                               "subtracts η times the gradient)")


class UpdateLeftOut(Slip):
    """w for w − η g: the update not applied, the value before the step copied."""

    code = "update_missing"
    label = "update not applied"

    def variants(self, step, context):
        if not step.formula.is_Add:
            return
        rest = [term for term in step.formula.args if not any(_is_rate(s.name) for s in term.free_symbols)]
        if rest and len(rest) < len(step.formula.args):
            formula = rest[0] if len(rest) == 1 else Add(*rest, evaluate=False)
            yield Variant(formula, f"{context.show(formula)}: the update not applied (the value before the step)")


class LearningRate(Slip):
    """w − g (the learning rate left out, `rate_missing`) or w − η² g (applied twice, `rate_twice`) for w − η g."""

    def __init__(self, code, label, power, words):
        self.code, self.label, self.power, self.words = code, label, power, words

    def variants(self, step, context):
        for rate in sorted((s for s in step.formula.free_symbols if _is_rate(s.name)), key=str):
            wrong = sympy.S.One if self.power == 0 else Mul(*[rate] * self.power, evaluate=False)
            formula = rebuild(step.formula, lambda node: wrong if node == rate else None)
            yield Variant(formula, f"{context.show(formula)}: the learning rate {context.shown(rate.name)} {self.words}")


class TransposedWeight(Slip):
    """w_ji for w_ij: the two neuron indices of a weight swapped."""

    code = "transposed"
    label = "w_ji for w_ij"

    def variants(self, step, context):
        for key in step.deps:
            parsed = context.parsed.get(key)
            if parsed is None or len(parsed.indices) < 3 or parsed.indices[-1] == parsed.indices[-2]:
                continue
            swapped = parsed.indices[:-2] + (parsed.indices[-1], parsed.indices[-2])
            other = context.by_parsed.get(ParsedKey(parsed.prefix, parsed.base, swapped))
            if other is not None:
                yield _reading(step, context, key, other, "{used} for {meant} (the indices swapped)")


class WrongIndex(Slip):
    """A neighbour's value: x₁ for x₂, h¹₂ for h¹₁, another sample's number."""

    code = "wrong_index"
    label = "a neighbour's index"

    def variants(self, step, context):
        for key in step.deps:
            parsed = context.parsed[key]
            layer = context.layer_position(parsed) if parsed else None
            for position, other in context.neighbours(key):
                if position == layer:
                    continue  # another layer's quantity: WrongLayer's, for activations
                what = ("the wrong input" if parsed.base == "x" and position == len(parsed.indices) - 1
                        else "a neighbour's index")
                yield _reading(step, context, key, other, what + ", {used} for {meant}")


class WrongLayer(Slip):
    """The same quantity of the layer before or after: h¹₁ for h²₁, x₁ for h¹₁, δ³₁ for δ²₁."""

    code = "wrong_layer"
    label = "the wrong layer's value"

    def variants(self, step, context):
        for key in step.deps:
            place = context.layered.get(key)
            if place is None:
                continue
            family, prefix, sample, layer, neuron = place
            for other_layer in (layer - 1, layer + 1):
                other = context.by_layer.get((family, prefix, sample, other_layer, neuron))
                if other is not None and other != key:
                    yield _reading(step, context, key, other, "the wrong layer's value, {used} for {meant}")


class ActivationSwap(Slip):
    """z used where h = f(z) belongs (`z_for_h`), or h where z belongs (`h_for_z`)."""

    def __init__(self, code, label, reverse):
        self.code, self.label, self.reverse = code, label, reverse

    def variants(self, step, context):
        for h, (z, _) in context.activations.items():
            meant, used = (z, h) if self.reverse else (h, z)
            if meant in step.deps and used not in step.deps:
                yield _reading(step, context, meant, used, "{used} used where {meant} belongs")


class TargetOutputSwapped(Slip):
    """y − ŷ for ŷ − y in the loss derivative."""

    code = "target_output_swapped"
    label = "y − ŷ for ŷ − y"

    def variants(self, step, context):
        for node in sympy.preorder_traversal(step.formula):
            if not (node.is_Add and len(node.args) == 2):
                continue
            names = {}
            for term in node.args:
                symbol = -term if term.could_extract_minus_sign() else term
                parsed = context.parsed.get(symbol.name) if symbol.is_Symbol else None
                if parsed is not None:
                    names[parsed.base] = (symbol, term.could_extract_minus_sign())
            if set(names) == {"y", "yhat"} and names["y"][1] != names["yhat"][1]:
                negated = [-term for term in node.args]
                swapped = Add(*sorted(negated, key=lambda term: term.could_extract_minus_sign()), evaluate=False)
                formula = substitute(step.formula, node, swapped)
                y, yhat = context.shown(names["y"][0].name), context.shown(names["yhat"][0].name)
                yield Variant(formula, f"{context.show(formula)}: {y} - {yhat} for {yhat} - {y}, "
                                       "the target and the output swapped")


class SumForMean(Slip):
    """The sum over samples where the mean belongs."""

    code = "sum_for_mean"
    label = "sum for mean"

    def variants(self, step, context):
        formula = step.formula
        if not formula.is_Mul:
            return
        rationals = [a for a in formula.args if a.is_Rational and a.p == 1 and a.q > 1]
        sums = [a for a in formula.args if a.is_Add and len(a.args) == (rationals[0].q if rationals else 0)]
        if len(formula.args) == 2 and rationals and sums:
            yield Variant(sums[0], f"{context.show(sums[0])}: the sum over the samples, not their mean")


class MeanForSum(Slip):
    """The mean over samples where the sum belongs."""

    code = "mean_for_sum"
    label = "mean for sum"

    def variants(self, step, context):
        formula = step.formula
        if not formula.is_Add or not all(term.is_Symbol for term in formula.args):
            return
        parsed = [context.parsed.get(term.name) for term in formula.args]
        if None in parsed or len({(p.prefix, p.base, len(p.indices)) for p in parsed}) != 1:
            return
        n = len(formula.args)
        mean = Mul(sympy.Rational(1, n), formula, evaluate=False)
        yield Variant(mean, f"{context.show(mean)}: the mean over the samples, not their sum")


class TimesZero(Slip):
    """a · 0 written as a: a product with a factor 0 not taken to be 0 (the lecture's -0.0012 * 0 = -0.0012)."""

    code = "times_zero"
    label = "a · 0 = a"

    def variants(self, step, context):
        for node in sympy.preorder_traversal(step.formula):
            if not node.is_Mul:
                continue
            for i, factor in enumerate(node.args):
                rest = without_factors(node, (i,))
                if factor.is_Symbol and context.values.get(factor.name) == 0 and rest.free_symbols:
                    formula = substitute(step.formula, node, without_factors(node, (i,)))
                    yield Variant(formula, f"{context.show(node)} with {context.shown(factor.name)} = 0 "
                                           f"taken as {context.show(without_factors(node, (i,)))}: "
                                           "a product with a factor 0 is 0")


class Rounding(Slip):
    """A value rounded to the wrong place, or computed from inputs rounded too early.

    Variants: the right value rounded to fewer decimals than the problem
    carries (4 when it does not round), then the formula on inputs rounded
    so. Neither explains an answer that is a copy of a given number.
    """

    code = "rounding"
    label = "rounded too early or too coarsely"

    def variants(self, step, context):
        carried = context.solution.rounding.decimals or 4
        name = step.symbol.text
        for places in range(carried - 1, -1, -1):
            yield Variant(step.formula, f"{name} rounded to {_decimals(places)}", places=places)
        for places in range(carried - 1, 0, -1):
            yield Variant(step.formula, f"{name} computed from values rounded to {_decimals(places)}: "
                                        "rounded too early", places=places, inputs=True)


class FanoutUnsummed(Slip):
    """An adjoint of a value used several times with one use's contribution left out (autodiff's v̄ = Σ c̄ ∂c/∂v)."""

    code = "fanout_unsummed"
    label = "a fan-out adjoint not summed"

    def variants(self, step, context):
        parsed = context.parsed.get(step.key)
        if parsed is None or parsed.base not in ("adj", "grad") or not step.formula.is_Add:
            return
        terms = step.formula.args
        if not all(_is_use(term, context) for term in terms):
            return  # not a sum over uses c̄ · ∂c/∂v (softmax's grad[j] = s_j - y_j is no adjoint)
        name = step.symbol.text
        for left_out in range(len(terms)):
            kept = terms[:left_out] + terms[left_out + 1:]
            formula = kept[0] if len(kept) == 1 else Add(*kept, evaluate=False)
            yield Variant(formula, f"{context.show(formula)}: the contribution {context.show(terms[left_out])} "
                                   f"left out; {name} sums over all {len(terms)} uses of the value")


def _is_use(term, context):
    """Whether `term` is one use's contribution to an adjoint: an adjoint times a local derivative."""
    if not term.is_Mul or len(term.args) != 2 or not all(factor.is_Symbol for factor in term.args):
        return False
    bases = sorted(getattr(context.parsed.get(factor.name), "base", "") for factor in term.args)
    return bases in (["adj", "local"], ["grad", "local"])


class LocalOwnOperand(Slip):
    """∂c/∂a of c = a·b taken as a, the operand itself, in place of b (autodiff's `local[k][i]` of `v[k]`)."""

    code = "local_own_operand"
    label = "∂(a·b)/∂a taken as a"

    def variants(self, step, context):
        parsed = context.parsed.get(step.key)
        if parsed is None or parsed.base != "local" or len(parsed.indices) != 2:
            return
        node = context.steps.get(f"{parsed.prefix}v[{parsed.indices[0]}]")
        if node is None or node.is_given or not node.formula.is_Mul:
            return
        coefficient = [f for f in node.formula.args if f.is_Number]
        factors = [f for f in node.formula.args if not f.is_Number]
        position = parsed.indices[1] - 1
        if len(factors) < 2 or not 0 <= position < len(factors) or not factors[position].is_Symbol:
            return
        operand = factors[position]
        formula = Mul(*coefficient, operand, evaluate=False) if coefficient else operand
        yield Variant(formula, f"{context.show(formula)}: ∂{context.shown(node.key)}/∂{context.shown(operand.name)} "
                               f"of the product {context.show(node.formula)} taken as "
                               f"{context.shown(operand.name)} itself; it is the other factor, "
                               f"{context.show(step.formula)}")


def _decimals(places):
    return f"{places} decimal{'s' if places != 1 else ''}"


# -- expression rules ---------------------------------------------------------------

class MissingChainFactor(Slip):
    """d/dx f(g(x)) = f′(g(x)) without g′(x)."""

    code = "chain_factor_missing"
    label = "missing chain-rule factor"

    def expression_variants(self, step, context):
        function, variable = _differentiated(step)
        if function is None or len(step.formula.variables) != 1:
            return  # first derivatives only: a higher one's chain factors are not one slip
        for node in sympy.preorder_traversal(function):
            inner = _inner_argument(node, variable)
            if inner is None:
                continue
            g = sympy.Function("G")(variable)
            replaced = node.func(*(g if arg == inner else arg for arg in node.args))
            derivative = sympy.diff(function.xreplace({node: replaced}), variable)
            inner_slope = sympy.diff(inner, variable)
            variant = derivative.subs(sympy.Derivative(g, variable), 1).subs(g, inner)
            if variant != step.value:
                yield Variant(variant, f"{context.show(variant)}: the chain rule's factor "
                                       f"d/d{variable}({context.show(inner)}) = {context.show(inner_slope)} left out")


class ExpressionSign(Slip):
    """The derivative with the wrong sign."""

    code = "expression_sign"
    label = "sign error"

    def expression_variants(self, step, context):
        if step.value != 0:
            yield Variant(-step.value, "the right expression with the wrong sign")


class OwnFormFactorDropped(Slip):
    """1 − σ for σ (1 − σ): a factor of the derivative written in terms of the function left out."""

    code = "factor_dropped"
    label = "a factor of f′ left out"

    def expression_variants(self, step, context):
        from ..symbolic.own_form import S, own_forms

        function, variable = _differentiated(step)
        if function is None:
            return
        order = sum(count for _, count in step.formula.variable_count)
        for form in own_forms(variable).values():
            if order > 4 or not _same_function(form.in_x(order), step.value, variable):
                continue
            coefficient, factors = form.factors(order)
            if len(factors) < 2:
                continue
            for i in range(len(factors)):
                kept = [f for j, f in enumerate(factors) if j != i]
                variant = (coefficient * Mul(*kept)).subs(S, form.expression)
                shown_all = context.show(form.shown_with(order, sympy.Symbol(PLACEHOLDER)),
                                         {PLACEHOLDER: Sym(_base_name(form), _base_name(form))})
                kept_shown = context.show(Mul(coefficient, *kept, evaluate=False).subs(S, sympy.Symbol(PLACEHOLDER)),
                                          {PLACEHOLDER: Sym(_base_name(form), _base_name(form))})
                yield Variant(variant, f"{kept_shown} for {shown_all}: a factor left out")
            return


def _base_name(form):
    return "σ" if form.base == "sigmoid" else form.base


def _differentiated(step):
    """(f, x) of a step whose formula is d^n f/dx^n in one variable, else (None, None)."""
    formula = step.formula
    if not isinstance(formula, sympy.Derivative) or len(set(formula.variables)) != 1:
        return None, None
    return formula.expr, formula.variables[0]


def _inner_argument(node, variable):
    """The inner function g(x) of a composite node f(g(x)) (g not x itself, not constant), or None."""
    if node.is_Pow:
        base, exponent = node.args
        if base != variable and variable in base.free_symbols and variable not in exponent.free_symbols:
            return base
        return None
    if isinstance(node, sympy.Function) and len(node.args) == 1:
        (arg,) = node.args
        if arg != variable and variable in arg.free_symbols:
            return arg
    return None


def _same_function(a, b, variable):
    for t in _TEST_POINTS:
        try:
            if not math.isclose(evaluate_formula(a, {variable.name: t}), evaluate_formula(b, {variable.name: t}),
                                rel_tol=1e-9, abs_tol=1e-12):
                return False
        except (DeriveError, TypeError, KeyError):  # not a function of the one variable alone
            return False
    return True


CATALOGUE = (
    MissingDerivative(),
    DerivativeAtActivation(),
    FunctionForDerivative(),
    ThresholdSign(),
    UpdateSign(),
    UpdateLeftOut(),
    LearningRate("rate_missing", "η left out", 0, "left out"),
    LearningRate("rate_twice", "η applied twice", 2, "applied twice"),
    TargetOutputSwapped(),
    FanoutUnsummed(),
    LocalOwnOperand(),
    TransposedWeight(),
    WrongIndex(),
    WrongLayer(),
    ActivationSwap("z_for_h", "z for h", reverse=False),
    ActivationSwap("h_for_z", "h for z", reverse=True),
    SumForMean(),
    MeanForSum(),
    TimesZero(),
    Rounding(),
    MissingChainFactor(),
    OwnFormFactorDropped(),
    ExpressionSign(),
)
CODES = tuple(slip.code for slip in CATALOGUE)
LABELS = {slip.code: slip.label for slip in CATALOGUE}
LABELS["ambiguous"] = "ambiguous (several slips explain the number)"
