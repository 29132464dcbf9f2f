"""Grading speed at course scale: diverse generated answer sheets of the lecture problem.

Prints, in one run (each figure the median of --repeats runs, each in-process
run with a fresh Grader, so nothing is cached from an earlier run):
- sheets per second graded in-process with the slips named (reading each
  sheet file and grading it), on --sheets diverse sheets and on a 100-sheet
  class, and without naming the slips;
- the same for a fair naive baseline on a sample of the same sheets: the
  expected values computed once, then per numeric item a tolerance check and
  per expression item `sympy.simplify(sympify(answer) - expected) == 0`; and
  the ratio derive / baseline, measured in the same run;
- reading alone, per 1,000 sheets, for --sheets and for --class-sheets
  sheets (linear when the two agree);
- sheets per second graded one `derive.grade` call per sheet (the problem's
  set-up kept between calls), on the 100-sheet class, and the ratio to the
  set-up made anew for each call, measured on a few of them in the same run;
- the wall time of one `derive grade` process over --class-sheets sheets,
  start-up and the report included, derive's modules compiled to bytecode
  first as an installed package has them (and the fastest of the runs).

The sheets are what a class writes: numbers with 3 to 8 decimals or an
exponent, the exact chain, the lecture's rounded chain, a wrong early value
carried through, slips, gaps; expressions in many equivalent and wrong
forms, spaced and starred as people type them.

Targets on a 2-core machine (printed, never asserted by a test): >= 2,000
sheets/s in-process with the slips named, on the diverse sheets and on the
100-sheet class; >= 20x the fair baseline; reading linear in the number of
sheets; one `derive grade` over 10,000 sheets in < 5 s.

Measured on the 2-core machine (a shared one: the same code measures up to 25% apart run to run, so
a round too small to show above that is compared by the Python calls it makes, counted by cProfile, or the
instructions it runs, counted by valgrind):
- an earlier round, 735 -> 995 sheets/s with the slips named, the 100-sheet class 276 -> 437, one
  `derive grade` over 10,000 sheets 8.1 -> 7.3 s: numbers graded without a per-answer timer, implied
  values evaluated only for the steps a follow-through needs, slip variants tried only where they can
  explain, calculations made only for reports that show them, one pickler whose memo lasts between the
  grading children and the parent, the class summary counted by distinct verdict;
- a round before, 540-710 sheets/s, the class 240-300, one process 7.1-10.4 s, ratio 40-47x: hot
  formulas compiled to bytecode, a sheet's own numbers found once per sheet, variant words printed only
  when a report shows them, an activation's derivative and a key's neighbours found once, each expected
  expression printed once for its points' seed (Python calls for 1,000 diverse sheets 3.55 -> 3.22 million,
  for a 100-sheet class 1.21 -> 1.01 million);
- the round before the latest, 716-863 sheets/s, the class 349-408, one process 5.8-7.4 s (interleaved with the code
  before it, 6.3-7.0 s against 8.4-9.6 s), ratio 43-47x, reading 0.07-0.10 s per 1,000 sheets (was 0.15):
  a sheet's lines each read once for a class, an expression's verdict kept for everyone who writes its
  text, a sheet's own numbers standing in for the correct ones in one environment per chain for all its
  items, the right value there computed only where a variant lands, the class report counted in one pass;
  the parent reading results every 20 ms from 1 MB pipes instead of waking for each, and handing each child
  the next sheets as it finishes (about 0.25 s of them), so that a child on a slower core or held up by a
  hard sheet grades fewer. Counted: Python calls for 1,000 diverse sheets from cold 3.12 -> 2.53 million,
  a 100-sheet class 0.70 -> 0.65 million, grading 1,000 more sheets once the class's forms are known 1.50 -> 1.33
  million, reading 1,000 sheets 0.68 -> 0.33 million; one `derive grade` over 10,000 sheets, 13-15 s of
  CPU -> 10-12 s;
- the latest round, one `derive grade` over 10,000 sheets, 8 runs interleaved with the code before it:
  median 5.85 -> 5.49 s, fastest 5.02 -> 4.59 s, both with their modules' bytecode compiled (the same output,
  byte for byte; in this benchmark, a median of 4.98 s and a fastest of 4.68 s at a quiet time, single runs
  of 5.15, 5.21 and 6.74 s at busier ones): the collector. After
  the grading children are done, the parent's first collection walked every object of every verdict
  received (0.12 s), the reports' collections walked them again, and the collection at exit walked the
  whole heap (0.15 s); `derive grade` now keeps the collector off while the results come in and then
  freezes them, and exits without that last walk (0.05 s). A grading child collected the class's
  remembered values 7 times per 5,000 sheets (0.07-0.1 s); it now waits for a million more live objects,
  which grading 5,000 sheets does not reach. Tried and measured to gain nothing (instructions counted by
  valgrind, the same in every run): a step's slip variants compiled into one function evaluating all of
  them (some 10% more instructions: most variant values on a student's numbers are remembered from other students,
  which one call for all gives up); the variants that round one formula's result to different places
  sharing its value before rounding (+1.2%: the lookups cost what the evaluations saved); variants
  compiled to bytecode after 150 evaluations instead of 1,000
  (-0.5%); sheets read in batches ahead of grading (the same instructions and simulated cache misses);
  each chain's variant values kept sorted per set of a student's differing numbers, searched by bisection
  (no fewer instructions: a third of the searches repeat such a set); exp(k x) written t^k before SymPy cancels a right
  expression's difference (slower once SymPy's own cache serves the present path).
- this round: `derive.grade` keeps a problem's set-up between calls, so a script grading a class one call
  per sheet pays it once (a 100-sheet class that way, 23 -> 256-280 sheets/s, 8-9x the set-up made anew per
  call in the same run; 1,000 sheets 418/s); an expression answer is parsed once per sequence of tokens
  (the 373 distinct texts of σ' in 5,000 sheets are 26 sequences: parsing 1,000 diverse sheets' answers
  0.077 -> 0.006 s; valgrind, 2,500 sheets in process, 9.72 -> 9.57 G instructions, -1.6%); `derive grade`
  over 10,000 sheets gives the same output, byte for byte (5 runs interleaved with the code before, at a busy
  time: median 5.97 -> 5.43 s, within the noise).
Not met: 2,000 sheets/s with the slips named, on diverse sheets and on a 100-sheet class, and < 5 s (met by
the fastest runs only).
Where the time goes, for one of the two grading children of a 10,000-sheet run (5,000 sheets, 3.8-4.5 s of
CPU, timed inside the child's loop): reading, 0.96-1.05 s; naming slips, 0.99-1.11 s (18,386 wrong numbers
searched, 54-60 us each: some 7 variants tried each, 2.8 of them evaluated anew); the 15 distinct
expressions decided, 0.23 s; the slip variants of the 37 steps, 0.09-0.11 s; the rest of grading, about
1.8 s; the collector, now nothing. The parent: start-up 0.43-0.53 s (its imports 0.32-0.41 s, SymPy's most
of them), receiving 0.3 s of CPU while the children work, the report 0.33-0.5 s (the per-item summary 0.2 s,
a line per student 0.2 s). In process, with the collector as Python sets it, its full collections take
0.05-0.1 s of 1,000 sheets. A 100-sheet class's budget at 2,000 sheets/s, 0.05 s, is a sixth of the
per-problem set-up alone (0.3 s from cold: the expressions decided, the slip variants made): the
in-process targets need that set-up kept between runs, or made several times cheaper, and the slips of a
class sought item by item as arrays rather than sheet by sheet.
Usage: python bench/grade.py [--sheets N] [--class-sheets N] [--baseline-sample N] [--repeats N]
"""

