"""LSTM time steps, `kind: lstm_step`: the lecture's gates forward, every gradient back.

Every expected value comes from outside the code under test:

- a plain LSTM written in this file (numpy, the lecture's f, i, a, o, C, h),
  with the documented step keys rebuilt here from their definition;
- central finite differences of its loss (1/2 Σ (h^T - y)², or Σ g h^T for a
  given upstream gradient g), for every gate, cell, state and weight gradient;
- PyTorch: torch.nn.LSTMCell with the lecture's weights copied into torch's
  (i, f, g, o) blocks (U_g in weight_ih, W_g in weight_hh, b_g in bias_ih,
  bias_hh 0), autograd for the gradients;
- with an output layer ŷ = σ(V h + c), the same, the loss on the last output;
  ∂C⁽ᵗ⁾/∂C⁽ᵗ⁻¹⁾ by central differences of C⁽ᵗ⁾ in C⁽ᵗ⁻¹⁾ (h⁽ᵗ⁻¹⁾ following it,
  o⁽ᵗ⁻¹⁾ held), and its three gate terms by the lecture's products written here.
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
BUNDLED = ["lstm-two-steps", "lstm-output-layer"]
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
        self.n_out = 0
        if "V" in fields:
            V = np.array(fields["V"], dtype=float)
            self.n_out = V.shape[0] if V.ndim == 2 else (V.size if self.n_h == 1 else 1)
            self.params["V"] = V.reshape(self.n_out, self.n_h)
            self.params["c"] = np.array(fields.get("c", [0.0] * self.n_out), dtype=float).reshape(self.n_out)
        outputs = self.n_out or self.n_h
        self.target = np.array(fields["target"], dtype=float).reshape(outputs) if "target" in fields else None
        self.upstream = np.array(fields["grad_h"], dtype=float).reshape(self.n_h) if "grad_h" in fields else None

    def run(self, params=None, bumps=None):
        """Every forward value by its key, and the loss."""
        p = self.params if params is None else params
        bumps = bumps or {}
        n = self.n_h

        def bumped(name, t, vector):
            return vector + np.array([bumps.get(vkey(name, t, j, n), 0.0) for j in range(n)])

        def bumped_out(name, t, vector):
            return vector + np.array([bumps.get(vkey(name, t, k, self.n_out), 0.0) for k in range(self.n_out)])

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
            if self.n_out:
                z = bumped_out("z_y", t, p["V"] @ h + p["c"])
                out = bumped_out("yhat", t, sigmoid(z))
                for k in range(self.n_out):
                    values[vkey("z_y", t, k, self.n_out)], values[vkey("yhat", t, k, self.n_out)] = z[k], out[k]
        if self.n_out:
            values["loss"] = 0.5 * np.sum((out - self.target) ** 2)
        elif self.target is not None:
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
    for grad, bumped in (("grad_yhat", "yhat"), ("delta_y", "z_y")):  # the output layer's, at the last step
        for k in range(net.n_out):
            at = vkey(bumped, net.T, k, net.n_out)
            expected[vkey(grad, net.T, k, net.n_out)] = central(lambda e: net.run(bumps={at: e})["loss"])
    return expected


def expected_cell_jacobian(net, fields):
    """Every step of the cell_jacobian section, by its key: ∂C⁽ᵗ⁾ⱼ/∂C⁽ᵗ⁻¹⁾ₖ and ∂h⁽ᵗ⁻¹⁾ₖ/∂C⁽ᵗ⁻¹⁾ₖ by central
    differences (a bump of C⁽ᵗ⁻¹⁾ moves h⁽ᵗ⁻¹⁾ = o tanh(C) with it), the gate terms by the lecture's products."""
    n, values, expected = net.n_h, net.run(), {}

    def pair(j, k):
        return f"[{j + 1}][{k + 1}]" if n > 1 else ""

    for t in range(2, net.T + 1):
        for k in range(n):
            before = vkey("C", t - 1, k, n)
            expected[vkey("dh_dC", t - 1, k, n)] = central(lambda e: net.run(bumps={before: e})[vkey("h", t - 1, k, n)])
            for j in range(n):
                expected[f"dC[{t}]{pair(j, k)}"] = central(
                    lambda e: net.run(bumps={before: e})[vkey("C", t, j, n)])
                o, C = values[vkey("o", t - 1, k, n)], values[before]
                dh = o * (1 - np.tanh(C) ** 2)
                f, i, a = (values[vkey(g, t, j, n)] for g in ("f", "i", "a"))
                W = {g: net.params[f"W_{g}"][j, k] for g in ("f", "i", "a")}
                expected[f"dC_f[{t}]{pair(j, k)}"] = values[vkey("C", t - 1, j, n)] * f * (1 - f) * W["f"] * dh
                expected[f"dC_i[{t}]{pair(j, k)}"] = a * i * (1 - i) * W["i"] * dh
                expected[f"dC_a[{t}]{pair(j, k)}"] = i * (1 - a ** 2) * W["a"] * dh
    return expected


