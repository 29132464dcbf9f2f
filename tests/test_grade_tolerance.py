"""Each tolerance kind, accepting and refusing, with the arithmetic in the table."""

import pytest

from derive.grading.tolerance import Tolerance

ACCEPTED = [
    (Tolerance(absolute=0.01), 0.5, 0.509),
    (Tolerance(absolute=0.01), -0.5, -0.51),  # the edge itself counts
    (Tolerance(relative=0.01), 101.0, 100.0),
    (Tolerance(relative=0.01), -0.000565, -0.00057),  # 0.88% off
    (Tolerance(decimals=4), 1.4436, 1.44355),  # half a unit of the 4th decimal: 0.00005
    (Tolerance(decimals=4), -0.0006, -0.000565492),
    (Tolerance(decimals=2), 0.6, 0.596283),
    # significant figures are counted on the expected value: 100 and 100.0 are the same answer
    (Tolerance(sig_figs=3), 100.0, 100.4),
    (Tolerance(sig_figs=3), 1e2, 99.96),
    (Tolerance(sig_figs=2), 0.0012, 0.00124),
    (Tolerance(relative=0.001, decimals=2), 0.98, 0.984751),  # either criterion
]

REFUSED = [
    (Tolerance(absolute=0.01), 0.5, 0.52),
    (Tolerance(relative=0.01), 102.0, 100.0),
    (Tolerance(decimals=4), 1.4437, 1.44355),
    (Tolerance(decimals=4), -0.0007, -0.000565492),
    (Tolerance(decimals=2), 0.39, 0.166629),
    (Tolerance(sig_figs=3), 101.0, 100.4),  # half a unit of the 3rd figure is 0.5
    (Tolerance(sig_figs=2), 0.0013, 0.00124),
    (Tolerance(sig_figs=3), 0.001, 0.0),  # 0 has no significant figures: only 0 is right
    (Tolerance(), 1.0, 1.0 + 1e-12),  # no criterion: nothing but the value itself
]


@pytest.mark.parametrize("tolerance, answer, expected", ACCEPTED)
def test_accepts(tolerance, answer, expected):
    assert tolerance.accepts(answer, expected)


@pytest.mark.parametrize("tolerance, answer, expected", REFUSED)
def test_refuses(tolerance, answer, expected):
    assert not tolerance.accepts(answer, expected)


def test_describe_says_what_counts():
    assert Tolerance(relative=0.005, decimals=4).describe() == "within 0.005 relative or to 4 decimals"
