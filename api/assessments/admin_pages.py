"""Admin pages: every open submission with its coach, allocation by hand, coaches' caps, release."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from api.accounts.deps import AdminUser, optional_user
from api.accounts.models import User
from api.assessments import access, allocation, release, views
from api.core.db import SessionDep
from api.core.errors import CadreError, Invalid, NotFound
from api.core.security import csrf_protect
from api.core.templates import redirect, render

router = APIRouter(prefix="/admin/assessments", dependencies=[Depends(csrf_protect), Depends(optional_user)],
                   include_in_schema=False)
STATES = ("submitted", "in_marking", "sent_back", "ready_for_release")


def _page(request, session, admin, status=200, error=None, state=None, after=None, before=None):
    return render(request, "assessments/admin.html", status,
                  a=views.admin_allocation(session, admin, state, after=after, before=before),
                  error=error, state=state, states=STATES)


@router.get("")
def allocation_page(request: Request, admin: AdminUser, session: SessionDep, state: str | None = None,
                    after: str | None = None, before: str | None = None):
    return _page(request, session, admin, state=state if state in STATES else None, after=after, before=before)


@router.post("/{public_id}/allocate")
async def allocate(request: Request, public_id: str, admin: AdminUser, session: SessionDep):
    form = await request.form()
    sub = access.by_public_id(session, public_id)
    if sub is None:
        raise NotFound("There is no submission at this address.")
    coach_id = str(form.get("coach_id") or "")
    coach = session.get(User, int(coach_id)) if coach_id.isdigit() else None
    try:
        if coach is None:
            raise Invalid("Choose the coach to allocate it to.", code="coach_required")
        allocation.override(session, sub, coach, admin, str(form.get("reason") or ""))
    except CadreError as exc:
        return _page(request, session, admin, exc.status_code, exc.message)
    return redirect("/admin/assessments", f"Allocated to {coach.full_name}.")


@router.post("/coaches/{coach_id}/capacity")
async def capacity(request: Request, coach_id: int, admin: AdminUser, session: SessionDep):
    form = await request.form()
    coach = session.get(User, coach_id)
    if coach is None or coach.id not in {c.id for c in allocation.coaches(session)}:
        raise NotFound("There is no such coach.")
    raw = str(form.get("max_open") or "")
    try:
        if not raw.isdigit():
            raise Invalid("Give the cap as a whole number of open submissions.", code="bad_cap")
        allocation.set_capacity(session, coach, int(raw), form.get("accepting") == "yes")
    except CadreError as exc:
        return _page(request, session, admin, exc.status_code, exc.message)
    return redirect("/admin/assessments", f"{coach.full_name}'s cap is saved.")


@router.post("/{public_id}/release")
def release_result(request: Request, public_id: str, admin: AdminUser, session: SessionDep):
    sub = access.by_public_id(session, public_id)
    if sub is None:
        raise NotFound("There is no submission at this address.")
    try:
        release.release(session, sub, admin)
    except CadreError as exc:
        return _page(request, session, admin, exc.status_code, exc.message)
    return redirect("/admin/assessments", "The result is released to the learner.")
