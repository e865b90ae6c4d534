"""Moderation: a second coach checks a sample of marking before results are released.

The sample (decided when the marking is done, `sample_reasons`): every fail and refer, every mark
within one level of the pass boundary (one level up or down on one criterion would change pass into
not-pass or back), at least the brief's `moderation.min_count` per calendar month (UTC), and a random
`moderation.sample_percent` of the rest. Everything else goes straight to ready_for_release.

A moderator is a coach who has not marked this submission (first, second, third or agreed mark, or
the allocated coach) and may mark this learner (no declared conflict, not the learner). Being given
the moderation is a draft mark of kind `moderation`: that row is what lets the moderator open the
work (api/assessments/access.py). The moderator then:

- confirms: the moderation mark is submitted with the result's scores; the result is unchanged;
- adjusts with a reason: the moderation mark carries the new scores and outcome and becomes the
  result; the first mark is never changed;
- sends back with a reason: the first marker marks again (a new first mark, round + 1); the re-mark
  comes back to the same moderator.

Each ends in a state change through states.transition (audit row included). Results reach learners
only from ready_for_release, through release.release (assess).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from api.accounts.models import User
from api.assessments import allocation, marking, scoring, states, submissions
from api.assessments.models import AuditEntry, Mark, MarkKind, MarkStatus, RubricVersion, State, Submission
from api.core import email as mail
from api.core.db import utcnow
from api.core.errors import Conflict, Forbidden
from api.core.integrity import flush_unique

MARKER_KINDS = (MarkKind.first.value, MarkKind.second.value, MarkKind.third.value, MarkKind.agreed.value)
MAX_REASON = 5_000


def settings_of(session: Session, sub: Submission) -> dict[str, Any]:
    moderation = submissions.brief_settings(session, sub).get("moderation") or {}
    return {"sample_percent": int(moderation.get("sample_percent", 10)),
            "min_count": int(moderation.get("min_count", 1)),
            "double_marking": bool(moderation.get("double_marking", False)),
            "tolerance": int(moderation.get("tolerance", 1))}


def rubric_of(session: Session, sub: Submission) -> dict[str, Any]:
    return session.get(RubricVersion, sub.rubric_version_id).rubric


def result_mark(session: Session, sub: Submission) -> Mark | None:
    return session.get(Mark, sub.result_mark_id) if sub.result_mark_id else None


# --- who may moderate ---------------------------------------------------------------------------

def markers_of(session: Session, sub: Submission) -> set[int]:
    """Everyone who marked this submission (any round), and the coach it is allocated to."""
    ids = set(session.exec(select(Mark.marker_id).where(Mark.submission_id == sub.id,
                                                        col(Mark.kind).in_(MARKER_KINDS))).all())
    ids.add(sub.allocated_coach_id)
    return {i for i in ids if i is not None}


def may_moderate(session: Session, sub: Submission, coach: User) -> bool:
    return coach.id not in markers_of(session, sub) and not allocation.conflicted(session, coach.id, sub.user_id)


def moderation_mark(session: Session, sub: Submission, *, draft_only: bool = False) -> Mark | None:
    """The submission's latest moderation mark (the open one while it is in moderation)."""
    q = select(Mark).where(Mark.submission_id == sub.id, Mark.kind == MarkKind.moderation.value)
    if draft_only:
        q = q.where(Mark.status == MarkStatus.draft.value)
    return session.exec(q.order_by(col(Mark.round).desc(), col(Mark.id).desc())).first()


def _open_moderations(session: Session, coach_ids: list[int]) -> dict[int, int]:
    rows = session.exec(select(Mark.marker_id, func.count(col(Mark.id))).where(
        Mark.kind == MarkKind.moderation.value, Mark.status == MarkStatus.draft.value,
        col(Mark.marker_id).in_(coach_ids)).group_by(Mark.marker_id)).all() if coach_ids else []
    return {cid: n for cid, n in rows}


