"""Races on PostgreSQL, with real concurrent sessions committing for real: the same person nominated
by several peers at once is one nominee with the right count; two admins moving a cycle at once get
one move and one 409."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import delete
from sqlmodel import Session, col, select

from api.accounts import service as accounts_service
from api.accounts.models import User, UserRole
from api.accounts.schemas import UserCreate
from api.awards import nominations, service, states
from api.awards.models import AwardCycle, CycleAudit, CycleState, Nomination, Nominee
from api.core.config import get_settings
from api.core.errors import CadreError
from api.halloffame.models import AwardWinner
from api.outbox.models import OutboxMessage

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg(engine):
    if get_settings().is_sqlite:
        pytest.skip("concurrent writers are proved on PostgreSQL: set CADRE_TEST_DATABASE_URL")
    made: dict[str, list] = {"users": [], "cycles": []}
    yield engine, made
    with Session(engine) as s:
        if made["cycles"]:
            s.exec(delete(AwardWinner).where(col(AwardWinner.cycle_id).in_(made["cycles"])))
            s.exec(delete(AwardCycle).where(col(AwardCycle.id).in_(made["cycles"])))
        if made["users"]:
            s.exec(delete(UserRole).where(col(UserRole.user_id).in_(made["users"])))
            s.exec(delete(User).where(col(User.id).in_(made["users"])))
        s.commit()


def _users(engine, made, n):
    tag = uuid.uuid4().hex[:8]
    with Session(engine) as s:
        users = [accounts_service.create_user(s, UserCreate(email=f"peer-{tag}-{i}@example.com", full_name=f"Peer {i}",
                                                            password="correct-horse-battery"), verified=True)
                 for i in range(n)]
        s.commit()
        ids = [u.id for u in users]
    made["users"] += ids
    return ids


def _cycle(engine, made, state=CycleState.nominations_open):
    with Session(engine) as s:
        award = service.award_by_slug(s, "change-architect-of-the-year")
        cycle = service.create_cycle(s, award, 2100 + len(made["cycles"]) + int(uuid.uuid4().int % 90), None)
        while cycle.state != state:
            states.transition(s, cycle, states.next_state(cycle.state), None)
        s.commit()
        made["cycles"].append(cycle.id)
        return cycle.id


def _in_threads(n, work):
    barrier = threading.Barrier(n)

    def run(i):
        barrier.wait()
        return work(i)

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(run, range(n)))


def test_concurrent_nominations_of_one_person_make_one_nominee(pg):
    engine, made = pg
    cycle_id = _cycle(engine, made)
    peers = _users(engine, made, 6)
    email = f"Star-{uuid.uuid4().hex[:6]}@Example.org"

    def work(i):
        with Session(engine) as s:
            cycle = s.get(AwardCycle, cycle_id)
            user = s.get(User, peers[i])
            try:
                _, _, created = nominations.nominate(s, cycle, user, nominations.NominationIn(
                    name="Star Person", email=email if i % 2 else email.lower(), statement=f"Statement {i}"))
                s.commit()
                return "new" if created else "merged"
            except CadreError as exc:
                s.rollback()
                return exc.code

    results = _in_threads(6, work)
    assert sorted(results) == ["merged"] * 5 + ["new"]
    with Session(engine) as s:
        [nominee] = s.exec(select(Nominee).where(Nominee.cycle_id == cycle_id)).all()
        assert nominee.nomination_count == 6
        assert len(s.exec(select(Nomination).where(Nomination.nominee_id == nominee.id)).all()) == 6
        invites = s.exec(select(OutboxMessage).where(
            OutboxMessage.dedupe_key == f"email:award-invite:{nominee.public_id}")).all()
        assert len(invites) == 1


def test_two_concurrent_nominations_count_two(pg):
    engine, made = pg
    cycle_id = _cycle(engine, made)
    peers = _users(engine, made, 2)
    email = f"pair-{uuid.uuid4().hex[:6]}@example.org"

    def work(i):
        with Session(engine) as s:
            nominations.nominate(s, s.get(AwardCycle, cycle_id), s.get(User, peers[i]),
                                 nominations.NominationIn(name="Pair", email=email, statement="Did it."))
            s.commit()

    _in_threads(2, work)
    with Session(engine) as s:
        [nominee] = s.exec(select(Nominee).where(Nominee.cycle_id == cycle_id)).all()
        assert nominee.nomination_count == 2


def test_two_admins_moving_a_cycle_at_once_one_wins(pg):
    engine, made = pg
    cycle_id = _cycle(engine, made, CycleState.sifting)

    def work(i):
        with Session(engine) as s:
            cycle = s.get(AwardCycle, cycle_id)
            try:
                states.transition(s, cycle, CycleState.shortlisting, None, reason=f"admin {i}")
                s.commit()
                return 200
            except CadreError as exc:
                s.rollback()
                return exc.status_code

    assert sorted(_in_threads(4, work)) == [200, 409, 409, 409]
    with Session(engine) as s:
        cycle = s.get(AwardCycle, cycle_id)
        assert cycle.state == CycleState.shortlisting
        moves = s.exec(select(CycleAudit).where(CycleAudit.cycle_id == cycle_id,
                                                CycleAudit.to_state == CycleState.shortlisting.value)).all()
        assert len(moves) == 1


def test_two_announcements_at_once_publish_once(pg):
    """The admin's button and the worker at the same moment: one announcement, one credential per winner."""
    from datetime import UTC, date, datetime, time

    from api.awards import announce
    from api.awards.models import CycleOutcome
    from api.certificates.models import Certificate

    engine, made = pg
    cycle_id = _cycle(engine, made)
    peer, nominee_id = _users(engine, made, 2)
    with Session(engine) as s:
        cycle, nominee_user = s.get(AwardCycle, cycle_id), s.get(User, nominee_id)
        nominee, _, _ = nominations.nominate(s, cycle, s.get(User, peer), nominations.NominationIn(
            name="Racing Winner", email=nominee_user.email, statement="Did it."))
        nominations.respond(s, nominee, nominee_user, accept=True, consent_judging=True, consent_public=True)
        entry = nominations.save_entry(s, nominee, nominee_user, nominations.EntryIn(
            personal="a", professional="b", business="c",
            referees=[{"name": "R", "email": "r@example.org", "relationship": ""}]), submit=True)
        while cycle.state != CycleState.deliberating:
            states.transition(s, cycle, states.next_state(cycle.state), None)
        service.record_outcomes(s, cycle, [{"entry_id": entry.id, "kind": "winner", "citation": "Won."}], None)
        s.commit()
    after = datetime(2200, 1, 1, tzinfo=UTC)
    with Session(engine) as s:  # the embargo lifted at the start of the year
        service.set_milestone(s, s.get(AwardCycle, cycle_id), "announcement", date(2026, 1, 1), time(9, 0), "UTC")
        s.commit()

    def work(i):
        with Session(engine) as s:
            try:
                announce.announce(s, s.get(AwardCycle, cycle_id), None, after)
                s.commit()
                return 200
            except CadreError as exc:
                s.rollback()
                return exc.status_code

    assert sorted(_in_threads(3, work)) == [200, 409, 409]
    with Session(engine) as s:
        assert len(s.exec(select(AwardWinner).where(AwardWinner.cycle_id == cycle_id)).all()) == 1
        [outcome] = s.exec(select(CycleOutcome).where(CycleOutcome.cycle_id == cycle_id)).all()
        assert outcome.certificate_id is not None
        assert len(s.exec(select(Certificate).where(Certificate.user_id == nominee_id)).all()) == 1
