"""Reading answer sheets: the fast path for flat sheets agrees with the YAML loader."""

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from derive.sheet import _flat, read_answer

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
