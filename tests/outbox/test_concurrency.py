"""Several workers at once, each a thread with its own connections, committing for real (rows made
here are removed afterwards). On PostgreSQL claims use FOR UPDATE SKIP LOCKED; on SQLite one UPDATE
claims while SQLite runs one writer at a time: both must hand every message to exactly one worker."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete
from sqlmodel import Session, col, func, select

from api.core import email as mail
from api.core.config import get_settings
from api.outbox import registry, scheduler
from api.outbox.models import OutboxMessage, ScheduledRun
from api.outbox.worker import Worker


def _in_threads(n: int, work) -> list:
    barrier, results, errors = threading.Barrier(n), [None] * n, []

    def run(i):
        try:
            barrier.wait()
            results[i] = work(i)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not errors, errors
    return results


def test_workers_side_by_side_deliver_every_message_exactly_once(engine, smtp_server):
    postgres = not get_settings().is_sqlite
    workers, count = (4, 1000) if postgres else (2, 200)
    tag = uuid.uuid4().hex[:8]
    with Session(engine) as s:
        for i in range(count):
            mail.queue(s, f"crowd-{tag}-{i}@example.com", f"Crowd {tag} {i}", "Hello.\n")
        s.commit()
    settings = smtp_server.settings(worker_batch_size=20)

    def drain(i: int) -> int:
        worker = Worker(sessions=lambda: Session(engine, expire_on_commit=False), settings=settings,
                        name=f"crowd-{i}", jobs=[])
        return worker.drain()

    handled = _in_threads(workers, drain)
    assert sum(handled) == count  # every claim was a different message
    delivered = {mid: n for mid, n in smtp_server.ids().items()}
    assert len(delivered) == count and set(delivered.values()) == {1}  # each exactly once, at a real server
    with Session(engine) as s:
        rows = s.exec(select(OutboxMessage).where(col(OutboxMessage.dedupe_key).like("email:%"),
                                                  col(OutboxMessage.payload).is_not(None))).all()
        mine = [r for r in rows if r.payload["to"].startswith(f"crowd-{tag}-")]
        assert len(mine) == count and {(r.status, r.attempts) for r in mine} == {("done", 1)}
        assert len({r.locked_by.split("/")[0] for r in mine}) > 1  # the work was shared


_RUNS: list[str] = []


def count_run(session: Session, now: datetime) -> str:
    _RUNS.append(now.isoformat())
    session.exec(select(func.count()).select_from(ScheduledRun)).one()  # some work inside the transaction
    return "counted"


def test_a_scheduled_job_runs_once_per_slot_however_many_workers_reach_it(engine, monkeypatch):
    name = f"test.count.{uuid.uuid4().hex[:8]}"
    job = registry.Job(name, timedelta(hours=1), f"{__name__}:count_run", "counts its runs")
    _RUNS.clear()
    slot = datetime(2030, 1, 1, 10, tzinfo=UTC)
    try:
        for minute in (0, 20, 40):  # three attempts within one slot, two workers racing each time
            ran = _in_threads(2, lambda i, m=minute: scheduler.run_job(
                lambda: Session(engine, expire_on_commit=False), job, worker=f"w{i}",
                now=slot + timedelta(minutes=m)))
            assert sorted(ran) == ([False, True] if minute == 0 else [False, False])
        assert len(_RUNS) == 1
        ran = _in_threads(2, lambda i: scheduler.run_job(lambda: Session(engine, expire_on_commit=False), job,
                                                         worker=f"w{i}", now=slot + timedelta(hours=1, minutes=1)))
        assert sorted(ran) == [False, True] and len(_RUNS) == 2  # the next slot runs again
        with Session(engine) as s:
            runs = s.exec(select(ScheduledRun).where(ScheduledRun.job == name)
                          .order_by(col(ScheduledRun.slot_start))).all()
            assert [r.slot_start for r in runs] == [slot, slot + timedelta(hours=1)]
            assert {r.result for r in runs} == {"counted"} and all(r.finished_at for r in runs)
    finally:
        with Session(engine) as s:
            s.exec(delete(ScheduledRun).where(ScheduledRun.job == name))
            s.commit()


def test_a_failing_job_keeps_its_error_and_runs_again_next_slot(engine):
    name = f"test.fail.{uuid.uuid4().hex[:8]}"
    job = registry.Job(name, timedelta(minutes=5), f"{__name__}:failing_run", "fails")
    slot = datetime(2030, 1, 1, 10, tzinfo=UTC)
    sessions = lambda: Session(engine, expire_on_commit=False)  # noqa: E731
    try:
        assert scheduler.run_job(sessions, job, worker="w", now=slot)
        assert not scheduler.run_job(sessions, job, worker="w", now=slot + timedelta(minutes=1))
        assert scheduler.run_job(sessions, job, worker="w", now=slot + timedelta(minutes=5))
        with Session(engine) as s:
            errors = [r.error for r in s.exec(select(ScheduledRun).where(ScheduledRun.job == name))]
        assert errors == ["RuntimeError: the provider is down"] * 2
    finally:
        with Session(engine) as s:
            s.exec(delete(ScheduledRun).where(ScheduledRun.job == name))
            s.commit()


def failing_run(session: Session, now: datetime) -> str:
    raise RuntimeError("the provider is down")


@pytest.mark.parametrize("job", registry.JOBS, ids=lambda j: j.name)
def test_every_registered_job_resolves_and_runs(db, job):
    assert isinstance(registry.resolve(job.run)(db, datetime.now(UTC)), str)
