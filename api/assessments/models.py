"""Practical assessments: immutable rubric versions, a learner's attempts (submissions) with their
files, the marks coaches give, who marks whom (conflicts, capacity), and the append-only audit trail.

The brief itself (title, text, settings, current rubric) is catalogue content: `assessment_brief`
(api/catalog/models.py), synced from content/. What judgements are made against is a
`rubric_version`, created when the rubric's content hash is new and never changed afterwards.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from api.core.db import UTCDateTime, utcnow


class State(StrEnum):
    """The life of one attempt. Transitions only through api/assessments/states.py:transition."""

    draft = "draft"
    submitted = "submitted"
    withdrawn = "withdrawn"
    in_marking = "in_marking"
    marked = "marked"
    awaiting_second_mark = "awaiting_second_mark"
    awaiting_agreement = "awaiting_agreement"
    in_moderation = "in_moderation"
    sent_back = "sent_back"
    ready_for_release = "ready_for_release"
    released = "released"
    under_appeal = "under_appeal"


class Outcome(StrEnum):
    passed = "pass"
    refer = "refer"
    fail = "fail"


class MarkKind(StrEnum):
    first = "first"
    second = "second"
    third = "third"
    agreed = "agreed"
    moderation = "moderation"
    appeal = "appeal"


class MarkStatus(StrEnum):
    draft = "draft"
    submitted = "submitted"


class RubricVersion(SQLModel, table=True):
    """One published rubric of a brief. Immutable: a content change is a new row (new hash)."""

    __tablename__ = "rubric_version"
    __table_args__ = (UniqueConstraint("brief_id", "content_hash"), UniqueConstraint("brief_id", "number"))

    id: int | None = Field(default=None, primary_key=True)
    brief_id: int = Field(foreign_key="assessment_brief.id", index=True, ondelete="CASCADE")
    number: int  # 1, 2, ... per brief, in the order they were published
    content_hash: str = Field(max_length=64)  # sha256 of the canonical JSON of `rubric`
    # {"criteria": [{slug, title, description, weight, must_pass, pass_score, levels: [{score, label,
    # descriptor}]}], "pass_rule": {"pass_mark": int, "fail_below": int|None}}
    rubric: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Submission(SQLModel, table=True):
    """One attempt by a learner at a brief. A resubmission after a refer is a new row (attempt + 1)
    with its own files; earlier attempts stay as they were."""

    __tablename__ = "assessment_submission"
    __table_args__ = (
        UniqueConstraint("user_id", "brief_id", "attempt"),
        Index("ix_assessment_submission_state_coach", "state", "allocated_coach_id"),
        Index("ix_assessment_submission_state_submitted_at", "state", "submitted_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    public_id: str = Field(max_length=32, unique=True)  # random; the only id in URLs
    user_id: int = Field(foreign_key="user.id", index=True, ondelete="CASCADE")
    programme_id: int = Field(foreign_key="programme.id", index=True, ondelete="CASCADE")
    brief_id: int = Field(foreign_key="assessment_brief.id", index=True, ondelete="CASCADE")
    rubric_version_id: int = Field(foreign_key="rubric_version.id", index=True)
    attempt: int = 1
    previous_id: int | None = Field(default=None, foreign_key="assessment_submission.id", ondelete="SET NULL")
    state: str = Field(default=State.draft.value, max_length=30)
    version: int = 1  # bumped by every transition and every learner edit (optimistic checks)
    text: str = Field(default="", sa_column=Column(Text, nullable=False))
    declared_authentic_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    declared_anonymised_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # The deadline to submit this attempt (a resubmission's comes from the refer): an instant, and
    # the IANA zone it was set in. Extensions (review) move it.
    deadline_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    deadline_zone: str | None = Field(default=None, max_length=64)
    learner_zone: str | None = Field(default=None, max_length=64)  # the zone the learner reads times in
    submitted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    withdrawn_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Allocation and the marking lease.
    allocated_coach_id: int | None = Field(default=None, foreign_key="user.id", index=True, ondelete="SET NULL")
    allocated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    allocated_by_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    lease_holder_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    lease_expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    marking_started_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    marking_due_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    reminded_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    overdue_notified_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # The result. `result_mark_id` is the mark the outcome comes from (first, agreed, moderation or
    # appeal); `record_id` is the random id of the public record of the outcome (certificate evidence).
    result_mark_id: int | None = None  # assessment_mark.id (no FK: the two tables point at each other)
    outcome: str | None = Field(default=None, max_length=10)
    score_percent: int | None = None
    released_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    released_by_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    record_id: str | None = Field(default=None, max_length=32, unique=True)
    resubmit_by: datetime | None = Field(default=None, sa_type=UTCDateTime)  # set on a refer
    resubmit_zone: str | None = Field(default=None, max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class SubmissionFile(SQLModel, table=True):
    """A file of one attempt, kept in api/core/storage.py under a random key. The learner's file name
    is kept only as a cleaned display name; the type is what the content says it is."""

    __tablename__ = "submission_file"

    id: int | None = Field(default=None, primary_key=True)
    public_id: str = Field(max_length=32, unique=True)
    submission_id: int = Field(foreign_key="assessment_submission.id", index=True, ondelete="CASCADE")
    storage_key: str = Field(max_length=200, unique=True)
    display_name: str = Field(max_length=200)
    content_type: str = Field(max_length=120)
    size_bytes: int
    sha256: str = Field(max_length=64)
    uploaded_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class FileView(SQLModel, table=True):
    """Who opened a submission file, when, and as what (learner, marker, moderator, admin)."""

    __tablename__ = "submission_file_view"

    id: int | None = Field(default=None, primary_key=True)
    file_id: int = Field(foreign_key="submission_file.id", index=True, ondelete="CASCADE")
    viewer_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    as_role: str = Field(max_length=20)
    viewed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Mark(SQLModel, table=True):
    """Every kind of mark (first, second, third, agreed, moderation, appeal) against one rubric
    version. `scores` = {criterion_slug: {"score": int, "comment": str}}. A submitted mark is never
    edited; `version` guards autosave of a draft against a newer edit from another tab."""

    __tablename__ = "assessment_mark"
    __table_args__ = (UniqueConstraint("submission_id", "kind", "marker_id", "round"),)

    id: int | None = Field(default=None, primary_key=True)
    submission_id: int = Field(foreign_key="assessment_submission.id", index=True, ondelete="CASCADE")
    rubric_version_id: int = Field(foreign_key="rubric_version.id", index=True)
    marker_id: int | None = Field(default=None, foreign_key="user.id", index=True, ondelete="SET NULL")
    kind: str = Field(default=MarkKind.first.value, max_length=20)
    round: int = 1  # a re-mark after a send-back is round 2, and so on
    status: str = Field(default=MarkStatus.draft.value, max_length=20)
    version: int = 1
    scores: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    feedback: str = Field(default="", sa_column=Column(Text, nullable=False))
    rationale: str | None = Field(default=None, sa_column=Column(Text))  # agreed/moderation/appeal: why
    score_percent: int | None = None
    outcome: str | None = Field(default=None, max_length=10)  # computed from the rubric on submit
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    submitted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class MarkerConflict(SQLModel, table=True):
    """A coach declared they must not mark this learner (a colleague, a friend, a line report)."""

    __tablename__ = "marker_conflict"
    __table_args__ = (UniqueConstraint("coach_id", "learner_id"),)

    id: int | None = Field(default=None, primary_key=True)
    coach_id: int = Field(foreign_key="user.id", index=True, ondelete="CASCADE")
    learner_id: int = Field(foreign_key="user.id", index=True, ondelete="CASCADE")
    reason: str = Field(default="", sa_column=Column(Text, nullable=False))
    declared_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class CoachCapacity(SQLModel, table=True):
    """How much open marking a coach takes (the cap for equal-share allocation)."""

    __tablename__ = "coach_capacity"

    id: int | None = Field(default=None, primary_key=True)
    coach_id: int = Field(foreign_key="user.id", unique=True, ondelete="CASCADE")
    max_open: int = 10
    accepting: bool = True
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class AuditEntry(SQLModel, table=True):
    """Append-only: every state change and every notable act on a submission (api/assessments/audit.py)."""

    __tablename__ = "assessment_audit"
    __table_args__ = (Index("ix_assessment_audit_submission_at", "submission_id", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    submission_id: int = Field(foreign_key="assessment_submission.id", ondelete="CASCADE")
    actor_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    action: str = Field(max_length=60)
    from_state: str | None = Field(default=None, max_length=30)
    to_state: str | None = Field(default=None, max_length=30)
    reason: str | None = Field(default=None, sa_column=Column(Text))
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
