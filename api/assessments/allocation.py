"""Who marks whom: equal-share allocation under per-coach caps, declared conflicts, admin override.

Equal share: among coaches who may mark this learner and are under their cap, the one with the
least open marking gets it (ties: fewest ever allocated, then the longest-standing coach). The cap
holds under concurrency: the coach's capacity row is locked while their open count is read and the
submission is given to them, so two allocations to one coach happen one after the other.
"""

from __future__ import annotations

from sqlalchemy import func, or_, update
from sqlmodel import Session, col, select

from api.accounts.models import Role, User, UserRole
from api.assessments import audit
from api.assessments.models import CoachCapacity, MarkerConflict, State, Submission
from api.core.db import utcnow
from api.core.errors import Conflict
from api.core.integrity import flush_unique

DEFAULT_CAP = 10
OPEN_STATES = (State.submitted.value, State.in_marking.value, State.sent_back.value)


def shares_organisation(session: Session, coach_id: int, learner_id: int) -> bool:
    """True when the coach and the learner belong to the same organisation: every allocation, claim and
    override below refuses such a pair. Asked of the organisations domain (imported when first needed:
    organisations reach assessments through the learning domain, so a load-time import would circle)."""
    from api.organisations import service as organisations_service

    return organisations_service.shares_organisation(session, coach_id, learner_id)


def conflicted(session: Session, coach_id: int, learner_id: int) -> bool:
    if coach_id == learner_id or shares_organisation(session, coach_id, learner_id):
        return True
    return session.exec(select(MarkerConflict.id).where(MarkerConflict.coach_id == coach_id,
                                                        MarkerConflict.learner_id == learner_id)).first() is not None


def conflicted_learners(session: Session, coach_id: int):
    """A subquery of the learners this coach must not mark (for queue queries)."""
    return select(MarkerConflict.learner_id).where(MarkerConflict.coach_id == coach_id)


def coaches(session: Session) -> list[User]:
    return list(session.exec(select(User).join(UserRole, UserRole.user_id == User.id)
                             .where(UserRole.role == Role.coach.value, User.is_active.is_(True))
                             .order_by(User.id)).all())


def accepting_first(session: Session, candidates: list[User]) -> list[User]:
    """Of these coaches, those still taking new work; all of them when none is (a coach who stopped
    taking work is not given a moderation or a re-mark while another eligible coach takes it)."""
    ids = [c.id for c in candidates]
    stopped = set(session.exec(select(CoachCapacity.coach_id).where(
        col(CoachCapacity.coach_id).in_(ids), col(CoachCapacity.accepting).is_(False))).all()) if ids else set()
    return [c for c in candidates if c.id not in stopped] or candidates


def capacity(session: Session, coach_id: int, *, lock: bool = False) -> CoachCapacity:
    """The coach's capacity row (created with the defaults the first time)."""
    query = select(CoachCapacity).where(CoachCapacity.coach_id == coach_id)
    row = session.exec(query).first()
    if row is None:
        flush_unique(session, CoachCapacity(coach_id=coach_id, max_open=DEFAULT_CAP))
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    return session.exec(query).one()


def caps_of(session: Session, coach_ids: list[int]) -> dict[int, tuple[int, bool]]:
    """(max_open, accepting) per coach, read-only (defaults for a coach without a row yet)."""
    out = {cid: (DEFAULT_CAP, True) for cid in coach_ids}
    if coach_ids:
        for row in session.exec(select(CoachCapacity).where(col(CoachCapacity.coach_id).in_(coach_ids))).all():
            out[row.coach_id] = (row.max_open, row.accepting)
    return out


def set_capacity(session: Session, coach: User, max_open: int, accepting: bool) -> CoachCapacity:
    if not 0 <= max_open <= 500:
        raise Conflict("A coach's cap is between 0 and 500 open submissions.", code="bad_cap")
    row = capacity(session, coach.id, lock=True)
    row.max_open, row.accepting, row.updated_at = max_open, accepting, utcnow()
    session.add(row)
    session.flush()
    return row


def open_counts(session: Session, coach_ids: list[int]) -> dict[int, int]:
    if not coach_ids:
        return {}
    rows = session.exec(select(Submission.allocated_coach_id, func.count())
                        .where(col(Submission.allocated_coach_id).in_(coach_ids),
                               col(Submission.state).in_(OPEN_STATES))
                        .group_by(Submission.allocated_coach_id)).all()
    counts = {cid: 0 for cid in coach_ids}
    counts.update({cid: n for cid, n in rows})
    return counts


def _total_counts(session: Session, coach_ids: list[int]) -> dict[int, int]:
    rows = session.exec(select(Submission.allocated_coach_id, func.count())
                        .where(col(Submission.allocated_coach_id).in_(coach_ids))
                        .group_by(Submission.allocated_coach_id)).all()
    return {cid: n for cid, n in rows}


