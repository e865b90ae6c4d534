"""Request and response models of /api/v1/assessments (never a table)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class LevelPublic(BaseModel):
    score: int
    label: str
    descriptor: str


class CriterionPublic(BaseModel):
    slug: str
    title: str
    description: str
    weight: int
    must_pass: bool
    levels: list[LevelPublic]


class RubricPublic(BaseModel):
    id: int
    number: int
    sha256: str
    pass_mark: int
    criteria: list[CriterionPublic]


class FilePublic(BaseModel):
    id: str
    name: str
    content_type: str
    size_bytes: int
    open_url: str


class ScorePublic(BaseModel):
    criterion: str
    score: int | None
    comment: str


class SubmissionPublic(BaseModel):
    id: str
    programme: str
    brief: str
    attempt: int
    state: str
    status: str
    version: int
    text: str
    files: list[FilePublic]
    rubric_version: int
    deadline_at: datetime | None
    deadline_zone: str | None
    submitted_at: datetime | None
    marking_due_at: datetime | None
    outcome: str | None
    score_percent: int | None
    released_at: datetime | None
    resubmit_by: datetime | None
    feedback: str | None = None
    scores: list[ScorePublic] = Field(default_factory=list)
    record_url: str | None = None


class BriefPublic(BaseModel):
    programme: str
    slug: str
    title: str
    brief: str
    settings: dict[str, Any]
    rubric: RubricPublic | None
    attempts: list[SubmissionPublic]
    can_start: bool
    message: str


class DraftIn(BaseModel):
    text: str = Field(default="", max_length=60_000)
    version: int | None = None
    zone: str | None = Field(default=None, max_length=64)


class SubmitIn(BaseModel):
    authentic: bool = False
    anonymised: bool = False


class ScoreIn(BaseModel):
    score: int | None = None
    comment: str = Field(default="", max_length=5_000)


class MarkIn(BaseModel):
    scores: dict[str, ScoreIn] = Field(default_factory=dict, max_length=50)
    feedback: str = Field(default="", max_length=20_000)
    version: int | None = None
    rubric_version_id: int | None = None


class MarkPublic(BaseModel):
    id: int
    kind: str
    round: int
    status: str
    version: int
    rubric_version_id: int
    scores: dict[str, ScoreIn]
    feedback: str
    outcome: str | None
    score_percent: int | None
    submission_state: str


class QueueItem(BaseModel):
    id: str
    learner: str
    programme: str
    brief: str
    attempt: int
    state: str
    marking_due_at: datetime | None
    overdue: bool


class AllocateIn(BaseModel):
    coach_id: int
    reason: str = Field(min_length=1, max_length=1000)


class ConflictIn(BaseModel):
    learner_email: str = Field(max_length=320)
    reason: str = Field(default="", max_length=1000)


class RecordPublic(BaseModel):
    model_config = {"extra": "allow"}
