"""`cadre worker`: drains the outbox and runs the scheduled jobs.

Each message is handled in its own short transactions, so a worker that dies mid-batch loses at
most the message in hand (its lease lapses and another worker takes it):
- an email: the claim is committed, the message is sent with no transaction open (nothing waits on
  the network while holding a lock), then it is marked done. The one window left: the server
  accepted it and the worker died before marking it; it is sent again with the same Message-ID.
- an event: the consumer runs in the same transaction that marks the message done, so its effect
  happens exactly once; if the lease was taken over meanwhile, that transaction is rolled back.
A failure is recorded with a backoff; after CADRE_WORKER_MAX_ATTEMPTS the message is a dead letter.

Tests drive it synchronously (`Worker(sessions=…).drain()`) on their own session.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import traceback
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime

from sqlmodel import Session

from api.core import email as mail
from api.core.config import Settings, get_settings
from api.core.db import utcnow
from api.outbox import registry, scheduler
from api.outbox import service as outbox
from api.outbox.models import OutboxKind, OutboxMessage

log = logging.getLogger("cadre.worker")
Sessions = Callable[[], AbstractContextManager[Session]]


def engine_sessions() -> Sessions:
    import api.models  # noqa: F401 - every table known before the first query
    from api.core.db import get_engine

    engine = get_engine()
    return lambda: Session(engine, expire_on_commit=False)


def _describe(exc: BaseException) -> str:
    last = traceback.format_exception_only(type(exc), exc)[-1].strip()
    return last[:500]


class Worker:
    def __init__(self, sessions: Sessions | None = None, *, settings: Settings | None = None,
                 name: str | None = None, jobs: list[registry.Job] | None = None):
        self.sessions = sessions or engine_sessions()
        self.settings = settings or get_settings()
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident() % 100000}"
        self.jobs = registry.JOBS if jobs is None else jobs

    # --- messages ---

    def run_once(self, now: datetime | None = None) -> int:
        """Claim one batch and handle it. Returns how many messages were claimed."""
        s = self.settings
        with self.sessions() as session:
            token, batch = outbox.claim(session, self.name, limit=s.worker_batch_size, now=now,
                                        lease_seconds=s.worker_lease_seconds)
            session.commit()
        if not batch:
            return 0
        transport = mail.Transport(s)
        try:
            for msg in batch:
                self._handle(msg, token, transport, now)
        finally:
            transport.close()
        return len(batch)

    def drain(self, now: datetime | None = None, max_batches: int = 1000) -> int:
        """Handle everything that is due now; returns how many attempts were made."""
        total = 0
        for _ in range(max_batches):
            n = self.run_once(now)
            if not n:
                break
            total += n
        return total

    def _handle(self, msg: OutboxMessage, token: str, transport: mail.Transport, now: datetime | None) -> None:
        if msg.attempts > self.settings.worker_max_attempts:
            # Claimed this often without ever finishing: the worker died or hung handling it each time.
            self._fail(msg, token, f"The worker stopped while handling this message {msg.attempts - 1} times.", now)
            return
        try:
            if msg.kind == OutboxKind.email.value:
                mail.deliver(msg.payload, transport)
                with self.sessions() as session:
                    if not outbox.complete(session, msg, token, now):
                        log.warning("email sent after its lease lapsed", extra={"outbox_id": msg.id})
                    session.commit()
            else:
                consumer = registry.resolve(msg.handler)
                with self.sessions() as session:
                    consumer(session, dict(msg.payload))
                    if outbox.complete(session, msg, token, now):
                        session.commit()
                    else:
                        session.rollback()  # another worker took it over; its run counts, not ours
        except Exception as exc:
            log.warning("outbox message failed", extra={"outbox_id": msg.id, "handler": msg.handler,
                                                        "error": _describe(exc)})
            self._fail(msg, token, _describe(exc), now)

    def _fail(self, msg: OutboxMessage, token: str, error: str, now: datetime | None) -> None:
        with self.sessions() as session:
            session.rollback()  # whatever the handler left half-done in this session
            status = outbox.fail(session, msg, token, error, now, self.settings)
            session.commit()
        if status == "dead":
            log.error("outbox message is a dead letter", extra={"outbox_id": msg.id, "handler": msg.handler,
                                                                "error": error})

    # --- the loop ---

    def tick(self, now: datetime | None = None) -> int:
        """Run the scheduled jobs that are due, then one batch of messages."""
        scheduler.run_due(self.sessions, self.jobs, worker=self.name, now=now)
        return self.run_once(now)

    def run_forever(self, stop: threading.Event) -> None:
        poll = self.settings.worker_poll_seconds
        log.info("worker started", extra={"worker": self.name})
        last_schedule = 0.0
        while not stop.is_set():
            try:
                if time.monotonic() - last_schedule >= min(poll * 10, 10):
                    scheduler.run_due(self.sessions, self.jobs, worker=self.name, now=utcnow())
                    last_schedule = time.monotonic()
                if self.run_once():
                    continue
            except Exception:  # the database went away, say: keep the worker alive and try again
                log.exception("worker loop failed; trying again shortly")
                stop.wait(min(poll * 5, 30))
                continue
            stop.wait(poll)
        log.info("worker stopped", extra={"worker": self.name})


def start_threads(count: int, stop: threading.Event, sessions: Sessions | None = None,
                  settings: Settings | None = None) -> list[threading.Thread]:
    """`count` workers in this process, each in its own thread with its own connections."""
    threads = []
    base = f"{socket.gethostname()}:{os.getpid()}"
    for i in range(max(count, 1)):
        worker = Worker(sessions, settings=settings, name=f"{base}:{i + 1}")
        t = threading.Thread(target=worker.run_forever, args=(stop,), name=f"cadre-worker-{i + 1}", daemon=True)
        t.start()
        threads.append(t)
    return threads
