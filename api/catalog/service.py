"""The catalogue as learners and employers see it: ladders, programme pages, outlines, offers.

A fixed number of queries per call, whatever the size of the catalogue.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlmodel import Session, col, select

from api.catalog import ladder, schedules
from api.catalog.models import Family, KnowledgeCheck, Lesson, Module, Offer, Programme
from api.catalog.schemas import (
    ModuleOutline,
    OfferPublic,
    OutlineItem,
    ProgrammeDetail,
    ProgrammeRef,
    ProgrammeSummary,
)
from api.core.errors import NotFound
from api.core.money import format_money, split_instalments

FAMILY_NAMES = {
    Family.ACX: "Customer Experience (ACX)",
    Family.CPP: "Process Management (CPP)",
    Family.OI: "Outside-In (OI)",
}
FORMAT_NAMES = {"on_demand": "On demand", "live_cohort": "Live online cohort", "coached": "Coached practice"}


def offer_public(o: Offer) -> OfferPublic:
    return OfferPublic(
        slug=o.slug, title=o.title, kind=o.kind, amount=o.amount, currency=o.currency,
        price=format_money(o.amount, o.currency), instalments=o.instalments, interval=o.interval,
        instalment_amounts=split_instalments(o.amount, o.instalments) if o.instalments else None,
        access_days=o.access_days,
    )


def _ref(p: Programme) -> ProgrammeRef:
    return ProgrammeRef(slug=p.slug, code=p.code, title=p.display_title)


def get_by_slug(session: Session, slug: str) -> Programme:
    p = session.exec(select(Programme).where(Programme.slug == slug, col(Programme.retired_at).is_(None))).first()
    if p is None:
        raise NotFound("There is no programme at this address.", code="programme_not_found")
    return p


def _summaries(session: Session, programmes: list[Programme]) -> list[ProgrammeSummary]:
    ids = [p.id for p in programmes]
    offers: dict[int, list[Offer]] = defaultdict(list)
    prereqs: dict[int, list[ProgrammeRef]] = defaultdict(list)
    if ids:
        for o in session.exec(select(Offer).where(col(Offer.programme_id).in_(ids), col(Offer.retired_at).is_(None))
                              .order_by(col(Offer.position))):
            offers[o.programme_id].append(o)
    ladders_ = ladder.load(session)  # every programme's place and prerequisites (two queries)
    for pid in ids:
        prereqs[pid] = [_ref(ladders_.programmes[r]) for r in ladders_.requires.get(pid, [])]
    starts = schedules.next_starts(session, programmes)  # one query when any programme runs on dates
    return [
        ProgrammeSummary(
            slug=p.slug, code=p.code, title=p.title, short_title=p.short_title, family=p.family, level=p.level,
            summary=p.summary, format=p.format, duration=p.duration, validity_months=p.validity_months,
            prerequisites=prereqs[p.id], offers=[offer_public(o) for o in offers[p.id]],
            is_free=not offers[p.id], place=ladders_.place(p), leads_to=[_ref(x) for x in ladders_.leads_to(p.id)],
            next_cohort=starts.get(p.id),
        )
        for p in programmes
    ]


def list_programmes(session: Session) -> list[ProgrammeSummary]:
    programmes = session.exec(select(Programme).where(col(Programme.retired_at).is_(None))
                              .order_by(col(Programme.family), col(Programme.level), col(Programme.code))).all()
    return _summaries(session, list(programmes))


@dataclass
class Ladder:
    family: str
    name: str
    rungs: list[tuple[int, list[ProgrammeSummary]]] = field(default_factory=list)


def ladders(session: Session) -> list[Ladder]:
    by_family: dict[str, dict[int, list[ProgrammeSummary]]] = defaultdict(lambda: defaultdict(list))
    for s in list_programmes(session):
        by_family[s.family][s.level].append(s)
    return [
        Ladder(family=f.value, name=FAMILY_NAMES[f], rungs=sorted(by_family[f.value].items()))
        for f in Family if f.value in by_family
    ]


def outline(session: Session, programme: Programme) -> list[ModuleOutline]:
    modules = session.exec(select(Module).where(Module.programme_id == programme.id,
                                                col(Module.retired_at).is_(None)).order_by(col(Module.position))).all()
    items: dict[int, list[tuple[int, OutlineItem]]] = defaultdict(list)
    for les in session.exec(select(Lesson).where(Lesson.programme_id == programme.id,
                                                 col(Lesson.retired_at).is_(None))):
        items[les.module_id].append((les.position, OutlineItem(slug=les.slug, title=les.title, kind="lesson",
                                                               minutes=les.minutes)))
    for chk in session.exec(select(KnowledgeCheck).where(KnowledgeCheck.programme_id == programme.id,
                                                         col(KnowledgeCheck.retired_at).is_(None))):
        items[chk.module_id].append((chk.position, OutlineItem(slug=chk.slug, title=chk.title,
                                                               kind="knowledge_check")))
    return [
        ModuleOutline(slug=m.slug, title=m.title, summary=m.summary,
                      items=[i for _, i in sorted(items[m.id], key=lambda t: t[0])])
        for m in modules
    ]


def detail(session: Session, slug: str) -> ProgrammeDetail:
    p = get_by_slug(session, slug)
    summary = _summaries(session, [p])[0]
    return ProgrammeDetail(
        **summary.model_dump(), description=p.description, outcomes=p.outcomes, schedule=p.schedule,
        renewal=p.renewal, completion=p.completion,
        modules=outline(session, p),
    )


def duration_text(duration: dict) -> str:
    if duration.get("text"):
        return duration["text"]
    parts = []
    if duration.get("days"):
        parts.append(f"{duration['days']} days")
    if duration.get("hours_per_day"):
        parts.append(f"{duration['hours_per_day']} hours per day")
    if duration.get("weeks"):
        parts.append(f"{duration['weeks']} weeks")
    if duration.get("hours_per_week"):
        parts.append(f"{duration['hours_per_week']} hours per week")
    if duration.get("lessons"):
        parts.append(f"{duration['lessons']} lessons")
    return ", ".join(parts)
