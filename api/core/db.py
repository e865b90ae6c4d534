"""Engine, sessions, the constraint naming convention and a UTC datetime type.

Services flush and never commit; the request dependency commits once on success and rolls back when
an exception escapes *or* a business error (`CadreError`) was raised anywhere in the request, even
one a page caught and turned into a page (see api/core/unit_of_work.py). Writes that must persist
whatever becomes of the request (rate-limit counters, failed log-ins) go through `durable()`.

A request holds a session only while it has one of the limited session slots, so the pool of
connections and the threadpool cannot wait on each other (see `get_session`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import lru_cache
from typing import Annotated, Any, TypeVar

import anyio
from fastapi import Depends, Request
from sqlalchemy import DateTime, event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.types import TypeDecorator
from sqlmodel import Session, SQLModel, create_engine

from api.core import unit_of_work
from api.core.config import get_settings

log = logging.getLogger("cadre.db")
T = TypeVar("T")
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
SQLModel.metadata.naming_convention = NAMING_CONVENTION


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC on both databases (SQLite stores no offset, so we put it back)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use timezone-aware UTC")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)



class UndeclaredWrite(RuntimeError):
    """A read-only (GET) transaction tried to write on SQLite: declare the route with `Writes`."""


def _is_write(statement: str, context: Any) -> bool:
    if context is not None and (context.isinsert or context.isupdate or context.isdelete):
        return True
    return statement.lstrip()[:7].upper().startswith(("INSERT", "UPDATE", "DELETE", "REPLACE"))


def _track_writes(engine: Engine) -> None:
    """Remember on the connection whether its current transaction has written anything."""

    @event.listens_for(engine, "begin")
    def _fresh(conn: Any) -> None:
        conn.info["cadre_wrote"] = False

    @event.listens_for(engine, "before_cursor_execute")
    def _note(conn: Any, _cursor: Any, statement: str, _params: Any, context: Any, _many: bool) -> None:
        if not conn.info.get("cadre_wrote") and _is_write(statement, context):
            conn.info["cadre_wrote"] = True


def make_engine(url: str, **kwargs: Any) -> Engine:
    engine = _make_engine(url, **kwargs)
    _track_writes(engine)
    return engine


def _make_engine(url: str, **kwargs: Any) -> Engine:
    settings = get_settings()
    if not (url.startswith("sqlite") and ":memory:" in url):
        kwargs.setdefault("pool_size", settings.db_pool_size)
        kwargs.setdefault("max_overflow", settings.db_max_overflow)
        kwargs.setdefault("pool_timeout", settings.db_pool_timeout)
    if url.startswith("sqlite"):
        if url.startswith("sqlite:///") and ":memory:" not in url:
            from pathlib import Path

            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            # Let SQLAlchemy own transactions (so SAVEPOINT works), then switch on what SQLite
            # leaves off by default.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            # A transaction that may write takes the write lock when it starts (IMMEDIATE): one that
            # read first and wrote later could not wait for another writer (SQLite answers "database is
            # locked" at once); this way it waits its turn (busy_timeout). A read-only transaction
            # (GET pages, `cadre_write=False`) takes no lock at all: in WAL mode it reads a snapshot
            # while a writer works. Anything that does not say defaults to IMMEDIATE (the CLI, tests).
            write = conn.get_execution_options().get("cadre_write", True) is not False
            conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

        @event.listens_for(engine, "before_cursor_execute")
        def _refuse_undeclared_writes(conn: Any, _cursor: Any, statement: str, _params: Any, context: Any,
                                      _many: bool) -> None:
            # A write in a read-only transaction would need the lock it did not take: under load it
            # fails with "database is locked". Loud in development and tests, logged in production.
            if conn.get_execution_options().get("cadre_write", True) is False and _is_write(statement, context):
                message = ("a read-only (GET) request wrote to the database: declare the route with "
                           "dependencies=[Writes] (api.core.db)")
                if get_settings().env == "production":
                    log.error(message, extra={"statement": statement[:200]})
                else:
                    raise UndeclaredWrite(message)

        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


@lru_cache
def get_engine() -> Engine:
    return make_engine(get_settings().database_url)


@contextmanager
def without_transaction(session: Session) -> Iterator[None]:
    """For slow work that needs no database (a password hash, a call over the network): if the session
    has only read so far, its transaction ends first, so no lock (SQLite's write lock, PostgreSQL row
    locks and snapshot) is held meanwhile; the next query begins a new one. After a write it cannot end
    the transaction without committing the write, so the work simply runs inside it."""
    pending = session.new or session.dirty or session.deleted or session.info.get("cadre_outbox")
    if session.in_transaction() and not pending:
        connection = session.connection()
        if not connection.info.get("cadre_wrote", True):
            session.commit()  # nothing written: this only ends the transaction
    yield


# --- write intent ---------------------------------------------------------------------------------

def declare_writes() -> None:
    """A dependency that declares a GET route writes (e.g. a lesson page remembering where the learner
    is): its transaction takes SQLite's write lock up front like any POST. Use `dependencies=[Writes]`."""


