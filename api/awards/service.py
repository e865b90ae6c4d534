"""Award cycles: creating and editing a cycle and its milestones, the lookups other domains use
(judging reads entries and nominees through here), and recording the deliberation's outcomes.
Flushes, never commits. Nominations and entries are in nominations.py; the announcement in announce.py.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from api.awards import states
from api.awards.models import (
    AwardCycle,
    CycleMilestone,
    CycleOutcome,
    CycleState,
    Entry,
    EntryState,
    MilestoneKind,
    Nomination,
    Nominee,
    OutcomeKind,
)
from api.core import pagecache, timezones
from api.core.db import utcnow
from api.core.errors import Conflict, Invalid, NotFound
from api.halloffame.models import Award
from api.halloffame.service import slugify

MILESTONE_WORDS: dict[str, str] = {
    MilestoneKind.nominations_open: "Nominations open",
    MilestoneKind.nominations_close: "Nominations close",
    MilestoneKind.entries_due: "Entries due",
    MilestoneKind.sift: "Sift of entries",
    MilestoneKind.shortlist: "Shortlist scored",
    MilestoneKind.interviews: "Interviews",
    MilestoneKind.deliberation: "Final deliberation",
    MilestoneKind.announcement: "Winners announced",
}
MILESTONE_ORDER = list(MilestoneKind)


def public_id() -> str:
    return secrets.token_urlsafe(12)


# --- cycles ------------------------------------------------------------------------------------

def award_by_slug(session: Session, slug: str) -> Award:
    award = session.exec(select(Award).where(Award.slug == slug, col(Award.retired_at).is_(None))).first()
    if award is None:
        raise NotFound("There is no award at this address.")
    return award


def create_cycle(session: Session, award: Award, year: int, actor: Any, *, title: str | None = None,
                 description: str = "", self_nomination_allowed: bool = False,
                 requires_current_accreditation: list[str] | None = None) -> AwardCycle:
    if not 2000 <= year <= 2200:
        raise Invalid("Give the cycle's year as four digits, e.g. 2027.", code="bad_year")
    cycle = AwardCycle(award_id=award.id, year=year, slug=f"{slugify(award.slug)}-{year}",
                       title=(title or f"{award.title} {year}").strip()[:200], description=description,
                       self_nomination_allowed=self_nomination_allowed,
                       eligibility=eligibility_rule(session, requires_current_accreditation),
                       created_by_id=getattr(actor, "id", actor))
    try:
        with session.begin_nested():
            session.add(cycle)
            session.flush()
    except IntegrityError:
        raise Conflict(f"{award.title} already has a {year} cycle.", code="cycle_exists") from None
    states.record(session, cycle, actor, "created", None, cycle.state)
    return cycle


def eligibility_rule(session: Session, codes: list[str] | None) -> dict[str, Any]:
    """{"requires_current_accreditation": [codes]} for codes the catalogue knows; {} for no rule."""
    from api.catalog.models import Programme

    wanted = sorted({c.strip().upper() for c in (codes or []) if c.strip()})
    if not wanted:
        return {}
    known = set(session.exec(select(Programme.code).where(col(Programme.code).in_(wanted))).all())
    unknown = [c for c in wanted if c not in known]
    if unknown:
        raise Invalid(f"No programme has the code {', '.join(unknown)}.", code="unknown_programme")
    return {"requires_current_accreditation": wanted}


def update_cycle(session: Session, cycle: AwardCycle, actor: Any, *, title: str, description: str,
                 self_nomination_allowed: bool, requires_current_accreditation: list[str] | None) -> AwardCycle:
    if cycle.state in (CycleState.decided, CycleState.announced):
        raise Conflict("This cycle is decided; its settings can no longer change.", code="cycle_decided")
    cycle.title = title.strip()[:200] or cycle.title
    cycle.description = description
    cycle.self_nomination_allowed = self_nomination_allowed
    cycle.eligibility = eligibility_rule(session, requires_current_accreditation)
    cycle.updated_at = utcnow()
    session.add(cycle)
    states.record(session, cycle, actor, "edited", cycle.state, cycle.state)
    pagecache.invalidate(session)
    return cycle


def get_cycle(session: Session, cycle_id: int) -> AwardCycle:
    cycle = session.get(AwardCycle, cycle_id)
    if cycle is None:
        raise NotFound("There is no such award cycle.")
    return cycle


def cycle_by_slug(session: Session, slug: str, *, public: bool = True) -> AwardCycle:
    """A cycle by its slug; a draft is not there for the public."""
    cycle = session.exec(select(AwardCycle).where(AwardCycle.slug == slug)).first()
    if cycle is None or (public and cycle.state == CycleState.draft):
        raise NotFound("There is no award cycle at this address.")
    return cycle


def cycles(session: Session, *, public: bool = True) -> list[AwardCycle]:
    """Every cycle, newest year first (one a year per award: a short list)."""
    q = select(AwardCycle).order_by(col(AwardCycle.year).desc(), col(AwardCycle.id).desc())
    if public:
        q = q.where(AwardCycle.state != CycleState.draft.value)
    return list(session.exec(q).all())


def open_cycles(session: Session) -> list[AwardCycle]:
    return [c for c in cycles(session) if c.state == CycleState.nominations_open]


# --- milestones ----------------------------------------------------------------------------------

def set_milestone(session: Session, cycle: AwardCycle, kind: MilestoneKind | str, day: date, at: time,
                  zone_name: str, actor: Any = None) -> CycleMilestone:
    """Set (or move) one milestone: a wall-clock time in its zone, refused where a clock change skips
    or repeats it; the UTC instant derived. The announcement milestone is the embargo."""
    try:
        kind = MilestoneKind(kind)
    except ValueError:
        raise Invalid(f"'{kind}' is not a milestone of an award cycle.", code="bad_milestone") from None
    if cycle.state == CycleState.announced:
        raise Conflict("This cycle has been announced; its milestones are history now.", code="cycle_announced")
    if not timezones.is_zone(zone_name):
        raise Invalid(f"'{zone_name}' is not a time zone Cadre knows; choose one from the list.", code="bad_zone")
    problem = timezones.local_problem(day, at, zone_name)
    if problem:
        raise Invalid(problem.message, code=f"time_{problem.kind}")
    instant = timezones.to_utc(day, at, zone_name)
    row = session.exec(select(CycleMilestone).where(CycleMilestone.cycle_id == cycle.id,
                                                    CycleMilestone.kind == kind.value)).first()
    if row is None:
        row = CycleMilestone(cycle_id=cycle.id, kind=kind.value, local_date=day, local_time=at,
                             time_zone=zone_name, at=instant)
    else:
        row.local_date, row.local_time, row.time_zone, row.at = day, at, zone_name, instant
    session.add(row)
    if kind == MilestoneKind.announcement:
        cycle.embargo_until = instant
        cycle.updated_at = utcnow()
        session.add(cycle)
    session.flush()
    states.record(session, cycle, actor, "milestone", cycle.state, cycle.state,
                  data={"kind": kind.value, "local": f"{day.isoformat()}T{at:%H:%M}", "zone": zone_name})
    pagecache.invalidate(session)
    return row


def milestones(session: Session, cycle: AwardCycle) -> list[CycleMilestone]:
    rows = session.exec(select(CycleMilestone).where(CycleMilestone.cycle_id == cycle.id)).all()
    return sorted(rows, key=lambda m: MILESTONE_ORDER.index(MilestoneKind(m.kind)))


def milestone_at(session: Session, cycle: AwardCycle, kind: MilestoneKind) -> datetime | None:
    return session.exec(select(CycleMilestone.at).where(CycleMilestone.cycle_id == cycle.id,
                                                        CycleMilestone.kind == kind.value)).first()


# --- what judging reads ---------------------------------------------------------------------------

def entries_for_judging(session: Session, cycle: AwardCycle, *, after_id: int | None = None,
                        limit: int = 100) -> list[Entry]:
    """Submitted entries whose nominee consented to judging, by id (keyset: pass the last id seen)."""
    q = (select(Entry).join(Nominee, col(Nominee.id) == Entry.nominee_id)
         .where(Entry.cycle_id == cycle.id, Entry.state == EntryState.submitted.value,
                col(Nominee.consent_judging_at).is_not(None))
         .order_by(col(Entry.id)).limit(limit))
    if after_id is not None:
        q = q.where(col(Entry.id) > after_id)
    return list(session.exec(q).all())


@dataclass(frozen=True)
class EntryContact:
    """Who an entry is by: for conflict checks (organisation, email, account) and the final pages."""

    entry_id: int
    nominee_id: int
    name: str
    email: str  # normalised
    organisation: str | None
    user_id: int | None
    nominator_ids: tuple[int, ...]
    endorser_emails: tuple[str, ...]


def entry_contact(session: Session, entry: Entry) -> EntryContact:
    nominee = session.get(Nominee, entry.nominee_id)
    assert nominee is not None
    noms = session.exec(select(Nomination).where(Nomination.nominee_id == nominee.id)).all()
    return EntryContact(entry_id=entry.id, nominee_id=nominee.id, name=nominee.name, email=nominee.email_normalised,
                        organisation=nominee.organisation, user_id=nominee.user_id,
                        nominator_ids=tuple(sorted({n.nominator_id for n in noms})),
                        endorser_emails=tuple(sorted({e for n in noms for e in n.endorsers})))


def get_entry(session: Session, entry_id: int, cycle: AwardCycle | None = None) -> Entry:
    entry = session.get(Entry, entry_id)
    if entry is None or (cycle is not None and entry.cycle_id != cycle.id):
        raise NotFound("There is no such entry in this cycle.")
    return entry


# --- outcomes ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class OutcomeIn:
    entry_id: int
    kind: OutcomeKind | str  # winner | highly_commended
    citation: str


def record_outcomes(session: Session, cycle: AwardCycle, outcomes: list[OutcomeIn] | list[dict[str, Any]],
                    actor: Any) -> list[CycleOutcome]:
    """Write the deliberation's outcomes and move the cycle from deliberating to decided (under embargo):
    judging's sign-off calls this once. Refused (409, nothing written) when the cycle is not
    deliberating, an entry is not a judged entry of this cycle, or no winner is named."""
    items = [o if isinstance(o, OutcomeIn) else OutcomeIn(**o) for o in outcomes]
    if cycle.state != CycleState.deliberating:
        raise Conflict(f"Outcomes are recorded at the end of deliberation; this cycle is "
                       f"{states.WORDS[CycleState(cycle.state)]}.", code="not_deliberating")
    if not any(OutcomeKind(o.kind) == OutcomeKind.winner for o in items):
        raise Invalid("Name at least one winner.", code="no_winner")
    seen: set[int] = set()
    rows: list[CycleOutcome] = []
    for o in items:
        kind = OutcomeKind(o.kind)
        citation = (o.citation or "").strip()
        if not citation:
            raise Invalid("Every outcome needs a citation: what the judges recognise.", code="no_citation")
        if o.entry_id in seen:
            raise Invalid("Each entry has one outcome.", code="duplicate_entry")
        seen.add(o.entry_id)
        entry = get_entry(session, o.entry_id, cycle)
        if entry.state != EntryState.submitted:
            raise Conflict("Only a submitted entry can win or be highly commended.", code="entry_not_submitted")
        nominee = session.get(Nominee, entry.nominee_id)
        assert nominee is not None
        rows.append(CycleOutcome(cycle_id=cycle.id, entry_id=entry.id, kind=kind.value, citation=citation,
                                 slug=f"{cycle.year}-{slugify(nominee.name)}-{secrets.token_hex(3)}",
                                 recorded_by_id=getattr(actor, "id", actor)))
    try:
        with session.begin_nested():
            session.add_all(rows)
            session.flush()
    except IntegrityError:
        raise Conflict("This cycle's outcomes were recorded a moment ago.", code="outcomes_exist") from None
    states.transition(session, cycle, CycleState.decided, actor, action="outcomes_recorded",
                      data={"winners": sum(r.kind == OutcomeKind.winner for r in rows), "outcomes": len(rows)})
    return rows


def outcomes(session: Session, cycle: AwardCycle) -> list[CycleOutcome]:
    return list(session.exec(select(CycleOutcome).where(CycleOutcome.cycle_id == cycle.id)
                             .order_by(col(CycleOutcome.kind).desc(), col(CycleOutcome.id))).all())


# --- what the administrator's pages read ----------------------------------------------------------

def entries_for_nominees(session: Session, nominee_ids: list[int]) -> list[Entry]:
    """The entries of one page of nominees (the ids come from a page of at most 50)."""
    if not nominee_ids:
        return []
    return list(session.exec(select(Entry).where(col(Entry.nominee_id).in_(nominee_ids))).all())


def entry_names(session: Session, entry_ids: list[int]) -> dict[int, str]:
    """Entry id -> the nominee's name, for a cycle's outcomes (a handful)."""
    if not entry_ids:
        return {}
    rows = session.exec(select(Entry.id, Nominee.name).join(Nominee, col(Nominee.id) == Entry.nominee_id)
                        .where(col(Entry.id).in_(entry_ids))).all()
    return {i: n for i, n in rows}


def entry_by_public_id(session: Session, cycle: AwardCycle, public_id: str) -> Entry:
    entry = session.exec(select(Entry).where(Entry.public_id == public_id, Entry.cycle_id == cycle.id)).first()
    if entry is None:
        raise NotFound("There is no such entry in this cycle.")
    return entry


def nominee_of(session: Session, entry: Entry) -> Nominee:
    nominee = session.get(Nominee, entry.nominee_id)
    assert nominee is not None
    return nominee


def nominations_for(session: Session, nominee: Nominee) -> list[Nomination]:
    return list(session.exec(select(Nomination).where(Nomination.nominee_id == nominee.id)
                             .order_by(col(Nomination.id))).all())


def advance(session: Session, cycle: AwardCycle, actor: Any, expected_version: int | None = None) -> AwardCycle:
    """The administrator's "move on" button: the next stage, except the two that have their own door
    (deliberating -> decided is the judges' sign-off, record_outcomes; decided -> announced is announce)."""
    if cycle.state == CycleState.deliberating:
        raise Conflict("Deliberation ends when the judges sign off their decision, which records the outcomes.",
                       code="use_sign_off")
    if cycle.state == CycleState.decided:
        raise Conflict("A decided cycle is announced with the Announce button once the embargo lifts.",
                       code="use_announce")
    target = states.next_state(cycle.state)
    if target is None:
        raise Conflict("This cycle has been announced; there is no later stage.", code="transition_not_allowed")
    return states.transition(session, cycle, target, actor, reason="moved on by an administrator",
                             expected_version=expected_version)
