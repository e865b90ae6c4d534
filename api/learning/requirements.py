"""Completion requirements owned by other domains (practical assessments, cohort attendance).

A programme's completion rule may name keys beyond `lessons` and `knowledge_checks`; the domain that
owns each key answers it here. Functions are named "module:function" and imported when first needed,
so learning imports none of those domains and no import circle can start here.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from functools import cache

from sqlmodel import Session

from api.catalog.models import Programme

# completion-rule key -> "module:function(session, user_id, programmes) -> {programme_id: [needs]}".
# Bulk by design: one call per key for all of a learner's programmes (fixed query counts on the
# dashboard). Each need is a short phrase a learner understands ("the practical assessment: awaiting
# marking"); an empty list (or a missing programme id) means the requirement is met.
REQUIREMENTS: dict[str, str] = {
    "attendance": "api.cohorts.attendance:requirement",
    "assessments": "api.assessments.requirements:needs",  # a released pass on each current brief
}
BUILT_IN = ("lessons", "knowledge_checks")

Requirement = Callable[[Session, int, list[Programme]], dict[int, list[str]]]


@cache
def _provider(key: str) -> Requirement | None:
    target = REQUIREMENTS.get(key)
    if target is None:
        return None
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)


def external_needs(session: Session, user_id: int, programmes: list[Programme]) -> dict[int, list[str]]:
    """What the requirements owned by other domains still need, per programme (see REQUIREMENTS)."""
    needs: dict[int, list[str]] = {p.id: [] for p in programmes}
    keys = sorted({k for p in programmes for k in (p.completion or {}) if k not in BUILT_IN})
    for key in keys:
        wanting = [p for p in programmes if key in (p.completion or {})]
        provider = _provider(key)
        if provider is None:
            for p in wanting:
                needs[p.id].append(f"{key.replace('_', ' ')} (not available yet)")
            continue
        for pid, more in provider(session, user_id, wanting).items():
            needs.setdefault(pid, []).extend(more)
    return needs
