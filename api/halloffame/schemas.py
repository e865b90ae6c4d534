from __future__ import annotations

from pydantic import BaseModel


class WinnerPublic(BaseModel):
    year: int
    name: str
    role: str | None
    organisation: str | None
    country: str | None
    citation: str


class AwardPublic(BaseModel):
    slug: str
    title: str
    description: str
    first_awarded: int | None
    winners: list[WinnerPublic]
