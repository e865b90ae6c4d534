"""Double marking: a second coach marks; within the tolerance on every criterion the markers agree
automatically, otherwise an agreed mark (or a third marker's) with its rationale settles it."""

from __future__ import annotations

import pytest
from sqlmodel import select

from api.assessments import doublemark, moderation
from api.assessments.models import AuditEntry, MarkKind, State
from api.core.errors import Conflict, Forbidden, Invalid
from tests.assessments.factories import make_coach, submit_work
from tests.assessments.review_helpers import all_at, first_mark, set_moderation


@pytest.fixture
def double(db, people, enrol, acxp_brief):
    enrol(people["learner"])
    set_moderation(db, acxp_brief, double_marking=True, tolerance=1, sample_percent=0, min_count=0)
    return acxp_brief


def _second(db, sub):
    return doublemark._open(db, sub, MarkKind.second)


def test_tolerance_is_per_criterion_in_levels(db, double):
    from api.assessments import rubrics

    r = rubrics.current(db, double).rubric
    top, two, one = all_at(db, double, -1), all_at(db, double, 2), all_at(db, double, 1)
    assert doublemark.within_tolerance(r, top, two, 1) is True
    assert doublemark.within_tolerance(r, top, one, 1) is False
    assert doublemark.within_tolerance(r, top, one, 2) is True
    mixed = {**top, next(iter(top)): one[next(iter(top))]}  # one criterion two levels lower
    assert set(doublemark.level_gaps(r, top, mixed).values()) == {0, 2}


def test_within_tolerance_the_markers_agree_and_the_first_mark_stands(db, people, double):
    sub = first_mark(db, submit_work(db, people["learner"], double), people["coach"], all_at(db, double, -1))
    assert sub.state == State.awaiting_second_mark.value
    second = _second(db, sub)
    assert second is not None and second.marker_id != sub.allocated_coach_id
    first_id = sub.result_mark_id
    doublemark.submit_second(db, sub, db.get(type(people["coach"]), second.marker_id), all_at(db, double, 2))
    assert sub.state == State.ready_for_release.value and sub.result_mark_id == first_id
    assert db.exec(select(AuditEntry).where(AuditEntry.submission_id == sub.id,
                                            AuditEntry.action == "agreed_automatically")).first() is not None


def test_outside_tolerance_an_agreed_mark_with_its_rationale_settles_it(db, people, double):
    sub = first_mark(db, submit_work(db, people["learner"], double), people["coach"], all_at(db, double, -1))
    second_marker = db.get(type(people["coach"]), _second(db, sub).marker_id)
    with pytest.raises(Forbidden):  # not the second marker
        doublemark.submit_second(db, sub, make_coach(db), all_at(db, double, 0))
    doublemark.submit_second(db, sub, second_marker, all_at(db, double, 0))
    assert sub.state == State.awaiting_agreement.value
    with pytest.raises(Invalid):
        doublemark.settle(db, sub, people["admin"], {"admin"}, all_at(db, double, -1), "")
    with pytest.raises(Forbidden):
        doublemark.settle(db, sub, make_coach(db), {"coach"}, all_at(db, double, -1), "I think so")
    doublemark.settle(db, sub, second_marker, {"coach"}, all_at(db, double, -1),
                      "We compared the map with the brief: the first marker's reading is right.")
    agreed = moderation.result_mark(db, sub)
    assert agreed.kind == MarkKind.agreed.value and agreed.rationale.startswith("We compared")
    assert sub.state == State.ready_for_release.value
    with pytest.raises(Conflict):
        doublemark.settle(db, sub, second_marker, {"coach"}, all_at(db, double, -1), "again")


def test_a_third_marker_can_settle_a_disagreement(db, people, double):
    sub = first_mark(db, submit_work(db, people["learner"], double), people["coach"], all_at(db, double, -1))
    doublemark.submit_second(db, sub, db.get(type(people["coach"]), _second(db, sub).marker_id),
                             all_at(db, double, 0))
    third = make_coach(db, "Tess Third")
    with pytest.raises(Conflict):  # a marker cannot be the third marker
        doublemark.assign_third(db, sub, db.get(type(people["coach"]), sub.allocated_coach_id), people["admin"])
    doublemark.assign_third(db, sub, third, people["admin"])
    doublemark.settle(db, sub, third, {"coach"}, all_at(db, double, 0), "The evidence is not there.")
    assert moderation.result_mark(db, sub).kind == MarkKind.third.value
    assert sub.state == State.in_moderation.value  # a fail: moderated like any other


def test_a_second_mark_only_while_awaiting_one(db, people, double):
    set_moderation(db, double, double_marking=False)
    sub = first_mark(db, submit_work(db, people["learner"], double), people["coach"], all_at(db, double, -1))
    with pytest.raises(Conflict) as exc:
        doublemark.submit_second(db, sub, people["coach2"], all_at(db, double, -1))
    assert exc.value.code == "not_awaiting_second_mark"
