"""kind: autodiff: a program's computational graph, reverse and forward mode, held to independent oracles.

The oracles: SymPy's differentiation of the whole function (the program's
assignments substituted into one expression), central differences computed
here, and torch.autograd (where importable) on the same function written
with torch's operations; over the bundled problems and over random programs
drawn by hypothesis. Then the solution's own laws (forward mode's output
tangent is reverse mode's gradient; each adjoint is the sum over the uses;
the operation counts), grading (a right sheet, the two slips named,
follow-through on a student's wrong adjoint), and bad input (one line:
file, line, field).
"""

import math
import tempfile
from pathlib import Path

import pytest
import sympy
from hypothesis import HealthCheck, given, settings, strategies as st

from derive.api import grade
from derive.expr import parse_expression
from derive.problem import load_problem
from conftest import PROBLEMS, load_error, right_numbers, solve_error

BUNDLED = ["autodiff-circuit", "autodiff-fanout", "autodiff-relu-power", "autodiff-seed001"]


def write(text, folder):
    path = Path(folder) / "p.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def problem_text(statements, inputs, extra=""):
    lines = ["kind: autodiff", "program:"] + [f"  - {s}" for s in statements]
    lines.append("inputs: {" + ", ".join(f"{k}: {v!r}" for k, v in inputs.items()) + "}")
    return "\n".join(lines) + "\n" + extra


def solved_text(text):
    with tempfile.TemporaryDirectory() as folder:
        problem = load_problem(write(text, folder))
        return problem, problem.solve()


def whole_function(statements, inputs):
    """The program as one SymPy expression in the inputs, by the parser, each name replaced by its expression."""
    variables = {name: sympy.Symbol(name) for name in inputs}
    expression = None
    for statement in statements:
        name, text = (part.strip() for part in statement.split("=", 1))
        expression = parse_expression(text, variables)
        variables[name] = expression
    return expression


def sympy_gradient(statements, inputs):
    function = whole_function(statements, inputs)
    point = {sympy.Symbol(k): sympy.Float(v, 30) for k, v in inputs.items()}
    return {name: float(sympy.diff(function, sympy.Symbol(name)).subs(point).evalf(20)) for name in inputs}


def central_difference(statements, inputs, h=1e-6):
    function = sympy.lambdify([sympy.Symbol(k) for k in inputs], whole_function(statements, inputs), "math")
    out = {}
    for name in inputs:
        up = {**inputs, name: inputs[name] + h}
        down = {**inputs, name: inputs[name] - h}
        out[name] = (function(*up.values()) - function(*down.values())) / (2 * h)
    return out


def gradients(solution, inputs):
    return {name: solution[f"grad[{name}]"].value for name in inputs if f"grad[{name}]" in solution}


def close(a, b, rel=1e-7, abs_=1e-9):
    return math.isclose(a, b, rel_tol=rel, abs_tol=abs_)


# -- the bundled problems ------------------------------------------------------------------------------------

def bundled(name):
    problem = load_problem(PROBLEMS / f"{name}.yaml")
    statements = problem.root.value["program"]
    inputs = {k: float(v) for k, v in problem.root.value["inputs"].items()}
    return problem, statements, inputs


@pytest.mark.parametrize("name", BUNDLED)
def test_bundled_gradients_are_sympys_and_central_differences(name):
    problem, statements, inputs = bundled(name)
    solution = problem.solve()
    mine = gradients(solution, inputs)
    assert mine and set(mine) == set(problem.spec.wrt)
    oracle, numeric = sympy_gradient(statements, inputs), central_difference(statements, inputs)
    for key, value in mine.items():
        assert close(value, oracle[key]), (key, value, oracle[key])
        assert close(value, numeric[key], rel=1e-5, abs_=1e-7)
        assert close(solution[f"fd[{key}]"].value, oracle[key], rel=1e-6, abs_=1e-8)
        assert solution[f"fd[{key}]"].note.startswith("agrees")


