"""The lesson player: only for enrolled learners, safe Markdown, video and downloads, the outline
with ticks, previous/next, mark complete, continue where you left off."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from sqlmodel import select

from api.catalog.models import Lesson, Programme
from api.catalog.sync import sync
from tests.conftest import csrf_from

CONTENT = Path(__file__).resolve().parents[2] / "content"


def test_a_learner_not_enrolled_gets_403_on_the_lesson_page_and_its_api(client, make_user, login, outline):
    make_user("outsider@example.com")
    login("outsider@example.com")
    first = outline("acxp")[0]
    r = client.get(f"/learn/acxp/{first.slug}")
    assert r.status_code == 403
    assert "You are not enrolled in this programme" in r.text and 'href="/programmes/acxp"' in r.text
    assert first.title not in r.text  # not even the outline
    r = client.get(f"/api/v1/learning/programmes/acxp/lessons/{first.slug}")
    assert r.status_code == 403 and r.json()["error"]["code"] == "not_enrolled"
    r = client.post(f"/api/v1/learning/programmes/acxp/lessons/{first.slug}/complete")
    assert r.status_code == 403 and r.json()["error"]["code"] == "not_enrolled"
    assert client.get("/api/v1/learning/programmes/acxp/progress").status_code == 403


def test_anonymous_visitors_are_sent_to_log_in_and_the_api_says_401(client, outline):
    first = outline("acxp")[0]
    r = client.get(f"/learn/acxp/{first.slug}", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login?next=/learn/acxp/")
    assert client.get(f"/api/v1/learning/programmes/acxp/lessons/{first.slug}").status_code == 401


def test_unknown_programme_or_lesson_is_404_for_pages_and_api(client, make_user, login, enrol):
    user = make_user()
    enrol(user, "acxp")
    login(user.email)
    assert client.get("/learn/acxp/no-such-lesson").status_code == 404
    r = client.get("/api/v1/learning/programmes/acxp/lessons/no-such-lesson")
    assert r.status_code == 404 and r.json()["error"]["code"] == "lesson_not_found"
    r = client.get("/api/v1/learning/programmes/nope/progress")
    assert r.status_code == 404 and r.json()["error"]["code"] == "programme_not_found"


def test_suspended_learner_is_told_why_and_keeps_progress(client, db, make_user, login, enrol, outline):
    from api.learning import service

    user = make_user()
    e = enrol(user, "acxs")
    login(user.email)
    first = outline("acxs")[0]
    assert client.post(f"/api/v1/learning/programmes/acxs/lessons/{first.slug}/complete").status_code == 200
    service.suspend(db, e, "instalment 2 failed")
    db.commit()
    r = client.get(f"/learn/acxs/{first.slug}")
    assert r.status_code == 403 and "paused: instalment 2 failed" in r.text
    assert client.get("/api/v1/learning/programmes/acxs/progress").json()["error"]["code"] == "enrolment_suspended"
    service.reinstate(db, e)
    db.commit()
    assert client.get("/api/v1/learning/programmes/acxs/progress").json()["lessons_done"] == 1


def test_lesson_page_shows_the_lesson_outline_and_navigation(client, make_user, login, enrol, outline):
    user = make_user()
    enrol(user, "acxp")
    login(user.email)
    items = outline("acxp")
    first, second = items[0], items[1]
    page = client.get(f"/learn/acxp/{first.slug}").text
    assert re.search(r'<h1 id="lesson-title">What customer experience really is</h1>', page)
    assert page.count("<h1") == 1  # the file's own "# Title" is not repeated as a second heading
    assert "Three parts of that sentence deserve attention." in page  # the Markdown body
    # The outline: every module and item, the current one marked for screen readers.
    assert page.count('aria-current="page"') == 1
    assert re.search(rf'href="/learn/acxp/{first.slug}" aria-current="page"', page)
    for item in items:
        assert f'href="{item.url("acxp")}"' in page
    assert 'href="/learn/acxp/check/check-outside-in"' in page
    assert page.count("(not done yet)") == len(items)
    # Landmarks and navigation.
    assert 'aria-label="Previous and next"' in page and 'aria-labelledby="outline-h"' in page
    assert f'rel="next" href="/learn/acxp/{second.slug}"' in page and 'rel="prev"' not in page
    assert 'action="/learn/acxp/' + first.slug + '/complete"' in page and 'name="csrf_token"' in page


def test_mark_complete_ticks_the_lesson_and_moves_on(client, browser, make_user, login, enrol, outline):
    user = make_user()
    enrol(user, "acxp")
    login(user.email)
    items = outline("acxp")
    first, second = items[0], items[1]
    r = browser.post_form(f"/learn/acxp/{first.slug}", f"/learn/acxp/{first.slug}/complete")
    assert r.status_code == 303 and r.headers["location"] == f"/learn/acxp/{second.slug}"
    page = client.get(r.headers["location"]).text
    assert "is marked complete. 5% of ACXP done." in page  # 1 of 18 counted items, rounded down
    assert page.count("(done)") == 1 and page.count("(not done yet)") == len(items) - 1
    again = client.get(f"/learn/acxp/{first.slug}").text
    assert "You completed this lesson on" in again and "Mark complete" not in again
    # Without the form's token nothing happens.
    r = client.post(f"/learn/acxp/{second.slug}/complete", data={})
    assert r.status_code == 403


def test_continue_leads_to_the_lesson_last_opened_then_to_the_next_thing_to_do(client, make_user, login, enrol,
                                                                                  outline):
    user = make_user()
    enrol(user, "acxp")
    login(user.email)
    items = outline("acxp")
    assert client.get("/learn/acxp", follow_redirects=False).headers["location"] == f"/learn/acxp/{items[0].slug}"
    client.get(f"/learn/acxp/{items[2].slug}")
    assert client.get("/learn/acxp", follow_redirects=False).headers["location"] == f"/learn/acxp/{items[2].slug}"
    client.post(f"/api/v1/learning/programmes/acxp/lessons/{items[2].slug}/complete")
    # Done with the one last opened: continue at the next item still to do (the module's check).
    assert client.get("/learn/acxp", follow_redirects=False).headers["location"] == items[3].url("acxp")
    assert client.get("/api/v1/learning/programmes/acxp/progress").json()["continue_at"]["slug"] == items[3].slug


def test_markdown_is_rendered_safely(client, db, make_user, login, enrol, outline):
    user = make_user()
    enrol(user, "acxp")
    login(user.email)
    first = outline("acxp")[0]
    lesson = db.get(Lesson, first.id)
    lesson.body = "Hello **world** <script>alert(1)</script> [x](javascript:alert(1)) <img src=x onerror=alert(1)>"
    db.commit()
    page = client.get(f"/learn/acxp/{first.slug}").text
    assert "<strong>world</strong>" in page
    assert "<script>alert" not in page and 'href="javascript' not in page and "onerror" not in page.replace(
        "onerror=alert(1)&gt;", "")
    api = client.get(f"/api/v1/learning/programmes/acxp/lessons/{first.slug}").json()
    assert "<script" not in api["body_html"] and "&lt;script&gt;" in api["body_html"]


@pytest.fixture
def lesson_with_media(db, tmp_path, monkeypatch):
    """A copy of content/ whose first ACXP lesson has a video, a file beside it and a link."""
    from api.core.config import get_settings

    tree = tmp_path / "content"
    shutil.copytree(CONTENT, tree)
    module = next((tree / "programmes" / "acxp").glob("01-*"))
    lesson = sorted(module.glob("01-*.md"))[0]
    (module / "sco-worksheet.txt").write_text("SCO worksheet: write the outcome first.\n")
    (tree / "secret.txt").write_text("not for learners\n")
    (module / "cx.en.vtt").write_text("WEBVTT\n\n00:00.000 --> 00:02.000\nCustomer experience, defined.\n")
    text = lesson.read_text().replace("minutes: 10\n", "minutes: 10\nvideo:\n  url: https://video.example.org/cx.mp4\n"
                                      "  captions:\n    - file: cx.en.vtt\n"
                                      "downloads:\n  - title: SCO worksheet\n    file: sco-worksheet.txt\n"
                                      "  - title: Further reading\n    url: https://example.org/reading\n", 1)
    lesson.write_text(text)
    sync(db, tree)
    db.commit()
    monkeypatch.setattr(get_settings(), "content_dir", tree)
    return db.exec(select(Lesson).join(Programme).where(Programme.slug == "acxp",
                                                        Lesson.slug == "what-customer-experience-is")).one()


def test_video_and_downloads_only_for_enrolled_learners(client, make_user, login, enrol, lesson_with_media):
    slug = lesson_with_media.slug
    outsider = make_user()
    login(outsider.email)
    assert client.get(f"/learn/acxp/{slug}/files/sco-worksheet.txt").status_code == 403
    user = make_user()
    enrol(user, "acxp")
    login(user.email)
    r = client.get(f"/learn/acxp/{slug}")
    assert '<video controls preload="metadata" src="https://video.example.org/cx.mp4"' in r.text
    assert "media-src 'self' https:" in r.headers["content-security-policy"]
    assert f'href="/learn/acxp/{slug}/files/sco-worksheet.txt" download>SCO worksheet</a>' in r.text
    assert 'href="https://example.org/reading"' in r.text
    r = client.get(f"/learn/acxp/{slug}/files/sco-worksheet.txt")
    assert r.status_code == 200 and r.text == "SCO worksheet: write the outcome first.\n"
    assert "attachment" in r.headers["content-disposition"]
    api = client.get(f"/api/v1/learning/programmes/acxp/lessons/{slug}").json()
    assert api["video_url"] == "https://video.example.org/cx.mp4"
    assert [d["title"] for d in api["downloads"]] == ["SCO worksheet", "Further reading"]


@pytest.mark.parametrize("name", ["../../secret.txt", "..%2F..%2Fsecret.txt", "%2e%2e%2f%2e%2e%2fsecret.txt",
                                  "secret.txt", "module.yaml", "01-what-customer-experience-is.md", "%2e%2e"])
def test_downloads_cannot_climb_out_of_the_lesson_folder(client, make_user, login, enrol, lesson_with_media, name):
    user = make_user()
    enrol(user, "acxp")
    login(user.email)
    r = client.get(f"/learn/acxp/{lesson_with_media.slug}/files/{name}")
    assert r.status_code == 404
    assert "not for learners" not in r.text and "slug:" not in r.text


def test_lesson_page_works_on_a_phone_sized_layout_and_has_visible_focus(client):
    css = client.get("/static/css/learning.css").text
    assert "@media (max-width: 50rem)" in css and ".player { grid-template-columns: 1fr; }" in css
    site = client.get("/static/css/site.css").text
    assert ":focus-visible { outline: 3px solid" in site


def test_a_retired_lesson_is_gone_from_the_player_but_its_tick_stays(client, db, make_user, login, enrol, outline):
    from api.core.db import utcnow
    from api.learning.models import LessonCompletion

    user = make_user()
    enrol(user, "acxp")
    login(user.email)
    first = outline("acxp")[0]
    client.post(f"/api/v1/learning/programmes/acxp/lessons/{first.slug}/complete")
    lesson = db.get(Lesson, first.id)
    lesson.retired_at = utcnow()
    db.commit()
    assert client.get(f"/learn/acxp/{first.slug}").status_code == 404
    assert db.exec(select(LessonCompletion).where(LessonCompletion.user_id == user.id)).one().lesson_id == first.id
    assert client.get("/api/v1/learning/programmes/acxp/progress").json()["lessons_done"] == 0


def test_csrf_token_is_on_the_complete_form(client, make_user, login, enrol, outline):
    user = make_user()
    enrol(user, "acxp")
    login(user.email)
    assert csrf_from(client.get(f"/learn/acxp/{outline('acxp')[0].slug}").text)
