"""`kind: critical_points`: where the gradient of a loss vanishes, and what kind of point each is.

The lecture's analysis (lecture 10), step by step: the
loss (written out, or built from a model and data as `yhat = w1 w2 x` with
one sample x = 1, y = 1 gives L = (1 - w1 w2)^2), its gradient and Hessian;
then every critical point, exactly where SymPy can solve ∇L = 0 (the point
(0, 0) and the curve w1 w2 = 1) and numerically where it cannot; at each
point the Hessian, its eigenvalues and eigenvectors, the second-order test,
the argument that settles an inconclusive test, the Taylor approximation
L(θ) ≈ L(θ′) + 1/2 (θ − θ′)ᵀ H (θ − θ′) and, at a saddle, the escape
direction with the check that the loss falls along it. Families of
critical points are analysed symbolically along them.

The analysis is derive.symbolic.critical; this module reads the problem
file and turns the analysis into Steps. Step keys are in docs/kinds/critical_points.md
("critical_points"): `grad[i]`, `H[i][j]`, and per point k `pk.theta[i]`,
`pk.H[i][j]`, `pk.lambda[i]`, `pk.v[i][j]`, `pk.verdict`, ...; per family
k `ck.H[i][j]`, `ck.lambda[i]`, `ck.verdict`, ...

Numeric steps at a point substitute the point's coordinates into the
general formula, as the lecture does ("= 2(1 - 0·0)(-0) = 0"), except where
floating point would not reproduce an exact 0 (an irrational point): there
the step's formula is the exact value itself.
"""

from dataclasses import dataclass

import sympy
from sympy import Add, Mul, Pow, Rational

from ..errors import DeriveError, ExpressionError, Timeout
from ..expr import CONSTANTS, FUNCTIONS, parse_expression
from ..fields import Choice, Declarations, Declared, Interval, Structured, Text, check_constants
from ..problem import read_names
from ..render.formula import latex_formula, text_formula
from ..render.latex import escape
from ..steps import SolutionBuilder, Sym, evaluate_formula
from ..symbolic.classify import DECIDED_VERDICTS, TEST_VERDICTS, Verdict
from ..symbolic.critical import analyse, derivatives
from ..symbolic.limits import time_limit

ERRORS = ("squared_error", "half_squared_error")
MAX_PARAMETERS, MAX_INPUTS, MAX_SAMPLES, MAX_POINTS = 6, 4, 16, 12
DEFAULT_REGION = (-2.0, 2.0)  # the lecture's error-surface figure
DEFAULT_SECONDS = 10
RESERVED = {"y", "yhat", "L", "H", "grad", "t"}  # input names that would collide with step keys
_NOT_SMOOTH = (sympy.Heaviside, sympy.DiracDelta, sympy.sign, sympy.Abs, sympy.Max, sympy.Min)


def _names(most, taken=()):
    """The schema of a list of 1 to `most` distinct names as read_names reads them (no digit, `_` or space first,
    no space inside, not a function's or a constant's name), none of them `taken`."""
    name = {"type": "string", "pattern": r"^[^\s\d_]\S*$", "not": {"enum": sorted({*FUNCTIONS, *CONSTANTS, *taken})}}
    return {"type": "array", "items": name, "minItems": 1, "maxItems": most, "uniqueItems": True}


NUMBER = {"type": "number"}
RESERVED_WORDS = ", ".join(f"`{name}`" for name in sorted(RESERVED))
MODEL = Declarations(
    Declared("output", Text("the model's output ŷ, an expression in the parameters and inputs"),
             "ŷ as an expression in the parameters and inputs (`w1 w2 x`)"),
    Declared("inputs", Structured(_names(MAX_INPUTS, RESERVED)),
             f"the input names, 1 to {MAX_INPUTS}; none may be a parameter's name or {RESERVED_WORDS} (step keys)",
             default=["x"]),
    Declared("samples", Structured({"type": "array", "minItems": 1, "maxItems": MAX_SAMPLES, "items": {
                 "type": "object", "required": ["y"], "additionalProperties": NUMBER}}),
             f"1 to {MAX_SAMPLES} mappings, each with a number for every input and the target `y` (`{{x: 1, y: 1}}`)"),
    Declared("error", Choice(ERRORS), "`squared_error`, the lecture's `(y − ŷ)²`, or `half_squared_error`, "
             "`½ (y − ŷ)²`", default="squared_error"),
    Declared("batch", Choice(("sum", "mean")), "`sum` or `mean` of the samples' errors", default="sum"),
)
ONE_OF_LOSS_MODEL = "`loss` or `model` is required"

# where an error found while solving is reported when nothing nearer its cause is known (Problem.solve)
ERRORS_AT = ("model.output", "loss")

