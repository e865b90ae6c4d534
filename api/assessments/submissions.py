"""A learner's side of an assessment: attempts, drafts (text and files), the declarations, submit,
withdraw, and a new attempt after a refer. Services flush, never commit."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, col, select

from api.accounts.models import User
from api.assessments import allocation, notify, rubrics, states, times
from api.assessments.models import Outcome, State, Submission, SubmissionFile
from api.catalog.models import AssessmentBrief, Programme
from api.core.db import utcnow
from api.core.errors import Conflict, Invalid, NotFound

MAX_TEXT = 60_000  # characters: about 10,000 words, well above any brief's limit


def new_public_id() -> str:
    return secrets.token_urlsafe(12).replace("-", "x").replace("_", "y")


def briefs_for(session: Session, programme_ids: list[int]) -> dict[int, list[AssessmentBrief]]:
    """The current (not retired) briefs of each programme, in content order."""
    out: dict[int, list[AssessmentBrief]] = {pid: [] for pid in programme_ids}
    if not programme_ids:
        return out
    for b in session.exec(select(AssessmentBrief).where(col(AssessmentBrief.programme_id).in_(programme_ids),
                                                        col(AssessmentBrief.retired_at).is_(None))
                          .order_by(AssessmentBrief.position)).all():
        out[b.programme_id].append(b)
    return out


def brief_by_slug(session: Session, programme: Programme, slug: str) -> AssessmentBrief:
    brief = session.exec(select(AssessmentBrief).where(AssessmentBrief.programme_id == programme.id,
                                                       AssessmentBrief.slug == slug,
                                                       col(AssessmentBrief.retired_at).is_(None))).first()
    if brief is None:
        raise NotFound(f"{programme.display_title} has no assessment called '{slug}'.")
    return brief


def attempts(session: Session, user_id: int, brief_id: int) -> list[Submission]:
    return list(session.exec(select(Submission).where(Submission.user_id == user_id, Submission.brief_id == brief_id)
                             .order_by(Submission.attempt)).all())


def attempts_by_brief(session: Session, user_id: int, brief_ids: list[int]) -> dict[int, list[Submission]]:
    out: dict[int, list[Submission]] = {bid: [] for bid in brief_ids}
    if brief_ids:
        for s in session.exec(select(Submission).where(Submission.user_id == user_id,
                                                       col(Submission.brief_id).in_(brief_ids))
                              .order_by(Submission.attempt)).all():
            out[s.brief_id].append(s)
    return out


def counted_attempts(subs: list[Submission], upto: Submission | None = None) -> int:
    """Attempts that were judged (released), plus the one being judged: withdrawn ones do not count."""
    n = sum(1 for s in subs if s.released_at is not None and (upto is None or s.attempt < upto.attempt))
    return n + (1 if upto is not None else 0)


@dataclass(frozen=True)
class NextStep:
    """What the learner may do next with a brief: plain data for pages (no error constructed)."""

    can_start: bool
    message: str
    deadline_at: datetime | None = None
    deadline_zone: str | None = None


def next_step(brief: AssessmentBrief, subs: list[Submission], now: datetime | None = None) -> NextStep:
    now = now or utcnow()
    latest = subs[-1] if subs else None
    if latest is None:
        return NextStep(True, "You have not started this assessment yet.")
    if latest.state == State.withdrawn.value:
        return NextStep(True, "You withdrew your last submission; you can start again.",
                        latest.deadline_at, latest.deadline_zone)
    if latest.state != State.released.value:
        return NextStep(False, "")
    if latest.outcome == Outcome.refer.value:
        if latest.resubmit_by is not None and now > latest.resubmit_by:
            return NextStep(False, "The time to resubmit has passed. Contact us if you need an extension.")
        return NextStep(True, "Your coach has asked you to revise and resubmit.", latest.resubmit_by,
                        latest.resubmit_zone)
    return NextStep(False, "")


def start(session: Session, user: User, brief: AssessmentBrief, zone: str | None = None) -> Submission:
    """The learner's open draft for `brief`: the existing one, or a new attempt when allowed."""
    subs = attempts(session, user.id, brief.id)
    if subs and subs[-1].state == State.draft.value:
        return subs[-1]
    step = next_step(brief, subs)
    if not step.can_start:
        latest = subs[-1]
        raise Conflict(step.message or f"Your attempt {latest.attempt} is {states.LEARNER_WORDS[latest.state]}; "
                       "there is nothing to start.", code="attempt_not_open")
    version = rubrics.current(session, brief)
    if version is None:
        raise Conflict("This assessment's rubric has not been published yet.", code="no_rubric")
    latest = subs[-1] if subs else None
    sub = Submission(public_id=new_public_id(), user_id=user.id, programme_id=brief.programme_id, brief_id=brief.id,
                     rubric_version_id=version.id, attempt=(latest.attempt + 1) if latest else 1,
                     previous_id=latest.id if latest else None, deadline_at=step.deadline_at,
                     deadline_zone=step.deadline_zone, learner_zone=times.valid_zone(zone))
    session.add(sub)
    session.flush()
    from api.assessments import audit
    audit.record(session, sub, user, "started", None, State.draft.value)
    return sub


def _require_draft(sub: Submission) -> None:
    if sub.state != State.draft.value:
        raise Conflict(f"This attempt is {states.LEARNER_WORDS[sub.state]}: it can no longer be changed.",
                       code="not_a_draft")


