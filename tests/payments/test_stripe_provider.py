"""The Stripe provider through the real `stripe` library over HTTP: localstripe for customers, payment
intents, refunds, subscriptions and its signed webhook delivery; the stand-in in front of it for
Checkout Sessions, subscription schedules and invoice payments (see stripe_standin.py)."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from sqlmodel import select

from api.accounts.models import Role
from api.learning import service as learning_service
from api.payments import codes
from api.payments.models import DiscountRedemption, Order, Payment, PaymentCustomer
from tests.payments.conftest import checkout_object, signed, stripe_event


def _post(client, event_type: str, obj: dict):
    body, header = signed(stripe_event(event_type, obj))
    r = client.post("/webhooks/stripe", content=body, headers={"Stripe-Signature": header})
    assert r.status_code == 200, r.text
    return r.json()["status"]


def _checkout(browser, db, user, offer: str, code: str = "special50") -> tuple[Order, str]:
    r = browser.post_form(f"/checkout/acxs?offer={offer}", "/checkout/acxs", offer=offer, code=code)
    assert r.status_code == 303, r.text
    order = db.exec(select(Order).where(Order.user_id == user.id).order_by(Order.id.desc())).first()
    return order, r.headers["location"]


def _card(stripe_client, customer: str) -> str:
    pm = stripe_client.v1.payment_methods.create(params={"type": "card", "card": {
        "number": "4242424242424242", "exp_month": 12, "exp_year": 2030, "cvc": "123"}})
    stripe_client.v1.payment_methods.attach(pm.id, params={"customer": customer})
    stripe_client.v1.customers.update(customer, params={"invoice_settings": {"default_payment_method": pm.id}})
    return pm.id


def _charge_event(stripe_client, payment_intent: str) -> dict:
    """charge.refunded as Stripe sends it: the charge, read back from localstripe."""
    pi = stripe_client.v1.payment_intents.retrieve(payment_intent)
    charge_id = pi.latest_charge if isinstance(pi.latest_charge, str) else pi.latest_charge.id
    charge = stripe_client.v1.charges.retrieve(charge_id).to_dict()
    return {k: charge[k] for k in ("id", "object", "amount", "amount_refunded", "refunded", "currency",
                                   "payment_intent", "status")}


def test_full_payment_checkout_and_refunds_through_stripe(stripe_settings, stripe_standin, stripe_client, client,
                                                          browser, learner, special50, db, make_user, login):
    order, location = _checkout(browser, db, learner, "full")
    assert location.startswith("https://checkout.stripe.com/c/pay/cs_test_")
    method, path, sent = stripe_standin.requests[-1]
    assert (method, path, sent["mode"]) == ("POST", "/v1/checkout/sessions", "payment")
    price = sent["line_items"][0]["price_data"]
    assert (price["unit_amount"], price["currency"]) == ("43000", "gbp")
    assert "Code SPECIAL50 applied" in price["product_data"]["description"]
    assert sent["metadata"]["cadre_order"] == order.public_id == sent["client_reference_id"]
    assert sent["payment_intent_data"]["metadata"]["cadre_order"] == order.public_id
    assert sent["success_url"].endswith(f"/checkout/success?order={order.public_id}")
    # The Stripe customer is real (in localstripe) and is the learner.
    customer = db.exec(select(PaymentCustomer).where(PaymentCustomer.user_id == learner.id)).one().external_id
    assert sent["customer"] == customer
    assert stripe_client.v1.customers.retrieve(customer).email == learner.email

    # Stripe takes the payment (made here in localstripe) and sends checkout.session.completed.
    _card(stripe_client, customer)
    pi = stripe_client.v1.payment_intents.create(params={"amount": 43000, "currency": "gbp", "customer": customer,
                                                         "payment_method": stripe_client.v1.customers.retrieve(
                                                             customer).invoice_settings.default_payment_method})
    assert stripe_client.v1.payment_intents.confirm(pi.id).status == "succeeded"
    assert _post(client, "checkout.session.completed",
                 checkout_object(order, id=order.provider_session_id, payment_intent=pi.id,
                                 customer=customer)) == "processed"
    db.refresh(order)
    assert order.status == "paid"

    admin = make_user(roles={Role.admin})
    login(admin.email)
    r = client.post(f"/api/v1/payments/orders/{order.public_id}/refunds", json={"amount": 10000})
    assert r.status_code == 200
    assert stripe_client.v1.refunds.list(params={"payment_intent": pi.id}).data[0].amount == 10000
    _post(client, "charge.refunded", _charge_event(stripe_client, pi.id))
    db.refresh(order)
    assert (order.status, order.amount_refunded) == ("paid", 10000)

    client.post(f"/api/v1/payments/orders/{order.public_id}/refunds", json={})
    charge = _charge_event(stripe_client, pi.id)
    assert charge["amount_refunded"] == 43000 and charge["refunded"] is True
    _post(client, "charge.refunded", charge)
    db.refresh(order)
    assert order.status == "refunded"
    assert learning_service.get_enrolment(db, learner.id, order.programme_id).status == "cancelled"


def _subscription(stripe_client, customer: str, amount: int, order: Order) -> dict:
    """What Checkout makes in subscription mode: a subscription whose first invoice is paid."""
    _card(stripe_client, customer)
    plan = stripe_client.v1.plans.create(params={"amount": amount, "currency": "gbp", "interval": "month",
                                                 "product": {"name": "ACX Specialist"}})
    sub = stripe_client.v1.subscriptions.create(params={"customer": customer, "items": [{"plan": plan.id}],
                                                        "metadata": {"cadre_order": order.public_id}})
    assert sub.status == "active"
    return {"sub": sub, "plan": plan}


def test_instalment_plan_is_scheduled_to_end_itself_and_a_full_refund_cancels_it(
        stripe_settings, stripe_standin, stripe_client, client, browser, learner, special50, db, make_user, login):
    order, _ = _checkout(browser, db, learner, "instalments")
    sent = stripe_standin.requests[-1][2]
    assert sent["mode"] == "subscription"
    price = sent["line_items"][0]["price_data"]
    assert (price["unit_amount"], price["recurring"]["interval"]) == ("10750", "month")
    assert sent["subscription_data"]["metadata"]["cadre_order"] == order.public_id

    made = _subscription(stripe_client, order.provider_customer_id, 10750, order)
    sub = made["sub"]
    assert _post(client, "checkout.session.completed", checkout_object(
        order, subscription=sub.id, customer=order.provider_customer_id)) == "processed"
    schedule = next(s for s in stripe_standin.schedules.values() if s["subscription"] == sub.id)
    assert schedule["end_behavior"] == "cancel"
    (phase,) = schedule["phases"]
    assert phase["duration"] == {"interval": "month", "interval_count": 4}
    assert phase["items"][0]["price"] == made["plan"].id and phase["start_date"] == sub.current_period_start

    # The first invoice's event in today's shape (no payments list): Cadre asks Stripe who paid it.
    invoice = stripe_client.v1.invoices.retrieve(sub.latest_invoice if isinstance(sub.latest_invoice, str)
                                                 else sub.latest_invoice.id).to_dict()
    event = {"id": invoice["id"], "object": "invoice", "status": "paid", "billing_reason": "subscription_create",
             "amount_paid": invoice["amount_paid"], "currency": "gbp",
             "parent": {"type": "subscription_details", "subscription_details": {
                 "subscription": sub.id, "metadata": {"cadre_order": order.public_id}}}}
    assert _post(client, "invoice.paid", event) == "processed"
    first = db.exec(select(Payment).where(Payment.order_id == order.id, Payment.number == 1)).one()
    assert first.provider_payment_intent_id == invoice["payment_intent"] and first.status == "paid"

    admin = make_user(roles={Role.admin})
    login(admin.email)
    assert client.post(f"/api/v1/payments/orders/{order.public_id}/refunds", json={}).status_code == 200
    _post(client, "charge.refunded", _charge_event(stripe_client, invoice["payment_intent"]))
    db.refresh(order)
    assert order.status == "refunded"
    assert stripe_client.v1.subscriptions.retrieve(sub.id).status == "canceled"


def test_an_uneven_plan_gets_a_second_phase_for_the_smaller_payments(stripe_settings, stripe_standin, stripe_client,
                                                                     client, browser, learner, db):
    codes.create(db, code="penny", amount_off=1, currency="GBP")
    db.commit()
    order, _ = _checkout(browser, db, learner, "instalments", code="penny")
    amounts = [p.amount for p in db.exec(select(Payment).where(Payment.order_id == order.id)
                                         .order_by(Payment.number))]
    assert amounts == [21500, 21500, 21500, 21499]
    sub = _subscription(stripe_client, order.provider_customer_id, 21500, order)["sub"]
    _post(client, "checkout.session.completed", checkout_object(order, subscription=sub.id))
    schedule = next(s for s in stripe_standin.schedules.values() if s["subscription"] == sub.id)
    first, second = schedule["phases"]
    assert first["duration"]["interval_count"] == 3 and second["duration"]["interval_count"] == 1
    assert second["items"][0]["price"]["unit_amount"] == 21499
    assert second["start_date"] == first["end_date"]


def test_a_new_checkout_expires_the_old_stripe_session(stripe_settings, stripe_standin, browser, learner, special50,
                                                       db):
    old, _ = _checkout(browser, db, learner, "full")
    new, _ = _checkout(browser, db, learner, "instalments")
    assert old.id != new.id
    assert stripe_standin.sessions[old.provider_session_id]["status"] == "expired"
    db.refresh(old)
    assert old.status == "expired"


def test_stripe_errors_reach_the_learner_as_a_message(stripe_settings, stripe_standin, client, browser, learner,
                                                      special50, db, monkeypatch):
    monkeypatch.setenv("CADRE_CHECKOUT_EXPIRY_MINUTES", "1")  # clamped to Stripe's 30-minute minimum
    from api.core.config import get_settings

    get_settings.cache_clear()
    ok, _ = _checkout(browser, db, learner, "full")
    from datetime import timedelta

    from api.core.db import utcnow

    assert timedelta(minutes=29) < ok.expires_at - utcnow() <= timedelta(minutes=30)
    monkeypatch.setattr("api.payments.providers.stripe.StripeProvider.customer_for",
                        lambda self, session, user: "cus_does_not_exist")
    r = browser.post_form("/checkout/acxs?offer=instalments", "/checkout/acxs", offer="instalments",
                          code="special50")
    assert r.status_code == 409 and "The payment page could not be opened" in r.text
    assert "Nothing was charged" in r.text
    # Nothing half-written stays: no second order, no code held for it.
    from api.payments.models import DiscountRedemption

    assert [o.id for o in db.exec(select(Order).where(Order.user_id == learner.id))] == [ok.id]
    assert len(db.exec(select(DiscountRedemption).where(DiscountRedemption.user_id == learner.id)).all()) == 1


class _Capture(BaseHTTPRequestHandler):
    received: list[tuple[bytes, str]] = []

    def log_message(self, *args):
        pass

    def do_POST(self):  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        _Capture.received.append((body, self.headers.get("Stripe-Signature", "")))
        self.send_response(200)
        self.end_headers()


def test_localstripe_signed_webhooks_pass_cadres_verification(stripe_settings, localstripe, stripe_client, client,
                                                              db):
    """localstripe signs its deliveries itself: an independent implementation of Stripe's scheme."""
    import httpx

    server = ThreadingHTTPServer(("127.0.0.1", 0), _Capture)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/hook"
        r = httpx.post(f"{localstripe}/_config/webhooks/cadre", data={
            "url": url, "secret": stripe_settings.stripe_webhook_secret, "events[]": "customer.created"})
        assert r.status_code == 200
        _Capture.received.clear()
        stripe_client.v1.customers.create(params={"email": "hook@example.com"})
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not [b for b, _ in _Capture.received if b"hook@example.com" in b]:
            time.sleep(0.1)
    finally:
        server.shutdown()
        server.server_close()
    mine = [(b, h) for b, h in _Capture.received if b"hook@example.com" in b]
    assert mine, "localstripe delivered nothing"
    body, header = mine[0]
    assert json.loads(body)["type"] == "customer.created" and header.startswith("t=")
    ok = client.post("/webhooks/stripe", content=body, headers={"Stripe-Signature": header})
    assert ok.status_code == 200 and ok.json()["status"] == "ignored"
    tampered = body.replace(b"hook@", b"evil@")
    assert tampered != body
    bad = client.post("/webhooks/stripe", content=tampered, headers={"Stripe-Signature": header})
    assert bad.status_code == 400


