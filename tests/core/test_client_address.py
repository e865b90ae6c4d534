"""X-Forwarded-For is believed only from the proxies in CADRE_TRUSTED_PROXIES (empty by default), so
rotating it does not get round the per-address limits. Proved on the certificate look-up limit
(60 a minute per address)."""

from __future__ import annotations

import httpx
from fastapi.testclient import TestClient

from api.core import counters
from tests.core.test_sessions_under_load import start_server, stop_server

LOOKUPS = 61  # one more than the limit


def _rotating(get) -> list[int]:
    return [get(f"203.0.113.{i}").status_code for i in range(LOOKUPS)]


def test_cadre_serve_ignores_forwarded_for_from_a_loopback_client(engine, tmp_path):
    proc, base, log = start_server(log_path=tmp_path / "server.log")
    try:
        with httpx.Client(base_url=base, timeout=30) as http:
            statuses = _rotating(lambda ip: http.get("/api/v1/credentials/no-such-certificate",
                                                     headers={"X-Forwarded-For": ip}))
    finally:
        stop_server(proc, log)
    assert statuses[:LOOKUPS - 1] == [404] * (LOOKUPS - 1) and statuses[-1] == 429


def _app_trusting(monkeypatch, app_factory, trusted: str):
    import api.main

    settings = api.main.get_settings()
    monkeypatch.setattr(api.main, "get_settings", lambda: settings.model_copy(update={"trusted_proxies": trusted}))
    return app_factory()


def test_a_configured_proxy_is_believed_and_nobody_else(app, db, monkeypatch):
    from api.core.db import get_session
    from api.main import create_app

    def factory():
        trusting = create_app()
        trusting.dependency_overrides[get_session] = app.dependency_overrides[get_session]
        return trusting

    trusting = _app_trusting(monkeypatch, factory, "10.0.0.0/8, 192.0.2.1")
    with TestClient(trusting, client=("10.20.30.40", 5000)) as via_proxy:
        statuses = _rotating(lambda ip: via_proxy.get("/api/v1/credentials/no-such-certificate",
                                                      headers={"X-Forwarded-For": f"{ip}, 10.20.30.41"}))
    assert statuses == [404] * LOOKUPS  # each address its own count: the proxy said who the clients are
    assert len(_counted("verify:203.0.113.")) == LOOKUPS  # the look-up counters (in memory without Redis)
    with TestClient(trusting, client=("198.51.100.7", 5000)) as stranger:
        statuses = _rotating(lambda ip: stranger.get("/api/v1/credentials/no-such-certificate",
                                                     headers={"X-Forwarded-For": ip}))
    assert statuses[-1] == 429  # not a trusted proxy: its header is ignored


def test_verify_pages_count_the_address_a_configured_proxy_gives(app, db, monkeypatch):
    """The verify pages are answered before the middleware (api/main.py CadreApp): the forwarded address
    is still the one counted."""
    from api.core.db import get_session
    from api.main import create_app

    def factory():
        trusting = create_app()
        trusting.dependency_overrides[get_session] = app.dependency_overrides[get_session]
        return trusting

    trusting = _app_trusting(monkeypatch, factory, "10.0.0.0/8")
    with TestClient(trusting, client=("10.20.30.40", 5000)) as via_proxy:
        statuses = _rotating(lambda ip: via_proxy.get("/verify/no-such-certificate",
                                                      headers={"X-Forwarded-For": ip}))
    assert statuses == [404] * LOOKUPS
    assert len(_counted("verify:203.0.113.")) == LOOKUPS
    with TestClient(trusting, client=("198.51.100.7", 5000)) as stranger:
        statuses = _rotating(lambda ip: stranger.get("/verify/no-such-certificate", headers={"X-Forwarded-For": ip}))
    assert statuses[-1] == 429


def test_by_default_forwarded_headers_are_ignored_in_process(client, db):
    statuses = _rotating(lambda ip: client.get("/api/v1/credentials/no-such-certificate",
                                               headers={"X-Forwarded-For": ip}))
    assert statuses[-1] == 429
    assert not _counted("verify:203.0.113.")


def _counted(prefix: str) -> set[str]:
    return {bucket for bucket, _window in counters.MEMORY.counts if bucket.startswith(prefix)}
