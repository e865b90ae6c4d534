"""Learner pages: the dashboard, self-enrolment, the lesson player, knowledge checks and downloads.
Every page here is for the logged-in learner about their own enrolments; without access: 403."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse

from api.accounts.deps import CurrentUser, optional_user
from api.catalog import service as catalog_service
from api.core.db import SessionDep, Writes
from api.core.errors import CadreError, Conflict, Invalid
from api.core.security import csrf_protect
from api.core.templates import redirect, render
from api.learning import checks, dashboard, study
from api.learning import service as enrolment_service
from api.learning.service import NotEnrolled, PrerequisiteMissing

router = APIRouter(dependencies=[Depends(csrf_protect), Depends(optional_user)], include_in_schema=False)

# The site's policy plus media from https, so a lesson's video can come from a video host.
LESSON_CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
              "media-src 'self' https:; frame-ancestors 'none'; form-action 'self'; base-uri 'self'")


def _no_access(request: Request, exc: NotEnrolled):
    return render(request, "learning/no_access.html", exc.status_code, programme=exc.programme,
                  message=exc.message, code=exc.code)


async def form_fields(request: Request) -> dict[str, list[str]]:
    form = await request.form()
    return {k: [v for v in form.getlist(k) if isinstance(v, str)] for k in form}


@router.get("/dashboard")
def dashboard_page(request: Request, user: CurrentUser, session: SessionDep):
    from api.cohorts import service as cohorts_service
    from api.organisations import service as organisations_service

    return render(request, "learning/dashboard.html", board=dashboard.dashboard(session, user),
                  organisations=organisations_service.memberships_of_user(session, user.id),
                  cohorts=cohorts_service.cohorts_of_user(session, user.id))


@router.post("/learn/{slug}/enrol")
def self_enrol(request: Request, slug: str, user: CurrentUser, session: SessionDep):
    programme = catalog_service.get_by_slug(session, slug)
    try:
        enrolment_service.self_enrol(session, user.id, programme)
    except PrerequisiteMissing as exc:
        return render(request, "learning/enrol_refused.html", exc.status_code, programme=programme,
                      message=exc.message, missing=exc.missing)
    except CadreError as exc:
        return render(request, "learning/enrol_refused.html", exc.status_code, programme=programme,
                      message=exc.message, missing=[])
    return redirect(f"/learn/{slug}", f"You are enrolled in {programme.display_title}. Welcome!")


@router.get("/learn/{slug}")
def resume(request: Request, slug: str, user: CurrentUser, session: SessionDep):
    """Continue where I left off."""
    panel = dashboard.enrol_panel(session, user, slug)
    if panel.state != "studying":
        # Say why instead of silently landing on the programme page.
        code = "no_access" if panel.state == "no_access" else "not_enrolled"
        message = panel.message or enrolment_service.not_enrolled_message(panel.programme)
        return render(request, "learning/no_access.html", 403, programme=panel.programme, message=message, code=code)
    return redirect(panel.resume_url or f"/programmes/{slug}")


# Knowledge checks come before lessons: their paths are longer but start the same way.
@router.get("/learn/{slug}/check/{check_slug}")
def check_page(request: Request, slug: str, check_slug: str, user: CurrentUser, session: SessionDep):
    try:
        view = checks.open_check(session, user, slug, check_slug)
    except NotEnrolled as exc:
        return _no_access(request, exc)
    return render(request, "learning/check.html", view=view, error=None, errors={}, chosen=[])


def _unanswered(check, answers: list[list[int]]) -> dict[str, str]:
    """The page asks for every question before scoring (the API scores an empty answer as wrong)."""
    return {f"q{i}": f"Answer question {i + 1}" + (": choose all that apply." if q.get("kind") == "multiple" else ".")
            for i, (q, chosen) in enumerate(zip(check.questions, answers, strict=True)) if not chosen}


@router.post("/learn/{slug}/check/{check_slug}")
def check_submit(request: Request, slug: str, check_slug: str, user: CurrentUser, session: SessionDep,
                 fields: dict[str, list[str]] = Depends(form_fields)):
    try:
        programme = catalog_service.get_by_slug(session, slug)
        check = checks.get_check(session, programme, check_slug)
        answers = [[int(v) for v in fields.get(f"q{i}", []) if v.isdigit()] for i in range(len(check.questions))]
        unanswered = _unanswered(check, answers)
        if unanswered:
            view = checks.open_check(session, user, slug, check_slug)
            if view.attempts_left and not view.next_attempt_at:  # otherwise the service says why not
                return render(request, "learning/check.html", 422, view=view, error=None, errors=unanswered,
                              chosen=answers)
        outcome = checks.submit(session, user, slug, check_slug, answers)
    except NotEnrolled as exc:
        return _no_access(request, exc)
    except (Conflict, Invalid) as exc:
        view = checks.open_check(session, user, slug, check_slug)
        return render(request, "learning/check.html", exc.status_code, view=view, error=exc.message, errors={},
                      chosen=[])
    a = outcome.attempt
    if outcome.programme_completed:
        message = (f"You passed with {a.score_percent}%, and you have completed {programme.display_title}! "
                   "Your certificate is ready: confirm your name on the Certificates page.")
    elif a.passed:
        message = f"You passed with {a.score_percent}%."
    else:
        message = f"Not passed yet: you scored {a.score_percent}%; the pass mark is {check.pass_mark}%."
    return redirect(f"/learn/{slug}/check/{check_slug}/attempts/{a.number}", message,
                    "success" if a.passed else "warning")


@router.get("/learn/{slug}/check/{check_slug}/attempts/{number}")
def attempt_page(request: Request, slug: str, check_slug: str, number: int, user: CurrentUser,
                 session: SessionDep):
    try:
        view, attempt = checks.get_attempt(session, user, slug, check_slug, number)
    except NotEnrolled as exc:
        return _no_access(request, exc)
    return render(request, "learning/attempt.html", view=view, attempt=attempt,
                  feedback=checks.feedback(view.check, attempt, view.answers_revealed))


@router.get("/learn/{slug}/{lesson_slug}", dependencies=[Writes])  # remembers where the learner is
def lesson_page(request: Request, slug: str, lesson_slug: str, user: CurrentUser, session: SessionDep):
    try:
        view = study.open_lesson(session, user, slug, lesson_slug)
    except NotEnrolled as exc:
        return _no_access(request, exc)
    response = render(request, "learning/lesson.html", view=view,
                      body=study.lesson_html(view.lesson))
    if view.lesson.video_url:
        response.headers["content-security-policy"] = LESSON_CSP
    return response


@router.post("/learn/{slug}/{lesson_slug}/complete")
def lesson_complete(request: Request, slug: str, lesson_slug: str, user: CurrentUser, session: SessionDep):
    try:
        done = study.complete_lesson(session, user, slug, lesson_slug)
    except NotEnrolled as exc:
        return _no_access(request, exc)
    if done.programme_completed:
        return redirect("/certificates", f"Congratulations: you have completed {done.programme.display_title}! "
                        "Confirm your name and your certificate is issued.")
    item = done.progress.find("lesson", done.lesson.slug)
    _, nxt = done.progress.neighbours(item) if item else (None, None)
    target = nxt.url(slug) if nxt else f"/learn/{slug}/{lesson_slug}"
    return redirect(target, f"“{done.lesson.title}” is marked complete. {done.progress.percent}% of "
                            f"{done.programme.code} done.")


@router.get("/learn/{slug}/{lesson_slug}/files/{name}")
def lesson_file(request: Request, slug: str, lesson_slug: str, name: str, user: CurrentUser,
                session: SessionDep):
    try:
        path = study.download_path(session, user, slug, lesson_slug, name)
    except NotEnrolled as exc:
        return _no_access(request, exc)
    return FileResponse(path, filename=path.name, headers={"Cache-Control": "private, max-age=0"})
