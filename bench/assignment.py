"""Grading an assignment at course scale: 1,000 students' sheets of a five-problem homework in one call.

Prints, in one run:
- the wall time of `derive.grade_assignment` over every sheet (each sheet
  with a section per part, graded in the isolated children, slips named);
- the same work done the way one would without assignments: each part's
  sections written out as sheets of their own and graded by one
  `derive.grade_class` call per part; and the ratio of the two.

Target on a 2-core machine: the whole assignment for 1,000 students in one
call in under 10 s, and no slower than grading its parts one by one.
Usage: python bench/assignment.py [--sheets N]
"""

import argparse
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402

from derive import api  # noqa: E402
from derive.assignment import load_assignment  # noqa: E402
from derive.grading.config import read_grading  # noqa: E402

# The lecture's homework problems with numeric answers, and the sigmoid's derivatives as expressions.
ASSIGNMENT = """\
kind: assignment
title: Five problems
problems:
  - problem: lecture-bp-3layer
    points: 40
  - problem: hw1-relu
    points: 20
  - problem: lecture-forward
    points: 10
  - problem: hw2-sigmoid
    points: 10
  - problem: tanh-derivatives
    points: 20
"""
RIGHT = {"hw2-sigmoid": ["s*(1-s)", "s(1-s)", "exp(-x)/(1+exp(-x))^2", "s - s^2"],
         "tanh-derivatives": ["1 - tanh(x)^2", "1-tanh(x)**2", "1/cosh(x)^2"]}
WRONG = ["1-s", "s^2", "x*(1-x)", "1 + tanh(x)^2", "tanh(x)"]


def answers(rng, problem, solution, items):
    """One student's section: numbers right, rounded, wrong or missing; expressions right or wrong."""
    section = {}
    for key in items:
        step = solution[key]
        r = rng.random()
        if r < 0.06:
            continue
        if step.is_symbolic:
            section[key] = rng.choice(RIGHT.get(problem.name, WRONG) if r < 0.7 else WRONG)
            continue
        value = float(step.value)
        if r < 0.15:
            value *= rng.choice([1.1, -1, 0.5, 2])
        section[key] = round(value, rng.choice([3, 4, 5, 6]))
    return section


def make_sheets(assignment, count, folder, seed=11):
    rng = random.Random(seed)
    parts = []
    for part in assignment.parts:
        solution = part.problem.solve()
        parts.append((part, solution, read_grading(part.problem, solution).items))
    for n in range(count):
        sheet = {"id": f"s{n:05d}"}
        for part, solution, items in parts:
            sheet[part.name] = answers(rng, part.problem, solution, items)
        (folder / f"s{n:05d}.yaml").write_text(yaml.safe_dump(sheet, sort_keys=False), encoding="utf-8")
    return sorted(folder.glob("*.yaml"))


def split(assignment, paths, folder):
    """Each part's sections as sheets of their own, a folder per part (the baseline's input)."""
    folders = {}
    for part in assignment.parts:
        folders[part.name] = folder / part.name
        folders[part.name].mkdir()
    for path in paths:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for part in assignment.parts:
            section = {"id": data["id"], **data.get(part.name, {})}
            (folders[part.name] / path.name).write_text(yaml.safe_dump(section, sort_keys=False), encoding="utf-8")
    return folders


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sheets", type=int, default=1000)
    arguments = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="derive-bench-assignment-"))
    try:
        (work / "five.yaml").write_text(ASSIGNMENT, encoding="utf-8")
        assignment = load_assignment(work / "five.yaml")
        (work / "sheets").mkdir()
        paths = make_sheets(assignment, arguments.sheets, work / "sheets")
        folders = split(assignment, paths, work)
        items = sum(len(read_grading(p.problem, p.problem.solve()).items) for p in assignment.parts)

        start = time.perf_counter()
        result = api.grade_assignment(assignment, [work / "sheets"])
        whole = time.perf_counter() - start

        start = time.perf_counter()
        for part in assignment.parts:
            api.grade_class(part.problem, [folders[part.name]])
        parts = time.perf_counter() - start

        print(f"assignment of {len(assignment.parts)} problems ({items} items a sheet), {len(paths)} sheets")
        print(f"  grade_assignment, one call:       {whole:6.2f} s  ({len(paths) / whole:6.0f} sheets/s)   "
              f"target < 10 s")
        print(f"  grade_class, one call per part:   {parts:6.2f} s  ({len(paths) / parts:6.0f} sheets/s)")
        print(f"  ratio (per part / one call):      {parts / whole:6.2f}x   target >= 1")
        print(f"  graded: {len(result.results) - len(result.unreadable)} of {len(result.results)}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
