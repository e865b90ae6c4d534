"""The judging arithmetic against worked examples: weighted totals, z-scores with a judge whose
scores have no spread, rankings with ties, Kendall's tau-b and Krippendorff's alpha."""

from __future__ import annotations

import math

import pytest

from api.awards.judging import stats

# Krippendorff's own worked example ("Computing Krippendorff's alpha-reliability", 2011): four
# observers, twelve units, values 1-5, gaps where an observer gave nothing.
A = [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None]
B = [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3]
C = [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None]
D = [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None]
UNITS = [list(u) for u in zip(A, B, C, D, strict=True)]


def test_alpha_matches_krippendorffs_worked_example():
    assert stats.krippendorff_alpha(UNITS, "nominal") == pytest.approx(0.743, abs=0.001)
    assert stats.krippendorff_alpha(UNITS, "ordinal") == pytest.approx(0.815, abs=0.001)
    assert stats.krippendorff_alpha(UNITS, "interval") == pytest.approx(0.849, abs=0.001)


def test_alpha_perfect_agreement_is_one_and_nothing_pairable_is_none():
    assert stats.krippendorff_alpha([[3, 3], [5, 5], [1, 1]]) == pytest.approx(1.0)
    assert stats.krippendorff_alpha([[3, None], [None, 4]]) is None
    assert stats.krippendorff_alpha([[4, 4], [4, 4]]) is None  # no spread at all: undefined, not 1


def test_alpha_systematic_disagreement_is_below_zero():
    assert stats.krippendorff_alpha([[1, 5], [5, 1], [1, 5], [5, 1]]) < 0


def test_weighted_total_and_missing_criterion():
    assert stats.weighted_total({"impact": 8, "evidence": 5}, {"impact": 3, "evidence": 1}) == pytest.approx(7.25)
    with pytest.raises(ValueError):
        stats.weighted_total({"impact": 8}, {"impact": 3, "evidence": 1})


def test_normalisation_scales_spread_judges_and_centres_a_zero_spread_judge():
    totals = {("ann", "e1"): 9, ("ann", "e2"): 7, ("ann", "e3"): 5,
              ("bob", "e1"): 6, ("bob", "e2"): 5, ("bob", "e3"): 4,
              ("cat", "e1"): 6, ("cat", "e2"): 6, ("cat", "e3"): 6}
    out = stats.normalise(totals)
    assert out.scaled == ["ann", "bob"] and out.centred == ["cat"]
    assert "same total (6)" in out.notes["cat"] and "centred on the panel mean" in out.notes["cat"]
    # ann's and bob's spreads differ but their orders are the same: after z-scoring they agree exactly.
    for e in ("e1", "e2", "e3"):
        assert out.scores[("ann", e)] == pytest.approx(out.scores[("bob", e)])
    # cat's scores all sit at the panel mean.
    for e in ("e1", "e2", "e3"):
        assert out.scores[("cat", e)] == pytest.approx(out.panel_mean)
    assert out.panel_mean == pytest.approx(54 / 9)


def test_a_judge_with_one_score_is_centred_and_said_so():
    out = stats.normalise({("ann", "e1"): 9, ("ann", "e2"): 3, ("bob", "e1"): 4})
    assert out.centred == ["bob"] and "one score only" in out.notes["bob"]


def test_normalisation_can_change_the_order():
    # A judge with a wide spread dominates the raw means; once each judge's scale is taken out, the
    # narrow-spread judge's strong preference for y counts as much.
    totals = {("wide", "x"): 10.0, ("wide", "y"): 2.0, ("wide", "z"): 7.0,
              ("narrow", "x"): 4.0, ("narrow", "y"): 6.0, ("narrow", "z"): 4.5}
    raw = stats.entry_means(totals)
    norm = stats.entry_means(stats.normalise(totals).scores)
    assert stats.ranks(raw) == {"x": 1, "z": 2, "y": 3}
    assert stats.ranks(norm) == {"x": 1, "y": 2, "z": 3}
    assert stats.kendall_tau_b(raw, norm) == pytest.approx(1 / 3)


def test_ranks_share_ties():
    assert stats.ranks({"a": 5, "b": 7, "c": 7, "d": 1}) == {"b": 1, "c": 1, "a": 3, "d": 4}
    assert stats.ranks({"a": 0.1 + 0.2, "b": 0.3}) == {"a": 1, "b": 1}


def test_kendall_tau_b():
    assert stats.kendall_tau_b({"a": 1, "b": 2, "c": 3}, {"a": 10, "b": 20, "c": 30}) == pytest.approx(1)
    assert stats.kendall_tau_b({"a": 1, "b": 2, "c": 3}, {"a": 3, "b": 2, "c": 1}) == pytest.approx(-1)
    # with ties: scipy.stats.kendalltau([1, 2, 2, 3], [1, 3, 2, 4]) = 0.9128709...
    assert stats.kendall_tau_b({"a": 1, "b": 2, "c": 2, "d": 3}, {"a": 1, "b": 3, "c": 2, "d": 4}) == \
        pytest.approx(0.9128709, abs=1e-6)
    assert stats.kendall_tau_b({"a": 1}, {"a": 1}) is None


def test_dispersion():
    d = stats.dispersion([4, 6, 8])
    assert (d.count, d.mean, d.low, d.high, d.range) == (3, 6, 4, 8, 4)
    assert d.sd == pytest.approx(2.0)
    one = stats.dispersion([5])
    assert one.sd is None and one.range == 0
    assert math.isclose(stats.sample_sd([1, 1, 1]), 0)
