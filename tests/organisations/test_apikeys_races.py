"""On PostgreSQL, where locks and unique indexes wait for real: two owners making a key with the same name
at the same moment get one key and one 409; the last free place under the cap of active keys goes once;
two organisations asking for the same domain, or two admins approving one domain for two organisations,
give one binding and one 409. The same answers as one after the other."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import delete
from sqlmodel import Session, select

from api.accounts import service as accounts_service
from api.accounts import sso_bindings
from api.accounts.models import Role, SSODomainBinding, User
from api.accounts.schemas import UserCreate
from api.core.config import OIDCProviderSettings, get_settings
from api.core.errors import Conflict
from api.organisations import apikeys
from api.organisations import service as org_service
from api.organisations.apikey_models import ApiKey
from api.organisations.models import Organisation
from tests.learning.test_concurrency import _race, _wait_for_a_lock_wait

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg(engine):
    if get_settings().is_sqlite:
        pytest.skip("row locks and unique-index waits are only real on PostgreSQL; set CADRE_TEST_DATABASE_URL")
    return engine


@pytest.fixture
def two_orgs(pg, monkeypatch) -> Iterator[tuple[int, int, int, int, int]]:
    """(owner A, organisation A, owner B, organisation B, a platform admin), committed."""
    monkeypatch.setattr(get_settings(), "oidc_providers", [
        OIDCProviderSettings(key="acme", issuer="https://id.acme.example", client_id="c", name="Acme ID"),
        OIDCProviderSettings(key="other", issuer="https://id.other.example", client_id="c", name="Other ID")])
    with Session(pg, expire_on_commit=False) as s:
        def person(email: str, roles=None) -> User:
            return accounts_service.create_user(s, UserCreate(email=email, full_name="Race Person",
                                                              password="correct-horse-battery"),
                                                verified=True, roles=roles)
        a, b, admin = person("race-a@a.example"), person("race-b@b.example"), person("race-admin@cadre.example",
                                                                                      {Role.admin})
        org_a, org_b = org_service.create(s, a, name="Race A"), org_service.create(s, b, name="Race B")
        s.commit()
        ids = (a.id, org_a.id, b.id, org_b.id, admin.id)
    try:
        yield ids
    finally:
        with Session(pg) as s:
            s.exec(delete(Organisation).where(Organisation.id.in_([ids[1], ids[3]])))  # keys, bindings cascade
            s.exec(delete(User).where(User.id.in_([ids[0], ids[2], ids[4]])))
            s.commit()


def test_the_same_key_name_twice_at_once(pg, two_orgs):
    owner_id, org_id, *_ = two_orgs

    def make(session, user):
        return apikeys.create(session, session.get(Organisation, org_id), user, name="HR system",
                              scopes=["verify"])[0].id

    first, second, waited = _race(pg, owner_id, make, make)
    assert waited, "the second request should have waited for the first"
    assert isinstance(first, int)
    assert isinstance(second, Conflict) and second.status_code == 409 and second.code == "key_name_taken"
    with Session(pg) as s:
        assert len(s.exec(select(ApiKey).where(ApiKey.organisation_id == org_id)).all()) == 1


def test_the_last_place_under_the_cap_goes_once(pg, two_orgs):
    owner_id, org_id, *_ = two_orgs
    with Session(pg) as s:
        org, owner = s.get(Organisation, org_id), s.get(User, owner_id)
        for i in range(apikeys.MAX_ACTIVE_KEYS - 1):
            apikeys.create(s, org, owner, name=f"Key {i}", scopes=["verify"])
        s.commit()

    def make(name):
        return lambda session, user: apikeys.create(session, session.get(Organisation, org_id), user, name=name,
                                                    scopes=["verify"])[0].id

    first, second, waited = _race(pg, owner_id, make("Tenth"), make("Eleventh"))
    assert waited
    assert isinstance(first, int) and isinstance(second, Conflict) and second.code == "too_many_keys"
    with Session(pg) as s:
        assert apikeys.active_count(s, org_id) == apikeys.MAX_ACTIVE_KEYS


def test_two_organisations_ask_for_one_domain_at_once(pg, two_orgs):
    owner_a, org_a, owner_b, org_b, _ = two_orgs

    def ask(org_id):
        return lambda session, user: sso_bindings.request(session, org_id, user, provider_key="acme",
                                                          domain="contested.example", required=True).id

    a = Session(pg, expire_on_commit=False)
    try:
        # B asks as A's request is still open: B waits at the unique index, then is refused.
        first = ask(org_a)(a, a.get(User, owner_a))
        out = {}

        def run_b():
            with Session(pg, expire_on_commit=False) as b:
                try:
                    out["b"] = ask(org_b)(b, b.get(User, owner_b))
                    b.commit()
                except Exception as exc:  # inspected below
                    b.rollback()
                    out["b"] = exc

        t = threading.Thread(target=run_b)
        t.start()
        waited = _wait_for_a_lock_wait(pg)
        a.commit()
        t.join(15)
        assert not t.is_alive()
    finally:
        a.close()
    assert waited and isinstance(first, int)
    assert isinstance(out["b"], Conflict) and out["b"].code == "domain_taken"
    with Session(pg) as s:
        rows = s.exec(select(SSODomainBinding).where(SSODomainBinding.domain == "contested.example")).all()
        assert [r.owner_id for r in rows] == [org_a]


def test_two_approvals_of_one_domain_for_two_organisations(pg, two_orgs):
    _, org_a, _, org_b, admin_id = two_orgs
    with Session(pg) as s:
        # Two requests for one domain with different providers: made one after the other here, as two
        # requests that both passed the check at the same moment would have made them.
        rows = [SSODomainBinding(provider_key="acme", domain="twice.example", owner_id=org_a, status="pending"),
                SSODomainBinding(provider_key="other", domain="twice.example", owner_id=org_b, status="pending")]
        s.add_all(rows)
        s.commit()
        ids = [r.id for r in rows]

    def approve(binding_id):
        return lambda session, user: sso_bindings.decide(session, binding_id, user, approve=True).status

    first, second, waited = _race(pg, admin_id, approve(ids[0]), approve(ids[1]))
    assert waited, "the second approval should have waited at the unique index"
    assert first == "approved"
    assert isinstance(second, Conflict) and second.code == "domain_taken"
    with Session(pg) as s:
        statuses = {r.owner_id: r.status for r in s.exec(select(SSODomainBinding).where(
            SSODomainBinding.domain == "twice.example"))}
        assert statuses == {org_a: "approved", org_b: "pending"}