DECLARED = Declarations(
    Declared("parameters", Structured(_names(MAX_PARAMETERS)),
             f"the parameter names, 1 to {MAX_PARAMETERS} (`[w1, w2]`); with `model`, none may be "
             f"{RESERVED_WORDS} (step keys)"),
    Declared("loss", Text("an expression in the parameters"),
             "L as an expression in the parameters (`(1 - w1 w2)^2`); twice differentiable (abs, max, min, relu "
             "are refused)", default=None, shown_default=ONE_OF_LOSS_MODEL),
    Declared("model", Structured(MODEL.object_schema()),
             "the model-and-data form, a mapping (below): L = Σ (y − ŷ)² over the samples, times ½ for "
             "`half_squared_error`, divided by their number for `batch: mean`", default=None,
             shown_default=ONE_OF_LOSS_MODEL),
    Declared("points", Structured({"type": "array", "minItems": 1, "maxItems": MAX_POINTS, "items": {
                 "type": "array", "minItems": 1, "maxItems": MAX_PARAMETERS,
                 "items": {"anyOf": [NUMBER, {"type": "string"}]}}}),
             f"examine these 1 to {MAX_POINTS} points instead of finding all: each a list with a number, or a "
             "constant in quotes, per parameter (`[\"sqrt(2)\", \"sqrt(2)/2\"]`); each must have ∇L = 0 exactly",
             default=None, shown_default="all critical points"),
    Declared("expansions", Structured({"type": "array", "minItems": 1, "maxItems": MAX_POINTS, "items": {
                 "type": "array", "minItems": 1, "maxItems": MAX_PARAMETERS,
                 "items": {"anyOf": [NUMBER, {"type": "string"}]}}}),
             f"1 to {MAX_POINTS} points θ′, critical or not, written as `points`, at which to expand L to second "
             "order, the lecture's L(θ) ≈ L(θ′) + (θ − θ′)ᵀ g + ½ (θ − θ′)ᵀ H (θ − θ′) with its gradient term",
             default=None, shown_default="none"),
    Declared("region", Structured({"type": "object", "additionalProperties": {
                 "type": "array", "items": NUMBER, "minItems": 2, "maxItems": 2}}),
             "parameter → `[low, high]` (low < high): where the numeric search starts, and what the picture shows",
             default={}, shown_default="`[-2, 2]` each"),
    Declared("escape_step", Interval(0, 10, "a step above 0 and at most 10", open=("low",)),
             "the step t of the escape check, 0 < t ≤ 10; halved (and said) until L falls", default=0.1),
    Declared("time_limit", Interval(0, 120, "a number of seconds above 0 and at most 120", open=("low",)),
             "seconds each piece of SymPy work may take, above 0 and at most 120; an overrun of solving ∇L = 0 "
             "hands over to the numeric search, one while examining a point or family leaves that piece out "
             "(the notes say which; the rest is printed), one while reading or differentiating L ends with one "
             "line", default=DEFAULT_SECONDS),
)


@dataclass(frozen=True)
class Model:
    """The model-and-data form: ŷ = output(parameters, inputs), samples ((inputs...), y), the error."""

    output: object
    inputs: tuple
    samples: tuple
    error: str
    batch: str


@dataclass(frozen=True)
class CriticalSpec:
    """A validated critical_points problem (fields: docs/kinds/critical_points.md).

    parameters: real Symbols; loss: L in them; model: the Model it was built
    from, or None when the file wrote L; points: exact points to examine, or
    None to find every critical point; region: (low, high) per parameter;
    escape_step: the exact t of the escape check; time_limit: seconds.
    """

    parameters: tuple
    loss: object
    model: Model
    points: tuple
    region: tuple
    escape_step: object
    time_limit: float
    expansions: tuple = ()  # exact points at which L is expanded to second order, critical or not


# -- reading the problem file ------------------------------------------------------------

def read(root):
    """Validate the critical_points fields of a problem file into a CriticalSpec."""
    seconds = DECLARED.read(root, "time_limit")
    parameters = read_names(DECLARED.field(root, "parameters"), MAX_PARAMETERS, "parameter")
    if root.has("loss") == root.has("model"):
        if root.has("loss"):
            raise root.get("model").error("give either loss (an expression) or model (a model and data), not both")
        raise root.missing("loss", "missing: give either loss (an expression in the parameters) "
                                   "or model (a model and its data)")
    if root.has("loss"):
        source, model = root.get("loss"), None
        loss = _parse(source, DECLARED.by_name["loss"].type.expected, {p.name: p for p in parameters}, seconds)
    else:
        source = root.get("model")
        model = _read_model(source, parameters, root.get("parameters"), seconds)
        loss = _model_loss(model)
    _check_loss(source, loss, parameters, seconds)
    region = _read_region(DECLARED.field(root, "region"), parameters)
    points = _read_points(root.get("points"), loss, parameters, seconds) if root.has("points") else None
    expansions = _read_expansions(root.get("expansions"), parameters, seconds) if root.has("expansions") else ()
    step = DECLARED.read(root, "escape_step")
    return CriticalSpec(parameters, loss, model, points, region, _exact(step), seconds, expansions)


