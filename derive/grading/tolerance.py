"""When a student's number counts as the expected one.

A Tolerance holds any of four criteria; an answer is accepted when it meets
at least one that is set:

- absolute: |answer - expected| <= absolute
- relative: |answer - expected| <= relative * |expected|
- decimals: within half a unit of the N-th decimal place (the answer
  rounds to the same N-decimal number, ties either way)
- sig_figs: within half a unit of the N-th significant digit *of the
  expected value*. Figures are counted on the expected value, not on how the
  student wrote the answer: with sig_figs 3 and expected 100.4, `100`,
  `100.0` and `1e2` are all right, and trailing zeros never count against
  anyone.
"""

import math
from dataclasses import dataclass

from ..fields import Declarations, Declared, Integer, Number

_SLACK = 1 + 1e-9  # absorbs binary noise at the exact edge (0.00005 in binary)


@dataclass(frozen=True)
class Tolerance:
    absolute: float = None
    relative: float = None
    decimals: int = None
    sig_figs: int = None

    def accepts(self, answer, expected):
        if not (math.isfinite(answer) and math.isfinite(expected)):
            return answer == expected
        error = abs(answer - expected)
        if self.absolute is not None and error <= self.absolute * _SLACK + 1e-15:
            return True
        if self.relative is not None and error <= self.relative * abs(expected) * _SLACK:
            return True
        if self.decimals is not None and error <= 0.5 * 10.0 ** -self.decimals * _SLACK + 1e-15:
            return True
        if self.sig_figs is not None:
            if expected == 0:
                return error == 0
            unit = 10.0 ** (math.floor(math.log10(abs(expected))) - self.sig_figs + 1)
            if error <= 0.5 * unit * _SLACK:
                return True
        return False

    def accepts_each(self, answers, expected):
        """`accepts` entry by entry over arrays (a matrix answer): a boolean array."""
        import numpy as np

        answers, expected = np.asarray(answers, dtype=float), np.asarray(expected, dtype=float)
        finite = np.isfinite(answers) & np.isfinite(expected)
        with np.errstate(all="ignore"):
            error = np.abs(answers - expected)
            right = np.zeros(np.broadcast(answers, expected).shape, dtype=bool)
            if self.absolute is not None:
                right |= error <= self.absolute * _SLACK + 1e-15
            if self.relative is not None:
                right |= error <= self.relative * np.abs(expected) * _SLACK
            if self.decimals is not None:
                right |= error <= 0.5 * 10.0 ** -self.decimals * _SLACK + 1e-15
            if self.sig_figs is not None:
                magnitude = np.floor(np.log10(np.where(expected == 0, 1.0, np.abs(expected))))
                unit = 10.0 ** (magnitude - self.sig_figs + 1)
                right |= np.where(expected == 0, error == 0, error <= 0.5 * unit * _SLACK)
        return np.where(finite, right, answers == expected)

    def describe(self):
        parts = []
        if self.absolute is not None:
            parts.append(f"within {self.absolute:g}")
        if self.relative is not None:
            parts.append(f"within {self.relative:.10g} relative")
        if self.decimals is not None:
            parts.append(f"to {self.decimals} decimals")
        if self.sig_figs is not None:
            parts.append(f"to {self.sig_figs} significant figures")
        return " or ".join(parts) or "exactly"


TOLERANCE = Declarations(
    Declared("absolute", Number(minimum=0), "right when |answer - expected| ≤ a (`absolute: a`)", default=None,
             shown_default="none"),
    Declared("relative", Number(minimum=0), "right when |answer - expected| ≤ r·|expected| (`relative: r`)",
             default=None, shown_default="none"),
    Declared("decimals", Integer(0, 15), "right within half a unit of the n-th decimal (it rounds to the same "
             "n-decimal number; `decimals: n`)", default=None, shown_default="none"),
    Declared("sig_figs", Integer(1, 15), "right within half a unit of the n-th significant digit *of the expected "
             "value*: figures are counted on the expected value, not on how the answer is written, so with "
             "`sig_figs: 3` and expected 100.4 the answers `100`, `100.0` and `1e2` are all right",
             default=None, shown_default="none"),
)


def read_tolerance(field):
    """A Tolerance from a problem-file mapping such as `{decimals: 4}` or `{relative: 0.01}`."""
    field.mapping(allowed=TOLERANCE.names)
    if not field.value:
        raise field.error(f"expected at least one of {', '.join(d.name for d in TOLERANCE.declared)}")
    return Tolerance(**{d.name: TOLERANCE.read(field, d.name) for d in TOLERANCE.declared if field.has(d.name)})


def tolerance_schema():
    """The JSON Schema of a tolerance mapping: the declared criteria, at least one of them."""
    return dict(TOLERANCE.object_schema(), minProperties=1, description="a tolerance, such as {decimals: 4}")


def default_tolerance(rounding):
    """The tolerance a problem gets when its file names none.

    In a rounding mode, half a unit of the last decimal kept (the lecture's
    4-decimal chain and the exact chain both pass). Exactly solved problems
    accept 0.5% relative error or half a unit of the 4th decimal, so that a
    student who rounds to 4 decimals, as the lectures do, is not marked wrong.
    """
    if rounding.decimals is not None:
        return Tolerance(decimals=rounding.decimals)
    return Tolerance(relative=0.005, decimals=4)

