"""Learning: who may study what (enrolments). Progress, knowledge-check attempts and completion
events live here too as they are built."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from api.core.db import UTCDateTime, utcnow


class EnrolmentSource(StrEnum):
    purchase = "purchase"
    instalment_plan = "instalment_plan"
    admin_grant = "admin_grant"
    organisation_seat = "organisation_seat"
    free = "free"


class EnrolmentStatus(StrEnum):
    active = "active"
    suspended = "suspended"
    completed = "completed"
    cancelled = "cancelled"


class Enrolment(SQLModel, table=True):
    """One per learner and programme: re-enrolling reactivates the same row, keeping its history."""

    __table_args__ = (UniqueConstraint("user_id", "programme_id"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True, ondelete="CASCADE")
    programme_id: int = Field(foreign_key="programme.id", index=True, ondelete="CASCADE")
    source: str = Field(max_length=30)
    status: str = Field(default=EnrolmentStatus.active.value, max_length=20, index=True)
    reference: str | None = Field(default=None, max_length=120)  # e.g. the order that paid for it
    status_reason: str | None = Field(default=None, sa_column=Column(Text))
    starts_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    access_until: datetime | None = Field(default=None, sa_type=UTCDateTime)  # None: lifetime
    completed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    granted_by_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
