"""Appeals: once, within the window, on a refer or a fail; re-marked by a coach who neither marked nor
moderated it, against the same rubric version; both marks kept; upheld changes the outcome."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from api.assessments import appeals, moderation, release
from api.assessments.models import Mark, MarkKind, State
from api.assessments.review_models import AppealStatus
from api.core.errors import Conflict, Forbidden, Invalid
from tests.assessments.factories import confirm_moderation, make_coach, submit_work
from tests.assessments.review_helpers import all_at, first_mark, set_moderation


@pytest.fixture
def failed(db, people, enrol, acxp_brief):
    """Lena's ACXP work marked a fail by one coach, confirmed by another, released; a third coach exists."""
    enrol(people["learner"])
    set_moderation(db, acxp_brief, sample_percent=0, min_count=0)
    sub = first_mark(db, submit_work(db, people["learner"], acxp_brief), people["coach"], all_at(db, acxp_brief, 0))
    confirm_moderation(db, sub)
    release.release(db, sub, people["admin"])
    people["coach3"] = make_coach(db, "Aoife Appeals")
    return sub


def test_an_upheld_appeal_changes_the_outcome_and_keeps_both_marks(db, people, failed, mailbox):
    sub = failed
    assert sub.outcome == "fail"
    appeal = appeals.lodge(db, sub, people["learner"], "Criterion 1 ignored my customer interviews.")
    assert sub.state == State.under_appeal.value
    involved = moderation.markers_of(db, sub) | {moderation.moderation_mark(db, sub).marker_id}
    assert appeal.marker_id == people["coach3"].id and appeal.marker_id not in involved
    mark = db.get(Mark, appeal.mark_id)
    assert mark.kind == MarkKind.appeal.value and mark.rubric_version_id == sub.rubric_version_id
    with pytest.raises(Forbidden):  # the first marker cannot decide the appeal
        appeals.decide(db, sub, people["coach"], all_at(db, failed_brief(db, sub), -1), "", "Because")
    decided = appeals.decide(db, sub, people["coach3"], all_at(db, failed_brief(db, sub), -1), "Well evidenced.",
                             "The interviews meet criterion 1 in full; every criterion is shown with depth.")
    assert decided.status == AppealStatus.upheld.value and decided.outcome_after == "pass"
    db.refresh(sub)
    assert sub.state == State.released.value and sub.outcome == "pass" and sub.result_mark_id == mark.id
    kinds = sorted(db.exec(select(Mark.kind).where(Mark.submission_id == sub.id)).all())
    assert kinds == ["appeal", "first", "moderation"]  # every mark kept
    db.commit()
    assert any("appeal" in s and "upheld" in s for s in mailbox.subjects(people["learner"].email))


def failed_brief(db, sub):
    from api.catalog.models import AssessmentBrief

    return db.get(AssessmentBrief, sub.brief_id)


def test_an_appeal_not_upheld_leaves_the_result(db, people, failed):
    sub = failed
    appeal = appeals.lodge(db, sub, people["learner"], "I disagree.")
    appeals.decide(db, sub, db.get(type(people["coach"]), appeal.marker_id), all_at(db, failed_brief(db, sub), 0),
                   "", "The map has fewer than six moments; the first mark is right.")
    db.refresh(sub)
    assert sub.state == State.released.value and sub.outcome == "fail"
    assert appeals.appeal_of(db, sub).status == AppealStatus.not_upheld.value


def test_twice_is_refused_clearly(db, people, failed):
    appeal = appeals.lodge(db, failed, people["learner"], "First appeal.")
    appeals.decide(db, failed, db.get(type(people["coach"]), appeal.marker_id),
                   all_at(db, failed_brief(db, failed), 0), "", "Stands.")
    with pytest.raises(Conflict) as exc:
        appeals.lodge(db, failed, people["learner"], "Second appeal.")
    assert exc.value.code == "already_appealed" and "appealed once" in exc.value.message


def test_after_the_window_is_refused_with_the_date(db, people, failed):
    late = failed.released_at + timedelta(days=15)  # ACXP allows 14 days
    with pytest.raises(Conflict) as exc:
        appeals.lodge(db, failed, people["learner"], "Late.", now=late)
    assert exc.value.code == "appeal_not_open" and "ended on" in exc.value.message
    assert failed.state == State.released.value
    ok = appeals.chance(db, failed, now=failed.released_at + timedelta(days=13))
    assert ok.open and "until" in ok.message


def test_only_the_learner_with_a_reason_and_not_a_pass(db, people, failed):
    with pytest.raises(Forbidden):
        appeals.lodge(db, failed, people["other"], "Not mine.")
    with pytest.raises(Invalid):
        appeals.lodge(db, failed, people["learner"], "   ")
    failed.outcome = "pass"
    assert appeals.chance(db, failed).open is False


def test_the_appeal_marker_must_be_new_to_the_work(db, people, failed):
    appeal = appeals.lodge(db, failed, people["learner"], "Please look again.")
    for coach in (people["coach"], people["coach2"]):  # the marker and the moderator
        with pytest.raises(Conflict):
            appeals.assign(db, failed, appeal, coach, people["admin"])


def test_a_coach_who_stopped_taking_work_is_not_given_the_re_mark(db, people, failed):
    """Of the eligible coaches, the appeal goes to one still taking work (the longest-standing first)."""
    from api.assessments import allocation

    newer = make_coach(db, "Nia Newer")
    allocation.set_capacity(db, people["coach3"], 10, False)  # Aoife has stopped taking new work
    appeal = appeals.lodge(db, failed, people["learner"], "Criterion 2 missed my failure-demand figures.")
    assert appeal.marker_id == newer.id
