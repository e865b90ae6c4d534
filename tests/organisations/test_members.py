"""Organisations and their members: who may create one, roles per organisation, leaving keeps what the
learner earned, and the two questions other domains ask (organisations_of, shares_organisation)."""

from __future__ import annotations

import pytest

from api.accounts.models import Role
from api.assessments import allocation
from api.core.errors import Conflict, Forbidden
from api.organisations import service


def test_a_confirmed_user_creates_an_organisation_and_becomes_its_owner(db, make_user):
    user = make_user()
    org = service.create(db, user, name="  Northwind  ", billing=service.Billing(vat_number="GB123456789"))
    assert org.name == "Northwind" and org.vat_number == "GB123456789"
    assert org.public_id.startswith("org_") and len(org.public_id) > 10  # random, not the row id
    assert service.membership_of(db, org.id, user.id).role == "owner"
    assert [o.id for o in service.organisations_of(db, user.id)] == [org.id]


def test_an_unconfirmed_user_cannot_create_one(db, make_user):
    with pytest.raises(Forbidden):
        service.create(db, make_user(verified=False), name="Northwind")


def test_the_employer_role_alone_unlocks_nothing(db, make_user, team):
    employer = make_user(roles={Role.employer})
    assert service.organisations_of(db, employer.id) == []
    assert service.membership_of(db, team.org.id, employer.id) is None


def test_shares_organisation_answers_for_members_of_one_organisation(db, team):
    assert service.shares_organisation(db, team.owner.id, team.member.id)
    assert service.shares_organisation(db, team.member.id, team.manager.id)
    assert not service.shares_organisation(db, team.member.id, team.outsider.id)
    assert not service.shares_organisation(db, team.member.id, team.member.id)
    # The assessments hook now asks the organisations domain: a colleague never marks a colleague.
    assert allocation.shares_organisation(db, team.manager.id, team.member.id)
    assert allocation.conflicted(db, team.manager.id, team.member.id)
    assert not allocation.conflicted(db, team.outsider.id, team.member.id)


def test_the_last_owner_cannot_leave_or_step_down(db, team):
    with pytest.raises(Conflict):
        service.remove_member(db, team.org, team.membership(db, team.owner))
    with pytest.raises(Conflict):
        service.set_role(db, team.org, team.membership(db, team.owner), "manager")


def test_leaving_removes_the_membership_and_its_consent(db, team):
    member = team.membership(db, team.member)
    service.set_consent(db, member, share_progress=True, share_assessments=True)
    service.remove_member(db, team.org, member)
    assert service.membership_of(db, team.org.id, team.member.id) is None
    assert service.organisations_of(db, team.member.id) == []
    assert not service.shares_organisation(db, team.member.id, team.owner.id)


def test_the_member_list_is_paged_in_the_order_people_joined(db, team, make_user, client, login):
    from tests.organisations.conftest import add_member

    for i in range(3):
        add_member(db, team.org, make_user(f"later{i}@acme.example"))
    db.commit()
    login(team.member.email)
    url = f"/api/v1/organisations/{team.org.public_id}/members"
    first = client.get(url, params={"limit": 4}).json()
    assert [m["email"] for m in first["items"]][:3] == [team.owner.email, team.manager.email, team.member.email]
    rest = client.get(url, params={"limit": 4, "after": first["next"]}).json()
    assert [m["email"] for m in rest["items"]] == ["later1@acme.example", "later2@acme.example"] and not rest["next"]


def test_the_organisation_page_keeps_the_site_navigation_of_its_viewer(db, team, client, login):
    """The page's member-role choices must not stand in for the viewer's own roles in the nav."""
    from api.accounts.models import Role, UserRole

    db.add(UserRole(user_id=team.owner.id, role=Role.employer))
    db.commit()
    login(team.owner.email)
    page = client.get(f"/organisations/{team.org.public_id}")
    nav = page.text.split("</nav>", 1)[0]
    assert page.status_code == 200 and '<a href="/organisations">Organisations</a>' in nav
    assert 'href="/admin"' not in nav
    login(team.admin.email)
    nav = client.get(f"/organisations/{team.org.public_id}").text.split("</nav>", 1)[0]
    assert 'href="/admin">Admin</a>' in nav


def test_the_organisations_vat_number_follows_the_checkouts_rule(client, browser, team, login, db):
    """The API: a 422 in the house shape, nothing saved; a good one stored compacted (as on invoices)."""
    login(team.owner.email)
    url = f"/api/v1/organisations/{team.org.public_id}"
    r = client.patch(url, json={"vat_number": "12-34"})
    assert r.status_code == 422, r.text
    assert r.json()["error"]["code"] == "invalid_vat_number"
    assert r.json()["error"]["message"].startswith("Enter the VAT number with its country code")
    r = client.patch(url, json={"vat_number": "gb 123.456-789"})
    assert r.status_code == 200 and r.json()["vat_number"] == "GB123456789"
    r = client.post("/api/v1/organisations", json={"name": "Northwind", "vat_number": "GB1"})
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_vat_number"
    r = client.post("/api/v1/organisations", json={"name": "Northwind", "vat_number": "ie 1234567t"})
    assert r.status_code == 201 and r.json()["vat_number"] == "IE1234567T"


def test_the_billing_form_shows_a_bad_vat_number_beside_its_field(client, browser, team, login, db):
    login(team.owner.email)
    page = f"/organisations/{team.org.public_id}"
    r = browser.post_form(page, page + "/billing", name="Acme Renamed", legal_name="Acme Ltd", address="",
                          vat_number="123456789")
    assert r.status_code == 422
    field = r.text.split('id="f-vat_number-error"', 1)
    assert len(field) == 2 and "Enter the VAT number with its country code" in field[1][:200]
    block = r.text.split('<div class="field has-error">', 1)[1].split("</div>", 1)[0]
    assert 'for="f-vat_number"' in block and 'aria-describedby="f-vat_number-hint f-vat_number-error"' in block
    assert '<a href="#f-vat_number">Enter the VAT number' in r.text
    assert 'value="123456789"' in r.text and 'value="Acme Renamed"' in r.text  # what was typed is kept
    db.refresh(team.org)
    assert (team.org.name, team.org.vat_number) == ("Acme Services", None)  # nothing saved

    r = browser.post_form("/organisations", "/organisations", name="Northwind", vat_number="GB1")
    assert r.status_code == 422 and 'id="f-vat_number-error"' in r.text
    assert 'value="Northwind"' in r.text
