"""The picture of an autodiff problem: its computational graph, as the lecture's figures draw one.

Each node is a box in a layered layout (inputs on the left, the output on
the right; a node one column after the furthest of its operands, an input
one column before its first user) holding its symbol and number, its
operation, its forward value and its adjoint ∂y/∂v; each edge is an arrow
from operand to node labelled with the local derivative ∂c/∂a. Every number
is read from the solved steps (`graph_data`), so the picture and the text
cannot disagree; `plot_graph` draws it with matplotlib (Agg) and writes a
PNG, SVG or PDF whole or not at all, as derive.plot.surface does.
"""

import math
from dataclasses import dataclass

from ..steps import format_number
from .figure import fit_title, new_figure, picture_format, write_picture

BOX = (0.56, 0.66)  # a node's width and height, in layout units (a column is 1 wide, a row 1 high)
MARGIN_PIXELS = 18  # how far an edge that skips a column passes from the boxes it goes round
FORWARD, BACKWARD, LOCAL = "#1a6faf", "#c0392b", "#555555"
INPUT_FILL, NODE_FILL, OUTPUT_FILL = "#eef5e9", "#f5f5f5", "#fdf0e6"


@dataclass(frozen=True)
class DrawnNode:
    """A node as drawn: its number, where (column, row), its lines of text and its adjoint (or "")."""

    index: int
    column: int
    row: float
    title: str
    operation: str
    value: str
    adjoint: str
    kind: str  # "input", "node" or "output"


@dataclass(frozen=True)
class DrawnEdge:
    """An arrow from node `source` to node `target`, labelled with ∂target/∂source (or "")."""

    source: int
    target: int
    label: str


@dataclass(frozen=True)
class GraphData:
    """Everything the picture shows."""

    nodes: tuple
    edges: tuple
    columns: int
    rows: int
    output: str

    def describe(self):
        """A short text account of the picture, stable enough to compare with a golden file."""
        lines = [f"{self.columns} columns, {self.rows} rows"]
        for n in self.nodes:
            lines.append(f"node {n.index} at ({n.column}, {n.row:g}): {n.title}; {n.operation}; {n.value}"
                         + (f"; {n.adjoint}" if n.adjoint else ""))
        lines += [f"edge {e.source} -> {e.target}" + (f": {e.label}" if e.label else "") for e in self.edges]
        return "\n".join(lines) + "\n"


def graph_data(problem, solution):
    """The GraphData of a solved autodiff problem."""
    from ..kinds.autodiff import OPERATIONS, Graph, adjoint_key

    spec = problem.spec
    graph = Graph(spec)
    column = {}
    for node in graph.nodes:
        column[node.index] = max((column[a] + 1 for a in node.args), default=0)
    for node in graph.nodes:  # an input sits one column before its first user
        users = [user for user, _ in graph.users[node.index]]
        if not node.args and users:
            column[node.index] = min(column[u] for u in users) - 1
    low = min(column.values())
    column = {k: c - low for k, c in column.items()}
    by_column = {}
    for node in graph.nodes:
        by_column.setdefault(column[node.index], []).append(node.index)
    rows = max(len(members) for members in by_column.values())
    row = {}
    for members in by_column.values():
        for position, index in enumerate(members):
            row[index] = (rows - len(members)) / 2 + position  # each column centred
    output = graph.symbol(spec.output).text
    drawn = []
    for node in graph.nodes:
        key = adjoint_key(graph, node.index)
        adjoint = _number(solution, key) if key in solution else ""
        kind = "output" if node.index == spec.output else "input" if not node.args else "node"
        operation = "input" if node.is_input else OPERATIONS[node.op]
        drawn.append(DrawnNode(node.index, column[node.index], row[node.index],
                               f"{graph.symbol(node.index).text}  [{node.index}]", operation,
                               _number(solution, f"v[{node.index}]"), adjoint, kind))
    edges = []
    for node in graph.nodes:
        for i, a in enumerate(node.args):
            key = f"local[{node.index}][{i + 1}]"
            label = _number(solution, key) if key in solution else ""
            edges.append(DrawnEdge(a, node.index, label))
    return GraphData(tuple(drawn), tuple(edges), max(column.values()) + 1, rows, output)


