"""A bad problem file gets one line on stderr, `file:line: field: what was expected`, and status 2.

Each failure row is a problem file and the exact line `derive solve` and
`derive check` print for it (`p.yaml` stands for the file in tmp_path). The rows
are edits of one small valid problem, VALID, whose lines are numbered below
so that a row's line number can be checked by eye.

YAML that does not parse is the exception: after `malformed YAML:` derive
passes on the YAML library's own sentence, which changes between PyYAML,
libyaml and their versions, so those rows (MALFORMED) check derive's part of
the line only: the file, the line and the prefix.
"""

import subprocess
import sys

import pytest

from derive.cli import cli
from derive.kinds import available
from conftest import SMALL_NETWORK, edited, extended

VALID = SMALL_NETWORK  # its lines: 1 kind  2 sizes  3 layers  4 activation  5 weights  6 samples  7 x  8 y  9 learning_rate

SOFTMAX = """\
kind: mlp_backprop
sizes: [2, 2]
layers:
  - activation: softmax
    weights: [[1, 0], [0, 1]]
samples:
  - x: [1, 0]
    y: [0.5, 0.5]
learning_rate: 0.5
loss: cross_entropy
"""


def edit(line, text, problem=VALID):
    return edited(problem, line, text)


def add(text, problem=VALID):
    return extended(problem, text)


def activation(text):
    return edit(4, f"  - activation: {text}")


def network(sizes, samples):
    """A valid problem of any size, every weight 0.1."""
    layers = "".join(f"  - activation: sigmoid\n    weights: {[[0.1] * b for _ in range(a)]}\n"
                     for a, b in zip(sizes, sizes[1:]))
    rows = f"  - x: {[1] * sizes[0]}\n    y: {[0] * sizes[-1]}\n" * samples
    return f"kind: mlp_backprop\nsizes: {sizes}\nlayers:\n{layers}samples:\n{rows}learning_rate: 0.5\n"


def alias_bomb():
    """The "billion laughs": nine levels of nine aliases, 9**9 values once expanded."""
    lines = ["a: &a [x, x, x, x, x, x, x, x, x]"]
    for previous, name in zip("abcdefgh", "bcdefghi"):
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{previous}"] * 9) + "]")
    return "\n".join(lines) + "\n"


