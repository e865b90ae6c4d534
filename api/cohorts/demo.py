"""Demo cohorts for `cadre demo` (development only): an upcoming cohort on every live programme, starting
on a Monday a few weeks ahead, the demo coach facilitating ACX Master's, CPP Champion's nearly full.
Idempotent: a programme that already has an upcoming cohort gets none."""

from __future__ import annotations

from datetime import date, timedelta

from sqlmodel import Session

from api.accounts.models import User
from api.cohorts import service
from api.cohorts.models import Seat, SeatStatus
from api.core.db import utcnow

ZONES = {"acxm": "Europe/London", "acxc": "Europe/London", "acx-mentor": "America/New_York", "cppm": "Europe/London",
         "cppc": "Asia/Dubai", "coim": "Europe/London", "oiv": "America/New_York", "cpp": "Europe/London"}
NEARLY_FULL = "cppc"


def _monday(weeks: int) -> date:
    today = utcnow().date()
    return today + timedelta(days=7 - today.weekday() + 7 * weeks)


def seed(session: Session, people: dict[str, User]) -> list[str]:
    lines: list[str] = []
    coach = people.get("coach")
    for i, programme in enumerate(service.live_programmes(session)):
        if service.upcoming_for(session, programme):
            continue
        nearly_full = programme.slug == NEARLY_FULL and "employer" in people
        cohort = service.create_cohort(
            session, programme_slug=programme.slug, starts_on=_monday(6 + i % 3),
            time_zone=ZONES.get(programme.slug, "Europe/London"), capacity=2 if nearly_full else None,
            facilitator_ids=[coach.id] if coach is not None and programme.slug == "acxm" else [],
            meeting_url="https://meet.example.com/cadre-demo")
        if nearly_full:
            session.add(Seat(cohort_id=cohort.id, programme_id=programme.id, user_id=people["employer"].id,
                             status=SeatStatus.paid.value, note="Demo seat."))
            session.flush()
            service.refresh_status(session, cohort)
        left = cohort.capacity - service.taken(session, cohort.id)
        lines.append(f"Cohort {cohort.title} ({cohort.time_zone}): {left} of {cohort.capacity} seats free"
                     + (", facilitated by the demo coach" if programme.slug == "acxm" and coach else ""))
    return lines
