"""Enrolment: who may study what, the ladder's prerequisites, and changes of standing.

Flushes, never commits. Other domains (payments, organisations) call `enrol`, `suspend`,
`reinstate` and `cancel`; each is idempotent so a webhook delivered twice changes nothing twice.
"""

from __future__ import annotations

from datetime import timedelta
from typing import NamedTuple

from sqlalchemy import func
from sqlmodel import Session, col, select

from api.accounts import service as accounts_service
from api.accounts.models import User
from api.catalog.models import Offer, Programme, ProgrammePrerequisite
from api.core import email as mail
from api.core.db import utcnow
from api.core.errors import Conflict, Forbidden, Invalid, NotFound
from api.core.integrity import flush_unique
from api.learning.models import Enrolment, EnrolmentSource, EnrolmentStatus


class PrerequisiteMissing(Forbidden):
    code = "prerequisite_missing"

    def __init__(self, missing: list[Programme], programme: Programme):
        self.missing = missing
        super().__init__(prerequisite_message(missing, programme))


class NotEnrolled(Forbidden):
    code = "not_enrolled"

    def __init__(self, programme: Programme, message: str | None = None, *, code: str | None = None):
        self.programme = programme
        super().__init__(message or not_enrolled_message(programme), code=code)


def holds_accreditation(session: Session, user_id: int, programme_ids: list[int]) -> set[int]:
    """Which of `programme_ids` the learner holds a *current* accreditation for: a certificate that
    is issued, not revoked, suspended or superseded, and not past its expiry. The one place the
    ladder asks this."""
    from api.certificates import service as certificates_service

    return certificates_service.has_current(session, user_id, programme_ids)


def missing_prerequisites(session: Session, user_id: int, programme: Programme) -> list[Programme]:
    required = session.exec(select(Programme).join(
        ProgrammePrerequisite, col(ProgrammePrerequisite.requires_id) == col(Programme.id)
    ).where(ProgrammePrerequisite.programme_id == programme.id).order_by(col(Programme.level))).all()
    held = holds_accreditation(session, user_id, [p.id for p in required])
    return [p for p in required if p.id not in held]


def get_enrolment(session: Session, user_id: int, programme_id: int) -> Enrolment | None:
    return session.exec(select(Enrolment).where(Enrolment.user_id == user_id,
                                                Enrolment.programme_id == programme_id)).first()


def enrol(session: Session, *, user_id: int, programme_id: int, source: EnrolmentSource,
          reference: str | None = None, access_days: int | None = None, check_prerequisites: bool = True,
          granted_by_id: int | None = None) -> Enrolment:
    """Give a learner access. Idempotent per (learner, programme): an existing active or completed
    enrolment with access is returned unchanged, one whose access ran out gets the new access, and a
    cancelled or suspended one is reactivated."""
    programme = session.get(Programme, programme_id)
    if programme is None:
        raise NotFound("No such programme.")
    existing = get_enrolment(session, user_id, programme_id)
    now = utcnow()
    until = now + timedelta(days=access_days) if access_days else None
    if existing and existing.status in (EnrolmentStatus.active.value, EnrolmentStatus.completed.value):
        if has_access(existing):
            return existing
        # Their access ran out and they bought (or were given) it again: the new access starts now. A
        # completed enrolment stays completed; the ladder was passed the first time.
        existing.source, existing.reference, existing.access_until = source.value, reference, until
        existing.granted_by_id, existing.updated_at = granted_by_id, now
        session.add(existing)
        session.flush()
        return existing
    if check_prerequisites:
        missing = missing_prerequisites(session, user_id, programme)
        if missing:
            raise PrerequisiteMissing(missing, programme)
    if existing:
        existing.status = EnrolmentStatus.active.value
        existing.source, existing.reference, existing.access_until = source.value, reference, until
        existing.status_reason, existing.granted_by_id, existing.updated_at = None, granted_by_id, now
        session.add(existing)
        session.flush()
        return existing
    enrolment = Enrolment(user_id=user_id, programme_id=programme_id, source=source.value, reference=reference,
                          access_until=until, granted_by_id=granted_by_id)
    if not flush_unique(session, enrolment):
        # Enrolled a moment ago by a request running alongside this one (a double click, two payment
        # events at once): that enrolment stands, as it would had it come first.
        return get_enrolment(session, user_id, programme_id)
    return enrolment


def _set_status(session: Session, enrolment: Enrolment, status: EnrolmentStatus, reason: str | None,
                only_from: set[EnrolmentStatus]) -> bool:
    if enrolment.status not in {s.value for s in only_from}:
        return False
    enrolment.status = status.value
    enrolment.status_reason = reason
    enrolment.updated_at = utcnow()
    session.add(enrolment)
    session.flush()
    return True


