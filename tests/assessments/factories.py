"""Give a learner assessment results the way people do: through the assessments services (start,
write, submit, claim, mark, release). For tests in any domain:

    from tests.assessments.factories import give_released_pass
    give_released_pass(db, learner, "acxp")   # then drain() so completion is decided again
"""

from __future__ import annotations

import itertools

from sqlmodel import Session

from api.accounts import service as accounts
from api.accounts.models import Role, User
from api.accounts.schemas import UserCreate
from api.assessments import marking, queue, release, rubrics, submissions
from api.assessments.models import Submission
from api.catalog import service as catalog
from api.catalog.models import AssessmentBrief, Programme

_n = itertools.count(1)


def make_coach(session: Session, name: str = "Casey Coach") -> User:
    return accounts.create_user(session, UserCreate(email=f"coach-factory-{next(_n)}@example.com", full_name=name,
                                                    password="correct-horse-battery"), roles={Role.coach},
                                verified=True)


def scores_at(session: Session, brief: AssessmentBrief, level: str = "top") -> dict:
    """Scores for every criterion of the brief's current rubric: its top, bottom or second level."""
    version = rubrics.current(session, brief)
    pick = {"top": -1, "bottom": 0, "second": 1}[level]
    return {c["slug"]: {"score": c["levels"][pick]["score"], "comment": f"{level} level on {c['title']}"}
            for c in version.rubric["criteria"]}


def submit_work(session: Session, learner: User, brief: AssessmentBrief, text: str = "My SCO canvas and map.") \
        -> Submission:
    sub = submissions.start(session, learner, brief)
    submissions.save_draft(session, sub, learner, text=text, version=sub.version)
    submissions.submit(session, sub, learner, authentic=True, anonymised=True)
    return sub


def mark_and_release(session: Session, sub: Submission, coach: User, level: str = "top",
                     admin: User | None = None) -> Submission:
    brief = session.get(AssessmentBrief, sub.brief_id)
    if sub.allocated_coach_id not in (None, coach.id):
        coach = session.get(User, sub.allocated_coach_id)
    queue.start(session, sub, coach)
    mark = marking.open_draft(session, sub, coach)
    marking.submit(session, sub, coach, scores=scores_at(session, brief, level), feedback="Clear, real work.",
                   version=mark.version, rubric_version_id=sub.rubric_version_id)
    second_mark(session, sub, brief, level)
    confirm_moderation(session, sub)
    return release.release(session, sub, admin or coach)


def second_mark(session: Session, sub: Submission, brief: AssessmentBrief, level: str = "top") -> Submission:
    """A brief with double marking: a second coach marks at the same level (so the marks agree within
    the tolerance and the work goes on to moderation or release). A coach is made if none was given."""
    from api.assessments import doublemark
    from api.assessments.models import MarkKind, State

    if sub.state != State.awaiting_second_mark.value:
        return sub
    mark = doublemark._open(session, sub, MarkKind.second)
    second = session.get(User, mark.marker_id) if mark else make_coach(session, "Sam Second")
    if mark is None:
        doublemark._draft(session, sub, second, MarkKind.second)
    return doublemark.submit_second(session, sub, second, scores_at(session, brief, level), "Agreed.")


def confirm_moderation(session: Session, sub: Submission) -> Submission:
    """When the moderation sample took the submission, its moderator confirms the marking (a coach is
    made to moderate if no eligible one exists yet)."""
    from api.assessments import moderation
    from api.assessments.models import State

    if sub.state != State.in_moderation.value:
        return sub
    mod = moderation.moderation_mark(session, sub, draft_only=True)
    moderator = session.get(User, mod.marker_id) if mod else make_coach(session, "Morgan Moderator")
    if mod is None:
        moderation.take(session, sub, moderator)
    return moderation.confirm(session, sub, moderator)


def give_released_pass(session: Session, learner: User, programme: str | Programme, coach: User | None = None,
                       *, commit: bool = True) -> list[Submission]:
    """A released pass on each current brief of the programme. The learner must be enrolled
    (not required by the services, but completion needs it). Call drain() afterwards."""
    prog = catalog.get_by_slug(session, programme) if isinstance(programme, str) else programme
    coach = coach or make_coach(session)
    out = []
    for brief in submissions.briefs_for(session, [prog.id])[prog.id]:
        sub = submit_work(session, learner, brief)
        out.append(mark_and_release(session, sub, coach))
    if commit:
        session.commit()
    return out
