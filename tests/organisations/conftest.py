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
