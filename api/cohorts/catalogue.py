"""What the catalogue shows of cohorts: each live programme's next cohort open for booking
(registered in api/catalog/schedules.py). The home page and the catalogue are kept for anonymous
visitors, so every change that can move a next cohort calls `public_changed` (service.py)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import func
from sqlmodel import Session, col, select

from api.catalog.models import Programme
from api.cohorts.models import Cohort, CohortSession, CohortStatus, SessionStatus
from api.core.db import utcnow


def next_starts(session: Session, programmes: list[Programme], now: datetime | None = None) -> dict[int, date]:
    """{programme id: local date of the first session of its soonest cohort with seats to book}.
    One query for all the programmes."""
    ids = [p.id for p in programmes]
    if not ids:
        return {}
    now = now or utcnow()
    first = (select(CohortSession.cohort_id, func.min(CohortSession.starts_at).label("first"))
             .where(CohortSession.status == SessionStatus.scheduled.value).group_by(col(CohortSession.cohort_id))
             .subquery())
    rows = session.exec(
        select(Cohort.programme_id, CohortSession.local_date, first.c.first)
        .join(first, first.c.cohort_id == Cohort.id)
        .join(CohortSession, (col(CohortSession.cohort_id) == col(Cohort.id))
              & (col(CohortSession.starts_at) == first.c.first))
        .where(col(Cohort.programme_id).in_(ids), Cohort.status == CohortStatus.open.value, first.c.first > now)
        .order_by(first.c.first)).all()
    found: dict[int, date] = {}
    for programme_id, local_date, _first in rows:
        found.setdefault(programme_id, local_date)
    return found


# The worker's cohorts job runs every 5 minutes (api/outbox/registry.py): twice that catches every start.
STARTED_WINDOW = timedelta(minutes=10)


def refresh_started(session: Session, now: datetime) -> bool:
    """A cohort open for booking has just had its first session: the kept cards showing it as the next
    cohort are refreshed (no change to a cohort marks that moment, only time passing)."""
    first = (select(CohortSession.cohort_id, func.min(CohortSession.starts_at).label("first"))
             .where(CohortSession.status == SessionStatus.scheduled.value).group_by(col(CohortSession.cohort_id))
             .subquery())
    started = session.exec(select(Cohort.id).join(first, first.c.cohort_id == Cohort.id).where(
        Cohort.status == CohortStatus.open.value, first.c.first <= now,
        first.c.first > now - STARTED_WINDOW).limit(1)).first()
    if started is None:
        return False
    from api.cohorts.service import public_changed

    public_changed(session)
    return True
