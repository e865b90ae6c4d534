"""Seats bought for an organisation: one order for N seats of a programme, paid in full (no codes, no
instalment plans), through the same providers and webhook as any order. Paid, the order credits the
organisation's seat pool once (api/organisations/seats.py:credit_order, called by lifecycle.order_paid)
instead of enrolling the buyer. Who may buy is the caller's business (organisations checks the owner).

One open checkout per buyer and programme still holds (uq_order_open_checkout): an owner's own open
checkout for the same programme is replaced by the organisation's, as a second tab would be.
"""

from __future__ import annotations

from sqlmodel import Session

from api.accounts.models import User
from api.catalog import service as catalog_service
from api.catalog.models import OfferKind
from api.core.db import utcnow
from api.core.errors import Conflict, Invalid
from api.payments import places
from api.payments.models import Order, OrderStatus, Payment
from api.payments.providers import PaymentProvider, get_provider
from api.payments.service import (
    ATTEMPTS,
    Checkout,
    PaymentInProgress,
    Quote,
    _insert_order,
    close_checkout,
    find_offer,
    offers_of,
    open_at_provider,
    open_order,
)

MAX_SEATS = 500  # per order: a bigger purchase is an invoice, arranged with the body


def open_seat_checkout(session: Session, *, user: User, organisation_id: int, organisation_public_id: str,
                       programme_slug: str, quantity: int, provider: PaymentProvider | None = None) -> Checkout:
    """Open a checkout for `quantity` seats (or hand back the identical one already open). All or nothing."""
    if not 1 <= quantity <= MAX_SEATS:
        raise Invalid(f"Choose between 1 and {MAX_SEATS} seats.", code="bad_quantity")
    provider = provider or get_provider()
    with session.begin_nested():
        return _open(session, user, organisation_id, organisation_public_id, programme_slug, quantity, provider)


def _open(session: Session, user: User, organisation_id: int, org_public_id: str, programme_slug: str,
          quantity: int, provider: PaymentProvider) -> Checkout:
    programme = catalog_service.get_by_slug(session, programme_slug)
    if places.sells_seats(programme):
        raise Invalid(f"{programme.display_title} runs in live cohorts: ask us for seats in a cohort "
                      "(an administrator grants them).", code="cohort_programme")
    offer = next((o for o in offers_of(session, programme) if o.kind == OfferKind.full.value), None)
    if offer is None:
        find_offer(session, programme, None)  # a free programme: "nothing to buy"
        raise Invalid(f"{programme.display_title} has no pay-in-full price: seats cannot be bought online.",
                      code="offer_not_full")
    for _ in range(ATTEMPTS):
        old = open_order(session, user.id, programme.id)
        if old is not None:
            if (old.organisation_id == organisation_id and old.quantity == quantity and old.offer_id == offer.id
                    and old.status == OrderStatus.pending.value and old.provider == provider.name
                    and old.checkout_url and old.expires_at and old.expires_at > utcnow()):
                return Checkout(old, reused=True)
            if old.status == OrderStatus.processing.value:
                raise PaymentInProgress(f"A bank payment for {programme.display_title} is already on its way "
                                        f"({old.public_id}): wait for it to settle before paying again.")
            close_checkout(session, old, provider, note="Replaced by a newer checkout.")
        total = offer.amount * quantity
        q = Quote(programme=programme, offer=offer, amount_before=total, instalments=[total])
        order = _insert_order(session, user, programme, offer, q, None, provider)
        if order is not None:
            break
    else:
        raise Conflict(f"Another checkout for {programme.display_title} is being opened at this moment. "
                       "Wait a few seconds and try again.", code="checkout_in_progress")
    order.quantity, order.organisation_id = quantity, organisation_id
    session.add(order)
    session.add(Payment(order_id=order.id, number=1, amount=total, currency=offer.currency, due_date=utcnow().date()))
    session.flush()
    open_at_provider(session, order, provider, user=user, programme=programme, offer=offer, amounts=[total],
                     success_path=f"/organisations/{org_public_id}/seats?paid={order.public_id}",
                     cancel_path=f"/organisations/{org_public_id}/seats?cancelled={order.public_id}")
    return Checkout(order, reused=False)


def seats_page(session: Session, order: Order, *, cancelled: bool = False) -> str:
    """Where the buyer goes after the checkout: the organisation's seats page (its public id)."""
    from api.organisations.models import Organisation  # imported when needed: organisations imports payments

    public_id = session.get(Organisation, order.organisation_id).public_id
    return f"/organisations/{public_id}/seats?{'cancelled' if cancelled else 'paid'}={order.public_id}"
