"""A learner studies ACXP in a real browser: opens lesson 1, completes it, passes a knowledge check,
leaves, comes back to continue at the right lesson, and sees on the dashboard the same percentage
as the API reports."""

from __future__ import annotations

import re
import subprocess
import sys

import yaml
from playwright.sync_api import expect

from tests.conftest import ROOT
from tests.e2e.conftest import shot

EMAIL = "lerato@example.com"
PASSWORD = "a-long-learner-password"
QUIZ = ROOT / "content/programmes/acxp/01-outside-in-versus-inside-out/04-check-outside-in.quiz.yaml"


def cadre(live_server, *args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "api.cli", *args], env=live_server["env"], cwd=ROOT,
                          capture_output=True, text=True, check=True)
    return done.stdout


def log_in(page) -> None:
    page.goto("/login")
    page.get_by_label("Email address").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Welcome, Lerato Learner")


def test_a_learner_studies_leaves_and_continues_where_they_left_off(page, live_server):
    cadre(live_server, "users", "create", EMAIL, "--name", "Lerato Learner", "--password", PASSWORD)
    assert "Enrolled lerato@example.com in ACXP" in cadre(live_server, "enrol", "grant", EMAIL, "ACXP")
    log_in(page)

    # The dashboard lists ACXP at 0%; Continue opens lesson 1.
    expect(page.locator("#pct-acxp")).to_have_text("0%")
    page.get_by_role("link", name="Continue ACXP").click()
    expect(page).to_have_url(re.compile(r"/learn/acxp/what-customer-experience-is$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("What customer experience really is")
    outline = page.get_by_role("navigation", name=re.compile("Accredited Customer Experience Professional"))
    expect(outline.locator('[aria-current="page"]')).to_contain_text("What customer experience really is")

    # Complete it from the keyboard; the player moves on to lesson 2 and ticks lesson 1.
    page.get_by_role("button", name="Mark complete").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("is marked complete. 5% of ACXP done.")
    expect(page.get_by_role("heading", level=1)).to_have_text("Two ways of seeing the same work")
    lesson2_url = page.url
    shot(page, "learning-lesson")
    expect(outline.get_by_role("link", name=re.compile(r"What customer experience really is \(done\)"))).to_be_visible()

    # The module's knowledge check, answered from its real questions.
    outline.get_by_role("link", name=re.compile("Check your understanding: Outside-In versus Inside-Out")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your understanding: Outside-In versus Inside-Out")
    for question in yaml.safe_load(QUIZ.read_text())["questions"]:
        for option in question["options"]:
            if option.get("correct"):
                page.get_by_label(option["text"], exact=True).check()
    page.get_by_role("button", name="Submit answers").click()
    expect(page.get_by_role("status")).to_have_text("You passed with 100%.")
    expect(page.get_by_text("Right", exact=True)).to_have_count(5)
    shot(page, "learning-check-feedback")

    # Leave, come back, continue: lesson 2, where they left off (lesson 1 is done).
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("status")).to_have_text("You are logged out.")
    log_in(page)
    shown = page.locator("#pct-acxp").inner_text()
    api = page.request.get("/api/v1/learning/programmes/acxp/progress")
    assert api.ok
    assert shown == f"{api.json()['percent']}%" == "11%"  # 1 lesson + 1 check of 14 lessons + 4 checks
    shot(page, "learning-dashboard")
    page.get_by_role("link", name="Continue ACXP").click()
    assert page.url == lesson2_url
    expect(page.get_by_role("heading", level=1)).to_have_text("Two ways of seeing the same work")

    # The lesson is usable on a phone: nothing wider than the screen, the outline below the text.
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    expect(page.get_by_role("button", name="Mark complete")).to_be_visible()


def test_a_learner_without_the_prerequisite_is_shown_the_path(page, live_server):
    email = "climber@example.com"
    cadre(live_server, "users", "create", email, "--name", "Cleo Climber", "--password", PASSWORD)
    page.goto("/login")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto("/programmes/acxm")
    enrol = page.locator("section.enrol")
    expect(enrol).to_contain_text("ACX Master expects you to hold Accredited Customer Experience Professional (ACXP)")
    enrol.get_by_role("link", name="Accredited Customer Experience Professional (ACXP)").click()
    expect(page).to_have_url(re.compile(r"/programmes/acxp$"))
    expect(page.locator("section.enrol")).to_contain_text("Continue to checkout")
