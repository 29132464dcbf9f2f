"""MathML from the LaTeX the solution printers write, for HTML pages that need no script and no network.

Why MathML: every current browser (Chromium since 109, Firefox, Safari)
lays it out natively, so a page stays one self-contained file that renders
offline, on a phone, in a screen reader, with text that can be selected and
zoomed; a script renderer (MathJax, KaTeX) would add half a megabyte of code
and fonts to every page, or a network fetch.

The input is what `plain_latex` prints: ASCII LaTeX in the small dialect of
derive's formula printers and the kinds' symbols (`\\frac`, `\\left( ...
\\right)`, `^{...}`, `\\hat{y}`, `\\text{...}`, `cases` and `pmatrix`, Greek
letters as macros). `mathml` parses it into a tree of MathML elements, TeX's
way: a letter is an identifier, a run of digits a number, a script attaches
to the atom before it. A command outside the dialect is shown as its name in
text, never dropped (`unknown_commands` lists them, for tests).
"""

import html
import re
import unicodedata

from .latex import _MATH, plain_latex

_TOKENS = re.compile(r"\\[A-Za-z]+|\\.|[0-9]+(?:\.[0-9]+)?|\s+|.", re.S)

# \macro -> (element, character): the inverse of plain_latex's table, and the rest of the dialect.
_SYMBOLS = {latex: character for character, latex in _MATH.items() if re.fullmatch(r"\\[A-Za-z]+", latex)}
_SYMBOLS.update({r"\phi": "ϕ", r"\varphi": "φ", r"\epsilon": "ϵ", r"\varepsilon": "ε", r"\neq": "≠",
                 r"\leq": "≤", r"\geq": "≥", r"\lvert": "|", r"\rvert": "|", r"\lVert": "‖", r"\rVert": "‖",
                 r"\vert": "|", r"\Vert": "‖", r"\ldots": "…", r"\colon": ":", r"\ast": "∗", r"\star": "⋆",
                 r"\bullet": "∙", r"\mid": "∣", r"\uparrow": "↑", r"\downarrow": "↓", r"\Leftarrow": "⇐",
                 r"\rightarrow": "→", r"\iff": "⟺", r"\implies": "⟹", r"\cdots": "⋯", r"\vdots": "⋮",
                 r"\ddots": "⋱", r"\sqcup": "⊔", r"\setminus": "∖", r"\lnot": "¬", r"\land": "∧", r"\lor": "∨"})
_IDENTIFIERS = {name for name, character in _SYMBOLS.items()
                if unicodedata.category(character).startswith("L") or character in "∂∇∞∅ℓ"}
_FUNCTIONS = {r"\max", r"\min", r"\log", r"\ln", r"\exp", r"\tanh", r"\sin", r"\cos", r"\tan", r"\sinh",
              r"\cosh", r"\arctan", r"\det", r"\sup", r"\inf", r"\lim", r"\arg", r"\sgn"}
_LARGE = {r"\sum": "∑", r"\prod": "∏"}
_ACCENTS = {r"\hat": "^", r"\widehat": "^", r"\tilde": "~", r"\widetilde": "~", r"\bar": "‾",
            r"\overline": "‾", r"\dot": "˙", r"\ddot": "¨", r"\vec": "→"}
_SPACES = {r"\quad": "1em", r"\qquad": "2em", r"\,": "0.1667em", r"\:": "0.2222em", r"\;": "0.2778em",
           r"\ ": "0.25em", "~": "0.25em", r"\!": "0em"}
_ESCAPED = {r"\{": "{", r"\}": "}", r"\|": "‖", r"\#": "#", r"\%": "%", r"\&": "&", r"\_": "_", r"\$": "$"}
_SIZES = {r"\big", r"\Big", r"\bigg", r"\Bigg", r"\bigl", r"\bigr", r"\Bigl", r"\Bigr", r"\displaystyle",
          r"\textstyle", r"\limits", r"\nolimits"}
