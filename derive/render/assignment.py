"""An assignment's worked solutions in one output: every part's solution, in the assignment's order.

Text and Markdown put the parts one after another under the assignment's
title; LaTeX makes one document (each part starting a page) and HTML one
page; JSON lists each part's solution document with its name and points.
"""

import json

from . import PRINTERS
from .html import _escape, page
from .latex import PACKAGES, _text, plain_latex


def render_assignment(assignment, solutions, format="text", **settings):
    """`solutions`: part name -> Solution, in the assignment's order."""
    parts = [(part, solutions[part.name]) for part in assignment.parts]
    heading = f"{assignment.title} ({assignment.name}): {len(parts)} parts"

    def points(part):
        return f", {part.points:g} points" if part.points is not None else ""

    if format == "json":
        return json.dumps({
            "assignment": assignment.name, "title": assignment.title, "feedback": assignment.feedback,
            "parts": [{"name": part.name, "points": part.points,
                       "solution": json.loads(PRINTERS["json"]().doprint(solution))} for part, solution in parts],
        }, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
    if format in ("text", "markdown"):
        printer = PRINTERS[format]
        title = heading if format == "text" else f"# {heading}"
        chunks = [title + ("\n" + "=" * len(heading) if format == "text" else "")]
        for part, solution in parts:
            label = f"Part {part.name}{points(part)}"
            chunks.append((f"{label}\n{'-' * len(label)}" if format == "text" else f"**{label}**") + "\n\n"
                          + printer(**settings).doprint(solution).replace("\n# ", "\n## ").rstrip("\n"))
        return "\n\n".join(chunks) + "\n"
    if format == "latex":
        fragment = settings.pop("fragment", False)
        bodies = []
        for part, solution in parts:
            body = PRINTERS["latex"](fragment=True, **settings).doprint(solution).split("\n", 2)[2]
            bodies.append(r"\clearpage" + "\n" + rf"\noindent\textbf{{Part {_text(part.name)}{_text(points(part))}}}"
                          + "\n" + body)
        lines = [rf"\section*{{{_text(assignment.title)}}}"] + bodies
        if fragment:
            return plain_latex("\n".join([rf"% Needs \usepackage{{{','.join(PACKAGES)}}}; \allowdisplaybreaks in the "
                                          "preamble lets long displays break across pages.",
                                          f"% {assignment.name} (assignment)"] + lines)) + "\n"
        return plain_latex("\n".join([f"% {assignment.name} (assignment)", r"\documentclass{article}",
                                      rf"\usepackage{{{','.join(PACKAGES)}}}", r"\usepackage[margin=2cm]{geometry}",
                                      r"\setlength{\emergencystretch}{3em}", r"\allowdisplaybreaks",
                                      r"\begin{document}"] + lines + [r"\end{document}"])) + "\n"
    if format == "html":
        printer = PRINTERS["html"](**settings)
        body = [f"<h1>{_escape(assignment.title)}</h1>",
                f'<p class="meta">Assignment <code>{_escape(assignment.name)}</code>: {len(parts)} parts.</p>']
        for part, solution in parts:
            printer.solution, printer.symbols = solution, solution.symbols()
            body += [f'<article id="part-{_escape(part.name)}">',
                     f'<p class="meta">Part <strong>{_escape(part.name)}</strong>{_escape(points(part))}</p>',
                     *printer.body(solution), "</article>"]
        return page(assignment.title, body)
    raise ValueError(f"unknown format {format!r}")
