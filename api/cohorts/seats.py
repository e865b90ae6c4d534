"""Seats: what a checkout for a live programme holds, and what a payment confirms. Flushes, never commits.

Capacity counts paid seats, holds whose checkout has not expired, and seats kept for a waitlist offer
(service.taken). Every seat is taken under the cohort's row lock (`SELECT ... FOR UPDATE`), counted
again there, so 40 buyers at once of a 10-seat cohort get exactly 10; the provider's checkout is made
before the lock and closed again when the seat was lost (payments.service._hold_seat). One live seat per
learner and programme is a partial unique index (uq_seat_live): a second hold meets it.

A payment that lands after its hold expired gets a seat if one is free; otherwise the order is marked
and an event asks the worker to refund it (no provider call while the cohort is locked).
"""

from __future__ import annotations

from sqlmodel import Session, col, select

from api.accounts.models import User
from api.catalog.models import Programme
from api.cohorts import service
from api.cohorts.models import Cohort, CohortStatus, Seat, SeatStatus, WaitlistEntry, WaitStatus
from api.core import email as mail
from api.core.db import utcnow
from api.core.errors import Conflict, Invalid, NotFound
from api.core.integrity import flush_unique
from api.core.timezones import format_instant
from api.outbox import service as outbox

SEAT_UNAVAILABLE = "seat.unavailable"  # consumed by refund_late_payment


class SecondHold(Conflict):
    code = "second_hold"


def _live_seat(session: Session, user_id: int, programme_id: int) -> Seat | None:
    return session.exec(select(Seat).where(Seat.user_id == user_id, Seat.programme_id == programme_id,
                                           col(Seat.status).in_((SeatStatus.held.value, SeatStatus.paid.value)))
                        .execution_options(populate_existing=True)).first()


def order_cohort_id(session: Session, order) -> int | None:
    seat = session.exec(select(Seat).where(Seat.order_id == order.id)).first()
    return seat.cohort_id if seat else None


def precheck(session: Session, user: User, programme: Programme, cohort_public_id: str | None) -> Cohort:
    """Checks before a checkout is written (no lock: the hold counts again under it)."""
    if not cohort_public_id:
        raise Invalid(f"{programme.display_title} runs as live cohorts: choose a cohort on the programme page.",
                      code="cohort_required")
    try:
        cohort = service.get_cohort(session, cohort_public_id)
    except NotFound:
        raise Invalid("That cohort does not exist (any more): choose another on the programme page.",
                      code="cohort_not_found") from None
    if cohort.programme_id != programme.id:
        raise Invalid("That cohort belongs to another programme.", code="cohort_not_found")
    now = utcnow()
    if cohort.status not in (CohortStatus.open.value, CohortStatus.full.value) or (
            cohort.enrolment_closes_at is not None and cohort.enrolment_closes_at <= now):
        raise Conflict(f"{cohort.title} is not taking enrolments: choose another cohort.", code="cohort_closed")
    seat = _live_seat(session, user.id, programme.id)
    if seat is not None and seat.cohort_id != cohort.id and seat.status == SeatStatus.held.value and (
            seat.hold_expires_at and seat.hold_expires_at > now):
        other = session.get(Cohort, seat.cohort_id)
        raise SecondHold(f"You are already holding a seat in {other.title} until "
                         f"{format_instant(seat.hold_expires_at, user.time_zone)}. Finish or cancel that checkout "
                         "(see /billing) before choosing another cohort.")
    if service.taken(session, cohort.id, now, except_user=user.id) - (1 if _holds_here(seat, cohort, now) else 0) \
            >= cohort.capacity:
        raise Conflict(f"{cohort.title} is full. Join its waitlist and we will email you if a seat comes free.",
                       code="cohort_full")
    return cohort


def _holds_here(seat: Seat | None, cohort: Cohort, now) -> bool:
    return seat is not None and seat.cohort_id == cohort.id and seat.status == SeatStatus.held.value and \
        seat.hold_expires_at is not None and seat.hold_expires_at > now