def _give(session: Session, sub: Submission, coach_id: int, actor, *, manual: bool, reason: str | None) -> bool:
    """Give `sub` to `coach_id` if they are under their cap (their capacity row locked meanwhile).
    A conditional UPDATE on the version the caller read: False, nothing written, if it moved."""
    cap = capacity(session, coach_id, lock=True)
    if not manual and (not cap.accepting or open_counts(session, [coach_id])[coach_id] >= cap.max_open):
        return False
    before = sub.allocated_coach_id
    values = {"allocated_coach_id": coach_id, "allocated_at": utcnow(), "allocated_by_id": getattr(actor, "id", actor),
              "version": Submission.version + 1}
    if sub.lease_holder_id is not None and sub.lease_holder_id != coach_id:
        values.update(lease_holder_id=None, lease_expires_at=None)
    done = session.execute(update(Submission).where(Submission.id == sub.id, Submission.version == sub.version)
                           .values(**values).execution_options(synchronize_session=False)).rowcount == 1
    if not done:
        return False
    session.refresh(sub)
    audit.record(session, sub, actor, "reallocated" if before else "allocated", sub.state, sub.state, reason,
                 {"coach_id": coach_id, "previous_coach_id": before, "manual": manual})
    return True


def allocate(session: Session, sub: Submission) -> User | None:
    """Equal-share allocation of a newly submitted attempt; None leaves it in the shared pool
    (every coach is at their cap or conflicted), where "mark next" and admins find it."""
    eligible = [c for c in coaches(session) if not conflicted(session, c.id, sub.user_id)]
    if not eligible:
        return None
    ids = [c.id for c in eligible]
    counts, totals = open_counts(session, ids), _total_counts(session, ids)
    for coach in sorted(eligible, key=lambda c: (counts[c.id], totals.get(c.id, 0), c.id)):
        if _give(session, sub, coach.id, None, manual=False, reason=None):
            return coach
    return None


def override(session: Session, sub: Submission, coach: User, admin: User, reason: str) -> Submission:
    """An admin gives the submission to a named coach (caps do not bind an admin; conflicts do)."""
    if not reason.strip():
        raise Conflict("Give a reason for allocating by hand: it goes in the audit trail.", code="reason_required")
    if Role.coach.value not in {r.role for r in session.exec(select(UserRole).where(UserRole.user_id == coach.id))}:
        raise Conflict(f"{coach.full_name} is not a coach.", code="not_a_coach")
    if conflicted(session, coach.id, sub.user_id):
        raise Conflict(f"{coach.full_name} has a declared conflict with this learner (or is the learner) and "
                       "cannot mark this submission.", code="conflict_of_interest")
    if sub.state not in OPEN_STATES:
        raise Conflict("Only work that is waiting for or in marking can be reallocated.", code="not_open")
    if not _give(session, sub, coach.id, admin, manual=True, reason=reason.strip()):
        raise Conflict("This submission changed a moment ago (a coach may have started marking it); nothing "
                       "was changed. Reload and try again.", code="state_changed")
    from api.assessments import notify

    notify.allocated(session, sub, coach)
    return sub


def declare_conflict(session: Session, coach: User, learner: User, reason: str) -> MarkerConflict:
    """The coach must not mark this learner: recorded, and any open work of theirs allocated to the
    coach goes back to allocation (or the pool)."""
    if coach.id == learner.id:
        raise Conflict("You cannot declare a conflict with yourself.", code="self_conflict")
    row = MarkerConflict(coach_id=coach.id, learner_id=learner.id, reason=reason.strip())
    if not flush_unique(session, row):
        raise Conflict(f"You have already declared a conflict with {learner.email}.", code="already_declared")
    affected = session.exec(select(Submission).where(Submission.allocated_coach_id == coach.id,
                                                     Submission.user_id == learner.id,
                                                     col(Submission.state).in_(OPEN_STATES))).all()
    for sub in affected:
        session.execute(update(Submission).where(Submission.id == sub.id).values(
            allocated_coach_id=None, lease_holder_id=None, lease_expires_at=None, version=Submission.version + 1)
            .execution_options(synchronize_session=False))
        session.refresh(sub)
        audit.record(session, sub, coach, "unallocated", sub.state, sub.state, "conflict of interest declared")
        allocate(session, sub)
    return row


def unallocated_count(session: Session) -> int:
    """How much submitted work no coach has yet (the shared pool)."""
    return session.exec(select(func.count()).select_from(Submission).where(
        Submission.state == State.submitted.value, or_(col(Submission.allocated_coach_id).is_(None)))).one()
