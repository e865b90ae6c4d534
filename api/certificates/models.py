"""Certificates: accreditations issued to learners, their signed credentials, revocation and
suspension (published as Bitstring Status Lists), expiry reminders and renewals."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from api.core.db import UTCDateTime, utcnow


class CertificateStatus(StrEnum):
    active = "active"  # valid unless its expiry has passed (expiry is derived, never stored)
    suspended = "suspended"
    revoked = "revoked"
    superseded = "superseded"  # renewed: a newer certificate replaces it


class HoldReason(StrEnum):
    """Why the system (not an admin) suspended a certificate: only such a hold is lifted automatically."""

    payment_overdue = "payment_overdue"  # an instalment unpaid past the grace period; lifted once paid


class StatusPurpose(StrEnum):
    revocation = "revocation"
    suspension = "suspension"


class AchievementKind(StrEnum):
    accreditation = "accreditation"  # a programme passed (programme_id set)
    award = "award"  # an award won (api/awards: programme_id None, achievement_name set)


class Certificate(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=40, unique=True)  # random, in the verify URL
    number: str = Field(max_length=40, unique=True)  # e.g. ACXP-7KQ2-M9XD-4HTP, random
    user_id: int = Field(foreign_key="user.id", index=True, ondelete="CASCADE")
    programme_id: int | None = Field(default=None, foreign_key="programme.id", index=True)
    kind: str = Field(default=AchievementKind.accreditation.value, max_length=20,
                      sa_column_kwargs={"server_default": AchievementKind.accreditation.value})
    achievement_name: str | None = Field(default=None, max_length=200)  # an award's "Change Architect of the Year 2027"
    enrolment_id: int | None = Field(default=None, foreign_key="enrolment.id", ondelete="SET NULL")
    holder_name: str = Field(max_length=200)  # as the learner confirmed it
    holder_email_hash: str = Field(max_length=100)
    holder_email_salt: str = Field(max_length=64)
    issued_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # None: does not lapse
    status: str = Field(default=CertificateStatus.active.value, max_length=20, index=True)
    status_reason: str | None = Field(default=None, sa_column=Column(Text))
    status_changed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    hold_reason: str | None = Field(default=None, max_length=30)  # HoldReason, set only with status suspended
    # Its bits in the published status lists (/status/{n}); random indexes, never reused.
    revocation_list: int = Field(foreign_key="status_list.id")
    revocation_index: int
    suspension_list: int = Field(foreign_key="status_list.id")
    suspension_index: int
    generation: int = 1  # 1 for the first award of a programme to a holder, +1 per renewal
    superseded_by_id: int | None = Field(default=None, foreign_key="certificate.id")
    renews_id: int | None = Field(default=None, foreign_key="certificate.id")
    issued_by_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    issue_reason: str | None = Field(default=None, sa_column=Column(Text))
    is_private: bool = False
    credential: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    # The credential's cryptographic checks, recorded when it was issued (see stored.py): a verify
    # page re-checks only its status and dates, not a signature Cadre made itself.
    verification: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

    __table_args__ = (
        UniqueConstraint("revocation_list", "revocation_index"),
        UniqueConstraint("suspension_list", "suspension_index"),
        # One certificate per holder, programme and generation: issuing twice at once fails cleanly.
        UniqueConstraint("user_id", "programme_id", "generation"),
        # The admin list pages newest first by (issued_at, id): api/core/pagination.py.
        Index("ix_certificate_issued_at_id", "issued_at", "id"),
    )


class StatusList(SQLModel, table=True):
    """A published Bitstring Status List; its bits are derived from the certificates that point at it."""

    __tablename__ = "status_list"

    id: int | None = Field(default=None, primary_key=True)
    purpose: str = Field(max_length=20)
    size: int = 131_072
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class CertificateEvent(SQLModel, table=True):
    """The audit trail: issued, suspended, reinstated, revoked, renewed, reminded, privacy changed."""

    __tablename__ = "certificate_event"

    id: int | None = Field(default=None, primary_key=True)
    certificate_id: int = Field(foreign_key="certificate.id", index=True, ondelete="CASCADE")
    kind: str = Field(max_length=40)
    reason: str | None = Field(default=None, sa_column=Column(Text))
    actor_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ExpiryReminder(SQLModel, table=True):
    """One row per reminder sent, so a reminder goes out once however often the sweep runs."""

    __tablename__ = "expiry_reminder"
    __table_args__ = (UniqueConstraint("certificate_id", "days_before"),)

    id: int | None = Field(default=None, primary_key=True)
    certificate_id: int = Field(foreign_key="certificate.id", index=True, ondelete="CASCADE")
    days_before: int
    sent_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class RenewalStatus(StrEnum):
    pending = "pending"
    approved = "approved"
    rejected = "rejected"


class RenewalRequest(SQLModel, table=True):
    __tablename__ = "renewal_request"

    id: int | None = Field(default=None, primary_key=True)
    certificate_id: int = Field(foreign_key="certificate.id", index=True, ondelete="CASCADE")
    evidence: str = Field(sa_column=Column(Text, nullable=False))
    status: str = Field(default=RenewalStatus.pending.value, max_length=20, index=True)
    decided_by_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    decision_note: str | None = Field(default=None, sa_column=Column(Text))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