FAILURES = [
    # not YAML, or not a mapping of fields
    ("", "p.yaml:1: expected a mapping of fields, got an empty file"),
    ("# only a comment\n", "p.yaml:1: expected a mapping of fields, got an empty file"),
    ("- kind: mlp_backprop\n", "p.yaml:1: expected a mapping of fields, got a list of 1"),
    ("mlp_backprop\n", "p.yaml:1: expected a mapping of fields, got text 'mlp_backprop'"),
    (add("learning_rate: 0.1"), "p.yaml:10: learning_rate: duplicate field (first given at line 9)"),
    (add("[a, b]: 1"), "p.yaml:10: expected a field name, got a list"),
    (add("yes: 1"), "p.yaml:10: expected a field name, got true (a boolean)"),
    (add("<<: {batch: sum}"), "p.yaml:10: merge keys (<<) are not supported"),
    # YAML that would build objects, or blow up
    (edit(9, "learning_rate: !!python/object/apply:os.system ['true']"),
     "p.yaml:9: learning_rate: unsupported YAML tag !!python/object/apply:os.system (only plain values are read)"),
    ("!!python/object:object {}\n", "p.yaml:1: unsupported YAML tag !!python/object:object (only plain values are read)"),
    (edit(9, "learning_rate: !custom 0.5"), "p.yaml:9: learning_rate: unsupported YAML tag !custom (only plain values are read)"),
    (edit(9, "learning_rate: !!binary MC41"), "p.yaml:9: learning_rate: unsupported YAML tag !!binary (only plain values are read)"),
    (add("title: 2024-05-01"), "p.yaml:10: title: expected a number or text, got a date (quote it to make it text)"),
    (alias_bomb(), "p.yaml:6: f: too many values (more than 200000; aliases expanding?)"),
    (edit(2, "sizes: " + "[" * 40 + "]" * 40), "p.yaml:2: nested too deeply (more than 32 levels)"),
    (edit(2, "sizes: " + "[" * 200_000 + "]" * 200_000), "p.yaml:2: nested too deeply (more than 32 levels)"),
    ("a: &a [*a]\n", "p.yaml:1: a: nested too deeply (more than 32 levels)"),
    ("kind: mlp_backprop\x00\n", "p.yaml:1: expected text, got the control character U+0000"),
    # missing and unknown fields
    (edit(1, ""), "p.yaml:1: kind: missing required field"),
    (edit(9, ""), "p.yaml:1: learning_rate: missing required field"),
    (edit(5, ""), "p.yaml:4: layers[0].weights: missing required field"),
    (edit(4, "  - weights: [[0.5], [-0.5]]", edit(5, "")), "p.yaml:4: layers[0].activation: missing required field"),
    (edit(8, "    y: [1]\n  - x: [0, 1]"),
     "p.yaml:9: samples[1].y: missing (give every sample a target, or none for a forward pass only)"),
    (edit(9, "learning_rat: 0.5"), "p.yaml:9: learning_rat: unknown field (did you mean 'learning_rate'?)"),
    (edit(5, "    wieghts: [[0.5], [-0.5]]"), "p.yaml:5: layers[0].wieghts: unknown field (did you mean 'weights'?)"),
    (edit(8, "    y: [1]\n    z: [1]"), "p.yaml:9: samples[0].z: unknown field; expected one of grad_yhat, x, y"),
    (add('"learning\\nrate": 0.5'), "p.yaml:10: 'learning\\nrate': unknown field (did you mean 'learning_rate'?)"),
    (add("a" * 1000 + ": 1"), "p.yaml:10: 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...': unknown field; expected one of batch, "
                                 "constraints, decay_offsets, derivatives, grading, id, init, input_gradient, iterations, kind, l1, layers, "
                                 "learning_rate, lecture, loss, loss_after, notation, notes, offset, random, rounding, samples, sizes, "
                                 "source, title, update, variant_of, weight_decay, weights_layout"),
    (edit(1, "kind: mlp_backprob"), f"p.yaml:1: kind: expected one of {', '.join(sorted(available()))}, "
                                    "got text 'mlp_backprob' (did you mean 'mlp_backprop'?)"),
    # wrong shapes and types
    (edit(5, "    weights: [[0.5, -0.5]]"),
     "p.yaml:5: layers[0].weights: expected a 2x1 matrix (rows = the 2 neurons of layer 0, columns = the 1 of layer 1), "
     "got 1x2"),
    (edit(5, "    weights: [[0.5], [-0.5, 1]]"),
     "p.yaml:5: layers[0].weights: expected a 2x1 matrix (rows = the 2 neurons of layer 0, columns = the 1 of layer 1), "
     "got 2x1/2"),
    (edit(5, "    weights: [" + ", ".join(str([1] * n) for n in range(1, 500)) + "]"),
     "p.yaml:5: layers[0].weights: expected a 2x1 matrix (rows = the 2 neurons of layer 0, columns = the 1 of layer 1), "
     "got 499x1..499"),
    (edit(5, "    weights: 0.5"),
     "p.yaml:5: layers[0].weights: expected a 2x1 matrix (rows = the 2 neurons of layer 0, columns = the 1 of layer 1), "
     "got 0.5"),
    (edit(2, "sizes: [2, 1, 1]"), "p.yaml:4: layers: expected a list of 2, got 1"),
    (edit(2, "sizes: '2, 1'"), "p.yaml:2: sizes: expected a list, got text '2, 1'"),
    (edit(2, "sizes: [2, 1000]"), "p.yaml:2: sizes[1]: expected a whole number <= 64, got 1000"),
    (edit(7, "  - x: [1, zero]"), "p.yaml:7: samples[0].x[1]: expected a number, got text 'zero'"),
    (edit(7, "  - x: [1, 0, 1]"), "p.yaml:7: samples[0].x: expected 2 number(s), got 3"),
    (edit(7, "  - x: [true, 0]"), "p.yaml:7: samples[0].x[0]: expected a number, got true (a boolean)"),
    (edit(9, "learning_rate: fast"), "p.yaml:9: learning_rate: expected a number, got text 'fast'"),
    (edit(9, "learning_rate: yes"), "p.yaml:9: learning_rate: expected a number, got true (a boolean)"),
    (edit(9, "learning_rate: -0.5"), "p.yaml:9: learning_rate: expected a positive number, got -0.5"),
    (edit(9, "learning_rate: 0"), "p.yaml:9: learning_rate: expected a positive number, got 0"),
    (edit(9, "learning_rate: .nan"), "p.yaml:9: learning_rate: expected a finite number, got nan"),
    (edit(9, "learning_rate: 1e999"), "p.yaml:9: learning_rate: expected a finite number, got inf"),
    (edit(5, "    weights: [[" + "9" * 400 + "], [1]]"),
     "p.yaml:5: layers[0].weights[0][0]: number too long (400 digits; at most 100)"),
    (edit(5, "    weights: [[" + "9" * 5000 + "], [1]]"),
     "p.yaml:5: layers[0].weights[0][0]: number too long (5000 digits; at most 100)"),
    (add("iterations: 1.5"), "p.yaml:10: iterations: expected a whole number, got 1.5"),
    (add("weight_decay: -1"), "p.yaml:10: weight_decay: expected a number >= 0, got -1"),
    (add("rounding: 20"), "p.yaml:10: rounding: expected exact or a number of decimals (0 to 12), got 20"),
    (add("title: 3"), "p.yaml:10: title: expected text, got 3"),
    (add("update: weights"), "p.yaml:10: update: expected a list, got text 'weights'"),
    (add("loss: squared"), "p.yaml:10: loss: expected one of half_squared_error, mean_squared_error, cross_entropy, "
                           "binary_cross_entropy, got text 'squared'"),
    (network([40, 40, 40], samples=4),
     "p.yaml:2: sizes: problem too large to solve step by step (about 24245 steps; at most 20000); "
     "use fewer neurons, samples or iterations, or notation: matrix"),
    # activations
    (activation("sigmod"), "p.yaml:4: layers[0].activation: expected sigmoid, tanh, relu, linear, softplus, softmax, "
                           "elu, leaky_relu, selu, gelu, gelu_tanh, mish or an expression in x, got 'sigmod' "
                           "(did you mean 'sigmoid'?)"),
    (activation("3"), "p.yaml:4: layers[0].activation: expected an activation name or an expression in x, got 3"),
    (activation(""), "p.yaml:4: layers[0].activation: expected an activation name or an expression in x, got nothing"),
    (activation("'2'"), "p.yaml:4: layers[0].activation: expected a function of x, got the constant '2'"),
    (activation("2*y"), "p.yaml:4: layers[0].activation: unknown name 'y'; variables allowed here: x"),
    (activation("__import__('os').system('true')"),
     "p.yaml:4: layers[0].activation: character \"'\" is not allowed (at position 12)"),
    (activation("x.__class__"), "p.yaml:4: layers[0].activation: attribute access '.' is not allowed (at position 2)"),
    (activation("9**9**9**9"), "p.yaml:4: layers[0].activation: exponent 387420489 too large (at most 1000 in size)"),
    (activation("x" + "+x" * 500_000),
     "p.yaml:4: layers[0].activation: expression too long (1000001 characters; at most 1000)"),
    (activation("(" * 100 + "x" + ")" * 100),
     "p.yaml:4: layers[0].activation: expression nested too deeply (more than 60 levels)"),
    (activation("sin(" * 30 + "x" + ")" * 30),
     "p.yaml:4: layers[0].activation: derivative too large (496 nodes; at most 100)"),
    (activation("sin(" * 50 + "x" + ")" * 50), "p.yaml:4: layers[0].activation: activation too large (51 nodes; at most 40)"),
    (activation("max(abs(x-1), abs(x-2), abs(x-3), abs(x-4), abs(x-5), abs(x-6), abs(x-7), abs(x-8))"),
     "p.yaml:4: layers[0].activation: derivative too large (345 nodes; at most 100)"),
    (activation("x*" + "*".join(["10^999"] * 2)),
     "p.yaml:4: layers[0].activation: number with too many digits (more than 1000)"),
    (activation("ｘ"), "p.yaml:4: layers[0].activation: unknown name 'ｘ' (U+FF58 FULLWIDTH LATIN SMALL LETTER X); "
                       "variables allowed here: x"),
    (activation("х"), "p.yaml:4: layers[0].activation: unknown name 'х' (U+0445 CYRILLIC SMALL LETTER HA); "
                      "variables allowed here: x"),
    (activation('"x\\u200b"'), "p.yaml:4: layers[0].activation: character '\\u200b' (U+200B ZERO WIDTH SPACE) "
                               "is not allowed (at position 2)"),
    (activation("log(0)*x"), "p.yaml:4: layers[0].activation: undefined value (such as log(0) or tan(pi/2))"),
    (activation("x/(x-x)"), "p.yaml:4: layers[0].activation: division by zero"),
    # rules between fields
    ("kind: mlp_backprop\n"
     "sizes: [2, 2, 1]\n"
     "layers:\n"
     "  - {activation: softmax, weights: [[1, 0], [0, 1]]}\n"
     "  - {activation: sigmoid, weights: [[1], [1]]}\n"
     "samples: [{x: [1, 0], y: [1]}]\n"
     "learning_rate: 0.5\n",
     "p.yaml:4: layers[0].activation: softmax is supported on the output layer only"),
    (add("loss: cross_entropy"),
     "p.yaml:10: loss: cross_entropy needs a softmax output layer (use binary_cross_entropy for sigmoid outputs)"),
    (edit(8, "    y: [0.5, 0.6]", SOFTMAX),
     "p.yaml:8: samples[0].y: expected probabilities summing to 1 for cross_entropy, got a sum of 1.1"),
    (edit(8, "    y: [1.5, -0.5]", SOFTMAX), "p.yaml:8: samples[0].y: expected probabilities for cross_entropy, got -0.5"),
    (add("loss: binary_cross_entropy", edit(8, "    y: [2]")),
     "p.yaml:8: samples[0].y: expected targets between 0 and 1 for binary_cross_entropy, got 2"),
    (edit(5, "    weights: [[0.5], [-0.5]]\n    biases: [0]"),
     "p.yaml:6: layers[0].biases: this problem uses thresholds (offset: threshold); write thresholds: or set offset: bias"),
    (edit(8, "iterations: 2", edit(9, "")),
     "p.yaml:8: iterations: has no meaning without targets (the samples have no y: forward pass only)"),
    # found while solving: the activation's line and field are named, and the step
    (activation("sqrt(x - 5)"),
     "p.yaml:4: layers[0].activation: cannot evaluate yhat[1]: outside the domain of a function "
     "(log or sqrt of a negative number?)"),
    (activation("1/(x - 0.5)"), "p.yaml:4: layers[0].activation: cannot evaluate yhat[1]: division by zero"),  # z = 0.5
]


