"""kind: optimizer, checked against numbers worked out outside derive.

Oracles: a second plain implementation of every optimiser and schedule
written here (Python loops over the lectures' formulas); hand-worked first steps (the arithmetic is written beside each row);
central finite differences of the loss written as a plain Python function
(a hand-written forward pass for the network); a Fisher–Yates shuffle written
here for the mini-batches; and torch.optim configured to the same form where
the two truly coincide:
- SGD = gd; SGD(momentum=λ) = momentum with a constant η (torch keeps
  b^{t+1} = λ b^t + g^t and steps θ − η b^{t+1}: that is m = −η b, so the two
  agree only while η does not change); SGD(momentum=λ, nesterov=True) steps
  through the lecture's look-ahead points θ^t + λ m^t (`ahead[t]`);
- Adagrad = adagrad form library; RMSprop = rmsprop form library; Adam = adam;
- RMSprop and the lecture's RMSProp (σ^0 = |g^0|) coincide only for α = 0,
  ε = 0 (both then divide by |g^t|); for α > 0 torch starts from v = 0, not
  from (g^0)^2.
"""

import math
import re
import struct

import jsonschema
import pytest
import yaml

from derive.cli import cli
from derive.errors import DeriveError, ProblemError
from derive.fields import schema
from derive.kinds.optimizer import draw_batches
from derive.problem import load_problem
from derive.render import render
from derive.steps import EXACT

from conftest import PROBLEMS, edited, extended

EACH = load_problem(PROBLEMS / "optimizer-each.yaml")
EACH_SOLUTION = EACH.solve()


def solved(tmp_path, text, rounding=None):
    path = tmp_path / "p.yaml"
    path.write_text(text, encoding="utf-8")
    return load_problem(path).solve(rounding)


# -- the second implementation ------------------------------------------------------------------

