"""Short transactions of their own, apart from the request's unit of work.

Two uses: a record that must stay whatever becomes of the request (a failed log-in counts even when
the request that made it is rolled back), and a read that happens after the request's session has
closed (a streamed export reads its rows batch by batch while the body goes out).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.engine import Connection
from sqlmodel import Session

log = logging.getLogger("cadre.db")


@contextmanager
def own_transaction(session: Session) -> Iterator[Session]:
    """A new session on `session`'s database, committed when the block ends (rolled back if it raises).

    Two cases cannot have a connection of their own, and join `session` in a savepoint instead:
    - `session` is bound to one connection (the test suite wraps each test in a transaction that is
      rolled back; a second connection would not see its data, and on SQLite would wait on its lock);
    - SQLite while `session` is inside a transaction: SQLite has one writer, and that transaction may
      hold the write lock, so a second connection would wait on it until it timed out. Callers that
      need the record to outlive a rollback (log-in throttling) run before the request's transaction
      begins, so this only happens when a caller did not.
    """
    bind = session.get_bind()
    if isinstance(bind, Connection):
        with Session(bind=bind, join_transaction_mode="create_savepoint", expire_on_commit=False) as inner:
            yield from _committed(inner)
        return
    if bind.dialect.name == "sqlite" and session.in_transaction():
        log.warning("own_transaction: SQLite session already in a transaction; joining it in a savepoint")
        with session.begin_nested():
            yield session
        return
    with Session(bind, expire_on_commit=False) as inner:
        yield from _committed(inner)


def _committed(inner: Session) -> Iterator[Session]:
    try:
        yield inner
        inner.commit()
    except BaseException:
        inner.rollback()
        raise
