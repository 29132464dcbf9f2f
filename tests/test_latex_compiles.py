"""The LaTeX `derive solve --format latex` prints, compiled by pdflatex as it is, and its parts inline.

Every bundled problem's document is compiled on its own (two pdflatex
processes at a time), and every problem's `--fragment --keys` body is
compiled once more, all of them in one document whose preamble loads exactly
the packages each fragment's first line names. The compilations are skipped
only where pdflatex is not installed; CI installs it and fails without it
(.ci/run), so there they always run.
"""

import re
from concurrent.futures import ThreadPoolExecutor

import pytest
import sympy

from conftest import PROBLEMS, latex_errors, needs_pdflatex, pdflatex
from derive.cli import cli
from derive.problem import load_problem
from derive.render import render
from derive.render.formula import latex_formula, text_formula
from derive.render.latex import PACKAGES, ascii_latex, plain_latex
from derive.steps import Sym

NAMES = sorted(path.stem for path in PROBLEMS.glob("*.yaml"))
FRAGMENT_COMMENT = re.compile(r"% Needs \\usepackage\{([a-z,]+)\}; \\allowdisplaybreaks in the preamble")



@pytest.fixture(scope="module")
def solutions():
    return {name: load_problem(PROBLEMS / f"{name}.yaml").solve() for name in NAMES}


@pytest.fixture(scope="module")
def compiled(solutions, tmp_path_factory):
    """{name: (document, return code, log)} for every bundled problem's own document."""
    directory = tmp_path_factory.mktemp("latex")
    documents = {name: render(solution, "latex") for name, solution in solutions.items()}
    for name, document in documents.items():
        (directory / f"{name}.tex").write_text(document, encoding="utf-8")
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = dict(zip(NAMES, pool.map(lambda name: pdflatex(directory, name), NAMES)))
    return {name: (documents[name], *results[name]) for name in NAMES}



@needs_pdflatex
@pytest.mark.parametrize("name", NAMES)
def test_every_bundled_problem_compiles_with_pdflatex(compiled, name):
    document, status, log = compiled[name]
    assert (status, latex_errors(log)) == (0, []), f"{name}: {latex_errors(log)}"
    assert "Output written on" in log


OVERFULL = re.compile(r"^Overfull \\hbox \(([0-9.]+)pt too wide\)", re.M)


@needs_pdflatex
@pytest.mark.parametrize("name", NAMES)
def test_no_line_of_a_bundled_problem_passes_the_right_margin(compiled, name):
    """Long rows are broken after an `=` or within a sum, long notes set as paragraphs: nothing sticks
    out more than 10pt."""
    document, status, log = compiled[name]
    assert [float(width) for width in OVERFULL.findall(log) if float(width) > 10] == []


@pytest.mark.parametrize("name", NAMES)
def test_every_document_is_plain_ascii_with_every_character_known(solutions, name):
    document = render(solutions[name], "latex")
    assert document.isascii()
    assert "[U+" not in document  # no character fell through the table
    assert document.splitlines()[1:3] == [r"\documentclass{article}", r"\usepackage{amsmath,amssymb}"]
    assert document.endswith("\\end{document}\n")


@needs_pdflatex
def test_every_fragment_compiles_with_the_packages_its_first_line_names(solutions, tmp_path):
    body = []
    for name, solution in solutions.items():
        fragment = render(solution, "latex", fragment=True, keys=True)
        packages = FRAGMENT_COMMENT.match(fragment).group(1)
        (tmp_path / f"{name}.tex").write_text(fragment, encoding="utf-8")
        body.append(rf"\input{{{name}}}")
    assert packages == ",".join(PACKAGES)
    preamble = [r"\documentclass{article}", rf"\usepackage{{{packages}}}", r"\allowdisplaybreaks"]
    (tmp_path / "all.tex").write_text("\n".join(preamble + [r"\begin{document}"] + body + [r"\end{document}"]),
                                      encoding="utf-8")
    status, log = pdflatex(tmp_path, "all")
    assert (status, latex_errors(log)) == (0, [])


# -- the command line -------------------------------------------------------------------------------

