"""Calendars (iCalendar, with the `icalendar` library): one session as a download, and each person's
private feed (their cohorts as learner and as facilitator). Each session keeps its UID for good; its
SEQUENCE grows on every change; times are the cohort's wall-clock time with its TZID, and the
VTIMEZONE is written for just the years the sessions span (small files); a cancelled session stays in
the feed as STATUS:CANCELLED so calendars remove it.

Feeds are private addresses: a random token (its digest stored), revocable (a new one replaces it).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import date, datetime
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event
from sqlmodel import Session, col, select

from api.accounts.models import User
from api.catalog.models import Programme
from api.cohorts import service
from api.cohorts.models import CalendarFeed, Cohort, CohortSession, SessionStatus
from api.core.config import get_settings
from api.core.db import utcnow
from api.core.security import new_token, token_digest

PRODID = "-//Cadre//Cohorts//EN"


def _event(row: CohortSession, cohort: Cohort, programme: Programme, base: str) -> Event:
    tz = ZoneInfo(row.time_zone)
    event = Event()
    event.add("uid", f"{row.uid}@cadre")
    event.add("sequence", row.sequence)
    event.add("dtstamp", row.updated_at)
    event.add("summary", f"{programme.display_title}: {row.title}")
    start = datetime.combine(row.local_date, row.local_start).replace(tzinfo=tz)
    event.add("dtstart", start)
    event.add("dtend", row.ends_at.astimezone(tz))
    event.add("url", f"{base}/cohorts/{cohort.public_id}")
    event.add("description", f"{cohort.title}. Join from your cohort page: {base}/cohorts/{cohort.public_id}")
    event.add("status", "CANCELLED" if row.status == SessionStatus.cancelled.value else "CONFIRMED")
    return event


def calendar_file(name: str, events: list[Event], years: list[int]) -> bytes:
    """A calendar of `events` with the VTIMEZONEs they need for `years` (also used by award interviews)."""
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", name)
    for event in events:
        cal.add_component(event)
    if years:
        cal.add_missing_timezones(first_date=date(min(years), 1, 1), last_date=date(max(years) + 1, 1, 1))
    return cal.to_ical()


def build(session: Session, rows: list[tuple[CohortSession, Cohort]], name: str) -> bytes:
    base = get_settings().base_url.rstrip("/")
    programmes: dict[int, Programme] = {}
    events = []
    for row, cohort in rows:
        programme = programmes.setdefault(cohort.programme_id, session.get(Programme, cohort.programme_id))
        events.append(_event(row, cohort, programme, base))
    return calendar_file(name, events, [r.local_date.year for r, _ in rows])


def session_ics(session: Session, row: CohortSession, cohort: Cohort) -> bytes:
    return build(session, [(row, cohort)], f"{cohort.title}: {row.title}")


def feed_rows(session: Session, user_id: int) -> list[tuple[CohortSession, Cohort]]:
    cohorts = {c.id: c for c in service.my_cohorts(session, user_id) + service.cohorts_facilitated(session, user_id)}
    if not cohorts:
        return []
    rows = session.exec(select(CohortSession).where(col(CohortSession.cohort_id).in_(list(cohorts)))
                        .order_by(col(CohortSession.starts_at))).all()
    return [(r, cohorts[r.cohort_id]) for r in rows]


def feed_ics(session: Session, user: User) -> bytes:
    return build(session, feed_rows(session, user.id), "Cadre cohorts")


def current_feed(session: Session, user: User) -> CalendarFeed | None:
    return session.exec(select(CalendarFeed).where(CalendarFeed.user_id == user.id,
                                                   col(CalendarFeed.revoked_at).is_(None))).first()


def token_of(feed: CalendarFeed) -> str:
    """The feed's address token: keyed with the app secret, so a leaked table gives no working feed."""
    raw = hmac.new(get_settings().secret_key.encode(), f"calendar-feed:{feed.id}:{feed.user_id}:{feed.nonce}".encode(),
                   hashlib.sha256).digest()
    return base64.urlsafe_b64encode(raw[:24]).decode().rstrip("=")


def new_feed(session: Session, user: User) -> str:
    """A new private feed address; any earlier one stops working at once. Returns the token."""
    revoke(session, user)
    feed = CalendarFeed(user_id=user.id, nonce=new_token(16), token_digest=new_token(16))
    session.add(feed)
    session.flush()
    feed.token_digest = token_digest(token_of(feed))
    session.add(feed)
    session.flush()
    return token_of(feed)


def feed_token(session: Session, user: User) -> str | None:
    feed = current_feed(session, user)
    return token_of(feed) if feed else None


def revoke(session: Session, user: User) -> None:
    now = utcnow()
    for old in session.exec(select(CalendarFeed).where(CalendarFeed.user_id == user.id,
                                                       col(CalendarFeed.revoked_at).is_(None))):
        old.revoked_at = now
        session.add(old)
    session.flush()


def user_for_token(session: Session, token: str) -> User | None:
    if not token or len(token) > 100:
        return None
    feed = session.exec(select(CalendarFeed).where(CalendarFeed.token_digest == token_digest(token),
                                                   col(CalendarFeed.revoked_at).is_(None))).first()
    return session.get(User, feed.user_id) if feed else None
