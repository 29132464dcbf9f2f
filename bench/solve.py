"""Wall time of `derive solve lecture-bp-3layer` as a whole process,
beside `python -c "import sympy"` measured in the same run, and their ratio.

Target: ratio <= 1.5 (the tool costs little more than importing its CAS).
Usage: python bench/solve.py [--runs N]
"""

import argparse
import shutil
import statistics
import sys
from pathlib import Path

from timing import median_wall_time

ROOT = Path(__file__).resolve().parent.parent
PROBLEM = ROOT / "derive" / "problems" / "lecture-bp-3layer.yaml"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    runs = parser.parse_args().runs
    script = shutil.which("derive")
    solve = [script] if script else [sys.executable, "-m", "derive"]
    solve += ["solve", str(PROBLEM)]
    baseline = [sys.executable, "-c", "import sympy"]
    # Interleave the two measurements so that machine load affects both alike.
    tool, sympy_only = [], []
    for _ in range(runs):
        tool.append(median_wall_time(solve, 1))
        sympy_only.append(median_wall_time(baseline, 1))
    t, b = statistics.median(tool), statistics.median(sympy_only)
    print(f"derive solve lecture-bp-3layer: {t * 1000:7.1f} ms (median of {runs})")
    print(f"python -c 'import sympy':        {b * 1000:7.1f} ms (median of {runs})")
    print(f"ratio:                           {t / b:7.2f}  (target <= 1.5)")


if __name__ == "__main__":
    main()
