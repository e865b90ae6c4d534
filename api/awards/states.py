"""The one door through which an award cycle changes state.

`transition` checks the edge is allowed, writes the new state with a conditional UPDATE (the row must
still be in the state, and at the version, the caller read), bumps `version`, and appends an audit row.
Two admins (or an admin and the worker) moving the same cycle at once meet at that UPDATE: one moves
it, the other gets 409 and changes nothing. Judging (api/judging) calls this for its rounds.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, update
from sqlmodel import Session

from api.awards.models import AwardCycle, CycleAudit, CycleState
from api.core.db import utcnow
from api.core.errors import Conflict

S = CycleState
ORDER: list[CycleState] = [S.draft, S.nominations_open, S.nominations_closed, S.sifting, S.shortlisting,
                           S.interviewing, S.deliberating, S.decided, S.announced]
# A cycle only moves forward, one step at a time: each round's results are frozen when it closes.
EDGES: dict[CycleState, frozenset[CycleState]] = {
    a: frozenset({b}) for a, b in zip(ORDER, ORDER[1:], strict=False)
}
EDGES[S.announced] = frozenset()

WORDS: dict[str, str] = {
    S.draft: "a draft, not yet public",
    S.nominations_open: "open for nominations",
    S.nominations_closed: "closed for nominations",
    S.sifting: "sifting entries",
    S.shortlisting: "scoring the shortlist",
    S.interviewing: "interviewing shortlisted candidates",
    S.deliberating: "in final deliberation",
    S.decided: "decided, under embargo until the announcement",
    S.announced: "announced",
}


def allowed(from_state: str, to_state: str) -> bool:
    try:
        return CycleState(to_state) in EDGES[CycleState(from_state)]
    except (KeyError, ValueError):
        return False


def next_state(state: str) -> CycleState | None:
    nxt = EDGES.get(CycleState(state))
    return next(iter(nxt)) if nxt else None


class StaleCycle(Conflict):
    code = "state_changed"


def record(session: Session, cycle: AwardCycle, actor: Any, action: str, from_state: str | None,
           to_state: str | None, reason: str | None = None, data: dict[str, Any] | None = None) -> CycleAudit:
    """Append one audit row. `actor` is a User, a user id, or None (the worker)."""
    row = CycleAudit(cycle_id=cycle.id, actor_id=getattr(actor, "id", actor), action=action,
                     from_state=from_state, to_state=to_state, reason=reason, data=dict(data or {}), at=utcnow())
    session.add(row)
    session.flush()
    return row


def transition(session: Session, cycle: AwardCycle, to_state: CycleState | str, actor: Any, *,
               action: str | None = None, reason: str | None = None, data: dict[str, Any] | None = None,
               expected_version: int | None = None, **changes: Any) -> AwardCycle:
    """Move `cycle` to `to_state`, setting `changes` in the same UPDATE. 409 (nothing written) when the
    edge is not allowed or when someone else moved the cycle since this request read it (or since the
    page the admin acted from was rendered: pass that page's `expected_version`)."""
    try:
        to = CycleState(to_state)
    except ValueError:
        raise Conflict(f"'{to_state}' is not a state an award cycle can be in.",
                       code="transition_not_allowed") from None
    frm = CycleState(cycle.state)
    if to not in EDGES[frm]:
        raise Conflict(f"This cycle is {WORDS[frm]}; it cannot be moved to '{WORDS[to]}' from here.",
                       code="transition_not_allowed")
    now = utcnow()
    stmt = (update(AwardCycle)
            .where(AwardCycle.id == cycle.id, AwardCycle.state == frm.value,
                   AwardCycle.version == (cycle.version if expected_version is None else expected_version))
            .values(**changes, state=to.value, version=AwardCycle.version + 1, updated_at=now)
            .execution_options(synchronize_session=False))
    if session.execute(stmt).rowcount != 1:
        raise StaleCycle("Someone else changed this cycle a moment ago; nothing was changed. Reload the page to "
                         "see where it stands now.")
    session.refresh(cycle)
    record(session, cycle, actor, action or to.value, frm.value, to.value, reason, data)
    from api.core import pagecache

    pagecache.invalidate(session)  # the public cycle page says where the cycle stands
    return cycle


class AuditIsAppendOnly(RuntimeError):
    pass


@event.listens_for(CycleAudit, "before_update")
def _no_update(_mapper: Any, _conn: Any, target: CycleAudit) -> None:
    raise AuditIsAppendOnly(f"award_cycle_audit {target.id}: entries are never changed")


@event.listens_for(CycleAudit, "before_delete")
def _no_delete(_mapper: Any, _conn: Any, target: CycleAudit) -> None:
    raise AuditIsAppendOnly(f"award_cycle_audit {target.id}: entries are never deleted")
