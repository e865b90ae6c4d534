"""Calibration: coaches mark exemplars with agreed marks before live marking ("mark next" and starting
a named submission refuse until then, saying what is left), and admins see each coach's drift from
the agreed marks and inter-marker agreement per criterion (kappa) by month."""

from __future__ import annotations

import pytest

from api.assessments import calibration, doublemark, moderation, queue
from api.assessments.models import MarkKind
from api.core.errors import Conflict
from tests.assessments.factories import submit_work
from tests.assessments.review_helpers import all_at, first_mark, set_moderation


@pytest.fixture
def exemplars(db, people, acxp_brief):
    a = calibration.create_exemplar(db, people["admin"], acxp_brief, title="Exemplar A: a utility's move journey",
                                    work="An SCO canvas for moving home...", agreed_scores=all_at(db, acxp_brief, 2),
                                    rationale="Solid but not deep.")
    b = calibration.create_exemplar(db, people["admin"], acxp_brief, title="Exemplar B: an insurer's claims",
                                    work="A moments of truth map...", agreed_scores=all_at(db, acxp_brief, 1))
    return a, b


def test_a_coach_is_refused_live_marking_until_calibrated(db, people, enrol, acxp_brief, exemplars):
    enrol(people["learner"])
    sub = submit_work(db, people["learner"], acxp_brief)
    coach = db.get(type(people["coach"]), sub.allocated_coach_id)
    for attempt in (lambda: queue.mark_next(db, coach), lambda: queue.start(db, sub, coach)):
        with pytest.raises(Conflict) as exc:
            attempt()
        assert exc.value.code == "calibration_needed"
        message = exc.value.message
        assert "ACXP" in message and "2 more" in message and "/coach/calibration" in message
    calibration.mark_exemplar(db, coach, exemplars[0], all_at(db, acxp_brief, 2))
    with pytest.raises(Conflict) as exc:
        queue.mark_next(db, coach)
    assert "1 more" in exc.value.message
    calibration.mark_exemplar(db, coach, exemplars[1], all_at(db, acxp_brief, 2))
    assert calibration.calibrated(db, coach)
    assert queue.mark_next(db, coach).id == sub.id


def test_no_exemplars_no_gate_and_retired_ones_do_not_count(db, people, acxp_brief, exemplars):
    assert not calibration.calibrated(db, people["coach"])
    for ex in exemplars:
        calibration.retire(db, ex)
    assert calibration.calibrated(db, people["coach"])


def test_an_exemplar_is_marked_once_and_compared_with_the_agreed_marks(db, people, acxp_brief, exemplars):
    from api.assessments import rubrics

    calibration.mark_exemplar(db, people["coach"], exemplars[0], all_at(db, acxp_brief, -1))
    with pytest.raises(Conflict):
        calibration.mark_exemplar(db, people["coach"], exemplars[0], all_at(db, acxp_brief, 2))
    rubric = rubrics.current(db, acxp_brief).rubric
    gaps = [c.gap for c in calibration.compare(rubric, all_at(db, acxp_brief, -1), exemplars[0].agreed_scores)]
    assert gaps == [1] * len(rubric["criteria"])  # one level more generous everywhere


def test_admins_see_drift_and_kappa_per_coach_and_criterion(db, people, acxp_brief, exemplars):
    a, b = exemplars
    calibration.mark_exemplar(db, people["coach"], a, all_at(db, acxp_brief, -1))  # +1 level
    calibration.mark_exemplar(db, people["coach"], b, all_at(db, acxp_brief, 2))  # +1 level
    calibration.mark_exemplar(db, people["coach2"], a, all_at(db, acxp_brief, 2))  # agrees
    calibration.mark_exemplar(db, people["coach2"], b, all_at(db, acxp_brief, 1))  # agrees
    rows = calibration.drift(db, acxp_brief)
    cora = [r for r in rows if r.coach.id == people["coach"].id]
    colm = [r for r in rows if r.coach.id == people["coach2"].id]
    assert cora and all(r.mean_drift == pytest.approx(1.0) and r.marks == 2 for r in cora)
    assert colm and all(r.mean_drift == 0 and r.kappa == pytest.approx(1.0) for r in colm)
    # Cora gave levels (3, 2) where (2, 1) was agreed, on levels 0-3 (weights d^2/9): observed
    # disagreement 1/9; marginals [0, 0, .5, .5] and [0, .5, .5, 0] give 1/36 + 1/9 + 1/36 = 1/6 by chance;
    # kappa = 1 - (1/9)/(1/6) = 1/3.
    assert all(r.kappa == pytest.approx(1 / 3) for r in cora)
    assert {r.month for r in rows} == {f"{a.created_at:%Y-%m}"}


def test_inter_marker_agreement_on_live_work(db, people, enrol, acxp_brief):
    enrol(people["learner"])
    set_moderation(db, acxp_brief, double_marking=True, tolerance=3, sample_percent=0, min_count=0)
    sub = first_mark(db, submit_work(db, people["learner"], acxp_brief), people["coach"], all_at(db, acxp_brief, -1))
    second = doublemark._open(db, sub, MarkKind.second)
    doublemark.submit_second(db, sub, db.get(type(people["coach"]), second.marker_id), all_at(db, acxp_brief, -1))
    rows = calibration.agreement(db, acxp_brief)
    assert rows and all(r.pairs == 1 for r in rows)
    assert len(rows) == len(moderation.rubric_of(db, sub)["criteria"])
