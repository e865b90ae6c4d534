"""The outbox: work to do after a change, written in the same transaction as the change.

- `OutboxMessage`: one email to send or one event for one consumer. Drained by `cadre worker`.
- `DomainEvent`: the record of a fact ("programme.completed"), once per (name, dedupe_key).
  Publishing one writes a message per consumer in the same transaction.
- `ScheduledRun`: one row per (job, time slot), so a periodic job runs at most once per slot
  however many workers are running.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from api.core.db import UTCDateTime, utcnow


class OutboxKind(StrEnum):
    email = "email"
    event = "event"


class OutboxStatus(StrEnum):
    pending = "pending"  # waiting, being handled (locked_until in the future), or waiting for a retry
    done = "done"
    dead = "dead"  # gave up after CADRE_WORKER_MAX_ATTEMPTS; an admin may retry it


class OutboxMessage(SQLModel, table=True):
    __tablename__ = "outbox_message"
    __table_args__ = (Index("ix_outbox_message_status_available_at", "status", "available_at"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=10)
    topic: str = Field(max_length=80)  # "email", or the event's name
    handler: str = Field(max_length=120)  # "email", or the consumer ("module:function")
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    # What makes this message this message: a second enqueue with the same key does nothing.
    dedupe_key: str = Field(max_length=200, unique=True)
    status: str = Field(default=OutboxStatus.pending.value, max_length=10)
    attempts: int = 0  # claims so far (a claim counts even if the worker died while handling it)
    available_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    locked_until: datetime | None = Field(default=None, sa_type=UTCDateTime)  # the current claim's lease
    locked_by: str | None = Field(default=None, max_length=80)  # the claim's token (worker name + random)
    last_error: str | None = Field(default=None, sa_column=Column(Text))
    event_id: int | None = Field(default=None, foreign_key="domain_event.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    done_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class DomainEvent(SQLModel, table=True):
    """A fact one domain tells the others (e.g. learning's `programme.completed`).

    Written in the same transaction as the change it reports. (name, dedupe_key) is unique, so a
    fact is recorded once however many requests race to record it. `processed_at` is set once
    every consumer's message is done.
    """

    __tablename__ = "domain_event"
    __table_args__ = (UniqueConstraint("name", "dedupe_key"),)

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=80, index=True)
    dedupe_key: str = Field(max_length=200)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    processed_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)


class ScheduledRun(SQLModel, table=True):
    __tablename__ = "scheduled_run"
    __table_args__ = (UniqueConstraint("job", "slot_start"),)

    id: int | None = Field(default=None, primary_key=True)
    job: str = Field(max_length=80)
    slot_start: datetime = Field(sa_type=UTCDateTime)
    worker: str = Field(max_length=80)
    started_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    result: str | None = Field(default=None, sa_column=Column(Text))
    error: str | None = Field(default=None, sa_column=Column(Text))
