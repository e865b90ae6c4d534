"""Invoices and credit notes: who the invoice is made out to (asked for at checkout, optionally), the
numbers (sequential per seller, given once, under a row lock), and what one document shows.
The PDF is drawn by api/payments/invoice_pdf.py. Flushes, never commits.

When: an order's invoice is numbered when its first money arrives (lifecycle.send_receipt), or on its
first download for an order paid before invoices existed; a credit note is numbered when the provider
confirms money refunded on it (lifecycle.refunded), one per refund.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from api.accounts.models import Role, User
from api.catalog.models import Offer, Programme
from api.core.config import Settings, get_settings
from api.core.db import utcnow
from api.core.errors import NotFound
from api.core.schemas import text_problem
from api.payments.models import (
    Invoice,
    InvoiceSequence,
    InvoiceSeries,
    Order,
    Payment,
    PaymentStatus,
)

# --- the buyer's details, from checkout --------------------------------------------------------

# Loose on purpose: a country prefix and 2 to 13 letters or digits (every EU, UK, Swiss and Norwegian
# format fits); the tax office, not this form, knows whether the number exists.
VAT_PATTERN = re.compile(r"[A-Z]{2}[0-9A-Z]{2,13}")
FIELDS = ("buyer_name", "buyer_company", "buyer_vat")


@dataclass
class BuyerDetails:
    name: str | None = None
    company: str | None = None
    vat: str | None = None
    errors: dict[str, str] = field(default_factory=dict)  # {form field: message}, in the form's order

    @property
    def values(self) -> dict[str, str]:
        return {"buyer_name": self.name or "", "buyer_company": self.company or "", "buyer_vat": self.vat or ""}


def _text(value: str, label: str, limit: int, errors: dict[str, str], key: str) -> str | None:
    value = " ".join((value or "").split())
    if not value:
        return None
    problem = text_problem(value)
    if problem:
        errors[key] = f"The {label} {problem}."
    elif len(value) > limit:
        errors[key] = f"The {label} must be {limit} characters or fewer."
    return value


def read_buyer(name: str = "", company: str = "", vat: str = "") -> BuyerDetails:
    """What the buyer typed, tidied, with a plain message for each field that cannot be used. Every
    field is optional: empty is always fine."""
    errors: dict[str, str] = {}
    buyer = BuyerDetails(name=_text(name, "name for the invoice", 200, errors, "buyer_name"),
                         company=_text(company, "company name", 200, errors, "buyer_company"))
    typed = (vat or "").strip()
    if typed:
        compact = re.sub(r"[\s.\-]", "", typed).upper()
        if VAT_PATTERN.fullmatch(compact):
            buyer.vat = compact
        else:
            buyer.vat = typed[:40]
            errors["buyer_vat"] = ("Enter the VAT number with its country code, such as GB123456789 or "
                                   "DE123456789, or leave it empty.")
    buyer.errors = {k: errors[k] for k in FIELDS if k in errors}
    return buyer


def set_buyer(session: Session, order: Order, buyer: BuyerDetails | None) -> None:
    """Make the invoice out to these details (an empty form leaves what the order has)."""
    if buyer is None or buyer.errors or not (buyer.name or buyer.company or buyer.vat):
        return
    order.buyer_name, order.buyer_company, order.buyer_vat = buyer.name, buyer.company, buyer.vat
    session.add(order)
    session.flush()


# --- numbers ------------------------------------------------------------------------------------

def seller_lines(settings: Settings | None = None) -> list[str]:
    settings = settings or get_settings()
    return [line.strip() for line in settings.seller_address.split(";") if line.strip()]


def is_specimen(invoice: Invoice) -> bool:
    """Issued with the development example seller: not an invoice anyone can account for."""
    defaults = Settings.model_fields
    return (invoice.seller_name == defaults["seller_legal_name"].default
            and invoice.seller_vat == defaults["seller_vat_number"].default)


def _next_number(session: Session, seller: str, series: str) -> int:
    """The next number of a seller's series, taken under the sequence row's lock (held until commit:
    a second payment waits here for the first to commit, so numbers never repeat or skip)."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.exec(insert(InvoiceSequence).values(seller=seller, series=series, last_number=0)
                 .on_conflict_do_nothing(index_elements=["seller", "series"]))
    row = session.exec(select(InvoiceSequence).where(InvoiceSequence.seller == seller,
                                                     InvoiceSequence.series == series)
                       .with_for_update().execution_options(populate_existing=True)).one()
    row.last_number += 1
    session.add(row)
    session.flush()
    return row.last_number


