"""Quadratic-weighted Cohen's kappa against values worked out by hand (the working is in each case)."""

from __future__ import annotations

import pytest

from api.assessments.kappa import mean_level_drift
from api.assessments.kappa import quadratic_weighted_kappa as qwk


def test_perfect_agreement_is_one():
    assert qwk([0, 1, 2, 3], [0, 1, 2, 3], [0, 1, 2, 3]) == 1.0


def test_agreement_no_better_than_chance_is_zero():
    # Two levels, every combination once: observed disagreement 0.5, expected 0.5 -> 1 - 0.5/0.5 = 0.
    assert qwk([0, 0, 1, 1], [0, 1, 0, 1], [0, 1]) == pytest.approx(0.0)


def test_a_worked_three_level_case_is_seven_elevenths():
    # Pairs (0,0) (1,2) (2,2) (2,1); weights (i-j)^2/4. Observed: 0.25*0.25 + 0.25*0.25 = 0.125.
    # Marginals a = b = [0.25, 0.25, 0.5]. Expected: 2*(0.25*0.25*0.25) + 2*(1*0.25*0.5) + 2*(0.25*0.25*0.5)
    # = 0.03125 + 0.25 + 0.0625 = 0.34375. Kappa = 1 - 0.125/0.34375 = 7/11.
    assert qwk([0, 1, 2, 2], [0, 2, 2, 1], [0, 1, 2]) == pytest.approx(7 / 11)


def test_opposite_extremes_are_minus_one():
    # (0,2) and (2,0), weight 1 each: observed 1; marginals [0.5, 0, 0.5]: expected 0.5 -> 1 - 2 = -1.
    assert qwk([0, 2], [2, 0], [0, 1, 2]) == pytest.approx(-1.0)


def test_levels_are_the_criterions_own_scores_not_positions():
    # Scores 0, 2, 4 are levels 0, 1, 2: the same as the 7/11 case.
    assert qwk([0, 2, 4, 4], [0, 4, 4, 2], [0, 2, 4]) == pytest.approx(7 / 11)


def test_undefined_and_empty_cases():
    assert qwk([], [], [0, 1, 2]) is None
    assert qwk([1, 1], [1, 1], [0, 1, 2]) == 1.0  # both gave one level to everything, and agree
    assert qwk([1, 1], [1, 2], [0, 1, 2]) == pytest.approx(0.0)
    with pytest.raises(ValueError):
        qwk([0, 1], [0], [0, 1])
    with pytest.raises(ValueError):
        qwk([0, 7], [0, 1], [0, 1])


def test_drift_is_signed_in_levels():
    assert mean_level_drift([3, 3, 2], [2, 2, 2], [0, 1, 2, 3]) == pytest.approx(2 / 3)
    assert mean_level_drift([0, 1], [2, 3], [0, 1, 2, 3]) == pytest.approx(-2.0)
    assert mean_level_drift([], [], [0, 1]) is None
