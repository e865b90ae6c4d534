"""Verify pages and the verification API for anonymous viewers are kept once rendered and answered
after one read of the certificate's status, committed by any process: a revocation, a suspension and
a reinstatement still show on the very next view."""

from __future__ import annotations

import secrets

import pytest
from sqlalchemy import delete, event
from sqlmodel import Session

from api.accounts import service as accounts
from api.accounts.models import Role, User
from api.accounts.schemas import UserCreate
from api.catalog import service as catalog
from api.certificates import service
from api.learning import service as learning
from api.learning.models import EnrolmentSource
from tests.realapp import real_client


@pytest.fixture
def committed(engine):
    """An issued certificate and an admin, committed for real (another process sees them), removed after."""
    tag = secrets.token_hex(4)
    with Session(engine, expire_on_commit=False) as s:
        holder = accounts.create_user(s, UserCreate(email=f"kept-{tag}@example.com", full_name="Kept Holder",
                                                    password="correct-horse-battery"), verified=True)
        admin = accounts.create_user(s, UserCreate(email=f"kept-admin-{tag}@example.com", full_name="Kept Admin",
                                                   password="correct-horse-battery"), roles={Role.admin}, verified=True)
        programme = catalog.get_by_slug(s, "acxs")
        e = learning.enrol(s, user_id=holder.id, programme_id=programme.id, source=EnrolmentSource.admin_grant)
        e.status = "completed"
        cert = service.issue(s, user=holder, programme=programme, holder_name=holder.full_name, enrolment=e)
        s.commit()
    yield cert, admin
    with engine.begin() as conn:
        conn.execute(delete(User).where(User.id.in_([holder.id, admin.id])))


def _change(engine, cert, action, admin):
    with Session(engine, expire_on_commit=False) as s:
        service.change_status(s, s.get(type(cert), cert.id), action, f"{action} in a test", s.get(User, admin.id))
        s.commit()


def _statements(engine, call):
    count = [0]

    def on_execute(*_args):
        count[0] += 1

    event.listen(engine, "before_cursor_execute", on_execute)
    try:
        return call(), count[0]
    finally:
        event.remove(engine, "before_cursor_execute", on_execute)


def test_a_kept_verify_page_still_shows_each_status_change_at_once(engine, committed, monkeypatch):
    cert, admin = committed
    with real_client() as client:
        first = client.get(f"/verify/{cert.slug}")
        assert first.status_code == 200 and '<h1 id="result">Valid</h1>' in first.text
        full_path = service.by_slug

        def not_again(*_args, **_kwargs):
            raise AssertionError("the kept answer should have been sent")

        monkeypatch.setattr(service, "by_slug", not_again)
        again, statements = _statements(engine, lambda: client.get(f"/verify/{cert.slug}"))
        assert '<h1 id="result">Valid</h1>' in again.text and "Kept Holder" in again.text
        assert statements <= 3  # the status read (with its BEGIN / ROLLBACK on SQLite), nothing else
        assert again.headers["cache-control"] == "no-store" and again.headers["content-security-policy"]
        assert "Checked " in again.text
        monkeypatch.setattr(service, "by_slug", full_path)
        api = client.get(f"/api/v1/credentials/{cert.slug}/verification")
        monkeypatch.setattr(service, "by_slug", not_again)
        api_again, statements = _statements(engine, lambda: client.get(f"/api/v1/credentials/{cert.slug}/verification"))
        assert api.json()["verified"] is True and api_again.json()["verified"] is True and statements <= 3
        assert api_again.json()["checks"] == api.json()["checks"]
        monkeypatch.setattr(service, "by_slug", full_path)

        _change(engine, cert, "suspend", admin)  # as an admin in another process would
        page = client.get(f"/verify/{cert.slug}")
        assert '<h1 id="result">Suspended</h1>' in page.text
        assert client.get(f"/api/v1/credentials/{cert.slug}/verification").json()["status"] == "suspended"
        assert '<h1 id="result">Suspended</h1>' in client.get(f"/verify/{cert.slug}").text  # kept again, as it is now

        _change(engine, cert, "reinstate", admin)
        assert '<h1 id="result">Valid</h1>' in client.get(f"/verify/{cert.slug}").text

        _change(engine, cert, "revoke", admin)
        revoked = client.get(f"/verify/{cert.slug}")
        assert '<h1 id="result">Revoked</h1>' in revoked.text and "revoke in a test" in revoked.text
        body = client.get(f"/api/v1/credentials/{cert.slug}/verification").json()
        assert body["status"] == "revoked" and body["verified"] is False


def test_a_logged_in_viewer_never_gets_the_kept_page(engine, committed):
    cert, admin = committed
    with real_client() as client:
        client.get(f"/verify/{cert.slug}")
        token = client.post("/api/v1/auth/login", json={"email": admin.email,
                                                         "password": "correct-horse-battery"}).json()["token"]
        client.cookies.set("cadre_session", token)
        mine = client.get(f"/verify/{cert.slug}")
        assert "Log out" in mine.text and "Log in" not in mine.text
        client.cookies.clear()
        assert "Log in" in client.get(f"/verify/{cert.slug}").text


def test_kept_answers_still_count_towards_the_look_up_limit(engine, committed, monkeypatch):
    from api.core.config import get_settings

    cert, _ = committed
    monkeypatch.setenv("CADRE_LOOKUPS_PER_MINUTE", "5")
    get_settings.cache_clear()
    try:
        with real_client() as client:
            codes = [client.get(f"/verify/{cert.slug}").status_code for _ in range(6)]
    finally:
        get_settings.cache_clear()
    assert codes == [200] * 5 + [429]


def test_kept_answers_carry_a_request_id_and_write_their_request_line(engine, committed, monkeypatch):
    """Sent before the app's layers, a kept answer is still one a support person can trace."""
    import logging

    from api.core.logging import request_id

    cert, _ = committed
    lines: list[tuple[str, int, str | None]] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.getMessage() == "request":
                lines.append((record.path, record.status, request_id.get()))

    with real_client() as client:
        keep = Keep()
        logging.getLogger("cadre.request").addHandler(keep)
        try:
            client.get(f"/verify/{cert.slug}")
            monkeypatch.setattr(service, "by_slug", lambda *_a, **_k: pytest.fail("the kept answer should be sent"))
            del lines[:]
            kept = client.get(f"/verify/{cert.slug}", headers={"X-Request-ID": "support-case-7"})
            fresh = client.get(f"/api/v1/credentials/{cert.slug}/verification")
            did = client.get("/.well-known/did.json")
        finally:
            logging.getLogger("cadre.request").removeHandler(keep)
    assert kept.status_code == 200 and kept.headers["x-request-id"] == "support-case-7"
    assert fresh.headers["x-request-id"] and fresh.headers["x-request-id"] != "support-case-7"
    assert did.status_code == 200
    assert did.headers["x-request-id"] not in ("support-case-7", fresh.headers["x-request-id"])
    assert (f"/verify/{cert.slug}", 200, "support-case-7") in lines
    assert (f"/api/v1/credentials/{cert.slug}/verification", 200, fresh.headers["x-request-id"]) in lines
    assert ("/.well-known/did.json", 200, did.headers["x-request-id"]) in lines
