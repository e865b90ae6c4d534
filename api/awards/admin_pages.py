"""The award administrator's pages: create and edit cycles and their milestones, move a cycle on, see
its nominations and entries, announce it; enter past winners of the hall of fame. Admins only."""

from __future__ import annotations

from datetime import date, time

from fastapi import APIRouter, Depends, Form, Request, UploadFile

from api.accounts.deps import AdminUser
from api.awards import announce, files, nominations, service, states
from api.awards.models import CycleState, MilestoneKind
from api.core.db import SessionDep
from api.core.errors import CadreError, Invalid, NotFound
from api.core.middleware import UploadBody
from api.core.security import csrf_protect
from api.core.templates import redirect, render
from api.core.timezones import all_zones
from api.halloffame import service as halloffame

router = APIRouter(dependencies=[Depends(csrf_protect)], include_in_schema=False)
AWARD = "change-architect-of-the-year"


def _codes(text: str) -> list[str]:
    return [c for c in text.replace(",", " ").split() if c]


@router.get("/admin/awards")
def cycles(request: Request, admin: AdminUser, session: SessionDep):
    return render(request, "awards/admin_list.html", cycles=service.cycles(session, public=False), words=states.WORDS,
                  errors={}, form={})


@router.post("/admin/awards")
def create_cycle(request: Request, admin: AdminUser, session: SessionDep, year: str = Form(""),
                 title: str = Form(""), self_nomination: str = Form(""), accreditations: str = Form("")):
    try:
        if not year.strip().isdigit():
            raise Invalid("Give the cycle's year as four digits, e.g. 2027.", code="bad_year")
        cycle = service.create_cycle(session, service.award_by_slug(session, AWARD), int(year), admin,
                                     title=title.strip() or None, self_nomination_allowed=self_nomination == "yes",
                                     requires_current_accreditation=_codes(accreditations))
    except CadreError as exc:
        return render(request, "awards/admin_list.html", exc.status_code, cycles=service.cycles(session, public=False),
                      words=states.WORDS, errors={"year" if exc.code in ("bad_year", "cycle_exists") else
                                                  "accreditations": exc.message},
                      form=dict(year=year, title=title, self_nomination=self_nomination, accreditations=accreditations))
    return redirect(f"/admin/awards/{cycle.slug}", f"{cycle.title} is created as a draft. Set its milestones next.")


def _cycle_page(request, session, cycle, status=200, errors=None, after=None):
    noms = nominations.nominations_of(session, cycle, after_id=after, limit=50)
    entries = {e.nominee_id: e for e in service.entries_for_nominees(session, [n.id for n in noms])}
    outcomes = service.outcomes(session, cycle)
    return render(request, "awards/admin_cycle.html", status, cycle=cycle,
                  milestones={m.kind: m for m in service.milestones(session, cycle)}, kinds=list(MilestoneKind),
                  labels=service.MILESTONE_WORDS, words=states.WORDS, next_state=states.next_state(cycle.state),
                  nominees=noms, entries=entries, more=noms[-1].id if len(noms) == 50 else None,
                  outcomes=outcomes, entry_names=service.entry_names(session, [o.entry_id for o in outcomes]),
                  lifted=announce.embargo_lifted(cycle), zones=all_zones(), errors=errors or {},
                  rule=" ".join(cycle.eligibility.get("requires_current_accreditation") or []))


@router.get("/admin/awards/{slug}")
def cycle_detail(request: Request, slug: str, admin: AdminUser, session: SessionDep, after: int | None = None):
    return _cycle_page(request, session, service.cycle_by_slug(session, slug, public=False), after=after)


@router.post("/admin/awards/{slug}")
def cycle_action(request: Request, slug: str, admin: AdminUser, session: SessionDep, action: str = Form(""),
                 version: str = Form(""), title: str = Form(""), description: str = Form(""),
                 self_nomination: str = Form(""), accreditations: str = Form(""), kind: str = Form(""),
                 local_date: str = Form(""), local_time: str = Form(""), time_zone: str = Form("")):
    cycle = service.cycle_by_slug(session, slug, public=False)
    try:
        if action == "settings":
            service.update_cycle(session, cycle, admin, title=title, description=description,
                                 self_nomination_allowed=self_nomination == "yes",
                                 requires_current_accreditation=_codes(accreditations))
            done = "Settings saved."
        elif action == "milestone":
            try:
                day, at = date.fromisoformat(local_date), time.fromisoformat(local_time)
            except ValueError:
                raise Invalid("Give the date and the time of the milestone.", code="bad_date") from None
            service.set_milestone(session, cycle, kind, day, at, time_zone, admin)
            done = f"{service.MILESTONE_WORDS.get(kind, kind)}: saved."
        elif action == "advance":
            # The version the admin saw: a cycle someone moved meanwhile is not moved twice.
            service.advance(session, cycle, admin, int(version) if version.isdigit() else None)
            done = f"{cycle.title} is now {states.WORDS[CycleState(cycle.state)]}."
        elif action == "announce":
            winners = announce.announce(session, cycle, admin)
            done = (f"{cycle.title} is announced: {len(winners)} entr{'y' if len(winners) == 1 else 'ies'} "
                    "in the hall of fame.")
        else:
            raise Invalid("Choose what to do.", code="bad_action")
    except CadreError as exc:
        session.refresh(cycle)
        return _cycle_page(request, session, cycle, exc.status_code,
                           {(kind if action == "milestone" else action) or "form": exc.message})
    return redirect(f"/admin/awards/{cycle.slug}", done)


