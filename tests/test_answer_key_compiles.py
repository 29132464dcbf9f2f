"""The answer key `derive variants` writes (answer-key.tex), compiled by pdflatex as it is.

Every bundled problem with a `random` field gets its variants for a small
roster and its key compiled on its own (two pdflatex processes at a time);
every other bundled problem's key, made from its own numbers as a one-student
variant set, is compiled once more in one document, so that the symbols and
titles of every kind (Unicode, a symbol with two superscripts) are typeset
too. The compilations are skipped only where pdflatex is not installed; CI
installs it and fails without it (.ci/run), so there they always run.
"""

import re
from concurrent.futures import ThreadPoolExecutor

import pytest
import yaml
from click.testing import CliRunner

from conftest import PROBLEMS, latex_errors, needs_pdflatex, pdflatex
from derive.cli import cli
from derive.problem import load_problem
from derive.vary.variants import KEY_LATEX, Variant, VariantSet, _latex_value, answer_key

RANDOM = sorted(path.stem for path in PROBLEMS.glob("*.yaml")
                if "random" in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}))
BODY = re.compile(r"\\begin\{document\}\n(.*)\\end\{document\}\n", re.S)




@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    """{name: the directory of its variants} for every bundled problem with a `random` field."""
    roster = tmp_path_factory.mktemp("roster") / "roster.csv"
    roster.write_text("id,name\ns1234567,Ada Lovelace\nj.doe-2,John Doe\n", encoding="utf-8")
    made = {}
    for name in RANDOM:
        out = tmp_path_factory.mktemp(name)
        result = CliRunner().invoke(cli, ["variants", str(PROBLEMS / f"{name}.yaml"), "--roster", str(roster),
                                          "--out", str(out)])
        assert result.exit_code == 0, result.output
        made[name] = out
    return made


@pytest.fixture(scope="module")
def compiled(keys):
    """{name: (return code, log)} of each answer key compiled in its own directory."""
    stem = KEY_LATEX.removesuffix(".tex")
    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(zip(keys, pool.map(lambda name: pdflatex(keys[name], stem), keys)))


def test_some_bundled_problem_has_random_fields():
    assert "lecture-bp-3layer" in RANDOM


@needs_pdflatex
@pytest.mark.parametrize("name", RANDOM)
def test_the_answer_key_of_every_bundled_problem_with_random_fields_compiles(compiled, name):
    status, log = compiled[name]
    assert (status, latex_errors(log)) == (0, []), f"{name}: {latex_errors(log)}"
    pages = re.search(r"Output written on answer-key\.pdf \((\d+) pages?", log)
    assert pages and int(pages.group(1)) >= 2  # each student from a new page


@pytest.mark.parametrize("name", RANDOM)
def test_the_answer_key_is_plain_ascii_with_every_character_known(keys, name):
    tex = (keys[name] / KEY_LATEX).read_text(encoding="utf-8")
    assert tex.isascii() and "[U+" not in tex
    assert tex.splitlines()[:2] == [r"\documentclass{article}", r"\usepackage{amsmath,amssymb}"]
    assert tex.count(r"\clearpage") == 1 and tex.endswith("\\end{document}\n")


@needs_pdflatex
def test_the_answer_key_of_every_bundled_problem_s_own_numbers_compiles(tmp_path):
    preambles, bodies = set(), []
    for path in sorted(PROBLEMS.glob("*.yaml")):
        base = load_problem(path)
        tex = answer_key(VariantSet(base, "0" * 64, (Variant("s1", "", 1, base),)))["latex"]
        assert tex.isascii() and "[U+" not in tex, path.stem
        preambles.add(tex[:tex.index(r"\begin{document}")])
        bodies.append(BODY.search(tex).group(1) + "\\clearpage\n")
    (preamble,) = preambles
    (tmp_path / "keys.tex").write_text(preamble + "\\begin{document}\n" + "".join(bodies) + "\\end{document}\n",
                                       encoding="utf-8")
    status, log = pdflatex(tmp_path, "keys")
    assert (status, latex_errors(log)) == (0, []), latex_errors(log)
    assert "Output written on keys.pdf" in log


@pytest.mark.parametrize("shown, latex", [
    ("0.3418", "0.3418"),
    ("-3", "-3"),
    ("2.04301e-05", r"2.04301 \times 10^{-5}"),
    ("-1.5e+20", r"-1.5 \times 10^{20}"),
    ("inf", r"\infty"),
    ("-inf", r"-\infty"),
    ("nan", r"\text{nan}"),
    ("True", r"\text{True}"),
    ("a_b <c>", r"\text{a\_b \textless{}c\textgreater{}}"),
])
def test_an_answer_is_printed_as_math_and_a_word_in_text(shown, latex):
    assert _latex_value(shown) == latex