def test_the_classic_circuit_numbers():
    solution = load_problem(PROBLEMS / "autodiff-circuit.yaml").solve()
    values = {step.key: step.value for step in solution}
    assert (values["v[4]"], values["v[5]"]) == (3, -12)
    assert (values["grad[x]"], values["grad[y]"], values["grad[z]"]) == (-4, -4, 3)
    assert values["local[5][1]"] == -4 and values["local[5][2]"] == 3  # ∂(q z)/∂q = z, ∂(q z)/∂z = q


def test_seed001_in_the_lectures_names_with_the_lectures_sigmoid_derivative():
    solution = load_problem(PROBLEMS / "autodiff-seed001.yaml").solve()
    names = {step.symbol.text for step in solution if step.key.startswith("v[")}
    assert {"z₁", "a₁", "z₂", "a₂", "z₃", "y", "W₁", "W₂", "W₃", "x"} <= names
    assert str(solution["local[10][1]"].formula) == "v[10]*(1 - v[10])"  # σ′ = σ (1 − σ), the stored value
    assert "grad[x]" not in solution  # x is the data, held constant
    w = {k: solution[f"v[{n}]"].value for k, n in (("W1", 2), ("W2", 3), ("W3", 4))}
    sigma = lambda t: 1 / (1 + math.exp(-t))
    a1 = sigma(w["W1"] * 1)
    a2 = sigma(w["W2"] * a1)
    y = sigma(w["W3"] * a2)
    delta3 = y * (1 - y)
    assert close(solution["grad[W3]"].value, delta3 * a2)
    assert close(solution["grad[W2]"].value, delta3 * w["W3"] * a2 * (1 - a2) * a1)
    assert close(solution["grad[W1]"].value, delta3 * w["W3"] * a2 * (1 - a2) * w["W2"] * a1 * (1 - a1) * 1)


def test_a_value_used_twice_sums_both_contributions():
    solution = load_problem(PROBLEMS / "autodiff-fanout.yaml").solve()
    step = solution["adj[3]"]  # a = x y, used by b = a + y and f = a b
    assert step.formula.is_Add and len(step.formula.args) == 2
    assert set(step.deps) == {"adj[4]", "local[4][1]", "adj[5]", "local[5][1]"}
    v = solution.values()
    assert v["adj[3]"] == v["adj[4]"] * v["local[4][1]"] + v["adj[5]"] * v["local[5][1]"]
    assert "used 2 times" in step.note


@pytest.mark.parametrize("name", BUNDLED)
def test_every_step_is_its_formula_on_its_dependencies(name):
    solution = load_problem(PROBLEMS / f"{name}.yaml").solve()
    evaluated = solution.evaluate()
    for step in solution:
        assert evaluated[step.key] == step.value, step.key


@pytest.mark.parametrize("name", BUNDLED)
def test_forward_mode_ends_on_reverse_modes_gradient(name):
    problem = load_problem(PROBLEMS / f"{name}.yaml")
    solution = problem.solve()
    spec = problem.spec
    assert close(solution[f"dot[{spec.output}]"].value, solution[f"grad[{spec.forward}]"].value, 1e-12)


def test_operation_counts_are_one_product_per_edge_and_pass():
    solution = load_problem(PROBLEMS / "autodiff-seed001.yaml").solve()
    # the chain W₁ -> z₁ -> a₁ -> z₂ -> a₂ -> z₃ -> y: 6 edges from W₁, 4 from W₂, 2 from W₃; reverse mode
    # passes back along the 6 edges of the chain and the 2 into z₂, z₃ from W₂, W₃
    assert [solution[f"ops.forward[W{k}]"].value for k in (1, 2, 3)] == [6, 4, 2]
    assert solution["ops.forward"].value == 12 and solution["ops.reverse"].value == 8
    adjoints = [s for s in solution if s.key.startswith(("adj[", "grad["))]
    products = sum(len(s.formula.args) if s.formula.is_Add else (0 if s.formula == 1 else 1) for s in adjoints)
    assert products == solution["ops.reverse"].value


# -- random programs -----------------------------------------------------------------------------------------

