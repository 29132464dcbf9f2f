"""`kind: batch_noise`: the mini-batch gradient's mean and variance over every batch, against 1/B.

Chapter 3.2 (批量大小的影响): "the batch size does not change the
gradient's expectation, but it changes its variance". Over a small data set
of N samples with per-sample gradients g_1 … g_N (given, or computed from a
1-D least-squares loss ℓ_n(w) = ½ (w x_n − y_n)², so g_n = (w x_n − y_n) x_n),
the mini-batch gradient ḡ_S = (1/B) Σ_{n∈S} g_n is listed for every batch S
of each size B asked, each batch equally likely; then its mean over the
batches, which is the full gradient ḡ = (1/N) Σ g_n, and its variance,
which is

    σ²/B · (N − B)/(N − 1)   batches of B different samples (without replacement),
    σ²/B                     B draws with replacement,

σ² = (1/N) Σ (g_n − ḡ)² being the population variance of the per-sample
gradients. (N − B)/(N − 1) is the finite-population factor: B = N leaves one
batch, the full gradient, and no variance. With replacement the N^B ordered
draws are listed as their distinct batches, each counted as often as it can
be drawn (B!/∏ m_i! for a batch holding sample i m_i times).

Everything is computed on the decimals as written, in exact fractions
(derive.symbolic.exact), so the enumeration and the formula agree exactly
and the check says so; where a value's 6 printed digits are not all of it,
its note gives the exact fraction. Its own kind, not a mode of
`early_stopping`: the two share no input and no step.
"""

import math
from dataclasses import dataclass, replace
from fractions import Fraction
from itertools import combinations, combinations_with_replacement

from sympy import Add, Integer, Mul, Pow, Rational

from ..fields import Boolean, Declarations, Declared, Number, Structured
from ..steps import Sym, format_number
from ..symbolic.exact import ExactBuilder

MIN_SAMPLES, MAX_SAMPLES = 2, 8
MAX_BATCHES = 256  # batches listed, over every batch size asked

SAMPLES = {"type": "array", "items": {"type": "number"}, "minItems": MIN_SAMPLES, "maxItems": MAX_SAMPLES}
LEAST_SQUARES = Declarations(
    Declared("x", Structured(SAMPLES), f"the inputs x_n, {MIN_SAMPLES} to {MAX_SAMPLES} numbers"),
    Declared("y", Structured(SAMPLES), "the targets y_n, as many as `x`"),
    Declared("w", Number(), "the parameter w at which the gradients are taken"),
)

# where an error found while solving is reported when nothing nearer its cause is known (Problem.solve)
ERRORS_AT = ("gradients", "least_squares")

DECLARED = Declarations(
    Declared("gradients", Structured(SAMPLES), f"the per-sample gradients g_n, {MIN_SAMPLES} to {MAX_SAMPLES} "
             "numbers", default=None, shown_default="one of `gradients`, `least_squares`"),
    Declared("least_squares", Structured(LEAST_SQUARES.object_schema()), "a 1-D least-squares loss "
             "ℓ_n(w) = ½ (w x_n − y_n)²: a mapping of `x`, `y` and `w` (below); g_n = (w x_n − y_n) x_n",
             default=None, shown_default="one of `gradients`, `least_squares`"),
    Declared("batch_sizes", Structured({"type": "array", "items": {"type": "integer", "minimum": 1,
                                                                   "maximum": MAX_SAMPLES},
                                        "minItems": 1, "maxItems": MAX_SAMPLES, "uniqueItems": True}),
             f"the batch sizes B to enumerate: different whole numbers, 1 to N without replacement, 1 to "
             f"{MAX_SAMPLES} with it",
             default=None, shown_default="every B from 1 to N"),
    Declared("replacement", Boolean(), "`false`: a batch is B different samples, each of the C(N, B) equally "
             "likely; `true`: B draws with replacement, each of the N^B ordered draws equally likely",
             default=False),
)


@dataclass(frozen=True)
class BatchNoiseSpec:
    """A validated batch_noise problem (fields: docs/kinds/batch_noise.md).

    gradients: the per-sample gradients, or None for a least-squares problem,
    which gives x, y (tuples) and w; batch_sizes: the Bs, in the file's
    order; replacement: draws with replacement.
    """

    gradients: tuple
    x: tuple
    y: tuple
    w: float
    batch_sizes: tuple
    replacement: bool

    @property
    def samples(self):
        return len(self.gradients if self.gradients is not None else self.x)