@router.get("/admin/awards/{slug}/entries/{public_id}")
def entry_detail(request: Request, slug: str, public_id: str, admin: AdminUser, session: SessionDep):
    cycle = service.cycle_by_slug(session, slug, public=False)
    entry = service.entry_by_public_id(session, cycle, public_id)
    nominee = service.nominee_of(session, entry)
    return render(request, "awards/admin_entry.html", cycle=cycle, entry=entry, nominee=nominee,
                  files=files.files_of(session, entry), nominations=service.nominations_for(session, nominee))


@router.get("/admin/awards/{slug}/entries/{public_id}/files/{file_id}")
def entry_file(slug: str, public_id: str, file_id: str, admin: AdminUser, session: SessionDep):
    cycle = service.cycle_by_slug(session, slug, public=False)
    entry = service.entry_by_public_id(session, cycle, public_id)
    row = files.file_of(session, entry, file_id)
    if row is None:
        raise NotFound("There is no such file in this entry.")
    return files.stream(row)


# --- the hall of fame's past winners ------------------------------------------------------------

def _hall(request, session, status=200, errors=None, form=None):
    return render(request, "awards/admin_halloffame.html", status, rows=halloffame.awards_with_winners(session),
                  errors=errors or {}, form=form or {})


@router.get("/admin/hall-of-fame")
def hall(request: Request, admin: AdminUser, session: SessionDep):
    return _hall(request, session)


@router.post("/admin/hall-of-fame")
def add_winner(request: Request, admin: AdminUser, session: SessionDep, year: str = Form(""), name: str = Form(""),
               role: str = Form(""), organisation: str = Form(""), country: str = Form(""),
               citation: str = Form(""), kind: str = Form("winner")):
    form = dict(year=year, name=name, role=role, organisation=organisation, country=country, citation=citation,
                kind=kind)
    try:
        if not year.strip().isdigit():
            raise Invalid("Give the year as four digits.", code="bad_year")
        w = halloffame.add_past_winner(session, service.award_by_slug(session, AWARD), year_=int(year), name=name,
                                       role=role, organisation=organisation, country=country, citation=citation,
                                       kind=kind)
    except CadreError as exc:
        field = {"bad_year": "year", "winner_exists": "name", "missing": "name" if not name.strip() else "citation"}
        return _hall(request, session, exc.status_code, {field.get(exc.code, "form"): exc.message}, form)
    return redirect("/admin/hall-of-fame", f"{w.name} ({w.year}) is in the hall of fame.")


@router.post("/admin/hall-of-fame/{winner_id}/listing")
def winner_listing(request: Request, winner_id: int, admin: AdminUser, session: SessionDep,
                   listed: str = Form("")):
    w = halloffame.winner_by_id(session, winner_id)
    if w.source == "cycle":
        return redirect("/admin/hall-of-fame", f"{w.name} controls their own listing through their consent.", "error")
    halloffame.set_listing(session, w, listed == "yes")
    return redirect("/admin/hall-of-fame", f"{w.name} is {'listed' if listed == 'yes' else 'no longer listed'}.")


@router.post("/admin/hall-of-fame/{winner_id}/photo", dependencies=[UploadBody])
async def winner_photo(request: Request, winner_id: int, admin: AdminUser, session: SessionDep,
                       file: UploadFile | None = None):
    w = halloffame.winner_by_id(session, winner_id)
    data = await file.read() if file is not None else b""
    try:
        halloffame.set_photo(session, w, file.filename if file else "", data)
    except CadreError as exc:
        return redirect("/admin/hall-of-fame", f"Photo not saved: {exc.message}", "error")
    return redirect("/admin/hall-of-fame", f"The photo of {w.name} is saved.")
