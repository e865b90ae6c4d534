"""Payment events, as POST /webhooks/stripe receives them (from Stripe, or from the offline provider).

1. The signature is verified on the raw body with Stripe's own code (`stripe.WebhookSignature`), the
   configured secret and tolerance. A bad signature changes nothing.
2. The event is recorded in `webhook_event` (unique per source and event id) in the same transaction
   as its effect. A second delivery, even one running at the same moment, meets the unique index
   and changes nothing.
3. The order is locked (`SELECT ... FOR UPDATE`) so events about one order apply one at a time, and
   each effect is written to be harmless when repeated or late (see lifecycle.py).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import stripe
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, or_, select

from api.core.config import get_settings
from api.core.errors import CadreError
from api.payments import lifecycle
from api.payments.models import Order, OrderStatus, Payment, WebhookEvent
from api.payments.providers import PaymentProvider, get_provider
from api.payments.service import payments_of

log = logging.getLogger("cadre.payments")
SOURCE = "stripe"


class BadSignature(CadreError):
    status_code = 400
    code = "bad_signature"


class BadPayload(CadreError):
    status_code = 400
    code = "bad_payload"


@dataclass
class Outcome:
    status: str  # processed | ignored | duplicate
    event_id: str
    type: str


def _get(obj: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(key)
    return obj


def _id(value: Any) -> str | None:
    """An expandable field: an id, or the object carrying it."""
    return value.get("id") if isinstance(value, dict) else value


def receive(session: Session, payload: bytes, signature: str | None, *,
            provider: PaymentProvider | None = None) -> Outcome:
    settings = get_settings()
    try:
        stripe.WebhookSignature.verify_header(payload, signature, settings.webhook_secret,
                                              tolerance=settings.stripe_webhook_tolerance_seconds)
    except stripe.SignatureVerificationError as exc:
        raise BadSignature(f"The Stripe-Signature header does not verify: {exc.user_message or exc}") from exc
    try:
        event = json.loads(payload)
    except ValueError as exc:
        raise BadPayload("The body is not JSON.") from exc
    event_id, event_type, obj = _get(event, "id"), _get(event, "type"), _get(event, "data", "object")
    if not isinstance(event_id, str) or not isinstance(event_type, str) or not isinstance(obj, dict):
        raise BadPayload("An event needs an id, a type and data.object.")

    row = WebhookEvent(source=SOURCE, event_id=event_id, type=event_type, outcome="received")
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        log.info("payment event already recorded", extra={"event_id": event_id, "type": event_type})
        return Outcome("duplicate", event_id, event_type)

    handler = HANDLERS.get(event_type)
    order = handler(session, obj, provider or get_provider()) if handler else None
    if order is not None:
        lifecycle.apply_grace(session, order)
    row.outcome, row.order_id = ("processed" if order else "ignored"), (order.id if order else None)
    session.add(row)
    session.flush()
    log.info("payment event", extra={"event_id": event_id, "type": event_type, "outcome": row.outcome,
                                     "order": order.public_id if order else None})
    return Outcome(row.outcome, event_id, event_type)


# --- finding (and locking) the order an event is about ----------------------------------------

def _lock(session: Session, *conditions) -> Order | None:
    return session.exec(select(Order).where(*conditions).with_for_update()
                        .execution_options(populate_existing=True)).first()


def _order_for_checkout(session: Session, cs: dict) -> Order | None:
    ref = _get(cs, "metadata", "cadre_order") or cs.get("client_reference_id")
    if ref:
        return _lock(session, Order.public_id == ref)
    return _lock(session, Order.provider_session_id == cs.get("id"))


def _order_for_invoice(session: Session, invoice: dict) -> Order | None:
    details = _get(invoice, "parent", "subscription_details") or {}
    ref = _get(details, "metadata", "cadre_order") or _get(invoice, "subscription_details", "metadata", "cadre_order")
    if ref:
        return _lock(session, Order.public_id == ref)
    sub = _id(details.get("subscription")) or _id(invoice.get("subscription"))
    return _lock(session, Order.provider_subscription_id == sub) if sub else None


def _payment_for_charge(session: Session, charge_id: str | None, payment_intent: str | None
                        ) -> tuple[Order | None, Payment | None]:
    keys = []
    if payment_intent:
        keys.append(col(Payment.provider_payment_intent_id) == payment_intent)
    if charge_id:
        keys.append(col(Payment.provider_charge_id) == charge_id)
    if not keys:
        return None, None
    found = session.exec(select(Payment).where(or_(*keys))).first()
    if found is None:
        return None, None
    order = _lock(session, Order.id == found.order_id)
    payment = session.exec(select(Payment).where(Payment.id == found.id)
                           .execution_options(populate_existing=True)).one()
    return order, payment


# --- handlers: each returns the order it touched, or None when the event is not about Cadre ---

def checkout_completed(session: Session, cs: dict, provider: PaymentProvider) -> Order | None:
    order = _order_for_checkout(session, cs)
    if order is None:
        return None
    order.provider_customer_id = order.provider_customer_id or _id(cs.get("customer"))
    payments = payments_of(session, order)
    if cs.get("mode") == "subscription":
        order.provider_subscription_id = order.provider_subscription_id or _id(cs.get("subscription"))
        session.add(order)
        if cs.get("payment_status") in ("paid", "no_payment_required"):
            lifecycle.mark_payment_paid(session, payments[0], invoice=_id(cs.get("invoice")))
            if lifecycle.order_paid(session, order, provider):  # not for a plan whose money goes back
                provider.plan_started(session, order, [p.amount for p in payments])
        return order
    pi = _id(cs.get("payment_intent"))
    if cs.get("payment_status") in ("paid", "no_payment_required"):
        lifecycle.mark_payment_paid(session, payments[0], payment_intent=pi)
        lifecycle.order_paid(session, order, provider)
    elif order.status == OrderStatus.pending.value:  # a bank debit: paid later, or not
        order.status, order.status_note = OrderStatus.processing.value, "Waiting for the bank payment to settle."
        payments[0].provider_payment_intent_id = payments[0].provider_payment_intent_id or pi
        session.add(payments[0])
        session.add(order)
        session.flush()
    return order


def async_payment_succeeded(session: Session, cs: dict, provider: PaymentProvider) -> Order | None:
    order = _order_for_checkout(session, cs)
    if order is None:
        return None
    payments = payments_of(session, order)
    lifecycle.mark_payment_paid(session, payments[0], payment_intent=_id(cs.get("payment_intent")))
    lifecycle.order_paid(session, order, provider)
    return order


def async_payment_failed(session: Session, cs: dict, provider: PaymentProvider) -> Order | None:
    order = _order_for_checkout(session, cs)
    if order is not None:
        lifecycle.order_failed(session, order, "The bank payment did not go through; nothing was charged.")
    return order


def checkout_expired(session: Session, cs: dict, provider: PaymentProvider) -> Order | None:
    order = _order_for_checkout(session, cs)
    if order is not None:
        lifecycle.order_expired(session, order)
    return order


def _invoice_payment_intent(invoice: dict, provider: PaymentProvider) -> str | None:
    for p in _get(invoice, "payments", "data") or []:
        pi = _id(_get(p, "payment", "payment_intent"))
        if pi and p.get("status", "paid") == "paid":
            return pi
    legacy = _id(invoice.get("payment_intent"))  # API versions before 2025-03-31
    return legacy or provider.payment_intent_for_invoice(invoice["id"])


def invoice_paid(session: Session, invoice: dict, provider: PaymentProvider) -> Order | None:
    order = _order_for_invoice(session, invoice)
    if order is None or order.instalment_count < 2:
        return None
    details = _get(invoice, "parent", "subscription_details") or {}
    order.provider_subscription_id = order.provider_subscription_id or _id(details.get("subscription")) \
        or _id(invoice.get("subscription"))
    payment = lifecycle.payment_for_invoice(session, order, invoice["id"], invoice.get("billing_reason"))
    if payment is None:
        log.warning("invoice paid beyond the plan", extra={"order": order.public_id, "invoice": invoice["id"]})
        return order
    lifecycle.mark_payment_paid(session, payment, invoice=invoice["id"],
                                payment_intent=_invoice_payment_intent(invoice, provider))
    lifecycle.order_paid(session, order, provider)  # first instalment: enrols; later ones: updates what is paid
    return order


def invoice_payment_failed(session: Session, invoice: dict, provider: PaymentProvider) -> Order | None:
    order = _order_for_invoice(session, invoice)
    if order is None or order.instalment_count < 2:
        return None
    payment = lifecycle.payment_for_invoice(session, order, invoice["id"], invoice.get("billing_reason"))
    if payment is not None:
        error = _get(invoice, "last_finalization_error", "message")
        lifecycle.instalment_failed(session, order, payment, invoice=invoice["id"],
                                    message=error or "The card was declined.",
                                    pay_url=invoice.get("hosted_invoice_url"))
    return order


def charge_refunded(session: Session, charge: dict, provider: PaymentProvider) -> Order | None:
    order, payment = _payment_for_charge(session, charge.get("id"), _id(charge.get("payment_intent")))
    if order is None or payment is None:
        return None
    payment.provider_charge_id = payment.provider_charge_id or charge.get("id")
    lifecycle.refunded(session, order, payment, int(charge.get("amount_refunded") or 0), provider)
    return order


def dispute_created(session: Session, dispute: dict, provider: PaymentProvider) -> Order | None:
    order, _ = _payment_for_charge(session, _id(dispute.get("charge")), _id(dispute.get("payment_intent")))
    if order is not None:
        lifecycle.dispute_opened(session, order, str(dispute.get("status") or "needs_response"))
    return order


def dispute_closed(session: Session, dispute: dict, provider: PaymentProvider) -> Order | None:
    order, _ = _payment_for_charge(session, _id(dispute.get("charge")), _id(dispute.get("payment_intent")))
    if order is not None:
        lifecycle.dispute_closed(session, order, str(dispute.get("status") or "won"), provider)
    return order


HANDLERS: dict[str, Callable[[Session, dict, PaymentProvider], Order | None]] = {
    "checkout.session.completed": checkout_completed,
    "checkout.session.async_payment_succeeded": async_payment_succeeded,
    "checkout.session.async_payment_failed": async_payment_failed,
    "checkout.session.expired": checkout_expired,
    "invoice.paid": invoice_paid,
    "invoice.payment_failed": invoice_payment_failed,
    "charge.refunded": charge_refunded,
    "charge.dispute.created": dispute_created,
    "charge.dispute.closed": dispute_closed,
}
