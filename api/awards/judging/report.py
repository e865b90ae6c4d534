"""What the screens read: a judge's queue, the administrator's cycle dashboard (progress per round and
per judge, quorum gaps, conflicts), a round's table of entries and judges, and the cycle's fairness
report (from the rounds' stored results) as rows for the page and for the CSV export."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from api.accounts.models import User
from api.awards import service as awards_service
from api.awards.judging import conflicts, interviews, scoring, service
from api.awards.judging.models import (
    Assignment,
    AssignmentStatus,
    CycleJudge,
    JudgeConflict,
    JudgingRound,
    RoundKind,
    RoundStatus,
    Score,
)
from api.awards.models import AwardCycle, Entry


@dataclass
class QueueItem:
    round: JudgingRound
    entry: Entry
    assignment: Assignment
    label: str
    scored: bool
    slot: Any = None


@dataclass
class Judgeship:
    judge: CycleJudge
    cycle: AwardCycle
    items: list[QueueItem] = field(default_factory=list)

    @property
    def to_do(self) -> int:
        return sum(1 for i in self.items if not i.scored and i.round.status == RoundStatus.open)


def label_for(session: Session, rnd: JudgingRound, entry: Entry) -> str:
    """A blind round names the entry by reference; otherwise by the nominee's name."""
    if rnd.blind:
        return service.entry_label(entry)
    return awards_service.entry_contact(session, entry).name


def queue(session: Session, user: User) -> list[Judgeship]:
    out = []
    for judge, cycle in service.my_judgeships(session, user):
        ship = Judgeship(judge, cycle)
        if judge.accepted_at is not None:
            q = (select(Assignment, JudgingRound, Entry)
                 .join(JudgingRound, col(JudgingRound.id) == Assignment.round_id)
                 .join(Entry, col(Entry.id) == Assignment.entry_id)
                 .where(Assignment.judge_id == judge.id, Assignment.status == AssignmentStatus.active.value,
                        JudgingRound.status == RoundStatus.open.value)
                 .order_by(col(JudgingRound.id), col(Assignment.id)))
            for a, rnd, entry in session.exec(q):
                if scoring.has_conflict(session, judge.id, entry.id):
                    continue
                ship.items.append(QueueItem(rnd, entry, a, label_for(session, rnd, entry),
                                            scoring.score_of(session, a) is not None,
                                            interviews.slot_for(session, rnd, entry.id)
                                            if rnd.kind == RoundKind.interview else None))
        out.append(ship)
    return out


@dataclass
class RoundProgress:
    round: JudgingRound
    entries: int
    assigned: int
    scored: int
    gaps: dict[int, tuple[int, int]]


def _counts(session: Session, rnd: JudgingRound, by: Any) -> dict[Any, int]:
    return dict(session.exec(select(by, func.count()).where(Assignment.round_id == rnd.id,
                                                            Assignment.status == AssignmentStatus.active.value)
                             .group_by(by)).all())


def _scored_counts(session: Session, rnd: JudgingRound, by: Any) -> dict[Any, int]:
    return dict(session.exec(select(by, func.count()).join(Score, col(Score.assignment_id) == Assignment.id)
                             .where(Assignment.round_id == rnd.id, Assignment.status == AssignmentStatus.active.value)
                             .group_by(by)).all())


def dashboard(session: Session, cycle: AwardCycle) -> dict[str, Any]:
    rounds = service.rounds_of(session, cycle)
    progress = []
    per_judge: dict[int, dict[str, tuple[int, int]]] = defaultdict(dict)
    for rnd in rounds:
        if rnd.kind == RoundKind.deliberation:
            progress.append(RoundProgress(rnd, len(service.entry_ids_in(session, rnd)) if _ready(session, rnd)
                                          else 0, 0, 0, {}))
            continue
        entries = len(service.entry_ids_in(session, rnd)) if _ready(session, rnd) else 0
        assigned, scored = _counts(session, rnd, Assignment.judge_id), _scored_counts(session, rnd, Assignment.judge_id)
        for judge_id, n in assigned.items():
            per_judge[judge_id][rnd.kind] = (scored.get(judge_id, 0), n)
        gaps = service.quorum_gaps(session, rnd) if rnd.status == RoundStatus.open else {}
        progress.append(RoundProgress(rnd, entries, sum(assigned.values()), sum(scored.values()), gaps))
    conflict_counts = dict(session.exec(select(JudgeConflict.judge_id, func.count(func.distinct(
        JudgeConflict.entry_id))).where(JudgeConflict.cycle_id == cycle.id).group_by(JudgeConflict.judge_id)).all())
    judges = [{"judge": j, "user": u, "rounds": per_judge.get(j.id, {}), "conflicts": conflict_counts.get(j.id, 0)}
              for j, u in service.judges_of(session, cycle)]
    return {"rounds": progress, "judges": judges}


def _ready(session: Session, rnd: JudgingRound) -> bool:
    prev = service.previous_round(session, rnd)
    return prev is None or prev.status == RoundStatus.closed


def conflict_rows(session: Session, cycle: AwardCycle, *, after_id: int | None = None, limit: int = 50):
    rows = conflicts.cycle_conflicts(session, cycle, after_id=after_id, limit=limit)
    out = []
    for c in rows:
        judge = session.get(CycleJudge, c.judge_id)
        entry = session.get(Entry, c.entry_id)
        out.append({"conflict": c, "judge": session.get(User, judge.user_id),
                    "nominee": awards_service.entry_contact(session, entry).name,
                    "words": conflicts.WORDS.get(c.kind, c.kind)})
    return out, (rows[-1].id if len(rows) == limit else None)


