"""Single sign-on for an organisation's domain: its owner asks, a platform admin approves (domain ownership
cannot be proven offline), and only then are the people on that domain offered or required to use the
provider at log-in. Who may do what, for owner, manager, member, outsider and platform admin."""

from __future__ import annotations

import pytest
from sqlmodel import select

from api.accounts import sso, sso_bindings
from api.accounts.models import SSODomainBinding
from api.core.config import OIDCProviderSettings, get_settings
from tests.conftest import csrf_from
from tests.organisations.conftest import team  # noqa: F401 - the fixture

ACME = OIDCProviderSettings(key="acme", issuer="https://id.acme.example", client_id="cadre", name="Acme ID")
OTHER = OIDCProviderSettings(key="other", issuer="https://id.other.example", client_id="cadre", name="Other ID")


@pytest.fixture(autouse=True)
def providers(monkeypatch):
    monkeypatch.setattr(get_settings(), "oidc_providers", [ACME, OTHER])


def as_user(client, login, user) -> str:
    client.cookies.clear()
    login(user.email)
    return csrf_from(client.get("/verify/bulk").text)


def ask(client, login, team, domain="acme.example", provider="acme", required=True):  # noqa: F811
    token = as_user(client, login, team.owner)
    return client.post(f"/organisations/{team.org.public_id}/sso", follow_redirects=False,
                       data={"csrf_token": token, "domain": domain, "provider": provider,
                             "required": "yes" if required else ""})


def password_login(client, email: str):
    client.cookies.clear()
    page = client.get("/login")
    return client.post("/login", data={"csrf_token": csrf_from(page.text), "email": email,
                                       "password": "correct-horse-battery"}, follow_redirects=False)


def decide(client, login, admin, binding, decision="approve", note=""):
    token = as_user(client, login, admin)
    return client.post(f"/admin/sso-domains/{binding.id}/decide", follow_redirects=False,
                       data={"csrf_token": token, "decision": decision, "note": note})


def test_a_requested_domain_applies_only_once_an_admin_approves(client, login, team, db, mailbox):  # noqa: F811
    r = ask(client, login, team, domain="Acme.Example")
    assert r.status_code == 303
    page = client.get(r.headers["location"]).text
    assert "Waiting for approval" in page and "acme.example" in page and "Required" in page
    row = db.exec(select(SSODomainBinding).where(SSODomainBinding.domain == "acme.example")).one()
    assert (row.owner_id, row.status, row.requested_by_id) == (team.org.id, "pending", team.owner.id)
    # Waiting: the manager (on acme.example) still logs in with a password.
    assert password_login(client, team.manager.email).status_code == 303
    assert sso.rule_for(db, team.manager.email).offered == []

    admin_page = (as_user(client, login, team.admin), client.get("/admin/sso-domains").text)[1]
    assert "acme.example" in admin_page and "Acme Services" in admin_page and "DNS TXT" in admin_page
    r = decide(client, login, team.admin, row)
    assert r.status_code == 303
    db.refresh(row)
    assert (row.status, row.decided_by_id) == ("approved", team.admin.id) and row.decided_at is not None

    (told,) = mailbox.to(team.owner.email)
    assert " ".join(str(told["Subject"]).split()) == "Single sign-on for acme.example: approved"
    body = mailbox.body(told)
    assert "@acme.example" in body and "with Acme ID only" in body
    assert f"/organisations/{team.org.public_id}/sso" in body

    r = password_login(client, team.manager.email)
    assert r.status_code == 403 and "People at acme.example log in with Acme ID" in r.text
    assert 'action="/sso/acme/start"' in r.text
    as_user(client, login, team.owner)  # the owner is on acme.example too: API log-in is not the page's rule
    assert "Approved" in client.get(f"/organisations/{team.org.public_id}/sso").text


def test_an_offered_domain_offers_and_a_withdrawn_one_stops(client, login, team, db):  # noqa: F811
    ask(client, login, team, required=False)
    row = db.exec(select(SSODomainBinding).where(SSODomainBinding.domain == "acme.example")).one()
    decide(client, login, team.admin, row)
    rule = sso.rule_for(db, "someone@acme.example")
    assert [p.key for p in rule.offered] == ["acme"] and rule.required is False
    assert password_login(client, team.manager.email).status_code == 303
    token = as_user(client, login, team.owner)
    r = client.post(f"/organisations/{team.org.public_id}/sso/{row.id}/withdraw", data={"csrf_token": token},
                    follow_redirects=False)
    assert r.status_code == 303
    assert sso.rule_for(db, "someone@acme.example").offered == []


def test_a_rejection_says_why_and_binds_nothing(client, login, team, db, mailbox):  # noqa: F811
    ask(client, login, team)
    row = db.exec(select(SSODomainBinding).where(SSODomainBinding.domain == "acme.example")).one()
    r = decide(client, login, team.admin, row, "reject")
    assert r.status_code == 303 and "Say why" in client.get(r.headers["location"]).text
    db.refresh(row)
    assert row.status == "pending"
    decide(client, login, team.admin, row, "reject", "We could not confirm the domain: publish the DNS record.")
    db.refresh(row)
    assert row.status == "rejected" and sso.rule_for(db, "x@acme.example").offered == []
    assert "publish the DNS record" in mailbox.body(mailbox.to(team.owner.email)[-1])
    as_user(client, login, team.owner)
    page = client.get(f"/organisations/{team.org.public_id}/sso").text
    assert "Rejected" in page and "publish the DNS record" in page
    r = decide(client, login, team.admin, row)
    assert r.status_code == 303 and "already been decided" in client.get(r.headers["location"]).text
    # Asked again after the refusal: the same row waits again.
    assert ask(client, login, team).status_code == 303
    db.refresh(row)
    assert row.status == "pending" and row.decision_note is None


