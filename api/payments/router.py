"""JSON API under /api/v1/payments, and the payment provider's webhook at POST /webhooks/stripe."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Header, Request, Response, status

from api.accounts.deps import AdminUser, CurrentUser, OptionalUser
from api.core import pagination
from api.core.db import SessionDep
from api.core.errors import CadreError
from api.core.pagination import CursorPage
from api.payments import codes, events, invoices, service
from api.payments.providers import ProviderError
from api.payments.schemas import (
    CheckoutIn,
    CheckoutPublic,
    CodeCreate,
    CodePublic,
    OrderPublic,
    PaymentPublic,
    QuotePublic,
    RefundIn,
    WebhookAck,
)

router = APIRouter(prefix="/api/v1/payments", tags=["payments"])
webhooks = APIRouter(tags=["payments"])


class ProviderUnavailable(CadreError):
    status_code = 502
    code = "provider_unavailable"


def client_address(request: Request) -> str:
    """Where a request came from: the services count code tries per address (tries.py)."""
    return request.client.host if request.client else "unknown"


def quote_public(q: service.Quote) -> QuotePublic:
    return QuotePublic(
        programme=q.programme.slug, offer=q.offer.slug, offer_title=q.offer.title, kind=q.offer.kind,
        currency=q.currency, amount_before=q.amount_before, discount=q.discount, amount_total=q.amount_total,
        instalments=q.instalments, interval=q.offer.interval if len(q.instalments) > 1 else None,
        code=codes.display(q.code_text) if q.code_text else None, code_applied=q.code is not None,
        code_problem=q.code_problem, summary=q.summary,
    )


def order_public(v: service.OrderView) -> OrderPublic:
    o = v.order
    return OrderPublic(
        id=o.public_id, programme=v.programme.slug, offer=v.offer.slug, status=o.status, currency=o.currency,
        amount_before=o.amount_before, discount=o.discount_amount, amount_total=o.amount_total,
        amount_paid=o.amount_paid, amount_refunded=o.amount_refunded,
        code=codes.display(o.code_text) if o.code_text else None, created_at=o.created_at, paid_at=o.paid_at,
        payments=[PaymentPublic(number=p.number, amount=p.amount, currency=p.currency, due_date=p.due_date,
                                status=p.status, amount_refunded=p.amount_refunded, paid_at=p.paid_at)
                  for p in v.payments],
    )


def code_public(row: codes.CodeRow) -> CodePublic:
    c = row.code
    return CodePublic(code=codes.display(c), kind=c.kind, percent_off=c.percent_off, amount_off=c.amount_off,
                      currency=c.currency, programmes=row.programmes, valid_from=c.valid_from,
                      valid_until=c.valid_until, max_redemptions=c.max_redemptions,
                      max_per_customer=c.max_per_customer, active=c.active, reserved=row.reserved,
                      redeemed=row.redeemed)


@router.get("/quote", response_model=QuotePublic)
def get_quote(request: Request, session: SessionDep, user: OptionalUser, programme: str, offer: str | None = None,
              code: str | None = None) -> QuotePublic:
    """The price of an offer after a code, or why the code does not apply. Anyone may ask; a logged-in
    learner's own earlier uses of the code are taken into account."""
    return quote_public(service.quote(session, programme_slug=programme, offer_slug=offer, code_text=code, user=user,
                                      address=client_address(request)))


@router.post("/checkout", response_model=CheckoutPublic, status_code=status.HTTP_201_CREATED,
             responses={200: {"description": "The checkout already open for this offer and code"}, 403: {},
                        404: {}, 409: {}, 422: {}, 429: {}})
