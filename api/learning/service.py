"""Enrolment: who may study what, the ladder's prerequisites, and changes of standing.

Flushes, never commits. Other domains (payments, organisations) call `enrol`, `suspend`,
`reinstate` and `cancel`; each is idempotent so a webhook delivered twice changes nothing twice.
"""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session, col, select

from api.catalog.models import Programme, ProgrammePrerequisite
from api.core.db import utcnow
from api.core.errors import Forbidden, NotFound
from api.learning.models import Enrolment, EnrolmentSource, EnrolmentStatus


class PrerequisiteMissing(Forbidden):
    code = "prerequisite_missing"

    def __init__(self, missing: list[Programme], programme: Programme):
        self.missing = missing
        names = ", ".join(f"{p.display_title} ({p.code})" for p in missing)
        super().__init__(f"{programme.display_title} expects you to hold {names} first. "
                         f"Start with {missing[0].display_title}, then come back to this level.")


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
    enrolment is returned unchanged; a cancelled or suspended one is reactivated."""
    programme = session.get(Programme, programme_id)
    if programme is None:
        raise NotFound("No such programme.")
    existing = get_enrolment(session, user_id, programme_id)
    if existing and existing.status in (EnrolmentStatus.active.value, EnrolmentStatus.completed.value):
        return existing
    if check_prerequisites:
        missing = missing_prerequisites(session, user_id, programme)
        if missing:
            raise PrerequisiteMissing(missing, programme)
    now = utcnow()
    until = now + timedelta(days=access_days) if access_days else None
    if existing:
        existing.status = EnrolmentStatus.active.value
        existing.source, existing.reference, existing.access_until = source.value, reference, until
        existing.status_reason, existing.granted_by_id, existing.updated_at = None, granted_by_id, now
        session.add(existing)
        session.flush()
        return existing
    enrolment = Enrolment(user_id=user_id, programme_id=programme_id, source=source.value, reference=reference,
                          access_until=until, granted_by_id=granted_by_id)
    session.add(enrolment)
    session.flush()
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