import argparse
import compileall
import gc
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from derive import api  # noqa: E402
from derive.grading.grader import Grader  # noqa: E402
from derive.grading.sheet import read_sheet  # noqa: E402
from derive.problem import load_problem  # noqa: E402

PROBLEM = ROOT / "derive" / "problems" / "lecture-bp-3layer.yaml"
# σ'(x) as students write it, right and wrong; each is then spaced and starred at random
RIGHT_FORMS = ["s*(1-s)", "s(1-s)", "s-s^2", "(1-s)*s", "σ(1-σ)", "sigma*(1-sigma)", "f(1-f)", "h*(1-h)",
               "f(x)*(1-f(x))", "sigmoid(x)*(1-sigmoid(x))", "exp(-x)/(1+exp(-x))^2", "e^(-x)/(1+e^(-x))^2",
               "exp(x)/(1+exp(x))^2", "1/(1+exp(-x))*(1-1/(1+exp(-x)))"]
WRONG_FORMS = ["1-s", "s*(1+s)", "s^2", "exp(-x)/(1+exp(-x))", "s*(1-s)^2", "-s*(1-s)", "1-s^2",
               "exp(x)/(1+exp(-x))^2", "x*(1-x)", "sigmoid(x)^2", "s(1-s", "1/(1+exp(-x))"]
WRONG_DELTAS = [-0.05, -0.04, 0.1, -0.2, 0.03]  # a wrong δ³₁ that a student then carries through


def typed(rng, form):
    """`form` as one student types it: spaces around some operators, `**` for some powers."""
    out = []
    for char in form:
        if char == "^" and rng.random() < 0.3:
            char = "**"
        if char in "+-*/" and out and rng.random() < 0.4:
            out.append(f" {char} ")
        else:
            out.append(char)
    return "".join(out)


