"""Moderation: which marking the sample takes (fails, refers, near the pass boundary, a minimum per
month, a random share), who moderates (never the marker, never a conflicted coach), and the three
decisions (confirm, adjust with a reason, send back), each allowed only from in_moderation."""

from __future__ import annotations

import pytest
from sqlmodel import select

from api.assessments import allocation, moderation, release
from api.assessments.models import AuditEntry, Mark, MarkKind, MarkStatus, State
from api.core.errors import Conflict, Forbidden, Invalid
from tests.assessments.factories import make_coach, submit_work
from tests.assessments.review_helpers import all_at, first_mark, set_moderation


@pytest.fixture
def ready(db, people, enrol, acxp_brief):
    """ACXP with no random share and no minimum, so only the rule under test sends work to moderation."""
    enrol(people["learner"])
    enrol(people["other"])
    set_moderation(db, acxp_brief, sample_percent=0, min_count=0)
    return acxp_brief


def _routed(db, sub) -> dict:
    entry = db.exec(select(AuditEntry).where(AuditEntry.submission_id == sub.id, AuditEntry.action == "routed")
                    .order_by(AuditEntry.id.desc())).first()
    return entry.data


def test_a_clear_pass_outside_the_sample_is_ready_for_release(db, people, ready):
    sub = first_mark(db, submit_work(db, people["learner"], ready), people["coach"], all_at(db, ready, -1))
    assert sub.state == State.ready_for_release.value
    assert _routed(db, sub)["moderated"] is False


@pytest.mark.parametrize("level, outcome", [(0, "fail"), (1, "refer")])
def test_every_fail_and_refer_goes_to_a_moderator_who_did_not_mark_it(db, people, ready, level, outcome):
    sub = first_mark(db, submit_work(db, people["learner"], ready), people["coach"], all_at(db, ready, level))
    assert sub.state == State.in_moderation.value
    assert outcome in _routed(db, sub)["reasons"]
    mod = moderation.moderation_mark(db, sub, draft_only=True)
    assert mod is not None and mod.marker_id != sub.allocated_coach_id
    assert mod.marker_id in (people["coach"].id, people["coach2"].id)


def test_marking_within_one_level_of_the_pass_boundary_is_moderated(db, people, ready):
    # Every criterion at level 2 of 0-3: a pass (66%), but one must-pass criterion a level lower fails it.
    sub = first_mark(db, submit_work(db, people["learner"], ready), people["coach"], all_at(db, ready, 2))
    assert moderation.result_mark(db, sub).outcome == "pass"
    assert sub.state == State.in_moderation.value and _routed(db, sub)["reasons"] == ["near_pass_boundary"]


def test_the_minimum_count_per_month_then_the_random_share(db, people, ready):
    set_moderation(db, ready, min_count=1, sample_percent=0)
    first = first_mark(db, submit_work(db, people["learner"], ready), people["coach"], all_at(db, ready, -1))
    assert first.state == State.in_moderation.value and _routed(db, first)["reasons"] == ["minimum_count"]
    second = first_mark(db, submit_work(db, people["other"], ready), people["coach"], all_at(db, ready, -1))
    assert second.state == State.ready_for_release.value  # the month's minimum is met
    # The random share: 100% takes everything, 0% nothing (the draw itself is secrets.randbelow).
    mark = moderation.result_mark(db, second)
    set_moderation(db, ready, sample_percent=100)
    assert moderation.sample_reasons(db, second, mark) == ["random_sample"]
    set_moderation(db, ready, sample_percent=10)
    assert moderation.sample_reasons(db, second, mark, draw=9) == ["random_sample"]
    assert moderation.sample_reasons(db, second, mark, draw=10) == []


def test_a_result_in_moderation_cannot_be_released(db, people, ready):
    sub = first_mark(db, submit_work(db, people["learner"], ready), people["coach"], all_at(db, ready, 0))
    with pytest.raises(Conflict) as exc:
        release.release(db, sub, people["admin"])
    assert exc.value.code == "not_ready_for_release"


def _in_moderation(db, people, brief, level=0):
    sub = first_mark(db, submit_work(db, people["learner"], brief), people["coach"], all_at(db, brief, level))
    mod = moderation.moderation_mark(db, sub, draft_only=True)
    marker = db.get(type(people["coach"]), sub.allocated_coach_id)
    moderator = db.get(type(people["coach"]), mod.marker_id)
    return sub, marker, moderator


def test_the_moderator_confirms_and_the_result_is_ready(db, people, ready):
    sub, _, moderator = _in_moderation(db, people, ready)
    first = moderation.result_mark(db, sub)
    moderation.confirm(db, sub, moderator, "Agree: the evidence is missing throughout.")
    assert sub.state == State.ready_for_release.value and sub.result_mark_id == first.id
    mod = db.exec(select(Mark).where(Mark.submission_id == sub.id, Mark.kind == MarkKind.moderation.value)).one()
    assert mod.status == MarkStatus.submitted.value and mod.scores == first.scores
    assert release.release(db, sub, people["admin"]).outcome == "fail"


