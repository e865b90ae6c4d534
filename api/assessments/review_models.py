"""The second line of judgement's own tables: appeals, extensions, and calibration (exemplars with
agreed marks, and the marks coaches give them). Moderation, second, agreed and appeal marks are rows
of `assessment_mark` (models.py); these tables hold what is not a mark of a learner's work.

Kept beside models.py (not in it) so the two halves of the domain are written apart; api/models.py
imports both.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Index, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from api.core.db import UTCDateTime, utcnow


class AppealStatus(StrEnum):
    open = "open"  # waiting for, or with, the appeal marker
    upheld = "upheld"  # the re-mark changed the outcome
    not_upheld = "not_upheld"  # the re-mark gave the same outcome


class Appeal(SQLModel, table=True):
    """A learner's appeal against a released result. One per submission, ever (the unique key): an
    appeal twice is refused by the database too."""

    __tablename__ = "assessment_appeal"
    __table_args__ = (UniqueConstraint("submission_id"),)

    id: int | None = Field(default=None, primary_key=True)
    submission_id: int = Field(foreign_key="assessment_submission.id", ondelete="CASCADE")
    user_id: int = Field(foreign_key="user.id", index=True, ondelete="CASCADE")
    reason: str = Field(sa_column=Column(Text, nullable=False))
    status: str = Field(default=AppealStatus.open.value, max_length=20, index=True)
    marker_id: int | None = Field(default=None, foreign_key="user.id", index=True, ondelete="SET NULL")
    mark_id: int | None = Field(default=None, foreign_key="assessment_mark.id", ondelete="SET NULL")
    outcome_before: str | None = Field(default=None, max_length=10)
    outcome_after: str | None = Field(default=None, max_length=10)
    decision: str | None = Field(default=None, sa_column=Column(Text))  # the appeal marker's rationale
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ExtensionStatus(StrEnum):
    pending = "pending"
    approved = "approved"
    refused = "refused"


class Extension(SQLModel, table=True):
    """A learner's request to move a submission deadline. At most one pending per submission (a
    partial unique index). The asked-for deadline is an instant with the zone it was asked in."""

    __tablename__ = "assessment_extension"
    __table_args__ = (
        Index("uq_assessment_extension_pending", "submission_id", unique=True,
              sqlite_where=text("status = 'pending'"), postgresql_where=text("status = 'pending'")),
    )

    id: int | None = Field(default=None, primary_key=True)
    submission_id: int = Field(foreign_key="assessment_submission.id", index=True, ondelete="CASCADE")
    user_id: int = Field(foreign_key="user.id", index=True, ondelete="CASCADE")
    reason: str = Field(sa_column=Column(Text, nullable=False))
    deadline_before: datetime | None = Field(default=None, sa_type=UTCDateTime)
    requested_until: datetime = Field(sa_type=UTCDateTime)
    zone: str = Field(max_length=64)  # the zone the learner asked in (and reads the deadline in)
    status: str = Field(default=ExtensionStatus.pending.value, max_length=20, index=True)
    decided_by_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    decision_reason: str | None = Field(default=None, sa_column=Column(Text))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class CalibrationExemplar(SQLModel, table=True):
    """A piece of work with marks agreed by the body, marked by coaches before live marking."""

    __tablename__ = "calibration_exemplar"

    id: int | None = Field(default=None, primary_key=True)
    brief_id: int = Field(foreign_key="assessment_brief.id", index=True, ondelete="CASCADE")
    rubric_version_id: int = Field(foreign_key="rubric_version.id", index=True)
    title: str = Field(max_length=200)
    work: str = Field(sa_column=Column(Text, nullable=False))  # the exemplar's text (anonymised)
    agreed_scores: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    rationale: str = Field(default="", sa_column=Column(Text, nullable=False))  # why these marks
    created_by_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    retired_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class CalibrationMark(SQLModel, table=True):
    """A coach's marks on an exemplar (one per coach and exemplar)."""

    __tablename__ = "calibration_mark"
    __table_args__ = (UniqueConstraint("exemplar_id", "coach_id"),)

    id: int | None = Field(default=None, primary_key=True)
    exemplar_id: int = Field(foreign_key="calibration_exemplar.id", index=True, ondelete="CASCADE")
    coach_id: int = Field(foreign_key="user.id", index=True, ondelete="CASCADE")
    scores: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    submitted_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)


# The admin's overview pages every submission newest first by (created_at, id): the index that keeps a
# page's cost the same at any depth (api/core/pagination.py). Declared here, on assess's table, with the
# rest of review's schema (migration 0007_review).
def _overview_index() -> Index:
    from api.assessments.models import Submission

    return Index("ix_assessment_submission_created_at_id", Submission.created_at, Submission.id)


OVERVIEW_INDEX = _overview_index()