def suspend(session: Session, enrolment: Enrolment, reason: str) -> bool:
    """Pause access (e.g. an instalment failed past its grace period). True when it changed."""
    return _set_status(session, enrolment, EnrolmentStatus.suspended, reason, {EnrolmentStatus.active})


def reinstate(session: Session, enrolment: Enrolment, reason: str | None = None) -> bool:
    return _set_status(session, enrolment, EnrolmentStatus.active, reason, {EnrolmentStatus.suspended})


def cancel(session: Session, enrolment: Enrolment, reason: str) -> bool:
    """End access (e.g. a full refund). Progress records are kept."""
    return _set_status(session, enrolment, EnrolmentStatus.cancelled, reason,
                       {EnrolmentStatus.active, EnrolmentStatus.suspended, EnrolmentStatus.completed})


def has_access(enrolment: Enrolment | None) -> bool:
    if enrolment is None or enrolment.status not in (EnrolmentStatus.active.value, EnrolmentStatus.completed.value):
        return False
    return enrolment.access_until is None or enrolment.access_until > utcnow()


class AccessProblem(NamedTuple):
    """Why an enrolment gives no access right now: the words and the error code. Plain data, so a
    page can show it without making the error (which would mark its request refused)."""

    message: str | None
    code: str | None

    def error(self, programme: Programme) -> NotEnrolled:
        return NotEnrolled(programme, self.message, code=self.code)


def access_problem(enrolment: Enrolment | None, programme: Programme) -> AccessProblem | None:
    """Why this enrolment gives no access right now (None when it does)."""
    if has_access(enrolment):
        return None
    if enrolment is not None and enrolment.status == EnrolmentStatus.suspended.value:
        return AccessProblem(f"Your access to {programme.display_title} is paused"
                             f"{': ' + enrolment.status_reason if enrolment.status_reason else ''}. "
                             "Your progress is kept; contact us to restore it.", "enrolment_suspended")
    if enrolment is not None and enrolment.status in (EnrolmentStatus.active.value, EnrolmentStatus.completed.value):
        return AccessProblem(f"Your access to {programme.display_title} ended on "
                             f"{enrolment.access_until:%-d %B %Y}. Your progress is kept.", "access_expired")
    return AccessProblem(not_enrolled_message(programme), None)


def not_enrolled_message(programme: Programme) -> str:
    return f"You are not enrolled in {programme.display_title} ({programme.code}). See the programme page to enrol."


def prerequisite_message(missing: list[Programme], programme: Programme) -> str:
    names = ", ".join(f"{p.display_title} ({p.code})" for p in missing)
    return (f"{programme.display_title} expects you to hold {names} first. "
            f"Start with {missing[0].display_title}, then come back to this level.")


def require_access(session: Session, user_id: int, programme: Programme, *, lock: bool = False) -> Enrolment:
    """The learner's enrolment, or 403. `lock` takes the enrolment row for the rest of the
    transaction (SELECT ... FOR UPDATE on PostgreSQL; SQLite already runs one writer at a time), so
    one learner's completions and attempts in a programme happen one after another."""
    query = select(Enrolment).where(Enrolment.user_id == user_id, Enrolment.programme_id == programme.id)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    enrolment = session.exec(query).first()
    problem = access_problem(enrolment, programme)
    if problem:
        raise problem.error(programme)
    return enrolment


def is_free(session: Session, programme_id: int) -> bool:
    """Free means the programme has no current offers: anyone may enrol themselves."""
    return session.exec(select(Offer.id).where(Offer.programme_id == programme_id,
                                               col(Offer.retired_at).is_(None)).limit(1)).first() is None


def self_enrol(session: Session, user_id: int, programme: Programme) -> Enrolment:
    """The self-enrol button of a free programme. The ladder is checked first, so a learner who
    cannot enrol is told why before anything else."""
    existing = get_enrolment(session, user_id, programme.id)
    if has_access(existing):
        return existing
    missing = missing_prerequisites(session, user_id, programme)
    if missing:
        raise PrerequisiteMissing(missing, programme)
    if not is_free(session, programme.id):
        raise Conflict(f"{programme.display_title} is not free: it is bought from its programme page.",
                       code="not_free")
    if existing and existing.status == EnrolmentStatus.suspended.value:
        raise NotEnrolled(programme, "Your access to this programme is paused; contact us to restore it.",
                          code="enrolment_suspended")
    return enrol(session, user_id=user_id, programme_id=programme.id, source=EnrolmentSource.free)


