"""LaTeX solutions: a document that plain pdflatex compiles as it is, or its body for pasting.

One `align*` block per section (`gather*` for the givens). The kinds write
their symbols and notes with Unicode (θ, ∇, a⁽¹⁾₂, L(θ′)), which pdflatex
cannot typeset in math and only partly in text: `plain_latex`, applied to
all this printer prints, turns every non-ASCII character into macros of
amsmath and the LaTeX kernel through one table (`ascii_latex`), and repairs
the two other errors the kinds' LaTeX can hold (a double superscript, a bare
`_` in `\\text`)."""

import functools
import re
import unicodedata
from dataclasses import dataclass, field

from .formula import latex_formula
from .printer import SolutionPrinter

PACKAGES = ("amsmath", "amssymb")  # what the body needs; both come with texlive-latex-base

_SPECIALS = {c: "\\" + c for c in "&%$#_{}"} | {"~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
                                                "\\": r"\textbackslash{}"}
_ESCAPES = str.maketrans(_SPECIALS)
_TEXT_ESCAPES = str.maketrans(_SPECIALS | {"<": r"\textless{}", ">": r"\textgreater{}",  # OT1 would print ¡ ¿ —
                                           "|": r"\textbar{}"})

# Each non-ASCII character as math; `ascii_latex` wraps a run of them in \ensuremath{...},
# which is right in math mode and inside \text{...} alike.
_MATH = {
    **{letter: "\\" + name for letter, name in zip(
        "αβγδεζηθικλμνξοπρςστυφχψωϑϕϵΓΔΘΛΞΠΣΥΦΨΩ",
        "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi o pi rho varsigma sigma tau "
        "upsilon phi chi psi omega vartheta phi epsilon Gamma Delta Theta Lambda Xi Pi Sigma Upsilon Phi Psi "
        "Omega".split())},
    **dict(zip("ΑΒΕΖΗΙΚΜΝΟΡΤΧ", "ABEZHIKMNOPTX")),  # capitals written as Latin letters
    "µ": r"\mu", "ℓ": r"\ell", "∇": r"\nabla", "∂": r"\partial", "∑": r"\sum", "∏": r"\prod",
    "√": r"\surd", "∞": r"\infty", "·": r"\cdot", "⋅": r"\cdot", "×": r"\times", "÷": r"\div",
    "−": "-", "±": r"\pm", "∓": r"\mp", "≤": r"\le", "≥": r"\ge", "≠": r"\ne", "≈": r"\approx",
    "≡": r"\equiv", "∼": r"\sim", "∝": r"\propto", "≪": r"\ll", "≫": r"\gg",
    "→": r"\to", "←": r"\leftarrow", "↦": r"\mapsto", "⇒": r"\Rightarrow", "⇔": r"\Leftrightarrow",
    "∈": r"\in", "∉": r"\notin", "⊂": r"\subset", "∪": r"\cup", "∩": r"\cap", "∅": r"\emptyset",
    "∀": r"\forall", "∃": r"\exists", "¬": r"\neg", "∧": r"\wedge", "∨": r"\vee",
    "⊙": r"\odot", "⊗": r"\otimes", "⊕": r"\oplus", "∘": r"\circ", "⊤": r"\top", "°": r"^{\circ}",
    "‖": r"\|", "⌊": r"\lfloor", "⌋": r"\rfloor", "⌈": r"\lceil", "⌉": r"\rceil",
    "⟨": r"\langle", "⟩": r"\rangle", "…": r"\dots", "⋯": r"\cdots",
    "½": r"\tfrac{1}{2}", "⅓": r"\tfrac{1}{3}", "¼": r"\tfrac{1}{4}", "¾": r"\tfrac{3}{4}",
    "\u00a0": "~", "\u2009": r"\,", "\u202f": r"\,",
    # text-only signs, set in text mode (\text works in math too, with amsmath)
    "–": r"\text{\textendash}", "—": r"\text{\textemdash}", "‘": r"\text{`}", "’": r"\text{'}",
    "“": r"\text{``}", "”": r"\text{''}", "«": r"\text{<<}", "»": r"\text{>>}", "§": r"\text{\S}",
}
# Raised and lowered characters, as the contents of ^{...} and _{...}.
_SUPERSCRIPTS = {
    **dict(zip("⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾˒ⁱⁿˡᵃᵇᶜᵈᵉᶠᵍʰʲᵏᵐᵒᵖʳˢᵗᵘᵛʷˣʸᶻ", "0123456789+-=(),inlabcdefghjkmoprstuvwxyz")),
    "ᵀ": r"\top", "′": r"\prime", "″": r"\prime\prime", "‴": r"\prime\prime\prime",
    "ᵝ": r"\beta", "ᵞ": r"\gamma", "ᵟ": r"\delta", "ᶿ": r"\theta", "ᵠ": r"\phi", "ᵡ": r"\chi",
}
_SUBSCRIPTS = {
    **dict(zip("₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎ₐₑₕᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓ", "0123456789+-=()aehijklmnoprstuvx")),
    "ᵦ": r"\beta", "ᵧ": r"\gamma", "ᵨ": r"\rho", "ᵩ": r"\phi", "ᵪ": r"\chi",
}
# Accents over a letter: those of mathematics as math accents (ŷ, x̄), those of names as text accents (é, ü).
_MATH_ACCENTS = {"\u0302": r"\hat", "\u0304": r"\bar", "\u0303": r"\tilde", "\u0307": r"\dot", "\u20d7": r"\vec"}
_TEXT_ACCENTS = {"\u0301": "\\'", "\u0300": "\\`", "\u0308": '\\"', "\u0327": r"\c ", "\u030a": r"\r ",
                 "\u030c": r"\v ", "\u0306": r"\u "}


