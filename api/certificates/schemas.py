from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel


class CheckPublic(BaseModel):
    name: str
    status: str  # pass | fail | skip
    reason: str


class VerificationPublic(BaseModel):
    verified: bool
    status: str | None = None  # valid, expired, suspended, revoked, superseded (for this site's certificates)
    status_reason: str | None = None
    checked_at: datetime
    checks: list[CheckPublic]
    holder: str | None = None
    achievement: str | None = None
    issued_at: datetime | None = None
    expires_at: datetime | None = None
    credential: dict[str, Any] | None = None
