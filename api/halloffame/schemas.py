from __future__ import annotations

from pydantic import BaseModel


class CredentialLink(BaseModel):
    name: str
    verify_url: str


class WinnerPublic(BaseModel):
    """A listed winner in full; a winner who asked not to be listed keeps only the year and distinction."""

    year: int
    kind: str  # winner | highly_commended
    listed: bool
    slug: str | None = None
    url: str | None = None
    name: str | None = None
    role: str | None = None
    organisation: str | None = None
    country: str | None = None
    citation: str | None = None
    photo_url: str | None = None
    credentials: list[CredentialLink] = []
    note: str | None = None


class AwardPublic(BaseModel):
    slug: str
    title: str
    description: str
    first_awarded: int | None
    winners: list[WinnerPublic]
