"""Appeals: within the brief's `appeal_days` of a result's release, the learner may appeal a refer or a
fail once, with a reason. A coach who has not marked or moderated the work re-marks it against the same
rubric version (a mark of kind `appeal`); every earlier mark stays. If the re-mark gives another
outcome the appeal is upheld and release.apply_changed_outcome changes it (issuing or revoking the
certificate through the existing paths, with the reason); otherwise the result stands.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from api.accounts.models import User
from api.assessments import allocation, audit, doublemark, moderation, release, scoring, states, submissions, times
from api.assessments.models import Mark, MarkKind, MarkStatus, State, Submission
from api.assessments.review_models import Appeal, AppealStatus
from api.core import email as mail
from api.core.db import utcnow
from api.core.errors import Conflict, Forbidden, Invalid
from api.core.integrity import flush_unique

MAX_REASON = 5_000
OUTCOME_WORDS = {"pass": "pass", "refer": "refer (resubmit)", "fail": "fail"}


def appeal_of(session: Session, sub: Submission) -> Appeal | None:
    return session.exec(select(Appeal).where(Appeal.submission_id == sub.id)).first()


def window_ends(session: Session, sub: Submission) -> datetime | None:
    days = int(submissions.brief_settings(session, sub).get("appeal_days", 14))
    if sub.released_at is None or days <= 0:
        return None
    return sub.released_at + timedelta(days=days)


@dataclass(frozen=True)
class AppealChance:
    """Whether the learner may appeal now and, if not, why (plain data for pages)."""

    open: bool
    message: str
    ends_at: datetime | None


def chance(session: Session, sub: Submission, now: datetime | None = None) -> AppealChance:
    now = now or utcnow()
    ends = window_ends(session, sub)
    if appeal_of(session, sub) is not None:
        return AppealChance(False, "You have already appealed this result; a result can be appealed once.", ends)
    if sub.state != State.released.value:
        return AppealChance(False, "Only a released result can be appealed.", ends)
    if sub.outcome == "pass":
        return AppealChance(False, "This result is a pass: there is nothing to appeal.", ends)
    if ends is None:
        return AppealChance(False, "Results of this assessment cannot be appealed.", ends)
    zone = times.zone_of(sub.learner_zone)
    if now > ends:
        return AppealChance(False, f"The time to appeal this result ended on {times.show(ends, zone)}.", ends)
    return AppealChance(True, f"You may appeal until {times.show(ends, zone)}.", ends)


def eligible_markers(session: Session, sub: Submission) -> list[User]:
    """Coaches who have not marked or moderated this submission and may mark this learner."""
    involved = moderation.markers_of(session, sub) | set(session.exec(select(Mark.marker_id).where(
        Mark.submission_id == sub.id, Mark.kind == MarkKind.moderation.value)).all())
    return [c for c in allocation.coaches(session) if c.id not in involved
            and not allocation.conflicted(session, c.id, sub.user_id)]


def lodge(session: Session, sub: Submission, learner: User, reason: str, now: datetime | None = None) -> Appeal:
    if sub.user_id != learner.id:
        raise Forbidden("Only the learner whose result it is may appeal it.", code="not_your_result")
    why = (reason or "").replace("\r\n", "\n").strip()
    if not why:
        raise Invalid("Say why you are appealing: which criteria, and what the marking missed.",
                      code="reason_required")
    if len(why) > MAX_REASON:
        raise Invalid(f"The reason is limited to {MAX_REASON:,} characters.", code="reason_too_long")
    c = chance(session, sub, now)
    if not c.open:
        raise Conflict(c.message, code="already_appealed" if appeal_of(session, sub) else "appeal_not_open")
    appeal = Appeal(submission_id=sub.id, user_id=learner.id, reason=why, outcome_before=sub.outcome)
    if not flush_unique(session, appeal):  # two appeals racing: the unique key lets one in
        raise Conflict("You have already appealed this result; a result can be appealed once.",
                       code="already_appealed")
    states.transition(session, sub, State.under_appeal, learner, action="appealed", reason=why,
                      data={"appeal_id": appeal.id})
    markers = eligible_markers(session, sub)
    if markers:
        assign(session, sub, appeal, min(allocation.accepting_first(session, markers), key=lambda u: u.id), None)
    return appeal


def assign(session: Session, sub: Submission, appeal: Appeal, coach: User, actor: Any) -> Mark:
    if coach.id not in {c.id for c in eligible_markers(session, sub)}:
        raise Conflict(f"{coach.full_name} marked or moderated this work, or may not mark this learner.",
                       code="not_eligible")
    mark = Mark(submission_id=sub.id, rubric_version_id=sub.rubric_version_id, marker_id=coach.id,
                kind=MarkKind.appeal.value, round=1)
    if not flush_unique(session, mark):
        raise Conflict("This appeal was given to a marker a moment ago. Reload the page.", code="marker_taken")
    appeal.marker_id, appeal.mark_id = coach.id, mark.id
    session.add(appeal)
    session.flush()
    audit.record(session, sub, actor, "appeal_marker_assigned", sub.state, sub.state,
                 data={"appeal_id": appeal.id, "marker_id": coach.id})
    return mark


def decide(session: Session, sub: Submission, coach: User, scores: dict[str, Any], feedback: str,
           rationale: str) -> Appeal:
    """The appeal marker's re-mark: the outcome it gives decides the appeal."""
    appeal = appeal_of(session, sub)
    if sub.state != State.under_appeal.value or appeal is None or appeal.status != AppealStatus.open.value:
        raise Conflict("This result is not under appeal.", code="not_under_appeal")
    if appeal.marker_id != coach.id:
        raise Forbidden("This appeal is given to another coach.", code="not_your_appeal")
    why = (rationale or "").replace("\r\n", "\n").strip()
    bad = doublemark.score_problems(session, sub, scores)  # all the form's problems at once
    if not why:
        bad["rationale"] = "Give your reasons: the learner reads them with the decision."
    if bad:
        raise scoring.MarkProblems(bad, code="rationale_required" if set(bad) == {"rationale"} else "bad_scores")
    mark = session.get(Mark, appeal.mark_id)
    cleaned, res = doublemark.scored(session, sub, scores)  # against the submission's own rubric version
    now = utcnow()
    mark.scores, mark.outcome, mark.score_percent = cleaned, res.outcome.value, res.percent
    mark.feedback, mark.rationale, mark.status, mark.submitted_at = feedback or "", why, MarkStatus.submitted.value, now
    mark.version += 1
    session.add(mark)
    session.flush()
    before = sub.outcome
    upheld = res.outcome.value != before
    if upheld:
        release.apply_changed_outcome(session, sub, mark, coach, f"Appeal upheld: {why}")
    else:
        states.transition(session, sub, State.released, coach, action="appeal_not_upheld", reason=why,
                          data={"appeal_id": appeal.id, "mark_id": mark.id})
    appeal.status = (AppealStatus.upheld if upheld else AppealStatus.not_upheld).value
    appeal.outcome_after, appeal.decision, appeal.decided_at = res.outcome.value, why, now
    session.add(appeal)
    session.flush()
    _tell_learner(session, sub, appeal)
    return appeal


def _tell_learner(session: Session, sub: Submission, appeal: Appeal) -> None:
    from api.assessments.notify import _ctx

    learner = session.get(User, sub.user_id)
    mail.send_template(session, learner.email, "assessments/appeal_decided", key=f"assess-appeal:{appeal.id}",
                       name=learner.full_name, upheld=appeal.status == AppealStatus.upheld.value,
                       outcome_words=OUTCOME_WORDS.get(appeal.outcome_after, appeal.outcome_after),
                       before_words=OUTCOME_WORDS.get(appeal.outcome_before, appeal.outcome_before),
                       decision=appeal.decision, **_ctx(session, sub))


def open_for_marker(session: Session, coach: User) -> list[tuple[Appeal, Submission]]:
    rows = session.exec(select(Appeal, Submission).join(Submission, Submission.id == Appeal.submission_id)
                        .where(Appeal.status == AppealStatus.open.value, Appeal.marker_id == coach.id)
                        .order_by(col(Appeal.created_at))).all()
    return list(rows)
