"""What the pages and the API show, assembled in one place (pages and routers hold no queries)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, col, select

from api.accounts.models import User
from api.assessments import allocation, marking, queue, rubrics, states, submissions, times
from api.assessments.access import Relation
from api.assessments.models import Mark, MarkStatus, RubricVersion, State, Submission, SubmissionFile
from api.catalog.models import AssessmentBrief, Programme
from api.core.db import utcnow


@dataclass
class Criterion:
    slug: str
    title: str
    description: str
    weight: int
    must_pass: bool
    levels: list[dict[str, Any]]
    score: int | None = None
    comment: str = ""

    @property
    def chosen(self) -> dict[str, Any] | None:
        return next((lv for lv in self.levels if lv["score"] == self.score), None)


def criteria_view(version: RubricVersion, scores: dict[str, Any] | None = None) -> list[Criterion]:
    scores = scores or {}
    return [Criterion(c["slug"], c["title"], c.get("description", ""), int(c.get("weight", 1)),
                      bool(c.get("must_pass")), c["levels"], (scores.get(c["slug"]) or {}).get("score"),
                      (scores.get(c["slug"]) or {}).get("comment", ""))
            for c in version.rubric.get("criteria", [])]


@dataclass
class AttemptView:
    sub: Submission
    words: str
    files: list[SubmissionFile]
    version: RubricVersion
    feedback: str = ""
    criteria: list[Criterion] = field(default_factory=list)
    deadline: str = ""
    resubmit_by: str = ""
    submitted: str = ""
    released: str = ""

    @property
    def released_result(self) -> bool:
        return self.sub.state in (State.released.value, State.under_appeal.value)


@dataclass
class LearnerPage:
    programme: Programme
    brief: AssessmentBrief
    settings: dict[str, Any]
    rubric: list[Criterion]
    rubric_version: RubricVersion | None
    attempts: list[AttemptView]
    draft: Submission | None
    next_step: submissions.NextStep
    zone: str
    zones: list[str]
    deadline: str = ""
    types_text: str = ""

    @property
    def current(self) -> AttemptView | None:
        return self.attempts[-1] if self.attempts else None


def _released_mark(session: Session, sub: Submission) -> Mark | None:
    if sub.state not in (State.released.value, State.under_appeal.value) or not sub.result_mark_id:
        return None
    return session.get(Mark, sub.result_mark_id)


def attempt_view(session: Session, sub: Submission, files: list[SubmissionFile], zone: str, *,
                 show_marks: bool) -> AttemptView:
    version = session.get(RubricVersion, sub.rubric_version_id)
    mark = _released_mark(session, sub) if show_marks else None
    return AttemptView(sub=sub, words=states.LEARNER_WORDS[sub.state], files=files, version=version,
                       feedback=mark.feedback if mark else "",
                       criteria=criteria_view(version, mark.scores) if mark else [],
                       deadline=times.show(sub.deadline_at, zone), resubmit_by=times.show(sub.resubmit_by, zone),
                       submitted=times.show(sub.submitted_at, zone), released=times.show(sub.released_at, zone))


def learner_page(session: Session, user: User, programme: Programme, brief: AssessmentBrief) -> LearnerPage:
    subs = submissions.attempts(session, user.id, brief.id)
    zone = times.zone_of(*(s.learner_zone for s in reversed(subs)))
    files = submissions.files_of(session, [s.id for s in subs])
    version = rubrics.current(session, brief)
    draft = subs[-1] if subs and subs[-1].state == State.draft.value else None
    step = submissions.next_step(brief, subs)
    settings = dict(brief.settings or {})
    return LearnerPage(programme, brief, settings, criteria_view(version) if version else [], version,
                       [attempt_view(session, s, files[s.id], zone, show_marks=True) for s in subs], draft,
                       step, zone, times.common_zones(), times.show(step.deadline_at, zone),
                       types_text(((settings.get("files") or {}).get("types")) or []))


def types_text(types: list[str]) -> str:
    from api.core import filetypes

    return filetypes.describe(types) if types else ""


@dataclass
class QueueRow:
    sub: Submission
    programme: Programme
    brief: AssessmentBrief
    learner_label: str
    due: str
    overdue: bool
    held_by_me: bool


def _rows(session: Session, subs: list[Submission], viewer: User) -> list[QueueRow]:
    now = utcnow()
    briefs = {b.id: b for b in session.exec(select(AssessmentBrief).where(
        col(AssessmentBrief.id).in_({s.brief_id for s in subs}))).all()} if subs else {}
    progs = {p.id: p for p in session.exec(select(Programme).where(
        col(Programme.id).in_({s.programme_id for s in subs}))).all()} if subs else {}
    users = {u.id: u for u in session.exec(select(User).where(col(User.id).in_({s.user_id for s in subs}))).all()} \
        if subs else {}
    return [QueueRow(s, progs[s.programme_id], briefs[s.brief_id],
                     learner_label(briefs[s.brief_id], s, users[s.user_id]), times.show(s.marking_due_at, None),
                     bool(s.marking_due_at and s.marking_due_at < now),
                     queue.holds_lease(s, viewer, now)) for s in subs]


def learner_label(brief: AssessmentBrief, sub: Submission, learner: User) -> str:
    """Blind marking hides the learner's name: the marker sees a candidate number instead."""
    if (brief.settings or {}).get("blind_marking"):
        return f"Candidate {sub.public_id[:6].upper()}"
    return learner.full_name


