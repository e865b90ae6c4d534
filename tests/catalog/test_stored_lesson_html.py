"""Lesson Markdown is rendered and sanitised once, at content sync, and kept with the digest of its source."""

from __future__ import annotations

import shutil
from pathlib import Path

from sqlmodel import select

from api.catalog.models import Lesson, Programme
from api.catalog.sync import lesson_html, sync
from api.core import markdown
from api.learning import study

CONTENT = Path(__file__).resolve().parents[2] / "content"


def test_every_lesson_has_its_html_stored_at_sync(db):
    lessons = db.exec(select(Lesson).where(Lesson.retired_at.is_(None))).all()
    assert len(lessons) > 100
    for lesson in lessons:
        assert lesson.body_digest == markdown.digest(lesson.body)
        assert lesson.body_html == lesson_html(lesson.body)
    assert any("<p>" in les.body_html for les in lessons)


def test_a_changed_lesson_is_rendered_again_and_raw_html_never_passes(db, tmp_path):
    tree = tmp_path / "content"
    shutil.copytree(CONTENT, tree)
    path = sorted(next((tree / "programmes" / "acxp").glob("01-*")).glob("0*.md"))[0]
    path.write_text(path.read_text() + "\n\nA **new** line <script>alert(1)</script> [x](javascript:alert(1))\n")
    assert sync(db, tree).changed
    slug = next(ln for ln in path.read_text().splitlines() if ln.startswith("slug:")).split(":")[1].strip()
    lesson = db.exec(select(Lesson).join(Programme).where(Programme.code == "ACXP", Lesson.slug == slug)).one()
    assert "<strong>new</strong>" in lesson.body_html and "<script>" not in lesson.body_html
    assert 'href="javascript' not in lesson.body_html
    assert lesson.body_digest == markdown.digest(lesson.body)


def test_a_row_without_a_current_rendering_is_rendered_when_shown(db):
    lesson = db.exec(select(Lesson).where(Lesson.retired_at.is_(None))).first()
    lesson.body_html, lesson.body_digest = "<p>stale</p>", "0" * 64  # e.g. an older renderer's output
    assert str(study.lesson_html(lesson)) == lesson_html(lesson.body) != "<p>stale</p>"
    lesson.body_html = None
    assert str(study.lesson_html(lesson)) == lesson_html(lesson.body)
