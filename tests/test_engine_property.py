"""The step-by-step mlp_backprop solver against the numpy engine and finite differences.

Two independent implementations must agree on every step of random
problems (every activation, loss, layout, offset convention, batch mode,
update subset), and every first-iteration gradient must match a central
finite difference of the engine's loss: micrograd's habit of testing an
engine against an oracle, with three oracles instead of one.
"""

import math
import re
import sys
from pathlib import Path

import numpy as np
import pytest
import sympy
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from derive.engine import Parameters, engine_values, forward_pass, given_parameters, run_mlp
from derive.engine.functions import activation_op
from derive.problem import load_problem
from derive.steps import EXACT
from derive.symbolic.activations import X

PROBLEMS = Path(__file__).parent.parent / "derive" / "problems"

ELEMENTWISE = ("sigmoid", "tanh", "relu", "linear", "softplus")
CUSTOM = ("max(0.1*x, x)", "x**2/2 + x", "x*sigmoid(x)")
HIDDEN = ELEMENTWISE + CUSTOM
KINKS = {"relu": 0.0, "max(0.1*x, x)": 0.0, "max(1, x)": 1.0}  # activation -> where f' jumps
LOSSES = ("half_squared_error", "mean_squared_error", "cross_entropy", "binary_cross_entropy")

SAME = dict(rel_tol=1e-9, abs_tol=1e-9)  # two float implementations of one formula
FD_EPS = 1e-6
FD_CLOSE = dict(rel_tol=1e-5, abs_tol=1e-5)
KINK_MARGIN = 1e-3
SATURATION = 1e-4  # a sigmoid output closer than this to 1 leaves log(1 - yhat) too few digits for FD
LARGEST_Z = 100  # beyond this, chained x**2/2 + x layers lose the digits the tolerances need


# -- building problem files -----------------------------------------------------

def mlp_problem(sizes, activations, weights, offsets, samples, *, layout="from_to", offset="threshold", **fields):
    """The data of an mlp_backprop problem file; `weights` are from-to, transposed here for to_from."""
    offsets_field = "thresholds" if offset == "threshold" else "biases"
    layers = []
    for activation, matrix, vector in zip(activations, weights, offsets):
        stored = [list(row) for row in (zip(*matrix) if layout == "to_from" else matrix)]
        layers.append({"activation": activation, "weights": stored, offsets_field: list(vector)})
    data = {"kind": "mlp_backprop", "rounding": "exact", "sizes": list(sizes), "weights_layout": layout,
            "offset": offset, "layers": layers, "samples": [dict(s) for s in samples]}
    data.update(fields)
    return data


def load(tmp_path, data):
    path = tmp_path / "problem.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return load_problem(path)


def normal_floats(low, high):
    """Floats from low to high, none subnormal (as allow_subnormal=False, which needs hypothesis 6.30)."""
    return st.floats(low, high).filter(lambda v: v == 0 or abs(v) >= sys.float_info.min)


moderate_numbers = normal_floats(-2, 2)


def vectors(n, elements=moderate_numbers):
    return st.lists(elements, min_size=n, max_size=n)


@st.composite
def probabilities(draw, n):
    """Cross-entropy targets: non-negative, summing to 1 (within the reader's 1e-9), zeros allowed."""
    weights = draw(vectors(n, normal_floats(0, 1)))
    weights[draw(st.integers(0, n - 1))] += 1  # one likely class keeps the sum away from 0
    return [w / sum(weights) for w in weights]


