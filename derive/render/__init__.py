"""Renderers: one printer class per output format, chosen by name.

`render(solution, "markdown")` is the public door; PRINTERS feeds the CLI's
`--format` choice.
"""

from .html import HtmlPrinter
from .json import JsonPrinter
from .latex import LatexPrinter
from .markdown import MarkdownPrinter
from .text import TextPrinter

PRINTERS = {
    "text": TextPrinter,
    "markdown": MarkdownPrinter,
    "latex": LatexPrinter,
    "json": JsonPrinter,
    "html": HtmlPrinter,
}


def render(solution, format="text", **settings):
    """The solution printed in `format` (text, markdown, latex, json or html)."""
    return PRINTERS[format](**settings).doprint(solution)