def choose_moderator(session: Session, sub: Submission) -> User | None:
    """The eligible coach with the least open moderation (ties: the longest-standing coach)."""
    candidates = allocation.accepting_first(
        session, [c for c in allocation.coaches(session) if may_moderate(session, sub, c)])
    if not candidates:
        return None
    load = _open_moderations(session, [c.id for c in candidates])
    return min(candidates, key=lambda c: (load.get(c.id, 0), c.id))


def _give(session: Session, sub: Submission, coach: User, actor: Any) -> Mark:
    rounds = session.exec(select(func.max(Mark.round)).where(Mark.submission_id == sub.id,
                                                             Mark.kind == MarkKind.moderation.value)).one()
    mark = Mark(submission_id=sub.id, rubric_version_id=sub.rubric_version_id, marker_id=coach.id,
                kind=MarkKind.moderation.value, round=(rounds or 0) + 1)
    if not flush_unique(session, mark):
        raise Conflict("This moderation was given to someone a moment ago. Reload the page.", code="moderation_taken")
    from api.assessments import audit

    audit.record(session, sub, actor, "moderator_assigned", sub.state, sub.state,
                 data={"moderator_id": coach.id, "mark_id": mark.id})
    return mark


# --- the sample -----------------------------------------------------------------------------------

def _moderated_this_month(session: Session, brief_id: int, now: datetime) -> int:
    start = now.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return session.exec(select(func.count(func.distinct(AuditEntry.submission_id)))
                        .join(Submission, Submission.id == AuditEntry.submission_id)
                        .where(Submission.brief_id == brief_id, AuditEntry.to_state == State.in_moderation.value,
                               AuditEntry.at >= start)).one()


def sample_reasons(session: Session, sub: Submission, mark: Mark, *, now: datetime | None = None,
                   draw: int | None = None) -> list[str]:
    """Why this marking goes to a moderator ([] = it does not). `draw` (0-99) replaces the random
    draw, for tests."""
    now = now or utcnow()
    cfg = settings_of(session, sub)
    reasons = []
    if mark.outcome in ("fail", "refer"):
        reasons.append(mark.outcome)
    if scoring.boundary_distance(rubric_of(session, sub), mark.scores) <= 1:
        reasons.append("near_pass_boundary")
    if _moderated_this_month(session, sub.brief_id, now) < cfg["min_count"]:
        reasons.append("minimum_count")
    if not reasons:
        roll = secrets.randbelow(100) if draw is None else draw
        if roll < cfg["sample_percent"]:
            reasons.append("random_sample")
    return reasons


REASON_WORDS = {
    "fail": "every fail is moderated",
    "refer": "every refer is moderated",
    "near_pass_boundary": "within one level of the pass boundary",
    "minimum_count": "the brief's minimum number of moderated submissions this month",
    "random_sample": "chosen at random for the brief's sample",
    "re_marked_after_send_back": "re-marked after the moderator sent it back",
}


def to_moderation_or_release(session: Session, sub: Submission, mark: Mark, *, route: str,
                             result_mark_id: int | None = None) -> Submission:
    """After the result mark is settled (first mark, or the agreement of two): moderation when the
    sample takes it, else ready for release. `result_mark_id` makes `mark` the result in the same move."""
    open_mod = moderation_mark(session, sub, draft_only=True)
    reasons = ["re_marked_after_send_back"] if open_mod is not None else sample_reasons(session, sub, mark)
    changes = {"result_mark_id": result_mark_id} if result_mark_id else {}
    if not reasons:
        return states.transition(session, sub, State.ready_for_release, None, action="routed",
                                 data={"route": route, "moderated": False, "mark_id": mark.id}, **changes)
    states.transition(session, sub, State.in_moderation, None, action="routed",
                      data={"route": route, "moderated": True, "reasons": reasons, "mark_id": mark.id}, **changes)
    if open_mod is None:
        moderator = choose_moderator(session, sub)
        if moderator is not None:  # else it waits in the moderation queue for an eligible coach to take it
            _give(session, sub, moderator, None)
    return sub


# --- the moderator's decisions ----------------------------------------------------------------------

