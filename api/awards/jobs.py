"""The award cycle's scheduled jobs (listed in api/outbox/registry.py)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session


def announce_due(session: Session, now: datetime) -> str:
    from api.awards import announce

    return f"{announce.announce_due(session, now)} cycle(s) announced"


def reminders(session: Session, now: datetime) -> str:
    from api.awards import reminders as r

    return f"{r.send_reminders(session, now)} reminder(s)"
