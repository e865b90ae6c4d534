"""Judges and rounds: appointing and accepting judges, a cycle's four rounds with their versioned
criteria and options, which entries each round judges, assigning judges to keep each entry's quorum,
opening a round and closing it (one admin wins, the other hears 409). Flushes, never commits.

A round's opening and closing move the award cycle through api/awards/states.py:transition (sift
open: sifting; sift closed: shortlisting; shortlist closed: interviewing; interviews closed:
deliberating). The deliberation's sign-off is in deliberation.py.
"""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from api.accounts.models import User
from api.awards import service as awards_service
from api.awards import states
from api.awards.judging import notify
from api.awards.judging.models import (
    ROUND_ORDER,
    Assignment,
    AssignmentStatus,
    CycleJudge,
    JudgeConflict,
    JudgingRound,
    RoundCriteria,
    RoundKind,
    RoundStatus,
    Score,
)
from api.awards.models import AwardCycle, CycleState, Entry
from api.core.db import utcnow
from api.core.errors import Conflict, Invalid, NotFound
from api.core.integrity import flush_unique

ROUND_WORDS = {RoundKind.sift: "Sift", RoundKind.shortlist: "Scored shortlist", RoundKind.interview: "Interviews",
               RoundKind.deliberation: "Final deliberation"}
# The cycle state a round is judged in, and the state its closing moves the cycle to.
ROUND_STATE = {RoundKind.sift: CycleState.sifting, RoundKind.shortlist: CycleState.shortlisting,
               RoundKind.interview: CycleState.interviewing, RoundKind.deliberation: CycleState.deliberating}
AFTER_CLOSE = {RoundKind.sift: CycleState.shortlisting, RoundKind.shortlist: CycleState.interviewing,
               RoundKind.interview: CycleState.deliberating}

DEFAULT_CRITERIA: dict[str, list[dict[str, Any]]] = {
    RoundKind.sift: [{"key": "pass", "label": "Meets the award's bar: pass or fail", "weight": 1, "max": 1}],
    RoundKind.shortlist: [
        {"key": "personal", "label": "Personal transformation", "weight": 1, "max": 10},
        {"key": "professional", "label": "Professional transformation", "weight": 1, "max": 10},
        {"key": "business", "label": "Business transformation delivered", "weight": 2, "max": 10},
    ],
    RoundKind.interview: [
        {"key": "impact", "label": "Impact on customers and colleagues", "weight": 2, "max": 10},
        {"key": "leadership", "label": "Leading others through the change", "weight": 1, "max": 10},
        {"key": "evidence", "label": "Evidence behind the claims", "weight": 1, "max": 10},
    ],
    RoundKind.deliberation: [],
}


def new_public_id() -> str:
    return secrets.token_urlsafe(9)


# --- judges ----------------------------------------------------------------------------------------

def user_by_email(session: Session, email: str) -> User:
    user = session.exec(select(User).where(User.email == email.strip().lower())).first()
    if user is None or not user.is_active:
        raise NotFound(f"No active account uses {email.strip() or 'that address'}: the judge needs a Cadre account "
                       "first.", code="user_not_found")
    return user


def appoint(session: Session, cycle: AwardCycle, user: User, by: User | None) -> CycleJudge:
    if cycle.state in (CycleState.decided, CycleState.announced):
        raise Conflict("This cycle's judging is over; judges can no longer be appointed.", code="judging_over")
    judge = CycleJudge(cycle_id=cycle.id, user_id=user.id, appointed_by_id=getattr(by, "id", None))
    if judge_for(session, cycle.id, user.id) is not None or not flush_unique(session, judge):
        raise Conflict(f"{user.full_name} is already a judge of this cycle.", code="judge_exists")
    notify.appointed(session, cycle, judge, user)
    return judge


def judge_for(session: Session, cycle_id: int, user_id: int) -> CycleJudge | None:
    return session.exec(select(CycleJudge).where(CycleJudge.cycle_id == cycle_id,
                                                 CycleJudge.user_id == user_id)).first()


