"""The activations by name (elu, leaky_relu, selu, gelu, gelu_tanh, mish): held to plain math written here,
to finite differences, to the numpy engine, and (where torch is importable) to torch.nn.functional."""

import math

import numpy as np
import pytest
import sympy

from derive.engine.functions import ELEMENTWISE
from derive.expr import parse_expression
from derive.problem import load_problem
from derive.steps import evaluate_formula
from derive.symbolic.activations import X, activation

SELU_LAMBDA, SELU_ALPHA = 1.0507009873554805, 1.6732632423543772


def softplus(x):
    return math.log1p(math.exp(x))


# name -> (f, f') in plain math, with the standard parameters; f' at 0 is the left piece's slope where they differ
PLAIN = {
    "elu": (lambda x: x if x > 0 else math.exp(x) - 1, lambda x: 1.0 if x > 0 else math.exp(x)),
    "leaky_relu": (lambda x: x if x > 0 else 0.01 * x, lambda x: 1.0 if x > 0 else 0.01),
    "selu": (lambda x: SELU_LAMBDA * (x if x > 0 else SELU_ALPHA * (math.exp(x) - 1)),
             lambda x: SELU_LAMBDA * (1.0 if x > 0 else SELU_ALPHA * math.exp(x))),
    "gelu": (lambda x: x * 0.5 * (1 + math.erf(x / math.sqrt(2))),
             lambda x: 0.5 * (1 + math.erf(x / math.sqrt(2))) + x * math.exp(-x * x / 2) / math.sqrt(2 * math.pi)),
    "gelu_tanh": (lambda x: 0.5 * x * (1 + math.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3))), None),
    "mish": (lambda x: x * math.tanh(softplus(x)), None),
}
POINTS = [-3.0, -1.0, -0.25, 0.0, 0.3, 1.0, 2.5]
SMOOTH_POINTS = [p for p in POINTS if p != 0.0]  # away from the kink of elu, leaky_relu and selu


def finite_difference(f, x, h=1e-6):
    return (f(x + h) - f(x - h)) / (2 * h)


def value(expression, x):
    return evaluate_formula(expression, {X.name: x})


@pytest.mark.parametrize("name", PLAIN)
@pytest.mark.parametrize("x", POINTS)
def test_the_formula_is_the_textbook_one(name, x):
    f = PLAIN[name][0]
    assert value(activation(name).expression, x) == pytest.approx(f(x), rel=1e-12, abs=1e-15)


@pytest.mark.parametrize("name", PLAIN)
@pytest.mark.parametrize("x", SMOOTH_POINTS)
def test_the_derivative_is_the_finite_difference(name, x):
    f, slope = PLAIN[name]
    derivative = value(activation(name).derivative, x)
    assert derivative == pytest.approx(finite_difference(f, x), rel=1e-6, abs=1e-8)
    if slope is not None:
        assert derivative == pytest.approx(slope(x), rel=1e-12)


@pytest.mark.parametrize("name, expected", [("elu", 1.0), ("leaky_relu", 0.01), ("selu", SELU_LAMBDA * SELU_ALPHA),
                                            ("gelu", 0.5), ("gelu_tanh", 0.5), ("mish", math.tanh(math.log(2)))])
def test_the_slope_at_0(name, expected):
    f = PLAIN[name][0]
    left = (f(0.0) - f(-1e-7)) / 1e-7
    assert value(activation(name).derivative, 0.0) == pytest.approx(expected, rel=1e-12)
    assert expected == pytest.approx(left, rel=1e-5)  # the left one-sided slope (ELU: both sides are 1)


@pytest.mark.parametrize("name", PLAIN)
def test_the_engine_agrees_with_plain_math(name):
    f, slope = PLAIN[name]
    forward, derivative = ELEMENTWISE[name]
    z = np.array([POINTS])
    assert forward(z)[0] == pytest.approx([f(x) for x in POINTS], rel=1e-12, abs=1e-15)
    expected = [slope(x) if slope else finite_difference(f, x) for x in POINTS]
    assert derivative(z)[0] == pytest.approx(expected, rel=1e-6, abs=1e-8)


