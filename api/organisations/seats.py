"""Seats an organisation holds: credited by a paid order (once per order) or granted by a platform
admin, assigned by a manager to a member (an enrolment with source `organisation_seat`), and taken back
only until the member starts (first lesson completed, a cohort session attended, or work submitted:
asked of learning, cohorts and assessments through their services). Then the seat is theirs.

Under concurrency the pool's row is locked (FOR UPDATE) while its count is read and changed, and the
CHECK constraints (0 <= assigned <= quantity, take-backs within the cap) hold whatever happens.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlmodel import Session, col, select

from api.accounts.models import User
from api.catalog.models import Programme
from api.core.config import get_settings
from api.core.db import utcnow
from api.core.errors import Conflict, Invalid, NotFound
from api.core.integrity import flush_unique
from api.learning import service as learning_service
from api.learning.models import EnrolmentSource
from api.organisations.models import (
    Membership,
    Organisation,
    SeatAssignment,
    SeatCredit,
    SeatCreditSource,
    SeatPool,
    SeatStatus,
)
from api.organisations.service import public_id

log = logging.getLogger("cadre.organisations")


class NoSeatLeft(Conflict):
    code = "no_seat_left"


# --- pools ---------------------------------------------------------------------------------------

def _pool_query(organisation_id: int, programme_id: int, cohort_id: int | None):
    query = select(SeatPool).where(SeatPool.organisation_id == organisation_id, SeatPool.programme_id == programme_id)
    return query.where(SeatPool.cohort_id == cohort_id) if cohort_id else query.where(col(SeatPool.cohort_id).is_(None))


def pool_for(session: Session, org: Organisation, programme: Programme, cohort_id: int | None = None) -> SeatPool:
    """The organisation's pool for the programme (or cohort), made empty when it has none yet."""
    pool = session.exec(_pool_query(org.id, programme.id, cohort_id)).first()
    if pool is not None:
        return pool
    pool = SeatPool(public_id=public_id("pool_"), organisation_id=org.id, programme_id=programme.id,
                    cohort_id=cohort_id, max_take_backs_per_seat=get_settings().org_seat_take_backs)
    if not flush_unique(session, pool):  # made a moment ago by a request alongside
        pool = session.exec(_pool_query(org.id, programme.id, cohort_id)).one()
    return pool


def _lock(session: Session, pool_id: int) -> SeatPool:
    return session.exec(select(SeatPool).where(SeatPool.id == pool_id).with_for_update()
                        .execution_options(populate_existing=True)).one()


def pools_of(session: Session, organisation_id: int) -> list[tuple[SeatPool, Programme]]:
    return list(session.exec(select(SeatPool, Programme).join(Programme, Programme.id == SeatPool.programme_id)
                             .where(SeatPool.organisation_id == organisation_id)
                             .order_by(Programme.code, SeatPool.id)))


def get_pool(session: Session, org: Organisation, pool_public_id: str) -> SeatPool:
    pool = session.exec(select(SeatPool).where(SeatPool.public_id == pool_public_id,
                                               SeatPool.organisation_id == org.id)).first()
    if pool is None:
        raise NotFound("The organisation has no seats at this address.", code="pool_not_found")
    return pool


def credit(session: Session, pool: SeatPool, quantity: int, *, source: SeatCreditSource, order_id: int | None = None,
           by_id: int | None = None, note: str | None = None) -> bool:
    """Add `quantity` seats. A paid order credits once: a second delivery of its payment meets the
    unique order_id and adds nothing (False)."""
    if quantity < 1 or quantity > 10_000:
        raise Invalid("Choose between 1 and 10,000 seats.", code="bad_quantity")
    if not flush_unique(session, SeatCredit(pool_id=pool.id, quantity=quantity, source=source.value,
                                            order_id=order_id, granted_by_id=by_id, note=note)):
        return False
    pool = _lock(session, pool.id)
    pool.quantity += quantity
    pool.updated_at = utcnow()
    session.add(pool)
    session.flush()
    return True