def judges_of(session: Session, cycle: AwardCycle) -> list[tuple[CycleJudge, User]]:
    """A cycle's panel (a handful of people: not paged)."""
    return list(session.exec(select(CycleJudge, User).join(User, col(User.id) == CycleJudge.user_id)
                             .where(CycleJudge.cycle_id == cycle.id).order_by(col(CycleJudge.id))).all())


def my_judgeships(session: Session, user: User) -> list[tuple[CycleJudge, AwardCycle]]:
    return list(session.exec(select(CycleJudge, AwardCycle).join(AwardCycle, col(AwardCycle.id) == CycleJudge.cycle_id)
                             .where(CycleJudge.user_id == user.id).order_by(col(AwardCycle.year).desc())).all())


def accept(session: Session, judge: CycleJudge, organisation: str) -> CycleJudge:
    """The judge accepts the cycle and states their organisation (conflicts are declared alongside:
    conflicts.declare)."""
    if judge.accepted_at is not None:
        raise Conflict("You have already accepted this cycle.", code="already_accepted")
    judge.organisation = organisation.strip()[:200] or None
    judge.accepted_at = utcnow()
    session.add(judge)
    session.flush()
    return judge


# --- rounds ----------------------------------------------------------------------------------------

def ensure_rounds(session: Session, cycle: AwardCycle, by: User | None) -> list[JudgingRound]:
    """The cycle's four rounds, made with the default criteria the first time."""
    have = {r.kind for r in rounds_of(session, cycle)}
    for kind in ROUND_ORDER:
        if kind in have:
            continue
        row = JudgingRound(public_id=new_public_id(), cycle_id=cycle.id, kind=kind.value,
                           blind=kind == RoundKind.sift, quorum=2 if kind != RoundKind.deliberation else 1,
                           advance=3 if kind == RoundKind.shortlist else None)
        if not flush_unique(session, row):
            continue  # another admin made it a moment ago
        if DEFAULT_CRITERIA[kind]:
            _new_criteria(session, row, DEFAULT_CRITERIA[kind], by)
    return rounds_of(session, cycle)


def rounds_of(session: Session, cycle: AwardCycle) -> list[JudgingRound]:
    rows = session.exec(select(JudgingRound).where(JudgingRound.cycle_id == cycle.id)).all()
    return sorted(rows, key=lambda r: ROUND_ORDER.index(RoundKind(r.kind)))


def round_of(session: Session, cycle: AwardCycle, kind: RoundKind) -> JudgingRound | None:
    return session.exec(select(JudgingRound).where(JudgingRound.cycle_id == cycle.id,
                                                   JudgingRound.kind == kind.value)).first()


def get_round(session: Session, public_id: str) -> JudgingRound:
    row = session.exec(select(JudgingRound).where(JudgingRound.public_id == public_id)).first()
    if row is None:
        raise NotFound("There is no judging round at this address.", code="round_not_found")
    return row


def lock_round(session: Session, rnd: JudgingRound, *, shared: bool = False) -> JudgingRound:
    """The round's row locked (FOR UPDATE, or FOR SHARE for a score) and read afresh: closing waits for
    scores being written, and recusals on one round happen one after the other."""
    session.flush()
    row = session.exec(select(JudgingRound).where(JudgingRound.id == rnd.id)
                       .with_for_update(read=shared)).one()
    session.refresh(row)
    return row


def criteria_of(session: Session, rnd: JudgingRound, version: int | None = None) -> RoundCriteria | None:
    v = rnd.criteria_version if version is None else version
    return session.exec(select(RoundCriteria).where(RoundCriteria.round_id == rnd.id,
                                                    RoundCriteria.version == v)).first()


def scores_exist(session: Session, rnd: JudgingRound) -> bool:
    return session.exec(select(Score.id).join(Assignment, col(Assignment.id) == Score.assignment_id)
                        .where(Assignment.round_id == rnd.id).limit(1)).first() is not None


