"""What every picture shares: contour levels, readable colour-bar ticks, a title that fits, the
number format of the picture's data, and a deterministic writer of PNG, SVG and PDF files
(matplotlib's Agg, no screen; imported only when a picture is asked for) that writes a file
whole or not at all."""

import io
import math
import os
import tempfile
from pathlib import Path

import numpy as np

from ..errors import DeriveError

GRID = 201  # samples per axis of the contour plot
LEVELS = 24
FIGURE_INCHES = (8.0, 4.5)  # 16:9, the shape of a slide
DPI = 200  # 1600 x 900 pixels for a PNG
FORMATS = {".png": "png", ".svg": "svg", ".pdf": "pdf"}
TITLE_POINTS, SMALLEST_TITLE_POINTS = 12.0, 7.0
COLOURBAR_TICKS = 7  # odd: the middle tick of a surface symmetric about 0 is 0
NICE_MANTISSAS = (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10)


def shown(value, digits=6):
    """A number as the pictures' data print it: 6 significant digits, never "-0"."""
    return f"{float(value) + 0.0:.{digits}g}"  # + 0.0: no "-0"


def contour_levels(loss):
    """Contour levels at quantiles of L over the grid: every part of the surface gets its share of lines.

    The lowest and highest levels are widened to the nearest multiple of a
    thousandth-ish of L's range (1e-2 for a range of 7), so the colour bar
    starts at 0 rather than at 2.5e-06.
    """
    finite = loss[np.isfinite(loss)]
    if finite.size == 0:
        raise DeriveError("the loss has no finite value in the region")
    levels = np.unique(np.quantile(finite, np.linspace(0, 1, LEVELS + 1)))
    if len(levels) < 2:
        levels = np.array([levels[0] - 1, levels[0] + 1])  # a flat surface still needs two levels
    step = 10.0 ** (math.floor(math.log10(levels[-1] - levels[0])) - 2)
    low, high = math.floor(levels[0] / step) * step, math.ceil(levels[-1] / step) * step
    levels = np.unique(np.concatenate(([low], levels[1:-1], [high])))
    return tuple(float(shown(v, 12)) for v in levels)  # shown: no 0.30000000000000004 from the rounding


def nice_number(value):
    """The round number nearest `value` among 1, 1.5, 2, 2.5, 3, 4, 5, 6, 8 times a power of ten."""
    if value == 0:
        return 0.0
    scale = 10.0 ** math.floor(math.log10(abs(value)))
    mantissa = min(NICE_MANTISSAS, key=lambda m: abs(abs(value) / scale - m))
    return math.copysign(float(shown(mantissa * scale, 6)), value)


def colourbar_ticks(levels):
    """About COLOURBAR_TICKS round values spread evenly along a colour bar of uneven bands.

    The bar gives every band between two levels the same length, so ticks
    are taken at evenly spaced points along it and each moved to a round
    number (1, 2, 2.5, 5 ...); the bar's own ends are kept when they are
    round already (0, 25), and a value within 0.1% of the bar's reach from 0 is 0.
    """
    positions = np.linspace(0, len(levels) - 1, COLOURBAR_TICKS)
    values = np.interp(positions, np.arange(len(levels)), levels)
    low, high = levels[0], levels[-1]
    ticks = []
    for value in values:
        tick = nice_number(value) if abs(value) > 1e-3 * max(abs(low), abs(high)) else 0.0
        if value in (low, high) and float(shown(value, 2)) == value:
            tick = value
        if low <= tick <= high and (not ticks or tick > ticks[-1]):
            ticks.append(float(tick))
    return tuple(ticks)


def add_colourbar(figure, axes, filled, levels):
    """The colour bar of L beside `axes`, labelled at round values."""
    from matplotlib.ticker import FixedLocator, FuncFormatter

    bar = figure.colorbar(filled, ax=axes, label="L")
    bar.locator = FixedLocator(colourbar_ticks(levels))
    bar.formatter = FuncFormatter(lambda value, _: shown(value, 3))
    bar.update_ticks()
    bar.minorticks_off()
    return bar


def fit_title(figure, text):
    """Put `text` over the figure on one line, in a smaller font when it is too wide for the figure."""
    width = figure.get_figwidth() * figure.dpi * 0.96
    title = figure.suptitle(text, fontsize=TITLE_POINTS)
    renderer = figure.canvas.get_renderer()
    extent = title.get_window_extent(renderer).width
    if extent > width:
        title.set_fontsize(max(SMALLEST_TITLE_POINTS, TITLE_POINTS * width / extent))
    return title


def picture_format(path):
    """"png", "svg" or "pdf" from the file name; anything else is refused before any work is done."""
    path = Path(path)
    form = FORMATS.get(path.suffix.lower())
    if form is None:
        raise DeriveError(f"expected a .png, .svg or .pdf file name for the picture, got {path.name!r}",
                          path=str(path))
    return form


def new_figure(draw, dpi=DPI):
    """A matplotlib Figure (Agg, no screen) of FIGURE_INCHES at `dpi`, drawn on by `draw(figure)`."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=FIGURE_INCHES, dpi=dpi, layout="constrained")
    FigureCanvasAgg(figure)
    draw(figure)
    return figure


def write_picture(path, form, draw, dpi=None):
    """Draw with `draw(figure)` on a new Figure and write it to `path` whole, as PNG, SVG or PDF.

    The same picture gives the same bytes on every run: the SVG's ids are
    salted with a fixed text, and no format records a date or the
    software's version. `dpi` (default DPI) sets a PNG's pixels and the
    resolution of what SVG and PDF embed as images.
    """
    import matplotlib

    dpi = dpi or DPI
    with matplotlib.rc_context({"svg.hashsalt": "derive", "svg.fonttype": "path", "pdf.compression": 6}):
        figure = new_figure(draw, dpi)
        buffer = io.BytesIO()
        metadata = {"Date": None} if form == "svg" else {"Software": None}
        if form == "pdf":
            metadata = {"Creator": None, "Producer": None, "CreationDate": None}
        figure.savefig(buffer, format=form, dpi=dpi, metadata=metadata)
    _write_atomically(Path(path), buffer.getvalue())


def _write_atomically(path, content):
    """Write bytes to `path` whole or not at all (a temporary file beside it, then renamed)."""
    directory = path.parent if str(path.parent) else Path(".")
    try:
        handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=directory)
    except OSError as error:
        raise DeriveError(f"cannot write the picture: {error.strerror}", path=str(path)) from None
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(content)
        os.chmod(temporary, 0o644)  # a picture to share, not the private file mkstemp makes
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise
