"""The outbox's rules and queries: enqueue (in the caller's transaction), claim a batch under a
lease, complete, fail with backoff, dead letters and their retry, events, stats. Flushes, never
commits: the worker (worker.py) owns its transactions, a request's dependency owns the request's.

Claiming: on PostgreSQL `SELECT … FOR UPDATE SKIP LOCKED` picks rows no other worker is claiming
at that instant, and the claim's lease (`locked_until`) keeps them away until it lapses. On SQLite
one UPDATE claims the rows (SQLite runs one writer at a time, so two claims cannot overlap).
Completing or failing checks the claim's token (`locked_by`), so a worker whose lease lapsed and
was taken over cannot mark someone else's attempt.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, or_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from api.core.config import Settings, get_settings
from api.core.db import utcnow
from api.core.errors import Conflict, NotFound
from api.outbox import registry
from api.outbox.models import DomainEvent, OutboxKind, OutboxMessage, OutboxStatus, ScheduledRun

ERROR_LIMIT = 2000  # characters of the last error kept


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def _insert(session: Session):
    return (postgresql.insert if _dialect(session) == "postgresql" else sqlite.insert)(OutboxMessage)


# --- writing ----------------------------------------------------------------------------------

def enqueue(session: Session, *, kind: OutboxKind, handler: str, topic: str, payload: dict[str, Any],
            dedupe_key: str | None = None, available_at: datetime | None = None,
            event_id: int | None = None) -> bool:
    """Add a message in the caller's transaction: it exists only if that transaction commits.
    A message whose `dedupe_key` is already queued (or done) is not added again: False."""
    now = utcnow()
    stmt = _insert(session).values(
        kind=kind.value, handler=handler, topic=topic, payload=payload,
        dedupe_key=dedupe_key or f"{topic}:{secrets.token_hex(12)}", status=OutboxStatus.pending.value,
        attempts=0, available_at=available_at or now, event_id=event_id, created_at=now,
    ).on_conflict_do_nothing(index_elements=["dedupe_key"]).returning(OutboxMessage.id)
    # RETURNING, not rowcount: psycopg reports -1 for an INSERT … ON CONFLICT through SQLAlchemy.
    return session.execute(stmt).first() is not None


def publish(session: Session, name: str, dedupe_key: str, payload: dict[str, Any]) -> DomainEvent | None:
    """Record a fact once and queue it for every consumer (registry.CONSUMERS), in the caller's
    transaction. Returns the new event, or None when (name, dedupe_key) was recorded before: by an
    earlier request, or by one racing this one (the unique key decides)."""
    if session.exec(select(DomainEvent.id).where(DomainEvent.name == name,
                                                 DomainEvent.dedupe_key == dedupe_key)).first():
        return None
    event = DomainEvent(name=name, dedupe_key=dedupe_key, payload=payload)
    try:
        with session.begin_nested():
            session.add(event)
            session.flush()
    except IntegrityError:
        return None
    consumers = registry.consumers_of(name)
    for consumer in consumers:
        enqueue(session, kind=OutboxKind.event, handler=consumer, topic=name, payload=payload,
                dedupe_key=f"event:{event.id}:{consumer}", event_id=event.id)
    if not consumers:
        event.processed_at = utcnow()
        session.add(event)
        session.flush()
    return event


# --- claiming and finishing ---------------------------------------------------------------------

def _claimable(now: datetime):
    return (col(OutboxMessage.status) == OutboxStatus.pending.value, col(OutboxMessage.available_at) <= now,
            or_(col(OutboxMessage.locked_until).is_(None), col(OutboxMessage.locked_until) < now))


def claim(session: Session, worker: str, *, limit: int, now: datetime | None = None,
          lease_seconds: int | None = None) -> tuple[str, list[OutboxMessage]]:
    """Take up to `limit` messages that are due and not claimed by a live lease. Returns the claim's
    token and the messages (attempts already counted). The caller commits at once."""
    now = now or utcnow()
    lease = timedelta(seconds=lease_seconds or get_settings().worker_lease_seconds)
    token = f"{worker[:60]}/{secrets.token_hex(6)}"
    order = (col(OutboxMessage.available_at), col(OutboxMessage.id))
    values = {"locked_by": token, "locked_until": now + lease, "attempts": OutboxMessage.attempts + 1}
    if _dialect(session) == "postgresql":
        ids = list(session.exec(select(OutboxMessage.id).where(*_claimable(now)).order_by(*order).limit(limit)
                                .with_for_update(skip_locked=True)).all())
        if not ids:
            return token, []
        session.execute(update(OutboxMessage).where(col(OutboxMessage.id).in_(ids)).values(**values))
    else:
        due = select(OutboxMessage.id).where(*_claimable(now)).order_by(*order).limit(limit).scalar_subquery()
        session.execute(update(OutboxMessage).where(col(OutboxMessage.id).in_(due)).values(**values))
    session.flush()
    rows = session.exec(select(OutboxMessage).where(OutboxMessage.locked_by == token)
                        .order_by(*order).execution_options(populate_existing=True)).all()
    return token, list(rows)


def _mine(msg_id: int, token: str):
    return (col(OutboxMessage.id) == msg_id, col(OutboxMessage.locked_by) == token,
            col(OutboxMessage.status) == OutboxStatus.pending.value)


def complete(session: Session, msg: OutboxMessage, token: str, now: datetime | None = None) -> bool:
    """Mark the message done, if this claim still holds it. False: the lease lapsed and another
    worker took it over (the caller rolls back whatever it did in this transaction)."""
    now = now or utcnow()
    values: dict[str, Any] = {"status": OutboxStatus.done.value, "done_at": now, "locked_until": None}
    if msg.kind == OutboxKind.email.value:
        # The text may carry a one-time link (a password reset); once sent it is not kept.
        values["payload"] = {k: v for k, v in msg.payload.items() if k not in ("text", "html")}
    done = session.execute(update(OutboxMessage).where(*_mine(msg.id, token)).values(**values)).rowcount == 1
    if done and msg.event_id is not None:
        left = session.exec(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.event_id == msg.event_id, OutboxMessage.status != OutboxStatus.done.value)).one()
        if not left:
            session.execute(update(DomainEvent).where(col(DomainEvent.id) == msg.event_id)
                            .values(processed_at=now))
    session.flush()
    return done


def backoff(attempts: int, settings: Settings | None = None) -> timedelta:
    """30 s, 1 min, 2 min, 4 min … up to CADRE_WORKER_BACKOFF_MAX_SECONDS."""
    settings = settings or get_settings()
    seconds = settings.worker_backoff_seconds * 2 ** max(attempts - 1, 0)
    return timedelta(seconds=min(seconds, settings.worker_backoff_max_seconds))


def fail(session: Session, msg: OutboxMessage, token: str, error: str, now: datetime | None = None,
         settings: Settings | None = None) -> str:
    """Record a failed attempt: retry after a backoff, or dead after the last attempt. Returns the
    status it is left in ("" when the claim no longer holds it)."""
    settings = settings or get_settings()
    now = now or utcnow()
    dead = msg.attempts >= settings.worker_max_attempts
    status = OutboxStatus.dead if dead else OutboxStatus.pending
    changed = session.execute(update(OutboxMessage).where(*_mine(msg.id, token)).values(
        status=status.value, last_error=error[:ERROR_LIMIT], locked_until=None,
        available_at=now if dead else now + backoff(msg.attempts, settings))).rowcount
    session.flush()
    return status.value if changed else ""


def retry(session: Session, msg_id: int) -> OutboxMessage:
    """An admin sends a dead letter round again: pending now, with a fresh set of attempts. Its last
    error stays visible until the next attempt replaces it."""
    msg = session.get(OutboxMessage, msg_id)
    if msg is None:
        raise NotFound("There is no such message in the outbox.", code="no_message")
    if msg.status != OutboxStatus.dead.value:
        raise Conflict(f"Only a dead letter can be retried; this message is {msg.status}.", code="not_dead")
    msg.status, msg.attempts, msg.available_at = OutboxStatus.pending.value, 0, utcnow()
    msg.locked_by = msg.locked_until = None
    session.add(msg)
    session.flush()
    return msg


def purge_done(session: Session, now: datetime | None = None, keep_days: int | None = None) -> int:
    """Delete delivered messages older than CADRE_WORKER_KEEP_DAYS (dead letters stay until handled)."""
    now = now or utcnow()
    cutoff = now - timedelta(days=keep_days if keep_days is not None else get_settings().worker_keep_days)
    ids = select(OutboxMessage.id).where(OutboxMessage.status == OutboxStatus.done.value,
                                         col(OutboxMessage.done_at) < cutoff).limit(5000).scalar_subquery()
    removed = 0
    for _ in range(100):  # in chunks, so no single statement holds the table for long
        n = session.execute(delete(OutboxMessage).where(col(OutboxMessage.id).in_(ids))).rowcount
        removed += n
        if n < 5000:
            break
    session.flush()
    return removed


# --- reading ------------------------------------------------------------------------------------

@dataclass
class Stats:
    pending: int
    retrying: int  # pending after at least one failed attempt
    dead: int
    done: int
    oldest_pending_at: datetime | None
    now: datetime

    @property
    def oldest_pending_seconds(self) -> int | None:
        return None if self.oldest_pending_at is None else max(int((self.now - self.oldest_pending_at)
                                                                   .total_seconds()), 0)


def stats(session: Session, now: datetime | None = None) -> Stats:
    now = now or utcnow()
    counts = dict(session.exec(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)).all())
    retrying = session.exec(select(func.count()).select_from(OutboxMessage).where(
        OutboxMessage.status == OutboxStatus.pending.value, col(OutboxMessage.last_error).is_not(None))).one()
    oldest = session.exec(select(OutboxMessage.created_at).where(OutboxMessage.status == OutboxStatus.pending.value)
                          .order_by(col(OutboxMessage.created_at)).limit(1)).first()
    return Stats(pending=counts.get("pending", 0), retrying=retrying, dead=counts.get("dead", 0),
                 done=counts.get("done", 0), oldest_pending_at=oldest, now=now)


PAGE_SIZE = 50


def messages(session: Session, status: str, before: int | None = None,
             limit: int = PAGE_SIZE) -> tuple[list[OutboxMessage], int | None]:
    """Newest first, by keyset (`before` = the last id of the previous page). Returns the page and
    the `before` of the next one (None on the last page)."""
    query = select(OutboxMessage).where(OutboxMessage.status == status)
    if before is not None:
        query = query.where(col(OutboxMessage.id) < before)
    rows = list(session.exec(query.order_by(col(OutboxMessage.id).desc()).limit(limit + 1)).all())
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (rows[-1].id if more and rows else None)


def last_runs(session: Session) -> dict[str, ScheduledRun]:
    """The newest run of each scheduled job."""
    newest = select(ScheduledRun.job, func.max(ScheduledRun.slot_start).label("slot")).group_by(
        ScheduledRun.job).subquery()
    rows = session.exec(select(ScheduledRun).join(newest, (col(ScheduledRun.job) == newest.c.job)
                                                  & (col(ScheduledRun.slot_start) == newest.c.slot))).all()
    return {r.job: r for r in rows}
