"""Administrators' money pages: discount codes (/admin/codes) and orders with refunds (/admin/orders)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from urllib.parse import parse_qs, urlsplit

from fastapi import APIRouter, Depends, Form, Request
from sqlmodel import col, select

from api.accounts.deps import AdminUser, optional_user
from api.catalog.models import Programme
from api.core import pagination
from api.core.db import SessionDep
from api.core.errors import CadreError, Invalid
from api.core.money import format_money
from api.core.security import csrf_protect
from api.core.templates import field_errors, ordered, redirect, render
from api.payments import codes, service
from api.payments.models import OrderStatus

router = APIRouter(dependencies=[Depends(csrf_protect), Depends(optional_user)], include_in_schema=False)


def parse_money(text: str) -> int | None:
    """ "107.50" or "£107.50" -> 10750; "" -> None."""
    text = text.strip().lstrip("£$€").replace(",", "")
    if not text:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation as exc:
        raise Invalid("Write an amount like 107.50.", code="bad_amount") from exc
    if value <= 0 or value != value.quantize(Decimal("0.01")):
        raise Invalid("Write a positive amount with at most two decimals, like 107.50.", code="bad_amount")
    return int(value * 100)


def _int(text: str, label: str) -> int | None:
    text = text.strip()
    if not text:
        return None
    if not text.isdigit():
        raise Invalid(f"{label} must be a whole number.", code="bad_number")
    return int(text)


def _day(text: str, label: str) -> datetime | None:
    text = text.strip()
    if not text:
        return None
    try:
        return datetime.fromisoformat(text).replace(tzinfo=UTC)
    except ValueError as exc:
        raise Invalid(f"{label} must be a date like 2026-12-31.", code="bad_date") from exc


CODE_FIELDS = ("code", "kind", "value", "currency", "programmes", "valid_from", "valid_until", "max_redemptions",
               "max_per_customer")
# Which field each of codes.create's refusals is about.
CODE_ERRORS = {"bad_code": "code", "code_exists": "code", "bad_discount": "value", "bad_currency": "currency",
               "programme_not_found": "programmes", "bad_window": "valid_until", "bad_limit": "max_redemptions"}


def _codes_page(request: Request, session, status: int = 200, errors: dict | None = None, values: dict | None = None,
                after: str | None = None, before: str | None = None):
    programmes = session.exec(select(Programme).where(col(Programme.retired_at).is_(None))
                              .order_by(col(Programme.family), col(Programme.level))).all()
    page = codes.list_codes(session, after=after, before=before)
    return render(request, "payments/admin_codes.html", status, rows=page.rows, pager=page.links("/admin/codes"),
                  programmes=programmes, errors=errors or {}, values=values or {}, display=codes.display,
                  describe=codes.describe, back=pagination.here(request) if request.method == "GET" else "/admin/codes")


@router.get("/admin/codes")
def codes_page(request: Request, admin: AdminUser, session: SessionDep, after: pagination.After = None,
               before: pagination.Before = None):
    return _codes_page(request, session, after=after, before=before)


@router.post("/admin/codes")
def create_code(request: Request, admin: AdminUser, session: SessionDep, code: str = Form(""),
                kind: str = Form("percent"), value: str = Form(""), currency: str = Form("GBP"),
                programmes: list[str] = Form([]), valid_from: str = Form(""), valid_until: str = Form(""),
                max_redemptions: str = Form(""), max_per_customer: str = Form("1")):
    values = {"code": code, "kind": kind, "value": value, "currency": currency, "programmes": programmes,
              "valid_from": valid_from, "valid_until": valid_until, "max_redemptions": max_redemptions,
              "max_per_customer": max_per_customer}
    errors: dict[str, str] = {}

    def read(name: str, parse):
        try:
            return parse()
        except CadreError as exc:
            errors.setdefault(name, exc.message)
            return None

    if not code.strip():
        errors["code"] = "Enter the code learners will type."
    if kind == "percent":
        percent, amount = read("value", lambda: _int(value, "The percentage")), None
        if percent is None and "value" not in errors:
            errors["value"] = "Enter the percentage off, such as 50."
    else:
        percent, amount = None, read("value", lambda: parse_money(value))
        if amount is None and "value" not in errors:
            errors["value"] = "Enter the amount off, such as 100.00."
    starts = read("valid_from", lambda: _day(valid_from, "Valid from"))
    ends = read("valid_until", lambda: _day(valid_until, "Valid until"))
    overall = read("max_redemptions", lambda: _int(max_redemptions, "The overall limit"))
    each = read("max_per_customer", lambda: _int(max_per_customer, "The limit per customer"))
    if errors:
        return _codes_page(request, session, 422, values=values, errors=ordered(errors, CODE_FIELDS))
    try:
        created = codes.create(
            session, code=code, percent_off=percent, amount_off=amount, currency=currency if amount else None,
            programme_slugs=programmes, valid_from=starts, valid_until=ends, max_redemptions=overall,
            max_per_customer=each, created_by_id=admin.id)
    except CadreError as exc:
        return _codes_page(request, session, exc.status_code, values=values,
                           errors=field_errors(exc, CODE_ERRORS, "code"))
    return redirect("/admin/codes", f"Code {codes.display(created)} created: {codes.describe(created)}.")


@router.post("/admin/codes/{code}/deactivate")
def deactivate_code(request: Request, code: str, admin: AdminUser, session: SessionDep, back: str = Form("")):
    changed = codes.deactivate(session, code)
    return redirect(pagination.return_to(back, "/admin/codes"),
                    f"Code {codes.display(code)} " + ("deactivated." if changed else "was already inactive."))


@router.get("/admin/orders")
def orders_page(request: Request, admin: AdminUser, session: SessionDep, status: str | None = None,
                q: str | None = None, after: pagination.After = None, before: pagination.Before = None):
    statuses = [s.value for s in OrderStatus]
    status = status if status in statuses else ""
    q = (q or "").strip()[:100]
    return _orders_page(request, session, status=status, q=q, after=after, before=before)


def _orders_page(request, session, status_code: int = 200, *, status: str = "", q: str = "", after=None, before=None,
                 back: str | None = None, errors=None, values=None):
    page = service.all_orders(session, status=status or None, search=q, after=after, before=before)
    return render(request, "payments/admin_orders.html", status_code, views=page.rows,
                  pager=page.links("/admin/orders", {"status": status, "q": q}),
                  statuses=[s.value for s in OrderStatus], status=status, q=q,
                  back=back or pagination.here(request), errors=errors or {}, values=values or {})


@router.post("/admin/orders/{public_id}/refund")
def refund(request: Request, public_id: str, admin: AdminUser, session: SessionDep, amount: str = Form(""),
           reason: str = Form(""), back: str = Form(""), confirmed: str = Form("")):
    back = pagination.return_to(back, "/admin/orders")
    order = service.get_order(session, public_id)
    try:
        wanted = parse_money(amount)
        if confirmed != "yes":  # money leaves only from the page that says how much, to whom, and why
            view = service.order_views(session, [order], with_users=True)[0]
            return render(request, "payments/refund_confirm.html", v=view, back=back, amount=amount,
                          reason=reason.strip(), total=service.refund_amount(session, order, wanted))
        made = service.refund(session, order, amount=wanted, by=admin, reason=reason.strip() or None)
    except CadreError as exc:
        if not isinstance(exc, Invalid):  # a refusal of the refund itself (provider, nothing left): as before
            return redirect(back, f"{public_id}: {exc.message}", "error")
        # Bad input: the same list page again (its filters and cursor), the message beside this order's refund field.
        query = parse_qs(urlsplit(back).query)
        first = lambda key: (query.get(key) or [""])[0][:200] or None  # noqa: E731
        status = first("status") if first("status") in {s.value for s in OrderStatus} else ""
        return _orders_page(request, session, exc.status_code, status=status or "", q=(first("q") or "")[:100],
                            after=first("after"), before=first("before"), back=back,
                            errors={f"amount-{public_id}": f"{public_id}: {exc.message}"},
                            values={f"amount-{public_id}": amount, f"reason-{public_id}": reason})
    total = sum(r.amount for r in made)
    return redirect(back, f"{public_id}: refund of {format_money(total, order.currency)} sent to the "
                                     f"payment provider.")
