"""Releasing a result to the learner, and changing a released outcome (an upheld appeal).

`release` only from ready_for_release; a second release is refused (409) and changes nothing. It
sets the outcome from the submission's result mark, gives the public record its random id, sets the
resubmission deadline on a refer, and publishes `assessment.released` (completion is decided again
by learning's consumer; a pass can complete the programme and so issue the certificate).
"""

from __future__ import annotations

import secrets
from typing import Any

from sqlmodel import Session, select

from api.accounts.models import User
from api.assessments import notify, states, submissions, times
from api.assessments.models import Mark, Outcome, State, Submission
from api.core.db import utcnow
from api.core.errors import Conflict
from api.outbox import service as outbox

EVENT = "assessment.released"


def _publish(session: Session, sub: Submission) -> None:
    outbox.publish(session, EVENT, f"{sub.id}:{sub.version}", {
        "user_id": sub.user_id, "programme_id": sub.programme_id, "submission_id": sub.id, "outcome": sub.outcome})


def release(session: Session, submission: Submission, actor: Any) -> Submission:
    if submission.state == State.released.value:
        raise Conflict(f"This result was already released on {times.show(submission.released_at, None)}; "
                       "nothing was changed.", code="already_released")
    if submission.state != State.ready_for_release.value:
        raise Conflict(f"This submission is {states.LEARNER_WORDS[submission.state]}: only a result that is ready "
                       "for release can be released.", code="not_ready_for_release")
    mark = session.get(Mark, submission.result_mark_id) if submission.result_mark_id else None
    if mark is None or mark.outcome is None:
        raise Conflict("This submission has no submitted mark to release.", code="no_mark")
    now = utcnow()
    changes: dict[str, Any] = {"outcome": mark.outcome, "score_percent": mark.score_percent, "released_at": now,
                               "released_by_id": getattr(actor, "id", actor),
                               "record_id": submission.record_id or secrets.token_urlsafe(16)}
    if mark.outcome == Outcome.refer.value:
        zone = times.zone_of(submission.learner_zone, submission.deadline_zone)
        days = int(submissions.brief_settings(session, submission).get("resubmission_days", 28))
        changes.update(resubmit_by=times.end_of_day_after(now, days, zone), resubmit_zone=zone)
    states.transition(session, submission, State.released, actor, action="released",
                      data={"outcome": mark.outcome, "mark_id": mark.id}, **changes)
    _publish(session, submission)
    notify.released(session, submission)
    return submission


def apply_changed_outcome(session: Session, submission: Submission, mark: Mark, actor: User, reason: str) -> Submission:
    """An appeal re-mark (or another second judgement) replaces the released outcome: the submission
    goes back to `released` with `mark` as its result; every earlier mark stays as it was. A pass that
    becomes a non-pass revokes the certificate (through certificates' own path, with the reason); a
    non-pass that becomes a pass is published like a release, so completion (and the certificate)
    follows. Call with the submission `under_appeal`."""
    if mark.submission_id != submission.id or mark.outcome is None:
        raise Conflict("That mark does not belong to this submission or is not submitted.", code="bad_mark")
    if not (reason or "").strip():
        raise Conflict("Give the reason the outcome changes: the learner and the audit trail see it.",
                       code="reason_required")
    before = submission.outcome
    states.transition(session, submission, State.released, actor, action="outcome_changed", reason=reason.strip(),
                      data={"from": before, "to": mark.outcome, "mark_id": mark.id},
                      outcome=mark.outcome, score_percent=mark.score_percent, result_mark_id=mark.id,
                      released_at=utcnow(), released_by_id=actor.id)
    if before == Outcome.passed.value and mark.outcome != Outcome.passed.value:
        _revoke_certificate(session, submission, actor, reason.strip())
    if mark.outcome != before:
        _publish(session, submission)
        notify.released(session, submission)
    return submission


def _revoke_certificate(session: Session, submission: Submission, actor: User, reason: str) -> None:
    from api.certificates import service as certificates
    from api.certificates.models import Certificate, CertificateStatus

    cert = session.exec(select(Certificate).where(Certificate.user_id == submission.user_id,
                                                  Certificate.programme_id == submission.programme_id)
                        .order_by(Certificate.generation.desc())).first()
    if cert is not None and cert.status != CertificateStatus.revoked.value:
        certificates.change_status(session, cert, "revoke", f"Assessment outcome changed: {reason}", actor)