@pytest.fixture
def problem_file(tmp_path):
    """A function writing its text to tmp_path/p.yaml and returning that path."""
    def write(text):
        path = tmp_path / "p.yaml"
        path.write_text(text, encoding="utf-8")
        return path
    return write


def one_line_error(result, expected):
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr == expected + "\n"


def row_id(row):
    """A failure row's test id: the message without the file and line."""
    return row[1].split(": ", 1)[1][:70]


@pytest.mark.parametrize("command", ["solve", "check"])
@pytest.mark.parametrize("text, message", FAILURES, ids=[row_id(row) for row in FAILURES])
def test_fail(runner, problem_file, command, text, message):
    path = problem_file(text)
    result = runner.invoke(cli, [command, str(path)])
    one_line_error(result, f"{path.parent}/{message}")


@pytest.fixture(params=["default", "pure-python"])
def yaml_loader(request, monkeypatch):
    """Problem files read with the loader derive picks (libyaml's, where installed), then with PyYAML's own."""
    if request.param == "pure-python":
        import yaml

        monkeypatch.delattr(yaml, "CSafeLoader", raising=False)
    return request.param


# Not YAML: (text, the line derive names). What follows `malformed YAML: ` is the parser's own sentence.
MALFORMED = [
    ('title: "unclosed\n', 2),
    (VALID + "---\nkind: mlp_backprop\n", 10),
    (edit(9, "learning_rate: 0.5: 1"), 9),
    (edit(2, "sizes: [2, 1"), 3),
    (edit(3, "layers:\n\t- activation: sigmoid"), 4),
    (edit(5, "   weights: [[0.5], [-0.5]]"), 5),
    (edit(9, "learning_rate: *rate"), 9),
]


