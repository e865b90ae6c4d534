"""One whole award cycle in Chromium: three nominees, three judges, one conflict of interest.

Nominations and entries (the awards domain's own journey drives those screens) are made through the
services; the judging is done on the screens: the administrator sets up the rounds and appoints the
judges; each judge accepts (one of them works where a nominee works: Cadre finds it, and that judge
never sees that entry); the blind sift, the scored shortlist, the interviews (scheduled, with a
calendar file), the deliberation and its sign-off; then the announcement, and the public hall of fame
shows the new winner beside 2020's Roland D. Naidoo, with an award credential that verifies."""

from __future__ import annotations

import json
import random
import subprocess
import sys

from playwright.sync_api import expect

from tests.conftest import ROOT

PASSWORD = "a-judging-password-1"

SETUP = r"""
import json, sys
from datetime import date, time, timedelta
from sqlmodel import Session
from api.accounts import service as accounts
from api.accounts.models import Role
from api.accounts.schemas import UserCreate
from api.awards import nominations, service, states
from api.awards.models import CycleState
from api.core.db import get_engine, utcnow

tag, year, password = sys.argv[1], int(sys.argv[2]), sys.argv[3]
with Session(get_engine()) as s:
    def user(key, name, roles=None):
        return accounts.create_user(s, UserCreate(email=f"{key}-{tag}@example.com", full_name=name, password=password),
                                    roles=roles, verified=True)
    admin = user("admin", "Ada Award-Admin", {Role.admin})
    nominator = user("nominator", "Nia Nominator")
    award = service.award_by_slug(s, "change-architect-of-the-year")
    cycle = service.create_cycle(s, award, year, admin)
    today = utcnow().date()
    later, before = today + timedelta(days=30), today - timedelta(days=1)
    for kind, day in (("nominations_open", before), ("nominations_close", later), ("entries_due", later),
                      ("announcement", before)):
        service.set_milestone(s, cycle, kind, day, time(9, 0), "Europe/London", admin)
    states.transition(s, cycle, CycleState.nominations_open, admin)
    people = {}
    for key, name, org in (("amara", f"Amara Osei {tag}", "Northwind Telecom"),
                           ("bongani", f"Bongani Dlamini {tag}", "MultiChoice (Pty) Ltd"),
                           ("chen", f"Chen Wei {tag}", "Harbour Bank")):
        u = user(key, name)
        nominee, _, _ = nominations.nominate(s, cycle, nominator, nominations.NominationIn(
            name=name, email=u.email, role="Head of Customer Operations", organisation=org,
            statement="Led an outside-in transformation of customer operations."))
        nominations.respond(s, nominee, u, accept=True, consent_judging=True, consent_public=True)
        nominations.save_entry(s, nominee, u, nominations.EntryIn(
            personal="Became a coach to others and learned to lead from the customer's outcome.",
            professional="Ran the CX programme and qualified a team of mentors.",
            business="Cut repeat contacts by a third while revenue grew.",
            referees=[{"name": "Rhea Referee", "email": "rhea@example.org", "relationship": "Manager"}]), submit=True)
        people[key] = name
    states.transition(s, cycle, CycleState.nominations_closed, admin)
    for key, name in (("judge-a", "Jo Judge"), ("judge-b", "Kim Judge"), ("judge-c", "Lee Judge")):
        user(key, name)
    s.commit()
    print(json.dumps({"slug": cycle.slug, "names": people}))
"""


