"""The practical assessment end to end in Chromium: a learner submits ACXP work, the coach refers it
with feedback, a moderator confirms, the result is released; the learner resubmits, the coach passes
it, the moderator confirms, the result is released, the certificate is issued and an employer's
/verify page says it is valid. Then another learner's fail is appealed and upheld by a coach who had
not seen the work. Screenshots of the new pages at 1280 and 390 px, none scrolling sideways."""

from __future__ import annotations

import re
import subprocess
import sys

from playwright.sync_api import expect

from tests.conftest import ROOT
from tests.e2e.conftest import shot

PASSWORD = "a-long-password-1"
BRIEF = "/learn/acxp/assessments/sco-canvas-and-moments-of-truth-map"

# Everything in ACXP except the practical assessment, done through the learning services (the lessons
# and checks have their own journey): the assessment is what this journey is about.
STUDY = """
import sys
from sqlmodel import Session
from api.accounts import service as accounts
from api.catalog import service as catalog
from api.core.db import get_engine
from api.learning import checks, progress, study
with Session(get_engine()) as s:
    user = accounts.get_by_email(s, sys.argv[1])
    acxp = catalog.get_by_slug(s, "acxp")
    for item in progress.load_one(s, user.id, acxp).items:
        if item.kind == "lesson":
            study.complete_lesson(s, user, "acxp", item.slug)
        else:
            check = checks.get_check(s, acxp, item.slug)
            right = [[i for i, o in enumerate(q["options"]) if o.get("correct")] for q in check.questions]
            checks.submit(s, user, "acxp", item.slug, right)
    s.commit()
"""


# At the end: this journey's coaches stop taking new work (their cap's "accepting"), so the next
# journey's own coach is the one allocated its learner's work on the shared server.
# Every other coach on the shared e2e server (other journeys', the demo's) stops taking new work, so
# this journey's marking, moderation and appeal go to this journey's coaches.
ONLY_THESE_COACHES = """
import sys
from sqlmodel import Session
from api.assessments import allocation
from api.core.db import get_engine
with Session(get_engine()) as s:
    for coach in allocation.coaches(s):
        if coach.email not in sys.argv[1:]:
            allocation.set_capacity(s, coach, 10, False)
    s.commit()
"""

STOP_TAKING_WORK = """
import sys
from sqlmodel import Session
from api.accounts import service as accounts
from api.assessments import allocation
from api.core.db import get_engine
with Session(get_engine()) as s:
    for email in sys.argv[1:]:
        allocation.set_capacity(s, accounts.get_by_email(s, email), 10, False)
    s.commit()
"""


def _cli(live_server, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "api.cli", *args], env=live_server["env"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)


def _user(live_server, email, name, role=None):
    extra = ["--role", role] if role else []
    out = _cli(live_server, "users", "create", email, "--name", name, "--password", PASSWORD, *extra)
    assert out.returncode == 0, out.stdout + out.stderr


def _page_as(new_page, email, width=1280):
    page = new_page(width=width)  # every page it visits is checked for axe-core violations and sideways scroll
    page.set_default_timeout(15_000)
    page.goto("/login")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).not_to_have_url(re.compile(r"/login"))
    return page


def _no_sideways_scroll(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), page.url


def _both_widths(page, name: str) -> None:
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        _no_sideways_scroll(page)
        shot(page, f"assessments-{name}-{width}")
    page.set_viewport_size({"width": 1280, "height": 900})


def _submit(learner, text: str) -> None:
    learner.goto(BRIEF)
    start = learner.get_by_role("button", name=re.compile(r"^Start "))
    if start.count():
        start.click()
    learner.get_by_label(re.compile("Your written answer")).fill(text)
    learner.get_by_role("button", name="Save draft").click()
    learner.get_by_label(re.compile("This is my own work")).check()
    learner.get_by_label(re.compile("removed or anonymised")).check()
    learner.get_by_role("button", name=re.compile(r"^Submit attempt")).click()
    expect(learner.locator("main")).to_contain_text(re.compile("Submitted", re.I))


def _mark_next(coaches, level: int, feedback: str):
    """Whichever coach the work is allocated to marks it next, every criterion at `level` (0-3)."""
    for coach in coaches:
        coach.goto("/coach/marking")
        coach.get_by_role("button", name="Mark next").click()
        if "/coach/marking/" in coach.url and coach.url.rstrip("/").split("/")[-1] not in ("marking", "next"):
            break
    else:
        raise AssertionError("nobody had the work to mark")
    for group in coach.locator("fieldset.criterion").all():
        group.locator("input[type=radio]").nth(level).check()
    coach.get_by_label("Overall feedback for the learner").fill(feedback)
    coach.get_by_role("button", name="Submit mark").click()
    expect(coach.get_by_role("status")).to_contain_text("Mark submitted")
    return coach, coach.url


def _moderate(coaches, marker, screen_name: str | None = None):
    moderator = next(c for c in coaches if c is not marker)
    moderator.goto("/coach/moderation")
    moderator.get_by_role("link", name=re.compile("^Moderate")).first.click()
    expect(moderator.get_by_role("heading", level=1)).to_contain_text("Moderate")
    if screen_name:
        _both_widths(moderator, screen_name)
    moderator.get_by_label(re.compile("Your reason")).fill("The marking matches the evidence.")
    moderator.get_by_role("button", name="Confirm the marking").click()
    expect(moderator.get_by_role("status")).to_contain_text("ready for release")
    return moderator


def _release(marker, url: str) -> None:
    marker.goto(url)
    marker.get_by_role("button", name="Release the result to the learner").click()
    expect(marker.get_by_role("status")).to_contain_text("released")


