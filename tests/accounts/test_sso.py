"""Single sign-on against a real OpenID Connect provider (Canaille through pytest-iam, over HTTP on
127.0.0.1): the code flow with PKCE, state and nonce, the ID token's checks, linking, the domain rule."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlmodel import func, select

from tests.conftest import csrf_from, free_port

from .conftest import forget_codes, provider_settings


def _start(client, key: str = "acme", **form) -> str:
    token = csrf_from(client.get("/login").text)
    r = client.post(f"/sso/{key}/start", data={"csrf_token": token, **form}, follow_redirects=False)
    assert r.status_code == 303, r.text
    return r.headers["location"]


def _at_provider(iam, person, url: str) -> str:
    """The person logs in at the provider and agrees: where the provider sends the browser back."""
    forget_codes(iam)
    iam.login(person)
    iam.consent(person)
    try:
        r = iam.app.test_client().get(url)  # a fresh browser at the provider each time
    finally:
        iam.logout()
    assert r.status_code == 302, r.get_data(as_text=True)[:500]
    return r.headers["Location"]


def _sso(client, iam, person, key: str = "acme"):
    return client.get(_at_provider(iam, person, _start(client, key)), follow_redirects=False)


def _count(db, model) -> int:
    return db.exec(select(func.count()).select_from(model)).one()


def _identities(db):
    from api.accounts.models import UserIdentity

    db.expire_all()
    return db.exec(select(UserIdentity)).all()


def test_a_new_person_logs_in_and_gets_an_account(client, db, providers, oidc_provider, idp_user):
    from api.accounts.models import NO_PASSWORD, User

    person = idp_user("nadia@newco.example.com", name="Nadia Okafor")
    url = _start(client)
    query = parse_qs(urlsplit(url).query)
    assert query["code_challenge_method"] == ["S256"] and len(query["code_challenge"][0]) == 43
    assert query["state"][0] and query["nonce"][0] and query["client_id"] == ["cadre-test"]
    r = client.get(_at_provider(oidc_provider, person, url), follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/dashboard"
    assert client.get("/account").status_code == 200
    account = client.get("/account").text
    assert "Acme ID" in account and "nadia@newco.example.com" in account and "Add a password" in account
    user = db.exec(select(User).where(User.email == "nadia@newco.example.com")).one()
    assert user.full_name == "Nadia Okafor" and user.password_hash == NO_PASSWORD
    assert user.email_verified_at is None  # the provider did not say it checked the address
    for guess in ("", "cadre-dummy-password-for-timing", NO_PASSWORD):  # no password logs in to it
        r = client.post("/api/v1/auth/login", json={"email": "nadia@newco.example.com", "password": guess or "x"})
        assert r.status_code == 422
    [identity] = _identities(db)
    assert (identity.issuer, identity.subject, identity.user_id) == (oidc_provider.url.rstrip("/"), person.user_name,
                                                                     user.id)
    # Again, from a fresh browser: the same account, found by issuer and subject.
    client.cookies.clear()
    users = _count(db, User)
    assert _sso(client, oidc_provider, person).headers["location"] == "/dashboard"
    assert _count(db, User) == users and len(_identities(db)) == 1


def _flow_cookie(client):
    from api.accounts import sso

    return sso.decode_flow(client.cookies.get("cadre_sso_flow", path="/sso/"))


def _replace_flow(client, **changes):
    from dataclasses import replace

    from api.accounts import sso

    flow = replace(_flow_cookie(client), **changes)
    client.cookies.delete("cadre_sso_flow", path="/sso/")
    client.cookies.set("cadre_sso_flow", sso.encode_flow(flow), path="/sso/")


def test_pkce_the_provider_refuses_a_code_without_its_verifier(client, db, providers, oidc_provider, idp_user):
    from api.accounts.models import User

    person = idp_user("pat@newco.example.com")
    back = _at_provider(oidc_provider, person, _start(client))
    _replace_flow(client, code_verifier="a-different-verifier-" + "x" * 30)
    users = _count(db, User)
    r = client.get(back, follow_redirects=False)
    assert r.status_code == 502 and "refused the log-in" in r.text
    assert _count(db, User) == users and _identities(db) == [] and "cadre_session" not in client.cookies


def test_nonce_a_token_for_another_log_in_is_refused(client, db, providers, oidc_provider, idp_user):
    person = idp_user("nick@newco.example.com")
    back = _at_provider(oidc_provider, person, _start(client))
    _replace_flow(client, nonce="not-the-nonce-sent")
    r = client.get(back, follow_redirects=False)
    assert r.status_code == 400 and "was not for the log-in started here" in r.text
    assert _identities(db) == []


def test_state_mismatch_and_a_missing_flow_are_refused(client, db, providers, oidc_provider, idp_user):
    person = idp_user("sam@newco.example.com")
    back = _at_provider(oidc_provider, person, _start(client))
    r = client.get(back.replace("state=", "state=x"), follow_redirects=False)
    assert r.status_code == 400 and "does not match a log-in started in this browser" in r.text
    client.cookies.clear()  # another browser altogether
    r = client.get(back, follow_redirects=False)
    assert r.status_code == 400 and "does not match a log-in started in this browser" in r.text
    assert _identities(db) == []


def test_cancelled_at_the_provider(client, providers):
    _start(client)
    state = _flow_cookie(client).state
    r = client.get(f"/sso/acme/callback?error=access_denied&state={state}", follow_redirects=False)
    assert r.status_code == 400 and "Log-in cancelled" in r.text and "You stopped the log-in at Acme ID" in r.text


def _with_token(monkeypatch, change):
    """The provider's real token response, changed on its way in by `change(token)`."""
    from api.accounts import oidc

    real = oidc.exchange_code

    def exchange(provider, code, flow):
        token = real(provider, code, flow)
        token["id_token"] = change(token["id_token"], flow)
        return token

    monkeypatch.setattr(oidc, "exchange_code", exchange)