@pytest.mark.parametrize("command", ["solve", "check"])
@pytest.mark.parametrize("text, line", MALFORMED, ids=range(len(MALFORMED)))
def test_malformed_yaml_fail(runner, problem_file, yaml_loader, command, text, line):
    path = problem_file(text)
    result = runner.invoke(cli, [command, str(path)])
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1 and result.stderr.endswith("\n"), result.stderr
    where = f"{path}:{line}: malformed YAML: "
    assert result.stderr.startswith(where) and result.stderr[len(where):].strip(), result.stderr


# What derive refuses before the YAML library composes anything, in derive's words with either loader:
# nesting beyond MAX_DEPTH, whatever the library's own limit (libyaml stops at 1000 levels of `[`,
# reading ahead of the events derive counts), and control characters.
BEFORE_YAML = [
    (edit(2, "sizes: " + "[" * 40 + "]" * 40), "p.yaml:2: nested too deeply (more than 32 levels)"),
    (edit(2, "sizes: " + "[" * 1001 + "]" * 1001), "p.yaml:2: nested too deeply (more than 32 levels)"),
    (edit(2, "sizes: " + "[" * 200_000 + "]" * 200_000), "p.yaml:2: nested too deeply (more than 32 levels)"),
    (edit(2, "sizes: " + "{a: " * 2000 + "1" + "}" * 2000), "p.yaml:2: nested too deeply (more than 32 levels)"),
    (edit(2, "sizes: " + "[{a: " * 600 + "1" + "}]" * 600), "p.yaml:2: nested too deeply (more than 32 levels)"),
    (edit(2, "sizes: " + "[" * 2000 + "1: 2: 3"), "p.yaml:2: nested too deeply (more than 32 levels)"),
    ("sizes:\n" + "".join("  " * depth + "-\n" for depth in range(1100)),
     "p.yaml:33: nested too deeply (more than 32 levels)"),
    ("".join("  " * depth + "a:\n" for depth in range(1100)), "p.yaml:33: nested too deeply (more than 32 levels)"),
    ("a: &a [*a]\n", "p.yaml:1: a: nested too deeply (more than 32 levels)"),
    ("kind: mlp_backprop\ntitle: a\x07b\n", "p.yaml:2: expected text, got the control character U+0007"),
]


