"""Limits under real concurrency, on PostgreSQL: threads, each with its own session and connection,
committing for real against the test database (cleaned up afterwards)."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import delete, func
from sqlmodel import Session, col, select

from api.accounts import service as accounts_service
from api.accounts.models import User, UserRole
from api.accounts.schemas import UserCreate
from api.core.config import get_settings
from api.core.ratelimit import RateLimitHit
from api.learning.models import Enrolment
from api.payments import codes, events, service
from api.payments.models import (
    DiscountCode,
    DiscountCodeProgramme,
    DiscountRedemption,
    Invoice,
    Order,
    Payment,
    WebhookEvent,
)
from tests.payments.conftest import checkout_object, invoice_object, signed, stripe_event

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg(engine):
    if get_settings().is_sqlite:
        pytest.skip("row locks and concurrent writers are proved on PostgreSQL: set CADRE_TEST_DATABASE_URL")
    made: dict[str, list] = {"users": [], "codes": []}
    yield engine, made
    with Session(engine) as s:
        orders = list(s.exec(select(Order.id).where(col(Order.user_id).in_(made["users"]))))
        for table, column, ids in ((WebhookEvent, WebhookEvent.order_id, orders),
                                   (DiscountRedemption, DiscountRedemption.order_id, orders),
                                   (Invoice, Invoice.order_id, orders),
                                   (Payment, Payment.order_id, orders), (Order, Order.id, orders),
                                   (Enrolment, Enrolment.user_id, made["users"]),
                                   (UserRole, UserRole.user_id, made["users"]), (User, User.id, made["users"]),
                                   (DiscountCodeProgramme, DiscountCodeProgramme.code_id, made["codes"]),
                                   (DiscountCode, DiscountCode.id, made["codes"])):
            if ids:
                s.exec(delete(table).where(col(column).in_(ids)))
        # Requests through the real app count their code tries for real: leave none for later tests.
        s.exec(delete(RateLimitHit).where(col(RateLimitHit.bucket) == "code:testclient"))
        s.commit()


def _users(engine, made, n: int) -> list[int]:
    tag = uuid.uuid4().hex[:8]
    with Session(engine) as s:
        users = [accounts_service.create_user(s, UserCreate(email=f"race-{tag}-{i}@example.com", full_name="Racer",
                                                            password="correct-horse-battery"), verified=True)
                 for i in range(n)]
        s.commit()
        ids = [u.id for u in users]
    made["users"] += ids
    return ids


def _in_threads(n: int, work) -> list:
    barrier = threading.Barrier(n)

    def run(i):
        barrier.wait()
        return work(i)

    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(run, range(n)))


def test_forty_checkouts_for_a_code_capped_at_ten_redeem_exactly_ten(pg):
    engine, made = pg
    user_ids = _users(engine, made, 40)
    text = f"cap10-{uuid.uuid4().hex[:6]}"
    with Session(engine) as s:
        made["codes"].append(codes.create(s, code=text, percent_off=50, programme_slugs=["acxs"],
                                          max_redemptions=10).id)
        s.commit()

    def checkout(i: int) -> str:
        with Session(engine, expire_on_commit=False) as s:
            try:
                order = service.start_checkout(s, user=s.get(User, user_ids[i]), programme_slug="acxs",
                                               offer_slug="full", code_text=text.upper(), address=None)
                s.commit()
                return order.public_id
            except service.CodeNotApplicable as exc:
                s.rollback()
                return exc.message

    results = _in_threads(40, checkout)
    opened = [r for r in results if r.startswith("ord_")]
    assert len(opened) == 10
    assert {r for r in results if not r.startswith("ord_")} == {f"The code {text.upper()} has been used up."}

    # All ten pay: the reservations become exactly ten redemptions.
    for public_id in opened:
        with Session(engine) as s:
            order = service.get_order(s, public_id)
            body, header = signed(stripe_event("checkout.session.completed",
                                               checkout_object(order, payment_intent=f"pi_{public_id}")))
            events.receive(s, body, header)
            s.commit()
    with Session(engine) as s:
        [row] = codes.code_rows(s, [codes.get(s, text)])
        assert (row.redeemed, row.reserved) == (10, 0)
        paid = s.exec(select(func.count()).select_from(Order).where(col(Order.user_id).in_(user_ids),
                                                                    Order.status == "paid")).one()
        assert paid == 10


def test_the_same_completed_event_twenty_times_at_once_enrols_once_and_mails_once(pg, mailbox):
    engine, made = pg
    (uid,) = _users(engine, made, 1)
    with Session(engine, expire_on_commit=False) as s:
        user = s.get(User, uid)
        order = service.start_checkout(s, user=user, programme_slug="acxs", offer_slug="full", code_text=None,
                                       address=None)
        s.commit()
    body, header = signed(stripe_event("checkout.session.completed", checkout_object(order, payment_intent="pi_x"),
                                       event_id=f"evt_race_{uuid.uuid4().hex}"))

    def deliver(_: int) -> str:
        with Session(engine) as s:
            outcome = events.receive(s, body, header)
            s.commit()
            return outcome.status

    outcomes = _in_threads(20, deliver)
    assert sorted(outcomes) == ["duplicate"] * 19 + ["processed"]
    with Session(engine) as s:
        assert s.exec(select(func.count()).select_from(Enrolment).where(Enrolment.user_id == uid)).one() == 1
        assert service.get_order(s, order.public_id).status == "paid"
    assert len(mailbox.to(user.email)) == 1


def test_different_events_about_one_plan_at_once_apply_one_at_a_time(pg, mailbox):
    """checkout.session.completed and the first invoice.paid, each delivered ten times under new ids."""
    engine, made = pg
    (uid,) = _users(engine, made, 1)
    with Session(engine, expire_on_commit=False) as s:
        user = s.get(User, uid)
        order = service.start_checkout(s, user=user, programme_slug="acxs", offer_slug="instalments", code_text=None,
                                       address=None)
        s.commit()
    deliveries = []
    for i in range(20):
        if i % 2:
            ev = stripe_event("checkout.session.completed", checkout_object(order, subscription="sub_race"))
        else:
            ev = stripe_event("invoice.paid", invoice_object(order, "in_race_1", 21500, payment_intent="pi_race",
                                                             reason="subscription_create", subscription="sub_race"))
        deliveries.append(signed(ev))

    def deliver(i: int) -> str:
        with Session(engine) as s:
            outcome = events.receive(s, *deliveries[i])
            s.commit()
            return outcome.status

    assert _in_threads(20, deliver) == ["processed"] * 20
    with Session(engine) as s:
        assert s.exec(select(func.count()).select_from(Enrolment).where(Enrolment.user_id == uid)).one() == 1
        payments = service.payments_of(s, service.get_order(s, order.public_id))
        assert [p.status for p in payments] == ["paid", "due", "due", "due"]
        assert service.get_order(s, order.public_id).amount_paid == 21500
    assert len(mailbox.to(user.email)) == 1


def test_twenty_checkouts_at_once_by_one_learner_leave_one_open_order(pg):
    """Twenty POST /api/v1/payments/checkout at the same moment, through the real app and its real
    session dependency (each request its own transaction), all with the same code."""
    from fastapi.testclient import TestClient

    from api.main import create_app

    engine, made = pg
    (uid,) = _users(engine, made, 1)
    text = f"once-{uuid.uuid4().hex[:6]}"
    with Session(engine) as s:
        raw, _ = accounts_service.start_session(s, s.get(User, uid))
        made["codes"].append(codes.create(s, code=text, percent_off=10, programme_slugs=["acxs"]).id)
        s.commit()
    app = create_app()

    # One client, so one event loop as in a served process: its session slots then bound how many
    # requests hold connections at once (a loop per request would let twenty past them).
    with TestClient(app, base_url="http://testserver", raise_server_exceptions=False) as client:
        def post(_: int) -> tuple[int, dict]:
            r = client.post("/api/v1/payments/checkout", json={"programme": "acxs", "offer": "full", "code": text},
                            headers={"Authorization": f"Bearer {raw}"})
            return r.status_code, r.json()

        results = _in_threads(20, post)
    statuses = sorted(status for status, _ in results)
    assert set(statuses) <= {200, 201, 409}, results
    assert statuses.count(201) == 1
    opened = [body for status, body in results if status in (200, 201)]
    assert len({b["checkout_url"] for b in opened}) == 1 and len({b["order"]["id"] for b in opened}) == 1
    with Session(engine) as s:
        orders = s.exec(select(Order).where(Order.user_id == uid)).all()
        assert [o.status for o in orders] == ["pending"]
        assert orders[0].amount_total == 77400  # £860 less 10%
        reservations = s.exec(select(DiscountRedemption).where(DiscountRedemption.user_id == uid)).all()
        assert [r.status for r in reservations] == ["reserved"]
