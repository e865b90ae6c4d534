"""The facilitator's session links with bad input: the cohort page again with 422, each message beside
its link, the summary linking to it, what was typed kept, and nothing saved."""

from __future__ import annotations

import re

from sqlmodel import select

from api.cohorts.models import CohortSession
from tests.core.test_form_messages import beside


def test_meeting_and_recording_links_that_are_not_https(db, client, login, browser, make_user, make_cohort):
    from api.accounts.models import Role

    coach = make_user(roles={Role.coach})
    cohort = make_cohort("coim", facilitator_ids=[coach.id])
    login(coach.email)
    path = f"/cohorts/{cohort.public_id}"
    uid = re.search(rf'action="{path}/sessions/([^/"]+)/links"', client.get(path).text).group(1)
    r = browser.post_form(path, f"{path}/sessions/{uid}/links", meeting_url="meet.example.com/x",
                          recording_url="ftp://files.example.com/x.mp4")
    assert r.status_code == 422
    box = r.text.split('class="error-summary"', 1)[1].split("</div>", 1)[0]
    assert re.findall(r'<a href="#f-([^"]+)">', box) == [f"meeting-{uid}", f"recording-{uid}"]
    assert "starts with https://" in beside(r.text, f"meeting-{uid}")
    assert "starts with https://" in beside(r.text, f"recording-{uid}")
    assert 'value="meet.example.com/x"' in r.text and 'value="ftp://files.example.com/x.mp4"' in r.text
    # A good meeting link with a bad recording link: neither is saved.
    r = browser.post_form(path, f"{path}/sessions/{uid}/links", meeting_url="https://meet.example.com/new",
                          recording_url="recording.mp4")
    assert r.status_code == 422
    assert "starts with https://" in beside(r.text, f"recording-{uid}")
    assert 'id="f-meeting-' + uid + '-error"' not in r.text
    db.expire_all()
    row = db.exec(select(CohortSession).where(CohortSession.uid == uid)).one()
    assert not row.meeting_url and not row.recording_url


def test_moving_a_session_with_every_field_wrong_then_one_only_the_service_can_judge(db, client, login, browser,
                                                                                  make_user, make_cohort):
    from api.accounts.models import Role
    from api.cohorts import service

    admin = make_user(roles={Role.admin})
    cohort = make_cohort("coim")
    first = service.sessions_of(db, cohort)[0]
    before = (first.starts_at, first.minutes)
    login(admin.email)
    path = f"/admin/cohorts/{cohort.public_id}"
    uid = first.uid
    r = browser.post_form(path, action="reschedule", session_uid=uid, local_date="next Tuesday", local_start="9am",
                          minutes="ninety")
    assert r.status_code == 422
    box = r.text.split('class="error-summary"', 1)[1].split("</div>", 1)[0]
    assert re.findall(r'<a href="#f-([^"]+)">', box) == [f"date-{uid}", f"start-{uid}", f"minutes-{uid}"]
    assert "such as 2027-03-04" in beside(r.text, f"date-{uid}")
    assert "such as 09:30" in beside(r.text, f"start-{uid}")
    assert "whole minutes" in beside(r.text, f"minutes-{uid}")
    assert 'value="next Tuesday"' in r.text and 'value="9am"' in r.text and 'value="ninety"' in r.text
    assert "<details open>" in r.text  # the session's form is unfolded so the summary's links land on it
    assert "not a valid" not in r.text and "invalid literal" not in r.text
    assert f'id="f-capacity" name="capacity" type="number" min="1" value="{cohort.capacity}"' in r.text  # untouched
    r = browser.post_form(path, action="reschedule", session_uid=uid, local_date="2026-01-05", local_start="14:00",
                          minutes="90")
    assert r.status_code == 422
    assert "in the past" in beside(r.text, f"date-{uid}")
    db.expire_all()
    row = db.exec(select(CohortSession).where(CohortSession.uid == uid)).one()
    assert (row.starts_at, row.minutes) == before


def test_a_capacity_that_is_not_a_number(db, client, login, browser, make_user, make_cohort):
    from api.accounts.models import Role

    login(make_user(roles={Role.admin}).email)
    cohort = make_cohort("coim", capacity=12)
    path = f"/admin/cohorts/{cohort.public_id}"
    r = browser.post_form(path, action="capacity", capacity="twelve")
    assert r.status_code == 422
    assert "whole number of seats" in beside(r.text, "capacity")
    assert 'value="twelve"' in r.text


def test_joining_the_waitlist_of_a_cohort_closed_meanwhile_says_so_as_an_error(db, client, login, browser, make_user,
                                                                             make_cohort):
    from api.cohorts import service, waitlist

    user = make_user()
    cohort = make_cohort("coim")
    login(user.email)
    page = f"/cohorts/{cohort.public_id}/waitlist"
    token_page = client.get(page).text  # the learner opens the page while the cohort is open
    service.set_status(db, cohort, "closed")
    db.commit()
    from tests.conftest import csrf_from

    r = client.post(page, data={"csrf_token": csrf_from(token_page), "action": "join"}, follow_redirects=False)
    assert r.status_code == 409
    box = r.text.split('class="error-summary" role="alert"', 1)[1].split("</div>", 1)[0]
    assert "no longer taking enrolments" in box and "cohorts still open" in box
    assert "flash-success" not in r.text
    db.expire_all()
    assert waitlist.entry_of(db, cohort, user.id) is None
