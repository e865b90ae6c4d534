"""What Cadre asks of a payment provider. Both providers speak Stripe's event language: whatever
they do, the outcome reaches Cadre as a signed Stripe-shaped event at POST /webhooks/stripe."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from api.accounts.models import User
from api.catalog.models import Offer, Programme
from api.payments.models import Order, Payment


@dataclass
class CheckoutSession:
    id: str
    url: str
    expires_at: datetime
    customer_id: str | None = None


@dataclass
class RefundResult:
    id: str | None
    status: str  # succeeded | pending | failed


class ProviderError(Exception):
    """The provider refused or could not be reached; the message is safe to show an administrator."""


class PaymentProvider(ABC):
    name: str

    @abstractmethod
    def create_checkout(self, session: Session, order: Order, *, user: User, programme: Programme, offer: Offer,
                        amounts: list[int], success_url: str, cancel_url: str) -> CheckoutSession:
        """Open a checkout for `order`: one payment of amounts[0], or a plan of len(amounts) payments."""

    @abstractmethod
    def expire_checkout(self, session: Session, order: Order) -> None:
        """Close an open checkout so it can no longer be paid."""

    @abstractmethod
    def plan_started(self, session: Session, order: Order, amounts: list[int]) -> None:
        """The first instalment is paid: make the plan take the remaining payments, then end itself."""

    @abstractmethod
    def refund(self, session: Session, order: Order, payment: Payment, amount: int) -> RefundResult:
        """Give back `amount` of `payment`. The effect arrives later as a charge.refunded event."""

    @abstractmethod
    def cancel_plan(self, session: Session, order: Order) -> None:
        """Stop taking instalments (after a full refund or a lost dispute)."""

    def payment_intent_for_invoice(self, invoice_id: str) -> str | None:
        """Which payment paid an invoice, when the event did not say."""
        return None