def escape(text):
    """Plain `text` with LaTeX's special characters escaped, for a `\\text{...}` of a symbol or a note."""
    return text.translate(_ESCAPES)


def _text(text):
    """Plain `text` as a line or heading of the document: `escape`d, and < > | as text signs."""
    return text.translate(_TEXT_ESCAPES)


def ascii_latex(latex):
    """`latex` (text or math) with every non-ASCII character as macros: plain pdflatex typesets it.

    A run of such characters becomes one `\\ensuremath{...}`, so that it is
    right in math mode and inside `\\text{...}` alike: `θ′` -> `\\ensuremath{\\theta^{\\prime}}`,
    `a⁽¹⁾₁²` -> `a\\ensuremath{^{(1)}_{1}{}^{2}}` (an empty group takes a
    second superscript: a double superscript is an error). A character the
    table lacks is shown as `[U+XXXX]` rather than failing the compilation.
    """
    if latex.isascii():
        return latex
    out = []
    run = []  # the math of the current run, as [script mark or "", contents]
    scripts = set()  # the marks ("^", "_") attached since the last ordinary character
    for cluster in _clusters(latex):
        if cluster.isascii():
            if run:
                out.append(_math_run(run))
                run = []
            out.append(cluster)
            scripts = set()
            continue
        for mark, table in (("^", _SUPERSCRIPTS), ("_", _SUBSCRIPTS)):
            if cluster in table:
                if run and run[-1][0].endswith(mark):  # the script just opened goes on: ⁽¹⁾ -> ^{(1)}
                    run[-1][1] = _joined(run[-1][1], table[cluster])
                else:
                    run.append([("{}" if mark in scripts else "") + mark, table[cluster]])
                    scripts.add(mark)
                break
        else:
            run.append(["", _cluster_latex(cluster)])
            scripts = set()
    if run:
        out.append(_math_run(run))
    return "".join(out)


def _math_run(run):
    pieces = [f"{mark}{{{contents}}}" if mark else contents for mark, contents in run]
    return r"\ensuremath{" + functools.reduce(_joined, pieces) + "}"


