"""Unique rows under concurrency: the database decides, and a duplicate is an answer, not a 500.

A service checks for the duplicate first (so the usual case gets its friendly answer without an
error), then writes with `flush_unique`: two requests that both passed the check at the same moment
meet at the unique index, and the loser gets False instead of an IntegrityError that would poison
the whole transaction. It then answers as the check would have (409, or the existing row).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

_PG_UNIQUE_VIOLATION = "23505"


def is_unique_violation(exc: IntegrityError) -> bool:
    orig = exc.orig
    if getattr(orig, "sqlstate", None) == _PG_UNIQUE_VIOLATION:  # psycopg
        return True
    return "UNIQUE constraint failed" in str(orig)  # sqlite3


class UniqueGuard:
    duplicate = False


@contextmanager
def unique_guard(session: Session) -> Iterator[UniqueGuard]:
    """Make changes in the block and flush them in a savepoint. A unique violation rolls back just the
    block and sets `duplicate` (the transaction stays usable); other errors propagate.

        with unique_guard(session) as guard:
            user.email = new_email
        if guard.duplicate:
            raise Conflict(...)
    """
    session.flush()  # what was pending before belongs outside the savepoint
    guard = UniqueGuard()
    try:
        with session.begin_nested():
            yield guard
            session.flush()
    except IntegrityError as exc:
        if not is_unique_violation(exc):
            raise
        guard.duplicate = True


def flush_unique(session: Session, *rows: object) -> bool:
    """Add `rows` and flush them in a savepoint: False, with nothing written, when a unique
    constraint already holds such a row."""
    with unique_guard(session) as guard:
        session.add_all(rows)
    return not guard.duplicate
