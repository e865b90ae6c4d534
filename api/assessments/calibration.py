"""Calibration: before live marking, coaches mark exemplars (work with marks the body agreed), and
admins see how far each coach drifts from the agreed marks and how well markers agree with each
other, per criterion, over time (quadratic-weighted Cohen's kappa, kappa.py).

The gate: a coach may take live marking ("mark next", starting a named submission) only once they
have marked `REQUIRED` exemplars (or all of them, if fewer) of every brief that has exemplars on its
current rubric. Until then they are refused with 409 `calibration_needed`, naming what is left.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from api.accounts.models import User
from api.assessments import kappa, rubrics, scoring
from api.assessments.models import Mark, MarkKind, MarkStatus, RubricVersion, Submission
from api.assessments.review_models import CalibrationExemplar, CalibrationMark
from api.catalog.models import AssessmentBrief, Programme
from api.core.db import utcnow
from api.core.errors import Conflict, NotFound
from api.core.integrity import flush_unique

REQUIRED = 2


MAX_TITLE = 200


def _clean(rubric: dict[str, Any], scores: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """The scores as stored, and their problems by form field ("score-<criterion>")."""
    cleaned = {slug: {"score": (e or {}).get("score"), "comment": str((e or {}).get("comment") or "")}
               for slug, e in (scores or {}).items()}
    return cleaned, scoring.score_problems(rubric, cleaned, complete=True)


def create_exemplar(session: Session, admin: User, brief: AssessmentBrief, *, title: str, work: str,
                    agreed_scores: dict[str, Any], rationale: str = "") -> CalibrationExemplar:
    """Every problem of the admin's form is raised at once, per field (title, work, score-<criterion>)."""
    title, work = (title or "").strip(), (work or "").replace("\r\n", "\n").strip()
    version = rubrics.current(session, brief)
    cleaned, bad = _clean(version.rubric, agreed_scores)
    if len(title) > MAX_TITLE:
        bad["title"] = f"Keep the title to {MAX_TITLE} characters; it has {len(title)}."
    bad = ({"title": "Give the exemplar a title coaches will recognise."} if not title else {}) | \
        ({"work": "Paste the work itself, anonymised, for coaches to mark."} if not work else {}) | bad
    if bad:
        code = "exemplar_incomplete" if not title or not work else "bad_scores"
        raise scoring.MarkProblems(bad, code=code)
    ex = CalibrationExemplar(brief_id=brief.id, rubric_version_id=version.id, title=title, work=work,
                             agreed_scores=cleaned, rationale=(rationale or "").strip(), created_by_id=admin.id)
    session.add(ex)
    session.flush()
    return ex


def retire(session: Session, ex: CalibrationExemplar) -> None:
    ex.retired_at = ex.retired_at or utcnow()
    session.add(ex)
    session.flush()


def active_exemplars(session: Session, brief_ids: list[int] | None = None) -> list[CalibrationExemplar]:
    """Exemplars on each brief's current rubric version, not retired."""
    q = (select(CalibrationExemplar).join(AssessmentBrief, AssessmentBrief.id == CalibrationExemplar.brief_id)
         .where(col(CalibrationExemplar.retired_at).is_(None)))
    if brief_ids is not None:
        q = q.where(col(CalibrationExemplar.brief_id).in_(brief_ids))
    current = {}
    out = []
    for ex in session.exec(q.order_by(CalibrationExemplar.id)).all():
        if ex.brief_id not in current:
            current[ex.brief_id] = rubrics.current(session, session.get(AssessmentBrief, ex.brief_id)).id
        if ex.rubric_version_id == current[ex.brief_id]:
            out.append(ex)
    return out


def get_exemplar(session: Session, exemplar_id: int) -> CalibrationExemplar:
    ex = session.get(CalibrationExemplar, exemplar_id)
    if ex is None or ex.retired_at is not None:
        raise NotFound("There is no calibration exemplar at this address.", code="exemplar_not_found")
    return ex


def marks_by(session: Session, coach: User) -> dict[int, CalibrationMark]:
    return {m.exemplar_id: m for m in session.exec(select(CalibrationMark).where(
        CalibrationMark.coach_id == coach.id)).all()}


@dataclass
class BriefCalibration:
    brief: AssessmentBrief
    programme: Programme
    exemplars: list[CalibrationExemplar]
    marked: list[int]  # exemplar ids this coach has marked
    needed: int

    @property
    def done(self) -> bool:
        return len(self.marked) >= self.needed


def status(session: Session, coach: User) -> list[BriefCalibration]:
    by_brief: dict[int, list[CalibrationExemplar]] = defaultdict(list)
    for ex in active_exemplars(session):
        by_brief[ex.brief_id].append(ex)
    mine = marks_by(session, coach)
    out = []
    for brief_id, exemplars in sorted(by_brief.items()):
        brief = session.get(AssessmentBrief, brief_id)
        out.append(BriefCalibration(brief, session.get(Programme, brief.programme_id), exemplars,
                                    [e.id for e in exemplars if e.id in mine], min(REQUIRED, len(exemplars))))
    return out


def calibrated(session: Session, coach: User) -> bool:
    return all(b.done for b in status(session, coach))


def require_calibrated(session: Session, coach: User) -> None:
    """For live marking: 409 `calibration_needed` until the coach has marked the exemplars."""
    left = [b for b in status(session, coach) if not b.done]
    if left:
        what = "; ".join(f"{b.programme.code} “{b.brief.title}”: {b.needed - len(b.marked)} more" for b in left)
        raise Conflict(f"Before live marking, mark the calibration exemplars ({what}). They are on your "
                       "Calibration page (/coach/calibration); it takes a few minutes and shows you how your marks "
                       "compare with the agreed ones.", code="calibration_needed")


