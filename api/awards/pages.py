"""Award cycle pages: the public cycle page (milestones), nominating, my nominations, and the nominee's
page (accept, consent, entry, files). Thin: call the services, render web/templates/awards/."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request, UploadFile

from api.accounts.deps import CurrentUser, optional_user
from api.awards import files, nominations, service, states
from api.awards.models import CycleState, MilestoneKind
from api.core import pagecache
from api.core.db import SessionDep
from api.core.errors import CadreError, FieldProblems
from api.core.middleware import UploadBody
from api.core.security import csrf_protect
from api.core.templates import ordered, redirect, render

router = APIRouter(dependencies=[Depends(csrf_protect), Depends(optional_user)], include_in_schema=False)


NOMINATION_FIELDS = ("name", "email", "role", "organisation", "statement", "endorsers")


def _errors(exc: CadreError) -> dict[str, str]:
    if isinstance(exc, FieldProblems):  # each field's message beside it, in the form's order
        return ordered(exc.fields, NOMINATION_FIELDS)
    return {getattr(exc, "field", None) or "form": exc.message}


@router.get("/awards")
def cycles_page(request: Request, session: SessionDep):
    return render(request, "awards/index.html", cycles=service.cycles(session), words=states.WORDS)


@router.get("/awards/nominations")
def my_nominations(request: Request, session: SessionDep, user: CurrentUser, before: int | None = None):
    rows = nominations.my_nominations(session, user, before_id=before, limit=25)
    older = rows[-1][0].id if len(rows) == 25 else None
    return render(request, "awards/mine.html", rows=rows, older=older, words=states.WORDS)


@router.get("/awards/{slug}")
def cycle_page(request: Request, slug: str, session: SessionDep):
    cycle = service.cycle_by_slug(session, slug)
    is_open = nominations.nominations_open(session, cycle)
    if cycle.state == CycleState.nominations_open:
        pagecache.not_cacheable(request)  # "open" turns to "closed" at a moment, not at a change
    return render(request, "awards/cycle.html", cycle=cycle, milestones=service.milestones(session, cycle),
                  labels=service.MILESTONE_WORDS, words=states.WORDS, is_open=is_open,
                  rule=cycle.eligibility.get("requires_current_accreditation") or [])


def _nominate_form(request, session, cycle, status=200, errors=None, form=None):
    return render(request, "awards/nominate.html", status, cycle=cycle, errors=errors or {}, form=form or {},
                  is_open=nominations.nominations_open(session, cycle))


@router.get("/awards/{slug}/nominate")
def nominate_form(request: Request, slug: str, session: SessionDep, user: CurrentUser):
    return _nominate_form(request, session, service.cycle_by_slug(session, slug))


@router.post("/awards/{slug}/nominate")
def nominate(request: Request, slug: str, session: SessionDep, user: CurrentUser, name: str = Form(""),
             email: str = Form(""), role: str = Form(""), organisation: str = Form(""), statement: str = Form(""),
             endorsers: str = Form(""), reveal: str = Form("")):
    cycle = service.cycle_by_slug(session, slug)
    form = dict(name=name, email=email, role=role, organisation=organisation, statement=statement,
                endorsers=endorsers, reveal=reveal)
    try:
        nominee, _, created = nominations.nominate(session, cycle, user, nominations.NominationIn(
            name=name, email=email, role=role, organisation=organisation, statement=statement,
            endorsers=[e for e in endorsers.replace(",", "\n").splitlines() if e.strip()],
            reveal_to_nominee=reveal == "yes"))
    except CadreError as exc:
        return _nominate_form(request, session, cycle, exc.status_code, _errors(exc), form)
    told = ("We have emailed them an invitation to accept and enter." if created else
            "They had already been nominated: your nomination is added to theirs.")
    return redirect("/awards/nominations", f"Thank you: {nominee.name} is nominated for {cycle.title}. {told}")


# --- the nominee --------------------------------------------------------------------------------

def _nominee_page(request, session, nominee, user, status=200, errors=None, form=None):
    cycle = service.get_cycle(session, nominee.cycle_id)
    entry = nominations.entry_of(session, nominee)
    names, hidden = nominations.revealed_nominators(session, nominee)
    due = service.milestone_at(session, cycle, MilestoneKind.entries_due)
    return render(request, "awards/nominee.html", status, cycle=cycle, nominee=nominee, entry=entry,
                  files=files.files_of(session, entry) if entry else [], names=names, hidden=hidden, due=due,
                  errors=errors or {}, form=form, words=states.WORDS,
                  rule=cycle.eligibility.get("requires_current_accreditation") or [], kinds=files.KINDS,
                  max_files=files.MAX_FILES)


def _nominee_for(session, public_id: str, user):
    nominee = nominations.nominee_by_public_id(session, public_id)
    nominations.check_is_nominee(nominee, user)
    return nominee


@router.get("/awards/nominee/{public_id}")
def nominee_page(request: Request, public_id: str, session: SessionDep, user: CurrentUser):
    return _nominee_page(request, session, _nominee_for(session, public_id, user), user)


@router.post("/awards/nominee/{public_id}/respond")
def respond(request: Request, public_id: str, session: SessionDep, user: CurrentUser, answer: str = Form(""),
            consent_judging: str = Form(""), consent_public: str = Form("")):
    nominee = _nominee_for(session, public_id, user)
    try:
        nominations.respond(session, nominee, user, accept=answer == "accept", consent_judging=consent_judging == "yes",
                            consent_public=consent_public == "yes")
    except CadreError as exc:
        return _nominee_page(request, session, nominee, user, exc.status_code, _errors(exc))
    if answer != "accept":
        return redirect(f"/awards/nominee/{public_id}", "You have declined the nomination. Thank you for telling us.")
    return redirect(f"/awards/nominee/{public_id}#entry", "Thank you for accepting. Now complete your entry.")


@router.post("/awards/nominee/{public_id}/consent")
def public_consent(request: Request, public_id: str, session: SessionDep, user: CurrentUser,
                   consent_public: str = Form("")):
    nominee = _nominee_for(session, public_id, user)
    listed = consent_public == "yes"
    nominations.set_public_consent(session, nominee, user, listed)
    return redirect(f"/awards/nominee/{public_id}", "You may be listed publicly if you win or are highly commended."
                    if listed else "You will not be listed publicly; if you are already, the listing now says you "
                                   "asked not to be listed.")


@router.post("/awards/nominee/{public_id}/entry")
def save_entry(request: Request, public_id: str, session: SessionDep, user: CurrentUser, action: str = Form("save"),
               personal: str = Form(""), professional: str = Form(""), business: str = Form(""),
               referee_name: list[str] = Form([]), referee_email: list[str] = Form([]),
               referee_relationship: list[str] = Form([])):
    nominee = _nominee_for(session, public_id, user)
    referees = [{"name": n, "email": e, "relationship": r}
                for n, e, r in zip(referee_name, referee_email, referee_relationship, strict=False)]
    data = nominations.EntryIn(personal=personal, professional=professional, business=business, referees=referees)
    try:
        nominations.save_entry(session, nominee, user, data, submit=action == "submit")
    except CadreError as exc:
        return _nominee_page(request, session, nominee, user, exc.status_code, _errors(exc), form=data)
    if action == "submit":
        return redirect(f"/awards/nominee/{public_id}", "Your entry is submitted. We have emailed you a receipt.")
    return redirect(f"/awards/nominee/{public_id}#entry", "Your entry is saved as a draft.")


@router.post("/awards/nominee/{public_id}/files", dependencies=[UploadBody])
async def upload_file(request: Request, public_id: str, session: SessionDep, user: CurrentUser,
                      file: UploadFile | None = None):
    nominee = _nominee_for(session, public_id, user)
    data = await file.read() if file is not None else b""
    try:
        row = files.upload(session, nominee, user, file.filename if file else "", data)
    except CadreError as exc:
        return redirect(f"/awards/nominee/{public_id}#files", f"File not added: {exc.message}", "error")
    return redirect(f"/awards/nominee/{public_id}#files", f"“{row.name}” is added to your entry.")


@router.post("/awards/nominee/{public_id}/photo", dependencies=[UploadBody])
async def upload_photo(request: Request, public_id: str, session: SessionDep, user: CurrentUser,
                       file: UploadFile | None = None):
    nominee = _nominee_for(session, public_id, user)
    data = await file.read() if file is not None else b""
    try:
        files.set_photo(session, nominee, user, file.filename if file else "", data)
    except CadreError as exc:
        return redirect(f"/awards/nominee/{public_id}#photo", f"Photo not saved: {exc.message}", "error")
    return redirect(f"/awards/nominee/{public_id}#photo", "Your photo is saved.")


@router.post("/awards/nominee/{public_id}/files/{file_id}/remove")
def remove_file(request: Request, public_id: str, file_id: str, session: SessionDep, user: CurrentUser):
    nominee = _nominee_for(session, public_id, user)
    try:
        files.remove(session, nominee, user, file_id)
    except CadreError as exc:
        return redirect(f"/awards/nominee/{public_id}#files", exc.message, "error")
    return redirect(f"/awards/nominee/{public_id}#files", "The file is removed.")


@router.get("/awards/nominee/{public_id}/files/{file_id}")
def download_file(public_id: str, file_id: str, session: SessionDep, user: CurrentUser):
    from api.core.errors import NotFound

    nominee = _nominee_for(session, public_id, user)
    entry = nominations.entry_of(session, nominee)
    row = files.file_of(session, entry, file_id) if entry else None
    if row is None:
        raise NotFound("There is no such file in your entry.")
    return files.stream(row)
