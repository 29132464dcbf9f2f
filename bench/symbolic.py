"""Wall time of `derive solve` for every bundled problem of a symbolic kind, against the 3 s target.

A problem is timed as a whole process, start-up included: one warm-up run,
then the median of `--runs` runs. The kinds timed are read from each file's
`kind` field, so problems added later are timed too. This prints figures;
no test asserts a wall-clock time (machines differ).

Target: every problem under 3 s.
Usage: python bench/symbolic.py [--runs N] [--kinds derivative,softmax,...]
"""

import argparse
import shutil
import sys
from pathlib import Path

from timing import median_wall_time

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from derive.problem import bundled_problems, read_yaml  # noqa: E402

SYMBOLIC_KINDS = ("derivative", "softmax", "backprop_derivation", "op_count")
TARGET_SECONDS = 3.0


def symbolic_problems(kinds):
    """(path, kind) of the bundled problems whose `kind` is one of `kinds`, by name."""
    found = []
    for path in bundled_problems():
        data, _ = read_yaml(path)
        if data.get("kind") in kinds:
            found.append((path, data["kind"]))
    return found


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="timed runs per problem (default 5)")
    parser.add_argument("--kinds", default=",".join(SYMBOLIC_KINDS),
                        help=f"comma-separated kinds to time (default {','.join(SYMBOLIC_KINDS)})")
    arguments = parser.parse_args()
    kinds = tuple(kind.strip() for kind in arguments.kinds.split(",") if kind.strip())
    problems = symbolic_problems(kinds)
    if not problems:
        print(f"no bundled problem of kind {', '.join(kinds)} in {ROOT / 'problems'}")
        return
    script = shutil.which("derive")
    solve = [script] if script else [sys.executable, "-m", "derive"]
    width = max(len(path.stem) for path, _ in problems)
    print(f"{'problem':<{width}}  {'kind':<20} {'median':>8}   target < {TARGET_SECONDS:g} s "
          f"(median of {arguments.runs} runs)")
    slow = 0
    for path, kind in problems:
        seconds = median_wall_time(solve + ["solve", str(path)], arguments.runs)
        verdict = "ok" if seconds < TARGET_SECONDS else "SLOW"
        slow += verdict == "SLOW"
        print(f"{path.stem:<{width}}  {kind:<20} {seconds:7.2f} s   {verdict}")
    print(f"{len(problems) - slow} of {len(problems)} under {TARGET_SECONDS:g} s")


if __name__ == "__main__":
    main()
