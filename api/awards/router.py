"""JSON API for award cycles under /api/v1/awards/cycles: the public cycle with its milestones, and
nominating (a confirmed account). The hall of fame's API is api/halloffame/router.py."""

from __future__ import annotations

from fastapi import APIRouter

from api.accounts.deps import CurrentUser
from api.awards import nominations, service, states
from api.awards.models import AwardCycle, CycleState
from api.awards.schemas import CyclePublic, MilestonePublic, NominationCreate, NominationPublic
from api.core.db import SessionDep
from api.halloffame.models import Award

router = APIRouter(prefix="/api/v1/awards/cycles", tags=["awards"])


def cycle_public(session, cycle: AwardCycle) -> CyclePublic:
    award = session.get(Award, cycle.award_id)
    return CyclePublic(
        slug=cycle.slug, award=award.slug if award else "", year=cycle.year, title=cycle.title, state=cycle.state,
        state_words=states.WORDS[CycleState(cycle.state)],
        nominations_open=nominations.nominations_open(session, cycle),
        self_nomination_allowed=cycle.self_nomination_allowed,
        requires_current_accreditation=list(cycle.eligibility.get("requires_current_accreditation") or []),
        milestones=[MilestonePublic(kind=m.kind, label=service.MILESTONE_WORDS[m.kind], local_date=m.local_date,
                                    local_time=m.local_time.strftime("%H:%M"), time_zone=m.time_zone, at=m.at)
                    for m in service.milestones(session, cycle)])


@router.get("", response_model=list[CyclePublic])
def list_cycles(session: SessionDep) -> list[CyclePublic]:
    return [cycle_public(session, c) for c in service.cycles(session)]


@router.get("/{slug}", response_model=CyclePublic)
def get_cycle(slug: str, session: SessionDep) -> CyclePublic:
    return cycle_public(session, service.cycle_by_slug(session, slug))


@router.post("/{slug}/nominations", response_model=NominationPublic, status_code=201)
def nominate(slug: str, body: NominationCreate, user: CurrentUser, session: SessionDep) -> NominationPublic:
    cycle = service.cycle_by_slug(session, slug)
    nominee, nomination, created = nominations.nominate(session, cycle, user, nominations.NominationIn(
        name=body.name, email=body.email, statement=body.statement, role=body.role, organisation=body.organisation,
        endorsers=body.endorsers, reveal_to_nominee=body.reveal_to_nominee))
    return NominationPublic(cycle=cycle.slug, nominee_name=nomination.name, nominated_at=nomination.created_at,
                            merged=not created, nomination_count=nominee.nomination_count,
                            reveal_to_nominee=nomination.reveal_to_nominee)
