"""The pass rule: weighted percent, must-pass criteria, refer only while attempts remain, and the
fail_below floor."""

from __future__ import annotations

import pytest

from api.assessments import scoring
from api.assessments.models import Outcome


def crit(slug, weight=1, must=False, pass_score=None, levels=(0, 1, 2, 3)):
    c = {"slug": slug, "title": slug.title(), "weight": weight, "must_pass": must,
         "levels": [{"score": s, "label": str(s), "descriptor": "d"} for s in levels]}
    if pass_score is not None:
        c["pass_score"] = pass_score
    return c


RUBRIC = {"criteria": [crit("a", weight=2, must=True, pass_score=2), crit("b"), crit("c")],
          "pass_rule": {"pass_mark": 60, "fail_below": 25}}


def s(a, b, c):
    return {"a": {"score": a}, "b": {"score": b}, "c": {"score": c}}


@pytest.mark.parametrize(("scores", "attempt", "max_attempts", "percent", "outcome"), [
    (s(3, 3, 3), 1, 2, 100, Outcome.passed),
    (s(2, 2, 1), 1, 2, 58, Outcome.refer),      # (4+2+1)/12 = 58%: just under
    (s(2, 2, 2), 1, 2, 66, Outcome.passed),     # 8/12
    (s(1, 3, 3), 1, 2, 66, Outcome.refer),      # 66% but the must-pass criterion is below its pass score
    (s(1, 3, 3), 2, 2, 66, Outcome.fail),       # ...and on the last attempt it is a fail
    (s(0, 1, 1), 1, 2, 16, Outcome.fail),       # below fail_below: fail even with attempts left
    (s(3, 0, 0), 1, 2, 50, Outcome.refer),      # weights: criterion a counts double
])
def test_outcomes(scores, attempt, max_attempts, percent, outcome):
    res = scoring.result(RUBRIC, scores, attempt=attempt, max_attempts=max_attempts)
    assert (res.percent, res.outcome) == (percent, outcome)


def test_weights_change_the_result():
    unweighted = {**RUBRIC, "criteria": [crit("a", must=True, pass_score=2), crit("b"), crit("c")]}
    scores = s(3, 1, 1)  # weighted (6+1+1)/12 = 66% pass; unweighted 5/9 = 55% refer
    assert scoring.result(RUBRIC, scores, attempt=1, max_attempts=2).outcome is Outcome.passed
    assert scoring.result(unweighted, scores, attempt=1, max_attempts=2).outcome is Outcome.refer


def test_must_pass_is_named():
    res = scoring.result(RUBRIC, s(1, 3, 3), attempt=1, max_attempts=2)
    assert res.failed_must_pass == ["A"]


def test_problems_name_the_criterion():
    assert scoring.problems(RUBRIC, {"a": {"score": 7}}, complete=False) == {"a": "“7” is not a level of “A”."}
    assert set(scoring.problems(RUBRIC, {"a": {"score": 1}}, complete=True)) == {"b", "c"}
    assert "zzz" in scoring.problems(RUBRIC, {"zzz": {"score": 1}}, complete=False)


def test_boundary_distance():
    assert scoring.boundary_distance(RUBRIC, s(2, 2, 2)) == 1  # one level down on b crosses
    assert scoring.boundary_distance(RUBRIC, s(3, 3, 3)) == 2
