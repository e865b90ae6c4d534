"""The award administrator's judging pages (the admin role): every cycle, a cycle's dashboard
(judges, rounds, progress per round and per judge, quorum gaps, conflicts), a round's page (options,
criteria, open and close, who judges what, frozen results with amendments, interview slots, the
deliberation and its sign-off), and the cycle's fairness report with its CSV."""

from __future__ import annotations

import csv
import io
from datetime import date, time

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import StreamingResponse

from api.accounts.deps import AdminUser, optional_user
from api.awards import service as awards_service
from api.awards import states
from api.awards.judging import conflicts, deliberation, interviews, report, scoring, service
from api.awards.judging.models import RoundKind
from api.awards.models import AwardCycle
from api.core.db import SessionDep
from api.core.errors import CadreError, Invalid, NotFound
from api.core.security import csrf_protect
from api.core.templates import redirect, render
from api.core.timezones import all_zones

router = APIRouter(dependencies=[Depends(csrf_protect), Depends(optional_user)], include_in_schema=False)


def _cycle(session, slug: str) -> AwardCycle:
    try:
        return awards_service.cycle_by_slug(session, slug, public=False)
    except NotFound:
        raise NotFound("There is no award cycle at this address.", code="cycle_not_found") from None


@router.get("/admin/awards/judging")
def cycles(request: Request, session: SessionDep, admin: AdminUser):
    return render(request, "awards/judging/admin_cycles.html", cycles=awards_service.cycles(session, public=False),
                  words=states.WORDS)


@router.get("/admin/awards/judging/{slug}")
def dashboard(request: Request, slug: str, session: SessionDep, admin: AdminUser, after: int | None = None):
    cycle = _cycle(session, slug)
    rows, next_after = report.conflict_rows(session, cycle, after_id=after)
    return render(request, "awards/judging/admin_dashboard.html", cycle=cycle, data=report.dashboard(session, cycle),
                  conflicts=rows, next_after=next_after, words=service.ROUND_WORDS, states=states.WORDS,
                  entries=report.names(session, cycle)[1])


@router.post("/admin/awards/judging/{slug}")
def dashboard_act(request: Request, slug: str, session: SessionDep, admin: AdminUser, action: str = Form(""),
                  email: str = Form(""), judge: str = Form(""), entry: str = Form(""), detail: str = Form("")):
    cycle = _cycle(session, slug)
    back = f"/admin/awards/judging/{slug}"
    try:
        if action == "rounds":
            service.ensure_rounds(session, cycle, admin)
            done = "The four rounds are ready: sift, scored shortlist, interviews, final deliberation."
        elif action == "appoint":
            user = service.user_by_email(session, email)
            service.appoint(session, cycle, user, admin)
            done = f"{user.full_name} is appointed; they have been emailed to accept and declare conflicts."
        elif action == "record_conflict":
            row = next((j for j, _ in service.judges_of(session, cycle) if str(j.id) == judge), None)
            if row is None:
                raise Invalid("Choose one of this cycle's judges.", code="bad_judge")
            target = awards_service.get_entry(session, _int(entry, "The entry"), cycle)
            if not detail.strip():
                raise Invalid("Say what the conflict is: it is kept with the results.", code="no_detail")
            made = conflicts.declare(session, row, target, f"Recorded by {admin.full_name}: {detail.strip()}", admin)
            done = ("Conflict recorded: the judge is off that entry; any score of theirs no longer counts (a closed "
                    "round is amended)." if made else "That conflict was already recorded.")
        elif action == "check_conflicts":
            found = conflicts.check_cycle(session, cycle, admin)
            done = (f"{len(found)} new conflict{'s' if len(found) != 1 else ''} found and applied."
                    if found else "No new conflicts found.")
        else:
            raise Invalid("Choose an action.", code="bad_action")
    except CadreError as exc:
        return redirect(back, f"Not done: {exc.message}", "error")
    return redirect(back, done)


def _round_context(session, rnd, after: int | None = None):
    cycle = awards_service.get_cycle(session, rnd.cycle_id)
    judge_names, entry_names = report.names(session, cycle)
    result = scoring.frozen(session, rnd)
    table, next_after = report.round_table(session, rnd, after=after)
    context = dict(rnd=rnd, cycle=cycle, words=service.ROUND_WORDS, table=table, next_after=next_after,
                   criteria=service.criteria_of(session, rnd), result=result,
                   amendments=scoring.amendments(session, result) if result else [],
                   current=scoring.current_snapshot(session, rnd), judge_names=judge_names, entry_names=entry_names,
                   gaps=service.quorum_gaps(session, rnd) if rnd.status == "open" and rnd.kind != "deliberation"
                   else {}, zones=all_zones(), scores_exist=service.scores_exist(session, rnd))
    if rnd.kind == RoundKind.deliberation:
        record = deliberation.record_of(session, rnd) if rnd.status != "draft" else None
        context.update(record=record, judges=service.judges_of(session, cycle), kinds=deliberation.KINDS,
                       attendees=deliberation.attendee_names(session, record) if record else [],
                       decided={d["entry_id"]: d for d in (record.decisions if record else [])},
                       decision_ids=service.entry_ids_in(session, rnd) if rnd.status != "draft" else [])
    return context


