"""Oversized bodies are refused before they are read into memory."""

from __future__ import annotations

import pytest
from fastapi import File, UploadFile


def test_declared_oversized_body_gets_413(client):
    r = client.post("/webhooks/stripe", content=b"x" * (600 * 1024), headers={"Stripe-Signature": "t=1,v1=x"})
    assert r.status_code == 413 and r.json()["error"]["code"] == "too_large"
    r = client.post("/api/v1/auth/login", content=b"{" + b" " * (2 * 1024 * 1024) + b"}",
                    headers={"Content-Type": "application/json"})
    assert r.status_code == 413


def test_streamed_oversized_body_is_cut_off(client):
    def chunks():
        for _ in range(40):
            yield b"x" * (32 * 1024)

    r = client.post("/webhooks/stripe", content=chunks(), headers={"Stripe-Signature": "t=1,v1=x"})
    assert r.status_code == 413 and r.json()["error"]["code"] == "too_large"


def test_normal_bodies_pass(client):
    r = client.post("/api/v1/auth/login", json={"email": "nobody@example.com", "password": "whatever-123"})
    assert r.status_code == 422  # reached the handler


# --- routes that take uploads get the larger limit, declared once with UploadBody -------------------

UPLOAD_LIMIT = 4 * 1024 * 1024


@pytest.fixture
def upload_client(request, monkeypatch):
    """The real app with two upload routes added the way a domain declares one (an API route and a
    page), and the upload limit at 4 MB so the test sends little."""
    from fastapi.testclient import TestClient

    from api.core.config import get_settings
    from api.core.middleware import UploadBody

    monkeypatch.setattr(get_settings(), "max_upload_body_bytes", UPLOAD_LIMIT)
    app = request.getfixturevalue("app")

    @app.post("/api/v1/test-uploads/{key}/files", dependencies=[UploadBody])
    def api_upload(key: str, file: UploadFile = File(...)) -> dict:
        return {"key": key, "bytes": len(file.file.read())}

    @app.post("/test-uploads/{key}/files", dependencies=[UploadBody])
    def page_upload(key: str, file: UploadFile = File(...)) -> dict:
        return {"bytes": len(file.file.read())}

    with TestClient(app, base_url="http://testserver") as c:
        yield c


def test_an_upload_route_takes_more_than_the_generic_limit(upload_client):
    data = b"%PDF-" + b"x" * (3 * 1024 * 1024)
    r = upload_client.post("/api/v1/test-uploads/a1/files", files={"file": ("report.pdf", data, "application/pdf")})
    assert r.status_code == 200 and r.json() == {"key": "a1", "bytes": len(data)}


def test_an_upload_over_the_upload_limit_is_413_json_for_the_api(upload_client):
    data = b"x" * (UPLOAD_LIMIT + 1)
    r = upload_client.post("/api/v1/test-uploads/a1/files", files={"file": ("big.pdf", data, "application/pdf")})
    assert r.status_code == 413
    assert r.json()["error"]["code"] == "too_large"
    assert "larger than 4 MB, the most this address accepts" in r.json()["error"]["message"]


def test_an_upload_over_the_limit_is_a_friendly_page_for_a_browser(upload_client):
    data = b"x" * (UPLOAD_LIMIT + 1)
    r = upload_client.post("/test-uploads/a1/files", files={"file": ("big.pdf", data, "application/pdf")})
    assert r.status_code == 413 and r.headers["content-type"].startswith("text/html")
    assert "<h1>" in r.text and "larger than 4 MB, the most this address accepts. Nothing was saved" in r.text


def test_a_streamed_upload_over_the_limit_is_cut_off(upload_client):
    def chunks():
        yield b"--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.pdf\"\r\n\r\n"
        for _ in range(UPLOAD_LIMIT // (256 * 1024) + 2):
            yield b"x" * (256 * 1024)

    r = upload_client.post("/api/v1/test-uploads/a1/files", content=chunks(),
                           headers={"Content-Type": "multipart/form-data; boundary=b"})
    assert r.status_code == 413 and r.json()["error"]["code"] == "too_large"


def test_other_routes_keep_the_small_generic_limit(upload_client):
    two_mb = b"x" * (2 * 1024 * 1024)
    # A normal form (the log-in page) and a multipart body sent to a route that takes no uploads.
    r = upload_client.post("/login", data={"email": "a@example.com", "password": two_mb.decode()})
    assert r.status_code == 413 and "larger than 1 MB" in r.text
    r = upload_client.post("/api/v1/auth/login", files={"file": ("x.pdf", two_mb, "application/pdf")})
    assert r.status_code == 413 and "larger than 1 MB" in r.json()["error"]["message"]
    # Below the generic limit the log-in form is answered as usual.
    assert upload_client.post("/login", data={"email": "a@example.com", "password": "short"}).status_code != 413
    # And a prefix's own smaller limit still comes first.
    r = upload_client.post("/webhooks/stripe", content=b"x" * (600 * 1024), headers={"Stripe-Signature": "t=1,v1=x"})
    assert r.status_code == 413

