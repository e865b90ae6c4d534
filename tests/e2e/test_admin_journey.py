"""An administrator finds every admin area from /admin, on a wide screen and on a phone; the phone's
menu opens without JavaScript. Every page visited is checked (no sideways scroll at 390 px, axe-core)."""

from __future__ import annotations

import subprocess
import sys

from playwright.sync_api import expect

from tests.conftest import ROOT
from tests.e2e.checks import check_page

PASSWORD = "an-admin-password-1"


def _cli(live_server, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "api.cli", *args], env=live_server["env"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)


def test_every_admin_area_is_one_click_from_admin(page, live_server):
    assert _cli(live_server, "users", "create", "ada.admin@example.com", "--name", "Ada Admin",
                "--password", PASSWORD, "--role", "admin").returncode == 0
    page.goto("/login")
    page.get_by_label("Email address").fill("ada.admin@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("link", name="Admin", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Administration")
    check_page(page)
    areas = page.locator("ul.admin-areas h2 a")
    titles = areas.all_inner_texts()
    assert {"Orders and refunds", "Discount codes", "Certificates", "Users and roles", "Enrolments",
            "Learner progress", "Outbox"} <= set(titles)
    for title in titles:
        page.goto("/admin")
        page.locator("ul.admin-areas").get_by_role("link", name=title, exact=True).click()
        menu = page.get_by_role("navigation", name="Administration")
        expect(menu.locator('[aria-current="page"]:visible')).to_have_text(title)
        check_page(page)


def test_on_a_phone_the_menu_opens_without_javascript(new_page):
    # Without JavaScript axe-core cannot run here (it needs timers): the same pages are checked with it
    # in the other journeys.
    phone = new_page(390, 844, java_script_enabled=False)
    phone.goto("/")
    expect(phone.get_by_role("link", name="Log in")).to_be_hidden()
    phone.get_by_text("Menu", exact=True).click()
    expect(phone.get_by_role("link", name="Log in")).to_be_visible()
    # The header is one row (not four rows of wrapped links).
    assert phone.locator("header.site-header").bounding_box()["height"] < 80
    phone.get_by_role("link", name="Log in").click()
    expect(phone.get_by_role("heading", level=1)).to_have_text("Log in")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390


def test_on_a_phone_the_admin_menu_is_one_row_until_opened(new_page, live_server):
    _cli(live_server, "users", "create", "ada.phone@example.com", "--name", "Ada Phone", "--password", PASSWORD,
         "--role", "admin")
    phone = new_page(390, 844)
    phone.goto("/login")
    phone.get_by_label("Email address").fill("ada.phone@example.com")
    phone.get_by_label("Password").fill(PASSWORD)
    phone.get_by_role("button", name="Log in").click()
    phone.goto("/admin/orders")
    menu = phone.get_by_role("navigation", name="Administration")
    assert menu.bounding_box()["height"] < 70  # folded: not ten rows of links above the page
    expect(menu.get_by_role("link", name="Discount codes")).to_be_hidden()
    menu.get_by_text("Administration menu").click()
    expect(menu.get_by_role("link", name="Discount codes")).to_be_visible()
    expect(menu.locator('[aria-current="page"]:visible')).to_have_text("Orders and refunds")
    check_page(phone)
    menu.get_by_role("link", name="Discount codes").click()
    expect(phone.get_by_role("heading", level=1)).to_contain_text("codes")
