"""Allocation (equal share, caps, conflicts, override), marking (autosave version check, outcome,
blind marking), deadlines, release twice, reminders: each refusal is a clear 409/422 and changes
nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest

from api.assessments import allocation, marking, queue, release, submissions
from api.assessments.models import State, Submission
from api.core.db import utcnow
from api.core.errors import Conflict, Invalid
from tests.assessments.factories import mark_and_release, submit_work


def _learners(db, n):
    from api.accounts.models import User

    out = []
    for i in range(n):
        u = User(email=f"many{i}@example.com", full_name=f"Many {i}", password_hash="-")
        db.add(u)
        out.append(u)
    db.flush()
    return out


def test_equal_share_with_caps_and_the_pool(db, quick_people, acxp_brief):
    c1, c2 = quick_people["coach"], quick_people["coach2"]
    allocation.set_capacity(db, c2, 1, True)
    subs = [submit_work(db, u, acxp_brief) for u in _learners(db, 4)]
    by = [s.allocated_coach_id for s in subs]
    assert by.count(c2.id) == 1  # capped at one
    assert by.count(c1.id) == 3
    allocation.set_capacity(db, c1, 3, True)
    extra = submit_work(db, quick_people["other"], acxp_brief)
    assert extra.allocated_coach_id is None  # both at their caps: the shared pool
    assert queue.pool_size(db, c1) == 1


def test_a_coach_never_gets_a_learner_they_declared_a_conflict_with(db, quick_people, acxp_brief):
    c1, c2, learner = quick_people["coach"], quick_people["coach2"], quick_people["learner"]
    allocation.declare_conflict(db, c1, learner, "my sister")
    sub = submit_work(db, learner, acxp_brief)
    assert sub.allocated_coach_id == c2.id
    with pytest.raises(Conflict) as err:
        allocation.override(db, sub, c1, quick_people["admin"], "c2 is away")
    assert err.value.code == "conflict_of_interest"
    db.refresh(sub)
    assert sub.allocated_coach_id == c2.id
    # declaring a conflict later takes the work away from the coach
    allocation.declare_conflict(db, c2, learner, "met at a conference, now friends")
    db.refresh(sub)
    assert sub.allocated_coach_id is None
    assert queue.mark_next(db, c1) is None and queue.mark_next(db, c2) is None
    with pytest.raises(Conflict):
        allocation.declare_conflict(db, c2, learner, "again")


def test_admin_override_moves_work_and_is_audited(db, quick_people, acxp_brief):
    from api.assessments import audit

    sub = submit_work(db, quick_people["learner"], acxp_brief)
    target = quick_people["coach2"] if sub.allocated_coach_id == quick_people["coach"].id else quick_people["coach"]
    with pytest.raises(Conflict):
        allocation.override(db, sub, target, quick_people["admin"], "  ")
    allocation.override(db, sub, target, quick_people["admin"], "balancing the load")
    assert sub.allocated_coach_id == target.id
    assert audit.trail(db, sub.id)[-1].reason == "balancing the load"
    with pytest.raises(Conflict):
        allocation.override(db, sub, quick_people["other"], quick_people["admin"], "not a coach")


def _claimed(db, people, brief):
    sub = submit_work(db, people["learner"], brief)
    coach = db.get(type(people["coach"]), sub.allocated_coach_id)
    queue.start(db, sub, coach)
    return sub, coach


def test_autosave_never_overwrites_a_newer_save(db, quick_people, acxp_brief):
    sub, coach = _claimed(db, quick_people, acxp_brief)
    mark = marking.open_draft(db, sub, coach)
    loaded = mark.version
    marking.save(db, sub, coach, scores={}, feedback="tab one", version=loaded, rubric_version_id=sub.rubric_version_id)
    with pytest.raises(Conflict) as err:
        marking.save(db, sub, coach, scores={}, feedback="tab two, stale", version=loaded,
                     rubric_version_id=sub.rubric_version_id)
    assert err.value.code == "stale_mark" and "another tab" in err.value.message
    db.refresh(mark)
    assert mark.feedback == "tab one"


def test_a_mark_needs_every_criterion_and_feedback(db, quick_people, acxp_brief):
    sub, coach = _claimed(db, quick_people, acxp_brief)
    with pytest.raises(Invalid) as err:
        marking.submit(db, sub, coach, scores={}, feedback="", version=None, rubric_version_id=None)
    assert "Choose a level" in err.value.message
    with pytest.raises(Invalid):
        marking.save(db, sub, coach, scores={"need-category-and-sco": {"score": 9}}, feedback="", version=None,
                     rubric_version_id=None)
    assert db.get(Submission, sub.id).state == State.in_marking.value


def test_withdraw_only_until_marking_starts(db, quick_people, acxp_brief):
    sub, _ = _claimed(db, quick_people, acxp_brief)
    with pytest.raises(Conflict) as err:
        submissions.withdraw(db, sub, quick_people["learner"])
    assert err.value.code == "marking_started"
    assert sub.state == State.in_marking.value


def test_release_twice_is_refused_and_changes_nothing(db, quick_people, acxp_brief):
    sub = mark_and_release(db, submit_work(db, quick_people["learner"], acxp_brief), quick_people["coach"])
    version, released_at = sub.version, sub.released_at
    with pytest.raises(Conflict) as err:
        release.release(db, sub, quick_people["admin"])
    assert err.value.code == "already_released"
    db.refresh(sub)
    assert (sub.version, sub.released_at) == (version, released_at)


def test_refer_then_a_late_resubmission_is_refused(db, quick_people, acxp_brief):
    learner = quick_people["learner"]
    first = mark_and_release(db, submit_work(db, learner, acxp_brief), quick_people["coach"], "second")
    assert first.outcome == "refer" and first.resubmit_by > utcnow() + timedelta(days=27)
    assert first.resubmit_zone == "Europe/London"
    second = submissions.start(db, learner, acxp_brief)
    submissions.save_draft(db, second, learner, text="revised", version=second.version)
    with pytest.raises(Conflict) as err:
        submissions.submit(db, second, learner, authentic=True, anonymised=True,
                           now=first.resubmit_by + timedelta(minutes=1))
    assert err.value.code == "deadline_passed" and "(Europe/London)" in err.value.message
    assert db.get(Submission, second.id).state == State.draft.value
    # on time it goes; the last attempt cannot be referred again: a low mark is a fail
    submissions.submit(db, second, learner, authentic=True, anonymised=True)
    second = mark_and_release(db, second, quick_people["coach"], "second")
    assert second.outcome == "fail"
    with pytest.raises(Conflict):
        submissions.start(db, learner, acxp_brief)


def test_declarations_and_something_to_submit_are_required(db, quick_people, acxp_brief):
    learner = quick_people["learner"]
    sub = submissions.start(db, learner, acxp_brief)
    with pytest.raises(Invalid) as err:
        submissions.submit(db, sub, learner, authentic=False, anonymised=False)
    msg = err.value.message
    assert "authenticity" in msg and "anonymised" in msg and "nothing to submit" in msg
    assert db.get(Submission, sub.id).state == State.draft.value


def test_blind_marking_hides_the_name(db, quick_people, acxp_brief):
    from api.assessments import views

    sub, coach = _claimed(db, quick_people, acxp_brief)
    from api.assessments.access import Relation

    screen = views.marking_screen(db, sub, coach, Relation.marker)
    assert screen.learner_label.startswith("Candidate ") and "Lena" not in screen.learner_label


def test_reminders_before_the_deadline_and_when_overdue(db, quick_people, acxp_brief, mailbox):
    sub = submit_work(db, quick_people["learner"], acxp_brief)
    coach_email = db.get(type(quick_people["coach"]), sub.allocated_coach_id).email
    assert queue.send_reminders(db) == "0 due-soon and 0 overdue marking reminders queued"
    soon = queue.send_reminders(db, sub.marking_due_at - timedelta(days=1))
    assert soon == "1 due-soon and 0 overdue marking reminders queued"
    late = queue.send_reminders(db, sub.marking_due_at + timedelta(hours=1))
    assert late == "0 due-soon and 1 overdue marking reminders queued"
    db.commit()
    subjects = mailbox.subjects(coach_email)
    assert any(s.startswith("Overdue: marking for ACXP") for s in subjects), subjects
    assert any(s.startswith("Due soon: marking for ACXP") for s in subjects), subjects
    assert queue.overdue(db, None, sub.marking_due_at + timedelta(hours=1))[0].id == sub.id
    assert "0 due-soon and 0 overdue" in queue.send_reminders(db, sub.marking_due_at + timedelta(hours=2))


def test_marking_due_is_ten_working_days(db, quick_people, acxp_brief):
    sub = submit_work(db, quick_people["learner"], acxp_brief)
    days = (sub.marking_due_at - sub.submitted_at).days
    start = sub.submitted_at.astimezone(__import__("zoneinfo").ZoneInfo("Europe/London")).weekday()
    assert days == {5: 13, 6: 12}.get(start, 14)  # from a weekday, ten working days span two weekends
    assert sub.marking_due_at.astimezone(__import__("zoneinfo").ZoneInfo("Europe/London")).weekday() < 5


def test_the_admin_list_comes_a_page_at_a_time(db, client, people, as_user, acxp_brief):
    from api.core import pagination

    for u in _learners(db, pagination.PAGE_SIZE + 2):
        submit_work(db, u, acxp_brief)
    db.commit()
    as_user(people["admin"])
    first = client.get("/admin/assessments").text
    assert first.count('action="/admin/assessments/') >= pagination.PAGE_SIZE and 'rel="next"' in first
    nxt = first.split('rel="next" href="')[1].split('"')[0].replace("&amp;", "&")
    second = client.get(nxt).text
    assert second.count("/allocate") == 2 and "First page" in second
