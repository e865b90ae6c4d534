"""Password reset by emailed link, and changing name, email and password."""

from __future__ import annotations


def test_password_reset_by_emailed_link(client, browser, make_user, mailbox, login):
    make_user("forgetful@example.com")
    other_session = login("forgetful@example.com")
    r = browser.post_form("/forgot-password", email="forgetful@example.com")
    assert "If an account uses that address" in r.text
    token = mailbox.link("forgetful@example.com", "/reset-password")
    r = browser.post_form(f"/reset-password?token={token}", "/reset-password", token=token,
                          new_password="a-brand-new-password")
    assert r.status_code == 303 and r.headers["location"] == "/login"
    # Every old session is gone; the new password works, the old one does not.
    assert client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {other_session}"}).status_code == 401
    login("forgetful@example.com", "a-brand-new-password")
    r = client.post("/api/v1/auth/login", json={"email": "forgetful@example.com", "password": "correct-horse-battery"})
    assert r.status_code == 422
    assert any(m["Subject"] == "Your Cadre password was changed" for m in mailbox.to("forgetful@example.com"))
    # The link is single-use.
    r = client.post("/api/v1/auth/password-reset", json={"token": token, "new_password": "yet-another-password"})
    assert r.status_code == 422 and r.json()["error"]["code"] == "bad_token"


def test_reset_request_for_unknown_email_looks_the_same_and_sends_nothing(client, mailbox):
    r = client.post("/api/v1/auth/password-reset/request", json={"email": "ghost@example.com"})
    assert r.status_code == 202
    assert mailbox.messages == []


def test_change_name_as_it_appears_on_certificates(browser, client, make_user, login):
    make_user("name@example.com", name="Old Name")
    login("name@example.com")
    r = browser.post_form("/account", "/account/name", full_name="Dr Jane  Q. Public")
    assert r.status_code == 303
    assert client.get("/api/v1/auth/me").json()["full_name"] == "Dr Jane Q. Public"
    r = browser.post_form("/account", "/account/name", full_name="<script>alert(1)</script>")
    assert r.status_code == 422 and "angle brackets" in r.text


def test_change_email_needs_the_new_address_confirmed(client, make_user, login, mailbox):
    make_user("before@example.com")
    login("before@example.com")
    r = client.post("/api/v1/auth/email", json={"new_email": "after@example.com",
                                                "current_password": "correct-horse-battery"})
    assert r.status_code == 202
    assert client.get("/api/v1/auth/me").json()["email"] == "before@example.com"
    assert mailbox.to("before@example.com"), "the old address is told"
    token = mailbox.link("after@example.com", "/confirm-email-change")
    r = client.post("/api/v1/auth/email/confirm", json={"token": token})
    assert r.json()["email"] == "after@example.com"


def test_change_email_refuses_wrong_password_and_taken_address(client, make_user, login):
    make_user("mine@example.com")
    make_user("theirs@example.com")
    login("mine@example.com")
    r = client.post("/api/v1/auth/email", json={"new_email": "new@example.com", "current_password": "wrong"})
    assert r.status_code == 422 and r.json()["error"]["code"] == "bad_password"
    r = client.post("/api/v1/auth/email", json={"new_email": "theirs@example.com",
                                                "current_password": "correct-horse-battery"})
    assert r.status_code == 409


def test_change_password_keeps_this_session_and_ends_the_others(client, make_user, login):
    make_user("pw@example.com")
    other = login("pw@example.com")
    login("pw@example.com")
    r = client.post("/api/v1/auth/password", json={"current_password": "correct-horse-battery",
                                                   "new_password": "another-long-password"})
    assert r.status_code == 200
    assert client.get("/api/v1/auth/me").status_code == 200
    assert client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {other}"}).status_code == 401