def grant(session: Session, org: Organisation, programme: Programme, quantity: int, by: User,
          note: str | None = None, cohort: str | None = None) -> SeatPool:
    """A platform admin gives an organisation seats (no payment): of a programme, or of one of its cohorts
    (`cohort`, its public id: a live programme's seats are in a cohort)."""
    cohort_id = None
    if cohort:
        from api.cohorts import service as cohorts_service

        found = cohorts_service.get_cohort(session, cohort.strip())
        if found.programme_id != programme.id:
            raise Invalid("That cohort belongs to another programme.", code="cohort_mismatch")
        cohort_id = found.id
    elif places_sells_seats(programme):
        raise Invalid(f"{programme.display_title} runs in live cohorts: say which cohort the seats are in.",
                      code="cohort_required")
    pool = pool_for(session, org, programme, cohort_id)
    credit(session, pool, quantity, source=SeatCreditSource.admin_grant, by_id=by.id, note=note)
    return pool


def places_sells_seats(programme: Programme) -> bool:
    from api.payments import places

    return places.sells_seats(programme)


def cohort_title(session: Session, pool: SeatPool) -> str | None:
    if pool.cohort_id is None:
        return None
    from api.cohorts.models import Cohort

    return session.get(Cohort, pool.cohort_id).title


def credit_order(session: Session, order) -> bool:
    """Money for an organisation's order landed (api/payments/lifecycle.py): its seats join the pool,
    exactly once however often the provider tells us."""
    org = session.get(Organisation, order.organisation_id)
    programme = session.get(Programme, order.programme_id)
    pool = pool_for(session, org, programme)
    added = credit(session, pool, order.quantity, source=SeatCreditSource.order, order_id=order.id,
                   by_id=order.user_id)
    if added:
        from api.organisations import notify

        notify.seats_bought(session, org, pool, programme, order)
    return added


def _order_pool(session: Session, order) -> SeatPool | None:
    row = session.exec(select(SeatCredit).where(SeatCredit.order_id == order.id)).first()
    return session.get(SeatPool, row.pool_id) if row is not None else None


def _removable(pool: SeatPool) -> int:
    """Seats that can leave the pool now: those no member holds."""
    return max(0, pool.quantity - pool.assigned)


def refund_blocker(session: Session, order) -> str | None:
    """Why this organisation's order can't be refunded in full now (its seats are in use), or None. Asked
    by payments before it calls the provider (no lock is held over that call: the refund's confirmation
    takes out what is free then, debit_refunded_order)."""
    pool = _order_pool(session, order)
    if pool is None:
        return None  # never credited: nothing bought is in anyone's hands
    in_use = order.quantity - _removable(pool)
    if in_use > 0:
        return (f"{in_use} of the {order.quantity} seats this order bought are in use by members. Take them back "
                "first (possible until each member starts), or refund part of the amount instead.")
    return None


def debit_refunded_order(session: Session, order) -> int:
    """The order was refunded in full (api/payments/lifecycle.py, once per order): its seats leave the
    pool, as many as are free now under the pool's lock (payments refused the refund while they were in
    use; one assigned since then stays with its member and is logged)."""
    pool = _order_pool(session, order)
    if pool is None:
        return 0
    pool = _lock(session, pool.id)
    take = min(order.quantity, _removable(pool))
    if take < order.quantity:
        log.warning("refunded seats still in use", extra={"order": order.public_id, "kept": order.quantity - take})
    if take <= 0:
        return 0
    session.add(SeatCredit(pool_id=pool.id, quantity=-take, source=SeatCreditSource.refund.value,
                           note=f"Order {order.public_id} refunded"))
    pool.quantity -= take
    # The take-backs already made stay counted against the seats that remain (never more than their cap).
    pool.take_backs = min(pool.take_backs, pool.quantity * pool.max_take_backs_per_seat)
    pool.updated_at = utcnow()
    session.add(pool)
    session.flush()
    return take