def _resigned(iam_configuration, **claims):
    """An ID token signed with the provider's own key, with these claims changed."""
    from joserfc import jwt
    from joserfc.jwk import RSAKey

    key = RSAKey.import_key(iam_configuration["CANAILLE_OIDC"]["ACTIVE_JWKS"][0])

    def change(raw, flow):
        algorithms = ["RS256", "RS384", "RS512"]
        original = jwt.decode(raw, key, algorithms=algorithms)
        return jwt.encode(original.header, {**original.claims, **claims}, key, algorithms=algorithms)

    return change


def test_a_tampered_id_token_is_refused(client, db, monkeypatch, providers, oidc_provider, idp_user):
    import base64
    import json

    def tamper(raw, flow):  # the same signature over a payload naming someone else
        header, payload, signature = raw.split(".")
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        claims["sub"] = "somebody-else"
        forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
        return f"{header}.{forged}.{signature}"

    _with_token(monkeypatch, tamper)
    r = _sso(client, oidc_provider, idp_user("tina@newco.example.com"))
    assert r.status_code == 400 and "not signed as it should be" in r.text
    assert _identities(db) == [] and "cadre_session" not in client.cookies


def test_a_token_from_another_issuer_is_refused(client, db, monkeypatch, providers, oidc_provider, idp_user,
                                                iam_configuration):
    _with_token(monkeypatch, _resigned(iam_configuration, iss="https://evil.example"))
    r = _sso(client, oidc_provider, idp_user("ivan@newco.example.com"))
    assert r.status_code == 400 and "did not come from Acme ID" in r.text
    assert _identities(db) == []


def test_a_provider_whose_discovery_names_another_issuer_is_refused(client, providers, oidc_provider):
    providers(provider_settings(oidc_provider, issuer=oidc_provider.url.rstrip("/") + "/tenant"))
    token = csrf_from(client.get("/login").text)
    r = client.post("/sso/acme/start", data={"csrf_token": token}, follow_redirects=False)
    assert r.status_code in (400, 502)  # its discovery document is elsewhere, or names another issuer


