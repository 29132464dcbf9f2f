"""derive as a user installs it: a wheel or an sdist in a fresh virtual environment.

The package is built from this checkout (a wheel directly, and a wheel built
from the sdist, as `pip install derive-*.tar.gz` does), installed into a new
venv, and run from a directory outside the checkout, so that nothing of the
checkout can stand in for what the package ships. The venv borrows the
already-installed dependencies (SymPy, NumPy...) through a path file, so the
test needs no network; it checks that `derive` itself comes from the venv.

Oracles: the bundled problems are the files in `derive/problems/` of the
checkout; the 3-layer example's ŷ = 0.809 and δ³₁ = -0.0264 are the lecture's
published numbers.
"""

import os
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BUNDLED = sorted(path.stem for path in (ROOT / "derive" / "problems").glob("*.yaml"))
ASSIGNMENTS = sorted(path.stem for path in (ROOT / "derive" / "problems" / "assignments").glob("*.yaml"))
SCHEMA = "derive-problem.schema.json"  # beside the bundled files, named by their `$schema=` line


def run(args, cwd, **kwargs):
    result = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=300, **kwargs)
    assert result.returncode == 0, f"{args}: {result.stdout}\n{result.stderr}"
    return result


def source_copy(out):
    """The checkout's sources, copied: a build leaves no state (build/, egg-info) that a later build could reuse."""
    source = out / "source"
    skip = shutil.ignore_patterns(".*", "build", "dist", "*.egg-info", "__pycache__", "tests", "bench")
    shutil.copytree(ROOT, source, ignore=skip)
    return source


def build_wheel(out):
    """A wheel built straight from the sources."""
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out),
         str(source_copy(out))], cwd=out)
    return next(out.glob("derive-*.whl"))


def build_wheel_from_sdist(out):
    """The sdist built from the sources, then a wheel built from that sdist alone."""
    code = f"from setuptools import build_meta; print(build_meta.build_sdist({str(out)!r}))"
    name = run([sys.executable, "-c", code], cwd=source_copy(out)).stdout.strip().splitlines()[-1]
    sdist = out / name
    with tarfile.open(sdist) as archive:
        shipped = {Path(member).name for member in archive.getnames() if "/derive/problems/" in member}
    assert {f"{stem}.yaml" for stem in BUNDLED + ASSIGNMENTS} | {SCHEMA} <= shipped
    wheels = out / "from-sdist"
    wheels.mkdir()
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(wheels),
         str(sdist)], cwd=out)
    return next(wheels.glob("derive-*.whl"))


def fresh_venv(where, wheel):
    """A new venv with `wheel` installed; dependencies borrowed from the running environment."""
    venv.EnvBuilder(with_pip=False).create(where)
    python = where / "bin" / "python"
    site = Path(run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                    cwd=where).stdout.strip())
    # a plain path line: the borrowed directory's own .pth files (an editable derive among them) are not run
    (site / "borrowed-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "-q", str(wheel)], cwd=where)
    return where / "bin"


@pytest.fixture(scope="module", params=["wheel", "sdist"])
def installed(request, tmp_path_factory):
    """The bin directory of a venv holding derive installed from a wheel (built one way or the other)."""
    out = tmp_path_factory.mktemp(request.param)
    wheel = build_wheel(out) if request.param == "wheel" else build_wheel_from_sdist(out)
    with zipfile.ZipFile(wheel) as archive:
        shipped = sorted(Path(name).name for name in archive.namelist() if name.startswith("derive/problems/"))
    assert shipped == sorted([f"{stem}.yaml" for stem in BUNDLED + ASSIGNMENTS] + [SCHEMA])
    return fresh_venv(out / "venv", wheel)


def outside(installed, tmp_path, *args):
    """Run a command of the venv from a directory that is not the checkout, with a clean environment."""
    env = {"PATH": f"{installed}{os.pathsep}/usr/bin:/bin", "LANG": "C.UTF-8", "PYTHONHASHSEED": "0"}
    return run(list(args), cwd=tmp_path, env=env)


def test_the_installed_package_is_the_one_imported(installed, tmp_path):
    where = outside(installed, tmp_path, "python", "-c", "import derive; print(derive.__file__)").stdout
    assert Path(where.strip()).is_relative_to(installed.parent)


def test_derive_list_lists_every_bundled_problem_and_assignment(installed, tmp_path):
    listed = outside(installed, tmp_path, "derive", "list").stdout.splitlines()
    assert [line.split()[0] for line in listed] == BUNDLED + ASSIGNMENTS


def test_a_bundled_assignment_is_found_by_name(installed, tmp_path):
    assert ASSIGNMENTS
    for name in ASSIGNMENTS:
        assert outside(installed, tmp_path, "derive", "check", name).stdout.endswith("parts)\n")


def test_a_bundled_problem_solves_by_name(installed, tmp_path):
    text = outside(installed, tmp_path, "derive", "solve", "lecture-bp-3layer").stdout
    assert "= 0.809\n" in text  # ŷ, the lecture's figure
    assert "= -0.0264\n" in text  # δ³₁


def test_the_api_finds_a_bundled_problem_by_name(installed, tmp_path):
    code = "import derive; print(derive.load_problem('hw2-sigmoid').kind)"
    assert outside(installed, tmp_path, "python", "-c", code).stdout == "derivative\n"