def _clusters(text):
    """`text` cut into characters, each with the combining accents that follow it; a character
    the tables lack is decomposed first (ŷ -> y and a circumflex), one they hold is kept (≠ stays ≠)."""
    clusters = []
    for character in text:
        if not (character.isascii() or character in _MATH or character in _SUPERSCRIPTS
                or character in _SUBSCRIPTS):
            character = unicodedata.normalize("NFD", character)
        if clusters and unicodedata.combining(character[0]):
            clusters[-1] += character
        else:
            clusters.append(character)
    return clusters


def _cluster_latex(cluster):
    base, accents = cluster[0], cluster[1:]
    latex = _MATH.get(base) or (base if base.isascii() else _unknown(base))
    for accent in accents:
        if accent in _MATH_ACCENTS:
            latex = f"{_MATH_ACCENTS[accent]}{{{latex}}}"
        elif accent in _TEXT_ACCENTS and base.isascii():
            latex = f"\\text{{{_TEXT_ACCENTS[accent]}{base}}}"
        else:
            latex += _unknown(accent)
    return latex


def _unknown(character):
    """A character the tables lack, shown by its code point rather than failing the compilation."""
    return f"\\text{{[U+{ord(character):04X}]}}"


def _joined(left, right):
    """Two pieces of LaTeX side by side, with a space where a macro name would run into a letter."""
    if left and right[:1].isalpha() and left.rsplit("\\", 1)[-1].isalpha() and "\\" in left:
        return left + " " + right
    return left + right


_TOKENS = re.compile(r"\\[A-Za-z]+|\\.|%[^\n]*|\s+|.", re.S)
_TEXT_GROUPS = {r"\text", r"\textnormal", r"\textrm", r"\textit", r"\textbf", r"\texttt", r"\textsf", r"\mbox", r"\emph"}
_TEXT_SIGNS = {"_": r"\_", "^": r"\textasciicircum{}", "&": r"\&", "#": r"\#", "%": r"\%",
               "<": r"\textless{}", ">": r"\textgreater{}", "|": r"\textbar{}"}


def plain_latex(latex):
    """`latex` as plain pdflatex typesets it: `ascii_latex`, then two repairs of what the kinds write.

    A symbol given a second superscript or subscript (`w^{1}_{11}^{(0)}`, a
    double superscript) is braced first, `{w^{1}_{11}}^{(0)}`; and a sign
    that is math-only, written bare in a `\\text{...}` (`standard_normal`), is
    escaped there. Both are errors that stop pdflatex.
    """
    return _Repair(ascii_latex(latex)).text


@dataclass
class _Group:
    """An open group of the walk: its mode, how it ends, and the nucleus being built in it.

    start: where the current nucleus begins in the output (None: no nucleus yet);
    scripts: the marks it carries ("^", "_", "'"); macro: it is a control word,
    so a group right after it is its argument (`\\hat{y}`), not a new nucleus.
    """

    mode: str  # "math" or "text"
    closer: str = None  # "}", "$" or \right; None for the whole string
    is_script: bool = False  # the argument of a ^ or _
    opened: int = 0
    start: int = None
    scripts: set = field(default_factory=set)
    macro: bool = False


