"""A learner picks an ACX Master cohort, pays in instalments (offline provider), sees the sessions in
their own zone, downloads a session for their calendar, and joins one through their own link; the
facilitator marks attendance on the phone-sized sheet; with the lessons done the learner still needs the
Master project, and completes once attendance and the project both pass. In Chromium."""

from __future__ import annotations

import re
import subprocess
import sys
import uuid
from datetime import date, timedelta

from icalendar import Calendar
from playwright.sync_api import expect

from tests.conftest import ROOT

PASSWORD = "a-long-enough-password"

# Run inside the live server's environment (its own database), like a fixture building data through
# the services: a facilitating coach, a learner who holds ACXP (the ladder's first rung), an ACX Master
# cohort in London time starting on a Monday a few weeks ahead.
SETUP = """
import sys
from datetime import date
from sqlmodel import Session
from api.accounts import service as accounts
from api.accounts.models import Role
from api.accounts.schemas import UserCreate
from api.catalog import service as catalog
from api.certificates import service as certificates
from api.cohorts import service as cohorts
from api.core.db import get_engine

learner_email, coach_email, starts = sys.argv[1], sys.argv[2], date.fromisoformat(sys.argv[3])
with Session(get_engine()) as s:
    learner = accounts.create_user(s, UserCreate(email=learner_email, full_name="Lindiwe Learner",
                                                 password=PASSWORD), verified=True)
    coach = accounts.create_user(s, UserCreate(email=coach_email, full_name="Femi Facilitator", password=PASSWORD),
                                 roles={Role.coach}, verified=True)
    admin = accounts.create_user(s, UserCreate(email="reg-" + learner_email, full_name="Reg Istrar",
                                               password=PASSWORD), roles={Role.admin}, verified=True)
    certificates.issue(s, user=learner, programme=catalog.get_by_slug(s, "acxp"), holder_name="Lindiwe Learner",
                       issued_by=admin, reason="Accredited ACXP in an earlier cohort")
    cohort = cohorts.create_cohort(s, programme_slug="acxm", starts_on=starts, time_zone="Europe/London",
                                   facilitator_ids=[coach.id], meeting_url="https://meet.example.com/acxm-room")
    s.commit()
    print(cohort.public_id)
""".replace("PASSWORD", repr(PASSWORD))

# What the learner studies outside the live sessions, done through the learning service (the lesson
# player itself has its own journey).
STUDY = """
import sys
from sqlmodel import Session, select, col
from api.accounts import service as accounts
from api.catalog import service as catalog
from api.catalog.models import Lesson
from api.core.db import get_engine
from api.learning import study

with Session(get_engine()) as s:
    user = accounts.get_by_email(s, sys.argv[1])
    programme = catalog.get_by_slug(s, "acxm")
    for lesson in s.exec(select(Lesson).where(Lesson.programme_id == programme.id, col(Lesson.retired_at).is_(None))):
        study.complete_lesson(s, user, "acxm", lesson.slug)
    s.commit()
"""

# The Master project passes: submitted by the learner, marked and released by a coach, through the
# assessments services (tests/assessments/factories.py; the marking screens have their own journey).
PROJECT = """
import sys
from sqlmodel import Session
from api.accounts import service as accounts
from api.core.db import get_engine
from tests.assessments.factories import give_released_pass

with Session(get_engine()) as s:
    give_released_pass(s, accounts.get_by_email(s, sys.argv[1]), "acxm")
"""


