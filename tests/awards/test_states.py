"""The cycle's state machine: every edge forward, nothing skipped or backwards, a lost race is 409 and
changes nothing, and every move leaves an audit row."""

from __future__ import annotations

import pytest
from sqlmodel import select

from api.awards import states
from api.awards.models import AwardCycle, CycleAudit, CycleState
from api.core.errors import Conflict

ORDER = states.ORDER


def test_every_edge_forward_in_order_and_audited(db, make_cycle):
    cycle = make_cycle(CycleState.draft)
    for frm, to in zip(ORDER, ORDER[1:], strict=False):
        assert cycle.state == frm
        version = cycle.version
        states.transition(db, cycle, to, make_cycle.admin, reason=f"to {to}")
        assert (cycle.state, cycle.version) == (to, version + 1)
    rows = db.exec(select(CycleAudit).where(CycleAudit.cycle_id == cycle.id,
                                            CycleAudit.from_state != CycleAudit.to_state)
                   .order_by(CycleAudit.id)).all()
    assert [(r.from_state, r.to_state) for r in rows] == list(zip(ORDER, ORDER[1:], strict=False))
    assert all(r.actor_id == make_cycle.admin.id for r in rows)


@pytest.mark.parametrize("frm", ORDER)
def test_no_edge_other_than_the_next_one(db, make_cycle, frm):
    cycle = make_cycle(frm)
    nxt = states.next_state(frm)
    for to in ORDER:
        if to == nxt:
            continue
        assert not states.allowed(frm, to)
        with pytest.raises(Conflict) as err:
            states.transition(db, cycle, to, None)
        assert err.value.code == "transition_not_allowed"
        assert cycle.state == frm
    assert states.EDGES[CycleState.announced] == frozenset()


def test_unknown_state_is_refused(db, make_cycle):
    cycle = make_cycle(CycleState.draft)
    with pytest.raises(Conflict):
        states.transition(db, cycle, "published", None)


def test_lost_race_is_409_and_writes_nothing(db, make_cycle):
    cycle = make_cycle(CycleState.sifting)
    # A second request read the same row at the same version; the first moves it.
    stale = AwardCycle(**cycle.model_dump())
    states.transition(db, cycle, CycleState.shortlisting, None)
    audit_before = len(db.exec(select(CycleAudit).where(CycleAudit.cycle_id == cycle.id)).all())
    with pytest.raises(states.StaleCycle) as err:
        states.transition(db, stale, CycleState.shortlisting, None)
    assert err.value.status_code == 409
    db.refresh(cycle)
    assert cycle.state == CycleState.shortlisting and cycle.version == stale.version + 1
    assert len(db.exec(select(CycleAudit).where(CycleAudit.cycle_id == cycle.id)).all()) == audit_before
