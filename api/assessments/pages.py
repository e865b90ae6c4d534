"""Learner pages for practical assessments, and the public pages (criteria, outcome records).

Learner pages need access to the programme (403 otherwise, as the lesson pages); a submission of
someone else's is 404. Every form works without JavaScript."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, RedirectResponse, StreamingResponse
from starlette.datastructures import UploadFile

from api.accounts.deps import CurrentUser, optional_user
from api.assessments import access, evidence, files, submissions, views
from api.assessments.deps import OwnSubmission
from api.catalog import service as catalog_service
from api.core.db import SessionDep, Writes
from api.core.errors import CadreError, NotFound
from api.core.middleware import UploadBody
from api.core.security import csrf_protect
from api.core.templates import redirect, render
from api.learning import service as enrolment_service
from api.learning.service import NotEnrolled

router = APIRouter(dependencies=[Depends(csrf_protect), Depends(optional_user)], include_in_schema=False)


def _open(session, user, slug: str, brief_slug: str):
    programme = catalog_service.get_by_slug(session, slug)
    enrolment_service.require_access(session, user.id, programme)
    return programme, submissions.brief_by_slug(session, programme, brief_slug)


# Which field of the draft form each refusal is about; the rest are about the attempt as a whole.
DRAFT_FIELDS = {"text_not_allowed": "text", "text_too_long": "text", "stale_draft": "text",
                "files_not_allowed": "file", "too_many_files": "file", "empty": "file", "too_large": "file",
                "not_really_pdf": "file", "type_not_allowed": "file"}


def _page(request: Request, session, user, programme, brief, status: int = 200, error: str | None = None,
          text: str | None = None, exc: CadreError | None = None):
    page = views.learner_page(session, user, programme, brief)
    errors: dict[str, str] = {}
    if isinstance(exc, submissions.NotReady):
        errors, error = dict(exc.problems), None
    elif exc is not None and exc.code in DRAFT_FIELDS:
        errors, error = {DRAFT_FIELDS[exc.code]: exc.message}, None
    return render(request, "assessments/learner.html", status, page=page, error=error, text=text, errors=errors)


def _no_access(request: Request, exc: NotEnrolled):
    return render(request, "learning/no_access.html", exc.status_code, programme=exc.programme,
                  message=exc.message, code=exc.code)


@router.get("/learn/{slug}/assessments")
def brief_list(request: Request, slug: str, user: CurrentUser, session: SessionDep):
    programme = catalog_service.get_by_slug(session, slug)
    try:
        enrolment_service.require_access(session, user.id, programme)
    except NotEnrolled as exc:
        return _no_access(request, exc)
    briefs = submissions.briefs_for(session, [programme.id])[programme.id]
    if len(briefs) == 1:
        return redirect(f"/learn/{slug}/assessments/{briefs[0].slug}")
    return render(request, "assessments/briefs.html", programme=programme, briefs=briefs)


@router.get("/learn/{slug}/assessments/{brief_slug}")
def learner_page(request: Request, slug: str, brief_slug: str, user: CurrentUser, session: SessionDep):
    try:
        programme, brief = _open(session, user, slug, brief_slug)
    except NotEnrolled as exc:
        return _no_access(request, exc)
    return _page(request, session, user, programme, brief)


@router.post("/learn/{slug}/assessments/{brief_slug}/draft", dependencies=[UploadBody])
async def save_draft(request: Request, slug: str, brief_slug: str, user: CurrentUser, session: SessionDep):
    form = await request.form()
    text = form.get("text") if isinstance(form.get("text"), str) else None
    upload = form.get("file")
    data = await upload.read() if isinstance(upload, UploadFile) and upload.filename else None
    name = upload.filename if isinstance(upload, UploadFile) else None
    return _draft(request, slug, brief_slug, user, session, text, str(form.get("version") or ""),
                  str(form.get("zone") or ""), name, data)


def _refused(request, session, user, slug: str, brief_slug: str, exc: CadreError, text: str | None = None):
    programme = catalog_service.get_by_slug(session, slug)
    brief = submissions.brief_by_slug(session, programme, brief_slug)
    return _page(request, session, user, programme, brief, exc.status_code, exc.message, text, exc=exc)


def _draft(request, slug, brief_slug, user, session, text, version, zone, name, data):
    try:
        programme, brief = _open(session, user, slug, brief_slug)
        stored = files.store(session, brief, name or "", data) if data is not None else None  # before any write
        sub = submissions.start(session, user, brief, zone)
        if text is not None:
            submissions.save_draft(session, sub, user, text=text, version=int(version) if version.isdigit() else None,
                                   zone=zone)
        if stored is not None:
            f = files.attach(session, sub, user, stored)
            return redirect(f"/learn/{slug}/assessments/{brief_slug}", f"“{f.display_name}” is attached. Your draft "
                            "is saved.")
    except NotEnrolled as exc:
        return _no_access(request, exc)
    except CadreError as exc:
        return _refused(request, session, user, slug, brief_slug, exc, text)
    return redirect(f"/learn/{slug}/assessments/{brief_slug}", "Your draft is saved.")


@router.post("/learn/{slug}/assessments/{brief_slug}/files/{file_id}/remove")
def remove_file(request: Request, slug: str, brief_slug: str, file_id: str, user: CurrentUser, session: SessionDep):
    try:
        _open(session, user, slug, brief_slug)
        name = files.remove(session, user, file_id)
    except NotEnrolled as exc:
        return _no_access(request, exc)
    except CadreError as exc:
        return _refused(request, session, user, slug, brief_slug, exc)
    return redirect(f"/learn/{slug}/assessments/{brief_slug}", f"“{name}” is removed from your draft.")


@router.post("/learn/{slug}/assessments/{brief_slug}/submit", dependencies=[UploadBody])
async def submit(request: Request, slug: str, brief_slug: str, user: CurrentUser, session: SessionDep):
    """The draft form's Submit button: saves what the form holds (text, a chosen file), then submits."""
    form = await request.form()
    text = form.get("text") if isinstance(form.get("text"), str) else None
    upload = form.get("file")
    data = await upload.read() if isinstance(upload, UploadFile) and upload.filename else None
    try:
        programme, brief = _open(session, user, slug, brief_slug)
        stored = files.store(session, brief, upload.filename, data) if data is not None else None
        sub = submissions.start(session, user, brief)
        if text is not None:
            version = str(form.get("version") or "")
            submissions.save_draft(session, sub, user, text=text, version=int(version) if version.isdigit() else None,
                                   zone=str(form.get("zone") or ""))
        if stored is not None:
            files.attach(session, sub, user, stored)
        submissions.submit(session, sub, user, authentic=form.get("authentic") == "yes",
                           anonymised=form.get("anonymised") == "yes")
    except NotEnrolled as exc:
        return _no_access(request, exc)
    except CadreError as exc:
        return _refused(request, session, user, slug, brief_slug, exc, text)
    return redirect(f"/learn/{slug}/assessments/{brief_slug}",
                    f"Attempt {sub.attempt} is submitted. We have emailed you a confirmation.")


