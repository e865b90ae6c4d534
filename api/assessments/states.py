"""The one door through which a submission changes state.

`transition` checks the edge is allowed, writes the new state with a conditional UPDATE (the row
must still be in the state, and at the version, the caller read), bumps `version`, and appends an
audit row. Two requests racing for the same edge (a learner withdrawing while a coach starts, two
coaches claiming) meet at that UPDATE: one changes the row, the other gets 409 and changes nothing.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import update
from sqlmodel import Session

from api.assessments import audit
from api.assessments.models import State, Submission
from api.core.db import utcnow
from api.core.errors import Conflict

S = State
# from-state -> the states it may move to. review's routing, moderation and appeals use the edges
# after `marked`; add an edge here (and a test) rather than writing `state` anywhere else.
EDGES: dict[State, frozenset[State]] = {
    S.draft: frozenset({S.submitted, S.withdrawn}),
    S.submitted: frozenset({S.withdrawn, S.in_marking}),
    S.withdrawn: frozenset(),
    S.in_marking: frozenset({S.marked}),
    S.marked: frozenset({S.ready_for_release, S.awaiting_second_mark, S.in_moderation}),
    S.awaiting_second_mark: frozenset({S.awaiting_agreement, S.ready_for_release, S.in_moderation}),
    S.awaiting_agreement: frozenset({S.ready_for_release, S.in_moderation}),
    S.in_moderation: frozenset({S.ready_for_release, S.sent_back}),
    S.sent_back: frozenset({S.in_marking}),
    S.ready_for_release: frozenset({S.released, S.in_moderation}),
    S.released: frozenset({S.under_appeal}),
    S.under_appeal: frozenset({S.released}),
}

# What a learner reads for each state (the learner page and completion needs).
LEARNER_WORDS: dict[str, str] = {
    S.draft: "draft, not yet submitted",
    S.submitted: "submitted, awaiting marking",
    S.withdrawn: "withdrawn",
    S.in_marking: "being marked",
    S.marked: "marked, being checked",
    S.awaiting_second_mark: "marked, being checked",
    S.awaiting_agreement: "marked, being checked",
    S.in_moderation: "marked, being checked",
    S.sent_back: "being marked",
    S.ready_for_release: "marked, result to be released",
    S.released: "result released",
    S.under_appeal: "under appeal",
}


def allowed(from_state: str, to_state: str) -> bool:
    try:
        return State(to_state) in EDGES[State(from_state)]
    except (KeyError, ValueError):
        return False


class StaleState(Conflict):
    code = "state_changed"


def _apply(session: Session, submission: Submission, to: State, frm: State, actor: Any, action: str | None,
           reason: str | None, data: dict[str, Any] | None, where: Any, changes: dict[str, Any]) -> bool:
    now = utcnow()
    values = {**changes, "state": to.value, "version": Submission.version + 1, "updated_at": now}
    stmt = (update(Submission)
            .where(Submission.id == submission.id, Submission.state == frm.value,
                   Submission.version == submission.version)
            .values(**values).execution_options(synchronize_session=False))
    if where is not None:
        stmt = stmt.where(where)
    if session.execute(stmt).rowcount != 1:
        return False
    session.refresh(submission)
    audit.record(session, submission, actor, action or to.value, frm.value, to.value, reason, data)
    return True


def try_transition(session: Session, submission: Submission, to_state: State | str, actor: Any, *,
                   action: str | None = None, reason: str | None = None, data: dict[str, Any] | None = None,
                   where: Any = None, **changes: Any) -> bool:
    """As `transition`, but a refused edge or a lost race is a plain False (no error is made, so the
    request is not marked refused): for callers that try the next candidate ("mark next")."""
    if not allowed(submission.state, to_state):
        return False
    return _apply(session, submission, State(to_state), State(submission.state), actor, action, reason, data,
                  where, changes)


def transition(session: Session, submission: Submission, to_state: State | str, actor: Any, *,
               action: str | None = None, reason: str | None = None, data: dict[str, Any] | None = None,
               where: Any = None, **changes: Any) -> Submission:
    """Move `submission` to `to_state`, setting `changes` in the same UPDATE.

    Refused with 409 (nothing written) when the edge is not allowed, or when the row is no longer in
    the state/version this request read (someone else moved it first). `where` adds a condition to
    the UPDATE (e.g. the lease is free). `actor` is a User, a user id or None (the system)."""
    to = State(to_state)
    frm = State(submission.state)
    if to not in EDGES[frm]:
        raise Conflict(f"This submission is {LEARNER_WORDS.get(frm, frm.value)}; it cannot be moved to "
                       f"'{to.value.replace('_', ' ')}' from here.", code="transition_not_allowed")
    if not _apply(session, submission, to, frm, actor, action, reason, data, where, changes):
        raise StaleState("Someone else changed this submission a moment ago; nothing was changed. "
                         "Reload the page to see where it stands now.")
    return submission
