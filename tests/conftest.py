"""Test wiring: a real database (SQLite file, or PostgreSQL when CADRE_TEST_DATABASE_URL is set),
migrated once and loaded with the real catalogue; every test runs inside a transaction that is
rolled back; mail goes to a real SMTP server (aiosmtpd) on 127.0.0.1."""

from __future__ import annotations

import os
import re
import socket
import tempfile
from collections.abc import Iterator
from email import message_from_bytes
from email import policy as email_policy
from email.message import Message
from pathlib import Path

import pytest
from fastapi import Request

from tests.s3server import s3_bucket, s3_server, use_s3  # noqa: F401 - fixtures for every test

ROOT = Path(__file__).resolve().parents[1]
_TMP = Path(tempfile.mkdtemp(prefix="cadre-tests-"))


# A seller's own details: production refuses the development example seller (CADRE_SELLER_*).
REAL_SELLER = {"seller_legal_name": "Northgate Learning Ltd", "seller_address": "2 Quay Street; Bristol BS1 4XX",
               "seller_vat_number": "GB123456789"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Mailbox:
    """What the local SMTP server received. Through the `mailbox` fixture, reading it first lets the
    worker handle what is queued (as `cadre worker` would a moment later); `received` is what the
    server has got so far, without running the worker."""

    def __init__(self) -> None:
        self.received: list[Message] = []
        self.before_read = None

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.received.append(message_from_bytes(envelope.original_content, policy=email_policy.default))
        return "250 OK"

    def clear(self) -> None:
        self.received.clear()

    @property
    def messages(self) -> list[Message]:
        if self.before_read is not None:
            self.before_read()
        return self.received

    def to(self, address: str) -> list[Message]:
        return [m for m in self.messages if address.lower() in m["To"].lower()]

    def subjects(self, address: str) -> list[str]:
        """Subjects as a mail client shows them (a long one is folded onto the next line)."""
        return [" ".join(str(m["Subject"]).split()) for m in self.to(address)]

    @staticmethod
    def body(msg: Message) -> str:
        return msg.get_payload(decode=True).decode() if not msg.is_multipart() else \
            msg.get_payload(0).get_payload(decode=True).decode()

    def link(self, address: str, path: str) -> str:
        """The token of the newest link to `path` mailed to `address`."""
        for msg in reversed(self.to(address)):
            m = re.search(re.escape(path) + r"\?token=([\w-]+)", self.body(msg))
            if m:
                return m.group(1)
        raise AssertionError(f"no {path} link mailed to {address}")


MAILBOX = Mailbox()
_SMTP = None


def pytest_configure(config: pytest.Config) -> None:
    global _SMTP
    from aiosmtpd.controller import Controller

    port = free_port()
    _SMTP = Controller(MAILBOX, hostname="127.0.0.1", port=port)
    _SMTP.start()
    url = os.environ.get("CADRE_TEST_DATABASE_URL") or f"sqlite:///{_TMP / 'test.db'}"
    os.environ.update({
        "CADRE_ENV": "test",
        "CADRE_DATABASE_URL": url,
        "CADRE_SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
        "CADRE_EMAIL_BACKEND": "smtp",
        "CADRE_SMTP_HOST": "127.0.0.1",
        "CADRE_SMTP_PORT": str(port),
        "CADRE_VAR_DIR": str(_TMP / "var"),
        "CADRE_KEYS_DIR": str(_TMP / "keys"),
        "CADRE_BASE_URL": "http://testserver",
    })


def pytest_unconfigure(config: pytest.Config) -> None:
    if _SMTP is not None:
        _SMTP.stop()


@pytest.fixture(scope="session")
def engine():
    from sqlalchemy import text
    from sqlmodel import Session

    from api.catalog.sync import sync
    from api.cli import cmd_db_upgrade
    from api.core.config import get_settings
    from api.core.db import get_engine

    settings = get_settings()
    eng = get_engine()
    if not settings.is_sqlite:
        with eng.begin() as conn:  # a clean slate on PostgreSQL
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    import argparse

    cmd_db_upgrade(argparse.Namespace(revision="head"))
    with Session(eng) as s:
        sync(s, settings.content_dir)
        s.commit()
    from api.certificates import keys as keystore

    keystore.create_key()
    yield eng
    eng.dispose()


@pytest.fixture
def db(engine) -> Iterator:
    """A session whose every commit is a savepoint inside a transaction rolled back at the end."""
    from sqlmodel import Session

    conn = engine.connect()
    outer = conn.begin()
    session = Session(bind=conn, join_transaction_mode="create_savepoint", expire_on_commit=False)
    try:
        yield session
    finally:
        session.close()
        outer.rollback()
        conn.close()


@pytest.fixture
def app(db):
    from api.core.db import get_session, unit_of_work_scope, wants_write
    from api.main import create_app

    application = create_app()

    def session_override(request: Request):
        # The real dependency's commit-or-roll-back logic, on the test's one connection. Durable writes
        # (rate limits, failed log-ins) stay inside the test's transaction and are replayed after a
        # rollback. The connection is marked read-only for GET requests, as the real engine does, so an
        # undeclared write in a GET route fails here on SQLite.
        connection = db.connection()
        connection.execution_options(cadre_write=wants_write(request))
        try:
            with unit_of_work_scope(db, durable_in_session=True):
                yield db
        finally:
            connection.execution_options(cadre_write=True)

    application.dependency_overrides[get_session] = session_override
    # The kept logged-in pages read the session and its versions through the test's one connection too:
    # nothing the test writes is committed, so no other connection would see it.
    from api.core import viewerversion

    viewerversion.read_connection = db.connection()
    yield application
    viewerversion.read_connection = None


@pytest.fixture
def client(app):
    from fastapi.testclient import TestClient

    with TestClient(app, base_url="http://testserver") as c:
        yield c


@pytest.fixture(autouse=True)
def _outbox_rows_committed_by_the_test_are_removed(request):
    """Most tests roll everything back; a test that commits for real (a CLI command, threads on
    PostgreSQL) may leave outbox rows behind, which a later test's worker would deliver. Gone here."""
    if "engine" not in request.fixturenames:
        yield
        return
    from sqlalchemy import delete, func, select

    from api.outbox.models import OutboxMessage

    engine = request.getfixturevalue("engine")
    with engine.connect() as conn:
        start = conn.execute(select(func.max(OutboxMessage.id))).scalar() or 0
    yield
    with engine.begin() as conn:
        conn.execute(delete(OutboxMessage).where(OutboxMessage.id > start))


@pytest.fixture(autouse=True)
def _counters_in_memory_start_empty():
    """Each test's database writes are rolled back; what processes keep in memory is emptied the same
    way, so one test's look-ups do not count against the next (api/core/counters.py)."""
    from api.certificates import stored, verified_pages
    from api.core import counters

    counters.MEMORY.clear()
    stored._LISTS.clear()  # status lists a rolled-back test made may get the same ids again on SQLite
    verified_pages.forget()
    yield
    counters.MEMORY.clear()
    stored._LISTS.clear()


@pytest.fixture
def drain(db):
    """Run the worker now, on the test's session, until nothing is due: `drain()` (or
    `drain(now=...)` to act as if later). Returns how many messages it handled."""
    from contextlib import nullcontext

    from api.outbox.worker import Worker

    worker = Worker(sessions=lambda: nullcontext(db), name="test-worker")
    return lambda now=None: worker.drain(now)


@pytest.fixture
def mailbox(drain) -> Iterator[Mailbox]:
    MAILBOX.clear()
    MAILBOX.before_read = drain
    yield MAILBOX
    MAILBOX.before_read = None
    MAILBOX.clear()


def csrf_from(html: str) -> str:
    m = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert m, "page has no CSRF token"
    return m.group(1)


class Browserish:
    """Form posts the way a browser makes them: fetch the page, send its CSRF token back."""

    def __init__(self, client):
        self.client = client

    def post_form(self, page: str, to: str | None = None, /, **data):
        token = csrf_from(self.client.get(page).text)
        return self.client.post(to or page, data={"csrf_token": token, **data}, follow_redirects=False)


@pytest.fixture
def browser(client) -> Browserish:
    return Browserish(client)


@pytest.fixture
def make_user(db):
    from api.accounts import service
    from api.accounts.models import Role
    from api.accounts.schemas import UserCreate

    counter = iter(range(1, 10_000))

    def make(email: str | None = None, *, name: str = "Test Person", password: str = "correct-horse-battery",
             roles: set[Role] | None = None, verified: bool = True):
        email = email or f"user{next(counter)}@example.com"
        user = service.create_user(db, UserCreate(email=email, full_name=name, password=password),
                                   roles=roles, verified=verified)
        db.commit()
        return user

    return make


@pytest.fixture
def login(client):
    def do(email: str, password: str = "correct-horse-battery"):
        r = client.post("/api/v1/auth/login", json={"email": email, "password": password})
        assert r.status_code == 200, r.text
        return r.json()["token"]

    return do
