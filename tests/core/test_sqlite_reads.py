"""SQLite: reads do not queue behind writers. A GET takes no write lock (WAL lets it read a snapshot
while a writer works); requests that write, and GET routes that declare `Writes`, take it up front.
These run on a SQLite file of their own whatever database the rest of the suite uses, through the
real session dependency."""

from __future__ import annotations

import secrets
import sqlite3
import threading

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert, text
from sqlmodel import Session, SQLModel, select

from api.accounts.models import LoginAttempt
from api.core.db import SessionDep, UndeclaredWrite, Writes


@pytest.fixture(scope="module")
def sqlite_engine(engine, tmp_path_factory):
    import api.models  # noqa: F401
    from api.catalog.sync import sync
    from api.core.config import get_settings
    from api.core.db import make_engine

    eng = make_engine(f"sqlite:///{tmp_path_factory.mktemp('reads') / 'reads.db'}")
    SQLModel.metadata.create_all(eng)
    with Session(eng) as s:
        sync(s, get_settings().content_dir)
        s.commit()
    yield eng
    eng.dispose()


@pytest.fixture
def sqlite_app(sqlite_engine, monkeypatch):
    from api.core import db as db_module
    from api.main import create_app

    monkeypatch.setattr(db_module, "get_engine", lambda: sqlite_engine)
    return create_app()


def test_a_get_page_answers_while_a_writer_holds_the_write_lock(sqlite_engine, sqlite_app):
    locked, release, answered = threading.Event(), threading.Event(), threading.Event()
    seen: dict = {}

    def writer() -> None:
        with sqlite_engine.connect() as conn:  # BEGIN IMMEDIATE: the write lock, held until released
            conn.execute(insert(LoginAttempt).values(email="writer@example.com", ip="w", succeeded=False))
            locked.set()
            release.wait(timeout=60)
            conn.rollback()

    def reader(client: TestClient) -> None:
        r = client.get("/programmes")
        seen["status"], seen["writer_still_locked"] = r.status_code, not release.is_set()
        answered.set()

    with TestClient(sqlite_app) as client:
        w = threading.Thread(target=writer)
        w.start()
        assert locked.wait(timeout=10)
        r = threading.Thread(target=reader, args=(client,))
        r.start()
        answered.wait(timeout=20)  # generous: it needs no lock, so it does not wait for the writer
        release.set()
        w.join(timeout=10)
        r.join(timeout=40)
    assert seen == {"status": 200, "writer_still_locked": True}


def test_transactions_that_write_take_the_lock_up_front_and_reads_do_not(sqlite_engine):
    """What the begin listener emits, seen from another connection: a read transaction leaves the
    database writable by others; a write-intent one (the default for the CLI and POSTs) does not."""
    def writable_by_another() -> bool:
        # A plain connection outside the pool, that does not wait for the lock.
        other = sqlite3.connect(sqlite_engine.url.database, timeout=0, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")
            other.execute("ROLLBACK")
            return True
        except sqlite3.OperationalError:  # "database is locked"
            return False
        finally:
            other.close()

    with sqlite_engine.execution_options(cadre_write=False).connect() as conn:
        conn.execute(text("SELECT 1"))
        assert writable_by_another()
    with sqlite_engine.connect() as conn:  # no intent given: IMMEDIATE
        conn.execute(text("SELECT 1"))
        assert not writable_by_another()


def test_a_get_route_that_writes_must_declare_it(sqlite_app, sqlite_engine):
    @sqlite_app.get("/_reads/undeclared")
    def undeclared(session: SessionDep):
        session.add(LoginAttempt(email="undeclared@example.com", ip="r", succeeded=True))
        session.flush()
        return {"ok": True}

    marker = f"declared-{secrets.token_hex(4)}@example.com"

    @sqlite_app.get("/_reads/declared", dependencies=[Writes])
    def declared(session: SessionDep):
        session.add(LoginAttempt(email=marker, ip="r", succeeded=True))
        session.flush()
        return {"ok": True}

    with TestClient(sqlite_app) as client:
        with pytest.raises(UndeclaredWrite):
            client.get("/_reads/undeclared")
        assert client.get("/_reads/declared").status_code == 200
    with Session(sqlite_engine) as s:
        assert s.exec(select(LoginAttempt).where(LoginAttempt.email == marker)).first() is not None


def test_the_lesson_page_remembers_the_lesson_through_the_real_session(sqlite_app, sqlite_engine):
    """A GET that writes (last opened lesson) declares it, and its write is committed."""
    from api.accounts import service as accounts
    from api.accounts.schemas import UserCreate
    from api.catalog import service as catalog
    from api.catalog.models import Lesson
    from api.learning import service as learning
    from api.learning.models import Enrolment, EnrolmentSource

    with Session(sqlite_engine, expire_on_commit=False) as s:
        user = accounts.create_user(s, UserCreate(email=f"reader-{secrets.token_hex(4)}@example.com",
                                                  full_name="Rhea Reader", password="correct-horse-battery"),
                                    verified=True)
        programme = catalog.get_by_slug(s, "acxp")
        learning.enrol(s, user_id=user.id, programme_id=programme.id, source=EnrolmentSource.admin_grant,
                       check_prerequisites=False)
        lesson = s.exec(select(Lesson).where(Lesson.programme_id == programme.id,
                                             Lesson.retired_at.is_(None))).first()
        s.commit()
    with TestClient(sqlite_app) as client:
        assert client.post("/api/v1/auth/login", json={"email": user.email,
                                                       "password": "correct-horse-battery"}).status_code == 200
        assert client.get(f"/learn/acxp/{lesson.slug}").status_code == 200
    with Session(sqlite_engine) as s:
        enrolment = s.exec(select(Enrolment).where(Enrolment.user_id == user.id)).one()
        assert enrolment.last_lesson_id == lesson.id


def test_60_parallel_registrations_and_log_ins_none_locked_out(sqlite_app, monkeypatch):
    """Writers queue for the lock (busy_timeout) rather than failing with "database is locked"; the slow
    password check holds no lock. (120 password hashes on a shared machine can take longer than the
    default slot queue allows, which would rightly be a 503: this is about locking, so the queue is long.)"""
    from api.core import db as db_module

    settings = db_module.get_settings()
    monkeypatch.setattr(db_module, "get_settings", lambda: settings.model_copy(update={"db_slot_timeout": 600}))
    results: list[tuple[int, int]] = []
    lock = threading.Lock()

    def one(client: TestClient, i: int) -> None:
        email = f"parallel-{i}-{secrets.token_hex(3)}@example.com"
        reg = client.post("/api/v1/auth/register", json={"email": email, "full_name": f"Person {i}",
                                                         "password": "correct-horse-battery"})
        good = client.post("/api/v1/auth/login", json={"email": email, "password": "correct-horse-battery"})
        with lock:
            results.append((reg.status_code, good.status_code))

    with TestClient(sqlite_app, client=("10.9.8.7", 4000)) as client:
        threads = [threading.Thread(target=one, args=(client, i)) for i in range(60)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=300)
    assert sorted(results) == [(201, 200)] * 60
