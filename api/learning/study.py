"""Studying a lesson: opening it (which remembers where the learner is), marking it complete, and
the files shipped beside it. Only enrolled learners with current access get any of it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from markupsafe import Markup
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from api.accounts.models import User
from api.catalog import service as catalog_service
from api.catalog import sync as catalog_sync
from api.catalog.models import Lesson, Programme
from api.core import markdown
from api.core.config import get_settings
from api.core.db import utcnow
from api.core.errors import NotFound
from api.learning import completion, progress
from api.learning import service as enrolment_service
from api.learning.models import Enrolment, LessonCompletion

SEEN_EVERY = timedelta(minutes=1)


def get_lesson(session: Session, programme: Programme, slug: str) -> Lesson:
    lesson = session.exec(select(Lesson).where(Lesson.programme_id == programme.id, Lesson.slug == slug,
                                               col(Lesson.retired_at).is_(None))).first()
    if lesson is None:
        raise NotFound(f"{programme.display_title} has no lesson at this address.", code="lesson_not_found")
    return lesson


def lesson_html(lesson: Lesson) -> Markup:
    """The lesson's safe HTML as rendered at content sync; rendered now only for a row synced before
    renderings were stored (or by an older renderer), until the next sync stores it."""
    if lesson.body_html is not None and lesson.body_digest == markdown.digest(lesson.body):
        return Markup(lesson.body_html)  # noqa: S704 - sanitised at sync (api/core/markdown.py)
    return Markup(catalog_sync.lesson_html(lesson.body))  # noqa: S704 - sanitised there too


@dataclass
class LessonView:
    programme: Programme
    lesson: Lesson
    enrolment: Enrolment
    progress: progress.Progress
    item: progress.Item
    previous: progress.Item | None
    next: progress.Item | None

    @property
    def module(self) -> progress.ModuleProgress:
        return next(m for m in self.progress.modules if m.id == self.lesson.module_id)

    @property
    def downloads(self) -> list[dict[str, str]]:
        """Each download as {title, url}: files beside the lesson are served by Cadre to enrolled
        learners only; URLs are links."""
        out = []
        for d in self.lesson.downloads:
            if d.get("file"):
                out.append({"title": d["title"], "url": f"/learn/{self.programme.slug}/{self.lesson.slug}/files/"
                                                        f"{Path(d['file']).name}", "file": d["file"]})
            elif d.get("url"):
                out.append({"title": d["title"], "url": d["url"]})
        return out


    def _file_url(self, name: str) -> str:
        return f"/learn/{self.programme.slug}/{self.lesson.slug}/files/{name}"

    @property
    def video(self) -> dict[str, Any] | None:
        """What the player needs: the source (a file beside the lesson, served to enrolled learners
        only, or a hosted URL), WebVTT caption tracks and the transcript (Markdown)."""
        extra = self.lesson.video or {}
        src = self._file_url(extra["file"]) if extra.get("file") else self.lesson.video_url
        if not src:
            return None
        captions = [{"src": self._file_url(c["file"]), "srclang": c.get("language", "en"),
                     "label": c.get("label", "English")} for c in extra.get("captions", [])]
        return {"src": src, "captions": captions, "transcript": extra.get("transcript")}


def open_lesson(session: Session, user: User, programme_slug: str, lesson_slug: str) -> LessonView:
    """The lesson with its outline and ticks; remembers it as where the learner left off."""
    programme = catalog_service.get_by_slug(session, programme_slug)
    lesson = get_lesson(session, programme, lesson_slug)
    enrolment = enrolment_service.require_access(session, user.id, programme)
    prog = progress.load_one(session, user.id, programme)
    item = prog.find(progress.LESSON, lesson.slug)
    if item is None:  # its module was retired
        raise NotFound(f"{programme.display_title} has no lesson at this address.", code="lesson_not_found")
    previous, nxt = prog.neighbours(item)
    now = utcnow()
    # Written when it changes, or once a minute for the same lesson (the dashboard orders programmes by
    # when they were last looked at): not a database write on every view.
    if (enrolment.last_lesson_id != lesson.id or enrolment.last_seen_at is None
            or now - enrolment.last_seen_at >= SEEN_EVERY):
        enrolment.last_lesson_id = lesson.id
        enrolment.last_seen_at = now
        session.add(enrolment)
        session.flush()
    return LessonView(programme, lesson, enrolment, prog, item, previous, nxt)


@dataclass
class LessonDone:
    programme: Programme
    lesson: Lesson
    completed_at: datetime
    progress: progress.Progress
    programme_completed: bool  # this request completed the programme
    enrolment: Enrolment


def complete_lesson(session: Session, user: User, programme_slug: str, lesson_slug: str) -> LessonDone:
    """Mark a lesson complete (idempotent: the first time counts) and let completion decide."""
    programme = catalog_service.get_by_slug(session, programme_slug)
    lesson = get_lesson(session, programme, lesson_slug)
    enrolment = enrolment_service.require_access(session, user.id, programme, lock=True)
    done = session.exec(select(LessonCompletion).where(LessonCompletion.user_id == user.id,
                                                       LessonCompletion.lesson_id == lesson.id)).first()
    if done is None:
        try:
            with session.begin_nested():
                done = LessonCompletion(user_id=user.id, lesson_id=lesson.id)
                session.add(done)
                session.flush()
        except IntegrityError:  # a racing request got there first: its tick stands
            done = session.exec(select(LessonCompletion).where(LessonCompletion.user_id == user.id,
                                                               LessonCompletion.lesson_id == lesson.id)).one()
    prog = progress.load_one(session, user.id, programme)
    completed_now = completion.complete_if_met(session, enrolment, prog)
    return LessonDone(programme, lesson, done.completed_at, prog, completed_now, enrolment)


def download_path(session: Session, user: User, programme_slug: str, lesson_slug: str, name: str) -> Path:
    """The file `name` declared in the lesson's downloads, inside the lesson's own folder in content/.
    Anything else (undeclared names, paths that climb out, links) is 404."""
    programme = catalog_service.get_by_slug(session, programme_slug)
    lesson = get_lesson(session, programme, lesson_slug)
    enrolment_service.require_access(session, user.id, programme)
    def missing() -> NotFound:  # made only when raised: a business error marks the request failed
        return NotFound("This lesson has no download by that name.", code="download_not_found")

    declared = {Path(d["file"]).name: d["file"] for d in lesson.downloads if d.get("file")}
    video = lesson.video or {}
    for name_ in [video.get("file"), *(c.get("file") for c in video.get("captions", []))]:
        if name_:
            declared[name_] = name_  # the video and its captions, beside the lesson
    if name not in declared or name in (".", "..") or "/" in name or "\\" in name:
        raise missing()
    content = get_settings().content_dir.resolve()
    folder = (content.parent / lesson.source_path).resolve()
    path = (folder / declared[name]).resolve()
    if not folder.is_relative_to(content) or not path.is_relative_to(folder) or not path.is_file():
        raise missing()
    return path
