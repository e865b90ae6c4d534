"""Races of the second line of judgement on PostgreSQL, with real concurrent sessions: two coaches
taking one moderation at once (one gets it, the other 409), and two appeals of one result at once (one
appeal, one 409)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import delete
from sqlmodel import Session, select

from api.accounts.models import Role, User
from api.assessments import appeals, moderation, release, submissions
from api.assessments.models import State, Submission
from api.assessments.review_models import Appeal
from api.catalog import service as catalog_service
from api.core.errors import Conflict
from api.outbox.models import OutboxMessage
from tests.assessments.review_helpers import all_at, first_mark, set_moderation
from tests.assessments.test_races import _user, pg  # noqa: F401 - the PostgreSQL fixture
from tests.learning.test_concurrency import _race

pytestmark = pytest.mark.postgres


@pytest.fixture
def failed_in_moderation(pg) -> Iterator[dict]:  # noqa: F811
    """Committed: a learner's ACXP fail in moderation with nobody given it (the only other coach is
    conflicted), and two newcomers who may take it."""
    with Session(pg, expire_on_commit=False) as s:
        acxp = catalog_service.get_by_slug(s, "acxp")
        brief = submissions.briefs_for(s, [acxp.id])[acxp.id][0]
        settings = dict(brief.settings)
        set_moderation(s, brief, sample_percent=0, min_count=0)
        learner = _user(s, "Racing Learner")
        marker = _user(s, "Marking Coach", Role.coach)
        s.flush()
        sub = submissions.start(s, learner, brief)
        submissions.save_draft(s, sub, learner, text="work", version=sub.version)
        submissions.submit(s, sub, learner, authentic=True, anonymised=True)
        first_mark(s, sub, marker, all_at(s, brief, 0))
        newcomers = [_user(s, "Newcomer A", Role.coach), _user(s, "Newcomer B", Role.coach)]
        s.commit()
        assert sub.state == State.in_moderation.value
        # Whoever the routing chose is released from it, so the newcomers race to take it.
        mod = moderation.moderation_mark(s, sub, draft_only=True)
        if mod is not None:
            s.delete(mod)
            s.commit()
        out = {"sub": sub.id, "learner": learner.id, "marker": marker.id, "newcomers": [n.id for n in newcomers],
               "brief": brief.id, "settings": settings}
    try:
        yield out
    finally:
        with Session(pg) as s:
            from api.catalog.models import AssessmentBrief

            b = s.get(AssessmentBrief, out["brief"])
            b.settings = out["settings"]
            s.add(b)
            s.exec(delete(User).where(User.id.in_([out["learner"], out["marker"], *out["newcomers"]])))
            s.exec(delete(OutboxMessage).where(OutboxMessage.topic.like("assess%")))
            s.commit()


def test_two_coaches_take_one_moderation_at_once_one_gets_it(pg, failed_in_moderation):  # noqa: F811
    sub_id = failed_in_moderation["sub"]
    a_id, b_id = failed_in_moderation["newcomers"]

    def take_as(coach_id):
        def run(session, _user):
            return moderation.take(session, session.get(Submission, sub_id), session.get(User, coach_id)).marker_id
        return run

    first, second, waited = _race(pg, a_id, take_as(a_id), take_as(b_id))
    assert waited, "the second take should have waited for the first's row lock"
    assert first == a_id
    assert isinstance(second, Conflict) and second.code == "moderation_taken"
    with Session(pg) as s:
        assert moderation.moderation_mark(s, s.get(Submission, sub_id), draft_only=True).marker_id == a_id


def test_two_appeals_of_one_result_at_once_give_one_appeal(pg, failed_in_moderation):  # noqa: F811
    sub_id, learner_id = failed_in_moderation["sub"], failed_in_moderation["learner"]
    a_id = failed_in_moderation["newcomers"][0]
    with Session(pg, expire_on_commit=False) as s:
        sub = s.get(Submission, sub_id)
        moderation.take(s, sub, s.get(User, a_id))
        moderation.confirm(s, sub, s.get(User, a_id))
        release.release(s, sub, s.get(User, a_id))
        s.commit()

    def lodge(session, user):
        return appeals.lodge(session, session.get(Submission, sub_id), user, "Please look again.").id

    first, second, waited = _race(pg, learner_id, lodge, lodge)
    assert isinstance(first, int)
    assert isinstance(second, Conflict) and second.code == "already_appealed"
    with Session(pg) as s:
        assert len(list(s.exec(select(Appeal).where(Appeal.submission_id == sub_id)))) == 1
    assert waited, "the second appeal should have waited for the first's uncommitted row"
