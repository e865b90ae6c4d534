"""The notifications people expect, each received through real SMTP (the suite's aiosmtpd server)
after the worker runs: it says what happened, why and what to do, and its links answer 200 for the
person it was sent to."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from api.accounts.models import Role
from api.catalog import service as catalog_service
from api.certificates import service as certificates_service
from api.core.db import utcnow
from api.learning import service as learning_service
from api.learning.models import EnrolmentSource, EnrolmentStatus
from api.payments.models import Order, Payment
from api.payments.reminders import send_upcoming


def _one(mailbox, address: str, starts: str):
    found = [m for m in mailbox.to(address) if " ".join(str(m["Subject"]).split()).startswith(starts)]
    assert len(found) == 1, f"{starts!r} not mailed once to {address}: {mailbox.subjects(address)}"
    return found[0], mailbox.body(found[0])


def _certificate(db, make_user, slug: str = "acxp"):
    holder = make_user(name="Grace Holder")
    programme = catalog_service.get_by_slug(db, slug)
    enrolment = learning_service.enrol(db, user_id=holder.id, programme_id=programme.id,
                                       source=EnrolmentSource.admin_grant, check_prerequisites=False)
    enrolment.status = EnrolmentStatus.completed.value
    db.add(enrolment)
    cert = certificates_service.issue(db, user=holder, programme=programme, holder_name=holder.full_name,
                                      enrolment=enrolment)
    db.commit()
    return holder, cert


def test_holder_is_told_of_suspension_reinstatement_and_revocation_with_the_reason(client, browser, db, make_user,
                                                                                  login, mailbox, links_answer):
    holder, cert = _certificate(db, make_user)
    admin = make_user(roles={Role.admin})

    def act(action: str, reason: str):
        login(admin.email)
        r = browser.post_form("/admin/certificates", f"/admin/certificates/{cert.slug}/status", action=action,
                              reason=reason)
        assert r.status_code == 303
        login(holder.email)

    act("suspend", "Your employer reported the assessed project was not your own work")
    msg, body = _one(mailbox, holder.email, "Your ACXP certificate is suspended")
    assert f"We have suspended your Accredited Customer Experience Professional certificate ({cert.number})" in body
    assert "Why: Your employer reported the assessed project was not your own work" in body
    assert "anyone who checks it is told so" in body and "reply to this email" in body
    assert f"/verify/{cert.slug}" in links_answer(body)[0]

    act("reinstate", "We have checked the project with your assessor")
    _, body = _one(mailbox, holder.email, "Your ACXP certificate is valid again")
    assert "Why: We have checked the project with your assessor" in body
    assert f"/certificates/{cert.slug}" in links_answer(body, at_least=2)

    act("revoke", "The accreditation was obtained with another person's work")
    _, body = _one(mailbox, holder.email, "Your ACXP certificate has been revoked")
    assert "Why: The accreditation was obtained with another person's work" in body
    assert "reply to this email" in body
    links_answer(body, at_least=2)
    html = msg.get_body(("html",)).get_content()
    assert f'href="http://testserver/verify/{cert.slug}"' in html


def test_a_refund_part_then_the_rest_is_mailed_with_what_it_means_for_access(client, browser, db, make_user, login,
                                                                             special50, mailbox, links_answer):
    buyer = make_user(name="Ravi Buyer")
    login(buyer.email)
    r = browser.post_form("/checkout/acxs?offer=full", "/checkout/acxs", offer="full", code="special50")
    browser.post_form(r.headers["location"], action="pay")
    order = db.exec(select(Order).where(Order.user_id == buyer.id)).one()
    admin = make_user(roles={Role.admin})
    login(admin.email)
    browser.post_form("/admin/orders", f"/admin/orders/{order.public_id}/refund", amount="100.00", confirmed="yes",
                      reason="Goodwill")
    login(buyer.email)
    _, body = _one(mailbox, buyer.email, f"Partial refund of £100 on order {order.public_id}")
    assert "We have refunded £100 for Accredited Customer Experience Specialist (ACXS)" in body
    assert "Refunded so far: £100 of £430 paid. Your access to ACX Specialist continues" in body
    links_answer(body)

    login(admin.email)
    browser.post_form("/admin/orders", f"/admin/orders/{order.public_id}/refund", amount="", confirmed="yes")
    login(buyer.email)
    _, body = _one(mailbox, buyer.email, f"Full refund of £330 on order {order.public_id}")
    assert "refunded in full (£430)" in body and "your access to ACX Specialist has ended" in body
    assert "Your progress is kept if you enrol again" in body
    links_answer(body)


def test_an_enrolment_an_admin_grants_is_mailed_with_a_link_to_start(client, browser, db, make_user, login, mailbox,
                                                                     links_answer):
    learner = make_user(name="Lindiwe Learner")
    login(make_user(roles={Role.admin}).email)
    r = browser.post_form("/admin/enrolments", email=learner.email, programme="ACXP", access_days="90")
    assert r.status_code == 303
    login(learner.email)
    _, body = _one(mailbox, learner.email, "You have a place on")
    until = utcnow() + timedelta(days=90)
    assert "has given you a place on Accredited Customer Experience Professional (ACXP)" in body
    assert f"Your access lasts until {until:%-d %B %Y}" in body
    assert "/learn/acxp" in links_answer(body, at_least=2)
    # Granting again changes nothing and mails nothing.
    learning_service.grant(db, email=learner.email, programme="ACXP")
    db.commit()
    assert len(mailbox.to(learner.email)) == 1


def _plan(db, browser, learner):
    r = browser.post_form("/checkout/acxs?offer=instalments", "/checkout/acxs", offer="instalments", code="special50")
    offline = r.headers["location"]
    browser.post_form(offline, action="pay")
    order = db.exec(select(Order).where(Order.user_id == learner.id)).one()
    return offline, order


def test_a_failed_instalment_says_when_access_pauses_and_how_to_pay(client, browser, db, learner, special50,
                                                                    mailbox, links_answer):
    offline, order = _plan(db, browser, learner)
    browser.post_form(offline, action="fail_next")
    failed = db.exec(select(Payment).where(Payment.order_id == order.id, Payment.status == "failed")).one()
    pause = failed.failed_at + timedelta(days=7)
    _, body = _one(mailbox, learner.email, f"Instalment 2 of 4 for ACXS failed: pay by {pause:%-d %B %Y}")
    assert "We could not take instalment 2 of 4 (£107.50) for Accredited Customer Experience Specialist" in body
    assert f"pay it by {pause:%-d %B %Y}" in body and "your access to ACX Specialist pauses" in body
    assert "Your progress is kept" in body
    paths = links_answer(body, at_least=2)
    assert f"/payments/offline/{order.provider_session_id}" in paths and "/billing" in paths
    browser.post_form(offline, action="fail_next")  # the retry fails too: the same failure, not a new email
    assert len(mailbox.to(learner.email)) == 2  # the receipt and one failure notice


def test_an_instalment_coming_up_is_mailed_three_days_before_once(client, browser, db, learner, special50, mailbox,
                                                                  links_answer):
    _, order = _plan(db, browser, learner)
    second = db.exec(select(Payment).where(Payment.order_id == order.id, Payment.number == 2)).one()
    from datetime import UTC, datetime, time

    four_days_before = datetime.combine(second.due_date - timedelta(days=4), time(9), tzinfo=UTC)
    assert send_upcoming(db, four_days_before) == 0
    three_days_before = four_days_before + timedelta(days=1)
    assert send_upcoming(db, three_days_before) == 1
    assert send_upcoming(db, three_days_before + timedelta(hours=5)) == 0  # once, however often it runs
    db.commit()
    _, body = _one(mailbox, learner.email, f"Your next ACXS payment of £107.50 is taken on {second.due_date:%-d %B %Y}")
    assert f"Instalment 2 of 4 (£107.50) for Accredited Customer Experience Specialist (ACXS) is taken automatically " \
           f"on {second.due_date:%-d %B %Y}" in body
    assert "If it has expired or changed" in body
    links_answer(body)


def test_welcome_after_the_email_address_is_confirmed(client, browser, db, mailbox, links_answer):
    browser.post_form("/register", email="newcomer@example.com", full_name="New Comer", password="a-long-password")
    token = mailbox.link("newcomer@example.com", "/verify-email")
    assert mailbox.subjects("newcomer@example.com") == ["Confirm your email address for Cadre"]
    browser.post_form(f"/verify-email?token={token}", "/verify-email", token=token)
    _, body = _one(mailbox, "newcomer@example.com", "Welcome to Cadre: your email address is confirmed")
    assert "Your email address newcomer@example.com is confirmed" in body
    assert {"/programmes", "/dashboard", "/account"} <= set(links_answer(body, at_least=3))


def test_a_payment_hold_tells_the_holder_what_to_pay_and_the_lift_tells_them_it_is_valid(client, browser, db,
                                                                                         learner, special50, mailbox,
                                                                                         links_answer):
    from api.payments import service as payments_service

    offline, order = _plan(db, browser, learner)
    enrolment = learning_service.get_enrolment(db, learner.id, order.programme_id)
    enrolment.status = EnrolmentStatus.completed.value
    db.add(enrolment)
    cert = certificates_service.issue(db, user=learner, programme=catalog_service.get_by_slug(db, "acxs"),
                                      holder_name=learner.full_name, enrolment=enrolment)
    db.commit()
    browser.post_form(offline, action="fail_next")
    failed = db.exec(select(Payment).where(Payment.order_id == order.id, Payment.status == "failed")).one()
    failed.failed_at -= timedelta(days=8)
    db.add(failed)
    db.commit()
    payments_service.sweep(db)
    db.commit()
    _, body = _one(mailbox, learner.email, "Your ACXS certificate is suspended")
    assert "Why: Payment overdue: Instalment 2 of 4 failed on" in body
    assert "pay the overdue instalment on your billing page" in body
    links_answer(body, at_least=2)
    browser.post_form(offline, action="pay_next")
    _, body = _one(mailbox, learner.email, "Your ACXS certificate is valid again")
    assert "Why: The overdue instalment has been paid." in body
    db.refresh(cert)
    assert cert.status == "active"