def test_the_moderator_adjusts_with_a_reason_and_the_first_mark_is_kept(db, people, ready):
    sub, _, moderator = _in_moderation(db, people, ready)
    first = moderation.result_mark(db, sub)
    before = dict(first.scores)
    with pytest.raises(Invalid):
        moderation.adjust(db, sub, moderator, all_at(db, ready, -1), "  ")
    db.refresh(sub)
    assert sub.state == State.in_moderation.value  # nothing changed
    moderation.adjust(db, sub, moderator, all_at(db, ready, -1), "The canvas meets every criterion in full.")
    assert sub.state == State.ready_for_release.value and sub.result_mark_id != first.id
    db.refresh(first)
    assert first.scores == before and first.outcome == "fail"
    adjusted = moderation.result_mark(db, sub)
    assert adjusted.kind == MarkKind.moderation.value and adjusted.outcome == "pass"
    assert adjusted.rationale == "The canvas meets every criterion in full."
    assert release.release(db, sub, people["admin"]).outcome == "pass"


def test_sent_back_the_marker_marks_again_and_it_returns_to_the_same_moderator(db, people, ready, mailbox):
    sub, marker, moderator = _in_moderation(db, people, ready)
    with pytest.raises(Invalid):
        moderation.send_back(db, sub, moderator, "")
    moderation.send_back(db, sub, moderator, "Criterion 2 is scored below what the map shows; look again.")
    assert sub.state == State.sent_back.value
    db.commit()
    assert any("Moderation sent back" in s for s in mailbox.subjects(marker.email))
    first_mark(db, sub, marker, all_at(db, ready, -1))  # a new first mark, round 2
    assert sub.state == State.in_moderation.value
    assert _routed(db, sub)["reasons"] == ["re_marked_after_send_back"]
    assert moderation.moderation_mark(db, sub, draft_only=True).marker_id == moderator.id
    rounds = db.exec(select(Mark.round).where(Mark.submission_id == sub.id, Mark.kind == MarkKind.first.value)).all()
    assert sorted(rounds) == [1, 2]
    moderation.confirm(db, sub, moderator)
    assert sub.state == State.ready_for_release.value


def test_only_the_named_moderator_decides_and_never_the_marker(db, people, ready):
    sub, marker, moderator = _in_moderation(db, people, ready)
    stranger = make_coach(db, "Sam Stranger")
    for who in (marker, stranger):
        for act in (lambda u: moderation.confirm(db, sub, u), lambda u: moderation.send_back(db, sub, u, "why"),
                    lambda u: moderation.adjust(db, sub, u, all_at(db, ready, -1), "why")):
            with pytest.raises(Forbidden):
                act(who)
    with pytest.raises(Conflict) as exc:
        moderation.take(db, sub, stranger)
    assert exc.value.code == "moderation_taken"
    moderation.confirm(db, sub, moderator)
    with pytest.raises(Conflict) as exc:  # not in moderation any more
        moderation.confirm(db, sub, moderator)
    assert exc.value.code == "not_in_moderation"


def test_with_no_eligible_coach_it_waits_and_an_eligible_coach_takes_it(db, people, ready):
    # The only other coach declared a conflict with the learner: nobody can be given the moderation.
    allocation.declare_conflict(db, people["coach2"], people["learner"], "My sister")
    sub = submit_work(db, people["learner"], ready)
    sub = first_mark(db, sub, people["coach"], all_at(db, ready, 0))
    assert sub.state == State.in_moderation.value
    assert moderation.moderation_mark(db, sub, draft_only=True) is None
    assert moderation.queue_for(db, people["coach2"]) == []  # conflicted
    assert moderation.queue_for(db, people["coach"]) == []  # the marker
    newcomer = make_coach(db, "Nia Newcomer")
    rows = moderation.queue_for(db, newcomer)
    assert [r.sub.id for r in rows] == [sub.id] and rows[0].mine is False and rows[0].reasons == ["fail"]
    with pytest.raises(Forbidden):
        moderation.take(db, sub, people["coach"])  # the marker may not take their own work
    moderation.take(db, sub, newcomer)
    assert moderation.queue_for(db, newcomer)[0].mine is True
    moderation.confirm(db, sub, newcomer)
    assert sub.state == State.ready_for_release.value


def test_moderation_is_written_to_the_audit_trail(db, people, ready):
    sub, _, moderator = _in_moderation(db, people, ready)
    moderation.send_back(db, sub, moderator, "Look again at criterion 2.")
    actions = [e.action for e in db.exec(select(AuditEntry).where(AuditEntry.submission_id == sub.id)
                                         .order_by(AuditEntry.id)).all()]
    assert actions[-3:] == ["routed", "moderator_assigned", "moderation_sent_back"]
