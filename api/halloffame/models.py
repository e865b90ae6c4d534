"""The Change Architect of the Year and its hall of fame. Awards and the winners written in
content/awards are synced from there (source 'content'); winners an admin enters (source 'admin')
and those a cycle announces (source 'cycle', api/awards) are left alone by the sync."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from api.core.db import UTCDateTime


class Award(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=80, unique=True)
    title: str = Field(max_length=200)
    description: str = Field(default="", sa_column=Column(Text, nullable=False))
    first_awarded: int | None = None
    retired_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class WinnerSource(StrEnum):
    content = "content"
    admin = "admin"
    cycle = "cycle"


class AwardWinner(SQLModel, table=True):
    __tablename__ = "award_winner"
    __table_args__ = (UniqueConstraint("award_id", "year", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    award_id: int = Field(foreign_key="award.id", index=True, ondelete="CASCADE")
    year: int
    name: str = Field(max_length=200)
    role: str | None = Field(default=None, max_length=200)
    organisation: str | None = Field(default=None, max_length=200)
    country: str | None = Field(default=None, max_length=100)
    citation: str = Field(default="", sa_column=Column(Text, nullable=False))
    retired_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    source: str = Field(default=WinnerSource.content.value, max_length=20,
                        sa_column_kwargs={"server_default": WinnerSource.content.value})
    kind: str = Field(default="winner", max_length=20, sa_column_kwargs={"server_default": "winner"})
    slug: str | None = Field(default=None, max_length=120, unique=True)  # /hall-of-fame/<year>/<slug>
    cycle_id: int | None = Field(default=None, foreign_key="award_cycle.id", ondelete="SET NULL")
    outcome_id: int | None = Field(default=None, foreign_key="award_outcome.id", unique=True, ondelete="SET NULL")
    user_id: int | None = Field(default=None, foreign_key="user.id", index=True, ondelete="SET NULL")
    certificate_id: int | None = Field(default=None, foreign_key="certificate.id", ondelete="SET NULL")
    photo_key: str | None = Field(default=None, max_length=200)
    photo_type: str | None = Field(default=None, max_length=100)
    # The winner asked not to be listed: the page keeps the year and says so, nothing else.
    listing_withdrawn_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