def _new(session: Session, order: Order, series: InvoiceSeries, amount: int, **extra) -> Invoice:
    settings = get_settings()
    seller = settings.invoice_prefix
    invoice = Invoice(seller=seller, series=series.value, number=_next_number(session, seller, series.value),
                      order_id=order.id, amount=amount, currency=order.currency, vat_rate=settings.seller_vat_rate,
                      seller_name=settings.seller_legal_name, seller_address="\n".join(seller_lines(settings)),
                      seller_vat=settings.seller_vat_number or None, issued_at=utcnow(), **extra)
    session.add(invoice)
    session.flush()
    return invoice


def _lock_order(session: Session, order: Order) -> Order:
    session.flush()  # populate_existing below must not lose a change not yet written
    return session.exec(select(Order).where(Order.id == order.id).with_for_update()
                        .execution_options(populate_existing=True)).one()


def invoice_of(session: Session, order: Order) -> Invoice | None:
    return session.exec(select(Invoice).where(Invoice.order_id == order.id,
                                              Invoice.series == InvoiceSeries.invoice.value)).first()


def invoice_for(session: Session, order: Order) -> Invoice:
    """The order's invoice, numbered now if it has none yet. Once per order: the order's row lock makes
    a second caller wait and then find it (and uq_invoice_order says so to the database)."""
    found = invoice_of(session, order)
    if found is not None:
        return found
    order = _lock_order(session, order)
    found = invoice_of(session, order)
    return found or _new(session, order, InvoiceSeries.invoice, order.amount_total)


def credit_note(session: Session, order: Order, payment: Payment, amount: int) -> Invoice:
    """A credit note for `amount` just refunded on `payment` (whose refunded total now includes it).
    A repeated event for the same refunded total finds the note already made."""
    invoice_for(session, order)  # money was taken, so there is an invoice to credit
    found = session.exec(select(Invoice).where(Invoice.payment_id == payment.id,
                                               Invoice.refunded_total == payment.amount_refunded)).first()
    return found or _new(session, order, InvoiceSeries.credit_note, amount, payment_id=payment.id,
                         refunded_total=payment.amount_refunded)


# --- one document -------------------------------------------------------------------------------

@dataclass
class Document:
    invoice: Invoice
    credit_notes: list[Invoice]
    order: Order
    programme: Programme
    offer: Offer
    buyer: User
    payments: list[Payment]

    @property
    def owed(self) -> list[Payment]:
        return [p for p in self.payments if p.status != PaymentStatus.cancelled.value]

    @property
    def paid(self) -> int:
        return sum(p.amount for p in self.payments if p.status == PaymentStatus.paid.value)

    @property
    def remaining(self) -> int:
        return sum(p.amount for p in self.owed if p.status != PaymentStatus.paid.value)

    @property
    def refunded(self) -> int:
        return sum(c.amount for c in self.credit_notes)

    @property
    def vat_included(self) -> int:
        """The VAT in the total, the prices including it: total × rate / (100 + rate), to the penny."""
        rate = self.invoice.vat_rate
        total = self.order.amount_total
        return (total * rate * 2 + (100 + rate)) // (2 * (100 + rate)) if rate else 0


def document(session: Session, public_id: str, user: User, roles: set[Role]) -> Document:
    """The invoice of an order, for its buyer or an administrator; anyone else is told there is none
    (404), as is anyone asking for an order no money was ever paid on."""
    order = session.exec(select(Order).where(Order.public_id == public_id)).first()
    if order is None or (order.user_id != user.id and Role.admin not in roles):
        raise NotFound("There is no invoice with that reference.", code="invoice_not_found")
    payments = list(session.exec(select(Payment).where(Payment.order_id == order.id)
                                 .order_by(col(Payment.number))).all())
    invoice = invoice_of(session, order)
    if invoice is None:
        if not any(p.status == PaymentStatus.paid.value for p in payments):
            raise NotFound("This order has no invoice: nothing has been paid on it.", code="invoice_not_found")
        invoice = invoice_for(session, order)  # paid before invoices existed: numbered on first download
    notes = list(session.exec(select(Invoice).where(Invoice.order_id == order.id,
                                                    Invoice.series == InvoiceSeries.credit_note.value)
                              .order_by(col(Invoice.number))).all())
    return Document(invoice=invoice, credit_notes=notes, order=order,
                    programme=session.get(Programme, order.programme_id), offer=session.get(Offer, order.offer_id),
                    buyer=session.get(User, order.user_id), payments=payments)
