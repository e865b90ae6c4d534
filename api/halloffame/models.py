"""The Change Architect of the Year and its hall of fame, synced from content/awards."""

from __future__ import annotations

from datetime import datetime

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