def _read_expansions(field, parameters, seconds):
    """The points of the second-order expansions: exact, any point (the gradient term need not be 0)."""
    items = field.items()
    if not 1 <= len(items) <= MAX_POINTS:
        raise field.error(f"expected 1 to {MAX_POINTS} points, got {len(items)}")
    return tuple(tuple(_coordinate(c, seconds) for c in item.items(len(parameters))) for item in items)


def _parse(field, expected, variables, seconds):
    try:
        with time_limit(seconds, f"reading {field.name}"):
            return check_constants(parse_expression(field.text(expected), variables))
    except (ExpressionError, Timeout) as error:
        raise field.located(error) from None


def _read_model(field, parameters, parameters_field, seconds):
    """The Model of a `model:` mapping; its inputs and targets become step keys, so their names are checked."""
    field.mapping(allowed=MODEL.names)
    for item, symbol in zip(parameters_field.items(), parameters):
        if symbol.name in RESERVED:
            raise item.error(f"parameter {symbol.name!r} clashes with a step name of the model's loss "
                             f"({', '.join(sorted(RESERVED))}); choose another name")
    inputs_field = MODEL.field(field, "inputs")
    inputs = read_names(inputs_field, MAX_INPUTS, "input")
    for item, symbol in zip(inputs_field.items(), inputs):
        if symbol in parameters or symbol.name in RESERVED:
            raise item.error(f"input {symbol.name!r} clashes with a parameter or a step name "
                             f"({', '.join(sorted(RESERVED))}); choose another name")
    variables = {s.name: s for s in parameters + inputs}
    output = _parse(field.get("output"), MODEL.by_name["output"].type.expected, variables, seconds)
    samples_field = field.get("samples")
    samples = []
    items = samples_field.items()
    if not 1 <= len(items) <= MAX_SAMPLES:
        raise samples_field.error(f"expected 1 to {MAX_SAMPLES} samples, got {len(items)}")
    for item in items:
        item.mapping(allowed={s.name for s in inputs} | {"y"})
        x = tuple(_exact(item.get(s.name).number()) for s in inputs)
        samples.append((x, _exact(item.get("y").number())))
    error = MODEL.read(field, "error")
    batch = MODEL.read(field, "batch")
    return Model(output, inputs, tuple(samples), error, batch)


def _model_loss(model):
    """L = Σ_k (y_k − ŷ(x_k))^2 (times 1/2 for half_squared_error, 1/N for a mean)."""
    terms = [(y - model.output.subs(dict(zip(model.inputs, x)))) ** 2 for x, y in model.samples]
    factor = (Rational(1, 2) if model.error == "half_squared_error" else 1)
    factor *= Rational(1, len(terms)) if model.batch == "mean" else 1
    return factor * Add(*terms)


def _check_loss(field, loss, parameters, seconds):
    """A loss the analysis can use: it depends on a parameter and is twice differentiable.

    (Everything else the parser lets through, exp to atan, both evaluators know.)
    """
    if not loss.free_symbols & set(parameters):
        raise field.error("the loss does not depend on the parameters")
    try:
        with time_limit(seconds, "differentiating the loss twice"):
            _, hessian = derivatives(loss, parameters)
    except Timeout as error:
        raise field.located(error) from None
    if loss.has(*_NOT_SMOOTH) or hessian.has(*_NOT_SMOOTH):
        raise field.error("the loss must be twice differentiable (abs, max, min and relu have kinks)")


def _read_region(field, parameters):
    """(low, high) per parameter; a parameter not named keeps the lecture's [-2, 2]."""
    field.mapping(allowed={p.name for p in parameters})
    region = []
    for p in parameters:
        entry = field.get(p.name, list(DEFAULT_REGION))
        low, high = entry.vector(2)
        if not low < high:
            raise entry.error(f"expected [low, high] with low < high, got [{low:g}, {high:g}]")
        region.append((low, high))
    return tuple(region)


def _read_points(field, loss, parameters, seconds):
    """Exact points to examine; each must be a critical point (∇L = 0 there, exactly)."""
    items = field.items()
    if not 1 <= len(items) <= MAX_POINTS:
        raise field.error(f"expected 1 to {MAX_POINTS} points, got {len(items)}")
    points = []
    for item in items:
        coordinates = item.items(len(parameters))
        point = tuple(_coordinate(c, seconds) for c in coordinates)
        with time_limit(seconds, f"checking {item.name}"):
            at = dict(zip(parameters, point))
            residuals = [sympy.simplify(sympy.diff(loss, p).subs(at)) for p in parameters]
        for p, residual in zip(parameters, residuals):
            if residual != 0:
                raise item.error(f"not a critical point: ∂L/∂{p.name} = {text_formula(residual)} there")
        if point in points:
            raise item.error("this point is listed twice")
        points.append(point)
    return tuple(points)


def _coordinate(field, seconds):
    """A number, or the text of an exact constant (`sqrt(2)/2`)."""
    if isinstance(field.value, str):
        return _parse(field, "a number or a constant expression", {}, seconds)
    return _exact(field.number())


