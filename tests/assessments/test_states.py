"""The submission state machine: every allowed edge moves, bumps the version and writes one audit
row; every other pair is refused with 409 and changes nothing."""

from __future__ import annotations

import itertools

import pytest
from sqlmodel import select

from api.assessments import audit, states
from api.assessments.models import AuditEntry, State, Submission
from api.core.errors import Conflict
from tests.assessments.factories import submit_work

ALL = list(State)
ALLOWED = [(a, b) for a in ALL for b in states.EDGES[a]]
REFUSED = [(a, b) for a, b in itertools.product(ALL, ALL) if b not in states.EDGES[a]]


def test_the_edges_are_the_documented_ones():
    for frm, to in [(State.draft, State.submitted), (State.submitted, State.withdrawn), (State.submitted,
                    State.in_marking), (State.in_marking, State.marked), (State.marked, State.ready_for_release),
                    (State.ready_for_release, State.released), (State.released, State.under_appeal),
                    (State.under_appeal, State.released)]:
        assert to in states.EDGES[frm]
    assert State.withdrawn not in states.EDGES[State.in_marking]  # no withdrawing once marking started
    assert states.EDGES[State.withdrawn] == frozenset()
    assert State.released in states.EDGES[State.ready_for_release]
    assert all(State.released not in states.EDGES[s] for s in ALL if s not in (State.ready_for_release,
                                                                               State.under_appeal))


@pytest.fixture
def sub_in(db, quick_people, acxp_brief):
    sub = submit_work(db, quick_people["learner"], acxp_brief)

    def put(state: State) -> Submission:
        sub.state = state.value
        db.add(sub)
        db.flush()
        db.refresh(sub)
        return sub

    return put


@pytest.mark.parametrize(("frm", "to"), ALLOWED, ids=[f"{a.value}->{b.value}" for a, b in ALLOWED])
def test_allowed_edge(db, sub_in, quick_people, frm, to):
    people = quick_people
    sub = sub_in(frm)
    before, entries = sub.version, len(audit.trail(db, sub.id))
    states.transition(db, sub, to, people["admin"], reason="test")
    assert sub.state == to.value and sub.version == before + 1
    trail = audit.trail(db, sub.id)
    assert len(trail) == entries + 1
    assert (trail[-1].from_state, trail[-1].to_state, trail[-1].actor_id) == (frm.value, to.value, people["admin"].id)


@pytest.mark.parametrize(("frm", "to"), REFUSED, ids=[f"{a.value}->{b.value}" for a, b in REFUSED])
def test_refused_edge(db, sub_in, quick_people, frm, to):
    people = quick_people
    sub = sub_in(frm)
    before, entries = sub.version, len(audit.trail(db, sub.id))
    with pytest.raises(Conflict) as err:
        states.transition(db, sub, to, people["admin"])
    assert err.value.code == "transition_not_allowed"
    db.refresh(sub)
    assert sub.state == frm.value and sub.version == before and len(audit.trail(db, sub.id)) == entries
    assert states.try_transition(db, sub, to, people["admin"]) is False


def test_a_stale_read_loses(db, sub_in, quick_people):
    people = quick_people
    """Two requests read version v; the first moves the row; the second's UPDATE finds nothing."""
    sub = sub_in(State.submitted)
    db.execute(Submission.__table__.update().where(Submission.id == sub.id).values(version=sub.version + 1))
    with pytest.raises(states.StaleState):
        states.transition(db, sub, State.withdrawn, people["learner"])
    assert db.exec(select(Submission.state).where(Submission.id == sub.id)).one() == State.submitted.value


def test_the_audit_trail_is_append_only(db, sub_in):
    sub = sub_in(State.submitted)
    entry = audit.trail(db, sub.id)[-1]
    with pytest.raises(audit.AuditIsAppendOnly), db.begin_nested():
        entry.reason = "rewritten"
        db.flush()
    with pytest.raises(audit.AuditIsAppendOnly), db.begin_nested():
        db.delete(db.get(AuditEntry, entry.id))
        db.flush()
    assert db.exec(select(AuditEntry.reason).where(AuditEntry.id == entry.id)).one() != "rewritten"
