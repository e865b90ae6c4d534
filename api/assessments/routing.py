"""What happens after a marker submits (called by marking.submit with the submission in `marked`
and `result_mark_id` set to the new first mark).

- A re-mark after a moderator sent it back goes back to that moderator.
- With double marking on the brief (`moderation.double_marking`), a first mark waits for a second
  marker (awaiting_second_mark); agreement is decided in doublemark.py.
- Otherwise the moderation sample decides: in_moderation or ready_for_release (moderation.py).
"""

from __future__ import annotations

from sqlmodel import Session

from api.assessments import doublemark, moderation
from api.assessments.models import Mark, Submission


def after_first_mark(session: Session, submission: Submission, mark: Mark | None = None) -> Submission:
    mark = mark or moderation.result_mark(session, submission)
    if moderation.moderation_mark(session, submission, draft_only=True) is None and \
            moderation.settings_of(session, submission)["double_marking"]:
        return doublemark.await_second_mark(session, submission, mark)
    return moderation.to_moderation_or_release(session, submission, mark, route="single_marker")
