"""The judging pages through HTTP: who sees what (the judge, another judge, an administrator, an
outsider), the blind sift, accepting with declared conflicts, the step before opening an entry,
scoring and its refusals, the administrator's round pages, deliberation sign-off, the fairness
report and its CSV."""

from __future__ import annotations

import pytest
from sqlmodel import select

from api.awards.judging import scoring, service
from api.awards.judging.models import Assignment, JudgeConflict, RoundKind
from api.awards.models import CycleOutcome, CycleState


@pytest.fixture
def as_user(client, login):
    def do(user):
        client.cookies.clear()
        client.cookies.set("cadre_session", login(user.email))
        return client

    return do


def _mine(db, rnd, judge):
    return list(db.exec(select(Assignment).where(Assignment.round_id == rnd.id, Assignment.judge_id == judge.id,
                                                 Assignment.status == "active").order_by(Assignment.id)).all())


def _user_of(p, judge):
    # by id: SQLModel rows compare by their fields, so list.index() can pick the wrong one
    return next(u for u, j in zip(p.users, p.judges, strict=True) if j.id == judge.id)


def _token_of(client, page):
    from tests.conftest import csrf_from

    return csrf_from(client.get(page).text)


def _url(rnd, entry):
    return f"/judging/rounds/{rnd.public_id}/entries/{entry.public_id}"


def test_appointment_email_and_accepting_with_a_declared_conflict(db, panel, browser, as_user, mailbox):
    p = panel(accept=False)
    assert any("You are invited to judge" in s for s in mailbox.subjects(p.users[0].email))
    as_user(p.users[0])
    page = browser.client.get("/judging")
    assert "Accept and declare conflicts" in page.text
    form = browser.client.get(f"/judging/{p.cycle.slug}/accept")
    assert "Nominee 1, Org 1" in form.text
    r = browser.post_form(f"/judging/{p.cycle.slug}/accept", organisation="Org 2 Limited",
                          **{f"conflict_{p.entries[0].public_id}": "1",
                             f"reason_{p.entries[0].public_id}": "My former manager"})
    assert r.status_code == 303
    kinds = {(c.entry_id, c.kind) for c in db.exec(select(JudgeConflict).where(JudgeConflict.judge_id ==
                                                                               p.judges[0].id))}
    assert kinds == {(p.entries[0].id, "declared"), (p.entries[2].id, "same_organisation")}
    flash = browser.client.get("/judging")
    assert "You declared 1 conflict" in flash.text and "Cadre found 1 more" in flash.text


def test_who_sees_a_sift_entry(db, panel, client, as_user, make_user):
    from api.accounts.models import Role

    p = panel()
    sift = service.open_round(db, service.round_of(db, p.cycle, RoundKind.sift), p.admin)
    db.commit()
    a = _mine(db, sift, p.judges[0])[0]
    entry = next(e for e in p.entries if e.id == a.entry_id)
    other = next(j for j in p.judges if not any(x.entry_id == entry.id for x in _mine(db, sift, j)))
    url = _url(sift, entry)
    assert client.get(url, follow_redirects=False).status_code == 303  # not logged in: to the login page
    as_user(p.users[0])
    page = client.get(url)
    assert page.status_code == 200 and "Before you open" in page.text
    as_user(_user_of(p, other))
    assert client.get(url).status_code == 404
    token = _token_of(client, "/judging")
    assert client.post(f"{url}/score", data={"csrf_token": token, "c_pass": "pass"}).status_code == 404
    assert client.post(f"{url}/open", data={"csrf_token": token, "action": "confirm"}).status_code == 404
    as_user(make_user())
    assert client.get(url).status_code == 404
    assert client.get("/admin/awards/judging").status_code == 403
    admin = make_user(roles={Role.admin})
    as_user(admin)
    assert client.get(url).status_code == 404  # administrators run rounds; they do not judge through a judge's URL
    assert client.get(f"/admin/awards/judging/{p.cycle.slug}").status_code == 200
    as_user(p.users[0])
    assert client.get(f"/admin/awards/judging/{p.cycle.slug}").status_code == 403


def test_the_blind_sift_hides_the_name_and_employer_and_a_vote_is_saved(db, panel, browser, as_user):
    p = panel()
    sift = service.open_round(db, service.round_of(db, p.cycle, RoundKind.sift), p.admin)
    db.commit()
    a = _mine(db, sift, p.judges[0])[0]
    entry = next(e for e in p.entries if e.id == a.entry_id)
    i = [e.id for e in p.entries].index(entry.id)
    name = f"Nominee {i}"
    as_user(p.users[0])
    url = _url(sift, entry)
    r = browser.post_form(url, f"{url}/open", action="confirm")
    assert r.status_code == 303 and r.headers["location"] == url
    page = browser.client.get(url)
    assert "Cut repeat contacts by a third" in page.text and "blind" in page.text
    assert name not in page.text and f"Org {i}" not in page.text
    assert "Ref Eree" not in page.text
    r = browser.post_form(url, f"{url}/score", c_pass="pass")
    assert r.status_code == 303
    assert scoring.score_of(db, a).passed is True
    # scoring without a choice: the page says what to do
    r = browser.post_form(url, f"{url}/score")
    assert r.status_code == 422 and "Choose pass or fail" in r.text


