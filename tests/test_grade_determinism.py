"""Grading output is byte-identical run to run, under any hash seed.

A class (numeric sheets, expression answers right and wrong, a broken
sheet) is graded by `derive grade` in fresh processes under four values of
PYTHONHASHSEED; the printed report and every report file must not differ.
"""

import os
import subprocess
import sys
from pathlib import Path

SHEETS = Path(__file__).parent / "sheets"
SEEDS = ("0", "1", "2", "3")


def write_class(directory):
    directory.mkdir()
    for path in sorted((SHEETS / "class").glob("*.yaml")):
        (directory / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    (directory / "expressions.yaml").write_text(
        'fprime[2]: "f(x)(1 - f(x))"\n'
        'yhat[1]: "min(1.0, (-2)^pi)"\n'
        'delta[3][1]: -0.0264\n', encoding="utf-8")
    (directory / "wrong.yaml").write_text(
        'fprime[2]: "s(1-s) + max(0, x - 3)"\n'
        "delta[2]: [-0.0006, -0.0009]\n", encoding="utf-8")
    (directory / "broken.yaml").write_text("a: [1, 2\n", encoding="utf-8")


def run(seed, directory, out):
    out.mkdir()
    env = dict(os.environ, PYTHONHASHSEED=seed)
    done = subprocess.run(
        [sys.executable, "-m", "derive", "grade", "lecture-bp-3layer", str(directory),
         "--csv", str(out / "c.csv"), "--json", str(out / "j.json"), "--gradescope", str(out / "gradescope"),
         "--summary-csv", str(out / "s.csv")],
        capture_output=True, text=True, env=env, cwd=directory.parent, timeout=300)
    files = {path.relative_to(out).as_posix(): path.read_bytes() for path in sorted(out.rglob("*")) if path.is_file()}
    return done.returncode, done.stdout, done.stderr, files


def test_grading_a_class_is_byte_identical_under_any_hash_seed(tmp_path):
    directory = tmp_path / "class"
    write_class(directory)
    outputs = [run(seed, directory, tmp_path / f"out{seed}") for seed in SEEDS]
    code, stdout, stderr, files = outputs[0]
    assert code == 1  # the broken sheet is reported: exit status 1
    gradescope = [name for name in files if name.startswith("gradescope/")]
    assert sorted(set(files) - set(gradescope)) == ["c.csv", "j.json", "s.csv"]
    assert len(gradescope) == len(list(directory.iterdir()))  # one results.json per sheet
    assert "expressions" in stdout and "broken" in stdout
    for other in outputs[1:]:
        assert other == outputs[0]
