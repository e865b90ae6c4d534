"""Administrators' view of a cohort's seats, and moving a learner to another cohort."""

from __future__ import annotations

from sqlmodel import Session, col, select

from api.accounts.models import User
from api.cohorts import seats
from api.cohorts.models import Cohort, Seat, SeatStatus
from api.core.errors import NotFound


def seats_of(session: Session, cohort: Cohort) -> list[tuple[Seat, User]]:
    """Paid and held seats (a cohort's seats are bounded by its capacity)."""
    return list(session.exec(select(Seat, User).join(User, col(User.id) == col(Seat.user_id)).where(
        Seat.cohort_id == cohort.id, col(Seat.status).in_((SeatStatus.paid.value, SeatStatus.held.value)))
        .order_by(col(Seat.status).desc(), col(User.full_name))).all())


def transfer(session: Session, cohort: Cohort, seat_id: int, to: Cohort, by: User) -> Seat:
    seat = session.get(Seat, seat_id)
    if seat is None or seat.cohort_id != cohort.id or seat.status != SeatStatus.paid.value:
        raise NotFound("That learner has no paid seat in this cohort.", code="seat_not_found")
    return seats.transfer(session, seat, to, note=f"Moved from {cohort.title} by {by.full_name}.")