def test_declaring_a_conflict_before_opening_hides_the_entry_from_then_on(db, panel, browser, as_user):
    p = panel()
    sift = service.open_round(db, service.round_of(db, p.cycle, RoundKind.sift), p.admin)
    db.commit()
    a = _mine(db, sift, p.judges[0])[0]
    entry = next(e for e in p.entries if e.id == a.entry_id)
    as_user(p.users[0])
    url = _url(sift, entry)
    r = browser.post_form(url, f"{url}/open", action="conflict", reason="We share a flat")
    assert r.status_code == 303
    assert browser.client.get(url).status_code == 404
    assert len([x for x in db.exec(select(Assignment).where(Assignment.round_id == sift.id,
                                                            Assignment.entry_id == entry.id,
                                                            Assignment.status == "active"))]) == 2


def test_scoring_after_the_round_closed_is_refused_in_words(db, panel, browser, as_user, make_user):
    p = panel()
    sift = service.open_round(db, service.round_of(db, p.cycle, RoundKind.sift), p.admin)
    a = _mine(db, sift, p.judges[0])[0]
    a.confirmed_at = a.created_at
    db.add(a)
    for x in db.exec(select(Assignment).where(Assignment.round_id == sift.id)).all():
        scoring.submit(db, x, {"pass": "pass"})
    db.commit()
    # the administrator closes it through the round page
    from api.accounts.models import Role

    admin = make_user(roles={Role.admin})
    as_user(admin)
    r = browser.post_form(f"/admin/awards/judging/rounds/{sift.public_id}", action="close")
    assert r.status_code == 303
    page = browser.client.get(f"/admin/awards/judging/rounds/{sift.public_id}")
    assert "Results (as frozen)" in page.text
    as_user(p.users[0])
    entry = next(e for e in p.entries if e.id == a.entry_id)
    url = _url(sift, entry)
    r = browser.post_form(url, f"{url}/score", c_pass="fail")
    assert r.status_code == 409 and "results are frozen" in r.text
    assert scoring.score_of(db, a).passed is True


def _score_round(db, rnd, by_judge):
    for a in db.exec(select(Assignment).where(Assignment.round_id == rnd.id, Assignment.status == "active")).all():
        v = str(by_judge(a))
        crit = service.criteria_of(db, rnd).criteria
        scoring.submit(db, a, {c["key"]: v for c in crit})


