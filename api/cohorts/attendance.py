"""Attendance: facilitators mark each learner per session (prefilled from join clicks), every change is
audited, and the programme's attendance rule is answered for completion (REQUIREMENTS["attendance"]).

The rule (`completion: attendance: {minimum_percent, recordings_make_up}` in programme.yaml) counts
minutes: present is the session's minutes, late or left early half of them, absent and excused none;
where the programme allows it, a missed session whose recording the learner opened counts in full.
Scheduled minutes are those of the cohort's sessions not cancelled.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel import Session, col, select

from api.accounts.models import User
from api.catalog.models import Programme
from api.cohorts import service
from api.cohorts.models import (
    Attendance,
    AttendanceAudit,
    AttendanceMark,
    Cohort,
    CohortSession,
    JoinClick,
    RecordingView,
    Seat,
    SeatStatus,
    SessionStatus,
)
from api.core.db import utcnow
from api.core.errors import Invalid, NotFound
from api.outbox import service as outbox

ATTENDANCE_CHANGED = "attendance.changed"
MARKS = [m.value for m in AttendanceMark]
LABELS = {"present": "Present", "late": "Late", "left_early": "Left early", "absent": "Absent", "excused": "Excused"}
SHARE = {"present": 1.0, "late": 0.5, "left_early": 0.5, "absent": 0.0, "excused": 0.0}


def mark(session: Session, row: CohortSession, cohort: Cohort, learner_id: int, value: str, actor: User) -> bool:
    """Set one learner's mark for one session; True when it changed (audited, and completion re-decided)."""
    if value not in MARKS:
        raise Invalid(f"Choose one of: {', '.join(LABELS.values())}.", code="bad_mark")
    if service.seat_of(session, cohort, learner_id) is None:
        raise NotFound("That learner is not in this cohort.", code="not_in_cohort")
    current = session.exec(select(Attendance).where(Attendance.session_id == row.id,
                                                    Attendance.user_id == learner_id)).first()
    before = current.mark if current else None
    if before == value:
        return False
    now = utcnow()
    if current is None:
        current = Attendance(session_id=row.id, user_id=learner_id, mark=value, marked_by_id=actor.id)
    current.mark, current.marked_by_id, current.updated_at = value, actor.id, now
    session.add(current)
    audit = AttendanceAudit(session_id=row.id, user_id=learner_id, from_mark=before, to_mark=value, actor_id=actor.id)
    session.add(audit)
    session.flush()
    outbox.publish(session, ATTENDANCE_CHANGED, f"attendance:{audit.id}",
                   {"user_id": learner_id, "programme_id": cohort.programme_id, "cohort_id": cohort.id,
                    "session": row.uid, "mark": value})
    return True


def record_join(session: Session, row: CohortSession, user: User) -> None:
    session.add(JoinClick(session_id=row.id, user_id=user.id))
    session.flush()


def record_recording_view(session: Session, row: CohortSession, user: User) -> None:
    from api.core.integrity import flush_unique

    if flush_unique(session, RecordingView(session_id=row.id, user_id=user.id)):
        cohort = session.get(Cohort, row.cohort_id)
        outbox.publish(session, ATTENDANCE_CHANGED, f"recording:{row.id}:{user.id}",
                       {"user_id": user.id, "programme_id": cohort.programme_id, "cohort_id": cohort.id,
                        "session": row.uid, "mark": "recording"})


@dataclass
class Sheet:
    """The facilitator's view of one session: each learner's mark, or the prefill from a join click."""

    row: CohortSession
    learners: list[User]
    marks: dict[int, str]
    joined: set[int]

    def value(self, user_id: int) -> str:
        return self.marks.get(user_id) or ("present" if user_id in self.joined else "")


def sheet(session: Session, row: CohortSession, cohort: Cohort) -> Sheet:
    learners = service.learners_of(session, cohort)
    marks = {a.user_id: a.mark for a in session.exec(select(Attendance).where(Attendance.session_id == row.id))}
    joined = set(session.exec(select(JoinClick.user_id).where(JoinClick.session_id == row.id)).all())
    return Sheet(row, learners, marks, joined)


