"""Coach pages: the marking queue ("mark next"), the marking screen (submission beside the rubric),
overdue work, and declaring a conflict of interest. Coaches see only work allocated to them (404
otherwise); admins see everything. Forms work without JavaScript; autosave is an enhancement."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from api.accounts import service as accounts_service
from api.accounts.deps import CoachUser, optional_user
from api.assessments import allocation, marking, queue, release, views
from api.assessments.deps import MarkerSubmission
from api.core.db import SessionDep
from api.core.errors import CadreError, Invalid
from api.core.security import csrf_protect
from api.core.templates import ordered, redirect, render

router = APIRouter(prefix="/coach/marking", dependencies=[Depends(csrf_protect), Depends(optional_user)],
                   include_in_schema=False)


def scores_from_form(form, criteria) -> dict:
    scores = {}
    for c in criteria:
        raw = form.get(f"score-{c['slug']}")
        score = int(raw) if isinstance(raw, str) and raw.lstrip("-").isdigit() else None
        comment = form.get(f"comment-{c['slug']}")
        scores[c["slug"]] = {"score": score, "comment": comment if isinstance(comment, str) else ""}
    return scores


def _int(value) -> int | None:
    return int(value) if isinstance(value, str) and value.isdigit() else None


@router.get("")
def queue_page(request: Request, coach: CoachUser, session: SessionDep):
    return render(request, "assessments/queue.html", q=views.coach_queue(session, coach), errors={})


@router.post("/next")
def next_page(request: Request, coach: CoachUser, session: SessionDep):
    sub = queue.mark_next(session, coach)
    if sub is None:
        return redirect("/coach/marking", "There is nothing waiting for you to mark right now.")
    return redirect(f"/coach/marking/{sub.public_id}", "You are marking this submission; it is held for you "
                    "for the next two hours, and every save extends that.")


@router.get("/overdue")
def overdue_page(request: Request, coach: CoachUser, session: SessionDep):
    is_admin = "admin" in {str(r) for r in request.state.roles}
    rows = views.overdue_rows(session, coach, None if is_admin else coach)
    return render(request, "assessments/overdue.html", rows=rows, everyone=is_admin)


@router.post("/conflicts")
async def declare_conflict(request: Request, coach: CoachUser, session: SessionDep):
    form = await request.form()
    email = str(form.get("email") or "").strip()
    reason = str(form.get("reason") or "").strip()
    learner = accounts_service.get_by_email(session, email) if email else None
    try:
        if learner is None:
            raise Invalid("No learner has that email address. Check the spelling.", code="unknown_learner")
        allocation.declare_conflict(session, coach, learner, reason)
    except CadreError as exc:
        return render(request, "assessments/queue.html", exc.status_code, q=views.coach_queue(session, coach),
                      errors={"email": exc.message}, email=email, reason=reason)
    return redirect("/coach/marking", f"Conflict declared: you will not be given {email}'s work.")


@router.get("/{public_id}")
def marking_page(request: Request, found: MarkerSubmission, coach: CoachUser, session: SessionDep):
    sub, rel = found
    return render(request, "assessments/marking.html", m=views.marking_screen(session, sub, coach, rel), error=None)


@router.post("/{public_id}/start")
def start(request: Request, found: MarkerSubmission, coach: CoachUser, session: SessionDep):
    sub, rel = found
    try:
        queue.start(session, sub, coach)
    except CadreError as exc:
        return render(request, "assessments/marking.html", exc.status_code,
                      m=views.marking_screen(session, sub, coach, rel), error=exc.message)
    return redirect(f"/coach/marking/{sub.public_id}", "You are marking this submission.")


@router.post("/{public_id}/mark")
async def save_mark(request: Request, found: MarkerSubmission, coach: CoachUser, session: SessionDep):
    sub, rel = found
    form = await request.form()
    version = marking.rubric_of(session, sub)
    scores = scores_from_form(form, version.rubric["criteria"])
    feedback = str(form.get("feedback") or "")
    args = dict(scores=scores, feedback=feedback, version=_int(form.get("version")),
                rubric_version_id=_int(form.get("rubric_version_id")))
    try:
        if form.get("action") == "submit":
            mark = marking.submit(session, sub, coach, **args)
        else:
            marking.save(session, sub, coach, **args)
    except CadreError as exc:
        screen = views.marking_screen(session, sub, coach, rel)
        screen.criteria = views.criteria_view(version, scores)
        if isinstance(exc, marking.MarkProblems):  # each message beside its field, in the form's order
            order = tuple(f"{kind}-{c['slug']}" for c in version.rubric["criteria"] for kind in ("score", "comment"))
            return render(request, "assessments/marking.html", exc.status_code, m=screen, error=None,
                          errors=ordered(exc.fields, (*order, "feedback")), feedback=feedback)
        return render(request, "assessments/marking.html", exc.status_code, m=screen, error=exc.message,
                      feedback=feedback)
    if form.get("action") == "submit":
        return redirect(f"/coach/marking/{sub.public_id}", f"Mark submitted: {mark.outcome} ({mark.score_percent}%).")
    return redirect(f"/coach/marking/{sub.public_id}", "Your marking is saved.")


@router.post("/{public_id}/release")
def release_result(request: Request, found: MarkerSubmission, coach: CoachUser, session: SessionDep):
    sub, rel = found
    try:
        release.release(session, sub, coach)
    except CadreError as exc:
        return render(request, "assessments/marking.html", exc.status_code,
                      m=views.marking_screen(session, sub, coach, rel), error=exc.message)
    return redirect(f"/coach/marking/{sub.public_id}", "The result is released to the learner.")
