"""Helpers for the second line of judgement's tests: mark a submission as a coach does, and set a
brief's moderation settings for one test (the session's transaction is rolled back after it)."""

from __future__ import annotations

from sqlmodel import Session

from api.accounts.models import User
from api.assessments import marking, queue, rubrics
from api.assessments.models import Submission
from api.catalog.models import AssessmentBrief


def all_at(session: Session, brief: AssessmentBrief, index: int) -> dict:
    """Every criterion of the brief's current rubric at its level number `index` (0 = lowest, -1 = top)."""
    version = rubrics.current(session, brief)
    return {c["slug"]: {"score": c["levels"][index]["score"], "comment": f"level {index}"}
            for c in version.rubric["criteria"]}


def first_mark(session: Session, sub: Submission, coach: User, scores: dict) -> Submission:
    """The allocated coach (or `coach`) starts and submits a first mark with these scores."""
    if sub.allocated_coach_id not in (None, coach.id):
        coach = session.get(User, sub.allocated_coach_id)
    queue.start(session, sub, coach)
    draft = marking.open_draft(session, sub, coach)
    marking.submit(session, sub, coach, scores=scores, feedback="Feedback for the learner.", version=draft.version,
                   rubric_version_id=sub.rubric_version_id)
    session.refresh(sub)
    return sub


def set_moderation(session: Session, brief: AssessmentBrief, **values) -> None:
    settings = dict(brief.settings or {})
    settings["moderation"] = {**(settings.get("moderation") or {}), **values}
    brief.settings = settings
    session.add(brief)
    session.flush()