_TEXT_COMMANDS = {r"\text", r"\textnormal", r"\textrm", r"\mbox", r"\textit", r"\textbf", r"\emph", r"\texttt",
                  r"\textsf"}
_TEXT_SIGNS = {r"\textasciicircum": "^", r"\textasciitilde": "~", r"\textbackslash": "\\", r"\textless": "<",
               r"\textgreater": ">", r"\textbar": "|", r"\textendash": "–", r"\textemdash": "—", r"\S": "§",
               r"\ldots": "…", r"\dots": "…", r"\textbullet": "•"}
_TEXT_ACCENTS = {"'": "\u0301", "`": "\u0300", '"': "\u0308", "^": "\u0302", "~": "\u0303", "c": "\u0327",
                 "r": "\u030a", "v": "\u030c", "u": "\u0306", "=": "\u0304", ".": "\u0307"}
# Script capitals, as \mathcal prints them: the letters Unicode encodes in its letterlike block, the rest
# in the mathematical alphanumeric block.
_SCRIPT = {"B": "ℬ", "E": "ℰ", "F": "ℱ", "H": "ℋ", "I": "ℐ", "L": "ℒ", "M": "ℳ", "R": "ℛ"}
_OPERATORS = set("+-=<>,;:!()[]|/*.?'") | {"−"}
_FENCES = set("()[]{}|‖⟨⟩⌊⌋⌈⌉")


def mathml(latex, display=False):
    """`latex` (anything `plain_latex` accepts) as one `<math>` element; `display` for a block of its own."""
    tree = _Parser(plain_latex(latex)).parse()
    attribute = ' display="block"' if display else ""
    return f'<math{attribute}>{_row(tree)}</math>'


def unknown_commands(latex):
    """The commands in `latex` that `mathml` shows as text, not as mathematics (none, for what derive prints)."""
    parser = _Parser(plain_latex(latex))
    parser.parse()
    return parser.unknown


def _element(name, content, **attributes):
    shown = "".join(f' {key.rstrip("_")}="{value}"' for key, value in attributes.items())
    return f"<{name}{shown}>{content}</{name}>"


def _row(nodes):
    return nodes[0] if len(nodes) == 1 else _element("mrow", "".join(nodes))


def _mo(character, **attributes):
    if character in _FENCES:  # a parenthesis hugs what it encloses, wherever it stands in its row
        attributes = {"lspace": "0", "rspace": "0", **attributes}
    return _element("mo", html.escape(character), **attributes)


_SIGNS = ("<mo>−</mo>", "<mo>+</mo>")
_CLOSERS = tuple(f">{html.escape(c)}</mo>" for c in ")]}|‖⟩⌋⌉′")


def _unary(atom, previous):
    """A minus or plus sign with nothing before it, or an operator (`= −0.0264`, `(−0.0008`), is a
    sign, set close to its number, as TeX sets it; elsewhere it is the binary operator."""
    if atom in _SIGNS and (previous is None or (previous.startswith("<mo") and not previous.endswith(_CLOSERS))):
        return atom.replace("<mo>", '<mo form="prefix">')
    return atom


def _mi(name, **attributes):
    return _element("mi", html.escape(name), **attributes)


