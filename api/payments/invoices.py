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

# Loose on purpose: a country prefix and 2 to 13 letters or digits, at least two of them digits (every
# EU, UK, Swiss and Norwegian format fits, and a word such as "not a vat" does not); the tax office, not
# this form, knows whether the number exists.
VAT_PATTERN = re.compile(r"[A-Z]{2}(?=(?:[A-Z]*[0-9]){2})[0-9A-Z]{2,13}")
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


# What each field is called in a message, and its longest tidied length.
LIMITS = {"buyer_name": ("name for the invoice", 200), "buyer_company": ("company name", 200)}
VAT_MESSAGE = "Enter the VAT number with its country code, such as GB123456789 or DE123456789, or leave it empty."


class BuyerProblem(ValueError):
    """One field of the buyer's details cannot be used: `message` says why, in plain words."""

    def __init__(self, key: str, message: str, kept: str):
        super().__init__(message)
        self.key, self.message, self.kept = key, message, kept


def clean_buyer_field(key: str, value: str | None) -> str | None:
    """The one rule for each invoice detail, used by the checkout page and the JSON API alike: the
    value tidied (None when empty), or BuyerProblem. Every field is optional: empty is always fine."""
    if key == "buyer_vat":
        typed = (value or "").strip()
        if not typed:
            return None
        compact = re.sub(r"[\s.\-]", "", typed).upper()
        if not VAT_PATTERN.fullmatch(compact):
            raise BuyerProblem(key, VAT_MESSAGE, typed[:40])
        return compact
    label, limit = LIMITS[key]
    tidy = " ".join((value or "").split())
    if not tidy:
        return None
    problem = text_problem(tidy)
    if problem:
        raise BuyerProblem(key, f"The {label} {problem}.", tidy)
    if len(tidy) > limit:
        raise BuyerProblem(key, f"The {label} must be {limit} characters or fewer.", tidy)
    return tidy


def read_buyer(name: str = "", company: str = "", vat: str = "") -> BuyerDetails:
    """What the buyer typed, tidied, with a plain message for each field that cannot be used (in the
    form's order), and what was typed kept to show again."""
    values: dict[str, str | None] = {}
    errors: dict[str, str] = {}
    for key, typed in zip(FIELDS, (name, company, vat), strict=True):
        try:
            values[key] = clean_buyer_field(key, typed)
        except BuyerProblem as problem:
            values[key], errors[key] = problem.kept, problem.message
    return BuyerDetails(name=values["buyer_name"], company=values["buyer_company"], vat=values["buyer_vat"],
                        errors=errors)


def set_buyer(session: Session, order: Order, buyer: BuyerDetails | None) -> None:
    """Make the invoice out to these details, field by field: a detail given replaces the order's, one
    left out (or empty) keeps what the order has. So posting the checkout again for the open checkout it
    reuses, with only the company say, does not wipe the name or VAT number given the first time."""
    if buyer is None or buyer.errors:
        return
    given = {"buyer_name": buyer.name, "buyer_company": buyer.company, "buyer_vat": buyer.vat}
    changed = False
    for key, value in given.items():
        if value and getattr(order, key) != value:
            setattr(order, key, value)
            changed = True
    if not changed:
        return
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

def vat_in(amount: int, rate: int) -> int:
    """The VAT included in a price: amount × rate / (100 + rate), to the nearest penny (half up)."""
    if not rate:
        return 0
    sign = -1 if amount < 0 else 1
    return sign * ((abs(amount) * rate * 2 + (100 + rate)) // (2 * (100 + rate)))


@dataclass
class Document:
    """An order's invoice with its credit notes; `note`: the one credit note this document is (its PDF)."""

    invoice: Invoice
    credit_notes: list[Invoice]
    order: Order
    programme: Programme
    offer: Offer
    buyer: User
    payments: list[Payment]
    note: Invoice | None = None

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
        """The VAT in the invoice's total, the prices including it."""
        return vat_in(self.order.amount_total, self.invoice.vat_rate)

    def credited_before(self, note: Invoice) -> int:
        return sum(c.amount for c in self.credit_notes if c.id < note.id)

    def vat_credited(self, note: Invoice) -> int:
        """The VAT a credit note takes back, at the invoice's rate. Each note takes the VAT of everything
        credited up to it less what the earlier notes took, so the notes of an order refunded in full
        add up to the invoice's VAT to the penny, however many refunds it took."""
        rate, before = self.invoice.vat_rate, self.credited_before(note)
        return vat_in(before + note.amount, rate) - vat_in(before, rate)


def _order_to_show(session: Session, public_id: str, user: User, roles: set[Role], what: str) -> Order:
    """The order, for who may see its invoice and credit notes: its buyer, an owner of the organisation
    it bought seats for, an administrator. Anyone else is told there is none (404)."""
    order = session.exec(select(Order).where(Order.public_id == public_id)).first()
    if order is not None and (order.user_id == user.id or Role.admin in roles or _owns_buyer(session, order, user)):
        return order
    raise NotFound(f"There is no {what} with that reference.", code=f"{what.replace(' ', '_')}_not_found")


def _owns_buyer(session: Session, order: Order, user: User) -> bool:
    if order.organisation_id is None:
        return False
    from api.organisations import service as organisations_service  # organisations imports payments
    from api.organisations.models import OrgRole

    member = organisations_service.membership_of(session, order.organisation_id, user.id)
    return member is not None and member.role == OrgRole.owner.value


def _credit_notes(session: Session, order: Order) -> list[Invoice]:
    return list(session.exec(select(Invoice).where(Invoice.order_id == order.id,
                                                   Invoice.series == InvoiceSeries.credit_note.value)
                             .order_by(col(Invoice.id))).all())


def _document(session: Session, order: Order, invoice: Invoice, payments: list[Payment],
              note: Invoice | None = None) -> Document:
    return Document(invoice=invoice, credit_notes=_credit_notes(session, order), order=order,
                    programme=session.get(Programme, order.programme_id), offer=session.get(Offer, order.offer_id),
                    buyer=session.get(User, order.user_id), payments=payments, note=note)


def _payments(session: Session, order: Order) -> list[Payment]:
    return list(session.exec(select(Payment).where(Payment.order_id == order.id)
                             .order_by(col(Payment.number))).all())


def document(session: Session, public_id: str, user: User, roles: set[Role]) -> Document:
    """The invoice of an order, for those who may see it (_order_to_show); anyone else is told there is
    none (404), as is anyone asking for an order no money was ever paid on."""
    order = _order_to_show(session, public_id, user, roles, "invoice")
    payments = _payments(session, order)
    invoice = invoice_of(session, order)
    if invoice is None:
        if not any(p.status == PaymentStatus.paid.value for p in payments):
            raise NotFound("This order has no invoice: nothing has been paid on it.", code="invoice_not_found")
        invoice = invoice_for(session, order)  # paid before invoices existed: numbered on first download
    return _document(session, order, invoice, payments)


def credit_note_document(session: Session, public_id: str, reference: str, user: User,
                         roles: set[Role]) -> Document:
    """One credit note of an order (by its reference, CAD-CN-000003), for those who may see the order's
    invoice; 404 for anyone else and for a reference that is not one of this order's credit notes."""
    order = _order_to_show(session, public_id, user, roles, "credit note")
    invoice = invoice_of(session, order)
    note = next((n for n in _credit_notes(session, order) if n.reference == reference.upper()), None)
    if note is None or invoice is None:
        raise NotFound("There is no credit note with that reference.", code="credit_note_not_found")
    return _document(session, order, invoice, _payments(session, order), note)
