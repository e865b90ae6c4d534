"""The server never wedges: requests that hold a database session are bounded (session slots), the
pool has room for every slot, the threadpool outnumbers the slots, and when a connection cannot be
had in time the answer is a 503 with Retry-After in the standard shape, not a hang or a 500.

The load test is about correctness, not speed: a real `cadre serve` on loopback, on the suite's
database (PostgreSQL when CADRE_TEST_DATABASE_URL is set), 64 concurrent clients; every request must
get an answer below 500 within a generous bound. Before the fix one worker wedged at 32: every thread
waited for a pooled connection while every pooled connection waited for a thread to commit on."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
import time

import httpx
import pytest

from tests.conftest import ROOT, free_port

CLIENTS = 64
REQUESTS_EACH = 6
PATHS = ["/programmes", "/api/v1/programmes", "/programmes/acxs", "/hall-of-fame", "/api/v1/programmes/acxp",
         "/dashboard"]


def start_server(extra_env: dict[str, str] | None = None, log_path=None):
    """`cadre serve` in a subprocess on the suite's (already migrated and loaded) database."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CADRE_")}
    env.update({k: v for k, v in os.environ.items() if k.startswith("CADRE_")})  # the suite's settings
    env.update({"CADRE_PORT": str(port), "CADRE_HOST": "127.0.0.1", "CADRE_BASE_URL": f"http://127.0.0.1:{port}"})
    env.update(extra_env or {})
    log = open(log_path, "w") if log_path else subprocess.DEVNULL  # noqa: SIM115 - closed by stop_server
    # --no-worker: this server shares the suite's database, whose outbox and scheduled runs belong to
    # the tests that made them.
    proc = subprocess.Popen([sys.executable, "-m", "api.cli", "serve", "--no-worker"], env=env, cwd=ROOT, stdout=log,
                            stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return proc, base, log
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.terminate()
    raise RuntimeError("server did not start")


def stop_server(proc, log) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)
    if log is not subprocess.DEVNULL:
        log.close()


@pytest.fixture
def live(engine, tmp_path):
    proc, base, log = start_server(log_path=tmp_path / "server.log")
    yield base
    stop_server(proc, log)


def test_64_concurrent_clients_all_get_an_answer_and_none_is_a_server_error(live):
    statuses: list[int] = []
    failures: list[str] = []
    lock = threading.Lock()
    go = threading.Event()

    def client(i: int) -> None:
        with httpx.Client(base_url=live, timeout=90) as http:
            go.wait()
            for n in range(REQUESTS_EACH):
                path = PATHS[(i + n) % len(PATHS)]
                try:
                    status = http.get(path, follow_redirects=False).status_code
                except httpx.HTTPError as exc:
                    with lock:
                        failures.append(f"{path}: {type(exc).__name__}")
                    continue
                with lock:
                    statuses.append(status)

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(CLIENTS)]
    for t in threads:
        t.start()
    go.set()
    for t in threads:
        t.join(timeout=240)
    assert not any(t.is_alive() for t in threads), "clients still waiting for an answer: the server wedged"
    assert failures == [], failures[:5]
    assert len(statuses) == CLIENTS * REQUESTS_EACH
    assert [s for s in statuses if s >= 500] == []
    assert set(statuses) <= {200, 303}  # /dashboard sends the anonymous to log in


# --- 503, in-process, on the real session dependency -------------------------------------------------

@pytest.fixture
def tiny_pool(real_db, real_engine, monkeypatch):
    """The app on a pool of one connection that waits at most 0.3 s."""
    from api.core import db as db_module
    from api.core.db import make_engine

    url, kwargs = real_engine.cadre_recipe
    tiny = make_engine(url, pool_size=1, max_overflow=0, pool_timeout=0.3, **kwargs)
    monkeypatch.setattr(db_module, "get_engine", lambda: tiny)
    yield tiny
    tiny.dispose()


def test_no_connection_in_time_answers_503_with_retry_after(tiny_pool, real_client):
    # /api/v1/awards/cycles is never a kept page (an open cycle closes at a moment): it needs the database
    assert real_client.get("/api/v1/awards/cycles").status_code == 200
    assert real_client.get("/api/v1/programmes").status_code == 200
    held = tiny_pool.connect()  # the only connection
    try:
        r = real_client.get("/api/v1/awards/cycles")
        assert r.status_code == 503 and r.headers["retry-after"].isdigit()
        assert r.json()["error"]["code"] == "busy" and "Try again" in r.json()["error"]["message"]
        page = real_client.get("/hall-of-fame")  # not rendered yet: it needs the database
        assert page.status_code == 503 and "busy" in page.text and page.headers["retry-after"]
        # A public page already rendered for this content version needs no connection at all.
        assert real_client.get("/api/v1/programmes").status_code == 200
    finally:
        held.close()
    assert real_client.get("/api/v1/awards/cycles").status_code == 200  # and it recovers at once


def test_no_session_slot_in_time_answers_503(real_db, real_client, monkeypatch):
    from api.core import db as db_module

    settings = db_module.get_settings()
    monkeypatch.setattr(db_module, "get_settings", lambda: settings.model_copy(update={"db_slot_timeout": 0.3}))

    class NoSlots:
        def get(self):
            return asyncio.Semaphore(0)  # every slot taken

    monkeypatch.setattr(db_module, "SESSION_SLOTS", NoSlots())
    r = real_client.get("/api/v1/programmes")
    assert r.status_code == 503 and r.json()["error"]["code"] == "busy" and r.headers["retry-after"]


def test_the_pool_must_have_room_for_every_slot():
    from api.core.config import Settings

    with pytest.raises(ValueError, match="needs at least 20 connections"):
        Settings(db_pool_size=5, db_max_overflow=5, db_session_slots=10)
    with pytest.raises(ValueError, match="more than the 10 session slots"):
        Settings(db_pool_size=10, db_max_overflow=10, threadpool_threads=10)
    s = Settings(db_pool_size=10, db_max_overflow=10)
    assert s.session_slots == 10 and s.threads > s.session_slots


def test_startup_gives_the_threadpool_more_threads_than_session_slots(real_app, real_db):
    import anyio
    from fastapi.testclient import TestClient

    from api.core.config import get_settings

    @real_app.get("/_load/threads")
    async def threads():
        return {"threads": anyio.to_thread.current_default_thread_limiter().total_tokens}

    with TestClient(real_app) as client:
        threads = client.get("/_load/threads").json()["threads"]
    settings = get_settings()
    assert threads == settings.threads and threads > settings.session_slots
