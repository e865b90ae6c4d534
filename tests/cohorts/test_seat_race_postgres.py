"""The seat race on PostgreSQL, with real concurrent sessions and clients committing for real:
40 buyers at once of a 10-seat cohort get exactly 10 seats (offline provider, and Stripe through
localstripe), through the service and through the HTTP checkout; and a payment that lands after its
hold expired, into a cohort that filled meanwhile, is refunded by the worker."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

import pytest
from sqlalchemy import delete, func, text
from sqlmodel import Session, col, select

from api.accounts import service as accounts_service
from api.accounts.models import User, UserRole, UserSession
from api.accounts.schemas import UserCreate
from api.cohorts import service as cohorts_service
from api.cohorts.models import Cohort, CohortSession, Seat
from api.core.config import get_settings
from api.core.db import utcnow
from api.learning.models import Enrolment
from api.outbox.models import DomainEvent
from api.payments import service
from api.payments.models import Invoice, Order, Payment, Refund, WebhookEvent
from api.payments.providers import get_provider
from tests.conftest import MAILBOX

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg(engine):
    if get_settings().is_sqlite:
        pytest.skip("row locks and concurrent writers are proved on PostgreSQL: set CADRE_TEST_DATABASE_URL")
    made: dict[str, list] = {"users": [], "cohorts": []}
    yield engine, made
    with Session(engine) as s:
        orders = list(s.exec(select(Order.id).where(col(Order.user_id).in_(made["users"])))) if made["users"] else []
        for table, column, ids in (
                (Seat, Seat.cohort_id, made["cohorts"]), (WebhookEvent, WebhookEvent.order_id, orders),
                (Refund, Refund.order_id, orders), (Invoice, Invoice.order_id, orders),
                (Payment, Payment.order_id, orders), (Order, Order.id, orders),
                (Enrolment, Enrolment.user_id, made["users"]),
                (CohortSession, CohortSession.cohort_id, made["cohorts"]),
                (Cohort, Cohort.id, made["cohorts"]), (UserSession, UserSession.user_id, made["users"]),
                (UserRole, UserRole.user_id, made["users"]), (User, User.id, made["users"])):
            if ids:
                s.exec(delete(table).where(col(column).in_(ids)))
        s.exec(delete(DomainEvent).where(col(DomainEvent.name).in_(["seat.unavailable"])))
        s.commit()


def _users(engine, made, n: int) -> list[int]:
    tag = uuid.uuid4().hex[:8]
    with Session(engine) as s:
        users = [accounts_service.create_user(s, UserCreate(email=f"seat-{tag}-{i}@example.com", full_name="Racer",
                                                            password="correct-horse-battery"), verified=True)
                 for i in range(n)]
        s.commit()
        ids = [u.id for u in users]
    made["users"] += ids
    return ids


def _cohort(engine, made, capacity: int) -> str:
    with Session(engine) as s:
        cohort = cohorts_service.create_cohort(s, programme_slug="coim", starts_on=date(2027, 3, 1),
                                               time_zone="Europe/London", capacity=capacity)
        s.commit()
        made["cohorts"].append(cohort.id)
        return cohort.public_id


def _in_threads(n: int, work) -> list:
    barrier = threading.Barrier(n)

    def run(i):
        barrier.wait()
        return work(i)

    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(run, range(n)))


def _counts(engine, cohort_public_id: str) -> tuple[int, int]:
    with Session(engine) as s:
        cohort = cohorts_service.get_cohort(s, cohort_public_id)
        held = s.exec(select(func.count()).select_from(Seat).where(Seat.cohort_id == cohort.id,
                                                                   col(Seat.status).in_(["held", "paid"]))).one()
        return held, cohorts_service.taken(s, cohort.id)


def _race_through_the_service(engine, made) -> tuple[list[str], str]:
    user_ids = _users(engine, made, 40)
    cohort = _cohort(engine, made, 10)

    def buy(i: int) -> str:
        with Session(engine, expire_on_commit=False) as s:
            try:
                order = service.start_checkout(s, user=s.get(User, user_ids[i]), programme_slug="coim",
                                               offer_slug="full", code_text=None, address=None, cohort=cohort)
                s.commit()
                return order.public_id
            except service.Conflict as exc:
                s.rollback()
                return exc.code

    return _in_threads(40, buy), cohort


def test_forty_buyers_of_ten_seats_get_exactly_ten_offline(pg):
    engine, made = pg
    results, cohort = _race_through_the_service(engine, made)
    assert len([r for r in results if r.startswith("ord_")]) == 10
    assert {r for r in results if not r.startswith("ord_")} == {"cohort_full"}
    assert _counts(engine, cohort) == (10, 10)
    # The ten pay; the cohort is full, never over.
    with Session(engine) as s:
        for public_id in [r for r in results if r.startswith("ord_")]:
            get_provider().pay(s, service.get_order(s, public_id))
            s.commit()
        c = cohorts_service.get_cohort(s, cohort)
        assert len(cohorts_service.learners_of(s, c)) == 10 and c.status == "full"
        # The thirty who lost have no open checkout left behind.
        lost = s.exec(select(func.count()).select_from(Order).where(col(Order.user_id).in_(made["users"]),
                                                                    col(Order.status).in_(["pending"]))).one()
        assert lost == 0


def test_forty_buyers_of_ten_seats_get_exactly_ten_through_stripe(pg, stripe_settings):
    engine, made = pg
    results, cohort = _race_through_the_service(engine, made)
    opened = [r for r in results if r.startswith("ord_")]
    assert len(opened) == 10, results
    assert {r for r in results if not r.startswith("ord_")} == {"cohort_full"}
    assert _counts(engine, cohort) == (10, 10)
    with Session(engine) as s:
        providers = {o.provider for o in s.exec(select(Order).where(col(Order.public_id).in_(opened)))}
        assert providers == {"stripe"}


def test_forty_clients_at_the_http_checkout_get_exactly_ten(pg):
    from fastapi.testclient import TestClient

    from api.main import create_app

    engine, made = pg
    user_ids = _users(engine, made, 40)
    cohort = _cohort(engine, made, 10)
    with Session(engine) as s:
        tokens = [accounts_service.start_session(s, s.get(User, uid))[0] for uid in user_ids]
        s.commit()
    with TestClient(create_app(), base_url="http://testserver", raise_server_exceptions=False) as client:
        def post(i: int) -> tuple[int, str]:
            r = client.post("/api/v1/payments/checkout", headers={"Authorization": f"Bearer {tokens[i]}"},
                            json={"programme": "coim", "offer": "full", "cohort": cohort})
            return r.status_code, (r.json().get("error") or {}).get("code", "")

        results = _in_threads(40, post)
    assert sorted(s for s, _ in results).count(201) == 10, results
    assert {(s, c) for s, c in results if s != 201} == {(409, "cohort_full")}
    assert _counts(engine, cohort) == (10, 10)


def test_a_late_payment_into_a_cohort_that_filled_is_refunded(pg):
    from api.outbox.worker import Worker

    engine, made = pg
    slow, *others = _users(engine, made, 3)
    cohort = _cohort(engine, made, 2)
    with Session(engine, expire_on_commit=False) as s:
        late = service.start_checkout(s, user=s.get(User, slow), programme_slug="coim", offer_slug="full",
                                      code_text=None, address=None, cohort=cohort)
        s.exec(text("UPDATE seat SET hold_expires_at = :t WHERE order_id = :o").bindparams(
            t=utcnow() - timedelta(minutes=1), o=late.id))
        s.commit()

    def buy(i: int) -> str:
        with Session(engine, expire_on_commit=False) as s:
            order = service.start_checkout(s, user=s.get(User, others[i]), programme_slug="coim", offer_slug="full",
                                           code_text=None, address=None, cohort=cohort)
            get_provider().pay(s, order)
            s.commit()
            return order.status

    _in_threads(2, buy)  # two others take both seats while the slow learner's hold has run out
    with Session(engine) as s:
        get_provider().pay(s, service.get_order(s, late.public_id))  # the slow learner's money lands now
        s.commit()

    MAILBOX.clear()
    Worker(sessions=lambda: Session(engine, expire_on_commit=False), name="test", jobs=[]).drain()
    with Session(engine) as s:
        order = service.get_order(s, late.public_id)
        assert order.status == "refunded" and order.amount_refunded == order.amount_paid > 0
        c = cohorts_service.get_cohort(s, cohort)
        learners = [u.id for u in cohorts_service.learners_of(s, c)]
        assert len(learners) == 2 and slow not in learners
        address = s.get(User, slow).email
    subjects = MAILBOX.subjects(address)
    assert any("filled up" in subject for subject in subjects) and any("refund" in x.lower() for x in subjects)
