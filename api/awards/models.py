"""The award cycle: a yearly cycle of an award (api/halloffame Award) with its milestones, the state it
is in (moved only by api/awards/states.py:transition) and its audit trail; the people nominated
(one Nominee per person and cycle, however many nominations name them), the nominations, the
nominee's entry with its files, and the cycle's outcomes (winner / highly commended)."""

from __future__ import annotations

from datetime import date, datetime, time
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from api.core.db import UTCDateTime, utcnow


class CycleState(StrEnum):
    draft = "draft"
    nominations_open = "nominations_open"
    nominations_closed = "nominations_closed"
    sifting = "sifting"
    shortlisting = "shortlisting"
    interviewing = "interviewing"
    deliberating = "deliberating"
    decided = "decided"  # outcomes recorded, under embargo until announced
    announced = "announced"


class MilestoneKind(StrEnum):
    """In the order they happen in a cycle."""

    nominations_open = "nominations_open"
    nominations_close = "nominations_close"
    entries_due = "entries_due"
    sift = "sift"
    shortlist = "shortlist"
    interviews = "interviews"
    deliberation = "deliberation"
    announcement = "announcement"  # the embargo lifts at this instant


class AwardCycle(SQLModel, table=True):
    __tablename__ = "award_cycle"
    __table_args__ = (UniqueConstraint("award_id", "year"),)

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=100, unique=True)  # e.g. change-architect-2027, in page URLs
    award_id: int = Field(foreign_key="award.id", index=True, ondelete="RESTRICT")
    year: int
    title: str = Field(max_length=200)
    description: str = Field(default="", sa_column=Column(Text, nullable=False))
    state: str = Field(default=CycleState.draft.value, max_length=30, index=True)
    version: int = 1
    self_nomination_allowed: bool = False
    # {"requires_current_accreditation": ["ACXP", ...]}: programme codes, any one of which suffices
    eligibility: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    # The UTC instant of the announcement milestone: nothing about outcomes is public before it.
    embargo_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    announced_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_by_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class CycleMilestone(SQLModel, table=True):
    """A wall-clock date and time in its IANA zone; `at` is the UTC instant derived from it."""

    __tablename__ = "award_milestone"
    __table_args__ = (UniqueConstraint("cycle_id", "kind"),)

    id: int | None = Field(default=None, primary_key=True)
    cycle_id: int = Field(foreign_key="award_cycle.id", index=True, ondelete="CASCADE")
    kind: str = Field(max_length=30)
    local_date: date
    local_time: time
    time_zone: str = Field(max_length=64)
    at: datetime = Field(sa_type=UTCDateTime, index=True)


class CycleAudit(SQLModel, table=True):
    """Append-only: who moved the cycle from which state to which, when and why."""

    __tablename__ = "award_cycle_audit"

    id: int | None = Field(default=None, primary_key=True)
    cycle_id: int = Field(foreign_key="award_cycle.id", index=True, ondelete="CASCADE")
    actor_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    action: str = Field(max_length=60)
    from_state: str | None = Field(default=None, max_length=30)
    to_state: str | None = Field(default=None, max_length=30)
    reason: str | None = Field(default=None, sa_column=Column(Text))
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class NomineeStatus(StrEnum):
    invited = "invited"  # nominated; the invitation email is out
    accepted = "accepted"  # said yes and consented to judging; entry in progress
    declined = "declined"
    entered = "entered"  # the entry is submitted