def test_an_expired_token_is_refused(client, db, monkeypatch, providers, oidc_provider, idp_user, iam_configuration):
    now = int(time.time())
    _with_token(monkeypatch, _resigned(iam_configuration, iat=now - 7200, exp=now - 3600))
    r = _sso(client, oidc_provider, idp_user("eve@newco.example.com"))
    assert r.status_code == 400 and "had already expired" in r.text
    assert _identities(db) == []


def test_a_token_for_another_audience_is_refused(client, db, providers, oidc_provider, idp_user):
    # A real token from the provider, whose client's audience names another application.
    r = _sso(client, oidc_provider, idp_user("alex@newco.example.com"), key="wrongaud")
    assert r.status_code == 400 and "addressed to another application" in r.text
    assert _identities(db) == [] and "cadre_session" not in client.cookies


def test_an_unverified_email_never_links_to_an_existing_account(client, db, providers, oidc_provider, idp_user,
                                                                 make_user):
    from api.accounts.models import SSOPendingLink, User

    owner = make_user("bella@acme.example.com")
    users = _count(db, User)
    r = _sso(client, oidc_provider, idp_user("bella@acme.example.com", verified=False))
    assert r.status_code == 403 and "has not confirmed that bella@acme.example.com belongs to you" in r.text
    assert "Your email address is not confirmed by Acme ID" in r.text
    assert _identities(db) == [] and _count(db, User) == users and _count(db, SSOPendingLink) == 0
    assert "cadre_session" not in client.cookies
    assert client.get("/account", follow_redirects=False).status_code == 303  # not logged in as the owner
    assert owner.id


def test_a_verified_email_links_only_once_the_password_proves_the_account(client, db, providers, oidc_provider,
                                                                          idp_user, make_user):
    owner = make_user("vera@acme.example.com")
    person = idp_user("vera@acme.example.com", verified=True)
    r = _sso(client, oidc_provider, person)
    assert r.headers["location"] == "/sso/link" and "cadre_session" not in client.cookies
    page = client.get("/sso/link")
    assert "A Cadre account already uses vera@acme.example.com" in page.text
    assert _identities(db) == []  # nothing linked before the proof
    bad = client.post("/sso/link", data={"csrf_token": csrf_from(page.text), "password": "not-the-password"},
                      follow_redirects=False)
    assert bad.status_code == 422 and "do not match" in bad.text and _identities(db) == []
    ok = client.post("/sso/link", data={"csrf_token": csrf_from(page.text), "password": "correct-horse-battery"},
                     follow_redirects=False)
    assert ok.status_code == 303 and ok.headers["location"] == "/dashboard"
    [identity] = _identities(db)
    assert identity.user_id == owner.id
    client.cookies.clear()
    assert _sso(client, oidc_provider, person).headers["location"] == "/dashboard"  # straight in from now on


def test_a_verified_email_links_by_an_emailed_link(client, db, providers, oidc_provider, idp_user, make_user,
                                                   mailbox):
    owner = make_user("mia@acme.example.com")
    r = _sso(client, oidc_provider, idp_user("mia@acme.example.com", verified=True))
    assert r.headers["location"] == "/sso/link"
    page = client.get("/sso/link")
    sent = client.post("/sso/link/email", data={"csrf_token": csrf_from(page.text)})
    assert "We emailed a link to mia@acme.example.com" in sent.text and _identities(db) == []
    token = mailbox.link("mia@acme.example.com", "/sso/link/confirm")
    other_browser = client  # the link may be opened anywhere: it is the mailbox that proves the account
    other_browser.cookies.clear()
    confirm = other_browser.get(f"/sso/link/confirm?token={token}")
    r = other_browser.post("/sso/link/confirm", data={"csrf_token": csrf_from(confirm.text), "token": token},
                           follow_redirects=False)
    assert r.status_code == 303 and [i.user_id for i in _identities(db)] == [owner.id]
    again = other_browser.post("/sso/link/confirm", data={"csrf_token": csrf_from(confirm.text), "token": token})
    assert again.status_code == 422  # once only


