"""Files and who sees them, through the HTTP API: types by content, sizes, names never trusted;
files only for the learner, the allocated coach and admins, through short-lived Cadre-signed links;
every marker view recorded. A learner cannot see another's submission; a coach cannot see
unallocated work."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from api.assessments.models import FileView, SubmissionFile
from tests.assessments.conftest import PDF

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 40
BRIEF = "/api/v1/assessments/programmes/acxp/briefs/sco-canvas-and-moments-of-truth-map"


@pytest.fixture
def draft(client, people, enrol, as_user):
    enrol(people["learner"])
    as_user(people["learner"])
    r = client.post(BRIEF + "/attempts", json={"text": "My work"})
    assert r.status_code == 201, r.text
    return r.json()


def upload(client, sub_id, name, data, ctype="application/pdf"):
    return client.post(f"/api/v1/assessments/submissions/{sub_id}/files", files={"file": (name, data, ctype)})


@pytest.mark.parametrize(("name", "data", "code", "words"), [
    ("empty.pdf", b"", "empty", "is empty"),
    ("fake.pdf", b"this is plain text pretending", "not_really_pdf", "not a PDF"),
    ("script.sh", b"#!/bin/sh\nrm -rf /\n", "type_not_allowed", "this brief accepts"),
    ("big.pdf", PDF + b"0" * (10 * 1024 * 1024), "too_large", "at most 10 MB"),
])
def test_bad_files_are_refused_with_a_reason_and_nothing_is_kept(db, client, draft, name, data, code, words):
    r = upload(client, draft["id"], name, data)
    assert r.status_code == 422, r.text
    assert r.json()["error"]["code"] == code and words in r.json()["error"]["message"]
    assert client.get(f"/api/v1/assessments/submissions/{draft['id']}").json()["files"] == []


def test_names_are_never_trusted_and_types_come_from_the_content(db, client, draft):
    r = upload(client, draft["id"], "../../etc/<passwd>.pdf", PDF, "image/gif")
    assert r.status_code == 201, r.text
    f = r.json()
    assert f["content_type"] == "application/pdf" and "/" not in f["name"] and "<" not in f["name"]
    row = db.exec(select(SubmissionFile).where(SubmissionFile.public_id == f["id"])).one()
    assert f["name"] not in row.storage_key and "passwd" not in row.storage_key
    r = upload(client, draft["id"], "photo.jpg", PNG, "image/jpeg")  # a PNG named .jpg: kept as PNG
    assert r.status_code == 201 and r.json()["content_type"] == "image/png"


def test_too_many_files(db, client, draft):
    for i in range(3):
        assert upload(client, draft["id"], f"f{i}.pdf", PDF).status_code == 201
    r = upload(client, draft["id"], "f4.pdf", PDF)
    assert r.status_code == 409 and r.json()["error"]["code"] == "too_many_files"


def test_files_are_served_only_to_their_people_through_short_lived_links(db, client, people, draft, as_user):
    f = upload(client, draft["id"], "canvas.pdf", PDF).json()
    r = client.post(f"/api/v1/assessments/submissions/{draft['id']}/submit",
                    json={"authentic": True, "anonymised": True})
    assert r.status_code == 200, r.text
    r = client.get(f["open_url"], follow_redirects=False)  # the learner
    assert r.status_code == 303 and r.headers["location"].startswith("/assessments/file-links/")
    link = r.headers["location"]
    got = client.get(link)
    assert got.status_code == 200 and got.content == PDF and got.headers["content-type"] == "application/pdf"
    assert "attachment" in got.headers["content-disposition"] and got.headers["cache-control"] == "private, no-store"

    # another learner: neither the submission, the file nor the learner's own link
    as_user(people["other"])
    assert client.get(f"/api/v1/assessments/submissions/{draft['id']}").status_code == 404
    assert client.get(f["open_url"], follow_redirects=False).status_code == 404
    assert client.get(link).status_code == 404  # a link is for the person it was made for

    # the coach it is not allocated to: 404; the allocated coach: yes, and the view is recorded
    sub = client  # noqa: F841 - readability
    from api.assessments import access

    row = access.by_public_id(db, draft["id"])
    allocated = people["coach"] if row.allocated_coach_id == people["coach"].id else people["coach2"]
    other_coach = people["coach2"] if allocated is people["coach"] else people["coach"]
    as_user(other_coach)
    assert client.get(f["open_url"], follow_redirects=False).status_code == 404
    assert client.get(f"/coach/marking/{draft['id']}").status_code == 404
    assert client.get("/api/v1/assessments/queue").json() == []
    as_user(allocated)
    assert [q["id"] for q in client.get("/api/v1/assessments/queue").json()] == [draft["id"]]
    r = client.get(f["open_url"], follow_redirects=False)
    assert r.status_code == 303 and client.get(r.headers["location"]).content == PDF
    as_user(people["admin"])
    assert client.get(f["open_url"], follow_redirects=False).status_code == 303
    views = db.exec(select(FileView).join(SubmissionFile).where(SubmissionFile.public_id == f["id"])).all()
    assert sorted(v.as_role for v in views) == ["admin", "learner", "marker"]


def test_an_expired_or_altered_link_is_refused(db, client, people, draft):
    from api.assessments import files as files_service
    from api.core import signed

    f = upload(client, draft["id"], "canvas.pdf", PDF).json()
    subject = f"{f['id']}:{people['learner'].id}"
    old = signed.sign(files_service.PURPOSE, subject, timedelta(minutes=5),
                      now=__import__("datetime").datetime.now(__import__("datetime").UTC) - timedelta(minutes=6))
    r = client.get(f"/assessments/file-links/{old}")
    assert r.status_code == 404 and "expired" in r.text
    good = signed.sign(files_service.PURPOSE, subject, timedelta(minutes=5))
    assert client.get(f"/assessments/file-links/{good}").status_code == 200
    assert client.get(f"/assessments/file-links/{good[:-2]}xx").status_code == 404


def test_a_learner_cannot_change_or_submit_anothers_draft(db, client, people, draft, as_user):
    as_user(people["other"])
    sid = draft["id"]
    assert client.patch(f"/api/v1/assessments/submissions/{sid}", json={"text": "mine now"}).status_code == 404
    assert client.post(f"/api/v1/assessments/submissions/{sid}/submit",
                       json={"authentic": True, "anonymised": True}).status_code == 404
    assert upload(client, sid, "x.pdf", PDF).status_code == 404
