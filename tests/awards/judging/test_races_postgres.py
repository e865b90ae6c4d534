"""Judging races on PostgreSQL, with real concurrent sessions committing for real: two admins closing
a round at once (one freezes it, the other hears 409, one frozen result), and two judges recusing
from one entry at once (the round's lock makes the second see the first, so the entry keeps its
quorum instead of both thinking someone else was still there)."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import delete, func
from sqlmodel import Session, col, select

from api.accounts import service as accounts_service
from api.accounts.models import User, UserRole
from api.accounts.schemas import UserCreate
from api.awards import nominations, states
from api.awards import service as awards_service
from api.awards.judging import conflicts, scoring, service
from api.awards.judging.models import Assignment, CycleJudge, FrozenResult, JudgingRound, RoundKind
from api.awards.models import AwardCycle, CycleAudit, CycleState, Entry
from api.core.config import get_settings
from api.core.errors import CadreError

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg(engine):
    if get_settings().is_sqlite:
        pytest.skip("row locks and concurrent writers are proved on PostgreSQL: set CADRE_TEST_DATABASE_URL")
    made: dict[str, list] = {"users": [], "cycles": []}
    yield engine, made
    with Session(engine) as s:
        if made["cycles"]:
            s.exec(delete(AwardCycle).where(col(AwardCycle.id).in_(made["cycles"])))
        if made["users"]:
            s.exec(delete(UserRole).where(col(UserRole.user_id).in_(made["users"])))
            s.exec(delete(User).where(col(User.id).in_(made["users"])))
        s.commit()


def _setup(engine, made, *, judges: int, entries: int = 1) -> tuple[int, list[int], list[int], int]:
    """A cycle closed for nominations with `entries` submitted entries and `judges` accepted judges,
    its rounds made. (cycle id, judge ids, entry ids, admin user id)"""
    tag = uuid.uuid4().hex[:8]
    with Session(engine, expire_on_commit=False) as s:
        def user(name):
            u = accounts_service.create_user(s, UserCreate(email=f"{name}-{tag}@example.com", full_name=name,
                                                           password="correct-horse-battery"), verified=True)
            made["users"].append(u.id)
            return u

        admin, nominator = user("admin"), user("nominator")
        award = awards_service.award_by_slug(s, "change-architect-of-the-year")
        cycle = awards_service.create_cycle(s, award, 2101 + int(uuid.uuid4().int % 99), admin)
        made["cycles"].append(cycle.id)
        s.commit()
        while cycle.state != CycleState.nominations_open:
            states.transition(s, cycle, states.next_state(cycle.state), admin)
        entry_ids = []
        for i in range(entries):
            nominee_user = user(f"nominee{i}")
            nominee, _, _ = nominations.nominate(s, cycle, nominator, nominations.NominationIn(
                name=f"Nominee {i}", email=nominee_user.email, statement="Led the change."))
            nominations.respond(s, nominee, nominee_user, accept=True, consent_judging=True, consent_public=False)
            entry = nominations.save_entry(s, nominee, nominee_user, nominations.EntryIn(
                personal="p", professional="q", business="r",
                referees=[{"name": "Ref", "email": "ref@example.org", "relationship": ""}]), submit=True)
            entry_ids.append(entry.id)
        states.transition(s, cycle, CycleState.nominations_closed, admin)
        judge_ids = []
        for i in range(judges):
            j = service.appoint(s, cycle, user(f"judge{i}"), admin)
            service.accept(s, j, f"House {i}")
            judge_ids.append(j.id)
        service.ensure_rounds(s, cycle, admin)
        s.commit()
        return cycle.id, judge_ids, entry_ids, admin.id


def _in_threads(n, work):
    barrier = threading.Barrier(n)

    def run(i):
        barrier.wait()
        return work(i)

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(run, range(n)))


def _sift(s, cycle_id) -> JudgingRound:
    return service.round_of(s, s.get(AwardCycle, cycle_id), RoundKind.sift)


def test_two_admins_closing_a_round_at_once_one_wins_the_other_409(pg):
    engine, made = pg
    cycle_id, _, _, admin_id = _setup(engine, made, judges=3, entries=2)
    with Session(engine) as s:
        rnd = service.open_round(s, _sift(s, cycle_id), s.get(User, admin_id))
        for a in s.exec(select(Assignment).where(Assignment.round_id == rnd.id)).all():
            scoring.submit(s, a, {"pass": "pass"})
        s.commit()

    def close(i):
        with Session(engine) as s:
            try:
                service.close_round(s, _sift(s, cycle_id), s.get(User, admin_id))
                s.commit()
                return "closed"
            except CadreError as exc:
                s.rollback()
                return f"{exc.status_code}:{exc.code}"

    results = _in_threads(2, close)
    assert sorted(results) == ["409:round_closed", "closed"]
    with Session(engine) as s:
        rnd = _sift(s, cycle_id)
        assert s.exec(select(func.count()).select_from(FrozenResult).where(FrozenResult.round_id == rnd.id)).one() == 1
        assert s.get(AwardCycle, cycle_id).state == CycleState.shortlisting
        assert s.exec(select(func.count()).select_from(CycleAudit).where(
            CycleAudit.cycle_id == cycle_id, CycleAudit.action == "sift_closed")).one() == 1


def test_two_recusals_at_once_keep_the_quorum(pg):
    engine, made = pg
    cycle_id, judge_ids, [entry_id], admin_id = _setup(engine, made, judges=4)
    with Session(engine) as s:
        rnd = _sift(s, cycle_id)
        service.set_options(s, rnd, quorum=3, blind=True, normalise=False, advance=None)
        service.open_round(s, rnd, s.get(User, admin_id))
        service.set_options(s, rnd, quorum=2, blind=True, normalise=False, advance=None)
        on = [a.judge_id for a in s.exec(select(Assignment).where(Assignment.round_id == rnd.id))]
        s.commit()
    assert len(on) == 3
    spare = next(j for j in judge_ids if j not in on)
    leaving = on[:2]

    def recuse(i):
        with Session(engine) as s:
            conflicts.recuse(s, s.get(CycleJudge, leaving[i]), s.get(Entry, entry_id), "Conflict found")
            s.commit()
            return "recused"

    assert _in_threads(2, recuse) == ["recused", "recused"]
    with Session(engine) as s:
        rnd = _sift(s, cycle_id)
        active = sorted(a.judge_id for a in s.exec(select(Assignment).where(
            Assignment.round_id == rnd.id, Assignment.status == "active")))
        assert active == sorted([on[2], spare])  # two judges still on it: the quorum holds


def test_two_sign_offs_at_once_record_the_outcomes_once(pg):
    from api.awards.judging import deliberation
    from api.awards.models import CycleOutcome

    engine, made = pg
    cycle_id, judge_ids, entry_ids, admin_id = _setup(engine, made, judges=2, entries=2)
    with Session(engine) as s:
        admin = s.get(User, admin_id)
        cycle = s.get(AwardCycle, cycle_id)
        for kind in (RoundKind.sift, RoundKind.shortlist, RoundKind.interview):
            rnd = service.open_round(s, service.round_of(s, cycle, kind), admin)
            criteria = service.criteria_of(s, rnd).criteria
            for a in s.exec(select(Assignment).where(Assignment.round_id == rnd.id)).all():
                value = "8" if a.entry_id == entry_ids[0] else "5"
                values = {"pass": "pass"} if kind == RoundKind.sift else {c["key"]: value for c in criteria}
                scoring.submit(s, a, values)
            service.close_round(s, rnd, admin)
        final = service.round_of(s, cycle, RoundKind.deliberation)
        deliberation.save(s, final, attendees=judge_ids, reasons="Clear evidence.",
                          decisions=[{"entry_id": entry_ids[0], "kind": "winner", "citation": "Led the change."}])
        s.commit()

    def sign(i):
        with Session(engine) as s:
            try:
                deliberation.sign_off(s, service.round_of(s, s.get(AwardCycle, cycle_id), RoundKind.deliberation),
                                      s.get(User, admin_id))
                s.commit()
                return "signed"
            except CadreError as exc:
                s.rollback()
                return f"{exc.status_code}:{exc.code}"

    assert sorted(_in_threads(2, sign)) == ["409:deliberation_locked", "signed"]
    with Session(engine) as s:
        outcomes = s.exec(select(func.count()).select_from(CycleOutcome).where(CycleOutcome.cycle_id == cycle_id))
        assert outcomes.one() == 1
        assert s.get(AwardCycle, cycle_id).state == CycleState.decided
