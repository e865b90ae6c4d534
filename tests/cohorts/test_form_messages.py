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
