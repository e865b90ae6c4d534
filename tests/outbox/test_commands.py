"""`cadre worker` and `cadre serve`'s embedded worker, as an operator runs them: a real process on its
own SQLite database, mail through the console backend (printed and filed under var/mail)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import delete
from sqlmodel import Session

from api.core import email as mail
from api.outbox.models import ScheduledRun
from tests.conftest import MAILBOX, free_port

ROOT = Path(__file__).resolve().parents[2]


def test_cadre_worker_once_sends_what_is_queued_and_runs_the_due_jobs(engine, capsys):
    from api.cli import main

    with Session(engine) as s:
        # Runs recorded in this period by anything before this test would make the jobs look done.
        s.exec(delete(ScheduledRun))
        start = 0
        mail.queue(s, "cron@example.com", "Sent by cadre worker --once", "Hello.\n")
        s.commit()
    MAILBOX.clear()
    try:
        assert main(["worker", "--once"]) == 0
        out = capsys.readouterr().out
        assert "handled 1 message(s)" in out and "payments.sweep" in out and "0 pending" in out
        assert [m["Subject"] for m in MAILBOX.received if m["To"] == "cron@example.com"] == \
            ["Sent by cadre worker --once"]
        assert main(["worker", "--once"]) == 0  # the jobs already ran in this slot; nothing left to send
        assert "Ran 0 scheduled job(s); handled 0 message(s)" in capsys.readouterr().out
    finally:
        MAILBOX.clear()
        with Session(engine) as s:
            s.exec(delete(ScheduledRun).where(ScheduledRun.id > start))
            s.commit()


@pytest.fixture
def site(tmp_path):
    """A fresh clone's settings: development, SQLite, console email; migrated like `make run`."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CADRE_")}
    env.update({"CADRE_ENV": "development", "CADRE_DATABASE_URL": f"sqlite:///{tmp_path / 'cadre.db'}",
                "CADRE_VAR_DIR": str(tmp_path / "var"), "CADRE_KEYS_DIR": str(tmp_path / "keys"),
                "CADRE_PORT": str(port), "CADRE_EMAIL_BACKEND": "console",
                "CADRE_SECRET_KEY": "serve-test-secret-key-long-enough-0123456789", "CADRE_WORKER_POLL_SECONDS": "0.2"})
    subprocess.run([sys.executable, "-m", "api.cli", "db", "upgrade"], env=env, cwd=ROOT, check=True,
                   capture_output=True)
    return {"env": env, "url": f"http://127.0.0.1:{port}", "mail": tmp_path / "var" / "mail", "tmp": tmp_path}


def _serve(site, *extra: str):
    log = open(site["tmp"] / "serve.log", "w")  # noqa: SIM115 - closed by the caller
    proc = subprocess.Popen([sys.executable, "-m", "api.cli", "serve", *extra], env=site["env"], cwd=ROOT,
                            stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{site['url']}/healthz", timeout=1).status_code == 200:
                return proc, log
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise AssertionError((site["tmp"] / "serve.log").read_text())


def _register(site, email: str) -> None:
    r = httpx.post(f"{site['url']}/api/v1/auth/register",
                   json={"email": email, "full_name": "Fresh Clone", "password": "a-long-password"}, timeout=30)
    assert r.status_code == 201, r.text


def _filed(site, timeout: float) -> list[str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        files = sorted(site["mail"].glob("*.eml")) if site["mail"].exists() else []
        if files:
            return [f.read_text() for f in files]
        time.sleep(0.2)
    return []


def _stop(proc, log) -> int:
    proc.send_signal(signal.SIGINT)  # Ctrl-C
    try:
        return proc.wait(timeout=20)
    finally:
        log.close()


def test_cadre_serve_delivers_the_confirmation_email_through_its_embedded_worker(site):
    proc, log = _serve(site)
    try:
        _register(site, "fresh@example.com")
        [eml] = _filed(site, timeout=30)
        assert "To: fresh@example.com" in eml and "/verify-email?token=" in eml
    finally:
        _stop(proc, log)
    printed = (site["tmp"] / "serve.log").read_text()
    assert "--- email to fresh@example.com: Confirm your email address for Cadre ---" in printed
    assert proc.returncode is not None  # Ctrl-C stops the server and its worker


def test_with_no_worker_the_mail_waits_for_cadre_worker(site):
    proc, log = _serve(site, "--no-worker")
    try:
        _register(site, "later@example.com")
        assert _filed(site, timeout=3) == []  # nobody is draining the outbox
    finally:
        _stop(proc, log)
    done = subprocess.run([sys.executable, "-m", "api.cli", "worker", "--once"], env=site["env"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "handled 1 message(s)" in done.stdout
    [eml] = _filed(site, timeout=1)
    assert "To: later@example.com" in eml