@dataclass
class Comparison:
    criterion: dict[str, Any]
    mine: int
    agreed: int
    gap: int  # in levels, signed (+: more generous than agreed)


def compare(rubric: dict[str, Any], mine: dict[str, Any], agreed: dict[str, Any]) -> list[Comparison]:
    out = []
    for c in rubric["criteria"]:
        levels = scoring.level_scores(c)
        m, a = int(mine[c["slug"]]["score"]), int(agreed[c["slug"]]["score"])
        out.append(Comparison(c, m, a, levels.index(m) - levels.index(a)))
    return out


def mark_exemplar(session: Session, coach: User, ex: CalibrationExemplar, scores: dict[str, Any]) -> CalibrationMark:
    """A coach's marks on an exemplar; once only (the agreed marks are shown after)."""
    rubric = session.get(RubricVersion, ex.rubric_version_id).rubric
    cleaned, bad = _clean(rubric, scores)
    if bad:
        raise scoring.MarkProblems(bad, code="bad_scores")
    row = CalibrationMark(exemplar_id=ex.id, coach_id=coach.id, scores=cleaned)
    if not flush_unique(session, row):
        raise Conflict("You have already marked this exemplar; your marks and the agreed ones are shown below.",
                       code="already_marked")
    return row


# --- what admins see ------------------------------------------------------------------------------

def _month(moment: datetime) -> str:
    return f"{moment:%Y-%m}"


@dataclass
class DriftRow:
    coach: User
    criterion: str  # title
    month: str
    marks: int
    mean_drift: float  # levels, signed
    kappa: float | None  # agreement with the agreed marks


def drift(session: Session, brief: AssessmentBrief) -> list[DriftRow]:
    """Each coach's calibration marks on this brief against the agreed marks, per criterion and month."""
    exemplars = {e.id: e for e in session.exec(select(CalibrationExemplar).where(
        CalibrationExemplar.brief_id == brief.id)).all()}
    if not exemplars:
        return []
    rubrics_by_id = {e.rubric_version_id: session.get(RubricVersion, e.rubric_version_id).rubric
                     for e in exemplars.values()}
    groups: dict[tuple[int, str, str], tuple[list[int], list[int], list[int], str]] = {}
    for m in session.exec(select(CalibrationMark).where(col(CalibrationMark.exemplar_id).in_(list(exemplars)))
                          .order_by(CalibrationMark.submitted_at)).all():
        ex = exemplars[m.exemplar_id]
        for c in rubrics_by_id[ex.rubric_version_id]["criteria"]:
            key = (m.coach_id, c["slug"], _month(m.submitted_at))
            mine, agreed, levels, title = groups.setdefault(key, ([], [], scoring.level_scores(c), c["title"]))
            mine.append(int(m.scores[c["slug"]]["score"]))
            agreed.append(int(ex.agreed_scores[c["slug"]]["score"]))
    users = {u.id: u for u in session.exec(select(User).where(col(User.id).in_({k[0] for k in groups}))).all()}
    return [DriftRow(users[cid], title, month, len(mine), kappa.mean_level_drift(mine, agreed, levels) or 0.0,
                     kappa.quadratic_weighted_kappa(mine, agreed, levels))
            for (cid, _slug, month), (mine, agreed, levels, title) in sorted(groups.items(),
                                                                              key=lambda kv: (kv[0][2], kv[0][0]))]


@dataclass
class AgreementRow:
    criterion: str
    month: str
    pairs: int
    kappa: float | None


SECOND_OPINIONS = (MarkKind.second.value, MarkKind.moderation.value, MarkKind.appeal.value)


def agreement(session: Session, brief: AssessmentBrief) -> list[AgreementRow]:
    """Inter-marker agreement on live work: each first mark paired with a second, moderation or appeal
    mark of the same submission (same rubric version), per criterion and month of the second opinion."""
    subs = {s.id: s for s in session.exec(select(Submission).where(Submission.brief_id == brief.id)).all()}
    if not subs:
        return []
    marks = list(session.exec(select(Mark).where(col(Mark.submission_id).in_(list(subs)),
                                                 Mark.status == MarkStatus.submitted.value)
                              .order_by(Mark.submitted_at, Mark.id)).all())
    firsts: dict[int, Mark] = {}
    for m in marks:
        if m.kind == MarkKind.first.value:
            firsts[m.submission_id] = m  # the latest first mark of each submission
    groups: dict[tuple[str, str], tuple[list[int], list[int], list[int], str]] = {}
    for m in marks:
        first = firsts.get(m.submission_id)
        if m.kind not in SECOND_OPINIONS or first is None or first.rubric_version_id != m.rubric_version_id:
            continue
        rubric = session.get(RubricVersion, m.rubric_version_id).rubric
        for c in rubric["criteria"]:
            a, b = (first.scores.get(c["slug"]) or {}).get("score"), (m.scores.get(c["slug"]) or {}).get("score")
            if a is None or b is None:
                continue
            key = (c["slug"], _month(m.submitted_at))
            xs, ys, levels, title = groups.setdefault(key, ([], [], scoring.level_scores(c), c["title"]))
            xs.append(int(a))
            ys.append(int(b))
    return [AgreementRow(title, month, len(xs), kappa.quadratic_weighted_kappa(xs, ys, levels))
            for (_slug, month), (xs, ys, levels, title) in sorted(groups.items(), key=lambda kv: (kv[0][1], kv[0][0]))]
