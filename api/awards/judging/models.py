"""Judging an award cycle: the cycle's judges (the appointment is the relation: no site-wide role),
its rounds (sift, shortlist, interviews, deliberation) with versioned criteria, who judges which
entry in which round, their scores, conflicts of interest (declared and detected), each round's
frozen results with later amendments, interview slots and the deliberation record."""

from __future__ import annotations

from datetime import date, datetime, time
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from api.core.db import UTCDateTime, utcnow


class RoundKind(StrEnum):
    sift = "sift"
    shortlist = "shortlist"
    interview = "interview"
    deliberation = "deliberation"


ROUND_ORDER = [RoundKind.sift, RoundKind.shortlist, RoundKind.interview, RoundKind.deliberation]


class RoundStatus(StrEnum):
    draft = "draft"
    open = "open"
    closed = "closed"  # results frozen


class CycleJudge(SQLModel, table=True):
    """A person appointed to judge one cycle. `organisation` is what they state on accepting (used to
    detect a shared employer with a nominee)."""

    __tablename__ = "judging_judge"
    __table_args__ = (UniqueConstraint("cycle_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    cycle_id: int = Field(foreign_key="award_cycle.id", index=True, ondelete="CASCADE")
    user_id: int = Field(foreign_key="user.id", index=True, ondelete="CASCADE")
    organisation: str | None = Field(default=None, max_length=200)
    appointed_by_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    appointed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    accepted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class JudgingRound(SQLModel, table=True):
    __tablename__ = "judging_round"
    __table_args__ = (UniqueConstraint("cycle_id", "kind"),)

    id: int | None = Field(default=None, primary_key=True)
    public_id: str = Field(max_length=40, unique=True)
    cycle_id: int = Field(foreign_key="award_cycle.id", index=True, ondelete="CASCADE")
    kind: str = Field(max_length=20)
    status: str = Field(default=RoundStatus.draft.value, max_length=20)
    quorum: int = 2  # counted scores an entry needs before the round can close
    blind: bool = False  # no name, employer or photo on the judges' screens
    normalise: bool = False  # rank by per-judge z-scores (raw shown beside them either way)
    advance: int | None = None  # how many of the ranking go on to the next round (None: all that pass)
    criteria_version: int = 0  # the current judging_criteria version (0: none yet)
    opened_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    closed_by_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")


class RoundCriteria(SQLModel, table=True):
    """One version of a round's weighted criteria: [{"key", "label", "weight", "max"}]. Immutable once a
    score points at it; a change before then is a new version."""

    __tablename__ = "judging_criteria"
    __table_args__ = (UniqueConstraint("round_id", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="judging_round.id", index=True, ondelete="CASCADE")
    version: int
    criteria: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    created_by_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class AssignmentStatus(StrEnum):
    active = "active"
    recused = "recused"  # the judge stepped aside (a declared conflict); the work went to another judge
    conflicted = "conflicted"  # a conflict was found: the judge's score (if any) is not counted


class Assignment(SQLModel, table=True):
    __tablename__ = "judging_assignment"
    __table_args__ = (UniqueConstraint("round_id", "entry_id", "judge_id"),
                      Index("ix_judging_assignment_judge_status", "judge_id", "status"))

    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="judging_round.id", index=True, ondelete="CASCADE")
    entry_id: int = Field(foreign_key="award_entry.id", index=True, ondelete="CASCADE")
    judge_id: int = Field(foreign_key="judging_judge.id", ondelete="CASCADE")
    status: str = Field(default=AssignmentStatus.active.value, max_length=20)
    replaces_id: int | None = Field(default=None, foreign_key="judging_assignment.id", ondelete="SET NULL")
    confirmed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # "no conflict" before opening
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Score(SQLModel, table=True):
    """A judge's score for one assignment, against one criteria version. Editable while the round is
    open; frozen with the round's results when it closes."""

    __tablename__ = "judging_score"

    id: int | None = Field(default=None, primary_key=True)
    assignment_id: int = Field(foreign_key="judging_assignment.id", unique=True, ondelete="CASCADE")
    criteria_id: int = Field(foreign_key="judging_criteria.id", index=True, ondelete="RESTRICT")
    scores: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    total: float = 0.0
    passed: bool | None = None  # the sift's vote
    comment: str = Field(default="", sa_column=Column(Text, nullable=False))
    submitted_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ConflictKind(StrEnum):
    declared = "declared"
    same_organisation = "same_organisation"
    nominated = "nominated"
    endorsed = "endorsed"
    coached = "coached"
    marked = "marked"
    nominee = "nominee"  # the judge is a nominee in this cycle


class JudgeConflict(SQLModel, table=True):
    __tablename__ = "judging_conflict"
    __table_args__ = (UniqueConstraint("judge_id", "entry_id", "kind"),
                      Index("ix_judging_conflict_cycle_id_id", "cycle_id", "id"))

    id: int | None = Field(default=None, primary_key=True)
    cycle_id: int = Field(foreign_key="award_cycle.id", ondelete="CASCADE")
    judge_id: int = Field(foreign_key="judging_judge.id", index=True, ondelete="CASCADE")
    entry_id: int = Field(foreign_key="award_entry.id", index=True, ondelete="CASCADE")
    kind: str = Field(max_length=30)
    detail: str = Field(default="", sa_column=Column(Text, nullable=False))
    after_scoring: bool = False  # found once the judge had already scored the entry
    found_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class FrozenResult(SQLModel, table=True):
    """What a round decided when it closed: raw and normalised rankings and its fairness report."""

    __tablename__ = "judging_result"

    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="judging_round.id", unique=True, ondelete="CASCADE")
    snapshot: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    frozen_by_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    frozen_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Amendment(SQLModel, table=True):
    """A later change to a frozen result (a conflict found after scoring): the re-ranked snapshot and
    why, numbered; the frozen result itself is never rewritten. The newest amendment is current."""

    __tablename__ = "judging_amendment"
    __table_args__ = (UniqueConstraint("result_id", "number"),)

    id: int | None = Field(default=None, primary_key=True)
    result_id: int = Field(foreign_key="judging_result.id", index=True, ondelete="CASCADE")
    number: int
    reason: str = Field(sa_column=Column(Text, nullable=False))
    snapshot: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    made_by_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    made_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class InterviewSlot(SQLModel, table=True):
    """An interview: wall-clock date and time in its IANA zone, UTC instants derived; the UID and
    SEQUENCE are its calendar file's (api/cohorts/calendar.py)."""

    __tablename__ = "judging_interview"
    __table_args__ = (UniqueConstraint("round_id", "entry_id"),)

    id: int | None = Field(default=None, primary_key=True)
    uid: str = Field(max_length=60, unique=True)
    round_id: int = Field(foreign_key="judging_round.id", index=True, ondelete="CASCADE")
    entry_id: int = Field(foreign_key="award_entry.id", ondelete="CASCADE")
    local_date: date
    local_start: time
    minutes: int = 45
    time_zone: str = Field(max_length=64)
    starts_at: datetime = Field(sa_type=UTCDateTime)
    ends_at: datetime = Field(sa_type=UTCDateTime)
    meeting_url: str | None = Field(default=None, max_length=500)
    sequence: int = 0
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Deliberation(SQLModel, table=True):
    """The final meeting: who attended, the decision per entry with its citation, the reasons. Locked
    at sign-off, which records the outcomes with the awards domain."""

    __tablename__ = "judging_deliberation"

    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="judging_round.id", unique=True, ondelete="CASCADE")
    attendees: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))  # judging_judge ids
    # [{"entry_id", "kind": winner | highly_commended, "citation"}]
    decisions: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    reasons: str = Field(default="", sa_column=Column(Text, nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    signed_off_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    signed_off_by_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
