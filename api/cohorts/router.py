"""JSON API for cohorts under /api/v1/cohorts: the upcoming cohorts of a live programme (choose one,
then POST /api/v1/payments/checkout with its id as `cohort`), and the cohorts the caller is in or runs."""

from __future__ import annotations

from fastapi import APIRouter

from api.accounts.deps import CurrentUser, OptionalUser
from api.cohorts import service
from api.cohorts.schemas import CohortPublic, SessionPublic
from api.core.db import SessionDep
from api.core.timezones import format_instant

router = APIRouter(prefix="/api/v1/cohorts", tags=["cohorts"])


def _public(card: service.CohortCard, slug: str, zone: str | None) -> CohortPublic:
    c = card.cohort
    return CohortPublic(id=c.public_id, programme=slug, title=c.title, status=c.status, time_zone=c.time_zone,
                        capacity=c.capacity, seats_left=card.seats_left, sessions=[SessionPublic(
                            uid=s.uid, title=s.title, status=s.status, local_date=s.local_date,
                            local_start=s.local_start, time_zone=s.time_zone, minutes=s.minutes,
                            starts_at=s.starts_at, ends_at=s.ends_at, shown=format_instant(s.starts_at, zone))
                            for s in card.sessions])


@router.get("/programmes/{slug}", response_model=list[CohortPublic], responses={404: {}, 422: {}})
def upcoming(slug: str, session: SessionDep, user: OptionalUser) -> list[CohortPublic]:
    """Open and full cohorts of a live programme whose first session is ahead, soonest first (bounded
    by the schedule: not paged)."""
    programme = service.live_programme(session, slug)
    return [_public(c, slug, user.time_zone if user else None) for c in service.upcoming_for(session, programme)]


@router.get("/mine", response_model=list[CohortPublic], responses={401: {}})
def mine(session: SessionDep, user: CurrentUser) -> list[CohortPublic]:
    """The cohorts the caller has a seat in, then those they facilitate."""
    seen: dict[int, object] = {}
    for c in service.my_cohorts(session, user.id) + service.cohorts_facilitated(session, user.id):
        seen.setdefault(c.id, c)
    cards = service.cards(session, list(seen.values()))
    return [_public(card, service.programme_of(session, card.cohort).slug, user.time_zone) for card in cards]
