"""The HTML pages opened in headless Chromium, the program that reads them: is the mathematics laid out?

Each page is loaded at a phone's width, in a frame of a probe page whose
script (the pages have none) measures what the browser drew: every `<math>`
has a box, every fraction has its numerator above its denominator and every
superscript stands raised (which only a browser laying out MathML does; one
that showed the markup as text would not), no LaTeX or markup is left as
visible text, and nothing but a formula's own scroller is wider than the
screen. Screenshots of a solution, a feedback page and a class page are
taken too, at a phone's and a desktop's width; set DERIVE_SCREENSHOTS to a
directory to keep them for reading by eye.

Skipped where Chromium is not installed; CI installs it (.ci/run) and fails
without it, so there these always run.
"""

import html
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import PROBLEMS
from derive import api
from derive.problem import load_problem
from derive.render import render
from derive.render.html import class_pages

CHROMIUM = next(filter(None, map(shutil.which, ("chromium", "chromium-browser", "google-chrome"))), None)
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium)")
NAMES = sorted(path.stem for path in PROBLEMS.glob("*.yaml"))
SHEETS = Path(__file__).parent / "sheets"
PHONE, DESKTOP = (390, 844), (1100, 1600)

# Measures each page of the frames it is loaded beside (file pages may read each other's documents with
# --allow-file-access-from-files) and writes the results into its own page, which --dump-dom prints.
PROBE = r"""<!DOCTYPE html><html><body>%(frames)s
<script>
function measure(frame) {
  const page = frame.contentDocument, view = frame.contentWindow;
  const box = element => element.getBoundingClientRect();
  const result = {maths: 0, empty: [], fractions: 0, flat: [], superscripts: 0, unraised: [], raw: [], overflow: 0};
  for (const math of page.querySelectorAll("math")) {
    result.maths++;
    if (!(box(math).width > 0 && box(math).height > 0)) result.empty.push(math.textContent.slice(0, 60));
  }
  for (const fraction of page.querySelectorAll("mfrac")) {
    result.fractions++;
    const [numerator, denominator] = fraction.children;
    if (!(box(numerator).bottom <= box(denominator).top + 1)) result.flat.push(fraction.textContent.slice(0, 60));
  }
  for (const power of page.querySelectorAll("msup")) {
    result.superscripts++;
    const [base, exponent] = power.children;
    if (!(box(exponent).bottom < box(base).bottom - 1)) result.unraised.push(power.textContent.slice(0, 60));
  }
  const text = page.body.innerText;
  for (const raw of ["\\frac", "\\left", "\\text", "\\", "<math", "</m", "<mi", "$"]) {
    if (text.includes(raw)) result.raw.push(raw);
  }
  result.overflow = page.documentElement.scrollWidth - view.innerWidth;
  const scrolls = e => { for (let p = e.parentElement; p && p !== page.body; p = p.parentElement) {
    if (view.getComputedStyle(p).overflowX !== "visible") return true; } return false; };
  const wide = [...page.querySelectorAll("body *")].filter(e => box(e).right > view.innerWidth + 1 && !scrolls(e));
  result.wide = wide.slice(0, 3).map(e => e.tagName + ": " + e.textContent.slice(0, 60));
  return result;
}
window.addEventListener("load", () => {
  const results = {};
  for (const frame of document.querySelectorAll("iframe")) results[frame.dataset.name] = measure(frame);
  const out = document.createElement("pre");
  out.id = "derive-probe";
  out.textContent = JSON.stringify(results);
  document.body.appendChild(out);
});
</script></body></html>"""


def chromium(*arguments, page):
    """Run headless Chromium on the file `page`; its standard output."""
    process = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
         "--disable-extensions", f"--user-data-dir={page.parent / 'profile'}", *arguments, page.as_uri()],
        capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
    return process.stdout