def test_a_whole_cycle_through_the_admin_pages_to_sign_off(db, panel, browser, as_user, make_user):
    from api.accounts.models import Role

    p = panel()
    admin = make_user(roles={Role.admin})
    as_user(admin)
    sift = service.round_of(db, p.cycle, RoundKind.sift)
    assert browser.post_form(f"/admin/awards/judging/rounds/{sift.public_id}", action="open").status_code == 303
    for a in db.exec(select(Assignment).where(Assignment.round_id == sift.id)).all():
        scoring.submit(db, a, {"pass": "pass"})
    db.commit()
    browser.post_form(f"/admin/awards/judging/rounds/{sift.public_id}", action="close")
    short = service.round_of(db, p.cycle, RoundKind.shortlist)
    r = browser.post_form(f"/admin/awards/judging/rounds/{short.public_id}", action="options", quorum="2",
                          normalise="1", advance="2")
    assert r.status_code == 303
    browser.post_form(f"/admin/awards/judging/rounds/{short.public_id}", action="open")
    order = [e.id for e in p.entries]
    _score_round(db, short, lambda a: 9 - 3 * order.index(a.entry_id))
    db.commit()
    browser.post_form(f"/admin/awards/judging/rounds/{short.public_id}", action="close")
    page = browser.client.get(f"/admin/awards/judging/rounds/{short.public_id}").text
    assert "Normalised rank" in page and "Raw rank" in page
    interview = service.round_of(db, p.cycle, RoundKind.interview)
    browser.post_form(f"/admin/awards/judging/rounds/{interview.public_id}", action="open")
    r = browser.post_form(f"/admin/awards/judging/rounds/{interview.public_id}", action="schedule",
                          entry=str(p.entries[0].id), local_date="2027-03-28", local_start="01:30",
                          minutes="45", time_zone="Europe/London")
    assert "Not done" in browser.client.get(f"/admin/awards/judging/rounds/{interview.public_id}").text  # DST gap
    r = browser.post_form(f"/admin/awards/judging/rounds/{interview.public_id}", action="schedule",
                          entry=str(p.entries[0].id), local_date="2027-03-29", local_start="10:00",
                          minutes="45", time_zone="Europe/London")
    assert r.status_code == 303
    # every accepted judge is on the panel; a judge downloads the interview's calendar file
    panel_users = service.panel_of(db, interview, p.entries[0].id)
    assert len(panel_users) == 3
    as_user(p.users[0])
    ics = browser.client.get(_url(interview, p.entries[0]) + "/interview.ics")
    assert ics.status_code == 200 and "DTSTART;TZID=Europe/London:20270329T100000" in ics.text
    as_user(admin)
    _score_round(db, interview, lambda a: 8 if a.entry_id == p.entries[0].id else 6)
    db.commit()
    browser.post_form(f"/admin/awards/judging/rounds/{interview.public_id}", action="close")
    db.refresh(p.cycle)
    assert p.cycle.state == CycleState.deliberating
    final = service.round_of(db, p.cycle, RoundKind.deliberation)
    url = f"/admin/awards/judging/rounds/{final.public_id}"
    page = browser.client.get(url).text
    assert "Who attended" in page
    # signing off without reasons is refused and nothing is recorded
    r = browser.post_form(url, action="sign_off", attendee=str(p.judges[0].id),
                          **{f"kind_{p.entries[0].id}": "winner", f"citation_{p.entries[0].id}": "Led a cadre."})
    assert "Record the reasons" in browser.client.get(url).text
    assert db.exec(select(CycleOutcome).where(CycleOutcome.cycle_id == p.cycle.id)).first() is None
    r = browser.client.post(url, data={"csrf_token": _token(browser, url), "action": "sign_off",
                                       "attendee": [str(j.id) for j in p.judges],
                                       f"kind_{p.entries[0].id}": "winner",
                                       f"citation_{p.entries[0].id}": "Led a cadre of accredited people.",
                                       f"kind_{p.entries[1].id}": "highly_commended",
                                       f"citation_{p.entries[1].id}": "Outside-in from the top.",
                                       "reasons": "Unanimous after the interviews."}, follow_redirects=False)
    assert r.status_code == 303
    page = browser.client.get(url).text
    assert "Signed off" in page and "locked" in page
    db.refresh(p.cycle)
    assert p.cycle.state == CycleState.decided
    kinds = {o.entry_id: o.kind for o in db.exec(select(CycleOutcome).where(CycleOutcome.cycle_id == p.cycle.id))}
    assert kinds == {p.entries[0].id: "winner", p.entries[1].id: "highly_commended"}
    # the fairness report, as a page and as CSV
    page = browser.client.get(f"/admin/awards/judging/{p.cycle.slug}/fairness")
    assert page.status_code == 200 and "Krippendorff" in page.text and "Kendall" in page.text
    csv = browser.client.get(f"/admin/awards/judging/{p.cycle.slug}/fairness.csv")
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    assert "shortlist,normalisation,ranking,kendall_tau_raw_vs_normalised" in csv.text


def _token(browser, url):
    from tests.conftest import csrf_from

    return csrf_from(browser.client.get(url).text)


def test_an_administrator_records_a_conflict_found_after_the_freeze(db, panel, browser, as_user, make_user):
    from api.accounts.models import Role

    p = panel()
    sift = service.open_round(db, service.round_of(db, p.cycle, RoundKind.sift), p.admin)
    first_judge = {}
    for a in db.exec(select(Assignment).where(Assignment.round_id == sift.id).order_by(Assignment.id)).all():
        # entry 2 passes only thanks to its first judge's vote
        vote = "pass" if a.entry_id != p.entries[2].id or a.entry_id not in first_judge else "fail"
        first_judge.setdefault(a.entry_id, a.judge_id)
        scoring.submit(db, a, {"pass": vote})
    service.close_round(db, sift, p.admin)
    db.commit()
    assert p.entries[2].id in scoring.current_snapshot(db, sift)["through"]
    admin = make_user(roles={Role.admin})
    as_user(admin)
    url = f"/admin/awards/judging/{p.cycle.slug}"
    r = browser.post_form(url, action="record_conflict", judge=str(first_judge[p.entries[2].id]),
                          entry=str(p.entries[2].id), detail="")
    assert "Say what the conflict is" in browser.client.get(url).text
    r = browser.post_form(url, action="record_conflict", judge=str(first_judge[p.entries[2].id]),
                          entry=str(p.entries[2].id), detail="Business partner of the nominee")
    assert r.status_code == 303
    page = browser.client.get(url).text
    assert "Conflict recorded" in page and "Business partner of the nominee" in page
    assert p.entries[2].id not in scoring.current_snapshot(db, sift)["through"]
    round_page = browser.client.get(f"/admin/awards/judging/rounds/{sift.public_id}").text
    assert "Results (amendment 1)" in round_page and "The results as frozen on" in round_page
