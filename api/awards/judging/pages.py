"""Judges' pages: the queue (/judging), accepting a cycle with its conflict declarations, the step
before opening each entry (no conflict, or a conflict and step aside), the scoring screen (weighted
criteria; blind in the sift: no name, employer or photo), the interview panel scorecard and the
interview's calendar file. Who may see what: api/awards/judging/deps.py."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from api.accounts.deps import CurrentUser, optional_user
from api.awards import service as awards_service
from api.awards.judging import conflicts, interviews, report, scoring, service
from api.awards.judging.deps import EntryAccess, JudgeAccess, entry_access, judge_access
from api.awards.judging.models import RoundKind
from api.core.db import SessionDep, utcnow
from api.core.errors import CadreError, Conflict, NotFound
from api.core.security import csrf_protect
from api.core.templates import redirect, render

router = APIRouter(dependencies=[Depends(csrf_protect), Depends(optional_user)], include_in_schema=False)

JudgeDep = Annotated[JudgeAccess, Depends(judge_access)]
EntryDep = Annotated[EntryAccess, Depends(entry_access)]


@router.get("/judging")
def queue(request: Request, session: SessionDep, user: CurrentUser):
    return render(request, "awards/judging/queue.html", ships=report.queue(session, user),
                  words=service.ROUND_WORDS)


def _entries(session, cycle):
    return [(e, awards_service.entry_contact(session, e)) for e in conflicts._entries(session, cycle)]


@router.get("/judging/{cycle_slug}/accept")
def accept_page(request: Request, session: SessionDep, access: JudgeDep):
    return render(request, "awards/judging/accept.html", access=access, entries=_entries(session, access.cycle),
                  error=None, form={})


@router.post("/judging/{cycle_slug}/accept")
async def accept(request: Request, session: SessionDep, access: JudgeDep, organisation: str = Form("")):
    form = await request.form()
    try:
        service.accept(session, access.judge, organisation)
        declared = 0
        for entry, _ in _entries(session, access.cycle):
            if form.get(f"conflict_{entry.public_id}"):
                reason = str(form.get(f"reason_{entry.public_id}") or "")
                if conflicts.declare(session, access.judge, entry, reason, access.user):
                    declared += 1
        found = conflicts.check_cycle(session, access.cycle, access.user, judges=[access.judge])
    except CadreError as exc:
        return render(request, "awards/judging/accept.html", 422, access=access,
                      entries=_entries(session, access.cycle), error=exc.message,
                      form={"organisation": organisation})
    found_n = len({c.entry_id for c in found})
    note = f" You declared {declared} conflict{'s' if declared != 1 else ''}." if declared else ""
    if found_n:
        note += (f" Cadre found {found_n} more (for example, the same organisation): those entries will not be "
                 "shown to you.")
    return redirect("/judging", f"You have accepted {access.cycle.title}.{note}")


def _context(session, ea: EntryAccess, **extra):
    rnd, entry = ea.round, ea.entry
    contact = awards_service.entry_contact(session, entry)
    criteria = service.criteria_of(session, rnd)
    context = dict(ea=ea, rnd=rnd, entry=entry, contact=contact, blind=rnd.blind,
                   label=report.label_for(session, rnd, entry), criteria=criteria.criteria if criteria else [],
                   score=scoring.score_of(session, ea.assignment), words=service.ROUND_WORDS,
                   slot=interviews.slot_for(session, rnd, entry.id) if rnd.kind == RoundKind.interview else None,
                   values={}, error=None)
    if rnd.kind == RoundKind.interview:
        context["panel"] = [u.full_name for u in service.panel_of(session, rnd, entry.id)]
    context.update(extra)
    return context


@router.get("/judging/rounds/{round_id}/entries/{entry_id}")
def entry_page(request: Request, session: SessionDep, ea: EntryDep):
    if ea.assignment.confirmed_at is None:
        return render(request, "awards/judging/before_opening.html", **_context(session, ea))
    return render(request, "awards/judging/entry.html", **_context(session, ea))


@router.post("/judging/rounds/{round_id}/entries/{entry_id}/open")
def confirm(request: Request, session: SessionDep, ea: EntryDep, action: str = Form(""), reason: str = Form("")):
    """Before the entry opens: 'no conflict' (Cadre checks again, then opens it) or 'I have a conflict'."""
    if action == "conflict":
        conflicts.recuse(session, ea.judge, ea.entry, reason or "Declared before opening the entry")
        return redirect("/judging", "Thank you for declaring it. You will not see this entry; it has gone to another "
                                    "judge.")
    found = conflicts.check(session, ea.judge, ea.entry, ea.user)
    if found:
        return redirect("/judging", "Cadre found a conflict of interest with this entry "
                                    f"({conflicts.WORDS[found[0].kind]}), so it will not be shown to you; it has "
                                    "gone to another judge.", "warning")
    ea.assignment.confirmed_at = utcnow()
    session.add(ea.assignment)
    return redirect(f"/judging/rounds/{ea.round.public_id}/entries/{ea.entry.public_id}")


@router.post("/judging/rounds/{round_id}/entries/{entry_id}/score")
async def score(request: Request, session: SessionDep, ea: EntryDep, comment: str = Form("")):
    if ea.assignment.confirmed_at is None:
        raise Conflict("Confirm you have no conflict of interest before scoring this entry.", code="not_confirmed")
    form = await request.form()
    values = {k[2:]: str(v) for k, v in form.items() if k.startswith("c_")}
    try:
        scoring.submit(session, ea.assignment, values, comment)
    except NotFound:
        raise
    except CadreError as exc:
        return render(request, "awards/judging/entry.html", 409 if exc.status_code == 409 else 422,
                      **_context(session, ea, values=values, error=exc.message, comment=comment))
    return redirect("/judging", f"Your {'vote' if ea.round.kind == RoundKind.sift else 'score'} for "
                                f"{report.label_for(session, ea.round, ea.entry)} is saved. You can change it "
                                "until the round closes.")


@router.get("/judging/rounds/{round_id}/entries/{entry_id}/interview.ics")
def interview_ics(session: SessionDep, ea: EntryDep):
    slot = interviews.slot_for(session, ea.round, ea.entry.id)
    if slot is None:
        raise NotFound("This interview has not been scheduled yet.", code="slot_not_found")
    body = interviews.ics(slot, report.label_for(session, ea.round, ea.entry))
    return Response(body, media_type="text/calendar; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="award-interview.ics"',
                             "Cache-Control": "private, no-store"})
