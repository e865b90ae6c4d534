"""Request and response shapes of the second line of judgement's JSON API (review_router.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field


class ModerationIn(BaseModel):
    action: Literal["confirm", "adjust", "send_back"]
    reason: str = Field(default="", max_length=5_000)
    scores: dict[str, dict[str, Any]] = Field(default_factory=dict)  # for adjust: {criterion: {"score": n}}


class SecondMarkIn(BaseModel):
    scores: dict[str, dict[str, Any]]
    feedback: str = Field(default="", max_length=20_000)


class SettleIn(BaseModel):
    scores: dict[str, dict[str, Any]]
    rationale: str = Field(max_length=5_000)


class StatePublic(BaseModel):
    public_id: str
    state: str
    outcome: str | None
    result_mark_id: int | None


class AppealIn(BaseModel):
    reason: str = Field(max_length=5_000)


class AppealDecisionIn(BaseModel):
    scores: dict[str, dict[str, Any]]
    feedback: str = Field(default="", max_length=20_000)
    rationale: str = Field(max_length=5_000)


class AppealPublic(BaseModel):
    status: str
    reason: str
    outcome_before: str | None
    outcome_after: str | None
    decision: str | None
    created_at: datetime
    decided_at: datetime | None


class ExtensionIn(BaseModel):
    until: datetime = Field(description="the wall-clock date and time asked for, in `zone` (no offset)")
    zone: str = Field(max_length=64)
    reason: str = Field(max_length=2_000)


class ExtensionDecisionIn(BaseModel):
    approve: bool
    reason: str = Field(max_length=2_000)


class ExtensionPublic(BaseModel):
    id: int
    status: str
    requested_until: datetime
    zone: str
    reason: str
    decision_reason: str | None
    deadline_shown: str  # the submission's deadline now, in the learner's zone


class CalibrationBrief(BaseModel):
    programme: str
    brief: str
    exemplar_ids: list[int]
    marked: list[int]
    needed: int
    done: bool
