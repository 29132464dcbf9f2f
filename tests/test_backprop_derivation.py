"""kind: backprop_derivation, checked against oracles outside the code under test.

- SymPy applied here, directly: each network is rebuilt in this file with the
  true activation expressions (the sigmoid as 1/(1 + e^-z), tanh) and its
  loss differentiated with sympy.diff. A generic layer's f_l is instantiated
  here by a stand-in the code never sees (sin(u) + u/3, ...): the solution's
  f′_l(z) must then be the stand-in's derivative. The solution's results,
  written in each layer's z and h, are mapped back onto that network (z ->
  its sum, h -> f(z)) and compared at random points.
- Central finite differences of a forward pass in plain Python.
- The formulas of the lecture and of the BP lecture's textbook notation, typed here: the
  slide's dL/dv_ih, dE/dtheta = -delta (the lecture's pseudo-code writes
  +delta), dE/db = +delta.
"""

import math
import random
import re
from functools import lru_cache

import jsonschema
import pytest
import sympy
import yaml

from derive.cli import cli
from derive.errors import ProblemError
from derive.fields import schema
from derive.grading.grader import Grader
from derive.problem import load_problem
from derive.render import render
from derive.grading.sheet import AnswerSheet, read_answer
from conftest import PROBLEMS

SIGMOID = lambda u: 1 / (1 + sympy.exp(-u))  # noqa: E731
U = sympy.Symbol("u")
STAND_INS = {1: sympy.sin(U) + U / 3, 2: sympy.cos(U) + U ** 2 / 5, 3: sympy.atan(U) + U / 2}  # generic f_l


@lru_cache(maxsize=None)
def solved(text):
    """The Solution of a problem file with this YAML body (solved once per body)."""
    import tempfile
    from pathlib import Path

    path = Path(tempfile.mkdtemp()) / "problem.yaml"
    path.write_text("kind: backprop_derivation\n" + text, encoding="utf-8")
    return load_problem(path).solve()


def problem_text(sizes, activations, notation="textbook", offset=None, loss=None):
    lines = [f"notation: {notation}", f"sizes: {list(sizes)}", f"activations: {list(activations)}"]
    lines += [f"offset: {offset}"] if offset else []
    lines += [f"loss: {loss}"] if loss else []
    return "\n".join(lines) + "\n"


# -- the network rebuilt here, with the names derive gives its symbols --------------------------

