"""Learning fixtures: enrol people the way admins do (through the service), walk a programme's
outline, and answer a knowledge check right or wrong from its real questions."""

from __future__ import annotations

import pytest

from api.catalog import service as catalog_service
from api.learning import progress
from api.learning import service as enrolment_service
from api.learning.models import EnrolmentSource


@pytest.fixture
def enrol(db):
    def do(user, slug: str, *, source: EnrolmentSource = EnrolmentSource.admin_grant, **kw):
        p = catalog_service.get_by_slug(db, slug)
        e = enrolment_service.enrol(db, user_id=user.id, programme_id=p.id, source=source,
                                    check_prerequisites=False, **kw)
        db.commit()
        return e

    return do


@pytest.fixture
def outline(db):
    """The programme's items in study order (lessons and checks), as progress.Item."""

    def items(slug: str) -> list[progress.Item]:
        return progress.load_one(db, None, catalog_service.get_by_slug(db, slug)).items

    return items


def right_answers(check) -> list[list[int]]:
    return [[i for i, o in enumerate(q["options"]) if o.get("correct")] for q in check.questions]


def wrong_answers(check) -> list[list[int]]:
    out = []
    for q in check.questions:
        wrong = [i for i, o in enumerate(q["options"]) if not o.get("correct")]
        out.append(wrong[:1])
    return out