def _setup(live_server, tag: str, year: int) -> dict:
    done = subprocess.run([sys.executable, "-c", SETUP, tag, str(year), PASSWORD], env=live_server["env"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def _log_in(page, email: str) -> None:
    page.goto("/login")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("link", name="Account")).to_be_visible()


def _judge_everything(page, scores: dict[str, int], blind_names: list[str]) -> int:
    """Work through the judge's queue: confirm no conflict, then pass (the sift) or score each entry
    by the name on it. Returns how many were judged."""
    judged = 0
    while True:
        page.goto("/judging")
        todo = page.locator("tr", has_text="To do")
        if todo.count() == 0:
            return judged
        todo.first.get_by_role("link").click()
        if page.get_by_role("button", name="No conflict: open the entry").count():
            page.get_by_role("button", name="No conflict: open the entry").click()
        heading = page.get_by_role("heading", level=1).inner_text()
        if page.get_by_label("Pass: goes on to the shortlist").count():
            body = page.locator("main").inner_text()
            for name in blind_names:  # the sift is blind
                assert name not in body
            page.get_by_label("Pass: goes on to the shortlist").check()
            page.get_by_role("button", name="Save my vote").click()
        else:
            value = next(v for name, v in scores.items() if name in heading)
            for field in page.locator("input[type=number]").all():
                field.fill(str(value))
            page.get_by_role("button", name="Save my scores").click()
        expect(page.locator("main > p.flash")).to_contain_text("is saved")
        judged += 1


def _round(admin, slug: str, name: str) -> None:
    admin.goto(f"/admin/awards/judging/{slug}")
    admin.get_by_role("link", name=name, exact=True).click()


def test_a_whole_award_cycle_from_entries_to_the_hall_of_fame(page, new_page, live_server, award_year):
    tag = f"{random.randrange(16**6):06x}"
    data = _setup(live_server, tag, award_year)
    slug, names = data["slug"], data["names"]
    amara, bongani, chen = names["amara"], names["bongani"], names["chen"]

    # The award administrator sets up the rounds and appoints three judges.
    admin = page
    _log_in(admin, f"admin-{tag}@example.com")
    admin.goto("/admin")
    admin.get_by_role("link", name="Award judging").first.click()
    admin.locator(f"a[href='/admin/awards/judging/{slug}']").click()
    admin.get_by_role("button", name="Set up the four rounds").click()
    expect(admin.locator("main > p.flash")).to_contain_text("The four rounds are ready")
    for key in ("judge-a", "judge-b", "judge-c"):
        admin.get_by_label("Appoint a judge: their account's email").fill(f"{key}-{tag}@example.com")
        admin.get_by_role("button", name="Appoint").click()
        expect(admin.locator("main > p.flash")).to_contain_text("is appointed")

    # Each judge accepts; Lee works at MultiChoice, where Bongani works: Cadre finds the conflict.
    judges = {}
    for key, org in (("judge-a", "Contoso Consulting"), ("judge-b", "Fabrikam"), ("judge-c", "Multichoice")):
        j = new_page()
        _log_in(j, f"{key}-{tag}@example.com")
        j.goto("/judging")
        j.get_by_role("link", name="Accept and declare conflicts").click()
        expect(j.get_by_label(f"{bongani}, MultiChoice (Pty) Ltd")).to_be_visible()
        j.get_by_label("Your organisation").fill(org)
        j.get_by_role("button", name="Accept the appointment").click()
        expect(j.locator("main > p.flash")).to_contain_text("You have accepted")
        if key == "judge-c":
            expect(j.locator("main > p.flash")).to_contain_text("Cadre found 1 more")
        judges[key] = j
    admin.goto(f"/admin/awards/judging/{slug}")
    conflicts = admin.locator("section", has_text="Conflicts of interest")
    expect(conflicts).to_contain_text("Lee Judge")
    expect(conflicts).to_contain_text("same organisation")

    # The sift: blind, pass or fail, two judges per entry.
    _round(admin, slug, "Sift")
    admin.get_by_role("button", name="Open the sift and assign judges").click()
    expect(admin.locator("main > p.flash")).to_contain_text("is open")
    scores = {amara: 9, bongani: 7, chen: 5}
    everyone = [amara, bongani, chen]
    judged = sum(_judge_everything(j, scores, everyone) for j in judges.values())
    assert judged == 6
    _round(admin, slug, "Sift")
    admin.get_by_role("button", name="Close the round and freeze its results").click()
    expect(admin.locator("main > p.flash")).to_contain_text("results frozen")
    expect(admin.get_by_role("heading", name="Results (as frozen)")).to_be_visible()

    # The scored shortlist: names shown, weighted criteria, normalised ranking; the top two go on.
    _round(admin, slug, "Scored shortlist")
    admin.get_by_label("Rank by per-judge normalised scores (z-scores)").check()
    admin.get_by_label("How many go on (empty: all)").fill("2")
    admin.get_by_role("button", name="Save options").click()
    admin.get_by_role("button", name="Open the scored shortlist and assign judges").click()
    lee = judges["judge-c"]
    lee.goto("/judging")
    expect(lee.locator("main")).not_to_contain_text(bongani)  # the conflicted judge never sees that entry
    for j in judges.values():
        _judge_everything(j, scores, [])
    _round(admin, slug, "Scored shortlist")
    admin.get_by_role("button", name="Close the round and freeze its results").click()
    expect(admin.get_by_role("columnheader", name="Normalised rank")).to_be_visible()

    # Interviews: scheduled in the panel's zone, with a calendar file; each panellist's scorecard.
    _round(admin, slug, "Interviews")
    admin.get_by_role("button", name="Open the interviews and assign judges").click()
    for name, day in ((amara, "2027-03-29"), (bongani, "2027-03-30")):
        admin.get_by_text(f"Schedule the interview of {name}").click()
        box = admin.locator("details", has_text=f"Schedule the interview of {name}")
        box.get_by_label("Date").fill(day)
        box.get_by_label("Start").fill("10:00")
        box.get_by_label("Time zone").fill("Africa/Johannesburg")
        box.get_by_role("button", name="Save the interview").click()
        expect(admin.locator("main > p.flash")).to_contain_text("Interview scheduled")
    jo = judges["judge-a"]
    jo.goto("/judging")
    jo.locator("tr", has_text=amara).get_by_role("link").click()
    jo.get_by_role("button", name="No conflict: open the entry").click()
    ics = jo.request.get(jo.get_by_role("link", name="Add the interview to your calendar").get_attribute("href"))
    assert ics.ok and "DTSTART;TZID=Africa/Johannesburg:20270329T100000" in ics.text()
    interview_scores = {amara: 9, bongani: 6}
    for j in judges.values():
        _judge_everything(j, interview_scores, [])
    _round(admin, slug, "Interviews")
    admin.get_by_role("button", name="Close the round and freeze its results").click()
    expect(admin.locator("main > p.flash")).to_contain_text("results frozen")

    # The final deliberation: attendees, decisions with citations, reasons; sign-off locks it.
    _round(admin, slug, "Final deliberation")
    for judge in ("Jo Judge", "Kim Judge", "Lee Judge"):
        admin.get_by_label(judge, exact=True).check()
    admin.locator("fieldset", has_text=amara).get_by_label("Decision").select_option("winner")
    admin.locator("fieldset", has_text=amara).get_by_label("Citation").fill(
        "Made developing people the engine of an outside-in transformation.")
    admin.locator("fieldset", has_text=bongani).get_by_label("Decision").select_option("highly_commended")
    admin.locator("fieldset", has_text=bongani).get_by_label("Citation").fill("A cadre of mentors across the region.")
    admin.get_by_label("Reasons for the decision").fill("Unanimous after the interviews: the clearest evidence.")
    admin.get_by_role("button", name="Sign off: lock it and record the outcomes").click()
    expect(admin.locator("main > p.flash")).to_contain_text("Signed off")
    expect(admin.get_by_text("Signed off", exact=False).first).to_be_visible()

    # The fairness report, with the conflict rate.
    admin.goto(f"/admin/awards/judging/{slug}/fairness")
    expect(admin.get_by_text("Krippendorff's alpha").first).to_be_visible()
    expect(admin.locator("main")).to_contain_text("1 of 9 judge and entry pairs had a conflict")

    # The announcement (the embargo has lifted), then the public hall of fame.
    admin.goto(f"/admin/awards/{slug}")
    admin.get_by_role("button", name="Announce the results").click()
    expect(admin.locator("main > p.flash")).to_contain_text("is announced")
    visitor = new_page(390, 844)
    visitor.goto("/hall-of-fame")
    expect(visitor.get_by_text("Roland D. Naidoo").first).to_be_visible()
    expect(visitor.get_by_role("link", name=amara).first).to_be_visible()
    visitor.get_by_role("link", name=amara).first.click()
    visitor.locator("a[href^='/verify/']").first.click()
    expect(visitor.locator("section.verify")).to_have_class("verify verify-valid")
    expect(visitor.locator("main")).to_contain_text(amara)
