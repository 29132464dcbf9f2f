"""A wide network in matrix notation: a 784-100-10 network, a batch of 32, solved, printed and graded.

Prints, in one run (each figure the median of --runs):
- the wall time of one `derive solve` process on the generated problem
  (its YAML read, the solution built and printed with the matrices'
  corners), and of `python -c "import sympy"` beside it;
- in-process: a plain numpy forward/backward and update of the same
  network; the numeric work inside the solve (every step's matrix formula
  evaluated once, as the solve does) and its ratio to that; the whole solve
  (that work and the building of the Solution's steps and notes, the YAML
  already read); then the text printing;
- grading a sheet of --answers per-entry answers (some wrong, some carried
  forward), in-process (the sheet read and graded, the Grader built once)
  and as one `derive grade` process.

The problem file is generated here (seeded: the same file every run), in a
temporary directory: the weights drawn by the file's `init` (uniform in
±0.05, 4 decimals: 79,400 weights in one line), 32 inputs in [0, 1)
(2 decimals, 25,088 numbers written out), one-hot targets. With --written,
the weights are written out too (a 0.8 MB file), to see what reading costs.

Targets (printed, never asserted by a test): the `derive solve` process
< 2 s; the numeric work inside the solve within 3x of the plain numpy pass
(the printed steps being the rest); the sheet graded in-process in < 1 s.

Usage: python bench/matrix.py [--runs N] [--answers N]
"""

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # as derive sets it (derive/__init__.py), before numpy loads

import numpy as np  # noqa: E402
import yaml  # noqa: E402

from timing import median_wall_time

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from derive.grading.grader import Grader  # noqa: E402
from derive.grading.sheet import read_sheet  # noqa: E402
from derive.problem import load_problem  # noqa: E402
from derive.render import render  # noqa: E402
from derive.steps import EXACT, evaluate_formula  # noqa: E402

SIZES, SAMPLES = (784, 100, 10), 32
ITEMS = ["delta[*][1][*]", "grad_w[2][*][*]", "grad_b[*][*]", "z[*][2][*]", "yhat[*][*]", "loss"]


def write_problem(folder, written=False):
    rng = np.random.default_rng(784)
    layers = [{"activation": activation, "biases": [0] * n_to} for activation, n_to in (("sigmoid", 100), ("softmax", 10))]
    if written:
        for layer, (n_from, n_to) in zip(layers, ((784, 100), (100, 10))):
            layer["weights"] = rng.uniform(-0.05, 0.05, (n_to, n_from)).round(4).tolist()
    classes = rng.integers(0, 10, SAMPLES)
    data = {"kind": "mlp_backprop", "title": "A 784-100-10 network, a batch of 32", "notation": "matrix",
            "sizes": list(SIZES), "weights_layout": "to_from", "offset": "bias", "loss": "cross_entropy",
            "batch": "mean", "learning_rate": 0.1, "layers": layers,
            "samples": [{"x": rng.uniform(0, 1, 784).round(2).tolist(), "y": [int(j == c) for j in range(10)]}
                        for c in classes],
            "grading": {"items": ITEMS}}
    if not written:
        data["init"] = {"seed": 784, "scale": 0.05, "distribution": "uniform", "decimals": 4}
    path = folder / "wide.yaml"
    path.write_text(yaml.safe_dump(data, default_flow_style=None, width=1 << 20), encoding="utf-8")
    return path


def numpy_step(weights, biases, x, y, eta):
    """The plain numpy pass the solve is measured against: forward, loss, backward, gradients, update."""
    z1 = weights[0] @ x + biases[0]
    a1 = 1 / (1 + np.exp(-z1))
    z2 = weights[1] @ a1 + biases[1]
    e = np.exp(z2 - z2.max(axis=0))
    yhat = e / e.sum(axis=0)
    loss = -(y * np.log(yhat)).sum(axis=0).mean()
    e2 = yhat - y
    e1 = a1 * (1 - a1) * (weights[1].T @ e2)
    m = x.shape[1]
    grads = (e1 @ x.T / m, e1.sum(axis=1, keepdims=True) / m, e2 @ a1.T / m, e2.sum(axis=1, keepdims=True) / m)
    return loss, [weights[0] - eta * grads[0], biases[0] - eta * grads[1], weights[1] - eta * grads[2],
                  biases[1] - eta * grads[3]]


