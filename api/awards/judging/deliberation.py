"""The final deliberation: who attended, the decision for each interviewed entry (winner, highly
commended, or nothing) with its citation, the reasons. Editable until sign-off; sign-off locks it,
records the outcomes with the awards domain (which moves the cycle to decided, under embargo) and
closes the round. Two sign-offs at once: the row lock lets one through, the other hears 409."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, select

from api.accounts.models import User
from api.awards import service as awards_service
from api.awards.judging import service
from api.awards.judging.models import CycleJudge, Deliberation, JudgingRound, RoundKind, RoundStatus
from api.awards.models import OutcomeKind
from api.core.db import utcnow
from api.core.errors import Conflict, Invalid
from api.core.integrity import flush_unique

KINDS = {"winner": "Winner", "highly_commended": "Highly commended"}


def record_of(session: Session, rnd: JudgingRound, *, lock: bool = False) -> Deliberation:
    """The round's record, made (and locked, with `lock`) the first time it is written; a reader gets
    an unsaved empty one instead."""
    if rnd.kind != RoundKind.deliberation:
        raise Invalid("Only the final deliberation has a deliberation record.", code="not_deliberation")
    q = select(Deliberation).where(Deliberation.round_id == rnd.id)
    row = session.exec(q.with_for_update() if lock else q).first()
    if row is None and not lock:
        return Deliberation(round_id=rnd.id)
    if row is None:
        flush_unique(session, Deliberation(round_id=rnd.id))
        row = session.exec(q.with_for_update() if lock else q).one()
    return row


def save(session: Session, rnd: JudgingRound, *, attendees: list[int], decisions: list[dict[str, Any]],
         reasons: str) -> Deliberation:
    if rnd.status != RoundStatus.open:
        raise Conflict("The deliberation opens when the interviews close." if rnd.status == RoundStatus.draft
                       else "The deliberation has been signed off and is locked.", code="deliberation_locked")
    row = record_of(session, rnd, lock=True)
    if row.signed_off_at is not None:
        raise Conflict("The deliberation has been signed off and is locked.", code="deliberation_locked")
    panel = {j.id for j in service.accepted_judges(session, rnd.cycle_id)}
    if any(a not in panel for a in attendees):
        raise Invalid("Attendees are judges of this cycle.", code="bad_attendee")
    allowed = set(service.entry_ids_in(session, rnd))
    clean = []
    for d in decisions:
        if d["entry_id"] not in allowed:
            raise Invalid("Decisions are about the interviewed entries.", code="bad_entry")
        if d["kind"] not in KINDS:
            continue  # "no award" for this entry
        citation = (d.get("citation") or "").strip()
        if not citation:
            raise Invalid("Every winner and every highly commended entry needs a citation.", code="no_citation")
        clean.append({"entry_id": d["entry_id"], "kind": d["kind"], "citation": citation[:2000]})
    row.attendees, row.decisions, row.reasons, row.updated_at = sorted(set(attendees)), clean, reasons.strip(), utcnow()
    session.add(row)
    session.flush()
    return row


def sign_off(session: Session, rnd: JudgingRound, by: User) -> Deliberation:
    row = record_of(session, rnd, lock=True)
    if row.signed_off_at is not None or rnd.status == RoundStatus.closed:
        raise Conflict("The deliberation was signed off already; it is locked.", code="deliberation_locked")
    if rnd.status != RoundStatus.open:
        raise Conflict("The deliberation opens when the interviews close.", code="deliberation_not_open")
    if not row.attendees:
        raise Invalid("Record who attended before signing off.", code="no_attendees")
    if not any(d["kind"] == OutcomeKind.winner for d in row.decisions):
        raise Invalid("Name the winner before signing off.", code="no_winner")
    if not row.reasons:
        raise Invalid("Record the reasons for the decision before signing off.", code="no_reasons")
    cycle = awards_service.get_cycle(session, rnd.cycle_id)
    awards_service.record_outcomes(session, cycle, [dict(d) for d in row.decisions], by)
    now = utcnow()
    row.signed_off_at, row.signed_off_by_id = now, by.id
    rnd.status, rnd.closed_at, rnd.closed_by_id = RoundStatus.closed.value, now, by.id
    session.add_all([row, rnd])
    session.flush()
    return row


def attendee_names(session: Session, row: Deliberation) -> list[str]:
    names = []
    for judge_id in row.attendees:
        judge = session.get(CycleJudge, judge_id)
        if judge is not None:
            names.append(session.get(User, judge.user_id).full_name)
    return names