class _Parser:
    """Recursive descent over the tokens: each `atom` one MathML element, with the scripts after it."""

    def __init__(self, latex):
        self.tokens = [token for token in _TOKENS.findall(latex)]
        self.position = 0
        self.unknown = []

    # -- the token stream --------------------------------------------------------------------------
    def peek(self, skip_space=True):
        position = self.position
        while skip_space and position < len(self.tokens) and self.tokens[position].isspace():
            position += 1
        return self.tokens[position] if position < len(self.tokens) else None

    def take(self, skip_space=True):
        while skip_space and self.position < len(self.tokens) and self.tokens[self.position].isspace():
            self.position += 1
        if self.position >= len(self.tokens):
            return None
        token = self.tokens[self.position]
        self.position += 1
        return token

    # -- math ----------------------------------------------------------------------------------------
    def parse(self, stops=()):
        """Atoms up to (and taking) one of `stops`, or to the end; a list of elements."""
        nodes = []
        while True:
            token = self.peek()
            if token is None or token in stops:
                self.take()
                return nodes
            if token in ("^", "_", "'"):
                base = nodes.pop() if nodes else _element("mrow", "")
                nodes.append(self.scripts(base))
                continue
            atom = self.atom()
            if atom is not None:
                nodes.append(_unary(atom, nodes[-1] if nodes else None))

    def scripts(self, base, large=False):
        """`base` with the superscripts, subscripts and primes that follow it."""
        sub, sup = [], []
        while self.peek() in ("^", "_", "'"):
            token = self.take()
            if token == "'":
                sup.append(_mo("′"))
            else:
                (sup if token == "^" else sub).append(self.argument())
        if sup and not sub and not large and all(_PRIMES.fullmatch(part) for part in sup):
            # f′ (f' or f^{\prime}) alone: the prime beside the letter, where its glyph already stands raised
            return _element("mrow", base + re.sub("</?mrow>", "", "".join(sup)).replace(
                "<mo>", '<mo lspace="0" rspace="0">'))
        sub_row, sup_row = (_row(part) if part else None for part in (sub, sup))
        if large:
            names = ("munder", "mover", "munderover")
        else:
            names = ("msub", "msup", "msubsup")
        if sub_row and sup_row:
            return _element(names[2], base + sub_row + sup_row)
        if sub_row:
            return _element(names[0], base + sub_row)
        return _element(names[1], base + sup_row)

    def argument(self):
        """One argument of a command or a script: a group, or one token's atom."""
        if self.peek() == "{":
            self.take()
            return _row(self.parse(("}",)) or [_element("mrow", "")])
        atom = self.atom()
        return atom if atom is not None else _element("mrow", "")

    def text_argument(self):
        """The contents of a `{...}` in text mode, as (kind, text or element) pieces."""
        if self.peek() != "{":
            token = self.take()
            return [("text", token or "")]
        self.take()
        return self.text(("}",))

    def atom(self):
        token = self.take()
        if token == "{":
            nodes = self.parse(("}",))
            return _element("mrow", "".join(nodes))
        if token[0].isdigit():
            return _element("mn", token)
        if token.isalpha() and len(token) == 1:
            return _mi(token)
        if token == "-":
            return _mo("−")
        if token in _OPERATORS:
            return _mo(token, **({"stretchy": "false"} if token in _FENCES else {}))
        if token in ("}", "&"):
            return None  # a stray closer: nothing to show
        if not token.startswith("\\"):
            return _mi(token) if token.isalpha() else _mo(token)
        return self.command(token)

    def command(self, name):
        if name in (r"\frac", r"\tfrac", r"\dfrac"):
            return _element("mfrac", self.argument() + self.argument())
        if name == r"\sqrt":
            if self.peek() == "[":
                self.take()
                index = _row(self.parse(("]",)) or [_element("mrow", "")])
                return _element("mroot", self.argument() + index)
            return _element("msqrt", self.argument())
        if name == r"\left":
            return self.fenced()
        if name in _TEXT_COMMANDS:
            return self.text_element(self.text_argument())
        if name == r"\operatorname":
            return _mi(_plain(self.text_argument()))
        if name in (r"\mathrm", r"\mathup"):
            letters = _plain(self.text_argument())
            return _mi(letters, mathvariant="normal") if len(letters) == 1 else _mi(letters)
        if name in (r"\mathcal", r"\mathscr"):
            return _mi("".join(_script(letter) for letter in _plain(self.text_argument())))
        if name in (r"\mathbf", r"\boldsymbol", r"\mathit", r"\ensuremath", r"\mathbb"):
            return self.argument()
        if name in _ACCENTS:
            return _element("mover", self.argument() + _mo(_ACCENTS[name]), accent="true")
        if name in _LARGE:
            operator = _mo(_LARGE[name], largeop="true", movablelimits="true")
            return self.scripts(operator, large=True) if self.peek() in ("^", "_") else operator
        if name in _FUNCTIONS:
            return _mi(name[1:])
        if name in _SPACES:
            return _element("mspace", "", width=_SPACES[name])
        if name in _ESCAPED:
            character = _ESCAPED[name]
            return _mo(character, stretchy="false") if character in _FENCES else _mo(character)
        if name in _SYMBOLS:
            character = _SYMBOLS[name]
            return _mi(character) if name in _IDENTIFIERS else _mo(character)
        if name == r"\top":
            return _mi("⊤")
        if name == r"\prime":
            return _mo("′")
        if name in _SIZES:
            return None
        if name == r"\begin":
            return self.environment(_plain(self.text_argument()))
        if name == r"\\":
            return None  # a line break outside a table: nothing to show
        self.unknown.append(name)
        return _element("mtext", html.escape(name))

    def fenced(self):
        """`\\left( ... \\right)`: the delimiters stretch to what they enclose."""
        opening = self.take()
        inner = "".join(self.parse((r"\right",)))
        closing = self.take()
        tall = any(f"<{name}" in inner for name in _TALL)  # else a stretched glyph would stand apart
        return _element("mrow", _delimiter(opening, tall) + inner + _delimiter(closing, tall))

    def environment(self, name):
        """`cases`, `pmatrix`, `array` and their kin: a table of cells (`&`) and rows (`\\\\`); an array's
        column argument (`{rrr}`) aligns its cells rather than being shown."""
        end = r"\end"
        alignment = {"style": "text-align: left"} if name == "cases" else {}
        if name == "array":
            columns = _plain(self.text_argument())
            side = {"r": "right", "l": "left", "c": "center"}.get(columns[:1])
            alignment = {"style": f"text-align: {side}"} if side else {}
        rows, cells = [], []
        while True:
            cell = self.parse(("&", r"\\", end))
            stop = self.tokens[self.position - 1] if self.position else None
            cells.append(_element("mtd", _row(cell) if cell else "", **alignment))
            if stop != "&":
                rows.append(_element("mtr", "".join(cells)))
                cells = []
            if stop in (end, None) or self.position >= len(self.tokens):
                break
        if stop == end:
            self.text_argument()  # the environment's name
        table = _element("mtable", "".join(rows))
        fences = {"cases": ("{", ""), "pmatrix": ("(", ")"), "bmatrix": ("[", "]"), "vmatrix": ("|", "|")}
        opening, closing = fences.get(name, ("", ""))
        return _element("mrow", (_mo(opening, fence="true") if opening else "") + table
                        + (_mo(closing, fence="true") if closing else ""))

    # -- text ------------------------------------------------------------------------------------------
    def text(self, stops):
        """Text-mode pieces up to a stop: ("text", words) and ("math", element) for `\\ensuremath` and `$`."""
        pieces = []
        while True:
            token = self.take(skip_space=False)
            if token is None or token in stops:
                return pieces
            if token == "{":
                pieces += self.text(("}",))
            elif token == "$":
                pieces.append(("math", _row(self.parse(("$",)) or [_element("mrow", "")])))
            elif token == r"\ensuremath":
                math = self.argument()
                symbols = _SIMPLE.fullmatch(math)
                # a symbol that plain_latex wrote for a character of the text (θ′, ∇, ≠) reads as that text
                pieces.append(("text", html.unescape(re.sub("<[^>]*>", "", math))) if symbols else ("math", math))
            elif token in _TEXT_SIGNS:
                if self.peek(skip_space=False) == "{" and self.tokens[self.position + 1:self.position + 2] == ["}"]:
                    self.position += 2  # the empty group after a sign: \textless{}
                pieces.append(("text", _TEXT_SIGNS[token]))
            elif token in _ESCAPED:
                pieces.append(("text", _ESCAPED[token] if token != r"\|" else "|"))
            elif token in (r"\ ", "~"):
                pieces.append(("text", "\u00a0" if token == "~" else " "))
            elif token == r"\,":
                pieces.append(("text", "\u2009"))
            elif len(token) == 2 and token[0] == "\\" and token[1] in _TEXT_ACCENTS or token in (r"\c", r"\r", r"\v",
                                                                                                   r"\u"):
                pieces.append(("text", self.accented(_TEXT_ACCENTS[token[1]])))
            elif token in _TEXT_COMMANDS:
                pieces += self.text_argument()
            elif token.startswith("\\") and len(token) > 1:
                self.unknown.append(token)
                pieces.append(("text", token))
            elif token == "`" and self.peek(skip_space=False) == "`":
                self.take(skip_space=False)
                pieces.append(("text", "“"))
            elif token == "'" and self.peek(skip_space=False) == "'":
                self.take(skip_space=False)
                pieces.append(("text", "”"))
            else:
                pieces.append(("text", token))

    def accented(self, accent):
        """The letter after a text accent command, with the accent: \\'e -> é."""
        pieces = self.text_argument() if self.peek() == "{" else [("text", self.take() or "")]
        letters = _plain(pieces)
        return unicodedata.normalize("NFC", letters[:1] + accent + letters[1:])

    @staticmethod
    def text_element(pieces):
        nodes = []
        for kind, content in _merged(pieces):
            nodes.append(_element("mtext", html.escape(content)) if kind == "text" else content)
        return _row(nodes) if nodes else _element("mtext", "")


