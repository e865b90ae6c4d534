"""What happens after the first marker submits. The simplest correct rule: the first mark decides
and the submission is ready for release. (review replaces this with double marking and the
moderation sample; keep the signature.)"""

from __future__ import annotations

from sqlmodel import Session

from api.assessments import states
from api.assessments.models import Mark, State, Submission


def after_first_mark(session: Session, submission: Submission, mark: Mark | None = None) -> Submission:
    """Called by marking.submit with the submission in `marked` and its `result_mark_id` set to the
    first mark. Moves it on (here: straight to ready_for_release)."""
    return states.transition(session, submission, State.ready_for_release, None, action="routed",
                             data={"route": "single_marker", "mark_id": submission.result_mark_id})
