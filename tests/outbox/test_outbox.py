"""The outbox as a person and an operator meet it: a change's email is written with the change and
sent by the worker, not by the request; a mail outage delays mail instead of slowing pages or losing
it; what keeps failing becomes a dead letter an admin can see and retry."""

from __future__ import annotations

from contextlib import nullcontext
from datetime import timedelta

import pytest
from sqlmodel import select

from api.accounts import service as accounts_service
from api.accounts.models import Role
from api.core import email as mail
from api.core.db import utcnow
from api.core.errors import Conflict
from api.outbox import service as outbox
from api.outbox.models import OutboxMessage
from api.outbox.worker import Worker
from tests.conftest import MAILBOX


def _mail_to(db, address: str) -> list[OutboxMessage]:
    rows = db.exec(select(OutboxMessage).where(OutboxMessage.kind == "email").order_by(OutboxMessage.id)).all()
    return [r for r in rows if r.payload["to"] == address]


def _worker(db, settings, name: str = "w1") -> Worker:
    return Worker(sessions=lambda: nullcontext(db), settings=settings, name=name)


def test_a_request_that_rolls_back_queues_nothing(client, db, monkeypatch):
    real = accounts_service.send_verification

    def then_fail(session, user):
        real(session, user)  # the confirmation email is queued …
        raise Conflict("Something went wrong after the email was queued.")  # … and the request fails

    monkeypatch.setattr(accounts_service, "send_verification", then_fail)
    r = client.post("/api/v1/auth/register", json={"email": "rolled@example.com", "full_name": "Rolled Back",
                                                    "password": "a-long-password"})
    assert r.status_code == 409
    assert accounts_service.get_by_email(db, "rolled@example.com") is None
    assert _mail_to(db, "rolled@example.com") == []


def test_a_request_that_commits_queues_exactly_its_messages_and_sends_none_itself(client, db, drain):
    MAILBOX.clear()
    r = client.post("/api/v1/auth/register", json={"email": "queued@example.com", "full_name": "Queued Person",
                                                    "password": "a-long-password"})
    assert r.status_code == 201
    [row] = _mail_to(db, "queued@example.com")
    assert (row.status, row.attempts, row.payload["subject"]) == ("pending", 0, "Confirm your email address for Cadre")
    assert "/verify-email?token=" in row.payload["text"] and "<a href=" in row.payload["html"]
    assert MAILBOX.received == []  # the request sent nothing: the worker does
    assert drain() == 1
    [msg] = [m for m in MAILBOX.received if m["To"] == "queued@example.com"]
    assert msg["Message-ID"] == row.payload["message_id"]
    assert msg.get_body(("plain",)).get_content().startswith("Hello Queued Person,")
    assert "Cadre" in msg.get_body(("html",)).get_content()
    db.refresh(row)
    assert row.status == "done" and "text" not in row.payload  # the one-time link is not kept once sent
    assert drain() == 0 and len([m for m in MAILBOX.received if m["To"] == "queued@example.com"]) == 1


def test_the_same_key_queues_one_message(db):
    assert mail.send_template(db, "once@example.com", "accounts/welcome", key="welcome:test", name="Once",
                              email="once@example.com")
    assert not mail.send_template(db, "once@example.com", "accounts/welcome", key="welcome:test", name="Once",
                                  email="once@example.com")
    assert len(_mail_to(db, "once@example.com")) == 1


def test_smtp_down_the_request_succeeds_the_message_waits_and_is_delivered_when_it_is_back(client, db,
                                                                                           smtp_server):
    settings = smtp_server.settings()
    smtp_server.stop()  # the mail server is down
    r = client.post("/api/v1/auth/register", json={"email": "outage@example.com", "full_name": "Out Age",
                                                    "password": "a-long-password"})
    assert r.status_code == 201  # the page does not wait for mail at all
    [row] = _mail_to(db, "outage@example.com")

    now = utcnow()
    worker = _worker(db, settings)
    assert worker.drain(now) == 1
    db.refresh(row)
    assert (row.status, row.attempts) == ("pending", 1)
    assert "refused" in row.last_error.lower()
    assert row.available_at == now + timedelta(seconds=settings.worker_backoff_seconds)
    assert worker.drain(now + timedelta(seconds=5)) == 0  # waits out its backoff
    assert outbox.stats(db, now).retrying == 1

    smtp_server.start()  # back
    assert worker.drain(now + timedelta(seconds=settings.worker_backoff_seconds + 1)) == 1
    db.refresh(row)
    assert (row.status, row.attempts) == ("done", 2)
    assert [m["To"] for m in smtp_server.messages] == ["outage@example.com"]
    assert "/verify-email?token=" in smtp_server.messages[0].get_body(("plain",)).get_content()


