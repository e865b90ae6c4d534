"""`assessments: all` in a programme's completion rule: a released pass on each current brief of the
programme. Registered in api/learning/requirements.py; bulk (one query per kind for all of a
learner's programmes)."""

from __future__ import annotations

from sqlalchemy import and_
from sqlmodel import Session, col, select

from api.assessments import times
from api.assessments.models import Outcome, State, Submission
from api.catalog.models import AssessmentBrief, Programme


def _words(title: str, subs) -> str | None:
    if any(s.state in (State.released.value, State.under_appeal.value) and s.outcome == Outcome.passed.value
           for s in subs):
        return None
    latest = subs[-1] if subs else None
    what = f"the practical assessment ({title})"
    if latest is None or latest.state == State.withdrawn.value:
        return f"{what}: not yet submitted"
    if latest.state == State.draft.value:
        return f"{what}: draft saved, not yet submitted"
    if latest.state == State.submitted.value:
        return f"{what}: awaiting marking"
    if latest.state in (State.in_marking.value, State.sent_back.value):
        return f"{what}: being marked"
    if latest.state == State.released.value and latest.outcome == Outcome.refer.value:
        return f"{what}: resubmit by {times.show(latest.resubmit_by, latest.learner_zone or latest.resubmit_zone)}"
    if latest.state == State.released.value:
        return f"{what}: not passed"
    if latest.state == State.under_appeal.value:
        return f"{what}: under appeal"
    return f"{what}: marked, result not yet released"


def needs(session: Session, user_id: int, programmes: list[Programme]) -> dict[int, list[str]]:
    """One query for all of the learner's programmes: each current brief with the learner's attempts."""
    ids = [p.id for p in programmes]
    rows = session.exec(
        select(AssessmentBrief, Submission)
        .outerjoin(Submission, and_(Submission.brief_id == AssessmentBrief.id, Submission.user_id == user_id))
        .where(col(AssessmentBrief.programme_id).in_(ids), col(AssessmentBrief.retired_at).is_(None))
        .order_by(AssessmentBrief.programme_id, AssessmentBrief.position, Submission.attempt)).all() if ids else []
    briefs: dict[int, dict[int, tuple[AssessmentBrief, list[Submission]]]] = {pid: {} for pid in ids}
    for brief, sub in rows:
        entry = briefs[brief.programme_id].setdefault(brief.id, (brief, []))
        if sub is not None:
            entry[1].append(sub)
    out: dict[int, list[str]] = {}
    for p in programmes:
        found = briefs.get(p.id) or {}
        words = [w for b, subs in found.values() if (w := _words(b.title, subs))]
        if not found:
            words.append("the practical assessment, which is being prepared")
        out[p.id] = words
    return out
