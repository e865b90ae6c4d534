"""Pages of the second line of judgement: the moderation queue and screen, appeals (the learner's form
and the re-marker's screen), extensions (the learner's request, the coach's or admin's decision),
calibration (coaches mark exemplars; admins add them and read drift and agreement), the coach's
dashboard, and the admin's overview of all submissions with each one's audit trail.

Who sees what: the dependency loads the submission with the caller's relation to it (access.py) and
answers 404 to anyone else; the services refuse (403/409) what a viewer may see but not do."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends, Form, Request
from sqlmodel import select

from api.accounts.deps import AdminUser, CoachUser, CurrentUser, optional_user
from api.accounts.models import User
from api.assessments import (
    access,
    appeals,
    calibration,
    extensions,
    moderation,
    oversight,
    rubrics,
    scoring,
    submissions,
    times,
    views,
)
from api.assessments.access import Relation
from api.assessments.coach_pages import scores_from_form
from api.assessments.models import RubricVersion, Submission
from api.assessments.review_models import Extension
from api.catalog import service as catalog_service
from api.catalog.models import AssessmentBrief, Programme
from api.core import pagination
from api.core.db import SessionDep
from api.core.errors import CadreError, Invalid, NotFound
from api.core.security import csrf_protect
from api.core.templates import ordered, redirect, render

router = APIRouter(dependencies=[Depends(csrf_protect), Depends(optional_user)], include_in_schema=False)


def _load(request: Request, session, public_id: str, user, *allowed: Relation):
    return access.load(session, public_id, user, request.state.roles, allowed)


def _criteria(session, sub, scores=None):
    return views.criteria_view(session.get(RubricVersion, sub.rubric_version_id), scores)


# --- moderation ---------------------------------------------------------------------------------------

@router.get("/coach/moderation")
def moderation_queue(request: Request, coach: CoachUser, session: SessionDep):
    return render(request, "assessments/review/moderation_queue.html", rows=moderation.queue_for(session, coach),
                  words=moderation.REASON_WORDS)


@router.post("/coach/moderation/{public_id}/take")
def moderation_take(request: Request, public_id: str, coach: CoachUser, session: SessionDep):
    sub = access.by_public_id(session, public_id)
    if sub is None:
        raise NotFound("There is no submission at this address.")
    try:
        moderation.take(session, sub, coach)
    except CadreError as exc:
        return render(request, "assessments/review/moderation_queue.html", exc.status_code,
                      rows=moderation.queue_for(session, coach), words=moderation.REASON_WORDS, error=exc.message)
    return redirect(f"/coach/moderation/{public_id}", "You are moderating this submission.")


def _moderation_page(request, session, sub, viewer, rel, status=200, error=None, errors=None, reason="",
                     scores=None):
    result = moderation.result_mark(session, sub)
    brief = session.get(AssessmentBrief, sub.brief_id)
    marked = _criteria(session, sub, result.scores if result else None)
    return render(request, "assessments/review/moderation.html", status, sub=sub, brief=brief,
                  programme=session.get(Programme, sub.programme_id), result=result, criteria=marked,
                  # the adjustment starts from the marker's levels; refused, it shows what the moderator chose
                  adjust_criteria=_criteria(session, sub, scores) if scores is not None else marked,
                  marks=moderation.marks_for_moderator(session, sub), rel=rel, error=error,
                  errors=errors or {}, reason=reason, adjusting=scores is not None,
                  files=submissions.files_of(session, [sub.id])[sub.id],
                  label=views.learner_label(brief, sub, session.get(User, sub.user_id)),
                  mod=moderation.moderation_mark(session, sub), is_mine=(
                      (m := moderation.moderation_mark(session, sub, draft_only=True)) is not None
                      and m.marker_id == viewer.id))


@router.get("/coach/moderation/{public_id}")
def moderation_screen(request: Request, public_id: str, user: CurrentUser, session: SessionDep):
    sub, rel = _load(request, session, public_id, user, Relation.moderator, Relation.admin)
    return _moderation_page(request, session, sub, user, rel)


@router.post("/coach/moderation/{public_id}/decide")
async def moderation_decide(request: Request, public_id: str, coach: CoachUser, session: SessionDep):
    sub, rel = _load(request, session, public_id, coach, Relation.moderator, Relation.admin)
    form = await request.form()
    action, reason = str(form.get("action") or ""), str(form.get("reason") or "")
    scores = None
    try:
        if action == "confirm":
            moderation.confirm(session, sub, coach, reason)
            done = "Confirmed: the result is ready for release."
        elif action == "adjust":
            scores = scores_from_form(form, rubrics.criteria(session.get(RubricVersion, sub.rubric_version_id)))
            moderation.adjust(session, sub, coach, scores, reason)
            done = "Adjusted: your marks are the result, and it is ready for release."
        elif action == "send_back":
            moderation.send_back(session, sub, coach, reason)
            done = "Sent back to the marker, who has been emailed your reason."
        else:
            raise Invalid("Choose confirm, adjust or send back.", code="no_action")
    except CadreError as exc:
        if isinstance(exc, scoring.MarkProblems):  # each message beside its field, in the form's order
            order = ("reason", *(f"score-{slug}" for slug in scores or {}))
            return _moderation_page(request, session, sub, coach, rel, exc.status_code, None,
                                    ordered(exc.fields, order), reason, scores)
        return _moderation_page(request, session, sub, coach, rel, exc.status_code, exc.message, reason=reason,
                                scores=scores)
    return redirect("/coach/moderation", done)


# --- appeals ------------------------------------------------------------------------------------------

@router.get("/assessments/submissions/{public_id}/appeal")
def appeal_form(request: Request, public_id: str, user: CurrentUser, session: SessionDep):
    sub, _ = _load(request, session, public_id, user, Relation.learner)
    return render(request, "assessments/review/appeal_form.html", sub=sub, brief=session.get(AssessmentBrief,
                  sub.brief_id), chance=appeals.chance(session, sub), appeal=appeals.appeal_of(session, sub),
                  show=lambda m: times.show(m, times.zone_of(sub.learner_zone)), error=None, reason="")


@router.post("/assessments/submissions/{public_id}/appeal")
def appeal_lodge(request: Request, public_id: str, user: CurrentUser, session: SessionDep, reason: str = Form("")):
    sub, _ = _load(request, session, public_id, user, Relation.learner)
    try:
        appeals.lodge(session, sub, user, reason)
    except CadreError as exc:
        # the reason's own problems go beside it; a refusal of the appeal itself stays above the form
        errors = {"reason": exc.message} if exc.code in ("reason_required", "reason_too_long") else {}
        return render(request, "assessments/review/appeal_form.html", exc.status_code, sub=sub,
                      brief=session.get(AssessmentBrief, sub.brief_id), chance=appeals.chance(session, sub),
                      appeal=appeals.appeal_of(session, sub), error=None if errors else exc.message,
                      errors=errors, reason=reason, show=lambda m: times.show(m, times.zone_of(sub.learner_zone)))
    return redirect(f"/assessments/submissions/{public_id}/appeal",
                    "Your appeal is lodged. A coach who has not marked your work will re-mark it; you will be emailed "
                    "the decision.")


@router.get("/coach/appeals")
def appeal_queue(request: Request, coach: CoachUser, session: SessionDep):
    return render(request, "assessments/review/appeal_queue.html", rows=appeals.open_for_marker(session, coach))


def _appeal_page(request, session, sub, status=200, error=None, scores=None, rationale="", feedback="",
                 errors=None):
    brief = session.get(AssessmentBrief, sub.brief_id)
    return render(request, "assessments/review/appeal_mark.html", status, sub=sub, brief=brief,
                  appeal=appeals.appeal_of(session, sub), criteria=_criteria(session, sub, scores),
                  files=submissions.files_of(session, [sub.id])[sub.id], error=error, rationale=rationale,
                  feedback=feedback, errors=errors or {},
                  programme=session.get(Programme, sub.programme_id),
                  label=views.learner_label(brief, sub, session.get(User, sub.user_id)))


@router.get("/coach/appeals/{public_id}")
def appeal_screen(request: Request, public_id: str, coach: CoachUser, session: SessionDep):
    sub, _ = _load(request, session, public_id, coach, Relation.marker, Relation.admin)
    appeal = appeals.appeal_of(session, sub)
    if appeal is None or appeal.marker_id != coach.id:
        raise NotFound("There is no appeal for you to re-mark at this address.")
    return _appeal_page(request, session, sub)


@router.post("/coach/appeals/{public_id}")
async def appeal_decide(request: Request, public_id: str, coach: CoachUser, session: SessionDep):
    sub, _ = _load(request, session, public_id, coach, Relation.marker, Relation.admin)
    form = await request.form()
    scores = scores_from_form(form, rubrics.criteria(session.get(RubricVersion, sub.rubric_version_id)))
    rationale, feedback = str(form.get("rationale") or ""), str(form.get("feedback") or "")
    try:
        appeal = appeals.decide(session, sub, coach, scores, feedback, rationale)
    except CadreError as exc:
        if isinstance(exc, scoring.MarkProblems):
            order = tuple(f"score-{slug}" for slug in scores) + ("feedback", "rationale")
            return _appeal_page(request, session, sub, exc.status_code, None, scores, rationale, feedback,
                                ordered(exc.fields, order))
        return _appeal_page(request, session, sub, exc.status_code, exc.message, scores, rationale, feedback)
    words = "upheld: the outcome is changed" if appeal.status == "upheld" else "not upheld: the result stands"
    return redirect("/coach/appeals", f"Appeal {words}. The learner has been emailed.")


# --- extensions -----------------------------------------------------------------------------------------

EXTENSION_FIELDS = ("until", "zone", "reason")
EXTENSION_ERRORS = {"bad_time": "until", "not_later": "until", "bad_zone": "zone", "reason_required": "reason",
                    "reason_too_long": "reason"}


def _extension_page(request, session, sub, status=200, error=None, form=None, errors=None):
    zone = times.zone_of(sub.learner_zone, sub.deadline_zone)
    return render(request, "assessments/review/extension_form.html", status, sub=sub,
                  brief=session.get(AssessmentBrief, sub.brief_id), history=extensions.history(session, sub),
                  pending=extensions.pending(session, sub), zone=zone, zones=times.common_zones(),
                  show=lambda m, z=None: times.show(m, z or zone), error=error, form=form or {},
                  errors=errors or {})


@router.get("/assessments/submissions/{public_id}/extension")
def extension_form(request: Request, public_id: str, user: CurrentUser, session: SessionDep):
    sub, _ = _load(request, session, public_id, user, Relation.learner)
    return _extension_page(request, session, sub)


@router.post("/assessments/submissions/{public_id}/extension")
def extension_request(request: Request, public_id: str, user: CurrentUser, session: SessionDep,
                      until: str = Form(""), zone: str = Form(""), reason: str = Form("")):
    sub, _ = _load(request, session, public_id, user, Relation.learner)
    form = {"until": until, "zone": zone, "reason": reason}
    # What the form alone shows to be wrong is said all at once, each beside its field.
    errors = {}
    try:
        local = datetime.fromisoformat(until) if until.strip() else None
    except ValueError:
        local = None
    if local is None:
        errors["until"] = "Give the new date and time, e.g. 2027-01-08 17:00."
    if times.valid_zone(zone) is None:
        errors["zone"] = f"'{zone}' is not a time zone we know (e.g. Europe/London)." if zone else "Choose a time zone."
    if not reason.strip():
        errors["reason"] = "Say why you need more time."
    try:
        if errors:
            raise Invalid(" ".join(errors.values()), code="bad_request_form")
        extensions.request(session, sub, user, until_local=local.replace(tzinfo=None), zone=zone, reason=reason)
    except CadreError as exc:
        field = EXTENSION_ERRORS.get(exc.code)
        errors = errors or ({field: exc.message} if field else {})
        return _extension_page(request, session, sub, exc.status_code, None if errors else exc.message, form,
                               ordered(errors, EXTENSION_FIELDS))
    return redirect(f"/assessments/submissions/{public_id}/extension",
                    "Your request is sent; you will be emailed the decision.")


@router.get("/coach/extensions")
def extension_queue(request: Request, user: CurrentUser, session: SessionDep):
    rows = extensions.waiting_for(session, user, request.state.roles)
    return render(request, "assessments/review/extension_queue.html", rows=rows,
                  show=lambda s, m: extensions.shown(s, m), error=None)


@router.post("/coach/extensions/{extension_id}")
def extension_decide(request: Request, extension_id: int, user: CurrentUser, session: SessionDep,
                     decision: str = Form(""), reason: str = Form("")):
    ext = session.get(Extension, extension_id)
    sub = session.get(Submission, ext.submission_id) if ext else None
    if ext is None or not extensions.may_decide(session, sub, user, request.state.roles):
        raise NotFound("There is no extension request for you to decide at this address.")
    try:
        extensions.decide(session, ext, user, request.state.roles, approve=decision == "approve", reason=reason)
    except CadreError as exc:
        return render(request, "assessments/review/extension_queue.html", exc.status_code,
                      rows=extensions.waiting_for(session, user, request.state.roles),
                      show=lambda s, m: extensions.shown(s, m), error=exc.message)
    return redirect("/coach/extensions", "Decided; the learner has been emailed.")


# --- calibration ------------------------------------------------------------------------------------------

@router.get("/coach/calibration")
def calibration_page(request: Request, coach: CoachUser, session: SessionDep):
    return render(request, "assessments/review/calibration.html", briefs=calibration.status(session, coach))


def _exemplar_page(request, session, coach, ex, status=200, error=None, errors=None, scores=None):
    rubric = session.get(RubricVersion, ex.rubric_version_id).rubric
    mine = calibration.marks_by(session, coach).get(ex.id)
    return render(request, "assessments/review/exemplar.html", status, ex=ex,
                  brief=session.get(AssessmentBrief, ex.brief_id),
                  criteria=views.criteria_view(session.get(RubricVersion, ex.rubric_version_id), scores),
                  comparison=calibration.compare(rubric, mine.scores, ex.agreed_scores) if mine else None,
                  error=error, errors=errors or {})


@router.get("/coach/calibration/{exemplar_id}")
def exemplar_page(request: Request, exemplar_id: int, coach: CoachUser, session: SessionDep):
    return _exemplar_page(request, session, coach, calibration.get_exemplar(session, exemplar_id))


@router.post("/coach/calibration/{exemplar_id}")
async def exemplar_mark(request: Request, exemplar_id: int, coach: CoachUser, session: SessionDep):
    ex = calibration.get_exemplar(session, exemplar_id)
    form = await request.form()
    scores = scores_from_form(form, rubrics.criteria(session.get(RubricVersion, ex.rubric_version_id)))
    try:
        calibration.mark_exemplar(session, coach, ex, scores)
    except CadreError as exc:
        if isinstance(exc, scoring.MarkProblems):  # each level choice's message inside its criterion, in order
            return _exemplar_page(request, session, coach, ex, exc.status_code, None,
                                  ordered(exc.fields, tuple(f"score-{slug}" for slug in scores)), scores)
        return _exemplar_page(request, session, coach, ex, exc.status_code, exc.message, scores=scores)
    return redirect(f"/coach/calibration/{exemplar_id}", "Marked. Here is how your marks compare with the agreed ones.")


def _admin_calibration(request, session, status=200, error=None, brief_slug=None, errors=None, form=None,
                       scores=None):
    briefs = list(session.exec(select(AssessmentBrief).order_by(AssessmentBrief.id)).all())
    chosen = next((b for b in briefs if f"{b.programme_id}:{b.slug}" == brief_slug), briefs[0] if briefs else None)
    return render(request, "assessments/review/admin_calibration.html", status, briefs=briefs, chosen=chosen,
                  exemplars=calibration.active_exemplars(session, [chosen.id]) if chosen else [],
                  drift=calibration.drift(session, chosen) if chosen else [],
                  agreement=calibration.agreement(session, chosen) if chosen else [],
                  criteria=views.criteria_view(rubrics.current(session, chosen), scores) if chosen else [],
                  error=error, errors=errors or {}, form=form or {})


@router.get("/admin/calibration")
def admin_calibration(request: Request, admin: AdminUser, session: SessionDep, brief: str | None = None):
    return _admin_calibration(request, session, brief_slug=brief)


@router.post("/admin/calibration")
async def admin_add_exemplar(request: Request, admin: AdminUser, session: SessionDep):
    form = await request.form()
    key = str(form.get("brief") or "")
    brief = next((b for b in session.exec(select(AssessmentBrief)).all()
                  if f"{b.programme_id}:{b.slug}" == key), None)
    if brief is None:
        raise NotFound("There is no brief with that name.")
    scores = scores_from_form(form, rubrics.criteria(rubrics.current(session, brief)))
    typed = {name: str(form.get(name) or "") for name in ("title", "work", "rationale")}
    try:
        calibration.create_exemplar(session, admin, brief, agreed_scores=scores, **typed)
    except CadreError as exc:
        if isinstance(exc, scoring.MarkProblems):
            order = ("title", "work", *(f"score-{slug}" for slug in scores), "rationale")
            return _admin_calibration(request, session, exc.status_code, None, key, ordered(exc.fields, order),
                                      typed, scores)
        return _admin_calibration(request, session, exc.status_code, exc.message, key, form=typed, scores=scores)
    return redirect(f"/admin/calibration?brief={key}", "Exemplar added: coaches mark it before live marking.")


# --- the coach's dashboard, the admin's overview and audit trail ------------------------------------

@router.get("/coach/dashboard")
def coach_dashboard(request: Request, coach: CoachUser, session: SessionDep):
    return render(request, "assessments/review/dashboard.html", d=oversight.coach_dashboard(session, coach),
                  show=lambda m: times.show(m, None), calibrated=calibration.calibrated(session, coach))


@router.get("/admin/assessments/submissions")
def admin_overview(request: Request, admin: AdminUser, session: SessionDep, state: str | None = None,
                   programme: str | None = None, q: str | None = None, after: pagination.After = None,
                   before: pagination.Before = None):
    q = (q or "").strip()[:100]
    state = state if state in oversight.STATES else None
    page = oversight.overview(session, state=state, programme=programme, q=q, after=after, before=before)
    return render(request, "assessments/review/overview.html", rows=page.rows, states=oversight.STATES,
                  pager=page.links("/admin/assessments/submissions", {"state": state or "",
                                                                       "programme": programme or "", "q": q}),
                  state=state, programme=programme, q=q, programmes=catalog_service.list_programmes(session),
                  show=lambda m: times.show(m, None))


@router.get("/admin/assessments/submissions/{public_id}/audit")
def admin_audit(request: Request, public_id: str, admin: AdminUser, session: SessionDep):
    sub, _ = _load(request, session, public_id, admin, Relation.admin, Relation.marker, Relation.moderator)
    return render(request, "assessments/review/audit.html", t=oversight.trail(session, sub),
                  show=lambda m: times.show(m, None))
