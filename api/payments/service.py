"""Prices, checkout, orders, refunds and the sweep. Flushes, never commits.

Money rules: an offer's `amount` is the total. A code comes off the total; an instalment plan splits
what is left with `split_instalments` (remainder pence on the first payments), so the payments always
add up to the total exactly. Checking the ladder and any existing enrolment happens before a checkout
is opened, so nobody pays for something they may not start or already have.
"""

from __future__ import annotations

import calendar
import logging
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from api.accounts.models import User
from api.catalog import service as catalog_service
from api.catalog.models import Offer, OfferKind, Programme
from api.core import pagination
from api.core.config import get_settings
from api.core.db import utcnow
from api.core.errors import Conflict, Invalid, NotFound
from api.core.money import format_money, split_instalments
from api.core.security import new_token
from api.learning import service as learning_service
from api.learning.models import EnrolmentStatus
from api.payments import codes, places, tries
from api.payments.models import (
    DiscountCode,
    Invoice,
    InvoiceSeries,
    Order,
    OrderStatus,
    Payment,
    PaymentStatus,
    RedemptionStatus,
    Refund,
)
from api.payments.providers import PaymentProvider, ProviderError, get_provider

log = logging.getLogger("cadre.payments")
OPEN_STATUSES = (OrderStatus.pending.value, OrderStatus.processing.value)  # see uq_order_open_checkout
MINIMUM_CHARGE = 30  # Stripe's smallest card charge in GBP/EUR/USD minor units is about 30-50


class AlreadyEnrolled(Conflict):
    code = "already_enrolled"


class CodeNotApplicable(Invalid):
    code = "code_not_applicable"


@dataclass
class Quote:
    programme: Programme
    offer: Offer
    amount_before: int
    discount: int = 0
    code: DiscountCode | None = None
    code_text: str | None = None
    code_problem: str | None = None
    instalments: list[int] = field(default_factory=list)

    @property
    def currency(self) -> str:
        return self.offer.currency

    @property
    def amount_total(self) -> int:
        return self.amount_before - self.discount

    @property
    def summary(self) -> str:
        """ "£430 in one payment", "4 × £107.50 monthly (£430 in all)", "3 × £2.51 then 1 × £2.50 monthly"."""
        total = format_money(self.amount_total, self.currency)
        if len(self.instalments) > 1:
            runs: list[list[int]] = []
            for a in self.instalments:
                if runs and runs[-1][0] == a:
                    runs[-1][1] += 1
                else:
                    runs.append([a, 1])
            parts = " then ".join(f"{n} × {format_money(a, self.currency)}" for a, n in runs)
            return f"{parts} {self.offer.interval or 'month'}ly ({total} in all)"
        return f"{total} in one payment"


def add_interval(start: date, interval: str, count: int) -> date:
    if interval == "week":
        return start + timedelta(weeks=count)
    month = start.month - 1 + count
    year, month = start.year + month // 12, month % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def offers_of(session: Session, programme: Programme) -> list[Offer]:
    return list(session.exec(select(Offer).where(Offer.programme_id == programme.id, col(Offer.retired_at).is_(None))
                             .order_by(col(Offer.position))).all())


def find_offer(session: Session, programme: Programme, offer_slug: str | None) -> Offer:
    offers = offers_of(session, programme)
    if not offers:
        raise NotFound(f"{programme.display_title} is free: there is nothing to buy.", code="no_offer")
    if not offer_slug:
        return offers[0]
    for o in offers:
        if o.slug == offer_slug:
            return o
    raise NotFound(f"{programme.display_title} has no offer called {offer_slug}.", code="offer_not_found")


