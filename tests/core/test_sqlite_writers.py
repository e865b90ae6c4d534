"""SQLite, the embedded default: concurrent read-then-write transactions wait their turn instead of
failing with "database is locked"."""

from __future__ import annotations

import threading
import time

from sqlalchemy import Column, Integer, MetaData, Table, func, insert, select

from api.core.db import make_engine


def test_concurrent_read_then_write_transactions_all_succeed(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'writers.db'}")
    meta = MetaData()
    counter = Table("counter", meta, Column("id", Integer, primary_key=True), Column("seen", Integer))
    meta.create_all(engine)
    errors: list[Exception] = []

    def worker() -> None:
        for _ in range(10):
            try:
                with engine.begin() as conn:
                    seen = conn.execute(select(func.count()).select_from(counter)).scalar_one()
                    time.sleep(0.002)  # another thread writes meanwhile
                    conn.execute(insert(counter).values(seen=seen))
            except Exception as exc:  # noqa: BLE001 - collected and asserted below
                errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with engine.connect() as conn:
        rows = conn.execute(select(counter.c.seen).order_by(counter.c.id)).scalars().all()
    # Each transaction saw every write committed before it: the counts are exactly 0, 1, 2, ...
    assert rows == list(range(80))
    engine.dispose()
