from __future__ import annotations

import pytest

from api.accounts.models import Role
from api.catalog import service as catalog_service
from api.learning import service as learning_service
from api.learning.models import EnrolmentSource, EnrolmentStatus


@pytest.fixture
def completed(db, make_user):
    """A learner who has completed a programme and has not yet confirmed the certificate name."""

    def make(slug: str = "acxp", name: str = "Thandi Mokoena", email: str | None = None):
        user = make_user(email, name=name)
        programme = catalog_service.get_by_slug(db, slug)
        enrolment = learning_service.enrol(db, user_id=user.id, programme_id=programme.id,
                                           source=EnrolmentSource.admin_grant, check_prerequisites=False)
        enrolment.status = EnrolmentStatus.completed.value
        db.add(enrolment)
        db.commit()
        return user, programme, enrolment

    return make


@pytest.fixture
def issued(db, completed):
    from api.certificates import service

    def make(slug: str = "acxp", name: str = "Thandi Mokoena", email: str | None = None, **kw):
        user, programme, enrolment = completed(slug, name, email)
        cert = service.issue(db, user=user, programme=programme, holder_name=name, enrolment=enrolment, **kw)
        db.commit()
        return user, programme, cert

    return make


@pytest.fixture
def admin(make_user):
    return make_user("registrar@example.com", name="Rita Registrar", roles={Role.admin})
