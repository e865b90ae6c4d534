"""Who may see a submission, and as what. Strangers get 404 (the submission does not exist for
them); the relation decides what they may do.

- learner: the submission's owner;
- marker: the coach it is allocated to, or who holds/held a mark on it of kind first/second/third/
  agreed/appeal (review's second markers and appeal markers have a mark row, so they see it too);
- moderator: someone with a moderation mark on it;
- admin: everyone with the admin role.
"""

from __future__ import annotations

from enum import StrEnum

from sqlmodel import Session, select

from api.accounts.models import Role, User
from api.assessments.models import Mark, MarkKind, Submission
from api.core.errors import NotFound


class Relation(StrEnum):
    learner = "learner"
    marker = "marker"
    moderator = "moderator"
    admin = "admin"


def relation(session: Session, sub: Submission, user: User | None, roles: set) -> Relation | None:
    if user is None:
        return None
    if sub.user_id == user.id:
        return Relation.learner
    if Role.coach in roles or Role.admin in roles:
        if sub.allocated_coach_id == user.id:
            return Relation.marker
        kinds = set(session.exec(select(Mark.kind).where(Mark.submission_id == sub.id,
                                                         Mark.marker_id == user.id)).all())
        if kinds - {MarkKind.moderation.value}:
            return Relation.marker
        if kinds:
            return Relation.moderator
    if Role.admin in roles:
        return Relation.admin
    return None


def by_public_id(session: Session, public_id: str) -> Submission | None:
    return session.exec(select(Submission).where(Submission.public_id == public_id)).first()


def load(session: Session, public_id: str, user: User | None, roles: set,
         allowed: tuple[Relation, ...] = tuple(Relation)) -> tuple[Submission, Relation]:
    """The submission and the caller's relation to it; 404 unless that relation is in `allowed`."""
    sub = by_public_id(session, public_id)
    rel = relation(session, sub, user, roles) if sub is not None else None
    if sub is None or rel is None or rel not in allowed:
        raise NotFound("There is no submission at this address, or it is not yours to see.")
    return sub, rel
