"""Public catalogue pages: home, the ladders, a programme page."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from api.accounts.deps import OptionalUser, optional_user
from api.catalog import service
from api.cohorts import service as cohorts_service
from api.core import pagecache
from api.core.db import SessionDep
from api.core.security import csrf_protect
from api.core.templates import render
from api.learning import dashboard as learning_dashboard

router = APIRouter(dependencies=[Depends(csrf_protect), Depends(optional_user)], include_in_schema=False)


@router.get("/")
def home(request: Request, session: SessionDep):
    return render(request, "home.html", ladders=service.ladders(session), format_names=service.FORMAT_NAMES,
                  duration_text=service.duration_text)


@router.get("/programmes")
def catalogue(request: Request, session: SessionDep):
    return render(request, "catalog/list.html", ladders=service.ladders(session),
                  format_names=service.FORMAT_NAMES, duration_text=service.duration_text)


@router.get("/programmes/{slug}")
def programme(request: Request, slug: str, session: SessionDep, user: OptionalUser):
    p = service.detail(session, slug)
    programme = service.get_by_slug(session, slug)
    cohorts = cohorts_service.upcoming_for(session, programme) if programme.cohort_format else None
    if cohorts:
        # Seats left change with every hold, payment and expiry: this page is never kept (api/core/pagecache.py).
        pagecache.not_cacheable(request)
    return render(request, "catalog/programme.html", p=p, format_names=service.FORMAT_NAMES,
                  duration_text=service.duration_text, enrol=learning_dashboard.enrol_panel(session, user, slug),
                  cohorts=cohorts)