def test_with_stripe_configured_only_its_webhook_secret_verifies(stripe_settings, client):
    body, header = signed(stripe_event("customer.created", {"id": "cus_x"}), secret="whsec_offline_guess")
    assert client.post("/webhooks/stripe", content=body, headers={"Stripe-Signature": header}).status_code == 400
    body, header = signed(stripe_event("customer.created", {"id": "cus_x"}),
                          secret=stripe_settings.stripe_webhook_secret)
    assert client.post("/webhooks/stripe", content=body, headers={"Stripe-Signature": header}).status_code == 200


def _grant(browser, login, make_user, learner):
    admin = make_user(roles={Role.admin})
    login(admin.email)
    r = browser.post_form("/admin/enrolments", email=learner.email, programme="acxs")
    assert r.status_code == 303, r.text
    login(learner.email)


def test_a_grant_expires_the_open_stripe_checkout(stripe_settings, stripe_standin, browser, learner, special50, db,
                                                  make_user, login):
    order, _ = _checkout(browser, db, learner, "full")
    _grant(browser, login, make_user, learner)
    assert stripe_standin.sessions[order.provider_session_id]["status"] == "expired"
    db.refresh(order)
    assert order.status == "expired" and "given the programme" in order.status_note
    redemption = db.exec(select(DiscountRedemption).where(DiscountRedemption.order_id == order.id)).one()
    assert redemption.status == "released"


