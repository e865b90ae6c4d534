"""Every converted form, refused in Chromium: each is sent with bad input (the browser's own checks off,
as an old browser or a hand-made request would send it), and the page that comes back must have an
error summary at the top whose links each land on a field that exists, each message in plain words
beside its field (the control marked aria-invalid and described by the message), what was typed
kept, axe-core at 0 violations and no sideways scroll at 390 px.

What each form needs (a submission in marking, one in moderation, a released fail, a calibration
exemplar, an open cohort, an open award cycle, an organisation) is made through the services, for
this journey's own people, so the shared e2e server's other journeys are not disturbed: other coaches
declare a conflict with this journey's learners, and the exemplar is retired at the end."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import uuid

from playwright.sync_api import expect

from tests.conftest import ROOT
from tests.e2e.checks import check_page
from tests.e2e.conftest import shot

PASSWORD = "a-long-password-1"

SETUP = """
import json, sys
import api.models
from datetime import UTC, date, datetime, time
from sqlmodel import Session
from api.accounts import service as accounts
from api.accounts.models import Role
from api.accounts.schemas import UserCreate
from api.assessments import allocation, calibration, marking, moderation, queue, release, rubrics, submissions
from api.awards import service as awards
from api.catalog import service as catalog
from api.cohorts import service as cohorts
from api.core.db import get_engine
from api.learning import service as learning
from api.learning.models import EnrolmentSource
from api.organisations import service as organisations

tag, year = sys.argv[1], int(sys.argv[2])
with Session(get_engine()) as s:
    def person(who, name, roles=None):
        return accounts.create_user(s, UserCreate(email=f"{who}-{tag}@example.com", full_name=name,
                                    password=PASSWORD), roles=roles, verified=True)
    admin = person("admin", "Ada Admin", {Role.admin})
    marker, moderator = person("marker", "Mo Marker", {Role.coach}), person("moderator", "Meg Moderator", {Role.coach})
    learners = [person(f"learner{i}", f"Lee Learner{i}") for i in range(4)]
    owner = person("owner", "Olu Owner")
    acxp = catalog.get_by_slug(s, "acxp")
    brief = submissions.briefs_for(s, [acxp.id])[acxp.id][0]
    for other in allocation.coaches(s):  # only this journey's coaches mark and moderate its learners
        if other.id not in (marker.id, moderator.id):
            for learner in learners:
                allocation.declare_conflict(s, other, learner, "e2e: another journey's coach")
    criteria = rubrics.current(s, brief).rubric["criteria"]
    lowest = {c["slug"]: {"score": c["levels"][0]["score"], "comment": "Not yet."} for c in criteria}
    subs = []
    for learner in learners:
        learning.enrol(s, user_id=learner.id, programme_id=acxp.id, source=EnrolmentSource.admin_grant,
                       check_prerequisites=False)
        sub = submissions.start(s, learner, brief, "Europe/London")
        subs.append(sub)
        if learner is learners[3]:  # a draft with a deadline: its learner asks for more time
            sub.deadline_at, sub.deadline_zone = datetime(2027, 9, 30, 22, 59, tzinfo=UTC), "Europe/London"
            s.add(sub)
            continue
        submissions.save_draft(s, sub, learner, text="An SCO canvas for a broadband outage.", version=sub.version)
        submissions.submit(s, sub, learner, authentic=True, anonymised=True)
        if sub.allocated_coach_id != marker.id:
            allocation.override(s, sub, marker, admin, "e2e: this journey's coach marks it")
        queue.start(s, sub, marker)
        if learner is learners[0]:
            continue  # in marking: the marker's form
        draft = marking.open_draft(s, sub, marker)
        marking.submit(s, sub, marker, scores=lowest, feedback="Feedback for the learner.", version=draft.version,
                       rubric_version_id=sub.rubric_version_id)  # a fail: always moderated, by the moderator
        if learner is learners[2]:
            moderation.confirm(s, sub, moderator)
            release.release(s, sub, admin)  # a released fail: its learner appeals
    ex = calibration.create_exemplar(s, admin, brief, title=f"Exemplar {tag}", work="A moments of truth map.",
                                     agreed_scores=lowest)
    cohort = cohorts.create_cohort(s, programme_slug="coim", starts_on=date(2027, 6, 7), time_zone="Europe/London")
    cycle = awards.create_cycle(s, awards.award_by_slug(s, "change-architect-of-the-year"), year, admin)
    awards.set_milestone(s, cycle, "nominations_close", date(year - 1, 12, 1), time(18), "Europe/London")
    awards.advance(s, cycle, admin)
    org = organisations.create(s, owner, name=f"Errors Ltd {tag}")
    s.commit()
    print(json.dumps({"marking": subs[0].public_id, "moderation": subs[1].public_id, "appeal": subs[2].public_id,
                      "extension": subs[3].public_id, "exemplar": ex.id, "cohort": cohort.public_id,
                      "session": cohorts.sessions_of(s, cohort)[0].uid, "cycle": cycle.slug,
                      "org": org.public_id}))
