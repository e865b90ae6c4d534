"""JSON API under /api/v1/assessments: each step of a practical assessment.

Learner: briefs and attempts, draft text and files, submit, withdraw. Coach: the queue, "mark next",
start, autosave and submit a mark, release. Admin: allocate by hand. Public: outcome records.
Errors: 404 for what the caller may not see, 403 without the role or access, 409 for a state or
race that refuses the step (nothing changed), 422 for bad input."""

from __future__ import annotations

from fastapi import APIRouter, File, Request, UploadFile

from api.accounts import service as accounts_service
from api.accounts.deps import AdminUser, CoachUser, CurrentUser
from api.accounts.models import User
from api.assessments import allocation, api_shapes, evidence, files, marking, queue, release, submissions
from api.assessments.deps import AnySeer, MarkerSubmission, OwnSubmission
from api.assessments.schemas import (
    AllocateIn,
    BriefPublic,
    ConflictIn,
    DraftIn,
    FilePublic,
    MarkIn,
    MarkPublic,
    QueueItem,
    SubmissionPublic,
    SubmitIn,
)
from api.catalog import service as catalog_service
from api.core.db import SessionDep
from api.core.errors import Invalid, NotFound
from api.core.middleware import UploadBody
from api.learning import service as enrolment_service

router = APIRouter(prefix="/api/v1/assessments", tags=["assessments"])


def _brief(session, user, slug: str, brief_slug: str):
    programme = catalog_service.get_by_slug(session, slug)
    enrolment_service.require_access(session, user.id, programme)
    return programme, submissions.brief_by_slug(session, programme, brief_slug)


@router.get("/programmes/{slug}/briefs/{brief_slug}", response_model=BriefPublic)
def get_brief(slug: str, brief_slug: str, user: CurrentUser, session: SessionDep):
    programme, brief = _brief(session, user, slug, brief_slug)
    return api_shapes.brief(session, user, programme, brief)


@router.post("/programmes/{slug}/briefs/{brief_slug}/attempts", response_model=SubmissionPublic, status_code=201)
def start_attempt(slug: str, brief_slug: str, body: DraftIn, user: CurrentUser, session: SessionDep):
    """Open the learner's draft (a new attempt when one is allowed; the current draft otherwise)."""
    _, brief = _brief(session, user, slug, brief_slug)
    sub = submissions.start(session, user, brief, body.zone)
    if body.text:
        submissions.save_draft(session, sub, user, text=body.text, version=sub.version, zone=body.zone)
    return api_shapes.submission(session, sub, show_marks=True)


@router.get("/submissions/{public_id}", response_model=SubmissionPublic)
def get_submission(found: AnySeer, session: SessionDep):
    sub, rel = found
    return api_shapes.submission(session, sub, show_marks=rel.value == "learner" or sub.released_at is not None)


@router.patch("/submissions/{public_id}", response_model=SubmissionPublic)
def save_draft(body: DraftIn, own: OwnSubmission, user: CurrentUser, session: SessionDep):
    sub, _ = own
    submissions.save_draft(session, sub, user, text=body.text, version=body.version, zone=body.zone)
    return api_shapes.submission(session, sub, show_marks=True)


@router.post("/submissions/{public_id}/files", response_model=FilePublic, status_code=201, dependencies=[UploadBody])
async def add_file(request: Request, public_id: str, user: CurrentUser, session: SessionDep,
                   file: UploadFile = File(...)):
    from api.assessments import access

    sub, _ = access.load(session, public_id, user, request.state.roles, (access.Relation.learner,))
    data = await file.read()
    brief = submissions.programme_and_brief(session, sub)[1]
    stored = files.store(session, brief, file.filename or "", data)
    return api_shapes.file(files.attach(session, sub, user, stored))


@router.delete("/submissions/{public_id}/files/{file_id}", status_code=204)
def remove_file(public_id: str, file_id: str, own: OwnSubmission, user: CurrentUser, session: SessionDep):
    sub, _ = own
    row = files.file_for(session, file_id)
    if row is None or row[1].id != sub.id:
        raise NotFound("This submission has no such file.")
    files.remove(session, user, file_id)


