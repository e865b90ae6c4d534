"""The coach's marking queue: "mark next", the marking lease, what a coach sees, overdue work and
reminders.

The lease: starting to mark moves a submission to `in_marking` and names its holder until
`lease_expires_at`, in one conditional UPDATE (states.transition with an extra WHERE), after the
candidate row was picked with `FOR UPDATE SKIP LOCKED` on PostgreSQL. Two coaches asking at the
same moment never get the same submission; a coach asking for a named one that another just took
gets 409. Saving a mark renews the lease; an expired lease may be taken over only by a coach the
work is allocated to.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, or_
from sqlmodel import Session, col, select

from api.accounts.models import User
from api.assessments import allocation, notify, states
from api.assessments.models import State, Submission
from api.core.db import utcnow
from api.core.errors import Conflict

LEASE = timedelta(hours=2)
REMIND_BEFORE = timedelta(days=2)
CLAIMABLE = (State.submitted.value, State.sent_back.value)


def _lease_free(coach_id: int, now: datetime):
    return or_(col(Submission.lease_holder_id).is_(None), Submission.lease_holder_id == coach_id,
               col(Submission.lease_expires_at) < now)


def _mine_or_pool(coach_id: int):
    return or_(Submission.allocated_coach_id == coach_id, col(Submission.allocated_coach_id).is_(None))


def holding(session: Session, coach: User, now: datetime | None = None) -> Submission | None:
    """The submission this coach holds an unexpired lease on, if any."""
    now = now or utcnow()
    return session.exec(select(Submission).where(Submission.state == State.in_marking.value,
                                                 Submission.lease_holder_id == coach.id,
                                                 col(Submission.lease_expires_at) >= now)
                        .order_by(Submission.marking_started_at)).first()


def _claim(session: Session, sub: Submission, coach: User, now: datetime) -> bool:
    """Plain bool: the conditional UPDATE decided (no error made for the loser)."""
    to = State.in_marking
    ok = states.try_transition(
        session, sub, to, coach, action="marking_started",
        where=and_(_lease_free(coach.id, now), _mine_or_pool(coach.id)),
        allocated_coach_id=coach.id, lease_holder_id=coach.id, lease_expires_at=now + LEASE,
        marking_started_at=sub.marking_started_at or now)
    return ok


def mark_next(session: Session, coach: User, now: datetime | None = None) -> Submission | None:
    """The coach's next piece of marking, claimed: the lease they hold, else the oldest work allocated
    to them, else the oldest unallocated work they may mark. None when there is nothing."""
    now = now or utcnow()
    held = holding(session, coach, now)
    if held is not None:
        return held
    blocked = allocation.conflicted_learners(session, coach.id)
    for scope in (Submission.allocated_coach_id == coach.id,
                  and_(col(Submission.allocated_coach_id).is_(None), Submission.state == State.submitted.value)):
        for _ in range(5):  # SQLite has no SKIP LOCKED: a lost UPDATE just tries the next row
            sub = session.exec(
                select(Submission).where(col(Submission.state).in_(CLAIMABLE), scope, Submission.user_id != coach.id,
                                         col(Submission.user_id).not_in(blocked), _lease_free(coach.id, now))
                .order_by(Submission.submitted_at, Submission.id).limit(1)
                .with_for_update(skip_locked=True).execution_options(populate_existing=True)).first()
            if sub is None:
                break
            if allocation.shares_organisation(session, coach.id, sub.user_id):
                break
            if _claim(session, sub, coach, now):
                return sub
    return None


def start(session: Session, sub: Submission, coach: User, now: datetime | None = None) -> Submission:
    """Start (or continue) marking a named submission: 409 if another coach holds it."""
    now = now or utcnow()
    if sub.state == State.in_marking.value and sub.lease_holder_id == coach.id:
        return renew(session, sub, coach, now)
    if sub.state not in CLAIMABLE and sub.state != State.in_marking.value:
        raise Conflict(f"This submission is {states.LEARNER_WORDS[sub.state]}; there is nothing to mark.",
                       code="not_markable")
    if allocation.conflicted(session, coach.id, sub.user_id):
        raise Conflict("You have a declared conflict with this learner and cannot mark their work.",
                       code="conflict_of_interest")
    if sub.state == State.in_marking.value:
        if sub.lease_holder_id not in (None, coach.id) and sub.lease_expires_at and sub.lease_expires_at > now:
            raise Conflict("Another coach is marking this submission right now.", code="lease_held")
        return renew(session, sub, coach, now)
    if not _claim(session, sub, coach, now):
        raise Conflict("Another coach started marking this submission a moment ago, or the learner withdrew it.",
                       code="lease_held")
    return sub


def renew(session: Session, sub: Submission, coach: User, now: datetime | None = None) -> Submission:
    """Extend (or take over an expired) lease on work already in marking and allocated to the coach."""
    from sqlalchemy import update

    now = now or utcnow()
    done = session.execute(
        update(Submission).where(Submission.id == sub.id, Submission.state == State.in_marking.value,
                                 Submission.allocated_coach_id == coach.id, _lease_free(coach.id, now))
        .values(lease_holder_id=coach.id, lease_expires_at=now + LEASE)
        .execution_options(synchronize_session=False)).rowcount
    if done != 1:
        raise Conflict("Another coach holds this submission's marking lease.", code="lease_held")
    session.refresh(sub)
    return sub


def holds_lease(sub: Submission, coach: User, now: datetime | None = None) -> bool:
    now = now or utcnow()
    return (sub.state == State.in_marking.value and sub.lease_holder_id == coach.id
            and sub.lease_expires_at is not None and sub.lease_expires_at >= now)


OPEN = allocation.OPEN_STATES


def for_coach(session: Session, coach: User, *, include_pool: bool = True) -> list[Submission]:
    """What the coach may see in their queue: their allocated open work (oldest first)."""
    return list(session.exec(select(Submission).where(col(Submission.state).in_(OPEN),
                                                      Submission.allocated_coach_id == coach.id)
                             .order_by(Submission.submitted_at, Submission.id)).all())


def pool_size(session: Session, coach: User) -> int:
    blocked = allocation.conflicted_learners(session, coach.id)
    return len(session.exec(select(Submission.id).where(Submission.state == State.submitted.value,
                                                        col(Submission.allocated_coach_id).is_(None),
                                                        Submission.user_id != coach.id,
                                                        col(Submission.user_id).not_in(blocked))).all())


def overdue(session: Session, coach: User | None, now: datetime | None = None) -> list[Submission]:
    """Open work past its marking deadline: a coach's own, or everyone's (coach=None, admins)."""
    now = now or utcnow()
    q = select(Submission).where(col(Submission.state).in_(OPEN), col(Submission.marking_due_at) < now)
    if coach is not None:
        q = q.where(Submission.allocated_coach_id == coach.id)
    return list(session.exec(q.order_by(Submission.marking_due_at, Submission.id)).all())


def send_reminders(session: Session, now: datetime | None = None) -> str:
    """The scheduled job: remind a coach two days before marking is due, and once when it is overdue."""
    now = now or utcnow()
    due_soon = session.exec(select(Submission).where(
        col(Submission.state).in_(OPEN), col(Submission.allocated_coach_id).is_not(None),
        col(Submission.reminded_at).is_(None), col(Submission.marking_due_at) <= now + REMIND_BEFORE,
        col(Submission.marking_due_at) >= now)).all()
    late = session.exec(select(Submission).where(
        col(Submission.state).in_(OPEN), col(Submission.allocated_coach_id).is_not(None),
        col(Submission.overdue_notified_at).is_(None), col(Submission.marking_due_at) < now)).all()
    for sub in due_soon:
        notify.marking_reminder(session, sub, session.get(User, sub.allocated_coach_id), overdue=False)
        sub.reminded_at = now
        session.add(sub)
    for sub in late:
        notify.marking_reminder(session, sub, session.get(User, sub.allocated_coach_id), overdue=True)
        sub.overdue_notified_at = now
        session.add(sub)
    session.flush()
    return f"{len(due_soon)} due-soon and {len(late)} overdue marking reminders queued"
