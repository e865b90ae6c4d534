"""JSON API for learning under /api/v1/learning: always about the learner who is asking.

Same rules as the pages: 401 when not logged in, 403 `not_enrolled` (or `enrolment_suspended`,
`access_expired`) without access, 404 for unknown programmes, lessons and checks, 409
`attempts_exhausted` past a check's attempt limit."""

from __future__ import annotations

from fastapi import APIRouter

from api.accounts.deps import CurrentUser
from api.catalog import service as catalog_service
from api.catalog.schemas import ProgrammeRef
from api.core.db import SessionDep, Writes
from api.learning import checks, completion, dashboard, progress, study
from api.learning import service as enrolment_service
from api.learning.schemas import (
    AttemptIn,
    AttemptResult,
    AttemptSummary,
    CheckPublic,
    Download,
    EnrolmentPublic,
    ItemProgress,
    ItemRef,
    LessonCompleted,
    LessonPublic,
    ModuleProgress,
    ProgrammeProgress,
    QuestionFeedback,
    QuestionPublic,
)

router = APIRouter(prefix="/api/v1/learning", tags=["learning"])
ERRORS = {401: {}, 403: {}, 404: {}}


def _ref(p) -> ProgrammeRef:
    return ProgrammeRef(slug=p.slug, code=p.code, title=p.display_title)


def _item(programme_slug: str, item: progress.Item | None) -> ItemRef | None:
    if item is None:
        return None
    return ItemRef(kind=item.kind, slug=item.slug, title=item.title, url=item.url(programme_slug))


@router.get("/enrolments", response_model=list[EnrolmentPublic], responses={401: {}})
def my_enrolments(user: CurrentUser, session: SessionDep) -> list[EnrolmentPublic]:
    """My programmes (not the cancelled ones) with their percentage and where to continue."""
    return [EnrolmentPublic(
        programme=_ref(r.programme), status=r.enrolment.status, source=r.enrolment.source,
        starts_at=r.enrolment.starts_at, access_until=r.enrolment.access_until,
        completed_at=r.enrolment.completed_at, has_access=r.problem is None, percent=r.progress.percent,
        continue_at=_item(r.programme.slug, r.resume),
    ) for r in dashboard.rows(session, user)]


@router.get("/programmes/{slug}/progress", response_model=ProgrammeProgress, responses=ERRORS)
def my_progress(slug: str, user: CurrentUser, session: SessionDep) -> ProgrammeProgress:
    """My progress in one programme: percentages per programme and module, each lesson and check done or not."""
    programme = catalog_service.get_by_slug(session, slug)
    enrolment = enrolment_service.require_access(session, user.id, programme)
    prog = progress.load_one(session, user.id, programme)
    return ProgrammeProgress(
        programme=_ref(programme), status=enrolment.status, completion_rule=prog.rule, percent=prog.percent,
        done=prog.done, total=prog.total, lessons_done=prog.lessons_done, lessons_total=prog.lessons_total,
        checks_passed=prog.checks_passed, checks_total=prog.checks_total, completed_at=enrolment.completed_at,
        outstanding=completion.outstanding(prog), continue_at=_item(slug, prog.resume(enrolment.last_lesson_id)),
        modules=[ModuleProgress(slug=m.slug, title=m.title, percent=m.percent, done=m.done, total=m.total, items=[
            ItemProgress(kind=i.kind, slug=i.slug, title=i.title, counted=i.counted, done=i.done, done_at=i.done_at)
            for i in m.items]) for m in prog.modules],
    )


@router.get("/programmes/{slug}/lessons/{lesson_slug}", response_model=LessonPublic, responses=ERRORS,
            dependencies=[Writes])  # opening a lesson remembers where the learner is
def get_lesson(slug: str, lesson_slug: str, user: CurrentUser, session: SessionDep) -> LessonPublic:
    """A lesson's content (the body as sanitised HTML). Opening it makes it where I continue from."""
    view = study.open_lesson(session, user, slug, lesson_slug)
    return LessonPublic(
        programme=_ref(view.programme), slug=view.lesson.slug, title=view.lesson.title, module=view.module.title,
        minutes=view.lesson.minutes, video_url=view.lesson.video_url,
        body_html=str(study.lesson_html(view.lesson)),
        downloads=[Download(title=d["title"], url=d["url"]) for d in view.downloads],
        done=view.item.done, done_at=view.item.done_at,
        previous=_item(slug, view.previous), next=_item(slug, view.next),
    )


@router.post("/programmes/{slug}/lessons/{lesson_slug}/complete", response_model=LessonCompleted,
             responses=ERRORS)
def complete_lesson(slug: str, lesson_slug: str, user: CurrentUser, session: SessionDep) -> LessonCompleted:
    """Mark a lesson complete (again is harmless: the first time stands)."""
    done = study.complete_lesson(session, user, slug, lesson_slug)
    return LessonCompleted(lesson=done.lesson.slug, completed_at=done.completed_at,
                           programme_percent=done.progress.percent, programme_status=done.enrolment.status,
                           programme_completed_now=done.programme_completed)


def _check_public(view: checks.CheckView) -> CheckPublic:
    return CheckPublic(
        slug=view.check.slug, title=view.check.title, pass_mark=view.check.pass_mark,
        max_attempts=view.check.max_attempts, attempts_left=view.attempts_left, passed=view.passed,
        retry_after_minutes=view.check.retry_after_minutes, next_attempt_at=view.next_attempt_at,
        answers_revealed=view.answers_revealed,
        questions=[QuestionPublic.model_validate(q) for q in view.questions],
        attempts=[AttemptSummary(number=a.number, score_percent=a.score_percent, passed=a.passed,
                                 created_at=a.created_at) for a in view.attempts],
    )


@router.get("/programmes/{slug}/checks/{check_slug}", response_model=CheckPublic, responses=ERRORS)
def get_check(slug: str, check_slug: str, user: CurrentUser, session: SessionDep) -> CheckPublic:
    """A knowledge check's questions and options, without the answers; my attempts so far."""
    return _check_public(checks.open_check(session, user, slug, check_slug))


@router.post("/programmes/{slug}/checks/{check_slug}/attempts", response_model=AttemptResult, status_code=201,
             responses={**ERRORS, 409: {}, 422: {}})
def submit_check(slug: str, check_slug: str, data: AttemptIn, user: CurrentUser,
                 session: SessionDep) -> AttemptResult:
    """Submit answers: scored on the server; returns the score, pass or not, and per-question feedback."""
    outcome = checks.submit(session, user, slug, check_slug, data.answers)
    a = outcome.attempt
    return AttemptResult(
        number=a.number, score_percent=a.score_percent, pass_mark=outcome.check.pass_mark, passed=a.passed,
        attempts_left=outcome.attempts_left, programme_completed_now=outcome.programme_completed,
        answers_revealed=outcome.answers_revealed, next_attempt_at=outcome.next_attempt_at,
        feedback=[QuestionFeedback.model_validate(f)
                  for f in checks.feedback(outcome.check, a, outcome.answers_revealed) or []],
    )