class Reference:
    """An unrolled network built with SymPy in this file (textbook or matrix notation).

    Symbols carry the names a student writes (README): x1, w1_12 (textbook,
    from 1 to 2) or W1_21 (matrix, row = to), theta1_1 or b1_1, y1 (y when
    there is one output).
    """

    def __init__(self, sizes, activations, notation="textbook", offset="threshold", loss="half_squared_error"):
        self.sizes, self.L, self.notation, self.offset = sizes, len(sizes) - 1, notation, offset
        self.f, self.fprime = {}, {}
        for l, name in enumerate(activations, start=1):
            if name == "generic":
                self.f[l] = sympy.Lambda(U, STAND_INS[l])
                self.fprime[l] = sympy.Lambda(U, sympy.diff(STAND_INS[l], U))
            else:
                f = SIGMOID if name == "sigmoid" else sympy.tanh
                self.f[l], self.fprime[l] = f, sympy.Lambda(U, sympy.diff(f(U), U))
        self.symbols = {}
        self.x = [self.symbol(f"x{i}") for i in range(1, sizes[0] + 1)]
        single = sizes[-1] == 1
        self.y = [self.symbol("y" if single else f"y{j}") for j in range(1, sizes[-1] + 1)]
        self.loss_name = loss
        self.t = sympy.Symbol("t")
        self.zs, self.hs, self.loss = self.forward()  # also creates every weight and offset symbol
        self.derivatives = {}

    def symbol(self, name):
        return self.symbols.setdefault(name, sympy.Symbol(name))

    def weight(self, l, i, j):
        if self.notation == "matrix":
            return self.symbol(f"W{l}_{j}{i}")
        return self.symbol(f"w{l}_{i}{j}")

    def offset_symbol(self, l, j):
        return self.symbol(f"{'theta' if self.offset == 'threshold' else 'b'}{l}_{j}")

    def forward(self, perturbed=None):
        """(zs, hs, loss); `perturbed` = (l, j) adds t to z^l_j, so dE/dt at t = 0 is dE/dz^l_j."""
        h, zs, hs = list(self.x), {}, {}
        for l in range(1, self.L + 1):
            new = []
            for j in range(1, self.sizes[l] + 1):
                z = sum(h[i - 1] * self.weight(l, i, j) for i in range(1, self.sizes[l - 1] + 1))
                z = z - self.offset_symbol(l, j) if self.offset == "threshold" else z + self.offset_symbol(l, j)
                if perturbed == (l, j):
                    z = z + self.t
                zs[l, j] = z
                new.append(self.f[l](z))
                hs[l, j] = new[-1]
            h = new
        pairs = list(zip(h, self.y))
        if self.loss_name == "binary_cross_entropy":
            loss = -sum(y * sympy.log(yh) + (1 - y) * sympy.log(1 - yh) for yh, y in pairs)
        else:
            loss = sympy.Rational(1, 2) * sum((yh - y) ** 2 for yh, y in pairs)
        return zs, hs, loss

    def direct(self, parameter_name):
        """dE/dp by sympy.diff on the loss built here; `z2_1` asks for dE/dz^2_1."""
        if parameter_name not in self.derivatives:
            if parameter_name.startswith("z"):
                l, j = parameter_name[1:].split("_")
                _, _, loss = self.forward(perturbed=(int(l), int(j)))
                self.derivatives[parameter_name] = sympy.diff(loss, self.t).subs(self.t, 0)
            else:
                self.derivatives[parameter_name] = sympy.diff(self.loss, self.symbol(parameter_name))
        return self.derivatives[parameter_name]

    def mapped(self, expression, point):
        """The value at `point` of a solution expression (in z, h, ŷ and f′_l): z and h are this
        network's own sums and activations, f′_l the derivative of this file's activation or stand-in."""
        for l in self.f:
            expression = expression.replace(lambda e, l=l: type(e).__name__ == f"fprime{l}",
                                            lambda e, l=l: self.fprime[l](e.args[0]))
        names = {s.name: v for s, v in point.items()}
        for (l, j), z in self.zs.items():
            prefix = "a" if self.notation == "matrix" else "h"
            names[f"z{l}_{j}"] = value_at(z, point)
            names[f"{prefix}{l}_{j}"] = value_at(self.hs[l, j], point)
            if l == self.L:
                names["yhat" if self.sizes[-1] == 1 else f"yhat{j}"] = names[f"{prefix}{l}_{j}"]
        return value_at(expression.xreplace({s: sympy.Symbol(s.name) for s in expression.free_symbols}),
                        {sympy.Symbol(name): v for name, v in names.items()})

    def random_point(self, rng):
        return {s: rng.uniform(-1.5, 1.5) if not s.name.startswith("y") else rng.uniform(0.1, 0.9)
                for s in self.symbols.values()}


def close(a, b):
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


def value_at(expression, point):
    """The value of an expression at a point: numbers substituted in one pass (SymPy evaluates as it rebuilds)."""
    return float(expression.xreplace({symbol: sympy.Float(value, 30) for symbol, value in point.items()}))


DEPTHS = {1: (2, 2), 2: (2, 2, 1), 3: (1, 2, 2, 1)}


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "generic"])
@pytest.mark.parametrize("depth", [1, 2, 3])
def test_recursion_and_direct_derivatives_agree_with_sympy_here(depth, activation):
    sizes = DEPTHS[depth]
    solution = solved(problem_text(sizes, [activation] * depth))
    reference = Reference(sizes, [activation] * depth)
    rng = random.Random(depth * 10 + len(activation))
    points = [reference.random_point(rng) for _ in range(2)]
    checked = 0
    for step in solution:
        key = step.key.removeprefix("recursion.")
        if key.startswith("grad_w["):
            l, i, j = (int(k) for k in key[7:-1].split("]["))
            name = f"w{l}_{i}{j}"
        elif key.startswith("grad_theta["):
            l, j = (int(k) for k in key[11:-1].split("]["))
            name = f"theta{l}_{j}"
        elif key.startswith("delta["):
            l, j = (int(k) for k in key[6:-1].split("]["))
            name = f"z{l}_{j}"
        else:
            continue
        expected = reference.direct(name)
        for point in points:
            assert close(reference.mapped(step.value, point), value_at(expected, point)), (step.key, point)
        checked += 1
    parameters = sum(a * b + b for a, b in zip(sizes, sizes[1:]))
    assert checked == 2 * (parameters + sum(sizes[1:]))  # every gradient and delta, directly and by the recursion