def rate(eta0, schedule, t):
    """η^t of a schedule, as the lectures write it."""
    kind = schedule.get("type", "constant")
    if kind == "step":
        eta = eta0 * schedule["factor"] ** (t // schedule["every"])
    elif kind == "linear":
        over = schedule["over"]
        eta = eta0 + (schedule.get("final", 0) - eta0) * min(t, over) / over
    elif kind == "inverse_time":
        eta = eta0 / (1 + schedule["beta"] * t)
    else:
        eta = eta0
    warmup = schedule.get("warmup", 0)
    return eta * (t + 1) / warmup if t < warmup else eta


def plain_run(method, gradient, start, iterations, eta0, schedule=None, momentum=0.9, alpha=0.9, beta1=0.9,
              beta2=0.999, epsilon=None, form="lecture"):
    """θ^0..θ^T (and the look-ahead points of nesterov), one parameter at a time in plain loops."""
    schedule = schedule or {}
    n = len(start)
    theta = list(start)
    path, aheads = [list(theta)], []
    m, v, s, sigma, squares = [0.0] * n, [0.0] * n, [0.0] * n, [0.0] * n, [0.0] * n
    for t in range(iterations):
        eta = rate(eta0, schedule, t)
        point = theta
        if method == "nesterov":
            point = [theta[i] + momentum * m[i] for i in range(n)]
            aheads.append(point)
        g = gradient(point)
        new = []
        for i in range(n):
            if method == "gd":
                new.append(theta[i] - eta * g[i])
            elif method in ("momentum", "nesterov"):
                m[i] = momentum * m[i] - eta * g[i]
                new.append(theta[i] + m[i])
            elif method == "adagrad" and form == "lecture":
                squares[i] += g[i] ** 2
                new.append(theta[i] - eta / math.sqrt(squares[i] / (t + 1)) * g[i])
            elif method == "adagrad":
                s[i] += g[i] ** 2
                new.append(theta[i] - eta * g[i] / (math.sqrt(s[i]) + (1e-10 if epsilon is None else epsilon)))
            elif method == "rmsprop" and form == "lecture":
                sigma[i] = abs(g[i]) if t == 0 else math.sqrt(alpha * sigma[i] ** 2 + (1 - alpha) * g[i] ** 2)
                new.append(theta[i] - eta / sigma[i] * g[i])
            elif method == "summary":  # the lecture's θ − η/σ m: m the decayed sum of gradients, σ as rmsprop's
                m[i] = g[i] if t == 0 else momentum * m[i] + g[i]
                sigma[i] = abs(g[i]) if t == 0 else math.sqrt(alpha * sigma[i] ** 2 + (1 - alpha) * g[i] ** 2)
                new.append(theta[i] - eta / sigma[i] * m[i])
            elif method == "rmsprop":
                v[i] = alpha * v[i] + (1 - alpha) * g[i] ** 2
                new.append(theta[i] - eta * g[i] / (math.sqrt(v[i]) + (1e-8 if epsilon is None else epsilon)))
            else:
                m[i] = beta1 * m[i] + (1 - beta1) * g[i]
                v[i] = beta2 * v[i] + (1 - beta2) * g[i] ** 2
                m_hat, v_hat = m[i] / (1 - beta1 ** (t + 1)), v[i] / (1 - beta2 ** (t + 1))
                new.append(theta[i] - eta * m_hat / (math.sqrt(v_hat) + (1e-8 if epsilon is None else epsilon)))
        theta = new
        path.append(list(theta))
    return path, aheads


def flat(rows):
    """A list of points as one list of numbers (pytest.approx compares flat sequences)."""
    return [value for row in rows for value in row]


def saddle_gradient(p):
    """∇(1 - w1 w2)^2 = (-2 w2 (1 - w1 w2), -2 w1 (1 - w1 w2)), by hand."""
    w1, w2 = p
    return [-2 * w2 * (1 - w1 * w2), -2 * w1 * (1 - w1 * w2)]


def saddle_loss(p):
    return (1 - p[0] * p[1]) ** 2


def trajectory(solution, name, parameters, iterations):
    return [[solution[f"{name}.theta[{t}][{p}]"].value for p in parameters] for t in range(iterations + 1)]


# optimizer-each: name -> the settings of its problem file, for the plain implementation
EACH_SETTINGS = {
    "gd": dict(method="gd", eta0=0.4, schedule={"type": "step", "every": 2, "factor": 0.5}),
    "momentum": dict(method="momentum", eta0=0.2, momentum=0.9),
    "nesterov": dict(method="nesterov", eta0=0.2, momentum=0.9),
    "adagrad": dict(method="adagrad", eta0=0.2, schedule={"type": "inverse_time", "beta": 0.5}),
    "adagrad_lib": dict(method="adagrad", form="library", eta0=0.2),
    "rmsprop": dict(method="rmsprop", eta0=0.2, alpha=0.9, schedule={"warmup": 2}),
    "adam": dict(method="adam", eta0=0.2, schedule={"type": "linear", "final": 0.05, "over": 3}),
}


SUMMARY = load_problem(PROBLEMS / "optimizer-summary.yaml").solve()
# optimizer-summary: name -> its settings
SUMMARY_SETTINGS = {
    "summary": dict(method="summary", eta0=0.1, momentum=0.9, alpha=0.9, schedule={"type": "inverse_time", "beta": 0.5}),
    "adam": dict(method="adam", eta0=0.1, beta1=0.9, beta2=0.9, epsilon=0.0,
                 schedule={"type": "inverse_time", "beta": 0.5}),
}


@pytest.mark.parametrize("name", sorted(SUMMARY_SETTINGS))
def test_the_lectures_summary_optimizer_against_the_plain_implementation(name):
    expected, _ = plain_run(gradient=saddle_gradient, start=[0.5, 1.5], iterations=4, **SUMMARY_SETTINGS[name])
    got = trajectory(SUMMARY, name, ["w1", "w2"], 4)
    assert flat(got) == pytest.approx(flat(expected), rel=1e-12, abs=1e-14)


def test_the_summary_s_first_step_moves_each_parameter_by_eta():
    """m⁰ = g⁰ and σ⁰ = |g⁰|: the first step is η against the gradient's sign, as Adam's first step is."""
    for p in ("w1", "w2"):
        assert SUMMARY[f"summary.update[0][{p}]"].value == pytest.approx(0.1)  # g⁰ < 0 for both, at (0.5, 1.5)


@pytest.mark.parametrize("name", sorted(EACH_SETTINGS))
def test_every_optimizer_against_the_plain_implementation(name):
    expected, aheads = plain_run(gradient=saddle_gradient, start=[0.5, 1.5], iterations=3, **EACH_SETTINGS[name])
    got = trajectory(EACH_SOLUTION, name, ["w1", "w2"], 3)
    assert flat(got) == pytest.approx(flat(expected), rel=1e-12, abs=1e-14)
    for t, point in enumerate(expected):
        assert EACH_SOLUTION[f"{name}.loss[{t}]"].value == pytest.approx(saddle_loss(point), rel=1e-12, abs=1e-15)
    for t, point in enumerate(aheads):
        assert [EACH_SOLUTION[f"{name}.ahead[{t}][{p}]"].value for p in ("w1", "w2")] == pytest.approx(point)


@pytest.mark.parametrize("name", sorted(EACH_SETTINGS))
def test_every_gradient_against_central_differences(name):
    h = 1e-6
    for t in range(3):
        at = "ahead" if name == "nesterov" else "theta"
        point = [EACH_SOLUTION[f"{name}.{at}[{t}][{p}]"].value for p in ("w1", "w2")]
        for i, p in enumerate(("w1", "w2")):
            up, down = list(point), list(point)
            up[i] += h
            down[i] -= h
            difference = (saddle_loss(up) - saddle_loss(down)) / (2 * h)
            assert EACH_SOLUTION[f"{name}.g[{t}][{p}]"].value == pytest.approx(difference, rel=1e-6, abs=1e-8)


# Worked by hand at the start (0.5, 1.5): 1 - w1 w2 = 1 - 0.75 = 0.25,
# g^0 = (-2·1.5·0.25, -2·0.5·0.25) = (-0.75, -0.25).
HAND = [
    ("gd.g[0][w1]", -0.75),
    ("gd.g[0][w2]", -0.25),
    ("gd.eta[0]", 0.4),  # 0.4·0.5^⌊0/2⌋
    ("gd.eta[2]", 0.2),  # 0.4·0.5^⌊2/2⌋
    ("gd.theta[1][w1]", 0.8),  # 0.5 - 0.4·(-0.75)
    ("gd.theta[1][w2]", 1.6),  # 1.5 - 0.4·(-0.25)
    ("momentum.m[1][w1]", 0.15),  # 0.9·0 - 0.2·(-0.75)
    ("momentum.theta[1][w1]", 0.65),  # 0.5 + 0.15
    ("momentum.theta[1][w2]", 1.55),  # 1.5 + 0.05
    ("nesterov.theta[1][w1]", 0.65),  # m^0 = 0: the first look-ahead point is θ^0 itself
    ("adagrad.sigma[0][w1]", 0.75),  # sqrt(1/1·0.75^2)
    ("adagrad.theta[1][w1]", 0.7),  # 0.5 - 0.2/0.75·(-0.75): the first step is η against the sign
    ("adagrad.eta[1]", 0.2 / 1.5),  # 0.2/(1 + 0.5·1)
    ("rmsprop.eta[0]", 0.1),  # warm-up: 0.2·1/2
    ("rmsprop.eta[1]", 0.2),  # 0.2·2/2
    ("rmsprop.sigma[0][w2]", 0.25),  # |g^0|
    ("rmsprop.theta[1][w2]", 1.6),  # 1.5 - 0.1/0.25·(-0.25)
    ("adam.m[1][w1]", -0.075),  # 0.9·0 + 0.1·(-0.75)
    ("adam.v[1][w1]", 0.0005625),  # 0.001·0.5625
    ("adam.mhat[1][w1]", -0.75),  # -0.075/(1 - 0.9)
    ("adam.vhat[1][w1]", 0.5625),  # 0.0005625/(1 - 0.999)
    ("adam.eta[1]", 0.15),  # 0.2 + (0.05 - 0.2)·1/3
    ("adagrad_lib.s[0][w1]", 0.5625),  # 0 + 0.75^2
]


@pytest.mark.parametrize("key, expected", HAND, ids=[k for k, _ in HAND])
def test_hand_worked_numbers(key, expected):
    assert EACH_SOLUTION[key].value == pytest.approx(expected, rel=1e-12)


def test_adam_first_step_is_eta_against_the_gradient_sign():
    # m̂/sqrt(v̂) = g/|g| at t = 0, so θ^1 = θ^0 + η (up to ε = 1e-8): 0.5 + 0.2·0.75/(0.75 + 1e-8)
    assert EACH_SOLUTION["adam.theta[1][w1]"].value == pytest.approx(0.5 + 0.2 * 0.75 / (0.75 + 1e-8), rel=1e-15)


# -- torch.optim ---------------------------------------------------------------------------------

ELLIPSE = """\
kind: optimizer
parameters: [x, y]
loss: x^2 + 10 y^2 + x y
start: {x: 1.5, y: -0.8}
iterations: 6
optimizers:
"""


def torch_path(torch_optimizer, settings, start, iterations, scheduler=None):
    torch = pytest.importorskip("torch", reason="PyTorch is an optional oracle; CI installs it")
    theta = torch.tensor(start, dtype=torch.float64, requires_grad=True)
    optimizer = getattr(torch.optim, torch_optimizer)([theta], **settings)
    schedule = scheduler(torch, optimizer) if scheduler else None
    path = [theta.detach().tolist()]
    for _ in range(iterations):
        optimizer.zero_grad()
        x, y = theta[0], theta[1]
        (x ** 2 + 10 * y ** 2 + x * y).backward()
        optimizer.step()
        if schedule:
            schedule.step()
        path.append(theta.detach().tolist())
    return path


TORCH = [
    ("gd", "{method: gd, learning_rate: 0.04}", "SGD", {"lr": 0.04}, None, "theta"),
    ("momentum", "{method: momentum, learning_rate: 0.03, momentum: 0.8}", "SGD", {"lr": 0.03, "momentum": 0.8},
     None, "theta"),
    ("nesterov", "{method: nesterov, learning_rate: 0.03, momentum: 0.8}", "SGD",
     {"lr": 0.03, "momentum": 0.8, "nesterov": True}, None, "ahead"),
    ("adagrad", "{method: adagrad, form: library, learning_rate: 0.3}", "Adagrad", {"lr": 0.3}, None, "theta"),
    ("rmsprop_lib", "{method: rmsprop, form: library, learning_rate: 0.05, alpha: 0.9}", "RMSprop",
     {"lr": 0.05, "alpha": 0.9}, None, "theta"),
    ("rmsprop_lecture", "{method: rmsprop, learning_rate: 0.05, alpha: 0}", "RMSprop",
     {"lr": 0.05, "alpha": 0.0, "eps": 0.0}, None, "theta"),
    ("adam", "{method: adam, learning_rate: 0.1}", "Adam", {"lr": 0.1}, None, "theta"),
    ("adam_custom", "{method: adam, learning_rate: 0.1, beta1: 0.5, beta2: 0.9, epsilon: 0.01}", "Adam",
     {"lr": 0.1, "betas": (0.5, 0.9), "eps": 0.01}, None, "theta"),
    ("gd_step", "{method: gd, learning_rate: 0.04, schedule: {type: step, every: 2, factor: 0.5}}", "SGD",
     {"lr": 0.04}, lambda torch, o: torch.optim.lr_scheduler.StepLR(o, step_size=2, gamma=0.5), "theta"),
    ("adam_inverse", "{method: adam, learning_rate: 0.1, schedule: {type: inverse_time, beta: 0.5}}", "Adam",
     {"lr": 0.1}, lambda torch, o: torch.optim.lr_scheduler.LambdaLR(o, lambda t: 1 / (1 + 0.5 * t)), "theta"),
]


@pytest.mark.parametrize("name, line, torch_optimizer, settings, scheduler, key", TORCH, ids=[r[0] for r in TORCH])
def test_against_torch_optim(tmp_path, name, line, torch_optimizer, settings, scheduler, key):
    got_solution = solved(tmp_path, ELLIPSE + f"  - {line}\n")
    method = line.split("method: ")[1].split(",")[0]
    expected = torch_path(torch_optimizer, settings, [1.5, -0.8], 6, scheduler)
    iterations = 6 if key == "theta" else 5
    got = [[got_solution[f"{method}.{key}[{t}][{p}]"].value for p in ("x", "y")] for t in range(iterations + 1)]
    assert flat(got) == pytest.approx(flat(expected[:iterations + 1]), rel=1e-10, abs=1e-12)


def test_torch_momentum_differs_once_the_rate_changes(tmp_path):
    """With a schedule, torch's buffer is scaled by the current rate, the lecture's m by each past rate."""
    line = "{method: momentum, learning_rate: 0.03, momentum: 0.8, schedule: {type: step, every: 1, factor: 0.5}}"
    solution = solved(tmp_path, ELLIPSE + f"  - {line}\n")
    expected = torch_path("SGD", {"lr": 0.03, "momentum": 0.8}, [1.5, -0.8], 6,
                          lambda torch, o: torch.optim.lr_scheduler.StepLR(o, step_size=1, gamma=0.5))
    got = [[solution[f"momentum.theta[{t}][{p}]"].value for p in ("x", "y")] for t in range(7)]
    assert flat(got[:2]) == pytest.approx(flat(expected[:2]), rel=1e-12)  # the first step is η^0 g^0 in both
    assert got[3] != pytest.approx(expected[3], rel=1e-6)
    plain, _ = plain_run("momentum", lambda p: [2 * p[0] + p[1], 20 * p[1] + p[0]], [1.5, -0.8], 6, 0.03,
                         {"type": "step", "every": 1, "factor": 0.5}, momentum=0.8)
    assert flat(got) == pytest.approx(flat(plain), rel=1e-12)


# -- mini-batches ---------------------------------------------------------------------------------

def plain_shuffle_batches(samples, size, iterations, seed):
    """Fisher–Yates on PCG64's raw 64-bit output, with rejection of the biased top range, written again."""
    from numpy.random import PCG64

    bits = PCG64(seed)
    batches = []
    while len(batches) < iterations:
        order = list(range(samples))
        i = samples - 1
        while i > 0:
            r = int(bits.random_raw())
            if r >= (2 ** 64 // (i + 1)) * (i + 1):
                continue
            j = r % (i + 1)
            order[i], order[j] = order[j], order[i]
            i -= 1
        for k in range(0, samples, size):
            batches.append(tuple(order[k:k + size]))
    return tuple(batches[:iterations])


@pytest.mark.parametrize("samples, size, iterations, seed", [(6, 2, 6, 3), (7, 3, 10, 0), (5, 5, 3, 12345),
                                                              (4, 1, 9, 2 ** 40)])
def test_batches_against_a_second_shuffle(samples, size, iterations, seed):
    batches = draw_batches(samples, size, iterations, seed)
    assert batches == plain_shuffle_batches(samples, size, iterations, seed)
    per_epoch = math.ceil(samples / size)
    for start in range(0, len(batches) - per_epoch + 1, per_epoch):
        epoch = [k for batch in batches[start:start + per_epoch] for k in batch]
        assert sorted(epoch) == list(range(samples))  # every sample once per epoch


MINIBATCH = load_problem(PROBLEMS / "optimizer-minibatch.yaml")
DATA = [(0, 1.2), (1, 2.8), (2, 5.1), (3, 7.0), (4, 8.9), (5, 11.1)]


def test_minibatch_first_gradient_by_hand():
    solution = MINIBATCH.solve()
    first = plain_shuffle_batches(6, 2, 1, 3)[0]
    # at (0, 0) a sample's gradient is (-x y, -y): the mean over the batch
    assert solution["sgd.g[0][w]"].value == pytest.approx(sum(-DATA[k][0] * DATA[k][1] for k in first) / 2)
    assert solution["sgd.g[0][b]"].value == pytest.approx(sum(-DATA[k][1] for k in first) / 2)
    assert set(first) == {5, 3}  # samples 6 and 4: -(5·11.1 + 3·7)/2 = -38.25, -(11.1 + 7)/2 = -9.05
    assert solution["sgd.g[0][w]"].value == pytest.approx(-38.25)


def test_minibatch_sgd_against_the_plain_implementation_and_differences():
    solution = MINIBATCH.solve(EXACT)
    batches = plain_shuffle_batches(6, 2, 6, 3)
    theta = [0.0, 0.0]
    for t, batch in enumerate(batches):
        def batch_loss(p):
            return sum((y - (p[0] * x + p[1])) ** 2 / 2 for x, y in (DATA[k] for k in batch)) / len(batch)

        g = [sum(-x * (y - theta[0] * x - theta[1]) for x, y in (DATA[k] for k in batch)) / len(batch),
             sum(-(y - theta[0] * x - theta[1]) for x, y in (DATA[k] for k in batch)) / len(batch)]
        for i, p in enumerate(("w", "b")):
            assert solution[f"sgd.g[{t}][{p}]"].value == pytest.approx(g[i], rel=1e-12)
            up, down = list(theta), list(theta)
            up[i] += 1e-6
            down[i] -= 1e-6
            assert g[i] == pytest.approx((batch_loss(up) - batch_loss(down)) / 2e-6, rel=1e-6, abs=1e-8)
        theta = [theta[i] - 0.05 * g[i] for i in range(2)]
        assert [solution[f"sgd.theta[{t + 1}][{p}]"].value for p in ("w", "b")] == pytest.approx(theta, rel=1e-12)
    whole = sum((y - (theta[0] * x + theta[1])) ** 2 / 2 for x, y in DATA) / 6
    assert solution["sgd.loss[6]"].value == pytest.approx(whole, rel=1e-12)


def test_batch_reduction_sum(tmp_path):
    text = (PROBLEMS / "optimizer-minibatch.yaml").read_text(encoding="utf-8") + "batch_reduction: sum\n"
    summed, mean = solved(tmp_path, text), MINIBATCH.solve()
    assert summed["sgd.g[0][w]"].value == pytest.approx(2 * mean["sgd.g[0][w]"].value)


# -- the network ----------------------------------------------------------------------------------

MLP = load_problem(PROBLEMS / "optimizer-mlp.yaml")
MLP_NAMES = ["w1_11", "w1_12", "w1_21", "w1_22", "b1_1", "b1_2", "w2_11", "w2_21", "b2_1"]


def network_loss(p):
    """The hw1-relu network by hand: W^(1) rows = to-neurons, ReLU twice, 1/2 (y - ŷ)^2."""
    w1_11, w1_12, w1_21, w1_22, b1_1, b1_2, w2_11, w2_21, b2_1 = p
    x1, x2 = 0.2, 0.3
    a1 = max(0.0, w1_11 * x1 + w1_21 * x2 + b1_1)  # w1_ij: from input i to hidden j
    a2 = max(0.0, w1_12 * x1 + w1_22 * x2 + b1_2)
    out = max(0.0, w2_11 * a1 + w2_21 * a2 + b2_1)
    return 0.5 * (0.5 - out) ** 2


def test_network_gradients_by_hand_and_by_differences():
    solution = MLP.solve()
    # hw1-relu's back-propagation: e^(2) = 0.28 - 0.5 = -0.22, e^(1) = (0.4, 0.3)·(-0.22) = (-0.088, -0.066)
    hand = {"b2_1": -0.22, "w2_11": -0.22 * 0.3, "w2_21": -0.22 * 0.2, "b1_1": -0.088, "b1_2": -0.066,
            "w1_11": -0.088 * 0.2, "w1_21": -0.088 * 0.3, "w1_12": -0.066 * 0.2, "w1_22": -0.066 * 0.3}
    for name, value in hand.items():
        assert solution[f"momentum.g[0][{name}]"].value == pytest.approx(value, rel=1e-12)
    for t in range(3):
        point = [solution[f"momentum.theta[{t}][{n}]"].value for n in MLP_NAMES]
        assert solution[f"momentum.loss[{t}]"].value == pytest.approx(network_loss(point), rel=1e-12)
        if t == 2:
            break
        for i, name in enumerate(MLP_NAMES):
            up, down = list(point), list(point)
            up[i] += 1e-6
            down[i] -= 1e-6
            difference = (network_loss(up) - network_loss(down)) / 2e-6
            assert solution[f"momentum.g[{t}][{name}]"].value == pytest.approx(difference, rel=1e-6, abs=1e-9)


def test_network_momentum_against_the_plain_implementation():
    solution = MLP.solve()

    def gradient(p):
        return [(network_loss(p[:i] + [p[i] + 1e-7] + p[i + 1:]) - network_loss(p[:i] + [p[i] - 1e-7] + p[i + 1:]))
                / 2e-7 for i in range(len(p))]

    start = [1, 1, 1, -1, -0.2, 0.3, 0.4, 0.3, 0.1]
    expected, _ = plain_run("momentum", gradient, start, 2, 0.5, momentum=0.9)
    got = [[solution[f"momentum.theta[{t}][{n}]"].value for n in MLP_NAMES] for t in range(3)]
    assert flat(got) == pytest.approx(flat(expected), rel=1e-7, abs=1e-9)


# -- printed output -------------------------------------------------------------------------------

def test_golden_each_text(golden):
    golden("optimizer-each.txt", render(EACH_SOLUTION, "text", keys=True))


def test_printed_lines_show_the_lecture_forms():
    text = render(EACH_SOLUTION, "text", keys=True)
    assert "m¹_w1 = λ m⁰_w1 - η g⁰_w1 = 0.9·0 - 0.2·(-0.75) = 0.15   [momentum.m[1][w1]]" in text
    assert "σ⁰_w1 = abs(g⁰_w1) = abs(-0.75) = 0.75   [rmsprop.sigma[0][w1]]" in text


# -- bad input ------------------------------------------------------------------------------------

VALID = """\
kind: optimizer
parameters: [x, y]
loss: x^2 + 10 y^2
start: {x: 1, y: 1}
iterations: 3
optimizers:
  - method: momentum
    learning_rate: 0.1
"""
#  1 kind  2 parameters  3 loss  4 start  5 iterations  6 optimizers  7 method  8 learning_rate


def test_valid_problem_solves(tmp_path):
    assert solved(tmp_path, VALID)["momentum.theta[1][y]"].value == pytest.approx(1 - 0.1 * 20)


FAILURES = [
    (edited(VALID, 7, "  - method: adamw"), "7: optimizers[0].method: expected one of gd, momentum, nesterov, "
                                            "adagrad, rmsprop, adam, summary, got text 'adamw' (did you mean 'adam'?)"),
    (edited(VALID, 8, "    momentum: 0.9"), "7: optimizers[0].learning_rate: missing required field"),
    (edited(VALID, 8, "    learning_rate: -0.1"), "8: optimizers[0].learning_rate: expected a positive number, "
                                                   "got -0.1"),
    (edited(VALID, 8, "    learning_rate: 0"), "8: optimizers[0].learning_rate: expected a positive number, got 0"),
    (edited(VALID, 3, "loss: x^2 + z^2"), "3: loss: unknown name 'z'; variables allowed here: x, y"),
    (edited(VALID, 2, "parameters: [x]"), "3: loss: unknown name 'y'; variables allowed here: x"),
    (edited(VALID, 3, "loss: \"3\""), "3: loss: the loss does not depend on the parameters"),
    (edited(VALID, 4, "start: {x: 1}"), "4: start.y: missing required field"),
    (edited(VALID, 4, "start: {x: 1, y: 1, z: 2}"), "4: start.z: unknown field; expected one of x, y"),
    (edited(VALID, 5, "iterations: 500"), "5: iterations: expected a whole number <= 200, got 500"),
    (edited(VALID, 5, "iterations: 0"), "5: iterations: expected a whole number >= 1, got 0"),
    (extended(VALID, "    schedule: {type: step, every: 2}"), "9: optimizers[0].schedule.factor: missing required "
                                                             "field"),
    (extended(VALID, "    schedule: {type: step, every: 2, factor: 2}"),
     "9: optimizers[0].schedule.factor: expected a number above 0 and at most 1, got 2"),
    (extended(VALID, "    schedule: {type: step, every: 0, factor: 0.5}"),
     "9: optimizers[0].schedule.every: expected a whole number >= 1, got 0"),
    (extended(VALID, "    schedule: {type: exponential}"),
     "9: optimizers[0].schedule.type: expected one of constant, step, linear, inverse_time, got text "
     "'exponential'"),
    (extended(VALID, "    schedule: {type: inverse_time, beta: 0.5, every: 2}"),
     "9: optimizers[0].schedule.every: has no meaning for the inverse_time schedule (it takes beta)"),
    (extended(VALID, "    schedule: {type: inverse_time, beta: -1}"),
     "9: optimizers[0].schedule.beta: expected a positive number, got -1"),
    (extended(VALID, "    schedule: {type: linear, final: -0.1}"),
     "9: optimizers[0].schedule.final: expected a number >= 0, got -0.1"),
    (extended(VALID, "    schedule: {type: constant, warmup: -1}"),
     "9: optimizers[0].schedule.warmup: expected a whole number >= 0, got -1"),
    (extended(VALID, "    schedule: {typ: step}"),
     "9: optimizers[0].schedule.typ: unknown field (did you mean 'type'?)"),
    (extended(VALID, "    alpha: 0.9"), "9: optimizers[0].alpha: has no meaning for method momentum (only for "
                                        "rmsprop, summary)"),
    (extended(VALID, "    form: library"), "9: optimizers[0].form: has no meaning for method momentum (only for "
                                           "adagrad, rmsprop)"),
    (extended(VALID, "    momentum: 1.5"), "9: optimizers[0].momentum: expected a number from 0 up to (not "
                                           "including) 1, got 1.5"),
    (edited(VALID, 7, "  - method: adagrad\n    epsilon: 0.1"),
     "8: optimizers[0].epsilon: has no meaning for the lecture form of adagrad (form: library adds it)"),
    (extended(VALID, "  - method: momentum\n    learning_rate: 0.2"),
     "9: optimizers[1].name: two optimizers are named 'momentum'; give each its own name"),
    (extended(VALID, "optimizers: []"), "9: optimizers: duplicate field (first given at line 6)"),
    (edited(VALID, 6, "optimizers: []") .replace("  - method: momentum\n    learning_rate: 0.1\n", ""),
     "6: optimizers: expected 1 to 8 optimizers, got 0"),
    (extended(VALID, "batch_size: 2"), "9: batch_size: has no meaning without data (a table of samples)"),
    (extended(VALID, "region: {x: [1, -1], y: [0, 1]}"),
     "9: region.x: expected [low, high] with low < high, got [1, -1]"),
    (edited(VALID, 3, "loss: (v - x u)^2\ndata: {u: [1, 2], v: [1]}"),
     "4: data.v: expected 2 values (as many as u), got 1"),
    (edited(VALID, 3, "loss: (y - x)^2\ndata: {x: [1, 2]}"),
     "4: data.x: data variable 'x' is also a parameter's name; choose another name"),
    (edited(VALID, 3, "loss: x^2 + y^2\ndata: {}"), "4: data: expected 1 to 8 data variables, got 0"),
    (edited(VALID, 2, "parameters: [w]\nloss: (y - w x)^2\ndata: {x: [1, 2], y: [1, 2]}\nbatch_size: 3")
     .replace("loss: x^2 + 10 y^2\n", "").replace("start: {x: 1, y: 1}", "start: {w: 0}"),
     "5: batch_size: expected a whole number <= 2, got 3"),
    (edited(VALID, 2, "network: {sizes: [1, 1], layers: [{activation: sigmoid, weights: [[1]]}], "
                      "samples: [{x: [1], y: [1]}]}"),
     "3: loss: has no meaning with network (the network gives the parameters, their start values and the loss)"),
]


@pytest.mark.parametrize("text, expected", FAILURES, ids=[f"{i}-" + f[1].split(":")[1].strip() for i, f in
                                                          enumerate(FAILURES)])
def test_bad_input_one_line(runner, tmp_path, text, expected):
    path = tmp_path / "p.yaml"
    path.write_text(text, encoding="utf-8")
    result = runner.invoke(cli, ["solve", str(path)])
    assert (result.exit_code, result.output) == (2, f"{path}:{expected}\n")


# -- the picture ----------------------------------------------------------------------------------

COMPARE = load_problem(PROBLEMS / "optimizer-compare.yaml")
COMPARE_SOLUTION = COMPARE.solve()


def test_plot_data_golden(golden):
    from derive.plot.trajectories import trajectory_data

    data = trajectory_data(COMPARE, COMPARE_SOLUTION)
    gd, _ = plain_run("gd", lambda p: [0.2 * p[0], 4 * p[1]], [-4, 1], 8, 0.45)
    assert flat(zip(data.trajectories[0].xs, data.trajectories[0].ys)) == pytest.approx(flat(gd))
    assert data.loss[100, 100] == pytest.approx(0.1 * data.xs[100] ** 2 + 2 * data.ys[100] ** 2)
    golden("optimizer-compare-plot.txt", data.describe())


def test_plot_png_and_svg(runner, tmp_path):
    png, first, second = tmp_path / "a.png", tmp_path / "a.svg", tmp_path / "b.svg"
    result = runner.invoke(cli, ["solve", "optimizer-compare", "--plot", str(png)])
    assert result.exit_code == 0
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and struct.unpack(">II", data[16:24]) == (1600, 900)
    from derive.plot import plot_solution

    plot_solution(COMPARE, COMPARE_SOLUTION, first)
    plot_solution(COMPARE, COMPARE_SOLUTION, second)
    assert first.read_bytes() == second.read_bytes()


def test_plot_refuses_more_than_two_parameters(tmp_path):
    from derive.plot import plot_solution

    with pytest.raises(DeriveError) as error:
        plot_solution(MLP, MLP.solve(), tmp_path / "p.png")
    assert str(error.value).endswith("the trajectory picture needs 2 parameters; this problem has 9")


SIGMOID_NETWORK = """\
kind: optimizer
network:
  sizes: [1, 1, 1]
  offset: threshold
  layers:
    - {activation: sigmoid, weights: [[0.5]], thresholds: [0.1]}
    - {activation: sigmoid, weights: [[-0.3]]}
  loss: binary_cross_entropy
  batch: mean
  samples:
    - {x: [1], y: [1]}
    - {x: [-1], y: [0]}
iterations: 2
optimizers:
  - {method: nesterov, learning_rate: 0.5}
  - {method: adam, learning_rate: 0.1}
"""


def test_sigmoid_network_with_thresholds_against_differences(tmp_path):
    """z = w x - θ, two samples averaged, binary cross-entropy; nesterov's gradient at the look-ahead point."""
    solution = solved(tmp_path, SIGMOID_NETWORK)

    def loss(p):
        w1, t1, w2, t2 = p
        total = 0.0
        for x, y in ((1, 1), (-1, 0)):
            out = 1 / (1 + math.exp(-(w2 / (1 + math.exp(-(w1 * x - t1))) - t2)))
            total += -(y * math.log(out) + (1 - y) * math.log(1 - out))
        return total / 2

    names = ["w1_11", "th1_1", "w2_11", "th2_1"]
    for name, at in (("nesterov", "ahead"), ("adam", "theta")):
        for t in range(2):
            point = [solution[f"{name}.{at}[{t}][{n}]"].value for n in names]
            for i, n in enumerate(names):
                up, down = list(point), list(point)
                up[i] += 1e-6
                down[i] -= 1e-6
                difference = (loss(up) - loss(down)) / 2e-6
                assert solution[f"{name}.g[{t}][{n}]"].value == pytest.approx(difference, rel=1e-6, abs=1e-9)
        for t in range(3):
            point = [solution[f"{name}.theta[{t}][{n}]"].value for n in names]
            assert solution[f"{name}.loss[{t}]"].value == pytest.approx(loss(point), rel=1e-12)


# -- the JSON Schema refuses what derive refuses ---------------------------------------

def with_optimizer(index, **fields):
    """A change to a problem: its optimizer `index` with `fields` set."""
    return lambda data: data["optimizers"][index].update(fields)


# a bundled problem, how it is broken, and the field derive names when it refuses it
SCHEMA_REFUSED = [
    ("optimizer-each", lambda data: data.update(iteration=3), "iteration"),  # an unknown field
    ("optimizer-each", with_optimizer(0, method="adamw"), "optimizers[0].method"),
    ("optimizer-each", with_optimizer(0, schedule={"type": "step", "every": 2, "factor": 2}),
     "optimizers[0].schedule.factor"),
    ("optimizer-each", with_optimizer(1, alpha=0.5), "optimizers[1].alpha"),
    ("optimizer-mlp", lambda data: data["network"].update(loss="cross_entropy"), "network.loss"),
]


@pytest.mark.parametrize("name, change, named", SCHEMA_REFUSED, ids=[named for _, _, named in SCHEMA_REFUSED])
def test_the_schema_refuses_what_derive_refuses(tmp_path, name, change, named):
    data = yaml.safe_load((PROBLEMS / f"{name}.yaml").read_text(encoding="utf-8"))
    change(data)
    assert list(jsonschema.Draft202012Validator(schema("optimizer")).iter_errors(data)), "the schema accepted it"
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    with pytest.raises(ProblemError, match=re.escape(f": {named}: ")):
        load_problem(path)
