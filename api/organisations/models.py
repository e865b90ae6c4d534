"""Organisations: employers with members in roles, invitations by email, seats they buy (or are granted)
for a programme or a cohort, and who holds each seat. Consent to share progress lives on the membership:
it is the learner's choice per organisation, off by default."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Column, Index, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from api.core.db import UTCDateTime, utcnow


class OrgRole(StrEnum):
    owner = "owner"  # everything, including billing, roles and buying seats
    manager = "manager"  # invites, assigns seats, reads the team
    member = "member"  # a colleague: sees the organisation, decides what to share


class Organisation(SQLModel, table=True):
    # Lists page newest first by (created_at, id): api/core/pagination.py.
    __table_args__ = (Index("ix_organisation_created_at_id", "created_at", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    public_id: str = Field(max_length=40, unique=True)  # random: the only id in addresses
    name: str = Field(max_length=200)
    legal_name: str | None = Field(default=None, max_length=200)
    address: str | None = Field(default=None, sa_column=Column(Text))
    vat_number: str | None = Field(default=None, max_length=40)
    created_by_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Membership(SQLModel, table=True):
    """One per person and organisation. Consent (share_*) belongs to the member and starts off."""

    __tablename__ = "organisation_membership"
    __table_args__ = (UniqueConstraint("organisation_id", "user_id"),
                      Index("ix_organisation_membership_org_created", "organisation_id", "created_at", "id"))

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True, ondelete="CASCADE")
    user_id: int = Field(foreign_key="user.id", index=True, ondelete="CASCADE")
    role: str = Field(default=OrgRole.member.value, max_length=20)
    share_progress: bool = False
    share_assessments: bool = False
    consent_changed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


# An invitation is open until accepted or withdrawn (an expired one is withdrawn when it is replaced):
# one open invitation per organisation and address.
OPEN_INVITATION = "accepted_at IS NULL AND revoked_at IS NULL"


class Invitation(SQLModel, table=True):
    __tablename__ = "organisation_invitation"
    __table_args__ = (
        Index("uq_organisation_invitation_open", "organisation_id", "email", unique=True,
              sqlite_where=text(OPEN_INVITATION), postgresql_where=text(OPEN_INVITATION)),
        Index("ix_organisation_invitation_org_created", "organisation_id", "created_at", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id", ondelete="CASCADE")
    email: str = Field(max_length=320)  # lower-cased
    role: str = Field(default=OrgRole.member.value, max_length=20)
    token_digest: str = Field(max_length=64, unique=True)  # the mailed token is never stored
    inviter_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    accepted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    accepted_by_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


# One pool per organisation and programme (without a cohort), and one per organisation and cohort.
NO_COHORT = "cohort_id IS NULL"
WITH_COHORT = "cohort_id IS NOT NULL"


class SeatPool(SQLModel, table=True):
    """Seats an organisation holds for a programme (or one cohort of it). `assigned` counts the seats
    held by members now; the CHECK keeps it within 0..quantity whatever the code does, and assigning
    locks this row first so concurrent managers take turns. `take_backs` counts seats taken back from
    members who had not started, capped at `max_take_backs_per_seat` × quantity."""

    __tablename__ = "organisation_seat_pool"
    __table_args__ = (
        CheckConstraint("assigned >= 0 AND assigned <= quantity", name="assigned_within_quantity"),
        CheckConstraint("quantity >= 0", name="quantity_not_negative"),
        CheckConstraint("take_backs >= 0 AND take_backs <= quantity * max_take_backs_per_seat",
                        name="take_backs_capped"),
        Index("uq_organisation_seat_pool_programme", "organisation_id", "programme_id", unique=True,
              sqlite_where=text(NO_COHORT), postgresql_where=text(NO_COHORT)),
        Index("uq_organisation_seat_pool_cohort", "organisation_id", "cohort_id", unique=True,
              sqlite_where=text(WITH_COHORT), postgresql_where=text(WITH_COHORT)),
    )

    id: int | None = Field(default=None, primary_key=True)
    public_id: str = Field(max_length=40, unique=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True, ondelete="CASCADE")
    programme_id: int = Field(foreign_key="programme.id", ondelete="RESTRICT")
    cohort_id: int | None = Field(default=None, foreign_key="cohort.id", ondelete="RESTRICT")
    quantity: int = 0
    assigned: int = 0
    take_backs: int = 0
    max_take_backs_per_seat: int = 3
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class SeatCreditSource(StrEnum):
    order = "order"
    admin_grant = "admin_grant"
    refund = "refund"  # a negative row: a refunded order's seats leaving the pool


class SeatCredit(SQLModel, table=True):
    """Each addition to a pool: a paid order (at most once per order: the unique key) or a grant."""

    __tablename__ = "organisation_seat_credit"

    id: int | None = Field(default=None, primary_key=True)
    pool_id: int = Field(foreign_key="organisation_seat_pool.id", index=True, ondelete="CASCADE")
    quantity: int
    source: str = Field(max_length=20)
    order_id: int | None = Field(default=None, foreign_key="order.id", unique=True, ondelete="SET NULL")
    granted_by_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    note: str | None = Field(default=None, max_length=300)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class SeatStatus(StrEnum):
    assigned = "assigned"  # the member holds it; taken back only until they start
    returned = "returned"  # taken back before the member started: the seat went back to the pool


LIVE_ASSIGNMENT = "status = 'assigned'"


class SeatAssignment(SQLModel, table=True):
    __tablename__ = "organisation_seat_assignment"
    __table_args__ = (
        Index("uq_organisation_seat_assignment_live", "pool_id", "user_id", unique=True,
              sqlite_where=text(LIVE_ASSIGNMENT), postgresql_where=text(LIVE_ASSIGNMENT)),
    )

    id: int | None = Field(default=None, primary_key=True)
    pool_id: int = Field(foreign_key="organisation_seat_pool.id", index=True, ondelete="CASCADE")
    user_id: int = Field(foreign_key="user.id", index=True, ondelete="CASCADE")
    status: str = Field(default=SeatStatus.assigned.value, max_length=20)
    assigned_by_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    assigned_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    returned_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    returned_by_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