def median_time(function, runs):
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def write_sheet(folder, solution, answers):
    """Per-entry answers of the graded items: most right, some wrong, some carried forward from a wrong one."""
    from derive.grading.config import match_keys
    from derive.grading.matrix import gradable_keys
    from derive.matrix import EntryIndex

    index = EntryIndex(solution)
    keys = [key for pattern in ITEMS for key in match_keys(pattern, gradable_keys(solution, index))
            if key not in solution][:answers]
    lines = ["id: bench"]
    for n, key in enumerate(keys):
        step_key, row, col = index.find(key)
        value = float(solution[step_key].value[row, col])
        if n % 50 == 7:
            value += 0.5  # a wrong entry
        lines.append(f"{key}: {value:.6g}")
    path = folder / "sheet.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path, len(keys)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--answers", type=int, default=5000)
    parser.add_argument("--written", action="store_true", help="write the weights out instead of drawing them")
    arguments = parser.parse_args()
    runs = arguments.runs
    folder = Path(tempfile.mkdtemp(prefix="derive-bench-"))
    try:
        problem_path = write_problem(folder, arguments.written)
        script = shutil.which("derive")
        derive = [script] if script else [sys.executable, "-m", "derive"]
        solve, baseline = derive + ["solve", str(problem_path)], [sys.executable, "-c", "import sympy"]
        process, sympy_only = [], []
        for _ in range(runs):  # interleaved, so that machine load affects both alike
            process.append(median_wall_time(solve, 1))
            sympy_only.append(median_wall_time(baseline, 1))
        t, b = statistics.median(process), statistics.median(sympy_only)
        print(f"derive solve (784-100-10, batch 32, matrix form): {t * 1000:7.1f} ms   (target < 2000 ms)")
        print(f"python -c 'import sympy':                         {b * 1000:7.1f} ms   ratio {t / b:.2f}")

        problem = load_problem(problem_path)
        spec = problem.spec
        weights = [np.array(layer.weights).T for layer in spec.layers]
        biases = [np.array(layer.offsets).reshape(-1, 1) for layer in spec.layers]
        x = np.array([x for x, _ in spec.samples]).T
        y = np.array([y for _, y in spec.samples]).T
        solved = median_time(lambda: problem.solve(EXACT), runs)
        computed = [step for step in problem.solve(EXACT) if not step.is_given and not step.is_symbolic]
        values = {step.key: step.value for step in problem.solve(EXACT)}
        numeric = median_time(lambda: [evaluate_formula(step.formula, values, step.key) for step in computed],
                              max(runs, 20))
        plain = median_time(lambda: numpy_step(weights, biases, x, y, spec.learning_rate), max(runs, 20))
        solution = problem.solve(EXACT)
        printed = median_time(lambda: render(solution, "text"), runs)
        loss, _ = numpy_step(weights, biases, x, y, spec.learning_rate)
        assert abs(loss - solution["loss"].value) < 1e-12
        print(f"solve in-process:                                 {solved * 1000:7.1f} ms   ratio to plain numpy "
              f"{solved / plain:.2f}")
        print(f"{'numeric work inside the solve (' + str(len(computed)) + ' formulas):':50}{numeric * 1000:7.1f} ms   "
              f"ratio to plain numpy {numeric / plain:.2f}   (target <= 3)")
        print(f"plain numpy forward/backward/update:              {plain * 1000:7.1f} ms")
        print(f"text printing of the solution:                    {printed * 1000:7.1f} ms "
              f"({len(render(solution, 'text').splitlines())} lines)")

        sheet_path, count = write_sheet(folder, solution, arguments.answers)
        built = time.perf_counter()
        grader = Grader(problem)
        built = time.perf_counter() - built
        known = grader.known_keys
        graded = median_time(lambda: grader.grade(read_sheet(sheet_path, known)), runs)
        result = grader.grade(read_sheet(sheet_path, known))
        codes = {code: sum(v.code == code for v in result.verdicts) for code in ("OK", "FT", "WRONG", "MISSING")}
        print(f"grading a sheet of {count} per-entry answers:       {graded * 1000:7.1f} ms   (target < 1000 ms; "
              f"the Grader built once in {built * 1000:.0f} ms; {codes})")
        whole = median_wall_time(derive + ["grade", str(problem_path), str(sheet_path)], runs)
        print(f"derive grade (one process, that sheet):           {whole * 1000:7.1f} ms")
    finally:
        shutil.rmtree(folder)


if __name__ == "__main__":
    main()
