"""Stripe, through the official `stripe` library (StripeClient).

- A full payment is a Checkout Session in `payment` mode for the discounted amount.
- An instalment plan is a Checkout Session in `subscription` mode whose recurring price is the first
  instalment. When the first payment succeeds, the subscription is put on a subscription schedule
  whose phases take exactly the remaining payments (`duration` of k intervals per phase; a second
  phase when the split leaves a remainder, since the first payments carry the extra pence) and
  `end_behavior: cancel`, so the plan ends itself after the last payment. (`iterations` was the older
  name of a phase's duration; the API version this library speaks uses `duration`.)
- Discounts are computed by Cadre and sent as the price itself, so the caps are enforced in one place
  and every instalment matches `split_instalments` to the penny; the code is named in the line item.
- Every call that creates something carries an idempotency key derived from the order, so a retried
  webhook or request never creates a second session, schedule or refund.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import stripe
from sqlmodel import Session, select

from api.accounts.models import User
from api.catalog.models import Offer, Programme
from api.core.config import get_settings
from api.core.db import utcnow
from api.payments.models import Order, Payment, PaymentCustomer
from api.payments.providers.base import CheckoutSession, PaymentProvider, ProviderError, RefundResult


class StripeProvider(PaymentProvider):
    name = "stripe"

    def __init__(self, api_key: str, api_base: str | None = None):
        base = {"api": api_base} if api_base else None
        self.client = stripe.StripeClient(api_key, base_addresses=base, max_network_retries=2)

    # --- customers --------------------------------------------------------------------------

    def customer_for(self, session: Session, user: User) -> str:
        row = session.exec(select(PaymentCustomer).where(PaymentCustomer.user_id == user.id,
                                                         PaymentCustomer.provider == self.name)).first()
        if row:
            return row.external_id
        try:
            customer = self.client.v1.customers.create(
                params={"email": user.email, "name": user.full_name, "metadata": {"cadre_user": str(user.id)}},
                options={"idempotency_key": f"cadre-customer-{user.id}"})
        except stripe.StripeError as exc:
            raise ProviderError(_message(exc)) from exc
        session.add(PaymentCustomer(user_id=user.id, provider=self.name, external_id=customer.id))
        session.flush()
        return customer.id

    # --- checkout ---------------------------------------------------------------------------

    def create_checkout(self, session: Session, order: Order, *, user: User, programme: Programme, offer: Offer,
                        amounts: list[int], success_url: str, cancel_url: str) -> CheckoutSession:
        settings = get_settings()
        expires_at = utcnow() + timedelta(minutes=max(30, min(settings.checkout_expiry_minutes, 24 * 60)))
        customer = self.customer_for(session, user)
        metadata = {"cadre_order": order.public_id, "cadre_programme": programme.slug}
        name = f"{programme.title} ({programme.code}): {offer.title}"
        description = f"Code {order.code_text.upper()} applied" if order.code_text else None
        product = {"name": name, **({"description": description} if description else {})}
        params: dict = {
            "customer": customer,
            "client_reference_id": order.public_id,
            "metadata": metadata,
            "success_url": success_url,
            "cancel_url": cancel_url,
            "expires_at": int(expires_at.timestamp()),
        }
        if order.instalment_count > 1:
            params["mode"] = "subscription"
            params["line_items"] = [{"quantity": 1, "price_data": {
                "currency": order.currency.lower(), "unit_amount": amounts[0], "product_data": product,
                "recurring": {"interval": order.interval or "month"}}}]
            params["subscription_data"] = {"metadata": metadata, "description": name}
        else:
            params["mode"] = "payment"
            # Seats for an organisation: N of one price, so Stripe's receipt shows the seats bought.
            seats = order.quantity if order.quantity > 1 and amounts[0] % order.quantity == 0 else 1
            params["line_items"] = [{"quantity": seats, "price_data": {
                "currency": order.currency.lower(), "unit_amount": amounts[0] // seats, "product_data": product}}]
            params["payment_intent_data"] = {"metadata": metadata, "description": name}
        try:
            cs = self.client.v1.checkout.sessions.create(
                params=params, options={"idempotency_key": f"cadre-checkout-{order.public_id}"})
        except stripe.StripeError as exc:
            raise ProviderError(_message(exc)) from exc
        return CheckoutSession(id=cs.id, url=cs.url or "", customer_id=customer,
                               expires_at=datetime.fromtimestamp(cs.expires_at, UTC) if cs.expires_at else expires_at)

    def expire_checkout(self, session: Session, order: Order) -> None:
        if not order.provider_session_id:
            return
        try:
            self.client.v1.checkout.sessions.expire(order.provider_session_id)
        except stripe.InvalidRequestError as exc:
            # Already expired is fine; already complete means a payment is on its way.
            try:
                current = self.client.v1.checkout.sessions.retrieve(order.provider_session_id)
            except stripe.StripeError as again:
                raise ProviderError(_message(again)) from again
            if current.status == "complete":
                raise ProviderError("That checkout has just been paid.") from exc
        except stripe.StripeError as exc:
            raise ProviderError(_message(exc)) from exc

    # --- instalment plans -------------------------------------------------------------------

    def plan_started(self, session: Session, order: Order, amounts: list[int]) -> None:
        if not order.provider_subscription_id or len(amounts) < 2:
            return
        key = f"cadre-schedule-{order.public_id}"
        try:
            schedule = self.client.v1.subscription_schedules.create(
                params={"from_subscription": order.provider_subscription_id, "expand": ["phases.items.price"]},
                options={"idempotency_key": key + "-create"})
            first = schedule.phases[0]
            price = first.items[0].price
            price_id = price if isinstance(price, str) else price.id
            product = None if isinstance(price, str) else price.product
            product_id = product if isinstance(product, str) or product is None else product.id
            interval = order.interval or "month"
            phases = []
            for amount, count in _runs(amounts):
                item = {"quantity": 1}
                if amount == amounts[0]:
                    item["price"] = price_id
                else:
                    item["price_data"] = {"currency": order.currency.lower(), "unit_amount": amount,
                                          "product": product_id, "recurring": {"interval": interval}}
                phase = {"items": [item], "duration": {"interval": interval, "interval_count": count},
                         "metadata": {"cadre_order": order.public_id}}
                if not phases:
                    phase["start_date"] = first.start_date
                phases.append(phase)
            self.client.v1.subscription_schedules.update(
                schedule.id, params={"phases": phases, "end_behavior": "cancel", "proration_behavior": "none"},
                options={"idempotency_key": key + "-update"})
        except stripe.StripeError as exc:
            raise ProviderError(_message(exc)) from exc

    def cancel_plan(self, session: Session, order: Order) -> None:
        if not order.provider_subscription_id:
            return
        try:
            self.client.v1.subscriptions.cancel(order.provider_subscription_id)
        except stripe.InvalidRequestError:
            return  # already cancelled (or ended by its schedule)
        except stripe.StripeError as exc:
            raise ProviderError(_message(exc)) from exc

    def payment_intent_for_invoice(self, invoice_id: str) -> str | None:
        try:
            found = self.client.v1.invoice_payments.list(params={"invoice": invoice_id, "limit": 10})
        except stripe.StripeError:
            return None
        for p in found.data:
            if getattr(p, "status", "paid") == "paid" and p.payment and getattr(p.payment, "payment_intent", None):
                pi = p.payment.payment_intent
                return pi if isinstance(pi, str) else pi.id
        return None

    # --- refunds ----------------------------------------------------------------------------

    def refund(self, session: Session, order: Order, payment: Payment, amount: int) -> RefundResult:
        if not payment.provider_payment_intent_id:
            raise ProviderError("Stripe has not told us which payment this was yet; try again in a minute.")
        already = payment.amount_refunded
        try:
            refund = self.client.v1.refunds.create(
                params={"payment_intent": payment.provider_payment_intent_id, "amount": amount,
                        "metadata": {"cadre_order": order.public_id}},
                # The same request for the same amount on top of the same refunded total is one refund.
                options={"idempotency_key": f"cadre-refund-{payment.provider_payment_intent_id}-{already}-{amount}"})
        except stripe.StripeError as exc:
            raise ProviderError(_message(exc)) from exc
        return RefundResult(id=refund.id, status=refund.status or "pending")


def _runs(amounts: list[int]) -> list[tuple[int, int]]:
    """[251, 251, 250] -> [(251, 2), (250, 1)]."""
    runs: list[tuple[int, int]] = []
    for a in amounts:
        if runs and runs[-1][0] == a:
            runs[-1] = (a, runs[-1][1] + 1)
        else:
            runs.append((a, 1))
    return runs


def _message(exc: stripe.StripeError) -> str:
    return f"Stripe: {exc.user_message or getattr(exc, '_message', None) or exc.__class__.__name__}"
