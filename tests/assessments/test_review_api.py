"""The JSON API of moderation, appeals and extensions: each step, its refusals, and 404 to strangers."""

from __future__ import annotations

from datetime import UTC, datetime

from api.assessments import moderation, release, submissions
from tests.assessments.factories import make_coach, submit_work
from tests.assessments.review_helpers import all_at, first_mark, set_moderation

API = "/api/v1/assessments"


def test_moderate_release_appeal_through_the_api(db, client, people, enrol, as_user, acxp_brief):
    enrol(people["learner"])
    set_moderation(db, acxp_brief, sample_percent=0, min_count=0)
    sub = first_mark(db, submit_work(db, people["learner"], acxp_brief), people["coach"], all_at(db, acxp_brief, 0))
    db.commit()
    users = {u.id: u for u in people.values()}
    marker, moderator = users[sub.allocated_coach_id], users[moderation.moderation_mark(db, sub).marker_id]
    url = f"{API}/submissions/{sub.public_id}"
    as_user(marker)
    r = client.post(f"{url}/moderation", json={"action": "confirm"})
    assert r.status_code == 404  # the marker is not this work's moderator
    as_user(moderator)
    r = client.post(f"{url}/moderation", json={"action": "send_back", "reason": ""})
    assert r.status_code == 422 and r.json()["error"]["code"] == "reason_required"
    r = client.post(f"{url}/moderation", json={"action": "confirm", "reason": "Right."})
    assert r.status_code == 200 and r.json()["state"] == "ready_for_release"
    release.release(db, sub, people["admin"])
    make_coach(db, "Aoife Appeals")
    db.commit()
    as_user(people["other"])
    assert client.post(f"{url}/appeal", json={"reason": "Not mine"}).status_code == 404
    assert client.get(f"{url}/appeal").status_code == 404
    as_user(people["learner"])
    r = client.post(f"{url}/appeal", json={"reason": "Criterion 2 missed my map."})
    assert r.status_code == 201 and r.json()["status"] == "open"
    r = client.post(f"{url}/appeal", json={"reason": "Again."})
    assert r.status_code == 409 and r.json()["error"]["code"] == "already_appealed"
    assert client.get(f"{url}/appeal").json()["reason"] == "Criterion 2 missed my map."


def test_extensions_through_the_api(db, client, people, enrol, as_user, acxp_brief):
    enrol(people["learner"])
    sub = submissions.start(db, people["learner"], acxp_brief, "Europe/London")
    sub.deadline_at, sub.deadline_zone = datetime(2026, 12, 18, 23, 59, tzinfo=UTC), "Europe/London"
    db.add(sub)
    db.commit()
    as_user(people["learner"])
    r = client.post(f"{API}/submissions/{sub.public_id}/extensions",
                    json={"until": "2027-01-08T17:00:00", "zone": "Europe/London", "reason": "Peak season."})
    assert r.status_code == 201 and r.json()["status"] == "pending"
    ext_id = r.json()["id"]
    as_user(people["coach"])
    assert client.post(f"{API}/extensions/{ext_id}/decision", json={"approve": True, "reason": "ok"}).status_code == 404
    as_user(people["admin"])
    r = client.post(f"{API}/extensions/{ext_id}/decision", json={"approve": True, "reason": "Fine."})
    assert r.status_code == 200 and r.json()["deadline_shown"] == "Friday 8 January 2027, 17:00 (Europe/London)"
    as_user(people["coach"])
    assert client.get(f"{API}/calibration").json() == []