def test_a_fragment_starts_with_the_packages_it_needs(runner):
    result = runner.invoke(cli, ["solve", "hw2-sigmoid", "--format", "latex", "--fragment"])
    assert result.exit_code == 0, result.output
    first, second, third = result.output.splitlines()[:3]
    assert first == (r"% Needs \usepackage{amsmath,amssymb}; \allowdisplaybreaks in the preamble lets long "
                     "displays break across pages.")
    assert (second, third[:10]) == ("% hw2-sigmoid (derivative)", r"\section*{")
    assert r"\documentclass" not in result.output and r"\end{document}" not in result.output


def test_the_document_is_the_fragment_in_a_preamble(runner):
    document = runner.invoke(cli, ["solve", "hw2-sigmoid", "-f", "latex"]).output
    fragment = runner.invoke(cli, ["solve", "hw2-sigmoid", "-f", "latex", "--fragment"]).output
    body = fragment.splitlines()[2:]
    assert document.splitlines()[7:-1] == body
    assert document.splitlines()[:7] == ["% hw2-sigmoid (derivative)", r"\documentclass{article}",
                                         r"\usepackage{amsmath,amssymb}", r"\usepackage[margin=2cm]{geometry}",
                                         r"\allowdisplaybreaks", r"\setlength{\emergencystretch}{3em}",
                                         r"\begin{document}"]


@pytest.mark.parametrize("format_", ["text", "markdown", "json"])
def test_fragment_without_format_latex_fails(runner, format_):
    result = runner.invoke(cli, ["solve", "hw2-sigmoid", "--format", format_, "--fragment"])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "Error: --fragment needs --format latex" in result.stderr


# -- Unicode as macros, one table ---------------------------------------------------------------------

ASCII_LATEX = [
    ("θ′", r"\ensuremath{\theta^{\prime}}"),
    ("σ′′₂", r"\ensuremath{\sigma^{\prime\prime}_{2}}"),
    ("∇L = 0", r"\ensuremath{\nabla}L = 0"),
    ("δ⁽ˡ⁾₂₁", r"\ensuremath{\delta^{(l)}_{21}}"),
    ("a⁽ˡ⁻¹⁾[u + 1, v]", r"a\ensuremath{^{(l-1)}}[u + 1, v]"),
    ("a⁽¹⁾₁²", r"a\ensuremath{^{(1)}_{1}{}^{2}}"),  # a second superscript on an empty group
    ("W⁽²⁾ᵀ e", r"W\ensuremath{^{(2)\top}} e"),
    ("x · y × z", r"x \ensuremath{\cdot} y \ensuremath{\times} z"),
    ("x ≤ 0, y ≥ 1, z ≠ 2", r"x \ensuremath{\le} 0, y \ensuremath{\ge} 1, z \ensuremath{\ne} 2"),
    ("1 − β", r"1 \ensuremath{-} \ensuremath{\beta}"),
    ("m̂ ŷ", r"\ensuremath{\hat{m}} \ensuremath{\hat{y}}"),  # combining and precomposed accents alike
    ("½ t²", r"\ensuremath{\tfrac{1}{2}} t\ensuremath{^{2}}"),
    ("αΑ", r"\ensuremath{\alpha A}"),  # a macro name kept apart from the letter after it
    ("Fisher–Yates, café", r"Fisher\ensuremath{\text{\textendash}}Yates, caf\ensuremath{\text{\'e}}"),
    ("x ∈ ℝ", r"x \ensuremath{\in} \ensuremath{\text{[U+211D]}}"),  # unknown: shown, never an error
    (r"\frac{a}{b}", r"\frac{a}{b}"),
]


@pytest.mark.parametrize("text, latex", ASCII_LATEX, ids=[row[0] for row in ASCII_LATEX])
def test_unicode_becomes_macros_right_in_text_and_math(text, latex):
    assert ascii_latex(text) == latex


PLAIN_LATEX = [
    (r"w^{1}_{11}^{(0)} = 1", r"{w^{1}_{11}}^{(0)} = 1"),
    (r"z_{1}_{2}", r"{z_{1}}_{2}"),
    (r"a^{2}'", r"{a^{2}}'"),
    (r"\hat{y}^{2}_{1}^{3}", r"{\hat{y}^{2}_{1}}^{3}"),
    (r"\sigma\left(x\right)^{2}^{3}", r"{\sigma\left(x\right)^{2}}^{3}"),
    (r"\text{standard_normal, 50% of a^b, x < y | z}",
     r"\text{standard\_normal, 50\% of a\textasciicircum{}b, x \textless{} y \textbar{} z}"),
    (r"\text{written $[k_1]$ and \ensuremath{x_{1}}}", r"\text{written $[k_1]$ and \ensuremath{x_{1}}}"),
    (r"a'^{2} + a''_{1} + u_{1}^{2} + x^{\top}", r"a'^{2} + a''_{1} + u_{1}^{2} + x^{\top}"),
    (r"e^{-x_{1}} % a key: k_1^2", r"e^{-x_{1}} % a key: k_1^2"),
]


