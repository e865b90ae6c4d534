"""The public hall of fame: every year, one year, one winner, a winner's photo. Anonymous pages are
cached (api/core/pagecache.py); whatever changes them (an announcement, a past winner added, a listing
withdrawn, a photo) invalidates the cache in the same transaction."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import StreamingResponse

from api.accounts.deps import optional_user
from api.core.db import SessionDep
from api.core.errors import NotFound
from api.core.security import csrf_protect
from api.core.storage import get_storage
from api.core.templates import render
from api.halloffame import service

router = APIRouter(dependencies=[Depends(csrf_protect), Depends(optional_user)], include_in_schema=False)


@router.get("/hall-of-fame")
def hall_of_fame(request: Request, session: SessionDep):
    awards = service.awards_with_winners(session)
    winners = [w for _, ws in awards for w in ws]
    return render(request, "halloffame/index.html", awards=awards, kinds=service.KIND_WORDS,
                  credentials=service.public_credentials(session, winners), listed=service.is_listed)


@router.get("/hall-of-fame/{year}")
def hall_of_fame_year(request: Request, year: int, session: SessionDep):
    awards = service.year(session, year)
    winners = [w for _, ws in awards for w in ws]
    return render(request, "halloffame/year.html", year=year, awards=awards, kinds=service.KIND_WORDS,
                  credentials=service.public_credentials(session, winners), listed=service.is_listed,
                  years=service.years(session))


@router.get("/hall-of-fame/{year}/{slug}")
def hall_of_fame_winner(request: Request, year: int, slug: str, session: SessionDep):
    award, w = service.winner_by_slug(session, year, slug)
    return render(request, "halloffame/winner.html", award=award, w=w, kinds=service.KIND_WORDS,
                  credentials=service.public_credentials(session, [w]).get(w.id, []), listed=service.is_listed(w))


@router.get("/hall-of-fame/{year}/{slug}/photo")
def hall_of_fame_photo(year: int, slug: str, session: SessionDep):
    _, w = service.winner_by_slug(session, year, slug)
    if not w.photo_key or not service.is_listed(w):
        raise NotFound("There is no photo here.")
    return StreamingResponse(get_storage().open(w.photo_key), media_type=w.photo_type or "image/jpeg",
                             headers={"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"})