@dataclass
class CoachQueue:
    rows: list[QueueRow]
    pool: int
    overdue: list[QueueRow]


def coach_queue(session: Session, coach: User) -> CoachQueue:
    mine = queue.for_coach(session, coach)
    return CoachQueue(_rows(session, mine, coach), queue.pool_size(session, coach),
                      _rows(session, queue.overdue(session, coach), coach))


def overdue_rows(session: Session, viewer: User, coach: User | None) -> list[QueueRow]:
    return _rows(session, queue.overdue(session, coach), viewer)


@dataclass
class MarkingScreen:
    sub: Submission
    programme: Programme
    brief: AssessmentBrief
    learner_label: str
    relation: Relation
    version: RubricVersion
    criteria: list[Criterion]
    mark: Mark | None
    files: list[SubmissionFile]
    earlier: list[AttemptView]
    holds_lease: bool
    can_start: bool
    can_release: bool
    submitted_marks: list[Mark]
    due: str
    lease_until: str


def marking_screen(session: Session, sub: Submission, viewer: User, rel: Relation) -> MarkingScreen:
    brief = session.get(AssessmentBrief, sub.brief_id)
    programme = session.get(Programme, sub.programme_id)
    learner = session.get(User, sub.user_id)
    version = session.get(RubricVersion, sub.rubric_version_id)
    mark = marking.draft_for(session, sub, viewer)
    done = marking.marks_of(session, sub)
    if mark is None and done and sub.state != State.in_marking.value:
        mark = done[-1]
    earlier_subs = [s for s in submissions.attempts(session, sub.user_id, sub.brief_id) if s.attempt < sub.attempt
                    and s.submitted_at is not None]
    files = submissions.files_of(session, [sub.id] + [s.id for s in earlier_subs])
    holds = queue.holds_lease(sub, viewer)
    return MarkingScreen(
        sub, programme, brief, learner_label(brief, sub, learner), rel, version,
        criteria_view(version, mark.scores if mark else None), mark, files[sub.id],
        [attempt_view(session, s, files[s.id], times.DEFAULT_ZONE, show_marks=True) for s in earlier_subs],
        holds, rel is Relation.marker and sub.state in (State.submitted.value, State.sent_back.value,
                                                        State.in_marking.value) and not holds,
        sub.state == State.ready_for_release.value and rel in (Relation.marker, Relation.admin),
        done, times.show(sub.marking_due_at, None), times.show(sub.lease_expires_at, None))


@dataclass
class AdminRow:
    row: QueueRow
    coach: User | None
    state_words: str


@dataclass
class AdminAllocation:
    rows: list[AdminRow]
    coaches: list[tuple[User, int, int, bool]]  # coach, open count, cap, accepting
    unallocated: int
    pages: Any = None  # pagination.Links


def admin_allocation(session: Session, admin: User, state: str | None = None, *, after: str | None = None,
                     before: str | None = None) -> AdminAllocation:
    """Open work, oldest submission first, a page at a time (keyset on submitted_at, id)."""
    from api.core import pagination

    q = select(Submission).where(col(Submission.state).in_(allocation.OPEN_STATES + (State.ready_for_release.value,)))
    if state:
        q = q.where(Submission.state == state)
    page = pagination.paginate(session, q, pagination.Keyset(Submission.submitted_at, Submission.id),
                               after=after, before=before)
    subs = page.rows
    rows = _rows(session, subs, admin)
    coaches = allocation.coaches(session)
    counts = allocation.open_counts(session, [c.id for c in coaches])
    caps = allocation.caps_of(session, [c.id for c in coaches])
    by_id = {c.id: c for c in coaches}
    return AdminAllocation(
        [AdminRow(r, by_id.get(r.sub.allocated_coach_id) or (session.get(User, r.sub.allocated_coach_id)
                                                             if r.sub.allocated_coach_id else None),
                  states.LEARNER_WORDS[r.sub.state]) for r in rows],
        [(c, counts[c.id], caps[c.id][0], caps[c.id][1]) for c in coaches],
        allocation.unallocated_count(session), page.links("/admin/assessments", {"state": state or ""}))


def submitted_mark_of(session: Session, sub: Submission) -> Mark | None:
    return session.exec(select(Mark).where(Mark.submission_id == sub.id, Mark.status == MarkStatus.submitted.value)
                        .order_by(Mark.submitted_at.desc())).first()


@dataclass
class PublicBrief:
    brief: AssessmentBrief
    version: RubricVersion | None
    criteria: list[Criterion]


def public_criteria(session: Session, programme: Programme) -> list[PublicBrief]:
    out = []
    for b in submissions.briefs_for(session, [programme.id])[programme.id]:
        v = rubrics.current(session, b)
        out.append(PublicBrief(b, v, criteria_view(v) if v else []))
    return out
