"""Learning: who may study what (enrolments), what each learner has done (lesson completions and
knowledge-check attempts). The events other domains consume (programme.completed) are published
through the outbox (api/outbox); `DomainEvent` is re-exported here for older imports."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from api.core.db import UTCDateTime, utcnow
from api.outbox.models import DomainEvent  # noqa: F401 - its table moved to the outbox


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

    # Lists page newest first by (created_at, id): api/core/pagination.py.
    __table_args__ = (UniqueConstraint("user_id", "programme_id"),
                      Index("ix_enrolment_created_at_id", "created_at", "id"))

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
    # "Continue where you left off": the lesson last opened, and when.
    last_lesson_id: int | None = Field(default=None, foreign_key="lesson.id", ondelete="SET NULL")
    last_seen_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class LessonCompletion(SQLModel, table=True):
    """A learner finished a lesson. Keyed by the lesson row, which a content sync keeps by slug, so a
    renamed lesson keeps its tick and a retired one keeps its record (it just stops counting)."""

    __tablename__ = "lesson_completion"
    __table_args__ = (UniqueConstraint("user_id", "lesson_id"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True, ondelete="CASCADE")
    lesson_id: int = Field(foreign_key="lesson.id", index=True, ondelete="CASCADE")
    completed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class KnowledgeCheckAttempt(SQLModel, table=True):
    """One submitted attempt, scored on the server. `number` counts a learner's attempts at a check
    from 1; the unique key makes the attempt limit hold even when two submits race."""

    __tablename__ = "knowledge_check_attempt"
    __table_args__ = (UniqueConstraint("user_id", "check_id", "number"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True, ondelete="CASCADE")
    check_id: int = Field(foreign_key="knowledge_check.id", index=True, ondelete="CASCADE")
    number: int
    answers: list[list[int]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    marks: list[bool] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))  # right per question
    score_percent: int
    passed: bool
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
