"""What happens to an order, its payments, its code and the learner's access as the provider reports
in. Every function here is safe to call twice and in any order: statuses only move forward, amounts
are taken from the provider's running totals, and enrolment goes through the learning service's
idempotent calls. Flushes, never commits."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session, select

from api.catalog.models import Programme
from api.core.config import get_settings
from api.core.db import utcnow
from api.learning import service as learning_service
from api.learning.models import EnrolmentSource, EnrolmentStatus
from api.outbox import service as outbox
from api.payments import codes, invoices, places, receipts
from api.payments.models import Order, OrderStatus, Payment, PaymentStatus, RedemptionStatus, Refund
from api.payments.providers import PaymentProvider, get_provider
from api.payments.service import payments_of

OPEN = (OrderStatus.pending.value, OrderStatus.processing.value)
SUSPENDED_FOR_INSTALMENT = "instalment"
SUSPENDED_FOR_DISPUTE = "dispute"
# What payments tells the other domains (certificates holds and gives back a certificate).
INSTALMENT_OVERDUE = "instalment.overdue"
INSTALMENT_SETTLED = "instalment.settled"


def _touch(session: Session, *rows) -> None:
    for row in rows:
        if isinstance(row, Order):
            row.updated_at = utcnow()
        session.add(row)
    session.flush()


def _enrolment(session: Session, order: Order):
    e = learning_service.get_enrolment(session, order.user_id, order.programme_id)
    # Only the access this order gave is this order's to pause or end.
    return e if e is not None and e.reference == order.public_id else None


def order_paid(session: Session, order: Order, provider: PaymentProvider | None = None) -> bool:
    """The money (or the first instalment) is in: redeem the code, enrol the learner, send the receipt.
    Paid beats pending, processing, failed and expired alike: once money is taken, access follows,
    unless the learner already holds the programme some other way (an administrator's grant, another
    order, a stale checkout paid late): then the money goes back (`refund_duplicate`).
    True when this order gives the learner access."""
    if order.status in (OrderStatus.pending.value, OrderStatus.processing.value, OrderStatus.failed.value,
                        OrderStatus.expired.value):
        order.status = OrderStatus.paid.value
        order.paid_at = order.paid_at or utcnow()
    order.amount_paid = sum(p.amount for p in payments_of(session, order) if p.status == PaymentStatus.paid.value)
    _touch(session, order)
    codes.set_redemption(session, order.id, RedemptionStatus.redeemed)
    if order.status != OrderStatus.paid.value:
        return False  # refunded or disputed already (events out of order): no access to hand out
    if order.organisation_id is not None:  # seats for an organisation: its pool, not the buyer's enrolment
        from api.organisations import seats

        if seats.credit_order(session, order):
            send_receipt(session, order)
        return True
    if held_otherwise(session, order):
        refund_duplicate(session, order, provider or get_provider())
        return False
    if not places.confirm(session, order):
        return False  # paid after its seat hold ran out into a full cohort: refunded by the worker (cohorts)
    source = EnrolmentSource.instalment_plan if order.instalment_count > 1 else EnrolmentSource.purchase
    # Prerequisites were checked before the checkout opened; once money is taken, access is given.
    learning_service.enrol(session, user_id=order.user_id, programme_id=order.programme_id, source=source,
                           reference=order.public_id, access_days=order.access_days, check_prerequisites=False)
    send_receipt(session, order)
    return True


def held_otherwise(session: Session, order: Order) -> bool:
    """The learner already holds the programme, not through this order: active, completed or paused."""
    e = learning_service.get_enrolment(session, order.user_id, order.programme_id)
    if e is None or e.reference == order.public_id:
        return False
    return learning_service.has_access(e) or e.status == EnrolmentStatus.suspended.value


def refund_duplicate(session: Session, order: Order, provider: PaymentProvider, reason: str | None = None) -> None:
    """Give back money paid for a programme the learner already holds: stop any plan, refund every paid
    payment through the provider, record why, and tell the learner. No enrolment, no receipt. Safe to
    repeat: a payment already refunded (a Refund row) is not refunded twice; one the provider cannot
    refund yet (it has not said which charge paid it) is refunded on its next event."""
    programme = session.get(Programme, order.programme_id)
    reason = reason or f"Refunded automatically: the learner already holds {programme.display_title}."
    if order.instalment_count > 1:
        provider.cancel_plan(session, order)
    payments = payments_of(session, order)
    for p in payments:
        if p.status == PaymentStatus.due.value:
            p.status = PaymentStatus.cancelled.value
            session.add(p)
    asked = {p.id: 0 for p in payments}
    for r in session.exec(select(Refund).where(Refund.order_id == order.id)):
        asked[r.payment_id] = asked.get(r.payment_id, 0) + r.amount
    waiting = False
    for p in payments:
        take = p.amount - max(asked.get(p.id, 0), p.amount_refunded)
        if p.status != PaymentStatus.paid.value or take <= 0:
            continue
        if not p.provider_payment_intent_id:
            waiting = True  # its charge is named by a later event (invoice.paid), which comes back here
            continue
        result = provider.refund(session, order, p, take)
        session.add(Refund(order_id=order.id, payment_id=p.id, amount=take, provider_refund_id=result.id,
                           status=result.status, reason=reason))
        session.flush()
    session.refresh(order)  # the offline provider's charge.refunded has already been applied
    if waiting:
        order.status_note = f"{reason} The refund is made as soon as the provider confirms the payment."
        _touch(session, order)
        return
    # Only an order still paid comes here, so the learner hears of it once: at this change to refunded.
    order.status, order.status_note, order.suspended_for = OrderStatus.refunded.value, reason, None
    _touch(session, order)
    # The learner is told by refunded(), when the provider confirms the money is on its way back.


def send_receipt(session: Session, order: Order) -> None:
    if order.receipt_sent_at is not None:
        return
    # Numbered last, so the seller's number sequence is locked for the shortest time.
    invoices.invoice_for(session, order)
    receipts.queue_receipt(session, order, payments_of(session, order))
    order.receipt_sent_at = utcnow()
    _touch(session, order)


def mark_payment_paid(session: Session, payment: Payment, *, payment_intent: str | None = None,
                      invoice: str | None = None, charge: str | None = None) -> None:
    if payment.status != PaymentStatus.paid.value:
        payment.status, payment.paid_at, payment.pay_url = PaymentStatus.paid.value, utcnow(), None
    payment.provider_payment_intent_id = payment.provider_payment_intent_id or payment_intent
    payment.provider_invoice_id = payment.provider_invoice_id or invoice
    payment.provider_charge_id = payment.provider_charge_id or charge
    _touch(session, payment)


def order_failed(session: Session, order: Order, note: str) -> None:
    if order.status not in OPEN:
        return
    order.status, order.status_note = OrderStatus.failed.value, note
    for p in payments_of(session, order):
        if p.status == PaymentStatus.due.value:
            p.status = PaymentStatus.failed.value if p.number == 1 else PaymentStatus.cancelled.value
            p.failed_at = utcnow() if p.number == 1 else None
            session.add(p)
    codes.set_redemption(session, order.id, RedemptionStatus.released)
    places.closed(session, order)
    _touch(session, order)


def order_expired(session: Session, order: Order) -> None:
    if order.status != OrderStatus.pending.value:
        return
    order.status, order.status_note = OrderStatus.expired.value, "Checkout expired."
    for p in payments_of(session, order):
        if p.status == PaymentStatus.due.value:
            p.status = PaymentStatus.cancelled.value
            session.add(p)
    codes.set_redemption(session, order.id, RedemptionStatus.released)
    places.closed(session, order)
    _touch(session, order)


# --- instalments ------------------------------------------------------------------------------

def payment_for_invoice(session: Session, order: Order, invoice: str, billing_reason: str | None) -> Payment | None:
    """The instalment an invoice pays: the one already linked to it; the first instalment for the
    invoice that started the subscription; otherwise the earliest later instalment not yet invoiced."""
    payments = payments_of(session, order)
    for p in payments:
        if p.provider_invoice_id == invoice:
            return p
    if billing_reason == "subscription_create":
        return payments[0] if payments and not payments[0].provider_invoice_id else None
    for p in payments[1:]:
        if p.status in (PaymentStatus.due.value, PaymentStatus.failed.value) and not p.provider_invoice_id:
            return p
    return None


def instalment_failed(session: Session, order: Order, payment: Payment, *, invoice: str, message: str,
                      pay_url: str | None) -> None:
    if payment.status == PaymentStatus.paid.value:
        return  # a late report of an attempt that a retry has since paid
    payment.status = PaymentStatus.failed.value
    payment.failed_at = payment.failed_at or utcnow()  # the grace period runs from the first failure
    payment.failure_message, payment.pay_url = message[:300], pay_url
    payment.provider_invoice_id = payment.provider_invoice_id or invoice
    _touch(session, payment)
    if order.status == OrderStatus.paid.value:
        # Once per failure (a retry that fails again keeps the first failure's date and says nothing new).
        receipts.queue_instalment_failed(session, order, payment, grace_ends(payment))


def grace_ends(payment: Payment) -> datetime | None:
    if payment.status != PaymentStatus.failed.value or payment.failed_at is None:
        return None
    return payment.failed_at + timedelta(days=get_settings().instalment_grace_days)


def apply_grace(session: Session, order: Order, now: datetime | None = None) -> bool:
    """Pause access when an instalment has stayed unpaid past the grace period (CADRE_INSTALMENT_GRACE_DAYS);
    give it back once nothing is overdue. Run after every event about the order and by the sweep."""
    if order.instalment_count < 2 or order.status != OrderStatus.paid.value:
        return False
    now = now or utcnow()
    overdue = [p for p in payments_of(session, order) if (end := grace_ends(p)) is not None and end <= now]
    enrolment = _enrolment(session, order)
    facts = {"order": order.public_id, "user_id": order.user_id, "programme_id": order.programme_id}
    if overdue and order.suspended_for is None and enrolment is not None:
        p = overdue[0]
        reason = (f"Instalment {p.number} of {order.instalment_count} failed on {p.failed_at:%-d %B %Y} and is "
                  "still unpaid")
        learning_service.suspend(session, enrolment, reason)  # a learner who finished has nothing to pause…
        # … but their certificate is held: certificates hear of it, in this same transaction.
        outbox.publish(session, INSTALMENT_OVERDUE, f"order:{order.id}:payment:{p.id}:{p.failed_at.isoformat()}",
                       {**facts, "payment": p.number, "reason": reason})
        order.suspended_for = SUSPENDED_FOR_INSTALMENT
        _touch(session, order)
        return True
    if not overdue and order.suspended_for == SUSPENDED_FOR_INSTALMENT:
        if enrolment is not None:
            learning_service.reinstate(session, enrolment, "Missed instalment paid")
        outbox.publish(session, INSTALMENT_SETTLED, f"order:{order.id}:settled:{now.isoformat()}", facts)
        order.suspended_for = None
        _touch(session, order)
    return False


# --- refunds and disputes ---------------------------------------------------------------------

def refunded(session: Session, order: Order, payment: Payment, amount_refunded: int, provider) -> None:
    """The provider's running total refunded on one payment (so a repeated or late event is harmless)."""
    before = payment.amount_refunded
    payment.amount_refunded = max(payment.amount_refunded, min(amount_refunded, payment.amount))
    _touch(session, payment)
    payments = payments_of(session, order)
    order.amount_refunded = sum(p.amount_refunded for p in payments)
    if order.amount_paid and order.amount_refunded >= order.amount_paid and order.status != OrderStatus.refunded.value:
        order.status, order.status_note = OrderStatus.refunded.value, "Refunded in full."
        for p in payments:
            if p.status in (PaymentStatus.due.value, PaymentStatus.failed.value):
                p.status = PaymentStatus.cancelled.value
                session.add(p)
        enrolment = _enrolment(session, order)
        if enrolment is not None:
            learning_service.cancel(session, enrolment, "Refunded in full")
        places.closed(session, order)  # a live programme's seat is free again
        if order.organisation_id is not None:  # an organisation's seats leave its pool
            from api.organisations import seats

            seats.debit_refunded_order(session, order)
        order.suspended_for = None
        provider.cancel_plan(session, order)
    elif order.amount_refunded and order.status != OrderStatus.refunded.value:
        order.status_note = "Partly refunded."
    _touch(session, order)
    if payment.amount_refunded > before:
        note = invoices.credit_note(session, order, payment, payment.amount_refunded - before)
        receipts.queue_refund(session, order, payment, payment.amount_refunded - before,
                              full=order.status == OrderStatus.refunded.value, held=held_otherwise(session, order),
                              credit_note=note)


