"""What cohorts tell people, by email through the outbox: session changes, reminders 24 h and 1 h
before, waitlist offers, messages from facilitators. Every time is in the reader's own zone."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from api.accounts.models import User
from api.catalog.models import Programme
from api.cohorts import service
from api.cohorts.models import Cohort, CohortSession, SessionStatus
from api.core import email as mail
from api.core.db import utcnow
from api.core.timezones import zone


def _audience(session: Session, cohort: Cohort) -> list[User]:
    seen: dict[int, User] = {u.id: u for u in service.learners_of(session, cohort)}
    for u in service.facilitators_of(session, cohort):
        seen.setdefault(u.id, u)
    return list(seen.values())


def session_changed(session: Session, cohort: Cohort, row: CohortSession, *, old_start: datetime | None) -> int:
    """Email the cohort that a session moved, was cancelled or was added (with the calendar link)."""
    programme = session.get(Programme, cohort.programme_id)
    kind = "cancelled" if row.status == SessionStatus.cancelled.value else ("added" if old_start is None else "moved")
    sent = 0
    for user in _audience(session, cohort):
        sent += mail.send_template(session, user.email, "cohorts/session_changed",
                                   key=f"session-changed:{row.uid}:{row.sequence}:{user.id}", name=user.full_name,
                                   zone=user.time_zone, cohort=cohort, programme=programme, s=row, kind=kind,
                                   old_start=old_start)
    return sent


def transferred(session: Session, seat, source: Cohort, target: Cohort) -> None:
    user = session.get(User, seat.user_id)
    programme = session.get(Programme, target.programme_id)
    mail.send_template(session, user.email, "cohorts/transferred", key=f"transferred:{seat.id}:{target.id}",
                       name=user.full_name, zone=user.time_zone, source=source, cohort=target, programme=programme,
                       sessions=service.sessions_of(session, target, include_cancelled=False))


def cohort_cancelled(session: Session, cohort: Cohort, *, by: User, moved_to: Cohort | None) -> None:
    """The facilitators hear once that the cohort is cancelled (learners get their refund or move email)."""
    programme = session.get(Programme, cohort.programme_id)
    for user in service.facilitators_of(session, cohort):
        mail.send_template(session, user.email, "cohorts/cohort_cancelled",
                           key=f"cohort-cancelled:{cohort.id}:{user.id}", name=user.full_name, cohort=cohort,
                           programme=programme, by=by, moved_to=moved_to)


REMINDERS = (("24h", timedelta(hours=24)), ("1h", timedelta(hours=1)))


def reminder_lead(now: datetime, starts_at: datetime, zone_name: str | None, soon: bool) -> str:
    """How a reminder opens, by the reader's calendar: "In an hour", "Today" for a session later on the
    reader's day (the day-ahead reminder of an evening session is sent that morning), else "Tomorrow"."""
    if soon:
        return "In an hour"
    tz = zone(zone_name)
    return "Today" if starts_at.astimezone(tz).date() == now.astimezone(tz).date() else "Tomorrow"


def send_reminders(session: Session, now: datetime | None = None) -> int:
    """Each learner and facilitator hears of each session 24 hours and 1 hour before it (once each,
    for its current time: a moved session is reminded of again)."""
    now = now or utcnow()
    sent = 0
    rows = session.exec(select(CohortSession).where(CohortSession.status == SessionStatus.scheduled.value,
                                                    col(CohortSession.starts_at) > now,
                                                    col(CohortSession.starts_at) <= now + timedelta(hours=24))
                        .order_by(col(CohortSession.starts_at))).all()
    for row in rows:
        cohort = session.get(Cohort, row.cohort_id)
        if cohort.status == "cancelled":
            continue
        programme = session.get(Programme, cohort.programme_id)
        which = "1h" if row.starts_at - now <= timedelta(hours=1) else "24h"
        for user in _audience(session, cohort):
            sent += mail.send_template(session, user.email, "cohorts/reminder",
                                       key=f"reminder:{which}:{row.uid}:{row.starts_at.isoformat()}:{user.id}",
                                       name=user.full_name, zone=user.time_zone, cohort=cohort, programme=programme,
                                       s=row, lead=reminder_lead(now, row.starts_at, user.time_zone, which == "1h"))
    return sent


def message_cohort(session: Session, cohort: Cohort, sender: User, subject: str, body: str) -> int:
    subject, body = subject.strip(), body.strip()
    from api.core.errors import Invalid

    if not subject or not body or len(subject) > 150 or len(body) > 5000:
        raise Invalid("Write a subject (up to 150 characters) and a message (up to 5,000).", code="bad_message")
    programme = session.get(Programme, cohort.programme_id)
    sent = 0
    stamp = utcnow().isoformat()
    for user in service.learners_of(session, cohort):
        sent += mail.send_template(session, user.email, "cohorts/message", key=f"message:{cohort.id}:{stamp}:{user.id}",
                                   name=user.full_name, sender=sender, cohort=cohort, programme=programme,
                                   subject_line=subject, message=body)
    return sent
