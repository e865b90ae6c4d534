"""Demo data of payments: the SPECIAL50 code (50% off ACX Specialist), and the demo learner's ACXP
bought in four monthly instalments with the first one paid, so /billing shows a plan part-paid and an
invoice, and /admin/orders has an order.

The order is made as a learner's would be: payments' own checkout, paid on the offline provider's test
page (its events go through the same webhook handling as Stripe's), so the order, its payments, the
invoice and the ACXP enrolment (source "instalment_plan") are what the service writes. Runs before the
learning seed, which then finds that enrolment and works through it."""

from __future__ import annotations

from sqlmodel import Session, col, select

from api.accounts.models import User
from api.catalog import service as catalog_service
from api.learning import service as learning_service
from api.payments import codes
from api.payments import service as payments_service
from api.payments.models import Order, OrderStatus, Payment, PaymentStatus
from api.payments.providers.offline import OfflineProvider

BOUGHT = ("acxp", "instalments")  # the programme the demo learner is part-way through, and how she pays
TRY_CHECKOUT = "cpp"  # a programme she does not hold and may buy (no prerequisites): the checkout to try


def seed(session: Session, people: dict[str, User]) -> list[str]:
    made = codes.ensure_demo_codes(session)
    said = f"Demo discount code created: {', '.join(made)}" if made else "Discount code SPECIAL50"
    lines = [f"{said}: 50% off ACX Specialist for anyone who does not hold it yet (register a new account to try "
             "/checkout/acxs?offer=full&code=special50)."]
    learner = people.get("learner")
    if learner is None:
        return lines
    lines.append(_bought(session, learner))
    lines.append(f"Checkout: as {learner.email}, try /checkout/{TRY_CHECKOUT} (choose a cohort, then pay on the "
                 "offline test page: no money is taken).")
    return lines


def _bought(session: Session, learner: User) -> str:
    slug, offer = BOUGHT
    programme = catalog_service.get_by_slug(session, slug)
    order = session.exec(select(Order).where(Order.user_id == learner.id, Order.programme_id == programme.id,
                                             Order.status == OrderStatus.paid.value)
                         .order_by(col(Order.id))).first()
    if order is None:
        enrolment = learning_service.get_enrolment(session, learner.id, programme.id)
        if enrolment is not None:  # given by an earlier demo, before it bought: nothing to pay for now
            return (f"{learner.email} holds {programme.code} from an earlier demo ({enrolment.source}), so no order "
                    "was made; a fresh database gets one (/billing).")
        provider = OfflineProvider()
        order = payments_service.start_checkout(session, user=learner, programme_slug=slug, offer_slug=offer,
                                                code_text=None, address=None, provider=provider)
        provider.pay(session, order)
        session.refresh(order)
    payments = payments_service.payments_of(session, order)
    paid = [p for p in payments if p.status == PaymentStatus.paid.value]
    upcoming: Payment | None = next((p for p in payments if p.status == PaymentStatus.due.value), None)
    plan = f"{len(paid)} of {len(payments)} paid" + (f", next on {upcoming.due_date:%-d %B %Y}" if upcoming else "")
    return (f"{learner.email} bought {programme.code} in {len(payments)} instalments ({plan}): order {order.public_id} "
            "on /billing (with its invoice) and /admin/orders; pay the next one from the offline test page there.")
