"""What a coach has been to a learner in assessment: allocated to coach their work, or a marker of
it. Asked by other domains (award judging's conflict checks); answers from the submissions and marks."""

from __future__ import annotations

from sqlmodel import Session, col, select

from api.assessments.models import Mark, Submission


def coached(session: Session, coach_id: int, learner_id: int) -> bool:
    """The coach was allocated at least one of the learner's submissions."""
    return session.exec(select(Submission.id).where(Submission.user_id == learner_id,
                                                    Submission.allocated_coach_id == coach_id).limit(1)).first() \
        is not None


def marked(session: Session, coach_id: int, learner_id: int) -> bool:
    """The coach wrote a mark (any kind, draft or submitted) on one of the learner's submissions."""
    return session.exec(select(Mark.id).join(Submission, col(Submission.id) == Mark.submission_id)
                        .where(Submission.user_id == learner_id, Mark.marker_id == coach_id).limit(1)).first() \
        is not None