def probe(pages, directory, size=PHONE):
    """{name: what the browser drew of it} for pages {name: HTML}, each loaded at `size` beside the others."""
    frames = []
    for index, (name, text) in enumerate(pages.items()):
        (directory / f"page{index}.html").write_text(text, encoding="utf-8")
        frames.append(f'<iframe data-name="{html.escape(name)}" src="page{index}.html" '
                      f'width="{size[0]}" height="{size[1]}"></iframe>')
    prober = directory / "probe.html"
    prober.write_text(PROBE % {"frames": "\n".join(frames)}, encoding="utf-8")
    dom = chromium("--allow-file-access-from-files", "--virtual-time-budget=30000", "--window-size=1200,900",
                   "--dump-dom", page=prober)
    found = re.search(r'<pre id="derive-probe">(.*?)</pre>', dom, re.S)
    assert found, f"the probe did not run: {dom[-300:]!r}"
    return json.loads(html.unescape(found.group(1)))


def assert_math_rendered(result):
    assert result["maths"] > 0 and result["empty"] == []
    assert result["flat"] == [] and result["unraised"] == []
    assert result["raw"] == []
    assert (result["overflow"], result["wide"]) == (0, [])  # fits a phone; only a formula scrolls, in its box


@pytest.fixture(scope="module")
def lecture_class():
    return api.grade_class("lecture-bp-3layer", [str(SHEETS / "class")])


FEEDBACK = ["index.html", "students/ben.html", "students/chloe.html"]
ASSIGNMENT = ["assignment: solution", "assignment: index.html", "assignment: students/ada.html"]


@pytest.fixture(scope="module")
def homework_pages(tmp_path_factory):
    """The bundled homework's worked solution, and the pages of one sheet graded against it."""
    from click.testing import CliRunner

    from derive.cli import cli

    folder = tmp_path_factory.mktemp("homework")
    (folder / "ada.yaml").write_text("hw1:\n  yhat[1]: 0.5\n  z[1]: [0.3, 0.2]\nhw2-sigmoid:\n  d1: s(1-s)\n"
                                     "  d2: s(1-s)\n", encoding="utf-8")
    pages = {f"assignment: {name}": page
             for name, page in api.grade_assignment("hw-lecture", folder).html_pages().items()}
    pages["assignment: solution"] = CliRunner().invoke(cli, ["solve", "hw-lecture", "--format", "html"]).output
    return pages


@pytest.fixture(scope="module")
def probed(lecture_class, homework_pages, tmp_path_factory):
    """What Chromium drew of every bundled problem's page and of the class's pages, in one run."""
    pages = {name: render(load_problem(PROBLEMS / f"{name}.yaml").solve(), "html") for name in NAMES}
    pages.update({name: class_pages(lecture_class)[name] for name in FEEDBACK})
    pages.update(homework_pages)
    return probe(pages, tmp_path_factory.mktemp("probe"))


@needs_chromium
@pytest.mark.parametrize("name", NAMES + FEEDBACK + ASSIGNMENT)
def test_every_page_renders_its_mathematics_and_fits_a_phone(probed, name):
    assert_math_rendered(probed[name])


@needs_chromium
def test_a_page_with_fractions_and_powers_has_them_drawn_as_such(probed):
    result = probed["lecture-bp-3layer"]
    assert result["fractions"] >= 10 and result["superscripts"] >= 5  # the probe measured something


@needs_chromium
@pytest.mark.parametrize("page, size", [
    ("solution", DESKTOP), ("solution", PHONE), ("students/ben.html", PHONE), ("index.html", DESKTOP),
])
def test_screenshots_show_the_pages(lecture_class, page, size, tmp_path):
    from PIL import Image

    keep = os.environ.get("DERIVE_SCREENSHOTS")
    directory = Path(keep) if keep else tmp_path
    directory.mkdir(parents=True, exist_ok=True)
    text = (render(load_problem(PROBLEMS / "lecture-bp-3layer.yaml").solve(), "html") if page == "solution"
            else class_pages(lecture_class)[page])
    source = tmp_path / "page.html"
    source.write_text(text, encoding="utf-8")
    shot = directory / f"{page.replace('/', '-').removesuffix('.html')}-{size[0]}.png"
    chromium(f"--window-size={size[0]},{size[1]}", f"--screenshot={shot}", page=source)
    with Image.open(shot) as image:
        assert image.size == size
        grey = image.convert("L")
        inked = sum(count for level, count in enumerate(grey.histogram()) if level < 128)
    assert inked > 0.01 * size[0] * size[1]  # text and formulas drawn, not a blank page