def test_the_domain_rule_offers_or_requires_the_provider(client, db, providers, oidc_provider, make_user):
    from api.accounts import sso

    make_user("carol@corp.example.com")
    sso.bind_domain(db, "acme", "corp.example.com", required=True)
    db.commit()
    page = client.get("/login")
    r = client.post("/login", data={"csrf_token": csrf_from(page.text), "email": "carol@corp.example.com",
                                    "password": "correct-horse-battery"}, follow_redirects=False)
    assert r.status_code == 403 and "People at corp.example.com log in with Acme ID" in r.text
    assert 'action="/sso/acme/start"' in r.text and "cadre_session" not in client.cookies
    # The same answer for a wrong password: it says nothing about the password.
    r = client.post("/login", data={"csrf_token": csrf_from(page.text), "email": "carol@corp.example.com",
                                    "password": "wrong-password-here"}, follow_redirects=False)
    assert r.status_code == 403 and "People at corp.example.com log in with Acme ID" in r.text
    # Other domains log in with a password as before.
    make_user("dan@elsewhere.example.org")
    r = client.post("/login", data={"csrf_token": csrf_from(page.text), "email": "dan@elsewhere.example.org",
                                    "password": "correct-horse-battery"}, follow_redirects=False)
    assert r.status_code == 303
    # "Log in with my organisation" goes to the bound provider; an optional binding offers it.
    client.cookies.clear()
    page = client.get("/login")
    r = client.post("/sso/discover", data={"csrf_token": csrf_from(page.text), "email": "someone@corp.example.com"},
                    follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith(oidc_provider.url.rstrip("/"))
    sso.bind_domain(db, "acme", "corp.example.com", required=False)
    db.commit()
    r = client.post("/login", data={"csrf_token": csrf_from(page.text), "email": "carol@corp.example.com",
                                    "password": "correct-horse-battery"}, follow_redirects=False)
    assert r.status_code == 303
    r = client.post("/sso/discover", data={"csrf_token": csrf_from(page.text), "email": "x@nowhere.example.org"})
    assert r.status_code == 404 and "no single sign-on" in r.text


def test_a_domain_required_in_settings(client, providers, oidc_provider, make_user):
    providers(provider_settings(oidc_provider, domains=["Staff.Example.Org"], required=True, name="Staff login"))
    make_user("sue@staff.example.org")
    page = client.get("/login")
    r = client.post("/login", data={"csrf_token": csrf_from(page.text), "email": "sue@staff.example.org",
                                    "password": "correct-horse-battery"}, follow_redirects=False)
    assert r.status_code == 403 and "log in with Staff login" in r.text


def test_unlink_only_while_another_way_in_remains_and_an_sso_only_user_adds_a_password(
        client, db, providers, oidc_provider, idp_user):
    from api.accounts.models import User

    _sso(client, oidc_provider, idp_user("olu@newco.example.com"))
    [identity] = _identities(db)
    page = client.get("/account")
    assert "This is your only way to log in" in page.text and "/unlink" not in page.text
    r = client.post(f"/account/identities/{identity.id}/unlink", data={"csrf_token": csrf_from(page.text)},
                    follow_redirects=True)
    assert "This is your only way to log in" in r.text and len(_identities(db)) == 1
    r = client.post("/account/password/add", data={"csrf_token": csrf_from(page.text), "new_password": "short"})
    assert r.status_code == 422 and "at least 10 characters" in r.text
    r = client.post("/account/password/add", data={"csrf_token": csrf_from(page.text),
                                                   "new_password": "a-long-new-password"}, follow_redirects=True)
    assert "Your account has a password now" in r.text and "Add a password" not in r.text
    r = client.post(f"/account/identities/{identity.id}/unlink", data={"csrf_token": csrf_from(page.text)},
                    follow_redirects=True)
    assert "Acme ID is no longer linked" in r.text and _identities(db) == []
    client.cookies.clear()
    assert client.post("/api/v1/auth/login", json={"email": "olu@newco.example.com",
                                                   "password": "a-long-new-password"}).status_code == 200
    db.expire_all()
    assert db.exec(select(User).where(User.email == "olu@newco.example.com")).one()


def test_a_stranger_cannot_unlink_someone_elses_identity(client, db, providers, oidc_provider, idp_user, make_user,
                                                         login):
    _sso(client, oidc_provider, idp_user("own@newco.example.com"))
    [identity] = _identities(db)
    client.cookies.clear()
    make_user("stranger@example.com")
    login("stranger@example.com")
    page = client.get("/account")
    r = client.post(f"/account/identities/{identity.id}/unlink", data={"csrf_token": csrf_from(page.text)})
    assert r.status_code == 404 and len(_identities(db)) == 1


def test_sso_sessions_end_with_log_out_everywhere(client, db, providers, oidc_provider, idp_user):
    from api.accounts import service
    from api.accounts.models import User

    _sso(client, oidc_provider, idp_user("lou@newco.example.com"))
    user = db.exec(select(User).where(User.email == "lou@newco.example.com")).one()
    other, _ = service.start_session(db, user)  # the same person logged in on another device
    db.commit()
    page = client.get("/account")
    assert page.status_code == 200
    client.post("/account/logout-everywhere", data={"csrf_token": csrf_from(page.text)})
    assert client.get("/account", follow_redirects=False).status_code == 303
    client.cookies.clear()
    assert client.get("/api/v1/auth/me", headers={"authorization": f"Bearer {other}"}).status_code == 401


def test_linking_from_the_account_page(client, db, providers, oidc_provider, idp_user, make_user, login):
    owner = make_user("kim@example.com")
    login("kim@example.com")
    page = client.get("/account")
    assert "Link Acme ID" in page.text
    r = client.post("/sso/acme/start", data={"csrf_token": csrf_from(page.text), "link": "1"},
                    follow_redirects=False)
    person = idp_user("kim.k@other.example.net")  # another address: being logged in here is the proof
    r = client.get(_at_provider(oidc_provider, person, r.headers["location"]), follow_redirects=False)
    assert r.headers["location"] == "/account"
    assert [i.user_id for i in _identities(db)] == [owner.id]


def test_an_unreachable_provider(client, providers, oidc_provider):
    providers(provider_settings(oidc_provider, issuer=f"http://127.0.0.1:{free_port()}"))
    token = csrf_from(client.get("/login").text)
    r = client.post("/sso/acme/start", data={"csrf_token": token}, follow_redirects=False)
    assert r.status_code == 502 and "We could not reach Acme ID" in r.text


def test_production_refuses_an_http_issuer(monkeypatch):
    from api.accounts import oidc
    from api.core.config import OIDCProviderSettings, Settings, get_settings

    monkeypatch.setenv("AUTHLIB_INSECURE_TRANSPORT", "1")  # as pytest-iam leaves it: it changes nothing
    http = OIDCProviderSettings(key="corp", issuer="http://idp.example", client_id="c", name="Corp")
    with pytest.raises(ValueError, match="the issuer of 'corp' must be https://"):
        Settings(env="production", secret_key="p" * 40, database_url="postgresql+psycopg://x@y/z",
                 base_url="https://cadre.example", email_backend="smtp", stripe_secret_key="sk_live_x",
                 stripe_webhook_secret="whsec_x", oidc_providers=[http])
    monkeypatch.setattr(get_settings(), "env", "production")
    with pytest.raises(oidc.OIDCFailure) as failure:
        oidc.metadata(http)
    assert failure.value.kind == "insecure"


def test_forms_may_lead_to_the_configured_providers(providers, oidc_provider):
    # "Log in with ..." posts here and is redirected to the provider: the browser allows that only when
    # the page's form-action names the provider's site.
    from fastapi.testclient import TestClient

    from api.main import create_app

    with TestClient(create_app()) as c:
        policy = c.get("/healthz").headers["content-security-policy"]
    assert f"form-action 'self' https://checkout.stripe.com {oidc_provider.url.rstrip('/')};" in policy
