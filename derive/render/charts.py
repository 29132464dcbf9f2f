"""Charts for a class's grading page, as inline SVG: a page that draws them needs no script and no file.

Each chart is an `<svg>` with a `viewBox`, so it scales to the page's width
(a phone's as well), a `<title>` that says what it shows, and its numbers
written beside the marks, so that no reader has to judge a length or tell
colours apart.
"""

import html
import math

from ..steps import format_number

OUTCOMES = (("right", "right", "#2e7d32"), ("follow_through", "follow-through", "#8bc34a"),
            ("wrong", "wrong", "#c62828"), ("missing", "missing", "#9e9e9e"))
_FONT = 'font-family="system-ui, sans-serif" font-size="12"'
_CHARACTER = 7.0  # the width of one character of a label at 12 px, a little over the average, in px


def _svg(width, height, title, body):
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:g} {height:g}" role="img" '
            f'class="chart" {_FONT}><title>{html.escape(title)}</title>{"".join(body)}</svg>')


def _text(x, y, text, anchor="start", **attributes):
    shown = "".join(f' {key.replace("_", "-")}="{value}"' for key, value in attributes.items())
    return f'<text x="{x:g}" y="{y:g}" text-anchor="{anchor}"{shown}>{html.escape(text)}</text>'


def score_bins(scores, max_score):
    """(low, high, count) per bin of the scores over [0, max_score]: one bin per point up to 10 points,
    else ten equal bins; the last bin holds max_score itself."""
    if max_score <= 0:
        return [(0.0, 0.0, len(scores))]
    count = int(max_score) if float(max_score).is_integer() and max_score <= 10 else 10
    width = max_score / count
    bins = [0] * count
    for score in scores:
        bins[min(count - 1, max(0, int(score / width + 1e-9)))] += 1
    return [(i * width, (i + 1) * width, n) for i, n in enumerate(bins)]


def histogram(scores, max_score, title="Scores"):
    """Vertical bars: how many sheets scored in each bin of `score_bins`."""
    bins = score_bins(scores, max_score)
    top = max([n for _, _, n in bins] + [1])
    width, height, left, bottom, plot_height = 640, 260, 40, 40, 190
    bar = (width - left - 10) / len(bins)
    body = [f'<line x1="{left}" y1="{height - bottom}" x2="{width - 10}" y2="{height - bottom}" stroke="#444"/>']
    for tick in _ticks(top):
        y = height - bottom - plot_height * tick / top
        body.append(f'<line x1="{left - 4}" y1="{y:g}" x2="{width - 10}" y2="{y:g}" stroke="#ddd"/>')
        body.append(_text(left - 8, y + 4, str(tick), "end", fill="#444"))
    for index, (low, high, n) in enumerate(bins):
        x = left + index * bar
        bar_height = plot_height * n / top
        label = f"{format_number(low)}–{format_number(high)}"
        body.append(f'<rect x="{x + 3:g}" y="{height - bottom - bar_height:g}" width="{bar - 6:g}" '
                    f'height="{bar_height:g}" fill="#1565c0"><title>{html.escape(label)}: {n}</title></rect>')
        if n:
            body.append(_text(x + bar / 2, height - bottom - bar_height - 5, str(n), "middle"))
        body.append(_text(x + bar / 2, height - bottom + 16, label, "middle", fill="#444"))
    body.append(_text(left + (width - left) / 2, height - 6, f"score (out of {format_number(max_score)})",
                      "middle", fill="#444"))
    return _svg(width, height, title, body)


def _ticks(top):
    """Whole-number gridlines from 0 to `top`, at most six."""
    step = max(1, math.ceil(top / 5))
    return list(range(0, top + 1, step))


def outcome_bars(rows, title="Outcomes per item"):
    """One horizontal bar per item, in segments right / follow-through / wrong / missing.

    rows: (label, {outcome: count}) with the outcomes of OUTCOMES; each
    segment is labelled with its count where it is wide enough, and the
    counts are repeated as text at the bar's end.
    """
    label_width = max([len(label) for label, _ in rows] + [4]) * _CHARACTER + 12
    bar_width, row_height, legend_height = 360, 26, 28
    count_width = 260
    width = label_width + bar_width + count_width
    height = legend_height + row_height * len(rows) + 6
    body = _legend(legend_height - 12)
    for index, (label, counts) in enumerate(rows):
        y = legend_height + index * row_height
        total = sum(counts.get(key, 0) for key, _, _ in OUTCOMES) or 1
        body.append(_text(label_width - 8, y + 16, label, "end"))
        x = label_width
        for key, name, colour in OUTCOMES:
            n = counts.get(key, 0)
            if not n:
                continue
            segment = bar_width * n / total
            body.append(f'<rect x="{x:g}" y="{y + 3}" width="{segment:g}" height="{row_height - 6}" '
                        f'fill="{colour}"><title>{html.escape(label)}: {n} {name}</title></rect>')
            if segment >= 18:
                body.append(_text(x + segment / 2, y + 17, str(n), "middle", fill="#fff"))
            x += segment
        shown = ", ".join(f"{counts[key]} {name}" for key, name, _ in OUTCOMES if counts.get(key))
        body.append(_text(label_width + bar_width + 8, y + 16, shown, fill="#444"))
    return _svg(width, height, title, body)


def _legend(y):
    body, x = [], 0
    for _, name, colour in OUTCOMES:
        body.append(f'<rect x="{x}" y="{y - 10}" width="12" height="12" fill="{colour}"/>')
        body.append(_text(x + 16, y, name))
        x += 16 + len(name) * _CHARACTER + 18
    return body


def count_bars(rows, title):
    """One horizontal bar per row (label, count), longest first as given, the count at its end."""
    label_width = max([len(label) for label, _ in rows] + [4]) * _CHARACTER + 12
    bar_width, row_height = 300, 24
    top = max([n for _, n in rows] + [1])
    width = label_width + bar_width + 40
    height = row_height * len(rows) + 6
    body = []
    for index, (label, n) in enumerate(rows):
        y = index * row_height
        length = bar_width * n / top
        body.append(_text(label_width - 8, y + 16, label, "end"))
        body.append(f'<rect x="{label_width}" y="{y + 4}" width="{length:g}" height="{row_height - 8}" '
                    f'fill="#ef6c00"><title>{html.escape(label)}: {n}</title></rect>')
        body.append(_text(label_width + length + 6, y + 16, str(n)))
    return _svg(width, height, title, body)
