"""Seats in a live cohort: granted by an admin for one cohort, assigned to a member (a paid cohort seat
placed by the cohorts domain, counted against the cohort's capacity), taken back before the member
attends, kept once they have attended a session."""

from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import select

from api.cohorts import attendance
from api.cohorts import service as cohorts_service
from api.cohorts.models import Seat
from api.core.errors import Conflict, Invalid
from api.learning import service as learning_service
from api.organisations import seats
from tests.cohorts.conftest import coim_without_its_prerequisite


@pytest.fixture
def cohort(db):
    with coim_without_its_prerequisite(db, restore=False):
        c = cohorts_service.create_cohort(db, programme_slug="coim", starts_on=date(2027, 3, 1),
                                          time_zone="Europe/London", capacity=1)
        db.commit()
        yield c


def _seat(db, cohort, user) -> Seat | None:
    return db.exec(select(Seat).where(Seat.cohort_id == cohort.id, Seat.user_id == user.id)
                   .order_by(Seat.id.desc())).first()


def test_a_live_programme_needs_a_cohort_for_its_seats(db, team, cohort):
    with pytest.raises(Invalid) as exc:
        seats.grant(db, team.org, seats.programme_by_slug(db, "coim"), 2, team.admin)
    assert exc.value.code == "cohort_required"


def test_a_cohort_seat_is_placed_counted_against_capacity_and_given_back(db, team, cohort):
    coim = seats.programme_by_slug(db, "coim")
    pool = seats.grant(db, team.org, coim, 2, team.admin, cohort=cohort.public_id)
    row = seats.assign(db, team.org, pool, team.membership(db, team.member), team.manager)
    assert _seat(db, cohort, team.member).status == "paid"
    assert learning_service.get_enrolment(db, team.member.id, coim.id).source == "organisation_seat"
    assert cohorts_service.taken(db, cohort.id) == 1
    # The cohort holds one: a second seat from the pool meets the cohort's capacity, and nothing is written.
    with pytest.raises(Conflict) as exc:
        seats.assign(db, team.org, pool, team.membership(db, team.manager), team.owner)
    assert exc.value.code == "cohort_seat_refused" and "is full" in exc.value.message
    seats.take_back(db, team.org, pool, row.id, team.manager)
    assert _seat(db, cohort, team.member).status == "released"
    assert cohorts_service.taken(db, cohort.id) == 0


def test_attending_a_session_makes_the_cohort_seat_the_members(db, team, cohort):
    coim = seats.programme_by_slug(db, "coim")
    pool = seats.grant(db, team.org, coim, 1, team.admin, cohort=cohort.public_id)
    row = seats.assign(db, team.org, pool, team.membership(db, team.member), team.manager)
    first = cohorts_service.sessions_of(db, cohort)[0]
    attendance.mark(db, first, cohort, team.member.id, "absent", team.admin)
    assert not seats.started(db, team.member.id, coim.id)  # absent is not attending
    attendance.mark(db, first, cohort, team.member.id, "present", team.admin)
    assert seats.started(db, team.member.id, coim.id)
    with pytest.raises(Conflict) as exc:
        seats.take_back(db, team.org, pool, row.id, team.manager)
    assert exc.value.code == "seat_started"