@pytest.mark.parametrize("notation, offset", [("matrix", "bias"), ("matrix", "threshold"), ("textbook", "bias")])
def test_other_notations_and_offsets_agree_with_sympy_here(notation, offset):
    sizes, activations = (2, 2, 1), ["tanh", "sigmoid"]
    solution = solved(problem_text(sizes, activations, notation, offset))
    reference = Reference(sizes, activations, notation, offset)
    point = reference.random_point(random.Random(7))
    letter = "theta" if offset == "threshold" else "b"
    for l in (1, 2):
        for j in range(1, sizes[l] + 1):
            expected = value_at(reference.direct(f"{letter}{l}_{j}"), point)
            for key in (f"grad_{letter}[{l}][{j}]", f"recursion.grad_{letter}[{l}][{j}]"):
                assert close(reference.mapped(solution[key].value, point), expected), key
            for i in range(1, sizes[l - 1] + 1):
                name = f"W{l}_{j}{i}" if notation == "matrix" else f"w{l}_{i}{j}"
                expected = value_at(reference.direct(name), point)
                assert close(reference.mapped(solution[f"grad_w[{l}][{i}][{j}]"].value, point), expected)


def test_cross_entropy_with_a_sigmoid_output_gives_the_plain_error():
    # d/dz [-(y log σ(z) + (1 - y) log(1 - σ(z)))] = σ(z) - y: the output delta is ŷ - y, nothing more
    solution = solved(problem_text((2, 1), ["sigmoid"], loss="binary_cross_entropy"))
    yhat, y = sympy.symbols("yhat y")
    for key in ("delta[1][1]", "recursion.delta[1][1]"):
        value = solution[key].value.xreplace({s: sympy.Symbol(s.name) for s in solution[key].value.free_symbols})
        assert sympy.expand(value - (yhat - y)) == 0
    reference = Reference((2, 1), ["sigmoid"], loss="binary_cross_entropy")
    point = reference.random_point(random.Random(3))
    expected = value_at(reference.direct("w1_21"), point)
    assert close(reference.mapped(solution["grad_w[1][2][1]"].value, point), expected)


# -- finite differences ------------------------------------------------------------------------

def forward_loss(sizes, activations, weights, offsets, x, y, offset="threshold"):
    """E = 1/2 Σ (ŷ - y)^2 by a plain forward pass; weights[(l, i, j)] from i to j."""
    functions = {"sigmoid": lambda v: 1 / (1 + math.exp(-v)), "tanh": math.tanh}
    h = list(x)
    for l in range(1, len(sizes)):
        sign = -1 if offset == "threshold" else 1
        h = [functions[activations[l - 1]](sum(h[i - 1] * weights[l, i, j] for i in range(1, sizes[l - 1] + 1))
                                           + sign * offsets[l, j]) for j in range(1, sizes[l] + 1)]
    return 0.5 * sum((a - b) ** 2 for a, b in zip(h, y))


