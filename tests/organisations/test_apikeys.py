"""API keys: an owner makes one (shown once, kept only as a digest), it verifies in bulk, its last use is
shown, a revoked, unknown or wrongly scoped key is refused, and each key has its own rate limit. And who
may see and touch the keys: owner, manager, member, outsider, platform admin."""

from __future__ import annotations

import hashlib
import re

import pytest
from sqlmodel import select

from api.certificates import service as certificates
from api.core.config import get_settings
from api.organisations import apikeys
from api.organisations.apikey_models import ApiKey
from tests.certificates.conftest import completed, issued  # noqa: F401 - fixtures
from tests.conftest import csrf_from


def as_user(client, login, user) -> str:
    client.cookies.clear()
    login(user.email)
    return csrf_from(client.get("/verify/bulk").text)


def make_key(client, login, team, name="HR system", scopes=("verify",)):
    token = as_user(client, login, team.owner)
    r = client.post(f"/organisations/{team.org.public_id}/api-keys",
                    data={"csrf_token": token, "name": name, "scopes": list(scopes)})
    assert r.status_code == 201, r.text
    return re.search(r'id="new-key" type="text" readonly value="(cdk_[^"]+)"', r.text).group(1), r


@pytest.fixture
def cert(db, issued):  # noqa: F811 - the fixture imported above
    _, _, c = issued(name="Ama Owusu")
    return c


def bulk(client, raw, cert):
    return client.post("/api/v1/verifications/bulk", headers={"Authorization": f"Bearer {raw}"},
                       json=[{"number": cert.number, "surname": "Owusu"}])


def test_a_key_is_shown_once_and_kept_only_as_a_digest(client, login, team, db):
    raw, r = make_key(client, login, team)
    assert "the only time it is shown" in r.text and r.headers["cache-control"] == "no-store"
    assert re.fullmatch(r"cdk_[0-9a-f]{10}_[A-Za-z0-9_-]{43}", raw)
    row = db.exec(select(ApiKey).where(ApiKey.organisation_id == team.org.id)).one()
    assert row.secret_digest == hashlib.sha256(raw.encode()).hexdigest() and raw.startswith(row.prefix + "_")
    assert raw not in " ".join(str(v) for v in row.model_dump().values())
    again = client.get(f"/organisations/{team.org.public_id}/api-keys")
    assert again.status_code == 200 and raw not in again.text and "HR system" in again.text
    assert f"{row.prefix}_…" in again.text and "Never" in again.text


def test_a_key_verifies_in_bulk_and_its_last_use_is_shown(client, login, team, cert, db):
    raw, _ = make_key(client, login, team)
    client.cookies.clear()  # the key alone
    r = bulk(client, raw, cert)
    assert r.status_code == 200, r.text
    assert r.json()["results"][0]["status"] == "valid"
    row = db.exec(select(ApiKey).where(ApiKey.organisation_id == team.org.id)).one()
    db.refresh(row)
    assert row.last_used_at is not None
    as_user(client, login, team.owner)
    page = client.get(f"/organisations/{team.org.public_id}/api-keys").text
    assert "Never" not in page and "UTC" in page


def test_revoked_unknown_and_wrongly_scoped_keys_are_refused(client, login, team, cert, db):
    raw, _ = make_key(client, login, team)
    team_only, _ = make_key(client, login, team, name="Team reader", scopes=("team:read",))
    client.cookies.clear()
    r = bulk(client, team_only, cert)
    assert r.status_code == 403 and r.json()["error"]["code"] == "scope_missing"
    r = bulk(client, raw[:-4] + "AAAA", cert)
    assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_api_key"
    key = db.exec(select(ApiKey).where(ApiKey.name == "HR system")).one()
    token = as_user(client, login, team.owner)
    r = client.post(f"/organisations/{team.org.public_id}/api-keys/{key.id}/revoke", data={"csrf_token": token},
                    follow_redirects=False)
    assert r.status_code == 303
    page = client.get(r.headers["location"]).text
    assert "is revoked: it no longer works" in page and "Revoked keys" in page
    client.cookies.clear()
    r = bulk(client, raw, cert)
    assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_api_key"
    assert "revoked" in r.json()["error"]["message"]
    token = as_user(client, login, team.owner)
    r = client.post(f"/organisations/{team.org.public_id}/api-keys/{key.id}/revoke", data={"csrf_token": token},
                    follow_redirects=False)
    assert r.status_code == 303 and "already revoked" in client.get(r.headers["location"]).text


