"""Reminders 24 hours and 1 hour before each session (once each, in the reader's zone), and the admin
pages: creating a cohort with clear refusals, capacity, and the `cadre cohorts` command's service."""

from __future__ import annotations

from datetime import timedelta

from api.accounts.models import Role
from api.cohorts import notices, service
from api.core.db import utcnow


def test_reminders_a_day_and_an_hour_before(db, make_user, make_cohort, buy_seat, mailbox):
    from api.accounts import service as accounts_service

    coach, learner = make_user(roles={Role.coach}), make_user()
    accounts_service.change_time_zone(db, learner, "Asia/Tokyo")
    cohort = make_cohort("coim", facilitator_ids=[coach.id])
    buy_seat(learner, cohort)
    first = service.sessions_of(db, cohort)[0]
    day_before = first.starts_at - timedelta(hours=23, minutes=50)
    assert notices.send_reminders(db, day_before) == 2  # the learner and the facilitator
    assert notices.send_reminders(db, day_before + timedelta(minutes=5)) == 0  # once
    assert notices.send_reminders(db, first.starts_at - timedelta(minutes=55)) == 2
    db.commit()
    subjects = mailbox.subjects(learner.email)
    assert ("Tomorrow: Session 1 of Certified Outside In Master, from 1 March 2027, "
            "Mon 1 March 2027, 23:00 JST (14:00 UTC)") in subjects
    assert any(s.startswith("In an hour: Session 1") for s in subjects)
    assert any("14:00 GMT" in s for s in mailbox.subjects(coach.email))
    assert notices.send_reminders(db, utcnow()) == 0  # nothing within a day now


def test_admin_creates_a_cohort_and_bad_input_is_refused_beside_the_form(db, client, login, browser, make_user):
    admin, coach = make_user(roles={Role.admin}), make_user(roles={Role.coach})
    login(admin.email)
    r = browser.post_form("/admin/cohorts", programme="coim", starts_on="2027-03-28", time_zone="Europe/London",
                          start_time="01:30", capacity="", facilitator="")
    assert r.status_code == 422 and "does not exist in Europe/London" in r.text
    r = browser.post_form("/admin/cohorts", programme="acxm", starts_on="2027-03-01", time_zone="Europe/Londres",
                          capacity="", start_time="", facilitator="")
    assert r.status_code == 422 and "is not a time zone" in r.text and 'value="Europe/Londres"' in r.text
    r = browser.post_form("/admin/cohorts", programme="acxm", starts_on="2027-03-01", time_zone="Europe/London",
                          capacity="8", start_time="", facilitator=coach.email)
    assert r.status_code == 303
    cohort_url = r.headers["location"]
    page = client.get(cohort_url).text
    assert "ACX Master, from 1 March 2027" in page and coach.full_name in page and "8 of 8 seats left" in page
    assert "Mon 1 March 2027, 09:00 GMT" in page
    assert "ACX Master, from 1 March 2027" in client.get("/admin/cohorts").text
    # Learners and coaches may not reach the admin pages.
    login(coach.email)
    assert client.get("/admin/cohorts").status_code == 403


def test_the_json_api_lists_cohorts_to_choose_and_checks_out_with_one(db, client, login, make_user, make_cohort):
    cohort = make_cohort("coim", capacity=5)
    learner = make_user()
    from api.accounts import service as accounts_service

    accounts_service.change_time_zone(db, learner, "America/New_York")
    db.commit()
    [listed] = client.get("/api/v1/cohorts/programmes/coim").json()
    assert listed["id"] == cohort.public_id and listed["seats_left"] == 5 and len(listed["sessions"]) == 7
    assert listed["sessions"][0]["shown"] == "Mon 1 March 2027, 14:00 GMT"
    assert client.get("/api/v1/cohorts/programmes/acxs").status_code == 422  # not a live programme
    login(learner.email)
    assert client.get("/api/v1/cohorts/programmes/coim").json()[0]["sessions"][0]["shown"] == \
        "Mon 1 March 2027, 09:00 EST (14:00 UTC)"
    r = client.post("/api/v1/payments/checkout", json={"programme": "coim", "offer": "full", "cohort": listed["id"]})
    assert r.status_code == 201
    assert client.get("/api/v1/cohorts/programmes/coim").json()[0]["seats_left"] == 4


def test_the_day_ahead_reminder_of_a_session_later_today_says_today():
    from datetime import UTC, datetime

    evening = datetime(2027, 3, 1, 19, 0, tzinfo=UTC)
    morning = datetime(2027, 3, 1, 8, 0, tzinfo=UTC)
    assert notices.reminder_lead(morning, evening, "Europe/London", soon=False) == "Today"
    assert notices.reminder_lead(morning, evening, "Asia/Tokyo", soon=False) == "Tomorrow"  # 04:00 on 2 March there
    assert notices.reminder_lead(evening - timedelta(hours=23), evening, "Europe/London", soon=False) == "Tomorrow"
    assert notices.reminder_lead(evening - timedelta(minutes=50), evening, "Europe/London", soon=True) == "In an hour"
