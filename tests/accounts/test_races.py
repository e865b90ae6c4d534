"""Accounts under concurrency. On PostgreSQL, with real threads through the real app (committing for
real, cleaned up afterwards): simultaneous registrations of one address give one account and 409s,
simultaneous wrong passwords get no more password checks than the throttle allows. On both databases,
the same races made deterministic: a request that passed the duplicate check just as another
committed still answers as the sequential case does."""

from __future__ import annotations

import threading
import uuid
from collections import Counter

import pytest
from sqlalchemy import delete, func
from sqlmodel import Session, col, select

from api.accounts import service
from api.accounts.models import LoginAttempt, TokenPurpose, User
from api.accounts.schemas import UserCreate
from api.core.config import get_settings
from tests.realapp import at_once, real_client


@pytest.fixture
def pg(engine):
    if get_settings().is_sqlite:
        pytest.skip("concurrent writers are proved on PostgreSQL (SQLite runs one writer at a time): "
                    "set CADRE_TEST_DATABASE_URL")
    tag = uuid.uuid4().hex[:8]
    yield engine, tag
    with Session(engine) as s:
        s.exec(delete(LoginAttempt).where(col(LoginAttempt.email).like(f"%{tag}%")))
        s.exec(delete(User).where(col(User.email).like(f"%{tag}%")))  # roles, tokens, sessions cascade
        s.commit()


def _committed_user(engine, email: str) -> int:
    with Session(engine) as s:
        user = service.create_user(s, UserCreate(email=email, full_name="Racer", password="correct-horse-battery"),
                                   verified=True)
        s.commit()
        return user.id


@pytest.mark.postgres
def test_ten_simultaneous_registrations_of_one_address_make_one_account_and_nine_409s(pg, monkeypatch):
    engine, tag = pg
    email = f"same-{tag}@example.com"
    # Every request checks for the address, and none goes on to insert until all ten have: the race
    # the outside tester hit by chance, every time.
    gate = threading.Barrier(10, timeout=30)
    real_get_by_email = service.get_by_email

    def checked_together(session, address):
        found = real_get_by_email(session, address)
        if address == email:
            gate.wait()
        return found

    monkeypatch.setattr(service, "get_by_email", checked_together)
    with real_client() as client:
        answers = at_once(10, lambda i: client.post("/api/v1/auth/register", json={
            "email": email, "full_name": f"Person {i}", "password": "a-long-password"}))
    statuses = Counter(r.status_code for r in answers)
    assert statuses == {201: 1, 409: 9}, statuses
    assert {r.json()["error"]["code"] for r in answers if r.status_code == 409} == {"email_taken"}
    with Session(engine) as s:
        assert s.exec(select(func.count()).select_from(User).where(User.email == email)).one() == 1


@pytest.mark.postgres
def test_forty_simultaneous_wrong_passwords_get_at_most_five_password_checks(pg, monkeypatch):
    engine, tag = pg
    email = f"target-{tag}@example.com"
    _committed_user(engine, email)
    checks = Counter()
    lock = threading.Lock()
    real_verify = service.verify_password

    def counting_verify(password, password_hash):
        with lock:
            checks["n"] += 1
        return real_verify(password, password_hash)

    monkeypatch.setattr(service, "verify_password", counting_verify)
    with real_client() as client:
        answers = at_once(40, lambda i: client.post("/api/v1/auth/login",
                                                    json={"email": email, "password": f"guess-{i}-guess"}))
    statuses = Counter(r.status_code for r in answers)
    limit = get_settings().login_max_failures_per_account
    assert checks["n"] <= limit, f"{checks['n']} password checks against a limit of {limit}"
    assert statuses == {422: checks["n"], 429: 40 - checks["n"]}, statuses
    assert {r.json()["error"]["code"] for r in answers if r.status_code == 429} == {"login_throttled"}
    with Session(engine) as s:  # every check left its failure behind, committed
        failures = s.exec(select(func.count()).select_from(LoginAttempt).where(
            LoginAttempt.email == email, col(LoginAttempt.succeeded).is_(False))).one()
    assert failures == checks["n"]


