"""Accounts: people, their roles, their sessions and the one-time tokens mailed to them."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, Index, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from api.core.db import UTCDateTime, utcnow


class Role(StrEnum):
    learner = "learner"
    coach = "coach"
    admin = "admin"
    employer = "employer"


class User(SQLModel, table=True):
    # Lists page newest first by (created_at, id): api/core/pagination.py.
    __table_args__ = (Index("ix_user_created_at_id", "created_at", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=320, unique=True, index=True)  # stored lower-cased
    full_name: str = Field(max_length=200)  # as it should appear on a certificate
    password_hash: str = Field(max_length=255)
    email_verified_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    is_active: bool = True
    time_zone: str | None = Field(default=None, max_length=64)  # IANA; None: the site default (Europe/London)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class UserRole(SQLModel, table=True):
    __tablename__ = "user_role"
    __table_args__ = (UniqueConstraint("user_id", "role"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True, ondelete="CASCADE")
    role: str = Field(sa_column=Column(String(20), nullable=False))
    granted_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    granted_by_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")


class UserSession(SQLModel, table=True):
    """A server-side login session; the cookie holds a random token, the table its digest."""

    __tablename__ = "user_session"

    id: int | None = Field(default=None, primary_key=True)
    token_digest: str = Field(max_length=64, unique=True)
    user_id: int = Field(foreign_key="user.id", index=True, ondelete="CASCADE")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    ip: str | None = Field(default=None, max_length=64)
    user_agent: str | None = Field(default=None, max_length=300)


class TokenPurpose(StrEnum):
    verify_email = "verify_email"
    reset_password = "reset_password"  # noqa: S105 - a purpose, not a password
    change_email = "change_email"


class AccountToken(SQLModel, table=True):
    """A one-time link sent by email (verify address, reset password, confirm a new address)."""

    __tablename__ = "account_token"

    id: int | None = Field(default=None, primary_key=True)
    token_digest: str = Field(max_length=64, unique=True)
    user_id: int = Field(foreign_key="user.id", index=True, ondelete="CASCADE")
    purpose: str = Field(max_length=30)
    new_email: str | None = Field(default=None, max_length=320)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class LoginAttempt(SQLModel, table=True):
    """Failed logins, counted per account and per address for throttling."""

    __tablename__ = "login_attempt"

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=320, index=True)
    ip: str = Field(max_length=64, index=True)
    succeeded: bool = False
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
