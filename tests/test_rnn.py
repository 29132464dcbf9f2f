"""Recurrent networks, `kind: rnn_bptt`: forward over a sequence and back-propagation through time.

Every expected value comes from outside the code under test:

- a plain RNN written in this file (numpy, h^t = σ(U x^t + W h^{t-1}),
  ŷ^t = σ(V h^t), L = Σ_t c Σ_k (ŷ - y)²), with the documented step keys
  rebuilt here from their definition;
- central finite differences of that plain loss, for every gradient, δ, and
  ∂h^t/∂h^{t-1} and ∂h^T/∂h^k step;
- PyTorch: torch.nn.RNNCell (tanh) with U and W copied in, the output layer
  σ(V h) written by hand, autograd for the gradients;
- the CNN/RNN lecture's recurrent networks published numbers 1.01^1000 = 20959.16 and 0.99^1000 = 4.32e-5.
"""

from pathlib import Path

import jsonschema
import numpy as np
import pytest
import yaml

from derive.fields import schema
from derive.problem import load_problem
from derive.render import render
from derive.steps import EXACT
from conftest import load_error, solve_error

PROBLEMS = Path(__file__).parent.parent / "derive" / "problems"
BUNDLED = ["rnn-scalar-bptt", "rnn-vector-tanh"]
FD_EPS = 1e-6
FD_CLOSE = dict(rel=1e-6, abs=1e-8)
SAME = dict(rel=1e-12, abs=1e-12)

ACTS = {
    "sigmoid": (lambda z: 1 / (1 + np.exp(-z))),
    "tanh": np.tanh,
    "linear": (lambda z: z),
}


# ================================================================================
# The plain RNN, and the documented step keys rebuilt from their definition
# ================================================================================

def vkey(name, t, j, n):
    """`h[t][j]`, or `h[t]` when the vector has one entry."""
    return f"{name}[{t}]" + (f"[{j + 1}]" if n > 1 else "")


def mkey(name, i, j, rows, cols):
    """`U[i][j]`, or `U` when the matrix is 1x1."""
    return name + ("" if rows == cols == 1 else f"[{i + 1}][{j + 1}]")


class PlainRnn:
    """The network of a problem file, run by loops over numpy vectors; `bumps` adds to named values."""

    def __init__(self, fields):
        self.x = np.array([np.atleast_1d(v) for v in fields["inputs"]], dtype=float)
        self.y = np.array([np.atleast_1d(v) for v in fields["targets"]], dtype=float)
        self.W = np.atleast_2d(np.array(fields["W"], dtype=float))
        self.n_in, self.n_h, self.T = self.x.shape[1], self.W.shape[0], self.x.shape[0]
        self.U = np.array(fields["U"], dtype=float).reshape(self.n_h, self.n_in)
        self.n_out = self.y.shape[1]
        self.V = np.array(fields["V"], dtype=float).reshape(self.n_out, self.n_h)
        self.h0 = np.array(fields.get("h0", [0.0] * self.n_h), dtype=float).reshape(self.n_h)
        self.act = ACTS[fields.get("activation", "sigmoid")]
        self.out = ACTS[fields.get("output_activation", "sigmoid")]
        self.c = 0.5 if fields.get("loss", "half_squared_error") == "half_squared_error" else 1.0

    def params(self):
        return {"U": self.U, "W": self.W, "V": self.V}

    def run(self, params=None, bumps=None):
        """Every forward value by its key, and the loss."""
        p = self.params() if params is None else params
        bumps = bumps or {}

        def bumped(name, t, vector):
            return vector + np.array([bumps.get(vkey(name, t, j, len(vector)), 0.0) for j in range(len(vector))])

        values = {}
        h = bumped("h", 0, self.h0.copy())
        hs = [h]
        total = 0.0
        for t in range(1, self.T + 1):
            z = bumped("z", t, p["U"] @ self.x[t - 1] + p["W"] @ h)
            h = bumped("h", t, self.act(z))
            o = bumped("o", t, p["V"] @ h)
            yhat = self.out(o)
            loss = self.c * np.sum((yhat - self.y[t - 1]) ** 2)
            total += loss
            for name, vector in (("z", z), ("h", h), ("o", o), ("yhat", yhat)):
                for j, value in enumerate(vector):
                    values[vkey(name, t, j, len(vector))] = value
            if self.T > 1:
                values[f"loss[{t}]"] = loss
            hs.append(h)
        values["loss"] = total
        return values, hs


