"""One learner, one programme, one open checkout; money for a programme the learner already holds goes
back automatically; refunds are all or nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from api.accounts.models import Role
from api.catalog import service as catalog_service
from api.learning import service as learning_service
from api.learning.models import Enrolment, EnrolmentSource
from api.payments import service
from api.payments.models import Order, Payment, Refund, WebhookEvent
from api.payments.providers.offline import OfflineProvider
from tests.payments.conftest import checkout_object


def _orders(db, user) -> list[Order]:
    return list(db.exec(select(Order).where(Order.user_id == user.id).order_by(Order.id)
                        .execution_options(populate_existing=True)))


def _open(db, user) -> list[Order]:
    return [o for o in _orders(db, user) if o.status in ("pending", "processing")]


def _checkout(client, offer="full", code=None):
    return client.post("/api/v1/payments/checkout", json={"programme": "acxs", "offer": offer, "code": code})


# --- one open checkout -----------------------------------------------------------------------------

def test_the_database_refuses_a_second_open_checkout_for_one_programme(db, make_user):
    user = make_user()
    order = service.start_checkout(db, user=user, programme_slug="acxs", offer_slug="full", code_text=None,
                                   address=None)
    db.commit()
    twin = Order(public_id="ord_twin", user_id=user.id, programme_id=order.programme_id, offer_id=order.offer_id,
                 kind="full", currency="GBP", amount_before=86000, amount_total=86000, provider="offline",
                 status="processing")
    with pytest.raises(IntegrityError), db.begin_nested():
        db.add(twin)
        db.flush()
    # A closed one does not count: the learner may open another after it.
    twin.public_id, twin.status = "ord_twin2", "expired"
    with db.begin_nested():
        db.add(twin)
        db.flush()


def test_asking_again_hands_back_the_same_checkout_and_another_offer_replaces_it(client, learner, db):
    first = _checkout(client)
    assert first.status_code == 201
    again = _checkout(client)
    assert again.status_code == 200, again.text
    assert again.json()["checkout_url"] == first.json()["checkout_url"]
    assert again.json()["order"]["id"] == first.json()["order"]["id"]
    plan = _checkout(client, offer="instalments")
    assert plan.status_code == 201 and plan.json()["checkout_url"] != first.json()["checkout_url"]
    assert [o.public_id for o in _open(db, learner)] == [plan.json()["order"]["id"]]
    old = service.get_order(db, first.json()["order"]["id"])
    assert (old.status, old.status_note) == ("expired", "Replaced by a newer checkout.")


def test_a_bank_payment_on_its_way_is_not_paid_for_twice(client, browser, learner, db):
    r = browser.post_form("/checkout/acxs?offer=full", "/checkout/acxs", offer="full")
    browser.post_form(r.headers["location"], action="pay_async")
    assert [o.status for o in _orders(db, learner)] == ["processing"]
    again = _checkout(client)
    assert again.status_code == 409, again.text
    assert again.json()["error"]["code"] == "payment_in_progress"
    assert "already on its way" in again.json()["error"]["message"]
    assert len(_orders(db, learner)) == 1


# --- money for a programme already held ----------------------------------------------------------

def _grant(client, browser, login, make_user, learner):
    admin = make_user(roles={Role.admin})
    login(admin.email)
    r = browser.post_form("/admin/enrolments", email=learner.email, programme="acxs")
    assert r.status_code == 303, r.text
    login(learner.email)


def _enrolments(db, user) -> int:
    return db.exec(select(func.count()).select_from(Enrolment).where(Enrolment.user_id == user.id)).one()


def _refund_mail(mailbox, user) -> str:
    (msg,) = [m for m in mailbox.to(user.email) if "refunded" in m["Subject"]]
    return mailbox.body(msg)


def test_a_grant_closes_the_open_checkout_and_money_that_still_arrives_is_refunded(
        client, browser, login, make_user, learner, send_event, db, mailbox):
    opened = _checkout(client).json()
    order = service.get_order(db, opened["order"]["id"])
    _grant(client, browser, login, make_user, learner)
    db.refresh(order)
    assert order.status == "expired" and "given the programme" in order.status_note
    # The learner can no longer pay it on the provider's page...
    page = browser.post_form(opened["checkout_url"], action="pay")
    assert page.status_code == 409 and "no longer open" in page.text
    # ...but a payment completed at that moment still arrives through the webhook.
    assert send_event("checkout.session.completed", checkout_object(order, payment_intent="pi_late")).json()[
        "status"] == "processed"
    db.refresh(order)
    assert order.status == "refunded" and order.amount_refunded == 86000
    assert "already holds ACX Specialist" in order.status_note
    (refund,) = db.exec(select(Refund).where(Refund.order_id == order.id)).all()
    assert refund.amount == 86000 and "already holds" in refund.reason
    enrolment = learning_service.get_enrolment(db, learner.id, order.programme_id)
    assert (enrolment.status, enrolment.source, _enrolments(db, learner)) == ("active", "admin_grant", 1)
    assert not [m for m in mailbox.to(learner.email) if "receipt" in m["Subject"].lower()]
    body = _refund_mail(mailbox, learner)
    assert "We refunded £860 because you already hold ACX Specialist" in body
    assert "http://testserver/learn/acxs" in body and order.public_id in body
    assert client.get("/api/v1/payments/orders").json()["items"][0]["status"] == "refunded"


def test_paying_an_old_checkout_after_getting_the_programme_another_way_is_refunded(
        client, browser, learner, db, mailbox):
    """Access given without the grant (another part of Cadre, an earlier order): the checkout is still
    open and the learner pays it on the offline page."""
    r = browser.post_form("/checkout/acxs?offer=full", "/checkout/acxs", offer="full")
    acxs = catalog_service.get_by_slug(db, "acxs")
    learning_service.enrol(db, user_id=learner.id, programme_id=acxs.id, source=EnrolmentSource.admin_grant)
    db.commit()
    paid = browser.post_form(r.headers["location"], action="pay")
    assert paid.status_code == 303
    (order,) = _orders(db, learner)
    assert (order.status, order.amount_paid, order.amount_refunded) == ("refunded", 86000, 86000)
    assert _enrolments(db, learner) == 1
    assert learning_service.get_enrolment(db, learner.id, acxs.id).source == "admin_grant"
    assert "We refunded £860 because you already hold ACX Specialist" in _refund_mail(mailbox, learner)
    assert len(mailbox.to(learner.email)) == 1  # no receipt
    # The success page tells the truth about it.
    assert "refunded" in client.get(paid.headers["location"]).text.lower()


def test_an_instalment_plan_for_a_programme_already_held_is_stopped_and_refunded(
        client, browser, learner, db, mailbox):
    r = browser.post_form("/checkout/acxs?offer=instalments", "/checkout/acxs", offer="instalments")
    acxs = catalog_service.get_by_slug(db, "acxs")
    learning_service.enrol(db, user_id=learner.id, programme_id=acxs.id, source=EnrolmentSource.admin_grant)
    db.commit()
    browser.post_form(r.headers["location"], action="pay")
    (order,) = _orders(db, learner)
    statuses = [p.status for p in db.exec(select(Payment).where(Payment.order_id == order.id)
                                          .order_by(Payment.number))]
    assert statuses == ["paid", "cancelled", "cancelled", "cancelled"]
    assert (order.status, order.amount_refunded) == ("refunded", 21500)
    assert "We refunded £215 because you already hold ACX Specialist" in _refund_mail(mailbox, learner)
    assert _enrolments(db, learner) == 1


def test_the_same_late_payment_delivered_twice_is_refunded_once(client, learner, send_event, db, mailbox):
    order = service.get_order(db, _checkout(client).json()["order"]["id"])
    acxs = catalog_service.get_by_slug(db, "acxs")
    learning_service.enrol(db, user_id=learner.id, programme_id=acxs.id, source=EnrolmentSource.admin_grant)
    db.commit()
    for _ in range(2):
        send_event("checkout.session.completed", checkout_object(order, payment_intent="pi_twice"))
    assert len(db.exec(select(Refund).where(Refund.order_id == order.id)).all()) == 1
    assert len(mailbox.to(learner.email)) == 1


# --- refunds are all or nothing --------------------------------------------------------------------

def test_a_refund_that_fails_halfway_leaves_nothing_of_itself(client, browser, make_user, login, db, monkeypatch):
    buyer = make_user()
    login(buyer.email)
    r = browser.post_form("/checkout/acxs?offer=instalments", "/checkout/acxs", offer="instalments")
    offline = r.headers["location"]
    browser.post_form(offline, action="pay")
    browser.post_form(offline, action="pay_next")
    (order,) = _orders(db, buyer)
    assert order.amount_paid == 43000
    events_before = db.exec(select(func.count()).select_from(WebhookEvent)).one()

    real = OfflineProvider.refund
    calls = []

    def second_fails(self, session, order, payment, amount):
        calls.append(payment.number)
        if len(calls) == 2:
            from api.payments.providers import ProviderError

            raise ProviderError("the card issuer refused the refund")
        return real(self, session, order, payment, amount)

    monkeypatch.setattr(OfflineProvider, "refund", second_fails)
    admin = make_user(roles={Role.admin})
    login(admin.email)
    done = browser.post_form("/admin/orders", f"/admin/orders/{order.public_id}/refund", amount="", confirmed="yes")
    assert done.status_code == 303 and calls == [2, 1]
    assert "refused the refund" in client.get(done.headers["location"]).text
    db.refresh(order)
    assert (order.status, order.amount_refunded) == ("paid", 0)
    assert db.exec(select(Refund).where(Refund.order_id == order.id)).all() == []
    assert [p.amount_refunded for p in db.exec(select(Payment).where(Payment.order_id == order.id))] == [0] * 4
    assert db.exec(select(func.count()).select_from(WebhookEvent)).one() == events_before
    assert learning_service.get_enrolment(db, buyer.id, order.programme_id).status == "active"


def test_buying_again_after_access_ran_out_gives_access_again(client, learner, db, send_event, mailbox):
    """A learner whose time-limited access ended may buy the programme again: the payment is not
    refunded as a duplicate and their place opens again, with its progress."""
    from datetime import timedelta

    from api.core.db import utcnow

    programme = catalog_service.get_by_slug(db, "acxs")
    old = learning_service.enrol(db, user_id=learner.id, programme_id=programme.id,
                                 source=EnrolmentSource.admin_grant, access_days=30)
    old.access_until = utcnow() - timedelta(days=1)
    db.add(old)
    db.commit()
    assert not learning_service.has_access(learning_service.get_enrolment(db, learner.id, programme.id))

    opened = _checkout(client)
    assert opened.status_code == 201, opened.text
    order = service.get_order(db, opened.json()["order"]["id"])
    assert send_event("checkout.session.completed", checkout_object(order, payment_intent="pi_again")).json()[
        "status"] == "processed"
    db.refresh(order)
    assert order.status == "paid" and order.amount_refunded == 0
    enrolment = learning_service.get_enrolment(db, learner.id, programme.id)
    db.refresh(enrolment)
    assert learning_service.has_access(enrolment) and enrolment.reference == order.public_id
    assert [m for m in mailbox.to(learner.email) if "receipt" in m["Subject"].lower()]
    assert client.get("/learn/acxs", follow_redirects=False).status_code in (200, 303)
