"""Deadlines: instants in UTC, each with the IANA zone it was set in; shown in the viewer's zone."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

DEFAULT_ZONE = "Europe/London"  # the body's home zone, used until a person has chosen theirs


def valid_zone(name: str | None) -> str | None:
    if not name:
        return None
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None
    return name


def zone_of(*candidates: str | None) -> str:
    """The first valid zone among `candidates` (a person's own choice first), else DEFAULT_ZONE.
    Hook: when accounts stores a person's zone, pass it first here."""
    for c in candidates:
        if valid_zone(c):
            return c  # type: ignore[return-value]
    return DEFAULT_ZONE


def add_working_days(start: datetime, days: int, zone: str = DEFAULT_ZONE) -> datetime:
    """`days` working days (Monday to Friday) after `start`, at the same wall-clock time in `zone`."""
    local = start.astimezone(ZoneInfo(zone))
    added = 0
    while added < days:
        local = local + timedelta(days=1)
        if local.weekday() < 5:
            added += 1
    return local.replace(tzinfo=ZoneInfo(zone)).astimezone(start.tzinfo)


def end_of_day_after(start: datetime, days: int, zone: str) -> datetime:
    """23:59 in `zone` on the day `days` after `start`: a deadline a person reads as a date."""
    local = (start.astimezone(ZoneInfo(zone)) + timedelta(days=days)).replace(hour=23, minute=59, second=0,
                                                                                 microsecond=0)
    return local.astimezone(start.tzinfo)


def show(moment: datetime | None, zone: str | None) -> str:
    """'Friday 4 December 2026, 17:00 (Europe/London)'."""
    if moment is None:
        return ""
    z = zone_of(zone)
    return f"{moment.astimezone(ZoneInfo(z)):%A %-d %B %Y, %H:%M} ({z})"


def common_zones() -> list[str]:
    return sorted(z for z in available_timezones() if "/" in z and not z.startswith(("Etc/", "SystemV/", "posix/",
                                                                                     "right/")))