def read(root):
    """Validate the batch_noise fields into a BatchNoiseSpec."""
    if root.has("gradients") and root.has("least_squares"):
        raise root.get("least_squares").error("give either gradients or least_squares, not both")
    if not root.has("gradients") and not root.has("least_squares"):
        raise root.missing("gradients", "give either gradients (per-sample gradients) or least_squares (x, y and w)")
    gradients = x = y = w = None
    if root.has("gradients"):
        gradients = _samples(DECLARED.field(root, "gradients"))
        count = len(gradients)
    else:
        field = DECLARED.field(root, "least_squares").mapping(allowed=LEAST_SQUARES.names)
        x = _samples(LEAST_SQUARES.field(field, "x"))
        y_field = LEAST_SQUARES.field(field, "y")
        y = _samples(y_field)
        if len(y) != len(x):
            raise y_field.error(f"expected {len(x)} numbers, one per x, got {len(y)}")
        w = LEAST_SQUARES.read(field, "w")
        count = len(x)
    replacement = DECLARED.read(root, "replacement")
    sizes = _batch_sizes(root, count, replacement)
    return BatchNoiseSpec(gradients, x, y, w, sizes, replacement)


def _samples(field):
    items = field.items()
    if not MIN_SAMPLES <= len(items) <= MAX_SAMPLES:
        raise field.error(f"expected a list of {MIN_SAMPLES} to {MAX_SAMPLES} numbers, got {len(items)}")
    return tuple(item.number() for item in items)


def _batch_sizes(root, count, replacement):
    """The batch sizes asked (every B from 1 to N when none are), checked against N and the listing's size."""
    if root.has("batch_sizes"):
        field = root.get("batch_sizes")
        items = field.items()
        if not 1 <= len(items) <= MAX_SAMPLES:
            raise field.error(f"expected a list of 1 to {MAX_SAMPLES} batch sizes, got {len(items)}")
        sizes = []
        for item in items:
            size = item.integer(1, MAX_SAMPLES if replacement else count)
            if size in sizes:
                raise item.error(f"{size} is listed twice")
            sizes.append(size)
        sizes = tuple(sizes)
    else:
        sizes = tuple(range(1, count + 1))
    listed = sum(len(batches(count, size, replacement)) for size in sizes)
    if listed > MAX_BATCHES:
        message = f"{listed} batches to list; at most {MAX_BATCHES} (ask for fewer batch sizes)"
        raise field.error(message) if root.has("batch_sizes") else root.missing("batch_sizes", message)
    return sizes


def batches(count, size, replacement):
    """[(samples, weight)]: every batch of `size` of samples 1..count, and how many of the equally likely
    draws give it (1 each without replacement; B!/∏ m_i! orders with replacement)."""
    if not replacement:
        return [(members, 1) for members in combinations(range(1, count + 1), size)]
    listed = []
    for members in combinations_with_replacement(range(1, count + 1), size):
        orders = math.factorial(size)
        for sample in set(members):
            orders //= math.factorial(members.count(sample))
        listed.append((members, orders))
    return listed


# -- symbols -----------------------------------------------------------------------

def _g(n):
    return Sym.indexed("g", "g", sub=(n,))


def _batch_symbol(members):
    inside = ",".join(map(str, members))
    return Sym(f"ḡ{{{inside}}}", rf"\bar{{g}}_{{\{{{inside}\}}}}")


def _batch_key(size, members):
    return f"batch[{size}][{'_'.join(map(str, members))}]"


FULL = Sym("ḡ", r"\bar{g}")
SIGMA2 = Sym("σ²", r"\sigma^{2}")


def _mean_symbol(size):
    return Sym(f"E[ḡ⁽{_sup(size)}⁾]", rf"\mathrm{{E}}\left[\bar{{g}}^{{({size})}}\right]")


def _var_symbol(size):
    return Sym(f"Var[ḡ⁽{_sup(size)}⁾]", rf"\mathrm{{Var}}\left[\bar{{g}}^{{({size})}}\right]")


