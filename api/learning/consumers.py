"""Learning's consumers of other domains' events (registered in api/outbox/registry.py).

When something completion depends on changes elsewhere (an assessment result is released, cohort
attendance is recorded), that domain publishes an event carrying `user_id` and `programme_id`, and
completion is decided again here, by the one function that decides it.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, select

from api.catalog.models import Programme
from api.learning import completion, progress
from api.learning.models import Enrolment, EnrolmentStatus


def recheck_completion(session: Session, payload: dict[str, Any]) -> None:
    """Decide completion again for (user_id, programme_id). Safe to run twice: completion happens
    once, and an enrolment that is not active (or no longer exists) is left alone."""
    programme = session.get(Programme, payload["programme_id"])
    if programme is None:
        return
    enrolment = session.exec(
        select(Enrolment).where(Enrolment.user_id == payload["user_id"], Enrolment.programme_id == programme.id)
        .with_for_update().execution_options(populate_existing=True)).first()
    if enrolment is None or enrolment.status != EnrolmentStatus.active.value:
        return
    completion.complete_if_met(session, enrolment, progress.load_one(session, enrolment.user_id, programme))
