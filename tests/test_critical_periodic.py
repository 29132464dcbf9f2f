"""A periodic loss has an infinite critical set: the exact points are called a sample, with the periods, and
the numeric points that are exact ones shifted by whole periods are said to be so. Held to the critical
points of sin(w1) cos(w2) worked out here by hand."""

import math

import pytest

from derive.kinds.critical_points import analysis_of
from derive.problem import load_problem
from derive.render import render

PERIODIC = """\
kind: critical_points
title: a periodic loss
parameters: [w1, w2]
loss: sin(w1) cos(w2)
"""
TWO_PI = 2 * math.pi
# ∂L/∂w1 = cos w1 cos w2 = 0 and ∂L/∂w2 = -sin w1 sin w2 = 0: cos w1 = 0 and sin w2 = 0, or cos w2 = 0 and
# sin w1 = 0; in [0, 2π)²:
BY_HAND = sorted([(a, b) for a in (math.pi / 2, 3 * math.pi / 2) for b in (0.0, math.pi)]
                 + [(a, b) for a in (0.0, math.pi) for b in (math.pi / 2, 3 * math.pi / 2)])


def gradient(w1, w2):
    return (math.cos(w1) * math.cos(w2), -math.sin(w1) * math.sin(w2))


@pytest.fixture(scope="module")
def problem(tmp_path_factory):
    path = tmp_path_factory.mktemp("periodic") / "periodic.yaml"
    path.write_text(PERIODIC, encoding="utf-8")
    return load_problem(str(path))


def test_the_exact_points_are_one_period_of_the_hand_worked_set(problem):
    analysis = analysis_of(problem)
    exact = sorted(tuple(float(c) for c in p.coordinates) for p in analysis.points if not p.numeric)
    assert len(exact) == len(BY_HAND)
    for point, by_hand in zip(exact, BY_HAND):
        assert point == pytest.approx(by_hand, abs=1e-12)


def test_every_numeric_point_is_an_exact_one_shifted_by_whole_periods(problem):
    numeric = [tuple(float(c) for c in p.coordinates) for p in analysis_of(problem).points if p.numeric]
    assert numeric  # the search in [-2, 2]² finds (-π/2, 0) and (0, -π/2)
    for w1, w2 in numeric:
        assert max(map(abs, gradient(w1, w2))) < 1e-9
        assert (w1 % TWO_PI, w2 % TWO_PI) in [pytest.approx(p, abs=1e-9) for p in BY_HAND]


def test_the_notes_say_what_is_exact_and_what_is_a_sample(problem, golden):
    notes = analysis_of(problem).notes
    assert notes[0].startswith("∇L = 0 solved exactly by SymPy: the point (0, 1/2·pi), ")
    assert notes[0].endswith("; these are a sample: L is periodic (period 2 pi in w1 and 2 pi in w2), so the "
                             "critical set is infinite, every critical point shifted by whole periods being one "
                             "too; SymPy's points lie in [0, 2 pi) x [0, 2 pi)")
    assert notes[1] == ("the numeric search in [-2, 2] x [-2, 2] found 2 more critical point(s) (each an exact "
                        "point shifted by whole periods); they are listed as NUMERIC points")
    assert not any("critical set (" in note for note in notes)
    golden("critical-periodic.txt", render(problem.solve(), "text"))


def test_a_loss_that_is_not_periodic_keeps_its_critical_set():
    notes = analysis_of(load_problem("lecture-saddle")).notes
    assert any(note.startswith("critical set (∇L = 0 solved exactly by SymPy): ") for note in notes)
    assert not any("periodic" in note for note in notes)
