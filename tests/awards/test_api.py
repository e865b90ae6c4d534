"""The JSON API: the public cycle with its milestones (local time, zone and UTC), and nominating with
a bearer token; refusals as {"error": {"code", "message"}}."""

from __future__ import annotations

from api.awards.models import CycleState


def test_cycle_api_shows_milestones_with_zone_and_utc(client, make_cycle):
    cycle = make_cycle()
    body = client.get(f"/api/v1/awards/cycles/{cycle.slug}").json()
    assert body["state"] == "nominations_open" and body["nominations_open"] is True
    close = next(m for m in body["milestones"] if m["kind"] == "nominations_close")
    assert close == {"kind": "nominations_close", "label": "Nominations close", "local_date": "2099-03-01",
                     "local_time": "17:00", "time_zone": "Europe/London", "at": "2099-03-01T17:00:00Z"}
    assert cycle.slug in [c["slug"] for c in client.get("/api/v1/awards/cycles").json()]
    draft = make_cycle(CycleState.draft)
    r = client.get(f"/api/v1/awards/cycles/{draft.slug}")
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"


def test_nominating_through_the_api(client, login, make_cycle, make_user):
    cycle = make_cycle()
    url = f"/api/v1/awards/cycles/{cycle.slug}/nominations"
    body = {"name": "Api Person", "email": "api.person@example.org", "statement": "Delivered."}
    assert client.post(url, json=body).status_code == 401
    a = login(make_user().email)
    r = client.post(url, json=body, headers={"Authorization": f"Bearer {a}"})
    assert r.status_code == 201 and r.json()["merged"] is False and r.json()["nomination_count"] == 1
    again = client.post(url, json=body, headers={"Authorization": f"Bearer {a}"})
    assert again.status_code == 409 and again.json()["error"]["code"] == "already_nominated"
    b = login(make_user().email)
    r = client.post(url, json={**body, "email": "API.Person@example.org"}, headers={"Authorization": f"Bearer {b}"})
    assert r.status_code == 201 and r.json()["merged"] is True and r.json()["nomination_count"] == 2
    bad = client.post(url, json={**body, "email": "nope"}, headers={"Authorization": f"Bearer {b}"})
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "bad_email"
    closed = make_cycle(CycleState.nominations_closed)
    r = client.post(f"/api/v1/awards/cycles/{closed.slug}/nominations", json=body,
                    headers={"Authorization": f"Bearer {b}"})
    assert r.status_code == 409 and r.json()["error"]["code"] == "nominations_closed"