def _python(live_server, code: str, *args: str) -> str:
    done = subprocess.run([sys.executable, "-c", code, *args], env=live_server["env"], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def _log_in(page, email: str) -> None:
    page.goto("/login")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def _monday_ahead(weeks: int = 3) -> date:
    today = date.today()
    return today + timedelta(days=7 - today.weekday() + 7 * weeks)


def test_pick_a_cohort_pay_in_instalments_join_and_complete_on_attendance(page, new_page, live_server,
                                                                          tmp_path):
    tag = uuid.uuid4().hex[:8]
    learner, coach = f"lindiwe-{tag}@example.com", f"femi-{tag}@example.com"
    starts = _monday_ahead()
    cohort_id = _python(live_server, SETUP, learner, coach, starts.isoformat())

    _log_in(page, learner)
    # The learner's own zone: New York (the cohort runs on London time).
    page.goto("/account")
    page.get_by_label("Show times in").select_option("America/New_York")
    page.get_by_role("button", name="Save time zone").click()
    expect(page.get_by_role("status")).to_contain_text("Times are now shown in America/New_York")

    # The programme page lists the cohort in the learner's zone, with seats left, and the buy box offers it.
    page.goto("/programmes/acxm")
    cohort_card = page.get_by_test_id("cohort").filter(has_text=f"from {starts:%-d %B %Y}")
    expect(cohort_card).to_contain_text(re.compile(r"first \w{3} \d+ \w+ \d{4}, 0[45]:00 E[SD]T \(09:00 UTC\)"))
    expect(cohort_card).to_contain_text("12 seats left")
    page.get_by_label(re.compile(r"0[45]:00 E[SD]T .* 12 seats left")).check()
    page.get_by_label(re.compile("Pay in 4 monthly instalments")).check()
    page.get_by_role("button", name="Continue to checkout").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Checkout: Accredited CX Master")
    expect(page.get_by_test_id("summary")).to_contain_text("4 × £737.50 monthly (£2,950 in all)")
    expect(page.get_by_test_id("cohort-choice")).to_contain_text(f"ACX Master, from {starts:%-d %B %Y}")
    page.get_by_role("button", name="Pay £737.50 now").click()
    expect(page.get_by_text("Offline payment provider")).to_be_visible()
    page.get_by_role("button", name=re.compile("Pay £737.50")).first.click()
    expect(page).to_have_url(re.compile(r"/learn/acxm"))

    # My cohorts → the cohort page: four sessions of five hours, in New York time, UTC beside.
    page.goto("/cohorts")
    page.get_by_role("link", name=f"ACX Master, from {starts:%-d %B %Y}").click()
    sessions = page.get_by_test_id("session")
    expect(sessions).to_have_count(4)
    expect(sessions.first.get_by_test_id("session-time")).to_have_text(
        re.compile(r"^\w{3} \d+ \w+ \d{4}, 0[45]:00 E[SD]T \(09:00 UTC\), 5 h$"))
    expect(page.get_by_test_id("zone-note")).to_contain_text("America/New_York")
    expect(page.get_by_text("Femi Facilitator")).to_be_visible()
    expect(page.get_by_test_id("attendance-standing")).to_contain_text("0%")

    # Download session 1 for the calendar and read it back.
    with page.expect_download() as download:
        page.get_by_role("link", name="Add session 1 to my calendar").click()
    path = tmp_path / "session.ics"
    download.value.save_as(path)
    cal = Calendar.from_ical(path.read_bytes())
    [event] = cal.walk("VEVENT")
    assert str(event["DTSTART"].params["TZID"]) == "Europe/London" and event.decoded("DTSTART").hour == 9
    assert [str(t["TZID"]) for t in cal.walk("VTIMEZONE")] == ["Europe/London"]

    # Join session 1: Cadre records the click, then hands over to the meeting room.
    page.route("https://meet.example.com/**", lambda route: route.fulfill(
        status=200, content_type="text/html", body="<!doctype html><title>Meeting room</title><h1>ACX room</h1>"))
    page.get_by_role("link", name="Join session 1").click()
    expect(page).to_have_url("https://meet.example.com/acxm-room")
    expect(page.get_by_role("heading", level=1)).to_have_text("ACX room")

    # The facilitator, on a phone, marks attendance: session 1 is prefilled from the join click.
    fac = new_page(width=390, height=844)
    fac.set_default_timeout(10_000)
    _log_in(fac, coach)
    fac.goto(f"/cohorts/{cohort_id}")
    expect(fac.get_by_role("heading", name=re.compile("Roster \\(1 of 12\\)"))).to_be_visible()
    for n in range(1, 5):
        fac.goto(f"/cohorts/{cohort_id}")
        fac.get_by_text(f"Run session {n}").click()
        fac.get_by_role("link", name=f"Mark attendance for session {n}").click()
        row = fac.get_by_role("group", name=re.compile("Lindiwe Learner"))
        if n == 1:
            expect(row.get_by_label("Present")).to_be_checked()  # from the join click
        else:
            expect(row.get_by_label("Present")).not_to_be_checked()
            row.get_by_label("Present").check()
        assert fac.evaluate("document.documentElement.scrollWidth") <= 390
        fac.get_by_role("button", name="Save attendance").click()
        expect(fac.get_by_role("status")).to_contain_text(f"Attendance saved for Session {n}: 1 change")

    # Attendance met and the lessons done: the Master project is what is left.
    page.goto(f"/cohorts/{cohort_id}")
    expect(page.get_by_test_id("attendance-standing")).to_contain_text("100%")
    expect(page.get_by_test_id("attendance-standing")).to_contain_text("Attendance met.")
    _python(live_server, STUDY, learner)
    page.goto("/dashboard")
    todo = page.get_by_text(re.compile("To complete:"))
    expect(todo).to_contain_text("practical assessment")
    expect(todo).not_to_contain_text("attendance")
    expect(page.get_by_text("You completed this programme")).to_have_count(0)

    # The Master project is submitted, marked and released (assessments' own services); then the
    # worker decides completion again: attendance and the project both pass.
    _python(live_server, PROJECT, learner)
    for _ in range(30):
        page.goto("/programmes/acxm")
        if page.get_by_text("You completed this programme").count():
            break
        page.wait_for_timeout(500)
    expect(page.get_by_text("You completed this programme")).to_be_visible()

def test_the_browser_suggests_its_time_zone_at_registration(new_page, live_server):
    page = new_page(timezone_id="America/Chicago")
    page.goto("/register")
    page.get_by_label("Full name").fill("Asha Zone")
    page.get_by_label("Email address").fill(f"asha-{uuid.uuid4().hex[:8]}@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Welcome, Asha Zone")
    page.goto("/account")
    expect(page.get_by_text("Now: America/Chicago.")).to_be_visible()
    expect(page.get_by_label("Show times in")).to_have_value("America/Chicago")