def central_difference(loss, parameters, key, step=1e-6):
    up, down = dict(parameters), dict(parameters)
    up[key] += step
    down[key] -= step
    return (loss(up) - loss(down)) / (2 * step)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_derived_gradients_match_finite_differences_at_random_points(seed):
    sizes, activations = (2, 2, 2), ["tanh", "sigmoid"]
    solution = solved(problem_text(sizes, activations))
    rng = random.Random(seed)
    x, y = [rng.uniform(-1, 1) for _ in range(2)], [rng.uniform(0, 1) for _ in range(2)]
    weights = {(l, i, j): rng.uniform(-1, 1) for l in (1, 2) for i in (1, 2) for j in (1, 2)}
    offsets = {(l, j): rng.uniform(-1, 1) for l in (1, 2) for j in (1, 2)}
    parameters = {("w",) + k: v for k, v in weights.items()} | {("theta",) + k: v for k, v in offsets.items()}

    def loss(p):
        return forward_loss(sizes, activations, {k[1:]: v for k, v in p.items() if k[0] == "w"},
                            {k[1:]: v for k, v in p.items() if k[0] == "theta"}, x, y)

    # the layer quantities the derived expressions are written in, by the same plain forward pass
    values = {f"x{i}": x[i - 1] for i in (1, 2)} | {f"y{j}": y[j - 1] for j in (1, 2)}
    values |= {f"w{l}_{i}{j}": v for (l, i, j), v in weights.items()}
    values |= {f"theta{l}_{j}": v for (l, j), v in offsets.items()}
    h = x
    for l, f in ((1, math.tanh), (2, lambda v: 1 / (1 + math.exp(-v)))):
        z = [sum(h[i - 1] * weights[l, i, j] for i in (1, 2)) - offsets[l, j] for j in (1, 2)]
        h = [f(v) for v in z]
        for j in (1, 2):
            values[f"z{l}_{j}"] = z[j - 1]
            values[f"h{l}_{j}" if l == 1 else f"yhat{j}"] = h[j - 1]
    for key, parameter in [(f"grad_w[{l}][{i}][{j}]", ("w", l, i, j)) for (l, i, j) in weights] + \
                          [(f"grad_theta[{l}][{j}]", ("theta", l, j)) for (l, j) in offsets]:
        for prefix in ("", "recursion."):
            expression = solution[prefix + key].value
            derived = float(expression.evalf(subs={s: values[s.name] for s in expression.free_symbols}))
            assert derived == pytest.approx(central_difference(loss, parameters, parameter), rel=1e-6, abs=1e-9), key


@pytest.mark.parametrize("name", ["lecture-bp-derivation", "bp-derivation-matrix", "bp-derivation-textbook"])
def test_the_bundled_points_match_finite_differences(name):
    data = yaml.safe_load((PROBLEMS / f"{name}.yaml").read_text(encoding="utf-8"))
    sizes, point = data["sizes"], data["point"]
    activations = data["activations"] if isinstance(data["activations"], list) else [data["activations"]] * (len(sizes) - 1)
    offset = data.get("offset", "threshold")
    offset_field = "thresholds" if offset == "threshold" else "biases"
    parameters = {}
    for l, layer in enumerate(point["layers"], start=1):
        for r, row in enumerate(layer["weights"], start=1):
            for c, v in enumerate(row, start=1):
                i, j = (c, r) if data["notation"] == "matrix" else (r, c)  # matrix rows are to-neurons
                parameters["w", l, i, j] = v
        for j, v in enumerate(layer.get(offset_field, [0] * sizes[l]), start=1):
            parameters["o", l, j] = v

    def loss(p):
        return forward_loss(sizes, activations, {k[1:]: v for k, v in p.items() if k[0] == "w"},
                            {k[1:]: v for k, v in p.items() if k[0] == "o"}, point["x"], point["y"], offset)

    values = load_problem(PROBLEMS / f"{name}.yaml").solve().values()
    assert values["at.loss"] == pytest.approx(loss(parameters), rel=1e-12)
    letter = "theta" if offset == "threshold" else "b"
    for key in parameters:
        step = f"at.grad_w[{key[1]}][{key[2]}][{key[3]}]" if key[0] == "w" else f"at.grad_{letter}[{key[1]}][{key[2]}]"
        assert values[step] == pytest.approx(central_difference(loss, parameters, key), rel=1e-6, abs=1e-9), step


# -- the sign of the threshold gradient -----------------------------------------------------------

def plain(expression):
    return expression.xreplace({s: sympy.Symbol(s.name) for s in expression.free_symbols})


@pytest.mark.parametrize("offset, sign", [("threshold", -1), ("bias", 1)])
def test_the_offset_gradient_is_minus_delta_for_a_threshold_and_delta_for_a_bias(offset, sign):
    solution = solved(problem_text((2, 2, 1), ["sigmoid", "sigmoid"], offset=offset))
    letter = "theta" if offset == "threshold" else "b"
    rule = plain(solution[f"rule.grad_{letter}"].value)
    assert rule == sign * sympy.Symbol("deltal_j")  # the BP lecture's textbook notation: dE/dθ = -δ; with z = Σ + b, dE/db = δ
    for l, j in [(2, 1), (1, 1), (1, 2)]:
        gradient, delta = plain(solution[f"grad_{letter}[{l}][{j}]"].value), plain(solution[f"delta[{l}][{j}]"].value)
        assert sympy.expand(gradient - sign * delta) == 0


