"""The platform admin's list of organisations (newest first, paged, searchable) and granting seats
without a payment. Admins read any organisation's own pages; they do not act as its members."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request

from api.accounts.deps import AdminUser, optional_user
from api.core import pagination
from api.core.db import SessionDep
from api.core.errors import CadreError, Invalid
from api.core.security import csrf_protect
from api.core.templates import redirect, render
from api.organisations import seats, service

router = APIRouter(dependencies=[Depends(csrf_protect), Depends(optional_user)], include_in_schema=False)


def _list(request: Request, session, status: int = 200, *, q: str | None = None, after: str | None = None,
          before: str | None = None, error: str | None = None, values: dict | None = None):
    page = service.all_organisations(session, search=q, after=after, before=before)
    counts = {o.id: service.member_count(session, o.id) for o in page.rows}  # one page: at most 50 counts
    return render(request, "organisations/admin_list.html", status, page=page, counts=counts, q=q or "",
                  pages=page.links("/admin/organisations", {"q": q or ""}), error=error, values=values or {})


@router.get("/admin/organisations")
def organisations(request: Request, session: SessionDep, admin: AdminUser, q: str | None = None,
                  after: pagination.After = None, before: pagination.Before = None):
    return _list(request, session, q=q, after=after, before=before)


@router.post("/admin/organisations/grant")
def grant(request: Request, session: SessionDep, admin: AdminUser, organisation: str = Form(""),
          programme: str = Form(""), cohort: str = Form(""), quantity: str = Form(""), note: str = Form("")):
    values = {"organisation": organisation, "programme": programme, "cohort": cohort, "quantity": quantity,
              "note": note}
    try:
        org = service.get_by_public_id(session, organisation.strip())
        try:
            n = int(quantity)
        except ValueError:
            raise Invalid("Enter how many seats, as a number.", code="bad_quantity") from None
        pool = seats.grant(session, org, seats.programme_by_slug(session, programme), n, admin,
                           note=note.strip()[:300] or None, cohort=cohort.strip() or None)
    except CadreError as exc:
        return _list(request, session, exc.status_code, error=exc.message, values=values)
    return redirect("/admin/organisations", f"Granted {n} seats to {org.name} ({pool.quantity} in all).")
