"""A scheduled job (api/outbox/registry.py): tell learners on a plan 3 days before an instalment is taken."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from api.payments import receipts
from api.payments.models import Order, OrderStatus, Payment, PaymentStatus

REMIND_DAYS_BEFORE = 3


def send_upcoming(session: Session, now: datetime) -> int:
    """Each instalment due in the next REMIND_DAYS_BEFORE days gets one reminder, however often this
    runs (the outbox's key per instalment and due date decides)."""
    today = now.date()
    due = session.exec(select(Payment, Order).join(Order, col(Order.id) == col(Payment.order_id)).where(
        Payment.status == PaymentStatus.due.value, col(Payment.number) > 1, Order.status == OrderStatus.paid.value,
        col(Payment.due_date) > today, col(Payment.due_date) <= today + timedelta(days=REMIND_DAYS_BEFORE))
        .order_by(col(Payment.due_date))).all()
    return sum(1 for payment, order in due if receipts.queue_instalment_upcoming(session, order, payment))
