"""One-row reads on PostgreSQL through a few bare psycopg connections of their own, in autocommit: one
round trip per read (no BEGIN or ROLLBACK, no pool bookkeeping), apart from the request pool, so a busy
pool never makes a hot path wait. Used where a request is answered from memory after one read: the kept
verify answers (api/certificates/verified_pages.py) and a logged-in viewer's versions
(api/core/viewerversion.py).

Connections are taken and given back with list.pop/append (atomic); one that fails is closed and the
error raised, so the caller takes its full path; more readers at once than `keep` get a connection for
one read."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import make_url


class RawReader:
    def __init__(self, keep: int = 2) -> None:
        self.keep = keep
        self._free: dict[str, list[Any]] = {}

    def one(self, url: str, sql: str, params: tuple) -> tuple | None:
        """The first row of `sql` (psycopg %s placeholders) on the database at SQLAlchemy `url`."""
        free = self._free.setdefault(url, [])
        try:
            conn = free.pop()
        except IndexError:
            conn = _connect(url)
        try:
            with conn.cursor() as cursor:
                cursor.execute(sql, params)
                row = cursor.fetchone()
        except Exception:
            conn.close()
            raise
        if len(free) < self.keep:
            free.append(conn)
        else:
            conn.close()
        return row

    def close(self) -> None:
        for free in self._free.values():
            while free:
                free.pop().close()


def _connect(url: str):
    import psycopg

    conninfo = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    return psycopg.connect(conninfo, autocommit=True, connect_timeout=2)
