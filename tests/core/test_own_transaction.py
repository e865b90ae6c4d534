"""own_transaction: a record that stays whatever becomes of the caller's transaction, and no
self-deadlock on SQLite when the caller already holds a transaction (it joins it instead)."""

from __future__ import annotations

import threading
import uuid

from sqlalchemy import delete
from sqlmodel import Session, select

from api.core.config import get_settings
from api.core.db import utcnow
from api.core.own_transaction import own_transaction
from api.core.ratelimit import RateLimitHit


def _bucket() -> str:
    return f"own-tx-{uuid.uuid4().hex[:10]}"


def _exists(engine, bucket: str) -> bool:
    with Session(engine) as s:
        return s.exec(select(RateLimitHit).where(RateLimitHit.bucket == bucket)).first() is not None


def _cleanup(engine, bucket: str) -> None:
    with Session(engine) as s:
        s.exec(delete(RateLimitHit).where(RateLimitHit.bucket == bucket))
        s.commit()


def test_what_it_writes_outlives_the_callers_rollback(engine):
    bucket = _bucket()
    try:
        with Session(engine) as caller:
            with own_transaction(caller) as tx:  # before the caller opens its transaction
                tx.add(RateLimitHit(bucket=bucket, window_start=utcnow(), count=1))
            caller.add(RateLimitHit(bucket=bucket + "-caller", window_start=utcnow(), count=1))
            caller.flush()
            caller.rollback()
        assert _exists(engine, bucket)
        assert not _exists(engine, bucket + "-caller")
    finally:
        _cleanup(engine, bucket)


def test_an_error_in_the_block_writes_nothing(engine):
    bucket = _bucket()
    with Session(engine) as caller:
        try:
            with own_transaction(caller) as tx:
                tx.add(RateLimitHit(bucket=bucket, window_start=utcnow(), count=1))
                tx.flush()
                raise RuntimeError("refused")
        except RuntimeError:
            pass
    assert not _exists(engine, bucket)


def test_a_caller_already_in_a_transaction_is_not_left_waiting_on_itself(engine):
    """On SQLite the caller's open transaction may hold the one write lock; a second connection would
    wait for it until it timed out. It is joined in a savepoint instead; on PostgreSQL a connection
    of its own commits at once."""
    bucket = _bucket()
    finished = threading.Event()
    try:
        with Session(engine) as caller:
            caller.add(RateLimitHit(bucket=bucket + "-caller", window_start=utcnow(), count=1))
            caller.flush()  # the caller now holds a writing transaction

            def record():
                with own_transaction(caller) as tx:
                    tx.add(RateLimitHit(bucket=bucket, window_start=utcnow(), count=1))
                finished.set()

            worker = threading.Thread(target=record)
            worker.start()
            worker.join(10)
            assert finished.is_set(), "own_transaction waited on its own caller's lock"
            caller.commit()
        assert _exists(engine, bucket)
        if get_settings().is_sqlite:
            assert _exists(engine, bucket + "-caller")
    finally:
        _cleanup(engine, bucket)
        _cleanup(engine, bucket + "-caller")