def round_table(session: Session, rnd: JudgingRound, *, after: int | None = None, limit: int = 50
                ) -> tuple[list[dict[str, Any]], int | None]:
    """A page of the round's entries (by id, keyset: `after` the last id seen) with their assignments
    (judge, status, score): the administrator's view. Returns the rows and the `after` of the next page."""
    out = []
    judges = {j.id: u for j, u in service.judges_of(session, awards_service.get_cycle(session, rnd.cycle_id))}
    ids = sorted(i for i in (service.entry_ids_in(session, rnd) if _ready(session, rnd) else [])
                 if after is None or i > after)
    for entry_id in ids[:limit]:
        entry = session.get(Entry, entry_id)
        rows = session.exec(select(Assignment).where(Assignment.round_id == rnd.id, Assignment.entry_id == entry_id)
                            .order_by(col(Assignment.id))).all()
        assigned = [{"assignment": a, "judge": judges.get(a.judge_id), "score": scoring.score_of(session, a)}
                    for a in rows]
        counted = sum(1 for x in assigned if x["score"] and x["assignment"].status == AssignmentStatus.active)
        out.append({"entry": entry, "name": awards_service.entry_contact(session, entry).name,
                    "label": service.entry_label(entry), "assigned": assigned, "counted": counted,
                    "slot": interviews.slot_for(session, rnd, entry_id) if rnd.kind == RoundKind.interview else None})
    return out, (ids[limit - 1] if len(ids) > limit else None)


def names(session: Session, cycle: AwardCycle) -> tuple[dict[int, str], dict[int, str]]:
    """Judge id -> name and entry id -> nominee name, for reading stored snapshots."""
    judges = {j.id: u.full_name for j, u in service.judges_of(session, cycle)}
    entries: dict[int, str] = {}
    for e in conflicts._entries(session, cycle):
        entries[e.id] = awards_service.entry_contact(session, e).name
    return judges, entries


def fairness(session: Session, cycle: AwardCycle) -> dict[str, Any]:
    """Each closed round's stored fairness section and rankings, and the cycle's conflict rate (pairs
    of judge and entry with a conflict, out of every pair)."""
    rounds = []
    for rnd in service.rounds_of(session, cycle):
        snap = scoring.current_snapshot(session, rnd) if rnd.kind != RoundKind.deliberation else None
        if snap is not None:
            result = scoring.frozen(session, rnd)
            rounds.append({"round": rnd, "snapshot": snap, "amendments": len(scoring.amendments(session, result)),
                           "frozen_at": result.frozen_at})
    judges = len(service.accepted_judges(session, cycle.id))
    entries = sum(1 for _ in conflicts._entries(session, cycle))
    pairs = session.exec(select(func.count()).select_from(
        select(JudgeConflict.judge_id, JudgeConflict.entry_id).where(JudgeConflict.cycle_id == cycle.id)
        .distinct().subquery())).one()
    by_kind = dict(session.exec(select(JudgeConflict.kind, func.count()).where(JudgeConflict.cycle_id == cycle.id)
                                .group_by(JudgeConflict.kind)).all())
    possible = judges * entries
    return {"rounds": rounds, "conflicts": {"pairs": pairs, "possible": possible,
                                            "rate": round(pairs / possible, 4) if possible else None,
                                            "by_kind": by_kind}}


def csv_rows(session: Session, cycle: AwardCycle) -> Iterator[list[Any]]:
    """The fairness report as rows: round, section, subject, measure, value."""
    judge_names, entry_names = names(session, cycle)
    data = fairness(session, cycle)
    yield ["round", "section", "subject", "measure", "value"]
    for r in data["rounds"]:
        kind, snap = r["round"].kind, r["snapshot"]
        f = snap["fairness"]
        for j in f["judges"]:
            who = judge_names.get(j["judge"], f"judge {j['judge']}")
            for m in ("count", "mean", "sd", "low", "high", "range"):
                yield [kind, "dispersion", who, m, j[m]]
            if j["zero_spread"]:
                yield [kind, "dispersion", who, "zero_spread", "yes"]
        for a in f["agreement"]:
            yield [kind, "agreement", a["label"], f"krippendorff_alpha_{a['metric']}", a["alpha"]]
            yield [kind, "agreement", a["label"], "entries_with_two_or_more_scores", a["units"]]
        n = snap["normalisation"]
        if n.get("applies"):
            yield [kind, "normalisation", "ranking", "kendall_tau_raw_vs_normalised", n["tau"]]
            yield [kind, "normalisation", "ranking", "entries_changing_rank", n["rank_changes"]]
            for judge, note in n["notes"].items():
                yield [kind, "normalisation", judge_names.get(int(judge), judge), "fallback", note]
        for e in snap["entries"]:
            who = entry_names.get(e["entry"], f"entry {e['entry']}")
            yield [kind, "ranking", who, "raw_rank", e["raw_rank"]]
            yield [kind, "ranking", who, "normalised_rank", e["norm_rank"]]
        yield [kind, "conflicts", "assignments", "conflict_rate", f["conflict_rate"]]
    c = data["conflicts"]
    yield ["cycle", "conflicts", "judge-entry pairs", "conflicted", c["pairs"]]
    yield ["cycle", "conflicts", "judge-entry pairs", "rate", c["rate"]]
