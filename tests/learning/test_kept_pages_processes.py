"""Kept logged-in pages across app instances, with real commits: a lesson completed through one instance
shows at once on the dashboard another instance had kept (the versions live in the database, not in a
process). And on PostgreSQL, many writers bumping the same counters at once all commit, none waits
forever on another, and no bump is lost."""

from __future__ import annotations

import secrets
import uuid
from collections import Counter

import pytest
from sqlalchemy import delete
from sqlmodel import Session, col, select

from api.accounts import service as accounts_service
from api.accounts.models import LoginAttempt, User
from api.accounts.schemas import UserCreate
from api.catalog import service as catalog_service
from api.cohorts.models import CalendarFeed
from api.core.config import get_settings
from api.core.pagecache import PageVersion
from api.core.viewerversion import GLOBAL, ViewerVersion
from api.learning import progress
from api.learning import service as enrolment_service
from api.learning.models import EnrolmentSource
from tests.conftest import csrf_from
from tests.realapp import at_once, real_client

PASSWORD = "correct-horse-battery"


def _cleanup(engine, tag: str) -> None:
    with Session(engine) as s:
        ids = list(s.exec(select(User.id).where(col(User.email).like(f"%{tag}%"))))
        s.exec(delete(LoginAttempt).where(col(LoginAttempt.email).like(f"%{tag}%")))
        s.exec(delete(PageVersion).where(col(PageVersion.name).like(f"%{tag}%")))
        s.exec(delete(User).where(col(User.email).like(f"%{tag}%")))
        if ids:
            s.exec(delete(ViewerVersion).where(col(ViewerVersion.scope).in_(ids)))
        s.commit()


def test_a_lesson_completed_through_one_instance_shows_at_once_on_another_instances_kept_dashboard(engine):
    tag = uuid.uuid4().hex[:8]
    email = f"learner-{tag}@example.com"
    with Session(engine) as s:
        user = accounts_service.create_user(s, UserCreate(email=email, full_name="Two Instances", password=PASSWORD),
                                            verified=True)
        acxp = catalog_service.get_by_slug(s, "acxp")
        enrolment_service.enrol(s, user_id=user.id, programme_id=acxp.id, source=EnrolmentSource.admin_grant)
        first = next(i for i in progress.load_one(s, None, acxp).items if i.kind == "lesson")
        s.commit()
    try:
        with real_client() as one, real_client() as two:
            assert one.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD}).status_code == 200
            two.cookies.update(one.cookies)  # the same browser, behind a balancer sending it to either
            for c in (one, two, one, two):
                kept = c.get("/dashboard").text
            assert "Completed the lesson" not in kept
            lesson = one.get(f"/learn/acxp/{first.slug}").text
            done = one.post(f"/learn/acxp/{first.slug}/complete", data={"csrf_token": csrf_from(lesson)},
                            follow_redirects=False)
            assert done.status_code == 303
            for c in (two, one):
                assert f"Completed the lesson “{first.title}” (ACXP)" in c.get("/dashboard").text
    finally:
        _cleanup(engine, tag)


@pytest.mark.postgres
def test_concurrent_writers_bumping_shared_and_neighbouring_counters_all_commit_with_no_bump_lost(engine):
    if get_settings().is_sqlite:
        pytest.skip("row locks are only real on PostgreSQL: set CADRE_TEST_DATABASE_URL")
    tag, n, rounds = uuid.uuid4().hex[:8], 8, 6
    with Session(engine) as s:
        users = [accounts_service.create_user(s, UserCreate(email=f"bump-{i}-{tag}@example.com", full_name=f"B {i}",
                                                            password=PASSWORD), verified=True) for i in range(n)]
        s.commit()
        ids = [u.id for u in users]
        start = {v.scope: v.version for v in s.exec(select(ViewerVersion).where(
            col(ViewerVersion.scope).in_([GLOBAL, *ids])))}

    # Writer i, each round: a row owned by user i and one owned by its neighbour (so writers i and i+1
    # bump a counter in common, all round the ring), and every other round also a row no user owns (the
    # global counter). Inserts only: the counters are the only rows they contend for.
    def writer(i: int) -> Counter:
        touched: Counter = Counter()
        with Session(engine) as s:
            for r in range(rounds):
                for uid in (ids[i], ids[(i + 1) % n]):
                    s.add(CalendarFeed(user_id=uid, token_digest=secrets.token_hex(32), nonce="x"))
                    touched[uid] += 1
                if r % 2 == 0:
                    s.add(PageVersion(name=f"t-{tag}-{i}-{r}"))
                    touched[GLOBAL] += 1
                s.commit()
        return touched

    try:
        totals = sum(at_once(n, writer), Counter())
        with Session(engine) as s:
            now = {v.scope: v.version for v in s.exec(select(ViewerVersion).where(
                col(ViewerVersion.scope).in_([GLOBAL, *ids])))}
        for uid in ids:
            # Each commit bumps each counter it touched once, however many of its rows it wrote.
            commits = rounds * 2  # its own rounds and its neighbour's
            assert now[uid] - start.get(uid, 0) == commits, (uid, now[uid], start.get(uid), totals[uid])
        assert now[GLOBAL] - start.get(GLOBAL, 0) == n * ((rounds + 1) // 2)
    finally:
        with Session(engine) as s:
            s.exec(delete(CalendarFeed).where(col(CalendarFeed.user_id).in_(ids)))
            s.commit()
        _cleanup(engine, tag)
