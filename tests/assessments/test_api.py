"""The JSON API, step by step, with the refusals a client must handle."""

from __future__ import annotations

BRIEF = "/api/v1/assessments/programmes/acxp/briefs/sco-canvas-and-moments-of-truth-map"


def test_each_step_through_the_api(db, client, people, enrol, as_user, mailbox):
    enrol(people["learner"])
    as_user(people["learner"])
    b = client.get(BRIEF).json()
    assert b["rubric"]["number"] == 1 and len(b["rubric"]["criteria"]) == 5 and b["can_start"] is True
    assert b["settings"]["blind_marking"] is True and b["settings"]["files"]["max_files"] == 3
    sub = client.post(BRIEF + "/attempts", json={"zone": "Asia/Tokyo"}).json()
    assert sub["state"] == "draft" and sub["attempt"] == 1
    sid, v = sub["id"], sub["version"]
    r = client.patch(f"/api/v1/assessments/submissions/{sid}", json={"text": "first", "version": v})
    assert r.status_code == 200 and r.json()["version"] == v + 1
    r = client.patch(f"/api/v1/assessments/submissions/{sid}", json={"text": "stale tab", "version": v})
    assert r.status_code == 409 and r.json()["error"]["code"] == "stale_draft"
    r = client.post(f"/api/v1/assessments/submissions/{sid}/submit", json={"authentic": True})
    assert r.status_code == 422 and "anonymised" in r.json()["error"]["message"]
    r = client.post(f"/api/v1/assessments/submissions/{sid}/submit", json={"authentic": True, "anonymised": True})
    assert r.status_code == 200 and r.json()["state"] == "submitted" and r.json()["text"] == "first"
    assert client.post(BRIEF + "/attempts", json={}).status_code == 409  # nothing to start while it is marked

    from api.assessments import access

    allocated_id = access.by_public_id(db, sid).allocated_coach_id
    coach = people["coach"] if allocated_id == people["coach"].id else people["coach2"]
    assert any("New marking for you" in s for s in mailbox.subjects(coach.email))
    as_user(coach)
    assert client.post(f"/api/v1/assessments/submissions/{sid}/mark/submit", json={}).status_code == 409
    claimed = client.post("/api/v1/assessments/queue/next").json()
    assert claimed["id"] == sid and claimed["state"] == "in_marking"
    assert client.post("/api/v1/assessments/queue/next").json()["id"] == sid  # the lease it holds
    rv = access.by_public_id(db, sid).rubric_version_id
    slugs = [c["slug"] for c in b["rubric"]["criteria"]]
    m = client.put(f"/api/v1/assessments/submissions/{sid}/mark",
                   json={"scores": {slugs[0]: {"score": 2}}, "feedback": "so far", "rubric_version_id": rv}).json()
    r = client.put(f"/api/v1/assessments/submissions/{sid}/mark",
                   json={"scores": {}, "feedback": "older tab", "version": m["version"] - 1, "rubric_version_id": rv})
    assert r.status_code == 409 and r.json()["error"]["code"] == "stale_mark"
    r = client.put(f"/api/v1/assessments/submissions/{sid}/mark",
                   json={"scores": {}, "feedback": "x", "version": m["version"], "rubric_version_id": rv + 50})
    assert r.status_code == 409 and r.json()["error"]["code"] == "wrong_rubric_version"
    all_pass = {s: {"score": 2, "comment": "ok"} for s in slugs}
    r = client.post(f"/api/v1/assessments/submissions/{sid}/mark/submit",
                    json={"scores": all_pass, "feedback": "Solid.", "version": m["version"], "rubric_version_id": rv})
    assert r.status_code == 200 and r.json()["outcome"] == "pass" and r.json()["score_percent"] == 66
    assert r.json()["submission_state"] in ("ready_for_release", "in_moderation")
    from tests.assessments.factories import confirm_moderation

    confirm_moderation(db, access.by_public_id(db, sid))  # when the moderation sample took it
    db.commit()
    r = client.post(f"/api/v1/assessments/submissions/{sid}/release")
    assert r.status_code == 200 and r.json()["outcome"] == "pass" and r.json()["record_url"]
    again = client.post(f"/api/v1/assessments/submissions/{sid}/release")
    assert again.status_code == 409 and again.json()["error"]["code"] == "already_released"

    as_user(people["learner"])
    s = client.get(f"/api/v1/assessments/submissions/{sid}").json()
    assert s["outcome"] == "pass" and s["feedback"] == "Solid." and len(s["scores"]) == 5
    rec = client.get(s["record_url"].replace("http://testserver", "").replace("/assessment-records/",
                                                                            "/api/v1/assessments/records/")).json()
    assert rec["outcome"] == "pass" and "text" not in rec and "first" not in str(rec)


def test_roles_and_relations(db, client, people, enrol, as_user):
    as_user(people["learner"])
    assert client.get("/api/v1/assessments/queue").status_code == 403
    assert client.post("/api/v1/assessments/queue/next").status_code == 403
    assert client.get(BRIEF).status_code == 403  # not enrolled
    enrol(people["learner"])
    sid = client.post(BRIEF + "/attempts", json={}).json()["id"]
    as_user(people["coach"])
    assert client.post(f"/api/v1/assessments/submissions/{sid}/allocation",
                       json={"coach_id": people["coach"].id, "reason": "me"}).status_code == 403
    assert client.post(f"/api/v1/assessments/submissions/{sid}/start").status_code == 404  # not allocated
