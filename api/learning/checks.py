"""Knowledge checks: questions without their answers before submitting, scoring on the server,
per-question feedback after, an attempt history, an attempt limit and an optional wait.

Scoring: a question is right only when exactly the correct options are chosen (for a multiple-choice
question: all of the correct ones and none of the others; no partial credit). score_percent =
floor(100 * right / questions); the attempt passes when score_percent >= the check's pass mark.

A check keeps its value: every check has an attempt limit (`max_attempts`, 3 unless the content says
otherwise, never unlimited), an optional wait after an attempt that did not pass
(`retry_after_minutes`), and the correct answers and explanations are shown only once the learner has
passed or has used the last attempt. Before that, feedback says which questions were right, not what
the right answers are.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from api.accounts.models import User
from api.catalog import service as catalog_service
from api.catalog.models import KnowledgeCheck, Programme
from api.core.db import utcnow
from api.core.errors import Conflict, Invalid, NotFound
from api.learning import completion, progress
from api.learning import service as enrolment_service
from api.learning.models import Enrolment, KnowledgeCheckAttempt


def get_check(session: Session, programme: Programme, slug: str) -> KnowledgeCheck:
    check = session.exec(select(KnowledgeCheck).where(KnowledgeCheck.programme_id == programme.id,
                                                      KnowledgeCheck.slug == slug,
                                                      col(KnowledgeCheck.retired_at).is_(None))).first()
    if check is None:
        raise NotFound(f"{programme.display_title} has no knowledge check at this address.", code="check_not_found")
    return check


def public_questions(check: KnowledgeCheck) -> list[dict[str, Any]]:
    """The questions as a learner may see them before submitting: prompts, kinds and option texts.
    Built field by field, so neither `correct` nor `explanation` can ride along."""
    return [
        {"index": qi, "prompt": q["prompt"], "kind": q.get("kind", "single"),
         "options": [{"index": oi, "text": o["text"]} for oi, o in enumerate(q["options"])]}
        for qi, q in enumerate(check.questions)
    ]


def correct_options(question: dict[str, Any]) -> list[int]:
    return [i for i, o in enumerate(question["options"]) if o.get("correct")]


def clean_answers(check: KnowledgeCheck, answers: list[list[int]]) -> list[list[int]]:
    """One list of chosen option indexes per question, in order; an empty list is unanswered."""
    questions = check.questions
    if len(answers) != len(questions):
        raise Invalid(f"Send one answer per question: this check has {len(questions)} questions, "
                      f"{len(answers)} answers were sent.", code="wrong_answer_count")
    cleaned = []
    for qi, (q, chosen) in enumerate(zip(questions, answers, strict=True)):
        picked = sorted(set(chosen))
        if any(i < 0 or i >= len(q["options"]) for i in picked):
            raise Invalid(f"Question {qi + 1} has options 0 to {len(q['options']) - 1}.", code="invalid_option")
        if q.get("kind", "single") == "single" and len(picked) > 1:
            raise Invalid(f"Question {qi + 1} takes one answer.", code="too_many_options")
        cleaned.append(picked)
    return cleaned


def mark(check: KnowledgeCheck, answers: list[list[int]]) -> list[bool]:
    """Right only when exactly the correct options were chosen."""
    return [set(chosen) == set(correct_options(q)) for q, chosen in zip(check.questions, answers, strict=True)]


def score(marks: list[bool]) -> int:
    return sum(marks) * 100 // len(marks) if marks else 0


def reveals_answers(check: KnowledgeCheck, attempts: list[KnowledgeCheckAttempt]) -> bool:
    """The correct answers and explanations are shown after a pass, or once the last attempt is used."""
    return any(a.passed for a in attempts) or len(attempts) >= check.max_attempts


def feedback(check: KnowledgeCheck, attempt: KnowledgeCheckAttempt, reveal: bool) -> list[dict[str, Any]] | None:
    """Per question after submitting: right or not and what was chosen; with `reveal`, also the correct
    options and the explanation (withheld, as None, until then). None when the check's questions have
    changed since this attempt."""
    if len(check.questions) != len(attempt.answers):
        return None
    out = []
    for qi, (q, chosen, right) in enumerate(zip(check.questions, attempt.answers, attempt.marks, strict=True)):
        answer = correct_options(q)
        out.append({
            "index": qi, "prompt": q["prompt"], "kind": q.get("kind", "single"), "correct": right,
            "chosen": chosen, "answer": answer if reveal else None,
            "explanation": q.get("explanation", "") if reveal else None,
            "options": [{"index": oi, "text": o["text"], "chosen": oi in chosen,
                         "correct": (oi in answer) if reveal else None}
                        for oi, o in enumerate(q["options"])],
        })
    return out


def next_attempt_at(check: KnowledgeCheck, attempts: list[KnowledgeCheckAttempt]) -> datetime | None:
    """When the check's wait after an attempt that did not pass ends (None: no wait applies)."""
    if not attempts or check.retry_after_minutes <= 0 or attempts[-1].passed:
        return None
    return attempts[-1].created_at + timedelta(minutes=check.retry_after_minutes)


def _wait_words(minutes: int) -> str:
    if minutes % 1440 == 0:
        n, unit = minutes // 1440, "day"
    elif minutes % 60 == 0:
        n, unit = minutes // 60, "hour"
    else:
        n, unit = minutes, "minute"
    return f"{n} {unit}{'' if n == 1 else 's'}"