def test_after_the_last_attempt_it_is_a_dead_letter_that_admins_see_and_can_retry(client, browser, db, make_user,
                                                                                  login, smtp_server):
    settings = smtp_server.settings(worker_max_attempts=3)
    smtp_server.stop()
    mail.queue(db, "patient@example.com", "A message that waits", "Hello.\n")
    db.commit()
    [row] = _mail_to(db, "patient@example.com")
    worker, now = _worker(db, settings), utcnow()
    for attempt in range(1, 4):
        assert worker.drain(now) == 1
        db.refresh(row)
        assert row.attempts == attempt
        now = row.available_at + timedelta(seconds=1)
    assert row.status == "dead" and "refused" in row.last_error.lower()
    assert worker.drain(now + timedelta(days=1)) == 0  # given up: not tried again by itself

    learner = make_user()
    login(learner.email)
    assert client.get("/admin/outbox").status_code == 403
    admin = make_user(roles={Role.admin})
    login(admin.email)
    page = client.get("/admin/outbox").text
    assert 'data-testid="dead">1<' in page and "Email to patient@example.com: A message that waits" in page
    assert row.last_error[:30] in page
    r = browser.post_form("/admin/outbox", f"/admin/outbox/{row.id}/retry")
    assert r.status_code == 303
    db.refresh(row)
    assert (row.status, row.attempts) == ("pending", 0)
    assert browser.post_form("/admin/outbox", f"/admin/outbox/{row.id}/retry").status_code == 409  # not dead now

    smtp_server.start()
    assert worker.drain() == 1
    db.refresh(row)
    assert row.status == "done" and [m["Subject"] for m in smtp_server.messages] == ["A message that waits"]


def test_the_retry_button_needs_the_forms_csrf_token(client, db, make_user, login):
    mail.queue(db, "x@example.com", "S", "B\n")
    db.commit()
    [row] = _mail_to(db, "x@example.com")
    login(make_user(roles={Role.admin}).email)
    client.get("/admin/outbox")
    assert client.post(f"/admin/outbox/{row.id}/retry").status_code == 403


def test_a_worker_that_dies_mid_batch_loses_only_the_message_in_hand(db, smtp_server):
    settings = smtp_server.settings()
    for i in range(3):
        mail.queue(db, f"batch{i}@example.com", f"Message {i}", "Hello.\n")
    db.commit()
    now = utcnow()
    # Worker A claims all three, sends the first and records it, sends the second … and dies.
    token, batch = outbox.claim(db, "worker-a", limit=10, now=now, lease_seconds=300)
    db.commit()
    transport = mail.Transport(settings)
    mail.deliver(batch[0].payload, transport)
    assert outbox.complete(db, batch[0], token, now)
    db.commit()
    mail.deliver(batch[1].payload, transport)
    transport.close()

    b = _worker(db, settings, name="worker-b")
    assert b.drain(now + timedelta(seconds=60)) == 0  # A's lease still holds them
    assert b.drain(now + timedelta(seconds=301)) == 2  # lapsed: B takes over the two A never recorded
    assert smtp_server.ids()[batch[0].payload["message_id"]] == 1  # recorded as sent: never again
    # The one in A's hands when it died is the at-least-once window: sent again, with the same Message-ID.
    assert smtp_server.ids()[batch[1].payload["message_id"]] == 2
    assert smtp_server.ids()[batch[2].payload["message_id"]] == 1
    assert not outbox.complete(db, batch[2], token, now)  # A, had it lived, could not mark B's work