# ================================================================================
# Problems: the bundled one and generated ones
# ================================================================================

def generated(n_in, n_h, T, upstream, seed, outputs=0):
    rng = np.random.default_rng(seed)

    def numbers(*shape):
        return np.round(rng.uniform(-1, 1, shape), 2).tolist()

    fields = {"kind": "lstm_step", "inputs": numbers(T, n_in), "h0": numbers(n_h), "C0": numbers(n_h)}
    for g in GATES:
        fields[f"W_{g}"], fields[f"U_{g}"], fields[f"b_{g}"] = numbers(n_h, n_h), numbers(n_h, n_in), numbers(n_h)
    if outputs:
        fields["V"], fields["c"], fields["cell_jacobian"] = numbers(outputs, n_h), numbers(outputs), True
    fields["grad_h" if upstream else "target"] = numbers(outputs or n_h)
    return fields


# (inputs, hidden, time steps, grad_h given, seed, outputs of an output layer)
CASES = [(1, 1, 2, False, 1), (2, 2, 2, True, 2), (1, 3, 3, False, 3), (3, 2, 4, False, 4), (2, 1, 1, True, 5),
         (2, 2, 3, False, 6, 3), (1, 1, 3, False, 7, 1), (2, 3, 2, False, 8, 2), (1, 1, 2, False, 9, 2)]
IDS = BUNDLED + [f"case{n}" for n in range(len(CASES))]


def write(tmp_path, fields):
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump(fields), encoding="utf-8")
    return path


# the problems that print ∂C⁽ᵗ⁾/∂C⁽ᵗ⁻¹⁾: the bundled one and the generated cases with an output layer
JACOBIAN_IDS = ["lstm-output-layer"] + [f"case{n}" for n, c in enumerate(CASES) if len(c) > 5]


@pytest.fixture(params=IDS)
def case(request, tmp_path):
    """(fields, Problem) of the bundled problem or a generated case."""
    return loaded(request.param, tmp_path)


def loaded(name, tmp_path):
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


@pytest.mark.parametrize("name", JACOBIAN_IDS)
def test_the_cell_jacobian_matches_central_differences_and_the_lectures_terms(tmp_path, name):
    fields, problem = loaded(name, tmp_path)
    assert fields["cell_jacobian"] is True
    solved = {s.key: s.value for s in problem.solve(EXACT) if s.key.startswith(("dC", "dh_dC"))}
    expected = expected_cell_jacobian(PlainLstm(fields), fields)
    assert set(solved) == set(expected) and expected
    for key, value in expected.items():
        assert solved[key] == pytest.approx(value, **FD_CLOSE), key


def test_without_cell_jacobian_nothing_of_it_is_printed():
    solution = load_problem(PROBLEMS / "lstm-two-steps.yaml").solve()
    assert not [s.key for s in solution if s.key.startswith(("dC", "dh_dC"))]


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
    if net.n_out:
        V = torch.tensor(net.params["V"], **t64, requires_grad=True)
        c = torch.tensor(net.params["c"], **t64, requires_grad=True)
        out = torch.sigmoid(h[0] @ V.T + c)
        loss = 0.5 * ((out - torch.tensor(net.target, **t64)) ** 2).sum()
        assert values["loss"] == pytest.approx(loss.item(), rel=1e-12)
    elif net.target is not None:
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
    if net.n_out:
        for k in range(net.n_out):
            assert values["grad_" + pkey("c", k, None, net.n_out, None)] == pytest.approx(c.grad[k].item(), **close)
            for j in range(n):
                assert values["grad_" + pkey("V", k, j, net.n_out, n)] == pytest.approx(V.grad[k, j].item(), **close)


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
    (VALID + "c: 0.5\n", 12, "c", "c is the output layer's bias: give V too"),
    (VALID.replace("target: 0.3", "grad_h: 0.3") + "V: 1\n", 11, "grad_h",
     "with an output layer (V) the loss is on its output: give target instead"),
    (VALID + "V: [1, 2]\n", 11, "target", "expected 2 number(s), got 1"),
    (VALID + "V: [[1, 2]]\n", 12, "V", "expected a 1x1 matrix (outputs x hidden), got 1x2"),
    (VALID + "cell_jacobian: 2\n", 12, "cell_jacobian", "expected true or false, got 2"),
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