def quote(session: Session, *, programme_slug: str, offer_slug: str | None, code_text: str | None,
          user: User | None, address: str | None) -> Quote:
    """The price a learner would pay, or why the code they typed does not apply (then: the full price).
    Every code resolved here is a try from `address` (see tries.py): past the limit, 429."""
    programme = catalog_service.get_by_slug(session, programme_slug)
    offer = find_offer(session, programme, offer_slug)
    q = Quote(programme=programme, offer=offer, amount_before=offer.amount)
    typed = (code_text or "").strip()
    if typed:
        tries.count(session, address, typed)
        q.code_text = codes.normalise(typed)
        code = codes.get(session, typed)
        q.code_problem = codes.problem(session, code, typed, programme, offer.currency, user.id if user else None)
        if q.code_problem is None and code is not None:
            q.code, q.discount = code, codes.discount_for(code, offer.amount)
    count = offer.instalments if offer.kind == OfferKind.instalments.value and offer.instalments else 1
    q.instalments = split_instalments(q.amount_total, count)
    return q


# --- before money: who may buy ----------------------------------------------------------------

def refuse_if_cannot_buy(session: Session, user: User, programme: Programme) -> None:
    """Already studying it: say so. Missing a rung of the ladder: the ladder's own message."""
    enrolment = learning_service.get_enrolment(session, user.id, programme.id)
    if enrolment and learning_service.has_access(enrolment):
        raise AlreadyEnrolled(f"You are already enrolled in {programme.display_title}: there is nothing to pay. "
                              f"Carry on learning at /learn/{programme.slug}.")
    if enrolment and enrolment.status == EnrolmentStatus.suspended.value:
        raise AlreadyEnrolled(f"Your access to {programme.display_title} is paused ({enrolment.status_reason}). "
                              "Settle it on your billing page (/billing) instead of buying again.",
                              code="enrolment_suspended")
    missing = learning_service.missing_prerequisites(session, user.id, programme)
    if missing:
        raise learning_service.PrerequisiteMissing(missing, programme)


# --- checkout ---------------------------------------------------------------------------------
#
# One open checkout per learner and programme, enforced by the partial unique index
# uq_order_open_checkout (models.py). A second request while one is open gets that checkout back
# when it is for the same offer and code and still valid (a second click on "Pay"); otherwise the old
# one is closed at its provider and a new one opened. Requests racing each other meet the index: the
# loser's insert fails (on PostgreSQL it first waits for the winner to commit), is rolled back to its
# savepoint, and is answered exactly as if it had come second.
#
# The provider is called after the order row is written (so only this learner's own racing requests
# wait on it) and before the code's row lock is taken (so other learners using the code never wait
# on the network); the code's caps are checked again under that lock, and a checkout that lost the
# last use of a code is closed at the provider before the error is raised.

REUSE_MARGIN = timedelta(minutes=5)  # a checkout about to expire is replaced rather than handed out again
ATTEMPTS = 3


class PaymentInProgress(Conflict):
    code = "payment_in_progress"


@dataclass
class Checkout:
    order: Order
    reused: bool  # the learner's checkout that was already open, handed back


def open_order(session: Session, user_id: int, programme_id: int) -> Order | None:
    """The learner's open checkout for a programme (pending, or its bank payment processing), if any."""
    return session.exec(select(Order).where(Order.user_id == user_id, Order.programme_id == programme_id,
                                            col(Order.status).in_(OPEN_STATUSES))
                        .execution_options(populate_existing=True)).first()


def _reusable(order: Order, offer: Offer, typed: str | None, provider: PaymentProvider) -> bool:
    return (order.status == OrderStatus.pending.value and order.offer_id == offer.id and order.code_text == typed
            and order.provider == provider.name and bool(order.checkout_url) and order.expires_at is not None
            and order.expires_at > utcnow() + REUSE_MARGIN)


def start_checkout(session: Session, *, user: User, programme_slug: str, offer_slug: str | None,
                   code_text: str | None, address: str | None, provider: PaymentProvider | None = None,
                   cohort: str | None = None) -> Order:
    return open_checkout(session, user=user, programme_slug=programme_slug, offer_slug=offer_slug,
                         code_text=code_text, address=address, provider=provider, cohort=cohort).order