_TALL = ("mfrac", "mtable", "munderover", "msqrt", "mroot")


def _delimiter(token, stretchy):
    """A delimiter of \\left or \\right: it grows with what it encloses only when that is taller than a line."""
    if token in (".", None):
        return ""
    character = _ESCAPED.get(token) or _SYMBOLS.get(token) or token
    return _mo(character, fence="true", stretchy="true" if stretchy else "false")


_PRIMES = re.compile(r"(<mrow>)?(<mo>′</mo>)+(</mrow>)?")
_SIMPLE = re.compile(r"(<mrow>)?(<m[io][^>]*>[^<]*</m[io]>)+(</mrow>)?")


def _merged(pieces):
    """Neighbouring text pieces joined into one."""
    merged = []
    for kind, content in pieces:
        if merged and kind == "text" and merged[-1][0] == "text":
            merged[-1] = ("text", merged[-1][1] + content)
        else:
            merged.append((kind, content))
    return merged


def _plain(pieces):
    """The text of text-mode pieces (an argument such as an environment's name), math dropped."""
    return "".join(content for kind, content in pieces if kind == "text").strip()


def _script(letter):
    if letter in _SCRIPT:
        return _SCRIPT[letter]
    if "A" <= letter <= "Z":
        return chr(0x1D49C + ord(letter) - ord("A"))
    return letter


def split_text(latex):
    """`latex` as (kind, content) pieces at its top level: ("text", words) for each `\\text{...}` run,
    ("math", element) for the rest, so that a page lets the words wrap like words."""
    parser = _Parser(plain_latex(latex))
    pieces, math = [], []

    def flush():
        if math:
            pieces.append(("math", f"<math>{_row(math)}</math>"))
            math.clear()

    while parser.peek(skip_space=False) is not None:
        token = parser.peek(skip_space=False)
        if token in _TEXT_COMMANDS:
            parser.take()
            flush()
            for kind, content in _merged(parser.text_argument()):
                pieces.append(("text", content) if kind == "text" else ("math", f"<math>{content}</math>"))
        elif token.isspace():
            parser.take(skip_space=False)  # between atoms, space means nothing
        elif token in ("^", "_", "'"):
            base = math.pop() if math else _element("mrow", "")
            math.append(parser.scripts(base))
        else:
            atom = parser.atom()
            if atom is not None:
                math.append(_unary(atom, math[-1] if math else None))
    flush()
    return _merged(pieces), parser.unknown
