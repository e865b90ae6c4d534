"""Video lessons: a file beside the lesson (served to enrolled learners only) or a hosted URL, with
WebVTT captions and a transcript; and the catalogue promises no video the content does not have."""

from __future__ import annotations

import shutil

import pytest

from api.catalog.content_files import ContentError, load
from api.catalog.sync import sync
from tests.conftest import ROOT

LESSON = "programmes/acxs/01-customer-experience-defined/01-what-customer-experience-is.md"
FRONT = "---\nslug: what-customer-experience-is\ntitle: What customer experience is\nminutes: 10\n"
VIDEO = """video:
  file: intro.webm
  captions:
    - file: intro.en.vtt
      language: en
      label: English
  transcript: intro.transcript.md
"""


@pytest.fixture
def with_video(tmp_path, db, monkeypatch):
    tree = tmp_path / "content"
    shutil.copytree(ROOT / "content", tree)
    lesson = tree / LESSON
    lesson.write_text(lesson.read_text().replace(FRONT, FRONT + VIDEO))
    folder = lesson.parent
    (folder / "intro.webm").write_bytes(b"\x1a\x45\xdf\xa3 not really a video")
    (folder / "intro.en.vtt").write_text("WEBVTT\n\n00:00.000 --> 00:02.000\nCustomer experience is a sum.\n")
    (folder / "intro.transcript.md").write_text("Customer experience is the **sum** of a customer's thoughts.\n")
    sync(db, tree)
    db.commit()
    from api.core.config import get_settings

    monkeypatch.setattr(get_settings(), "content_dir", tree)
    return tree


def test_the_player_plays_the_file_with_captions_and_a_transcript(client, make_user, login, enrol, with_video):
    user = make_user()
    enrol(user, "acxs")
    login(user.email)
    page = client.get("/learn/acxs/what-customer-experience-is").text
    base = "/learn/acxs/what-customer-experience-is/files/"
    assert f'<video controls preload="metadata" src="{base}intro.webm"' in page
    assert f'<track kind="captions" src="{base}intro.en.vtt" srclang="en" label="English" default>' in page
    assert "Transcript of the video" in page and "<strong>sum</strong>" in page
    assert client.get(f"{base}intro.en.vtt").text.startswith("WEBVTT")
    assert client.get(f"{base}intro.webm").content.startswith(b"\x1a\x45\xdf\xa3")


def test_the_video_is_for_enrolled_learners_only(client, make_user, login, with_video):
    login(make_user().email)
    r = client.get("/learn/acxs/what-customer-experience-is/files/intro.webm")
    assert r.status_code in (403, 404) and not r.content.startswith(b"\x1a\x45\xdf\xa3")


def test_captions_must_be_webvtt_and_files_must_exist(tmp_path):
    tree = tmp_path / "content"
    shutil.copytree(ROOT / "content", tree)
    lesson = tree / LESSON
    lesson.write_text(lesson.read_text().replace(FRONT, FRONT + VIDEO))
    (lesson.parent / "intro.en.vtt").write_text("1\n00:00:00,000 --> 00:00:02,000\nan SRT file\n")
    with pytest.raises(ContentError) as exc:
        load(tree)
    problems = "\n".join(exc.value.problems)
    assert "video.file: intro.webm is not a file beside the lesson" in problems
    assert "intro.en.vtt is not WebVTT" in problems


def test_no_programme_promises_video_its_lessons_do_not_have(db):
    cat = load(ROOT / "content")
    for t in cat.programmes:
        has_video = any(getattr(i, "front", None) and i.front.video for m in t.modules for i in m.items)
        text = f"{t.programme.summary} {t.programme.duration.text or ''}".lower()
        if not has_video:
            assert "video lessons" not in text, t.programme.code


@pytest.mark.parametrize("video", ["video: https://videos.example.org/intro.mp4\n",
                                   "video:\n  url: https://videos.example.org/intro.mp4\n"])
def test_a_video_without_captions_is_refused(tmp_path, video):
    tree = tmp_path / "content"
    shutil.copytree(ROOT / "content", tree)
    lesson = tree / LESSON
    lesson.write_text(lesson.read_text().replace(FRONT, FRONT + video))
    with pytest.raises(ContentError) as exc:
        load(tree)
    assert any("video: give it WebVTT captions" in p for p in exc.value.problems)
