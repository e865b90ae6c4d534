"""Administrators' cohort pages: every cohort (paged), create one from its programme's format, and one
cohort's page: sessions (reschedule, cancel, make-up), capacity, status, facilitators, seats (transfer),
the waitlist, and cancelling the cohort (everyone refunded or moved)."""

from __future__ import annotations

from datetime import date, time

from fastapi import APIRouter, Depends, Form, Request

from api.accounts.deps import AdminUser, optional_user
from api.cohorts import cancel, schedule, seats_admin, service, waitlist
from api.core.db import SessionDep
from api.core.errors import CadreError, FieldProblems, Invalid
from api.core.security import csrf_protect
from api.core.templates import ordered, redirect, render
from api.core.timezones import all_zones

router = APIRouter(dependencies=[Depends(csrf_protect), Depends(optional_user)], include_in_schema=False)


def _live_programmes(session):
    return service.live_programmes(session)


@router.get("/admin/cohorts")
def cohorts(request: Request, session: SessionDep, admin: AdminUser, programme: str | None = None,
            after: str | None = None, before: str | None = None, error: str | None = None):
    page = service.all_cohorts(session, programme_slug=programme or None, after=after, before=before)
    return render(request, "cohorts/admin_list.html", page=page, programmes=_live_programmes(session),
                  zones=all_zones(), chosen=programme or "", error=error, errors={}, form={})


