"""Cancelling a cohort: every session is cancelled (calendars get STATUS:CANCELLED, learners an email),
and every learner with a paid seat is either moved to another cohort (their payment and instalment plan
unchanged) or refunded in full through payments' refund path (which ends any plan and emails them)."""

from __future__ import annotations

from sqlmodel import Session, select

from api.accounts.models import User
from api.cohorts import notices, seats, service
from api.cohorts.models import Cohort, CohortStatus, Seat, SeatStatus, SessionStatus
from api.core.db import utcnow
from api.core.errors import Conflict


def cancel_cohort(session: Session, cohort: Cohort, *, by: User, move_to: Cohort | None = None) -> dict[str, int]:
    from api.payments import service as payments_service
    from api.payments.models import Order

    if cohort.status in (CohortStatus.cancelled.value, CohortStatus.finished.value):
        raise Conflict(f"{cohort.title} is already {cohort.status}.", code="bad_status")
    if move_to is not None and (move_to.programme_id != cohort.programme_id or move_to.id == cohort.id):
        raise Conflict("Learners can only be moved to another cohort of the same programme.", code="bad_transfer")
    paid = list(session.exec(select(Seat).where(Seat.cohort_id == cohort.id, Seat.status == SeatStatus.paid.value)))
    if move_to is not None and service.taken(session, move_to.id) + len(paid) > move_to.capacity:
        raise Conflict(f"{move_to.title} has room for fewer than {len(paid)} learners: raise its capacity first.",
                       code="cohort_full")
    moved = refunded = 0
    for seat in paid:
        if move_to is not None:
            seats.transfer(session, seat, move_to, note=f"Moved when {cohort.title} was cancelled.")
            moved += 1
            continue
        order = session.get(Order, seat.order_id) if seat.order_id else None
        if order is not None and any(p.status == "paid" for p in payments_service.payments_of(session, order)):
            payments_service.refund(session, order, amount=None, by=by,
                                    reason=f"Refunded in full: {cohort.title} was cancelled.")
        seat.status, seat.note, seat.updated_at = SeatStatus.refunded.value, "Cohort cancelled.", utcnow()
        session.add(seat)
        refunded += 1
    session.flush()
    for row in service.sessions_of(session, cohort):
        if row.status == SessionStatus.scheduled.value:
            service.cancel_session(session, row, cohort, notify=False)
    cohort.status, cohort.cancelled_at, cohort.updated_at = CohortStatus.cancelled.value, utcnow(), utcnow()
    session.add(cohort)
    session.flush()
    service.public_changed(session)
    notices.cohort_cancelled(session, cohort, by=by, moved_to=move_to)
    return {"moved": moved, "refunded": refunded}