class Nominee(SQLModel, table=True):
    """One person nominated in one cycle. Nominations of the same person (by normalised email) meet
    at the unique (cycle_id, email_normalised) and are counted here."""

    __table_args__ = (UniqueConstraint("cycle_id", "email_normalised"),
                      Index("ix_nominee_cycle_id_id", "cycle_id", "id"))

    id: int | None = Field(default=None, primary_key=True)
    public_id: str = Field(max_length=40, unique=True)  # random: the nominee's page URL
    cycle_id: int = Field(foreign_key="award_cycle.id", ondelete="CASCADE")
    email: str = Field(max_length=320)
    email_normalised: str = Field(max_length=320)
    name: str = Field(max_length=200)
    role: str | None = Field(default=None, max_length=200)
    organisation: str | None = Field(default=None, max_length=200)
    country: str | None = Field(default=None, max_length=100)
    nomination_count: int = 1
    status: str = Field(default=NomineeStatus.invited.value, max_length=20, index=True)
    # The nominee's own account, linked when they accept (signed in with the nominated email).
    user_id: int | None = Field(default=None, foreign_key="user.id", index=True, ondelete="SET NULL")
    consent_judging_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    consent_public_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # None: not (or no longer) given
    photo_key: str | None = Field(default=None, max_length=200)
    photo_type: str | None = Field(default=None, max_length=100)
    invited_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    responded_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Nomination(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("nominee_id", "nominator_id"),
                      Index("ix_nomination_nominator_id_id", "nominator_id", "id"))

    id: int | None = Field(default=None, primary_key=True)
    cycle_id: int = Field(foreign_key="award_cycle.id", index=True, ondelete="CASCADE")
    nominee_id: int = Field(foreign_key="nominee.id", index=True, ondelete="CASCADE")
    nominator_id: int = Field(foreign_key="user.id", ondelete="CASCADE")
    # What this nominator wrote (the nominee row keeps the first nominator's spelling).
    name: str = Field(max_length=200)
    role: str | None = Field(default=None, max_length=200)
    organisation: str | None = Field(default=None, max_length=200)
    statement: str = Field(sa_column=Column(Text, nullable=False))
    endorsers: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))  # normalised emails
    reveal_to_nominee: bool = False  # the nominator's name is shown to the nominee only if True
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class EntryState(StrEnum):
    draft = "draft"
    submitted = "submitted"
    withdrawn = "withdrawn"


class Entry(SQLModel, table=True):
    """The nominee's entry: the evidence judges read."""

    __tablename__ = "award_entry"
    __table_args__ = (Index("ix_award_entry_cycle_state_id", "cycle_id", "state", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    public_id: str = Field(max_length=40, unique=True)
    cycle_id: int = Field(foreign_key="award_cycle.id", ondelete="CASCADE")
    nominee_id: int = Field(foreign_key="nominee.id", unique=True, ondelete="CASCADE")
    state: str = Field(default=EntryState.draft.value, max_length=20)
    personal: str = Field(default="", sa_column=Column(Text, nullable=False))
    professional: str = Field(default="", sa_column=Column(Text, nullable=False))
    business: str = Field(default="", sa_column=Column(Text, nullable=False))
    referees: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # What the eligibility check found at submission: {"rule": ..., "met_by": [codes], "checked_at": iso}
    eligibility: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    submitted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    version: int = 1
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class EntryFile(SQLModel, table=True):
    __tablename__ = "award_entry_file"

    id: int | None = Field(default=None, primary_key=True)
    public_id: str = Field(max_length=40, unique=True)
    entry_id: int = Field(foreign_key="award_entry.id", index=True, ondelete="CASCADE")
    key: str = Field(max_length=200)  # in core/storage
    name: str = Field(max_length=200)  # cleaned display name, never a path
    content_type: str = Field(max_length=100)
    size: int
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class OutcomeKind(StrEnum):
    winner = "winner"
    highly_commended = "highly_commended"


class CycleOutcome(SQLModel, table=True):
    """What the deliberation decided for an entry. Written once by services.record_outcomes; public
    only after the cycle is announced (then copied into the hall of fame)."""

    __tablename__ = "award_outcome"
    __table_args__ = (UniqueConstraint("cycle_id", "entry_id"),)

    id: int | None = Field(default=None, primary_key=True)
    cycle_id: int = Field(foreign_key="award_cycle.id", index=True, ondelete="CASCADE")
    entry_id: int = Field(foreign_key="award_entry.id", ondelete="CASCADE")
    kind: str = Field(max_length=20)
    citation: str = Field(sa_column=Column(Text, nullable=False))
    slug: str = Field(max_length=120, unique=True)  # the hall of fame address once announced
    recorded_by_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    recorded_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    certificate_id: int | None = Field(default=None, foreign_key="certificate.id", unique=True,
                                       ondelete="SET NULL")  # the award credential, issued at announcement


class CycleReminder(SQLModel, table=True):
    """One row per reminder sent, so the sweep sends each once however often it runs."""

    __tablename__ = "award_reminder"
    __table_args__ = (UniqueConstraint("cycle_id", "kind", "nominee_id"),)

    id: int | None = Field(default=None, primary_key=True)
    cycle_id: int = Field(foreign_key="award_cycle.id", index=True, ondelete="CASCADE")
    kind: str = Field(max_length=30)  # nominations_closing | entry_due
    nominee_id: int = Field(foreign_key="nominee.id", ondelete="CASCADE")
    sent_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
