"""Symbols that carry their own display, for derivations over quantities that are not steps.

A derivation works on symbols such as the entries of a kernel (`w12`) or of
an unrolled network (`w1_12`): their names are what an answer writes, and
they are shown in the lecture's notation (w¹₁₂, δ⁽ˡ⁾₁₂). The formula
printers' `_print_DisplaySymbol` shows `display`; JSON and answer sheets use
`name`.
"""

import sympy


class DisplaySymbol(sympy.Symbol):
    """A SymPy Symbol with a name a student can type and its own display (a Sym).

    The display is part of the symbol's identity, so two symbols of one name
    shown differently are different symbols.
    """

    def __new__(cls, name, display):
        symbol = sympy.Symbol.__xnew__(cls, name)
        symbol.display = display
        return symbol

    def __getnewargs_ex__(self):
        return (self.name, self.display), {}

    def _hashable_content(self):
        # plain strings: SymPy orders hashable contents when it sorts terms, and a Sym has no order
        return super()._hashable_content() + (self.display.text, self.display.latex)
