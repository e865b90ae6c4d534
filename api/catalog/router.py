"""JSON API for the catalogue under /api/v1/programmes. Public: anyone may read it."""

from __future__ import annotations

from fastapi import APIRouter

from api.catalog import service
from api.catalog.schemas import ProgrammeDetail, ProgrammeSummary
from api.core.db import SessionDep

router = APIRouter(prefix="/api/v1/programmes", tags=["catalogue"])


@router.get("", response_model=list[ProgrammeSummary])
def list_programmes(session: SessionDep) -> list[ProgrammeSummary]:
    """Every current programme, ordered by family and level, with its offers and prerequisites."""
    return service.list_programmes(session)


@router.get("/{slug}", response_model=ProgrammeDetail)
def get_programme(slug: str, session: SessionDep) -> ProgrammeDetail:
    """One programme with its module outline (titles only: lesson text is for enrolled learners)."""
    return service.detail(session, slug)