def dispute_opened(session: Session, order: Order, status: str) -> None:
    order.dispute_status = status
    if order.status == OrderStatus.paid.value:
        order.status = OrderStatus.disputed.value
        enrolment = _enrolment(session, order)
        if enrolment is not None and order.suspended_for is None and learning_service.suspend(
                session, enrolment, "The payment is disputed with the card issuer"):
            order.suspended_for = SUSPENDED_FOR_DISPUTE
    _touch(session, order)


def dispute_closed(session: Session, order: Order, status: str, provider) -> None:
    order.dispute_status = status
    enrolment = _enrolment(session, order)
    if status == "lost":
        if enrolment is not None:
            learning_service.cancel(session, enrolment, "The payment was disputed and returned to the card holder")
        order.suspended_for = None
        provider.cancel_plan(session, order)
    elif order.status == OrderStatus.disputed.value:  # won, or an inquiry closed with a warning
        order.status = OrderStatus.refunded.value if (
            order.amount_paid and order.amount_refunded >= order.amount_paid) else OrderStatus.paid.value
        if order.suspended_for == SUSPENDED_FOR_DISPUTE:
            if enrolment is not None:
                learning_service.reinstate(session, enrolment, "Dispute resolved")
            order.suspended_for = None
    _touch(session, order)
