"""Buying through the offline provider over HTTP: the same event code as Stripe, end to end."""

from __future__ import annotations

import re

from sqlmodel import select

from api.catalog import service as catalog_service
from api.learning import service as learning_service
from api.learning.models import EnrolmentSource
from api.payments.models import DiscountRedemption, Order, Payment, WebhookEvent


def _order(db, user) -> Order:
    return db.exec(select(Order).where(Order.user_id == user.id).order_by(Order.id.desc())).first()


def _start(browser, offer="full", code="special50"):
    r = browser.post_form(f"/checkout/acxs?offer={offer}&code={code}", "/checkout/acxs", offer=offer, code=code)
    assert r.status_code == 303, r.text
    assert r.headers["location"].startswith("/payments/offline/cs_offline_")
    return r.headers["location"]


def test_programme_page_offers_both_ways_to_pay_and_a_code_field(client):
    page = client.get("/programmes/acxs").text
    assert 'action="/checkout/acxs"' in page
    assert "Lifetime access:" in page and "£860" in page
    assert "4 × £215 monthly" in page
    assert 'name="code"' in page and "Enrolment opens soon" not in page


def test_checkout_needs_an_account(client):
    r = client.get("/checkout/acxs", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login?next=/checkout/acxs"


def test_checkout_page_shows_the_price_after_the_code_before_paying(client, learner, special50):
    page = client.get("/checkout/acxs?offer=full&code=SPECIAL50").text
    assert "Code SPECIAL50" in page and "−£430" in page
    assert re.search(r'data-testid="total">£430<', page)
    assert "Pay £430" in page
    plan = client.get("/checkout/acxs?offer=instalments&code=special50").text
    assert "4 × £107.50 monthly (£430 in all)" in plan and "Pay £107.50 now" in plan


def test_checkout_page_says_why_a_code_does_not_apply(client, learner):
    page = client.get("/checkout/acxs?offer=full&code=nope").text
    assert "We do not know the code NOPE" in page and "Pay £860" in page


def test_the_ladder_is_checked_before_taking_money(client, browser, learner, db):
    page = client.get("/checkout/acxm")
    assert page.status_code == 403
    assert "expects you to hold Accredited Customer Experience Professional (ACXP) first" in page.text
    r = browser.post_form("/programmes/acxm", "/checkout/acxm", offer="")
    assert r.status_code == 403 and "ACXP" in r.text
    assert db.exec(select(Order).where(Order.user_id == learner.id)).first() is None
    api = client.post("/api/v1/payments/checkout", json={"programme": "acxm"})
    assert api.status_code == 403 and api.json()["error"]["code"] == "prerequisite_missing"


def test_a_learner_already_enrolled_is_told_so_instead_of_paying_twice(client, browser, learner, db):
    acxs = catalog_service.get_by_slug(db, "acxs")
    learning_service.enrol(db, user_id=learner.id, programme_id=acxs.id, source=EnrolmentSource.admin_grant)
    db.commit()
    page = client.get("/checkout/acxs")
    assert page.status_code == 409 and "You are already enrolled in ACX Specialist" in page.text
    r = browser.post_form("/programmes/acxs", "/checkout/acxs", offer="full")
    assert r.status_code == 409 and _order(db, learner) is None


def test_buy_acxs_with_special50_in_full(client, browser, learner, special50, db, mailbox):
    offline = _start(browser)
    page = client.get(offline).text
    assert "Pay £430" in page and "Offline payment provider" in page
    r = browser.post_form(offline, action="pay")
    order = _order(db, learner)
    assert r.headers["location"] == f"/checkout/success?order={order.public_id}"
    done = client.get(r.headers["location"], follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/learn/acxs"

    db.refresh(order)
    assert (order.status, order.amount_paid, order.discount_amount) == ("paid", 43000, 43000)
    enrolment = learning_service.get_enrolment(db, learner.id, order.programme_id)
    assert enrolment.status == "active" and enrolment.source == "purchase" and enrolment.reference == order.public_id
    redemption = db.exec(select(DiscountRedemption).where(DiscountRedemption.order_id == order.id)).one()
    assert redemption.status == "redeemed"
    receipts = mailbox.to(learner.email)
    assert len(receipts) == 1
    body = mailbox.body(receipts[0])
    lines = {line.rstrip() for line in body.splitlines()}  # each on a line of its own, not "£860Discount"
    assert {"Price: £860", "Discount (SPECIAL50): −£430", "Total: £430",
            "Start learning: http://testserver/learn/acxs"} <= lines
    assert 'href="http://testserver/learn/acxs"' in receipts[0].get_body(("html",)).get_content()
    billing = client.get("/billing").text
    assert order.public_id in billing and "paid" in billing and "Paid so far" in billing
    assert client.get("/api/v1/payments/orders").json()["items"][0]["status"] == "paid"
    # The learner has the programme now: no second payment.
    assert client.get("/checkout/acxs").status_code == 409


def test_instalments_pay_fail_grace_suspend_and_restore(client, browser, learner, special50, db, mailbox):
    from datetime import timedelta

    from api.payments import service

    offline = _start(browser, offer="instalments")
    assert "Pay £107.50" in client.get(offline).text
    browser.post_form(offline, action="pay")
    order = _order(db, learner)
    payments = db.exec(select(Payment).where(Payment.order_id == order.id).order_by(Payment.number)).all()
    assert [p.status for p in payments] == ["paid", "due", "due", "due"]
    assert [p.amount for p in payments] == [10750] * 4
    assert payments[1].due_date.month != payments[0].due_date.month
    body = mailbox.body(mailbox.to(learner.email)[0])
    assert "Your 4 monthly payments:" in body and body.count("£107.50") == 4

    browser.post_form(offline, action="pay_next")
    r = browser.post_form(offline, action="fail_next")
    assert r.headers["location"] == "/billing"
    db.expire_all()
    payments = db.exec(select(Payment).where(Payment.order_id == order.id).order_by(Payment.number)).all()
    assert [p.status for p in payments] == ["paid", "paid", "failed", "due"]
    enrolment = learning_service.get_enrolment(db, learner.id, order.programme_id)
    assert enrolment.status == "active"  # within the grace period
    assert "Pay by" in client.get("/billing").text

    # Eight days later the sweep finds the instalment still unpaid.
    payments[2].failed_at -= timedelta(days=8)
    db.add(payments[2])
    db.commit()
    assert service.sweep(db)["suspended"] == 1
    db.refresh(enrolment)
    assert enrolment.status == "suspended" and "Instalment 3 of 4" in enrolment.status_reason
    assert client.get("/checkout/acxs").status_code == 409  # told to settle, not to buy again

    browser.post_form(offline, action="pay_next")  # the failed invoice is paid on retry
    db.expire_all()
    assert learning_service.get_enrolment(db, learner.id, order.programme_id).status == "active"
    browser.post_form(offline, action="pay_next")
    db.expire_all()
    assert [p.status for p in db.exec(select(Payment).where(Payment.order_id == order.id))] == ["paid"] * 4
    assert db.get(Order, order.id).amount_paid == 43000
    subjects = mailbox.subjects(learner.email)
    assert len([s for s in subjects if s.startswith("Your receipt")]) == 1  # one receipt per order
    assert len([s for s in subjects if s.startswith("Instalment 3 of 4 for ACXS failed: pay by ")]) == 1, subjects


def test_cancel_and_decline(client, browser, learner, special50, db):
    offline = _start(browser)
    declined = browser.post_form(offline, action="decline")
    assert declined.status_code == 402 and "declined" in declined.text
    order = _order(db, learner)
    assert order.status == "pending"
    r = browser.post_form(offline, action="cancel")
    assert r.headers["location"] == f"/checkout/acxs/cancelled?order={order.public_id}"
    assert "Nothing was charged" in client.get(r.headers["location"]).text
    db.refresh(order)
    assert order.status == "expired"
    assert db.exec(select(DiscountRedemption).where(DiscountRedemption.order_id == order.id)).one().status == "released"
    # The code is free to use again.
    assert "Code SPECIAL50" in client.get("/checkout/acxs?code=special50").text


def test_bank_debit_settles_later_or_fails_and_releases_the_code(client, browser, learner, special50, db):
    offline = _start(browser)
    browser.post_form(offline, action="pay_async")
    order = _order(db, learner)
    assert order.status == "processing"
    assert "bank payment is on its way" in client.get(f"/checkout/success?order={order.public_id}").text
    browser.post_form(offline, action="bounce")
    db.refresh(order)
    assert order.status == "failed"
    assert learning_service.get_enrolment(db, learner.id, order.programme_id) is None
    assert db.exec(select(DiscountRedemption).where(DiscountRedemption.order_id == order.id)).one().status == "released"

    offline = _start(browser)
    browser.post_form(offline, action="pay_async")
    browser.post_form(offline, action="settle")
    order = _order(db, learner)
    assert order.status == "paid" and learning_service.get_enrolment(db, learner.id, order.programme_id)


def test_double_click_on_pay_reuses_the_open_checkout(browser, learner, special50, db):
    first, second = _start(browser), _start(browser)
    assert first == second
    assert len(db.exec(select(Order).where(Order.user_id == learner.id)).all()) == 1


def test_a_stranger_cannot_open_someone_elses_checkout(client, browser, learner, special50, make_user, login, db):
    offline = _start(browser)
    order = _order(db, learner)
    assert client.get(f"/api/v1/payments/orders/{order.public_id}").json()["amount_total"] == 43000
    other = make_user()
    login(other.email)
    assert client.get(offline).status_code == 404
    assert browser.client.post(offline, data={"action": "pay"}).status_code in (403, 404)
    assert client.get("/api/v1/payments/orders").json() == {"items": [], "next": None}
    assert client.get(f"/api/v1/payments/orders/{order.public_id}").status_code == 404
    assert client.get(f"/checkout/success?order={order.public_id}").status_code == 404
    db.refresh(order)
    assert order.status == "pending"


def test_billing_needs_an_account(client):
    r = client.get("/billing", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login?next=/billing"


def test_offline_events_go_through_the_webhook_record(browser, learner, special50, db):
    offline = _start(browser, offer="instalments")
    browser.post_form(offline, action="pay")
    order = _order(db, learner)
    types = [e.type for e in db.exec(select(WebhookEvent).where(WebhookEvent.order_id == order.id))]
    assert sorted(types) == ["checkout.session.completed", "invoice.paid"]


def test_a_certificate_is_withheld_while_an_instalment_is_overdue(client, browser, learner, special50, db, drain):
    """Finish the course on a plan, miss an instalment: no certificate until it is paid, and a
    certificate already issued is held past the grace period and given back once paid."""
    from datetime import timedelta

    from api.certificates import service as certificates_service
    from api.learning.models import EnrolmentStatus
    from api.payments import service

    offline = _start(browser, offer="instalments")
    browser.post_form(offline, action="pay")
    order = _order(db, learner)
    enrolment = learning_service.get_enrolment(db, learner.id, order.programme_id)
    enrolment.status = EnrolmentStatus.completed.value  # studied to the end
    db.add(enrolment)
    db.commit()
    browser.post_form(offline, action="fail_next")  # instalment 2 fails

    page = client.get("/certificates").text
    assert "issued once the overdue instalment is paid" in page and "Issue my certificate" not in page
    r = browser.post_form("/certificates", "/certificates/issue/acxs", holder_name=learner.full_name, confirm="yes")
    assert "overdue instalment" in r.text and certificates_service.mine(db, learner) == []

    browser.post_form(offline, action="pay_next")  # paid on retry
    r = browser.post_form("/certificates", "/certificates/issue/acxs", holder_name=learner.full_name, confirm="yes")
    assert r.status_code == 303
    [(cert, _)] = certificates_service.mine(db, learner)

    browser.post_form(offline, action="fail_next")  # instalment 3 fails, and stays unpaid past the grace
    failed = db.exec(select(Payment).where(Payment.order_id == order.id, Payment.status == "failed")).one()
    failed.failed_at -= timedelta(days=8)
    db.add(failed)
    db.commit()
    assert service.sweep(db)["suspended"] == 1
    db.commit()
    drain()  # payments told certificates (instalment.overdue); the worker delivers it
    db.refresh(cert)
    assert cert.status == "suspended" and "Instalment 3 of 4" in cert.status_reason
    assert cert.hold_reason == "payment_overdue"
    assert "<h1 id=\"result\">Suspended</h1>" in client.get(f"/verify/{cert.slug}").text

    browser.post_form(offline, action="pay_next")
    drain()  # instalment.settled
    db.refresh(cert)
    assert cert.status == "active"
    assert "<h1 id=\"result\">Valid</h1>" in client.get(f"/verify/{cert.slug}").text


def test_billing_tells_the_truth_about_a_plan(client, browser, learner, special50, db):
    offline = _start(browser, offer="instalments")
    browser.post_form(offline, action="pay")
    order = _order(db, learner)
    second = db.exec(select(Payment).where(Payment.order_id == order.id, Payment.number == 2)).one()
    page = client.get("/billing").text
    tag = page.split('order-status">')[1].split("</span>")[0]
    assert tag == f"1 of 4 paid · next £107.50 on {second.due_date.strftime('%-d %B %Y')}"
    assert 'class="tag warn order-status"' in page  # not the green "paid"
    browser.post_form(offline, action="fail_next")
    page = client.get("/billing").text
    assert 'class="tag bad order-status">1 of 4 paid · next £107.50' in page


def _tag(page: str) -> tuple[str, str]:
    """The order's status tag on /billing: (its style, its words)."""
    head = page.split('order-status">', 1)
    return head[0].rsplit('class="tag ', 1)[1].split(" ", 1)[0], head[1].split("</span>", 1)[0]


def test_billing_says_when_a_paid_order_is_partly_refunded(client, browser, learner, special50, db):
    from api.payments import service

    browser.post_form(_start(browser), action="pay")  # £430 paid
    order = _order(db, learner)
    assert _tag(client.get("/billing").text) == ("ok", "paid")
    service.refund(db, order, amount=20000, by=None, reason="Goodwill")  # the offline provider confirms
    db.commit()
    db.refresh(order)
    assert (order.status, order.amount_refunded) == ("paid", 20000)
    assert _tag(client.get("/billing").text) == ("warn", "paid · £200 refunded")  # not the green "paid"
    service.refund(db, order, amount=None, by=None)  # the rest: the order is refunded, said once
    db.commit()
    assert _tag(client.get("/billing").text) == ("warn", "refunded")


def test_billing_says_both_where_a_plan_is_partly_refunded(client, browser, learner, special50, db):
    from api.payments import service

    browser.post_form(_start(browser, offer="instalments"), action="pay")
    order = _order(db, learner)
    second = db.exec(select(Payment).where(Payment.order_id == order.id, Payment.number == 2)).one()
    service.refund(db, order, amount=5000, by=None)
    db.commit()
    assert _tag(client.get("/billing").text) == (
        "warn", f"1 of 4 paid · next £107.50 on {second.due_date.strftime('%-d %B %Y')} · £50 refunded")
