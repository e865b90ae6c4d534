"""JSON API of the second line of judgement, under /api/v1/assessments: moderation decisions, the second
and agreed marks, appeals, extensions, calibration status. 404 for what the caller may not see, 403 for
what they may see but not do, 409 for a state that refuses the step (nothing changed), 422 for bad input."""

from __future__ import annotations

from fastapi import APIRouter, Request

from api.accounts.deps import CoachUser, CurrentUser
from api.assessments import access, appeals, calibration, doublemark, extensions, moderation
from api.assessments.access import Relation
from api.assessments.models import Submission
from api.assessments.review_models import Extension
from api.assessments.review_schemas import (
    AppealDecisionIn,
    AppealIn,
    AppealPublic,
    CalibrationBrief,
    ExtensionDecisionIn,
    ExtensionIn,
    ExtensionPublic,
    ModerationIn,
    SecondMarkIn,
    SettleIn,
    StatePublic,
)
from api.core.db import SessionDep
from api.core.errors import NotFound

router = APIRouter(prefix="/api/v1/assessments", tags=["assessments: moderation, appeals, extensions"])


def _load(request: Request, session, public_id: str, user, *allowed: Relation):
    return access.load(session, public_id, user, request.state.roles, allowed)[0]


def _state(sub: Submission) -> StatePublic:
    return StatePublic(public_id=sub.public_id, state=sub.state, outcome=sub.outcome, result_mark_id=sub.result_mark_id)


@router.post("/submissions/{public_id}/moderation", response_model=StatePublic)
def moderate(public_id: str, data: ModerationIn, request: Request, coach: CoachUser, session: SessionDep):
    """The moderator confirms, adjusts (scores and a reason) or sends back (a reason)."""
    sub = _load(request, session, public_id, coach, Relation.moderator, Relation.admin)
    if data.action == "confirm":
        moderation.confirm(session, sub, coach, data.reason)
    elif data.action == "adjust":
        moderation.adjust(session, sub, coach, data.scores, data.reason)
    else:
        moderation.send_back(session, sub, coach, data.reason)
    return _state(sub)


@router.post("/submissions/{public_id}/second-mark", response_model=StatePublic)
def second_mark(public_id: str, data: SecondMarkIn, request: Request, coach: CoachUser, session: SessionDep):
    sub = _load(request, session, public_id, coach, Relation.marker, Relation.admin)
    return _state(doublemark.submit_second(session, sub, coach, data.scores, data.feedback))


@router.post("/submissions/{public_id}/agreed-mark", response_model=StatePublic)
def agreed_mark(public_id: str, data: SettleIn, request: Request, user: CurrentUser, session: SessionDep):
    sub = _load(request, session, public_id, user, Relation.marker, Relation.admin)
    return _state(doublemark.settle(session, sub, user, request.state.roles, data.scores, data.rationale))


def _appeal(a) -> AppealPublic:
    return AppealPublic(status=a.status, reason=a.reason, outcome_before=a.outcome_before,
                        outcome_after=a.outcome_after, decision=a.decision, created_at=a.created_at,
                        decided_at=a.decided_at)


@router.post("/submissions/{public_id}/appeal", response_model=AppealPublic, status_code=201)
def lodge_appeal(public_id: str, data: AppealIn, request: Request, user: CurrentUser, session: SessionDep):
    sub = _load(request, session, public_id, user, Relation.learner)
    return _appeal(appeals.lodge(session, sub, user, data.reason))


@router.get("/submissions/{public_id}/appeal", response_model=AppealPublic)
def get_appeal(public_id: str, request: Request, user: CurrentUser, session: SessionDep):
    sub = _load(request, session, public_id, user, Relation.learner, Relation.marker, Relation.moderator,
                Relation.admin)
    appeal = appeals.appeal_of(session, sub)
    if appeal is None:
        raise NotFound("This result has not been appealed.", code="no_appeal")
    return _appeal(appeal)


@router.post("/submissions/{public_id}/appeal/decision", response_model=AppealPublic)
def decide_appeal(public_id: str, data: AppealDecisionIn, request: Request, coach: CoachUser, session: SessionDep):
    sub = _load(request, session, public_id, coach, Relation.marker, Relation.admin)
    return _appeal(appeals.decide(session, sub, coach, data.scores, data.feedback, data.rationale))


def _extension(session, e: Extension) -> ExtensionPublic:
    sub = session.get(Submission, e.submission_id)
    return ExtensionPublic(id=e.id, status=e.status, requested_until=e.requested_until, zone=e.zone, reason=e.reason,
                           decision_reason=e.decision_reason, deadline_shown=extensions.shown(sub, sub.deadline_at))


@router.post("/submissions/{public_id}/extensions", response_model=ExtensionPublic, status_code=201)
def ask_extension(public_id: str, data: ExtensionIn, request: Request, user: CurrentUser, session: SessionDep):
    sub = _load(request, session, public_id, user, Relation.learner)
    ext = extensions.request(session, sub, user, until_local=data.until.replace(tzinfo=None), zone=data.zone,
                             reason=data.reason)
    return _extension(session, ext)


@router.post("/extensions/{extension_id}/decision", response_model=ExtensionPublic)
def decide_extension(extension_id: int, data: ExtensionDecisionIn, request: Request, user: CurrentUser,
                     session: SessionDep):
    ext = session.get(Extension, extension_id)
    sub = session.get(Submission, ext.submission_id) if ext else None
    if ext is None or not extensions.may_decide(session, sub, user, request.state.roles):
        raise NotFound("There is no extension request for you to decide at this address.")
    return _extension(session, extensions.decide(session, ext, user, request.state.roles, approve=data.approve,
                                                 reason=data.reason))


@router.get("/calibration", response_model=list[CalibrationBrief])
def calibration_status(coach: CoachUser, session: SessionDep):
    return [CalibrationBrief(programme=b.programme.code, brief=b.brief.slug, exemplar_ids=[e.id for e in b.exemplars],
                             marked=b.marked, needed=b.needed, done=b.done) for b in calibration.status(session, coach)]
