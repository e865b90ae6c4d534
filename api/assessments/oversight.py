"""What coaches and admins look over: the coach's dashboard (to mark, overdue, in moderation, released
this month), the admin's overview of every submission (keyset pages with filters) and a submission's
audit trail (assess's append-only rows, in order)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from api.accounts.models import User
from api.assessments import audit
from api.assessments.models import AuditEntry, Mark, MarkKind, MarkStatus, State, Submission
from api.assessments.review_models import Appeal, AppealStatus
from api.catalog.models import AssessmentBrief, Programme
from api.core import pagination
from api.core.db import utcnow

TO_MARK = (State.submitted.value, State.in_marking.value, State.sent_back.value)


@dataclass
class DashRow:
    sub: Submission
    programme: Programme
    brief: AssessmentBrief
    when: datetime | None


@dataclass
class CoachDashboard:
    to_mark: list[DashRow]
    overdue: list[DashRow]
    moderating: list[DashRow]  # given to this coach to moderate
    mine_in_moderation: list[DashRow]  # this coach's marking, waiting for a moderator
    appeals: list[DashRow]  # appeals given to this coach to re-mark
    released_this_month: int


def _rows(session: Session, subs: list[Submission], when: str) -> list[DashRow]:
    if not subs:
        return []
    briefs = {b.id: b for b in session.exec(select(AssessmentBrief).where(
        col(AssessmentBrief.id).in_({s.brief_id for s in subs}))).all()}
    progs = {p.id: p for p in session.exec(select(Programme).where(
        col(Programme.id).in_({s.programme_id for s in subs}))).all()}
    return [DashRow(s, progs[s.programme_id], briefs[s.brief_id], getattr(s, when)) for s in subs]


def coach_dashboard(session: Session, coach: User, now: datetime | None = None) -> CoachDashboard:
    now = now or utcnow()
    mine = select(Submission).where(Submission.allocated_coach_id == coach.id)
    to_mark = list(session.exec(mine.where(col(Submission.state).in_(TO_MARK))
                                .order_by(col(Submission.marking_due_at), col(Submission.id)).limit(100)).all())
    overdue = [s for s in to_mark if s.marking_due_at is not None and s.marking_due_at < now]
    mod_ids = select(Mark.submission_id).where(Mark.kind == MarkKind.moderation.value, Mark.marker_id == coach.id,
                                               Mark.status == MarkStatus.draft.value)
    moderating = list(session.exec(select(Submission).where(Submission.state == State.in_moderation.value,
                                                            col(Submission.id).in_(mod_ids))
                                   .order_by(col(Submission.updated_at)).limit(100)).all())
    waiting = list(session.exec(mine.where(Submission.state == State.in_moderation.value)
                                .order_by(col(Submission.updated_at)).limit(100)).all())
    appeal_subs = list(session.exec(select(Submission).join(Appeal, Appeal.submission_id == Submission.id)
                                    .where(Appeal.marker_id == coach.id, Appeal.status == AppealStatus.open.value)
                                    .limit(100)).all())
    start = now.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    released = session.exec(select(func.count(col(Submission.id))).where(
        Submission.allocated_coach_id == coach.id, col(Submission.released_at) >= start)).one()
    return CoachDashboard(_rows(session, to_mark, "marking_due_at"), _rows(session, overdue, "marking_due_at"),
                          _rows(session, moderating, "updated_at"), _rows(session, waiting, "updated_at"),
                          _rows(session, appeal_subs, "released_at"), released)


# --- the admin's overview ---------------------------------------------------------------------------

ORDER = pagination.Keyset(Submission.created_at, Submission.id, descending=True)  # newest first
STATES = [s.value for s in State]


@dataclass
class OverviewRow:
    sub: Submission
    programme: Programme
    brief: AssessmentBrief
    learner: User
    coach: User | None


def overview(session: Session, *, state: str | None = None, programme: str | None = None, q: str | None = None,
             after: str | None = None, before: str | None = None) -> pagination.Page[OverviewRow]:
    query = (select(Submission, Programme, AssessmentBrief, User)
             .join(Programme, Programme.id == Submission.programme_id)
             .join(AssessmentBrief, AssessmentBrief.id == Submission.brief_id)
             .join(User, User.id == Submission.user_id))
    if state in STATES:
        query = query.where(Submission.state == state)
    if programme:
        query = query.where(Programme.slug == programme)
    if q and q.strip():
        like = f"%{q.strip()}%"
        query = query.where(or_(col(User.full_name).ilike(like), col(User.email).ilike(like),
                                col(Submission.public_id).ilike(like)))
    page = pagination.paginate(session, query, ORDER, after=after, before=before)
    coaches = {u.id: u for u in session.exec(select(User).where(col(User.id).in_(
        {s.allocated_coach_id for s, *_ in page.rows if s.allocated_coach_id}))).all()} if page.rows else {}
    page.rows = [OverviewRow(s, p, b, u, coaches.get(s.allocated_coach_id)) for s, p, b, u in page.rows]
    return page


@dataclass
class TrailRow:
    entry: AuditEntry
    actor: User | None


@dataclass
class Trail:
    sub: Submission
    programme: Programme
    brief: AssessmentBrief
    learner: User
    rows: list[TrailRow]
    marks: list[Mark]
    appeal: Appeal | None


def trail(session: Session, sub: Submission) -> Trail:
    entries = audit.trail(session, sub.id)
    actors = {u.id: u for u in session.exec(select(User).where(col(User.id).in_(
        {e.actor_id for e in entries if e.actor_id}))).all()} if entries else {}
    marks = list(session.exec(select(Mark).where(Mark.submission_id == sub.id).order_by(Mark.created_at, Mark.id)))
    appeal = session.exec(select(Appeal).where(Appeal.submission_id == sub.id)).first()
    return Trail(sub, session.get(Programme, sub.programme_id), session.get(AssessmentBrief, sub.brief_id),
                 session.get(User, sub.user_id), [TrailRow(e, actors.get(e.actor_id)) for e in entries], marks, appeal)


