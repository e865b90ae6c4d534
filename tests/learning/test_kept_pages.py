"""A logged-in learner's lesson page and dashboard are kept once rendered (api/core/viewercache.py), and
whatever they show that changes shows on the very next view: the learner's own progress, a released mark,
an admin's enrolment or content change, a certificate; a logout, a deleted or expired session or a
deactivated account is never answered from a kept page."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from api.accounts import service as accounts_service
from api.accounts.models import UserSession
from api.catalog.models import Lesson
from api.core.db import utcnow
from api.learning.models import EnrolmentSource
from tests.conftest import csrf_from


def _lessons(outline, slug="acxp"):
    return [i for i in outline(slug) if i.kind == "lesson"]


def _kept_queries(client, engine, path):
    from sqlalchemy import event

    seen = []

    def count(*_args):
        seen.append(1)

    event.listen(engine, "before_cursor_execute", count)
    try:
        page = client.get(path)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return page, len(seen)


def test_completing_a_lesson_shows_at_once_on_the_kept_dashboard_and_lesson_page(client, engine, make_user, login,
                                                                                 enrol, outline):
    user = make_user()
    enrol(user, "acxp")
    login(user.email)
    first, second = _lessons(outline)[:2]
    lesson_path = f"/learn/acxp/{first.slug}"
    for _ in range(3):
        client.get(lesson_path)
        board = client.get("/dashboard")
    assert 'value="0"' in board.text.split('id="mine-h"')[1]
    # Kept: seen again, the page costs one read.
    again, queries = _kept_queries(client, engine, "/dashboard")
    assert queries == 1 and again.text == board.text
    lesson_before = client.get(lesson_path).text
    assert "Mark complete" in lesson_before or "mark complete" in lesson_before.lower()

    token = csrf_from(lesson_before)
    done = client.post(f"{lesson_path}/complete", data={"csrf_token": token}, follow_redirects=False)
    assert done.status_code == 303
    board_after = client.get("/dashboard").text
    assert board_after != board.text
    assert f"Completed the lesson “{first.title}” (ACXP)" in board_after
    assert "Completed the lesson" not in board.text
    lesson_after = client.get(lesson_path).text
    assert lesson_after != lesson_before
    assert client.get("/api/v1/learning/programmes/acxp/progress").json()["percent"] > 0


def test_admin_enrolment_content_change_mark_release_and_certificate_change_the_kept_dashboard(
        client, db, make_user, login, enrol, outline):
    from tests.assessments.factories import make_coach, mark_and_release, submit_work

    user = make_user()
    login(user.email)
    client.get("/dashboard")
    assert "You are not studying a programme yet." in client.get("/dashboard").text

    enrol(user, "acxp")  # an admin enrols the learner (another session, committed)
    board = client.get("/dashboard").text
    assert "You are not studying a programme yet." not in board and "ACXP" in board.split('id="mine-h"')[1]

    first = _lessons(outline)[0]
    lesson_path = f"/learn/acxp/{first.slug}"
    client.get(lesson_path)
    client.get(lesson_path)
    lesson = db.exec(select(Lesson).where(Lesson.slug == first.slug)).first()
    lesson.title = "A title the content team just changed"
    db.add(lesson)
    db.commit()
    assert "A title the content team just changed" in client.get(lesson_path).text

    from api.assessments import submissions
    from api.catalog import service as catalog_service

    acxp = catalog_service.get_by_slug(db, "acxp")
    brief = submissions.briefs_for(db, [acxp.id])[acxp.id][0]
    client.get("/dashboard")
    assert "not yet submitted" in client.get("/dashboard").text
    sub = submit_work(db, user, brief)
    db.commit()
    submitted = client.get("/dashboard").text
    assert "not yet submitted" not in submitted
    client.get("/dashboard")
    mark_and_release(db, sub, make_coach(db))
    db.commit()
    released = client.get("/dashboard").text
    assert released != submitted

    # A certificate issued to the learner (ACXS, completed) appears on the kept dashboard at once.
    from api.certificates import service as certificates
    from api.learning import service as learning_service

    client.get("/dashboard")
    before = client.get("/dashboard").text
    acxs = catalog_service.get_by_slug(db, "acxs")
    e = learning_service.enrol(db, user_id=user.id, programme_id=acxs.id, source=EnrolmentSource.admin_grant,
                               check_prerequisites=False)
    e.status = "completed"
    certificates.issue(db, user=user, programme=acxs, holder_name=user.full_name, enrolment=e)
    db.commit()
    after = client.get("/dashboard").text
    assert after != before and "ACXS" in after and "ACXS" not in before


def test_logout_deleted_or_expired_session_and_deactivation_are_never_answered_from_a_kept_page(
        client, db, make_user, login, enrol):
    def kept_then(change):
        user = make_user()
        enrol(user, "acxp")
        client.cookies.clear()
        login(user.email)
        client.get("/dashboard")
        assert client.get("/dashboard").status_code == 200
        change(user)
        gone = client.get("/dashboard", follow_redirects=False)
        assert gone.status_code == 303 and gone.headers["location"].startswith("/login"), change
        return user

    def logout(_user):
        page = client.get("/dashboard")
        sid = client.cookies.get("cadre_session")
        r = client.post("/logout", data={"csrf_token": csrf_from(page.text)}, follow_redirects=False)
        assert r.status_code in (302, 303)
        # Even a browser that kept the old cookie gets no kept page.
        client.cookies.set("cadre_session", sid)

    def delete_sessions(user):
        accounts_service.end_all_sessions(db, user)
        db.commit()

    def expire(user):
        for s in db.exec(select(UserSession).where(UserSession.user_id == user.id)):
            s.expires_at = utcnow() - timedelta(minutes=1)
            db.add(s)
        db.commit()

    def deactivate(user):
        user.is_active = False
        db.add(user)
        db.commit()

    for change in (logout, delete_sessions, expire, deactivate):
        kept_then(change)


def test_two_users_and_two_sessions_of_one_user_each_get_their_own_page(app, make_user, login, enrol):
    from fastapi.testclient import TestClient

    ann, bob = make_user(name="Ann Learner"), make_user(name="Bob Learner")
    enrol(ann, "acxp")
    enrol(bob, "acxs")
    with TestClient(app, base_url="http://testserver") as a1, TestClient(app, base_url="http://testserver") as a2, \
            TestClient(app, base_url="http://testserver") as b:
        for c, who in ((a1, ann), (a2, ann), (b, bob)):
            r = c.post("/api/v1/auth/login", json={"email": who.email, "password": "correct-horse-battery"})
            assert r.status_code == 200
        pages = {}
        for _ in range(3):
            for name, c in (("a1", a1), ("a2", a2), ("b", b)):
                pages.setdefault(name, []).append(c.get("/dashboard").text)
        assert all(len(set(p)) == 1 for p in pages.values()), "each session's own page is kept as it was"
        a1_page, a2_page, b_page = pages["a1"][-1], pages["a2"][-1], pages["b"][-1]
        assert "Ann Learner" in a1_page and "Ann Learner" in a2_page and "Ann Learner" not in b_page
        assert "Bob Learner" in b_page and "ACXS" in b_page.split('id="mine-h"')[1]
        assert csrf_from(a1_page) != csrf_from(a2_page)


def _viewer_cache(app):
    from api.core.viewercache import ViewerCacheMiddleware

    layer = app.middleware_stack
    while not isinstance(layer, ViewerCacheMiddleware):
        layer = layer.app
    return layer


def test_a_page_with_a_flash_message_is_not_kept_and_kept_pages_expire(app, client, engine, make_user, login,
                                                                       enrol, outline):
    import time

    user = make_user()
    enrol(user, "acxp")
    login(user.email)
    first, second = _lessons(outline)[:2]
    page = client.get(f"/learn/acxp/{first.slug}").text
    done = client.post(f"/learn/acxp/{first.slug}/complete", data={"csrf_token": csrf_from(page)})
    # The page after the redirect showed the message once; seen again it is not that page.
    assert str(done.url).endswith(f"/learn/acxp/{second.slug}") and "is marked complete" in done.text
    again = client.get(f"/learn/acxp/{second.slug}")
    assert "is marked complete" not in again.text
    client.get(f"/learn/acxp/{second.slug}")
    _, queries = _kept_queries(client, engine, f"/learn/acxp/{second.slug}")
    assert queries == 1

    _viewer_cache(app).seconds = 0.05
    time.sleep(0.1)
    _, queries = _kept_queries(client, engine, f"/learn/acxp/{second.slug}")
    assert queries > 1  # too old: rendered again
