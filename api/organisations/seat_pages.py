"""Seat and team pages of an organisation: the seats page (buy for owners; assign and take back for
owners and managers), and the team dashboard with its filters, pages and CSV export (owners, managers,
and platform admins reading)."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse

from api.catalog.models import DeliveryFormat
from api.core import pagination
from api.core.db import SessionDep
from api.core.errors import CadreError, Invalid
from api.core.templates import redirect, render
from api.organisations import seats, service, team
from api.organisations.deps import ManagerAccessDep, OrgAccess, OwnerAccessDep, TeamReaderDep
from api.organisations.router import csv_response

router = APIRouter(include_in_schema=False)


def _seats_url(access: OrgAccess) -> str:
    return f"/organisations/{access.org.public_id}/seats"


def _buyable(session):
    from sqlmodel import col, select

    from api.catalog.models import Offer, OfferKind, Programme

    # Programmes with a pay-in-full price that are not sold by cohort (cohort seats are granted).
    # EXISTS rather than JOIN ... DISTINCT: PostgreSQL cannot compare a programme's JSON columns for DISTINCT.
    priced = (select(Offer.id).where(col(Offer.programme_id) == col(Programme.id), Offer.kind == OfferKind.full.value,
                                     col(Offer.retired_at).is_(None)).exists())
    return list(session.exec(select(Programme)
                             .where(priced, col(Programme.retired_at).is_(None),
                                    Programme.format != DeliveryFormat.live_cohort.value)
                             .order_by(Programme.family, Programme.level, Programme.code)))


def _seats_page(request: Request, session, access: OrgAccess, status: int = 200, **ctx):
    pools = [(p, prog, seats.holders(session, p)) for p, prog in seats.pools_of(session, access.org.id)]
    members = service.members(session, access.org.id)
    holding = {p.id: {h.user.id for h in hs} for p, _, hs in pools}
    free = {p.id: [(m, u) for m, u in members if u.id not in holding[p.id]] for p, _, _ in pools}
    context = dict(access=access, org=access.org, pools=pools, free_members=free,
                   programmes=_buyable(session) if access.is_owner else [], error=None, values={},
                   paid=request.query_params.get("paid"), cancelled=request.query_params.get("cancelled"))
    context.update(ctx)
    return render(request, "organisations/seats.html", status, **context)


@router.get("/organisations/{org_id}/seats")
def seats_page(request: Request, session: SessionDep, access: TeamReaderDep):
    return _seats_page(request, session, access)


@router.post("/organisations/{org_id}/seats/buy")
def buy(request: Request, session: SessionDep, access: OwnerAccessDep, programme: str = Form(""),
        quantity: str = Form("")):
    try:
        try:
            n = int(quantity)
        except ValueError:
            raise Invalid("Enter how many seats, as a number.", code="bad_quantity") from None
        checkout = seats.buy(session, access.org, access.user, programme, n)
    except CadreError as exc:
        return _seats_page(request, session, access, exc.status_code, error=exc.message,
                           values={"programme": programme, "quantity": quantity})
    return RedirectResponse(checkout.order.checkout_url, status_code=303)


@router.post("/organisations/{org_id}/seats/{pool_id}/assign")
def assign(request: Request, pool_id: str, session: SessionDep, access: ManagerAccessDep, member: str = Form("")):
    try:
        pool = seats.get_pool(session, access.org, pool_id)
        try:
            member_id = int(member)
        except ValueError:
            raise Invalid("Choose a member.", code="member_required") from None
        m = service.find_member(session, access.org, member_id)
        seats.assign(session, access.org, pool, m, access.user)
    except CadreError as exc:
        return redirect(_seats_url(access), exc.message, "error")
    user = session.get(type(access.user), m.user_id)
    return redirect(_seats_url(access), f"{user.full_name} has a seat and is enrolled; we emailed them.")


@router.post("/organisations/{org_id}/seats/{pool_id}/take-back")
def take_back(request: Request, pool_id: str, session: SessionDep, access: ManagerAccessDep,
              assignment: str = Form("")):
    try:
        pool = seats.get_pool(session, access.org, pool_id)
        try:
            assignment_id = int(assignment)
        except ValueError:
            raise Invalid("Choose a seat to take back.", code="assignment_required") from None
        seats.take_back(session, access.org, pool, assignment_id, access.user)
    except CadreError as exc:
        return redirect(_seats_url(access), exc.message, "error")
    return redirect(_seats_url(access), "The seat is back in the pool: assign it to someone else.")


# --- the team --------------------------------------------------------------------------------------

@router.get("/organisations/{org_id}/team")
def team_page(request: Request, session: SessionDep, access: TeamReaderDep, role: str | None = None,
              programme: str | None = None, q: str | None = None, expiring: str | None = None,
              after: pagination.After = None, before: pagination.Before = None):
    filters = team.clean_filters(role, programme, q, expiring)
    page = team.team_page(session, access.org, filters, after=after, before=before)
    path = f"/organisations/{access.org.public_id}/team"
    programmes = sorted({prog.id: prog for _, prog in seats.pools_of(session, access.org.id)}.values(),
                        key=lambda p: p.code)
    return render(request, "organisations/team.html", access=access, org=access.org, page=page,
                  pages=page.links(path, filters.as_query()), filters=filters, programmes=programmes,
                  csv_url=f"{path}.csv?" + urlencode({k: v for k, v in filters.as_query().items() if v}))


@router.get("/organisations/{org_id}/team.csv")
def team_csv(session: SessionDep, access: TeamReaderDep, role: str | None = None, programme: str | None = None,
             q: str | None = None, expiring: str | None = None):
    return csv_response(session, access, team.clean_filters(role, programme, q, expiring))
