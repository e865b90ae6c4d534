"""Sessions generated from a programme's cohort format, in the cohort's zone: the local time stays put
across a clock change and the UTC instant moves; times a clock change skips or repeats are refused."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from api.cohorts import service
from api.core.errors import Conflict, Invalid
from api.core.timezones import format_instant


def _utc(rows):
    return [r.starts_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M") for r in rows]


def test_a_weekly_london_cohort_across_the_march_change_keeps_14_00_local(db, make_cohort):
    # COIM: 7 weekly sessions of 3 hours at 14:00; British Summer Time starts on 28 March 2027.
    cohort = make_cohort("coim", date(2027, 3, 8), "Europe/London")
    rows = service.sessions_of(db, cohort)
    assert [r.local_start for r in rows] == [time(14, 0)] * 7
    assert _utc(rows) == ["2027-03-08 14:00", "2027-03-15 14:00", "2027-03-22 14:00", "2027-03-29 13:00",
                          "2027-04-05 13:00", "2027-04-12 13:00", "2027-04-19 13:00"]
    assert all((r.ends_at - r.starts_at).total_seconds() == 3 * 3600 for r in rows)
    assert format_instant(rows[3].starts_at, "Europe/London") == "Mon 29 March 2027, 14:00 BST (13:00 UTC)"


def test_a_weekly_london_cohort_across_the_october_change(db, make_cohort):
    cohort = make_cohort("coim", date(2027, 10, 18), "Europe/London")  # GMT again from 31 October
    assert _utc(service.sessions_of(db, cohort))[:4] == ["2027-10-18 13:00", "2027-10-25 13:00", "2027-11-01 14:00",
                                                         "2027-11-08 14:00"]


def test_a_weekly_new_york_cohort_across_the_march_change(db, make_cohort):
    cohort = make_cohort("oiv", date(2027, 3, 1), "America/New_York")  # EDT from 14 March 2027
    rows = service.sessions_of(db, cohort)
    assert len(rows) == 6 and {r.local_start for r in rows} == {time(15, 0)}
    assert _utc(rows)[:3] == ["2027-03-01 20:00", "2027-03-08 20:00", "2027-03-15 19:00"]
    assert format_instant(rows[2].starts_at, "America/New_York") == "Mon 15 March 2027, 15:00 EDT (19:00 UTC)"
    assert format_instant(rows[2].starts_at, "Europe/London") == "Mon 15 March 2027, 19:00 GMT"


def test_a_weekly_new_york_cohort_started_in_october_crosses_its_november_change(db, make_cohort):
    cohort = make_cohort("oiv", date(2027, 10, 25), "America/New_York")  # EST from 7 November 2027
    assert _utc(service.sessions_of(db, cohort))[:3] == ["2027-10-25 19:00", "2027-11-01 19:00", "2027-11-08 20:00"]


def test_consecutive_weekdays_skip_the_weekend(db, make_cohort):
    cohort = make_cohort("acxm", date(2027, 3, 26), "Europe/London")  # a Friday; BST from Sunday 28th
    rows = service.sessions_of(db, cohort)
    assert [r.local_date for r in rows] == [date(2027, 3, 26), date(2027, 3, 29), date(2027, 3, 30), date(2027, 3, 31)]
    assert _utc(rows) == ["2027-03-26 09:00", "2027-03-29 08:00", "2027-03-30 08:00", "2027-03-31 08:00"]
    assert [r.minutes for r in rows] == [300] * 4


@pytest.mark.parametrize(("zone", "day", "at", "code", "words"), [
    ("Europe/London", date(2027, 3, 28), time(1, 30), "nonexistent_time", "does not exist in Europe/London"),
    ("Europe/London", date(2027, 10, 31), time(1, 30), "ambiguous_time", "happens twice in Europe/London"),
    ("America/New_York", date(2027, 3, 14), time(2, 30), "nonexistent_time", "does not exist in America/New_York"),
    ("America/New_York", date(2027, 11, 7), time(1, 30), "ambiguous_time", "happens twice in America/New_York"),
])
def test_local_times_a_clock_change_skips_or_repeats_are_refused(db, zone, day, at, code, words):
    with pytest.raises(Invalid) as err:
        service.create_cohort(db, programme_slug="coim", starts_on=day, time_zone=zone, start_time=at)
    assert err.value.code == code and words in err.value.message


def test_bad_zone_past_start_and_non_live_programme_are_refused(db):
    with pytest.raises(Invalid, match="not a time zone"):
        service.create_cohort(db, programme_slug="coim", starts_on=date(2027, 3, 1), time_zone="Mars/Olympus")
    with pytest.raises(Invalid, match="in the past") as err:
        service.create_cohort(db, programme_slug="coim", starts_on=date(2026, 11, 2), time_zone="Europe/London")
    assert err.value.code == "session_in_past"
    with pytest.raises(Invalid, match="not a live programme"):
        service.create_cohort(db, programme_slug="acxs", starts_on=date(2027, 3, 1), time_zone="Europe/London")


def test_reschedule_refuses_the_past_overlaps_and_skipped_times_then_moves_and_counts_the_change(db, make_cohort):
    cohort = make_cohort("coim", date(2027, 3, 8), "Europe/London")
    first, second = service.sessions_of(db, cohort)[:2]
    with pytest.raises(Invalid, match="in the past"):
        service.reschedule(db, first, cohort, local_date=date(2026, 1, 5), local_start=time(14))
    with pytest.raises(Conflict, match="overlaps Session 2") as err:
        service.reschedule(db, first, cohort, local_date=date(2027, 3, 15), local_start=time(15))
    assert err.value.code == "sessions_overlap"
    with pytest.raises(Invalid, match="does not exist"):
        service.reschedule(db, first, cohort, local_date=date(2027, 3, 28), local_start=time(1, 15))
    service.reschedule(db, first, cohort, local_date=date(2027, 3, 10), local_start=time(9, 30))
    assert (first.sequence, first.starts_at) == (1, datetime(2027, 3, 10, 9, 30, tzinfo=UTC))
    service.cancel_session(db, second, cohort)
    made = service.add_makeup(db, cohort, for_session=second, local_date=date(2027, 3, 17), local_start=time(14),
                              minutes=180)
    assert second.sequence == 1 and made.title == "Make-up for Session 2" and made.number == 8


def test_capacity_cannot_go_below_the_seats_sold(db, make_cohort, make_user, buy_seat):
    cohort = make_cohort("coim", capacity=3)
    buy_seat(make_user(), cohort)
    buy_seat(make_user(), cohort)
    with pytest.raises(Conflict, match="2 seats are already sold") as err:
        service.set_capacity(db, cohort, 1)
    assert err.value.code == "capacity_below_sold"
    assert service.set_capacity(db, cohort, 2).status == "full"
