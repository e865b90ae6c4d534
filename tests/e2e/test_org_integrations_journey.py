"""An organisation's owner makes an API key (shown once) and asks for single sign-on on the company's
domain; a platform admin approves it; a colleague on that domain is then sent to the provider instead of
logging in with a password. Cadre's own server, with a provider configured that is never contacted (the
log-in with it is tests/e2e/test_sso_journey.py)."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import httpx
import pytest
from playwright.sync_api import expect

from tests.conftest import ROOT
from tests.e2e.checks import check_page
from tests.e2e.conftest import serve_cadre

PASSWORD = "a-long-password-1"
PROVIDERS = [{"key": "acme", "issuer": "https://id.acme.example", "client_id": "cadre", "name": "Acme ID"}]

SEED = """
from sqlmodel import Session
from api.accounts import service as accounts
from api.accounts.models import Role
from api.accounts.schemas import UserCreate
from api.core.db import get_engine
from api.organisations import service as orgs
from api.organisations.models import Membership
with Session(get_engine()) as s:
    def person(email, name, roles=None):
        return accounts.create_user(s, UserCreate(email=email, full_name=name, password="a-long-password-1"),
                                    roles=roles, verified=True)
    owner = person("olive@acme.example", "Olive Owner")
    colleague = person("carl@acme.example", "Carl Colleague")
    person("ada@cadre.example", "Ada Admin", {Role.admin})
    org = orgs.create(s, owner, name="Acme Services")
    s.add(Membership(organisation_id=org.id, user_id=colleague.id, role="member"))
    s.commit()
    print(org.public_id)
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    gen = serve_cadre(tmp_path_factory.mktemp("orgint"), extra_env={"CADRE_OIDC_PROVIDERS": json.dumps(PROVIDERS)})
    yield next(gen)
    gen.close()


@pytest.fixture
def tab(browser_instance, server):
    context = browser_instance.new_context(base_url=server["url"], viewport={"width": 1100, "height": 900},
                                           bypass_csp=True)
    pg = context.new_page()
    pg.set_default_timeout(10_000)
    yield pg
    context.close()


def _log_in(page, email: str) -> None:
    page.context.clear_cookies()
    page.goto("/login")
    page.get_by_label("Email address", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Log in", exact=True).click()


def test_an_owner_makes_a_key_and_asks_for_single_sign_on(tab, server):
    run = subprocess.run([sys.executable, "-c", SEED], env=server["env"], cwd=ROOT, capture_output=True, text=True,
                         timeout=60)
    assert run.returncode == 0, run.stderr
    org = run.stdout.strip()
    page = tab

    _log_in(page, "olive@acme.example")
    page.wait_for_url("**/dashboard")
    page.goto(f"/organisations/{org}")
    page.get_by_role("link", name="Manage API keys").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("API keys")
    check_page(page)
    page.get_by_label("Name").fill("HR system")
    page.get_by_role("button", name="Make the key").click()
    expect(page.get_by_text("this is the only time it is shown")).to_be_visible()
    raw = page.get_by_label("The key").input_value()
    assert raw.startswith("cdk_")
    check_page(page)
    # The key works against the API, and the list says when it was last used.
    r = httpx.post(f"{server['url']}/api/v1/verifications/bulk", headers={"Authorization": f"Bearer {raw}"},
                   json=[{"number": "ACXP-0000-0000-0000", "surname": "Nobody"}])
    assert r.status_code == 200 and r.json()["results"][0]["status"] == "not found"
    page.goto(f"/organisations/{org}/api-keys")
    expect(page.get_by_text(raw)).to_have_count(0)
    expect(page.get_by_role("row").filter(has_text="HR system")).to_contain_text("UTC")
    page.goto(f"/organisations/{org}")
    expect(page.get_by_text("HR system (")).to_contain_text(re.compile(r"last used \d+ \w+ \d{4}, \d\d:\d\d UTC"))
    check_page(page)

    page.goto(f"/organisations/{org}/sso")
    check_page(page)
    page.get_by_label("Email domain").fill("acme.example")
    page.get_by_label("Provider").select_option("acme")
    page.get_by_label("Require it").check()
    page.get_by_role("button", name="Ask for approval").click()
    expect(page.get_by_role("status")).to_contain_text("is with the platform's administrators")
    expect(page.get_by_role("row").filter(has_text="acme.example")).to_contain_text("Waiting for approval")
    check_page(page)

    _log_in(page, "ada@cadre.example")
    page.goto("/admin/sso-domains")
    check_page(page)
    page.get_by_role("button", name="Approve acme.example").click()
    expect(page.get_by_role("status")).to_contain_text("acme.example: approved")

    # The colleague's password no longer logs in: the provider's button is offered instead.
    _log_in(page, "carl@acme.example")
    expect(page.get_by_text("People at acme.example log in with Acme ID")).to_be_visible()
    expect(page.get_by_role("button", name="Acme ID").first).to_be_visible()
    check_page(page)