class _Repair:
    """One walk over the tokens of a LaTeX string, group by group, making the repairs of `plain_latex`."""

    def __init__(self, latex):
        self.out = []
        self.groups = [_Group("math")]
        self.script_argument = False  # the next token is the argument of ^ or _
        self.next_mode = None  # the mode of the group the next "{" opens: after \text, "text"
        for token in _TOKENS.findall(latex):
            if self.groups[-1].mode == "text":
                self.take_text(token)
            else:
                self.take_math(token)
        self.text = "".join(self.out)

    def take_math(self, token):
        group = self.groups[-1]
        if token.isspace() or token.startswith("%"):
            self.out.append(token)
        elif self.script_argument and token not in ("{", r"\left"):
            self.script_argument = False  # a one-token argument: ^2, ^\prime, the delimiter after \right
            self.out.append(token)
        elif token in ("^", "_", "'"):
            clash = "^" if token == "'" else token  # a'^{2} is one superscript to TeX; a^{2}' is two
            if clash in group.scripts:
                self.brace_nucleus(group)
            group.scripts.add(token)
            self.out.append(token)
            self.script_argument = token != "'"
        elif token in ("{", r"\left"):
            self.open(token, self.next_mode or "math", "}" if token == "{" else r"\right")
        elif token == group.closer or (token == "}" and group.closer is not None):
            self.close()
        else:
            self.next_mode = "text" if token in _TEXT_GROUPS else None
            group.start, group.scripts = len(self.out), set()
            group.macro = token[1:].isalpha()
            self.out.append(token)

    def take_text(self, token):
        if token == "}":
            self.close()
        elif token in ("{", "$"):
            self.open(token, "math" if token == "$" or self.next_mode == "math" else "text",
                      "$" if token == "$" else "}")
        elif token.startswith("%"):  # a bare % would hide the rest of the line
            self.out.append(r"\%")
            for rest in _TOKENS.findall(token[1:]):
                self.take_text(rest)
        else:
            self.next_mode = "math" if token == r"\ensuremath" else None
            self.out.append(_TEXT_SIGNS.get(token, token))

    def open(self, token, mode, closer):
        self.groups.append(_Group(mode, closer, is_script=self.script_argument, opened=len(self.out)))
        self.script_argument, self.next_mode = False, None
        self.out.append(token)

    def close(self):
        group = self.groups.pop()
        self.out.append(group.closer)
        parent = self.groups[-1]
        if group.closer == r"\right":
            self.script_argument = True  # the closing delimiter is part of \right, not a nucleus
        if group.is_script or parent.mode == "text" or (parent.macro and not parent.scripts):
            return  # a script's argument, text, or a macro's argument (\frac{a}{b}): the nucleus stands
        parent.start, parent.scripts, parent.macro = group.opened, set(), False

    def brace_nucleus(self, group):
        """{the nucleus with its scripts} as one group, to take one more script."""
        if group.start is None:
            self.out.append("{}")
        else:
            self.out.insert(group.start, "{")
            self.out.append("}")
        group.scripts = set()


def _note(latex):
    """A note of the solution as an item's text: its words (each top-level `\\text{...}`) as running
    text, which breaks across lines where a `\\text` in math cannot, and the rest as inline math."""
    pieces, math, index, depth = [], [], 0, 0  # depth: of groups and \left...\right pairs, in the math
    tokens = _TOKENS.findall(latex)
    while index < len(tokens):
        depth += {"{": 1, r"\left": 1, "}": -1, r"\right": -1}.get(tokens[index], 0)
        if depth == 0 and tokens[index] == r"\text" and index + 1 < len(tokens) and tokens[index + 1] == "{":
            end = _group_end(latex, len("".join(tokens[:index + 1])))
            pieces.append(_inline(math))
            math = []
            words = latex[len("".join(tokens[:index + 2])):end]
            pieces.append(r"\textnormal{" + words + "}")
            index += len(_TOKENS.findall(latex[len("".join(tokens[:index])):end + 1]))
            continue
        math.append(tokens[index])
        index += 1
    pieces.append(_inline(math))
    return "".join(pieces)


def _inline(tokens):
    """Math tokens as inline math, or nothing when there are none; a control space at its end stays one."""
    math = "".join(tokens).strip()
    return "" if not math else f"${math} $" if math.endswith("\\") else f"${math}$"


def _group_end(latex, start):
    """The index of the "}" that closes the group opened at `start`."""
    depth = 0
    for match in _TOKENS.finditer(latex, start):
        depth += {"{": 1, "}": -1}.get(match.group(), 0)
        if depth == 0:
            return match.start()
    return None