def hold(session: Session, user: User, cohort: Cohort, order) -> str | None:
    """Hold a seat for `order` until its checkout expires. None when held, else why not (plain data)."""
    now = utcnow()
    cohort = service.lock_cohort(session, cohort.id)
    seat = _live_seat(session, user.id, cohort.programme_id)
    if seat is not None and seat.cohort_id == cohort.id and seat.status == SeatStatus.held.value:
        seat.order_id, seat.hold_expires_at, seat.updated_at = order.id, order.expires_at, now  # a replaced checkout
        session.add(seat)
        session.flush()
        return None
    if seat is not None and seat.status == SeatStatus.held.value and (
            seat.hold_expires_at is None or seat.hold_expires_at <= now):
        seat.status, seat.note, seat.updated_at = SeatStatus.released.value, "Hold expired.", now
        session.add(seat)
        session.flush()
        seat = None
    if seat is not None:
        return "You already have a seat for this programme." if seat.status == SeatStatus.paid.value else \
            "You are already holding a seat in another cohort: finish or cancel that checkout first."
    if service.taken(session, cohort.id, now, except_user=user.id) >= cohort.capacity:
        return f"{cohort.title} has just filled up. Join its waitlist and we will email you if a seat comes free."
    row = Seat(cohort_id=cohort.id, programme_id=cohort.programme_id, user_id=user.id, order_id=order.id,
               hold_expires_at=order.expires_at)
    if not flush_unique(session, row):
        return "You are already holding a seat in another cohort: finish or cancel that checkout first."
    _offer_taken(session, cohort, user.id)
    service.refresh_status(session, cohort, now)
    return None


def place_funded(session: Session, cohort_id: int, user_id: int, note: str) -> str | None:
    """Asked by organisations: a seat its pool pays for, given to a member. Taken under the cohort's row
    lock like any other, counted against capacity. None when placed, else why not (plain data)."""
    now = utcnow()
    cohort = service.lock_cohort(session, cohort_id)
    if cohort.status in (CohortStatus.cancelled.value, CohortStatus.finished.value):
        return f"{cohort.title} is {cohort.status}: choose another cohort."
    if _live_seat(session, user_id, cohort.programme_id) is not None:
        return "That member already has (or is holding) a seat in a cohort of this programme."
    if service.taken(session, cohort.id, now, except_user=user_id) >= cohort.capacity:
        return f"{cohort.title} is full: no seat can be given in it."
    row = Seat(cohort_id=cohort.id, programme_id=cohort.programme_id, user_id=user_id,
               status=SeatStatus.paid.value, note=note)
    if not flush_unique(session, row):
        return "That member already has (or is holding) a seat in a cohort of this programme."
    _offer_taken(session, cohort, user_id)
    service.refresh_status(session, cohort, now)
    return None


def release_funded(session: Session, cohort_id: int, user_id: int, note: str) -> None:
    """Asked by organisations: the seat it gave this member was taken back (before they started)."""
    seat = session.exec(select(Seat).where(Seat.cohort_id == cohort_id, Seat.user_id == user_id,
                                           Seat.status == SeatStatus.paid.value, col(Seat.order_id).is_(None))
                        .execution_options(populate_existing=True)).first()
    if seat is None:
        return
    now = utcnow()
    seat.status, seat.note, seat.updated_at = SeatStatus.released.value, note, now
    session.add(seat)
    session.flush()
    service.refresh_status(session, session.get(Cohort, cohort_id), now)


def _offer_taken(session: Session, cohort: Cohort, user_id: int) -> None:
    for entry in session.exec(select(WaitlistEntry).where(
            WaitlistEntry.cohort_id == cohort.id, WaitlistEntry.user_id == user_id,
            col(WaitlistEntry.status).in_((WaitStatus.waiting.value, WaitStatus.offered.value)))):
        entry.status = WaitStatus.taken.value
        session.add(entry)
    session.flush()


def confirm(session: Session, order) -> bool:
    """Money landed for `order`. True when it has a seat (or sells none); False when its hold ran out and
    the cohort has filled since: the order is marked and the worker refunds it (SEAT_UNAVAILABLE)."""
    seat = session.exec(select(Seat).where(Seat.order_id == order.id)
                        .execution_options(populate_existing=True)).first()
    if seat is None:
        return True  # not a live programme (or bought before cohorts existed)
    if seat.status == SeatStatus.paid.value:
        return True
    if seat.status == SeatStatus.refunded.value:
        return False
    now = utcnow()
    cohort = service.lock_cohort(session, seat.cohort_id)
    session.refresh(seat)
    holding = seat.status == SeatStatus.held.value and seat.hold_expires_at is not None and seat.hold_expires_at > now
    other = _live_seat(session, seat.user_id, seat.programme_id)
    room = cohort.status not in (CohortStatus.cancelled.value, CohortStatus.finished.value) and (
        holding or service.taken(session, cohort.id, now, except_user=seat.user_id) < cohort.capacity)
    if room and (other is None or other.id == seat.id):
        seat.status, seat.hold_expires_at, seat.updated_at = SeatStatus.paid.value, None, now
        seat.note = None if holding else "Paid after the hold expired; a seat was still free."
        session.add(seat)
        session.flush()
        _offer_taken(session, cohort, seat.user_id)
        service.refresh_status(session, cohort, now)
        return True
    seat.status, seat.updated_at = SeatStatus.refunded.value, now
    seat.note = "Paid after the hold expired and the cohort was full: refunded."
    session.add(seat)
    session.flush()
    outbox.publish(session, SEAT_UNAVAILABLE, f"order:{order.id}", {"order_id": order.id, "cohort_id": cohort.id})
    return False