""".replace("PASSWORD", repr(PASSWORD))

CLOSE_COHORT = """
import sys
import api.models
from sqlmodel import Session
from api.cohorts import service
from api.core.db import get_engine
with Session(get_engine()) as s:
    service.set_status(s, service.get_cohort(s, sys.argv[1]), "closed")
    s.commit()
"""

RETIRE_EXEMPLAR = """
import sys
import api.models
from sqlmodel import Session
from api.assessments import calibration
from api.core.db import get_engine
with Session(get_engine()) as s:
    calibration.retire(s, calibration.get_exemplar(s, int(sys.argv[1])))
    s.commit()
"""

# For one field: what is wrong with how it is refused ([] = nothing).
FIELD_PROBLEMS = """name => {
  const problems = [];
  const control = document.getElementById('f-' + name);
  const message = document.getElementById('f-' + name + '-error');
  if (!control) return ['the summary links to #f-' + name + ', which is not on the page'];
  if (!message) return ['no message beside ' + name];
  const block = control.closest('.field, fieldset');
  if (!block || !block.contains(message)) problems.push(name + ': its message is not in its field');
  if (control.getAttribute('aria-invalid') !== 'true') problems.push(name + ': not marked aria-invalid');
  const described = (control.getAttribute('aria-describedby') || '') + ' '
                    + ((control.closest('fieldset') || control).getAttribute('aria-describedby') || '');
  if (!described.split(/\\s+/).includes('f-' + name + '-error')) problems.push(name + ': not described by its message');
  const shown = el => !!(el.offsetWidth || el.offsetHeight || el.getClientRects().length);
  if (!shown(control) && !(control.type === 'radio' && shown(block))) problems.push(name + ': hidden');
  if (!shown(message)) problems.push(name + ': its message is hidden');
  return problems;
}"""
NOT_PLAIN = re.compile(r"value is not a valid|at least 1 character|field required|input should|\b[a-z]+_[a-z_]+\b",
                       re.I)


def _python(live_server, code: str, *args: str) -> str:
    done = subprocess.run([sys.executable, "-c", code, *args], env=live_server["env"], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def _log_in(new_page, email: str):
    page = new_page(width=1280)
    page.goto("/login")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).not_to_have_url(re.compile(r"/login"))
    return page


def _send(page, button) -> None:
    """Submit with the browser's own checks off, so the server's answer is what is shown."""
    page.evaluate("() => document.querySelectorAll('form').forEach(f => { f.noValidate = true; })")
    button.click()
    page.wait_for_load_state()


def _refused(page, fields: list[str], kept: tuple[str, ...] = ()) -> list[str]:
    """The refused form's page: the summary first on the page's content, linking in order to `fields`,
    each message beside its field in plain words, what was typed kept; axe-core and 390 px checked."""
    summary = page.locator(".error-summary").first
    expect(summary).to_be_visible()
    hrefs = summary.locator("a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    assert hrefs == [f"#f-{f}" for f in fields], (page.url, hrefs)
    messages = []
    for name in fields:
        assert page.evaluate(FIELD_PROBLEMS, name) == [], page.url
        text = page.locator(f"#f-{name}-error").inner_text()
        assert not NOT_PLAIN.search(text), f"{name}: {text!r} is not in plain words"
        assert summary.get_by_role("link", name=text).count() == 1  # the summary says the same as the field
        messages.append(text)
    # the first link lands on its field
    summary.locator("a").first.click()
    expect(page.locator(f"#f-{fields[0]}")).to_be_in_viewport()
    for words in kept:
        assert words in page.content(), f"{words!r} was not kept"
    check_page(page)
    return messages


def test_every_converted_form_refuses_bad_input_plainly(new_page, live_server, award_year):
    tag = uuid.uuid4().hex[:8]
    year = str(award_year)
    made = json.loads(_python(live_server, SETUP, tag, year))
    try:
        _journey(new_page, live_server, tag, year, made)
    finally:  # an active exemplar would stop every other coach on the shared server marking
        _python(live_server, RETIRE_EXEMPLAR, str(made["exemplar"]))


def _journey(new_page, live_server, tag, year, made):
    # Registration: no name, an address that is not one, a short password.
    page = new_page(width=1280)
    page.goto("/register")
    page.get_by_label("Email address").fill("lena.example.com")
    page.get_by_label("Password").fill("short")
    _send(page, page.get_by_role("button", name=re.compile("Create", re.I)))
    _refused(page, ["full_name", "email", "password"], kept=("lena.example.com",))
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        shot(page, f"form-errors-register-{width}")

    # The marker's form: a criterion unscored and no overall feedback.
    marker = _log_in(new_page, f"marker-{tag}@example.com")
    marker.goto(f"/coach/marking/{made['marking']}")
    levels = marker.locator("fieldset.criterion")
    for i in range(1, levels.count()):
        levels.nth(i).locator("input[type=radio]").last.check()
    marker.get_by_label(re.compile("^Comment on ")).first.fill("Words the marker typed.")
    _send(marker, marker.get_by_role("button", name=re.compile("^Submit", re.I)))
    first = marker.locator("fieldset.criterion input[type=radio]").first.get_attribute("id")[2:]
    _refused(marker, [first, "feedback"], kept=("Words the marker typed.",))

    # The calibration exemplar: nothing chosen.
    marker.goto(f"/coach/calibration/{made['exemplar']}")
    _send(marker, marker.get_by_role("button", name="Submit my marks"))
    scores = marker.locator("fieldset.criterion").evaluate_all(
        "sets => sets.map(f => f.querySelector('input[type=radio]').id.slice(2))")
    _refused(marker, scores)

    # The moderator adjusts with no reason and one criterion unscored.
    moderator = _log_in(new_page, f"moderator-{tag}@example.com")
    moderator.goto(f"/coach/moderation/{made['moderation']}")
    moderator.get_by_text("Adjust the marks instead").click()
    sets = moderator.locator("fieldset.criterion")
    sets.first.locator("input[type=radio]").evaluate_all("rs => rs.forEach(r => { r.checked = false; })")
    _send(moderator, moderator.get_by_role("button", name="Adjust with my reason"))
    messages = _refused(moderator, ["reason", scores[0]])
    assert "Give the reason you adjust the marks" in messages[0]
    for width in (1280, 390):
        moderator.set_viewport_size({"width": width, "height": 900})
        shot(moderator, f"form-errors-moderation-{width}")
    moderator.set_viewport_size({"width": 1280, "height": 900})

    # The learner appeals a released fail without saying why.
    appellant = _log_in(new_page, f"learner2-{tag}@example.com")
    appellant.goto(f"/assessments/submissions/{made['appeal']}/appeal")
    appellant.get_by_label(re.compile("Why you are appealing")).fill("   ")
    _send(appellant, appellant.get_by_role("button", name=re.compile("appeal", re.I)))
    _refused(appellant, ["reason"])

    # A learner asks for more time with no date and no reason.
    asking = _log_in(new_page, f"learner3-{tag}@example.com")
    asking.goto(f"/assessments/submissions/{made['extension']}/extension")
    _send(asking, asking.get_by_role("button", name="Send my request"))
    _refused(asking, ["until", "reason"])

    # The admin moves a session with no date and a length of 5 minutes.
    admin = _log_in(new_page, f"admin-{tag}@example.com")
    admin.goto(f"/admin/cohorts/{made['cohort']}")
    uid = made["session"]
    admin.locator("details", has=admin.locator(f"#f-date-{uid}")).locator("summary").click()
    admin.locator(f"#f-date-{uid}").fill("")
    admin.locator(f"#f-minutes-{uid}").fill("5")
    _send(admin, admin.get_by_role("button", name=re.compile("^Move ")).first)
    _refused(admin, [f"date-{uid}", f"minutes-{uid}"])
    expect(admin.locator("#f-capacity")).not_to_have_value("")  # the page's other forms show what is stored

    # The waitlist: the learner opened it while the cohort was open; it closed before they joined.
    waiting = _log_in(new_page, f"learner0-{tag}@example.com")
    waiting.goto(f"/cohorts/{made['cohort']}/waitlist")
    _python(live_server, CLOSE_COHORT, made["cohort"])
    _send(waiting, waiting.get_by_role("button", name="Join the waitlist"))
    box = waiting.get_by_role("alert")
    expect(box).to_contain_text("no longer taking enrolments")
    expect(waiting.locator(".flash-success")).to_have_count(0)
    check_page(waiting)

    # Checkout: a VAT number without its country code.
    buyer = _log_in(new_page, f"learner1-{tag}@example.com")
    buyer.goto("/checkout/acxs")
    buyer.locator("details.buyer-details summary").click()
    buyer.get_by_label("Company VAT number").fill("12345")
    pay = buyer.locator("form", has=buyer.get_by_label("Company VAT number")).locator("button[type=submit]").last
    _send(buyer, pay)
    _refused(buyer, ["buyer_vat"], kept=("12345",))

    # The organisation's invitation: an address that is not one.
    owner = _log_in(new_page, f"owner-{tag}@example.com")
    owner.goto(f"/organisations/{made['org']}")
    owner.locator("#f-invite-email").fill("colleague.example.com")
    _send(owner, owner.get_by_role("button", name="Send the invitation"))
    _refused(owner, ["invite-email"], kept=("colleague.example.com",))

    # The award nomination: no name, no address, no statement.
    owner.goto(f"/awards/{made['cycle']}/nominate")
    owner.get_by_label("Their organisation").fill("Ubuntu Utilities")
    _send(owner, owner.get_by_role("button", name="Send the nomination"))
    _refused(owner, ["name", "email", "statement"], kept=("Ubuntu Utilities",))
