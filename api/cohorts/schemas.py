"""Cohorts' JSON shapes: what a buyer needs to choose a cohort, and a cohort's sessions."""

from __future__ import annotations

from datetime import date, datetime, time

from pydantic import BaseModel


class SessionPublic(BaseModel):
    uid: str
    title: str
    status: str
    local_date: date
    local_start: time
    time_zone: str
    minutes: int
    starts_at: datetime  # UTC
    ends_at: datetime
    shown: str  # in the asking user's zone, named: "Tue 8 Sep, 10:00 BST (09:00 UTC)"


class CohortPublic(BaseModel):
    id: str  # pass as `cohort` to POST /api/v1/payments/checkout
    programme: str
    title: str
    status: str
    time_zone: str
    capacity: int
    seats_left: int
    sessions: list[SessionPublic]