def _new_criteria(session: Session, rnd: JudgingRound, criteria: list[dict[str, Any]], by) -> RoundCriteria:
    version = rnd.criteria_version + 1
    row = RoundCriteria(round_id=rnd.id, version=version, criteria=criteria, created_by_id=getattr(by, "id", None))
    if not flush_unique(session, row):
        raise Conflict("The criteria changed a moment ago; reload and try again.", code="criteria_changed")
    rnd.criteria_version = version
    session.add(rnd)
    session.flush()
    return row


def parse_criteria(text: str) -> list[dict[str, Any]]:
    """One criterion a line: `label | weight | max` (weight and max whole numbers; max defaults to 10)."""
    out: list[dict[str, Any]] = []
    for n, line in enumerate([x.strip() for x in text.splitlines() if x.strip()], start=1):
        parts = [p.strip() for p in line.split("|")]
        if not parts[0]:
            raise Invalid(f"Line {n}: give the criterion a name.", code="bad_criteria")
        try:
            weight = int(parts[1]) if len(parts) > 1 and parts[1] else 1
            top = int(parts[2]) if len(parts) > 2 and parts[2] else 10
        except ValueError:
            raise Invalid(f"Line {n}: the weight and the top score are whole numbers.", code="bad_criteria") from None
        if weight < 1 or not 1 <= top <= 100:
            raise Invalid(f"Line {n}: a weight is at least 1 and a top score between 1 and 100.", code="bad_criteria")
        key = "".join(ch if ch.isalnum() else "_" for ch in parts[0].lower()).strip("_")[:40] or f"c{n}"
        if any(c["key"] == key for c in out):
            key = f"{key}_{n}"
        out.append({"key": key, "label": parts[0][:120], "weight": weight, "max": top})
    if not out:
        raise Invalid("Give at least one criterion.", code="bad_criteria")
    return out


def set_criteria(session: Session, rnd: JudgingRound, criteria: list[dict[str, Any]], by: User) -> RoundCriteria:
    """A new version of the round's criteria. Refused once any score exists: the scores were given
    against the current version, which is therefore fixed."""
    if rnd.kind in (RoundKind.sift, RoundKind.deliberation):
        raise Invalid("The sift is pass or fail and the deliberation is a decision: neither has criteria to "
                      "change.", code="no_criteria")
    rnd = lock_round(session, rnd)
    if rnd.status == RoundStatus.closed:
        raise Conflict("This round is closed and its results frozen.", code="round_closed")
    if scores_exist(session, rnd):
        raise Conflict("Judges have already scored against these criteria, so they can no longer change.",
                       code="criteria_in_use")
    return _new_criteria(session, rnd, criteria, by)


def set_options(session: Session, rnd: JudgingRound, *, quorum: int, blind: bool, normalise: bool,
                advance: int | None) -> JudgingRound:
    rnd = lock_round(session, rnd)
    if rnd.status == RoundStatus.closed:
        raise Conflict("This round is closed and its results frozen.", code="round_closed")
    if not 1 <= quorum <= 20:
        raise Invalid("The quorum is between 1 and 20 judges.", code="bad_quorum")
    if rnd.kind == RoundKind.sift and quorum < 2:
        raise Invalid("Every entry in the sift is judged by at least two judges.", code="bad_quorum")
    if advance is not None and advance < 1:
        raise Invalid("At least one entry goes on to the next round.", code="bad_advance")
    rnd.quorum, rnd.blind, rnd.normalise, rnd.advance = quorum, blind, normalise, advance
    session.add(rnd)
    session.flush()
    return rnd


def previous_round(session: Session, rnd: JudgingRound) -> JudgingRound | None:
    i = ROUND_ORDER.index(RoundKind(rnd.kind))
    if i == 0:
        return None
    cycle = awards_service.get_cycle(session, rnd.cycle_id)
    return round_of(session, cycle, ROUND_ORDER[i - 1])


