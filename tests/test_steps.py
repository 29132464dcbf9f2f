"""The core structure: rounding as a person rounds, and re-evaluation on other numbers."""

import math

import pytest

from derive.problem import load_problem
from derive.steps import EXACT, Rounding
from conftest import PROBLEMS

ROUND_CASES = [
    # (value as Python computes it, decimals, what a person writes)
    (0.9781 * 1 + 0.9309 * 0.5, 4, 1.4436),  # 1.4435499999999999 in binary; 1.44355 on paper
    (-0.00125, 4, -0.0013),  # half away from zero
    (0.00125, 4, 0.0013),
    (2.675, 2, 2.68),  # round(2.675, 2) == 2.67 in Python
    (-0.000049, 4, 0.0),  # no negative zero
    (1.0, 4, 1.0),
    (0.123456, 0, 0.0),
    (0.5, 0, 1.0),
]


@pytest.mark.parametrize("value, decimals, expected", ROUND_CASES)
def test_rounding_is_half_away_from_zero_on_the_decimal_value(value, decimals, expected):
    rounded = Rounding(decimals).apply(value)
    assert rounded == expected
    assert math.copysign(1, rounded) == math.copysign(1, expected)


def _near_halves(rng, count):
    """Values a rounding can trip on: decimal halves (k + 1/2) 10^-d and their float neighbours, values
    with 5 to 13 decimals written out, products of such, tiny, negative and large values."""
    for _ in range(count):
        d = rng.randrange(0, 13)
        r = rng.random()
        if r < 0.3:
            value = (rng.randrange(0, 10 ** rng.randrange(1, 9)) + 0.5) / 10 ** d
            value = math.nextafter(value, rng.choice([-math.inf, math.inf])) if rng.random() < 0.5 else value
        elif r < 0.5:
            value = float(f"{rng.uniform(-50, 50):.{rng.randrange(5, 14)}f}")
        elif r < 0.7:
            value = float(f"{rng.uniform(-2, 2):.4f}") * float(f"{rng.uniform(-2, 2):.4f}")
        elif r < 0.8:
            value = rng.uniform(-1, 1) * 10.0 ** rng.randrange(-20, 16)
        else:
            value = rng.uniform(-1e3, 1e3)
        yield (-value if rng.random() < 0.5 else value), d


def test_rounding_in_floats_agrees_with_decimal_rounding_to_the_bit():
    """Rounding is found in floats where that is certain and in Decimal elsewhere: on 400,000 values,
    many of them at or next to a decimal half, the two give the same float, sign included."""
    import random

    from derive.steps import _decimal_half_up, _half_up

    rng = random.Random(20261203)
    for value, decimals in _near_halves(rng, 400_000):
        fast, reference = _half_up.__wrapped__(value, decimals), _decimal_half_up(value, decimals)
        assert (fast, math.copysign(1, fast)) == (reference, math.copysign(1, reference)), (value, decimals)


def test_exact_rounding_leaves_values_alone():
    assert EXACT.apply(1.4435499999999999) == 1.4435499999999999


@pytest.fixture(scope="module")
def lecture():
    return load_problem(PROBLEMS / "lecture-bp-3layer.yaml").solve()


def test_evaluate_without_overrides_reproduces_every_value(lecture):
    values = lecture.evaluate()
    assert values == lecture.values()


def test_evaluate_carries_an_overridden_value_through_later_steps(lecture):
    # A student's delta^3 of -0.03 instead of -0.0264: by hand, in the lecture's
    # 4-decimal mode, delta^2_1 = -0.03 * 1 * 0.9781 * (1 - 0.9781) = -0.000642609 -> -0.0006,
    # delta^2_2 = -0.03 * 0.5 * 0.9309 * 0.0691 = -0.000964886 -> -0.0010,
    # grad_w[3][1][1] = -0.03 * 0.9781 = -0.029343 -> -0.0293.
    values = lecture.evaluate({"delta[3][1]": -0.03})
    assert values["delta[2][1]"] == -0.0006
    assert values["delta[2][2]"] == -0.001
    assert values["grad_w[3][1][1]"] == -0.0293
    assert values["w_new[3][1][1]"] == 1.0293
    assert values["z[3][1]"] == lecture["z[3][1]"].value  # earlier steps are untouched


def test_every_step_comes_after_its_dependencies(lecture):
    seen = set()
    for step in lecture:
        assert set(step.deps) <= seen
        seen.add(step.key)


def test_repr_says_what_it_is(lecture):
    # 22 givens (x 3, y 1, w 6+4+2, theta 2+2+1, eta), the sigmoid derivative f'_2(x),
    # forward 10 (z 5, h 4, yhat), loss, 5 deltas, 17 gradients (w 12, theta 5),
    # 12 updated weights, after: 10 + loss + change. Sections: given, activation
    # derivatives, forward, loss, backward, gradients, update, after: forward, after: loss.
    assert repr(lecture) == "<Solution lecture-bp-3layer (mlp_backprop): 80 steps in 9 sections>"


def test_rounding_leaves_a_float_too_large_for_decimals_as_it_is():
    # 1.5e16 has no digits after the point in binary64 (its spacing is 2): nothing to round, no error.
    assert Rounding(2).apply(1.5e16) == 1.5e16
    assert Rounding(2).apply(-2.0 ** 60) == -2.0 ** 60
    assert Rounding(2).apply(123456789.126) == 123456789.13
