"""Extensions: the learner asks with a reason and a new date and time in a zone; an admin or the
learner's coach approves or refuses with a reason; the deadline is an instant kept with its zone and
shown in the learner's zone; the learner is emailed."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from api.assessments import extensions, submissions
from api.assessments.review_models import ExtensionStatus
from api.core.errors import Conflict, Forbidden, Invalid

DEADLINE = datetime(2026, 12, 18, 23, 59, tzinfo=UTC)


@pytest.fixture
def draft(db, people, enrol, acxp_brief):
    enrol(people["learner"])
    sub = submissions.start(db, people["learner"], acxp_brief, "America/New_York")
    sub.deadline_at, sub.deadline_zone = DEADLINE, "Europe/London"
    db.add(sub)
    db.flush()
    return sub


def test_asked_and_approved_the_deadline_moves_with_its_zone(db, people, draft, mailbox):
    ext = extensions.request(db, draft, people["learner"], until_local=datetime(2027, 1, 8, 17, 0),
                             zone="America/New_York", reason="Our peak season runs until Christmas.")
    assert ext.status == ExtensionStatus.pending.value
    assert ext.requested_until == datetime(2027, 1, 8, 22, 0, tzinfo=UTC)  # 17:00 in New York, EST
    extensions.decide(db, ext, people["admin"], {"admin"}, approve=True, reason="Reasonable: approved.")
    db.refresh(draft)
    assert draft.deadline_at == datetime(2027, 1, 8, 22, 0, tzinfo=UTC) and draft.deadline_zone == "America/New_York"
    assert extensions.shown(draft, draft.deadline_at) == "Friday 8 January 2027, 17:00 (America/New_York)"
    db.commit()
    msgs = mailbox.to(people["learner"].email)
    approved = [m for m in msgs if "approved" in str(m["Subject"])]
    assert approved and "Friday 8 January 2027, 17:00 (America/New_York)" in mailbox.body(approved[-1])


def test_refused_the_deadline_stays_and_the_reason_is_mailed(db, people, draft, mailbox):
    ext = extensions.request(db, draft, people["learner"], until_local=datetime(2027, 3, 1, 12, 0),
                             zone="Europe/London", reason="Busy.")
    extensions.decide(db, ext, people["admin"], {"admin"}, approve=False, reason="Three months is too long.")
    db.refresh(draft)
    assert draft.deadline_at == DEADLINE
    db.commit()
    refused = [m for m in mailbox.to(people["learner"].email) if "refused" in str(m["Subject"])]
    assert refused and "Three months is too long." in mailbox.body(refused[-1])


def test_one_request_waits_at_a_time_and_decided_once(db, people, draft):
    ext = extensions.request(db, draft, people["learner"], until_local=datetime(2027, 1, 8, 17, 0),
                             zone="Europe/London", reason="Peak season.")
    with pytest.raises(Conflict) as exc:
        extensions.request(db, draft, people["learner"], until_local=datetime(2027, 1, 9, 17, 0),
                           zone="Europe/London", reason="Again.")
    assert exc.value.code == "already_pending"
    extensions.decide(db, ext, people["admin"], {"admin"}, approve=False, reason="No.")
    with pytest.raises(Conflict) as exc:
        extensions.decide(db, ext, people["admin"], {"admin"}, approve=True, reason="Yes after all.")
    assert exc.value.code == "already_decided"


def test_only_an_admin_or_the_learners_coach_decides(db, people, draft):
    ext = extensions.request(db, draft, people["learner"], until_local=datetime(2027, 1, 8, 17, 0),
                             zone="Europe/London", reason="Peak season.")
    for who, roles in ((people["coach"], {"coach"}), (people["other"], set())):
        with pytest.raises(Forbidden):
            extensions.decide(db, ext, who, roles, approve=True, reason="ok")
    draft.allocated_coach_id = people["coach"].id  # now it is this coach's learner
    assert extensions.may_decide(db, draft, people["coach"], {"coach"})


@pytest.mark.parametrize("kwargs, code", [
    ({"until_local": datetime(2026, 12, 10, 12, 0), "zone": "Europe/London", "reason": "x"}, "not_later"),
    ({"until_local": datetime(2027, 1, 8, 12, 0), "zone": "Mars/Olympus", "reason": "x"}, "bad_zone"),
    ({"until_local": datetime(2027, 1, 8, 12, 0), "zone": "Europe/London", "reason": " "}, "reason_required"),
])
def test_bad_requests_are_refused_and_change_nothing(db, people, draft, kwargs, code):
    with pytest.raises(Invalid) as exc:
        extensions.request(db, draft, people["learner"], **kwargs)
    assert exc.value.code == code and extensions.pending(db, draft) is None


def test_not_for_someone_else_or_after_submitting(db, people, draft):
    with pytest.raises(Forbidden):
        extensions.request(db, draft, people["other"], until_local=datetime(2027, 1, 8, 12, 0),
                           zone="Europe/London", reason="x")
    draft.state = "submitted"
    with pytest.raises(Conflict):
        extensions.request(db, draft, people["learner"], until_local=datetime(2027, 1, 8, 12, 0),
                           zone="Europe/London", reason="x")