@pytest.mark.postgres
def test_five_accounts_confirming_a_move_to_one_address_at_once_give_one_move_and_409s(pg):
    engine, tag = pg
    target = f"wanted-{tag}@example.com"
    tokens = []
    with Session(engine) as s:
        for i in range(5):
            user = service.create_user(s, UserCreate(email=f"mover{i}-{tag}@example.com", full_name="Mover",
                                                     password="correct-horse-battery"), verified=True)
            tokens.append(service._issue_token(s, user, TokenPurpose.change_email, new_email=target))
        s.commit()
    with real_client() as client:
        answers = at_once(5, lambda i: client.post("/api/v1/auth/email/confirm", json={"token": tokens[i]}))
    statuses = Counter(r.status_code for r in answers)
    assert statuses == {200: 1, 409: 4}, statuses
    assert {r.json()["error"]["code"] for r in answers if r.status_code == 409} == {"email_taken"}


# --- the same races, made deterministic, on both databases ----------------------------------------

def test_a_registration_that_passed_the_check_as_another_committed_gets_409_not_500(client, browser, make_user,
                                                                                   monkeypatch):
    make_user("raced@example.com")
    monkeypatch.setattr(service, "get_by_email", lambda session, email: None)  # the check saw nothing yet
    r = client.post("/api/v1/auth/register", json={"email": "raced@example.com", "full_name": "Late Comer",
                                                   "password": "a-long-password"})
    assert r.status_code == 409 and r.json()["error"]["code"] == "email_taken"
    page = browser.post_form("/register", email="raced@example.com", full_name="Late Comer",
                             password="a-long-password")
    assert page.status_code == 409 and "An account with this email already exists" in page.text


def test_an_email_change_that_passed_the_check_as_another_committed_gets_409_not_500(client, db, make_user,
                                                                                     monkeypatch):
    make_user("holder@example.com")
    mover = make_user("mover@example.com")
    token = service._issue_token(db, mover, TokenPurpose.change_email, new_email="holder@example.com")
    db.commit()
    monkeypatch.setattr(service, "get_by_email", lambda session, email: None)
    r = client.post("/api/v1/auth/email/confirm", json={"token": token})
    assert r.status_code == 409 and r.json()["error"]["code"] == "email_taken"
    db.expire_all()
    assert db.get(User, mover.id).email == "mover@example.com"


def test_a_failed_login_counts_even_though_its_request_is_rolled_back(engine):
    """Through the real session dependency, which rolls the request back on the error: the failure
    was committed in the throttle's own transaction before the password was checked."""
    email = f"rollback-{uuid.uuid4().hex[:8]}@example.com"
    _committed_user(engine, email)
    try:
        with real_client() as client:
            for _ in range(get_settings().login_max_failures_per_account):
                assert client.post("/api/v1/auth/login", json={"email": email, "password": "wrong-wrong"}
                                   ).status_code == 422
            r = client.post("/api/v1/auth/login", json={"email": email, "password": "correct-horse-battery"})
            assert r.status_code == 429 and r.json()["error"]["code"] == "login_throttled"
            # The log-in page shares the throttle.
            from tests.conftest import csrf_from

            form = {"csrf_token": csrf_from(client.get("/login").text), "email": email,
                    "password": "correct-horse-battery"}
            assert client.post("/login", data=form).status_code == 429
    finally:
        with Session(engine) as s:
            s.exec(delete(LoginAttempt).where(LoginAttempt.email == email))
            s.exec(delete(User).where(User.email == email))
            s.commit()


def test_a_right_password_after_a_few_wrong_ones_logs_in_and_lifts_the_count(client, make_user):
    make_user("forgetful@example.com")
    for _ in range(4):
        client.post("/api/v1/auth/login", json={"email": "forgetful@example.com", "password": "wrong-wrong"})
    assert client.post("/api/v1/auth/login", json={"email": "forgetful@example.com",
                                                   "password": "correct-horse-battery"}).status_code == 200
    for _ in range(5):  # a fresh allowance after the success
        assert client.post("/api/v1/auth/login", json={"email": "forgetful@example.com",
                                                       "password": "wrong-wrong"}).status_code == 422
