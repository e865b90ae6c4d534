"""Invoice numbers under real concurrency, on PostgreSQL: threads with their own sessions number
invoices at the same moment; every number is used once, none is skipped, and an order asked for its
invoice by several at once still has exactly one."""

from __future__ import annotations

import secrets
from datetime import date

import pytest
from sqlmodel import Session, col, select

from api.catalog import service as catalog_service
from api.catalog.models import Offer
from api.core.db import utcnow
from api.payments import invoices
from api.payments.models import Invoice, Order, Payment
from tests.payments.test_concurrency_postgres import _in_threads, _users, pg  # noqa: F401

pytestmark = pytest.mark.postgres


def _paid_orders(engine, user_ids: list[int]) -> list[int]:
    with Session(engine) as s:
        programme = catalog_service.get_by_slug(s, "acxs")
        offer = s.exec(select(Offer).where(Offer.programme_id == programme.id)).first()
        ids = []
        for uid in user_ids:
            order = Order(public_id=f"ord_{secrets.token_hex(6)}", user_id=uid, programme_id=programme.id,
                          offer_id=offer.id, kind="full", currency="GBP", amount_before=86000, amount_total=86000,
                          amount_paid=86000, status="paid", provider="offline", paid_at=utcnow())
            s.add(order)
            s.flush()
            s.add(Payment(order_id=order.id, number=1, amount=86000, currency="GBP", due_date=date.today(),
                          status="paid", paid_at=utcnow()))
            ids.append(order.id)
        s.commit()
    return ids


def _number(engine, order_id: int) -> int:
    with Session(engine) as s:
        number = invoices.invoice_for(s, s.get(Order, order_id)).number
        s.commit()
        return number


def test_twenty_orders_paid_at_once_get_twenty_consecutive_numbers(pg):  # noqa: F811
    engine, made = pg
    orders = _paid_orders(engine, _users(engine, made, 20))
    numbers = _in_threads(20, lambda i: _number(engine, orders[i]))
    assert len(set(numbers)) == 20
    assert sorted(numbers) == list(range(min(numbers), min(numbers) + 20))  # no gap, no repeat
    with Session(engine) as s:
        rows = s.exec(select(Invoice).where(col(Invoice.order_id).in_(orders))).all()
    assert sorted(r.number for r in rows) == sorted(numbers)


def test_one_order_asked_for_its_invoice_ten_times_at_once_has_one(pg):  # noqa: F811
    engine, made = pg
    [order] = _paid_orders(engine, _users(engine, made, 1))
    numbers = _in_threads(10, lambda i: _number(engine, order))
    assert len(set(numbers)) == 1
    with Session(engine) as s:
        assert len(s.exec(select(Invoice).where(Invoice.order_id == order)).all()) == 1
