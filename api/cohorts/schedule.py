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
