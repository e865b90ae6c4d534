"""Progress (the formula, per module and programme, per learner) and completion (one decision,
one programme.completed event, never twice), including after content edits and re-syncs."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlmodel import select

from api.catalog import service as catalog_service
from api.catalog.models import KnowledgeCheck, Lesson, Programme
from api.catalog.sync import sync
from api.learning import completion
from api.learning import service as enrolment_service
from api.learning.models import DomainEvent, EnrolmentSource, LessonCompletion
from tests.assessments.factories import give_released_pass
from tests.learning.conftest import right_answers

CONTENT = Path(__file__).resolve().parents[2] / "content"
NOT_SUBMITTED = ("the practical assessment (An SCO Canvas and moments of truth map for one of your own customer "
                 "experiences): not yet submitted")


def _checks(db, slug: str) -> dict[str, KnowledgeCheck]:
    return {c.slug: c for c in db.exec(select(KnowledgeCheck).join(Programme).where(Programme.slug == slug))}


def _events(db, user_id: int) -> list[DomainEvent]:
    return [e for e in db.exec(select(DomainEvent).where(DomainEvent.name == "programme.completed"))
            if e.payload["user_id"] == user_id]


def study_everything(client, db, slug: str, items, skip: set[str] = frozenset()) -> None:
    checks = _checks(db, slug)
    for item in items:
        if item.slug in skip:
            continue
        if item.kind == "lesson":
            assert client.post(f"/api/v1/learning/programmes/{slug}/lessons/{item.slug}/complete").status_code == 200
        else:
            r = client.post(f"/api/v1/learning/programmes/{slug}/checks/{item.slug}/attempts",
                            json={"answers": right_answers(checks[item.slug])})
            assert r.status_code == 201 and r.json()["passed"]


def test_percentages_count_lessons_and_passed_checks_under_the_completion_rule(client, db, make_user, login, enrol,
                                                                              outline):
    user = make_user()
    enrol(user, "acxp")
    login(user.email)
    items = outline("acxp")
    lessons = [i for i in items if i.kind == "lesson"]
    checks = [i for i in items if i.kind == "knowledge_check"]
    assert (len(lessons), len(checks)) == (14, 4)
    client.post(f"/api/v1/learning/programmes/acxp/lessons/{lessons[0].slug}/complete")
    p = client.get("/api/v1/learning/programmes/acxp/progress").json()
    assert (p["done"], p["total"], p["percent"]) == (1, 18, 5)  # floor(100 * 1 / 18)
    client.post("/api/v1/learning/programmes/acxp/checks/check-outside-in/attempts",
                json={"answers": right_answers(_checks(db, "acxp")["check-outside-in"])})
    p = client.get("/api/v1/learning/programmes/acxp/progress").json()
    assert (p["done"], p["percent"], p["lessons_done"], p["checks_passed"]) == (2, 11, 1, 1)
    first_module = p["modules"][0]
    assert (first_module["done"], first_module["total"], first_module["percent"]) == (2, 4, 50)
    assert [i["done"] for i in first_module["items"]] == [True, False, False, True]
    assert first_module["items"][0]["done_at"] is not None
    assert p["outstanding"] == ["13 lessons to complete", "3 knowledge checks to pass", NOT_SUBMITTED]
    # A programme whose rule counts lessons only: checks are shown but do not count.
    programme = catalog_service.get_by_slug(db, "acxp")
    programme.completion = {"lessons": "all"}
    db.commit()
    p = client.get("/api/v1/learning/programmes/acxp/progress").json()
    assert (p["done"], p["total"], p["percent"]) == (1, 14, 7)
    assert not any(i["counted"] for m in p["modules"] for i in m["items"] if i["kind"] == "knowledge_check")


def test_one_learner_never_sees_another_learners_progress(client, make_user, login, enrol, outline):
    ann, bob = make_user(), make_user()
    enrol(ann, "acxp")
    enrol(bob, "acxp")
    first = outline("acxp")[0]
    login(ann.email)
    client.post(f"/api/v1/learning/programmes/acxp/lessons/{first.slug}/complete")
    assert client.get("/api/v1/learning/programmes/acxp/progress").json()["lessons_done"] == 1
    login(bob.email)
    assert client.get("/api/v1/learning/programmes/acxp/progress").json()["lessons_done"] == 0
    assert "(done)" not in client.get(f"/learn/acxp/{first.slug}").text
    assert client.get("/api/v1/learning/enrolments").json()[0]["percent"] == 0
    assert client.get("/coach/progress").status_code == 403
    assert client.get("/coach/progress.csv").status_code == 403


def test_finishing_everything_completes_the_programme_once(client, db, make_user, login, enrol, outline, drain):
    user = make_user()
    e = enrol(user, "acxp")
    login(user.email)
    items = outline("acxp")
    last = items[-2]  # the last lesson (the last item is module 4's check)
    assert last.kind == "lesson"
    study_everything(client, db, "acxp", items, skip={last.slug})
    assert client.get("/api/v1/learning/programmes/acxp/progress").json()["status"] == "active"
    give_released_pass(db, user, "acxp")  # lessons and checks alone never complete a programme
    drain()
    assert client.get("/api/v1/learning/programmes/acxp/progress").json()["status"] == "active"
    assert _events(db, user.id) == []
    r = client.post(f"/api/v1/learning/programmes/acxp/lessons/{last.slug}/complete").json()
    assert r["programme_completed_now"] is True and r["programme_percent"] == 100
    assert r["programme_status"] == "completed"
    r = client.post(f"/api/v1/learning/programmes/acxp/lessons/{last.slug}/complete").json()
    assert r["programme_completed_now"] is False
    [event] = _events(db, user.id)
    assert event.payload["programme_code"] == "ACXP" and event.payload["enrolment_id"] == e.id
    db.refresh(e)
    assert e.status == "completed" and e.completed_at is not None
    # Refunded, re-granted, studied again: still one completion fact.
    enrolment_service.cancel(db, e, "refund")
    enrolment_service.enrol(db, user_id=user.id, programme_id=e.programme_id, source=EnrolmentSource.admin_grant)
    db.commit()
    client.post(f"/api/v1/learning/programmes/acxp/lessons/{items[0].slug}/complete")
    assert len(_events(db, user.id)) == 1
    # The ladder asks for a current ACXP certificate: completing is the way to one, not the key itself.
    acxm = catalog_service.get_by_slug(db, "acxm")
    assert [p.code for p in enrolment_service.missing_prerequisites(db, user.id, acxm)] == ["ACXP"]
    from api.certificates import service as certificates_service

    certificates_service.issue(db, user=user, programme=catalog_service.get_by_slug(db, "acxp"),
                               holder_name=user.full_name, enrolment=e)
    assert enrolment_service.missing_prerequisites(db, user.id, acxm) == []


def test_the_page_says_when_the_programme_is_completed(client, browser, db, make_user, login, enrol, outline):
    user = make_user()
    enrol(user, "acxp")
    login(user.email)
    items = outline("acxp")
    last = items[-2]
    study_everything(client, db, "acxp", items, skip={last.slug})
    give_released_pass(db, user, "acxp")
    r = browser.post_form(f"/learn/acxp/{last.slug}", f"/learn/acxp/{last.slug}/complete")
    assert r.headers["location"] == "/certificates"
    page = client.get("/certificates").text
    assert "Congratulations: you have completed Accredited Customer Experience Professional!" in page
    assert "Your ACXP certificate is ready" in page
    page = client.get("/dashboard").text
    assert "Completed on" in page and ">100%<" in page and 'href="/certificates"' in page


def test_a_declared_assessment_keeps_the_programme_from_completing(client, db, make_user, login, enrol, outline):
    user = make_user()
    e = enrol(user, "acxp")
    login(user.email)
    programme = catalog_service.get_by_slug(db, "acxp")
    programme.completion = {"lessons": "all", "knowledge_checks": "all", "assessments": "all"}
    db.commit()
    study_everything(client, db, "acxp", outline("acxp"))
    p = client.get("/api/v1/learning/programmes/acxp/progress").json()
    assert p["percent"] == 100 and p["status"] == "active"
    assert p["outstanding"] == [NOT_SUBMITTED]
    db.refresh(e)
    assert e.completed_at is None and _events(db, user.id) == []


def test_record_event_is_once_per_key(db):
    first = completion.record_event(db, "test.event", "k1", {"n": 1})
    assert first is not None and first.id
    assert completion.record_event(db, "test.event", "k1", {"n": 2}) is None
    assert completion.record_event(db, "test.event", "k2", {"n": 3}) is not None


@pytest.fixture
def tree(tmp_path) -> Path:
    dest = tmp_path / "content"
    shutil.copytree(CONTENT, dest)
    return dest


def test_progress_survives_renaming_adding_and_removing_lessons(client, db, tree, make_user, login, enrol, outline):
    ann, bob = make_user(), make_user()
    enrol(ann, "acxp")
    enrol(bob, "acxp")
    items = outline("acxp")
    l1, l2, l3, check1 = items[0], items[1], items[2], items[3]
    login(ann.email)
    for lesson in (l1, l2, l3):
        client.post(f"/api/v1/learning/programmes/acxp/lessons/{lesson.slug}/complete")
    client.post(f"/api/v1/learning/programmes/acxp/checks/{check1.slug}/attempts",
                json={"answers": right_answers(_checks(db, "acxp")[check1.slug])})
    login(bob.email)
    client.post(f"/api/v1/learning/programmes/acxp/lessons/{l1.slug}/complete")

    module = next((tree / "programmes" / "acxp").glob("01-*"))
    files = sorted(module.glob("0*.md"))
    for f in files[:2]:  # new titles for lessons 1 and 2
        f.write_text(f.read_text().replace("title: ", "title: Revised — ", 1))
    removed = files[1]
    removed.unlink()  # lesson 2 goes (ann had completed it)
    (module / "03-a-new-lesson.md").write_text("---\nslug: a-new-lesson\ntitle: A new lesson\n---\nNew text.\n")
    report = sync(db, tree)
    db.commit()
    assert "retired lesson ACXP/" + l2.slug in report.changes

    p = client.get("/api/v1/learning/programmes/acxp/progress").json()  # bob
    assert (p["lessons_done"], p["lessons_total"], p["done"], p["total"], p["percent"]) == (1, 14, 1, 18, 5)
    login(ann.email)
    p = client.get("/api/v1/learning/programmes/acxp/progress").json()
    module1 = p["modules"][0]
    assert [(i["slug"], i["title"].startswith("Revised — "), i["done"]) for i in module1["items"]] == [
        (l1.slug, True, True), ("a-new-lesson", False, False), (l3.slug, False, True), (check1.slug, False, True)]
    assert (p["lessons_done"], p["lessons_total"], p["checks_passed"], p["done"], p["percent"]) == (2, 14, 1, 3, 16)
    assert module1["percent"] == 75
    assert client.get("/api/v1/learning/enrolments").json()[0]["percent"] == 16
    # The record of the removed lesson stays, and comes back to count when the lesson does.
    assert db.exec(select(LessonCompletion).where(LessonCompletion.user_id == ann.id,
                                                  LessonCompletion.lesson_id == l2.id)).first() is not None
    shutil.copy(CONTENT / "programmes" / "acxp" / module.name / removed.name, removed)
    sync(db, tree)
    db.commit()
    p = client.get("/api/v1/learning/programmes/acxp/progress").json()
    assert (p["lessons_done"], p["lessons_total"], p["done"], p["total"], p["percent"]) == (3, 15, 4, 19, 21)
    renamed = db.get(Lesson, l1.id)
    assert renamed.slug == l1.slug and renamed.title.startswith("Revised — ")
