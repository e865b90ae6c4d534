"""API keys: who is calling the JSON API. Until the organisation's keys exist, a logged-in session."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from api.accounts.deps import optional_user
from api.core.errors import NotAuthenticated


@dataclass(frozen=True)
class Caller:
    bucket: str  # what its rate limits count against: "user:<id>" or "key:<id>"
    user: object | None = None


def api_caller(request: Request, session, scope: str) -> Caller:
    user = optional_user(request, session)
    if user is None:
        raise NotAuthenticated("Log in, or send an API key: Authorization: Bearer <key>.")
    return Caller(bucket=f"user:{user.id}", user=user)