def test_the_threshold_gradient_has_the_opposite_sign_of_delta_by_finite_differences():
    values = load_problem(PROBLEMS / "lecture-bp-derivation.yaml").solve().values()
    data = yaml.safe_load((PROBLEMS / "lecture-bp-derivation.yaml").read_text(encoding="utf-8"))
    point = data["point"]
    parameters = {("w", l, i, j): v for l, layer in enumerate(point["layers"], start=1)
                  for i, row in enumerate(layer["weights"], start=1) for j, v in enumerate(row, start=1)}
    parameters |= {("theta", l, j): v for l, layer in enumerate(point["layers"], start=1)
                   for j, v in enumerate(layer["thresholds"], start=1)}

    def loss(p):
        return forward_loss((2, 2, 2), ["sigmoid", "sigmoid"], {k[1:]: v for k, v in p.items() if k[0] == "w"},
                            {k[1:]: v for k, v in p.items() if k[0] == "theta"}, point["x"], point["y"])

    for l, j in [(2, 1), (2, 2), (1, 1), (1, 2)]:
        slope = central_difference(loss, parameters, ("theta", l, j))
        delta = values[f"at.delta[{l}][{j}]"]
        assert slope == pytest.approx(-delta, rel=1e-6)
        assert abs(slope - delta) > 1e-4  # the pseudo-code's +δ is wrong: these deltas are not 0


@pytest.fixture(scope="module")
def lecture_grader():
    return Grader(load_problem(PROBLEMS / "lecture-bp-derivation.yaml"))


@pytest.mark.parametrize("answer, code", [
    ("-(yhat1 - y1)*yhat1*(1 - yhat1)", "OK"),
    ("(y1 - yhat1)*yhat1*(1 - yhat1)", "OK"),
    ("(yhat1 - y1)*yhat1*(1 - yhat1)", "WRONG"),  # +δ, the lecture's pseudo-code
])
def test_a_threshold_gradient_with_the_wrong_sign_is_marked_wrong(lecture_grader, answer, code):
    sheet = AnswerSheet("sheet.yaml", "student", {"grad_theta[2][1]": read_answer(answer)})
    verdict = next(v for v in lecture_grader.grade(sheet).verdicts if v.key == "grad_theta[2][1]")
    assert verdict.code == code


# -- the lecture's own derivation -------------------------------------------------------------------

def test_the_slide_formulas_for_dL_dw_hj_and_dL_dv_ih():
    """The BP lecture: dL/dw_hj = (ŷ_j - y_j) f(β_j)(1 - f(β_j)) α_h and
    dL/dv_ih = Σ_j (ŷ_j - y_j) f(β_j)(1 - f(β_j)) w_hj f(γ_h)(1 - f(γ_h)) x^i, with f(β_j) = ŷ_j, f(γ_h) = α_h."""
    solution = load_problem(PROBLEMS / "lecture-bp-derivation.yaml").solve()
    S = sympy.Symbol
    yhat, y, alpha, x = ({j: S(f"{name}{j}") for j in (1, 2)} for name in ("yhat", "y", "alpha", "x"))
    w = {(h, j): S(f"w{h}{j}") for h in (1, 2) for j in (1, 2)}
    for h in (1, 2):
        for j in (1, 2):
            slide = (yhat[j] - y[j]) * yhat[j] * (1 - yhat[j]) * alpha[h]
            for key in (f"grad_w[2][{h}][{j}]", f"recursion.grad_w[2][{h}][{j}]"):
                assert sympy.expand(plain(solution[key].value) - slide) == 0, key
    for i in (1, 2):
        for h in (1, 2):
            slide = sum((yhat[j] - y[j]) * yhat[j] * (1 - yhat[j]) * w[h, j] * alpha[h] * (1 - alpha[h]) * x[i]
                        for j in (1, 2))
            for key in (f"grad_w[1][{i}][{h}]", f"recursion.grad_w[1][{i}][{h}]"):
                assert sympy.expand(plain(solution[key].value) - slide) == 0, key