@st.composite
def mlp_problems(draw):
    """(problem data, from-to weights) of a random mlp_backprop problem the reader accepts."""
    depth = draw(st.integers(1, 4))
    sizes = draw(st.lists(st.integers(1, 4), min_size=depth + 1, max_size=depth + 1))
    forward_only = draw(st.sampled_from((False, False, True)))  # training twice as often
    loss = draw(st.sampled_from(LOSSES))
    output = {"cross_entropy": st.just("softmax"), "binary_cross_entropy": st.just("sigmoid")}.get(
        loss, st.sampled_from(HIDDEN + ("softmax",)))
    activations = [draw(st.sampled_from(HIDDEN)) for _ in range(depth - 1)] + [draw(output)]
    weights = [draw(st.lists(vectors(sizes[l]), min_size=sizes[l - 1], max_size=sizes[l - 1]))
               for l in range(1, depth + 1)]
    offsets = [draw(vectors(n)) for n in sizes[1:]]
    targets = {"cross_entropy": probabilities(sizes[-1]),
               "binary_cross_entropy": vectors(sizes[-1], normal_floats(0, 1))
               }.get(loss, vectors(sizes[-1]))
    samples = []
    for _ in range(draw(st.integers(1, 3))):
        sample = {"x": draw(vectors(sizes[0]))}
        if not forward_only:
            sample["y"] = draw(targets)
        samples.append(sample)
    offset = draw(st.sampled_from(("threshold", "bias")))
    offsets_field = "thresholds" if offset == "threshold" else "biases"
    fields = {}
    if not forward_only:
        fields = {"loss": loss, "batch": draw(st.sampled_from(("sum", "mean"))),
                  "learning_rate": draw(st.floats(0.05, 1)), "iterations": draw(st.integers(1, 2)),
                  "weight_decay": draw(st.just(0) | st.floats(0.01, 0.5)),
                  "l1": draw(st.just(0) | st.floats(0.01, 0.3)),
                  "loss_after": draw(st.booleans())}
        update = draw(st.sampled_from((None, [], ["weights"], [offsets_field], ["weights", offsets_field])))
        if update is not None:
            fields["update"] = update
        if (fields["weight_decay"] or fields["l1"]) and (update is None or offsets_field in update):
            fields["decay_offsets"] = draw(st.booleans())
    one_variable = [l for l, name in enumerate(activations, start=1) if name != "softmax"]
    fields["derivatives"] = draw(st.lists(st.sampled_from(one_variable), max_size=2, unique=True)
                                 if one_variable else st.just([]))
    layout = draw(st.sampled_from(("from_to", "to_from")))
    data = mlp_problem(sizes, activations, weights, offsets, samples, layout=layout, offset=offset, **fields)
    return data, weights


# -- the checks -----------------------------------------------------------------

def l1_near_zero(spec, run):
    """Whether L1's sign(w) meets a parameter within 1e-9 of 0 after an update that a later iteration
    starts from: there the two implementations' last-bit differences may pick different subgradients
    (one lands on exactly 0, the other on 1e-17). A parameter at 0 is in the hand-picked problems."""
    if not spec.l1:
        return False
    return any(np.any(np.abs(array) < 1e-9)
               for iteration in run.iterations[:-1]
               for array in iteration.updated.weights + iteration.updated.offsets)


def kinked_z(spec, run, margin):
    """Whether some z of a kinked activation lies within `margin` of its kink in a pass that back-propagates."""
    for iteration in run.iterations:
        for layer, z in zip(spec.layers, iteration.forward.z):
            kink = KINKS.get(layer.activation.name)
            if kink is not None and np.any(np.abs(z - kink) <= margin):
                return True
    return False


def saturated_output(spec, run):
    """Whether a binary cross-entropy output is so close to 1 that its loss loses the digits FD needs."""
    return spec.loss == "binary_cross_entropy" and any(
        np.any(1 - iteration.forward.yhat < SATURATION) for iteration in run.iterations)


def largest_z(run):
    """The largest |z| of any pass of a run."""
    passes = [run.forward, *(iteration.forward for iteration in run.iterations)]
    if run.after is not None:
        passes.append(run.after)
    return max(float(np.abs(z).max()) for forward in passes for z in forward.z)


def check_against_engine(solution, spec):
    """Every computed number equals the engine's value under the same key, and no key is missing on either side.

    Steps whose value is an expression (`fprime[l]`) are checked by
    check_activation_derivatives instead.
    """
    computed = {step.key: step.value for step in solution if not step.is_given and isinstance(step.value, float)}
    expected = engine_values(spec)
    assert computed.keys() == expected.keys()
    differ = {key: (value, expected[key]) for key, value in computed.items()
              if not (math.isclose(value, expected[key], **SAME)
                      or (math.isnan(value) and math.isnan(expected[key])))}  # both not a number (inf - inf)
    assert not differ, f"solver vs engine: {differ}"


DERIVATIVE_POINTS = np.array([[-2.7, -1.3, -0.4, 0.3, 0.8, 1.6, 3.1]])  # away from every kink


