"""Who may see a cohort and act on it: loaded with the caller's relation to it.
Learner (a paid seat), facilitator (one of its coaches), admin; anyone else gets 404."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from api.accounts.deps import CurrentUser
from api.accounts.models import Role, User
from api.cohorts import service
from api.cohorts.models import Cohort, CohortSession
from api.core.db import SessionDep
from api.core.errors import Forbidden, NotFound


@dataclass
class CohortAccess:
    cohort: Cohort
    user: User
    learner: bool
    facilitator: bool
    admin: bool

    @property
    def may_run(self) -> bool:
        return self.facilitator or self.admin


def _relation(request: Request, session, cohort: Cohort, user: User) -> CohortAccess:
    admin = Role.admin in getattr(request.state, "roles", set())
    access = CohortAccess(cohort, user, learner=service.seat_of(session, cohort, user.id) is not None,
                          facilitator=service.is_facilitator(session, cohort, user.id), admin=admin)
    if not (access.learner or access.facilitator or admin):
        raise NotFound("There is no cohort at this address.", code="cohort_not_found")
    return access


def cohort_access(request: Request, cohort_id: str, session: SessionDep, user: CurrentUser) -> CohortAccess:
    return _relation(request, session, service.get_cohort(session, cohort_id), user)


def running_access(access: Annotated[CohortAccess, Depends(cohort_access)]) -> CohortAccess:
    if not access.may_run:
        raise Forbidden("Only the cohort's facilitators can do that.", code="not_facilitator")
    return access


@dataclass
class SessionAccess:
    row: CohortSession
    access: CohortAccess


def session_access(request: Request, uid: str, session: SessionDep, user: CurrentUser) -> SessionAccess:
    try:
        row, cohort = service.get_session(session, uid)
        return SessionAccess(row, _relation(request, session, cohort, user))
    except NotFound:
        raise NotFound("That session is not one of your cohort's: there is nothing to join or download here.",
                       code="session_not_found") from None


CohortAccessDep = Annotated[CohortAccess, Depends(cohort_access)]
RunningAccessDep = Annotated[CohortAccess, Depends(running_access)]
SessionAccessDep = Annotated[SessionAccess, Depends(session_access)]
