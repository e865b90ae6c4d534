"""Emailed links end when the account changes under them: a password reset or an email change spends
every other outstanding reset and email-change link of that account, and a reset logs out everywhere."""

from __future__ import annotations


def _reset(client, token: str, password: str = "a-brand-new-password"):
    return client.post("/api/v1/auth/password-reset", json={"token": token, "new_password": password})


def _ask_reset(client, email: str) -> None:
    assert client.post("/api/v1/auth/password-reset/request", json={"email": email}).status_code == 202


def _ask_email_change(client, new_email: str):
    r = client.post("/api/v1/auth/email", json={"new_email": new_email, "current_password": "correct-horse-battery"})
    assert r.status_code == 202, r.text


def test_a_reset_link_sent_to_the_old_address_stops_working_after_an_email_change(client, make_user, login,
                                                                                   mailbox):
    make_user("old-address@example.com")
    _ask_reset(client, "old-address@example.com")
    old_link = mailbox.link("old-address@example.com", "/reset-password")
    login("old-address@example.com")
    _ask_email_change(client, "new-address@example.com")
    confirm = mailbox.link("new-address@example.com", "/confirm-email-change")
    assert client.post("/api/v1/auth/email/confirm", json={"token": confirm}).json()["email"] == \
        "new-address@example.com"

    r = _reset(client, old_link)
    assert r.status_code == 422 and r.json()["error"]["code"] == "bad_token"
    # The password is unchanged: whoever still reads the old mailbox cannot take the account over.
    client.cookies.clear()
    login("new-address@example.com")


def test_using_one_reset_link_ends_the_other_outstanding_one(client, make_user, mailbox, login):
    make_user("twice@example.com")
    _ask_reset(client, "twice@example.com")
    first = mailbox.link("twice@example.com", "/reset-password")
    _ask_reset(client, "twice@example.com")
    second = mailbox.link("twice@example.com", "/reset-password")
    assert first != second

    assert _reset(client, first).status_code == 200
    r = _reset(client, second, "someone-elses-password")
    assert r.status_code == 422 and r.json()["error"]["code"] == "bad_token"
    login("twice@example.com", "a-brand-new-password")


def test_a_password_reset_ends_a_pending_email_change_and_every_session(client, make_user, login, mailbox):
    make_user("victim@example.com")
    other_device = login("victim@example.com")
    _ask_email_change(client, "attacker@example.com")  # e.g. by someone who had the password
    change_link = mailbox.link("attacker@example.com", "/confirm-email-change")
    _ask_reset(client, "victim@example.com")
    assert _reset(client, mailbox.link("victim@example.com", "/reset-password")).status_code == 200

    r = client.post("/api/v1/auth/email/confirm", json={"token": change_link})
    assert r.status_code == 422 and r.json()["error"]["code"] == "bad_token"
    assert client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {other_device}"}).status_code == 401
    client.cookies.clear()
    login("victim@example.com", "a-brand-new-password")
    assert client.get("/api/v1/auth/me").json()["email"] == "victim@example.com"


def test_confirming_one_email_change_ends_the_other_pending_one(client, make_user, login, mailbox):
    make_user("mover@example.com")
    login("mover@example.com")
    _ask_email_change(client, "first-choice@example.com")
    first = mailbox.link("first-choice@example.com", "/confirm-email-change")
    _ask_email_change(client, "second-choice@example.com")
    second = mailbox.link("second-choice@example.com", "/confirm-email-change")

    assert client.post("/api/v1/auth/email/confirm", json={"token": second}).json()["email"] == \
        "second-choice@example.com"
    r = client.post("/api/v1/auth/email/confirm", json={"token": first})
    assert r.status_code == 422 and r.json()["error"]["code"] == "bad_token"
    assert client.get("/api/v1/auth/me").json()["email"] == "second-choice@example.com"


def test_another_accounts_links_are_left_alone(client, make_user, mailbox):
    make_user("one@example.com")
    make_user("two@example.com")
    _ask_reset(client, "one@example.com")
    _ask_reset(client, "two@example.com")
    assert _reset(client, mailbox.link("one@example.com", "/reset-password")).status_code == 200
    assert _reset(client, mailbox.link("two@example.com", "/reset-password")).status_code == 200