def check_activation_derivatives(solution, spec):
    """Each `fprime[l]` expression equals the engine's f'_l (numpy's own for the named activations)."""
    for l in spec.derivatives:
        expression = solution[f"fprime[{l}]"].value
        stated = sympy.lambdify(X, expression, "numpy")(DERIVATIVE_POINTS) + np.zeros_like(DERIVATIVE_POINTS)
        op = activation_op(spec.layers[l - 1].activation)
        h = op.forward(DERIVATIVE_POINTS)
        engine = op.backward(DERIVATIVE_POINTS, h, np.ones_like(h))
        np.testing.assert_allclose(stated, engine, rtol=1e-12, atol=1e-12, err_msg=f"fprime[{l}] = {expression}")


GRADIENT_KEY = re.compile(r"grad_(w|theta|b)((?:\[\d+\])+)")


def perturbed(params, name, layer, index, delta):
    """`params` with one weight (name 'w') or offset moved by `delta`."""
    weights, offsets = [w.copy() for w in params.weights], [b.copy() for b in params.offsets]
    (weights if name == "w" else offsets)[layer - 1][index] += delta
    return Parameters(tuple(weights), tuple(offsets))


def check_gradients_by_finite_differences(solution, spec):
    """Every first-iteration gradient step against a central difference of the engine's loss.

    A batch gradient is the derivative of the batch loss; a per-sample one
    (sample index first) of that sample's loss.
    """
    params = given_parameters(spec)
    prefix = "it1." if spec.iterations > 1 else ""
    several = len(spec.samples) > 1
    checked = 0
    for step in solution:
        match = GRADIENT_KEY.fullmatch(step.key[len(prefix):]) if step.key.startswith(prefix) else None
        if match is None:
            continue
        name, indices = match.group(1), [int(i) for i in re.findall(r"\d+", match.group(2))]
        sample = indices.pop(0) if several and len(indices) == (4 if name == "w" else 3) else None
        layer, index = indices[0], tuple(i - 1 for i in indices[1:])

        def loss(delta):
            moved = forward_pass(spec, perturbed(params, name, layer, index, delta))
            return moved.loss if sample is None else moved.sample_losses[sample - 1]

        slope = (loss(FD_EPS) - loss(-FD_EPS)) / (2 * FD_EPS)
        assert math.isclose(step.value, slope, **FD_CLOSE), f"{step.key}: solver {step.value}, finite difference {slope}"
        checked += 1
    return checked


def check_problem(problem):
    """Solve exactly, compare with the engine, and (away from kinks) with finite differences."""
    spec = problem.spec
    solution = problem.solve(EXACT)
    check_against_engine(solution, spec)
    check_activation_derivatives(solution, spec)
    run = run_mlp(spec)
    if spec.forward_only or kinked_z(spec, run, KINK_MARGIN) or saturated_output(spec, run):
        return
    assert check_gradients_by_finite_differences(solution, spec) > 0


# -- random problems ------------------------------------------------------------

# an extreme draw may overflow exp() in the engine before largest_z rejects it
@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(mlp_problems())
def test_solver_matches_engine_and_finite_differences(tmp_path, drawn):
    data, weights = drawn
    problem = load(tmp_path, data)  # one file, rewritten for every example
    spec = problem.spec
    run = run_mlp(spec)
    assume(largest_z(run) <= LARGEST_Z)  # beyond it exp() overflows: not a meaningful example
    assume(not l1_near_zero(spec, run))
    for given_matrix, read_matrix in zip(weights, given_parameters(spec).weights):
        assert np.array_equal(read_matrix, np.array(given_matrix, dtype=float))  # w[l][i][j] is from-to
    check_problem(problem)


# -- hand-picked problems -----------------------------------------------------

TWO_SAMPLES = [{"x": [0.5, -1.0], "y": [0.2, 0.8]}, {"x": [-0.3, 0.7], "y": [0.9, 0.1]}]
W_2_3_2 = [[[0.1, -0.4, 0.3], [0.6, 0.2, -0.5]], [[0.3, -0.2], [-0.6, 0.5], [0.4, 0.1]]]
OFFSETS_3_2 = [[0.1, -0.2, 0.05], [0.3, -0.1]]
TRAIN = {"learning_rate": 0.5}

