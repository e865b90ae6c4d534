"""The verify page and the verification API's answer are rendered when a certificate is issued or its
status changes and stored beside it: the first view in any process is sent from there, and a stored
answer that no longer matches what the page shows (a status, the expiry, the programme's wording) is
never sent."""

from __future__ import annotations

import secrets
from datetime import timedelta

import pytest
from sqlalchemy import delete, update
from sqlmodel import Session, select

from api.accounts import service as accounts
from api.accounts.models import Role, User
from api.accounts.schemas import UserCreate
from api.catalog import service as catalog
from api.catalog.models import Programme
from api.certificates import service, verified_pages
from api.certificates.answers import VerifiedAnswer
from api.certificates.models import Certificate
from api.core.db import utcnow
from api.learning import service as learning
from api.learning.models import EnrolmentSource
from tests.realapp import real_client


@pytest.fixture
def issued(engine):
    tag = secrets.token_hex(4)
    with Session(engine, expire_on_commit=False) as s:
        holder = accounts.create_user(s, UserCreate(email=f"stored-{tag}@example.com", full_name="Stored Holder",
                                                    password="correct-horse-battery"), verified=True)
        admin = accounts.create_user(s, UserCreate(email=f"stored-admin-{tag}@example.com", full_name="Stored Admin",
                                                   password="correct-horse-battery"), roles={Role.admin}, verified=True)
        programme = catalog.get_by_slug(s, "acxs")
        e = learning.enrol(s, user_id=holder.id, programme_id=programme.id, source=EnrolmentSource.admin_grant)
        e.status = "completed"
        cert = service.issue(s, user=holder, programme=programme, holder_name=holder.full_name, enrolment=e)
        s.commit()
    yield cert, admin
    with engine.begin() as conn:
        conn.execute(delete(User).where(User.id.in_([holder.id, admin.id])))


@pytest.fixture
def no_full_path(monkeypatch):
    """While on, a view that reaches the routes' certificate look-up fails the test."""
    full = service.by_slug

    def refuse(*_args, **_kwargs):
        raise AssertionError("the stored answer should have been sent")

    class Switch:
        def on(self):
            monkeypatch.setattr(service, "by_slug", refuse)

        def off(self):
            monkeypatch.setattr(service, "by_slug", full)

    return Switch()


def test_both_answers_are_stored_when_a_certificate_is_issued(engine, issued):
    cert, _ = issued
    with Session(engine) as s:
        kinds = set(s.exec(select(VerifiedAnswer.kind).where(VerifiedAnswer.certificate_id == cert.id)).all())
    assert kinds == {"page", "json"}


def test_the_first_view_in_a_fresh_process_is_sent_from_the_stored_answer(engine, issued, no_full_path):
    cert, _ = issued
    verified_pages.forget()  # as a process that has never shown it
    no_full_path.on()
    with real_client() as client:
        page = client.get(f"/verify/{cert.slug}")
        api = client.get(f"/api/v1/credentials/{cert.slug}/verification")
    assert page.status_code == 200 and '<h1 id="result">Valid</h1>' in page.text and "Stored Holder" in page.text
    assert "Checked " in page.text and page.headers["cache-control"] == "no-store"
    assert page.headers["content-type"].startswith("text/html") and page.headers["content-security-policy"]
    assert api.status_code == 200 and api.json()["verified"] is True and api.json()["status"] == "valid"
    assert api.json()["holder"] == "Stored Holder"


def test_a_status_change_stores_the_new_answer_and_the_next_view_shows_it(engine, issued, no_full_path):
    cert, admin = issued
    with real_client() as client:
        assert '<h1 id="result">Valid</h1>' in client.get(f"/verify/{cert.slug}").text
        with Session(engine, expire_on_commit=False) as s:  # an admin in another process
            service.change_status(s, s.get(Certificate, cert.id), "revoke", "Found to be forged",
                                  s.get(User, admin.id))
            s.commit()
        no_full_path.on()
        page = client.get(f"/verify/{cert.slug}")
        api = client.get(f"/api/v1/credentials/{cert.slug}/verification").json()
    assert '<h1 id="result">Revoked</h1>' in page.text and "Found to be forged" in page.text
    assert api["status"] == "revoked" and api["verified"] is False