def test_the_lecture_problem_has_every_stable_key():
    keys = [step.key for step in load_problem(PROBLEMS / "lecture-bp-derivation.yaml").solve()]
    rules = ["rule.delta_output", "rule.delta_hidden", "rule.grad_w[2]", "rule.grad_theta[2]",
             "rule.grad_w[1]", "rule.grad_theta[1]"]
    assert keys[:2] == ["fprime[1]", "loss"] and keys[2:8] == rules
    deltas = [f"{p}delta[{l}][{j}]" for l in (2, 1) for j in (1, 2) for p in ("", "recursion.")]
    assert keys[8:16] == deltas
    for l in (1, 2):
        for a in (1, 2):
            for b in (1, 2):
                assert f"grad_w[{l}][{a}][{b}]" in keys and f"recursion.grad_w[{l}][{a}][{b}]" in keys
            assert f"grad_theta[{l}][{a}]" in keys and f"at.delta[{l}][{a}]" in keys
    assert keys[-1] == "at.grad_theta[1][2]"


def test_the_matrix_notation_prints_the_vector_forms():
    solution = load_problem(PROBLEMS / "bp-derivation-matrix.yaml").solve()
    text = render(solution, "text")
    assert "  e⁽¹⁾ = f′₁(z⁽¹⁾) ⊙ (W⁽²⁾ᵀ e⁽²⁾) = [[(e⁽²⁾₁ W⁽²⁾₁₁ + e⁽²⁾₂ W⁽²⁾₂₁) (1 - a⁽¹⁾₁^2)], " in text
    assert "  ∂L/∂W⁽¹⁾ = e⁽¹⁾ xᵀ = [[e⁽¹⁾₁ x₁, e⁽¹⁾₁ x₂], [e⁽¹⁾₂ x₁, e⁽¹⁾₂ x₂]]" in text
    latex = render(solution, "latex")
    assert r"e^{(1)} &= f'_{1}\left(z^{(1)}\right) \odot \left({W^{(2)}}^{\top} e^{(2)}\right)" in latex
    assert r"\frac{\partial \mathcal{L}}{\partial b^{(2)}} &= e^{(2)}" in latex


@pytest.mark.parametrize("format_, suffix", [("text", "txt"), ("latex", "tex")])
def test_the_printed_lecture_derivation_matches_golden(runner, golden, format_, suffix):
    result = runner.invoke(cli, ["solve", str(PROBLEMS / "lecture-bp-derivation.yaml"), "--format", format_])
    assert result.exit_code == 0, result.output
    golden(f"backprop-derivation-lecture.{suffix}", result.output)


# -- bad input: one line, file:line: field: what was expected ----------------------------------------