Writes = Depends(declare_writes)


def _declares_writes(dependant: Any) -> bool:
    return any(d.call is declare_writes or _declares_writes(d) for d in dependant.dependencies)


def wants_write(request: Request) -> bool:
    """POST, PUT, PATCH and DELETE write; GET, HEAD and OPTIONS read unless the route declares `Writes`."""
    if request.method not in READ_METHODS:
        return True
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    if dependant is None:
        return False
    cached = getattr(route, "_cadre_writes", None)
    if cached is None:
        cached = _declares_writes(dependant)
        route._cadre_writes = cached
    return cached


# --- the unit of work -----------------------------------------------------------------------------

def open_unit_of_work(session: Session, *, durable_in_session: bool) -> unit_of_work.UnitOfWork:
    """Attach `session` to the request's unit of work (a detached one outside a request)."""
    uow = unit_of_work.current()
    if uow is None:
        uow = unit_of_work.UnitOfWork()
    uow.session, uow.durable_in_session = session, durable_in_session
    return uow


def close_unit_of_work(uow: unit_of_work.UnitOfWork, error: BaseException | None = None) -> None:
    """Commit, unless an exception escaped or a business error was raised: then roll back (and write
    the durable records again). A failed commit rolls back too, and raises."""
    session = uow.session
    try:
        if error is not None or uow.failed:
            uow.rollback()
            return
        try:
            session.commit()
        except BaseException:
            uow.rollback()
            raise
    finally:
        uow.session = None
        uow.replay.clear()


@contextmanager
def unit_of_work_scope(session: Session, *, durable_in_session: bool) -> Iterator[Session]:
    """The unit of work as a context manager (the tests' session override uses exactly this)."""
    uow = open_unit_of_work(session, durable_in_session=durable_in_session)
    try:
        yield session
    except BaseException as exc:
        close_unit_of_work(uow, exc)
        raise
    close_unit_of_work(uow)


# --- writes that outlive the request ---------------------------------------------------------------

@contextmanager
def _writing(connection: Any) -> Iterator[Any]:
    before = connection.get_execution_options().get("cadre_write")
    connection.execution_options(cadre_write=True)
    try:
        yield connection
    finally:
        connection.execution_options(cadre_write=before)


def _replay(captured: list[tuple[str, Any]], session: Session) -> None:
    with _writing(session.connection()) as connection:
        for statement, parameters in captured:
            connection.exec_driver_sql(statement, parameters)