# --- assigning -----------------------------------------------------------------------------------

def started(session: Session, user_id: int, programme_id: int) -> bool:
    """The member has begun: a lesson completed, a session attended, or work submitted."""
    from api.assessments import submissions
    from api.cohorts import attendance

    return (learning_service.has_completed_a_lesson(session, user_id, programme_id)
            or attendance.attended_any(session, user_id, programme_id)
            or submissions.has_submitted(session, user_id, programme_id))


def live_assignment(session: Session, pool_id: int, user_id: int) -> SeatAssignment | None:
    return session.exec(select(SeatAssignment).where(SeatAssignment.pool_id == pool_id,
                                                     SeatAssignment.user_id == user_id,
                                                     SeatAssignment.status == SeatStatus.assigned.value)).first()


def assign(session: Session, org: Organisation, pool: SeatPool, member: Membership, by: User) -> SeatAssignment:
    """Give `member` one of the pool's seats and enrol them. Refused (409) when none is left, when they
    hold one already, or when they already have the programme some other way."""
    programme = session.get(Programme, pool.programme_id)
    pool = _lock(session, pool.id)  # managers assigning at the same moment take turns here
    if live_assignment(session, pool.id, member.user_id) is not None:
        raise Conflict("That member already holds a seat of this programme.", code="already_assigned")
    enrolment = learning_service.get_enrolment(session, member.user_id, programme.id)
    if enrolment is not None and learning_service.has_access(enrolment):
        raise Conflict(f"That member already has {programme.display_title}: no seat is needed.",
                       code="already_enrolled")
    if pool.assigned >= pool.quantity:
        raise NoSeatLeft(f"Every seat of {programme.display_title} is assigned ({pool.assigned} of {pool.quantity}). "
                         "Buy more seats or take one back from someone who has not started.")
    row = SeatAssignment(pool_id=pool.id, user_id=member.user_id, assigned_by_id=by.id)
    if not flush_unique(session, row):
        raise Conflict("That member already holds a seat of this programme.", code="already_assigned")
    pool.assigned += 1
    pool.updated_at = utcnow()
    session.add(pool)
    session.flush()
    if pool.cohort_id is not None:  # a seat in a live cohort: the cohorts domain places it (and counts capacity)
        from api.cohorts import seats as cohort_seats

        problem = cohort_seats.place_funded(session, pool.cohort_id, member.user_id, f"Seat of {org.name}.")
        if problem is not None:
            raise Conflict(problem, code="cohort_seat_refused")
    # The organisation chose who studies: the ladder's prerequisites are still the learner's to meet.
    learning_service.enrol(session, user_id=member.user_id, programme_id=programme.id,
                           source=EnrolmentSource.organisation_seat, reference=pool.public_id, granted_by_id=by.id)
    from api.organisations import notify

    notify.seat_assigned(session, org, programme, member.user_id, by)
    return row


def get_assignment(session: Session, pool: SeatPool, assignment_id: int) -> SeatAssignment:
    row = session.exec(select(SeatAssignment).where(SeatAssignment.id == assignment_id,
                                                    SeatAssignment.pool_id == pool.id)).first()
    if row is None:
        raise NotFound("That seat is not one of this organisation's.", code="assignment_not_found")
    return row


def _return(session: Session, pool: SeatPool, row: SeatAssignment, by_id: int | None, *, counts: bool) -> None:
    row.status, row.returned_at, row.returned_by_id = SeatStatus.returned.value, utcnow(), by_id
    session.add(row)
    pool.assigned -= 1
    if counts:
        pool.take_backs += 1
    pool.updated_at = utcnow()
    session.add(pool)
    session.flush()
    if pool.cohort_id is not None:
        from api.cohorts import seats as cohort_seats

        cohort_seats.release_funded(session, pool.cohort_id, row.user_id, "The organisation took its seat back.")
    enrolment = learning_service.get_enrolment(session, row.user_id, pool.programme_id)
    if enrolment is not None and enrolment.reference == pool.public_id:
        learning_service.cancel(session, enrolment, "The organisation's seat was taken back before you started.")


