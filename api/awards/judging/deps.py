"""Who may see judging, loaded with the caller's relation to it. A judge is whoever holds a judge
appointment for the cycle (no site-wide role: the appointment is the relation). A judge sees an entry
only through an active, unconflicted assignment of their own; everyone else gets 404. A judge who has
not accepted the cycle yet is sent to accept it (403 on the entry). Administrators (the admin role)
run the rounds through the admin pages."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request
from sqlmodel import Session, select

from api.accounts.deps import CurrentUser
from api.accounts.models import User
from api.awards.judging import scoring, service
from api.awards.judging.models import Assignment, AssignmentStatus, CycleJudge, JudgingRound
from api.awards.models import AwardCycle, Entry
from api.core.db import SessionDep
from api.core.errors import Forbidden, NotFound


@dataclass
class JudgeAccess:
    judge: CycleJudge
    cycle: AwardCycle
    user: User


def judge_access(cycle_slug: str, session: SessionDep, user: CurrentUser) -> JudgeAccess:
    cycle = session.exec(select(AwardCycle).where(AwardCycle.slug == cycle_slug)).first()
    judge = service.judge_for(session, cycle.id, user.id) if cycle is not None else None
    if judge is None:
        raise NotFound("You are not a judge of this award cycle.", code="not_a_judge")
    return JudgeAccess(judge, cycle, user)


@dataclass
class EntryAccess:
    judge: CycleJudge
    round: JudgingRound
    entry: Entry
    assignment: Assignment
    user: User


_NOT_YOURS = "There is no entry for you to judge at this address."


def load_entry_access(session: Session, user: User, round_id: str, entry_id: str) -> EntryAccess:
    """The judge's own active assignment of this entry in this round, with no conflict recorded; 404
    otherwise (a conflicted judge never sees the entry, not even that it exists)."""
    try:
        rnd = service.get_round(session, round_id)
    except NotFound:
        raise NotFound(_NOT_YOURS, code="entry_not_found") from None
    judge = service.judge_for(session, rnd.cycle_id, user.id)
    entry = session.exec(select(Entry).where(Entry.public_id == entry_id, Entry.cycle_id == rnd.cycle_id)).first()
    if judge is None or entry is None:
        raise NotFound(_NOT_YOURS, code="entry_not_found")
    assignment = session.exec(select(Assignment).where(Assignment.round_id == rnd.id, Assignment.entry_id == entry.id,
                                                       Assignment.judge_id == judge.id)).first()
    if assignment is None or assignment.status != AssignmentStatus.active or \
            scoring.has_conflict(session, judge.id, entry.id):
        raise NotFound(_NOT_YOURS, code="entry_not_found")
    if judge.accepted_at is None:
        raise Forbidden("Accept the cycle (and declare any conflicts) before judging its entries.",
                        code="not_accepted")
    return EntryAccess(judge, rnd, entry, assignment, user)


def entry_access(request: Request, round_id: str, entry_id: str, session: SessionDep,
                 user: CurrentUser) -> EntryAccess:
    return load_entry_access(session, user, round_id, entry_id)
