"""JSON API for the hall of fame under /api/v1/awards. Public."""

from __future__ import annotations

from fastapi import APIRouter

from api.core.db import SessionDep
from api.halloffame import service
from api.halloffame.schemas import AwardPublic, WinnerPublic

router = APIRouter(prefix="/api/v1/awards", tags=["hall of fame"])


def _public(award, winners) -> AwardPublic:
    return AwardPublic(slug=award.slug, title=award.title, description=award.description,
                       first_awarded=award.first_awarded,
                       winners=[WinnerPublic.model_validate(w, from_attributes=True) for w in winners])


@router.get("", response_model=list[AwardPublic])
def list_awards(session: SessionDep) -> list[AwardPublic]:
    return [_public(a, w) for a, w in service.awards_with_winners(session)]


@router.get("/{slug}", response_model=AwardPublic)
def get_award(slug: str, session: SessionDep) -> AwardPublic:
    return _public(*service.get_award(session, slug))
