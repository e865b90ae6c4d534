"""Input that used to answer 500 gets a clear 4xx in the standard shape, checked once for the whole app:
NUL characters, explicit nulls, absurd nesting, direction-changing characters in names, oversized
chunked bodies; races the database catches are 409s; a 500 carries the request id to quote."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from api.accounts.models import Role, User
from api.core.db import SessionDep


def _error(r, status: int, code: str | None = None) -> dict:
    assert r.status_code == status, r.text
    body = r.json()["error"]
    assert body["message"]
    if code:
        assert body["code"] == code, body
    return body


# --- NUL ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("url", ["/api/v1/programmes/%00", "/api/v1/programmes/acxp%00x",
                                 "/api/v1/programmes?search=a%00b"])
def test_a_nul_in_the_address_is_400(client, url):
    _error(client.get(url), 400, "invalid_input")


def test_a_nul_in_a_page_address_is_a_400_page(client):
    r = client.get("/programmes/%00")
    assert r.status_code == 400 and "NUL" in r.text and "<html" in r.text.lower()


def test_a_nul_in_a_form_field_is_400(client):
    r = client.post("/login", data={"email": "nul\x00@example.com", "password": "whatever-123"})
    assert r.status_code == 400 and "NUL" in r.text
    r = client.post("/login", content=b"email=a%00b%40example.com&password=x",
                    headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 400


def test_a_nul_in_a_json_string_is_400_even_escaped(client, make_user, login):
    _error(client.post("/api/v1/auth/login", json={"email": "a\u0000@example.com", "password": "x"}),
           400, "invalid_input")
    _error(client.post("/api/v1/auth/register", content=b'{"email": "n@example.com", "full_name": "A\\u0000B", '
                                                         b'"password": "long-enough-pw"}',
                       headers={"Content-Type": "application/json"}), 400, "invalid_input")
    user = make_user()
    login(user.email)
    _error(client.patch("/api/v1/auth/me", json={"full_name": "Nul\u0000Name"}), 400, "invalid_input")
    # A backslash followed by "u0000" is just text: it reaches the route (which validates the email).
    r = client.post("/api/v1/auth/login", json={"email": "\\u0000@example.com", "password": "x"})
    assert r.status_code == 422


# --- explicit null -----------------------------------------------------------------------------------

def test_an_explicit_null_for_a_required_field_is_422(client, make_user, login):
    user = make_user(name="Nora Null")
    login(user.email)
    body = _error(client.patch("/api/v1/auth/me", json={"full_name": None}), 422, "invalid")
    assert body["fields"][0]["field"] == "full_name" and "null" in body["fields"][0]["message"]
    assert client.patch("/api/v1/auth/me", json={}).json()["full_name"] == "Nora Null"  # left out: kept


# --- nesting -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("headers", [{"Content-Type": "application/json"}, {}])
def test_deeply_nested_json_is_refused_before_any_parser_recurses(client, headers):
    deep = b"[" * 2048 + b"]" * 2048
    _error(client.post("/api/v1/verify", content=deep, headers=headers), 422, "too_deeply_nested")
    deep_object = b'{"a":' * 100 + b"1" + b"}" * 100
    _error(client.post("/api/v1/auth/login", content=deep_object, headers={"Content-Type": "application/json"}),
           422, "too_deeply_nested")


def test_ordinary_nesting_and_brackets_in_strings_pass(client):
    shallow = b'{"a": [[[{"b": "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]"}]]]}'
    r = client.post("/api/v1/verify", content=shallow, headers={"Content-Type": "application/json"})
    assert r.status_code == 200 and r.json()["verified"] is False  # the verifier's own answer
    quoted = b'{"x": "' + b"[" * 200 + b'"}'
    assert client.post("/api/v1/verify", content=quoted, headers={"Content-Type": "application/json"}).status_code \
        == 200


# --- names -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["Ada \u202eecalvoL", "\u2066Ada\u2069 Lovelace", "Ada\u200f Lovelace",
                                  "Ada\u0007 Lovelace", "Ada\u009b Lovelace"])
def test_names_with_direction_or_control_characters_are_refused(client, make_user, login, name):
    body = _error(client.post("/api/v1/auth/register", json={"email": "bidi@example.com", "full_name": name,
                                                             "password": "long-enough-pw"}), 422, "invalid")
    assert body["fields"][0]["field"] == "full_name"
    user = make_user()
    login(user.email)
    _error(client.patch("/api/v1/auth/me", json={"full_name": name}), 422, "invalid")


def test_names_in_other_scripts_pass(client, make_user, login):
    user = make_user()
    login(user.email)
    for name in ("Zoë Ñúñez-O'Brien", "محمد عبد الله", "李小龍", "Ελένη Παπαδοπούλου", "می‌خواهم"):
        assert client.patch("/api/v1/auth/me", json={"full_name": name}).json()["full_name"] == name


def test_the_certificate_name_and_reasons_refuse_direction_characters(db, make_user):
    from api.catalog import service as catalog_service
    from api.certificates import service
    from api.core.errors import Invalid
    from api.learning import service as learning_service
    from api.learning.models import EnrolmentSource, EnrolmentStatus

    user = make_user(name="Omar Okafor")
    programme = catalog_service.get_by_slug(db, "acxs")
    enrolment = learning_service.enrol(db, user_id=user.id, programme_id=programme.id,
                                       source=EnrolmentSource.admin_grant, check_prerequisites=False)
    enrolment.status = EnrolmentStatus.completed.value
    with pytest.raises(Invalid, match="direction-changing"):
        service.issue(db, user=user, programme=programme, holder_name="Omar \u202eRAMO", enrolment=enrolment)
    cert = service.issue(db, user=user, programme=programme, holder_name="Omar Okafor", enrolment=enrolment)
    admin = make_user(roles={Role.admin})
    with pytest.raises(Invalid, match="direction-changing"):
        service.change_status(db, cert, "suspend", "Under review \u202e", admin)


# --- size --------------------------------------------------------------------------------------------

def _chunks(total: int, size: int = 64 * 1024):
    sent = 0
    while sent < total:
        yield b"a" * size
        sent += size


@pytest.mark.parametrize("content_type", ["application/x-www-form-urlencoded", "multipart/form-data; boundary=xyz",
                                          "application/json"])
def test_an_oversized_chunked_body_is_413(client, content_type):
    r = client.post("/login", content=_chunks(2 * 1024 * 1024), headers={"Content-Type": content_type})
    assert r.status_code == 413 and "larger than" in r.text
    r = client.post("/api/v1/auth/login", content=_chunks(2 * 1024 * 1024), headers={"Content-Type": content_type})
    _error(r, 413, "too_large")


# --- races the database catches, and the 500 ---------------------------------------------------------

@pytest.fixture
def raw_client(app):
    @app.post("/api/v1/_test/duplicate-user")
    def duplicate_user(session: SessionDep):
        # What a race that slipped past the service's own check looks like: the unique index says no.
        session.add(User(email="twice@example.com", full_name="Twice", password_hash="x"))
        session.flush()
        session.add(User(email="twice@example.com", full_name="Twice Again", password_hash="x"))
        session.flush()
        return {"ok": True}

    @app.post("/_test/duplicate-user")
    def duplicate_user_page(session: SessionDep):
        return duplicate_user(session)

    @app.get("/api/v1/_test/boom")
    def boom():
        raise RuntimeError("boom")

    @app.get("/_test/boom")
    def boom_page():
        raise RuntimeError("boom")

    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def test_a_unique_violation_answers_409_not_500(raw_client, db):
    from sqlmodel import select

    body = _error(raw_client.post("/api/v1/_test/duplicate-user"), 409, "conflict")
    assert "already exists" in body["message"]
    r = raw_client.post("/_test/duplicate-user")
    assert r.status_code == 409 and "already exists" in r.text
    assert db.exec(select(User).where(User.email == "twice@example.com")).first() is None  # rolled back


def test_a_500_names_the_request_id_to_quote(raw_client):
    r = raw_client.get("/api/v1/_test/boom")
    rid = r.headers["x-request-id"]
    assert r.status_code == 500 and rid and rid != "-"
    assert f"quote request id {rid}" in r.json()["error"]["message"]
    r = raw_client.get("/_test/boom", headers={"X-Request-ID": "support-case-42"})
    assert r.status_code == 500 and r.headers["x-request-id"] == "support-case-42"
    assert "quote request id support-case-42" in r.text