def save_draft(session: Session, sub: Submission, user: User, *, text: str | None, version: int | None,
               zone: str | None = None) -> Submission:
    """Save the draft's text. `version` (from the form) refuses an overwrite of a newer save."""
    _require_draft(sub)
    settings = brief_settings(session, sub)
    text = (text or "").replace("\r\n", "\n")
    if settings.get("text") == "none" and text.strip():
        raise Invalid("This brief takes files only: leave the text box empty.", code="text_not_allowed")
    if len(text) > MAX_TEXT:
        raise Invalid(f"Your text is {len(text):,} characters; the most a submission takes is {MAX_TEXT:,}.",
                      code="text_too_long")
    expected = sub.version if version is None else version
    values = {"text": text, "version": Submission.version + 1, "updated_at": utcnow()}
    if times.valid_zone(zone):
        values["learner_zone"] = zone
    done = session.execute(update(Submission).where(Submission.id == sub.id, Submission.version == expected,
                                                    Submission.state == State.draft.value)
                           .values(**values).execution_options(synchronize_session=False)).rowcount
    if done != 1:
        raise Conflict("Your draft was saved from another tab or window after you opened this one; nothing was "
                       "overwritten. Reload to see the newer text.", code="stale_draft")
    session.refresh(sub)
    return sub


def programme_and_brief(session: Session, sub: Submission) -> tuple[Programme, AssessmentBrief]:
    return session.get(Programme, sub.programme_id), session.get(AssessmentBrief, sub.brief_id)


def brief_settings(session: Session, sub: Submission) -> dict:
    brief = session.get(AssessmentBrief, sub.brief_id)
    return dict(brief.settings or {})


def files_of(session: Session, submission_ids: list[int]) -> dict[int, list[SubmissionFile]]:
    out: dict[int, list[SubmissionFile]] = {sid: [] for sid in submission_ids}
    if submission_ids:
        for f in session.exec(select(SubmissionFile).where(col(SubmissionFile.submission_id).in_(submission_ids))
                              .order_by(SubmissionFile.uploaded_at, SubmissionFile.id)).all():
            out[f.submission_id].append(f)
    return out


def submit(session: Session, sub: Submission, user: User, *, authentic: bool, anonymised: bool,
           now: datetime | None = None) -> Submission:
    """Sign the declarations and submit: allocated to a coach, the learner and coach are emailed."""
    _require_draft(sub)
    now = now or utcnow()
    problems = []
    if not authentic:
        problems.append("Confirm that the work is your own (the authenticity declaration).")
    if not anonymised:
        problems.append("Confirm that customer and colleague data has been removed or anonymised.")
    settings = brief_settings(session, sub)
    has_files = bool(files_of(session, [sub.id])[sub.id])
    if settings.get("text") == "required" and not sub.text.strip():
        problems.append("This brief needs a written answer: add your text before submitting.")
    if not sub.text.strip() and not has_files:
        problems.append("There is nothing to submit yet: add your text or attach a file.")
    if problems:
        raise Invalid(" ".join(problems), code="not_ready")
    if sub.deadline_at is not None and now > sub.deadline_at:
        when = times.show(sub.deadline_at, sub.learner_zone or sub.deadline_zone)
        raise Conflict(f"The deadline for this attempt was {when}; it can no longer be submitted. "
                       "Ask for an extension if you need one.",
                       code="deadline_passed")
    zone = times.zone_of(sub.deadline_zone)
    due = times.add_working_days(now, int(settings.get("marking_days", 10)), zone)
    states.transition(session, sub, State.submitted, user, submitted_at=now, declared_authentic_at=now,
                      declared_anonymised_at=now, marking_due_at=due)
    coach = allocation.allocate(session, sub)
    notify.submitted(session, sub, user)
    if coach is not None:
        notify.allocated(session, sub, coach)
    return sub


def withdraw(session: Session, sub: Submission, user: User, reason: str | None = None) -> Submission:
    """Withdraw until a coach starts marking. Loses cleanly (409) to a coach who started first."""
    if sub.state == State.draft.value:
        return states.transition(session, sub, State.withdrawn, user, withdrawn_at=utcnow(), reason=reason)
    if sub.state != State.submitted.value:
        raise Conflict("A coach has started marking this submission, so it can no longer be withdrawn.",
                       code="marking_started")
    return states.transition(session, sub, State.withdrawn, user, reason=reason, withdrawn_at=utcnow(),
                             allocated_coach_id=None, lease_holder_id=None, lease_expires_at=None)


def has_submitted(session: Session, user_id: int, programme_id: int) -> bool:
    """Asked by organisations: the learner has handed in work for the programme (any attempt, ever)."""
    found = session.exec(select(Submission.id).where(Submission.user_id == user_id,
                                                     Submission.programme_id == programme_id,
                                                     col(Submission.submitted_at).is_not(None)).limit(1)).first()
    return found is not None


def latest_of(session: Session, user_ids: list[int]) -> dict[tuple[int, int], Submission]:
    """Each learner's latest attempt per programme, for a page of learners (organisations' team page)."""
    latest: dict[tuple[int, int], Submission] = {}
    if not user_ids:
        return latest
    for sub in session.exec(select(Submission).where(col(Submission.user_id).in_(user_ids))
                            .order_by(col(Submission.id))):
        latest[(sub.user_id, sub.programme_id)] = sub
    return latest