def take_back(session: Session, org: Organisation, pool: SeatPool, assignment_id: int, by: User) -> SeatAssignment:
    """Return a seat to the pool, only while its holder has not started, within the pool's cap."""
    pool = _lock(session, pool.id)
    row = get_assignment(session, pool, assignment_id)
    if row.status != SeatStatus.assigned.value:
        raise Conflict("That seat was already taken back.", code="already_returned")
    if started(session, row.user_id, pool.programme_id):
        raise Conflict("This member has started the programme: the seat is theirs now and cannot be taken back.",
                       code="seat_started")
    cap = pool.quantity * pool.max_take_backs_per_seat
    if pool.take_backs >= cap:
        raise Conflict(f"Seats of this programme have been taken back {pool.take_backs} times, the most allowed "
                       f"({pool.max_take_backs_per_seat} per seat bought).", code="take_back_cap")
    _return(session, pool, row, by.id, counts=True)
    return row


def release_unstarted(session: Session, org: Organisation, user_id: int, by_id: int | None) -> int:
    """Someone leaves (or is removed): seats they have not started go back to the pool (not counted
    against the cap); started ones stay theirs, with everything they earned."""
    rows = list(session.exec(select(SeatAssignment, SeatPool).join(SeatPool, SeatPool.id == SeatAssignment.pool_id)
                             .where(SeatPool.organisation_id == org.id, SeatAssignment.user_id == user_id,
                                    SeatAssignment.status == SeatStatus.assigned.value)))
    n = 0
    for row, pool in rows:
        if started(session, user_id, pool.programme_id):
            continue
        _return(session, _lock(session, pool.id), row, by_id, counts=False)
        n += 1
    return n


@dataclass
class Holder:
    assignment: SeatAssignment
    user: User
    started: bool


def holders(session: Session, pool: SeatPool) -> list[Holder]:
    """Who holds the pool's seats now (bounded by the pool's quantity)."""
    rows = session.exec(select(SeatAssignment, User).join(User, User.id == SeatAssignment.user_id)
                        .where(SeatAssignment.pool_id == pool.id, SeatAssignment.status == SeatStatus.assigned.value)
                        .order_by(User.full_name, User.id))
    return [Holder(a, u, started(session, u.id, pool.programme_id)) for a, u in rows]


def buy(session: Session, org: Organisation, user: User, programme_slug: str, quantity: int, buyer=None):
    """Open (or hand back) a checkout for `quantity` seats: paid, the seats join the pool (credit_order).
    The invoice is made out to `buyer` (invoice details given at checkout) or else to the organisation."""
    from api.payments import invoices, seat_orders

    checkout = seat_orders.open_seat_checkout(session, user=user, organisation_id=org.id,
                                              organisation_public_id=org.public_id, programme_slug=programme_slug,
                                              quantity=quantity)
    order = checkout.order
    if (buyer is None or not (buyer.name or buyer.company or buyer.vat)) and not (
            order.buyer_name or order.buyer_company or order.buyer_vat):  # a reused checkout keeps its own
        buyer = invoices.BuyerDetails(company=org.legal_name or org.name, vat=org.vat_number)
    invoices.set_buyer(session, order, buyer)
    return checkout


def programme_by_slug(session: Session, slug: str) -> Programme:
    programme = session.exec(select(Programme).where(Programme.slug == (slug or "").strip().lower())).first()
    if programme is None:
        raise NotFound("There is no programme with that name.", code="programme_not_found")
    return programme


def session_programme(session: Session, pool: SeatPool) -> Programme:
    return session.get(Programme, pool.programme_id)
