"""Interview slots, scheduled the way cohort sessions are: a wall-clock date and time in an IANA
zone (refused where a clock change skips or repeats it), the UTC instants derived, a calendar file
with a UID kept for good and a SEQUENCE that grows on every change (api/cohorts/calendar.py)."""

from __future__ import annotations

import secrets
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from icalendar import Event
from sqlmodel import Session, col, select

from api.awards.judging import service
from api.awards.judging.models import InterviewSlot, JudgingRound, RoundKind, RoundStatus
from api.cohorts.calendar import calendar_file
from api.core import timezones
from api.core.config import get_settings
from api.core.db import utcnow
from api.core.errors import Conflict, Invalid
from api.core.integrity import flush_unique


def slots_of(session: Session, rnd: JudgingRound) -> list[InterviewSlot]:
    return list(session.exec(select(InterviewSlot).where(InterviewSlot.round_id == rnd.id)
                             .order_by(col(InterviewSlot.starts_at))).all())


def slot_for(session: Session, rnd: JudgingRound, entry_id: int) -> InterviewSlot | None:
    return session.exec(select(InterviewSlot).where(InterviewSlot.round_id == rnd.id,
                                                    InterviewSlot.entry_id == entry_id)).first()


def schedule(session: Session, rnd: JudgingRound, entry_id: int, *, day: date, at: time, minutes: int,
             zone_name: str, meeting_url: str | None = None) -> InterviewSlot:
    """Schedule (or move) the interview of one shortlisted entry."""
    if rnd.kind != RoundKind.interview:
        raise Invalid("Only the interview round has interview slots.", code="not_interviews")
    if rnd.status == RoundStatus.closed:
        raise Conflict("The interviews are over: this round is closed.", code="round_closed")
    if entry_id not in service.entry_ids_in(session, rnd):
        raise Invalid("That entry was not shortlisted for interview.", code="not_shortlisted")
    if not timezones.is_zone(zone_name):
        raise Invalid(f"'{zone_name}' is not a time zone Cadre knows; choose one from the list.", code="bad_zone")
    problem = timezones.local_problem(day, at, zone_name)
    if problem:
        raise Invalid(problem.message, code=f"time_{problem.kind}")
    if not 10 <= minutes <= 240:
        raise Invalid("An interview lasts between 10 and 240 minutes.", code="bad_minutes")
    if meeting_url and not meeting_url.startswith("https://"):
        raise Invalid("The meeting link starts with https://.", code="bad_url")
    starts = timezones.to_utc(day, at, zone_name)
    row = slot_for(session, rnd, entry_id)
    if row is None:
        row = InterviewSlot(uid=f"interview-{secrets.token_hex(8)}", round_id=rnd.id, entry_id=entry_id,
                            local_date=day, local_start=at, minutes=minutes, time_zone=zone_name, starts_at=starts,
                            ends_at=starts + timedelta(minutes=minutes), meeting_url=meeting_url or None)
        if not flush_unique(session, row):
            raise Conflict("This interview was scheduled a moment ago; reload to see it.", code="slot_exists")
        return row
    row.local_date, row.local_start, row.minutes, row.time_zone = day, at, minutes, zone_name
    row.starts_at, row.ends_at = starts, starts + timedelta(minutes=minutes)
    row.meeting_url = meeting_url or None
    row.sequence += 1
    row.updated_at = utcnow()
    session.add(row)
    session.flush()
    return row


def ics(slot: InterviewSlot, title: str) -> bytes:
    """The slot's calendar file. `title` is what the viewer may know the entry as."""
    tz = ZoneInfo(slot.time_zone)
    event = Event()
    event.add("uid", f"{slot.uid}@cadre")
    event.add("sequence", slot.sequence)
    event.add("dtstamp", slot.updated_at)
    event.add("summary", f"Award interview: {title}")
    event.add("dtstart", datetime.combine(slot.local_date, slot.local_start).replace(tzinfo=tz))
    event.add("dtend", slot.ends_at.astimezone(tz))
    base = get_settings().base_url.rstrip("/")
    event.add("url", f"{base}/judging")
    if slot.meeting_url:
        event.add("location", slot.meeting_url)
    event.add("status", "CONFIRMED")
    return calendar_file(f"Award interview: {title}", [event], [slot.local_date.year])
