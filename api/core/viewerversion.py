"""What a logged-in viewer's kept pages depend on, as counters in the database (`viewer_version`): one row
per user (scope = the user's id) and one row for everything shown to every viewer (scope = 0).

Bumped in the same transaction as the change, by listeners on the Session class, so every session is
covered: requests, `cadre worker`, the CLI, content sync. What a transaction wrote is noted as it is
flushed (and for bulk `session.execute(update/delete/insert/text)`): a row with an owner column
(`user_id`, `learner_id`) bumps that user's counter, a `user` row its own id's, anything else the global
one. Tables no viewer page shows are exempt (EXEMPT). Be conservative: a table not listed bumps.

The bumps are the last statements before the commit, in ascending scope order (0 first). That is why no
deadlock can come of them: a transaction takes a `viewer_version` row lock only in that final step, and
after it only waits for further `viewer_version` rows, in ascending order; so one holding such a lock
never waits for any other kind of lock, and among `viewer_version` rows everyone asks in the same order:
no cycle of waits can form. Savepoint commits bump nothing (the outer commit does).

The global row serialises the commits of transactions that bump it, but only for the commit itself (the
lock is taken as the last statement): a learner's own activity (progress, attempts, orders, certificates,
sessions) bumps only that learner's row, so the global row is taken by content, cohort, marking and admin
changes, which are rare next to learning.

`read(digest)` is the one cheap read every kept-page request makes: it checks the session (exists, not
expired, its user active, as api/accounts/deps.py does) and returns the user's and the global counter.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import bindparam, event, inspect, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Field, SQLModel

from api.core.config import get_settings
from api.core.db import UTCDateTime, _writing, get_engine, utcnow
from api.core.rawpg import RawReader

GLOBAL = 0
OWNER_COLUMNS = ("user_id", "learner_id")
# Written often and shown on no learner page (or checked by the read itself, like user_session).
EXEMPT = frozenset({
    "viewer_version", "outbox_message", "domain_event", "rate_limit_hit", "login_attempt", "user_session",
    "account_token", "api_key", "webhook_event", "scheduled_run", "verified_answer", "submission_file_view",
    "assessment_audit", "attendance_audit", "award_cycle_audit", "certificate_event", "expiry_reminder",
    "award_reminder",
})
# Rows whose user_id is shown to others (a facilitator, a judge, a winner): every viewer's pages.
SHARED = frozenset({"cohort_facilitator", "judging_judge", "award_winner", "nominee", "marker_conflict"})
_SCOPES = "cadre_viewer_scopes"
_WRITE_SQL = re.compile(r"\s*(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|UPDATE|DELETE\s+FROM|REPLACE\s+INTO)\s+\"?(\w+)\"?",
                        re.IGNORECASE)


class ViewerVersion(SQLModel, table=True):
    """A counter per viewer (scope = user id) and one for all viewers (scope = 0): api/core/viewercache.py
    keeps a logged-in page under the two counters it was rendered after."""

    __tablename__ = "viewer_version"

    scope: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    version: int = 0


def _scopes(session: OrmSession) -> set[int]:
    scopes = session.info.get(_SCOPES)
    if scopes is None:
        scopes = session.info[_SCOPES] = set()
    return scopes


def scopes_of(obj: Any, table: str) -> list[int]:
    """The counters a written row bumps (empty for an exempt table)."""
    if table in EXEMPT:
        return []
    if table == "user":
        return [obj.id] if obj.id is not None else [GLOBAL]
    if table not in SHARED:
        for column in OWNER_COLUMNS:
            owner = getattr(obj, column, None)
            if isinstance(owner, int):
                return [owner]
    return [GLOBAL]


def _table_of(obj: Any) -> str:
    table = getattr(type(obj), "__table__", None)
    return table.name if table is not None else ""


@event.listens_for(OrmSession, "after_flush")
def _noted_flush(session: OrmSession, _context: Any) -> None:
    scopes = _scopes(session)
    for obj in session.new:
        scopes.update(scopes_of(obj, _table_of(obj)))
    for obj in session.deleted:
        scopes.update(scopes_of(obj, _table_of(obj)))
    for obj in session.dirty:
        if session.is_modified(obj, include_collections=False):
            scopes.update(scopes_of(obj, _table_of(obj)))
            # A row moved to another owner: the one it left sees it go.
            for column in OWNER_COLUMNS:
                attr = getattr(type(obj), column, None)
                if attr is not None:
                    scopes.update(v for v in inspect(obj).attrs[column].history.deleted if isinstance(v, int))


@event.listens_for(OrmSession, "do_orm_execute")
def _noted_bulk(state: Any) -> None:
    statement = state.statement
    table = None
    if state.is_insert or state.is_update or state.is_delete:
        target = getattr(statement, "table", None)
        table = getattr(target, "name", None) or ""
    elif hasattr(statement, "text"):  # text(): a write names its table first
        match = _WRITE_SQL.match(statement.text)
        if match is None:
            return
        table = match.group(1).lower()
    else:
        return
    if table not in EXEMPT:
        _scopes(state.session).add(GLOBAL)


@event.listens_for(OrmSession, "before_commit")
def _bump_before_commit(session: OrmSession) -> None:
    if session.in_nested_transaction():
        return  # a savepoint: the outer commit bumps
    if session.new or session.dirty or session.deleted:
        session.flush()  # what the commit would flush next, noted now, so the bumps are the last statements
    scopes = session.info.pop(_SCOPES, None)
    if scopes:
        bump(session, scopes)


@event.listens_for(OrmSession, "after_transaction_end")
def _forget_when_the_transaction_ends(session: OrmSession, transaction: Any) -> None:
    # The outermost transaction ended (committed: bumped already; rolled back: nothing to bump). A
    # savepoint's end keeps what was noted: the outer commit bumps for it (conservatively, even if rolled back).
    if transaction.parent is None:
        session.info.pop(_SCOPES, None)


def bump(session: OrmSession, scopes: set[int]) -> None:
    """Add one to each scope's counter, in ascending order (see the module's note on deadlocks)."""
    connection = session.connection()
    insert = pg_insert if connection.dialect.name == "postgresql" else sqlite_insert
    table = ViewerVersion.__table__
    # Allowed on a read-only connection: something was noted, so a write already happened here, one
    # permitted to outlive the request (a durable record made in a savepoint of the request's session).
    with _writing(connection):
        for scope in sorted(scopes):
            stmt = insert(table).values(scope=scope, version=1)
            connection.execute(stmt.on_conflict_do_update(index_elements=["scope"],
                                                          set_={"version": table.c.version + 1}))


# --- the read ------------------------------------------------------------------------------------------

_READ = text(
    'SELECT s.user_id, COALESCE(v.version, 0), COALESCE(g.version, 0) FROM user_session s '
    'JOIN "user" u ON u.id = s.user_id '
    'LEFT JOIN viewer_version v ON v.scope = s.user_id '
    'LEFT JOIN viewer_version g ON g.scope = 0 '
    'WHERE s.token_digest = :digest AND s.expires_at > :now AND u.is_active'
).bindparams(bindparam("now", type_=UTCDateTime()))
_RAW_READ = _READ.text.replace(":digest", "%s").replace(":now", "now()")

# Tests put their one connection here (their data is never committed, so no other connection sees it).
read_connection: Any = None
_raw = RawReader(keep=2)  # PostgreSQL: one round trip per read (api/core/rawpg.py)


def read(digest: str) -> tuple[int, int, int] | None:
    """(user id, the user's version, the global version) for a live session, or None."""
    if read_connection is not None:
        row = read_connection.execute(_READ, {"digest": digest, "now": utcnow()}).first()
    elif not get_settings().is_sqlite:
        row = _raw.one(get_settings().database_url, _RAW_READ, (digest,))
    else:
        with get_engine().execution_options(cadre_write=False).connect() as conn:
            row = conn.execute(_READ, {"digest": digest, "now": utcnow()}).first()
            conn.rollback()
    return (int(row[0]), int(row[1]), int(row[2])) if row is not None else None


def close_connections() -> None:
    _raw.close()
