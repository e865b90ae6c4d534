"""Learner-facing payment pages: checkout (price after a code, or why not), success and cancel pages,
the offline provider's checkout page, and the billing page."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from api.accounts import service as accounts_service
from api.accounts.deps import CurrentUser, optional_user
from api.catalog import service as catalog_service
from api.core.db import SessionDep, utcnow
from api.core.errors import CadreError, NotFound
from api.core.money import format_money
from api.core.security import csrf_protect
from api.core.templates import redirect, render
from api.learning.service import PrerequisiteMissing
from api.payments import invoice_pdf, invoices, lifecycle, places, service
from api.payments.models import OrderStatus
from api.payments.providers import ProviderError, get_provider
from api.payments.providers.offline import OfflineProvider
from api.payments.router import client_address

router = APIRouter(dependencies=[Depends(csrf_protect), Depends(optional_user)], include_in_schema=False)


def _blocked(request: Request, programme, exc: CadreError):
    return render(request, "payments/blocked.html", exc.status_code, programme=programme, message=exc.message,
                  code=exc.code)


def _checkout_page(request: Request, session, user, slug: str, offer: str | None, code: str | None,
                   status: int = 200, error: str | None = None, cohort: str | None = None,
                   buyer: invoices.BuyerDetails | None = None):
    programme = catalog_service.get_by_slug(session, slug)
    try:
        service.refuse_if_cannot_buy(session, user, programme)
    except (service.AlreadyEnrolled, PrerequisiteMissing) as exc:
        return _blocked(request, programme, exc)
    q = service.quote(session, programme_slug=slug, offer_slug=offer, code_text=code, user=user,
                      address=client_address(request))
    offers = service.offers_of(session, programme)
    today = utcnow().date()
    schedule = [(service.add_interval(today, q.offer.interval or "month", i), amount)
                for i, amount in enumerate(q.instalments)]
    buyer = buyer or invoices.BuyerDetails()
    return render(request, "payments/checkout.html", status, q=q, programme=programme, offers=offers,
                  schedule=schedule, code=code or "", error=error, buyer=buyer.values, errors=buyer.errors,
                  **_cohort_choice(session, programme, cohort))


def _cohort_choice(session, programme, chosen: str | None) -> dict:
    """A live programme sells a seat in a cohort: the cohorts on offer and the one chosen."""
    if not places.sells_seats(programme):
        return {"cohorts": None, "cohort": None}
    from api.cohorts import service as cohorts_service

    cards = cohorts_service.upcoming_for(session, programme)
    picked = next((c for c in cards if c.cohort.public_id == chosen), None)
    return {"cohorts": cards, "cohort": picked}


# Registered before /checkout/{slug}, which would otherwise take "success" for a programme.
@router.get("/checkout/success")
def success(request: Request, session: SessionDep, user: CurrentUser, order: str = ""):
    o = service.get_order(session, order, user)
    view = service.order_views(session, [o])[0]
    if o.status == OrderStatus.paid.value:
        return redirect(f"/learn/{view.programme.slug}",
                        f"Payment received: you are enrolled in {view.programme.display_title}. "
                        f"A receipt is on its way to {user.email}.")
    return render(request, "payments/success.html", v=view)


@router.get("/checkout/{slug}")
def checkout_page(request: Request, slug: str, session: SessionDep, user: CurrentUser, offer: str | None = None,
                  code: str | None = None, cohort: str | None = None):
    return _checkout_page(request, session, user, slug, offer, code, cohort=cohort)


@router.post("/checkout/{slug}")
def checkout(request: Request, slug: str, session: SessionDep, user: CurrentUser, offer: str = Form(""),
             code: str = Form(""), cohort: str = Form(""), buyer_name: str = Form(""), buyer_company: str = Form(""),
             buyer_vat: str = Form("")):
    # Invoice details (optional): checked before any checkout is opened.
    buyer = invoices.read_buyer(buyer_name, buyer_company, buyer_vat)
    if buyer.errors:
        return _checkout_page(request, session, user, slug, offer or None, code or None, 422,
                              cohort=cohort or None, buyer=buyer)
    try:
        order = service.start_checkout(session, user=user, programme_slug=slug, offer_slug=offer or None,
                                       code_text=code or None, address=client_address(request),
                                       cohort=cohort or None)
        invoices.set_buyer(session, order, buyer)
    except (service.AlreadyEnrolled, PrerequisiteMissing) as exc:
        return _blocked(request, catalog_service.get_by_slug(session, slug), exc)
    except CadreError as exc:
        if exc.status_code == 404:
            raise
        return _checkout_page(request, session, user, slug, offer or None, code or None, exc.status_code,
                              error=exc.message, cohort=cohort or None, buyer=buyer)
    if order.status == OrderStatus.paid.value:  # nothing to collect (a 100% code)
        return redirect(f"/learn/{slug}", "You are enrolled. A receipt is on its way.")
    return redirect(order.checkout_url)


@router.get("/checkout/{slug}/cancelled")
def cancelled(request: Request, slug: str, session: SessionDep, user: CurrentUser):
    # Stripe leaves a cancelled session open until it expires (its expired event then releases any
    # code); the offline page closes it at once.
    return render(request, "payments/cancelled.html", programme=catalog_service.get_by_slug(session, slug))


# --- the offline provider's checkout page -------------------------------------------------------

def _offline(session, session_id: str, user) -> tuple[service.OrderView, OfflineProvider]:
    provider = get_provider()
    order = service.order_by_session(session, session_id, user)
    if order.provider != "offline" or not isinstance(provider, OfflineProvider):
        raise NotFound("There is no test checkout at this address.", code="checkout_not_found")
    return service.order_views(session, [order])[0], provider


@router.get("/payments/offline/{session_id}")
def offline_page(request: Request, session_id: str, session: SessionDep, user: CurrentUser):
    view, _ = _offline(session, session_id, user)
    return render(request, "payments/offline.html", v=view, error=None)


@router.post("/payments/offline/{session_id}")
def offline_action(request: Request, session_id: str, session: SessionDep, user: CurrentUser,
                   action: str = Form("")):
    view, provider = _offline(session, session_id, user)
    order, slug = view.order, view.programme.slug
    try:
        if action == "pay":
            provider.pay(session, order)
        elif action == "pay_async":
            provider.pay(session, order, asynchronous=True)
        elif action in ("settle", "bounce"):
            provider.settle(session, order, succeeded=action == "settle")
        elif action in ("pay_next", "fail_next"):
            provider.next_instalment(session, order, succeeded=action == "pay_next")
            paid = action == "pay_next"
            return redirect("/billing", "Instalment paid." if paid else "The instalment failed: the card was "
                                                                             "declined.")
        elif action == "cancel":
            provider.cancel(session, order)
            if order.organisation_id is not None:
                from api.payments.seat_orders import seats_page

                return redirect(seats_page(session, order, cancelled=True))
            return redirect(f"/checkout/{slug}/cancelled?order={order.public_id}")
        elif action == "decline":
            return render(request, "payments/offline.html", 402, v=view,
                          error="The card was declined. Nothing was charged; try again or cancel.")
        else:
            return render(request, "payments/offline.html", 422, v=view, error="Choose one of the buttons.")
    except ProviderError as exc:
        return render(request, "payments/offline.html", 409, v=service.order_views(session, [order])[0],
                      error=str(exc))
    if order.organisation_id is not None:  # seats for an organisation: back to its seats page
        from api.payments.seat_orders import seats_page

        return redirect(seats_page(session, order))
    return redirect(f"/checkout/success?order={order.public_id}")


# --- billing ------------------------------------------------------------------------------------

@router.get("/billing")
def billing(request: Request, session: SessionDep, user: CurrentUser):
    views = service.orders_for(session, user)
    return render(request, "payments/billing.html", views=views, grace_ends=lifecycle.grace_ends,
                  money=format_money)


@router.get("/billing/{order_id}/invoice.pdf")
def invoice_download(order_id: str, session: SessionDep, user: CurrentUser):
    """The order's invoice and receipt: for its buyer, an owner of the organisation it bought seats for, and
    administrators (404 to anyone else)."""
    doc = invoices.document(session, order_id, user, accounts_service.roles_of(session, user))
    return Response(invoice_pdf.render(doc), media_type="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="invoice-{doc.invoice.reference}.pdf"',
        "Cache-Control": "no-store"})


@router.get("/billing/{order_id}/credit-notes/{reference}.pdf")
def credit_note_download(order_id: str, reference: str, session: SessionDep, user: CurrentUser):
    """One credit note of the order (a refund): for those who may download its invoice (404 to anyone else)."""
    doc = invoices.credit_note_document(session, order_id, reference, user, accounts_service.roles_of(session, user))
    return Response(invoice_pdf.render_credit_note(doc), media_type="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="credit-note-{doc.note.reference}.pdf"',
        "Cache-Control": "no-store"})
