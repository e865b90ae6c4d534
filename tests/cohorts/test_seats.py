"""Seats through the real checkout: a checkout holds a seat, a second hold elsewhere is refused, a full
cohort offers its waitlist, a payment after the hold expired gets a seat if one is free, else its money
back; transfers keep the order and its plan; cancelling a cohort refunds everyone."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlmodel import select

from api.cohorts import cancel, seats, service
from api.cohorts.models import Seat
from api.core.db import utcnow
from api.payments import service as payments_service
from api.payments.models import Order
from api.payments.providers import get_provider


def _checkout(db, user, cohort, offer="full"):
    return payments_service.start_checkout(db, user=user, programme_slug="coim", offer_slug=offer, code_text=None,
                                           address=None, cohort=cohort.public_id)


def _seat(db, order) -> Seat:
    return db.exec(select(Seat).where(Seat.order_id == order.id).execution_options(populate_existing=True)).one()


def test_a_checkout_holds_a_seat_and_paying_makes_it_the_learners(db, make_user, make_cohort, mailbox):
    cohort = make_cohort(capacity=2)
    user = make_user()
    order = _checkout(db, user, cohort)
    seat = _seat(db, order)
    assert seat.status == "held" and seat.hold_expires_at == order.expires_at
    assert service.cards(db, [cohort])[0].seats_left == 1
    get_provider().pay(db, order)
    assert _seat(db, order).status == "paid" and service.seat_of(db, cohort, user.id) is not None
    assert service.cards(db, [cohort])[0].seats_left == 1


def test_asking_again_hands_back_the_same_checkout_and_seat(db, make_user, make_cohort):
    cohort = make_cohort(capacity=1)
    user = make_user()
    first = _checkout(db, user, cohort)
    again = _checkout(db, user, cohort)
    assert again.id == first.id
    # Another offer replaces the checkout: its seat goes with it and the new one holds the (only) seat.
    other = _checkout(db, user, cohort, offer="instalments")
    assert other.id != first.id and _seat(db, other).status == "held" and _seat(db, first).status == "released"
    assert service.cards(db, [cohort])[0].seats_left == 0


def test_a_second_hold_in_another_cohort_is_refused(db, make_user, make_cohort):
    a, b = make_cohort(), make_cohort(starts_on=date(2027, 5, 3))
    user = make_user()
    _checkout(db, user, a)
    with pytest.raises(seats.SecondHold,
                       match="already holding a seat in Certified Outside In Master, from 1 March 2027 until") as err:
        _checkout(db, user, b)
    assert err.value.status_code == 409


def test_a_full_cohort_refuses_and_points_at_its_waitlist(db, client, login, make_user, make_cohort, browser):
    cohort = make_cohort(capacity=1)
    _checkout(db, make_user(), cohort)
    db.commit()
    late = make_user()
    login(late.email)
    r = client.post("/api/v1/payments/checkout", json={"programme": "coim", "offer": "full",
                                                      "cohort": cohort.public_id})
    assert r.status_code == 409 and r.json()["error"]["code"] == "cohort_full"
    assert "waitlist" in r.json()["error"]["message"]
    page = client.get("/programmes/coim").text
    assert "Full" in page and f"/cohorts/{cohort.public_id}/waitlist" in page
    r = client.post("/api/v1/payments/checkout", json={"programme": "coim", "offer": "full"})
    assert r.status_code == 422 and r.json()["error"]["code"] == "cohort_required"


def _expire_hold(db, order):
    seat = _seat(db, order)
    seat.hold_expires_at = utcnow() - timedelta(minutes=1)
    db.add(seat)
    db.commit()


def test_a_payment_after_the_hold_expired_takes_a_seat_still_free(db, make_user, make_cohort):
    cohort = make_cohort(capacity=1)
    order = _checkout(db, make_user(), cohort)
    _expire_hold(db, order)
    get_provider().pay(db, order)
    seat = _seat(db, order)
    assert seat.status == "paid" and "still free" in seat.note


def test_a_payment_after_the_hold_expired_into_a_full_cohort_is_refunded(db, make_user, make_cohort, mailbox, drain):
    cohort = make_cohort(capacity=1)
    slow, quick = make_user(), make_user()
    order = _checkout(db, slow, cohort)
    _expire_hold(db, order)
    quick_order = _checkout(db, quick, cohort)
    get_provider().pay(db, quick_order)
    get_provider().pay(db, order)  # the slow learner's money arrives now
    drain()
    db.refresh(order)
    assert order.status == "refunded" and order.amount_refunded == order.amount_paid
    assert _seat(db, order).status == "refunded"
    assert service.learners_of(db, cohort) == [quick]
    from api.learning import service as learning_service

    enrolment = learning_service.get_enrolment(db, slow.id, order.programme_id)
    assert enrolment is None or not learning_service.has_access(enrolment)
    subjects = mailbox.subjects(slow.email)
    assert any(s.startswith("Full refund of £2,950") for s in subjects)
    [why] = [m for m in mailbox.to(slow.email) if "filled up" in str(m["Subject"])]
    assert "every seat has been taken since" in mailbox.body(why)


def test_a_transfer_keeps_the_order_and_its_instalment_plan(db, make_user, make_cohort, buy_seat, mailbox):
    a, b = make_cohort(), make_cohort(starts_on=date(2027, 5, 3))
    user = make_user()
    order = buy_seat(user, a, offer="instalments")
    payments = [(p.number, p.status, p.amount) for p in payments_service.payments_of(db, order)]
    seats.transfer(db, _seat(db, order), b, note="Asked to move.")
    db.commit()
    assert service.seat_of(db, b, user.id) is not None and service.seat_of(db, a, user.id) is None
    again = db.get(Order, order.id)
    assert again.status == "paid" and again.instalment_count > 1
    assert [(p.number, p.status, p.amount) for p in payments_service.payments_of(db, again)] == payments
    assert f"Your seat has moved to {b.title}" in mailbox.subjects(user.email)


def test_cancelling_a_cohort_refunds_everyone(db, make_user, make_cohort, buy_seat, mailbox):
    cohort = make_cohort()
    admin = make_user()
    users = [make_user(), make_user()]
    orders = [buy_seat(u, cohort) for u in users]
    result = cancel.cancel_cohort(db, cohort, by=admin)
    db.commit()
    assert result == {"moved": 0, "refunded": 2}
    assert {db.get(Order, o.id).status for o in orders} == {"refunded"}
    assert {s.status for s in service.sessions_of(db, cohort)} == {"cancelled"}
    assert all(any("refund" in s.lower() for s in mailbox.subjects(u.email)) for u in users)


def test_cancelling_a_cohort_can_move_everyone_instead(db, make_user, make_cohort, buy_seat):
    a, b = make_cohort(), make_cohort(starts_on=date(2027, 5, 3))
    users = [make_user(), make_user()]
    orders = [buy_seat(u, a) for u in users]
    assert cancel.cancel_cohort(db, a, by=users[0], move_to=b) == {"moved": 2, "refunded": 0}
    assert {db.get(Order, o.id).status for o in orders} == {"paid"}
    assert service.learners_of(db, b) == sorted(users, key=lambda u: (u.full_name, u.id))


def test_the_public_programme_page_shows_seats_left_as_they_change(db, client, make_user, make_cohort, buy_seat):
    """Anonymous public pages are kept once rendered (api/core/pagecache.py); a live programme's page
    lists seats left, which change with every seat, so a stranger never sees a stale figure."""
    cohort = make_cohort("coim", capacity=3)
    assert "3 seats left" in client.get("/programmes/coim").text
    assert "3 seats left" in client.get("/programmes/coim").text  # the second view too (kept pages would be)
    buy_seat(make_user(), cohort)
    assert "2 seats left" in client.get("/programmes/coim").text