def test_bad_domains_and_domains_taken_are_refused(client, login, team, db, make_user):  # noqa: F811
    from api.organisations import service

    r = ask(client, login, team, domain="gmail.com")
    assert r.status_code == 422 and "public email service" in r.text
    r = ask(client, login, team, domain="not a domain")
    assert r.status_code == 422 and "such as example.com" in r.text
    r = ask(client, login, team, provider="nobody")
    assert r.status_code == 422 and "Choose one of the single sign-on providers" in r.text
    assert ask(client, login, team).status_code == 303
    r = ask(client, login, team)
    assert r.status_code == 409 and "already asked for acme.example" in r.text
    # Another organisation cannot take the same domain, with this provider or another.
    boss = make_user("boss@rival.example")
    rival = service.create(db, boss, name="Rival plc")
    db.commit()
    token = as_user(client, login, boss)
    for provider in ("acme", "other"):
        r = client.post(f"/organisations/{rival.public_id}/sso",
                        data={"csrf_token": token, "domain": "acme.example", "provider": provider})
        assert r.status_code == 409 and "already bound to single sign-on" in r.text
    assert len(db.exec(select(SSODomainBinding).where(SSODomainBinding.domain == "acme.example")).all()) == 1


def test_an_approved_domain_belongs_to_one_organisation(db, team, make_user):  # noqa: F811
    """Two requests for one domain (different providers) may wait side by side only through a race
    (the check sees neither); the database then lets one be approved."""
    from api.core.errors import Conflict
    from api.organisations import service

    boss = make_user("boss2@rival.example")
    rival = service.create(db, boss, name="Rival two")
    first = SSODomainBinding(provider_key="acme", domain="shared.example", owner_id=team.org.id, status="pending")
    second = SSODomainBinding(provider_key="other", domain="shared.example", owner_id=rival.id, status="pending")
    db.add_all([first, second])
    db.commit()
    sso_bindings.decide(db, first.id, team.admin, approve=True)
    with pytest.raises(Conflict) as refused:
        sso_bindings.decide(db, second.id, team.admin, approve=True)
    assert refused.value.code == "domain_taken"


def test_the_binding_goes_with_its_organisation(db, team):  # noqa: F811
    from api.organisations.models import Organisation

    db.add(SSODomainBinding(provider_key="acme", domain="gone.example", owner_id=team.org.id, status="approved"))
    db.commit()
    db.delete(db.get(Organisation, team.org.id))
    db.commit()
    assert db.exec(select(SSODomainBinding).where(SSODomainBinding.domain == "gone.example")).first() is None


@pytest.mark.parametrize(("who", "see", "act"), [
    ("owner", 200, 303), ("manager", 403, 403), ("member", 403, 403), ("outsider", 404, 404), ("admin", 200, 403),
])
def test_who_may_see_ask_and_withdraw(client, login, team, db, who, see, act):  # noqa: F811
    row = SSODomainBinding(provider_key="acme", domain="kept.example", owner_id=team.org.id, status="pending")
    db.add(row)
    db.commit()
    token = as_user(client, login, getattr(team, who))
    base = f"/organisations/{team.org.public_id}/sso"
    assert client.get(base).status_code == see
    r = client.post(base, data={"csrf_token": token, "domain": "new.example", "provider": "acme"},
                    follow_redirects=False)
    assert r.status_code == act
    r = client.post(f"{base}/{row.id}/withdraw", data={"csrf_token": token}, follow_redirects=False)
    assert r.status_code == act
    assert (db.get(SSODomainBinding, row.id) is None) == (who == "owner")


@pytest.mark.parametrize("who", ["owner", "manager", "member", "outsider"])
def test_only_platform_admins_decide(client, login, team, db, who):  # noqa: F811
    row = SSODomainBinding(provider_key="acme", domain="decide.example", owner_id=team.org.id, status="pending")
    db.add(row)
    db.commit()
    token = as_user(client, login, getattr(team, who))
    assert client.get("/admin/sso-domains").status_code == 403
    r = client.post(f"/admin/sso-domains/{row.id}/decide", data={"csrf_token": token, "decision": "approve"})
    assert r.status_code == 403
    db.refresh(row)
    assert row.status == "pending"
    as_user(client, login, team.admin)
    assert client.get("/admin/sso-domains?status=all").status_code == 200
    r = client.post("/admin/sso-domains/999999/decide",
                    data={"csrf_token": csrf_from(client.get("/verify/bulk").text), "decision": "approve"})
    assert r.status_code == 404


def test_an_organisation_holds_at_most_twenty_domains(client, login, team, db):  # noqa: F811
    db.add_all([SSODomainBinding(provider_key="acme", domain=f"d{i}.example", owner_id=team.org.id,
                                 status="pending") for i in range(sso_bindings.MAX_DOMAINS)])
    db.commit()
    r = ask(client, login, team, domain="one-more.example")
    assert r.status_code == 409 and "at most 20 single sign-on domains" in r.text