@pytest.mark.parametrize("text, f", [
    ("elu(x, 0.5)", lambda x: x if x > 0 else 0.5 * (math.exp(x) - 1)),
    ("leaky_relu(x, 0.2)", lambda x: x if x > 0 else 0.2 * x),
    ("selu(x, 2, 0.5)", lambda x: 2 * (x if x > 0 else 0.5 * (math.exp(x) - 1))),
    ("x + gelu(x)", lambda x: x + x * 0.5 * (1 + math.erf(x / math.sqrt(2)))),
    ("erf(x)", math.erf),
])
@pytest.mark.parametrize("x", SMOOTH_POINTS)
def test_parameters_and_expressions(text, f, x):
    act = activation(text)
    assert value(act.expression, x) == pytest.approx(f(x), rel=1e-12, abs=1e-15)
    assert value(act.derivative, x) == pytest.approx(finite_difference(f, x), rel=1e-6, abs=1e-8)


@pytest.mark.parametrize("text, message", [
    ("elu(x, x)", "elu()'s alpha must be a number, got x"),
    ("leaky_relu(x, 1, 2)", "leaky_relu() takes 1 to 2 argument(s), got 3"),
    ("gelu(x, 1)", "gelu() takes 1 argument(s), got 2"),
    ("mish", None),
])
def test_parameters_fail(text, message):
    if message is None:  # a bare name is an activation, not a failure
        assert activation(text).name == "mish"
        return
    from derive.errors import ExpressionError

    with pytest.raises(ExpressionError) as error:
        parse_expression(text, {"x": X})
    assert str(error.value) == message


NETWORK = """\
kind: mlp_backprop
sizes: [1, 1]
layers:
  - activation: {name}
    weights: [[{w}]]
samples:
  - x: [1.5]
    y: [0.25]
learning_rate: 0.1
"""


@pytest.mark.parametrize("name", PLAIN)
@pytest.mark.parametrize("w", [-0.8, 0.6])
def test_a_network_with_the_activation_has_the_finite_difference_gradient(tmp_path, name, w):
    path = tmp_path / "net.yaml"
    path.write_text(NETWORK.format(name=name, w=w), encoding="utf-8")
    solution = load_problem(str(path)).solve()
    f = PLAIN[name][0]
    loss = lambda weight: 0.5 * (f(1.5 * weight) - 0.25) ** 2
    assert solution["yhat[1]"].value == pytest.approx(f(1.5 * w), rel=1e-12)
    assert solution["grad_w[1][1][1]"].value == pytest.approx(finite_difference(loss, w), rel=1e-6)


def test_the_derivative_kind_knows_the_names():
    from derive.kinds.derivative import read_function

    for name in PLAIN:
        expression, named = read_function(name)
        assert named == name and expression == activation(name).expression
    assert read_function("elu(x)") == (activation("elu").expression, "elu")
    assert sympy.Symbol("x", real=True) == X


torch_functions = {
    "elu": lambda F, z: F.elu(z), "leaky_relu": lambda F, z: F.leaky_relu(z), "selu": lambda F, z: F.selu(z),
    "gelu": lambda F, z: F.gelu(z), "gelu_tanh": lambda F, z: F.gelu(z, approximate="tanh"),
    "mish": lambda F, z: F.mish(z),
}


@pytest.mark.parametrize("name", PLAIN)
def test_torch_agrees(name):
    torch = pytest.importorskip("torch")
    z = torch.tensor([x for x in SMOOTH_POINTS], dtype=torch.float64, requires_grad=True)
    out = torch_functions[name](torch.nn.functional, z)
    out.sum().backward()
    act = activation(name)
    assert [value(act.expression, x) for x in SMOOTH_POINTS] == pytest.approx(out.tolist(), rel=1e-12, abs=1e-15)
    assert [value(act.derivative, x) for x in SMOOTH_POINTS] == pytest.approx(z.grad.tolist(), rel=1e-10)
