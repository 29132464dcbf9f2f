"""The Python API page's examples run as written and print what they show, so the docs cannot drift.

Every ```python block of docs/python-api.md is a doctest: the blocks run in
order, in one namespace, in an empty working directory, and each `>>>` line's
output must be the one shown under it (`...` stands for any text).
"""

import doctest
import re
from pathlib import Path

import pytest

PAGE = Path(__file__).parent.parent / "docs" / "python-api.md"


def python_blocks(text):
    """(line of its opening fence, code) of every ```python block of a page."""
    return [(text[:match.start()].count("\n") + 1, match[1])
            for match in re.finditer(r"^```python\n(.*?)^```", text, re.S | re.M)]


def run_blocks(blocks):
    """(failures, examples tried, the failure report) of the blocks run one after another."""
    parser = doctest.DocTestParser()
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    report, namespace = [], {"__name__": "readme"}
    for line, code in blocks:
        test = parser.get_doctest(code, namespace, f"{PAGE.name}, the block at line {line}", str(PAGE), line)
        runner.run(test, out=report.append, clear_globs=False)
        namespace = test.globs  # the next block sees what this one defined
    return runner.failures, runner.tries, "".join(report)


@pytest.fixture(scope="module")
def blocks():
    return python_blocks(PAGE.read_text(encoding="utf-8"))


def test_every_example_block_shows_output_to_check(blocks):
    assert len(blocks) >= 4  # solve, grade a sheet, grade a class, variants
    for line, code in blocks:
        examples = doctest.DocTestParser().get_examples(code)
        assert examples, f"{PAGE.name}:{line}: a python block with no >>> example"
        assert any(example.want for example in examples), f"{PAGE.name}:{line}: no output shown to check"


def test_the_examples_print_what_the_page_shows(blocks, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    failures, tried, report = run_blocks(blocks)
    assert failures == 0, report
    assert tried >= 20


def test_an_example_whose_output_differs_fails():
    """The check above can fail: a block showing the wrong number is caught."""
    wrong = '>>> import derive\n>>> derive.load_problem("lecture-bp-3layer").solve()["yhat[1]"].value\n0.81\n'
    failures, tried, report = run_blocks([(1, wrong)])
    assert (failures, tried) == (1, 2)
    assert "Expected:\n    0.81\nGot:\n    0.809" in report


def test_every_python_block_of_the_page_is_found():
    text = "# t\n\n```python\n>>> 1\n1\n```\n\nprose\n\n```text\nnot python\n```\n\n```python\n>>> 2\n2\n```\n"
    assert python_blocks(text) == [(3, ">>> 1\n1\n"), (14, ">>> 2\n2\n")]
