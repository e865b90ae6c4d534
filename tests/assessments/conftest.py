from __future__ import annotations

import pytest

from api.accounts.models import Role
from api.catalog import service as catalog_service
from api.learning import service as enrolment_service
from api.learning.models import EnrolmentSource


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