def _until_words(moment: datetime, now: datetime) -> str:
    minutes = max(1, -(-int((moment - now).total_seconds()) // 60))  # rounded up: never "in 0 minutes"
    return f"in {_wait_words(minutes) if minutes < 120 else _wait_words(-(-minutes // 60) * 60)}"


def attempts_of(session: Session, user_id: int, check_id: int) -> list[KnowledgeCheckAttempt]:
    return list(session.exec(select(KnowledgeCheckAttempt).where(
        KnowledgeCheckAttempt.user_id == user_id, KnowledgeCheckAttempt.check_id == check_id)
        .order_by(col(KnowledgeCheckAttempt.number))).all())


def attempts_left(check: KnowledgeCheck, used: int) -> int:
    return max(check.max_attempts - used, 0)


@dataclass
class CheckView:
    programme: Programme
    check: KnowledgeCheck
    enrolment: Enrolment
    attempts: list[KnowledgeCheckAttempt]
    progress: progress.Progress
    item: progress.Item

    @property
    def questions(self) -> list[dict[str, Any]]:
        return public_questions(self.check)

    @property
    def attempts_left(self) -> int:
        return attempts_left(self.check, len(self.attempts))

    @property
    def passed(self) -> bool:
        return any(a.passed for a in self.attempts)

    @property
    def answers_revealed(self) -> bool:
        return reveals_answers(self.check, self.attempts)

    @property
    def next_attempt_at(self) -> datetime | None:
        """Set while the learner must wait before trying again."""
        at = next_attempt_at(self.check, self.attempts)
        return at if at is not None and at > utcnow() and self.attempts_left > 0 else None

    @property
    def wait_words(self) -> str:
        return _wait_words(self.check.retry_after_minutes)

    @property
    def neighbours(self) -> tuple[progress.Item | None, progress.Item | None]:
        return self.progress.neighbours(self.item)


def open_check(session: Session, user: User, programme_slug: str, check_slug: str) -> CheckView:
    programme = catalog_service.get_by_slug(session, programme_slug)
    check = get_check(session, programme, check_slug)
    enrolment = enrolment_service.require_access(session, user.id, programme)
    prog = progress.load_one(session, user.id, programme)
    item = prog.find(progress.CHECK, check.slug)
    if item is None:
        raise NotFound(f"{programme.display_title} has no knowledge check at this address.", code="check_not_found")
    return CheckView(programme, check, enrolment, attempts_of(session, user.id, check.id), prog, item)


@dataclass
class AttemptOutcome:
    programme: Programme
    check: KnowledgeCheck
    attempt: KnowledgeCheckAttempt
    attempts_left: int
    programme_completed: bool
    answers_revealed: bool
    next_attempt_at: datetime | None


def submit(session: Session, user: User, programme_slug: str, check_slug: str,
           answers: list[list[int]]) -> AttemptOutcome:
    """Score an attempt on the server and keep it. 409 once the attempt limit is used up, or while the
    wait after an attempt that did not pass lasts (checked under the enrolment's row lock, with the
    unique attempt number behind it, so racing submits cannot slip past either)."""
    programme = catalog_service.get_by_slug(session, programme_slug)
    check = get_check(session, programme, check_slug)
    enrolment = enrolment_service.require_access(session, user.id, programme, lock=True)
    used = session.exec(select(func.count(col(KnowledgeCheckAttempt.id))).where(
        KnowledgeCheckAttempt.user_id == user.id, KnowledgeCheckAttempt.check_id == check.id)).one()
    if used >= check.max_attempts:
        raise Conflict(f"You have used all {check.max_attempts} attempts at “{check.title}”, so it cannot be "
                       "taken again. Your earlier attempts, and now the correct answers, are on the check's page.",
                       code="attempts_exhausted")
    last = session.exec(select(KnowledgeCheckAttempt).where(
        KnowledgeCheckAttempt.user_id == user.id, KnowledgeCheckAttempt.check_id == check.id)
        .order_by(col(KnowledgeCheckAttempt.number).desc()).limit(1)).first()
    now = utcnow()
    allowed_at = next_attempt_at(check, [last] if last else [])
    if allowed_at is not None and now < allowed_at:
        raise Conflict(f"You can take “{check.title}” again from {allowed_at:%-d %B %Y, %H:%M} UTC "
                       f"({_until_words(allowed_at, now)}). After an attempt that does not pass there is a "
                       f"{_wait_words(check.retry_after_minutes)} wait: a good moment to go back over the lessons.",
                       code="retry_later",
                       headers={"Retry-After": str(max(1, int((allowed_at - now).total_seconds()) + 1))})
    cleaned = clean_answers(check, answers)
    marks = mark(check, cleaned)
    pct = score(marks)
    attempt = KnowledgeCheckAttempt(user_id=user.id, check_id=check.id, number=used + 1, answers=cleaned,
                                    marks=marks, score_percent=pct, passed=pct >= check.pass_mark)
    try:
        with session.begin_nested():
            session.add(attempt)
            session.flush()
    except IntegrityError:
        raise Conflict("Another attempt at this check was submitted at the same moment. Reload the page to see it.",
                       code="attempt_conflict") from None
    completed_now = False
    if attempt.passed:
        completed_now = completion.complete_if_met(session, enrolment, progress.load_one(session, user.id, programme))
    every = [*attempts_of(session, user.id, check.id)]
    return AttemptOutcome(programme, check, attempt, attempts_left(check, used + 1), completed_now,
                          reveals_answers(check, every), next_attempt_at(check, every))


def get_attempt(session: Session, user: User, programme_slug: str, check_slug: str,
                number: int) -> tuple[CheckView, KnowledgeCheckAttempt]:
    """One of the learner's own attempts (numbered from 1 per learner: nobody reaches anyone else's)."""
    view = open_check(session, user, programme_slug, check_slug)
    attempt = next((a for a in view.attempts if a.number == number), None)
    if attempt is None:
        raise NotFound("You have no attempt with that number at this check.", code="attempt_not_found")
    return view, attempt