def open_checkout(session: Session, *, user: User, programme_slug: str, offer_slug: str | None,
                  code_text: str | None, address: str | None, provider: PaymentProvider | None = None,
                  cohort: str | None = None) -> Checkout:
    """Open a checkout (the order, its payment schedule, a reserved code, the provider's session), or
    hand back the one already open. `address` is where the request came from: a code typed here counts
    towards its tries (None only for callers that are not a client, such as the command line).
    All or nothing: if anything fails (the code, the provider), none of it stays, even when the caller
    goes on to commit (a page that shows the error).
    A live programme sells a seat in `cohort` (its public id): the seat is held with the checkout
    (api/payments/places.py)."""
    with session.begin_nested():
        return _open_checkout(session, user=user, programme_slug=programme_slug, offer_slug=offer_slug,
                              code_text=code_text, address=address, provider=provider or get_provider(),
                              cohort_id=cohort)


class CohortFull(Conflict):
    code = "cohort_full"


def _open_checkout(session: Session, *, user: User, programme_slug: str, offer_slug: str | None,
                   code_text: str | None, address: str | None, provider: PaymentProvider,
                   cohort_id: str | None = None) -> Checkout:
    programme = catalog_service.get_by_slug(session, programme_slug)
    refuse_if_cannot_buy(session, user, programme)
    cohort = places.precheck(session, user, programme, cohort_id) if places.sells_seats(programme) else None
    offer = find_offer(session, programme, offer_slug)
    typed = codes.normalise(code_text or "") or None
    for attempt in range(ATTEMPTS):
        old = open_order(session, user.id, programme.id)
        if old is not None:
            if _reusable(old, offer, typed, provider) and (cohort is None or places.seat_matches(session, old, cohort)):
                return Checkout(old, reused=True)
            if old.status == OrderStatus.processing.value:
                raise PaymentInProgress(
                    f"A bank payment for {programme.display_title} is already on its way ({old.public_id}): "
                    "wait for it to settle (see /billing) before paying again.")
            close_checkout(session, old, provider, note="Replaced by a newer checkout.")
        q = quote(session, programme_slug=programme.slug, offer_slug=offer.slug, code_text=typed, user=user,
                  address=address)
        if q.code_problem:
            if attempt + 1 < ATTEMPTS and open_order(session, user.id, programme.id) is not None:
                continue  # a racing request just opened one (and reserved the code): answer with that one
            raise CodeNotApplicable(q.code_problem)
        if q.amount_total and min(q.instalments) < MINIMUM_CHARGE:
            raise Invalid("That payment is too small to take by card.", code="amount_too_small")
        order = _insert_order(session, user, programme, offer, q, typed, provider)
        if order is not None:
            break
    else:
        raise Conflict(f"Another checkout for {programme.display_title} is being opened at this moment. "
                       "Wait a few seconds and try again.", code="checkout_in_progress")
    now = utcnow()
    today = now.date()
    for i, amount in enumerate(q.instalments):
        session.add(Payment(order_id=order.id, number=i + 1, amount=amount, currency=offer.currency,
                            due_date=add_interval(today, offer.interval or "month", i) if i else today))
    session.flush()
    if q.amount_total == 0:  # a 100% code: nothing to collect
        from api.payments import lifecycle

        _reserve_code(session, order, q, user, provider)
        if cohort is not None:
            order.expires_at = now + timedelta(minutes=get_settings().checkout_expiry_minutes)
            _hold_seat(session, user, cohort, order, provider)
        for p in payments_of(session, order):
            p.status, p.paid_at = PaymentStatus.paid.value, now
            session.add(p)
        lifecycle.order_paid(session, order, provider)
        return Checkout(order, reused=False)
    open_at_provider(session, order, provider, user=user, programme=programme, offer=offer, amounts=q.instalments,
                     success_path=f"/checkout/success?order={order.public_id}",
                     cancel_path=f"/checkout/{programme.slug}/cancelled?order={order.public_id}")
    if cohort is not None:
        _hold_seat(session, user, cohort, order, provider)
    _reserve_code(session, order, q, user, provider)
    return Checkout(order, reused=False)


