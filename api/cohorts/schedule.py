"""Sessions from a programme's cohort format. Pure functions over dates, times and zones: no database.

A format (content/programmes/*/programme.yaml `cohort_format`) says how sessions run: N consecutive
weekdays, or N weekly sessions, each starting at a wall-clock time for some minutes. The cohort's zone
turns each wall-clock start into a UTC instant, per session, so a weekly cohort that crosses a clock
change keeps 14:00 local (its UTC start moves by an hour). A local time a clock change skips or repeats
is refused with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from api.core.errors import FieldProblems
from api.core.timezones import LocalTimeProblem, local_problem, to_utc


@dataclass
class Planned:
    number: int
    local_date: date
    local_start: time
    minutes: int
    starts_at: datetime
    ends_at: datetime


def parse_time(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


MIN_MINUTES, MAX_MINUTES = 15, 600


def read_session_form(local_date: str, local_start: str, minutes: str) -> tuple[date, time | None, int | None]:
    """A session's date, start and length as an admin types them (start and length may be left empty).
    Every problem is raised at once, per field ("date", "start", "minutes"), in plain words."""
    bad: dict[str, str] = {}
    day = start = length = None
    text = (local_date or "").strip()
    try:
        day = date.fromisoformat(text)
    except ValueError:
        bad["date"] = ("Enter the date of the session." if not text
                       else "Enter the date as year-month-day, such as 2027-03-04.")
    text = (local_start or "").strip()
    if text:
        try:
            start = time.fromisoformat(text)
        except ValueError:
            bad["start"] = "Enter the start time as hours and minutes, such as 09:30."
    text = (minutes or "").strip()
    if text:
        length = int(text) if text.isdigit() else None
        if length is None:
            bad["minutes"] = "Enter the length in whole minutes, such as 90."
        elif not MIN_MINUTES <= length <= MAX_MINUTES:
            bad["minutes"] = f"A session lasts between {MIN_MINUTES} and {MAX_MINUTES} minutes (10 hours)."
    if bad:
        raise FieldProblems(bad, code="bad_minutes" if set(bad) == {"minutes"} else
                            "bad_time" if set(bad) == {"start"} else "bad_date")
    return day, start, length


def session_dates(pattern: str, first: date, count: int) -> list[date]:
    """The local dates: consecutive weekdays from `first` (a weekend start moves to Monday), or the
    same weekday every week."""
    days: list[date] = []
    day = first
    if pattern == "weekly":
        return [first + timedelta(weeks=i) for i in range(count)]
    while len(days) < count:
        if day.weekday() < 5:
            days.append(day)
        day += timedelta(days=1)
    return days


def plan(fmt: dict, first: date, zone_name: str, *, start: time | None = None) -> tuple[list[Planned],
                                                                                        list[LocalTimeProblem]]:
    """Every session of a cohort starting on `first` in `zone_name`, and the problems (times that do not
    exist or happen twice there). The caller refuses when there are problems."""
    at = start or parse_time(fmt["start"])
    out: list[Planned] = []
    problems: list[LocalTimeProblem] = []
    for i, day in enumerate(session_dates(fmt["pattern"], first, int(fmt["sessions"]))):
        problem = local_problem(day, at, zone_name)
        if problem is not None:
            problems.append(problem)
            continue
        begins = to_utc(day, at, zone_name)
        minutes = int(fmt["minutes"])
        out.append(Planned(i + 1, day, at, minutes, begins, begins + timedelta(minutes=minutes)))
    return out, problems


def overlaps(a_start: datetime, a_end: datetime, b_start: datetime, b_end: datetime) -> bool:
    return a_start < b_end and b_start < a_end
