"""The learner's payment emails: the receipt (what was bought, the price, the code, what was paid and
what is still to come), a refund, a failed instalment, and the next instalment coming up. The words
are in web/templates/email/payments/; these functions choose the template and its facts."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from api.accounts.models import User
from api.catalog.models import Programme
from api.core import email as mail
from api.core.config import get_settings
from api.payments.models import Invoice, Order, Payment, Refund


def _who(session: Session, order: Order) -> tuple[User, Programme]:
    return session.get(User, order.user_id), session.get(Programme, order.programme_id)


def queue_receipt(session: Session, order: Order, payments: list[Payment]) -> None:
    user, programme = _who(session, order)
    mail.send_template(session, user.email, "payments/receipt", key=f"receipt:{order.public_id}", name=user.full_name,
                       order=order, programme=programme, payments=payments)


def queue_refund(session: Session, order: Order, payment: Payment, amount: int, *, full: bool,
                 held: bool = False, credit_note: Invoice | None = None) -> None:
    """`held`: the learner holds the programme some other way, so the refund ends nothing. `credit_note`:
    the note numbered for this refund, linked from the email."""
    user, programme = _who(session, order)
    asked = session.exec(select(Refund).where(Refund.payment_id == payment.id, col(Refund.reason).is_not(None))
                         .order_by(col(Refund.id).desc())).first()
    mail.send_template(session, user.email, "payments/refund", key=f"refund:{payment.id}:{payment.amount_refunded}",
                       name=user.full_name, order=order, programme=programme, amount=amount, full=full,
                       plan=order.instalment_count > 1, reason=asked.reason if asked else None,
                       held=held, credit_note=credit_note)


def queue_instalment_failed(session: Session, order: Order, payment: Payment, pause_date: datetime) -> None:
    user, programme = _who(session, order)
    base = get_settings().base_url.rstrip("/")
    pay_url = payment.pay_url or "/billing"
    if pay_url.startswith("/"):
        pay_url = base + pay_url
    mail.send_template(session, user.email, "payments/instalment_failed",
                       key=f"instalment-failed:{payment.id}:{payment.failed_at.isoformat()}", name=user.full_name,
                       order=order, programme=programme, payment=payment, pause_date=pause_date, pay_url=pay_url,
                       message=payment.failure_message)


def queue_instalment_upcoming(session: Session, order: Order, payment: Payment) -> bool:
    user, programme = _who(session, order)
    return mail.send_template(session, user.email, "payments/instalment_upcoming",
                              key=f"instalment-upcoming:{payment.id}:{payment.due_date.isoformat()}",
                              name=user.full_name, order=order, programme=programme, payment=payment)
