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