def open_at_provider(session: Session, order: Order, provider: PaymentProvider, *, user: User, programme: Programme,
                     offer: Offer, amounts: list[int], success_path: str, cancel_path: str) -> None:
    """Open the provider's payment page for a new order and keep its session id, address and expiry on the
    order. The provider refusing is a 409 (nothing was charged); the caller's savepoint undoes the order."""
    base = get_settings().base_url.rstrip("/")
    try:
        cs = provider.create_checkout(session, order, user=user, programme=programme, offer=offer, amounts=amounts,
                                      success_url=base + success_path, cancel_url=base + cancel_path)
    except ProviderError as exc:
        raise Conflict(f"The payment page could not be opened: {exc}. Nothing was charged; try again.",
                       code="provider_error") from exc
    order.provider_session_id, order.checkout_url, order.expires_at = cs.id, cs.url, cs.expires_at
    order.provider_customer_id = cs.customer_id
    session.add(order)
    session.flush()


def _hold_seat(session: Session, user: User, cohort, order: Order, provider: PaymentProvider) -> None:
    """Hold the seat under the cohort's row lock, after the provider's checkout exists (no network call
    under the lock). Losing the last seat closes this checkout at the provider, then refuses."""
    savepoint = session.begin_nested()
    problem = places.hold(session, user, cohort, order)
    if problem is None:
        savepoint.commit()
        return
    savepoint.rollback()  # lets go of the cohort's lock before the provider is called
    if order.provider_session_id:
        try:
            provider.expire_checkout(session, order)
        except ProviderError:
            log.warning("checkout left open at the provider", extra={"order": order.public_id})
    raise CohortFull(problem)


def _insert_order(session: Session, user: User, programme: Programme, offer: Offer, q: Quote, typed: str | None,
                  provider: PaymentProvider) -> Order | None:
    """The order row, or None when another checkout of this learner for this programme got there first."""
    order = Order(
        public_id="ord_" + new_token(12).replace("-", "x").replace("_", "y"), user_id=user.id,
        programme_id=programme.id, offer_id=offer.id, code_id=q.code.id if q.code else None, code_text=typed,
        kind=offer.kind, currency=offer.currency, amount_before=q.amount_before, discount_amount=q.discount,
        amount_total=q.amount_total, instalment_count=len(q.instalments), interval=offer.interval,
        access_days=offer.access_days, provider=provider.name,
    )
    try:
        with session.begin_nested():
            session.add(order)
            session.flush()
    except IntegrityError:
        return None
    return order


def _reserve_code(session: Session, order: Order, q: Quote, user: User, provider: PaymentProvider) -> None:
    """Reserve the code's use under its row lock, checking its caps again: another learner may have
    taken the last use since the price was quoted. Losing it closes this checkout at the provider."""
    if q.code is None:
        return
    savepoint = session.begin_nested()
    code = codes.get(session, q.code.code, lock=True)
    problem = codes.problem(session, code, q.code_text or q.code.code, q.programme, q.currency, user.id)
    if problem is None and code is not None:
        codes.reserve(session, code, user_id=user.id, order_id=order.id)
        savepoint.commit()
        return
    savepoint.rollback()  # lets go of the code's lock before the provider is called
    if order.provider_session_id:
        try:
            provider.expire_checkout(session, order)
        except ProviderError:
            log.warning("checkout left open at the provider", extra={"order": order.public_id})
    raise CodeNotApplicable(problem or f"The code {codes.display(q.code)} is no longer active.")


def close_checkout(session: Session, order: Order, provider: PaymentProvider, note: str) -> None:
    """Close an open checkout and let go of its code (an older tab, an expired session)."""
    if not _try_close(session, order, provider, note):
        raise PaymentInProgress(f"A payment for {order.public_id} is already on its way; wait a minute, then "
                                "check /billing.")