BAD = [
    ("sizes: [2, 2, 2, 2, 2]\n", "2: sizes: expected 2 to 4 layer sizes (input first), got 5"),
    ("sizes: [2, 4]\n", "2: sizes[1]: expected a whole number <= 3, got 4"),
    ("sizes: [3, 3, 3, 3]\n", "2: sizes: network too large to derive symbolically (36 weights and offsets; at most 32)"),
    ("notation: lecture\nsizes: [2, 2, 2, 2]\n",
     "3: sizes: the lecture notation has two weight layers (v, w): expected 3 sizes, got 4"),
    ("notation: matrx\nsizes: [2, 1]\n",
     "2: notation: expected one of textbook, lecture, matrix, got text 'matrx' (did you mean 'matrix'?)"),
    ("sizes: [2, 2, 1]\nactivations: [sigmoid]\n", "3: activations: expected a list of 2, got 1"),
    ("sizes: [2, 2, 1]\nactivations: [sigmoid, softmax]\n",
     "3: activations[1]: softmax is not applied neuron by neuron; use an elementwise activation or generic"),
    ("sizes: [2, 1]\nactivations: sigmod\n",
     "3: activations: expected sigmoid, tanh, relu, linear, softplus, softmax, elu, leaky_relu, selu, gelu, "
     "gelu_tanh, mish or an expression in x, "
     "got 'sigmod' (did you mean 'sigmoid'?)"),
    ("sizes: [2, 1]\nactivations: exp(y)\n", "3: activations: unknown name 'y'; variables allowed here: x"),
    ("sizes: [2, 1]\noffset: thresholds\n",
     "3: offset: expected one of threshold, bias, got text 'thresholds' (did you mean 'threshold'?)"),
    ("sizes: [2, 1]\nlayers: 3\n", "3: layers: unknown field; expected one of activations, constraints, grading, "
                                   "id, kind, lecture, loss, notation, notes, offset, point, random, rounding, sizes, source, "
                                   "title, variant_of"),
    ("sizes: [2, 1]\npoint:\n  x: [1, 2]\n  y: [1]\n  layers:\n    - weights: [[1], [2]]\n",
     "4: point: a point needs every activation given; layer 1's is generic"),
    ("sizes: [2, 1]\nactivations: sigmoid\npoint:\n  x: [1, 2]\n  y: [1]\n  layers:\n    - weights: [[1, 2]]\n",
     "8: point.layers[0].weights: expected a 2x1 matrix (rows = the 2 neurons of layer 0), got 1x2"),
    ("sizes: [2, 1]\nactivations: sigmoid\npoint:\n  x: [1, 2]\n  y: [1]\n  layers:\n"
     "    - weights: [[1], [2]]\n      biases: [0]\n",
     "9: point.layers[0].biases: this problem uses thresholds (offset: threshold); write thresholds: "
     "or set offset: bias"),
    ("sizes: [2, 1]\nactivations: sigmoid\nloss: binary_cross_entropy\npoint:\n  x: [1, 2]\n  y: [2]\n"
     "  layers:\n    - weights: [[1], [2]]\n",
     "7: point.y: expected targets between 0 and 1 for binary_cross_entropy"),
]


@pytest.mark.parametrize("body, message", BAD, ids=[message.split(": ")[1] + str(n) for n, (_, message) in
                                                    enumerate(BAD)])
def test_bad_input_is_one_line_naming_file_line_and_field(runner, tmp_path, body, message):
    path = tmp_path / "bad.yaml"
    path.write_text("kind: backprop_derivation\n" + body, encoding="utf-8")
    result = runner.invoke(cli, ["solve", str(path)])
    assert result.exit_code == 2
    assert result.output == f"{path}:{message}\n"


def test_symbolic_work_that_runs_too_long_ends_with_one_line(runner, tmp_path, monkeypatch):
    from derive.kinds import backprop_derivation

    monkeypatch.setattr(backprop_derivation, "SECONDS", 0.001)
    path = tmp_path / "slow.yaml"
    path.write_text("kind: backprop_derivation\nsizes: [2, 2, 1]\n", encoding="utf-8")
    result = runner.invoke(cli, ["solve", str(path)])
    assert result.exit_code == 2
    assert result.output == f"{path}:2: sizes: deriving the back-propagation recursion took longer than 0.001 s\n"


# -- the JSON Schema refuses what derive refuses ---------------------------------------

def setting(name, value):
    return lambda data: data.__setitem__(name, value)


def with_biases(data):
    """A layer of the point with biases too, though the problem uses thresholds."""
    data["point"]["layers"][0]["biases"] = [0, 0]


# how lecture-bp-derivation is broken, and the field derive names when it refuses it
SCHEMA_REFUSED = [
    (setting("points", {}), "points"),  # an unknown field
    (setting("notation", "lectures"), "notation"),
    (setting("sizes", [2, 4, 2]), "sizes[1]"),
    (setting("activations", "softmax"), "activations"),
    (with_biases, "point.layers[0].biases"),
]


@pytest.mark.parametrize("change, named", SCHEMA_REFUSED, ids=[named for _, named in SCHEMA_REFUSED])
def test_the_schema_refuses_what_derive_refuses(tmp_path, change, named):
    data = yaml.safe_load((PROBLEMS / "lecture-bp-derivation.yaml").read_text(encoding="utf-8"))
    change(data)
    assert list(jsonschema.Draft202012Validator(schema("backprop_derivation")).iter_errors(data)), \
        "the schema accepted it"
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    with pytest.raises(ProblemError, match=re.escape(f": {named}: ")):
        load_problem(path)
