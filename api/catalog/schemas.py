from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel


class OfferPublic(BaseModel):
    slug: str
    title: str
    kind: str
    amount: int
    currency: str
    price: str  # the amount formatted in its currency
    instalments: int | None = None
    interval: str | None = None
    instalment_amounts: list[int] | None = None
    access_days: int | None = None


class ProgrammeRef(BaseModel):
    slug: str
    code: str
    title: str


class OutlineItem(BaseModel):
    slug: str
    title: str
    kind: str  # "lesson" | "knowledge_check"
    minutes: int | None = None


class ModuleOutline(BaseModel):
    slug: str
    title: str
    summary: str
    items: list[OutlineItem]


class ProgrammeSummary(BaseModel):
    slug: str
    code: str
    title: str
    short_title: str | None
    family: str
    level: int
    summary: str
    format: str
    duration: dict[str, Any]
    validity_months: int | None
    prerequisites: list[ProgrammeRef]
    offers: list[OfferPublic]
    is_free: bool
    place: str = ""  # "Level 1 of 4 on the ACX ladder: a first step" (api/catalog/ladder.py)
    leads_to: list[ProgrammeRef] = []  # what comes after it on its ladder
    # The first day of the next cohort open for booking (live programmes; api/catalog/schedules.py).
    next_cohort: date | None = None


class ProgrammeDetail(ProgrammeSummary):
    description: str
    outcomes: list[str]
    schedule: list[dict[str, Any]]
    renewal: str | None
    completion: dict[str, Any]
    modules: list[ModuleOutline]