HAND_PICKED = {
    "softmax + half squared error": mlp_problem(
        (2, 3, 2), ("tanh", "softmax"), W_2_3_2, OFFSETS_3_2, TWO_SAMPLES,
        loss="half_squared_error", **TRAIN),
    "softmax + cross entropy, biases, mean": mlp_problem(
        (2, 3, 2), ("relu", "softmax"), W_2_3_2, OFFSETS_3_2, TWO_SAMPLES,
        offset="bias", loss="cross_entropy", batch="mean", loss_after=True, **TRAIN),
    "sigmoid + binary cross entropy, to_from": mlp_problem(
        (2, 3, 2), ("softplus", "sigmoid"), W_2_3_2, OFFSETS_3_2, TWO_SAMPLES,
        layout="to_from", loss="binary_cross_entropy", iterations=2, loss_after=True, derivatives=[1, 2], **TRAIN),
    "leaky max + mean squared error, decay, two iterations": mlp_problem(
        (2, 3, 2), ("max(0.1*x, x)", "linear"), W_2_3_2, OFFSETS_3_2, TWO_SAMPLES,
        loss="mean_squared_error", weight_decay=0.1, iterations=2, update=["weights"], loss_after=True,
        derivatives=[1], **TRAIN),
    "L1 and L2 on the weights and thresholds, a weight at 0": mlp_problem(
        (2, 3, 2), ("sigmoid", "tanh"), [[[0.5, 0, -1], [1, 0.25, 0.5]], [[1, -1], [0.5, 0.5], [-0.5, 1]]],
        OFFSETS_3_2, TWO_SAMPLES, weight_decay=0.1, l1=0.05, decay_offsets=True, iterations=2, loss_after=True,
        **TRAIN),
    "custom polynomial, offsets only": mlp_problem(
        (2, 3, 2), ("x**2/2 + x", "tanh"), W_2_3_2, OFFSETS_3_2, TWO_SAMPLES[:1],
        offset="bias", update=["biases"], batch="mean", derivatives=[2, 1], **TRAIN),
    "single neurons, nothing updated": mlp_problem(
        (1, 1), ("sigmoid",), [[[0.7]]], [[0.2]], [{"x": [1.5], "y": [0.25]}],
        update=[], loss_after=True, **TRAIN),
}


@pytest.mark.parametrize("data", HAND_PICKED.values(), ids=HAND_PICKED.keys())
def test_hand_picked_problem(tmp_path, data):
    check_problem(load(tmp_path, data))


@pytest.mark.parametrize("name", ["lecture-bp-3layer", "lecture-forward"])
def test_bundled_problem(name):
    check_problem(load_problem(PROBLEMS / f"{name}.yaml"))


def test_engine_reproduces_the_lecture_exact_values():
    """The BP lecture's worked example: the 3-2-2-1 example's exact chain, to 6 decimals."""
    values = engine_values(load_problem(PROBLEMS / "lecture-bp-3layer.yaml").spec)
    published = {
        "z[1][1]": 2, "z[1][2]": 1.5, "h[1][1]": 2, "h[1][2]": 1.5,
        "z[2][1]": 3.8, "z[2][2]": 2.6, "h[2][1]": 0.978119, "h[2][2]": 0.930862,
        "z[3][1]": 1.443550, "yhat[1]": 0.809004, "delta[3][1]": -0.026422,
        "delta[2][1]": -0.000565, "delta[2][2]": -0.000850,
        "delta[1][1]": -0.001161, "delta[1][2]": -0.001359,
    }
    assert {key: round(values[key], 6) for key in published} == published


# -- known solver discrepancies -------------------------------------------------

# At a kink the derivative is the subgradient 0 (SymPy's Heaviside(0) is 1/2
# unless told otherwise): delta[1][1] must be 0, as the engine has it.
RELU_AT_KINK = mlp_problem(
    (1, 1, 1), ("relu", "linear"), [[[1]], [[1]]], [[0], [0]], [{"x": [0], "y": [1]}],
    loss="half_squared_error", learning_rate=1)


def test_solver_relu_derivative_at_kink(tmp_path):
    problem = load(tmp_path, RELU_AT_KINK)
    assert problem.solve(EXACT)["delta[1][1]"].value == engine_values(problem.spec)["delta[1][1]"] == 0.0


# softplus(800) = 800: log(1 + exp(z)) must not overflow for z > 709.78
# (the engine uses numpy's logaddexp).
SOFTPLUS_AT_800 = mlp_problem((1, 1), ("softplus",), [[[1]]], [[0]], [{"x": [800]}])


def test_solver_softplus_of_a_large_z(tmp_path):
    problem = load(tmp_path, SOFTPLUS_AT_800)
    assert problem.solve(EXACT)["yhat[1]"].value == engine_values(problem.spec)["yhat[1]"] == 800.0