FORMULA_WITHOUT = Sym("σ²/B·(N - B)/(N - 1)", r"\frac{\sigma^{2}}{B} \cdot \frac{N - B}{N - 1}")
FORMULA_WITH = Sym("σ²/B", r"\frac{\sigma^{2}}{B}")


def _sup(number):
    return str(number).translate(str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹"))


# -- formulas ----------------------------------------------------------------------

def _sum(terms):
    return terms[0] if len(terms) == 1 else Add(*terms, evaluate=False)


def _scaled(count, terms):
    """(1/count)(t₁ + t₂ + …), kept as written; no factor when count is 1."""
    total = _sum(terms)
    return total if count == 1 else Mul(Rational(1, count), total, evaluate=False)


def _weighted(weight, term):
    return term if weight == 1 else Mul(Integer(weight), term, evaluate=False)


def _square(term):
    return Pow(term, 2, evaluate=False)


def _minus(a, b):
    return Add(a, Mul(Integer(-1), b, evaluate=False), evaluate=False)


# -- the solver --------------------------------------------------------------------

def solve(problem, rounding):
    """The Solution of a batch_noise problem."""
    spec = problem.spec
    out = ExactBuilder(rounding)  # exact mode computes on the decimals as written
    count = spec.samples
    g = _gradients(out, spec)
    section = "The full gradient"
    full = _step(out, "g_bar", FULL, _scaled(count, g), section, note="the mean of the per-sample gradients")
    sigma2 = _step(out, "sigma2", SIGMA2, _scaled(count, [_square(_minus(gn, full)) for gn in g]), section,
                   note="their population variance, divided by N")
    for size in spec.batch_sizes:
        _batch_size(out, spec, size, g, sigma2)
    return out.build(problem.name, problem.kind, problem.title, notes=notes(spec))


def _gradients(out, spec):
    """The Symbols of g_1 … g_N: given, or computed from the least-squares loss."""
    if spec.gradients is not None:
        return [out.given(f"g[{n}]", _g(n), value, "Given", group="g")
                for n, value in enumerate(spec.gradients, start=1)]
    w = out.given("w", Sym("w", "w"), spec.w, "Given")
    xs = [out.given(f"x[{n}]", Sym.indexed("x", "x", sub=(n,)), value, "Given", group="x")
          for n, value in enumerate(spec.x, start=1)]
    ys = [out.given(f"y[{n}]", Sym.indexed("y", "y", sub=(n,)), value, "Given", group="y")
          for n, value in enumerate(spec.y, start=1)]
    section = "Per-sample gradients of ℓ_n(w) = ½ (w x_n - y_n)²"
    return [_step(out, f"g[{n}]", _g(n), Mul(_minus(Mul(w, x, evaluate=False), y), x, evaluate=False), section)
            for n, (x, y) in enumerate(zip(xs, ys), start=1)]


def _batch_size(out, spec, size, g, sigma2):
    """One batch size: every batch's mean, their mean and variance, and the formula's value beside them."""
    count = spec.samples
    listed = batches(count, size, spec.replacement)
    if spec.replacement:
        draws = count ** size
        section = (f"B = {size}: {size} draw{'s' * (size != 1)} with replacement, {count}^{size} = {draws} equally "
                   f"likely ordered draws, {len(listed)} different batch{'es' * (len(listed) != 1)}")
    else:
        draws = len(listed)
        section = (f"B = {size}: the C({count}, {size}) = {draws} batch{'es' * (draws != 1)} of {size} different "
                   f"samples, equally likely" if size > 1 else f"B = 1: the {count} batches of one sample, equally likely")
    means = []
    for members, weight in listed:
        terms = [g[n - 1] for n in members]
        note = f"drawn in {weight} orders" if weight != 1 else ""
        means.append((_step(out, _batch_key(size, members), _batch_symbol(members), _scaled(size, terms), section,
                            note=note), weight))
    mean = _step(out, f"mean[{size}]", _mean_symbol(size), _scaled(draws, [_weighted(w, m) for m, w in means]),
                 section, equals=("g_bar", "the same as ḡ: the batch gradient is unbiased"))
    _step(out, f"var[{size}]", _var_symbol(size),
          _scaled(draws, [_weighted(w, _square(_minus(m, mean))) for m, w in means]), section)
    if spec.replacement:
        formula, symbol = Mul(sigma2, Pow(Integer(size), -1, evaluate=False), evaluate=False), FORMULA_WITH
    else:
        formula = Mul(sigma2, Add(Integer(count), Integer(-size), evaluate=False),
                      Pow(Mul(Integer(size), Add(Integer(count), Integer(-1), evaluate=False), evaluate=False), -1,
                          evaluate=False), evaluate=False)
        symbol = FORMULA_WITHOUT
    _step(out, f"var_formula[{size}]", symbol, formula, section,
          equals=(f"var[{size}]", f"the same as Var[ḡ⁽{_sup(size)}⁾] of the batches"))


def _step(out, key, symbol, formula, section, note="", equals=None):
    """Add a step. In exact mode its note gives its exact fraction where the printed digits are not all of
    it, and with `equals` = (key, words), says in those words that it equals that step exactly (or that it
    does not)."""
    result = out.step(key, symbol, formula, section, note=note)
    exact = out.exact.get(key)
    if exact is None:
        return result
    parts = [note] if note else []
    fraction = None if _printed_exactly(exact) else f"exactly {exact}"
    if equals is not None and out.exact.get(equals[0]) is not None:
        other, same = out.exact[equals[0]], equals[1]
        if exact != other:
            parts.append(f"DIFFERENT from {equals[0]}: {exact} against {other}")
        else:
            parts.append(f"{same}: {fraction}" if fraction else f"{same}, exactly")
            fraction = None
    if fraction:
        parts.append(fraction)
    words = "; ".join(parts)
    if words != note:  # the words need the exact value, known once the step is built
        out.steps[-1] = out.by_key[key] = replace(out.steps[-1], note=words)
    return result


def _printed_exactly(exact):
    """Whether the value printed (6 significant digits) is the exact value itself."""
    try:
        return Fraction(format_number(float(exact))) == exact
    except ValueError:  # inf, nan
        return False


def notes(spec):
    """The conventions of the solution, in words."""
    result = [Sym(
        "ḡ_S = (1/B) Σ_{n∈S} g_n, the gradient of a batch S of B samples; ḡ = (1/N) Σ g_n, the full gradient; "
        "σ² = (1/N) Σ (g_n - ḡ)², the population variance of the per-sample gradients",
        r"\bar{g}_S = \frac{1}{B} \sum_{n \in S} g_n,\ \bar{g} = \frac{1}{N} \sum_{n} g_n,\ "
        r"\sigma^{2} = \frac{1}{N} \sum_{n} (g_n - \bar{g})^{2}")]
    if spec.replacement:
        result.append(Sym(
            "B draws with replacement: each of the N^B ordered draws is equally likely, so E[ḡ_S] = ḡ and "
            "Var[ḡ_S] = σ²/B",
            r"B \text{ draws with replacement, each of the } N^{B} \text{ ordered draws equally likely: } "
            r"\mathrm{E}[\bar{g}_S] = \bar{g},\ \mathrm{Var}[\bar{g}_S] = \frac{\sigma^{2}}{B}"))
    else:
        result.append(Sym(
            "B different samples: each of the C(N, B) batches is equally likely, so E[ḡ_S] = ḡ and "
            "Var[ḡ_S] = σ²/B·(N - B)/(N - 1), the finite-population factor (N - B)/(N - 1) making it 0 at B = N",
            r"B \text{ different samples, each of the } C(N, B) \text{ batches equally likely: } "
            r"\mathrm{E}[\bar{g}_S] = \bar{g},\ \mathrm{Var}[\bar{g}_S] = \frac{\sigma^{2}}{B} \cdot "
            r"\frac{N - B}{N - 1}"))
    if spec.gradients is None:
        result.append(Sym(
            "per-sample loss ℓ_n(w) = ½ (w x_n - y_n)², so g_n = dℓ_n/dw = (w x_n - y_n) x_n",
            r"\ell_n(w) = \tfrac{1}{2} (w x_n - y_n)^{2},\ g_n = \frac{d\ell_n}{dw} = (w x_n - y_n)\, x_n"))
    return result
