"""FastAPI dependencies: the submission in the path, loaded with the caller's relation to it."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from api.accounts.deps import CurrentUser
from api.assessments import access
from api.assessments.models import Submission
from api.core.db import SessionDep

STAFF = (access.Relation.marker, access.Relation.moderator, access.Relation.admin)


def _loader(*allowed: access.Relation):
    def dep(request: Request, public_id: str, user: CurrentUser, session: SessionDep) -> tuple[Submission, str]:
        return access.load(session, public_id, user, request.state.roles, allowed)

    return dep


AnySeer = Annotated[tuple[Submission, access.Relation], Depends(_loader(*access.Relation))]
OwnSubmission = Annotated[tuple[Submission, access.Relation], Depends(_loader(access.Relation.learner))]
StaffSubmission = Annotated[tuple[Submission, access.Relation], Depends(_loader(*STAFF))]
MarkerSubmission = Annotated[tuple[Submission, access.Relation],
                             Depends(_loader(access.Relation.marker, access.Relation.admin))]
