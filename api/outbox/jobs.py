"""The scheduled jobs' entry points (listed in registry.JOBS): thin calls into the owning domain.
Each takes (session, now), runs in one transaction, and returns a summary for the admin page."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session


def payments_sweep(session: Session, now: datetime) -> str:
    from api.payments import service

    done = service.sweep(session)
    return f"{done['expired']} checkout(s) closed, {done['suspended']} plan(s) paused"


def certificate_expiry_reminders(session: Session, now: datetime) -> str:
    from api.certificates import service

    return f"{service.send_expiry_reminders(session, now)} reminder(s)"


def instalment_reminders(session: Session, now: datetime) -> str:
    from api.payments import reminders

    return f"{reminders.send_upcoming(session, now)} reminder(s)"


def outbox_purge(session: Session, now: datetime) -> str:
    from api.outbox import service

    return f"{service.purge_done(session, now)} message(s) deleted"