def central(f, eps=FD_EPS):
    return (f(eps) - f(-eps)) / (2 * eps)


def expected_gradients(net):
    """Every gradient step of the solution by central differences of the plain loss, by key."""
    expected = {}
    base = net.params()
    for name, matrix in base.items():
        rows, cols = matrix.shape
        for i in range(rows):
            for j in range(cols):
                def loss(e, name=name, i=i, j=j):
                    p = {k: v.copy() for k, v in base.items()}
                    p[name][i, j] += e
                    return net.run(p)[0]["loss"]
                expected["grad_" + mkey(name, i, j, rows, cols)] = central(loss)
    T, n_h, n_out = net.T, net.n_h, net.n_out
    for t in range(0, T + 1):
        for j in range(n_h):
            expected[vkey("grad_h", t, j, n_h)] = central(lambda e: net.run(bumps={vkey("h", t, j, n_h): e})[0]["loss"])
            if t > 0:
                expected[vkey("delta", t, j, n_h)] = central(
                    lambda e: net.run(bumps={vkey("z", t, j, n_h): e})[0]["loss"])
        for k in range(n_out if t > 0 else 0):
            expected[vkey("delta_o", t, k, n_out)] = central(
                lambda e: net.run(bumps={vkey("o", t, k, n_out): e})[0]["loss"])
    # ∂h^t_i/∂h^{t-1}_j (dh[t]) and ∂h^T_i/∂h^k_j (prod[k], k <= T-2)
    for t in range(1, T + 1):
        for i in range(n_h):
            for j in range(n_h):
                expected[mkey(f"dh[{t}]", i, j, n_h, n_h)] = central(
                    lambda e: net.run(bumps={vkey("h", t - 1, j, n_h): e})[1][t][i])
    for k in range(0, T - 1):
        for i in range(n_h):
            for j in range(n_h):
                expected[mkey(f"prod[{k}]", i, j, n_h, n_h)] = central(
                    lambda e: net.run(bumps={vkey("h", k, j, n_h): e})[1][T][i])
    return expected


# ================================================================================
# Problems: the bundled ones and generated ones of every shape and option
# ================================================================================

def generated(n_in, n_h, n_out, T, activation, output_activation, loss, seed):
    rng = np.random.default_rng(seed)

    def numbers(*shape):
        return np.round(rng.uniform(-1, 1, shape), 2).tolist()

    targets = np.round(rng.uniform(0, 1, (T, n_out)), 2).tolist()
    return {"kind": "rnn_bptt", "inputs": numbers(T, n_in), "targets": targets,
            "U": numbers(n_h, n_in), "W": numbers(n_h, n_h), "V": numbers(n_out, n_h), "h0": numbers(n_h),
            "activation": activation, "output_activation": output_activation, "loss": loss, "long_range": False}


CASES = [
    (1, 1, 1, 3, "sigmoid", "sigmoid", "half_squared_error", 1),
    (2, 2, 1, 3, "tanh", "sigmoid", "half_squared_error", 2),
    (3, 2, 2, 4, "sigmoid", "linear", "squared_error", 3),
    (1, 3, 1, 2, "tanh", "linear", "half_squared_error", 4),
    (2, 1, 2, 1, "sigmoid", "sigmoid", "squared_error", 5),
    (2, 4, 3, 5, "tanh", "sigmoid", "half_squared_error", 6),
]


def write(tmp_path, fields, name="p.yaml"):
    path = tmp_path / name
    path.write_text(yaml.safe_dump(fields, allow_unicode=True), encoding="utf-8")
    return path


def bundled_fields(name):
    return yaml.safe_load((PROBLEMS / f"{name}.yaml").read_text(encoding="utf-8"))


