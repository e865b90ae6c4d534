"""Scheduled jobs (registry.JOBS), each run at most once per slot across every worker.

A job's slots are `every` long, counted from the Unix epoch (a daily job's slot starts at 00:00
UTC). The first worker to insert the (job, slot) row runs it; the unique key makes every other
worker's insert a no-op (on PostgreSQL a racing insert waits for the first to commit, then finds
the row). The claim is committed before the job runs, so a job that fails is not retried within
its slot: the next slot runs it again, and its error is kept for the admin page.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import UTC, datetime

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from api.core.db import utcnow
from api.outbox import registry
from api.outbox.models import ScheduledRun

log = logging.getLogger("cadre.worker")
Sessions = Callable[[], AbstractContextManager[Session]]


def slot_of(now: datetime, job: registry.Job) -> datetime:
    period = int(job.every.total_seconds())
    return datetime.fromtimestamp(int(now.timestamp()) // period * period, tz=UTC)


def _claim_slot(session: Session, job: registry.Job, slot: datetime, worker: str, now: datetime) -> bool:
    if session.exec(select(ScheduledRun.id).where(ScheduledRun.job == job.name,
                                                  col(ScheduledRun.slot_start) == slot)).first():
        return False
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    stmt = insert(ScheduledRun).values(job=job.name, slot_start=slot, worker=worker[:80], started_at=now)
    stmt = stmt.on_conflict_do_nothing(index_elements=["job", "slot_start"]).returning(ScheduledRun.id)
    return session.execute(stmt).first() is not None


def run_job(sessions: Sessions, job: registry.Job, *, worker: str, now: datetime | None = None) -> bool:
    """Run `job` for the slot `now` falls in, unless some worker already has. True when this call ran it."""
    now = now or utcnow()
    slot = slot_of(now, job)
    with sessions() as session:
        claimed = _claim_slot(session, job, slot, worker, now)
        session.commit()
    if not claimed:
        return False
    result, error = None, None
    with sessions() as session:
        try:
            result = registry.resolve(job.run)(session, now)
            session.commit()
        except Exception as exc:
            session.rollback()
            error = traceback.format_exception_only(type(exc), exc)[-1].strip()[:2000]
            log.exception("scheduled job failed", extra={"job": job.name})
    with sessions() as session:
        run = session.exec(select(ScheduledRun).where(ScheduledRun.job == job.name,
                                                      col(ScheduledRun.slot_start) == slot)).one()
        run.finished_at, run.result, run.error = utcnow(), None if result is None else str(result)[:2000], error
        session.add(run)
        session.commit()
    return True


def run_due(sessions: Sessions, jobs: list[registry.Job] | None = None, *, worker: str,
            now: datetime | None = None) -> list[str]:
    """Every job whose current slot has not run yet; returns the names of those this call ran."""
    return [job.name for job in (registry.JOBS if jobs is None else jobs)
            if run_job(sessions, job, worker=worker, now=now)]
