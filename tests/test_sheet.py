"""Reading answer sheets: the fast path for flat sheets agrees with the YAML loader; a sheet that
cannot be read says why in one line."""

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from derive.errors import AnswerSheetError
from derive.grading.sheet import WrittenFloat, _SheetLoader, _flat, read_answer, read_sheet

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
    assert [_plain_type(v) for v in data.values()] == [type(v) for v in expected.values()]
    # and each number keeps the text it was written as, as the sheet's YAML loader keeps it
    loader = _SheetLoader(text)
    try:
        loaded = loader.get_single_data()
    finally:
        loader.dispose()
    assert [_written(v) for v in data.values()] == [_written(v) for v in loaded.values()]


def _plain_type(value):
    return float if type(value) is WrittenFloat else type(value)


def _written(value):
    if isinstance(value, list):
        return [_written(v) for v in value]
    return (type(value), value.text) if type(value) is WrittenFloat else (type(value), value)


@pytest.mark.parametrize("line, text, number", [
    ("yhat[1]: 0.8090", "0.8090", 0.809),
    ("yhat[1]: -0.02640", "-0.02640", -0.0264),
    ("yhat[1]: 2.0", "2.0", 2.0),
    ("yhat[1]: 2", "2", 2.0),
    ("yhat[1]: -0.0", "-0.0", 0.0),
    ("yhat[1]: 1.4436e+00", "1.4436e+00", 1.4436),
    ("yhat[1]: -6.10e-04", "-6.10e-04", -0.00061),
    ("yhat[1]: .5", ".5", 0.5),             # read by the YAML loader, not line by line
    ("yhat[1]: 1_000.50", "1_000.50", 1000.5),
    ("yhat[1]: 0.8090   # rounded", "0.8090", 0.809),
    ("yhat[1]: '0.8090'", "0.8090", 0.809),  # quoted: text, read as a number
])
@pytest.mark.parametrize("more", ["", "nested:\n  - 1\n"])  # the second is read by the YAML loader
def test_a_number_is_kept_as_written_with_its_trailing_zeros(tmp_path, line, text, number, more):
    """An answer is the text the student wrote: `0.8090` is shown as `0.8090`, not `0.809`, and the digits
    a slip must agree with are those written."""
    path = tmp_path / "s.yaml"
    path.write_text(f"{line}\n{more}", encoding="utf-8")
    answer = read_sheet(path, {"yhat[1]"}).answers["yhat[1]"]
    assert (answer.text, answer.number, type(answer.number)) == (text, number, float)


@pytest.mark.parametrize("other", ["", "id: s2\n", "\n# a comment\nid: s3\n"])
def test_a_line_read_before_keeps_this_sheet_s_line_number_and_order(tmp_path, other):
    """A class writes the same lines, each read once: the same line lower on another sheet gives that
    sheet its own line number, and its answers in its own order, as the YAML loader reads them."""
    first, second = tmp_path / "a.yaml", tmp_path / "b.yaml"
    first.write_text("yhat[1]: 0.8090\nz[1][1]: -0.50\nid: s1\n", encoding="utf-8")
    second.write_text(f"{other}z[1][1]: -0.50\nyhat[1]: 0.8090\n", encoding="utf-8")
    known = {"yhat[1]", "z[1][1]"}
    read_sheet(first, known)
    sheet = read_sheet(second, known)
    loader = _SheetLoader(second.read_text(encoding="utf-8"))
    try:
        loaded = loader.get_single_data()
    finally:
        loader.dispose()
    assert [(key, answer.text, answer.line) for key, answer in sheet.answers.items()] == [
        (key, _written(value)[1], loader.key_lines[key]) for key, value in loaded.items() if key != "id"]


def test_a_long_line_is_read_every_time_never_remembered(tmp_path):
    """A class's lines are remembered, but a hostile sheet's long ones (up to the 1 MB a sheet may hold,
    each different) are not: memory stays bounded however many such sheets a class holds."""
    from derive.grading import sheet as sheets

    for n in range(3):
        path = tmp_path / f"s{n}.yaml"
        path.write_text(f'yhat[1]: "{n}{"x" * 100_000}"\nz[1][1]: 0.5\n', encoding="utf-8")
        answers = read_sheet(path, {"yhat[1]", "z[1][1]"}).answers
        assert answers["yhat[1]"].refused.startswith("answer too long") and answers["z[1][1]"].number == 0.5
    assert not any(len(line) > 100_000 for line in sheets._FLAT_LINES)
    assert "z[1][1]: 0.5" in sheets._FLAT_LINES


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


@pytest.mark.parametrize("text", ["g: [0.10, -2.50, 3]", "g:\n  - 0.10\n  - -2.50\n  - 3", "g: [[0.10, -2.50], [3, 1.0e+00]]"])
def test_a_whole_vector_or_matrix_is_kept_as_written(text):
    """A list of numbers answering a whole vector or matrix (matrix notation) shows each entry as written."""
    from derive.grading.sheet import _SheetLoader, read_matrix_answer

    flat = _flat(text + "\n")
    if flat is None:
        loader = _SheetLoader(text + "\n")
        try:
            data = loader.get_single_data()
        finally:
            loader.dispose()
    else:
        data = flat[0]
    answer = read_matrix_answer(data["g"])
    if "[[" in text:
        assert (answer.text, answer.values) == ("[[0.10, -2.50], [3, 1.0e+00]]", ((0.1, -2.5), (3.0, 1.0)))
    else:
        assert (answer.text, answer.values) == ("[0.10, -2.50, 3]", (0.1, -2.5, 3.0))
