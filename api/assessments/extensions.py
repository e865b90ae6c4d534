"""Extensions: a learner asks for a later submission deadline (a date and time in a zone, with a
reason); an admin or the learner's coach approves or refuses it with a reason, and the learner is
emailed. Deadlines are instants (UTC) kept with the zone they were set in, and shown in the learner's
zone. One request waits at a time per submission (a partial unique index)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import update
from sqlmodel import Session, col, select

from api.accounts.models import Role, User
from api.assessments import audit, times
from api.assessments.models import State, Submission
from api.assessments.review_models import Extension, ExtensionStatus
from api.core import email as mail
from api.core.db import utcnow
from api.core.errors import Conflict, Forbidden, Invalid
from api.core.integrity import flush_unique

MAX_REASON = 2_000
OPEN_STATES = (State.draft.value,)  # a deadline matters until the work is submitted


def coach_of(session: Session, sub: Submission) -> int | None:
    """The learner's coach for this brief: the one this attempt, or the attempt before it, is allocated to."""
    if sub.allocated_coach_id:
        return sub.allocated_coach_id
    prev = session.get(Submission, sub.previous_id) if sub.previous_id else None
    return prev.allocated_coach_id if prev else None


def may_decide(session: Session, sub: Submission, user: User, roles: set) -> bool:
    return Role.admin in roles or (user.id == coach_of(session, sub) and Role.coach in roles)


def pending(session: Session, sub: Submission) -> Extension | None:
    return session.exec(select(Extension).where(Extension.submission_id == sub.id,
                                                 Extension.status == ExtensionStatus.pending.value)).first()


def history(session: Session, sub: Submission) -> list[Extension]:
    return list(session.exec(select(Extension).where(Extension.submission_id == sub.id)
                             .order_by(col(Extension.created_at))).all())


def instant(local: datetime, zone: str) -> datetime:
    """A wall-clock time in `zone` as the instant it names."""
    return local.replace(tzinfo=ZoneInfo(zone)).astimezone(ZoneInfo("UTC"))


def request(session: Session, sub: Submission, learner: User, *, until_local: datetime, zone: str,
            reason: str) -> Extension:
    if sub.user_id != learner.id:
        raise Forbidden("Only the learner may ask for more time on their own work.", code="not_yours")
    if sub.state not in OPEN_STATES:
        raise Conflict("This work has already been submitted, so its deadline no longer applies.",
                       code="already_submitted")
    if sub.deadline_at is None:
        raise Conflict("This attempt has no deadline, so there is nothing to extend.", code="no_deadline")
    if times.valid_zone(zone) is None:
        raise Invalid(f"'{zone}' is not a time zone we know (e.g. Europe/London).", code="bad_zone")
    why = (reason or "").replace("\r\n", "\n").strip()
    if not why:
        raise Invalid("Say why you need more time.", code="reason_required")
    if len(why) > MAX_REASON:
        raise Invalid(f"The reason is limited to {MAX_REASON:,} characters.", code="reason_too_long")
    until = instant(until_local, zone)
    if until <= sub.deadline_at:
        raise Invalid(f"Ask for a time after your current deadline ({times.show(sub.deadline_at, zone)}).",
                      code="not_later")
    ext = Extension(submission_id=sub.id, user_id=learner.id, reason=why, deadline_before=sub.deadline_at,
                    requested_until=until, zone=zone)
    if not flush_unique(session, ext):
        raise Conflict("You already have a request waiting for a decision on this work.", code="already_pending")
    audit.record(session, sub, learner, "extension_requested", sub.state, sub.state, reason=why,
                 data={"extension_id": ext.id, "until": until.isoformat(), "zone": zone})
    return ext


def decide(session: Session, ext: Extension, decider: User, roles: set, *, approve: bool, reason: str) -> Extension:
    sub = session.get(Submission, ext.submission_id)
    if not may_decide(session, sub, decider, roles):
        raise Forbidden("Only an admin or the learner's coach decides an extension.", code="not_allowed")
    why = (reason or "").replace("\r\n", "\n").strip()
    if not why:
        raise Invalid("Give the reason for your decision: the learner reads it.", code="reason_required")
    now = utcnow()
    done = session.execute(update(Extension).where(Extension.id == ext.id,
                                                   Extension.status == ExtensionStatus.pending.value)
                           .values(status=(ExtensionStatus.approved if approve else ExtensionStatus.refused).value,
                                   decided_by_id=decider.id, decision_reason=why, decided_at=now)
                           .execution_options(synchronize_session=False)).rowcount
    if done != 1:
        raise Conflict("This request was decided a moment ago. Reload the page to see the decision.",
                       code="already_decided")
    session.refresh(ext)
    if approve:
        moved = session.execute(update(Submission).where(Submission.id == sub.id, Submission.version == sub.version)
                                .values(deadline_at=ext.requested_until, deadline_zone=ext.zone,
                                        version=Submission.version + 1, updated_at=now)
                                .execution_options(synchronize_session=False)).rowcount
        if moved != 1:
            raise Conflict("The submission changed a moment ago; nothing was decided. Reload and decide again.",
                           code="state_changed")
        session.refresh(sub)
    audit.record(session, sub, decider, "extension_approved" if approve else "extension_refused", sub.state,
                 sub.state, reason=why, data={"extension_id": ext.id, "until": ext.requested_until.isoformat()})
    _tell_learner(session, sub, ext, decider)
    return ext


def _tell_learner(session: Session, sub: Submission, ext: Extension, decider: User) -> None:
    from api.assessments.notify import _ctx

    learner = session.get(User, sub.user_id)
    zone = times.zone_of(sub.learner_zone, ext.zone)
    mail.send_template(session, learner.email, "assessments/extension_decided", key=f"assess-extension:{ext.id}",
                       name=learner.full_name, approved=ext.status == ExtensionStatus.approved.value,
                       deadline=times.show(sub.deadline_at, zone), decider=decider.full_name,
                       reason=ext.decision_reason, **_ctx(session, sub))


def waiting_for(session: Session, user: User, roles: set, limit: int = 100) -> list[tuple[Extension, Submission]]:
    """Requests this person may decide, oldest first."""
    rows = session.exec(select(Extension, Submission).join(Submission, Submission.id == Extension.submission_id)
                        .where(Extension.status == ExtensionStatus.pending.value)
                        .order_by(col(Extension.created_at)).limit(limit)).all()
    return [(e, s) for e, s in rows if may_decide(session, s, user, roles)]


def shown(sub: Submission, moment: datetime | None) -> str:
    return times.show(moment, times.zone_of(sub.learner_zone, sub.deadline_zone))