@router.post("/submissions/{public_id}/submit", response_model=SubmissionPublic)
def submit(body: SubmitIn, own: OwnSubmission, user: CurrentUser, session: SessionDep):
    sub, _ = own
    submissions.submit(session, sub, user, authentic=body.authentic, anonymised=body.anonymised)
    return api_shapes.submission(session, sub, show_marks=True)


@router.post("/submissions/{public_id}/withdraw", response_model=SubmissionPublic)
def withdraw(own: OwnSubmission, user: CurrentUser, session: SessionDep):
    sub, _ = own
    submissions.withdraw(session, sub, user)
    return api_shapes.submission(session, sub, show_marks=True)


# --- coaches ------------------------------------------------------------------------------------

@router.get("/queue", response_model=list[QueueItem])
def my_queue(coach: CoachUser, session: SessionDep):
    return api_shapes.queue_items(session, coach, queue.for_coach(session, coach))


@router.get("/overdue", response_model=list[QueueItem])
def overdue(request: Request, coach: CoachUser, session: SessionDep):
    everyone = "admin" in {str(r) for r in request.state.roles}
    return api_shapes.queue_items(session, coach, queue.overdue(session, None if everyone else coach))


@router.post("/queue/next", response_model=SubmissionPublic | None)
def mark_next(coach: CoachUser, session: SessionDep):
    """Claim the next submission to mark (null when there is none)."""
    sub = queue.mark_next(session, coach)
    return api_shapes.submission(session, sub, show_marks=False) if sub else None


@router.post("/submissions/{public_id}/start", response_model=SubmissionPublic)
def start_marking(found: MarkerSubmission, coach: CoachUser, session: SessionDep):
    sub, _ = found
    queue.start(session, sub, coach)
    return api_shapes.submission(session, sub, show_marks=False)


@router.put("/submissions/{public_id}/mark", response_model=MarkPublic)
def save_mark(body: MarkIn, found: MarkerSubmission, coach: CoachUser, session: SessionDep):
    """Autosave: 409 `stale_mark` when another tab saved after `version`; nothing is overwritten."""
    sub, _ = found
    mark = marking.save(session, sub, coach, scores={k: v.model_dump() for k, v in body.scores.items()},
                        feedback=body.feedback, version=body.version, rubric_version_id=body.rubric_version_id)
    return api_shapes.mark(mark, sub)


@router.post("/submissions/{public_id}/mark/submit", response_model=MarkPublic)
def submit_mark(body: MarkIn, found: MarkerSubmission, coach: CoachUser, session: SessionDep):
    sub, _ = found
    mark = marking.submit(session, sub, coach, scores={k: v.model_dump() for k, v in body.scores.items()},
                          feedback=body.feedback, version=body.version, rubric_version_id=body.rubric_version_id)
    return api_shapes.mark(mark, sub)


@router.post("/submissions/{public_id}/release", response_model=SubmissionPublic)
def release_result(found: MarkerSubmission, user: CurrentUser, session: SessionDep):
    sub, _ = found
    release.release(session, sub, user)
    return api_shapes.submission(session, sub, show_marks=True)


@router.post("/conflicts", status_code=201)
def declare_conflict(body: ConflictIn, coach: CoachUser, session: SessionDep):
    learner = accounts_service.get_by_email(session, body.learner_email)
    if learner is None:
        raise Invalid("No learner has that email address.", code="unknown_learner")
    row = allocation.declare_conflict(session, coach, learner, body.reason)
    return {"coach_id": row.coach_id, "learner_id": row.learner_id, "declared_at": row.declared_at}


# --- admins -------------------------------------------------------------------------------------

@router.post("/submissions/{public_id}/allocation", response_model=SubmissionPublic)
def allocate(public_id: str, body: AllocateIn, admin: AdminUser, session: SessionDep):
    from api.assessments import access

    sub = access.by_public_id(session, public_id)
    coach = session.get(User, body.coach_id)
    if sub is None or coach is None:
        raise NotFound("There is no such submission or coach.")
    allocation.override(session, sub, coach, admin, body.reason)
    return api_shapes.submission(session, sub, show_marks=False)


# --- public -------------------------------------------------------------------------------------

@router.get("/records/{record_id}")
def record(record_id: str, session: SessionDep):
    """The public record of an outcome (what a credential's evidence links to)."""
    return evidence.public_record(session, record_id).as_json()
