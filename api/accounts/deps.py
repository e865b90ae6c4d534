"""Who is asking: the current user from the session cookie or a bearer token, and role guards."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from api.accounts import service
from api.accounts.models import Role, User
from api.core.db import SessionDep
from api.core.errors import Forbidden, NotAuthenticated

SESSION_COOKIE = "cadre_session"


def session_token(request: Request) -> str | None:
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip() or None
    return request.cookies.get(SESSION_COOKIE)


def optional_user(request: Request, session: SessionDep) -> User | None:
    cached = getattr(request.state, "user", False)
    if cached is not False:
        return cached
    user, roles = service.user_and_roles_for_session_token(session, session_token(request))
    request.state.user = user
    request.state.roles = roles
    return user


OptionalUser = Annotated[User | None, Depends(optional_user)]


def current_user(request: Request, user: OptionalUser) -> User:
    if user is None:
        raise NotAuthenticated("Log in to continue.")
    return user


CurrentUser = Annotated[User, Depends(current_user)]


def user_roles(request: Request, user: OptionalUser) -> set[Role]:
    return request.state.roles if user else set()


def require_role(*allowed: Role):
    """A dependency that lets through users holding any of `allowed`; admins pass every guard."""

    def guard(request: Request, user: CurrentUser) -> User:
        roles: set[Role] = request.state.roles
        if Role.admin in roles or roles.intersection(allowed):
            return user
        raise Forbidden("You do not have permission to see this page.")

    return guard


AdminUser = Annotated[User, Depends(require_role(Role.admin))]
CoachUser = Annotated[User, Depends(require_role(Role.coach))]
