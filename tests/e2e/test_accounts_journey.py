"""A newcomer registers, logs out and logs back in, in a real browser."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.e2e.checks import check_page


def test_register_log_out_and_log_in(page):
    page.goto("/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("accredited")
    check_page(page)
    page.get_by_role("link", name="Register").click()
    page.get_by_label("Full name").fill("Nomvula Dlamini")
    page.get_by_label("Email address").fill("nomvula@example.com")
    page.get_by_label("Password").fill("my-long-password")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Welcome, Nomvula Dlamini")
    expect(page.get_by_role("status")).to_contain_text("We sent a link to nomvula@example.com")

    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("status")).to_have_text("You are logged out.")
    expect(page.get_by_role("link", name="Log in")).to_be_visible()

    page.get_by_role("link", name="Log in").click()
    page.get_by_label("Email address").fill("nomvula@example.com")
    page.get_by_label("Password").fill("wrong-password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_contain_text("do not match an account")
    check_page(page)
    page.get_by_label("Password").fill("my-long-password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Welcome, Nomvula Dlamini")


def test_catalogue_in_the_browser_on_a_phone(page):
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/programmes")
    expect(page.get_by_role("heading", name="Customer Experience (ACX)")).to_be_visible()
    page.get_by_role("link", name="Accredited Customer Experience Specialist").click()
    expect(page.get_by_text("£860").first).to_be_visible()
    # Nothing wider than the screen (the page is usable on a phone), and nothing axe-core objects to.
    check_page(page)
