"""`cadre content sync`: upsert the validated content tree into the database by slug.

All-or-nothing (the caller commits once), idempotent (unchanged rows are not written), and it never
deletes: a row whose file disappeared is retired, so learners' records that point at it stay.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from sqlmodel import Session, SQLModel, select

from api.assessments import rubrics
from api.assessments.models import RubricVersion
from api.catalog.content_files import Catalogue, LessonItem, QuizItem, load
from api.catalog.models import (
    AssessmentBrief,
    KnowledgeCheck,
    Lesson,
    Module,
    Offer,
    Programme,
    ProgrammePrerequisite,
)
from api.core import markdown, pagecache
from api.core.db import utcnow
from api.halloffame.models import Award, AwardWinner, WinnerSource
from api.halloffame.service import winner_slug

T = TypeVar("T", bound=SQLModel)


@dataclass
class SyncReport:
    counts: Counter = field(default_factory=Counter)
    changes: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.changes)

    def summary(self) -> str:
        if not self.changes:
            return "Catalogue already up to date: nothing changed."
        parts = [f"{n} {what}" for what, n in sorted(self.counts.items())]
        return "Catalogue synced: " + ", ".join(parts) + "."


class _Upserter:
    def __init__(self, session: Session, report: SyncReport):
        self.session = session
        self.report = report

    def put(self, model: type[T], existing: dict[Any, T], key: Any, values: dict[str, Any], label: str) -> T:
        row = existing.pop(key, None)
        values = {**values, "retired_at": None}
        if row is None:
            row = model(**values)
            self.session.add(row)
            self.session.flush()
            self._note("created", model, label)
            return row
        changed = [k for k, v in values.items() if getattr(row, k) != v]
        if changed:
            for k in changed:
                setattr(row, k, values[k])
            if hasattr(row, "updated_at"):
                row.updated_at = utcnow()
            self.session.add(row)
            self._note("updated", model, f"{label} ({', '.join(changed)})")
        return row

    def retire(self, model: type[T], leftovers: dict[Any, T], label_of) -> None:
        for row in leftovers.values():
            if row.retired_at is None:
                row.retired_at = utcnow()
                self.session.add(row)
                self._note("retired", model, label_of(row))

    def _note(self, what: str, model: type, label: str) -> None:
        self.report.counts[f"{model.__name__.lower()}s {what}"] += 1
        self.report.changes.append(f"{what} {model.__name__.lower()} {label}")


def body_without_title(body: str) -> str:
    """Lesson files often open with `# Title`; the page already shows the title as its heading."""
    stripped = body.lstrip()
    if stripped.startswith("# "):
        return stripped.split("\n", 1)[1] if "\n" in stripped else ""
    return body


def lesson_html(body: str) -> str:
    """A lesson's body as the page shows it: safe HTML, without the title heading."""
    return str(markdown.render_markdown(body_without_title(body)))


def _rendered(existing: Lesson | None, body: str) -> dict[str, str]:
    """The stored rendering of `body`: the row's own while its digest matches, else rendered now."""
    key = markdown.digest(body)
    if existing is not None and existing.body_digest == key and existing.body_html is not None:
        return {"body_html": existing.body_html, "body_digest": key}
    return {"body_html": lesson_html(body), "body_digest": key}


def _by(session: Session, model: type[T], *where: Any, key: str = "slug") -> dict[Any, T]:
    return {getattr(row, key): row for row in session.exec(select(model).where(*where)).all()}


def sync(session: Session, root: Path) -> SyncReport:
    """Validate everything first (raises ContentError), then upsert. Flushes, never commits."""
    catalogue = load(root)
    return apply(session, catalogue)


def apply(session: Session, catalogue: Catalogue) -> SyncReport:
    report = SyncReport()
    up = _Upserter(session, report)
    programmes = _by(session, Programme)
    by_code: dict[str, Programme] = {}
    for tree in catalogue.programmes:
        p = tree.programme
        row = up.put(Programme, programmes, p.slug, {
            "slug": p.slug, "code": p.code, "title": p.title, "short_title": p.short_title,
            "family": p.family.value, "level": p.level, "summary": p.summary, "description": p.description,
            "outcomes": list(p.outcomes), "format": p.format.value,
            "duration": p.duration.model_dump(exclude_none=True),
            "schedule": [s.model_dump(mode="json", exclude_none=True) for s in p.schedule],
            "cohort_format": p.cohort_format.model_dump() if p.cohort_format else {},
            "validity_months": p.validity_months, "renewal": p.renewal,
            "completion": p.completion.model_dump(exclude_none=True),
        }, p.code)
        by_code[p.code] = row
        _sync_children(session, up, tree, row)
    up.retire(Programme, programmes, lambda r: r.code)

    # The ladder, once every programme exists.
    for tree in catalogue.programmes:
        row = by_code[tree.programme.code]
        current = _by(session, ProgrammePrerequisite, ProgrammePrerequisite.programme_id == row.id,
                      key="requires_id")
        wanted = {by_code[c].id for c in tree.programme.prerequisites}
        for requires_id in wanted - current.keys():
            session.add(ProgrammePrerequisite(programme_id=row.id, requires_id=requires_id))
            up._note("created", ProgrammePrerequisite, f"{row.code}")
        for requires_id in current.keys() - wanted:
            session.delete(current[requires_id])  # a ladder edge holds no learner data
            up._note("removed", ProgrammePrerequisite, f"{row.code}")
    _sync_awards(session, up, catalogue)
    session.flush()
    if report.changed:
        pagecache.invalidate(session)  # the public pages show the catalogue and the awards
    return report