class LatexPrinter(SolutionPrinter):
    """A whole document (`\\documentclass` to `\\end{document}`), or with `fragment` its body.

    The fragment starts with a comment naming the packages it needs, for
    pasting into an answer key of one's own. Long sections may break across
    pages (`\\allowdisplaybreaks`), so that no page is left half empty.
    """

    _default_settings = {"keys": False, "fragment": False, "full": False}

    def doprint(self, solution):
        return plain_latex(super().doprint(solution))

    matrix_value = SolutionPrinter.latex_matrix

    def _print_Solution(self, solution):
        lines = [rf"\section*{{{_text(solution.title)}}}",
                 rf"Rounding: {_text(solution.rounding.describe())}."]
        if solution.notes:
            lines += [r"\begin{itemize}"] + [rf"  \item {_note(note.latex)}" for note in solution.notes]
            lines += [r"\end{itemize}"]
        if solution.lecture:
            lines += [rf"\subsection*{{{_text(self.LECTURE_HEADING)}}}", r"\begin{itemize}"]
            lines += [rf"  \item {self.lecture_text(note)}" for note in solution.lecture] + [r"\end{itemize}"]
        for section in solution.sections:
            lines += ["", self._print(section)]
        origin = f"% {escape(solution.name)} ({solution.kind})"
        packages = r"\usepackage{%s}" % ",".join(PACKAGES)
        if self._settings["fragment"]:
            return "\n".join([f"% Needs {packages}; \\allowdisplaybreaks in the preamble lets long displays "
                              "break across pages.", origin] + lines) + "\n"
        preamble = [origin, r"\documentclass{article}", packages, r"\usepackage[margin=2cm]{geometry}",
                    r"\allowdisplaybreaks", r"\setlength{\emergencystretch}{3em}", r"\begin{document}"]
        return "\n".join(preamble + lines + [r"\end{document}"]) + "\n"

    def _print_Section(self, section):
        givens = all(step.is_given for step in section.steps)
        environment = "gather*" if givens else "align*"  # givens are centred, steps aligned at "="
        if givens:
            rows = [r",\quad ".join(self._print(step) for step in group)
                    + "".join(r" \\" + "\n  " + self.lecture_box(note, TEXT_WIDTH - 40)
                              for note in self.lecture_of(group))
                    for group in self.given_groups(section.steps)]
            keys = [""] * len(rows)
        else:
            rows = self.aligned_rows(section.steps)
            keys = [f" % {step.key}" if self._settings["keys"] else "" for step in section.steps]
        ends = [r" \\"] * (len(rows) - 1) + [""]  # the line break before the key's comment, not in it
        lines = [rf"\subsection*{{{_text(section.title)}}}", rf"\begin{{{environment}}}"]
        lines += [f"  {row}{end}{key}" for row, end, key in zip(rows, ends, keys)]
        return "\n".join(lines + [rf"\end{{{environment}}}"])

    def aligned_rows(self, steps):
        """A row per step, `symbol &= formula = numbers = value`, broken onto continuation rows
        (`&= ...`, and within a long sum `&\\quad + ...`) where it would pass the right margin, as
        `estimated_width` reckons; the notes in a column beside the rows when they all fit there,
        else each under its row, in a paragraph that breaks its lines."""
        computed = [step for step in steps if not step.is_given]
        left = max([estimated_width(step.symbol.latex) for step in computed] + [0]) + _EQUALS
        room = TEXT_WIDTH - left
        lines = {step.key: self.step_lines(step, room) for step in computed}
        widest = max([estimated_width(line) for step_lines in lines.values() for line in step_lines] + [0])
        notes = {step.key: rf"\text{{({_text(step.note)})}}" for step in computed if step.note}
        # beside the rows, in a column of their own, if they all fit; else each under its row (a note
        # under its row is as wide as the rows may be, so that no other fits beside them)
        beside = all(estimated_width(note) <= room - widest - _NOTE_GAP for note in notes.values())
        # a lecture note's paragraph sits under its row, in the column of the formulas: as wide as they
        # may be, less the notes' column when there is one beside them
        lecture_width = room - 20 - (max(map(estimated_width, notes.values())) + _NOTE_GAP if notes and beside else 0)
        rows = []
        for step in steps:
            if step.is_given:  # a given among computed steps: `t = 0.1`, not aligned
                rows.append(" \\\\\n  ".join([self._print(step)] + [rf"&\qquad {self.lecture_box(note, lecture_width)}"
                                                                  for note in step.lecture]))
                continue
            step_lines, note = lines[step.key], notes.get(step.key)
            if note and beside:
                step_lines[-1] += f" && {note}"
            elif note:
                step_lines.append(rf"&\qquad \parbox[t]{{{round(room) - 20}pt}}{{\raggedright\textnormal"
                                  rf"{{({_text(step.note)})}}}}")
            step_lines += [rf"&\qquad {self.lecture_box(note, lecture_width)}" for note in step.lecture]
            rows.append(f"{step.symbol.latex} &= " + " \\\\\n  ".join(step_lines))
        return rows

    def step_lines(self, step, room):
        """The right-hand side of a step's row, `formula = numbers = value`, as lines no wider than
        `room`: a new line `&= part` before a part that would not fit, a long part cut at its sums."""
        lines = []
        for part in self.step_parts(step, latex_formula):
            if lines and estimated_width(lines[-1]) + _EQUALS + estimated_width(part) <= room:
                lines[-1] += f" = {part}"
            else:
                pieces = _cut_at_sums(part, room - _EQUALS)
                lines += [f"&= {pieces[0]}" if lines else pieces[0]] + [rf"&\quad {piece}" for piece in pieces[1:]]
        return lines

    def lecture_text(self, note):
        """A LectureNote as running text: what the lecture printed, then why it differs."""
        return (rf"\textit{{{_text(self.PRINTED)}:}} {_text(note.printed)}; "
                rf"\textit{{{_text(self.WHY)}:}} {_text(note.why)}")

    def lecture_box(self, note, width):
        """A LectureNote under its step's row in a display: a paragraph `width` pt wide that breaks its lines."""
        return rf"\parbox[t]{{{round(width)}pt}}{{\raggedright\small\textnormal{{{self.lecture_text(note)}}}}}"

    def _print_Step(self, step):
        if step.is_given:
            return f"{step.symbol.latex} = {self.number(step.value)}"
        parts = self.step_parts(step, latex_formula)
        note = rf" && \text{{({_text(step.note)})}}" if step.note else ""
        return f"{step.symbol.latex} &= " + " = ".join(parts) + note


