"""What the learning API takes and returns. Never a table; never a right answer before submitting."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from api.catalog.schemas import ProgrammeRef


class ItemRef(BaseModel):
    kind: str  # "lesson" | "knowledge_check"
    slug: str
    title: str
    url: str  # the page that shows it


class EnrolmentPublic(BaseModel):
    programme: ProgrammeRef
    status: str  # active | suspended | completed | cancelled
    source: str
    starts_at: datetime
    access_until: datetime | None  # None: lifetime
    completed_at: datetime | None
    has_access: bool
    percent: int
    continue_at: ItemRef | None


class ItemProgress(BaseModel):
    kind: str
    slug: str
    title: str
    counted: bool  # whether it counts towards the percentage under the completion rule
    done: bool
    done_at: datetime | None


class ModuleProgress(BaseModel):
    slug: str
    title: str
    percent: int
    done: int
    total: int
    items: list[ItemProgress]


class ProgrammeProgress(BaseModel):
    programme: ProgrammeRef
    status: str
    completion_rule: dict[str, Any]
    percent: int
    done: int
    total: int
    lessons_done: int
    lessons_total: int
    checks_passed: int
    checks_total: int
    completed_at: datetime | None
    outstanding: list[str]  # what completion still needs
    continue_at: ItemRef | None
    modules: list[ModuleProgress]


class Download(BaseModel):
    title: str
    url: str


class LessonPublic(BaseModel):
    programme: ProgrammeRef
    slug: str
    title: str
    module: str
    minutes: int | None
    video_url: str | None
    body_html: str  # sanitised
    downloads: list[Download]
    done: bool
    done_at: datetime | None
    previous: ItemRef | None
    next: ItemRef | None


class LessonCompleted(BaseModel):
    lesson: str
    completed_at: datetime
    programme_percent: int
    programme_status: str
    programme_completed_now: bool


class OptionPublic(BaseModel):
    index: int
    text: str


class QuestionPublic(BaseModel):
    index: int
    prompt: str
    kind: str  # "single" | "multiple"
    options: list[OptionPublic]


class AttemptSummary(BaseModel):
    number: int
    score_percent: int
    passed: bool
    created_at: datetime


class CheckPublic(BaseModel):
    slug: str
    title: str
    pass_mark: int
    max_attempts: int
    attempts_left: int
    retry_after_minutes: int  # the wait after an attempt that did not pass (0: none)
    next_attempt_at: datetime | None  # set while that wait lasts
    passed: bool
    answers_revealed: bool  # correct answers and explanations: after a pass or the last attempt
    questions: list[QuestionPublic]
    attempts: list[AttemptSummary]


class AttemptIn(BaseModel):
    """One list of chosen option indexes per question, in question order ([] leaves it unanswered)."""

    answers: list[list[int]] = Field(max_length=200)


class OptionFeedback(BaseModel):
    index: int
    text: str
    chosen: bool
    correct: bool | None  # None until the answers are revealed


class QuestionFeedback(BaseModel):
    index: int
    prompt: str
    kind: str
    correct: bool
    chosen: list[int]
    answer: list[int] | None  # None until the answers are revealed (a pass, or the last attempt used)
    explanation: str | None
    options: list[OptionFeedback]


class AttemptResult(BaseModel):
    number: int
    score_percent: int
    pass_mark: int
    passed: bool
    attempts_left: int
    programme_completed_now: bool
    answers_revealed: bool
    next_attempt_at: datetime | None  # when another attempt is allowed, if the check has a wait
    feedback: list[QuestionFeedback]
