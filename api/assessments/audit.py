"""The audit trail of a submission: append-only rows saying who did what, when, from which state to
which, and why. Nothing in Cadre updates or deletes an entry (see the guard below)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlmodel import Session, select

from api.assessments.models import AuditEntry, Submission
from api.core.db import utcnow


def record(session: Session, submission: Submission, actor: Any, action: str, from_state: str | None,
           to_state: str | None, reason: str | None = None, data: dict[str, Any] | None = None) -> AuditEntry:
    """Append one entry. `actor` is a User, a user id, or None (the system: a job, a consumer)."""
    actor_id = getattr(actor, "id", actor)
    entry = AuditEntry(submission_id=submission.id, actor_id=actor_id, action=action, from_state=from_state,
                       to_state=to_state, reason=reason, data=dict(data or {}), at=utcnow())
    session.add(entry)
    session.flush()
    return entry


def trail(session: Session, submission_id: int) -> list[AuditEntry]:
    """A submission's entries, oldest first."""
    return list(session.exec(select(AuditEntry).where(AuditEntry.submission_id == submission_id)
                             .order_by(AuditEntry.at, AuditEntry.id)).all())


class AuditIsAppendOnly(RuntimeError):
    pass


@event.listens_for(AuditEntry, "before_update")
def _no_update(_mapper: Any, _conn: Any, target: AuditEntry) -> None:
    raise AuditIsAppendOnly(f"assessment_audit {target.id}: entries are never changed")


@event.listens_for(AuditEntry, "before_delete")
def _no_delete(_mapper: Any, _conn: Any, target: AuditEntry) -> None:
    raise AuditIsAppendOnly(f"assessment_audit {target.id}: entries are never deleted")