@pytest.mark.parametrize("latex, repaired", PLAIN_LATEX, ids=[row[0] for row in PLAIN_LATEX])
def test_double_scripts_are_braced_and_text_is_escaped(latex, repaired):
    assert plain_latex(latex) == repaired


# -- powers of symbols with a superscript ---------------------------------------------------------------

a, u, s = sympy.symbols("a u s")
SYMBOLS = {"a": Sym.indexed("a⁽¹⁾", "a^{(1)}", None, (1,)), "u": Sym.indexed("u", "u", None, (1,)),
           "s": Sym("σ′", r"\sigma'")}
POWERS = [
    (sympy.Pow(a, 2, evaluate=False), "{a^{(1)}_{1}}^{2}", "a⁽¹⁾₁^2"),
    (sympy.Pow(s, 2, evaluate=False), r"{\sigma'}^{2}", "σ′^2"),
    (sympy.Pow(u, 2, evaluate=False), "u_{1}^{2}", "u₁^2"),  # a subscript alone takes a superscript
    (1 - sympy.Pow(a, 2, evaluate=False), r"1 - {a^{(1)}_{1}}^{2}", "1 - a⁽¹⁾₁^2"),
]


@pytest.mark.parametrize("formula, latex, text", POWERS, ids=[row[1] for row in POWERS])
def test_a_raised_symbol_with_a_superscript_is_braced(formula, latex, text):
    assert latex_formula(formula, SYMBOLS) == latex
    assert text_formula(formula, SYMBOLS) == text  # the text printer is unchanged


def _latex_fields(document):
    """Every `latex` string of a `--format json` document."""
    if isinstance(document, dict):
        for key, value in document.items():
            if key == "latex" and isinstance(value, str):
                yield value
            else:
                yield from _latex_fields(value)
    elif isinstance(document, list):
        for value in document:
            yield from _latex_fields(value)


@pytest.mark.parametrize("name", NAMES)
def test_the_json_latex_of_every_bundled_problem_is_plain_latex_as_it_is(solutions, name):
    """A script that takes a `latex` field from the JSON gets what pdflatex typesets: ASCII, no double
    superscript, no math sign bare in text (what `plain_latex` would repair, it has nothing to repair)."""
    import json

    fields = list(_latex_fields(json.loads(render(solutions[name], "json"))))
    assert fields and [latex for latex in fields if plain_latex(latex) != latex] == []


@pytest.mark.parametrize("name", NAMES)
def test_no_note_shows_a_formula_as_literal_carets(solutions, name):
    """Formulas in a solution's notes are mathematics (θ^{t+1} as a superscript), not text with a caret."""
    document = render(solutions[name], "latex")
    notes = document[document.find(r"\begin{itemize}"):document.find(r"\end{itemize}")]
    assert r"\textasciicircum" not in notes


# A long formula holding piecewise functions (cases): a row cut at its sums must never cut inside the cases.
# (The second is wider than any page: it must compile; where it runs past the margin is not asked.)
PIECEWISE = [("elu(x, 0.5) + leaky_relu(x)", True),
             ("selu(x) + elu(x) + leaky_relu(x, 0.2) + x^3 - 2 x^2 + 5 x - 7", False)]


@needs_pdflatex
@pytest.mark.parametrize("function, in_margin", PIECEWISE, ids=[f for f, _ in PIECEWISE])
def test_a_long_formula_with_cases_compiles(tmp_path, function, in_margin):
    path = tmp_path / "piecewise.yaml"
    path.write_text(f"kind: derivative\nfunction: {function}\norder: 2\n", encoding="utf-8")
    document = render(load_problem(path).solve(), "latex")
    assert r"\begin{cases}" in document
    (tmp_path / "piecewise.tex").write_text(document, encoding="utf-8")
    status, log = pdflatex(tmp_path, "piecewise")
    assert (status, latex_errors(log)) == (0, [])
    if in_margin:
        assert all(float(width) <= 10 for width in OVERFULL.findall(log))
