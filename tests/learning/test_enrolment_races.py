"""One enrolment per learner and programme, whatever arrives at once: twenty simultaneous grants of
one place (PostgreSQL, real threads through the real app) give one enrolment and no 500; on both
databases, an enrolment that passed the "already enrolled?" check just as another committed
returns that enrolment, as the sequential path does."""

from __future__ import annotations

import uuid
from collections import Counter

import pytest
from sqlalchemy import delete, func
from sqlmodel import Session, col, select

from api.accounts import service as accounts_service
from api.accounts.models import LoginAttempt, Role, User
from api.accounts.schemas import UserCreate
from api.catalog import service as catalog_service
from api.core.config import get_settings
from api.learning import service as enrolment_service
from api.learning.models import Enrolment, EnrolmentSource
from tests.conftest import csrf_from
from tests.realapp import at_once, real_client


@pytest.mark.postgres
def test_twenty_simultaneous_grants_of_one_place_make_one_enrolment_and_no_500(engine):
    if get_settings().is_sqlite:
        pytest.skip("concurrent writers are proved on PostgreSQL: set CADRE_TEST_DATABASE_URL")
    tag = uuid.uuid4().hex[:8]
    admin_email, learner_email = f"admin-{tag}@example.com", f"learner-{tag}@example.com"
    with Session(engine) as s:
        for email, roles in ((admin_email, {Role.admin}), (learner_email, set())):
            accounts_service.create_user(s, UserCreate(email=email, full_name="Someone",
                                                       password="correct-horse-battery"), roles=roles, verified=True)
        s.commit()
    try:
        with real_client() as client:
            assert client.post("/api/v1/auth/login", json={"email": admin_email,
                                                           "password": "correct-horse-battery"}).status_code == 200
            token = csrf_from(client.get("/admin/enrolments").text)
            answers = at_once(20, lambda i: client.post(
                "/admin/enrolments", data={"csrf_token": token, "email": learner_email, "programme": "acxp"},
                follow_redirects=False))
        assert Counter(r.status_code for r in answers) == {303: 20}
        with Session(engine) as s:
            uid = s.exec(select(User.id).where(User.email == learner_email)).one()
            assert s.exec(select(func.count()).select_from(Enrolment).where(Enrolment.user_id == uid)).one() == 1
    finally:
        with Session(engine) as s:
            s.exec(delete(LoginAttempt).where(col(LoginAttempt.email).like(f"%{tag}%")))
            s.exec(delete(User).where(col(User.email).like(f"%{tag}%")))
            s.commit()


def test_an_enrolment_that_passed_the_check_as_another_committed_returns_that_enrolment(db, make_user,
                                                                                         monkeypatch):
    learner = make_user()
    acxp = catalog_service.get_by_slug(db, "acxp")
    first = enrolment_service.enrol(db, user_id=learner.id, programme_id=acxp.id, source=EnrolmentSource.purchase,
                                    reference="order-1")
    db.commit()
    real_get = enrolment_service.get_enrolment
    calls = Counter()

    def not_yet_then_real(session, user_id, programme_id):
        calls["n"] += 1
        return None if calls["n"] == 1 else real_get(session, user_id, programme_id)  # the check saw nothing

    monkeypatch.setattr(enrolment_service, "get_enrolment", not_yet_then_real)
    again = enrolment_service.enrol(db, user_id=learner.id, programme_id=acxp.id, source=EnrolmentSource.purchase,
                                    reference="order-2")
    db.commit()  # the transaction is still usable
    assert again.id == first.id and again.reference == "order-1"
    assert db.exec(select(func.count()).select_from(Enrolment).where(Enrolment.user_id == learner.id)).one() == 1