@router.post("/assessments/submissions/{public_id}/withdraw")
def withdraw(request: Request, public_id: str, own: OwnSubmission, user: CurrentUser, session: SessionDep):
    sub, _ = own
    programme, brief = submissions.programme_and_brief(session, sub)
    try:
        submissions.withdraw(session, sub, user)
    except CadreError as exc:
        return _page(request, session, user, programme, brief, exc.status_code, exc.message)
    return redirect(f"/learn/{programme.slug}/assessments/{brief.slug}",
                    "Your submission is withdrawn. You can start again when you are ready.")


@router.get("/assessments/files/{file_id}/open", dependencies=[Writes])  # records who opened it
def open_file(request: Request, file_id: str, user: CurrentUser, session: SessionDep):
    found = files.file_for(session, file_id)
    rel = access.relation(session, found[1], user, request.state.roles) if found else None
    if found is None or rel is None:
        raise NotFound("There is no file at this address, or it is not yours to see.")
    return RedirectResponse(files.open_link(session, found[0], found[1], user, rel), status_code=303)


@router.get("/assessments/file-links/{token}")
def file_bytes(request: Request, token: str, user: CurrentUser, session: SessionDep):
    row = files.by_token(session, token, user)
    return StreamingResponse(files.stream(row), media_type=row.content_type, headers={
        "Content-Disposition": files.disposition(row), "Cache-Control": "private, no-store",
        "X-Content-Type-Options": "nosniff"})


@router.get("/programmes/{slug}/assessment-criteria")
def criteria_page(request: Request, slug: str, session: SessionDep):
    """Public: the published criteria a programme's practical work is marked against."""
    programme = catalog_service.get_by_slug(session, slug)
    return render(request, "assessments/criteria.html", programme=programme,
                  briefs=views.public_criteria(session, programme))


@router.get("/assessment-records/{record_id}")
def record_page(request: Request, record_id: str, session: SessionDep):
    """Public: the outcome of one assessment (the evidence a credential links to). JSON on request."""
    record = evidence.public_record(session, record_id)
    if "application/json" in request.headers.get("accept", "") or request.query_params.get("format") == "json":
        return JSONResponse(record.as_json(), headers={"Cache-Control": "public, max-age=300"})
    return render(request, "assessments/record.html", record=record)
