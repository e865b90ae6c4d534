"""The seat race on PostgreSQL, with real concurrent sessions committing for real: 20 managers' requests
at once assigning a pool of 3 seats to 20 different members give exactly 3 seats (and 3 enrolments),
through the service and through the HTTP API; the CHECK and the row lock hold it, the losers get 409."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import delete, func
from sqlmodel import Session, col, select

from api.accounts import service as accounts_service
from api.accounts.models import User, UserRole, UserSession
from api.accounts.schemas import UserCreate
from api.core.config import get_settings
from api.learning.models import Enrolment
from api.organisations import seats, service
from api.organisations.models import Membership, Organisation, SeatAssignment, SeatCredit, SeatPool

pytestmark = pytest.mark.postgres
N = 20


@pytest.fixture
def pg(engine):
    if get_settings().is_sqlite:
        pytest.skip("row locks and concurrent writers are proved on PostgreSQL: set CADRE_TEST_DATABASE_URL")
    made: dict[str, list] = {"users": [], "orgs": []}
    yield engine, made
    with Session(engine) as s:
        pools = list(s.exec(select(SeatPool.id).where(col(SeatPool.organisation_id).in_(made["orgs"])))) \
            if made["orgs"] else []
        for table, column, ids in (
                (SeatAssignment, SeatAssignment.pool_id, pools), (SeatCredit, SeatCredit.pool_id, pools),
                (SeatPool, SeatPool.id, pools), (Membership, Membership.organisation_id, made["orgs"]),
                (Organisation, Organisation.id, made["orgs"]), (Enrolment, Enrolment.user_id, made["users"]),
                (UserSession, UserSession.user_id, made["users"]), (UserRole, UserRole.user_id, made["users"]),
                (User, User.id, made["users"])):
            if ids:
                s.exec(delete(table).where(col(column).in_(ids)))
        s.commit()


def _organisation(engine, made) -> tuple[str, str, int, list[int], str]:
    """An organisation whose owner holds a pool of 3 ACXP seats and has N members; the owner's token."""
    tag = uuid.uuid4().hex[:8]
    with Session(engine, expire_on_commit=False) as s:
        owner = accounts_service.create_user(s, UserCreate(email=f"race-{tag}-owner@example.com", full_name="Owner",
                                                           password="correct-horse-battery"), verified=True)
        made["users"].append(owner.id)
        org = service.create(s, owner, name=f"Race {tag}")
        made["orgs"].append(org.id)
        members = []
        for i in range(N):
            u = accounts_service.create_user(s, UserCreate(email=f"race-{tag}-{i}@example.com", full_name="Racer",
                                                           password="correct-horse-battery"), verified=True)
            made["users"].append(u.id)
            m = Membership(organisation_id=org.id, user_id=u.id)
            s.add(m)
            s.flush()
            members.append(m.id)
        pool = seats.grant(s, org, seats.programme_by_slug(s, "acxp"), 3, owner)
        token = accounts_service.start_session(s, owner)[0]
        s.commit()
        return org.public_id, pool.public_id, owner.id, members, token


def _in_threads(n: int, work) -> list:
    barrier = threading.Barrier(n)

    def run(i):
        barrier.wait()
        return work(i)

    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(run, range(n)))


def _counts(engine, pool_public_id: str) -> tuple[int, int, int]:
    with Session(engine) as s:
        pool = s.exec(select(SeatPool).where(SeatPool.public_id == pool_public_id)).one()
        live = s.exec(select(func.count()).select_from(SeatAssignment).where(
            SeatAssignment.pool_id == pool.id, SeatAssignment.status == "assigned")).one()
        enrolled = s.exec(select(func.count()).select_from(Enrolment).where(
            Enrolment.reference == pool_public_id, Enrolment.source == "organisation_seat")).one()
        return pool.assigned, live, enrolled


def test_twenty_concurrent_assignments_of_three_seats_give_exactly_three(pg):
    engine, made = pg
    org_id, pool_id, owner_id, members, _ = _organisation(engine, made)

    def assign(i: int) -> str:
        with Session(engine, expire_on_commit=False) as s:
            try:
                org = service.get_by_public_id(s, org_id)
                seats.assign(s, org, seats.get_pool(s, org, pool_id), service.find_member(s, org, members[i]),
                             s.get(User, owner_id))
                s.commit()
                return "assigned"
            except service.Conflict as exc:
                s.rollback()
                return exc.code

    results = _in_threads(N, assign)
    assert results.count("assigned") == 3, results
    assert set(results) == {"assigned", "no_seat_left"}
    assert _counts(engine, pool_id) == (3, 3, 3)


def test_twenty_concurrent_http_clients_assigning_three_seats_get_three_201s(pg):
    from fastapi.testclient import TestClient

    from api.main import create_app

    engine, made = pg
    org_id, pool_id, _, members, token = _organisation(engine, made)
    with TestClient(create_app(), base_url="http://testserver", raise_server_exceptions=False) as client:
        def post(i: int) -> tuple[int, str]:
            r = client.post(f"/api/v1/organisations/{org_id}/seats/{pool_id}/assignments",
                            headers={"Authorization": f"Bearer {token}"}, json={"member": members[i]})
            return r.status_code, (r.json().get("error") or {}).get("code", "") if r.status_code != 201 else ""

        results = _in_threads(N, post)
    assert [s for s, _ in results].count(201) == 3, results
    assert {(s, c) for s, c in results if s != 201} == {(409, "no_seat_left")}
    assert _counts(engine, pool_id) == (3, 3, 3)
