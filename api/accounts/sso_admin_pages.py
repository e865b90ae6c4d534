"""The platform admin's single sign-on domains: organisations' requests to approve or reject, and the
domains in force. Owning a domain cannot be checked from here: the admin checks it outside Cadre first."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request

from api.accounts import sso, sso_bindings
from api.accounts.deps import AdminUser, optional_user
from api.core import pagination
from api.core.db import SessionDep
from api.core.errors import CadreError
from api.core.security import csrf_protect
from api.core.templates import redirect, render

router = APIRouter(dependencies=[Depends(csrf_protect), Depends(optional_user)], include_in_schema=False)
PATH = "/admin/sso-domains"


@router.get(PATH)
def sso_domains(request: Request, admin: AdminUser, session: SessionDep, status: str = "pending",
                after: pagination.After = None, before: pagination.Before = None):
    from sqlmodel import col, select

    from api.organisations.models import Organisation

    status = status if status in ("pending", "approved", "rejected", "all") else "pending"
    page = sso_bindings.page(session, None if status == "all" else status, after=after, before=before)
    ids = sorted({r.owner_id for r in page.rows})  # one page's worth at most
    owners = {o.id: o for o in session.exec(select(Organisation).where(col(Organisation.id).in_(ids)))} if ids else {}
    return render(request, "admin/sso_domains.html", rows=page.rows, pager=page.links(PATH, {"status": status}),
                  status=status, owners=owners, providers=sso.providers(), back=pagination.here(request))


@router.post(PATH + "/{binding_id}/decide")
def decide(request: Request, binding_id: int, admin: AdminUser, session: SessionDep, decision: str = Form(""),
           note: str = Form(""), back: str = Form("")):
    back = pagination.return_to(back, PATH)
    try:
        row = sso_bindings.decide(session, binding_id, admin, approve=decision == "approve", note=note)
    except CadreError as exc:
        if exc.status_code == 404:
            raise
        return redirect(back, exc.message, "error")
    return redirect(back, f"{row.domain}: {row.status}.")