TEXT_WIDTH = 470  # pt: the text of a letter page with margins of 2cm is 500pt wide; some room for the estimate
_EQUALS = 14  # pt: " = " between two parts
_NOTE_GAP = 30  # pt: between the rows and the notes' column, and some room for the estimate


def _cut_at_sums(latex, room):
    """`latex` cut before a + or - outside any braces, so that each piece is at most `room` wide (if
    a sum lets it); a cut inside \\left( ... \\right) closes it with \\right. and opens the next piece
    with \\left. as often as needed. Nothing is cut inside an environment (\\begin{cases} ... \\end{cases}),
    whose rows a cut would split."""
    tokens = _TOKENS.findall(latex)
    pieces, current, depth, delimiters, environments, previous = [], [], 0, 0, 0, ""
    width = 0.0
    for index, token in enumerate(tokens):
        environments += {r"\begin": 1, r"\end": -1}.get(token, 0)
        binary = token in "+-" and depth == 0 and not environments and previous not in (
            "", "(", "[", "{", "+", "-", "=", ",", r"\left", r"\cdot")
        if binary and current and width + _chunk_width(tokens, index) > room:
            pieces.append("".join(current).rstrip() + r" \right." * delimiters)
            current, width = [r"\left. " * delimiters], 10.0
        current.append(token)
        width += estimated_width(token) if token not in "{}" else 0
        if token == "{":
            depth += 1
        elif token == "}":
            depth -= 1
        elif token == r"\left" and depth == 0:
            delimiters += 1
        elif token == r"\right" and depth == 0:
            delimiters -= 1
        if not token.isspace():
            previous = token
    pieces.append("".join(current))
    if len(pieces) > 1:  # the width of a token alone misjudges groups: measure whole pieces
        return pieces
    return pieces


def _chunk_width(tokens, start):
    """The width of the terms from tokens[start] (a + or -) up to the next + or - outside braces."""
    depth, end = 0, len(tokens)
    for index in range(start + 1, len(tokens)):
        token = tokens[index]
        depth += {"{": 1, "}": -1}.get(token, 0)
        if depth == 0 and token in ("+", "-") and tokens[index - 1] not in ("(", "{"):
            end = index
            break
    return estimated_width("".join(tokens[start:end]))