UNARY = {
    "tanh({a})": lambda t, a: t.tanh(a),
    "sigmoid({a})": lambda t, a: t.sigmoid(a),
    "exp(tanh({a}))": lambda t, a: t.exp(t.tanh(a)),
    "log(1 + {a}^2)": lambda t, a: t.log(1 + a ** 2),
    "relu({a})": lambda t, a: t.relu(a),
    "{a}^2": lambda t, a: a ** 2,
    "sin({a})": lambda t, a: t.sin(a),
    "cos({a})": lambda t, a: t.cos(a),
    "3*{a} + 1": lambda t, a: 3 * a + 1,
}
BINARY = {
    "{a} + {b}": lambda t, a, b: a + b,
    "{a} - {b}": lambda t, a, b: a - b,
    "{a} * {b}": lambda t, a, b: a * b,
    "{a} / (1 + {b}^2)": lambda t, a, b: a / (1 + b ** 2),
}


@st.composite
def programs(draw):
    """(statements, inputs, torch builders): a random program over 1 to 3 inputs, values reused (fan-out)."""
    count = draw(st.integers(1, 3))
    inputs = {name: draw(st.floats(-2, 2, allow_nan=False).map(lambda x: round(x, 3)))
              for name in ("x", "y", "z")[:count]}
    names, statements, builders = list(inputs), [], []
    for n in range(draw(st.integers(1, 5))):
        if len(names) > 1 and draw(st.booleans()):
            template = draw(st.sampled_from(sorted(BINARY)))
            a, b = draw(st.permutations(names))[:2]
            builders.append((f"t{n}", BINARY[template], (a, b)))
            text = template.format(a=a, b=b)
        else:
            template = draw(st.sampled_from(sorted(UNARY)))
            a = draw(st.sampled_from(names))
            builders.append((f"t{n}", UNARY[template], (a,)))
            text = template.format(a=a)
        statements.append(f"t{n} = {text}")
        names.append(f"t{n}")
    used = {arg for _, _, args in builders for arg in args}
    loose = [name for name in names if name not in used]
    if len(loose) > 1 or loose[0] != names[-1]:
        statements.append("f = " + " + ".join(loose))
        builders.append(("f", lambda t, *parts: sum(parts), tuple(loose)))
    return statements, inputs, builders


def acceptable(statements, inputs):
    """Whether derive reads the program (SymPy may merge what the drawing did not: `t0 - x + x`)."""
    from derive.errors import ProblemError

    try:
        with tempfile.TemporaryDirectory() as folder:
            load_problem(write(problem_text(statements, inputs), folder))
    except ProblemError:
        return False
    return True


def away_from_kinks(solution):
    """No relu of a value within 1e-6 of 0 (a kink, where the one-sided slope and the oracles part)."""
    return all(abs(solution[f"v[{a}]"].value) > 1e-6 for step in solution if step.key.startswith("v[")
               and step.formula is not None and step.formula.func == sympy.Max for a in [
                   int(str(s)[2:-1]) for s in step.formula.free_symbols])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs())
def test_random_programs_agree_with_sympy_and_central_differences(program):
    statements, inputs, _ = program
    if not acceptable(statements, inputs):
        return
    _, solution = solved_text(problem_text(statements, inputs))
    if not away_from_kinks(solution):
        return
    oracle, numeric = sympy_gradient(statements, inputs), central_difference(statements, inputs)
    for name, value in gradients(solution, inputs).items():
        assert close(value, oracle[name], 1e-9, 1e-12), (name, value, oracle[name])
        assert close(value, numeric[name], 1e-4, 1e-6)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs())
def test_random_programs_agree_with_torch_autograd(program):
    torch = pytest.importorskip("torch")
    statements, inputs, builders = program
    if not acceptable(statements, inputs):
        return
    _, solution = solved_text(problem_text(statements, inputs))
    if not away_from_kinks(solution):
        return
    leaves = {name: torch.tensor(value, dtype=torch.float64, requires_grad=True) for name, value in inputs.items()}
    values = dict(leaves)
    for name, build, args in builders:
        values[name] = build(torch, *(values[a] for a in args))
    output = values[builders[-1][0]]
    output.backward()
    for name, value in gradients(solution, inputs).items():
        assert close(value, float(leaves[name].grad), 1e-9, 1e-12), (name, value, float(leaves[name].grad))


