"""The docs site builds with `mkdocs build --strict`, and a broken link makes the build fail.

mkdocs.yml turns a link to a missing page or a missing anchor into a warning,
and strict mode turns a warning into a failed build; the second test proves
the check can fail, on a copy of the docs with one broken link added.
"""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent


def build(root, site):
    """(exit status, output) of `mkdocs build --strict` of the project at root, into site."""
    result = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--config-file",
                             str(root / "mkdocs.yml"), "--site-dir", str(site)],
                            capture_output=True, text=True, timeout=300)
    return result.returncode, result.stdout + result.stderr


def nav_pages():
    """Every page of the nav, as a path under docs/, sections (a title over a list) flattened."""
    def pages(entries):
        for entry in entries:
            for value in entry.values():
                if isinstance(value, list):
                    yield from pages(value)
                else:
                    yield value
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    return list(pages(config["nav"]))


def test_the_site_builds_in_strict_mode(tmp_path):
    status, output = build(ROOT, tmp_path / "site")
    assert status == 0, output
    for page in nav_pages():
        built = "index.html" if page == "index.md" else f"{page[:-3]}/index.html"
        assert (tmp_path / "site" / built).is_file(), built


def test_every_page_is_in_the_nav():
    docs = ROOT / "docs"
    assert sorted(nav_pages()) == sorted(p.relative_to(docs).as_posix() for p in docs.rglob("*.md"))


def test_the_config_is_strict_and_validates_links_and_anchors():
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    assert config["strict"] is True
    assert {config["validation"][name] for name in ("anchors", "unrecognized_links", "omitted_files")} == {"warn"}
    assert config["validation"]["links"]["not_found"] == "warn"


@pytest.mark.parametrize("link, target", [
    ("[the verdicts](no-such-page.md)", "no-such-page.md"),
    ("[the verdicts](grading.md#no-such-heading)", "no-such-heading"),
    ("[above](#no-such-heading)", "no-such-heading"),
    ("[a kind](kinds/no-such-kind.md)", "no-such-kind.md"),
])
def test_a_broken_link_fails_the_build(tmp_path, link, target):
    copy = tmp_path / "project"
    shutil.copytree(ROOT / "docs", copy / "docs")
    shutil.copy(ROOT / "mkdocs.yml", copy / "mkdocs.yml")
    assert build(copy, tmp_path / "site")[0] == 0  # the copy builds as the docs do
    page = copy / "docs" / "tutorial.md"
    page.write_text(page.read_text(encoding="utf-8") + f"\nSee {link}.\n", encoding="utf-8")
    status, output = build(copy, tmp_path / "site")
    assert status != 0
    assert target in output  # the build names what is broken


def test_every_kind_has_a_page_linked_from_problem_files():
    from derive.kinds import NAMES
    index = (ROOT / "docs" / "problem-files.md").read_text(encoding="utf-8")
    for name in NAMES:
        page = ROOT / "docs" / "kinds" / f"{name}.md"
        assert page.read_text(encoding="utf-8").startswith(f"# `kind: {name}`\n")
        assert f"](kinds/{name}.md)" in index
        assert f"<!-- fields: {name} -->" in page.read_text(encoding="utf-8")
