"""Cohorts' scheduled jobs (listed in api/outbox/registry.py)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session


def waitlist_and_holds(session: Session, now: datetime) -> str:
    from api.cohorts import catalogue, seats, waitlist

    released = seats.expire_holds(session, now)
    done = waitlist.run_offers(session, now)
    cards = ", programme cards refreshed" if catalogue.refresh_started(session, now) else ""
    return f"{released} hold(s) released, {done['lapsed']} offer(s) lapsed, {done['offered']} offer(s) sent{cards}"


def session_reminders(session: Session, now: datetime) -> str:
    from api.cohorts import notices

    return f"{notices.send_reminders(session, now)} reminder(s)"