def _try_close(session: Session, order: Order, provider: PaymentProvider, note: str) -> bool:
    """close_checkout, answering False when the provider will not close it (a payment is on its way).
    It raises no business error for that: constructing one marks the whole request as refused."""
    was_open = order.status == OrderStatus.pending.value
    try:
        if order.provider == provider.name:  # one made under another configuration has nothing to close here
            provider.expire_checkout(session, order)
    except ProviderError:
        return False
    session.refresh(order)
    # The offline provider's expired event has already closed it (as "Checkout expired."): say why.
    if order.status == OrderStatus.pending.value or (was_open and order.status == OrderStatus.expired.value):
        order.status, order.status_note, order.updated_at = OrderStatus.expired.value, note, utcnow()
        session.add(order)
        for p in payments_of(session, order):
            if p.status == PaymentStatus.due.value:
                p.status = PaymentStatus.cancelled.value
                session.add(p)
        codes.set_redemption(session, order.id, RedemptionStatus.released)
        places.closed(session, order)
        session.flush()
    return True


def close_open_checkouts(session: Session, user_id: int, programme_id: int, note: str,
                         provider: PaymentProvider | None = None) -> list[Order]:
    """The learner was given the programme some other way (an administrator's grant): close the checkout
    they may still have open for it, so it can no longer be paid. One the provider will not close (a
    payment already on its way) stays; if its money arrives, it is refunded (lifecycle.order_paid)."""
    order = open_order(session, user_id, programme_id)
    if order is None or order.status != OrderStatus.pending.value or order.organisation_id is not None:
        return []  # seats bought for an organisation are not the buyer's own access
    if not _try_close(session, order, provider or get_provider(), note=note):
        log.info("open checkout left to the refund", extra={"order": order.public_id})
        return []
    return [order]


# --- reading orders -----------------------------------------------------------------------------

def payments_of(session: Session, order: Order) -> list[Payment]:
    return list(session.exec(select(Payment).where(Payment.order_id == order.id)
                             .order_by(col(Payment.number))).all())


def in_arrears(session: Session, user_id: int, programme_ids: list[int]) -> set[int]:
    """Programmes among `programme_ids` for which the learner has a failed instalment still unpaid:
    their certificate is withheld until it is paid."""
    if not programme_ids:
        return set()
    rows = session.exec(select(Order.programme_id).join(Payment, col(Payment.order_id) == col(Order.id)).where(
        Order.user_id == user_id, col(Order.programme_id).in_(programme_ids),
        Payment.status == PaymentStatus.failed.value)).all()
    return set(rows)


def get_order(session: Session, public_id: str, user: User | None = None) -> Order:
    """An order by its public id; with `user`, only that learner's (a stranger's id is simply not found)."""
    order = session.exec(select(Order).where(Order.public_id == public_id)).first()
    if order is None or (user is not None and order.user_id != user.id):
        raise NotFound("There is no order with that reference.", code="order_not_found")
    return order


def order_by_session(session: Session, session_id: str, user: User | None = None) -> Order:
    order = session.exec(select(Order).where(Order.provider_session_id == session_id)).first()
    if order is None or (user is not None and order.user_id != user.id):
        raise NotFound("There is no checkout at this address.", code="checkout_not_found")
    return order


@dataclass
class OrderView:
    order: Order
    programme: Programme
    offer: Offer
    payments: list[Payment]
    refunds: list[Refund]
    user: User | None = None
    credit_notes: list[Invoice] = field(default_factory=list)  # one per refund the provider confirmed

    @property
    def refundable(self) -> int:
        return sum(p.amount - p.amount_refunded for p in self.payments if p.status == PaymentStatus.paid.value)

    @property
    def standing(self) -> tuple[str, str]:
        """(what the order's tag says, its kind: ok / warn / bad), the same on /billing and /admin/orders:
        a plan says how many of its payments are in and what comes next ("1 of 4 paid · next £107.50 on
        1 January 2027"), and money given back on an order still paid says so ("paid · £200 refunded")."""
        o = self.order
        owed = [p for p in self.payments if p.status != PaymentStatus.cancelled.value]
        paid = [p for p in owed if p.status == PaymentStatus.paid.value]
        upcoming = next((p for p in owed if p.status != PaymentStatus.paid.value), None)
        part_refunded = bool(o.amount_refunded) and o.status != OrderStatus.refunded.value
        if o.status == OrderStatus.paid.value and len(owed) > 1:
            label = f"{len(paid)} of {len(owed)} paid"
            if upcoming is not None:
                label += f" · next {format_money(upcoming.amount, upcoming.currency)} on {upcoming.due_date:%-d %B %Y}"
            failed = upcoming is not None and upcoming.status == PaymentStatus.failed.value
            kind = "bad" if failed else ("warn" if upcoming is not None or part_refunded else "ok")
        else:
            label = o.status
            kind = ("bad" if o.status in (OrderStatus.failed.value, OrderStatus.disputed.value)
                    else "ok" if o.status == OrderStatus.paid.value and not part_refunded else "warn")
        if part_refunded:
            label += f" · {format_money(o.amount_refunded, o.currency)} refunded"
        return label, kind