@router.get("/admin/awards/judging/rounds/{round_id}")
def round_page(request: Request, round_id: str, session: SessionDep, admin: AdminUser, after: int | None = None):
    rnd = service.get_round(session, round_id)
    return render(request, "awards/judging/admin_round.html", **_round_context(session, rnd, after))


def _int(text: str, what: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise Invalid(f"{what} is a whole number.", code="bad_number") from None


@router.post("/admin/awards/judging/rounds/{round_id}")
async def round_act(request: Request, round_id: str, session: SessionDep, admin: AdminUser, action: str = Form("")):
    rnd = service.get_round(session, round_id)
    form = await request.form()
    back = f"/admin/awards/judging/rounds/{round_id}"
    f = {k: str(v) for k, v in form.items()}
    try:
        if action == "options":
            advance = f.get("advance", "").strip()
            service.set_options(session, rnd, quorum=_int(f.get("quorum", ""), "The quorum"),
                                blind=bool(f.get("blind")), normalise=bool(f.get("normalise")),
                                advance=_int(advance, "How many go on") if advance else None)
            done = "Options saved."
        elif action == "criteria":
            version = service.set_criteria(session, rnd, service.parse_criteria(f.get("criteria", "")), admin)
            done = f"Criteria version {version.version} saved."
        elif action == "open":
            service.open_round(session, rnd, admin)
            done = f"The {service.ROUND_WORDS[RoundKind(rnd.kind)].lower()} is open and the judges assigned."
        elif action == "assign":
            n = service.assign_all(session, rnd)
            done = f"{n} new assignment{'s' if n != 1 else ''} made."
        elif action == "close":
            service.close_round(session, rnd, admin)
            done = "The round is closed and its results frozen."
        elif action == "schedule":
            entry = awards_service.get_entry(session, _int(f.get("entry", ""), "The entry"))
            try:
                day, at = date.fromisoformat(f.get("local_date", "")), time.fromisoformat(f.get("local_start", ""))
            except ValueError:
                raise Invalid("Give the date as YYYY-MM-DD and the time as HH:MM.", code="bad_time") from None
            slot = interviews.schedule(session, rnd, entry.id, day=day, at=at,
                                       minutes=_int(f.get("minutes", "45") or "45", "Minutes"),
                                       zone_name=f.get("time_zone", "").strip(),
                                       meeting_url=f.get("meeting_url", "").strip() or None)
            done = f"Interview scheduled (version {slot.sequence + 1})."
        elif action in ("deliberation", "sign_off"):
            if action == "deliberation" or f.get("attendee"):
                _save_deliberation(session, rnd, form)
            if action == "sign_off":
                deliberation.sign_off(session, rnd, admin)
                done = "Signed off: the deliberation is locked and the outcomes recorded, under embargo until the " \
                       "announcement."
            else:
                done = "Deliberation record saved."
        else:
            raise Invalid("Choose an action.", code="bad_action")
    except CadreError as exc:
        return redirect(back, f"Not done: {exc.message}", "error")
    return redirect(back, done)


def _save_deliberation(session, rnd, form) -> None:
    attendees = [_int(str(v), "An attendee") for v in form.getlist("attendee")]
    decisions = []
    for entry_id in service.entry_ids_in(session, rnd):
        kind = str(form.get(f"kind_{entry_id}") or "")
        decisions.append({"entry_id": entry_id, "kind": kind, "citation": str(form.get(f"citation_{entry_id}") or "")})
    deliberation.save(session, rnd, attendees=attendees, decisions=decisions, reasons=str(form.get("reasons") or ""))


@router.get("/admin/awards/judging/{slug}/fairness")
def fairness(request: Request, slug: str, session: SessionDep, admin: AdminUser):
    cycle = _cycle(session, slug)
    judge_names, entry_names = report.names(session, cycle)
    return render(request, "awards/judging/fairness.html", cycle=cycle, data=report.fairness(session, cycle),
                  judge_names=judge_names, entry_names=entry_names, words=service.ROUND_WORDS)


@router.get("/admin/awards/judging/{slug}/fairness.csv")
def fairness_csv(slug: str, session: SessionDep, admin: AdminUser):
    cycle = _cycle(session, slug)

    def lines():
        buf = io.StringIO()
        writer = csv.writer(buf)
        for row in report.csv_rows(session, cycle):
            writer.writerow(row)
            yield buf.getvalue()
            buf.seek(0)
            buf.truncate()

    return StreamingResponse(lines(), media_type="text/csv; charset=utf-8",
                             headers={"Content-Disposition": f'attachment; filename="fairness-{cycle.slug}.csv"'})
