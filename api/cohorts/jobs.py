"""Cohorts' scheduled jobs (listed in api/outbox/registry.py)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session


def waitlist_and_holds(session: Session, now: datetime) -> str:
    from api.cohorts import seats, waitlist

    released = seats.expire_holds(session, now)
    done = waitlist.run_offers(session, now)
    return f"{released} hold(s) released, {done['lapsed']} offer(s) lapsed, {done['offered']} offer(s) sent"


def session_reminders(session: Session, now: datetime) -> str:
    from api.cohorts import notices

    return f"{notices.send_reminders(session, now)} reminder(s)"
