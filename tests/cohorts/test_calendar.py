"""Calendars parsed back with icalendar: a stable UID per session, SEQUENCE that grows with every
change, TZID with its VTIMEZONE, STATUS:CANCELLED; private feeds that can be revoked and not guessed."""

from __future__ import annotations

from datetime import date, time
from zoneinfo import ZoneInfo

from icalendar import Calendar

from api.cohorts import calendar, service


def _events(body: bytes):
    cal = Calendar.from_ical(body)
    return cal, [c for c in cal.walk("VEVENT")]


def test_a_session_download_round_trips_with_its_zone(db, client, login, make_user, make_cohort, buy_seat):
    learner = make_user()
    cohort = make_cohort("coim", date(2027, 3, 8), "Europe/London")
    buy_seat(learner, cohort)
    login(learner.email)
    rows = service.sessions_of(db, cohort)
    r = client.get(f"/cohorts/sessions/{rows[3].uid}.ics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/calendar")
    cal, [event] = _events(r.content)
    assert str(event["UID"]) == f"{rows[3].uid}@cadre" and int(event["SEQUENCE"]) == 0
    start = event.decoded("DTSTART")
    assert start.tzinfo is not None and str(event["DTSTART"].params["TZID"]) == "Europe/London"
    assert (start.hour, start.minute) == (14, 0) and start.utcoffset().total_seconds() == 3600  # BST
    [tz] = cal.walk("VTIMEZONE")
    assert str(tz["TZID"]) == "Europe/London"
    assert len(r.content) < 4000  # the VTIMEZONE covers only the sessions' years


def test_the_feed_keeps_uids_grows_sequence_and_marks_cancelled(db, client, login, make_user, make_cohort,
                                                               buy_seat, mailbox):
    learner = make_user()
    cohort = make_cohort("oiv", date(2027, 3, 1), "America/New_York")
    buy_seat(learner, cohort, slug="oiv")
    token = calendar.new_feed(db, learner)
    db.commit()
    _, before = _events(client.get(f"/calendar/{token}.ics").content)
    uids = [str(e["UID"]) for e in before]
    assert len(uids) == 6 and len(set(uids)) == 6

    rows = service.sessions_of(db, cohort)
    service.reschedule(db, rows[0], cohort, local_date=date(2027, 3, 2), local_start=time(16))
    service.reschedule(db, rows[0], cohort, local_date=date(2027, 3, 2), local_start=time(17))
    service.cancel_session(db, rows[1], cohort)
    db.commit()
    cal, after = _events(client.get(f"/calendar/{token}.ics").content)
    by_uid = {str(e["UID"]): e for e in after}
    assert list(by_uid) == uids  # same events, same UIDs
    moved, cancelled = by_uid[uids[0]], by_uid[uids[1]]
    assert int(moved["SEQUENCE"]) == 2 and moved.decoded("DTSTART").hour == 17
    assert str(moved["DTSTART"].params["TZID"]) == "America/New_York"
    assert str(cancelled["STATUS"]) == "CANCELLED" and int(cancelled["SEQUENCE"]) == 1
    assert [str(t["TZID"]) for t in cal.walk("VTIMEZONE")] == ["America/New_York"]
    assert moved.decoded("DTSTART").astimezone(ZoneInfo("UTC")).hour == 22  # 17:00 EST
    # Rescheduling and cancelling emailed the learner, in their zone (the site default: London).
    subjects = mailbox.subjects(learner.email)
    assert any(s.startswith("Moved: Session 1") and "22:00 GMT" in s for s in subjects)
    assert any(s.startswith("Cancelled: Session 2") for s in subjects)


def test_a_revoked_or_guessed_feed_address_is_refused(db, client, make_user):
    learner = make_user()
    old = calendar.new_feed(db, learner)
    new = calendar.new_feed(db, learner)
    db.commit()
    assert client.get(f"/calendar/{new}.ics").status_code == 200
    for token in (old, "guessed-token-AAAAAAAAAAAAAAAAAAAA", new[:-1] + ("A" if new[-1] != "A" else "B")):
        r = client.get(f"/calendar/{token}.ics")
        assert r.status_code == 404 and "This calendar address is not valid" in r.text
    calendar.revoke(db, learner)
    db.commit()
    assert client.get(f"/calendar/{new}.ics").status_code == 404


def test_strangers_cannot_download_a_session_or_join_it(db, client, login, make_user, make_cohort):
    cohort = make_cohort("coim")
    row = service.sessions_of(db, cohort)[0]
    login(make_user().email)
    for path in (f"/cohorts/sessions/{row.uid}.ics", f"/cohorts/sessions/{row.uid}/join",
                 f"/cohorts/{cohort.public_id}"):
        assert client.get(path, follow_redirects=False).status_code == 404, path
    assert "not one of your cohort" in client.get(f"/cohorts/sessions/{row.uid}/join").text
