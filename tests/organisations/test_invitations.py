"""Invitations: mailed with a link (the token is stored only as its digest), one open per address,
refused for an existing member (409), expired (409), someone else's (403), twice (409); accepted by a
logged-in person with the invited address or by registering with it."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlmodel import select

from api.core.db import utcnow
from api.core.errors import Conflict, Forbidden
from api.core.security import token_digest
from api.organisations import service
from api.organisations.models import Invitation
from tests.conftest import csrf_from


def _token(mailbox, address: str) -> str:
    for msg in reversed(mailbox.to(address)):
        m = re.search(r"/organisations/invitations/([\w-]+)", mailbox.body(msg))
        if m:
            return m.group(1)
    raise AssertionError(f"no invitation mailed to {address}")


def test_the_invitation_is_mailed_with_a_link_and_only_its_digest_is_stored(db, team, mailbox):
    inv, token = service.invite(db, team.org, team.owner, email="  New.Person@Acme.Example ")
    db.commit()
    assert inv.email == "new.person@acme.example"
    assert inv.token_digest == token_digest(token) and token not in inv.token_digest
    [msg] = mailbox.to("new.person@acme.example")
    assert "Olive Owner invites you to Acme Services" in " ".join(str(msg["Subject"]).split())
    body = mailbox.body(msg)
    assert f"/organisations/invitations/{token}" in body and "works until" in body
    assert _token(mailbox, "new.person@acme.example") == token


def test_inviting_an_existing_member_is_refused(client, team, login, db):
    login(team.owner.email)
    r = client.post(f"/api/v1/organisations/{team.org.public_id}/invitations", json={"email": "MEMBER@acme.example"})
    assert r.status_code == 409 and r.json()["error"]["code"] == "already_member"
    assert db.exec(select(Invitation).where(Invitation.organisation_id == team.org.id)).all() == []


def test_a_second_open_invitation_to_the_same_address_is_refused(client, team, login):
    login(team.owner.email)
    url = f"/api/v1/organisations/{team.org.public_id}/invitations"
    assert client.post(url, json={"email": "twice@acme.example"}).status_code == 201
    r = client.post(url, json={"email": "twice@acme.example"})
    assert r.status_code == 409 and r.json()["error"]["code"] == "already_invited"


def test_the_database_holds_one_open_invitation_per_address(db, team):
    from api.core.integrity import flush_unique

    service.invite(db, team.org, team.owner, email="dup@acme.example")
    again = Invitation(organisation_id=team.org.id, email="dup@acme.example", token_digest="x" * 64,
                       expires_at=utcnow() + timedelta(days=1))
    assert flush_unique(db, again) is False


def test_an_expired_invitation_cannot_be_accepted_and_can_be_replaced(db, team, make_user, client, login):
    inv, token = service.invite(db, team.org, team.owner, email="late@acme.example")
    inv.expires_at = utcnow() - timedelta(minutes=1)
    db.add(inv)
    late = make_user("late@acme.example")
    login(late.email)
    r = client.post(f"/api/v1/organisations/invitations/{token}/accept")
    assert r.status_code == 409 and r.json()["error"]["code"] == "invitation_expired"
    assert service.membership_of(db, team.org.id, late.id) is None
    # A new invitation replaces the expired one (which stops counting as open).
    fresh, fresh_token = service.invite(db, team.org, team.owner, email="late@acme.example")
    db.refresh(inv)
    assert inv.revoked_at is not None and fresh.id != inv.id
    assert client.post(f"/api/v1/organisations/invitations/{fresh_token}/accept").status_code == 200
    assert service.membership_of(db, team.org.id, late.id).role == "member"


def test_someone_elses_invitation_is_refused(db, team, client, login):
    _, token = service.invite(db, team.org, team.owner, email="intended@acme.example")
    db.commit()
    login(team.outsider.email)
    r = client.post(f"/api/v1/organisations/invitations/{token}/accept")
    assert r.status_code == 403 and r.json()["error"]["code"] == "invitation_not_yours"
    assert service.membership_of(db, team.org.id, team.outsider.id) is None
    page = client.get(f"/organisations/invitations/{token}")
    assert "was sent to intended@acme.example" in page.text


def test_accepting_twice_joins_once(db, team, make_user, client, login):
    _, token = service.invite(db, team.org, team.owner, email="keen@acme.example", role="manager")
    keen = make_user("keen@acme.example")
    login(keen.email)
    assert client.post(f"/api/v1/organisations/invitations/{token}/accept").json()["role"] == "manager"
    r = client.post(f"/api/v1/organisations/invitations/{token}/accept")
    assert r.status_code == 409 and r.json()["error"]["code"] == "invitation_used"
    assert len([m for m, _ in service.members_page(db, team.org.id).rows if m.user_id == keen.id]) == 1


def test_an_unknown_or_withdrawn_link_says_so(db, team, client, make_user, login):
    assert client.get("/organisations/invitations/not-a-real-token").status_code == 404
    inv, token = service.invite(db, team.org, team.owner, email="gone@acme.example")
    service.withdraw_invitation(db, team.org, inv.id)
    db.commit()
    login(make_user("gone@acme.example").email)
    r = client.post(f"/api/v1/organisations/invitations/{token}/accept")
    assert r.status_code == 409 and r.json()["error"]["code"] == "invitation_withdrawn"


def test_a_newcomer_registers_from_the_link_and_is_logged_in_as_a_member(db, team, client, mailbox):
    service.invite(db, team.org, team.owner, email="fresh@acme.example")
    db.commit()
    token = _token(mailbox, "fresh@acme.example")
    page = client.get(f"/organisations/invitations/{token}")
    assert "Create my account and join" in page.text
    r = client.post(f"/organisations/invitations/{token}", data={
        "csrf_token": csrf_from(page.text), "full_name": "Fresh Face", "password": "short"}, follow_redirects=False)
    assert r.status_code == 422 and "at least 10 characters" in r.text
    r = client.post(f"/organisations/invitations/{token}", data={
        "csrf_token": csrf_from(page.text), "full_name": "Fresh Face", "password": "a-long-enough-password"},
        follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/organisations/{team.org.public_id}"
    home = client.get(r.headers["location"])
    assert "You are a member here." in home.text and "Share my progress" in home.text
    from api.accounts import service as accounts_service

    user = accounts_service.get_by_email(db, "fresh@acme.example")
    assert user.email_verified_at is not None  # the mailed link proved the address
    assert service.membership_of(db, team.org.id, user.id).role == "member"


def test_an_existing_account_must_log_in_rather_than_register(db, team, client):
    _, token = service.invite(db, team.org, team.owner, email=team.outsider.email)
    db.commit()
    page = client.get(f"/organisations/invitations/{token}")
    r = client.post(f"/organisations/invitations/{token}", data={
        "csrf_token": csrf_from(page.text), "full_name": "Someone", "password": "a-long-enough-password"})
    assert r.status_code == 409 and "log in to accept" in r.text


def test_only_owners_invite_managers_and_owners(client, team, login):
    login(team.manager.email)
    r = client.post(f"/api/v1/organisations/{team.org.public_id}/invitations",
                    json={"email": "boss@acme.example", "role": "owner"})
    assert r.status_code == 403


@pytest.mark.parametrize("email", ["", "not-an-address", "@acme.example", "a b@acme.example"])
def test_a_bad_address_is_refused_with_a_message(db, team, email):
    with pytest.raises(Exception) as exc:
        service.invite(db, team.org, team.owner, email=email)
    assert getattr(exc.value, "code", "") == "bad_email"


def test_service_refusals_are_typed(db, team):
    with pytest.raises(Conflict):
        service.invite(db, team.org, team.owner, email=team.member.email)
    _, token = service.invite(db, team.org, team.owner, email="x@acme.example")
    with pytest.raises(Forbidden):
        service.accept(db, token, team.outsider)


def test_an_invitation_to_an_address_that_is_not_one_is_refused_beside_the_field(db, client, team, login, browser):
    from tests.core.test_form_messages import beside

    login(team.owner.email)
    page = f"/organisations/{team.org.public_id}"
    r = browser.post_form(page, f"{page}/invitations", email="colleague.acme.example", role="member")
    assert r.status_code == 422
    box = r.text.split('class="error-summary"', 1)[1].split("</div>", 1)[0]
    assert re.findall(r'<a href="#f-([^"]+)">', box) == ["invite-email"]  # the summary links to the field
    assert "like name@example.com" in beside(r.text, "invite-email")
    assert 'value="colleague.acme.example"' in r.text
    assert db.exec(select(Invitation).where(Invitation.organisation_id == team.org.id)).all() == []
