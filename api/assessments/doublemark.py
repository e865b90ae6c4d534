"""Double marking (a brief's `moderation.double_marking`): a second coach marks the same work blind
to the first mark. When every criterion is within the brief's `moderation.tolerance` (in levels) of
the first mark, the markers agree automatically and the first mark stands; otherwise the submission
waits for agreement: an agreed mark with its rationale (by either marker or an admin), or a third
marker's mark (with a rationale) that settles it. Then the moderation sample applies as usual.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func
from sqlmodel import Session, select

from api.accounts.models import Role, User
from api.assessments import allocation, audit, moderation, scoring, states, submissions
from api.assessments.models import Mark, MarkKind, MarkStatus, State, Submission
from api.core.db import utcnow
from api.core.errors import Conflict, Forbidden, Invalid
from api.core.integrity import flush_unique


def level_gaps(rubric: dict[str, Any], a: dict[str, Any], b: dict[str, Any]) -> dict[str, int]:
    """{criterion slug: how many levels apart the two marks are}."""
    out = {}
    for c in rubric["criteria"]:
        levels = scoring.level_scores(c)
        out[c["slug"]] = abs(levels.index(int(a[c["slug"]]["score"])) - levels.index(int(b[c["slug"]]["score"])))
    return out


def within_tolerance(rubric: dict[str, Any], a: dict[str, Any], b: dict[str, Any], tolerance: int) -> bool:
    return all(gap <= tolerance for gap in level_gaps(rubric, a, b).values())


def _draft(session: Session, sub: Submission, coach: User, kind: MarkKind) -> Mark:
    rounds = session.exec(select(func.max(Mark.round)).where(Mark.submission_id == sub.id,
                                                             Mark.kind == kind.value)).one()
    mark = Mark(submission_id=sub.id, rubric_version_id=sub.rubric_version_id, marker_id=coach.id, kind=kind.value,
                round=(rounds or 0) + 1)
    if not flush_unique(session, mark):
        raise Conflict("That marker was given this submission a moment ago. Reload the page.", code="marker_taken")
    audit.record(session, sub, None, f"{kind.value}_marker_assigned", sub.state, sub.state,
                 data={"marker_id": coach.id, "mark_id": mark.id})
    return mark


def _open(session: Session, sub: Submission, kind: MarkKind) -> Mark | None:
    return session.exec(select(Mark).where(Mark.submission_id == sub.id, Mark.kind == kind.value,
                                           Mark.status == MarkStatus.draft.value)).first()


def await_second_mark(session: Session, sub: Submission, first: Mark) -> Submission:
    states.transition(session, sub, State.awaiting_second_mark, None, action="routed",
                      data={"route": "double_marking", "mark_id": first.id})
    candidates = [c for c in allocation.coaches(session) if moderation.may_moderate(session, sub, c)]
    if candidates:
        _draft(session, sub, min(candidates, key=lambda c: c.id), MarkKind.second)
    return sub


def _cleaned(scores: dict[str, Any]) -> dict[str, Any]:
    return {slug: {"score": (e or {}).get("score"), "comment": str((e or {}).get("comment") or "")}
            for slug, e in (scores or {}).items()}


def score_problems(session: Session, sub: Submission, scores: dict[str, Any]) -> dict[str, str]:
    """What `scored` would refuse, per form field, without refusing."""
    return scoring.score_problems(moderation.rubric_of(session, sub), _cleaned(scores), complete=True)


def scored(session: Session, sub: Submission, scores: dict[str, Any]) -> tuple[dict[str, Any], scoring.Result]:
    """Scores cleaned and checked against the submission's own rubric version (Invalid if incomplete), and
    the outcome they give; second, agreed and appeal marks are all scored this way."""
    rubric = moderation.rubric_of(session, sub)
    cleaned = _cleaned(scores)
    bad = scoring.score_problems(rubric, cleaned, complete=True)
    if bad:
        raise scoring.MarkProblems(bad, code="bad_scores")
    subs = submissions.attempts(session, sub.user_id, sub.brief_id)
    max_attempts = int(submissions.brief_settings(session, sub).get("max_attempts", 2))
    return cleaned, scoring.result(rubric, cleaned, attempt=submissions.counted_attempts(subs, sub),
                                   max_attempts=max_attempts)


def _finish(session: Session, mark: Mark, scores: dict[str, Any], res: scoring.Result, feedback: str,
            rationale: str | None) -> None:
    mark.scores, mark.outcome, mark.score_percent = scores, res.outcome.value, res.percent
    mark.feedback, mark.rationale = feedback, rationale
    mark.status, mark.submitted_at = MarkStatus.submitted.value, utcnow()
    mark.version += 1
    session.add(mark)
    session.flush()


def submit_second(session: Session, sub: Submission, coach: User, scores: dict[str, Any], feedback: str = "") \
        -> Submission:
    if sub.state != State.awaiting_second_mark.value:
        raise Conflict(f"This submission is {states.LEARNER_WORDS[sub.state]}; it is not waiting for a second mark.",
                       code="not_awaiting_second_mark")
    mark = _open(session, sub, MarkKind.second)
    if mark is None or mark.marker_id != coach.id:
        raise Forbidden("The second mark on this submission is given to another coach.", code="not_your_mark")
    cleaned, res = scored(session, sub, scores)
    _finish(session, mark, cleaned, res, feedback, None)
    first = moderation.result_mark(session, sub)
    cfg = moderation.settings_of(session, sub)
    rubric = moderation.rubric_of(session, sub)
    gaps = level_gaps(rubric, first.scores, cleaned)
    if within_tolerance(rubric, first.scores, cleaned, cfg["tolerance"]):
        audit.record(session, sub, None, "agreed_automatically", sub.state, sub.state,
                     data={"gaps": gaps, "tolerance": cfg["tolerance"], "second_mark_id": mark.id})
        return moderation.to_moderation_or_release(session, sub, first, route="double_marking_agreed")
    return states.transition(session, sub, State.awaiting_agreement, coach, action="markers_disagree",
                             data={"gaps": gaps, "tolerance": cfg["tolerance"], "second_mark_id": mark.id})


def assign_third(session: Session, sub: Submission, third: User, admin: User) -> Mark:
    if sub.state != State.awaiting_agreement.value:
        raise Conflict("Only a submission whose markers disagree takes a third marker.", code="not_awaiting_agreement")
    if not moderation.may_moderate(session, sub, third):
        raise Conflict(f"{third.full_name} has marked this submission or may not mark this learner.",
                       code="not_eligible")
    return _draft(session, sub, third, MarkKind.third)


def settle(session: Session, sub: Submission, actor: User, roles: set, scores: dict[str, Any], rationale: str) \
        -> Submission:
    """The mark that settles a disagreement: the third marker's, or an agreed mark by either marker or an
    admin. Its rationale is required; it becomes the result."""
    if sub.state != State.awaiting_agreement.value:
        raise Conflict(f"This submission is {states.LEARNER_WORDS[sub.state]}; its markers are not in disagreement.",
                       code="not_awaiting_agreement")
    why = (rationale or "").strip()
    if not why:
        raise Invalid("Give the rationale for the agreed mark: how the markers' views were reconciled.",
                      code="rationale_required")
    third = _open(session, sub, MarkKind.third)
    if third is not None and third.marker_id == actor.id:
        mark = third
    elif actor.id in moderation.markers_of(session, sub) or Role.admin in roles:
        mark = Mark(submission_id=sub.id, rubric_version_id=sub.rubric_version_id, marker_id=actor.id,
                    kind=MarkKind.agreed.value, round=1 + (session.exec(select(func.count(Mark.id)).where(
                        Mark.submission_id == sub.id, Mark.kind == MarkKind.agreed.value)).one() or 0))
        session.add(mark)
        session.flush()
    else:
        raise Forbidden("Only the two markers, the third marker or an admin settle this mark.", code="not_a_marker")
    cleaned, res = scored(session, sub, scores)
    _finish(session, mark, cleaned, res, "", why)
    audit.record(session, sub, actor, "agreement_reached", sub.state, sub.state, reason=why,
                 data={"mark_id": mark.id, "kind": mark.kind})
    return moderation.to_moderation_or_release(session, sub, mark, route=f"double_marking_{mark.kind}",
                                               result_mark_id=mark.id)