IDS = BUNDLED + [f"case{n}" for n in range(len(CASES))]


@pytest.fixture(params=IDS)
def case(request, tmp_path):
    """(fields, Problem) of a bundled problem or a generated case."""
    name = request.param
    if name in BUNDLED:
        return bundled_fields(name), load_problem(PROBLEMS / f"{name}.yaml")
    fields = generated(*CASES[int(name[4:])])
    return fields, load_problem(write(tmp_path, fields))


# ================================================================================
# Forward values and gradients against the plain RNN and finite differences
# ================================================================================

def test_forward_values_match_the_plain_rnn(case):
    fields, problem = case
    values = problem.solve(EXACT).values()
    expected, _ = PlainRnn(fields).run()
    for key, value in expected.items():
        assert values[key] == pytest.approx(value, **SAME), key


def test_every_gradient_matches_central_differences(case):
    fields, problem = case
    solution = problem.solve(EXACT)
    expected = expected_gradients(PlainRnn(fields))
    solved = {s.key: s.value for s in solution
              if not s.is_given and s.key.split("[")[0] in {"grad_U", "grad_W", "grad_V", "grad_h", "delta",
                                                              "delta_o", "dh", "prod"}}
    assert set(solved) == set(expected)
    for key, value in expected.items():
        assert solved[key] == pytest.approx(value, **FD_CLOSE), key


def test_formulas_are_the_lectures_shapes():
    """∂h^t/∂h^{t-1} = σ′(z^t) W is printed as h(1 - h) W, and ∂L/∂W sums δ^t h^{t-1} over t."""
    text = render(load_problem(PROBLEMS / "rnn-scalar-bptt.yaml").solve(), "text")
    assert "  ∂h⁽²⁾/∂h⁽¹⁾ = h⁽²⁾ (1 - h⁽²⁾) W = " in text
    assert "  ∂L/∂W = δ⁽¹⁾ h⁽⁰⁾ + δ⁽²⁾ h⁽¹⁾ + δ⁽³⁾ h⁽²⁾ = " in text
    assert "  ∂h⁽³⁾/∂h⁽⁰⁾ = ∂h⁽³⁾/∂h⁽¹⁾ ∂h⁽¹⁾/∂h⁽⁰⁾ = " in text
    vector = render(load_problem(PROBLEMS / "rnn-vector-tanh.yaml").solve(), "text")
    assert "  ∂h⁽²⁾₁/∂h⁽¹⁾₂ = (1 - h⁽²⁾₁^2) W₁₂ = " in vector


# ================================================================================
# PyTorch: nn.RNNCell (tanh) with U and W copied in, σ(V h) by hand
# ================================================================================

TANH = [n for n, c in enumerate(CASES) if c[4] == "tanh"]


@pytest.mark.parametrize("index", ["rnn-vector-tanh"] + TANH, ids=str)
def test_rnn_cell_of_torch_agrees(tmp_path, index):
    torch = pytest.importorskip("torch", reason="PyTorch is an optional oracle; CI installs it")
    if isinstance(index, str):
        fields, problem = bundled_fields(index), load_problem(PROBLEMS / f"{index}.yaml")
    else:
        fields = generated(*CASES[index])
        problem = load_problem(write(tmp_path, fields))
    net = PlainRnn(fields)
    values = problem.solve(EXACT).values()
    t64 = dict(dtype=torch.float64)
    cell = torch.nn.RNNCell(net.n_in, net.n_h, nonlinearity="tanh").to(torch.float64)
    with torch.no_grad():
        cell.weight_ih.copy_(torch.tensor(net.U, **t64))
        cell.weight_hh.copy_(torch.tensor(net.W, **t64))
        cell.bias_ih.zero_()
        cell.bias_hh.zero_()
    V = torch.tensor(net.V, **t64, requires_grad=True)
    h0 = torch.tensor(net.h0, **t64, requires_grad=True)
    output = torch.sigmoid if fields.get("output_activation", "sigmoid") == "sigmoid" else (lambda o: o)
    h, loss, hs = h0.unsqueeze(0), 0.0, []
    for t in range(net.T):
        h = cell(torch.tensor(net.x[t], **t64).unsqueeze(0), h)
        hs.append(h)
        yhat = output(h @ V.T)
        loss = loss + net.c * ((yhat - torch.tensor(net.y[t], **t64)) ** 2).sum()
    loss.backward()
    assert values["loss"] == pytest.approx(loss.item(), rel=1e-12)
    for t, h_t in enumerate(hs, start=1):
        for j in range(net.n_h):
            assert values[vkey("h", t, j, net.n_h)] == pytest.approx(h_t[0, j].item(), rel=1e-12)
    for name, grad in (("U", cell.weight_ih.grad), ("W", cell.weight_hh.grad), ("V", V.grad)):
        rows, cols = grad.shape
        for i in range(rows):
            for j in range(cols):
                assert values["grad_" + mkey(name, i, j, rows, cols)] == pytest.approx(grad[i, j].item(), rel=1e-10,
                                                                                       abs=1e-14)
    for j in range(net.n_h):
        assert values[vkey("grad_h", 0, j, net.n_h)] == pytest.approx(h0.grad[j].item(), rel=1e-10, abs=1e-14)