def _exact(number):
    """The exact value of a number as written (0.1 is 1/10)."""
    return sympy.Integer(int(number)) if float(number).is_integer() else Rational(repr(float(number)))


# -- symbols -----------------------------------------------------------------------------

def _sub(index):
    return str(index).translate(str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉"))


def _name(parameter):
    return Sym(parameter.name, parameter.name)


def _partial(parameter):
    return Sym(f"∂L/∂{parameter.name}", rf"\frac{{\partial L}}{{\partial {parameter.name}}}")


def _second_partial(a, b):
    if a == b:
        return Sym(f"∂²L/∂{a.name}²", rf"\frac{{\partial^2 L}}{{\partial {a.name}^2}}")
    return Sym(f"∂²L/∂{a.name}∂{b.name}", rf"\frac{{\partial^2 L}}{{\partial {a.name} \partial {b.name}}}")


def _hessian_entry(i, j):
    return Sym(f"H{_sub(i)}{_sub(j)}", f"H_{{{i}{j}}}")


def _eigenvalue(i):
    return Sym(f"λ{_sub(i)}", rf"\lambda_{{{i}}}")


def _eigenvector(i, j):
    return Sym(f"v{_sub(i)}{_sub(j)}", f"v_{{{i}{j}}}")


def _note(text):
    return Sym(text, r"\text{" + escape(text) + "}")


# -- the solution --------------------------------------------------------------------------

def analysis_of(problem):
    """The critical-point Analysis of a problem (computed once; the solution and the picture share it)."""
    spec = problem.spec
    return analyse(spec.loss, spec.parameters, spec.points, spec.region, spec.escape_step, spec.time_limit,
                   text_formula)


def solve(problem, rounding):
    """The Solution of a critical_points problem."""
    return _CriticalSolver(problem, analysis_of(problem), rounding).solve()


class _CriticalSolver:
    """Builds the steps: loss, gradient, Hessian, then each critical point and each family."""

    def __init__(self, problem, analysis, rounding):
        self.problem, self.spec, self.analysis = problem, problem.spec, analysis
        self.out = SolutionBuilder(rounding)
        self.parameters = analysis.parameters
        self.n = len(self.parameters)
        order = lambda expr: _reading_order(expr, list(self.parameters))
        self.loss = order(analysis.loss)  # the loss and its derivatives as printed
        self.gradient = tuple(order(g) for g in analysis.gradient)
        self.hessian = [[order(analysis.hessian[i, j]) for j in range(self.n)] for i in range(self.n)]

    def solve(self):
        self.model()
        self.general()
        for k, point in enumerate(self.analysis.points, start=1):
            _PointSteps(self, k, point).build()
        for k, family in enumerate(self.analysis.families, start=1):
            self.family(k, family)
        for k, point in enumerate(self.spec.expansions, start=1):
            self.expansion(k, point)
        return self.out.build(self.problem.name, self.problem.kind, self.problem.title, notes=self.notes())

    def expansion(self, k, point):
        """L to second order at any point θ′ (keys `ek.`): the coordinates, L(θ′), the gradient g and the
        Hessian H there, and L(θ′) + (θ − θ′)ᵀ g + ½ (θ − θ′)ᵀ H (θ − θ′), the gradient term kept."""
        out, parameters, n = self.out, self.parameters, self.n
        prefix = f"e{k}."
        names = ", ".join(p.name for p in parameters)
        section = f"Expansion {k}: L to second order at ({names}) = ({', '.join(text_formula(c) for c in point)})"
        coordinates = {p: sympy.Symbol(f"{prefix}theta[{i}]") for i, p in enumerate(parameters, start=1)}
        at = lambda expr: _reading_order(expr.xreplace(coordinates), list(coordinates.values()))
        for i, (p, c) in enumerate(zip(parameters, point), start=1):
            out.step(f"{prefix}theta[{i}]", _name(p), c, section, note="θ′, the point expanded at" if i == 1 else "")
        exact = dict(zip(parameters, point))
        value = sympy.nsimplify(self.loss.xreplace(exact))
        gradient = [sympy.nsimplify(g.xreplace(exact)) for g in self.gradient]
        hessian = [[sympy.nsimplify(h.xreplace(exact)) for h in row] for row in self.hessian]
        out.step(f"{prefix}L", Sym("L(θ′)", r"L(\theta')"), at(self.loss), section)
        for i, g in enumerate(self.gradient, start=1):
            out.step(f"{prefix}grad[{i}]", _partial(parameters[i - 1]), at(g), section,
                     note="the gradient g at θ′: not 0 here, so the first-order term stays" if i == 1 and any(
                         not c.is_zero for c in gradient) else "")
        for i in range(1, n + 1):
            for j in range(1, n + 1):
                out.step(f"{prefix}H[{i}][{j}]", _hessian_entry(i, j), at(self.hessian[i - 1][j - 1]), section)
        differences = [p - c for p, c in zip(parameters, point)]
        def times(c, *factors):
            return Mul(*factors, evaluate=False) if c == 1 else Mul(c, *factors, evaluate=False)

        # in the lecture's order: L(θ′), the gradient term, the quadratic term
        terms = [] if value.is_zero else [value]
        terms += [times(g, d) for g, d in zip(gradient, differences) if not g.is_zero]
        terms += [times(hessian[i][i] / 2, Pow(differences[i], 2, evaluate=False))
                  for i in range(n) if not hessian[i][i].is_zero]
        terms += [times(hessian[i][j], differences[i], differences[j])
                  for i in range(n) for j in range(i + 1, n) if not hessian[i][j].is_zero]
        approximation = Add(*terms, evaluate=False) if len(terms) > 1 else (terms[0] if terms else sympy.Integer(0))
        symbol = Sym("L(θ) ≈ L(θ′) + (θ − θ′)ᵀ g + ½ (θ − θ′)ᵀ H (θ − θ′)",
                     r"L(\theta) \approx L(\theta') + (\theta - \theta')^{T} g + \frac{1}{2} (\theta - \theta')^{T} H "
                     r"(\theta - \theta')")
        out.symbolic(f"{prefix}taylor", symbol, approximation, sympy.expand(approximation), section,
                     note="the lecture's second-order Taylor expansion, with its gradient term (θ − θ′)ᵀ g")

    def notes(self):
        spec, analysis = self.spec, self.analysis
        names = ", ".join(p.name for p in self.parameters)
        notes = []
        if spec.model is None:
            notes.append(Sym(f"loss: L({names}) = {text_formula(self.loss)}",
                             rf"\text{{loss: }} L({names}) = {latex_formula(self.loss)}"))
        if analysis.method == "given":
            notes.append(_note("the points examined are the ones the problem lists (each checked: ∇L = 0 there)"))
        notes += [_note(note) for note in analysis.notes]
        notes += [
            _note("second-order test at a critical point: every eigenvalue of H > 0, local minimum; every one "
                  "< 0, local maximum; some > 0 and some < 0, saddle (even if others are 0); otherwise (a zero "
                  "eigenvalue, the others of one sign) inconclusive, and the terms beyond the second order "
                  "decide: neither means neither a local minimum nor a local maximum; a saddle (or a neither) is strict when H "
                  "has a negative eigenvalue, so that L falls to second order along its eigenvector, non-strict "
                  "otherwise"),
            _note("eigenvalues largest first; each eigenvector is scaled so that its first non-zero "
                  "component is 1"),
            _note("at a saddle, u is the eigenvector of the most negative eigenvalue: L(θ′ + t u) < L(θ′) "
                  "for a small step t (the lecture's escape direction)"),
        ]
        return notes

    # the loss, the gradient and the Hessian, in general ---------------------------------
    def model(self):
        model, out = self.spec.model, self.out
        if model is None:
            return
        several = len(model.samples) > 1
        squares = []
        for k, (x, y) in enumerate(model.samples, start=1):
            suffix = f"[{k}]" if several else ""
            for symbol, value in zip(model.inputs, x):
                out.given(symbol.name + suffix, Sym(symbol.name + suffix, symbol.name + suffix), float(value),
                          group=f"sample{k}")
            y_symbol = out.given("y" + suffix, Sym("y" + suffix, "y" + suffix), float(y), group=f"sample{k}")
            inputs = {s: sympy.Symbol(s.name + suffix) for s in model.inputs}
            out.symbolic("yhat" + suffix, Sym("ŷ" + suffix, r"\hat{y}" + suffix),
                         _reading_order(model.output.subs(inputs), self.parameters),
                         model.output.subs(dict(zip(model.inputs, x))), "Loss")
            squares.append(Pow(Add(y_symbol, Mul(-1, sympy.Symbol("yhat" + suffix), evaluate=False),
                                   evaluate=False), 2, evaluate=False))
        formula = squares[0] if len(squares) == 1 else Add(*squares, evaluate=False)
        factor = (Rational(1, 2) if model.error == "half_squared_error" else 1)
        factor *= Rational(1, len(squares)) if model.batch == "mean" else 1
        if factor != 1:
            formula = Mul(factor, formula, evaluate=False)
        words = {"squared_error": "squared error", "half_squared_error": "half squared error"}[model.error]
        if several:
            words += f", {'summed' if model.batch == 'sum' else 'averaged'} over the samples"
        out.symbolic("L", Sym("L", "L"), formula, self.loss, "Loss", note=words)

    def general(self):
        out = self.out
        for i, p in enumerate(self.parameters, start=1):
            out.symbolic(f"grad[{i}]", _partial(p), sympy.Derivative(self.loss, p), self.gradient[i - 1],
                         "Gradient")
        for i, a in enumerate(self.parameters, start=1):
            for j, b in enumerate(self.parameters, start=1):
                out.symbolic(f"H[{i}][{j}]", _second_partial(a, b), sympy.Derivative(self.gradient[i - 1], b),
                             self.hessian[i - 1][j - 1], "Hessian")

    # a family of critical points, symbolically along it -----------------------------------
    def family(self, k, family):
        out, text = self.out, text_formula
        noun = family.noun
        section = f"Critical {noun} {k}: {family.statement}"
        prefix = f"c{k}."
        out.symbolic(prefix + "L", Sym("L", "L"), self.loss, family.loss_value, section,
                     note=f"on the {noun}")
        for i in range(1, self.n + 1):
            for j in range(1, self.n + 1):
                out.symbolic(f"{prefix}H[{i}][{j}]", _hessian_entry(i, j), self.hessian[i - 1][j - 1],
                             family.hessian[i - 1, j - 1], section)
        eigen = family.eigen
        described = ""
        if eigen is not None and self.n <= 2:
            for i, e in enumerate(eigen, start=1):
                formula = _eigenvalue_formula(prefix, i, self.n)
                vector = "" if e.vector is None else f"eigenvector ({', '.join(text(c) for c in e.vector)})"
                out.symbolic(f"{prefix}lambda[{i}]", _eigenvalue(i), formula, e.value, section, note=vector)
        elif eigen is not None:
            described = "; eigenvalues along it: " + ", ".join(text(e.value) for e in eigen)
        _verdicts(out, prefix, section, family.test, family.decision, described)


def _reading_order(expr, first):
    """`expr` in the order people write it, for printing (its value is unchanged).

    A product's factors: numbers, then the Symbols of `first` in order,
    then the rest (SymPy sorts x*w1*w2 alphabetically; the lecture writes
    w1 w2 x). A sum's terms: those with a plus sign first, in SymPy's
    order and a number last among them, then those with a minus sign
    (x^3/3 - x - y^2, 1 - w1 w2, x + 1).
    """
    if expr.is_Atom:
        return expr
    args = [_reading_order(a, first) for a in expr.args]
    if expr.is_Mul:
        rank = lambda f: (0, 0, "") if f.is_Number else (1, first.index(f), "") if f in first else (2, 0, str(f))
        return Mul(*sorted(args, key=rank), evaluate=False)
    if expr.is_Add:
        return Add(*sorted(args, key=lambda term: (term.could_extract_minus_sign(), term.is_Number)),
                   evaluate=False)
    return expr.func(*args, evaluate=False)


def _verdicts(out, prefix, section, test, decision, described=""):
    """The second-order test's verdict (`verdict`), and what settled an inconclusive one (`decided`).

    A verdict is a word (derive.symbolic.classify.Verdict); the step's
    formula is the verdict itself, and its note the reason.
    """
    verdict = Verdict(test.verdict, TEST_VERDICTS)
    out.symbolic(prefix + "verdict", Sym("second-order test", r"\text{second-order test}"), verdict, verdict,
                 section, note=test.reason + described)
    if decision is not None:
        decided = Verdict(decision.verdict, DECIDED_VERDICTS)
        out.symbolic(prefix + "decided", Sym("decided", r"\text{decided}"), decided, decided, section,
                     note=decision.argument)


def _eigenvalue_formula(prefix, i, n):
    """λᵢ over the Hessian entries' keys: H₁₁ for 1 x 1; (H₁₁ + H₂₂)/2 ± sqrt(((H₁₁ − H₂₂)/2)^2 + H₁₂^2)."""
    h = lambda a, b: sympy.Symbol(f"{prefix}H[{a}][{b}]")
    if n == 1:
        return h(1, 1)
    half = Pow(2, -1, evaluate=False)
    mean = Mul(Add(h(1, 1), h(2, 2), evaluate=False), half, evaluate=False)
    gap = Mul(Add(h(1, 1), Mul(-1, h(2, 2), evaluate=False), evaluate=False), half, evaluate=False)
    radius = sympy.sqrt(Add(Pow(gap, 2, evaluate=False), Pow(h(1, 2), 2, evaluate=False), evaluate=False),
                        evaluate=False)
    return Add(mean, radius if i == 1 else Mul(-1, radius, evaluate=False), evaluate=False)


class _PointSteps:
    """The steps of one critical point k (keys `pk.`): coordinates, Hessian, Taylor, eigen, verdict, escape."""

    def __init__(self, solver, k, point):
        self.solver, self.out, self.point = solver, solver.out, point
        self.parameters, self.n = solver.parameters, solver.n
        self.prefix = f"p{k}."
        names = ", ".join(p.name for p in self.parameters)
        where = ", ".join(text_formula(c) for c in point.coordinates)
        kind = {"search": " (numeric)", "given": "", "solve": "", "family": ""}[point.origin]
        self.section = f"Critical point {k}: ({names}) = ({where}){kind}"
        self.coordinates = {p: sympy.Symbol(f"{self.prefix}theta[{i}]")
                            for i, p in enumerate(self.parameters, start=1)}

    def key(self, name, *indices):
        return self.prefix + name + "".join(f"[{i}]" for i in indices)

    def at_point(self, expr):
        """`expr` with the parameters replaced by the Symbols of this point's coordinates."""
        return _reading_order(expr.xreplace(self.coordinates), list(self.coordinates.values()))

    def step(self, key, symbol, formula, exact=None, note=""):
        """A numeric step; where floats would not reproduce an exact 0, the exact value is the formula."""
        if exact is not None and not self.point.numeric:
            if exact == 0 and _float_of(formula, self.out.env) != 0.0:
                formula = sympy.Integer(0)
        return self.out.step(key, symbol, formula, self.section, note=note)

    def build(self):
        point, out = self.point, self.out
        origin = {
            "solve": "solves ∇L = 0 exactly, by SymPy",
            "search": "numeric: Newton's method; |∂L/∂θᵢ| ≤ 1e-8 there",
            "given": "given by the problem; ∇L = 0 there (checked exactly)",
            "family": "a point of a family of critical points where the family's verdict does not hold",
        }[point.origin]
        for i, (p, c) in enumerate(zip(self.parameters, point.coordinates), start=1):
            out.step(self.key("theta", i), _name(p), c, self.section, note=origin if i == 1 else "")
        if not point.numeric:
            for i, g in enumerate(self.solver.gradient, start=1):
                self.step(self.key("grad", i), _partial(self.parameters[i - 1]), self.at_point(g), exact=0)
        self.step(self.key("L"), Sym("L(θ′)", r"L(\theta')"), self.at_point(self.solver.loss),
                  exact=point.loss_value)
        for i in range(1, self.n + 1):
            for j in range(1, self.n + 1):
                self.step(self.key("H", i, j), _hessian_entry(i, j),
                          self.at_point(self.solver.hessian[i - 1][j - 1]),
                          exact=point.hessian[i - 1, j - 1])
        self.taylor()
        self.eigen()
        _verdicts(out, self.prefix, self.section, point.test, point.decision)
        if point.escape is not None:
            self.escape()

    def taylor(self):
        """L(θ) ≈ L(θ′) + 1/2 (θ − θ′)ᵀ H (θ − θ′), with this point's numbers (the gradient term is 0)."""
        point = self.point
        hessian = point.hessian
        offsets = [p if c.is_zero else Add(p, Mul(-1, c, evaluate=False), evaluate=False)
                   for p, c in zip(self.parameters, point.coordinates)]
        terms = []
        for i in range(self.n):
            terms.append(Mul(hessian[i, i], Pow(offsets[i], 2, evaluate=False), evaluate=False))
            for j in range(i + 1, self.n):
                terms.append(Mul(2, hessian[i, j], offsets[i], offsets[j], evaluate=False))
        quadratic = terms[0] if len(terms) == 1 else Add(*terms, evaluate=False)
        formula = Add(point.loss_value, Mul(Rational(1, 2), quadratic, evaluate=False), evaluate=False)
        differences = [p - c for p, c in zip(self.parameters, point.coordinates)]
        products = [(hessian[i, i] / 2, (Pow(differences[i], 2, evaluate=False),)) for i in range(self.n)]
        products += [(hessian[i, j], (differences[i], differences[j]))
                     for i in range(self.n) for j in range(i + 1, self.n)]
        terms = [] if point.loss_value.is_zero else [point.loss_value]
        terms += [Mul(c, *factors, evaluate=False) if c != 1 else Mul(*factors, evaluate=False)
                  for c, factors in products if not c.is_zero]
        value = _reading_order(Add(*terms, evaluate=False) if terms else sympy.Integer(0), list(self.parameters))
        symbol = Sym("L(θ) ≈ L(θ′) + ½ (θ − θ′)ᵀ H (θ − θ′)",
                     r"L(\theta) \approx L(\theta') + \frac{1}{2} (\theta - \theta')^{T} H (\theta - \theta')")
        self.out.symbolic(self.key("taylor"), symbol, formula, value, self.section,
                          note="Taylor approximation at θ′; the gradient term is 0 at a critical point")

    def eigen(self):
        point, n = self.point, self.n
        for i, e in enumerate(point.eigen, start=1):
            if n <= 2:
                formula = _eigenvalue_formula(self.prefix, i, n)
                exact = e.value if e.exact else None
            else:
                formula = e.value if e.exact else sympy.Float(e.value, 15)
                exact = None
            self.step(self.key("lambda", i), _eigenvalue(i), formula, exact=exact,
                      note="" if e.exact or point.numeric or n <= 2 else
                      "numeric: the roots of det(H − λI) have no short closed form; their signs are exact")
        for i, e in enumerate(point.eigen, start=1):
            for j, formula in enumerate(self.eigenvector_formulas(i, e), start=1):
                self.out.step(self.key("v", i, j), _eigenvector(i, j), formula, self.section,
                              note=f"eigenvector of λ{_sub(i)}" if j == 1 else "")

    def eigenvector_formulas(self, i, eigen):
        """vᵢ's components: for 2 x 2, (1, H₁₂/(λᵢ − H₂₂)) when H₁₂ ≠ 0, else an axis; else the values.

        H₁₁ v₁ + H₁₂ v₂ = λ v₁ gives the same v₂ as (λᵢ − H₁₁)/H₁₂, the form used
        when rounding has made λᵢ − H₂₂ exactly 0 (with exact values it never is).
        """
        if self.n == 2:
            value = self.out.value
            h11, h12, h22, lam = (sympy.Symbol(self.key("H", 1, 1)), sympy.Symbol(self.key("H", 1, 2)),
                                  sympy.Symbol(self.key("H", 2, 2)), sympy.Symbol(self.key("lambda", i)))
            if value(h12.name) != 0:
                if value(lam.name) != value(h22.name):
                    ratio = Mul(h12, Pow(Add(lam, Mul(-1, h22, evaluate=False), evaluate=False), -1,
                                         evaluate=False), evaluate=False)
                else:
                    ratio = Mul(Add(lam, Mul(-1, h11, evaluate=False), evaluate=False), Pow(h12, -1, evaluate=False),
                                evaluate=False)
                return [sympy.Integer(1), ratio]
            first_is_larger = self.out.value(self.key("H", 1, 1)) >= self.out.value(self.key("H", 2, 2))
            axis = (i == 1) == first_is_larger
            return [sympy.Integer(1), sympy.Integer(0)] if axis else [sympy.Integer(0), sympy.Integer(1)]
        return [c if eigen.exact else sympy.Float(c, 15) for c in eigen.vector]

    def escape(self):
        point, out = self.point, self.out
        escape = point.escape
        along_eigenvector = point.test.verdict == "saddle"
        for j, u in enumerate(escape.direction, start=1):
            formula = sympy.Symbol(self.key("v", self.n, j)) if along_eigenvector else (
                u if isinstance(u, sympy.Basic) else sympy.Float(u, 15))
            out.step(self.key("u", j), Sym(f"u{_sub(j)}", f"u_{{{j}}}"), formula, self.section,
                     note=(f"escape direction: the eigenvector of λ{_sub(self.n)} < 0" if along_eigenvector
                           else "escape direction: the line along which L falls, found in deciding")
                     if j == 1 else "")
        stated = float(self.solver.spec.escape_step)
        halved = f"t = {stated:g} halved {escape.halvings} time(s), until L falls" if escape.halvings else ""
        t = out.given(self.key("t"), Sym("t", "t"), float(escape.step), section=self.section)
        moved = []
        for j, p in enumerate(self.parameters, start=1):
            coordinate, u = sympy.Symbol(self.key("theta", j)), sympy.Symbol(self.key("u", j))
            formula = Add(coordinate, Mul(t, u, evaluate=False), evaluate=False)
            symbol = Sym(f"{p.name}(t)", f"{p.name}(t)")
            moved.append(out.step(self.key("theta_t", j), symbol, formula, self.section,
                                  note=("θ′ + t u" + (f"; {halved}" if halved else "")) if j == 1 else ""))
        loss = self.solver.loss
        moved_loss = out.step(self.key("L_t"), Sym("L(θ′ + t u)", r"L(\theta' + t u)"),
                              loss.xreplace(dict(zip(self.parameters, moved))), self.section)
        formula = Add(moved_loss, Mul(-1, sympy.Symbol(self.key("L")), evaluate=False), evaluate=False)
        out.step(self.key("change"), Sym("L(θ′ + t u) - L(θ′)", r"L(\theta' + t u) - L(\theta')"), formula,
                 self.section, note=self.change_note(formula, escape))
        if along_eigenvector:
            squares = Add(*[Pow(sympy.Symbol(self.key("u", j)), 2, evaluate=False) for j in range(1, self.n + 1)],
                          evaluate=False)
            formula = Add(sympy.Symbol(self.key("L")),
                          Mul(Rational(1, 2), Pow(t, 2, evaluate=False), sympy.Symbol(self.key("lambda", self.n)),
                              squares, evaluate=False), evaluate=False)
            out.step(self.key("taylor_t"), Sym("L₂(θ′ + t u)", r"L_2(\theta' + t u)"), formula, self.section,
                     note="the Taylor approximation's prediction: L(θ′) + ½ t² uᵀHu, and uᵀHu = λ‖u‖² < 0")

    def change_note(self, formula, escape):
        """The verdict of the escape check, on the number as printed (and exactly, if rounding hides it)."""
        shown = self.out.rounding.apply(evaluate_formula(formula, self.out.env))
        exact = float(escape.change)
        if shown < 0:
            return "< 0: the loss falls along u, the saddle is escaped"
        return f"< 0 exactly ({exact:.3g}); at this rounding it shows as {shown:g}"


def _float_of(formula, env):
    """`formula` evaluated in floats on the exact values of its dependencies (None where undefined)."""
    try:
        return evaluate_formula(formula, env)
    except DeriveError:
        return None