def order_views(session: Session, orders: list[Order], with_users: bool = False) -> list[OrderView]:
    ids = [o.id for o in orders]
    if not ids:
        return []
    programmes = {p.id: p for p in session.exec(select(Programme).where(
        col(Programme.id).in_({o.programme_id for o in orders})))}
    offers = {o.id: o for o in session.exec(select(Offer).where(col(Offer.id).in_({o.offer_id for o in orders})))}
    payments: dict[int, list[Payment]] = {i: [] for i in ids}
    for p in session.exec(select(Payment).where(col(Payment.order_id).in_(ids)).order_by(col(Payment.number))):
        payments[p.order_id].append(p)
    refunds: dict[int, list[Refund]] = {i: [] for i in ids}
    for r in session.exec(select(Refund).where(col(Refund.order_id).in_(ids)).order_by(col(Refund.created_at))):
        refunds[r.order_id].append(r)
    notes: dict[int, list[Invoice]] = {i: [] for i in ids}
    for n in session.exec(select(Invoice).where(col(Invoice.order_id).in_(ids),
                                                Invoice.series == InvoiceSeries.credit_note.value)
                          .order_by(col(Invoice.id))):
        notes[n.order_id].append(n)
    users = {}
    if with_users:
        users = {u.id: u for u in session.exec(select(User).where(col(User.id).in_({o.user_id for o in orders})))}
    return [OrderView(order=o, programme=programmes[o.programme_id], offer=offers[o.offer_id],
                      payments=payments[o.id], refunds=refunds[o.id], user=users.get(o.user_id),
                      credit_notes=notes[o.id]) for o in orders]


def orders_for(session: Session, user: User) -> list[OrderView]:
    orders = session.exec(select(Order).where(Order.user_id == user.id, Order.status != OrderStatus.expired.value)
                          .order_by(col(Order.created_at).desc())).all()
    return order_views(session, list(orders))


ORDERS_ORDER = pagination.Keyset(Order.created_at, Order.id, descending=True)  # newest first


def all_orders(session: Session, *, status: str | None = None, search: str | None = None, after: str | None = None,
               before: str | None = None, size: int = pagination.PAGE_SIZE) -> pagination.Page[OrderView]:
    """A page of every learner's orders (administrators), newest first, by status and email or reference."""
    query = select(Order).join(User, col(User.id) == col(Order.user_id))
    if status:
        query = query.where(Order.status == status)
    if search and search.strip():
        like = f"%{search.strip().lower()}%"
        query = query.where(col(User.email).ilike(like) | col(Order.public_id).ilike(like))
    page = pagination.paginate(session, query, ORDERS_ORDER, after=after, before=before, size=size)
    page.rows = order_views(session, list(page.rows), with_users=True)
    return page


def orders_page(session: Session, user: User, *, after: str | None = None,
                size: int = pagination.PAGE_SIZE) -> pagination.Page[OrderView]:
    """A page of the learner's own orders (not the expired checkouts), newest first."""
    query = select(Order).where(Order.user_id == user.id, Order.status != OrderStatus.expired.value)
    page = pagination.paginate(session, query, ORDERS_ORDER, after=after, size=size)
    page.rows = order_views(session, list(page.rows))
    return page


# --- refunds ------------------------------------------------------------------------------------