def _require_moderator(session: Session, sub: Submission, user: User) -> Mark:
    if sub.state != State.in_moderation.value:
        raise Conflict(f"This submission is {states.LEARNER_WORDS[sub.state]}; it is not waiting for moderation.",
                       code="not_in_moderation")
    mod = moderation_mark(session, sub, draft_only=True)
    if mod is None or mod.marker_id != user.id:
        raise Forbidden("This moderation is given to another coach.", code="not_your_moderation")
    if user.id in markers_of(session, sub):  # e.g. allocated since: a marker never moderates their own work
        raise Forbidden("You marked this submission, so you cannot moderate it.", code="own_marking")
    return mod


def take(session: Session, sub: Submission, coach: User) -> Mark:
    """A coach takes a moderation no one has been given yet. The submission's row is locked first, so
    two coaches taking it at once are answered one after the other: one gets it, the other 409."""
    session.exec(select(Submission).where(Submission.id == sub.id).with_for_update()
                 .execution_options(populate_existing=True)).one()
    if sub.state != State.in_moderation.value:
        raise Conflict(f"This submission is {states.LEARNER_WORDS[sub.state]}; it is not waiting for moderation.",
                       code="not_in_moderation")
    if moderation_mark(session, sub, draft_only=True) is not None:
        raise Conflict("Another coach already has this moderation.", code="moderation_taken")
    if not may_moderate(session, sub, coach):
        raise Forbidden("You marked this submission or may not mark this learner, so you cannot moderate it.",
                        code="not_eligible")
    return _give(session, sub, coach, coach)


def _reason_problem(text: str, what: str) -> str | None:
    if not text:
        return f"Give the reason you {what}: the marker and the audit trail see it."
    if len(text) > MAX_REASON:
        return f"Your reason is {len(text):,} characters long; keep it to {MAX_REASON:,}."
    return None


def _reason(text: str | None, what: str, *, required: bool = True) -> str:
    """The moderator's reason, cleaned; its problem is raised under the form's "reason" field."""
    text = (text or "").replace("\r\n", "\n").strip()
    problem = _reason_problem(text, what) if (text or required) else None
    if problem:
        raise scoring.MarkProblems({"reason": problem}, code="reason_too_long" if text else "reason_required")
    return text


def _submit_mod(session: Session, mod: Mark, scores: dict[str, Any], outcome: str, percent: int,
                rationale: str) -> None:
    mod.scores, mod.outcome, mod.score_percent = scores, outcome, percent
    mod.rationale, mod.status, mod.submitted_at = rationale, MarkStatus.submitted.value, utcnow()
    mod.version += 1
    mod.updated_at = mod.submitted_at
    session.add(mod)
    session.flush()


def confirm(session: Session, sub: Submission, moderator: User, note: str | None = None) -> Submission:
    mod = _require_moderator(session, sub, moderator)
    note = _reason(note, "confirm", required=False)
    result = result_mark(session, sub)
    _submit_mod(session, mod, dict(result.scores), result.outcome, result.score_percent,
                note or "Confirmed: the marking stands.")
    return states.transition(session, sub, State.ready_for_release, moderator, action="moderation_confirmed",
                             reason=note or None, data={"mark_id": result.id, "moderation_mark_id": mod.id})