# Widths in pt (10pt Computer Modern, display style), for estimating how wide a printed row is.
_SPACES = {r"\,": 1.7, r"\:": 2.2, r"\;": 2.8, r"\ ": 3.3, r"\quad": 10, r"\qquad": 20, "~": 3.3, r"\!": -1.7}
_NO_WIDTH = {r"\left", r"\right", r"\mathcal", r"\mathrm", r"\mathbf", r"\operatorname", r"\hat", r"\bar",
             r"\tilde", r"\dot", r"\vec", r"\ensuremath", r"\displaystyle", r"\limits", r"\big", r"\Big",
             r"\bigg", r"\Bigg", r"\allowbreak", r"\begin", r"\end", r"\mathit", r"\boldsymbol"}
_BINARY = {"+": 12, "-": 12, "=": 13.3, "<": 13.3, ">": 13.3, ",": 4.4, ";": 4.4, ":": 8, ".": 2.8,
           "(": 3.9, ")": 3.9, "[": 2.8, "]": 2.8, "|": 2.8, "'": 3, "/": 5, "!": 2.8}
_OPERATOR_NAMES = {"log", "ln", "exp", "tanh", "sinh", "cosh", "sin", "cos", "tan", "max", "min", "det", "arg",
                   "sup", "inf", "lim", "sgn"}
_TEXT_COMMANDS = _TEXT_GROUPS | {r"\textnormal"}


def estimated_width(latex):
    """How wide `latex` (math, as a row of an align*) prints, in pt: roughly, from the printed signs
    without their macros, for deciding where a long row breaks (never exact)."""
    return _Widths(_TOKENS.findall(latex)).total


class _Widths:
    """One walk over the tokens, summing widths; a fraction counts its wider half, a script 70%."""

    def __init__(self, tokens):
        self.tokens, self.index = tokens, 0
        self.total = 0.0
        while self.index < len(self.tokens):
            self.total += self.next()

    def group(self, scale=1.0, text=False):
        """The width of the next token or {group}."""
        if self.index >= len(self.tokens):
            return 0.0
        if self.tokens[self.index] != "{":
            token = self.tokens[self.index]
            self.index += 1
            return scale * (5.4 if text and not token.isspace() else 3.3 if text else self.single(token))
        self.index += 1
        width = 0.0
        while self.index < len(self.tokens) and self.tokens[self.index] != "}":
            width += self.group(1.0, True) if text else self.next()
        self.index += 1
        return scale * width

    def next(self):
        token = self.tokens[self.index]
        if token == "{":
            return self.group()
        self.index += 1
        if token in ("^", "_"):
            return self.group(0.7)
        if token in (r"\frac", r"\tfrac", r"\dfrac"):
            scale = 0.7 if token == r"\tfrac" else 1.0
            return max(self.group(scale), self.group(scale)) + 2
        if token in _TEXT_COMMANDS:
            return self.group(text=True)
        if token in (r"\begin", r"\end"):
            self.group()  # the environment's name
            return 10.0
        return self.single(token)

    @staticmethod
    def single(token):
        if token.isspace() or token in ("}", "&"):
            return 0.0
        if token in _SPACES:
            return _SPACES[token]
        if token in _BINARY:
            return _BINARY[token]
        if token in _NO_WIDTH:
            return 0.0
        if token in (r"\cdot", r"\times", r"\pm", r"\mp", r"\div", r"\circ", r"\odot", r"\otimes"):
            return 12.0
        if token in (r"\le", r"\ge", r"\ne", r"\approx", r"\to", r"\in", r"\equiv", r"\sim", r"\mapsto"):
            return 13.3
        if token in (r"\sum", r"\prod", r"\int"):
            return 16.0
        if token[1:] in _OPERATOR_NAMES:
            return 5.5 * len(token) - 2
        if token == r"\\":
            return 0.0
        return 6.0 if token.startswith("\\") else 5.2