@pytest.mark.parametrize("statements, inputs, expected", [
    (["f = max(x, y)"], {"x": 2.0, "y": 1.0}, {"x": 1, "y": 0}),
    (["f = max(x, y)"], {"x": 1.0, "y": 1.0}, {"x": 1, "y": 0}),  # a tie: the first value's slope, as written
    (["f = min(x, y)"], {"x": 1.0, "y": 3.0}, {"x": 1, "y": 0}),
    (["f = relu(x)"], {"x": 0.0}, {"x": 0}),  # relu′(0) = 0
    (["f = abs(x - y)"], {"x": 1.0, "y": 3.0}, {"x": -1, "y": 1}),
    (["f = x^y"], {"x": 2.0, "y": 3.0}, {"x": 12, "y": 8 * math.log(2)}),
    (["f = sqrt(x) * y"], {"x": 4.0, "y": 3.0}, {"x": 0.75, "y": 2}),
    (["f = x / y"], {"x": 3.0, "y": 2.0}, {"x": 0.5, "y": -0.75}),
    (["f = 2*x - 3*y + 1"], {"x": 1.0, "y": 1.0}, {"x": 2, "y": -3}),
])
def test_kinks_and_operations(statements, inputs, expected):
    _, solution = solved_text(problem_text(statements, inputs))
    assert {k: pytest.approx(v, rel=1e-12) for k, v in gradients(solution, inputs).items()} == expected


def test_a_kink_is_said_where_the_central_difference_differs():
    _, solution = solved_text(problem_text(["f = relu(x)"], {"x": 0.0}))
    assert solution["fd[x]"].value == pytest.approx(0.5)  # (h - 0) / 2h
    assert solution["fd[x]"].note.startswith("differs")


def test_one_expression_is_a_program_named_f_and_a_string_program_is_read_by_lines():
    _, one = solved_text("kind: autodiff\nprogram: (x + y) * z\ninputs: {x: -2, y: 5, z: -4}\n")
    _, lines = solved_text("kind: autodiff\nprogram: |\n  q = x + y\n  f = q * z\ninputs: {x: -2, y: 5, z: -4}\n")
    _, semicolons = solved_text("kind: autodiff\nprogram: q = x + y; f = q * z\ninputs: {x: -2, y: 5, z: -4}\n")
    for solution in (one, lines, semicolons):
        assert gradients(solution, "xyz") == {"x": -4, "y": -4, "z": 3}
    assert one["v[5]"].symbol.text == "f"


def test_modes_reverse_and_forward_alone():
    text = problem_text(["q = x + y", "f = q * z"], {"x": -2, "y": 5, "z": -4})
    _, reverse = solved_text(text + "modes: reverse\n")
    _, forward = solved_text(text + "modes: forward\nforward: z\n")
    assert not any(k.startswith("dot[") for k in reverse.steps)
    assert not any(k.startswith(("adj[", "grad[")) for k in forward.steps)
    assert forward["dot[5]"].value == 3 and forward["fd[z]"].note.startswith("agrees")


# -- the picture ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", BUNDLED)
def test_the_picture_shows_the_solutions_numbers(name):
    from derive.plot.graph import graph_data
    from derive.steps import format_number

    problem = load_problem(PROBLEMS / f"{name}.yaml")
    solution = problem.solve()
    data = graph_data(problem, solution)
    assert len(data.nodes) == len(problem.spec.nodes)
    for node in data.nodes:
        assert node.value == format_number(solution[f"v[{node.index}]"].value)
        adjoint = next((k for k in (f"adj[{node.index}]", f"grad[{problem.spec.nodes[node.index - 1].name}]")
                        if k in solution), None)
        assert node.adjoint == (format_number(solution[adjoint].value) if adjoint else "")
    columns = {node.index: node.column for node in data.nodes}
    for edge in data.edges:  # every arrow points right, into a later column
        assert columns[edge.source] < columns[edge.target]
    assert sum(1 for edge in data.edges if edge.label) == sum(1 for step in solution if step.key.startswith("local["))


