"""Staff pages: admins grant, cancel and reinstate enrolments (/admin/enrolments); coaches and admins
follow learners' progress (/coach/progress) and export it as CSV with the same filters.

Until cohorts exist a coach sees every learner; when they do, the coach view narrows to their own."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import StreamingResponse

from api.accounts.deps import AdminUser, CoachUser, optional_user
from api.core import pagination
from api.core.db import SessionDep, utcnow
from api.core.errors import CadreError
from api.core.security import csrf_protect
from api.core.templates import field_errors, redirect, render
from api.learning import reports
from api.learning import service as enrolment_service
from api.learning.models import EnrolmentStatus

router = APIRouter(dependencies=[Depends(csrf_protect), Depends(optional_user)], include_in_schema=False)


def _listing(request: Request, session, path: str, programme: str | None, status: str | None, q: str | None,
             after: str | None = None, before: str | None = None):
    filters = reports.clean_filters(programme, status, q)
    page = reports.progress_page(session, filters, after=after, before=before)
    return {"filters": filters, "rows": page.rows, "pager": page.links(path, filters.as_dict()),
            "back": pagination.here(request) if request.method == "GET" else path,
            "programmes": reports.programmes_for_filter(session), "statuses": [s.value for s in EnrolmentStatus]}


@router.get("/coach/progress")
def coach_progress(request: Request, coach: CoachUser, session: SessionDep, programme: str | None = None,
                   status: str | None = None, q: str | None = None, after: pagination.After = None,
                   before: pagination.Before = None):
    return render(request, "learning/progress.html",
                  **_listing(request, session, "/coach/progress", programme, status, q, after, before))


@router.get("/coach/progress.csv")
def coach_progress_csv(request: Request, coach: CoachUser, session: SessionDep, programme: str | None = None,
                       status: str | None = None, q: str | None = None):
    """Every matching row, streamed in batches: memory stays flat at any number of learners."""
    name = f"cadre-progress-{utcnow():%Y-%m-%d}.csv"
    return StreamingResponse(reports.csv_stream(session, reports.clean_filters(programme, status, q)),
                             media_type="text/csv; charset=utf-8",
                             headers={"Content-Disposition": f'attachment; filename="{name}"',
                                      "Cache-Control": "no-store"})


GRANT_ERRORS = {"user_not_found": "email", "programme_not_found": "programme", "prerequisite_missing": "programme",
                "already_enrolled": "programme"}


def _admin_page(request: Request, session, status_code: int = 200, *, values: dict | None = None,
                error: str | None = None, errors: dict | None = None, programme: str | None = None,
                status: str | None = None, q: str | None = None, after: str | None = None, before: str | None = None):
    return render(request, "learning/admin_enrolments.html", status_code, values=values or {}, error=error,
                  errors=errors or {},
                  **_listing(request, session, "/admin/enrolments", programme, status, q, after, before))


@router.get("/admin/enrolments")
def admin_enrolments(request: Request, admin: AdminUser, session: SessionDep, programme: str | None = None,
                     status: str | None = None, q: str | None = None, after: pagination.After = None,
                     before: pagination.Before = None):
    return _admin_page(request, session, programme=programme, status=status, q=q, after=after, before=before)


@router.post("/admin/enrolments")
def admin_grant(request: Request, admin: AdminUser, session: SessionDep, email: str = Form(""),
                programme: str = Form(""), access_days: str = Form(""), override: str = Form("")):
    values = {"email": email, "programme": programme, "access_days": access_days, "override": bool(override)}
    days = access_days.strip()
    errors = {}
    if not email.strip():
        errors["email"] = "Enter the learner's email address."
    if days and (not days.isdigit() or int(days) < 1):
        errors["access_days"] = "Access days must be a whole number of days, or empty for lifetime access."
    if errors:
        return _admin_page(request, session, 422, values=values, errors=errors)
    try:
        enrolment = enrolment_service.grant(session, email=email, programme=programme, override=bool(override),
                                            access_days=int(days) if days else None, granted_by_id=admin.id)
    except CadreError as exc:
        # The person, the programme (and its ladder): each refusal beside the field it is about.
        return _admin_page(request, session, exc.status_code, values=values,
                           errors=field_errors(exc, GRANT_ERRORS, "programme"))
    target = enrolment_service.find_programme(session, programme)
    return redirect("/admin/enrolments", f"{email.strip().lower()} is enrolled in {target.code} "
                                         f"({enrolment.status}).")


@router.post("/admin/enrolments/{enrolment_id}/cancel")
def admin_cancel(request: Request, enrolment_id: int, admin: AdminUser, session: SessionDep,
                 reason: str = Form(""), back: str = Form("")):
    back = pagination.return_to(back, "/admin/enrolments")
    enrolment = enrolment_service.get_enrolment_by_id(session, enrolment_id)
    try:
        changed = enrolment_service.cancel_with_reason(session, enrolment, reason)
    except CadreError as exc:
        return _admin_page(request, session, exc.status_code, error=exc.message)
    return redirect(back, "Enrolment cancelled; the learner's progress is kept." if changed
                    else "That enrolment was already cancelled.")


@router.post("/admin/enrolments/{enrolment_id}/reinstate")
def admin_reinstate(request: Request, enrolment_id: int, admin: AdminUser, session: SessionDep,
                    back: str = Form("")):
    enrolment = enrolment_service.get_enrolment_by_id(session, enrolment_id)
    changed = enrolment_service.reinstate(session, enrolment, "reinstated by an admin")
    return redirect(pagination.return_to(back, "/admin/enrolments"),
                    "Access restored." if changed else "Only a suspended enrolment can be reinstated; grant a "
                    "cancelled one again instead.")
