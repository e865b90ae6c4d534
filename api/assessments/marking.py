"""Marking: a draft mark per coach and submission, autosaved with a version check, then submitted.

A mark is made against the submission's rubric version and no other (409 otherwise). Autosave
never overwrites a newer save from another tab: the form carries the version it was loaded at,
the UPDATE only happens if that is still the current one, and a stale save gets 409 with what to
do. Submitting computes the outcome from the rubric (scoring.py), then routing decides what next.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, update
from sqlmodel import Session, select

from api.accounts.models import User
from api.assessments import queue, routing, scoring, states, submissions
from api.assessments.models import Mark, MarkKind, MarkStatus, RubricVersion, State, Submission
from api.core.db import utcnow
from api.core.errors import Conflict

MAX_COMMENT = 5_000
MAX_FEEDBACK = 20_000


def rubric_of(session: Session, sub: Submission) -> RubricVersion:
    return session.get(RubricVersion, sub.rubric_version_id)


def draft_for(session: Session, sub: Submission, coach: User) -> Mark | None:
    return session.exec(select(Mark).where(Mark.submission_id == sub.id, Mark.marker_id == coach.id,
                                           Mark.kind == MarkKind.first.value,
                                           Mark.status == MarkStatus.draft.value)).first()


def marks_of(session: Session, sub: Submission, *, submitted_only: bool = True) -> list[Mark]:
    q = select(Mark).where(Mark.submission_id == sub.id)
    if submitted_only:
        q = q.where(Mark.status == MarkStatus.submitted.value)
    return list(session.exec(q.order_by(Mark.submitted_at, Mark.id)).all())


def open_draft(session: Session, sub: Submission, coach: User) -> Mark:
    """The coach's draft first mark on `sub` (created on first use), against the submission's rubric."""
    mark = draft_for(session, sub, coach)
    if mark is not None:
        return mark
    rounds = session.exec(select(func.max(Mark.round)).where(Mark.submission_id == sub.id,
                                                             Mark.kind == MarkKind.first.value)).one()
    mark = Mark(submission_id=sub.id, rubric_version_id=sub.rubric_version_id, marker_id=coach.id,
                kind=MarkKind.first.value, round=(rounds or 0) + 1)
    session.add(mark)
    session.flush()
    return mark


MarkProblems, score_problems = scoring.MarkProblems, scoring.score_problems


def _clean(rubric: dict[str, Any], scores: dict[str, Any], feedback: str, *, complete: bool) -> dict[str, Any]:
    cleaned: dict[str, Any] = {}
    bad: dict[str, str] = {}
    for slug, entry in (scores or {}).items():
        entry = entry or {}
        comment = str(entry.get("comment") or "").replace("\r\n", "\n")
        if len(comment) > MAX_COMMENT:
            bad[f"comment-{slug}"] = f"A comment is limited to {MAX_COMMENT:,} characters."
        cleaned[slug] = {"score": entry.get("score"), "comment": comment}
    bad |= score_problems(rubric, cleaned, complete=complete)
    if len(feedback) > MAX_FEEDBACK:
        bad["feedback"] = f"Overall feedback is limited to {MAX_FEEDBACK:,} characters."
    if bad:
        kinds = {k.split("-", 1)[0] for k in bad}
        code = ("bad_scores" if "score" in kinds else "comment_too_long" if "comment" in kinds
                else "feedback_too_long")
        raise MarkProblems(bad, code=code)
    return cleaned


def _check(session: Session, sub: Submission, coach: User, rubric_version_id: int | None) -> RubricVersion:
    if rubric_version_id is not None and rubric_version_id != sub.rubric_version_id:
        version = session.get(RubricVersion, sub.rubric_version_id)
        raise Conflict(f"This mark was made against a different rubric version; the submission is marked against "
                       f"version {version.number}. Reload the marking page: nothing was saved.",
                       code="wrong_rubric_version")
    if not queue.holds_lease(sub, coach):
        if sub.state != State.in_marking.value:
            raise Conflict(f"This submission is {states.LEARNER_WORDS[sub.state]}; it is not open for marking.",
                           code="not_in_marking")
        queue.renew(session, sub, coach)  # an expired lease on work still allocated to this coach
    return rubric_of(session, sub)


def save(session: Session, sub: Submission, coach: User, *, scores: dict[str, Any], feedback: str,
         version: int | None, rubric_version_id: int | None) -> Mark:
    """Autosave (or save) the draft. `version` is the mark version the form was loaded at."""
    rubric = _check(session, sub, coach, rubric_version_id)
    mark = open_draft(session, sub, coach)
    cleaned = _clean(rubric.rubric, scores, (feedback or "").replace("\r\n", "\n"), complete=False)
    expected = mark.version if version is None else version
    done = session.execute(update(Mark).where(Mark.id == mark.id, Mark.version == expected,
                                              Mark.status == MarkStatus.draft.value)
                           .values(scores=cleaned, feedback=(feedback or "").replace("\r\n", "\n"),
                                   version=Mark.version + 1, updated_at=utcnow())
                           .execution_options(synchronize_session=False)).rowcount
    if done != 1:
        session.refresh(mark)
        raise Conflict(f"This mark was saved from another tab or window at {mark.updated_at:%H:%M:%S} UTC, after you "
                       "opened this one. Nothing was overwritten: reload to see the newer version, then make "
                       "your change again.", code="stale_mark")
    session.refresh(mark)
    queue.renew(session, sub, coach)
    return mark


def submit(session: Session, sub: Submission, coach: User, *, scores: dict[str, Any], feedback: str,
           version: int | None, rubric_version_id: int | None) -> Mark:
    """Save the final scores and submit the mark; the outcome comes from the rubric."""
    mark = save(session, sub, coach, scores=scores, feedback=feedback, version=version,
                rubric_version_id=rubric_version_id)
    rubric = rubric_of(session, sub).rubric
    bad = score_problems(rubric, mark.scores, complete=True)
    if not mark.feedback.strip():
        bad["feedback"] = "Write overall feedback for the learner before submitting the mark."
    if bad:
        raise MarkProblems(bad, code="incomplete_mark" if set(bad) != {"feedback"} else "feedback_required")
    subs = submissions.attempts(session, sub.user_id, sub.brief_id)
    max_attempts = int(submissions.brief_settings(session, sub).get("max_attempts", 2))
    res = scoring.result(rubric, mark.scores, attempt=submissions.counted_attempts(subs, sub),
                         max_attempts=max_attempts)
    now = utcnow()
    mark.status, mark.outcome, mark.score_percent, mark.submitted_at = (MarkStatus.submitted.value, res.outcome.value,
                                                                        res.percent, now)
    session.add(mark)
    session.flush()
    states.transition(session, sub, State.marked, coach, action="marked", data={"mark_id": mark.id,
                      "outcome": res.outcome.value, "percent": res.percent},
                      lease_holder_id=None, lease_expires_at=None, result_mark_id=mark.id)
    routing.after_first_mark(session, sub, mark)
    return mark