def refund_late_payment(session: Session, payload: dict) -> None:
    """The worker's side of a late payment into a full cohort: give the money back (payments' own path,
    which stops any plan, records the reason and emails the learner)."""
    from api.payments import lifecycle
    from api.payments.models import Order, OrderStatus
    from api.payments.providers import get_provider

    order = session.exec(select(Order).where(Order.id == payload["order_id"]).with_for_update()
                         .execution_options(populate_existing=True)).first()
    cohort = session.get(Cohort, payload["cohort_id"])
    if order is None or order.status != OrderStatus.paid.value:
        return
    lifecycle.refund_duplicate(session, order, get_provider(), reason=(
        f"Refunded automatically: the payment arrived after the seat hold in {cohort.title} had expired, and "
        "the cohort had filled up meanwhile."))
    user = session.get(User, order.user_id)
    mail.send_template(session, user.email, "cohorts/late_payment_refunded", key=f"late-payment:{order.id}",
                       name=user.full_name, order=order, cohort=cohort,
                       programme=session.get(Programme, cohort.programme_id))


def release_for_order(session: Session, order) -> None:
    """The checkout closed (expired, failed, replaced) or the order was refunded in full: its seat is free."""
    from api.payments.models import OrderStatus

    seat = session.exec(select(Seat).where(Seat.order_id == order.id)
                        .execution_options(populate_existing=True)).first()
    if seat is None:
        return
    now = utcnow()
    if seat.status == SeatStatus.held.value:
        seat.status, seat.note = SeatStatus.released.value, order.status_note or "Checkout closed."
    elif seat.status == SeatStatus.paid.value and order.status == OrderStatus.refunded.value:
        seat.status, seat.note = SeatStatus.refunded.value, "Refunded in full."
    else:
        return
    seat.updated_at = now
    session.add(seat)
    session.flush()
    cohort = session.get(Cohort, seat.cohort_id)
    service.refresh_status(session, cohort, now)


def expire_holds(session: Session, now=None) -> int:
    """Holds past their expiry are released (their checkouts close through payments' sweep too)."""
    now = now or utcnow()
    stale = session.exec(select(Seat).where(Seat.status == SeatStatus.held.value,
                                            col(Seat.hold_expires_at) <= now)).all()
    for seat in stale:
        seat.status, seat.note, seat.updated_at = SeatStatus.released.value, "Hold expired.", now
        session.add(seat)
    session.flush()
    for cohort_id in {s.cohort_id for s in stale}:
        service.refresh_status(session, session.get(Cohort, cohort_id), now)
    return len(stale)


def transfer(session: Session, seat: Seat, to: Cohort, *, note: str) -> Seat:
    """Move a paid seat to another cohort of the same programme. The order, its payments and any
    instalment plan stay exactly as they are: only the seat moves."""
    if to.programme_id != seat.programme_id:
        raise Invalid("A seat moves only to a cohort of the same programme.", code="bad_transfer")
    if to.id == seat.cohort_id:
        raise Conflict("The learner is already in that cohort.", code="bad_transfer")
    if to.status not in (CohortStatus.open.value, CohortStatus.full.value, CohortStatus.closed.value):
        raise Conflict(f"{to.title} is not taking learners.", code="cohort_closed")
    target = service.lock_cohort(session, to.id)
    if service.taken(session, target.id, except_user=seat.user_id) >= target.capacity:
        raise Conflict(f"{target.title} is full: raise its capacity or choose another cohort.", code="cohort_full")
    source = session.get(Cohort, seat.cohort_id)
    seat.cohort_id, seat.note, seat.updated_at = target.id, note, utcnow()
    session.add(seat)
    session.flush()
    service.refresh_status(session, target)
    service.refresh_status(session, source)
    from api.cohorts import notices

    notices.transferred(session, seat, source, target)
    return seat
