"""Reading answer sheets: the fast path for flat sheets agrees with the YAML loader; a sheet that
cannot be read says why in one line."""

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from derive.errors import AnswerSheetError
from derive.grading.sheet import _flat, read_answer, read_sheet

KEYS = st.sampled_from(["z[1][1]", "delta[2]", "id", "yhat", "a_b", "after.loss", "it2.w_new[1][1][1]"])
VALUES = st.sampled_from([
    "", "1", "-0.0264", "0.98", "1.5e-3", "1e-3", ".5", "007", "-0", "0", "yes", "No", "null", "~", "s1234567",
    "'x'", '"s(1-s)"', '"a\\"b"', "[1, 2.5, -3]", "[1, [2]]", "[]", "[1,]", "1 # note", "x#y", "2024-01-01",
    "1_000", "0x10", "+1", "1.", "True", "NaN", ".inf", "'it''s'", '""', "''", "-", "x y", "é", "[ 1 , 2 ]",
    '"#"', "'#x' # c", "&a 1", "*a", "!!str 1", "{a: 1}", "|", ">", "- 1",
])
LINES = st.one_of(
    st.tuples(KEYS, VALUES).map(lambda kv: f"{kv[0]}: {kv[1]}".rstrip()),
    st.sampled_from(["", "# a comment", "  indented: 1", "---", "\t", "key:value"]),
)


@settings(max_examples=400, deadline=None)
@given(st.lists(LINES, max_size=8))
def test_the_flat_reader_agrees_with_yaml_wherever_it_answers(lines):
    text = "\n".join(lines) + "\n"
    flat = _flat(text)
    if flat is None:
        return  # left to the YAML loader
    data, _ = flat
    expected = yaml.safe_load(text)
    assert data == expected
    assert [type(v) for v in data.values()] == [type(v) for v in expected.values()]


ANSWERS = [
    (-0.0264, "-0.0264", -0.0264),
    (2, "2", 2.0),
    ("−0.0264", "−0.0264", -0.0264),  # Unicode minus
    ("1/2", "1/2", 0.5),
    ("2e-3", "2e-3", 0.002),
    ("exp(0)", "exp(0)", 1.0),
]


def test_answers_are_read_as_numbers_without_eval():
    for value, text, number in ANSWERS:
        answer = read_answer(value)
        assert (answer.text, answer.number) == (text, number)


def test_what_is_not_a_number_says_why():
    assert read_answer("1,5").problem == "'1,5': use a decimal point, not a comma"
    assert read_answer(True).refused == "true is not a number or an expression"
    assert read_answer({"a": 1}).refused == "a mapping is not an answer"


# A sheet that cannot be read: (text, the line derive prints), each in derive's own words.
UNREADABLE = [
    ("z[1][1]: 2\nz[1][1]: 3\n", "s.yaml:2: duplicate key 'z[1][1]'"),
    ("- 2\n", "s.yaml:1: expected a mapping from step keys to answers"),
    ("# nothing yet\n", "s.yaml:1: empty answer sheet"),
    ("z[1][1]: 2\x00\n", "s.yaml:1: expected text, got the control character U+0000"),
    ("id: s1\nz[1][1]: " + "[" * 300 + "]" * 300 + "\n", "s.yaml:2: nested too deeply (more than 32 levels)"),
    ("id: s1\nz[1][1]: " + "[" * 200_000 + "]" * 200_000 + "\n", "s.yaml:2: nested too deeply (more than 32 levels)"),
    ("z[1][1]: " + "[" * 2000 + "1: 2: 3\n", "s.yaml:1: nested too deeply (more than 32 levels)"),
]


@pytest.mark.parametrize("text, message", UNREADABLE, ids=range(len(UNREADABLE)))
def test_an_unreadable_sheet_says_why_in_one_line(tmp_path, text, message):
    path = tmp_path / "s.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(AnswerSheetError) as caught:
        read_sheet(path, {"z[1][1]"})
    assert str(caught.value) == f"{tmp_path}/{message}"


# Not YAML: (text, the line). After `malformed YAML: ` comes the YAML library's own sentence, which
# changes between PyYAML, libyaml and their versions: derive's part of the line is checked.
MALFORMED = [
    ("z[1][1]: [2,\n", 2),
    ("id: dan\nz[1][1]: [2,\n", 3),
    ("z[1][1]: 2: 3\n", 1),
    ("z[1][1]: *x\n", 1),
    ("z[1][1]: '2\n", 2),
]


@pytest.mark.parametrize("text, line", MALFORMED, ids=range(len(MALFORMED)))
def test_a_malformed_sheet_names_its_line(tmp_path, text, line):
    path = tmp_path / "s.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(AnswerSheetError) as caught:
        read_sheet(path, {"z[1][1]"})
    where = f"{path}:{line}: malformed YAML: "
    message = str(caught.value)
    assert message.startswith(where) and message[len(where):].strip() and "\n" not in message, message
