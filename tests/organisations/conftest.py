"""Organisations: an organisation with one person in each role, and an outsider and a platform admin."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from api.accounts.models import Role, User
from api.organisations import service
from api.organisations.models import Membership, Organisation


@dataclass
class Team:
    org: Organisation
    owner: User
    manager: User
    member: User
    outsider: User
    admin: User

    def membership(self, db, user: User) -> Membership:
        return service.membership_of(db, self.org.id, user.id)


def add_member(db, org: Organisation, user: User, role: str = "member") -> Membership:
    m = Membership(organisation_id=org.id, user_id=user.id, role=role)
    db.add(m)
    db.flush()
    return m


@pytest.fixture
def team(db, make_user) -> Team:
    owner = make_user("owner@acme.example", name="Olive Owner")
    manager = make_user("manager@acme.example", name="Mona Manager")
    member = make_user("member@acme.example", name="Milo Member")
    outsider = make_user("outsider@other.example", name="Otto Outsider")
    admin = make_user("admin@cadre.example", name="Ada Admin", roles={Role.admin})
    org = service.create(db, owner, name="Acme Services", billing=service.Billing(legal_name="Acme Services Ltd"))
    add_member(db, org, manager, "manager")
    add_member(db, org, member, "member")
    db.commit()
    return Team(org, owner, manager, member, outsider, admin)


@dataclass
class Fixture:
    """`team` plus a pool of 3 granted ACXP seats, one seat held by the member, an open invitation, and
    a second organisation the team's people are not in."""

    team: Team
    pool: object
    assignment: object
    invitation: object
    other_org: Organisation
    tokens: dict

    def headers(self, who: str) -> dict:
        return {"Authorization": f"Bearer {self.tokens[who]}"}


@pytest.fixture
def setup(db, team, make_user) -> Fixture:
    from api.accounts import service as accounts_service
    from api.organisations import seats

    acxp = seats.programme_by_slug(db, "acxp")
    pool = seats.grant(db, team.org, acxp, 3, team.admin)
    assignment = seats.assign(db, team.org, pool, team.membership(db, team.member), team.manager)
    inv, _ = service.invite(db, team.org, team.owner, email="newcomer@acme.example")
    stranger = make_user("boss@other.example", name="Other Boss")
    other = service.create(db, stranger, name="Other Ltd")
    tokens = {who: accounts_service.start_session(db, getattr(team, who))[0]
              for who in ("owner", "manager", "member", "outsider", "admin")}
    db.commit()
    return Fixture(team, pool, assignment, inv, other, tokens)


from tests.payments.conftest import localstripe, stripe_client, stripe_settings, stripe_standin  # noqa: E402,F401
