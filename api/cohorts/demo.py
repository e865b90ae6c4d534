"""Demo cohorts for `cadre demo` (development only): an upcoming cohort on every live programme, starting
on a Monday a few weeks ahead, the demo coach facilitating ACX Master's, CPP Champion's nearly full; and
an ACX Master cohort the demo coach is running now (its first session yesterday, or on the last weekday
before), with two demo learners in it, so attendance can be taken. Idempotent: a programme that already
has an upcoming cohort gets none, and the running cohort is made once."""

from __future__ import annotations

from datetime import date, timedelta

from sqlmodel import Session

from api.accounts import service as accounts_service
from api.accounts.models import User
from api.accounts.schemas import UserCreate
from api.cohorts import seats, service
from api.cohorts.models import Cohort, CohortStatus, Seat, SeatStatus
from api.core.db import utcnow
from api.demo.people import demo_password

ZONES = {"acxm": "Europe/London", "acxc": "Europe/London", "acx-mentor": "America/New_York", "cppm": "Europe/London",
         "cppc": "Asia/Dubai", "coim": "Europe/London", "oiv": "America/New_York", "cpp": "Europe/London"}
NEARLY_FULL = "cppc"


def _monday(weeks: int) -> date:
    today = utcnow().date()
    return today + timedelta(days=7 - today.weekday() + 7 * weeks)


def seed(session: Session, people: dict[str, User]) -> list[str]:
    """The upcoming cohorts, found or made: the same lines every run."""
    lines: list[str] = []
    coach = people.get("coach")
    for i, programme in enumerate(service.live_programmes(session)):
        upcoming = service.upcoming_for(session, programme)
        cohort = upcoming[0].cohort if upcoming else _create_upcoming(session, people, programme, i)
        left = cohort.capacity - service.taken(session, cohort.id)
        run_by_coach = coach is not None and service.is_facilitator(session, cohort, coach.id)
        lines.append(f"Cohort {cohort.title} ({cohort.time_zone}): {left} of {cohort.capacity} seats free"
                     + (", facilitated by the demo coach" if run_by_coach else ""))
    return lines + _running(session, coach)


def _create_upcoming(session: Session, people: dict[str, User], programme, i: int) -> Cohort:
    coach = people.get("coach")
    nearly_full = programme.slug == NEARLY_FULL and "employer" in people
    cohort = service.create_cohort(
        session, programme_slug=programme.slug, starts_on=_monday(6 + i % 3),
        time_zone=ZONES.get(programme.slug, "Europe/London"), capacity=2 if nearly_full else None,
        facilitator_ids=[coach.id] if coach is not None and programme.slug == RUN_BY_COACH else [],
        meeting_url="https://meet.example.com/cadre-demo")
    if nearly_full:
        session.add(Seat(cohort_id=cohort.id, programme_id=programme.id, user_id=people["employer"].id,
                         status=SeatStatus.paid.value, note="Demo seat."))
        session.flush()
        service.refresh_status(session, cohort)
    return cohort


# The cohort the demo coach is running: ACX Master, with these demo learners in it (made if missing; the
# organisations seed makes them members of the employer's organisation).
RUN_BY_COACH = "acxm"
RUNNING_LEARNERS = [("sam.lee@example.com", "Sam Lee"), ("jo.bright@example.com", "Jo Bright")]


def _first_day_past() -> date:
    """The last weekday before today: the running cohort's first session has happened."""
    day = utcnow().date() - timedelta(days=1)
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return day


def _running(session: Session, coach: User | None) -> list[str]:
    if coach is None:
        return []
    programme = service.live_programme(session, RUN_BY_COACH)
    cohort = next((c for c in service.cohorts_facilitated(session, coach.id)
                   if c.programme_id == programme.id and c.status == CohortStatus.running.value), None)
    if cohort is None:
        # Booked from three weeks ago (the service's `now`): its first session is past, so it runs.
        cohort = service.create_cohort(
            session, programme_slug=programme.slug, starts_on=_first_day_past(), time_zone="Europe/London",
            facilitator_ids=[coach.id], meeting_url="https://meet.example.com/cadre-demo-running",
            status=CohortStatus.closed.value, now=utcnow() - timedelta(days=21))
        service.set_status(session, cohort, CohortStatus.running.value)
    names = []
    for email, name in RUNNING_LEARNERS:
        user = accounts_service.get_by_email(session, email)
        if user is None:
            user = accounts_service.create_user(session, UserCreate(email=email, full_name=name,
                                                                    password=demo_password(email)), verified=True)
        if service.seat_of(session, cohort, user.id) is None:
            problem = seats.place_funded(session, cohort.id, user.id, note="Demo seat.")
            if problem:
                names.append(f"{name} (no seat: {problem})")
                continue
        names.append(name)
    return [f"Cohort {cohort.title} ({cohort.time_zone}): running, facilitated by the demo coach, with "
            f"{' and '.join(names)}; take attendance at /cohorts/{cohort.public_id}"]
