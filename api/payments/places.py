"""Live programmes sell a seat in a chosen cohort. The cohorts domain owns seats; payments asks it at
the four moments that matter (before a checkout, once the provider's checkout exists, when money lands,
when a checkout closes). Imported when first needed, so payments imports nothing of cohorts at load."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlmodel import Session

from api.catalog.models import DeliveryFormat, Programme

if TYPE_CHECKING:
    from api.accounts.models import User
    from api.payments.models import Order


def sells_seats(programme: Programme) -> bool:
    return programme.format == DeliveryFormat.live_cohort.value and bool(programme.cohort_format)


def precheck(session: Session, user: User, programme: Programme, cohort: str | None):
    """The cohort chosen, checked before anything is written (refuses a full cohort, a second hold)."""
    from api.cohorts import seats

    return seats.precheck(session, user, programme, cohort)


def seat_matches(session: Session, order: Order, cohort) -> bool:
    from api.cohorts import seats

    return seats.order_cohort_id(session, order) == cohort.id


def hold(session: Session, user: User, cohort, order: Order) -> str | None:
    """Hold a seat for the checkout: None when held, else why not (plain data, the caller refuses)."""
    from api.cohorts import seats

    return seats.hold(session, user, cohort, order)


def confirm(session: Session, order: Order) -> bool:
    """Money landed: True when the order has its seat (False: no seat free, the money goes back)."""
    from api.cohorts import seats

    return seats.confirm(session, order)


def closed(session: Session, order: Order) -> None:
    from api.cohorts import seats

    seats.release_for_order(session, order)