def entry_ids_in(session: Session, rnd: JudgingRound) -> list[int]:
    """The entries a round judges: every judged entry for the sift (read in pages of 100); what the
    previous round's current result sent through for the others."""
    prev = previous_round(session, rnd)
    if prev is None:
        cycle = awards_service.get_cycle(session, rnd.cycle_id)
        ids: list[int] = []
        after = None
        while True:
            page = awards_service.entries_for_judging(session, cycle, after_id=after, limit=100)
            ids += [e.id for e in page]
            if len(page) < 100:
                return ids
            after = page[-1].id
    from api.awards.judging import scoring

    current = scoring.current_snapshot(session, prev)
    return list(current["through"]) if current else []


def accepted_judges(session: Session, cycle_id: int) -> list[CycleJudge]:
    return list(session.exec(select(CycleJudge).where(CycleJudge.cycle_id == cycle_id,
                                                      col(CycleJudge.accepted_at).is_not(None))
                             .order_by(col(CycleJudge.id))).all())


def fill(session: Session, rnd: JudgingRound, entry_id: int) -> list[Assignment]:
    """Assign judges to one entry until its active assignments reach the round's quorum (everyone
    free, for an interview panel). The round is locked by the caller. Judges with a conflict, or who
    have had this entry before in this round, are skipped; the least loaded go first."""
    active = session.exec(select(func.count()).select_from(Assignment).where(
        Assignment.round_id == rnd.id, Assignment.entry_id == entry_id,
        Assignment.status == AssignmentStatus.active.value)).one()
    used = set(session.exec(select(Assignment.judge_id).where(Assignment.round_id == rnd.id,
                                                              Assignment.entry_id == entry_id)).all())
    conflicted = set(session.exec(select(JudgeConflict.judge_id).where(JudgeConflict.entry_id == entry_id)).all())
    loads = dict(session.exec(select(Assignment.judge_id, func.count()).where(
        Assignment.round_id == rnd.id, Assignment.status == AssignmentStatus.active.value)
        .group_by(Assignment.judge_id)).all())
    free = [j for j in accepted_judges(session, rnd.cycle_id) if j.id not in used and j.id not in conflicted]
    free.sort(key=lambda j: (loads.get(j.id, 0), j.id))
    want = len(free) if rnd.kind == RoundKind.interview else max(rnd.quorum - active, 0)
    made = []
    for judge in free[:want]:
        row = Assignment(round_id=rnd.id, entry_id=entry_id, judge_id=judge.id)
        if flush_unique(session, row):
            made.append(row)
    return made


def panel_of(session: Session, rnd: JudgingRound, entry_id: int) -> list[User]:
    """The judges actively assigned to one entry in a round (an interview's panel)."""
    return list(session.exec(select(User).join(CycleJudge, col(CycleJudge.user_id) == User.id)
                             .join(Assignment, col(Assignment.judge_id) == CycleJudge.id)
                             .where(Assignment.round_id == rnd.id, Assignment.entry_id == entry_id,
                                    Assignment.status == AssignmentStatus.active.value)
                             .order_by(col(Assignment.id))).all())


def assign_all(session: Session, rnd: JudgingRound) -> int:
    rnd = lock_round(session, rnd)
    if rnd.status == RoundStatus.closed:
        raise Conflict("This round is closed and its results frozen.", code="round_closed")
    return sum(len(fill(session, rnd, entry_id)) for entry_id in entry_ids_in(session, rnd))


