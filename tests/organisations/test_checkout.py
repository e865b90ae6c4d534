"""Buying seats: one order for N seats (paid in full), through the offline provider's checkout page and
through Stripe (the real library against localstripe and the stand-in). The payment credits the
organisation's pool exactly once, however often the provider tells us, and enrols nobody."""

from __future__ import annotations

from sqlmodel import select

from api.learning import service as learning_service
from api.organisations import seats
from api.organisations.models import SeatCredit, SeatPool
from api.payments.models import Order
from tests.conftest import csrf_from
from tests.payments.conftest import checkout_object, signed, stripe_event


def _pool(db, team) -> SeatPool | None:
    db.expire_all()
    return db.exec(select(SeatPool).where(SeatPool.organisation_id == team.org.id)).first()


def test_an_owner_buys_three_seats_through_the_offline_checkout(client, db, team, login, mailbox):
    login(team.owner.email)
    url = f"/organisations/{team.org.public_id}/seats"
    page = client.get(url)
    assert "Buy seats" in page.text
    r = client.post(f"{url}/buy", data={"csrf_token": csrf_from(page.text), "programme": "acxp", "quantity": "3"},
                    follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/payments/offline/cs_offline_")
    order = db.exec(select(Order).where(Order.user_id == team.owner.id)).one()
    assert (order.quantity, order.organisation_id, order.amount_total) == (3, team.org.id, 3 * 145000)
    checkout = client.get(r.headers["location"])
    assert "Seats" in checkout.text and "£4,350" in checkout.text
    paid = client.post(r.headers["location"], data={"csrf_token": csrf_from(checkout.text), "action": "pay"},
                       follow_redirects=False)
    assert paid.status_code == 303 and paid.headers["location"] == f"{url}?paid={order.public_id}"
    after = client.get(paid.headers["location"])
    assert "3</strong> of 3 seats free" in after.text
    pool = _pool(db, team)
    assert (pool.quantity, pool.assigned) == (3, 0)
    # The buyer is not enrolled: the seats are the organisation's to assign.
    assert learning_service.get_enrolment(db, team.owner.id, pool.programme_id) is None
    subjects = mailbox.subjects(team.owner.email)
    assert any("3 seats of ACXP added to Acme Services" in s for s in subjects)
    receipt = next(m for m in mailbox.to(team.owner.email) if "receipt" in str(m["Subject"]).lower())
    assert "3 seats of Accredited Customer Experience Professional (ACXP) have been added" in mailbox.body(receipt)


def test_the_same_payment_told_twice_credits_once(client, db, team, login):
    from api.payments.providers import get_provider

    login(team.owner.email)
    r = client.post(f"/api/v1/organisations/{team.org.public_id}/seats/checkout",
                    json={"programme": "acxp", "quantity": 2})
    assert r.status_code == 201 and r.json()["amount_total"] == 290000
    order = db.exec(select(Order).where(Order.public_id == r.json()["order"])).one()
    get_provider().pay(db, order)
    from api.payments import lifecycle

    lifecycle.order_paid(db, order)  # a second confirmation of the same order
    assert seats.credit_order(db, order) is False
    pool = _pool(db, team)
    assert pool.quantity == 2
    assert len(db.exec(select(SeatCredit).where(SeatCredit.pool_id == pool.id)).all()) == 1


def test_a_bad_quantity_or_a_cohort_programme_is_refused(client, team, login):
    login(team.owner.email)
    url = f"/api/v1/organisations/{team.org.public_id}/seats/checkout"
    assert client.post(url, json={"programme": "acxp", "quantity": 0}).status_code == 422
    r = client.post(url, json={"programme": "coim", "quantity": 2})
    assert r.status_code == 422 and r.json()["error"]["code"] == "cohort_programme"


def _post(client, event_type: str, obj: dict, event_id: str | None = None) -> str:
    body, header = signed(stripe_event(event_type, obj, event_id))
    r = client.post("/webhooks/stripe", content=body, headers={"Stripe-Signature": header})
    assert r.status_code == 200, r.text
    return r.json()["status"]


def test_an_owner_buys_seats_through_stripe(stripe_settings, stripe_standin, stripe_client, client, db, team, login):
    login(team.owner.email)
    r = client.post(f"/api/v1/organisations/{team.org.public_id}/seats/checkout",
                    json={"programme": "acxp", "quantity": 3})
    assert r.status_code == 201, r.text
    assert r.json()["checkout_url"].startswith("https://checkout.stripe.com/c/pay/cs_test_")
    method, path, sent = stripe_standin.requests[-1]
    assert (method, path, sent["mode"]) == ("POST", "/v1/checkout/sessions", "payment")
    item = sent["line_items"][0]
    assert (item["quantity"], item["price_data"]["unit_amount"]) == ("3", "145000")
    assert sent["success_url"].endswith(f"/organisations/{team.org.public_id}/seats?paid={r.json()['order']}")
    order = db.exec(select(Order).where(Order.public_id == r.json()["order"])).one()

    customer = sent["customer"]
    pm = stripe_client.v1.payment_methods.create(params={"type": "card", "card": {
        "number": "4242424242424242", "exp_month": 12, "exp_year": 2030, "cvc": "123"}})
    stripe_client.v1.payment_methods.attach(pm.id, params={"customer": customer})
    pi = stripe_client.v1.payment_intents.create(params={"amount": 435000, "currency": "gbp", "customer": customer,
                                                         "payment_method": pm.id})
    assert stripe_client.v1.payment_intents.confirm(pi.id).status == "succeeded"
    completed = checkout_object(order, payment_intent=pi.id, customer=customer)
    assert _post(client, "checkout.session.completed", completed) == "processed"
    db.refresh(order)
    assert order.status == "paid"
    assert _pool(db, team).quantity == 3
    # Stripe delivers again (same event id), and a second event about the same session: still 3 seats.
    _post(client, "checkout.session.completed", completed, event_id="evt_test_seats_once")
    _post(client, "checkout.session.completed", completed, event_id="evt_test_seats_once")
    _post(client, "checkout.session.async_payment_succeeded", completed)
    assert _pool(db, team).quantity == 3


def test_a_full_refund_takes_the_seats_back_and_waits_for_seats_in_use(client, db, team, login):
    """Refunding an organisation's order in full returns its seats: refused (409, nothing refunded) while a
    member holds one of them; once it is taken back, the refund goes through and the pool shrinks by the
    order's seats."""
    import pytest

    from api.core.errors import Conflict
    from api.payments import service as payments_service
    from api.payments.providers import get_provider

    login(team.owner.email)
    r = client.post(f"/api/v1/organisations/{team.org.public_id}/seats/checkout",
                    json={"programme": "acxp", "quantity": 3})
    order = db.exec(select(Order).where(Order.public_id == r.json()["order"])).one()
    get_provider().pay(db, order)
    pool = _pool(db, team)
    assignment = seats.assign(db, team.org, pool, team.membership(db, team.member), team.owner)
    with pytest.raises(Conflict) as refused, db.begin_nested():
        payments_service.refund(db, order, amount=None, by=team.admin, reason="Cancelled")
    assert refused.value.code == "seats_in_use" and "1 of the 3 seats" in refused.value.message
    db.refresh(order)
    assert order.status == "paid" and order.amount_refunded == 0 and _pool(db, team).quantity == 3

    seats.take_back(db, team.org, _pool(db, team), assignment.id, team.owner)
    payments_service.refund(db, order, amount=None, by=team.admin, reason="Cancelled")
    db.refresh(order)
    pool = _pool(db, team)
    assert order.status == "refunded" and (pool.quantity, pool.assigned) == (0, 0)
    debit = db.exec(select(SeatCredit).where(SeatCredit.pool_id == pool.id, SeatCredit.source == "refund")).one()
    assert debit.quantity == -3 and order.public_id in debit.note