def test_stripe_money_for_a_programme_already_held_is_refunded_at_stripe(
        stripe_settings, stripe_standin, stripe_client, client, browser, learner, special50, db, make_user, login,
        mailbox):
    """The learner pays at Stripe as the administrator grants the programme: Stripe will not expire a
    completed session, so the grant leaves it, and the payment's event is answered with a refund."""
    order, _ = _checkout(browser, db, learner, "full")
    customer = order.provider_customer_id
    _card(stripe_client, customer)
    pi = stripe_client.v1.payment_intents.create(params={
        "amount": 43000, "currency": "gbp", "customer": customer,
        "payment_method": stripe_client.v1.customers.retrieve(customer).invoice_settings.default_payment_method})
    assert stripe_client.v1.payment_intents.confirm(pi.id).status == "succeeded"
    stripe_standin.sessions[order.provider_session_id]["status"] = "complete"

    _grant(browser, login, make_user, learner)
    db.refresh(order)
    assert order.status == "pending"  # a payment is on its way: left for the refund below
    assert _post(client, "checkout.session.completed",
                 checkout_object(order, payment_intent=pi.id, customer=customer)) == "processed"
    refunds = stripe_client.v1.refunds.list(params={"payment_intent": pi.id}).data
    assert [r.amount for r in refunds] == [43000]
    db.refresh(order)
    assert order.status == "refunded" and "already holds ACX Specialist" in order.status_note
    assert not [m for m in mailbox.to(learner.email) if "receipt" in m["Subject"].lower()]
    # Stripe then reports the refund: recorded, the learner told once, and the granted place is untouched.
    _post(client, "charge.refunded", _charge_event(stripe_client, pi.id))
    (msg,) = [m for m in mailbox.to(learner.email) if "refunded" in m["Subject"]]
    assert "We refunded £430 because you already hold ACX Specialist" in mailbox.body(msg)
    assert "access to ACX Specialist has ended" not in mailbox.body(msg)
    db.refresh(order)
    assert (order.status, order.amount_refunded) == ("refunded", 43000)
    enrolment = learning_service.get_enrolment(db, learner.id, order.programme_id)
    assert (enrolment.status, enrolment.source) == ("active", "admin_grant")