def open_round(session: Session, rnd: JudgingRound, by: User) -> JudgingRound:
    cycle = awards_service.get_cycle(session, rnd.cycle_id)
    kind = RoundKind(rnd.kind)
    prev = previous_round(session, rnd)
    if prev is not None and prev.status != RoundStatus.closed:
        raise Conflict(f"Close the {ROUND_WORDS[RoundKind(prev.kind)].lower()} first: this round judges what it "
                       "sends through.", code="previous_open")
    if kind == RoundKind.sift and cycle.state == CycleState.nominations_closed:
        states.transition(session, cycle, CycleState.sifting, by, action="sift_opened")
    if cycle.state != ROUND_STATE[kind]:
        raise Conflict(f"The cycle is {states.WORDS[CycleState(cycle.state)]}: the "
                       f"{ROUND_WORDS[kind].lower()} opens once it is {states.WORDS[ROUND_STATE[kind]]}.",
                       code="cycle_not_ready")
    moved = session.execute(update(JudgingRound).where(JudgingRound.id == rnd.id,
                                                       JudgingRound.status == RoundStatus.draft.value)
                            .values(status=RoundStatus.open.value, opened_at=utcnow())
                            .execution_options(synchronize_session=False)).rowcount
    if moved != 1:
        raise Conflict("This round is already open or closed.", code="round_not_draft")
    session.refresh(rnd)
    if kind != RoundKind.deliberation:
        assign_all(session, rnd)
        notify.round_open(session, cycle, rnd)
    return rnd


def quorum_gaps(session: Session, rnd: JudgingRound) -> dict[int, tuple[int, int]]:
    """Entries short of the quorum: entry id -> (counted scores, active assignments)."""
    scored = dict(session.exec(select(Assignment.entry_id, func.count()).join(Score, col(Score.assignment_id) ==
                                                                              Assignment.id)
                               .where(Assignment.round_id == rnd.id, Assignment.status == AssignmentStatus.active.value)
                               .group_by(Assignment.entry_id)).all())
    active = dict(session.exec(select(Assignment.entry_id, func.count()).where(
        Assignment.round_id == rnd.id, Assignment.status == AssignmentStatus.active.value)
        .group_by(Assignment.entry_id)).all())
    gaps = {}
    for entry_id in entry_ids_in(session, rnd):
        if scored.get(entry_id, 0) < rnd.quorum:
            gaps[entry_id] = (scored.get(entry_id, 0), active.get(entry_id, 0))
    return gaps


def close_round(session: Session, rnd: JudgingRound, by: User) -> JudgingRound:
    """Freeze the round's results. Two admins at once meet at the conditional UPDATE: one closes it,
    the other gets 409 and nothing changes."""
    from api.awards.judging import scoring

    kind = RoundKind(rnd.kind)
    if kind == RoundKind.deliberation:
        raise Invalid("The deliberation closes when it is signed off.", code="sign_off_instead")
    if rnd.status == RoundStatus.closed:  # the same answer as losing the race at the UPDATE below
        raise Conflict("This round has been closed already; its results are frozen.", code="round_closed")
    if rnd.status != RoundStatus.open:
        raise Conflict("This round has not been opened yet.", code="round_not_open")
    moved = session.execute(update(JudgingRound).where(JudgingRound.id == rnd.id,
                                                       JudgingRound.status == RoundStatus.open.value)
                            .values(status=RoundStatus.closed.value, closed_at=utcnow(), closed_by_id=by.id)
                            .execution_options(synchronize_session=False)).rowcount
    if moved != 1:
        raise Conflict("Another administrator closed this round a moment ago; its results are frozen.",
                       code="round_closed")
    session.refresh(rnd)
    gaps = quorum_gaps(session, rnd)
    if gaps:
        raise Conflict(f"{len(gaps)} entr{'y is' if len(gaps) == 1 else 'ies are'} short of the quorum of "
                       f"{rnd.quorum} scores. Assign more judges or wait for their scores, then close.",
                       code="quorum_gap")
    scoring.freeze(session, rnd, by)
    cycle = awards_service.get_cycle(session, rnd.cycle_id)
    if cycle.state != AFTER_CLOSE[kind]:  # an administrator may have moved the cycle on by hand already
        states.transition(session, cycle, AFTER_CLOSE[kind], by, action=f"{kind.value}_closed")
    if kind == RoundKind.interview:
        nxt = round_of(session, cycle, RoundKind.deliberation)
        if nxt is not None and nxt.status == RoundStatus.draft:
            open_round(session, nxt, by)
    return rnd


def entry_label(entry: Entry) -> str:
    """How a blind screen names an entry: a reference, never the person."""
    return f"Entry {entry.public_id[:6].upper()}"