def _sync_children(session: Session, up: _Upserter, tree, prog: Programme) -> None:
    pid = prog.id
    modules = _by(session, Module, Module.programme_id == pid)
    lessons = _by(session, Lesson, Lesson.programme_id == pid)
    checks = _by(session, KnowledgeCheck, KnowledgeCheck.programme_id == pid)
    briefs = _by(session, AssessmentBrief, AssessmentBrief.programme_id == pid)
    offers = _by(session, Offer, Offer.programme_id == pid)
    code = prog.code
    for mpos, mtree in enumerate(tree.modules, start=1):
        m = mtree.module
        mrow = up.put(Module, modules, m.slug, {"programme_id": pid, "slug": m.slug, "title": m.title,
                                                 "summary": m.summary, "position": mpos}, f"{code}/{m.slug}")
        for ipos, item in enumerate(mtree.items, start=1):
            if isinstance(item, LessonItem):
                f = item.front
                up.put(Lesson, lessons, f.slug, {
                    "programme_id": pid, "module_id": mrow.id, "slug": f.slug, "title": f.title,
                    "body": item.body, **_rendered(lessons.get(f.slug), item.body), "minutes": f.minutes,
                    "video_url": f.video if isinstance(f.video, str) else (f.video.url if f.video else None),
                    "video": {"file": f.video.file, "captions": [c.model_dump() for c in f.video.captions],
                              "transcript": item.transcript} if f.video and not isinstance(f.video, str) else {},
                    "downloads": [d.model_dump(exclude_none=True) for d in f.downloads], "position": ipos,
                    "source_path": str(Path(item.path).parent),
                }, f"{code}/{f.slug}")
            elif isinstance(item, QuizItem):
                q = item.quiz
                up.put(KnowledgeCheck, checks, q.slug, {
                    "programme_id": pid, "module_id": mrow.id, "slug": q.slug, "title": q.title,
                    "pass_mark": q.pass_mark, "max_attempts": q.max_attempts,
                    "retry_after_minutes": q.retry_after_minutes,
                    "questions": [qq.model_dump() for qq in q.questions], "position": ipos,
                    "source_path": item.path,
                }, f"{code}/{q.slug}")
    for bpos, (b, path) in enumerate(tree.briefs, start=1):
        rubric = b.rubric()
        brow = up.put(AssessmentBrief, briefs, b.slug, {
            "programme_id": pid, "slug": b.slug, "title": b.title, "brief": b.brief,
            "pass_mark": b.pass_rule.pass_mark, "criteria": rubric["criteria"], "pass_rule": rubric["pass_rule"],
            "settings": b.settings(), "rubric_hash": rubrics.content_hash(rubric), "position": bpos,
            "source_path": path,
        }, f"{code}/{b.slug}")
        # A rubric is immutable once published: a changed one is a new version, marks keep theirs.
        version, created = rubrics.publish(session, brow, rubric)
        if created:
            up._note("created", RubricVersion, f"{code}/{b.slug} v{version.number}")
    for opos, o in enumerate(tree.programme.offers, start=1):
        up.put(Offer, offers, o.slug, {
            "programme_id": pid, "slug": o.slug, "title": o.title, "kind": o.kind.value, "amount": o.amount,
            "currency": o.currency, "instalments": o.instalments, "interval": o.interval,
            "access_days": o.access_days, "position": opos,
        }, f"{code}/{o.slug}")
    up.retire(Module, modules, lambda r: f"{code}/{r.slug}")
    up.retire(Lesson, lessons, lambda r: f"{code}/{r.slug}")
    up.retire(KnowledgeCheck, checks, lambda r: f"{code}/{r.slug}")
    up.retire(AssessmentBrief, briefs, lambda r: f"{code}/{r.slug}")
    up.retire(Offer, offers, lambda r: f"{code}/{r.slug}")


def _sync_awards(session: Session, up: _Upserter, catalogue: Catalogue) -> None:
    awards = _by(session, Award)
    for a, _path in catalogue.awards:
        row = up.put(Award, awards, a.slug, {"slug": a.slug, "title": a.title, "description": a.description,
                                             "first_awarded": a.first_awarded}, a.slug)
        winners = {(w.year, w.name): w for w in session.exec(
            # Only the winners written in content: an admin's and a cycle's are not the files' to retire.
            select(AwardWinner).where(AwardWinner.award_id == row.id,
                                      AwardWinner.source == WinnerSource.content.value)).all()}
        for w in a.winners:
            up.put(AwardWinner, winners, (w.year, w.name),
                   {"award_id": row.id, "slug": winner_slug(w.year, w.name), **w.model_dump()},
                   f"{a.slug}/{w.year}/{w.name}")
        up.retire(AwardWinner, winners, lambda r: f"{r.year}/{r.name}")
    up.retire(Award, awards, lambda r: r.slug)
