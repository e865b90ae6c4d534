"""Cohort pages for learners and facilitators: my cohorts and calendar feed, a cohort's page (sessions,
join, recordings, attendance so far; for facilitators the roster, attendance and a message to the
cohort), joining a session, a session's .ics, the private feed, the waitlist."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response

from api.accounts.deps import CurrentUser, optional_user
from api.catalog.models import Programme
from api.cohorts import attendance, calendar, notices, service, waitlist
from api.cohorts.deps import CohortAccessDep, RunningAccessDep, SessionAccessDep
from api.cohorts.models import SessionStatus
from api.core.config import get_settings
from api.core.db import SessionDep, Writes, utcnow
from api.core.errors import CadreError, NotFound
from api.core.middleware import UploadBody
from api.core.security import csrf_protect
from api.core.templates import redirect, render

router = APIRouter(dependencies=[Depends(csrf_protect), Depends(optional_user)], include_in_schema=False)


@router.get("/cohorts")
def mine(request: Request, session: SessionDep, user: CurrentUser):
    token = calendar.feed_token(session, user)
    base = get_settings().base_url.rstrip("/")
    return render(request, "cohorts/mine.html", learning=service.cards(session, service.my_cohorts(session, user.id)),
                  running=service.cards(session, service.cohorts_facilitated(session, user.id)),
                  feed_url=f"{base}/calendar/{token}.ics" if token else None)


@router.post("/cohorts/calendar-feed")
def new_feed(request: Request, session: SessionDep, user: CurrentUser, action: str = Form("new")):
    if action == "revoke":
        calendar.revoke(session, user)
        return redirect("/cohorts", "Your calendar address no longer works. Make a new one whenever you like.")
    calendar.new_feed(session, user)
    return redirect("/cohorts", "Your private calendar address is ready: add it to your calendar app. "
                                "Any earlier address has stopped working.")


@router.get("/calendar/{token}.ics")
def feed(token: str, session: SessionDep):
    user = calendar.user_for_token(session, token)
    if user is None:
        raise NotFound("This calendar address is not valid: it may have been replaced. Copy the current one from "
                       "your cohorts page.", code="feed_not_found")
    return Response(calendar.feed_ics(session, user), media_type="text/calendar; charset=utf-8",
                    headers={"Cache-Control": "private, no-store"})


def _programme(session, cohort) -> Programme:
    return service.programme_of(session, cohort)


@router.get("/cohorts/{cohort_id}")
def cohort_page(request: Request, session: SessionDep, access: CohortAccessDep):
    return _cohort_page(request, session, access)


def _cohort_page(request, session, access, status_code: int = 200, errors=None, values=None):
    cohort = access.cohort
    programme = _programme(session, cohort)
    rows = service.sessions_of(session, cohort)
    now = utcnow()
    context = dict(cohort=cohort, programme=programme, rows=rows, access=access, now=now,
                   facilitators=service.facilitators_of(session, cohort),
                   recording_visible=lambda r: service.recording_visible(cohort, r, now))
    if access.learner:
        context["standing"] = attendance.standing(session, cohort, access.user.id,
                                                  (programme.completion or {}).get("attendance"))
    if access.may_run:
        context["learners"] = service.learners_of(session, cohort)
        context["history"] = attendance.history(session, cohort, limit=20)
    context["labels"] = attendance.LABELS
    return render(request, "cohorts/cohort.html", status_code, errors=errors or {}, values=values or {}, **context)


@router.get("/cohorts/sessions/{uid}.ics")
def session_ics(session: SessionDep, sa: SessionAccessDep):
    body = calendar.session_ics(session, sa.row, sa.access.cohort)
    return Response(body, media_type="text/calendar; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{sa.row.uid}.ics"'})


@router.get("/cohorts/sessions/{uid}/join", dependencies=[Writes])
def join(request: Request, session: SessionDep, sa: SessionAccessDep):
    """The learner's own join link: the click is recorded (it prefills attendance), then the meeting."""
    row, cohort = sa.row, sa.access.cohort
    url = row.meeting_url or cohort.meeting_url
    problem = None
    if row.status == SessionStatus.cancelled.value:
        problem = "This session is cancelled: see the cohort page for the current sessions."
    elif row.ends_at < utcnow():
        problem = "This session has ended. Its recording appears on the cohort page once it is added."
    elif not url:
        problem = "The facilitator has not added the meeting link yet: try again closer to the start."
    if problem:
        return render(request, "cohorts/message.html", 409, title="Cannot join yet", message=problem,
                      back=f"/cohorts/{cohort.public_id}")
    if sa.access.learner:
        attendance.record_join(session, row, sa.access.user)
    return RedirectResponse(url, status_code=303)


@router.get("/cohorts/sessions/{uid}/recording", dependencies=[Writes])
def recording(request: Request, session: SessionDep, sa: SessionAccessDep):
    row, cohort = sa.row, sa.access.cohort
    if not service.recording_visible(cohort, row):
        return render(request, "cohorts/message.html", 404, title="No recording",
                      message="There is no recording of this session to watch (none yet, or its viewing window "
                              "has closed).", back=f"/cohorts/{cohort.public_id}")
    if sa.access.learner:
        attendance.record_recording_view(session, row, sa.access.user)
    if row.recording_url:
        return RedirectResponse(row.recording_url, status_code=303)
    from api.cohorts import recordings

    return recordings.stream(row)


