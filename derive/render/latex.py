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
    """A note of the solution as an item's text: a note that is all words (one `\\text{...}`) as
    running text, which breaks across lines where a `\\text` in math cannot; any other as math."""
    if latex.startswith("\\text{") and _group_end(latex, len("\\text")) == len(latex) - 1:
        return r"\textnormal" + latex[len("\\text"):]
    return f"${latex}$"


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

    _default_settings = {"keys": False, "fragment": False}

    def doprint(self, solution):
        return plain_latex(super().doprint(solution))

    def _print_Solution(self, solution):
        lines = [rf"\section*{{{_text(solution.title)}}}",
                 rf"Rounding: {_text(solution.rounding.describe())}."]
        if solution.notes:
            lines += [r"\begin{itemize}"] + [rf"  \item {_note(note.latex)}" for note in solution.notes]
            lines += [r"\end{itemize}"]
        for section in solution.sections:
            lines += ["", self._print(section)]
        origin = f"% {escape(solution.name)} ({solution.kind})"
        packages = r"\usepackage{%s}" % ",".join(PACKAGES)
        if self._settings["fragment"]:
            return "\n".join([f"% Needs {packages}; \\allowdisplaybreaks in the preamble lets long displays "
                              "break across pages.", origin] + lines) + "\n"
        preamble = [origin, r"\documentclass{article}", packages, r"\usepackage[margin=2cm]{geometry}",
                    r"\allowdisplaybreaks", r"\begin{document}"]
        return "\n".join(preamble + lines + [r"\end{document}"]) + "\n"

    def _print_Section(self, section):
        givens = all(step.is_given for step in section.steps)
        environment = "gather*" if givens else "align*"  # givens are centred, steps aligned at "="
        if givens:
            rows = [r",\quad ".join(self._print(step) for step in group)
                    for group in self.given_groups(section.steps)]
            keys = [""] * len(rows)
        else:
            rows = [self._print(step) for step in section.steps]
            keys = [f" % {step.key}" if self._settings["keys"] else "" for step in section.steps]
        ends = [r" \\"] * (len(rows) - 1) + [""]  # the line break before the key's comment, not in it
        lines = [rf"\subsection*{{{_text(section.title)}}}", rf"\begin{{{environment}}}"]
        lines += [f"  {row}{end}{key}" for row, end, key in zip(rows, ends, keys)]
        return "\n".join(lines + [rf"\end{{{environment}}}"])

    def _print_Step(self, step):
        if step.is_given:
            return f"{step.symbol.latex} = {self.number(step.value)}"
        parts = self.step_parts(step, latex_formula)
        note = rf" && \text{{({_text(step.note)})}}" if step.note else ""
        return f"{step.symbol.latex} &= " + " = ".join(parts) + note
