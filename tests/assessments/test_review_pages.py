"""The second line of judgement through its pages: who may open what (404 to strangers), moderation,
appeals and extensions as people use them, the coach's dashboard, the admin's overview and audit."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from api.assessments import moderation, release
from api.assessments.models import State
from tests.assessments.factories import confirm_moderation, make_coach, submit_work
from tests.assessments.review_helpers import all_at, first_mark, set_moderation
from tests.conftest import csrf_from


def _post(client, page, to, **data):
    token = csrf_from(client.get(page).text)
    return client.post(to, data={"csrf_token": token, **data}, follow_redirects=False)


@pytest.fixture
def in_moderation(db, people, enrol, acxp_brief):
    enrol(people["learner"])
    set_moderation(db, acxp_brief, sample_percent=0, min_count=0)
    sub = first_mark(db, submit_work(db, people["learner"], acxp_brief), people["coach"], all_at(db, acxp_brief, 0))
    db.commit()
    mod = moderation.moderation_mark(db, sub, draft_only=True)
    users = {u.id: u for u in people.values()}
    return sub, users[sub.allocated_coach_id], users[mod.marker_id]


def test_the_moderator_confirms_through_the_pages(db, client, people, as_user, in_moderation):
    sub, marker, moderator = in_moderation
    as_user(moderator)
    queue = client.get("/coach/moderation").text
    assert sub.public_id in queue and "every fail is moderated" in queue
    page = f"/coach/moderation/{sub.public_id}"
    screen = client.get(page)
    assert screen.status_code == 200 and "Confirm the marking" in screen.text
    assert "Lena Learner" not in screen.text  # ACXP is blind-marked: the moderator sees a candidate number
    r = _post(client, page, page + "/decide", action="send_back", reason="")
    assert r.status_code == 422 and "Give the reason" in r.text
    r = _post(client, page, page + "/decide", action="confirm", reason="The map lacks SMOTOs throughout.")
    assert r.status_code == 303
    db.refresh(sub)
    assert sub.state == State.ready_for_release.value


def test_the_marker_and_strangers_cannot_open_the_moderation(db, client, people, as_user, in_moderation):
    sub, marker, _ = in_moderation
    stranger = make_coach(db, "Sam Stranger")
    db.commit()
    for who in (marker, people["other"], stranger):
        as_user(who)
        assert client.get(f"/coach/moderation/{sub.public_id}").status_code in (403, 404)
    as_user(people["admin"])
    assert client.get(f"/coach/moderation/{sub.public_id}").status_code == 200


def test_a_learner_appeals_a_fail_and_nobody_else_sees_the_appeal(db, client, people, as_user, in_moderation):
    sub, _, _ = in_moderation
    confirm_moderation(db, sub)
    release.release(db, sub, people["admin"])
    make_coach(db, "Aoife Appeals")
    db.commit()
    page = f"/assessments/submissions/{sub.public_id}/appeal"
    as_user(people["other"])
    assert client.get(page).status_code == 404
    as_user(people["learner"])
    form = client.get(page).text
    assert "You may appeal until" in form and "You can appeal once" in form
    r = _post(client, page, page, reason="Criterion 2 overlooks the map's failure-driven moments.")
    assert r.status_code == 303
    assert "Status: <strong>open</strong>" in client.get(page).text
    r = _post(client, page, page, reason="Again")
    assert r.status_code == 409 and "appealed once" in r.text
    as_user(people["coach"])
    assert client.get(page).status_code == 404  # the appeal page is the learner's


def test_a_learner_asks_for_more_time_and_the_admin_decides(db, client, people, enrol, as_user, acxp_brief, mailbox):
    from api.assessments import submissions

    enrol(people["learner"])
    sub = submissions.start(db, people["learner"], acxp_brief, "Asia/Kolkata")
    sub.deadline_at, sub.deadline_zone = datetime(2026, 12, 18, 18, 29, tzinfo=UTC), "Asia/Kolkata"
    db.add(sub)
    db.commit()
    page = f"/assessments/submissions/{sub.public_id}/extension"
    as_user(people["other"])
    assert client.get(page).status_code == 404
    as_user(people["learner"])
    assert "Friday 18 December 2026, 23:59 (Asia/Kolkata)" in client.get(page).text
    r = _post(client, page, page, until="2027-01-08T17:00", zone="Asia/Kolkata", reason="Year-end close at work.")
    assert r.status_code == 303
    assert "waiting for your coach or an administrator" in client.get(page).text
    as_user(people["coach"])  # not this learner's coach: sees nothing to decide
    assert sub.public_id[:6].upper() not in client.get("/coach/extensions").text
    as_user(people["admin"])
    queue = client.get("/coach/extensions").text
    assert sub.public_id[:6].upper() in queue and "Friday 8 January 2027, 17:00 (Asia/Kolkata)" in queue
    ext_id = queue.split('action="/coach/extensions/')[1].split('"')[0]
    r = _post(client, "/coach/extensions", f"/coach/extensions/{ext_id}", decision="approve", reason="Fine.")
    assert r.status_code == 303
    db.refresh(sub)
    assert sub.deadline_at == datetime(2027, 1, 8, 11, 30, tzinfo=UTC)
    assert any("approved" in s for s in mailbox.subjects(people["learner"].email))


def test_the_coach_dashboard_counts_what_a_coach_has(db, client, people, as_user, in_moderation):
    sub, marker, moderator = in_moderation
    as_user(moderator)
    page = client.get("/coach/dashboard").text
    assert "<strong>1</strong> to moderate" in page
    as_user(marker)
    assert "<strong>1</strong> of yours in moderation" in client.get("/coach/dashboard").text
    as_user(people["learner"])
    assert client.get("/coach/dashboard").status_code in (403, 404)


def test_admins_see_every_submission_and_its_audit_trail(db, client, people, as_user, in_moderation):
    sub, marker, _ = in_moderation
    as_user(people["admin"])
    listing = client.get("/admin/assessments/submissions?state=in_moderation").text
    assert sub.public_id[:6].upper() in listing and "Lena Learner" in listing
    assert sub.public_id[:6].upper() not in client.get("/admin/assessments/submissions?state=released").text
    trail = client.get(f"/admin/assessments/submissions/{sub.public_id}/audit").text
    for words in ("submitted", "marking started", "marked", "routed", "moderator assigned"):
        assert words in trail
    as_user(people["other"])
    assert client.get("/admin/assessments/submissions").status_code in (403, 404)
    assert client.get(f"/admin/assessments/submissions/{sub.public_id}/audit").status_code in (403, 404)


def test_calibration_pages(db, client, people, as_user, acxp_brief):
    as_user(people["admin"])
    page = "/admin/calibration"
    assert "Add an exemplar" in client.get(page).text
    key = f"{acxp_brief.programme_id}:{acxp_brief.slug}"
    levels = {f"score-{slug}": str(v["score"]) for slug, v in all_at(db, acxp_brief, 2).items()}
    r = _post(client, page, page, brief=key, title="Exemplar: the move-home journey", work="An SCO canvas ...",
              rationale="Solid, not deep.", **levels)
    assert r.status_code == 303
    as_user(people["coach"])
    cal = client.get("/coach/calibration").text
    assert "Exemplar: the move-home journey" in cal and "Mark 1 more before live marking" in cal
    r = _post(client, "/coach/marking", "/coach/marking/next")
    assert r.status_code == 409 and "calibration exemplars" in r.text
    ex_id = cal.split('href="/coach/calibration/')[1].split('"')[0]
    r = _post(client, f"/coach/calibration/{ex_id}", f"/coach/calibration/{ex_id}", **levels)
    assert r.status_code == 303
    assert "the same" in client.get(f"/coach/calibration/{ex_id}").text
    assert "Calibrated" in client.get("/coach/calibration").text