def test_the_seed001_picture_as_text(golden):
    """Where every box goes and what it says, read once by eye and kept."""
    from derive.plot.graph import graph_data

    problem = load_problem(PROBLEMS / "autodiff-seed001.yaml")
    golden("autodiff-seed001-graph.txt", graph_data(problem, problem.solve()).describe())


def test_the_fanout_picture_draws_both_uses_of_a(tmp_path):
    from derive.plot import plot_solution
    from derive.plot.graph import graph_data

    problem = load_problem(PROBLEMS / "autodiff-fanout.yaml")
    solution = problem.solve()
    assert {(e.source, e.target) for e in graph_data(problem, solution).edges if e.source == 3} == {(3, 4), (3, 5)}
    plot_solution(problem, solution, tmp_path / "g.png")
    assert (tmp_path / "g.png").read_bytes().startswith(b"\x89PNG")


def test_a_rounded_chain_agrees_with_the_central_difference_within_its_rounding():
    text = problem_text(["z1 = W1 * x", "a1 = sigmoid(z1)", "z2 = W2 * a1", "y = tanh(z2) + log(1 + a1^2)"],
                        {"x": 1, "W1": 0.5, "W2": -1}, "rounding: 4\nwrt: [W1, W2]\n")
    _, solution = solved_text(text)
    for name in ("W1", "W2"):
        assert solution[f"grad[{name}]"].value == round(solution[f"grad[{name}]"].value, 4)
        assert solution[f"fd[{name}]"].note.startswith("agrees")


# -- grading -------------------------------------------------------------------------------------------------

def verdict(result, key):
    return next(v for v in result.verdicts if v.key == key)


def test_the_right_numbers_get_full_marks():
    for name in BUNDLED:
        result = grade(load_problem(PROBLEMS / f"{name}.yaml"), right_numbers(name))
        assert result.score == result.max_score


def test_an_adjoint_not_summed_over_both_uses_is_named():
    sheet = right_numbers("autodiff-fanout")
    sheet["adj[3]"] = -8  # f̄ ∂f/∂a only; b̄ ∂b/∂a = -6 left out
    found = verdict(grade(load_problem(PROBLEMS / "autodiff-fanout.yaml"), sheet), "adj[3]")
    assert (found.code, found.slip) == ("WRONG", "fanout_unsummed")


def test_the_local_derivative_of_a_product_taken_as_the_operand_is_named():
    sheet = right_numbers("autodiff-circuit")
    sheet["local[5][1]"] = 3  # ∂(q z)/∂q taken as q = 3 instead of z = -4
    found = verdict(grade(load_problem(PROBLEMS / "autodiff-circuit.yaml"), sheet), "local[5][1]")
    assert (found.code, found.slip) == ("WRONG", "local_own_operand")


def test_a_sum_that_is_no_adjoint_is_not_called_an_unsummed_fanout():
    """softmax's grad[j] = s_j - y_j is a sum too; leaving a term out of it is no fan-out slip."""
    problem = load_problem(PROBLEMS / "softmax-jacobian.yaml")
    solution = problem.solve()
    sheet = right_numbers("softmax-jacobian")
    sheet["grad[1]"] = solution["s[1]"].value  # y₁ left out
    assert "fanout_unsummed" not in verdict(grade(problem, sheet), "grad[1]").slip_codes


def test_follow_through_on_a_students_wrong_adjoint():
    problem = load_problem(PROBLEMS / "autodiff-fanout.yaml")
    sheet = right_numbers("autodiff-fanout")
    sheet["adj[3]"] = -8  # wrong: one use left out
    sheet["grad[x]"] = -8 * -2  # right on the student's own ā: ā ∂a/∂x
    sheet["grad[y]"] = -8 * 3 + -6 * 1
    result = grade(problem, sheet)
    assert verdict(result, "adj[3]").code == "WRONG"
    for key in ("grad[x]", "grad[y]"):
        found = verdict(result, key)
        assert found.code != "WRONG" and found.credit > 0, found


# -- bad input -----------------------------------------------------------------------------------------------

BASE = problem_text(["a = x * y", "f = a + z"], {"x": 1, "y": 2, "z": 3})


