"""The public hall of fame page."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from api.accounts.deps import optional_user
from api.core.db import SessionDep
from api.core.security import csrf_protect
from api.core.templates import render
from api.halloffame import service

router = APIRouter(dependencies=[Depends(csrf_protect), Depends(optional_user)], include_in_schema=False)


@router.get("/hall-of-fame")
def hall_of_fame(request: Request, session: SessionDep):
    return render(request, "halloffame/index.html", awards=service.awards_with_winners(session))
