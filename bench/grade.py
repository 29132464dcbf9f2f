"""Grading speed on 1,000 generated answer sheets of the lecture problem.

Prints, in one run:
- sheets per second graded in-process (reading each sheet file and grading it);
- the same for a naive baseline on a sample of the same sheets: every item
  re-derived (the problem solved again) and every expression compared with
  `sympy.simplify(a - b) == 0`; and the ratio of the two;
- the same sheets graded without naming the slips behind wrong answers, and
  the cost of that diagnosis as a ratio (with / without);
- the wall time of one `derive grade` process over the whole directory,
  start-up included.

Targets on a 2-core machine: >= 1,000 sheets/s in-process when grading
alone (without naming slips), ratio >= 50x, the diagnosis at most 2x the
grading time without it, the whole directory in < 5 s.
Usage: python bench/grade.py [--sheets N] [--baseline-sample N]
"""

import argparse
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from derive.grading.grader import Grader  # noqa: E402
from derive.problem import load_problem  # noqa: E402
from derive.grading.sheet import read_sheet  # noqa: E402

PROBLEM = ROOT / "derive" / "problems" / "lecture-bp-3layer.yaml"
EXPRESSIONS = ["s*(1-s)", "s(1-s)", "exp(-x)/(1+exp(-x))^2", "sigmoid(x)*(1-sigmoid(x))", "σ(1-σ)",
               "1 - s", "s*(1+s)", "e^(-x)/(1+e^(-x))^2", "f(1-f)"]


def make_sheets(grader, count, folder, seed=7):
    """A realistic mix: right (rounded or exact chain), follow-through, wrong, missing, expressions."""
    rng = random.Random(seed)
    rounded, exact = grader.rounded_values, grader.exact_values
    chain_break = grader.exact.evaluate({"delta[3][1]": -0.05}) if grader.rounded is None else \
        grader.rounded.evaluate({"delta[3][1]": -0.05})
    for n in range(count):
        kind = rng.random()
        lines = [f"id: s{n:05d}"]
        for key in grader.items:
            if key.startswith("fprime"):
                lines.append(f'{key}: "{rng.choice(EXPRESSIONS)}"')
                continue
            r = rng.random()
            if r < 0.08:
                continue  # missing
            if kind < 0.25:
                value = chain_break[key]  # a wrong delta carried through: follow-through
            elif r < 0.15:
                value = rounded[key] * rng.choice([1.1, -1, 0.5])  # wrong, or the sign
            elif r < 0.5:
                value = round(exact[key], 6)  # the exact chain
            else:
                value = rounded[key]  # the lecture's rounded chain
            lines.append(f"{key}: {value!r}")
        (folder / f"s{n:05d}.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return sorted(folder.glob("*.yaml"))


def grade_all(grader, paths):
    known = set(grader.exact_values)
    return [grader.grade(read_sheet(path, known)) for path in paths]


def timed_grading(grader, paths):
    """(seconds, wrong answers a slip was named for); the results are dropped before returning,
    so that one run's garbage does not slow the next."""
    start = time.perf_counter()
    results = grade_all(grader, paths)
    seconds = time.perf_counter() - start
    return seconds, sum(1 for result in results for v in result.verdicts if v.slip)


def naive_grade(problem, paths):
    """Every item re-derived, every expression compared with sympy.simplify(a - b) == 0."""
    import sympy

    from derive.expr import parse_expression
    from derive.grading.grader import answer_variables
    from derive.steps import EXACT

    scores = []
    for path in paths:
        sheet = read_sheet(path, set(problem.solve(EXACT).values()))
        score = 0
        for key, answer in sheet.answers.items():
            step = problem.solve(EXACT)[key]  # re-derived for every item
            if step.is_symbolic:
                variable, names = answer_variables(step)
                try:
                    score += sympy.simplify(parse_expression(answer.text, names) - step.value) == 0
                except Exception:
                    pass  # an answer the baseline cannot read scores nothing
            elif answer.number is not None:
                score += abs(answer.number - step.value) <= 5e-5
        scores.append(score)
    return scores


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sheets", type=int, default=1000)
    parser.add_argument("--baseline-sample", type=int, default=10)
    args = parser.parse_args()
    problem = load_problem(PROBLEM)
    folder = Path(tempfile.mkdtemp(prefix="derive-bench-"))
    try:
        paths = make_sheets(Grader(problem), args.sheets, folder)

        # Fresh graders (nothing cached from generating the sheets), with and without naming the
        # slips, alternately; the best of two runs of each.
        runs = {True: [], False: []}
        for diagnose in (True, False, True, False):
            seconds, diagnosed_here = timed_grading(Grader(problem, diagnose=diagnose), paths)
            runs[diagnose].append(seconds)
            diagnosed = diagnosed_here if diagnose else diagnosed
        with_slips, without_slips = min(runs[True]), min(runs[False])
        ours = len(paths) / with_slips

        sample = paths[: args.baseline_sample]
        start = time.perf_counter()
        naive_grade(problem, sample)
        naive = len(sample) / (time.perf_counter() - start)

        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "derive", "grade", str(PROBLEM), str(folder)],
                       stdout=subprocess.DEVNULL, check=False)
        whole = time.perf_counter() - start
    finally:
        shutil.rmtree(folder)
    print(f"in-process:  {len(paths) / without_slips:8.0f} sheets/s  (grading alone, {len(paths)} sheets; "
          "target >= 1000)")
    print(f"             {ours:8.0f} sheets/s  (with the slips named)")
    print(f"naive:       {naive:8.2f} sheets/s  (a sample of {len(sample)} of the same sheets)")
    print(f"ratio:       {ours / naive:8.0f}x        (target >= 50x)")
    print(f"no slips:    {without_slips:8.2f} s        (grading the {len(paths)} sheets without diagnosis)")
    print(f"slips:       {with_slips:8.2f} s        (with diagnosis: {diagnosed} wrong answers named)")
    print(f"diagnosis:   {with_slips / without_slips:8.2f}x        (with / without; target <= 2x)")
    print(f"one process: {whole:8.2f} s        (derive grade on the {len(paths)}-sheet directory; target < 5 s)")


if __name__ == "__main__":
    main()
