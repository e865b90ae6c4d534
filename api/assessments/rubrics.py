"""Rubric versions: content-hashed and immutable.

A content sync hands each brief's rubric (criteria with levels, weights, must-pass, and the pass
rule) to `publish`: the canonical JSON is hashed; a hash the brief has not had before becomes a new
`rubric_version` row (number + 1); a known hash is reused (a change undone points back at the old
version). Nothing ever updates a version, so a mark made against one keeps its meaning for ever.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, select

from api.assessments.models import RubricVersion
from api.catalog.models import AssessmentBrief


def content_hash(rubric: dict[str, Any]) -> str:
    canonical = json.dumps(rubric, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def publish(session: Session, brief: AssessmentBrief, rubric: dict[str, Any]) -> tuple[RubricVersion, bool]:
    """The version for `rubric` (created if new) and whether it was created. Flushes."""
    digest = content_hash(rubric)
    existing = session.exec(select(RubricVersion).where(RubricVersion.brief_id == brief.id,
                                                        RubricVersion.content_hash == digest)).first()
    if existing is not None:
        return existing, False
    last = session.exec(select(func.max(RubricVersion.number)).where(RubricVersion.brief_id == brief.id)).one()
    version = RubricVersion(brief_id=brief.id, number=(last or 0) + 1, content_hash=digest, rubric=rubric)
    session.add(version)
    session.flush()
    return version, True


def current(session: Session, brief: AssessmentBrief) -> RubricVersion | None:
    if brief.rubric_hash is None:
        return None
    return session.exec(select(RubricVersion).where(RubricVersion.brief_id == brief.id,
                                                    RubricVersion.content_hash == brief.rubric_hash)).first()


def criteria(version: RubricVersion) -> list[dict[str, Any]]:
    return list(version.rubric.get("criteria", []))