def find_programme(session: Session, code_or_slug: str) -> Programme:
    """A programme by its code (ACXP, ACX-Mentor) or slug, case-insensitively: for admins and the CLI."""
    wanted = code_or_slug.strip().lower()
    found = session.exec(select(Programme).where(
        col(Programme.retired_at).is_(None),
        (func.lower(Programme.code) == wanted) | (col(Programme.slug) == wanted))).first()
    if found:
        return found
    raise NotFound(f"No programme has the code or slug '{code_or_slug}'.", code="programme_not_found")


def _learner(session: Session, email: str) -> User:
    user = accounts_service.get_by_email(session, email)
    if user is None:
        raise NotFound(f"No account uses {email.strip()}. Create it first (cadre users create).", code="user_not_found")
    return user


def grant(session: Session, *, email: str, programme: str, override: bool = False, access_days: int | None = None,
          granted_by_id: int | None = None, source: EnrolmentSource = EnrolmentSource.admin_grant) -> Enrolment:
    """An admin gives a learner a place (by email and programme code or slug). `override` skips the
    ladder check; without it a missing prerequisite is refused with the path to get there."""
    user = _learner(session, email)
    target = find_programme(session, programme)
    before = get_enrolment(session, user.id, target.id)
    had_access = before is not None and before.status in (EnrolmentStatus.active.value,
                                                          EnrolmentStatus.completed.value)
    enrolment = enrol(session, user_id=user.id, programme_id=target.id, source=source, access_days=access_days,
                      check_prerequisites=not override, granted_by_id=granted_by_id)
    # A checkout they still have open for it must not take their money now. (Imported here: payments
    # imports this module.)
    from api.payments import service as payments_service

    payments_service.close_open_checkouts(session, user.id, target.id,
                                          note="Closed: the learner was given the programme.")
    if not had_access:
        mail.send_template(session, user.email, "learning/enrolment_granted", name=user.full_name, programme=target,
                           access_until=enrolment.access_until)
    return enrolment


def get_enrolment_by_id(session: Session, enrolment_id: int) -> Enrolment:
    enrolment = session.get(Enrolment, enrolment_id)
    if enrolment is None:
        raise NotFound("No such enrolment.", code="enrolment_not_found")
    return enrolment


def cancel_with_reason(session: Session, enrolment: Enrolment, reason: str) -> bool:
    """An admin ends a learner's access; the reason is kept and so is their progress."""
    reason = " ".join(reason.split())
    if not reason:
        raise Invalid("Give a reason for cancelling: the learner's record keeps it.", code="reason_required")
    return cancel(session, enrolment, reason[:500])


def cancel_for(session: Session, *, email: str, programme: str, reason: str) -> tuple[Enrolment, bool]:
    """Cancel by email and programme code (the CLI). (enrolment, whether it changed)."""
    user = _learner(session, email)
    target = find_programme(session, programme)
    enrolment = get_enrolment(session, user.id, target.id)
    if enrolment is None:
        raise NotFound(f"{user.email} is not enrolled in {target.code}.", code="enrolment_not_found")
    return enrolment, cancel_with_reason(session, enrolment, reason)


def has_completed_a_lesson(session: Session, user_id: int, programme_id: int) -> bool:
    """Asked by organisations: a seat is the learner's for good once they finished any lesson of it."""
    from api.catalog.models import Lesson
    from api.learning.models import LessonCompletion

    return session.exec(select(LessonCompletion.id).join(Lesson, col(Lesson.id) == col(LessonCompletion.lesson_id))
                        .where(LessonCompletion.user_id == user_id, Lesson.programme_id == programme_id)
                        .limit(1)).first() is not None


def enrolments_of(session: Session, user_ids: list[int]) -> list[tuple[Enrolment, Programme]]:
    """The enrolments of a page of learners (asked by organisations' team page), by programme code."""
    if not user_ids:
        return []
    return list(session.exec(select(Enrolment, Programme)
                             .join(Programme, col(Programme.id) == col(Enrolment.programme_id))
                             .where(col(Enrolment.user_id).in_(user_ids)).order_by(Programme.code)))


def enrolled_user_ids(programme_id: int):
    """A subquery of the learners enrolled in a programme (for other domains' filters)."""
    return select(Enrolment.user_id).where(Enrolment.programme_id == programme_id,
                                           col(Enrolment.status).in_([EnrolmentStatus.active.value,
                                                                      EnrolmentStatus.completed.value]))
