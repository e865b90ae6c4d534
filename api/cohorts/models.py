"""Cohorts: a programme's scheduled runs, their sessions (wall-clock time + IANA zone, UTC derived),
seats (held by a checkout, then paid), the waitlist, join clicks, recordings watched, attendance with
its audit trail, and private calendar feeds."""

from __future__ import annotations

from datetime import date, datetime, time
from enum import StrEnum

from sqlalchemy import Column, Index, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from api.core.db import UTCDateTime, utcnow


class CohortStatus(StrEnum):
    draft = "draft"
    open = "open"
    full = "full"
    closed = "closed"  # enrolment closed, not started
    running = "running"
    finished = "finished"
    cancelled = "cancelled"


class Cohort(SQLModel, table=True):
    __table_args__ = (Index("ix_cohort_created_at_id", "created_at", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    public_id: str = Field(max_length=40, unique=True)
    programme_id: int = Field(foreign_key="programme.id", index=True, ondelete="RESTRICT")
    title: str = Field(max_length=200)
    time_zone: str = Field(max_length=64)
    capacity: int
    status: str = Field(default=CohortStatus.draft.value, max_length=20, index=True)
    enrolment_opens_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    enrolment_closes_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    meeting_url: str | None = Field(default=None, max_length=500)
    recording_days: int = 30  # recordings stay visible to enrolled learners this long after the session
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    cancelled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class CohortFacilitator(SQLModel, table=True):
    __tablename__ = "cohort_facilitator"
    __table_args__ = (UniqueConstraint("cohort_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    cohort_id: int = Field(foreign_key="cohort.id", index=True, ondelete="CASCADE")
    user_id: int = Field(foreign_key="user.id", index=True, ondelete="CASCADE")


class SessionStatus(StrEnum):
    scheduled = "scheduled"
    cancelled = "cancelled"


class CohortSession(SQLModel, table=True):
    """One live session. The schedule is the wall-clock date and time in `time_zone`; `starts_at` and
    `ends_at` are the UTC instants derived from it (again on every change), so a weekly session keeps
    its local time across a clock change. `sequence` grows on every change (iCalendar SEQUENCE)."""

    __tablename__ = "cohort_session"

    id: int | None = Field(default=None, primary_key=True)
    uid: str = Field(max_length=60, unique=True)  # the iCalendar UID and the public id
    cohort_id: int = Field(foreign_key="cohort.id", index=True, ondelete="CASCADE")
    number: int
    title: str = Field(max_length=200)
    local_date: date
    local_start: time
    minutes: int
    time_zone: str = Field(max_length=64)
    starts_at: datetime = Field(sa_type=UTCDateTime, index=True)
    ends_at: datetime = Field(sa_type=UTCDateTime)
    status: str = Field(default=SessionStatus.scheduled.value, max_length=20)
    makeup_for_id: int | None = Field(default=None, foreign_key="cohort_session.id", ondelete="SET NULL")
    meeting_url: str | None = Field(default=None, max_length=500)
    recording_url: str | None = Field(default=None, max_length=500)
    recording_key: str | None = Field(default=None, max_length=200)  # an uploaded file in storage
    recording_name: str | None = Field(default=None, max_length=200)
    recording_type: str | None = Field(default=None, max_length=100)
    sequence: int = 0
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class SeatStatus(StrEnum):
    held = "held"  # a checkout is open: counts until hold_expires_at
    paid = "paid"
    released = "released"  # the checkout expired, failed or was replaced
    refunded = "refunded"  # the money went back (late payment into a full cohort, cancelled cohort)


# One live seat per learner and programme: a second hold (another cohort, another tab) meets this.
LIVE_SEAT = "status IN ('held', 'paid')"


class Seat(SQLModel, table=True):
    __table_args__ = (
        Index("uq_seat_live", "user_id", "programme_id", unique=True,
              sqlite_where=text(LIVE_SEAT), postgresql_where=text(LIVE_SEAT)),
        Index("ix_seat_cohort_status", "cohort_id", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    cohort_id: int = Field(foreign_key="cohort.id", ondelete="RESTRICT")
    programme_id: int = Field(foreign_key="programme.id", ondelete="RESTRICT")
    user_id: int = Field(foreign_key="user.id", index=True, ondelete="CASCADE")
    order_id: int | None = Field(default=None, foreign_key="order.id", index=True, ondelete="SET NULL")
    status: str = Field(default=SeatStatus.held.value, max_length=20)
    hold_expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    note: str | None = Field(default=None, sa_column=Column(Text))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class WaitStatus(StrEnum):
    waiting = "waiting"
    offered = "offered"  # a seat is kept for them until offer_expires_at
    taken = "taken"
    lapsed = "lapsed"  # the offer ran out
    left = "left"


LIVE_WAIT = "status IN ('waiting', 'offered')"


class WaitlistEntry(SQLModel, table=True):
    __tablename__ = "waitlist_entry"
    __table_args__ = (
        Index("uq_waitlist_live", "cohort_id", "user_id", unique=True,
              sqlite_where=text(LIVE_WAIT), postgresql_where=text(LIVE_WAIT)),
        Index("ix_waitlist_entry_created_at_id", "created_at", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    cohort_id: int = Field(foreign_key="cohort.id", index=True, ondelete="CASCADE")
    user_id: int = Field(foreign_key="user.id", index=True, ondelete="CASCADE")
    status: str = Field(default=WaitStatus.waiting.value, max_length=20)
    offered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    offer_expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class JoinClick(SQLModel, table=True):
    __tablename__ = "join_click"

    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(foreign_key="cohort_session.id", index=True, ondelete="CASCADE")
    user_id: int = Field(foreign_key="user.id", index=True, ondelete="CASCADE")
    clicked_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class RecordingView(SQLModel, table=True):
    __tablename__ = "recording_view"
    __table_args__ = (UniqueConstraint("session_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(foreign_key="cohort_session.id", index=True, ondelete="CASCADE")
    user_id: int = Field(foreign_key="user.id", index=True, ondelete="CASCADE")
    viewed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class AttendanceMark(StrEnum):
    present = "present"
    late = "late"
    left_early = "left_early"
    absent = "absent"
    excused = "excused"


class Attendance(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("session_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(foreign_key="cohort_session.id", index=True, ondelete="CASCADE")
    user_id: int = Field(foreign_key="user.id", index=True, ondelete="CASCADE")
    mark: str = Field(max_length=20)
    marked_by_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class AttendanceAudit(SQLModel, table=True):
    """Append-only: every change of a mark, who made it and when."""

    __tablename__ = "attendance_audit"

    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(foreign_key="cohort_session.id", index=True, ondelete="CASCADE")
    user_id: int = Field(foreign_key="user.id", index=True, ondelete="CASCADE")
    from_mark: str | None = Field(default=None, max_length=20)
    to_mark: str = Field(max_length=20)
    actor_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class CalendarFeed(SQLModel, table=True):
    """A private calendar address (the token's digest is stored); revoking makes a new one."""

    __tablename__ = "calendar_feed"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True, ondelete="CASCADE")
    token_digest: str = Field(max_length=64, unique=True)  # of the token (calendar.token_of), for lookup
    nonce: str = Field(max_length=40)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