def history(session: Session, cohort: Cohort, limit: int = 50) -> list[tuple[AttendanceAudit, User, User | None,
                                                                            CohortSession]]:
    rows = session.exec(select(AttendanceAudit, CohortSession).join(
        CohortSession, col(CohortSession.id) == col(AttendanceAudit.session_id)).where(
        CohortSession.cohort_id == cohort.id).order_by(col(AttendanceAudit.id).desc()).limit(limit)).all()
    ids = {a.user_id for a, _ in rows} | {a.actor_id for a, _ in rows if a.actor_id}
    users = {u.id: u for u in session.exec(select(User).where(col(User.id).in_(ids)))} if ids else {}
    return [(a, users[a.user_id], users.get(a.actor_id), s) for a, s in rows]


@dataclass
class Standing:
    scheduled: int = 0
    counted: float = 0
    percent_needed: int = 0
    marks: dict[int, str] = field(default_factory=dict)  # session id -> mark
    watched: set[int] = field(default_factory=set)

    @property
    def percent(self) -> int:
        return int(100 * self.counted // self.scheduled) if self.scheduled else 0

    @property
    def met(self) -> bool:
        return self.scheduled > 0 and self.counted * 100 >= self.percent_needed * self.scheduled


def standing(session: Session, cohort: Cohort, user_id: int, rule: dict | None) -> Standing:
    rule = rule or {}
    rows = service.sessions_of(session, cohort, include_cancelled=False)
    ids = [r.id for r in rows]
    marks = {a.session_id: a.mark for a in session.exec(select(Attendance).where(
        Attendance.user_id == user_id, col(Attendance.session_id).in_(ids)))} if ids else {}
    watched = set(session.exec(select(RecordingView.session_id).where(
        RecordingView.user_id == user_id, col(RecordingView.session_id).in_(ids))).all()) if ids else set()
    out = Standing(percent_needed=int(rule.get("minimum_percent", 100)), marks=marks, watched=watched)
    for r in rows:
        out.scheduled += r.minutes
        share = SHARE.get(marks.get(r.id, ""), 0.0)
        if share < 1 and rule.get("recordings_make_up") and r.id in watched:
            share = 1.0
        out.counted += share * r.minutes
    return out


def requirement(session: Session, user_id: int, programmes: list[Programme]) -> dict[int, list[str]]:
    """REQUIREMENTS["attendance"]: what each live programme's attendance rule still needs."""
    out: dict[int, list[str]] = {}
    ids = [p.id for p in programmes]
    seats = {s.programme_id: s for s in session.exec(select(Seat).where(
        Seat.user_id == user_id, col(Seat.programme_id).in_(ids), Seat.status == SeatStatus.paid.value))}
    for p in programmes:
        rule = (p.completion or {}).get("attendance") or {}
        seat = seats.get(p.id)
        if seat is None:
            out[p.id] = ["a place in a cohort, and attendance at its sessions"]
            continue
        st = standing(session, session.get(Cohort, seat.cohort_id), user_id, rule)
        if not st.met:
            hours_needed = st.percent_needed * st.scheduled / 100 / 60
            out[p.id] = [f"attendance: {st.percent}% of the sessions so far, {st.percent_needed}% needed "
                         f"({hours_needed:g} of {st.scheduled / 60:g} hours)"]
    return out


def unmarked_sessions(session: Session, cohort: Cohort) -> list[CohortSession]:
    now = utcnow()
    return [r for r in service.sessions_of(session, cohort) if r.status == SessionStatus.scheduled.value
            and r.starts_at <= now]


ATTENDED = (AttendanceMark.present.value, AttendanceMark.late.value, AttendanceMark.left_early.value)


def attended_any(session: Session, user_id: int, programme_id: int) -> bool:
    """Asked by organisations: the learner was at (part of) a session of one of the programme's cohorts."""
    return session.exec(select(Attendance.id).join(CohortSession, col(CohortSession.id) == col(Attendance.session_id))
                        .join(Cohort, col(Cohort.id) == col(CohortSession.cohort_id))
                        .where(Attendance.user_id == user_id, Cohort.programme_id == programme_id,
                               col(Attendance.mark).in_(ATTENDED)).limit(1)).first() is not None
