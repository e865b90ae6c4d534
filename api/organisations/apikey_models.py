"""API keys an organisation's owners create for integrations (api/organisations/apikeys.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, text
from sqlmodel import Field, SQLModel

from api.core.db import UTCDateTime, utcnow

ACTIVE_KEY = "revoked_at IS NULL"


class ApiKey(SQLModel, table=True):
    """A key is shown once, when made: only its sha256 digest is kept (the secret is 256 random bits, so
    a fast hash is enough), with its short public prefix to tell keys apart. Revoked keys stay listed
    (who revoked them, when) and never work again."""

    __tablename__ = "api_key"
    __table_args__ = (
        # An active key's name is unique in its organisation (a revoked key's name may be used again).
        Index("uq_api_key_active_name", "organisation_id", "name", unique=True,
              sqlite_where=text(ACTIVE_KEY), postgresql_where=text(ACTIVE_KEY)),
        Index("ix_api_key_org_created", "organisation_id", "created_at", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id", ondelete="CASCADE")
    name: str = Field(max_length=80)
    prefix: str = Field(max_length=24, unique=True)  # "cdk_1a2b3c4d5e": shown in lists, not a secret
    secret_digest: str = Field(max_length=64, unique=True)
    scopes: str = Field(max_length=100)  # space-separated: verify, team:read
    created_by_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_by_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")

    @property
    def scope_list(self) -> list[str]:
        return self.scopes.split()