def _number(solution, key):
    return format_number(solution[key].value, solution.rounding)


def _draw(figure, data, title):
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

    axes = figure.add_subplot()
    axes.set_axis_off()
    axes.set_xlim(-0.6, data.columns - 0.4)
    axes.set_ylim(-0.6, data.rows - 0.4)
    width, height = BOX
    where = {n.index: (n.column, data.rows - 1 - n.row) for n in data.nodes}
    fills = {"input": INPUT_FILL, "node": NODE_FILL, "output": OUTPUT_FILL}
    boxes = {}
    for n in data.nodes:
        x, y = where[n.index]
        boxes[n.index] = axes.add_patch(FancyBboxPatch(
            (x - width / 2, y - height / 2), width, height, boxstyle="round,pad=0.02,rounding_size=0.06",
            facecolor=fills[n.kind], edgecolor="#333333", linewidth=0.9, zorder=2))
        axes.text(x, y + 0.20, n.title, ha="center", va="center", fontsize=8, weight="bold", zorder=4)
        axes.text(x, y + 0.07, n.operation, ha="center", va="center", fontsize=6.5, color="#333333", zorder=4)
        axes.text(x, y - 0.07, n.value, ha="center", va="center", fontsize=7.5, color=FORWARD, zorder=4)
        if n.adjoint:
            axes.text(x, y - 0.21, n.adjoint, ha="center", va="center", fontsize=7, color=BACKWARD, zorder=4)
    to_display = axes.transData.transform
    from_display = axes.transData.inverted().transform
    half_box = to_display((0, height / 2))[1] - to_display((0, 0))[1]
    for edge in data.edges:
        start, end = where[edge.source], where[edge.target]
        # an edge that skips a column bends around the boxes between; adjacent columns get a straight arrow
        (x0, y0), (x1, y1) = to_display(start), to_display(end)
        rad = 0.0
        if abs(end[0] - start[0]) > 1:  # bowed by half a box and a margin, away from the middle row
            chord = math.hypot(x1 - x0, y1 - y0)
            rad = min(1.2, (half_box + MARGIN_PIXELS) / (chord / 2))
            if (start[1] + end[1]) / 2 >= (data.rows - 1) / 2:
                rad = -rad
        axes.add_patch(FancyArrowPatch(start, end, connectionstyle=f"arc3,rad={rad}", arrowstyle="-|>",
                                       mutation_scale=9, color=LOCAL, linewidth=1.0, zorder=1,
                                       patchA=boxes[edge.source], patchB=boxes[edge.target]))
        if edge.label:  # the middle of the curve (of a quadratic Bézier: the chord's middle, moved half of rad)
            middle = ((x0 + x1) / 2 + rad * (y1 - y0) / 2, (y0 + y1) / 2 - rad * (x1 - x0) / 2)
            lx, ly = from_display(middle)
            axes.text(lx, ly, edge.label, fontsize=6.5, color=LOCAL, ha="center", va="center", zorder=3,
                      bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none"})
    axes.plot([], [], color=FORWARD, linewidth=3, label="forward value v")
    axes.plot([], [], color=BACKWARD, linewidth=3, label=f"adjoint ∂{data.output}/∂v (reverse mode)")
    axes.plot([], [], color=LOCAL, linewidth=3, label="on an edge a → c: the local derivative ∂c/∂a")
    figure.legend(loc="outside lower center", ncols=3, fontsize=7, frameon=False)
    fit_title(figure, f"{title}: computational graph")


def graph_figure(problem, solution, dpi=None):
    """The matplotlib Figure of the graph (not written anywhere), to look at or to test."""
    data = graph_data(problem, solution)
    return new_figure(lambda figure: _draw(figure, data, solution.title), *([dpi] if dpi else []))


def plot_graph(problem, solution, path, dpi=None):
    """Draw the computational graph of a solved autodiff problem to `path` (.png, .svg or .pdf)."""
    form = picture_format(path)
    data = graph_data(problem, solution)
    write_picture(path, form, lambda figure: _draw(figure, data, solution.title), dpi)
