"""GET /api/v1/organisations/<id>/team with an API key scoped `team:read`: the team as its managers see it
(with only what each member agreed to share), never another organisation's; a key without the scope or a
revoked key is refused. People keep the access the team pages give them."""

from __future__ import annotations

import pytest
from sqlmodel import select

from api.organisations import apikeys
from api.organisations import service as org_service
from api.organisations.apikey_models import ApiKey
from tests.organisations.test_apikeys import as_user, make_key


def team_api(client, org, raw=None, csv=False):
    headers = {"Authorization": f"Bearer {raw}"} if raw else {}
    return client.get(f"/api/v1/organisations/{org.public_id}/team{'.csv' if csv else ''}", headers=headers)


def test_a_team_key_reads_the_team(client, login, team, db):
    raw, _ = make_key(client, login, team, name="Team reader", scopes=("team:read",))
    client.cookies.clear()
    r = team_api(client, team.org, raw)
    assert r.status_code == 200, r.text
    people = {m["name"]: m for m in r.json()["items"]}
    assert set(people) == {"Olive Owner", "Mona Manager", "Milo Member"}
    assert people["Milo Member"]["shares_progress"] is False  # nothing shared unless the member agrees
    r = team_api(client, team.org, raw, csv=True)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv") and "Milo Member" in r.text
    key = db.exec(select(ApiKey).where(ApiKey.name == "Team reader")).one()
    db.refresh(key)
    assert key.last_used_at is not None


def test_a_team_key_is_refused_elsewhere_and_without_its_scope(client, login, team, db, make_user):
    verify_only, _ = make_key(client, login, team, name="Verifier", scopes=("verify",))
    reader, _ = make_key(client, login, team, name="Reader", scopes=("team:read",))
    boss = make_user("boss@elsewhere.example")
    other = org_service.create(db, boss, name="Elsewhere Ltd")
    db.commit()
    client.cookies.clear()
    r = team_api(client, team.org, verify_only)
    assert r.status_code == 403 and r.json()["error"]["code"] == "scope_missing"
    r = team_api(client, other, reader)
    assert r.status_code == 404 and r.json()["error"]["code"] == "organisation_not_found"
    assert "Milo" not in r.text
    key = db.exec(select(ApiKey).where(ApiKey.name == "Reader")).one()
    apikeys.revoke(db, team.org, key.id, team.owner)
    db.commit()
    r = team_api(client, team.org, reader)
    assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_api_key"
    r = team_api(client, team.org, "cdk_0000000000_not-a-key")
    assert r.status_code == 401


@pytest.mark.parametrize(("who", "status"), [("owner", 200), ("manager", 200), ("member", 403), ("outsider", 404),
                                              ("admin", 200)])
def test_people_keep_the_team_pages_access(client, login, team, who, status):
    as_user(client, login, getattr(team, who))
    assert team_api(client, team.org).status_code == status
