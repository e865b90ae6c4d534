"""The waitlist: a full cohort takes names; a freed seat goes to the next person as an offer that
keeps the seat for them for OFFER_HOURS (it counts against capacity meanwhile), by email through the
worker; an offer not taken lapses and the seat goes to the next. Flushes, never commits."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from api.accounts.models import User
from api.catalog.models import Programme
from api.cohorts import service
from api.cohorts.models import Cohort, CohortStatus, WaitlistEntry, WaitStatus
from api.core import email as mail
from api.core import pagination
from api.core.db import utcnow
from api.core.errors import Conflict
from api.core.integrity import flush_unique

OFFER_HOURS = 24


def join(session: Session, cohort: Cohort, user: User) -> WaitlistEntry:
    if service.seat_of(session, cohort, user.id) is not None:
        raise Conflict("You already have a seat in this cohort, so there is no need to wait for one: it is on your "
                       "cohorts page.", code="already_seated")
    if cohort.status not in (CohortStatus.open.value, CohortStatus.full.value):
        raise Conflict(f"{cohort.title} is no longer taking enrolments, so its waitlist is closed. The programme's "
                       "page lists the cohorts still open.", code="cohort_closed")
    existing = entry_of(session, cohort, user.id)
    if existing is not None:
        return existing
    entry = WaitlistEntry(cohort_id=cohort.id, user_id=user.id)
    if not flush_unique(session, entry):
        return entry_of(session, cohort, user.id)
    return entry


def entry_of(session: Session, cohort: Cohort, user_id: int) -> WaitlistEntry | None:
    return session.exec(select(WaitlistEntry).where(
        WaitlistEntry.cohort_id == cohort.id, WaitlistEntry.user_id == user_id,
        col(WaitlistEntry.status).in_((WaitStatus.waiting.value, WaitStatus.offered.value)))).first()


def leave(session: Session, cohort: Cohort, user: User) -> None:
    entry = entry_of(session, cohort, user.id)
    if entry is not None:
        entry.status = WaitStatus.left.value
        session.add(entry)
        session.flush()


def position(session: Session, entry: WaitlistEntry) -> int:
    ahead = session.exec(select(WaitlistEntry.id).where(
        WaitlistEntry.cohort_id == entry.cohort_id, WaitlistEntry.status == WaitStatus.waiting.value,
        col(WaitlistEntry.created_at) < entry.created_at)).all()
    return len(ahead) + 1


def run_offers(session: Session, now: datetime | None = None) -> dict[str, int]:
    """Lapse offers that ran out, then offer every free seat to the next person waiting (scheduled job)."""
    now = now or utcnow()
    lapsed = session.exec(select(WaitlistEntry).where(WaitlistEntry.status == WaitStatus.offered.value,
                                                      col(WaitlistEntry.offer_expires_at) <= now)).all()
    for entry in lapsed:
        entry.status = WaitStatus.lapsed.value
        session.add(entry)
    session.flush()
    waiting_cohorts = session.exec(select(WaitlistEntry.cohort_id).where(
        WaitlistEntry.status == WaitStatus.waiting.value).distinct()).all()
    offered = 0
    for cohort_id in waiting_cohorts:
        cohort = service.lock_cohort(session, cohort_id)
        if cohort.status not in (CohortStatus.open.value, CohortStatus.full.value):
            continue
        free = cohort.capacity - service.taken(session, cohort.id, now)
        if free <= 0:
            continue
        queue = session.exec(select(WaitlistEntry).where(
            WaitlistEntry.cohort_id == cohort.id, WaitlistEntry.status == WaitStatus.waiting.value)
            .order_by(col(WaitlistEntry.created_at), col(WaitlistEntry.id)).limit(free)).all()
        programme = session.get(Programme, cohort.programme_id)
        for entry in queue:
            entry.status, entry.offered_at = WaitStatus.offered.value, now
            entry.offer_expires_at = now + timedelta(hours=OFFER_HOURS)
            session.add(entry)
            session.flush()
            user = session.get(User, entry.user_id)
            mail.send_template(session, user.email, "cohorts/waitlist_offer", key=f"waitlist-offer:{entry.id}",
                               name=user.full_name, zone=user.time_zone, cohort=cohort, programme=programme,
                               entry=entry)
            offered += 1
        service.refresh_status(session, cohort, now)
    return {"offered": offered, "lapsed": len(lapsed)}


WAITLIST_ORDER = pagination.Keyset(WaitlistEntry.created_at, WaitlistEntry.id, descending=False)


def entries(session: Session, cohort: Cohort, *, after: str | None = None,
            before: str | None = None) -> pagination.Page:
    query = select(WaitlistEntry).where(WaitlistEntry.cohort_id == cohort.id)
    page = pagination.paginate(session, query, WAITLIST_ORDER, after=after, before=before)
    users = {u.id: u for u in session.exec(select(User).where(col(User.id).in_([e.user_id for e in page.rows])))} \
        if page.rows else {}
    page.rows = [(e, users[e.user_id]) for e in page.rows]
    return page
