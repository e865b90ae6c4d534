"""Accounts: people, their roles, their sessions and the one-time tokens mailed to them."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, Index, String, UniqueConstraint, text
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


# --- single sign-on (api/accounts/sso.py) ----------------------------------------------------------

NO_PASSWORD = "!sso-only"  # noqa: S105 - never a valid hash: an account made by single sign-on has no password yet


class UserIdentity(SQLModel, table=True):
    """An account at an OpenID Connect provider, linked to a Cadre account. Known by its issuer and
    subject, the only pair a provider promises never to give to someone else: an email address is not."""

    __tablename__ = "user_identity"
    __table_args__ = (UniqueConstraint("issuer", "subject"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True, ondelete="CASCADE")
    provider_key: str = Field(max_length=40)
    issuer: str = Field(max_length=500)
    subject: str = Field(max_length=255)
    email: str | None = Field(default=None, max_length=320)  # as the provider last said, for display
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_login_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class BindingStatus(StrEnum):
    pending = "pending"  # an organisation's owner asked; a platform admin has not decided
    approved = "approved"  # in force: people on the domain are offered (or must use) the provider
    rejected = "rejected"


APPROVED_ORG_BINDING = "owner_id IS NOT NULL AND status = 'approved'"


class SSODomainBinding(SQLModel, table=True):
    """People whose email is on `domain` are offered (or, when `required`, must use) this provider.
    Settings bind the body's own providers; these rows are for organisations: an owner asks
    (`pending`), a platform admin approves, and only approved rows count (api/accounts/sso.py rule_for).
    A row without an owner is one an admin made directly (approved at once)."""

    __tablename__ = "sso_domain_binding"
    __table_args__ = (
        UniqueConstraint("domain", "provider_key"),
        # A domain's people belong to one organisation's single sign-on at a time.
        Index("uq_sso_domain_binding_approved_domain", "domain", unique=True,
              sqlite_where=text(APPROVED_ORG_BINDING), postgresql_where=text(APPROVED_ORG_BINDING)),
    )

    id: int | None = Field(default=None, primary_key=True)
    provider_key: str = Field(max_length=40)
    domain: str = Field(max_length=255, index=True)  # lower-cased, without "@"
    required: bool = False
    owner_id: int | None = Field(default=None, index=True, foreign_key="organisation.id", ondelete="CASCADE")
    status: str = Field(default=BindingStatus.approved.value, max_length=20, index=True)
    requested_by_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    decided_by_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    decision_note: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class SSOPendingLink(SQLModel, table=True):
    """A provider account waiting to be linked to an existing Cadre account with the same (verified)
    email, until the person proves the Cadre account is theirs: its password once, or a link mailed to
    it. The browser holds one secret, the mailed link another; both are stored only as digests."""

    __tablename__ = "sso_pending_link"

    id: int | None = Field(default=None, primary_key=True)
    browser_digest: str = Field(max_length=64, unique=True)
    mail_digest: str | None = Field(default=None, max_length=64, unique=True)
    user_id: int = Field(foreign_key="user.id", index=True, ondelete="CASCADE")
    provider_key: str = Field(max_length=40)
    issuer: str = Field(max_length=500)
    subject: str = Field(max_length=255)
    email: str = Field(max_length=320)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
