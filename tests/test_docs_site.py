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
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    return [page for entry in config["nav"] for page in entry.values()]


def test_the_site_builds_in_strict_mode(tmp_path):
    status, output = build(ROOT, tmp_path / "site")
    assert status == 0, output
    for page in nav_pages():
        built = "index.html" if page == "index.md" else f"{page[:-3]}/index.html"
        assert (tmp_path / "site" / built).is_file(), built


def test_every_page_is_in_the_nav():
    assert sorted(nav_pages()) == sorted(p.name for p in (ROOT / "docs").glob("*.md"))


def test_the_config_is_strict_and_validates_links_and_anchors():
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    assert config["strict"] is True
    assert {config["validation"][name] for name in ("anchors", "unrecognized_links", "omitted_files")} == {"warn"}
    assert config["validation"]["links"]["not_found"] == "warn"


@pytest.mark.parametrize("link, warning", [
    ("[the verdicts](no-such-page.md)", "'no-such-page.md', but the target is not found"),
    ("[the verdicts](grading.md#no-such-heading)", "does not contain an anchor '#no-such-heading'"),
    ("[above](#no-such-heading)", "there is no such anchor on this page"),
])
def test_a_broken_link_fails_the_build(tmp_path, link, warning):
    copy = tmp_path / "project"
    shutil.copytree(ROOT / "docs", copy / "docs")
    shutil.copy(ROOT / "mkdocs.yml", copy / "mkdocs.yml")
    assert build(copy, tmp_path / "site")[0] == 0  # the copy builds as the docs do
    page = copy / "docs" / "tutorial.md"
    page.write_text(page.read_text(encoding="utf-8") + f"\nSee {link}.\n", encoding="utf-8")
    status, output = build(copy, tmp_path / "site")
    assert status != 0
    assert warning in output