def _date(text: str, what: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise Invalid(f"{what}: give a date as YYYY-MM-DD.", code="bad_date") from None


def _time(text: str | None) -> time | None:
    if not text:
        return None
    try:
        return time.fromisoformat(text)
    except ValueError:
        raise Invalid("Give a time as HH:MM.", code="bad_time") from None


COHORT_FIELDS = ("programme", "starts_on", "start_time", "time_zone", "capacity", "facilitator")
# Which field each refusal of a new cohort is about (times that do not exist or repeat: start_time).
COHORT_ERRORS = {"not_live": "programme", "bad_date": "starts_on", "session_in_past": "starts_on",
                 "bad_time": "start_time", "bad_time_zone": "time_zone", "bad_capacity": "capacity",
                 "no_such_user": "facilitator", "not_a_coach": "facilitator", "programme_not_found": "programme"}


def _refused(request: Request, session, errors: dict[str, str], form: dict):
    return render(request, "cohorts/admin_list.html", 422, page=service.all_cohorts(session),
                  programmes=_live_programmes(session), zones=all_zones(), chosen="", error=None,
                  errors=ordered(errors, COHORT_FIELDS), form=form)


@router.post("/admin/cohorts")
def create(request: Request, session: SessionDep, admin: AdminUser, programme: str = Form(""),
           starts_on: str = Form(""), time_zone: str = Form(""), capacity: str = Form(""),
           start_time: str = Form(""), facilitator: str = Form("")):
    form = dict(programme=programme, starts_on=starts_on, time_zone=time_zone, capacity=capacity,
                start_time=start_time, facilitator=facilitator)
    errors: dict[str, str] = {}
    if not starts_on.strip():
        errors["starts_on"] = "Enter the first day of the cohort."
    if not time_zone.strip():
        errors["time_zone"] = "Enter a time zone, such as Europe/London."
    if capacity.strip() and not capacity.strip().isdigit():
        errors["capacity"] = "Enter the capacity as a whole number, such as 12, or leave it empty."
    if errors:  # what can be seen without asking anything: each empty or malformed field at once
        return _refused(request, session, errors, form)
    try:
        ids = []
        if facilitator.strip():
            coach = service.coach_by_email(session, facilitator)
            ids.append(coach.id)
        cohort = service.create_cohort(session, programme_slug=programme, starts_on=_date(starts_on, "Start date"),
                                       time_zone=time_zone.strip(),
                                       capacity=int(capacity) if capacity.strip() else None,
                                       start_time=_time(start_time), facilitator_ids=ids)
    except CadreError as exc:
        field = COHORT_ERRORS.get(exc.code) or ("start_time" if exc.code.endswith("_time") else "starts_on")
        return _refused(request, session, {field: exc.message}, form)
    return redirect(f"/admin/cohorts/{cohort.public_id}", f"Cohort created: {cohort.title}.")


@router.get("/admin/cohorts/{cohort_id}")
def detail(request: Request, cohort_id: str, session: SessionDep, admin: AdminUser, after: str | None = None):
    return _detail(request, session, service.get_cohort(session, cohort_id), after=after)


def _detail(request, session, cohort, status_code: int = 200, *, after=None, errors=None, values=None,
            open_uid=None):
    programme = service.programme_of(session, cohort)
    others = [c for c in service.upcoming_for(session, programme) if c.cohort.id != cohort.id]
    return render(request, "cohorts/admin_detail.html", status_code, cohort=cohort, programme=programme,
                  card=service.cards(session, [cohort])[0], facilitators=service.facilitators_of(session, cohort),
                  seats=seats_admin.seats_of(session, cohort), waiting=waitlist.entries(session, cohort, after=after),
                  others=others, errors=errors or {}, values=values or {}, open_uid=open_uid)


def _whole(text: str, message: str, code: str) -> int:
    text = (text or "").strip()
    if not text.isdigit():
        raise Invalid(message, code=code)
    return int(text)


def _field_of(action: str, code: str, uid: str) -> str | None:
    """The input a refused action's message belongs beside (None: the action has no such input)."""
    if action == "capacity":
        return "capacity"
    if action == "facilitator":
        return "email"
    if action in ("reschedule", "makeup"):
        part = {"bad_time": "start", "bad_minutes": "minutes"}.get(code, "date")
        return f"{part}-{uid}"
    return None


@router.post("/admin/cohorts/{cohort_id}")
def act(request: Request, cohort_id: str, session: SessionDep, admin: AdminUser, action: str = Form(""),
        session_uid: str = Form(""), local_date: str = Form(""), local_start: str = Form(""),
        minutes: str = Form(""), capacity: str = Form(""), status: str = Form(""), email: str = Form(""),
        seat: str = Form(""), to_cohort: str = Form("")):
    cohort = service.get_cohort(session, cohort_id)
    back = f"/admin/cohorts/{cohort_id}"
    try:
        if action == "capacity":
            service.set_capacity(session, cohort, _whole(capacity, "Enter the capacity as a whole number of seats, "
                                                         "such as 12.", "bad_capacity"))
            done = f"Capacity is now {capacity}."
        elif action == "status":
            service.set_status(session, cohort, status)
            done = f"The cohort is now {status}."
        elif action == "facilitator":
            service.add_facilitator(session, cohort, service.coach_by_email(session, email))
            done = f"{email} facilitates this cohort."
        elif action in ("reschedule", "cancel_session", "makeup"):
            row = service.get_session(session, session_uid)[0] if session_uid else None
            if row is not None and row.cohort_id != cohort.id:
                raise Invalid("That session is not in this cohort.", code="session_not_found")
            if action == "cancel_session":
                service.cancel_session(session, row, cohort)
                done = f"{row.title} is cancelled; the learners have been emailed."
            elif action == "reschedule":
                day, start, length = schedule.read_session_form(local_date, local_start, minutes)
                service.reschedule(session, row, cohort, local_date=day, local_start=start or row.local_start,
                                   minutes=length)
                done = f"{row.title} moved; the learners have been emailed."
            else:
                day, start, length = schedule.read_session_form(local_date, local_start, minutes)
                made = service.add_makeup(session, cohort, for_session=row, local_date=day,
                                          local_start=start or time(9), minutes=length or 180)
                done = f"{made.title} added; the learners have been emailed."
        elif action == "transfer":
            target = service.get_cohort(session, to_cohort)
            seats_admin.transfer(session, cohort, _whole(seat, "Choose a seat to move.", "seat_not_found"), target,
                                 admin)
            done = f"Moved to {target.title}; the payment and any instalment plan are unchanged."
        elif action == "cancel_cohort":
            target = service.get_cohort(session, to_cohort) if to_cohort else None
            result = cancel.cancel_cohort(session, cohort, by=admin, move_to=target)
            done = f"Cohort cancelled: {result['moved']} moved, {result['refunded']} refunded."
        else:
            raise Invalid("Choose an action.", code="bad_action")
    except CadreError as exc:
        if isinstance(exc, FieldProblems):  # the session form's fields: date, start, minutes
            errors = {f"{part}-{session_uid}": message for part, message in exc.fields.items()}
        else:
            field = _field_of(action, exc.code, session_uid)
            if field is None:
                return redirect(back, f"Not done: {exc.message}", kind="error")
            errors = {field: exc.message}
        # The same page again, each message beside the input it is about and what was typed kept.
        # (only the submitted form's own inputs: the page's other forms show what is stored)
        values = ({"capacity": capacity} if action == "capacity" else {"email": email} if action == "facilitator"
                  else {f"date-{session_uid}": local_date, f"start-{session_uid}": local_start,
                        f"minutes-{session_uid}": minutes})
        order = (f"date-{session_uid}", f"start-{session_uid}", f"minutes-{session_uid}")
        return _detail(request, session, cohort, exc.status_code, errors=ordered(errors, order), values=values,
                       open_uid=session_uid if any(k.endswith(session_uid) for k in errors) else None)
    return redirect(back, done)