@contextmanager
def independent_session() -> Iterator[Session]:
    """A short transaction whose writes persist whatever becomes of the request, committed at once:
    rate-limit counters, failed log-ins.

        with independent_session() as s:
            s.add(LoginAttempt(...))

    PostgreSQL (and SQLite read-only requests, and code outside requests): a session on a connection
    of its own, committed when the block ends, so other requests see it at once. SQLite while the
    request may hold the one write lock (and the tests' single connection): the block runs in a
    savepoint of the request's own session, its writes are recorded, and if the request rolls back
    they are written again in a fresh transaction straight after. So the block should only *record*
    (insert a row, bump a counter) and must not touch rows the request itself has locked or made."""
    uow = unit_of_work.current()
    session = uow.session if uow is not None else None
    # A request session that has not begun its transaction holds no lock yet (SQLite's write lock
    # included), so a connection of its own is safe there too: e.g. log-in throttling, which records
    # the attempt before the request touches the database.
    alone = session is not None and not session.in_transaction() and not isinstance(session.get_bind(), Connection)
    if session is None or not uow.durable_in_session or alone:
        with Session(get_engine(), expire_on_commit=False) as own:
            try:
                yield own
                own.commit()
            except BaseException:
                own.rollback()
                raise
        return
    session.flush()  # the request's own pending changes are not part of this
    captured: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, context: Any, _many: bool) -> None:
        if _is_write(statement, context):
            captured.append((statement, parameters))

    with _writing(session.connection()) as connection, session.begin_nested():
        event.listen(connection, "after_cursor_execute", capture)
        try:
            yield session
            session.flush()
        finally:
            event.remove(connection, "after_cursor_execute", capture)
    if captured:
        uow.replay.append(lambda s: _replay(captured, s))


def durable(work: Callable[[Session], T], session: Session | None = None) -> T:
    """`work(s)` inside `independent_session()`, returning what it returns. Outside a request, with
    `session` given, it simply runs in that session: its caller's transaction decides, as for any write."""
    if session is not None and unit_of_work.current() is None:
        result = work(session)
        session.flush()
        return result
    with independent_session() as own:
        return work(own)


# --- the request dependency -----------------------------------------------------------------------

class _Slots:
    """The session slots of one event loop (a TestClient without `with` runs a loop per request)."""

    def __init__(self) -> None:
        self.loop: asyncio.AbstractEventLoop | None = None
        self.semaphore: asyncio.Semaphore | None = None

    def get(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        if self.semaphore is None or self.loop is not loop:
            self.loop, self.semaphore = loop, asyncio.Semaphore(get_settings().session_slots)
        return self.semaphore


SESSION_SLOTS = _Slots()


def configure_threadpool() -> None:
    """Called at startup: more worker threads than session slots, so a request that holds a session
    always finds a thread to run on and to commit on."""
    anyio.to_thread.current_default_thread_limiter().total_tokens = get_settings().threads


async def get_session(request: Request) -> AsyncIterator[Session]:
    from api.core.errors import ServiceBusy

    settings = get_settings()
    slots = SESSION_SLOTS.get()
    # Wait for a slot *before* taking a connection or a thread: queueing here holds neither.
    try:
        with anyio.fail_after(settings.db_slot_timeout):
            await slots.acquire()
    except TimeoutError:
        raise ServiceBusy() from None
    try:
        engine = get_engine()
        write = wants_write(request)
        session = Session(engine.execution_options(cadre_write=write), expire_on_commit=False)
        # On SQLite a request that may write holds the one write lock: its durable records go through
        # its own transaction. Elsewhere they get a connection of their own.
        uow = open_unit_of_work(session, durable_in_session=write and engine.dialect.name == "sqlite")

        def finish(error: BaseException | None) -> None:
            try:
                close_unit_of_work(uow, error)
            finally:
                session.close()

        try:
            yield session
        except BaseException as exc:
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(finish, exc)
            raise
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(finish, None)
    finally:
        slots.release()


# scope="function": commit (or roll back) as soon as the endpoint returns, before the response
# goes out, so a client never sees success for something that failed to commit.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
