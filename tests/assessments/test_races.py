"""Races on PostgreSQL, where locks are real: two coaches asking for work at the same moment never
hold the same submission; a learner withdrawing while a coach starts: one wins, the other gets 409;
two coaches starting one submission: one lease, one 409. Real concurrent sessions, one per thread."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import delete
from sqlmodel import Session, select

from api.accounts.models import Role, User, UserRole
from api.assessments import queue, submissions
from api.assessments.models import State, Submission
from api.catalog import service as catalog_service
from api.core.config import get_settings
from api.core.errors import Conflict
from api.outbox.models import OutboxMessage
from tests.learning.test_concurrency import _race

pytestmark = pytest.mark.postgres
_n = itertools.count(1)


@pytest.fixture
def pg(engine):
    if get_settings().is_sqlite:
        pytest.skip("row locks are only real on PostgreSQL; set CADRE_TEST_DATABASE_URL to run the races")
    return engine


def _user(s: Session, name: str, role: Role | None = None) -> User:
    u = User(email=f"race-{next(_n)}-{name.lower()}@example.com", full_name=name, password_hash="-")
    s.add(u)
    s.flush()
    if role:
        s.add(UserRole(user_id=u.id, role=role.value))
    return u


@pytest.fixture
def cast(pg) -> Iterator[dict]:
    """Committed: three learners with ACXP work in the shared pool (no coach existed when they
    submitted), then six coaches."""
    made: list[int] = []
    with Session(pg, expire_on_commit=False) as s:
        brief = submissions.briefs_for(s, [catalog_service.get_by_slug(s, "acxp").id])[
            catalog_service.get_by_slug(s, "acxp").id][0]
        learners = [_user(s, f"Learner{i}") for i in range(3)]
        subs = []
        for lr in learners:
            sub = submissions.start(s, lr, brief)
            submissions.save_draft(s, sub, lr, text="work", version=sub.version)
            submissions.submit(s, sub, lr, authentic=True, anonymised=True)
            subs.append(sub.id)
        coaches = [_user(s, f"Coach{i}", Role.coach) for i in range(6)]
        s.commit()
        made = [u.id for u in learners + coaches]
        out = {"subs": subs, "coaches": [c.id for c in coaches], "learners": [u.id for u in learners]}
    try:
        yield out
    finally:
        with Session(pg) as s:
            s.exec(delete(User).where(User.id.in_(made)))
            s.exec(delete(OutboxMessage).where(OutboxMessage.topic.like("assess%")))
            s.commit()


def test_all_unallocated_in_the_pool(pg, cast):
    with Session(pg) as s:
        assert all(s.get(Submission, i).allocated_coach_id is None for i in cast["subs"])


def test_six_coaches_mark_next_at_once_and_no_submission_is_held_twice(pg, cast):
    barrier = threading.Barrier(len(cast["coaches"]))
    got: dict[int, int | None] = {}
    errors: list[BaseException] = []

    def run(coach_id: int):
        try:
            with Session(pg, expire_on_commit=False) as s:
                coach = s.get(User, coach_id)
                barrier.wait(5)
                sub = queue.mark_next(s, coach)
                got[coach_id] = sub.id if sub else None
                s.commit()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(c,)) for c in cast["coaches"]]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert not errors, errors
    claimed = [v for v in got.values() if v is not None]
    assert sorted(claimed) == sorted(cast["subs"])  # each of the three claimed exactly once
    assert list(got.values()).count(None) == 3  # the other three coaches got nothing
    with Session(pg) as s:
        for sub_id in cast["subs"]:
            sub = s.get(Submission, sub_id)
            assert sub.state == State.in_marking.value
            assert got[sub.lease_holder_id] == sub_id and sub.allocated_coach_id == sub.lease_holder_id


def test_a_second_coach_skips_the_row_the_first_is_claiming(pg, cast):
    a_id, b_id = cast["coaches"][:2]
    out: dict[str, object] = {}
    a = Session(pg, expire_on_commit=False)
    try:
        first = queue.mark_next(a, a.get(User, a_id))  # holds its row lock, uncommitted
        with Session(pg, expire_on_commit=False) as b:
            second = queue.mark_next(b, b.get(User, b_id))  # SKIP LOCKED: the next row, no wait
            out["b"] = second.id if second else None
            b.commit()
        a.commit()
    finally:
        a.close()
    assert first is not None and out["b"] is not None and out["b"] != first.id


def test_learner_withdraws_while_the_coach_starts_one_wins_one_409(pg, cast):
    sub_id, coach_id, learner_id = cast["subs"][0], cast["coaches"][0], cast["learners"][0]

    def coach_starts(session, _user):
        return queue.start(session, session.get(Submission, sub_id), session.get(User, coach_id)).state

    def learner_withdraws(session, _user):
        return submissions.withdraw(session, session.get(Submission, sub_id), session.get(User, learner_id)).state

    first, second, waited = _race(pg, learner_id, coach_starts, learner_withdraws)
    assert waited, "the withdrawal should have waited for the coach's transaction"
    assert first == State.in_marking.value
    assert isinstance(second, Conflict) and second.status_code == 409
    with Session(pg) as s:
        assert s.get(Submission, sub_id).state == State.in_marking.value


def test_withdrawal_first_then_the_coach_gets_409(pg, cast):
    sub_id, coach_id, learner_id = cast["subs"][1], cast["coaches"][0], cast["learners"][1]

    def learner_withdraws(session, _user):
        return submissions.withdraw(session, session.get(Submission, sub_id), session.get(User, learner_id)).state

    def coach_starts(session, _user):
        return queue.start(session, session.get(Submission, sub_id), session.get(User, coach_id)).state

    first, second, waited = _race(pg, learner_id, learner_withdraws, coach_starts)
    assert waited
    assert first == State.withdrawn.value
    assert isinstance(second, Conflict) and second.status_code == 409
    with Session(pg) as s:
        sub = s.get(Submission, sub_id)
        assert sub.state == State.withdrawn.value and sub.lease_holder_id is None


def test_two_coaches_start_one_submission_one_lease_one_409(pg, cast):
    sub_id, (a_id, b_id) = cast["subs"][2], cast["coaches"][:2]

    def start_as(coach_id):
        return lambda session, _u: queue.start(session, session.get(Submission, sub_id),
                                              session.get(User, coach_id)).lease_holder_id

    first, second, waited = _race(pg, a_id, start_as(a_id), start_as(b_id))
    assert waited
    assert first == a_id
    assert isinstance(second, Conflict) and second.code in ("lease_held", "state_changed")
    with Session(pg) as s:
        assert s.exec(select(Submission.lease_holder_id).where(Submission.id == sub_id)).one() == a_id
