"""The demo: the employer demo account owns an organisation with a small team at different stages, and
building the demo again makes nothing twice."""

from __future__ import annotations

from sqlmodel import func, select

from api import demo
from api.demo import people
from api.organisations import service
from api.organisations.models import Invitation, Membership, Organisation, SeatAssignment, SeatCredit


def _counts(db) -> list[int]:
    return [db.exec(select(func.count()).select_from(t)).one()
            for t in (Organisation, Membership, Invitation, SeatCredit, SeatAssignment)]


def test_the_employer_owns_a_team_at_different_stages_and_a_rerun_makes_nothing_twice(db, client, login):
    who, logins = people.ensure(db)
    lines = demo.run(db, who)
    db.commit()
    assert any("Northwind Services" in line for line in lines)
    [org] = service.organisations_of(db, who["employer"].id)
    assert service.membership_of(db, org.id, who["employer"].id).role == "owner"
    before = _counts(db)
    demo.run(db, who)
    db.commit()
    assert _counts(db) == before

    password = next(x.password for x in logins if x.key == "employer")
    token = login("employer@example.com", password)
    team = client.get(f"/api/v1/organisations/{org.public_id}/team", headers={"Authorization": f"Bearer {token}"})
    rows = {m["email"]: m for m in team.json()["items"]}
    sam = rows["sam.lee@example.com"]
    assert sam["shares_progress"] and sam["programmes"][0]["percent"] > 0
    jo = rows["jo.bright@example.com"]
    assert not jo["shares_progress"] and jo["certificates"][0]["status"] == "valid"
    invites = client.get(f"/api/v1/organisations/{org.public_id}/invitations",
                         headers={"Authorization": f"Bearer {token}"}).json()
    assert [i["email"] for i in invites] == ["priya.shah@example.com"]
