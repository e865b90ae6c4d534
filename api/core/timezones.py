"""Time zones: instants are stored in UTC; schedules are wall-clock time plus an IANA zone; people see
instants in their own zone with the zone named. One formatter for pages and emails (`format_instant`),
one converter from wall-clock time to UTC that refuses times a clock change skips or repeats."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

DEFAULT_ZONE = "Europe/London"


@cache
def all_zones() -> list[str]:
    return sorted(z for z in available_timezones() if "/" in z and not z.startswith(("Etc/", "SystemV/"))) + ["UTC"]


def is_zone(name: str | None) -> bool:
    if not name or len(name) > 64 or name not in set(all_zones()):
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def zone(name: str | None) -> ZoneInfo:
    return ZoneInfo(name if is_zone(name) else DEFAULT_ZONE)


@dataclass
class LocalTimeProblem:
    """Why a wall-clock time cannot be used in its zone (plain data: the caller decides to refuse)."""

    kind: str  # nonexistent | ambiguous
    message: str


def local_problem(day: date, at: time, zone_name: str) -> LocalTimeProblem | None:
    """A wall-clock time that does not exist (clocks spring forward over it) or occurs twice (clocks
    fall back over it) in `zone_name` on `day`."""
    tz = ZoneInfo(zone_name)
    naive = datetime.combine(day, at)
    early, late = naive.replace(tzinfo=tz, fold=0), naive.replace(tzinfo=tz, fold=1)
    back = early.astimezone(UTC).astimezone(tz).replace(tzinfo=None)
    if back != naive:
        return LocalTimeProblem("nonexistent", f"{at:%H:%M} on {day:%-d %B %Y} does not exist in {zone_name}: the "
                                               "clocks go forward over it. Choose another time.")
    if early.utcoffset() != late.utcoffset():
        return LocalTimeProblem("ambiguous", f"{at:%H:%M} on {day:%-d %B %Y} happens twice in {zone_name}: the "
                                             "clocks go back over it. Choose another time.")
    return None


def to_utc(day: date, at: time, zone_name: str) -> datetime:
    """The UTC instant of a wall-clock time in its zone (callers check `local_problem` first)."""
    return datetime.combine(day, at).replace(tzinfo=ZoneInfo(zone_name)).astimezone(UTC)


def format_instant(value: datetime | None, zone_name: str | None = None, *, with_utc: bool = True,
                   with_date: bool = True) -> str:
    """ "Tue 8 September 2026, 10:00 BST (09:00 UTC)": the instant in the viewer's zone, the zone named,
    and UTC beside it (left out when the viewer's zone is UTC). The date as every page writes one, with
    its weekday (a session's day matters)."""
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    local = value.astimezone(zone(zone_name))
    name = local.tzname() or zone_name or "UTC"
    if name.startswith(("+", "-")):  # zones without an abbreviation: "UTC+04"
        name = f"UTC{name}"
    text = (f"{local:%a %-d %B %Y}, " if with_date else "") + f"{local:%H:%M} {name}"
    utc = value.astimezone(UTC)
    if with_utc and (local.utcoffset() != timedelta(0) or name not in ("UTC", "GMT")):
        day = "" if utc.date() == local.date() or not with_date else f"{utc:%a %-d %B %Y}, "
        text += f" ({day}{utc:%H:%M} UTC)"
    return text


def format_range(start: datetime, end: datetime, zone_name: str | None = None) -> str:
    """ "Tue 8 September 2026, 10:00–15:00 BST (09:00–14:00 UTC)"."""
    tz = zone(zone_name)
    ls, le = start.astimezone(tz), end.astimezone(tz)
    us, ue = start.astimezone(UTC), end.astimezone(UTC)
    name = ls.tzname() or "UTC"
    if name.startswith(("+", "-")):
        name = f"UTC{name}"
    text = f"{ls:%a %-d %B %Y}, {ls:%H:%M}–{le:%H:%M} {name}"
    if ls.utcoffset() != timedelta(0) or name not in ("UTC", "GMT"):
        text += f" ({us:%H:%M}–{ue:%H:%M} UTC)"
    return text