def test_a_stored_answer_is_not_sent_once_the_programme_wording_changed(engine, issued):
    cert, _ = issued
    with engine.begin() as conn:
        old = conn.execute(Programme.__table__.select().where(Programme.id == cert.programme_id)).first().title
        conn.execute(update(Programme).where(Programme.id == cert.programme_id).values(title="Renamed Specialist"))
    try:
        verified_pages.forget()
        with real_client() as client:
            assert "Renamed Specialist" in client.get(f"/verify/{cert.slug}").text
    finally:
        with engine.begin() as conn:
            conn.execute(update(Programme).where(Programme.id == cert.programme_id).values(title=old))


def test_a_stored_answer_is_not_sent_once_the_certificate_has_lapsed(engine, issued):
    cert, _ = issued
    with engine.begin() as conn:  # as if its expiry date had come and gone since it was issued
        conn.execute(update(Certificate).where(Certificate.id == cert.id)
                     .values(expires_at=utcnow() - timedelta(days=1)))
    verified_pages.forget()
    with real_client() as client:
        page = client.get(f"/verify/{cert.slug}")
        api = client.get(f"/api/v1/credentials/{cert.slug}/verification").json()
    assert '<h1 id="result">Expired</h1>' in page.text
    assert api["status"] == "expired" and api["verified"] is False


def test_a_certificate_made_private_shows_only_its_status_at_once(engine, issued):
    cert, _ = issued
    with Session(engine, expire_on_commit=False) as s:
        service.set_private(s, s.get(Certificate, cert.id), True)
        s.commit()
    verified_pages.forget()
    with real_client() as client:
        page = client.get(f"/verify/{cert.slug}")
        assert client.get(f"/api/v1/credentials/{cert.slug}/verification").status_code == 404
    assert "Stored Holder" not in page.text and "keeps the details of this certificate private" in page.text


@pytest.fixture
def award(engine):
    """An award credential (no programme: api/certificates/achievements.py) issued as the awards domain does."""
    from api.certificates import achievements
    from api.certificates.credential import AchievementInfo

    tag = secrets.token_hex(4)
    with Session(engine, expire_on_commit=False) as s:
        winner = accounts.create_user(s, UserCreate(email=f"winner-{tag}@example.com", full_name="Award Winner",
                                                    password="correct-horse-battery"), verified=True)
        cert = achievements.issue_award(s, user=winner, holder_name=winner.full_name, achievement=AchievementInfo(
            "https://cadre.test/hall-of-fame/2026", "Change Architect of the Year 2026", "Won the award.",
            "Chosen by peers.", achievement_type="Award"))
        s.commit()
    yield cert
    with engine.begin() as conn:
        conn.execute(delete(User).where(User.id == winner.id))


def test_an_award_credential_is_sent_from_its_stored_answer_like_a_certificate(engine, award, no_full_path):
    """An award has no programme: its answers are stored at issue all the same, and the one status read
    (which joins the programme for a certificate's wording) still finds it, so no view takes the full path."""
    with Session(engine) as s:
        kinds = set(s.exec(select(VerifiedAnswer.kind).where(VerifiedAnswer.certificate_id == award.id)).all())
    assert kinds == {"page", "json"}
    verified_pages.forget()
    no_full_path.on()
    with real_client() as client:
        first = client.get(f"/verify/{award.slug}")
        again = client.get(f"/verify/{award.slug}")
        api = client.get(f"/api/v1/credentials/{award.slug}/verification")
    assert first.status_code == again.status_code == 200
    assert '<h1 id="result">Valid</h1>' in first.text and "Change Architect of the Year 2026" in first.text
    assert "Award Winner" in again.text
    assert api.status_code == 200 and api.json()["status"] == "valid"
