"""Wall time of `derive solve` on the critical points of small deep linear networks, beside a plain SymPy analysis.

The networks of lecture 10's example made deeper or wider: 1-1-1-1, 1-2-1 and
2-1-1 with one and two samples, 2-2-1 with two (3 to 6 parameters, squared
error). Each is timed as a whole process, start-up included (one warm-up run,
then the median of `--runs`). The baseline, in the same run and the same way,
is what a reader would type into SymPy: `solve` ∇L = 0, then at each solution
the Hessian's `eigenvals()` (no verdicts decided, no families examined
symbolically along their points, no check by a numeric search); the ratio
says what the full analysis costs beyond it.

Target: every network under 3 s.
Usage: python bench/critical.py [--runs N]
"""

import argparse
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

from timing import median_wall_time

TARGET_SECONDS = 3.0

# name: (parameters, ŷ as a problem file writes it, ŷ in Python syntax for the baseline, inputs, samples (inputs..., y))
NETWORKS = {
    "1-1-1-1": ("w1, w2, w3", "w1 w2 w3 x1", "w1*w2*w3*x1", ["x1"], [(1, 1)]),
    "1-2-1": ("w1, w2, v1, v2", "v1 w1 x1 + v2 w2 x1", "v1*w1*x1 + v2*w2*x1", ["x1"], [(1, 1)]),
    "1-2-1, two samples": ("w1, w2, v1, v2", "v1 w1 x1 + v2 w2 x1", "v1*w1*x1 + v2*w2*x1", ["x1"],
                           [(1, 1), (2, 1)]),
    "2-1-1": ("w1, w2, v", "v (w1 x1 + w2 x2)", "v*(w1*x1 + w2*x2)", ["x1", "x2"], [(1, 2, 1)]),
    "2-1-1, two samples": ("w1, w2, v", "v (w1 x1 + w2 x2)", "v*(w1*x1 + w2*x2)", ["x1", "x2"],
                           [(1, 0, 1), (0, 1, 2)]),
    "2-2-1, two samples": ("w11, w12, w21, w22, v1, v2", "v1 (w11 x1 + w12 x2) + v2 (w21 x1 + w22 x2)",
                           "v1*(w11*x1 + w12*x2) + v2*(w21*x1 + w22*x2)", ["x1", "x2"], [(1, 0, 1), (0, 1, 2)]),
}

BASELINE = """
import ast, sys, sympy
parameters = sympy.symbols(sys.argv[1].replace(",", " "))
output = sympy.sympify(sys.argv[2])
inputs = sympy.symbols(sys.argv[3], seq=True)
loss = sum((s[-1] - output.subs(dict(zip(inputs, s[:-1])))) ** 2 for s in ast.literal_eval(sys.argv[4]))
gradient = [sympy.diff(loss, p) for p in parameters]
hessian = sympy.hessian(loss, parameters)
for solution in sympy.solve(gradient, parameters, dict=True):
    hessian.subs(solution).eigenvals()
"""


def problem_text(parameters, output, inputs, samples):
    rows = "".join("    - {" + ", ".join(f"{name}: {value}" for name, value in zip(inputs, sample[:-1]))
                   + f", y: {sample[-1]}}}\n" for sample in samples)
    return (f"kind: critical_points\nparameters: [{parameters}]\nmodel:\n  output: {output}\n"
            f"  inputs: [{', '.join(inputs)}]\n  samples:\n{rows}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="timed runs per network (default 3)")
    runs = parser.parse_args().runs
    script = shutil.which("derive")
    derive = [script] if script else [sys.executable, "-m", "derive"]
    print(f"{'network':22} {'derive solve':>13} {'plain SymPy':>12} {'ratio':>6}")
    slowest = 0.0
    with tempfile.TemporaryDirectory() as folder:
        for name, (parameters, output, python, inputs, samples) in NETWORKS.items():
            path = Path(folder) / (name.replace(" ", "").replace(",", "_") + ".yaml")
            path.write_text(problem_text(parameters, output, inputs, samples), encoding="utf-8")
            baseline = [sys.executable, "-c", BASELINE, parameters, python, " ".join(inputs), repr(samples)]
            tool, plain = [], []
            for _ in range(runs):  # interleaved, so that machine load affects both alike
                tool.append(median_wall_time(derive + ["solve", str(path)], 1))
                plain.append(median_wall_time(baseline, 1))
            t, b = statistics.median(tool), statistics.median(plain)
            slowest = max(slowest, t)
            print(f"{name:22} {t:12.2f}s {b:11.2f}s {t / b:6.2f}")
    verdict = "met" if slowest < TARGET_SECONDS else "NOT met"
    print(f"slowest: {slowest:.2f} s (target < {TARGET_SECONDS:g} s: {verdict})")


if __name__ == "__main__":
    main()