# ================================================================================
# The lecture's long-range illustration
# ================================================================================

@pytest.mark.parametrize("key, expected, tolerance", [
    ("long_power[1]", 1.0, 0),
    ("long_power[2]", 20959.16, 0.005),  # the lecture: 1.01^1000 = 20959.16
    ("long_power[3]", 4.32e-5, 0.005e-5),  # the lecture: 0.99^1000 = 4.32e-5
    ("long_power[4]", 0.0, 0),  # 0.01^1000 = 1e-2000: below the smallest float
])
def test_long_range_powers_are_the_published_numbers(key, expected, tolerance):
    values = load_problem(PROBLEMS / "rnn-scalar-bptt.yaml").solve(EXACT).values()
    assert values["long_T"] == 1000
    assert values[key] == pytest.approx(expected, abs=tolerance)


def test_long_range_takes_its_w_and_T_from_the_file(tmp_path):
    fields = generated(*CASES[0])
    fields["long_range"] = {"w": [1.5, -0.5], "T": 20}
    values = load_problem(write(tmp_path, fields)).solve(EXACT).values()
    assert values["long_power[1]"] == pytest.approx(3325.256730079651, rel=1e-12)  # 1.5^20
    assert values["long_power[2]"] == pytest.approx(9.5367431640625e-07, rel=1e-12)  # 0.5^20 = 2^-20
    assert "long_power[3]" not in values


def test_without_long_range_there_is_no_illustration(tmp_path):
    values = load_problem(write(tmp_path, generated(*CASES[0]))).solve(EXACT).values()
    assert not any(key.startswith("long_") for key in values)


# ================================================================================
# Bad input: one line, file:line: field: what was expected
# ================================================================================

VALID = """\
kind: rnn_bptt
inputs: [1, 0.5]
targets: [0.5, 0.2]
U: [[0.5], [0.1]]
W: [[0.8, 0.1], [0.2, 0.3]]
V: [1, -1]
activation: sigmoid
"""
#  1 kind  2 inputs  3 targets  4 U  5 W  6 V  7 activation


def edit(line, text):
    from conftest import edited

    return edited(VALID, line, text)


