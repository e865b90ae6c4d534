"""Recordings: a link or an uploaded file (checked by its content, kept through storage), visible to the
cohort's learners from the session until its window closes; opening one is recorded (it can make up a
missed session); strangers get 404."""

from __future__ import annotations

from datetime import timedelta

from api.accounts.models import Role
from api.cohorts import service
from api.core.db import utcnow
from tests.conftest import csrf_from

MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00" * 200


def _past(db, row, days: int = 1):
    row.starts_at = utcnow() - timedelta(days=days, hours=3)
    row.ends_at = row.starts_at + timedelta(hours=3)
    db.add(row)
    db.commit()


def test_an_uploaded_recording_streams_to_the_cohort_only(db, client, login, make_user, make_cohort, buy_seat):
    coach, learner, stranger = make_user(roles={Role.coach}), make_user(), make_user()
    cohort = make_cohort("coim", facilitator_ids=[coach.id])
    buy_seat(learner, cohort)
    row = service.sessions_of(db, cohort)[0]
    page = f"/cohorts/{cohort.public_id}"
    login(coach.email)
    _past(db, row)
    token = csrf_from(client.get(page).text)
    r = client.post(f"{page}/sessions/{row.uid}/recording-file", data={"csrf_token": token},
                    files={"file": ("notes.mp4", b"just text, not a video", "video/mp4")}, follow_redirects=False)
    assert r.status_code == 303 and "Recording not saved" in client.get(page).text
    r = client.post(f"{page}/sessions/{row.uid}/recording-file", data={"csrf_token": token},
                    files={"file": ("Day 1 <b>.mp4", MP4, "video/mp4")}, follow_redirects=False)
    assert r.status_code == 303
    db.refresh(row)
    assert row.recording_key and row.recording_type == "video/mp4"

    login(learner.email)
    assert "Watch the recording of session 1" in client.get(page).text
    r = client.get(f"/cohorts/sessions/{row.uid}/recording")
    assert r.status_code == 200 and r.content == MP4 and r.headers["content-type"] == "video/mp4"
    login(stranger.email)
    assert client.get(f"/cohorts/sessions/{row.uid}/recording").status_code == 404

    # After the window (60 days for COIM) it is gone from the learners' page.
    _past(db, row, days=61)
    login(learner.email)
    assert "Watch the recording" not in client.get(page).text
    assert client.get(f"/cohorts/sessions/{row.uid}/recording").status_code == 404