def test_refer_resubmit_pass_moderate_release_certificate_verify_then_an_upheld_appeal(new_page, live_server):
    _user(live_server, "cora.coach@example.com", "Cora Coach", "coach")
    _user(live_server, "mo.moderator@example.com", "Mo Moderator", "coach")
    _user(live_server, "ada.assessadmin@example.com", "Ada Admin", "admin")
    _user(live_server, "lena.learner@example.com", "Lena Learner")
    assert _cli(live_server, "enrol", "grant", "lena.learner@example.com", "ACXP").returncode == 0
    out = subprocess.run([sys.executable, "-c", ONLY_THESE_COACHES, "cora.coach@example.com",
                          "mo.moderator@example.com", "aoife.appeals@example.com"], env=live_server["env"], cwd=ROOT,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    out = subprocess.run([sys.executable, "-c", STUDY, "lena.learner@example.com"], env=live_server["env"], cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr

    learner = _page_as(new_page, "lena.learner@example.com")
    cora = _page_as(new_page, "cora.coach@example.com")
    mo = _page_as(new_page, "mo.moderator@example.com")
    coaches = [cora, mo]

    # Attempt 1: referred with feedback (a refer is always moderated), confirmed, released.
    _submit(learner, "Need category: households moving home. SCO: 'my energy just works in my new home'.")
    marker, url = _mark_next(coaches, 1, "Good start: test the SCO with real customers and map six moments.")
    _moderate(coaches, marker, "moderation")
    _release(marker, url)
    learner.goto(BRIEF)
    expect(learner.locator("main")).to_contain_text("revise and resubmit")
    expect(learner.locator("main")).to_contain_text("test the SCO with real customers")

    # Attempt 2: a pass close to the boundary (so it is moderated), confirmed, released: ACXP is complete.
    _submit(learner, "Revised: the SCO tested with 14 customers; eight moments mapped with SMOTOs and measures.")
    marker, url = _mark_next(coaches, 2, "The revision answers every point: a pass.")
    _moderate(coaches, marker)
    _release(marker, url)
    learner.goto(BRIEF)
    expect(learner.locator("main")).to_contain_text("passed")
    _both_widths(learner, "learner-result")

    # The certificate: the learner confirms the name; an employer's verify page says Valid.
    learner.goto("/certificates")
    expect(learner.get_by_role("heading", name=re.compile("ACXP certificate is ready"))).to_be_visible(timeout=30_000)
    learner.get_by_label("Full name on the certificate").fill("Lena Learner")
    learner.get_by_label("This is my name exactly as it should appear").check()
    learner.get_by_role("button", name="Issue my certificate").click()
    expect(learner.get_by_role("status")).to_contain_text("certificate is issued")
    verify_url = learner.get_by_role("link", name=re.compile("verify")).first.inner_text()
    employer = new_page()
    employer.goto(verify_url)
    expect(employer.get_by_role("heading", level=1)).to_have_text("Valid")

    # Another learner's fail, moderated and released, is appealed and upheld by a coach new to the work.
    _user(live_server, "omar.other@example.com", "Omar Other")
    assert _cli(live_server, "enrol", "grant", "omar.other@example.com", "ACXP").returncode == 0
    omar = _page_as(new_page, "omar.other@example.com")
    _submit(omar, "A canvas and map for our claims journey, with the data we hold.")
    marker, url = _mark_next(coaches, 0, "The map has fewer than six moments and no SMOTOs.")
    _moderate(coaches, marker)
    _release(marker, url)
    _user(live_server, "aoife.appeals@example.com", "Aoife Appeals", "coach")
    omar.goto(BRIEF)
    expect(omar.locator("main")).to_contain_text("not passed")
    omar.get_by_role("link", name=re.compile("Appeal this result")).click()
    omar.get_by_label(re.compile("Why you are appealing")).fill(
        "My map has eight moments with SMOTOs on pages 3 and 4, which the feedback says are missing.")
    _both_widths(omar, "appeal-form")
    omar.get_by_role("button", name="Lodge my appeal").click()
    expect(omar.get_by_role("status")).to_contain_text("Your appeal is lodged")
    appeal_url = omar.url
    # Lena cannot see Omar's appeal.
    learner.goto(appeal_url)
    expect(learner.get_by_role("heading", level=1)).to_have_text("Not found")

    aoife = _page_as(new_page, "aoife.appeals@example.com")
    aoife.goto("/coach/appeals")
    aoife.get_by_role("link", name=re.compile("Submission")).first.click()
    for group in aoife.locator("fieldset.criterion").all():
        group.locator("input[type=radio]").nth(3).check()
    aoife.get_by_label(re.compile("Your reasons for the decision")).fill(
        "The map on pages 3 and 4 has eight moments, each with a SMOTO: every criterion is shown with depth.")
    aoife.get_by_role("button", name="Submit the re-mark").click()
    expect(aoife.get_by_role("status")).to_contain_text("Appeal upheld")
    omar.goto(BRIEF)
    expect(omar.locator("main")).to_contain_text("passed")

    # What coaches and admins look over.
    cora.goto("/coach/dashboard")
    _both_widths(cora, "coach-dashboard")
    admin = _page_as(new_page, "ada.assessadmin@example.com")
    admin.goto("/admin/assessments/submissions")
    expect(admin.locator("table")).to_contain_text("Omar Other")
    _both_widths(admin, "admin-overview")
    admin.get_by_role("link", name=re.compile("audit trail")).first.click()
    expect(admin.locator("main")).to_contain_text("appealed")
    _both_widths(admin, "audit")

    out = subprocess.run([sys.executable, "-c", STOP_TAKING_WORK, "cora.coach@example.com", "mo.moderator@example.com",
                          "aoife.appeals@example.com"], env=live_server["env"], cwd=ROOT, capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0, out.stderr