BAD = [
    (edit(5, ""), 1, "W", "missing required field"),
    (edit(4, "U: [[0.5, 1], [0.1, 1]]"), 4, "U", "expected a 2x1 matrix (hidden x inputs), got 2x2"),
    (edit(4, "U: [0.5, 0.1, 0.3]"), 4, "U", "expected a 2x1 matrix (hidden x inputs), got 3 numbers"),
    (edit(5, "W: [[0.8, 0.1], [0.2]]"), 5, "W", "expected a 2x2 matrix (hidden x hidden), got 2x1/2"),
    (edit(5, "W: [0.8, 0.1]"), 5, "W", "expected a square matrix (a list of rows) or one number"),
    (edit(6, "V: [1, -1, 2]"), 6, "V", "expected a 1x2 matrix (outputs x hidden), got 3 numbers"),
    (edit(2, "inputs: [1, 2, 3, 4, 5, 6, 7, 8, 9]"), 2, "inputs", "expected 1 to 8 time steps, got 9"),
    (edit(2, "inputs: [[1, 2], [1]]"), 2, "inputs[1]", "expected 2 number(s), got 1"),
    (edit(3, "targets: [0.5]"), 3, "targets", "expected one target per input (2), got 1"),
    (edit(3, "targets: [[0.5, 1], [0.2, 1]]"), 3, "targets[0]", "expected 1 number(s), got 2"),
    (edit(7, "activation: relu"), 7, "activation", "expected one of sigmoid, tanh, got text 'relu'"),
    (edit(7, "activation: tahn"), 7, "activation",
     "expected one of sigmoid, tanh, got text 'tahn' (did you mean 'tanh'?)"),
    (VALID + "output_activation: tanh\n", 8, "output_activation", "expected one of sigmoid, linear, got text 'tanh'"),
    (VALID + "loss: cross_entropy\n", 8, "loss",
     "expected one of half_squared_error, squared_error, got text 'cross_entropy'"),
    (VALID + "h0: [0, 0, 0]\n", 8, "h0", "expected 2 number(s), got 3"),
    (VALID + "long_range: {w: [10], T: 1000}\n", 8, "long_range.w",
     "10^1000 is too large to compute (more than 1e300)"),
    (VALID + "long_range: {T: 0}\n", 8, "long_range.T", "expected a whole number >= 1, got 0"),
    (VALID + "long_range: {w: []}\n", 8, "long_range.w", "expected 1 to 8 numbers, got 0"),
    (VALID + "long_rang: false\n", 8, "long_rang", "unknown field (did you mean 'long_range'?)"),
]


@pytest.mark.parametrize("text, line, field, message", BAD, ids=range(len(BAD)))
def test_bad_input_is_one_located_line(tmp_path, text, line, field, message):
    message_read = load_error(tmp_path, text)
    assert message_read == f"{tmp_path / 'p.yaml'}:{line}: {field}: {message}"


def test_valid_problem_of_the_bad_input_table_solves(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text(VALID, encoding="utf-8")
    assert load_problem(path).solve().values()["loss"] > 0


def test_bad_input_through_the_cli_is_one_line_and_status_2(tmp_path, runner):
    assert solve_error(runner, tmp_path, BAD[6][0]) == f"{tmp_path / 'p.yaml'}:2: inputs: expected 1 to 8 time steps, got 9\n"


# ================================================================================
# The printed solutions, read by eye and kept byte for byte
# ================================================================================

@pytest.mark.parametrize("name", BUNDLED)
def test_bundled_solutions_print_as_read(golden, name):
    golden(f"{name}.txt", render(load_problem(PROBLEMS / f"{name}.yaml").solve(), "text"))


# -- the JSON Schema refuses what derive refuses ---------------------------------------

# a bundled problem with fields set as given, and the field derive names when it refuses it
SCHEMA_REFUSED = [
    ({"long_rang": False}, "long_rang"),  # an unknown field
    ({"activation": "relu"}, "activation"),
    ({"long_range": {"T": 0}}, "long_range.T"),
    ({"inputs": [1, 2, 3, 4, 5, 6, 7, 8, 9]}, "inputs"),
]


@pytest.mark.parametrize("fields, named", SCHEMA_REFUSED, ids=[named for _, named in SCHEMA_REFUSED])
def test_the_schema_refuses_what_derive_refuses(tmp_path, fields, named):
    data = {**yaml.safe_load((PROBLEMS / "rnn-scalar-bptt.yaml").read_text(encoding="utf-8")), **fields}
    assert list(jsonschema.Draft202012Validator(schema("rnn_bptt")).iter_errors(data)), "the schema accepted it"
    message = load_error(tmp_path, yaml.safe_dump(data, allow_unicode=True, sort_keys=False))
    assert f": {named}: " in message
