"""HTML pages: the MathML of each construct, every page self-contained and well formed, hostile text inert.

What a browser makes of the pages is tested in test_html_browser.py; here
the contract is the markup itself: the MathML elements TeX's reading of the
LaTeX calls for, pages that load nothing, and a student's text that stays
text whatever it holds.
"""

import html
import re
import xml.etree.ElementTree as ElementTree
from html.parser import HTMLParser

import pytest

from conftest import PROBLEMS
from derive import api
from derive.cli import cli
from derive.grading.grader import SheetResult
from derive.grading.report import ClassResult
from derive.problem import load_problem
from derive.render import render
from derive.render.html import class_pages, page_names
from derive.render.mathml import mathml, split_text, unknown_commands

NAMES = sorted(path.stem for path in PROBLEMS.glob("*.yaml"))
SHEETS = PROBLEMS.parent.parent / "tests" / "sheets"


def tree(latex):
    """The MathML of `latex` as an element tree (which also proves it well formed)."""
    return ElementTree.fromstring(mathml(latex))


def shape(element):
    """An element as nested (tag, text or children) tuples, attributes left out."""
    children = list(element)
    if not children:
        return (element.tag, element.text or "")
    return (element.tag, tuple(shape(child) for child in children))


@pytest.mark.parametrize("latex, expected", [
    (r"\frac{a}{2}", ("mfrac", (("mi", "a"), ("mn", "2")))),
    ("w^{2}_{11}", ("msubsup", (("mi", "w"), ("mn", "11"), ("mn", "2")))),
    ("x_{1}", ("msub", (("mi", "x"), ("mn", "1")))),
    (r"\hat{y}", ("mover", (("mi", "y"), ("mo", "^")))),
    (r"\sqrt{2}", ("msqrt", (("mn", "2"),))),
    (r"\sigma", ("mi", "σ")),
    (r"\max", ("mi", "max")),
    (r"\mathcal{L}", ("mi", "ℒ")),
    (r"\operatorname{abs}", ("mi", "abs")),
    ("0.8090", ("mn", "0.8090")),
    (r"\text{if } x", ("mrow", (("mtext", "if "), ("mi", "x")))),
    (r"\text{a \ensuremath{\theta^{\prime}} b}", ("mtext", "a θ′ b")),  # a character of the text, as text
    (r"\text{a \ensuremath{\frac{1}{2}} b}", ("mrow", (("mtext", "a "), ("mfrac", (("mn", "1"), ("mn", "2"))),
                                                          ("mtext", " b")))),
    (r"\text{50\% \textless{} \_x\textasciicircum{}}", ("mtext", "50% < _x^")),
    (r"\sum_{j} a", ("mrow", (("munder", (("mo", "∑"), ("mi", "j"))), ("mi", "a")))),
    (r"{}^{2}", ("msup", (("mrow", ""), ("mn", "2")))),
])
def test_each_construct_becomes_the_mathml_tex_reads_it_as(latex, expected):
    assert shape(tree(latex)[0]) == expected


def test_a_fraction_inside_parentheses_makes_them_stretch_and_a_flat_group_does_not():
    tall = tree(r"\left(\frac{1}{2}\right)")
    flat = tree(r"\left(x - 1\right)")
    assert [mo.get("stretchy") for mo in tall.iter("mo") if mo.get("fence")] == ["true", "true"]
    assert [mo.get("stretchy") for mo in flat.iter("mo") if mo.get("fence")] == ["false", "false"]


@pytest.mark.parametrize("latex, prefix", [
    ("-0.5", [True]),  # a sign at the start
    ("x = -0.5", [True]),  # after a relation
    ("x - 0.5", [False]),  # between two terms: subtraction
    (r"\left(-1\right) - 2", [True, False]),  # after an opening fence; after a closing one
])
def test_a_minus_sign_is_a_sign_where_tex_makes_it_one(latex, prefix):
    minus = [mo for mo in tree(latex).iter("mo") if mo.text == "−"]
    assert [mo.get("form") == "prefix" for mo in minus] == prefix


