"""The bound on symbolic work: a Timeout gets out whatever the code under it does with it."""

import time

import pytest

from derive.errors import Timeout
from derive.symbolic.limits import time_limit


def test_a_block_over_its_time_raises_timeout():
    with pytest.raises(Timeout, match=r"^the work took longer than 0\.01 s$"):
        with time_limit(0.01, "the work"):
            time.sleep(2)


def test_a_block_within_its_time_is_left_alone():
    with time_limit(5):
        total = sum(range(1000))
    assert total == 499500


def test_a_swallowed_timeout_is_raised_again():
    """A library's `except Exception` eats the first Timeout; the timer fires again and the next one gets out.

    The Timeout lands wherever the code is when the timer fires: the block's whole work is inside the `try`
    (a loop test outside it would let the first one out, unswallowed, now and then)."""
    swallowed, finished = 0, False
    with pytest.raises(Timeout):
        with time_limit(0.05):
            deadline = time.monotonic() + 10
            while not finished:
                try:
                    finished = time.monotonic() > deadline
                    time.sleep(1)
                except Timeout:
                    if swallowed:
                        raise
                    swallowed += 1
    assert swallowed == 1 and not finished


def test_a_block_that_ends_after_swallowing_its_timeout_still_raises_it():
    """As when the Timeout lands in a garbage collector's callback, which drops it."""
    with pytest.raises(Timeout):
        with time_limit(0.01):
            try:
                time.sleep(2)
            except Timeout:
                pass


def test_an_inner_limit_leaves_the_outer_one_running():
    with pytest.raises(Timeout, match="^outer "):
        with time_limit(0.05, "outer"):
            with time_limit(5, "inner"):
                pass
            time.sleep(2)
