from __future__ import annotations

import pytest

from api.accounts.models import Role
from api.catalog import service as catalog_service
from api.learning import service as enrolment_service
from api.learning.models import EnrolmentSource


@pytest.fixture
def quick_people(db):
    """The same cast without password hashing (for service-level tests that never log in)."""
    from api.accounts.models import User, UserRole

    def make(email, name, role=None):
        u = User(email=email, full_name=name, password_hash="-")
        db.add(u)
        db.flush()
        if role:
            db.add(UserRole(user_id=u.id, role=role.value))
        return u

    people = {"learner": make("lena@example.com", "Lena Learner"), "other": make("otto@example.com", "Otto Other"),
              "coach": make("cora@example.com", "Cora Coach", Role.coach),
              "coach2": make("colm@example.com", "Colm Coach", Role.coach),
              "admin": make("ada@example.com", "Ada Admin", Role.admin)}
    db.commit()
    return people


@pytest.fixture
def people(make_user):
    return {
        "learner": make_user("lena@example.com", name="Lena Learner"),
        "other": make_user("otto@example.com", name="Otto Other"),
        "coach": make_user("cora@example.com", name="Cora Coach", roles={Role.coach}),
        "coach2": make_user("colm@example.com", name="Colm Coach", roles={Role.coach}),
        "admin": make_user("ada@example.com", name="Ada Admin", roles={Role.admin}),
    }


@pytest.fixture
def enrol(db):
    def do(user, slug: str = "acxp"):
        p = catalog_service.get_by_slug(db, slug)
        e = enrolment_service.enrol(db, user_id=user.id, programme_id=p.id, source=EnrolmentSource.admin_grant,
                                    check_prerequisites=False)
        db.commit()
        return e

    return do


@pytest.fixture
def acxp_brief(db):
    from api.assessments import submissions

    p = catalog_service.get_by_slug(db, "acxp")
    return submissions.briefs_for(db, [p.id])[p.id][0]


@pytest.fixture(autouse=True)
def _uploads_in_tmp(tmp_path, monkeypatch):
    """Uploaded files land in this test's own folder (local storage), never in var/."""
    from api.core.config import get_settings

    monkeypatch.setattr(get_settings(), "uploads_dir", tmp_path / "uploads")


PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"


@pytest.fixture
def as_user(client, login):
    """Switch the test client to a person (cookie session through the login API)."""

    def do(user):
        client.cookies.clear()
        token = login(user.email)
        client.cookies.set("cadre_session", token)
        return client

    return do