def test_cases_become_a_table_with_a_brace():
    math = tree(r"\begin{cases} x & \text{if } x > 0 \\ 0 & \text{otherwise} \end{cases}")
    rows = list(math.iter("mtr"))
    assert len(rows) == 2 and all(len(list(row)) == 2 for row in rows)
    assert [mo.text for mo in math.iter("mo") if mo.get("fence")] == ["{"]


def test_an_array_s_column_argument_aligns_its_cells_and_is_not_shown():
    """A matrix step's value, `\\left[\\begin{array}{rr} ... \\end{array}\\right]`: two rows of two cells,
    no cell or text holding the column argument `rr`."""
    math = tree(r"\left[\begin{array}{rr} 1 & -0.5 \\ \vdots & \ddots \end{array}\right]_{2 \times 2}")
    rows = list(math.iter("mtr"))
    assert len(rows) == 2 and all(len(list(row)) == 2 for row in rows)
    assert "rr" not in "".join(math.itertext())
    assert all(cell.get("style") == "text-align: right" for cell in math.iter("mtd"))


def test_a_command_outside_the_dialect_is_shown_by_name_and_reported():
    assert unknown_commands(r"\frac{1}{2} + \weird") == [r"\weird"]
    assert [t.text for t in tree(r"\weird").iter("mtext")] == [r"\weird"]


def test_words_of_a_note_are_text_and_its_formulas_math():
    pieces, unknown = split_text(r"\text{loss: } E = \frac{1}{2} \text{ (half)}")
    assert [kind for kind, _ in pieces] == ["text", "math", "text"] and unknown == []
    assert pieces[0][1] == "loss: " and pieces[2][1] == " (half)"
    assert "<mfrac>" in pieces[1][1]


@pytest.fixture(scope="module")
def pages():
    return {name: render(load_problem(PROBLEMS / f"{name}.yaml").solve(), "html") for name in NAMES}


