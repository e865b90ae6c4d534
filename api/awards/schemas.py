from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field


class MilestonePublic(BaseModel):
    kind: str
    label: str
    local_date: date
    local_time: str  # HH:MM in time_zone
    time_zone: str
    at: datetime  # the UTC instant


class CyclePublic(BaseModel):
    slug: str
    award: str
    year: int
    title: str
    state: str
    state_words: str
    nominations_open: bool
    self_nomination_allowed: bool
    requires_current_accreditation: list[str]
    milestones: list[MilestonePublic]


class NominationCreate(BaseModel):
    name: str = Field(max_length=200)
    email: str = Field(max_length=320)
    statement: str = Field(max_length=5000)
    role: str | None = Field(default=None, max_length=200)
    organisation: str | None = Field(default=None, max_length=200)
    endorsers: list[str] = Field(default_factory=list, max_length=5)
    reveal_to_nominee: bool = False


class NominationPublic(BaseModel):
    """What the nominator sees of their nomination (never the nominee's entry)."""

    cycle: str
    nominee_name: str
    nominated_at: datetime
    merged: bool  # the person was already nominated: this nomination is counted with the others
    nomination_count: int
    reveal_to_nominee: bool
