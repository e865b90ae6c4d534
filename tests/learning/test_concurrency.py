"""Racing requests on PostgreSQL, where locks are real: two submits of the last lesson complete the
programme once; two lessons finished at the same moment still complete it; two submits of the last
allowed attempt at a check give one attempt and one 409.

Each race is made deterministic: request A does its work and holds its transaction open; request B
starts and the test waits until PostgreSQL reports B waiting on a lock; then A commits."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import delete, text
from sqlmodel import Session, select

from api.accounts import service as accounts_service
from api.accounts.models import User
from api.accounts.schemas import UserCreate
from api.catalog import service as catalog_service
from api.core.config import get_settings
from api.core.errors import Conflict
from api.learning import checks, progress, study
from api.learning import service as enrolment_service
from api.learning.models import DomainEvent, EnrolmentSource, LessonCompletion
from tests.assessments.factories import give_released_pass, make_coach
from tests.learning.conftest import right_answers, wrong_answers

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg(engine):
    if get_settings().is_sqlite:
        pytest.skip("row locks are only real on PostgreSQL (SQLite runs one writer at a time); "
                    "set CADRE_TEST_DATABASE_URL to run the races")
    return engine


@pytest.fixture
def learner(pg) -> Iterator[tuple[int, list[progress.Item]]]:
    """A committed learner in ACXP with everything done except the last two lessons."""
    with Session(pg, expire_on_commit=False) as s:
        user = accounts_service.create_user(s, UserCreate(email="racer@example.com", full_name="Ray Racer",
                                                          password="correct-horse-battery"), verified=True)
        acxp = catalog_service.get_by_slug(s, "acxp")
        enrolment_service.enrol(s, user_id=user.id, programme_id=acxp.id, source=EnrolmentSource.admin_grant)
        items = progress.load_one(s, None, acxp).items
        last_two = [i for i in items if i.kind == "lesson"][-2:]
        for item in items:
            if item.kind == "lesson" and item not in last_two:
                study.complete_lesson(s, user, "acxp", item.slug)
            elif item.kind == "knowledge_check":
                check = checks.get_check(s, acxp, item.slug)
                checks.submit(s, user, "acxp", item.slug, right_answers(check))
        coach = make_coach(s)
        give_released_pass(s, user, acxp, coach, commit=False)  # lessons alone never complete a programme
        s.commit()
        uid, pid, coach_id = user.id, acxp.id, coach.id
    try:
        yield uid, last_two
    finally:
        with Session(pg) as s:
            s.exec(delete(DomainEvent).where(DomainEvent.dedupe_key == f"user:{uid}:programme:{pid}"))
            s.exec(delete(DomainEvent).where(DomainEvent.name == "assessment.released"))
            s.exec(delete(User).where(User.id.in_([uid, coach_id])))  # enrolment, completions, attempts cascade
            s.commit()


def _wait_for_a_lock_wait(engine, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    with engine.connect() as conn:
        while time.monotonic() < deadline:
            waiting = conn.execute(text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                                        "AND datname = current_database()")).scalar()
            conn.rollback()
            if waiting:
                return True
            time.sleep(0.05)
    return False


def _race(pg, uid: int, first, second):
    """Run first(session, user) and hold its transaction; run second in a thread; commit first once
    second is waiting for a lock. Returns (first's result, second's result or exception, waited)."""
    out: dict[str, object] = {}
    a = Session(pg, expire_on_commit=False)
    try:
        result_a = first(a, a.get(User, uid))

        def run_b():
            with Session(pg, expire_on_commit=False) as b:
                try:
                    out["b"] = second(b, b.get(User, uid))
                    b.commit()
                except Exception as exc:  # the test inspects it
                    b.rollback()
                    out["b"] = exc

        t = threading.Thread(target=run_b)
        t.start()
        waited = _wait_for_a_lock_wait(pg)
        a.commit()
        t.join(15)
        assert not t.is_alive()
    finally:
        a.close()
    return result_a, out["b"], waited


def _events(pg, uid: int) -> int:
    with Session(pg) as s:
        return len([e for e in s.exec(select(DomainEvent).where(DomainEvent.name == "programme.completed"))
                    if e.payload["user_id"] == uid])


def test_double_submit_of_the_last_lesson_completes_the_programme_once(pg, learner):
    uid, (second_last, last) = learner
    with Session(pg) as s:
        study.complete_lesson(s, s.get(User, uid), "acxp", second_last.slug)
        s.commit()

    def submit(session, user):
        return study.complete_lesson(session, user, "acxp", last.slug).programme_completed

    first, second, waited = _race(pg, uid, submit, submit)
    assert waited, "the second request should have waited for the first"
    assert (first, second) == (True, False)
    assert _events(pg, uid) == 1
    with Session(pg) as s:
        assert len(s.exec(select(LessonCompletion).where(LessonCompletion.user_id == uid,
                                                         LessonCompletion.lesson_id == last.id)).all()) == 1


def test_the_last_two_lessons_finished_at_the_same_moment_still_complete_it(pg, learner):
    uid, (second_last, last) = learner

    def finish(slug):
        return lambda session, user: study.complete_lesson(session, user, "acxp", slug).programme_completed

    first, second, waited = _race(pg, uid, finish(second_last.slug), finish(last.slug))
    assert waited
    assert (first, second) == (False, True)  # the second saw the first's tick once it could go on
    assert _events(pg, uid) == 1


def test_two_submits_of_the_last_allowed_attempt_give_one_attempt_and_one_409(pg, learner):
    uid, _ = learner
    slug = "check-moments-of-truth"
    with Session(pg) as s:
        user = s.get(User, uid)
        check = checks.get_check(s, catalog_service.get_by_slug(s, "acxp"), slug)
        answers = wrong_answers(check)
        checks.submit(s, user, "acxp", slug, answers)  # attempt 2 (attempt 1 passed in the fixture)
        s.commit()

    def submit(session, user):
        return checks.submit(session, user, "acxp", slug, answers).attempt.number

    first, second, waited = _race(pg, uid, submit, submit)
    assert waited
    assert first == 3
    assert isinstance(second, Conflict) and second.code == "attempts_exhausted"
