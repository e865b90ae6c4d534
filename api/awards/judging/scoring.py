"""Scores and results: a judge scores an assigned entry while the round is open; closing the round
freezes its results (raw and normalised rankings and the fairness report); a change after that is an
amendment (a new numbered snapshot with its reason), never a rewrite of the frozen result."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from api.accounts.models import User
from api.awards.judging import results, service
from api.awards.judging.models import (
    Amendment,
    Assignment,
    AssignmentStatus,
    FrozenResult,
    JudgeConflict,
    JudgingRound,
    RoundKind,
    RoundStatus,
    Score,
)
from api.awards.judging.stats import weighted_total
from api.core.db import utcnow
from api.core.errors import Conflict, Invalid, NotFound
from api.core.integrity import flush_unique


def score_of(session: Session, assignment: Assignment) -> Score | None:
    return session.exec(select(Score).where(Score.assignment_id == assignment.id)).first()


def submit(session: Session, assignment: Assignment, values: dict[str, str], comment: str = "") -> Score:
    """Score (or re-score, while the round is open) one assignment. The caller's policy has checked
    that the assignment is the judge's own and unconflicted; this checks it again under the round's
    shared lock, so a score cannot land in a round being closed."""
    rnd = service.lock_round(session, session.get(JudgingRound, assignment.round_id), shared=True)
    if rnd.status != RoundStatus.open:
        raise Conflict("This round is closed: its results are frozen and scores can no longer change."
                       if rnd.status == RoundStatus.closed else "This round has not opened for scoring yet.",
                       code="round_not_open")
    session.refresh(assignment)
    if assignment.status != AssignmentStatus.active or has_conflict(session, assignment.judge_id, assignment.entry_id):
        raise NotFound("There is no entry for you to score at this address.", code="entry_not_found")
    criteria = service.criteria_of(session, rnd)
    if criteria is None:
        raise Conflict("This round has no criteria yet; the award administrator sets them.", code="no_criteria")
    scores, passed = _clean(rnd, criteria.criteria, values)
    weights = {c["key"]: c["weight"] for c in criteria.criteria}
    total = weighted_total(scores, weights)
    row = score_of(session, assignment)
    now = utcnow()
    if row is None:
        row = Score(assignment_id=assignment.id, criteria_id=criteria.id, scores=scores, total=total, passed=passed,
                    comment=comment.strip()[:4000], submitted_at=now, updated_at=now)
        if not flush_unique(session, row):
            raise Conflict("Your score was saved a moment ago from another tab; reload to see it.",
                           code="score_exists")
        return row
    row.criteria_id, row.scores, row.total, row.passed = criteria.id, scores, total, passed
    row.comment, row.updated_at = comment.strip()[:4000], now
    session.add(row)
    session.flush()
    return row


def _clean(rnd: JudgingRound, criteria: list[dict[str, Any]], values: dict[str, str]):
    if rnd.kind == RoundKind.sift:
        vote = (values.get("pass") or "").strip()
        if vote not in ("pass", "fail"):
            raise Invalid("Choose pass or fail.", code="no_vote")
        return {"pass": 1 if vote == "pass" else 0}, vote == "pass"
    out: dict[str, float] = {}
    for c in criteria:
        raw = (values.get(c["key"]) or "").strip()
        try:
            value = int(raw)
        except ValueError:
            raise Invalid(f"{c['label']}: give a whole number from 0 to {c['max']}.", code="bad_score") from None
        if not 0 <= value <= c["max"]:
            raise Invalid(f"{c['label']}: give a whole number from 0 to {c['max']}.", code="bad_score")
        out[c["key"]] = value
    return out, None


def has_conflict(session: Session, judge_id: int, entry_id: int) -> bool:
    return session.exec(select(JudgeConflict.id).where(JudgeConflict.judge_id == judge_id,
                                                       JudgeConflict.entry_id == entry_id)).first() is not None


# --- results ---------------------------------------------------------------------------------------

def compute(session: Session, rnd: JudgingRound) -> dict[str, Any]:
    """The round's snapshot from what is stored now: active assignments' scores counted; scores by a
    judge later found conflicted left out and listed."""
    rows: list[results.ScoreRow] = []
    excluded: list[dict[str, Any]] = []
    q = (select(Assignment, Score).join(Score, col(Score.assignment_id) == Assignment.id)
         .where(Assignment.round_id == rnd.id).order_by(col(Assignment.id)))
    for a, s in session.exec(q):
        if a.status == AssignmentStatus.active and not has_conflict(session, a.judge_id, a.entry_id):
            rows.append(results.ScoreRow(judge=a.judge_id, entry=a.entry_id,
                                         criteria={k: float(v) for k, v in s.scores.items()},
                                         total=s.total, passed=s.passed))
        else:
            excluded.append({"judge": a.judge_id, "entry": a.entry_id, "reason": _why(session, a)})
    assignments = session.exec(select(func.count()).select_from(Assignment)
                               .where(Assignment.round_id == rnd.id)).one()
    conflicts = session.exec(select(func.count()).select_from(Assignment).where(
        Assignment.round_id == rnd.id, Assignment.status != AssignmentStatus.active.value)).one()
    criteria = service.criteria_of(session, rnd)
    snap = results.build(rnd.kind, rows, criteria.criteria if criteria else [], normalise=rnd.normalise,
                         advance=rnd.advance, assignments=assignments, conflicts=conflicts, excluded=excluded)
    snap["criteria_version"] = rnd.criteria_version
    snap["quorum"] = rnd.quorum
    return snap


def _why(session: Session, a: Assignment) -> str:
    kinds = session.exec(select(JudgeConflict.kind).where(JudgeConflict.judge_id == a.judge_id,
                                                          JudgeConflict.entry_id == a.entry_id)).all()
    return ", ".join(sorted(set(kinds))) or a.status


def freeze(session: Session, rnd: JudgingRound, by: User) -> FrozenResult:
    row = FrozenResult(round_id=rnd.id, snapshot=compute(session, rnd), frozen_by_id=by.id)
    if not flush_unique(session, row):
        raise Conflict("This round's results were frozen a moment ago.", code="round_closed")
    return row


def frozen(session: Session, rnd: JudgingRound) -> FrozenResult | None:
    return session.exec(select(FrozenResult).where(FrozenResult.round_id == rnd.id)).first()


def amendments(session: Session, result: FrozenResult) -> list[Amendment]:
    return list(session.exec(select(Amendment).where(Amendment.result_id == result.id)
                             .order_by(col(Amendment.number))).all())


def current_snapshot(session: Session, rnd: JudgingRound) -> dict[str, Any] | None:
    """The newest amendment's snapshot, else the frozen one; None while the round is not closed."""
    result = frozen(session, rnd)
    if result is None:
        return None
    latest = session.exec(select(Amendment).where(Amendment.result_id == result.id)
                          .order_by(col(Amendment.number).desc()).limit(1)).first()
    return latest.snapshot if latest else result.snapshot


def amend(session: Session, rnd: JudgingRound, reason: str, by: User | None) -> Amendment:
    """Re-rank a frozen round from what is counted now, as the next numbered amendment. The frozen
    result's row is locked so two amendments get consecutive numbers."""
    result = session.exec(select(FrozenResult).where(FrozenResult.round_id == rnd.id).with_for_update()).first()
    if result is None:
        raise Conflict("This round has no frozen results to amend yet.", code="not_frozen")
    number = (session.exec(select(func.max(Amendment.number)).where(Amendment.result_id == result.id)).one() or 0) + 1
    row = Amendment(result_id=result.id, number=number, reason=reason.strip()[:2000] or "Amended",
                    snapshot=compute(session, rnd), made_by_id=getattr(by, "id", None))
    if not flush_unique(session, row):
        raise Conflict("Another amendment was made a moment ago; reload and try again.", code="amendment_race")
    return row