def edit(line, text):
    lines = BASE.splitlines()
    lines[line - 1] = text
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("text, expected", [
    (edit(4, "  - f = foo(a) + z"),
     "p.yaml:4: program[1]: unknown operation 'foo'; a graph's operations are " + "+, -, *, /, ^, exp, log, sqrt, "
     "tanh, sigmoid, relu, max, min, abs, sin, cos"),
    (edit(4, "  - f = erf(a) + z"),
     "p.yaml:4: program[1]: operation erf is not one of a computational graph's here (+, -, *, /, ^, exp, log, "
     "sqrt, tanh, sigmoid, relu, max, min, abs, sin, cos)"),
    (edit(4, "  - f = a + w"),
     "p.yaml:4: program[1]: unknown name 'w': give its value under inputs, or assign it before this line "
     "(known here: x, y, z, a)"),
    (edit(3, "  - a = f * y"),
     "p.yaml:3: program[0]: f is used before it is assigned; assign every name before using it, so the graph "
     "has no cycle"),
    (edit(4, "  - a = a + z"),
     "p.yaml:4: program[1]: a is assigned twice (first at line 3); a name is assigned once, so the graph has no "
     "cycle"),
    (edit(4, "  - x = a + z"), "p.yaml:4: program[1]: x is an input (given under inputs); a name is assigned once"),
    (edit(5, "inputs: {x: 1, y: 2}"),
     "p.yaml:4: program[1]: unknown name 'z': give its value under inputs, or assign it before this line "
     "(known here: x, y, a)"),
    (edit(4, "  - f = log(a - z)"),
     "p.yaml:4: program[1]: node 6, log(a - z) has no value at these inputs (a - z = -1): outside the domain of log"),
    (edit(4, "  - f = a / (z - 3)"),
     "p.yaml:4: program[1]: node 6, a/(z - 3) has no value at these inputs (a = 2, z - 3 = 0): a division by zero"),
    (edit(4, "  - f = log(a - 2) + z"),
     "p.yaml:4: program[1]: node 6, log(a - 2) is not a finite number at these inputs (a - 2 = 0)"),
    (edit(5, "inputs: {x: 1, y: 2, z: 3, w: 4}"), "p.yaml:5: inputs.w: input w is not used by the program"),
    (edit(3, "  - b = x * y\n  - a = x * y"), "p.yaml:3: program[0]: b is assigned but does not lead to the output f"),
    (edit(4, "  - f = a"), "p.yaml:4: program[1]: f = a only renames a value; use that name itself"),
    (edit(4, "  - f = a - a + 2"), "p.yaml:4: program[1]: f = 2 does not depend on any input (as SymPy reads it)"),
    (BASE + "wrt: [q]\n", "p.yaml:6: wrt[0]: expected one of the inputs x, y, z, got 'q'"),
    (BASE + "wrt: [x]\nforward: y\n", "p.yaml:7: forward: expected one of the inputs differentiated (x), got 'y'"),
    (BASE + "modes: backward\n",
     "p.yaml:6: modes: expected one of both, reverse, forward, got text 'backward'"),
    ("kind: autodiff\nprogram: []\ninputs: {x: 1}\n", "p.yaml:2: program: expected 1 to 40 assignments, got 0"),
    (edit(5, "inputs: {v1: 1, x: 1, y: 2, z: 3}"),
     "p.yaml:5: inputs.v1: names v1, v2, ... are kept for the graph's unnamed nodes; choose another for an input"),
])
def test_bad_input_is_one_line_with_file_line_and_field(tmp_path, text, expected):
    assert load_error(tmp_path, text) == str(tmp_path / expected)


def test_derive_solve_says_a_bad_program_in_one_line_and_exits_2(runner, tmp_path):
    message = solve_error(runner, tmp_path, edit(4, "  - f = log(a - z)"))
    assert message.count("\n") == 1 and "Traceback" not in message
    assert message.strip().endswith("p.yaml:4: program[1]: node 6, log(a - z) has no value at these inputs (a - z = -1): "
                                    "outside the domain of log")
