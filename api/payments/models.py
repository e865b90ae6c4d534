"""Payments: discount codes and their redemptions, orders with their payment schedule, refunds,
the payment provider's customers, and every provider event recorded once."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Column, Index, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from api.core.db import UTCDateTime, utcnow


class DiscountKind(StrEnum):
    percent = "percent"
    amount = "amount"


class DiscountCode(SQLModel, table=True):
    """A code a learner types at checkout. Stored lower-cased: codes are case-insensitive."""

    __tablename__ = "discount_code"
    # Lists page newest first by (created_at, id): api/core/pagination.py.
    __table_args__ = (Index("ix_discount_code_created_at_id", "created_at", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=60, unique=True)
    kind: str = Field(max_length=10)
    percent_off: int | None = None  # 1..100
    amount_off: int | None = None  # minor units, in `currency`
    currency: str | None = Field(default=None, max_length=3)
    valid_from: datetime | None = Field(default=None, sa_type=UTCDateTime)
    valid_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    max_redemptions: int | None = None  # overall; None = unlimited
    max_per_customer: int | None = 1  # None = unlimited
    active: bool = True
    note: str | None = Field(default=None, max_length=200)
    created_by_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    deactivated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class DiscountCodeProgramme(SQLModel, table=True):
    """Restricts a code to these programmes; a code without rows applies to every programme."""

    __tablename__ = "discount_code_programme"
    __table_args__ = (UniqueConstraint("code_id", "programme_id"),)

    id: int | None = Field(default=None, primary_key=True)
    code_id: int = Field(foreign_key="discount_code.id", index=True, ondelete="CASCADE")
    programme_id: int = Field(foreign_key="programme.id", index=True, ondelete="CASCADE")


class RedemptionStatus(StrEnum):
    reserved = "reserved"  # held by an open checkout: counts towards the caps
    redeemed = "redeemed"  # the order was paid
    released = "released"  # the checkout expired or failed: no longer counts


class DiscountRedemption(SQLModel, table=True):
    __tablename__ = "discount_redemption"

    id: int | None = Field(default=None, primary_key=True)
    code_id: int = Field(foreign_key="discount_code.id", index=True, ondelete="CASCADE")
    user_id: int = Field(foreign_key="user.id", index=True, ondelete="CASCADE")
    order_id: int = Field(foreign_key="order.id", unique=True, ondelete="CASCADE")
    status: str = Field(default=RedemptionStatus.reserved.value, max_length=10, index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class OrderStatus(StrEnum):
    pending = "pending"  # checkout open
    processing = "processing"  # checkout completed, an asynchronous payment (bank debit) on its way
    paid = "paid"
    refunded = "refunded"  # everything paid was given back
    disputed = "disputed"
    failed = "failed"
    expired = "expired"


# A checkout is open from the moment it is created until it is paid, fails or expires, and while its
# bank payment is on its way (processing). One learner has at most one open checkout per programme:
# the database says so, so two checkouts started at the same moment cannot both stay open.
OPEN_CHECKOUT = "status IN ('pending', 'processing')"


class Order(SQLModel, table=True):
    # Lists page newest first by (created_at, id): api/core/pagination.py.
    __table_args__ = (
        Index("uq_order_open_checkout", "user_id", "programme_id", unique=True,
              sqlite_where=text(OPEN_CHECKOUT), postgresql_where=text(OPEN_CHECKOUT)),
        Index("ix_order_created_at_id", "created_at", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    public_id: str = Field(max_length=40, unique=True)
    user_id: int = Field(foreign_key="user.id", index=True, ondelete="RESTRICT")
    programme_id: int = Field(foreign_key="programme.id", index=True, ondelete="RESTRICT")
    offer_id: int = Field(foreign_key="offer.id", ondelete="RESTRICT")
    # Seats bought for an organisation: paid, they go to its seat pool instead of enrolling the buyer.
    quantity: int = 1
    organisation_id: int | None = Field(default=None, foreign_key="organisation.id", index=True,
                                        ondelete="RESTRICT")
    code_id: int | None = Field(default=None, foreign_key="discount_code.id", ondelete="SET NULL")
    code_text: str | None = Field(default=None, max_length=60)
    kind: str = Field(max_length=20)  # the offer's kind: full | instalments
    currency: str = Field(max_length=3)
    amount_before: int  # the offer's total
    discount_amount: int = 0
    amount_total: int  # what the learner pays in all
    instalment_count: int = 1
    interval: str | None = Field(default=None, max_length=10)
    access_days: int | None = None
    status: str = Field(default=OrderStatus.pending.value, max_length=20, index=True)
    provider: str = Field(max_length=20)
    provider_session_id: str | None = Field(default=None, max_length=200, unique=True)
    provider_customer_id: str | None = Field(default=None, max_length=200)
    provider_subscription_id: str | None = Field(default=None, max_length=200, index=True)
    checkout_url: str | None = Field(default=None, sa_column=Column(Text))
    expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    amount_paid: int = 0
    amount_refunded: int = 0
    dispute_status: str | None = Field(default=None, max_length=30)
    suspended_for: str | None = Field(default=None, max_length=20)  # why this order paused access
    paid_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    receipt_sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    status_note: str | None = Field(default=None, sa_column=Column(Text))
    # Who the invoice is made out to, if the buyer gave it at checkout (optional; api/payments/invoices.py).
    buyer_name: str | None = Field(default=None, max_length=200)
    buyer_company: str | None = Field(default=None, max_length=200)
    buyer_vat: str | None = Field(default=None, max_length=20)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class PaymentStatus(StrEnum):
    due = "due"
    paid = "paid"
    failed = "failed"
    cancelled = "cancelled"  # never to be taken (the plan ended early: refund, checkout expired)


class Payment(SQLModel, table=True):
    """One row per payment an order calls for: one for a full payment, N for an instalment plan.
    The schedule (due dates, amounts) and what happened to each payment."""

    __table_args__ = (UniqueConstraint("order_id", "number"),)

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="order.id", index=True, ondelete="CASCADE")
    number: int  # 1..instalment_count
    amount: int
    currency: str = Field(max_length=3)
    due_date: date
    status: str = Field(default=PaymentStatus.due.value, max_length=20)
    amount_refunded: int = 0
    paid_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    failed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    failure_message: str | None = Field(default=None, max_length=300)
    provider_invoice_id: str | None = Field(default=None, max_length=200, unique=True)
    provider_payment_intent_id: str | None = Field(default=None, max_length=200, unique=True)
    provider_charge_id: str | None = Field(default=None, max_length=200, index=True)
    pay_url: str | None = Field(default=None, sa_column=Column(Text))  # where to settle a failed payment


class Refund(SQLModel, table=True):
    """A refund an administrator asked the provider for. The amounts actually refunded come back in
    the provider's events (Payment.amount_refunded), so refunds made elsewhere still count."""

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="order.id", index=True, ondelete="CASCADE")
    payment_id: int = Field(foreign_key="payment.id", index=True, ondelete="CASCADE")
    amount: int
    provider_refund_id: str | None = Field(default=None, max_length=200)
    status: str = Field(max_length=20)
    reason: str | None = Field(default=None, max_length=300)
    requested_by_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class PaymentCustomer(SQLModel, table=True):
    """The provider's customer record for a learner (Stripe: cus_...), reused across orders."""

    __tablename__ = "payment_customer"
    __table_args__ = (UniqueConstraint("user_id", "provider"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True, ondelete="CASCADE")
    provider: str = Field(max_length=20)
    external_id: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class WebhookEvent(SQLModel, table=True):
    """Each provider event, recorded in the same transaction as its effect: a second delivery finds
    the row (or waits on the unique index, then finds it) and changes nothing."""

    __tablename__ = "webhook_event"
    __table_args__ = (UniqueConstraint("source", "event_id"),)

    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(max_length=20)
    event_id: str = Field(max_length=200)
    type: str = Field(max_length=100)
    outcome: str = Field(max_length=30)  # processed | ignored
    order_id: int | None = Field(default=None, foreign_key="order.id", index=True, ondelete="SET NULL")
    received_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class InvoiceSeries(StrEnum):
    invoice = "INV"
    credit_note = "CN"


class InvoiceSequence(SQLModel, table=True):
    """The last number used in one seller's series. Numbers are taken under this row's lock, so they run
    1, 2, 3... per seller and series with no gaps and no repeats, however many payments arrive at once."""

    __tablename__ = "invoice_sequence"
    __table_args__ = (UniqueConstraint("seller", "series"),)

    id: int | None = Field(default=None, primary_key=True)
    seller: str = Field(max_length=20)
    series: str = Field(max_length=4)
    last_number: int = 0


# One invoice per order, given when its first money arrives and never again.
INVOICE_SERIES = "series = 'INV'"


class Invoice(SQLModel, table=True):
    """A numbered document: the invoice of an order (series INV) or a credit note for money refunded on
    it (series CN, one per refund the provider confirmed). The seller's details are copied in when the
    number is given: an invoice says what it said when it was issued, whatever the settings become."""

    __table_args__ = (
        UniqueConstraint("seller", "series", "number"),
        Index("uq_invoice_order", "order_id", unique=True,
              sqlite_where=text(INVOICE_SERIES), postgresql_where=text(INVOICE_SERIES)),
        # A credit note answers one step of a payment's refunded total: a repeated event adds none.
        UniqueConstraint("payment_id", "refunded_total"),
    )

    id: int | None = Field(default=None, primary_key=True)
    seller: str = Field(max_length=20)  # the seller's invoice prefix, e.g. CAD
    series: str = Field(max_length=4)
    number: int
    order_id: int = Field(foreign_key="order.id", index=True, ondelete="RESTRICT")
    payment_id: int | None = Field(default=None, foreign_key="payment.id", ondelete="RESTRICT")
    refunded_total: int | None = None  # credit notes: the payment's refunded total after this refund
    amount: int  # invoice: the order's total; credit note: the amount credited
    currency: str = Field(max_length=3)
    vat_rate: int = 0  # percent, included in the prices
    seller_name: str = Field(max_length=200)
    seller_address: str = Field(sa_column=Column(Text, nullable=False))
    seller_vat: str | None = Field(default=None, max_length=40)
    issued_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

    @property
    def reference(self) -> str:
        """CAD-000042 (an invoice), CAD-CN-000003 (a credit note)."""
        middle = "" if self.series == InvoiceSeries.invoice.value else f"{self.series}-"
        return f"{self.seller}-{middle}{self.number:06d}"
