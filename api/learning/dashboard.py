"""What a learner sees about themselves: the dashboard (my programmes, next step on the ladder,
recent activity) and the enrol area of a programme page. A fixed number of queries whatever the
number of enrolments, modules and lessons."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session, col, select

from api.accounts.models import User
from api.catalog import ladder
from api.catalog import service as catalog_service
from api.catalog.models import KnowledgeCheck, Lesson, Programme
from api.learning import completion, progress
from api.learning import service as enrolment_service
from api.learning.models import Enrolment, EnrolmentStatus, KnowledgeCheckAttempt, LessonCompletion


@dataclass
class Row:
    enrolment: Enrolment
    programme: Programme
    progress: progress.Progress
    resume: progress.Item | None
    problem: str | None  # why the learner cannot study it now (suspended, access ended)
    outstanding: list[str]

    @property
    def resume_url(self) -> str:
        return self.resume.url(self.programme.slug) if self.resume else f"/programmes/{self.programme.slug}"


@dataclass
class NextStep:
    programme: Programme
    missing: list[Programme]  # accreditations still to earn first; empty: open now


@dataclass
class Activity:
    at: datetime
    text: str
    url: str


@dataclass
class Dashboard:
    rows: list[Row] = field(default_factory=list)
    next_steps: list[NextStep] = field(default_factory=list)
    first_rungs: list[Programme] = field(default_factory=list)
    activity: list[Activity] = field(default_factory=list)


def rows(session: Session, user: User) -> list[Row]:
    """The learner's programmes (not the cancelled ones), most recently studied first: six queries."""
    enrolled = session.exec(
        select(Enrolment, Programme).join(Programme, col(Programme.id) == col(Enrolment.programme_id))
        .where(Enrolment.user_id == user.id, Enrolment.status != EnrolmentStatus.cancelled.value,
               col(Programme.retired_at).is_(None))
        .order_by(col(Enrolment.last_seen_at).desc().nulls_last(), col(Enrolment.created_at).desc())).all()
    progresses = progress.load(session, user.id, [p for _, p in enrolled])
    out = []
    for e, p in enrolled:
        prog = progresses[p.id]
        problem = enrolment_service.access_problem(e, p)
        out.append(Row(e, p, prog, prog.resume(e.last_lesson_id), problem.message if problem else None,
                       completion.outstanding(prog)))
    return out


def dashboard(session: Session, user: User, activity_limit: int = 8) -> Dashboard:
    board = Dashboard(rows=rows(session, user))
    ladders = ladder.load(session)  # the same "Leads to" as the programme pages
    programmes, requires = ladders.programmes, ladders.requires
    mine = {r.programme.id for r in board.rows}
    candidates = sorted({q.id: q for r in board.rows for q in ladders.leads_to(r.programme.id)
                         if q.id not in mine}.values(), key=lambda p: (p.family, p.level, p.code))
    needed = sorted({r for q in candidates for r in requires.get(q.id, [])})
    held = enrolment_service.holds_accreditation(session, user.id, needed)
    board.next_steps = [NextStep(q, [programmes[r] for r in requires.get(q.id, [])
                                     if r not in held and r in programmes]) for q in candidates]
    if not board.rows:
        board.first_rungs = sorted((p for p in programmes.values() if not requires.get(p.id)),
                                   key=lambda p: (p.family, p.level, p.code))
    board.activity = recent_activity(session, user, activity_limit)
    return board


def recent_activity(session: Session, user: User, limit: int) -> list[Activity]:
    """The learner's latest completions and attempts, newest first (two queries)."""
    out: list[Activity] = []
    for at, title, lslug, code, pslug in session.exec(
            select(LessonCompletion.completed_at, Lesson.title, Lesson.slug, Programme.code, Programme.slug)
            .join(Lesson, col(Lesson.id) == col(LessonCompletion.lesson_id))
            .join(Programme, col(Programme.id) == col(Lesson.programme_id))
            .where(LessonCompletion.user_id == user.id)
            .order_by(col(LessonCompletion.completed_at).desc()).limit(limit)):
        out.append(Activity(at, f"Completed the lesson “{title}” ({code})", f"/learn/{pslug}/{lslug}"))
    for at, number, pct, passed, title, pass_mark, cslug, code, pslug in session.exec(
            select(KnowledgeCheckAttempt.created_at, KnowledgeCheckAttempt.number,
                   KnowledgeCheckAttempt.score_percent, KnowledgeCheckAttempt.passed, KnowledgeCheck.title,
                   KnowledgeCheck.pass_mark, KnowledgeCheck.slug, Programme.code, Programme.slug)
            .join(KnowledgeCheck, col(KnowledgeCheck.id) == col(KnowledgeCheckAttempt.check_id))
            .join(Programme, col(Programme.id) == col(KnowledgeCheck.programme_id))
            .where(KnowledgeCheckAttempt.user_id == user.id)
            .order_by(col(KnowledgeCheckAttempt.created_at).desc()).limit(limit)):
        verdict = "Passed" if passed else f"Not yet passed (pass mark {pass_mark}%)"
        out.append(Activity(at, f"{verdict}: “{title}” ({code}), {pct}% on attempt {number}",
                            f"/learn/{pslug}/check/{cslug}/attempts/{number}"))
    out.sort(key=lambda a: a.at, reverse=True)
    return out[:limit]


@dataclass
class EnrolPanel:
    """The enrol area of a programme page.

    state: "anonymous" (not logged in), "studying" (has access: Continue), "no_access" (suspended or
    access ended: `message`), "missing_prerequisites" (`missing` with links), "free" (self-enrol
    button) or "paid" (the price and the purchase box).
    """

    state: str
    programme: Programme
    is_free: bool
    enrolment: Enrolment | None = None
    progress: progress.Progress | None = None
    resume_url: str | None = None
    missing: list[Programme] = field(default_factory=list)
    message: str | None = None

    @property
    def buys(self) -> bool:
        """Whether the panel shows the purchase box (which then carries the prices): a paid programme,
        to someone who may buy it or is not logged in."""
        return self.state in ("paid", "anonymous") and not self.is_free


def enrol_panel(session: Session, user: User | None, slug: str) -> EnrolPanel:
    programme = catalog_service.get_by_slug(session, slug)
    free = enrolment_service.is_free(session, programme.id)
    if user is None:
        return EnrolPanel("anonymous", programme, free)
    enrolment = enrolment_service.get_enrolment(session, user.id, programme.id)
    if enrolment_service.has_access(enrolment):
        prog = progress.load_one(session, user.id, programme)
        item = prog.resume(enrolment.last_lesson_id)
        return EnrolPanel("studying", programme, free, enrolment, prog,
                          item.url(programme.slug) if item else None)
    problem = enrolment_service.access_problem(enrolment, programme)
    if enrolment is not None and enrolment.status != EnrolmentStatus.cancelled.value and problem:
        return EnrolPanel("no_access", programme, free, enrolment, message=problem.message)
    missing = enrolment_service.missing_prerequisites(session, user.id, programme)
    if missing:
        return EnrolPanel("missing_prerequisites", programme, free, enrolment, missing=missing,
                          message=enrolment_service.prerequisite_message(missing, programme))
    return EnrolPanel("free" if free else "paid", programme, free, enrolment)
