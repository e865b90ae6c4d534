"""Completing a programme: ONE function decides (`complete_if_met`), and it records the
`programme.completed` event exactly once; certificates consume it through the outbox
(api/certificates/consumers.py).

Rule: every requirement the programme declares in `completion` must be met:
- `lessons: all`: every current lesson is marked complete;
- `knowledge_checks: all`: every current knowledge check has a passed attempt;
- any other key (`assessments`, `attendance`, ...) is answered by the domain that owns it, through
  requirements.REQUIREMENTS ("module:function", imported when first needed, so learning imports none of
  those domains and no import circle can start here). A key nobody answers keeps the programme from
  completing, so a rule can never be met by accident.
A programme with nothing to study never completes. Completion is permanent: content added later
lowers the percentage shown but does not un-complete anyone.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from api.core.db import utcnow
from api.learning.models import Enrolment, EnrolmentStatus
from api.learning.progress import Progress
from api.outbox import service as outbox
from api.outbox.models import DomainEvent

PROGRAMME_COMPLETED = "programme.completed"



def outstanding(progress: Progress) -> list[str]:
    """What completion still needs, in words a learner understands; empty when it is met."""
    rule = progress.rule
    needs: list[str] = []
    if rule.get("lessons") == "all" and progress.lessons_done < progress.lessons_total:
        n = progress.lessons_total - progress.lessons_done
        needs.append(f"{n} lesson{'s' if n != 1 else ''} to complete")
    if rule.get("knowledge_checks") == "all" and progress.checks_passed < progress.checks_total:
        n = progress.checks_total - progress.checks_passed
        needs.append(f"{n} knowledge check{'s' if n != 1 else ''} to pass")
    needs.extend(progress.external)
    if progress.total == 0 and not needs:
        needs.append("lessons, which are being prepared")
    return needs


def record_event(session: Session, name: str, dedupe_key: str, payload: dict[str, Any]) -> DomainEvent | None:
    """Record a fact once and hand it to its consumers through the outbox, in this transaction.
    Returns the new event, or None when (name, dedupe_key) was recorded before."""
    return outbox.publish(session, name, dedupe_key, payload)


def complete_if_met(session: Session, enrolment: Enrolment, progress: Progress) -> bool:
    """THE decision. When the learner's active enrolment meets the programme's completion rule, mark
    it completed and record `programme.completed` (once per learner and programme, ever). True when
    this call completed the enrolment. Callers hold the enrolment row lock (see require_access)."""
    if enrolment.status != EnrolmentStatus.active.value or outstanding(progress):
        return False
    now = utcnow()
    programme = progress.programme
    enrolment.status = EnrolmentStatus.completed.value
    enrolment.completed_at = enrolment.completed_at or now
    enrolment.updated_at = now
    session.add(enrolment)
    session.flush()
    record_event(session, PROGRAMME_COMPLETED, f"user:{enrolment.user_id}:programme:{programme.id}", {
        "user_id": enrolment.user_id, "programme_id": programme.id, "programme_code": programme.code,
        "programme_slug": programme.slug, "enrolment_id": enrolment.id,
        "completed_at": enrolment.completed_at.isoformat(),
    })
    return True
