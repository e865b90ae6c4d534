"""JSON API for the hall of fame under /api/v1/awards. Public. Results of a cycle appear only once it
is announced (before then no row exists: an embargoed winner's slug is a 404 like any unknown one)."""

from __future__ import annotations

from fastapi import APIRouter

from api.core.config import get_settings
from api.core.db import SessionDep
from api.halloffame import service
from api.halloffame.schemas import AwardPublic, CredentialLink, WinnerPublic

router = APIRouter(prefix="/api/v1/awards", tags=["hall of fame"])


def winner_public(w, creds) -> WinnerPublic:
    if not service.is_listed(w):
        return WinnerPublic(year=w.year, kind=w.kind, listed=False,
                            note=f"The {'winner' if w.kind == 'winner' else 'highly commended entrant'} "
                                 "asked not to be listed.")
    base = get_settings().base_url.rstrip("/")
    page = f"{base}/hall-of-fame/{w.year}/{w.slug}" if w.slug else None
    return WinnerPublic(year=w.year, kind=w.kind, listed=True, slug=w.slug, url=page, name=w.name, role=w.role,
                        organisation=w.organisation, country=w.country, citation=w.citation,
                        photo_url=f"{page}/photo" if page and w.photo_key else None,
                        credentials=[CredentialLink(name=a.title, verify_url=f"{base}/verify/{c.slug}")
                                     for c, a in creds])


def _public(session, award, winners) -> AwardPublic:
    creds = service.public_credentials(session, winners)
    return AwardPublic(slug=award.slug, title=award.title, description=award.description,
                       first_awarded=award.first_awarded,
                       winners=[winner_public(w, creds.get(w.id, [])) for w in winners])


@router.get("", response_model=list[AwardPublic])
def list_awards(session: SessionDep) -> list[AwardPublic]:
    return [_public(session, a, w) for a, w in service.awards_with_winners(session)]


@router.get("/hall-of-fame/{year}", response_model=list[AwardPublic])
def hall_of_fame_year(year: int, session: SessionDep) -> list[AwardPublic]:
    return [_public(session, a, w) for a, w in service.year(session, year)]


@router.get("/hall-of-fame/{year}/{slug}", response_model=WinnerPublic)
def hall_of_fame_winner(year: int, slug: str, session: SessionDep) -> WinnerPublic:
    _, w = service.winner_by_slug(session, year, slug)
    return winner_public(w, service.public_credentials(session, [w]).get(w.id, []))


@router.get("/{slug}", response_model=AwardPublic)
def get_award(slug: str, session: SessionDep) -> AwardPublic:
    return _public(session, *service.get_award(session, slug))