def test_an_event_consumer_that_fails_leaves_nothing_behind_and_runs_again(db, drain, monkeypatch):
    from api.outbox import registry

    calls = []

    def consumer(session, payload):
        calls.append(payload["n"])
        mail.queue(session, "consumer@example.com", f"Effect {len(calls)}", "x\n")  # work inside the transaction
        if len(calls) == 1:
            raise RuntimeError("the first try breaks")

    monkeypatch.setattr(registry, "resolve", lambda name: consumer if name == "tests:consumer" else None)
    monkeypatch.setitem(registry.CONSUMERS, "test.happened", ["tests:consumer"])
    event = outbox.publish(db, "test.happened", "once", {"n": 7})
    assert outbox.publish(db, "test.happened", "once", {"n": 7}) is None  # a fact is recorded once
    db.commit()
    [msg] = db.exec(select(OutboxMessage).where(OutboxMessage.event_id == event.id)).all()
    now = utcnow()
    drain(now)
    db.refresh(msg)
    assert (msg.status, msg.attempts, msg.last_error) == ("pending", 1, "RuntimeError: the first try breaks")
    assert _mail_to(db, "consumer@example.com") == []  # the failed try's work was rolled back
    drain(msg.available_at + timedelta(seconds=1))
    db.refresh(msg)
    db.refresh(event)
    assert msg.status == "done" and event.processed_at is not None
    assert [r.payload["subject"] for r in _mail_to(db, "consumer@example.com")] == ["Effect 2"]


def test_a_message_the_worker_keeps_dying_on_becomes_a_dead_letter(db):
    mail.queue(db, "poison@example.com", "S", "B\n")
    db.commit()
    [row] = _mail_to(db, "poison@example.com")
    row.attempts = 8  # claimed eight times, never finished (the worker died each time)
    db.add(row)
    db.commit()
    _worker(db, None).drain()
    db.refresh(row)
    assert row.status == "dead" and "stopped while handling this message 8 times" in row.last_error


def test_the_outbox_page_pages_by_keyset(client, db, make_user, login):
    for i in range(55):
        mail.queue(db, f"page{i}@example.com", f"Page {i}", "x\n")
    db.commit()
    login(make_user(roles={Role.admin}).email)
    first = client.get("/admin/outbox?status=pending").text
    assert "Email to page54@example.com" in first and "Email to page5@example.com:" in first
    assert "Email to page4@example.com:" not in first
    older = first.split('rel="next" href="')[1].split('"')[0].replace("&amp;", "&")
    second = client.get(older).text
    assert "Email to page4@example.com:" in second and "Email to page0@example.com:" in second
    assert "Email to page54@example.com" not in second and 'rel="next"' not in second


def test_anonymous_visitors_are_sent_to_log_in(client):
    r = client.get("/admin/outbox", follow_redirects=False)
    assert r.status_code in (303, 401) and "/login" in r.headers.get("location", "/login")


@pytest.mark.parametrize("attempts,seconds", [(1, 30), (2, 60), (3, 120), (10, 3600)])
def test_backoff_doubles_up_to_the_cap(attempts, seconds):
    assert outbox.backoff(attempts) == timedelta(seconds=seconds)


def test_the_admin_index_links_to_the_outbox(client, make_user, login):
    login(make_user(roles={Role.admin}).email)
    assert 'href="/admin/outbox"' in client.get("/admin").text


def test_delivered_messages_are_purged_after_the_keep_days_and_dead_letters_stay(db):
    now = utcnow()
    for name in ("old", "new", "dead"):
        mail.queue(db, f"{name}@example.com", name, "x\n")
    db.commit()
    rows = {r.payload["to"].split("@")[0]: r for r in db.exec(select(OutboxMessage)).all()
            if r.payload["to"].split("@")[0] in ("old", "new", "dead")}
    rows["old"].status, rows["old"].done_at = "done", now - timedelta(days=31)
    rows["new"].status, rows["new"].done_at = "done", now - timedelta(days=29)
    rows["dead"].status, rows["dead"].created_at = "dead", now - timedelta(days=90)
    for r in rows.values():
        db.add(r)
    db.commit()
    assert outbox.purge_done(db, now, keep_days=30) == 1
    left = {r.payload["to"] for r in db.exec(select(OutboxMessage)).all()}
    assert "old@example.com" not in left and {"new@example.com", "dead@example.com"} <= left
