"""Single sign-on in a real browser: Cadre (its own server) and a real OpenID Connect provider
(Canaille through pytest-iam), the person typing into the provider's own log-in page."""

from __future__ import annotations

import json
import socketserver

import pytest
from playwright.sync_api import expect

from tests.accounts.conftest import CLIENT_ID, CLIENT_SECRET, forget_codes, oidc_provider  # noqa: F401 - fixture
from tests.conftest import free_port
from tests.e2e.checks import check_page
from tests.e2e.conftest import serve_cadre, shot

PASSWORD = "provider-password-123"  # noqa: S105 - a local test provider's user


@pytest.fixture(scope="module")
def sso_server(tmp_path_factory, oidc_provider):  # noqa: F811
    # pytest-iam serves one connection at a time (wsgiref); a browser keeps spare connections open, which
    # would hold up every other request: from now on each connection gets a thread of its own.
    httpd = oidc_provider.httpd
    httpd.daemon_threads = True
    httpd.__class__ = type("ThreadingWSGIServer", (socketserver.ThreadingMixIn, type(httpd)), {})
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with oidc_provider.app.app_context():  # the provider may send people back to this Cadre too
        client = oidc_provider.backend.get(oidc_provider.models.Client, client_id=CLIENT_ID)
        client.redirect_uris = [*client.redirect_uris, f"{base}/sso/acme/callback"]
        oidc_provider.backend.save(client)
    providers = [{"key": "acme", "issuer": oidc_provider.url.rstrip("/"), "client_id": CLIENT_ID,
                  "client_secret": CLIENT_SECRET, "name": "Acme ID"}]
    server = serve_cadre(tmp_path_factory.mktemp("sso"), port, {"CADRE_OIDC_PROVIDERS": json.dumps(providers)})
    yield next(server)
    server.close()


@pytest.fixture
def sso_page(browser_instance, sso_server, request):
    # bypass_csp: axe-core is injected into Cadre's pages to check them (checks.check_page).
    context = browser_instance.new_context(base_url=sso_server["url"], viewport={"width": 1280, "height": 900},
                                           bypass_csp=True)
    pg = context.new_page()
    pg.set_default_timeout(15_000)
    yield pg
    context.close()


def test_log_in_with_the_provider_then_add_a_password_and_unlink(sso_page, oidc_provider):  # noqa: F811
    page = sso_page
    with oidc_provider.app.app_context():
        person = oidc_provider.random_user(user_name="rosa.parks", emails=["rosa@workplace.example.com"],
                                           formatted_name="Rosa Mbeki", given_name="Rosa", family_name="Mbeki")
        oidc_provider.backend.set_user_password(person, PASSWORD)
    oidc_provider.logout()  # nobody is logged in at the provider: its own log-in page is shown
    forget_codes(oidc_provider)

    page.goto("/login")
    expect(page.get_by_role("heading", name="Or log in with")).to_be_visible()
    check_page(page)  # Cadre's pages of the journey are checked; the provider's own are not ours
    shot(page, "sso-login-1280")
    page.get_by_role("button", name="Acme ID").click()
    # The provider's pages: who, then the password, then (first time) consent to share with Cadre.
    page.wait_for_url(f"{oidc_provider.url}**")
    page.fill("input[name=login]", "rosa.parks")
    page.get_by_role("button", name="Continue").click()
    page.fill("input[name=password]", PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    accept = page.locator("#accept")
    if accept.count():
        accept.click()
    page.wait_for_url("**/dashboard")
    expect(page.get_by_role("status")).to_contain_text("Welcome, Rosa Mbeki")
    check_page(page)

    page.goto("/account")
    expect(page.get_by_role("heading", name="Single sign-on")).to_be_visible()
    expect(page.get_by_text("rosa@workplace.example.com").first).to_be_visible()
    expect(page.get_by_text("This is your only way to log in")).to_be_visible()
    check_page(page)
    page.get_by_label("New password").fill("rosas-own-password")
    page.get_by_role("button", name="Add password").click()
    expect(page.get_by_role("status")).to_contain_text("Your account has a password now")
    check_page(page)
    shot(page, "sso-account-1280")
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    shot(page, "sso-account-390")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.get_by_role("button", name="Unlink Acme ID").click()
    expect(page.get_by_role("status")).to_contain_text("Acme ID is no longer linked")

    # Log out everywhere ends the session single sign-on started; the new password logs in.
    page.get_by_role("button", name="Log out everywhere").click()
    expect(page.get_by_role("status")).to_contain_text("logged out on every device")
    check_page(page)
    page.get_by_label("Email address", exact=True).fill("rosa@workplace.example.com")
    page.get_by_label("Password", exact=True).fill("rosas-own-password")
    page.get_by_role("button", name="Log in", exact=True).click()
    page.wait_for_url("**/dashboard")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/login")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    check_page(page)


def _provider_login(page, oidc_provider, user_name: str) -> None:  # noqa: F811
    page.wait_for_url(f"{oidc_provider.url}**")
    page.fill("input[name=login]", user_name)
    page.get_by_role("button", name="Continue").click()
    page.fill("input[name=password]", PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    accept = page.locator("#accept")
    if accept.count():
        accept.click()


def test_an_existing_account_is_linked_after_its_password_and_errors_are_pages(sso_page, sso_server,
                                                                                oidc_provider):  # noqa: F811
    import httpx

    from tests.accounts.conftest import VERIFIED

    page = sso_page
    r = httpx.post(f"{sso_server['url']}/api/v1/auth/register",
                   json={"email": "joao@partner.example.com", "full_name": "João Silva", "password": "joaos-password"})
    assert r.status_code == 201, r.text
    with oidc_provider.app.app_context():
        person = oidc_provider.random_user(user_name="joao.silva", emails=["joao@partner.example.com"],
                                           formatted_name="João Silva", given_name="João", family_name="Silva")
        oidc_provider.backend.set_user_password(person, PASSWORD)
    VERIFIED.add("joao.silva")  # the provider vouches for the address
    oidc_provider.logout()
    forget_codes(oidc_provider)
    try:
        page.set_viewport_size({"width": 390, "height": 844})
        page.goto("/login")
        page.get_by_role("button", name="Acme ID").click()
        _provider_login(page, oidc_provider, "joao.silva")
        page.wait_for_url("**/sso/link")
        expect(page.get_by_role("heading", level=1)).to_have_text("Link Acme ID to your account")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        check_page(page)
        shot(page, "sso-link-390")
        page.get_by_label("Cadre password").fill("joaos-password")
        page.get_by_role("button", name="Link and log in").click()
        page.wait_for_url("**/dashboard")
        expect(page.get_by_role("status")).to_contain_text("Acme ID is linked to your account")
        check_page(page)
    finally:
        VERIFIED.discard("joao.silva")

    # An answer that does not belong to a log-in started in this browser is a page saying so.
    page.goto("/sso/acme/callback?code=forged&state=forged")
    expect(page.get_by_role("heading", level=1)).to_have_text("This log-in link is not for this browser")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    check_page(page)
    shot(page, "sso-error-390")
