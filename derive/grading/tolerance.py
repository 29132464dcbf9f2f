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


FIELDS = ("absolute", "relative", "decimals", "sig_figs")


def read_tolerance(field):
    """A Tolerance from a problem-file mapping such as `{decimals: 4}` or `{relative: 0.01}`."""
    field.mapping(allowed=set(FIELDS))
    if not field.value:
        raise field.error(f"expected at least one of {', '.join(FIELDS)}")
    values = {}
    for name in FIELDS:
        if field.has(name):
            item = field.get(name)
            if name in ("decimals", "sig_figs"):
                values[name] = item.integer(0 if name == "decimals" else 1, 15)
            else:
                number = item.number()
                if number < 0:
                    raise item.error(f"expected a number >= 0, got {number:g}")
                values[name] = number
    return Tolerance(**values)


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

