"""Payments test helpers: the demo code, a logged-in learner, and Stripe-signed events."""

from __future__ import annotations

import json
import time
import uuid

import pytest

from api.core.config import get_settings


def stripe_event(event_type: str, obj: dict, event_id: str | None = None) -> dict:
    return {"id": event_id or f"evt_test_{uuid.uuid4().hex[:20]}", "object": "event", "type": event_type,
            "api_version": "2026-10-28.endive", "created": int(time.time()), "livemode": False,
            "data": {"object": obj}}


def signed(event: dict, secret: str | None = None, timestamp: int | None = None) -> tuple[bytes, str]:
    """The body and Stripe-Signature header, made with the stripe library's own signer."""
    import stripe

    body = json.dumps(event)
    header = stripe.WebhookSignature.generate_signature_header(
        body, secret or get_settings().webhook_secret, timestamp=timestamp)
    return body.encode(), header


@pytest.fixture
def send_event(client):
    def send(event_type: str, obj: dict, event_id: str | None = None, **kw):
        body, header = signed(stripe_event(event_type, obj, event_id), **kw)
        return client.post("/webhooks/stripe", content=body,
                           headers={"Stripe-Signature": header, "Content-Type": "application/json"})

    return send


@pytest.fixture
def special50(db):
    from api.payments import codes

    codes.ensure_demo_codes(db)
    db.commit()
    return codes.get(db, "special50")


@pytest.fixture
def learner(make_user, login):
    user = make_user()
    login(user.email)
    return user


def checkout_object(order, **fields) -> dict:
    """A Stripe checkout.session for `order`, as Stripe would send it in an event."""
    base = {"id": order.provider_session_id, "object": "checkout.session",
            "mode": "subscription" if order.instalment_count > 1 else "payment", "status": "complete",
            "payment_status": "paid", "client_reference_id": order.public_id,
            "metadata": {"cadre_order": order.public_id}, "amount_total": order.amount_total,
            "currency": order.currency.lower(), "customer": "cus_test_1", "payment_intent": None,
            "subscription": None, "invoice": None}
    base.update(fields)
    return base


def invoice_object(order, invoice_id: str, amount: int, *, paid: bool = True, payment_intent: str | None = None,
                   reason: str = "subscription_cycle", subscription: str = "sub_test_1") -> dict:
    return {"id": invoice_id, "object": "invoice", "status": "paid" if paid else "open", "billing_reason": reason,
            "amount_due": amount, "amount_paid": amount if paid else 0, "currency": order.currency.lower(),
            "hosted_invoice_url": "https://invoice.example/pay" if not paid else None,
            "parent": {"type": "subscription_details", "subscription_details": {
                "subscription": subscription, "metadata": {"cadre_order": order.public_id}}},
            "payments": {"object": "list", "data": [{"object": "invoice_payment", "status": "paid",
                                                     "payment": {"type": "payment_intent",
                                                                 "payment_intent": payment_intent}}]
                         if payment_intent else []}}
