"""Where each learner stands: per lesson, per module, per programme, and where to continue.

The formula (one place, `summarise`):
- What counts is declared by the programme's completion rule (`Programme.completion`; an empty rule
  means `lessons: all`). `lessons: all` counts every current lesson; `knowledge_checks: all` counts
  every current knowledge check. "Current" means neither the item nor its module is retired, so a
  lesson removed from content/ stops counting while its completion record stays.
- A lesson is done when the learner marked it complete; a knowledge check is done when any attempt
  at it passed.
- percent = floor(100 * done counted items / counted items), per module and per programme. It is
  rounded down so 100% only ever means everything is done. 0 items: 0%.
- Other keys (`assessments`, `attendance`) are not counted in the percentage: the domains that own
  them say what is still needed (`Progress.external`, filled by requirements.external_needs), and that
  keeps the programme from completing (see completion.py).

A fixed number of queries for any number of programmes, modules and lessons: `load` runs three, plus
one per other requirement kind in the rules (never per programme).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, literal
from sqlmodel import Session, col, select

from api.catalog.models import KnowledgeCheck, Lesson, Module, Programme
from api.core.db import UTCDateTime
from api.learning import requirements
from api.learning.models import KnowledgeCheckAttempt, LessonCompletion

LESSON = "lesson"
CHECK = "knowledge_check"


def rule_of(completion: dict[str, Any] | None) -> dict[str, Any]:
    return dict(completion) if completion else {"lessons": "all"}


def summarise(rule: dict[str, Any], lessons_done: int, lessons_total: int, checks_done: int,
              checks_total: int) -> tuple[int, int, int]:
    """(done, total, percent) of the counted items under `rule`: THE progress formula."""
    done = total = 0
    if rule.get("lessons") == "all":
        done, total = done + lessons_done, total + lessons_total
    if rule.get("knowledge_checks") == "all":
        done, total = done + checks_done, total + checks_total
    return done, total, (done * 100 // total if total else 0)


@dataclass
class Item:
    kind: str  # LESSON | CHECK
    id: int
    slug: str
    title: str
    module_id: int
    position: int
    minutes: int | None
    counted: bool
    done_at: datetime | None = None

    @property
    def done(self) -> bool:
        return self.done_at is not None

    def url(self, programme_slug: str) -> str:
        if self.kind == CHECK:
            return f"/learn/{programme_slug}/check/{self.slug}"
        return f"/learn/{programme_slug}/{self.slug}"


def _counts(rule: dict[str, Any], items: list[Item]) -> tuple[int, int, int]:
    lessons = [i for i in items if i.kind == LESSON]
    checks = [i for i in items if i.kind == CHECK]
    return summarise(rule, sum(i.done for i in lessons), len(lessons), sum(i.done for i in checks), len(checks))


class _Counted:
    """done / total / percent of whatever `items` the `rule` counts (a module or a whole programme)."""

    rule: dict[str, Any]
    items: list[Item]

    @property
    def done(self) -> int:
        return _counts(self.rule, self.items)[0]

    @property
    def total(self) -> int:
        return _counts(self.rule, self.items)[1]

    @property
    def percent(self) -> int:
        return _counts(self.rule, self.items)[2]


@dataclass
class ModuleProgress(_Counted):
    id: int
    slug: str
    title: str
    summary: str
    rule: dict[str, Any]
    items: list[Item] = field(default_factory=list)


@dataclass
class Progress(_Counted):
    programme: Programme
    rule: dict[str, Any]
    modules: list[ModuleProgress] = field(default_factory=list)
    # what requirements owned by other domains still need (see requirements.REQUIREMENTS)
    external: list[str] = field(default_factory=list)

    @property
    def items(self) -> list[Item]:
        return [i for m in self.modules for i in m.items]

    def _of(self, kind: str) -> list[Item]:
        return [i for i in self.items if i.kind == kind]

    @property
    def lessons_done(self) -> int:
        return sum(i.done for i in self._of(LESSON))

    @property
    def lessons_total(self) -> int:
        return len(self._of(LESSON))

    @property
    def checks_passed(self) -> int:
        return sum(i.done for i in self._of(CHECK))

    @property
    def checks_total(self) -> int:
        return len(self._of(CHECK))

    def find(self, kind: str, slug: str) -> Item | None:
        return next((i for i in self.items if i.kind == kind and i.slug == slug), None)

    def neighbours(self, item: Item) -> tuple[Item | None, Item | None]:
        items = self.items
        at = next(n for n, i in enumerate(items) if i.kind == item.kind and i.id == item.id)
        return (items[at - 1] if at > 0 else None), (items[at + 1] if at + 1 < len(items) else None)

    def resume(self, last_lesson_id: int | None) -> Item | None:
        """Where "Continue" leads: the lesson last opened if it is still to do; otherwise the next
        counted item still to do after it (wrapping round); otherwise the last lesson opened (or the
        first item) when everything is done."""
        items = self.items
        if not items:
            return None
        at = next((n for n, i in enumerate(items) if i.kind == LESSON and i.id == last_lesson_id), None)
        if at is not None and not items[at].done:
            return items[at]
        start = at + 1 if at is not None else 0
        for i in items[start:] + items[:start]:
            if i.counted and not i.done:
                return i
        return items[at] if at is not None else items[0]


def load(session: Session, user_id: int | None, programmes: list[Programme]) -> dict[int, Progress]:
    """Progress of one learner in each of `programmes` (user_id None: the outline with nothing done)."""
    if not programmes:
        return {}
    ids = [p.id for p in programmes]
    result = {p.id: Progress(programme=p, rule=rule_of(p.completion)) for p in programmes}
    modules: dict[int, ModuleProgress] = {}
    for m in session.exec(select(Module).where(col(Module.programme_id).in_(ids), col(Module.retired_at).is_(None))
                          .order_by(col(Module.programme_id), col(Module.position))):
        mp = ModuleProgress(id=m.id, slug=m.slug, title=m.title, summary=m.summary, rule=result[m.programme_id].rule)
        modules[m.id] = mp
        result[m.programme_id].modules.append(mp)

    # Only the columns an outline needs (lesson bodies and quiz answers stay in the database), each item
    # with the learner's completion or first pass beside it: one query for lessons, one for checks.
    lesson_q = select(Lesson.id, Lesson.module_id, Lesson.slug, Lesson.title, Lesson.position, Lesson.minutes)
    check_q = select(KnowledgeCheck.id, KnowledgeCheck.module_id, KnowledgeCheck.slug, KnowledgeCheck.title,
                     KnowledgeCheck.position)
    if user_id is not None:
        lesson_q = lesson_q.add_columns(LessonCompletion.completed_at).outerjoin(
            LessonCompletion, and_(col(LessonCompletion.lesson_id) == col(Lesson.id),
                                   col(LessonCompletion.user_id) == user_id))
        passed = (select(KnowledgeCheckAttempt.check_id, func.min(KnowledgeCheckAttempt.created_at).label("at"))
                  .where(KnowledgeCheckAttempt.user_id == user_id, col(KnowledgeCheckAttempt.passed).is_(True))
                  .group_by(col(KnowledgeCheckAttempt.check_id)).subquery())
        check_q = check_q.add_columns(passed.c.at).outerjoin(passed, passed.c.check_id == col(KnowledgeCheck.id))
    else:
        lesson_q = lesson_q.add_columns(literal(None, UTCDateTime))
        check_q = check_q.add_columns(literal(None, UTCDateTime))
    lessons = session.exec(lesson_q.where(col(Lesson.programme_id).in_(ids), col(Lesson.retired_at).is_(None))).all()
    checks = session.exec(check_q.where(col(KnowledgeCheck.programme_id).in_(ids),
                                        col(KnowledgeCheck.retired_at).is_(None))).all()
    for lid, mid, slug, title, position, minutes, done_at in lessons:
        if mid in modules:
            counted = modules[mid].rule.get("lessons") == "all"
            modules[mid].items.append(Item(LESSON, lid, slug, title, mid, position, minutes, counted, done_at))
    for cid, mid, slug, title, position, passed_at in checks:
        if mid in modules:
            counted = modules[mid].rule.get("knowledge_checks") == "all"
            modules[mid].items.append(Item(CHECK, cid, slug, title, mid, position, None, counted, passed_at))
    for mp in modules.values():
        mp.items.sort(key=lambda i: (i.position, i.kind, i.slug))
    if user_id is not None:
        for pid, needs in requirements.external_needs(session, user_id, programmes).items():
            if pid in result:
                result[pid].external = needs
    else:
        for p in programmes:
            result[p.id].external = [k.replace("_", " ") for k in (p.completion or {})
                                     if k not in requirements.BUILT_IN]
    return result


def load_one(session: Session, user_id: int | None, programme: Programme) -> Progress:
    return load(session, user_id, [programme])[programme.id]


def counts_by_learner(session: Session, user_ids: list[int], programme_ids: list[int]
                      ) -> tuple[dict[int, tuple[int, int]], dict[tuple[int, int], tuple[int, int]]]:
    """Aggregates for many learners at once (the coach view), four queries whatever the numbers:
    ({programme_id: (lessons_total, checks_total)}, {(user_id, programme_id): (lessons_done, checks_passed)}).
    The same "current item" rule as `load`: the item and its module are not retired."""
    totals: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    done: dict[tuple[int, int], list[int]] = defaultdict(lambda: [0, 0])
    if not programme_ids:
        return {}, {}
    live_lesson = (col(Lesson.retired_at).is_(None), col(Module.retired_at).is_(None),
                   col(Lesson.programme_id).in_(programme_ids))
    live_check = (col(KnowledgeCheck.retired_at).is_(None), col(Module.retired_at).is_(None),
                  col(KnowledgeCheck.programme_id).in_(programme_ids))
    for pid, n in session.exec(select(Lesson.programme_id, func.count(col(Lesson.id)))
                               .join(Module, col(Module.id) == col(Lesson.module_id))
                               .where(*live_lesson).group_by(col(Lesson.programme_id))):
        totals[pid][0] = n
    for pid, n in session.exec(select(KnowledgeCheck.programme_id, func.count(col(KnowledgeCheck.id)))
                               .join(Module, col(Module.id) == col(KnowledgeCheck.module_id))
                               .where(*live_check).group_by(col(KnowledgeCheck.programme_id))):
        totals[pid][1] = n
    if user_ids:
        for uid, pid, n in session.exec(
                select(LessonCompletion.user_id, Lesson.programme_id, func.count(col(LessonCompletion.id)))
                .join(Lesson, col(Lesson.id) == col(LessonCompletion.lesson_id))
                .join(Module, col(Module.id) == col(Lesson.module_id))
                .where(*live_lesson, col(LessonCompletion.user_id).in_(user_ids))
                .group_by(col(LessonCompletion.user_id), col(Lesson.programme_id))):
            done[(uid, pid)][0] = n
        for uid, pid, n in session.exec(
                select(KnowledgeCheckAttempt.user_id, KnowledgeCheck.programme_id,
                       func.count(func.distinct(KnowledgeCheckAttempt.check_id)))
                .join(KnowledgeCheck, col(KnowledgeCheck.id) == col(KnowledgeCheckAttempt.check_id))
                .join(Module, col(Module.id) == col(KnowledgeCheck.module_id))
                .where(*live_check, col(KnowledgeCheckAttempt.passed).is_(True),
                       col(KnowledgeCheckAttempt.user_id).in_(user_ids))
                .group_by(col(KnowledgeCheckAttempt.user_id), col(KnowledgeCheck.programme_id))):
            done[(uid, pid)][1] = n
    return ({k: (v[0], v[1]) for k, v in totals.items()}, {k: (v[0], v[1]) for k, v in done.items()})
