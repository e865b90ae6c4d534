"""POST /api/v1/verifications/bulk with a session: JSON or CSV in, JSON or CSV out, refusals as JSON."""

from __future__ import annotations

import csv
import io

import pytest

from api.certificates import service


@pytest.fixture
def certs(db, issued, admin):
    _, _, valid = issued(name="Ama Owusu")
    _, _, revoked = issued(name="Dara Quinn")
    service.change_status(db, revoked, "revoke", "Withdrawn", admin)
    db.commit()
    return valid, revoked


def test_a_json_list_answers_each(client, make_user, login, certs):
    valid, revoked = certs
    make_user("api@employer.example.com")
    token = login("api@employer.example.com")
    client.cookies.clear()  # the bearer session token alone
    r = client.post("/api/v1/verifications/bulk", headers={"Authorization": f"Bearer {token}"},
                    json=[{"number": valid.number, "surname": "Owusu"}, {"number": revoked.number, "surname": "Quinn"},
                          {"number": revoked.number, "surname": "Wrong"}, {"number": "", "surname": "x"}])
    assert r.status_code == 200, r.text
    body = r.json()
    assert [x["status"] for x in body["results"]] == ["valid", "revoked", "not found", "not checked"]
    assert body["counts"] == {"valid": 1, "revoked": 1, "not found": 1, "not checked": 1} and body["count"] == 4
    assert body["results"][0]["holder"] == "Ama Owusu" and body["checked_at"].endswith("Z")
    assert r.headers["cache-control"] == "no-store"


def test_a_csv_body_and_a_csv_answer(client, make_user, login, certs):
    valid, _ = certs
    make_user("api2@employer.example.com")
    login("api2@employer.example.com")
    r = client.post("/api/v1/verifications/bulk", content=f"number,surname\n{valid.number},owusu\n".encode(),
                    headers={"Content-Type": "text/csv", "Accept": "text/csv"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    (row,) = csv.DictReader(io.StringIO(r.text))
    assert row["Status"] == "Valid" and row["Holder"] == "Ama Owusu"
    r = client.post("/api/v1/verifications/bulk", json={"certificates": [{"number": valid.number, "surname": "Owusu"}]})
    assert r.json()["results"][0]["status"] == "valid"


def test_refusals_are_json(client, make_user, login, certs):
    valid, _ = certs
    r = client.post("/api/v1/verifications/bulk", json=[{"number": valid.number, "surname": "Owusu"}])
    assert r.status_code == 401 and r.json()["error"]["code"] == "not_authenticated"
    r = client.post("/api/v1/verifications/bulk", json=[], headers={"Authorization": "Bearer not-a-session"})
    assert r.status_code == 401
    make_user("api3@employer.example.com")
    login("api3@employer.example.com")
    r = client.post("/api/v1/verifications/bulk", json=[{"number": valid.number, "surname": "Owusu"}] * 1001)
    assert r.status_code == 422 and r.json()["error"]["code"] == "too_many_rows"
    assert "1,001 certificates" in r.json()["error"]["message"]
    r = client.post("/api/v1/verifications/bulk", content=b"not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 422 and r.json()["error"]["code"] == "bad_body"
    r = client.post("/api/v1/verifications/bulk", json={"numbers": "x"})
    assert r.status_code == 422 and r.json()["error"]["code"] == "bad_body"
