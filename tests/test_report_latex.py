"""The grading report as LaTeX: a whole document that pdflatex compiles, whatever the sheets hold.

What a sheet brings (an id, an answer, a file name, an unknown key) is
printed in typewriter type sign by sign, so that a TeX special, a control
character or `\\input{/etc/passwd}` shows as written and never runs; the
compiled PDF's text (pdftotext) must hold it literally.
"""

import re
import shutil
import subprocess
import unicodedata
from pathlib import Path

import pytest
import yaml

import derive
from conftest import latex_errors, needs_pdflatex, pdflatex
from derive.render.report import _literal, latex_report, visible

LECTURE = "lecture-bp-3layer"
TESTS = Path(__file__).parent
HOSTILE_ID = "ev\\il $x$ {#%&~^_} \\input{/etc/passwd} \\write18{rm -rf} <a|b> \"q\" -- x' θ café \x1b[2J\x00 %end"
HOSTILE_ANSWER = "0.8 \\relax $^_ \\\u0301 ℝ"
PDFTOTEXT = shutil.which("pdftotext")
needs_pdftotext = pytest.mark.skipif(PDFTOTEXT is None, reason="pdftotext is not installed "
                                                                "(apt-get install poppler-utils)")


@pytest.fixture
def hostile_class(tmp_path, monkeypatch):
    """A class in tmp_path (the working directory): a hostile sheet, a plain one and an unreadable one."""
    monkeypatch.chdir(tmp_path)
    Path("evil.yaml").write_text(yaml.safe_dump({"id": HOSTILE_ID, "yhat[1]": HOSTILE_ANSWER, "z[1][1]": "2\x1b[31m",
                                                 "delta[3][1]": -0.05, "bogus{x}_1": 1}), encoding="utf-8")
    Path("plain.yaml").write_text(yaml.safe_dump({"id": "plain", "z[1][1]": 2, "delta[3][1]": -0.05}),
                                  encoding="utf-8")
    Path("broken%1.yaml").write_text("z[1][1]: [2,\n", encoding="utf-8")
    return derive.grade_class(LECTURE, ["evil.yaml", "plain.yaml", "broken%1.yaml"])


def compiled_text(directory, name, document):
    """Compile `document` as directory/name.tex; assert it compiles without an error; its PDF's text."""
    (directory / f"{name}.tex").write_text(document, encoding="utf-8")
    status, log = pdflatex(directory, name)
    assert (status, latex_errors(log)) == (0, []), latex_errors(log)
    assert "Output written on" in log
    if PDFTOTEXT is None:
        return None
    done = subprocess.run([PDFTOTEXT, "-enc", "UTF-8", f"{name}.pdf", "-"], cwd=directory, capture_output=True,
                          text=True, timeout=60, check=True)
    return done.stdout


def squeezed(text):
    """Text with its white space dropped and the quotes typewriter type draws curly written straight:
    lines may break anywhere in a long id."""
    text = unicodedata.normalize("NFC", text)  # pdftotext gives an accent as a combining character
    return re.sub(r"\s+", "", text).replace("\u2018", "`").replace("\u2019", "'")


def shown(text):
    """How `text` must appear in the PDF: control characters as escapes, a character LaTeX lacks as [U+XXXX]."""
    return visible(text).replace("\u0301", "[U+0301]").replace("ℝ", "[U+211D]")


def test_a_document_of_plain_ascii_whatever_the_sheets_hold(hostile_class):
    for document in (latex_report(hostile_class), latex_report(hostile_class.results[0])):
        assert document.isascii()
        assert document.splitlines()[:3] == [r"\documentclass{article}", r"\usepackage{amsmath,amssymb,array,longtable}",
                                             r"\usepackage[margin=2cm]{geometry}"]
        assert document.endswith("\\end{document}\n")
        for command in (r"\input{", r"\write18", r"\relax"):
            assert command not in document


LITERAL = [
    ("a_b", r"\texttt{a\symbol{95}b}"),
    ("\\input{x}", r"\texttt{\symbol{92}input\symbol{123}x\symbol{125}}"),
    ("\x1b", r"\texttt{\symbol{92}x1b}"),
    ("50% ~ $ & # ^", r"\texttt{50\symbol{37} \symbol{126} \symbol{36} \symbol{38} \symbol{35} \symbol{94}}"),
    ("?` <|> -- ''", r"\texttt{?\symbol{96} <|> -- ''}"),  # no ligature in typewriter type but ?`
    ("θ 1", r"\texttt{\ensuremath{\theta} 1}"),
    ("e\u0301", r"\texttt{\ensuremath{\text{\'e}}}"),  # composed first: é
]


@pytest.mark.parametrize("text, latex", LITERAL, ids=[row[0] for row in LITERAL])
def test_what_a_sheet_brings_is_typed_sign_by_sign(text, latex):
    assert _literal(text) == latex


@needs_pdflatex
def test_the_class_report_compiles_and_shows_the_hostile_sheet_literally(hostile_class, tmp_path):
    text = compiled_text(tmp_path, "class", latex_report(hostile_class))
    if text is None:
        pytest.skip("pdftotext is not installed (apt-get install poppler-utils)")
    for expected in (HOSTILE_ID, HOSTILE_ANSWER, "2\x1b[31m", "bogus{x}_1", "broken%1.yaml:2: malformed YAML",
                     "plain", "3 sheets, 1 unreadable", "delta[3][1]"):
        assert squeezed(shown(expected)) in squeezed(text), expected


@needs_pdflatex
def test_the_report_of_one_sheet_compiles_and_shows_each_item(hostile_class, tmp_path):
    text = compiled_text(tmp_path, "sheet", latex_report(hostile_class.results[0]))
    if text is None:
        pytest.skip("pdftotext is not installed (apt-get install poppler-utils)")
    for expected in (HOSTILE_ID, HOSTILE_ANSWER, "2\x1b[31m", "Total: 0/40", "UNREADABLE", "MISSING"):
        assert squeezed(shown(expected)) in squeezed(text), expected


@needs_pdflatex
def test_a_long_class_breaks_across_pages(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for number in range(60):
        Path(f"s{number:02}.yaml").write_text(yaml.safe_dump({"id": f"student {number}", "z[1][1]": number}),
                                               encoding="utf-8")
    result = derive.grade_class(LECTURE, ".")
    (tmp_path / "out").mkdir()
    compiled_text(tmp_path / "out", "long", latex_report(result))
    log = (tmp_path / "out" / "long.log").read_text(encoding="latin-1")
    assert re.search(r"Output written on long\.pdf \(([3-9]|\d\d+) pages", log), log[-300:]


def test_the_class_report_matches_golden(golden, monkeypatch):
    monkeypatch.chdir(TESTS)  # sheet paths in the report stay relative
    golden("grade-class.tex", latex_report(derive.grade_class(LECTURE, ["sheets/class"])))


def test_one_sheet_shows_its_expected_values_as_math():
    result = derive.grade_class(LECTURE, [str(TESTS / "sheets" / "class" / "ben.yaml")])
    document = latex_report(result.results[0])
    row = next(line for line in document.splitlines() if line.startswith(r"\texttt{delta[3][1]}"))
    assert row.startswith(r"\texttt{delta[3][1]} & \texttt{-0.05} & WRONG & 0/1 & $\delta^{3}_{1} = -0.0264$ & ")