def refund_amount(session: Session, order: Order, amount: int | None) -> int:
    """What a refund of `amount` (None: everything still refundable) would give back, or why it cannot
    be made: the one check of refund() and of the page that asks an administrator to confirm it."""
    paid = [p for p in payments_of(session, order) if p.status == PaymentStatus.paid.value]
    refundable = sum(p.amount - p.amount_refunded for p in paid)
    if refundable <= 0:
        raise Conflict("Nothing on this order is left to refund.", code="nothing_to_refund")
    wanted = refundable if amount is None else amount
    if wanted < 1 or wanted > refundable:
        raise Invalid(f"Refund between {format_money(1, order.currency)} and "
                      f"{format_money(refundable, order.currency)}.", code="bad_refund_amount")
    if order.organisation_id is not None and wanted == refundable:  # in full: the seats go back too
        from api.organisations import seats

        blocker = seats.refund_blocker(session, order)
        if blocker:
            raise Conflict(blocker, code="seats_in_use")
    return wanted


def refund(session: Session, order: Order, *, amount: int | None, by: User | None, reason: str | None = None,
           provider: PaymentProvider | None = None) -> list[Refund]:
    """Refund `amount` (None: everything still refundable) through the provider, newest payment first.
    What the provider confirms arrives as charge.refunded events, which move the order and the
    enrolment; with the offline provider that happens before this returns.

    All or nothing here: when the provider refuses one of several refunds, none of this call's rows or
    effects stay written, even if the caller goes on to commit (a page showing the error). A part the
    provider did refund before refusing the rest arrives later in its own charge.refunded event."""
    provider = provider or get_provider()
    wanted = refund_amount(session, order, amount)
    paid = [p for p in payments_of(session, order) if p.status == PaymentStatus.paid.value]
    plan: list[tuple[Payment, int]] = []
    left = wanted
    for p in sorted(paid, key=lambda p: p.number, reverse=True):
        take = min(left, p.amount - p.amount_refunded)
        if take > 0:
            plan.append((p, take))
            left -= take
        if not left:
            break
    # Refuse before asking the provider for anything when one of the payments cannot be refunded yet.
    unknown = [p.number for p, _ in plan if not p.provider_payment_intent_id]
    if unknown:
        raise Conflict(f"Payment {unknown[0]} of this order has no charge on record yet (the provider has not "
                       "confirmed it): nothing was refunded. Try again in a minute.", code="provider_error")
    made: list[Refund] = []
    try:
        with session.begin_nested():
            for p, take in plan:
                result = provider.refund(session, order, p, take)
                row = Refund(order_id=order.id, payment_id=p.id, amount=take, provider_refund_id=result.id,
                             status=result.status, reason=reason, requested_by_id=by.id if by else None)
                session.add(row)
                made.append(row)
            session.flush()
    except ProviderError as exc:
        raise Conflict(f"The refund was not made: {exc}. Nothing was recorded; any part the provider had "
                       "already refunded will show here once it confirms it.", code="provider_error") from exc
    return made


# --- the sweep ----------------------------------------------------------------------------------

def sweep(session: Session, provider: PaymentProvider | None = None) -> dict[str, int]:
    """Housekeeping that does not wait for an event: close checkouts left open past their expiry
    (releasing their codes) and pause access where a failed instalment has outlived its grace period."""
    from api.payments import lifecycle

    provider = provider or get_provider()
    now = utcnow()
    stale = session.exec(select(Order).where(Order.status == OrderStatus.pending.value,
                                             col(Order.expires_at) < now - timedelta(minutes=5))).all()
    expired = 0
    for order in stale:
        if _try_close(session, order, provider, note="Checkout expired."):
            expired += 1
    failing = session.exec(select(Order).join(Payment, col(Payment.order_id) == col(Order.id)).where(
        Payment.status == PaymentStatus.failed.value, col(Order.suspended_for).is_(None)).distinct()).all()
    suspended = sum(1 for order in failing if lifecycle.apply_grace(session, order, now))
    session.flush()
    return {"expired": expired, "suspended": suspended}
