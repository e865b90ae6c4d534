"""POST /webhooks/stripe: signatures, recording each event once, events twice or out of order,
refunds, disputes, failed instalments and the grace period."""

from __future__ import annotations

import time

import pytest
from sqlmodel import func, select

from api.learning import service as learning_service
from api.payments import service
from api.payments.models import Order, Payment, WebhookEvent
from tests.payments.conftest import checkout_object, invoice_object, signed, stripe_event


def _checkout(db, user, offer):
    order = service.start_checkout(db, user=user, programme_slug="acxs", offer_slug=offer, code_text="special50",
                                   address=None)
    db.commit()
    return order


@pytest.fixture
def order(db, make_user, special50):
    return _checkout(db, make_user(), "full")


@pytest.fixture
def plan(db, make_user, special50):
    return _checkout(db, make_user(), "instalments")


def _enrolment(db, order):
    return learning_service.get_enrolment(db, order.user_id, order.programme_id)


def _events(db) -> int:
    return db.exec(select(func.count()).select_from(WebhookEvent)).one()


def _payments(db, order) -> list[Payment]:
    db.expire_all()
    return list(db.exec(select(Payment).where(Payment.order_id == order.id).order_by(Payment.number)))


@pytest.mark.parametrize("how", ["tampered body", "wrong secret", "stale timestamp", "missing header",
                                 "garbled header"])
def test_a_bad_signature_is_refused_and_changes_nothing(client, db, order, how):
    event = stripe_event("checkout.session.completed", checkout_object(order, payment_intent="pi_1"))
    body, header = signed(event, secret="whsec_wrong" if how == "wrong secret" else None,
                          timestamp=int(time.time()) - 301 if how == "stale timestamp" else None)
    if how == "tampered body":
        body = body.replace(b'"amount_total": 43000', b'"amount_total": 1')
        assert b'"amount_total": 1' in body
    headers = {"Content-Type": "application/json"}
    if how == "garbled header":
        headers["Stripe-Signature"] = "nonsense"
    elif how != "missing header":
        headers["Stripe-Signature"] = header
    before = _events(db)
    r = client.post("/webhooks/stripe", content=body, headers=headers)
    assert r.status_code == 400 and r.json()["error"]["code"] == "bad_signature"
    db.refresh(order)
    assert order.status == "pending" and _enrolment(db, order) is None and _events(db) == before


def test_a_signed_body_that_is_not_an_event_is_refused(client, db):
    body = b"not json"
    import stripe

    from api.core.config import get_settings

    header = stripe.WebhookSignature.generate_signature_header(body.decode(), get_settings().webhook_secret)
    r = client.post("/webhooks/stripe", content=body, headers={"Stripe-Signature": header})
    assert r.status_code == 400 and r.json()["error"]["code"] == "bad_payload"


def test_unknown_event_types_are_acknowledged_and_ignored(send_event, db):
    r = send_event("customer.created", {"id": "cus_1", "object": "customer"}, event_id="evt_unknown_1")
    assert r.status_code == 200 and r.json() == {"received": True, "status": "ignored"}
    assert send_event("customer.created", {"id": "cus_1"}, event_id="evt_unknown_1").json()["status"] == "duplicate"


def test_a_checkout_cadre_did_not_make_is_ignored(send_event):
    obj = {"id": "cs_elsewhere", "object": "checkout.session", "mode": "payment", "payment_status": "paid",
           "metadata": {}, "client_reference_id": None}
    assert send_event("checkout.session.completed", obj).json()["status"] == "ignored"


def test_the_same_event_twice_enrols_once_and_mails_once(send_event, db, order, mailbox):
    obj = checkout_object(order, payment_intent="pi_twice")
    first = send_event("checkout.session.completed", obj, event_id="evt_same")
    second = send_event("checkout.session.completed", obj, event_id="evt_same")
    # Stripe may also send the same news under a new event id: still one enrolment, one receipt.
    third = send_event("checkout.session.completed", obj, event_id="evt_other")
    assert [r.json()["status"] for r in (first, second, third)] == ["processed", "duplicate", "processed"]
    db.refresh(order)
    assert order.status == "paid" and order.amount_paid == 43000
    assert _enrolment(db, order).status == "active"
    assert len(mailbox.to(_user_email(db, order))) == 1


def _user_email(db, order):
    from api.accounts.models import User

    return db.get(User, order.user_id).email


def test_instalment_events_out_of_order_give_one_enrolment(send_event, db, plan, mailbox):
    # invoice.paid for the first invoice arrives before checkout.session.completed.
    send_event("invoice.paid", invoice_object(plan, "in_1", 10750, payment_intent="pi_i1",
                                              reason="subscription_create"))
    db.refresh(plan)
    assert plan.status == "paid" and _enrolment(db, plan).source == "instalment_plan"
    send_event("checkout.session.completed", checkout_object(plan, subscription="sub_test_1", invoice=None))
    payments = _payments(db, plan)
    assert [p.status for p in payments] == ["paid", "due", "due", "due"]
    assert payments[0].provider_invoice_id == "in_1" and payments[0].provider_payment_intent_id == "pi_i1"
    # The second month: an invoice the order has not seen before takes the next instalment.
    send_event("invoice.paid", invoice_object(plan, "in_2", 10750, payment_intent="pi_i2"))
    send_event("invoice.paid", invoice_object(plan, "in_2", 10750, payment_intent="pi_i2"))  # new event id
    assert [p.status for p in _payments(db, plan)] == ["paid", "paid", "due", "due"]
    assert db.get(Order, plan.id).amount_paid == 21500
    assert len(mailbox.to(_user_email(db, plan))) == 1


