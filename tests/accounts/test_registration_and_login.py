"""Accounts as a person meets them: register, confirm, log in and out, sessions, throttling."""

from __future__ import annotations

import re

import pytest

from tests.conftest import csrf_from


def test_register_page_creates_account_logs_in_and_mails_a_confirmation_link(client, browser, mailbox):
    r = browser.post_form("/register", email="Ann.Example@Example.com", full_name="  Ann   Example ",
                          password="a-long-password")
    assert r.status_code == 303 and r.headers["location"] == "/dashboard"
    dash = client.get("/dashboard")
    assert "Welcome, Ann Example" in dash.text
    [msg] = mailbox.to("ann.example@example.com")
    assert msg["Subject"] == "Confirm your email address for Cadre"
    token = mailbox.link("ann.example@example.com", "/verify-email")
    # Opening the link (as a mail scanner would) changes nothing; the button confirms.
    assert "Confirm my email address" in client.get(f"/verify-email?token={token}").text
    assert client.get("/api/v1/auth/me").json()["email_verified"] is False
    assert "is confirmed" in browser.post_form(f"/verify-email?token={token}", "/verify-email", token=token).text
    # The link works once; opened again it says the address is already confirmed (not "invalid").
    again = browser.post_form(f"/verify-email?token={token}", "/verify-email", token=token)
    assert again.status_code == 200 and "ann.example@example.com is already confirmed" in again.text
    assert "already confirmed" in client.get(f"/verify-email?token={token}").text
    assert browser.post_form("/verify-email", "/verify-email", token="not-a-token").status_code == 422
    me = client.get("/api/v1/auth/me").json()
    assert me["email"] == "ann.example@example.com" and me["email_verified"] is True and me["roles"] == ["learner"]


def test_register_shows_errors_beside_the_fields_and_keeps_what_was_typed(browser):
    r = browser.post_form("/register", email="not-an-email", full_name="Bo", password="short")
    assert r.status_code == 422
    assert "must be at least 10 characters" in r.text
    assert 'value="Bo"' in r.text and "short" not in r.text.split("<main")[1].split("password")[0]


def test_duplicate_email_is_refused_with_a_helpful_message(client, make_user):
    make_user("taken@example.com")
    r = client.post("/api/v1/auth/register", json={"email": "TAKEN@example.com", "full_name": "X Y",
                                                   "password": "a-long-password"})
    assert r.status_code == 409
    assert r.json()["error"]["code"] == "email_taken"


def test_api_errors_have_the_standard_shape(client):
    r = client.post("/api/v1/auth/register", json={"email": "x@example.com"})
    assert r.status_code == 422
    body = r.json()["error"]
    assert body["code"] == "invalid" and "full_name" in body["message"]


def test_login_sets_an_httponly_samesite_session_cookie_and_logout_ends_it(client, make_user):
    make_user("lee@example.com")
    r = client.post("/api/v1/auth/login", json={"email": "lee@example.com", "password": "correct-horse-battery"})
    assert r.status_code == 200
    cookie = r.headers["set-cookie"]
    assert "cadre_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "Secure" not in cookie  # plain http in tests; Secure is set under https
    assert client.get("/api/v1/auth/me").status_code == 200
    assert client.post("/api/v1/auth/logout").status_code == 200
    assert client.get("/api/v1/auth/me").status_code == 401


def test_bearer_token_works_without_cookies(client, make_user, login):
    make_user("bearer@example.com")
    token = login("bearer@example.com")
    client.cookies.clear()
    assert client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"}).json()["email"] == \
        "bearer@example.com"
    assert client.get("/api/v1/auth/me", headers={"Authorization": "Bearer nonsense"}).status_code == 401


def test_wrong_password_and_unknown_email_get_the_same_answer(client, make_user):
    make_user("known@example.com")
    a = client.post("/api/v1/auth/login", json={"email": "known@example.com", "password": "wrong-password"})
    b = client.post("/api/v1/auth/login", json={"email": "nobody@example.com", "password": "wrong-password"})
    assert a.status_code == b.status_code == 422
    assert a.json() == b.json()


def test_repeated_wrong_passwords_are_throttled_even_with_the_right_one(client, make_user):
    make_user("target@example.com")
    for _ in range(5):
        r = client.post("/api/v1/auth/login", json={"email": "target@example.com", "password": "guess-guess"})
        assert r.status_code == 422
    r = client.post("/api/v1/auth/login", json={"email": "target@example.com", "password": "correct-horse-battery"})
    assert r.status_code == 429
    assert "Too many failed log-in attempts for this account" in r.json()["error"]["message"]
    assert int(r.headers["retry-after"]) > 0


def test_throttling_per_address_covers_many_accounts(client, make_user):
    for i in range(20):
        client.post("/api/v1/auth/login", json={"email": f"spray{i}@example.com", "password": "guess-guess"})
    r = client.post("/api/v1/auth/login", json={"email": "someone-else@example.com", "password": "guess-guess"})
    assert r.status_code == 429
    assert "your network address" in r.json()["error"]["message"]


