"""The offline provider: the default when no Stripe key is set (development, demos, the browser tests).

Its checkout is a page in Cadre (/payments/offline/{session_id}). Each button there produces the
events Stripe would send for the same thing, in Stripe's shapes, signed exactly as Stripe signs them
(`Stripe-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<raw body>" keyed with the webhook
secret>`), and hands them to the same verification and handling code as POST /webhooks/stripe. So the
code that runs for a real Stripe payment is the code that runs here. It takes no money, and Cadre
refuses to start in production with it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from datetime import timedelta
from typing import Any

from sqlmodel import Session, col, select

from api.accounts.models import User
from api.catalog.models import Offer, Programme
from api.core.config import get_settings
from api.core.db import utcnow
from api.core.security import new_token
from api.payments.models import Order, OrderStatus, Payment
from api.payments.providers.base import CheckoutSession, PaymentProvider, ProviderError, RefundResult

API_VERSION = "2026-10-28.endive"


def sign(payload: str, secret: str, timestamp: int | None = None) -> str:
    """The Stripe-Signature header for `payload`, computed the way Stripe computes it."""
    t = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{t}.{payload}".encode(), hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def _id(prefix: str) -> str:
    return f"{prefix}_offline_{new_token(12).replace('-', 'x').replace('_', 'y')}"


class OfflineProvider(PaymentProvider):
    name = "offline"

    # --- what the provider interface asks ---------------------------------------------------

    def create_checkout(self, session: Session, order: Order, *, user: User, programme: Programme, offer: Offer,
                        amounts: list[int], success_url: str, cancel_url: str) -> CheckoutSession:
        sid = _id("cs")
        expires = utcnow() + timedelta(minutes=get_settings().checkout_expiry_minutes)
        return CheckoutSession(id=sid, url=f"/payments/offline/{sid}", expires_at=expires)

    def expire_checkout(self, session: Session, order: Order) -> None:
        if order.status == OrderStatus.pending.value:
            self.send(session, "checkout.session.expired", self.checkout_object(order, status="expired"))

    def plan_started(self, session: Session, order: Order, amounts: list[int]) -> None:
        """Nothing to arrange: the offline page's "Pay next instalment" plays the part of the schedule."""

    def cancel_plan(self, session: Session, order: Order) -> None:
        """Nothing to stop: the offline plan only moves when someone presses a button."""

    def refund(self, session: Session, order: Order, payment: Payment, amount: int) -> RefundResult:
        if not payment.provider_payment_intent_id:
            raise ProviderError("This payment has no charge to refund.")
        refund_id = _id("re")
        total = payment.amount_refunded + amount
        charge = {
            "id": payment.provider_charge_id or "ch_" + payment.provider_payment_intent_id.removeprefix("pi_"),
            "object": "charge", "amount": payment.amount, "amount_captured": payment.amount,
            "amount_refunded": total, "currency": payment.currency.lower(), "captured": True, "paid": True,
            "payment_intent": payment.provider_payment_intent_id, "refunded": total >= payment.amount,
            "status": "succeeded", "metadata": {}, "livemode": False,
        }
        self.send(session, "charge.refunded", charge)
        return RefundResult(id=refund_id, status="succeeded")

    # --- the offline checkout page's buttons ------------------------------------------------

    def pay(self, session: Session, order: Order, *, asynchronous: bool = False) -> None:
        """Complete the checkout: by card (paid now) or by bank debit (settles later)."""
        if order.status != OrderStatus.pending.value:
            raise ProviderError("This checkout is no longer open.")
        pi = _id("pi")
        if order.instalment_count > 1:
            sub, invoice = _id("sub"), _id("in")
            first = self._payments(session, order)[0]
            self.send(session, "checkout.session.completed", self.checkout_object(
                order, status="complete", payment_status="paid", subscription=sub, invoice=invoice))
            self.send(session, "invoice.paid", self.invoice_object(order, first, invoice, sub, pi, paid=True,
                                                                   reason="subscription_create"))
            return
        self.send(session, "checkout.session.completed", self.checkout_object(
            order, status="complete", payment_status="unpaid" if asynchronous else "paid", payment_intent=pi))

    def settle(self, session: Session, order: Order, *, succeeded: bool) -> None:
        """The bank debit of an asynchronous payment settles (or bounces)."""
        if order.status != OrderStatus.processing.value:
            raise ProviderError("There is no bank payment waiting to settle.")
        first = self._payments(session, order)[0]
        kind = "succeeded" if succeeded else "failed"
        self.send(session, f"checkout.session.async_payment_{kind}", self.checkout_object(
            order, status="complete", payment_status="paid" if succeeded else "unpaid",
            payment_intent=first.provider_payment_intent_id))

    def next_instalment(self, session: Session, order: Order, *, succeeded: bool) -> None:
        """Stripe charging the next instalment of the plan (or failing to)."""
        upcoming = [p for p in self._payments(session, order) if p.status in ("due", "failed")]
        if order.status not in (OrderStatus.paid.value, OrderStatus.disputed.value) or not upcoming:
            raise ProviderError("No instalment is waiting to be paid.")
        p = upcoming[0]
        invoice = p.provider_invoice_id or _id("in")
        sub = order.provider_subscription_id or _id("sub")
        obj = self.invoice_object(order, p, invoice, sub, _id("pi") if succeeded else None, paid=succeeded,
                                  reason="subscription_cycle")
        self.send(session, "invoice.paid" if succeeded else "invoice.payment_failed", obj)

    def cancel(self, session: Session, order: Order) -> None:
        """The learner leaves the checkout: close it at once (Stripe would let it run to expires_at)."""
        self.expire_checkout(session, order)

    # --- Stripe-shaped objects --------------------------------------------------------------

    @staticmethod
    def _payments(session: Session, order: Order) -> list[Payment]:
        return list(session.exec(select(Payment).where(Payment.order_id == order.id)
                                 .order_by(col(Payment.number))).all())

    def checkout_object(self, order: Order, *, status: str, payment_status: str = "unpaid",
                        payment_intent: str | None = None, subscription: str | None = None,
                        invoice: str | None = None) -> dict[str, Any]:
        first = order.amount_total if order.instalment_count == 1 else None
        return {
            "id": order.provider_session_id, "object": "checkout.session",
            "mode": "subscription" if order.instalment_count > 1 else "payment",
            "status": status, "payment_status": payment_status,
            "amount_total": first, "amount_subtotal": first, "currency": order.currency.lower(),
            "client_reference_id": order.public_id, "customer": order.provider_customer_id,
            "metadata": {"cadre_order": order.public_id}, "payment_intent": payment_intent,
            "subscription": subscription, "invoice": invoice,
            "expires_at": int(order.expires_at.timestamp()) if order.expires_at else None,
            "url": None if status != "open" else order.checkout_url, "livemode": False,
        }

    def invoice_object(self, order: Order, payment: Payment, invoice: str, sub: str, pi: str | None, *,
                       paid: bool, reason: str) -> dict[str, Any]:
        payments = {"object": "list", "has_more": False, "data": [] if not pi else [{
            "object": "invoice_payment", "invoice": invoice, "status": "paid", "is_default": True,
            "amount_paid": payment.amount, "currency": payment.currency.lower(),
            "payment": {"type": "payment_intent", "payment_intent": pi}}]}
        return {
            "id": invoice, "object": "invoice", "status": "paid" if paid else "open",
            "billing_reason": reason, "currency": payment.currency.lower(), "customer": order.provider_customer_id,
            "amount_due": payment.amount, "amount_paid": payment.amount if paid else 0,
            "amount_remaining": 0 if paid else payment.amount, "attempt_count": 1, "attempted": True,
            "hosted_invoice_url": None if paid else f"/payments/offline/{order.provider_session_id}",
            "parent": {"type": "subscription_details", "quote_details": None, "subscription_details": {
                "subscription": sub, "metadata": {"cadre_order": order.public_id}}},
            "payments": payments, "livemode": False,
            "last_finalization_error": None,
        }

    # --- delivery ---------------------------------------------------------------------------

    def send(self, session: Session, event_type: str, obj: dict[str, Any]) -> str:
        """Sign the event as Stripe would and hand it to the webhook's own verification and handling."""
        from api.payments import events

        event = {"id": _id("evt"), "object": "event", "api_version": API_VERSION, "created": int(time.time()),
                 "type": event_type, "livemode": False, "pending_webhooks": 1,
                 "request": {"id": None, "idempotency_key": None}, "data": {"object": obj}}
        payload = json.dumps(event, separators=(",", ":"))
        return events.receive(session, payload.encode(), sign(payload, get_settings().webhook_secret),
                              provider=self)
