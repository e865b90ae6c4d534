"""The catalogue, synced from content/ by slug: programmes, their modules, lessons, knowledge checks,
assessment briefs and offers. Rows are never deleted by a sync; what leaves the files is retired."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from api.core.db import UTCDateTime, utcnow


class Family(StrEnum):
    ACX = "ACX"
    CPP = "CPP"
    OI = "OI"


class DeliveryFormat(StrEnum):
    on_demand = "on_demand"
    live_cohort = "live_cohort"
    coached = "coached"


class OfferKind(StrEnum):
    full = "full"
    instalments = "instalments"


class Programme(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=80, unique=True)
    code: str = Field(max_length=30, unique=True)
    title: str = Field(max_length=200)
    short_title: str | None = Field(default=None, max_length=120)
    family: str = Field(max_length=10, index=True)
    level: int
    summary: str = Field(sa_column=Column(Text, nullable=False))
    description: str = Field(default="", sa_column=Column(Text, nullable=False))
    outcomes: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    format: str = Field(max_length=20)
    duration: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    schedule: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # A live programme's cohort format (api/cohorts/schedule.py generates sessions from it); {} otherwise.
    cohort_format: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    validity_months: int | None = None
    renewal: str | None = Field(default=None, sa_column=Column(Text))
    completion: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    retired_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

    @property
    def display_title(self) -> str:
        return self.short_title or self.title

    # How its certificate is named (an award credential names its award instead: certificates.achievements).
    @property
    def certificate_title(self) -> str:
        return f"{self.code} certificate"

    @property
    def achievement_title(self) -> str:
        return f"{self.title} ({self.code})"


class ProgrammePrerequisite(SQLModel, table=True):
    """`programme` expects a learner to hold the accreditation of `requires`."""

    __tablename__ = "programme_prerequisite"
    __table_args__ = (UniqueConstraint("programme_id", "requires_id"),)

    id: int | None = Field(default=None, primary_key=True)
    programme_id: int = Field(foreign_key="programme.id", index=True, ondelete="CASCADE")
    requires_id: int = Field(foreign_key="programme.id", index=True, ondelete="CASCADE")


class Module(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("programme_id", "slug"),)

    id: int | None = Field(default=None, primary_key=True)
    programme_id: int = Field(foreign_key="programme.id", index=True, ondelete="CASCADE")
    slug: str = Field(max_length=80)
    title: str = Field(max_length=200)
    summary: str = Field(default="", sa_column=Column(Text, nullable=False))
    position: int
    retired_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Lesson(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("programme_id", "slug"),)

    id: int | None = Field(default=None, primary_key=True)
    programme_id: int = Field(foreign_key="programme.id", index=True, ondelete="CASCADE")
    module_id: int = Field(foreign_key="module.id", index=True, ondelete="CASCADE")
    slug: str = Field(max_length=80)
    title: str = Field(max_length=200)
    body: str = Field(default="", sa_column=Column(Text, nullable=False))
    # The body as safe HTML, rendered and sanitised once at content sync (api/core/markdown.py), and the
    # digest of the source and renderer it came from: a sync renders again only when that changes.
    body_html: str | None = Field(default=None, sa_column=Column(Text))
    body_digest: str | None = Field(default=None, max_length=64)
    minutes: int | None = None
    video_url: str | None = Field(default=None, max_length=500)  # a hosted video
    # {"file": name beside the lesson or None, "captions": [{file, language, label}], "transcript": Markdown}
    video: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False, server_default="{}"))
    downloads: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    position: int  # among the lessons and knowledge checks of its module
    source_path: str = Field(max_length=300)
    retired_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class KnowledgeCheck(SQLModel, table=True):
    __tablename__ = "knowledge_check"
    __table_args__ = (UniqueConstraint("programme_id", "slug"),)

    id: int | None = Field(default=None, primary_key=True)
    programme_id: int = Field(foreign_key="programme.id", index=True, ondelete="CASCADE")
    module_id: int = Field(foreign_key="module.id", index=True, ondelete="CASCADE")
    slug: str = Field(max_length=80)
    title: str = Field(max_length=200)
    pass_mark: int
    max_attempts: int = 3  # never unlimited (content/README.md)
    retry_after_minutes: int = 0  # the wait before another attempt after one not passed
    # Questions with their right answers: scored on the server, never sent to a page before submitting.
    questions: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    position: int
    source_path: str = Field(max_length=300)
    retired_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class AssessmentBrief(SQLModel, table=True):
    __tablename__ = "assessment_brief"
    __table_args__ = (UniqueConstraint("programme_id", "slug"),)

    id: int | None = Field(default=None, primary_key=True)
    programme_id: int = Field(foreign_key="programme.id", index=True, ondelete="CASCADE")
    slug: str = Field(max_length=80)
    title: str = Field(max_length=200)
    brief: str = Field(sa_column=Column(Text, nullable=False))
    pass_mark: int
    criteria: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # The rest of the rubric ({"pass_mark", "fail_below"}) and the brief's settings (files, text,
    # attempts, windows, marking, moderation): see content/README.md. `rubric_hash` names the current
    # rubric_version (api/assessments/rubrics.py).
    pass_rule: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    settings: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    rubric_hash: str | None = Field(default=None, max_length=64)
    position: int
    source_path: str = Field(max_length=300)
    retired_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Offer(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("programme_id", "slug"),)

    id: int | None = Field(default=None, primary_key=True)
    programme_id: int = Field(foreign_key="programme.id", index=True, ondelete="CASCADE")
    slug: str = Field(max_length=80)
    title: str = Field(max_length=200)
    kind: str = Field(max_length=20)
    amount: int  # the total, in minor units
    currency: str = Field(default="GBP", max_length=3)
    instalments: int | None = None
    interval: str | None = Field(default=None, max_length=10)
    access_days: int | None = None
    position: int
    retired_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