class _Balance(HTMLParser):
    """Checks that every opened element of a page is closed in order (void elements aside)."""

    VOID = {"meta", "br", "hr", "img", "input", "link", "mspace", "line", "rect"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.open, self.problems, self.text, self.attributes, self.style = [], [], [], [], []

    def handle_starttag(self, tag, attrs):
        self.attributes += [(tag, name, value) for name, value in attrs]
        if tag not in self.VOID:
            self.open.append(tag)

    def handle_startendtag(self, tag, attrs):  # `<line ... />`: opens nothing, and its attributes are checked
        self.attributes += [(tag, name, value) for name, value in attrs]

    def handle_endtag(self, tag):
        if tag in self.VOID:
            return
        if not self.open or self.open[-1] != tag:
            self.problems.append(f"</{tag}> closes {self.open[-1:] or 'nothing'}")
        else:
            self.open.pop()

    def handle_data(self, data):
        if self.open and self.open[-1] == "style":
            self.style.append(data)
        if self.open and self.open[-1] not in ("style", "title"):
            self.text.append(data)


def check_page(page):
    """Assert `page` is self-contained and well formed, each formula well-formed XML; its visible text."""
    assert page.startswith("<!DOCTYPE html>\n") and page.endswith("</html>\n")
    parser = _Balance()
    parser.feed(page)
    parser.close()
    assert parser.problems == [] and parser.open == []
    tags = {tag for tag, _, _ in parser.attributes} | set(re.findall(r"<([a-z]+)", page))
    assert not tags & {"script", "link", "img", "iframe", "object", "embed", "base", "form"}  # loads, runs nothing
    for tag, name, value in parser.attributes:
        assert not name.startswith("on") and name not in ("src", "srcset", "style" if tag != "mtd" else "")
        if name == "href":  # links stay within the pages derive writes
            assert re.fullmatch(r"#(part\d+-)?item-\d+|(\.\./)?index\.html|students/[A-Za-z0-9_-]+\.html", value), value
        if name == "xmlns":
            assert value == "http://www.w3.org/2000/svg"
    assert not re.search(r"url\(|@import", "".join(parser.style))
    for formula in re.findall(r"<math\b.*?</math>", page, re.S):
        ElementTree.fromstring(formula)
    return "".join(parser.text)


@pytest.mark.parametrize("name", NAMES)
def test_every_bundled_problem_page_is_self_contained_and_well_formed(pages, name):
    text = check_page(pages[name])
    assert "\\" not in text  # no LaTeX left as text: every command became mathematics
    assert "<math" in pages[name]


@pytest.mark.parametrize("name", NAMES)
def test_every_step_of_a_bundled_problem_has_its_formula_on_the_page(pages, name):
    solution = load_problem(PROBLEMS / f"{name}.yaml").solve()
    lines = [step for section in solution.sections if not all(step.is_given for step in section.steps)
             for step in section.steps]  # a section of givens alone is one list of inline formulas
    assert pages[name].count('<div class="math">') == len(lines)
    assert pages[name].count("<h2>") == len(solution.sections)


def test_the_page_is_byte_identical_run_to_run(runner):
    path = str(PROBLEMS / "lecture-bp-3layer.yaml")
    first = runner.invoke(cli, ["solve", path, "--format", "html"]).output
    assert first == runner.invoke(cli, ["solve", path, "--format", "html"]).output


def test_keys_name_each_step_on_the_page():
    solution = load_problem(PROBLEMS / "lecture-forward.yaml").solve()
    page = render(solution, "html", keys=True)
    assert all(f"<code>{html.escape(step.key)}</code>" in page for step in solution)


HOSTILE = "<script>alert(1)</script> & \x1b[31m \\frac{1}{2} \u202e"


@pytest.fixture(scope="module")
def hostile_class(tmp_path_factory):
    """A class of the lecture's sheets and one sheet whose id and answers are markup and escapes."""
    directory = tmp_path_factory.mktemp("sheets")
    for sheet in sorted((SHEETS / "class").glob("*.yaml")):
        (directory / sheet.name).write_text(sheet.read_text(encoding="utf-8"), encoding="utf-8")
    (directory / "zz-hostile.yaml").write_text(
        f'id: "{HOSTILE.encode("unicode_escape").decode()}"\n'
        f'"yhat[1]": "<img src=x onerror=alert(1)>"\n"delta[3][1]": "\\\\left( -0.05"\n'
        f'"fprime[2]": "exp(-x)/(1+exp(-x))^2 </math><b>"\n"<i>unknown</i>": 1\n', encoding="utf-8")
    (directory / "zz-unreadable.yaml").write_text("z[1]: [", encoding="utf-8")
    return api.grade_class("lecture-bp-3layer", [str(directory)])


def test_every_class_page_is_self_contained_and_well_formed(hostile_class):
    pages = class_pages(hostile_class)
    assert sorted(pages) == ["index.html", "students/anna.html", "students/ben.html", "students/chloe.html",
                             "students/dan.html", "students/script-alert-1-script-31m-frac-1-2.html",
                             "students/zz-unreadable.html"]
    for name, page in pages.items():
        check_page(page)


def test_a_students_text_stays_text_on_every_page(hostile_class):
    pages = class_pages(hostile_class)
    hostile = [page for name, page in pages.items() if "script-alert" in name or name == "index.html"]
    for page in hostile:
        assert "<script>" not in page and "<img" not in page and "<b>" not in page
        assert "\x1b" not in page and "\u202e" not in page  # control characters shown as escapes
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    student = next(page for name, page in pages.items() if "script-alert" in name)
    assert "&lt;img src=x onerror=alert(1)&gt;" in student


def test_the_class_page_links_each_student_page_and_back(hostile_class):
    pages = class_pages(hostile_class)
    links = re.findall(r'<a href="([^"]+)">', pages["index.html"])
    assert links == [name for name in pages if name != "index.html"]
    assert all('<a href="../index.html">' in page for name, page in pages.items() if name != "index.html")


def test_the_class_page_draws_the_three_charts_with_their_numbers(hostile_class):
    index = class_pages(hostile_class)["index.html"]
    charts = re.findall(r"<svg\b.*?</svg>", index, re.S)
    assert len(charts) == 3  # scores, outcomes per item, slips
    for chart in charts:
        ElementTree.fromstring(chart)
    histogram = ElementTree.fromstring(charts[0])
    counted = sum(int(t.text) for t in histogram.iter("{http://www.w3.org/2000/svg}text")
                  if t.get("text-anchor") == "middle" and (t.text or "").isdigit()
                  and float(t.get("y")) < 220)
    graded = [sheet for sheet in hostile_class.results if not sheet.error]
    assert counted == len(graded)  # every graded sheet in one bar, every bar labelled with its count
    item_rows = ElementTree.fromstring(charts[1]).findall("{http://www.w3.org/2000/svg}text")
    summary = {row["key"]: row for row in hostile_class.summary()}
    for key, row in summary.items():
        wanted = ", ".join(f"{row[name]} {word}" for name, word in (
            ("right", "right"), ("follow_through", "follow-through"), ("wrong", "wrong"),
            ("missing", "missing")) if row[name])
        assert wanted in [t.text for t in item_rows]


def test_page_names_are_distinct_safe_and_stable():
    sheets = [SheetResult(student, f"{index}.yaml") for index, student in
              enumerate(["Ada Lovelace", "ada lovelace", "../../etc/passwd", "", "index", "Ada-Lovelace"])]
    result = ClassResult(problem=None, items=(), points={}, results=sheets)
    names = page_names(result)
    assert list(names.values()) == ["Ada-Lovelace.html", "ada-lovelace-2.html", "etc-passwd.html", "sheet.html",
                                    "index-2.html", "Ada-Lovelace-3.html"]


def test_grade_html_writes_the_pages_and_the_feedback_shows_the_students_numbers(runner, tmp_path):
    out = tmp_path / "pages"
    result = runner.invoke(cli, ["grade", "lecture-bp-3layer", str(SHEETS / "class"), "--html", str(out)])
    assert result.exit_code == 1, result.output  # one sheet of the class is unreadable
    written = sorted(str(path.relative_to(out)) for path in out.rglob("*.html"))
    assert written == ["index.html", "students/anna.html", "students/ben.html", "students/chloe.html",
                       "students/dan.html"]
    ben = (out / "students" / "ben.html").read_text(encoding="utf-8")
    # ben's δ²₁ is right by follow-through on his δ³₁ = -0.05: the calculation shows that number
    item = ben[ben.index("<code>delta[2][1]</code>"):]
    item = item[:item.index("</section>")]
    assert "right by follow-through" in item
    assert "<mn>0.05</mn>" in item and '<mo form="prefix">−</mo><mn>0.05</mn>' in item


def test_grade_html_into_a_file_is_one_line_and_writes_nothing_else(runner, tmp_path):
    blocker = tmp_path / "taken"
    blocker.write_text("a file", encoding="utf-8")
    result = runner.invoke(cli, ["grade", "lecture-bp-3layer", str(SHEETS / "class" / "ben.yaml"),
                                 "--html", str(blocker / "pages"), "--csv", str(tmp_path / "g.csv")])
    assert result.exit_code == 2 and len(result.stderr.splitlines()) == 1
    assert "taken" in result.stderr
    assert not (tmp_path / "g.csv").exists()


def test_the_class_and_feedback_pages_match_their_golden_files(runner, golden, monkeypatch, tmp_path):
    monkeypatch.chdir(SHEETS.parent)  # sheet paths on the pages stay relative
    result = runner.invoke(cli, ["grade", "lecture-bp-3layer", "sheets/class", "--html", str(tmp_path)])
    assert result.exit_code == 1, result.output
    golden("grade-class-index.html", (tmp_path / "index.html").read_text(encoding="utf-8"))
    golden("grade-class-ben.html", (tmp_path / "students" / "ben.html").read_text(encoding="utf-8"))