def test_login_page_shows_the_throttle_message(browser, make_user):
    make_user("page@example.com")
    for _ in range(5):
        browser.post_form("/login", email="page@example.com", password="nope-nope")
    r = browser.post_form("/login", email="page@example.com", password="correct-horse-battery")
    assert r.status_code == 429 and "Try again in" in r.text


def test_log_out_everywhere_ends_every_session(client, make_user, login):
    make_user("multi@example.com")
    other = login("multi@example.com")
    login("multi@example.com")
    r = client.post("/api/v1/auth/logout-everywhere")
    assert r.json()["message"] == "Logged out of 2 sessions."
    assert client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {other}"}).status_code == 401


def test_login_redirect_never_leaves_the_site(browser, make_user):
    make_user("nav@example.com")
    r = browser.post_form("/login", email="nav@example.com", password="correct-horse-battery",
                          next="https://evil.example/")
    assert r.status_code == 303 and r.headers["location"] == "/dashboard"
    r = browser.post_form("/login", email="nav@example.com", password="correct-horse-battery", next="//evil.example")
    assert r.headers["location"] == "/dashboard"


def test_pages_that_need_a_login_send_you_to_it(client):
    r = client.get("/account", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login?next=/account"


def test_form_post_without_csrf_token_is_refused_and_changes_nothing(client, make_user, db):
    from api.accounts import service

    r = client.post("/register", data={"email": "csrf@example.com", "full_name": "C S", "password": "a-long-password"})
    assert r.status_code == 403
    assert "did not come from this site" in r.text
    r = client.post("/register", data={"email": "csrf@example.com", "full_name": "C S", "password": "a-long-password",
                                       "csrf_token": "forged"})
    assert r.status_code == 403
    assert service.get_by_email(db, "csrf@example.com") is None


def test_csrf_token_from_another_browser_is_refused(app, make_user):
    from fastapi.testclient import TestClient

    with TestClient(app) as attacker, TestClient(app) as victim:
        token = csrf_from(attacker.get("/login").text)
        victim.get("/login")
        r = victim.post("/register", data={"csrf_token": token, "email": "v@example.com", "full_name": "V",
                                           "password": "a-long-password"})
        assert r.status_code == 403


def test_cross_site_api_post_with_cookie_is_refused(client, make_user, login):
    make_user("xs@example.com")
    login("xs@example.com")
    r = client.post("/api/v1/auth/logout-everywhere", headers={"Origin": "https://evil.example"})
    assert r.status_code == 403 and r.json()["error"]["code"] == "cross_site"
    assert client.get("/api/v1/auth/me").status_code == 200


def test_a_stranger_failing_on_purpose_does_not_lock_the_owner_out(app, make_user):
    from fastapi.testclient import TestClient

    make_user("owner@example.com")
    with TestClient(app, client=("203.0.113.9", 5000)) as stranger:
        for _ in range(6):
            stranger.post("/api/v1/auth/login", json={"email": "owner@example.com", "password": "guess-guess"})
        r = stranger.post("/api/v1/auth/login", json={"email": "owner@example.com", "password": "guess-guess"})
        assert r.status_code == 429
    with TestClient(app, client=("198.51.100.7", 5000)) as owner:
        r = owner.post("/api/v1/auth/login", json={"email": "owner@example.com", "password": "correct-horse-battery"})
        assert r.status_code == 200


def test_account_emails_to_one_address_are_capped(client, make_user, mailbox):
    make_user("flooded@example.com")
    for _ in range(8):
        assert client.post("/api/v1/auth/password-reset/request", json={"email": "flooded@example.com"}).status_code \
            == 202
    assert len(mailbox.to("flooded@example.com")) == 5


def test_registration_errors_are_plain_in_field_order_and_the_summary_links_each_field(browser):
    r = browser.post_form("/register", email="not-an-email", full_name="", password="short")
    assert r.status_code == 422
    summary = r.text.split('class="error-summary"')[1].split("</div>")[0]
    links = re.findall(r'<a href="#f-(\w+)">([^<]+)</a>', summary)
    assert [k for k, _ in links] == ["full_name", "email", "password"]  # the form's order
    assert dict(links) == {
        "full_name": "Enter your full name.",
        "email": "Enter an email address like name@example.com: it needs an @.",
        "password": "Your password must be at least 10 characters.",
    }
    # Each message also sits next to its field, and no machine wording is left.
    for name, message in links:
        assert f'<p class="error" id="f-{name}-error">{message}</p>' in r.text
    assert "characters\"" not in r.text and "1 characters" not in r.text and "value is not a valid" not in r.text
    assert "@-sign" not in r.text


@pytest.mark.parametrize("typed, message", [
    ("", "Enter your email address."),
    ("lena@", "Enter an email address like name@example.com: something must follow the @."),
    ("lena@example", "Enter an email address like name@example.com: the part after the @ needs a dot, as in "
                     "example.com."),
])
def test_registration_says_plainly_what_is_wrong_with_the_email(browser, typed, message):
    r = browser.post_form("/register", email=typed, full_name="Lena Okafor", password="correct-horse-battery")
    assert r.status_code == 422 and f'<p class="error" id="f-email-error">{message}</p>' in r.text
