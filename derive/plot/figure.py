"""What every picture shares: contour levels, the number format of the picture's data, and a
deterministic writer of PNG and SVG files (matplotlib's Agg, no screen; imported only when a
picture is asked for) that writes a file whole or not at all."""

import io
import os
import tempfile
from pathlib import Path

import numpy as np

from ..errors import DeriveError

GRID = 201  # samples per axis of the contour plot
LEVELS = 24
FIGURE_INCHES, DPI = (7.0, 6.0), 100  # 700 x 600 pixels
FORMATS = {".png": "png", ".svg": "svg"}


def shown(value, digits=6):
    """A number as the pictures' data print it: 6 significant digits, never "-0"."""
    return f"{float(value) + 0.0:.{digits}g}"  # + 0.0: no "-0"


def contour_levels(loss):
    """Contour levels at quantiles of L over the grid: every part of the surface gets its share of lines."""
    finite = loss[np.isfinite(loss)]
    if finite.size == 0:
        raise DeriveError("the loss has no finite value in the region")
    levels = np.unique(np.quantile(finite, np.linspace(0, 1, LEVELS + 1)))
    if len(levels) < 2:
        levels = np.array([levels[0] - 1, levels[0] + 1])  # a flat surface still needs two levels
    return tuple(float(v) for v in levels)


def picture_format(path):
    """"png" or "svg" from the file name; anything else is refused before any work is done."""
    path = Path(path)
    form = FORMATS.get(path.suffix.lower())
    if form is None:
        raise DeriveError(f"expected a .png or .svg file name for the picture, got {path.name!r}", path=str(path))
    return form


def write_picture(path, form, draw):
    """Draw with `draw(figure)` on a matplotlib Figure (Agg, no screen) and write it to `path` whole.

    The same picture gives the same bytes on every run: the SVG's ids are
    salted with a fixed text, and neither format records a date or the
    software's version.
    """
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    with matplotlib.rc_context({"svg.hashsalt": "derive", "svg.fonttype": "path"}):
        figure = Figure(figsize=FIGURE_INCHES, dpi=DPI)
        FigureCanvasAgg(figure)
        draw(figure)
        buffer = io.BytesIO()
        metadata = {"Date": None} if form == "svg" else {"Software": None}
        figure.savefig(buffer, format=form, dpi=DPI, metadata=metadata)
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