def test_each_key_has_its_own_rate_limit(client, login, team, cert, monkeypatch):
    first, _ = make_key(client, login, team, name="One")
    second, _ = make_key(client, login, team, name="Two")
    client.cookies.clear()
    monkeypatch.setattr(get_settings(), "api_key_requests_per_minute", 2)
    assert [bulk(client, first, cert).status_code for _ in range(3)] == [200, 200, 429]
    assert bulk(client, first, cert).headers["retry-after"]
    assert bulk(client, second, cert).status_code == 200  # another key, another allowance
    monkeypatch.setattr(get_settings(), "api_key_requests_per_minute", 100)
    monkeypatch.setattr(get_settings(), "bulk_rows_per_hour", 3)
    r = client.post("/api/v1/verifications/bulk", headers={"Authorization": f"Bearer {second}"},
                    json=[{"number": cert.number, "surname": "Owusu"}] * 3)
    assert r.status_code == 429 and r.json()["error"]["code"] == "rate_limited"


def test_names_scopes_and_the_cap(client, login, team, db):
    token = as_user(client, login, team.owner)
    url = f"/organisations/{team.org.public_id}/api-keys"
    r = client.post(url, data={"csrf_token": token, "name": "  ", "scopes": ["verify"]})
    assert r.status_code == 422 and "Give the key a name" in r.text
    r = client.post(url, data={"csrf_token": token, "name": "No scopes"})
    assert r.status_code == 422 and "Choose what the key may do" in r.text
    r = client.post(url, data={"csrf_token": token, "name": "Bad", "scopes": ["admin"]})
    assert r.status_code == 422
    assert client.post(url, data={"csrf_token": token, "name": "Same", "scopes": ["verify"]}).status_code == 201
    r = client.post(url, data={"csrf_token": token, "name": "Same", "scopes": ["verify"]})
    assert r.status_code == 409 and "already has an active key named" in r.text
    for i in range(apikeys.MAX_ACTIVE_KEYS - 1):
        assert client.post(url, data={"csrf_token": token, "name": f"K{i}", "scopes": ["verify"]}).status_code == 201
    r = client.post(url, data={"csrf_token": token, "name": "One too many", "scopes": ["verify"]})
    assert r.status_code == 409 and "at most 10 active keys" in r.text
    assert apikeys.active_count(db, team.org.id) == 10


@pytest.mark.parametrize(("who", "see", "make", "revoke"), [
    ("owner", 200, 201, 303),
    ("manager", 403, 403, 403),
    ("member", 403, 403, 403),
    ("outsider", 404, 404, 404),
    ("admin", 200, 403, 403),  # platform admins read, owners act
])
def test_who_may_see_make_and_revoke_keys(client, login, team, db, who, see, make, revoke):
    make_key(client, login, team)
    key = db.exec(select(ApiKey).where(ApiKey.organisation_id == team.org.id)).one()
    token = as_user(client, login, getattr(team, who))
    base = f"/organisations/{team.org.public_id}/api-keys"
    assert client.get(base).status_code == see
    r = client.post(base, data={"csrf_token": token, "name": "Mine", "scopes": ["verify"]}, follow_redirects=False)
    assert r.status_code == make
    r = client.post(f"{base}/{key.id}/revoke", data={"csrf_token": token}, follow_redirects=False)
    assert r.status_code == revoke
    db.refresh(key)
    assert (key.revoked_at is not None) == (who == "owner")


def test_another_organisations_key_is_not_found(client, login, team, db, make_user):
    from api.organisations import service

    make_key(client, login, team)
    key = db.exec(select(ApiKey).where(ApiKey.organisation_id == team.org.id)).one()
    other_owner = make_user("boss@other.example")
    other = service.create(db, other_owner, name="Other Ltd")
    db.commit()
    token = as_user(client, login, other_owner)
    r = client.post(f"/organisations/{other.public_id}/api-keys/{key.id}/revoke", data={"csrf_token": token})
    assert r.status_code == 404
    db.refresh(key)
    assert key.revoked_at is None
    assert client.get("/organisations/org_nothing/api-keys").status_code == 404


def test_the_bulk_api_still_takes_a_session(client, login, team, cert):
    as_user(client, login, team.member)
    r = client.post("/api/v1/verifications/bulk", json=[{"number": cert.number, "surname": "Owusu"}])
    assert r.status_code == 200 and r.json()["results"][0]["status"] == "valid"
    assert certificates.effective_status(cert) == "valid"


def test_the_organisation_page_lists_its_keys_for_owners(client, login, team):
    make_key(client, login, team, name="HR system")
    page = client.get(f"/organisations/{team.org.public_id}").text
    assert "API keys and single sign-on" in page and "HR system" in page and "last used never" in page
    assert f'href="/organisations/{team.org.public_id}/api-keys"' in page
    as_user(client, login, team.manager)
    page = client.get(f"/organisations/{team.org.public_id}").text
    assert "HR system" not in page and "Manage API keys" not in page
