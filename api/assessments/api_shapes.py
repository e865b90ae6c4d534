"""Tables and views turned into the API's response models (schemas.py)."""

from __future__ import annotations

from sqlmodel import Session

from api.accounts.models import User
from api.assessments import evidence, rubrics, states, submissions, views
from api.assessments.models import Mark, RubricVersion, Submission, SubmissionFile
from api.assessments.schemas import (
    BriefPublic,
    CriterionPublic,
    FilePublic,
    LevelPublic,
    MarkPublic,
    QueueItem,
    RubricPublic,
    ScoreIn,
    ScorePublic,
    SubmissionPublic,
)
from api.catalog.models import AssessmentBrief, Programme
from api.core.db import utcnow


def rubric(version: RubricVersion, brief: AssessmentBrief) -> RubricPublic:
    return RubricPublic(id=version.id, number=version.number, sha256=version.content_hash,
                        pass_mark=int((brief.pass_rule or {}).get("pass_mark", brief.pass_mark)),
                        criteria=[CriterionPublic(slug=c["slug"], title=c["title"],
                                                  description=c.get("description", ""),
                                                  weight=int(c.get("weight", 1)), must_pass=bool(c.get("must_pass")),
                                                  levels=[LevelPublic(**lv) for lv in c["levels"]])
                                  for c in version.rubric["criteria"]])


def file(f: SubmissionFile) -> FilePublic:
    return FilePublic(id=f.public_id, name=f.display_name, content_type=f.content_type, size_bytes=f.size_bytes,
                      open_url=f"/assessments/files/{f.public_id}/open")


def submission(session: Session, sub: Submission, *, show_marks: bool) -> SubmissionPublic:
    programme, brief = submissions.programme_and_brief(session, sub)
    version = session.get(RubricVersion, sub.rubric_version_id)
    fs = submissions.files_of(session, [sub.id])[sub.id]
    mark = session.get(Mark, sub.result_mark_id) if show_marks and sub.released_at and sub.result_mark_id else None
    return SubmissionPublic(
        id=sub.public_id, programme=programme.slug, brief=brief.slug, attempt=sub.attempt, state=sub.state,
        status=states.LEARNER_WORDS[sub.state], version=sub.version, text=sub.text, files=[file(f) for f in fs],
        rubric_version=version.number, deadline_at=sub.deadline_at, deadline_zone=sub.deadline_zone,
        submitted_at=sub.submitted_at, marking_due_at=sub.marking_due_at,
        outcome=sub.outcome if sub.released_at else None,
        score_percent=sub.score_percent if sub.released_at else None, released_at=sub.released_at,
        resubmit_by=sub.resubmit_by, feedback=mark.feedback if mark else None,
        scores=[ScorePublic(criterion=k, score=v.get("score"), comment=v.get("comment", ""))
                for k, v in (mark.scores if mark else {}).items()],
        record_url=evidence.record_url(sub.record_id) if sub.record_id and sub.released_at else None)


def brief(session: Session, user: User, programme: Programme, b: AssessmentBrief) -> BriefPublic:
    subs = submissions.attempts(session, user.id, b.id)
    version = rubrics.current(session, b)
    step = submissions.next_step(b, subs)
    return BriefPublic(programme=programme.slug, slug=b.slug, title=b.title, brief=b.brief, settings=b.settings or {},
                       rubric=rubric(version, b) if version else None,
                       attempts=[submission(session, s, show_marks=True) for s in subs],
                       can_start=step.can_start or bool(subs and subs[-1].state == "draft"), message=step.message)


def mark(m: Mark, sub: Submission) -> MarkPublic:
    return MarkPublic(id=m.id, kind=m.kind, round=m.round, status=m.status, version=m.version,
                      rubric_version_id=m.rubric_version_id,
                      scores={k: ScoreIn(score=v.get("score"), comment=v.get("comment", ""))
                              for k, v in m.scores.items()},
                      feedback=m.feedback, outcome=m.outcome, score_percent=m.score_percent, submission_state=sub.state)


def queue_items(session: Session, coach: User, subs: list[Submission]) -> list[QueueItem]:
    now = utcnow()
    return [QueueItem(id=r.sub.public_id, learner=r.learner_label, programme=r.programme.code, brief=r.brief.slug,
                      attempt=r.sub.attempt, state=r.sub.state, marking_due_at=r.sub.marking_due_at,
                      overdue=bool(r.sub.marking_due_at and r.sub.marking_due_at < now))
            for r in views._rows(session, subs, coach)]