def checkout(request: Request, response: Response, data: CheckoutIn, session: SessionDep,
             user: CurrentUser) -> CheckoutPublic:
    """Open a checkout for the logged-in learner (201), or hand back the one already open for the same
    offer and code (200; one open checkout per programme: a different offer or code replaces it).
    403 with the ladder's message when a prerequisite is missing, 409 when already enrolled or a
    payment is on its way, 422 when the code does not apply or an invoice detail (`buyer_name`,
    `buyer_company`, `buyer_vat`, all optional) cannot be used, 429 after too many code tries. The
    invoice details given are printed on the order's invoice and credit notes, as the checkout page's are;
    posted again for the open checkout it hands back, a detail given replaces the stored one and one left
    out (or empty) keeps it."""
    opened = service.open_checkout(session, user=user, programme_slug=data.programme, offer_slug=data.offer,
                                   code_text=data.code, address=client_address(request), cohort=data.cohort)
    order = opened.order
    invoices.set_buyer(session, order, data.buyer())
    if opened.reused:
        response.status_code = status.HTTP_200_OK
    view = service.order_views(session, [order])[0]
    return CheckoutPublic(order=order_public(view), checkout_url=order.checkout_url or f"/checkout/success?order="
                                                                                         f"{order.public_id}")


@router.get("/orders", response_model=CursorPage[OrderPublic])
def my_orders(session: SessionDep, user: CurrentUser, after: pagination.After = None,
              limit: pagination.Limit = pagination.PAGE_SIZE) -> CursorPage[OrderPublic]:
    """The logged-in learner's orders with their payments made and due, newest first, a page at a
    time: `next` is the cursor for the following page (pass it as `after`), null on the last one."""
    page = service.orders_page(session, user, after=after, size=limit)
    return CursorPage[OrderPublic](items=[order_public(v) for v in page.rows], next=page.next)


@router.get("/orders/{public_id}", response_model=OrderPublic)
def my_order(public_id: str, session: SessionDep, user: CurrentUser) -> OrderPublic:
    """One of the learner's own orders (another learner's is 404)."""
    order = service.get_order(session, public_id, user)
    return order_public(service.order_views(session, [order])[0])


@router.get("/codes", response_model=CursorPage[CodePublic])
def list_codes(session: SessionDep, admin: AdminUser, after: pagination.After = None,
               limit: pagination.Limit = pagination.PAGE_SIZE) -> CursorPage[CodePublic]:
    """The discount codes with their redemptions (administrators), newest first, a page at a time:
    `next` is the cursor for the following page (pass it as `after`), null on the last one."""
    page = codes.list_codes(session, after=after, size=limit)
    return CursorPage[CodePublic](items=[code_public(r) for r in page.rows], next=page.next)


@router.post("/codes", response_model=CodePublic, status_code=status.HTTP_201_CREATED)
def create_code(data: CodeCreate, session: SessionDep, admin: AdminUser) -> CodePublic:
    code = codes.create(session, code=data.code, percent_off=data.percent_off, amount_off=data.amount_off,
                        currency=data.currency, programme_slugs=data.programmes, valid_from=data.valid_from,
                        valid_until=data.valid_until, max_redemptions=data.max_redemptions,
                        max_per_customer=data.max_per_customer, note=data.note, created_by_id=admin.id)
    return code_public(codes.code_rows(session, [code])[0])


@router.post("/codes/{code}/deactivate", response_model=CodePublic)
def deactivate_code(code: str, session: SessionDep, admin: AdminUser) -> CodePublic:
    codes.deactivate(session, code)
    return code_public(codes.code_rows(session, [codes.get(session, code)])[0])


@router.post("/orders/{public_id}/refunds", response_model=OrderPublic)
def refund_order(public_id: str, data: RefundIn, session: SessionDep, admin: AdminUser) -> OrderPublic:
    """Refund through the provider (administrators); omit the amount to refund everything left."""
    order = service.get_order(session, public_id)
    service.refund(session, order, amount=data.amount, by=admin, reason=data.reason)
    return order_public(service.order_views(session, [order])[0])


async def raw_body(request: Request) -> bytes:
    return await request.body()


@webhooks.post("/webhooks/stripe", response_model=WebhookAck, responses={400: {}, 502: {}})
def stripe_webhook(session: SessionDep, body: bytes = Depends(raw_body),
                   stripe_signature: str | None = Header(default=None)) -> WebhookAck:
    """Payment events from Stripe (or the offline provider), verified on the raw body. 400 when the
    signature does not verify; 200 for events already seen and for types Cadre does not use."""
    try:
        outcome = events.receive(session, body, stripe_signature)
    except ProviderError as exc:
        # Rolled back, so the provider's retry will find the event unrecorded and try again.
        raise ProviderUnavailable(str(exc)) from exc
    return WebhookAck(status=outcome.status)