# --- facilitators --------------------------------------------------------------------------------

@router.get("/cohorts/{cohort_id}/sessions/{uid}/attendance")
def attendance_sheet(request: Request, uid: str, session: SessionDep, access: RunningAccessDep):
    row = _row_of(session, access, uid)
    return render(request, "cohorts/attendance.html", cohort=access.cohort,
                  programme=_programme(session, access.cohort),
                  sheet=attendance.sheet(session, row, access.cohort), labels=attendance.LABELS, saved=None)


def _row_of(session, access, uid: str):
    row, cohort = service.get_session(session, uid)
    if cohort.id != access.cohort.id:
        raise NotFound("That session is not in this cohort.", code="session_not_found")
    return row


@router.post("/cohorts/{cohort_id}/sessions/{uid}/attendance")
async def save_attendance(request: Request, uid: str, session: SessionDep, access: RunningAccessDep):
    form = await request.form()
    row = _row_of(session, access, uid)
    sheet = attendance.sheet(session, row, access.cohort)
    changed = 0
    everyone = str(form.get("everyone") or "")
    for learner in sheet.learners:
        value = everyone or str(form.get(f"mark-{learner.id}") or "")
        if value:
            changed += attendance.mark(session, row, access.cohort, learner.id, value, access.user)
    return redirect(f"/cohorts/{access.cohort.public_id}/sessions/{uid}/attendance",
                    f"Attendance saved for {row.title}: {changed} change{'s' if changed != 1 else ''}.")


@router.post("/cohorts/{cohort_id}/sessions/{uid}/links")
def session_links(request: Request, uid: str, session: SessionDep, access: RunningAccessDep,
                  meeting_url: str = Form(""), recording_url: str = Form("")):
    row = _row_of(session, access, uid)
    errors, status = {}, 422
    # Both links are checked so both messages show at once; any refusal rolls the request back.
    for field, url, save in ((f"meeting-{uid}", meeting_url, service.set_meeting_url),
                             (f"recording-{uid}", recording_url, service.set_recording_url)):
        if url.strip():
            try:
                save(session, row, url)
            except CadreError as exc:
                errors[field], status = exc.message, exc.status_code
    if errors:
        return _cohort_page(request, session, access, status, errors,
                            {f"meeting-{uid}": meeting_url, f"recording-{uid}": recording_url})
    return redirect(f"/cohorts/{access.cohort.public_id}", f"Links saved for {row.title}.")


@router.post("/cohorts/{cohort_id}/sessions/{uid}/recording-file", dependencies=[UploadBody])
async def recording_file(request: Request, uid: str, session: SessionDep, access: RunningAccessDep,
                         file: UploadFile | None = None):
    from api.cohorts import recordings

    row = _row_of(session, access, uid)
    data = await file.read() if file is not None else b""
    try:
        recordings.upload(session, row, file.filename if file else "", data)
    except CadreError as exc:
        return redirect(f"/cohorts/{access.cohort.public_id}", f"Recording not saved: {exc.message}", kind="error")
    return redirect(f"/cohorts/{access.cohort.public_id}", f"Recording saved for {row.title}.")


@router.post("/cohorts/{cohort_id}/message")
def message(request: Request, session: SessionDep, access: RunningAccessDep, subject: str = Form(""),
            body: str = Form("")):
    try:
        sent = notices.message_cohort(session, access.cohort, access.user, subject, body)
    except CadreError as exc:
        return redirect(f"/cohorts/{access.cohort.public_id}#message", f"Not sent: {exc.message}", kind="error")
    return redirect(f"/cohorts/{access.cohort.public_id}", f"Message sent to {sent} learner{'s' if sent != 1 else ''}.")


# --- the waitlist (any logged-in learner, for an open or full cohort) -----------------------------

def _waitlist_page(request, session, cohort, user, status_code: int = 200, error: str | None = None):
    entry = waitlist.entry_of(session, cohort, user.id)
    return render(request, "cohorts/waitlist.html", status_code, cohort=cohort, programme=_programme(session, cohort),
                  entry=entry, position=waitlist.position(session, entry) if entry else None,
                  card=service.cards(session, [cohort])[0], error=error)


@router.get("/cohorts/{cohort_id}/waitlist")
def waitlist_page(request: Request, cohort_id: str, session: SessionDep, user: CurrentUser):
    cohort = service.get_cohort(session, cohort_id)
    if cohort.status not in ("open", "full"):
        raise NotFound("That cohort is not taking enrolments.", code="cohort_not_found")
    return _waitlist_page(request, session, cohort, user)


@router.post("/cohorts/{cohort_id}/waitlist")
def waitlist_action(request: Request, cohort_id: str, session: SessionDep, user: CurrentUser,
                    action: str = Form("join")):
    cohort = service.get_cohort(session, cohort_id)
    if action == "leave":
        waitlist.leave(session, cohort, user)
        return redirect(f"/cohorts/{cohort_id}/waitlist", "You have left the waitlist.")
    try:
        waitlist.join(session, cohort, user)
    except CadreError as exc:  # the page again, saying why in the error style, above the button
        return _waitlist_page(request, session, cohort, user, exc.status_code, exc.message)
    return redirect(f"/cohorts/{cohort_id}/waitlist",
                    "You are on the waitlist: we will email you if a seat comes free.")