@pytest.mark.parametrize("text, message", BEFORE_YAML, ids=range(len(BEFORE_YAML)))
def test_derive_refuses_first_with_either_yaml_loader(runner, problem_file, yaml_loader, text, message):
    path = problem_file(text)
    one_line_error(runner.invoke(cli, ["check", str(path)]), f"{path.parent}/{message}")


# Files that cannot be read at all: no line to name, so the path and what it is.
def make_directory(path):
    path.mkdir()


def write_binary(path):
    path.write_bytes(b"kind: mlp_backprop\nsizes: \x89PNG\r\n\x1a\n\x00")


def write_latin1(path):
    path.write_bytes("kind: mlp_backprop\ntitle: café\n".encode("latin-1"))


def write_nothing(path):
    """Leaves the path missing."""


UNREADABLE = [
    (make_directory, "p.yaml: expected a problem file, got a directory"),
    (write_nothing, "p.yaml: no such file"),
    (write_binary, "p.yaml:2: expected UTF-8 text, got byte 0x89"),
    (write_latin1, "p.yaml:2: expected UTF-8 text, got byte 0xe9"),
]


@pytest.mark.parametrize("make, message", UNREADABLE, ids=[make.__name__ for make, _ in UNREADABLE])
def test_unreadable_file_fail(runner, tmp_path, make, message):
    path = tmp_path / "p.yaml"
    make(path)
    result = runner.invoke(cli, ["solve", str(path)])
    one_line_error(result, f"{tmp_path}/{message}")


SUCCESSES = [
    pytest.param(VALID, id="valid"),
    pytest.param(SOFTMAX, id="softmax with cross_entropy"),
    pytest.param(activation("max(0.01x, x)"), id="leaky relu written out"),
    pytest.param(activation("'0.5x(1 + tanh(sqrt(2/π)(x + 0.044715x^3)))'"), id="GELU written out"),
    pytest.param(edit(9, "learning_rate: 1e-3"), id="1e-3 is a number"),  # YAML 1.1 would read text
    pytest.param("\ufeff" + VALID, id="byte-order mark"),
]


@pytest.mark.parametrize("text", SUCCESSES)
def test_check(runner, problem_file, text):
    path = problem_file(text)
    result = runner.invoke(cli, ["check", str(path)])
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == f"{path}: ok (mlp_backprop)\n"
    assert runner.invoke(cli, ["solve", str(path)]).exit_code == 0


# A real process, so that a hang (or a crash of libyaml's C code) fails the test.
HOSTILE = [
    alias_bomb(),
    edit(2, "sizes: " + "[" * 500_000 + "]" * 500_000),
    activation("9**9**9**9"),
    activation("x" + "+x" * 500_000),
    activation("max(" + ", ".join(f"max(abs(x-{i}), abs(x+{i}), abs(2x-{i}), min(x, {i}))" for i in range(1, 9)) + ")"),
    activation("(" * 58 + "x" + "+x)^2" * 58),
]


@pytest.mark.parametrize("text", HOSTILE, ids=lambda text: f"{text[:30]}...({len(text)})")
def test_hostile_file_in_a_real_process(problem_file, text):
    path = problem_file(text)
    result = subprocess.run([sys.executable, "-m", "derive", "solve", str(path)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith(f"{path}:")
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