def written(rng, value):
    """A number as one student writes it: 3 to 8 decimals, all of them, or an exponent."""
    r = rng.random()
    if r < 0.75:
        return f"{value:.{rng.choice([3, 4, 4, 5, 5, 6, 7, 8])}f}"
    if r < 0.95:
        return repr(value)
    return f"{value:.4e}"


def make_sheets(grader, count, folder, seed=7):
    """`count` diverse sheets: right (rounded or exact chain), follow-through, wrong, missing, expressions."""
    rng = random.Random(seed)
    rounded, exact = grader.rounded_values, grader.exact_values
    chain = grader.rounded or grader.exact
    breaks = [chain.evaluate({"delta[3][1]": wrong}) for wrong in WRONG_DELTAS]
    for n in range(count):
        kind = rng.random()
        chain_break = rng.choice(breaks)
        lines = [f"id: s{n:05d}"]
        for key in grader.items:
            if grader.exact[key].is_symbolic:
                forms = RIGHT_FORMS if rng.random() < 0.7 else WRONG_FORMS
                lines.append(f'{key}: "{typed(rng, rng.choice(forms))}"')
                continue
            r = rng.random()
            if r < 0.06:
                continue  # missing
            if kind < 0.25:
                value = chain_break[key]  # a wrong δ carried through: follow-through
            elif r < 0.11:
                value = rounded[key] * rng.choice([1.1, -1, 0.5, 2, 0.9])  # a slip, or the sign
            elif r < 0.17:
                value = rounded[key] * rng.uniform(0.5, 1.5)  # wrong
            elif r < 0.5:
                value = exact[key]  # the exact chain
            else:
                value = rounded[key]  # the lecture's rounded chain
            lines.append(f"{key}: {written(rng, value)}")
        (folder / f"s{n:05d}.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return sorted(folder.glob("*.yaml"))


def timed(function, *args):
    """CPU seconds `function(*args)` takes, its garbage collected before the clock starts: on a machine
    whose cores are shared, this process's own time, not the others'."""
    gc.collect()
    start = time.process_time()
    function(*args)
    return time.process_time() - start


def grade_all(problem, paths, diagnose=True, calculations=False):
    """Each sheet read and graded by a fresh Grader (made inside the timing: a class pays for it), without
    the verdicts' calculations unless asked for, as `derive grade` does when its reports show none."""
    grader = Grader(problem, diagnose=diagnose, calculations=calculations)
    known = set(grader.exact_values)
    return [grader.grade(read_sheet(path, known)) for path in paths]


def grade_calls(paths):
    """Each sheet graded by its own `derive.grade` call, as a script grading a class one call per sheet
    does: the first call makes the problem's set-up (inside the timing), the others reuse it. Each verdict
    has its calculation, as `derive.grade` gives one sheet."""
    api._KEPT.clear()
    for path in paths:
        api.grade(str(PROBLEM), path)


def grade_each_anew(problem, paths):
    """The same, with the problem's set-up made anew for every sheet (as `derive.grade` did before it kept
    it): the fair baseline of `grade_calls`."""
    for path in paths:
        grader = Grader(problem)
        grader.grade(read_sheet(path, grader.known_keys))


def grade_more(problem, warm, paths):
    """Sheets graded by a Grader that has graded a class already (`warm`): the cost of one sheet more."""
    grader = Grader(problem, calculations=False)
    known = set(grader.exact_values)
    for path in warm:
        grader.grade(read_sheet(path, known))
    start = time.process_time()
    for path in paths:
        grader.grade(read_sheet(path, known))
    return len(paths) / (time.process_time() - start)


def read_all(known, paths):
    """Each sheet read and dropped, as the grading child drops it once its result is sent (a list of
    10,000 sheets kept alive is walked by each of the collector's full passes: reading is then +30-50%)."""
    for path in paths:
        read_sheet(path, known)


def naive_grade(problem, paths):
    """The fair baseline: expected values computed once; per numeric item a tolerance check (either
    chain, 5e-5), per expression item `sympy.simplify(sympify(answer) - expected) == 0`."""
    import sympy

    from derive.steps import EXACT

    exact = problem.solve(EXACT)
    expected = exact.values()
    rounded = problem.solve().values()
    symbolic = {step.key for step in exact if step.is_symbolic}
    known = set(expected)
    scores = []
    for path in paths:
        sheet = read_sheet(path, known)
        score = 0
        for key, answer in sheet.answers.items():
            if key in symbolic:
                try:
                    score += sympy.simplify(sympy.sympify(answer.text) - expected[key]) == 0
                except Exception:
                    pass  # an answer the baseline cannot read scores nothing
            elif answer.number is not None:
                score += abs(answer.number - expected[key]) <= 5e-5 or abs(answer.number - rounded[key]) <= 5e-5
        scores.append(score)
    return scores


def distinct_answers(paths, known):
    return len({(key, answer.text) for path in paths for key, answer in read_sheet(path, known).answers.items()})


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sheets", type=int, default=1000)
    parser.add_argument("--class-sheets", type=int, default=10000, help="sheets in the one-process run")
    parser.add_argument("--baseline-sample", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    problem = load_problem(PROBLEM)
    grader = Grader(problem)
    known = set(grader.exact_values)
    folder = Path(tempfile.mkdtemp(prefix="derive-bench-"))
    try:
        everything = make_sheets(grader, max(args.sheets, args.class_sheets), folder)
        paths, small = everything[:args.sheets], everything[:100]
        sample = paths[:args.baseline_sample]
        distinct = distinct_answers(paths, known)
        more = everything[args.sheets:2 * args.sheets] or paths
        anew = small[:args.baseline_sample // 5 or 1]
        runs = {name: [] for name in ("slips", "calculations", "alone", "class", "more", "calls", "anew", "naive",
                                      "read", "read all")}
        for _ in range(args.repeats):  # interleaved, so a busy moment of the machine touches each alike
            runs["slips"].append(len(paths) / timed(grade_all, problem, paths))
            runs["calculations"].append(len(paths) / timed(grade_all, problem, paths, True, True))
            runs["alone"].append(len(paths) / timed(grade_all, problem, paths, False))
            runs["class"].append(len(small) / timed(grade_all, problem, small))
            runs["more"].append(grade_more(problem, paths, more))
            runs["calls"].append(len(small) / timed(grade_calls, small))
            runs["anew"].append(len(anew) / timed(grade_each_anew, problem, anew))
            runs["naive"].append(len(sample) / timed(naive_grade, problem, sample))
            runs["read"].append(timed(read_all, known, paths) * 1000 / len(paths))
            runs["read all"].append(timed(read_all, known, everything) * 1000 / len(everything))
        ratios = [slips / naive for slips, naive in zip(runs["slips"], runs["naive"])]
        median = {name: statistics.median(values) for name, values in runs.items()}

        # as an installed package has it (pip compiles it), whatever PYTHONDONTWRITEBYTECODE says: else each
        # run compiles derive's modules anew, 0.2-0.3 s that no user's run pays
        compileall.compile_dir(str(ROOT / "derive"), quiet=1)
        wholes = []
        for _ in range(args.repeats):  # one run's wall time on a shared machine is as much the others' as ours
            start = time.perf_counter()
            subprocess.run([sys.executable, "-m", "derive", "grade", str(PROBLEM), str(folder)],
                           stdout=subprocess.DEVNULL, check=False)
            wholes.append(time.perf_counter() - start)
    finally:
        shutil.rmtree(folder)
    print(f"sheets:      {len(paths):8d}          ({distinct} distinct answers; medians of {args.repeats} runs, "
          "in-process figures in CPU time)")
    print(f"in-process:  {median['slips']:8.0f} sheets/s  (with the slips named; target >= 2000)")
    print(f"             {median['calculations']:8.0f} sheets/s  (and each verdict's calculation printed, as for "
          "--json, --html, --latex, --gradescope)")
    print(f"             {median['alone']:8.0f} sheets/s  (grading alone, without naming slips)")
    print(f"class:       {median['class']:8.0f} sheets/s  (a 100-sheet class, with the slips named; target >= 2000)")
    print(f"one more:    {median['more']:8.0f} sheets/s  ({len(more)} other sheets, after the {len(paths)}: "
          "the cost of a sheet once the class's forms are known)")
    print(f"one call:    {median['calls']:8.0f} sheets/s  (the 100-sheet class, one derive.grade call per sheet: "
          f"{statistics.median(c / a for c, a in zip(runs['calls'], runs['anew'])):.0f}x the set-up made anew per "
          f"call, {median['anew']:.1f} sheets/s on {len(anew)} of them)")
    print(f"naive:       {median['naive']:8.1f} sheets/s  (fair baseline, a sample of {len(sample)} of the same sheets)")
    print(f"ratio:       {statistics.median(ratios):8.1f}x        (derive / baseline in the same run; target >= 20x)")
    print(f"reading:     {median['read']:8.3f} s        per 1,000 sheets, of {len(paths)}")
    print(f"             {median['read all']:8.3f} s        per 1,000 sheets, of {len(everything)} (linear: the same)")
    print(f"one process: {statistics.median(wholes):8.2f} s        (derive grade on {len(everything)} sheets, wall time, "
          f"the median of {len(wholes)} runs, the fastest {min(wholes):.2f} s; target < 5 s)")


if __name__ == "__main__":
    main()