def adjust(session: Session, sub: Submission, moderator: User, scores: dict[str, Any], reason: str) -> Submission:
    """The moderator's own marks become the result. Every problem of the form is raised at once, per
    field ("reason", "score-<criterion>"), so the page shows each beside its field."""
    mod = _require_moderator(session, sub, moderator)
    why = (reason or "").replace("\r\n", "\n").strip()
    rubric = rubric_of(session, sub)
    before = result_mark(session, sub)
    cleaned = {slug: {"score": (entry or {}).get("score"),
                      "comment": str((entry or {}).get("comment") or (before.scores.get(slug) or {}).get("comment")
                                     or "")}
               for slug, entry in (scores or {}).items()}
    bad = {}
    if problem := _reason_problem(why, "adjust the marks"):
        bad["reason"] = problem
    bad |= scoring.score_problems(rubric, cleaned, complete=True)
    if bad:
        code = ("bad_scores" if any(k.startswith("score-") for k in bad)
                else "reason_too_long" if why else "reason_required")
        raise scoring.MarkProblems(bad, code=code)
    subs = submissions.attempts(session, sub.user_id, sub.brief_id)
    max_attempts = int(submissions.brief_settings(session, sub).get("max_attempts", 2))
    res = scoring.result(rubric, cleaned, attempt=submissions.counted_attempts(subs, sub), max_attempts=max_attempts)
    _submit_mod(session, mod, cleaned, res.outcome.value, res.percent, why)
    return states.transition(session, sub, State.ready_for_release, moderator, action="moderation_adjusted",
                             reason=why, result_mark_id=mod.id,
                             data={"from_mark_id": before.id, "moderation_mark_id": mod.id,
                                   "from": {"outcome": before.outcome, "percent": before.score_percent},
                                   "to": {"outcome": res.outcome.value, "percent": res.percent}})


def send_back(session: Session, sub: Submission, moderator: User, reason: str) -> Submission:
    mod = _require_moderator(session, sub, moderator)
    why = _reason(reason, "send it back")
    mod.rationale = why
    session.add(mod)
    states.transition(session, sub, State.sent_back, moderator, action="moderation_sent_back", reason=why,
                      data={"moderation_mark_id": mod.id}, lease_holder_id=None, lease_expires_at=None)
    marker = session.get(User, sub.allocated_coach_id) if sub.allocated_coach_id else None
    if marker is not None:
        from api.assessments.notify import _ctx

        mail.send_template(session, marker.email, "assessments/moderation_sent_back",
                           key=f"assess-sent-back:{sub.id}:{sub.version}", name=marker.full_name,
                           moderator=moderator.full_name, reason=why, **_ctx(session, sub))
    return sub


# --- what a coach sees --------------------------------------------------------------------------------

@dataclass
class ModerationRow:
    sub: Submission
    mine: bool  # given to this coach (False: waiting for anyone eligible to take it)
    reasons: list[str]
    first_marker: User | None
    result: Mark | None


def _reasons_of(session: Session, sub_ids: list[int]) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    if sub_ids:
        for e in session.exec(select(AuditEntry).where(col(AuditEntry.submission_id).in_(sub_ids),
                                                       AuditEntry.to_state == State.in_moderation.value)
                              .order_by(AuditEntry.at, AuditEntry.id)).all():
            if (e.data or {}).get("reasons"):
                out[e.submission_id] = list(e.data["reasons"])
    return out


def queue_for(session: Session, coach: User) -> list[ModerationRow]:
    """Moderation given to this coach, then moderation no one has yet that this coach may take."""
    in_mod = list(session.exec(select(Submission).where(Submission.state == State.in_moderation.value)
                               .order_by(Submission.updated_at, Submission.id).limit(200)).all())
    drafts = {m.submission_id: m for m in session.exec(select(Mark).where(
        Mark.kind == MarkKind.moderation.value, Mark.status == MarkStatus.draft.value,
        col(Mark.submission_id).in_([s.id for s in in_mod]))).all()} if in_mod else {}
    reasons = _reasons_of(session, [s.id for s in in_mod])
    rows = []
    for sub in in_mod:
        mod = drafts.get(sub.id)
        mine = mod is not None and mod.marker_id == coach.id
        if mine or (mod is None and may_moderate(session, sub, coach)):
            rows.append(ModerationRow(sub, mine, reasons.get(sub.id, []),
                                      session.get(User, sub.allocated_coach_id) if sub.allocated_coach_id else None,
                                      result_mark(session, sub)))
    rows.sort(key=lambda r: (not r.mine, r.sub.updated_at))
    return rows


def marks_for_moderator(session: Session, sub: Submission) -> list[Mark]:
    return [m for m in marking.marks_of(session, sub) if m.kind in MARKER_KINDS]
