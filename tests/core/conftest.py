"""A real database for the tests that must drive the real session dependency (no override): commits
really commit there, so it is kept apart from the suite's rolled-back database. SQLite: a file of its
own; PostgreSQL: a schema of its own in the test database."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest
from sqlalchemy import text
from sqlmodel import Session, SQLModel

from tests.conftest import Browserish


@pytest.fixture(scope="session")
def real_engine(engine, tmp_path_factory):
    import api.models  # noqa: F401 - every table
    from api.catalog.sync import sync
    from api.core.config import get_settings
    from api.core.db import make_engine

    settings = get_settings()
    schema = None
    if settings.is_sqlite:
        url, kwargs = f"sqlite:///{tmp_path_factory.mktemp('real') / 'real.db'}", {}
    else:
        schema = f"real_{secrets.token_hex(4)}"
        with engine.begin() as conn:
            conn.execute(text(f"CREATE SCHEMA {schema}"))
        url, kwargs = settings.database_url, {"connect_args": {"options": f"-csearch_path={schema}"}}
    eng = make_engine(url, **kwargs)
    eng.cadre_recipe = (url, kwargs)  # to make another engine (another pool) on the same database
    SQLModel.metadata.create_all(eng)
    with Session(eng) as s:
        sync(s, settings.content_dir)
        s.commit()
    yield eng
    eng.dispose()
    if schema:
        with engine.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))


@pytest.fixture
def real_db(real_engine, monkeypatch) -> Iterator:
    """The app's engine is the real database's; yields a function opening a fresh session on it."""
    from api.core import db as db_module

    monkeypatch.setattr(db_module, "get_engine", lambda: real_engine)
    yield lambda: Session(real_engine, expire_on_commit=False)


@pytest.fixture
def real_app(real_db):
    from api.main import create_app

    return create_app()  # no dependency override: the real get_session


@pytest.fixture
def real_client(real_app):
    from fastapi.testclient import TestClient

    with TestClient(real_app, base_url="http://testserver") as c:
        yield c


@pytest.fixture
def real_browser(real_client) -> Browserish:
    return Browserish(real_client)


@pytest.fixture
def real_user(real_db):
    """Makes a committed, verified account in the real database."""
    from api.accounts import service
    from api.accounts.schemas import UserCreate

    def make(*, roles=None, name: str = "Real Person", password: str = "correct-horse-battery"):
        email = f"real-{secrets.token_hex(5)}@example.com"
        with real_db() as s:
            user = service.create_user(s, UserCreate(email=email, full_name=name, password=password),
                                       roles=roles, verified=True)
            s.commit()
        return user

    return make


def log_in(client, user, password: str = "correct-horse-battery") -> None:
    r = client.post("/api/v1/auth/login", json={"email": user.email, "password": password})
    assert r.status_code == 200, r.text