def test_late_events_do_not_undo_a_payment(send_event, db, order):
    send_event("checkout.session.async_payment_succeeded", checkout_object(order, payment_intent="pi_a"))
    send_event("checkout.session.completed", checkout_object(order, payment_status="unpaid", payment_intent="pi_a"))
    send_event("checkout.session.expired", checkout_object(order, status="expired"))
    db.refresh(order)
    assert order.status == "paid" and _enrolment(db, order).status == "active"


def test_expired_checkout_releases_the_code(send_event, db, order):
    from api.payments.models import DiscountRedemption

    send_event("checkout.session.expired", checkout_object(order, status="expired", payment_status="unpaid"))
    db.refresh(order)
    assert order.status == "expired"
    assert db.exec(select(DiscountRedemption).where(DiscountRedemption.order_id == order.id)).one().status == "released"


def _charge(order, pi, refunded):
    return {"id": "ch_" + pi, "object": "charge", "amount": order.amount_total, "amount_refunded": refunded,
            "payment_intent": pi, "refunded": refunded >= order.amount_total, "currency": "gbp"}


def test_partial_refund_is_recorded_and_a_full_refund_cancels_the_enrolment(send_event, db, order, client):
    send_event("checkout.session.completed", checkout_object(order, payment_intent="pi_r"))
    send_event("charge.refunded", _charge(order, "pi_r", 10000))
    db.refresh(order)
    assert (order.status, order.amount_refunded) == ("paid", 10000)
    assert _enrolment(db, order).status == "active"
    send_event("charge.refunded", _charge(order, "pi_r", 43000))
    send_event("charge.refunded", _charge(order, "pi_r", 10000))  # a late, older total changes nothing
    db.refresh(order)
    assert (order.status, order.amount_refunded) == ("refunded", 43000)
    enrolment = _enrolment(db, order)
    assert enrolment.status == "cancelled" and enrolment.status_reason == "Refunded in full"


def test_disputes_pause_access_and_the_outcome_decides(send_event, db, order):
    send_event("checkout.session.completed", checkout_object(order, payment_intent="pi_d"))
    dispute = {"id": "dp_1", "object": "dispute", "charge": "ch_d", "payment_intent": "pi_d", "amount": 43000,
               "status": "needs_response"}
    send_event("charge.dispute.created", dispute)
    db.refresh(order)
    assert order.status == "disputed" and _enrolment(db, order).status == "suspended"
    send_event("charge.dispute.closed", {**dispute, "status": "won"})
    db.refresh(order)
    assert order.status == "paid" and _enrolment(db, order).status == "active"
    send_event("charge.dispute.created", {**dispute, "id": "dp_2"})
    send_event("charge.dispute.closed", {**dispute, "id": "dp_2", "status": "lost"})
    db.refresh(order)
    assert order.dispute_status == "lost" and _enrolment(db, order).status == "cancelled"


@pytest.fixture
def grace_days(monkeypatch):
    from api.core.config import get_settings

    def set_days(days: int):
        monkeypatch.setenv("CADRE_INSTALMENT_GRACE_DAYS", str(days))
        get_settings.cache_clear()

    yield set_days
    monkeypatch.delenv("CADRE_INSTALMENT_GRACE_DAYS", raising=False)
    get_settings.cache_clear()


def test_a_failed_instalment_suspends_after_the_grace_period_on_a_later_event(send_event, db, plan, grace_days):
    grace_days(3)
    send_event("checkout.session.completed", checkout_object(plan, subscription="sub_test_1", invoice="in_1"))
    send_event("invoice.payment_failed", invoice_object(plan, "in_2", 10750, paid=False))
    assert _enrolment(db, plan).status == "active"
    failed = _payments(db, plan)[1]
    assert failed.status == "failed" and failed.pay_url == "https://invoice.example/pay"
    failed.failed_at = failed.failed_at.replace(year=failed.failed_at.year - 1)
    db.add(failed)
    db.commit()
    # Stripe retries the card and fails again: that later event finds the grace period over.
    send_event("invoice.payment_failed", invoice_object(plan, "in_2", 10750, paid=False))
    enrolment = _enrolment(db, plan)
    assert enrolment.status == "suspended"
    send_event("invoice.paid", invoice_object(plan, "in_2", 10750, payment_intent="pi_late"))
    db.refresh(enrolment)
    assert enrolment.status == "active"
    assert [p.status for p in _payments(db, plan)] == ["paid", "paid", "due", "due"]


def test_with_no_grace_a_failed_instalment_suspends_at_once(send_event, db, plan, grace_days):
    grace_days(0)
    send_event("checkout.session.completed", checkout_object(plan, subscription="sub_test_1", invoice="in_1"))
    send_event("invoice.payment_failed", invoice_object(plan, "in_2", 10750, paid=False))
    assert _enrolment(db, plan).status == "suspended"
