"""`assessments: all` in a programme's completion rule: a released pass on each current brief of the
programme. Registered in api/learning/requirements.py; bulk (one query per kind for all of a
learner's programmes)."""

from __future__ import annotations

from sqlmodel import Session

from api.assessments import submissions, times
from api.assessments.models import Outcome, State
from api.catalog.models import Programme


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
    briefs = submissions.briefs_for(session, [p.id for p in programmes])
    all_ids = [b.id for bs in briefs.values() for b in bs]
    by_brief = submissions.attempts_by_brief(session, user_id, all_ids)
    out: dict[int, list[str]] = {}
    for p in programmes:
        words = [w for b in briefs.get(p.id, []) if (w := _words(b.title, by_brief[b.id]))]
        if not briefs.get(p.id):
            words.append("the practical assessment, which is being prepared")
        out[p.id] = words
    return out
