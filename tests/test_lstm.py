"""LSTM time steps, `kind: lstm_step`: the lecture's gates forward, every gradient back.

Every expected value comes from outside the code under test:

- a plain LSTM written in this file (numpy, the lecture's f, i, a, o, C, h),
  with the documented step keys rebuilt here from their definition;
- central finite differences of its loss (1/2 Σ (h^T - y)², or Σ g h^T for a
  given upstream gradient g), for every gate, cell, state and weight gradient;
- PyTorch: torch.nn.LSTMCell with the lecture's weights copied into torch's
  (i, f, g, o) blocks (U_g in weight_ih, W_g in weight_hh, b_g in bias_ih,
  bias_hh 0), autograd for the gradients.
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
BUNDLED = ["lstm-two-steps"]
GATES = ("f", "i", "a", "o")
FD_EPS = 1e-6
FD_CLOSE = dict(rel=1e-6, abs=1e-8)
SAME = dict(rel=1e-12, abs=1e-12)


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


# ================================================================================
# The plain LSTM, and the documented step keys rebuilt from their definition
# ================================================================================

def vkey(name, t, j, n):
    """`f[t][j]`, or `f[t]` with one hidden unit."""
    return f"{name}[{t}]" + (f"[{j + 1}]" if n > 1 else "")


def pkey(name, i, j, rows, cols):
    """`W_f[i][j]`, or `W_f` when the matrix is 1x1; `b_f[i]` (j None), or `b_f` with one unit."""
    if j is None:
        return name + (f"[{i + 1}]" if rows > 1 else "")
    return name + ("" if rows == cols == 1 else f"[{i + 1}][{j + 1}]")


class PlainLstm:
    """The cell of a problem file, step by step; `bumps` adds to named values as they are computed."""

    def __init__(self, fields):
        self.x = np.array([np.atleast_1d(v) for v in fields["inputs"]], dtype=float)
        self.n_h = np.atleast_2d(np.array(fields["W_f"], dtype=float)).shape[0]
        self.T, self.n_in = self.x.shape
        self.params = {}
        for g in GATES:
            self.params[f"W_{g}"] = np.array(fields[f"W_{g}"], dtype=float).reshape(self.n_h, self.n_h)
            self.params[f"U_{g}"] = np.array(fields[f"U_{g}"], dtype=float).reshape(self.n_h, self.n_in)
            self.params[f"b_{g}"] = np.array(fields.get(f"b_{g}", [0.0] * self.n_h), dtype=float).reshape(self.n_h)
        self.h0 = np.array(fields.get("h0", [0.0] * self.n_h), dtype=float).reshape(self.n_h)
        self.C0 = np.array(fields.get("C0", [0.0] * self.n_h), dtype=float).reshape(self.n_h)
        self.target = np.array(fields["target"], dtype=float).reshape(self.n_h) if "target" in fields else None
        self.upstream = np.array(fields["grad_h"], dtype=float).reshape(self.n_h) if "grad_h" in fields else None

    def run(self, params=None, bumps=None):
        """Every forward value by its key, and the loss."""
        p = self.params if params is None else params
        bumps = bumps or {}
        n = self.n_h

        def bumped(name, t, vector):
            return vector + np.array([bumps.get(vkey(name, t, j, n), 0.0) for j in range(n)])

        values = {}
        h, C = bumped("h", 0, self.h0.copy()), bumped("C", 0, self.C0.copy())
        for t in range(1, self.T + 1):
            gates = {}
            for g in GATES:
                z = bumped(f"z_{g}", t, p[f"W_{g}"] @ h + p[f"U_{g}"] @ self.x[t - 1] + p[f"b_{g}"])
                gates[g] = bumped(g, t, np.tanh(z) if g == "a" else sigmoid(z))
                for j in range(n):
                    values[vkey(f"z_{g}", t, j, n)], values[vkey(g, t, j, n)] = z[j], gates[g][j]
            C = bumped("C", t, C * gates["f"] + gates["i"] * gates["a"])
            h = bumped("h", t, gates["o"] * np.tanh(C))
            for j in range(n):
                values[vkey("C", t, j, n)], values[vkey("h", t, j, n)] = C[j], h[j]
        if self.target is not None:
            values["loss"] = 0.5 * np.sum((h - self.target) ** 2)
        else:
            values["loss"] = float(self.upstream @ h)
        return values


def central(f, eps=FD_EPS):
    return (f(eps) - f(-eps)) / (2 * eps)


BUMPED = {"grad_h": "h", "grad_C": "C", "grad_f": "f", "grad_i": "i", "grad_a": "a", "grad_o": "o",
          "delta_f": "z_f", "delta_i": "z_i", "delta_a": "z_a", "delta_o": "z_o"}


def expected_gradients(net):
    """Every gradient step by central differences of the plain loss, by key."""
    expected = {}
    for name, array in net.params.items():
        for index in np.ndindex(array.shape):
            def loss(e, name=name, index=index):
                p = {k: v.copy() for k, v in net.params.items()}
                p[name][index] += e
                return net.run(p)["loss"]
            rows, cols = array.shape[0], (array.shape[1] if array.ndim == 2 else None)
            expected["grad_" + pkey(name, index[0], index[1] if cols else None, rows, cols)] = central(loss)
    n = net.n_h
    for grad, bumped in BUMPED.items():
        times = range(0, net.T + 1) if grad in ("grad_h", "grad_C") else range(1, net.T + 1)
        for t in times:
            if grad == "grad_h" and t == net.T and net.upstream is not None:
                continue  # given, not computed
            for j in range(n):
                expected[vkey(grad, t, j, n)] = central(lambda e: net.run(bumps={vkey(bumped, t, j, n): e})["loss"])
    return expected


# ================================================================================
# Problems: the bundled one and generated ones
# ================================================================================

def generated(n_in, n_h, T, upstream, seed):
    rng = np.random.default_rng(seed)

    def numbers(*shape):
        return np.round(rng.uniform(-1, 1, shape), 2).tolist()

    fields = {"kind": "lstm_step", "inputs": numbers(T, n_in), "h0": numbers(n_h), "C0": numbers(n_h)}
    for g in GATES:
        fields[f"W_{g}"], fields[f"U_{g}"], fields[f"b_{g}"] = numbers(n_h, n_h), numbers(n_h, n_in), numbers(n_h)
    fields["grad_h" if upstream else "target"] = numbers(n_h)
    return fields


CASES = [(1, 1, 2, False, 1), (2, 2, 2, True, 2), (1, 3, 3, False, 3), (3, 2, 4, False, 4), (2, 1, 1, True, 5)]
IDS = BUNDLED + [f"case{n}" for n in range(len(CASES))]


def write(tmp_path, fields):
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump(fields), encoding="utf-8")
    return path


@pytest.fixture(params=IDS)
def case(request, tmp_path):
    """(fields, Problem) of the bundled problem or a generated case."""
    name = request.param
    if name in BUNDLED:
        return yaml.safe_load((PROBLEMS / f"{name}.yaml").read_text(encoding="utf-8")), \
            load_problem(PROBLEMS / f"{name}.yaml")
    fields = generated(*CASES[int(name[4:])])
    return fields, load_problem(write(tmp_path, fields))


# ================================================================================
# Forward values and gradients against the plain LSTM and finite differences
# ================================================================================

def test_every_gate_matches_the_plain_lstm(case):
    fields, problem = case
    values = problem.solve(EXACT).values()
    net = PlainLstm(fields)
    for key, value in net.run().items():
        if key == "loss" and net.upstream is not None:
            continue  # with a given ∂L/∂h there is no loss to print
        assert values[key] == pytest.approx(value, **SAME), key


def test_every_gradient_matches_central_differences(case):
    fields, problem = case
    solved = {s.key: s.value for s in problem.solve(EXACT) if not s.is_given and
              (s.key.startswith("grad_") or s.key.startswith("delta_"))}
    expected = expected_gradients(PlainLstm(fields))
    assert set(solved) == set(expected)
    for key, value in expected.items():
        assert solved[key] == pytest.approx(value, **FD_CLOSE), key


def test_formulas_are_the_lectures_shapes():
    text = render(load_problem(PROBLEMS / "lstm-two-steps.yaml").solve(), "text")
    assert "  C⁽²⁾ = C⁽¹⁾ f⁽²⁾ + i⁽²⁾ a⁽²⁾ = " in text
    assert "  h⁽²⁾ = o⁽²⁾ tanh(C⁽²⁾) = " in text
    assert "  z_f⁽¹⁾ = W_f h⁽⁰⁾ + U_f₁₁ x⁽¹⁾₁ + U_f₁₂ x⁽¹⁾₂ + b_f = " in text
    assert "  ∂L/∂C⁽¹⁾ = ∂L/∂h⁽¹⁾ o⁽¹⁾ (1 - tanh(C⁽¹⁾)^2) + ∂L/∂C⁽²⁾ f⁽²⁾ = " in text


# ================================================================================
# PyTorch: nn.LSTMCell with the lecture's gates copied into (i, f, g, o)
# ================================================================================

@pytest.mark.parametrize("name", IDS)
def test_lstm_cell_of_torch_agrees(tmp_path, name):
    torch = pytest.importorskip("torch", reason="PyTorch is an optional oracle; CI installs it")
    if name in BUNDLED:
        fields, problem = yaml.safe_load((PROBLEMS / f"{name}.yaml").read_text(encoding="utf-8")), \
            load_problem(PROBLEMS / f"{name}.yaml")
    else:
        fields = generated(*CASES[int(name[4:])])
        problem = load_problem(write(tmp_path, fields))
    net = PlainLstm(fields)
    values = problem.solve(EXACT).values()
    t64 = dict(dtype=torch.float64)
    order = ("i", "f", "a", "o")  # torch's (i, f, g, o); the lecture's a is torch's g
    cell = torch.nn.LSTMCell(net.n_in, net.n_h).to(torch.float64)
    with torch.no_grad():
        cell.weight_ih.copy_(torch.tensor(np.vstack([net.params[f"U_{g}"] for g in order]), **t64))
        cell.weight_hh.copy_(torch.tensor(np.vstack([net.params[f"W_{g}"] for g in order]), **t64))
        cell.bias_ih.copy_(torch.tensor(np.concatenate([net.params[f"b_{g}"] for g in order]), **t64))
        cell.bias_hh.zero_()
    h0 = torch.tensor(net.h0, **t64, requires_grad=True)
    C0 = torch.tensor(net.C0, **t64, requires_grad=True)
    h, C = h0.unsqueeze(0), C0.unsqueeze(0)
    for t in range(1, net.T + 1):
        h, C = cell(torch.tensor(net.x[t - 1], **t64).unsqueeze(0), (h, C))
        for j in range(net.n_h):
            assert values[vkey("h", t, j, net.n_h)] == pytest.approx(h[0, j].item(), rel=1e-12, abs=1e-15)
            assert values[vkey("C", t, j, net.n_h)] == pytest.approx(C[0, j].item(), rel=1e-12, abs=1e-15)
    if net.target is not None:
        loss = 0.5 * ((h[0] - torch.tensor(net.target, **t64)) ** 2).sum()
        assert values["loss"] == pytest.approx(loss.item(), rel=1e-12)
    else:
        loss = (h[0] * torch.tensor(net.upstream, **t64)).sum()
    loss.backward()
    n = net.n_h
    blocks = {g: slice(k * n, (k + 1) * n) for k, g in enumerate(order)}
    close = dict(rel=1e-10, abs=1e-14)
    for g in GATES:
        for name_, grad in ((f"W_{g}", cell.weight_hh.grad[blocks[g]]), (f"U_{g}", cell.weight_ih.grad[blocks[g]])):
            rows, cols = grad.shape
            for i in range(rows):
                for j in range(cols):
                    assert values["grad_" + pkey(name_, i, j, rows, cols)] == pytest.approx(grad[i, j].item(), **close)
        bias = cell.bias_ih.grad[blocks[g]]
        for i in range(n):
            assert values["grad_" + pkey(f"b_{g}", i, None, n, None)] == pytest.approx(bias[i].item(), **close)
    for j in range(n):
        assert values[vkey("grad_h", 0, j, n)] == pytest.approx(h0.grad[j].item(), **close)
        assert values[vkey("grad_C", 0, j, n)] == pytest.approx(C0.grad[j].item(), **close)


# ================================================================================
# Bad input: one line, file:line: field: what was expected
# ================================================================================

VALID = """\
kind: lstm_step
inputs: [1, -1]
W_f: 0.5
U_f: 0.5
W_i: 0.5
U_i: 0.5
W_a: 0.5
U_a: 0.5
W_o: 0.5
U_o: 0.5
target: 0.3
"""
#  1 kind  2 inputs  3 W_f  4 U_f  5 W_i  6 U_i  7 W_a  8 U_a  9 W_o  10 U_o  11 target


def edit(line, text):
    from conftest import edited

    return edited(VALID, line, text)


BAD = [
    (edit(10, ""), 1, "U_o", "missing required field"),
    (edit(11, ""), 1, None, "give either grad_h (∂L/∂h at the last step, from above) or target (y for the loss "
                            "1/2 Σ (h - y)² at the last step)"),
    (VALID + "grad_h: 1\n", 1, None, "give either grad_h (∂L/∂h at the last step, from above) or target (y for the "
                                     "loss 1/2 Σ (h - y)² at the last step)"),
    (edit(2, "inputs: [1, 2, 3, 4, 5]"), 2, "inputs", "expected 1 to 4 time steps, got 5"),
    (edit(5, "W_i: [[1, 0], [0, 1]]"), 5, "W_i", "expected a 1x1 matrix (hidden x hidden), got 2x2"),
    (edit(4, "U_f: [0.5, 0.5]"), 4, "U_f", "expected a 1x1 matrix (hidden x inputs), got 2 numbers"),
    (edit(3, "W_f: [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]]"), 3, "W_f",
     "expected at most 3 hidden units, got 4"),
    (VALID + "b_f: [1, 2]\n", 12, "b_f", "expected 1 number(s), got 2"),
    (VALID + "C0: [0, 0]\n", 12, "C0", "expected 1 number(s), got 2"),
    (edit(11, "target: [0.3, 0.1]"), 11, "target", "expected 1 number(s), got 2"),
    (VALID + "W_g: 1\n", 12, "W_g", "unknown field (did you mean 'W_o'?)"),
    (VALID + "inputz: 0\n", 12, "inputz", "unknown field (did you mean 'inputs'?)"),
]


@pytest.mark.parametrize("text, line, field, message", BAD, ids=range(len(BAD)))
def test_bad_input_is_one_located_line(tmp_path, text, line, field, message):
    message_read = load_error(tmp_path, text)
    where = f"{tmp_path / 'p.yaml'}:{line}: " + (f"{field}: " if field else "")
    assert message_read == where + message


def test_valid_problem_of_the_bad_input_table_solves(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text(VALID, encoding="utf-8")
    assert load_problem(path).solve().values()["loss"] > 0


def test_bad_input_through_the_cli_is_one_line_and_status_2(tmp_path, runner):
    assert solve_error(runner, tmp_path, BAD[3][0]) == f"{tmp_path / 'p.yaml'}:2: inputs: expected 1 to 4 time steps, got 5\n"


# ================================================================================
# The printed solution, read by eye and kept byte for byte
# ================================================================================

@pytest.mark.parametrize("name", BUNDLED)
def test_bundled_solution_prints_as_read(golden, name):
    golden(f"{name}.txt", render(load_problem(PROBLEMS / f"{name}.yaml").solve(), "text"))


# -- the JSON Schema refuses what derive refuses ---------------------------------------

# a bundled problem with fields set as given, and the field derive names when it refuses it
SCHEMA_REFUSED = [
    ({"W_g": 1}, "W_g"),  # an unknown field
    ({"inputs": [1, 2, 3, 4, 5]}, "inputs"),
    ({"W_f": [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]]}, "W_f"),
]


@pytest.mark.parametrize("fields, named", SCHEMA_REFUSED, ids=[named for _, named in SCHEMA_REFUSED])
def test_the_schema_refuses_what_derive_refuses(tmp_path, fields, named):
    data = {**yaml.safe_load((PROBLEMS / "lstm-two-steps.yaml").read_text(encoding="utf-8")), **fields}
    assert list(jsonschema.Draft202012Validator(schema("lstm_step")).iter_errors(data)), "the schema accepted it"
    message = load_error(tmp_path, yaml.safe_dump(data, allow_unicode=True, sort_keys=False))
    assert f": {named}: " in message
