"""Cohorts and their sessions: creating a cohort from its programme's format, reading them, editing
sessions (reschedule, cancel, make-up), capacity and status. Flushes, never commits.

Seats, the waitlist, attendance and calendars have their own modules (seats.py, waitlist.py,
attendance.py, calendar.py); learners hear of changes through notices.py (the outbox).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import func
from sqlmodel import Session, col, select

from api.accounts.models import User
from api.catalog import service as catalog_service
from api.catalog.models import DeliveryFormat, Programme
from api.cohorts import schedule
from api.cohorts.models import (
    Cohort,
    CohortFacilitator,
    CohortSession,
    CohortStatus,
    Seat,
    SeatStatus,
    SessionStatus,
    WaitlistEntry,
    WaitStatus,
)
from api.core import pagecache, pagination
from api.core.db import utcnow
from api.core.errors import Conflict, Invalid, NotFound
from api.core.security import new_token
from api.core.timezones import is_zone, local_problem, to_utc

UPCOMING = (CohortStatus.open.value, CohortStatus.full.value, CohortStatus.closed.value)
LIVE = (*UPCOMING, CohortStatus.running.value)


def public_id(prefix: str) -> str:
    return prefix + new_token(9).replace("-", "x").replace("_", "y").lower()


# --- reading ------------------------------------------------------------------------------------

def get_cohort(session: Session, cohort_public_id: str, *, lock: bool = False) -> Cohort:
    query = select(Cohort).where(Cohort.public_id == cohort_public_id)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    cohort = session.exec(query).first()
    if cohort is None:
        raise NotFound("There is no cohort at this address.", code="cohort_not_found")
    return cohort


def lock_cohort(session: Session, cohort_id: int) -> Cohort:
    """The cohort row under a row lock: seats are counted and taken one buyer at a time per cohort."""
    return session.exec(select(Cohort).where(Cohort.id == cohort_id).with_for_update()
                        .execution_options(populate_existing=True)).one()


def sessions_of(session: Session, cohort: Cohort, *, include_cancelled: bool = True) -> list[CohortSession]:
    query = select(CohortSession).where(CohortSession.cohort_id == cohort.id)
    if not include_cancelled:
        query = query.where(CohortSession.status == SessionStatus.scheduled.value)
    return list(session.exec(query.order_by(col(CohortSession.starts_at), col(CohortSession.id))).all())


def get_session(session: Session, uid: str) -> tuple[CohortSession, Cohort]:
    row = session.exec(select(CohortSession).where(CohortSession.uid == uid)).first()
    if row is None:
        raise NotFound("There is no session at this address.", code="session_not_found")
    return row, session.get(Cohort, row.cohort_id)


def facilitators_of(session: Session, cohort: Cohort) -> list[User]:
    return list(session.exec(select(User).join(CohortFacilitator, col(CohortFacilitator.user_id) == col(User.id))
                             .where(CohortFacilitator.cohort_id == cohort.id).order_by(col(User.full_name))).all())


def is_facilitator(session: Session, cohort: Cohort, user_id: int) -> bool:
    return session.exec(select(CohortFacilitator.id).where(CohortFacilitator.cohort_id == cohort.id,
                                                           CohortFacilitator.user_id == user_id)).first() is not None


def seat_of(session: Session, cohort: Cohort, user_id: int) -> Seat | None:
    """The learner's paid seat in this cohort, if any."""
    return session.exec(select(Seat).where(Seat.cohort_id == cohort.id, Seat.user_id == user_id,
                                           Seat.status == SeatStatus.paid.value)).first()


def learners_of(session: Session, cohort: Cohort) -> list[User]:
    return list(session.exec(select(User).join(Seat, col(Seat.user_id) == col(User.id))
                             .where(Seat.cohort_id == cohort.id, Seat.status == SeatStatus.paid.value)
                             .order_by(col(User.full_name), col(User.id))).all())


def taken(session: Session, cohort_id: int, now: datetime | None = None, *, except_user: int | None = None) -> int:
    """Seats that count against capacity: paid, held by a checkout that has not expired, and kept for
    someone on the waitlist whose offer has not run out (but not `except_user`'s own offer)."""
    now = now or utcnow()
    seats = session.exec(select(func.count()).select_from(Seat).where(
        Seat.cohort_id == cohort_id,
        (col(Seat.status) == SeatStatus.paid.value)
        | ((col(Seat.status) == SeatStatus.held.value) & (col(Seat.hold_expires_at) > now)))).one()
    offers = select(func.count()).select_from(WaitlistEntry).where(
        WaitlistEntry.cohort_id == cohort_id, WaitlistEntry.status == WaitStatus.offered.value,
        col(WaitlistEntry.offer_expires_at) > now)
    if except_user is not None:
        offers = offers.where(WaitlistEntry.user_id != except_user)
    return int(seats) + int(session.exec(offers).one())


@dataclass
class CohortCard:
    cohort: Cohort
    sessions: list[CohortSession]
    seats_left: int
    facilitators: list[User] = field(default_factory=list)

    @property
    def first(self) -> CohortSession | None:
        live = [s for s in self.sessions if s.status == SessionStatus.scheduled.value]
        return live[0] if live else None

    @property
    def last(self) -> CohortSession | None:
        live = [s for s in self.sessions if s.status == SessionStatus.scheduled.value]
        return live[-1] if live else None


def cards(session: Session, cohorts: list[Cohort], now: datetime | None = None) -> list[CohortCard]:
    if not cohorts:
        return []
    ids = [c.id for c in cohorts]
    by: dict[int, list[CohortSession]] = {i: [] for i in ids}
    for s in session.exec(select(CohortSession).where(col(CohortSession.cohort_id).in_(ids))
                          .order_by(col(CohortSession.starts_at))):
        by[s.cohort_id].append(s)
    return [CohortCard(c, by[c.id], max(0, c.capacity - taken(session, c.id, now))) for c in cohorts]


def upcoming_for(session: Session, programme: Programme, now: datetime | None = None) -> list[CohortCard]:
    """Cohorts of a programme a learner can still choose (open or full, first session ahead), soonest first."""
    now = now or utcnow()
    first = (select(CohortSession.cohort_id, func.min(CohortSession.starts_at).label("first"))
             .where(CohortSession.status == SessionStatus.scheduled.value).group_by(col(CohortSession.cohort_id))
             .subquery())
    rows = session.exec(select(Cohort).join(first, first.c.cohort_id == Cohort.id).where(
        Cohort.programme_id == programme.id, col(Cohort.status).in_((CohortStatus.open.value, CohortStatus.full.value)),
        first.c.first > now).order_by(first.c.first, col(Cohort.id))).all()
    return cards(session, list(rows), now)


COHORTS_ORDER = pagination.Keyset(Cohort.created_at, Cohort.id, descending=True)


def all_cohorts(session: Session, *, programme_slug: str | None = None, after: str | None = None,
                before: str | None = None) -> pagination.Page[CohortCard]:
    query = select(Cohort)
    if programme_slug:
        query = query.join(Programme, col(Programme.id) == col(Cohort.programme_id)).where(
            Programme.slug == programme_slug)
    page = pagination.paginate(session, query, COHORTS_ORDER, after=after, before=before)
    page.rows = cards(session, list(page.rows))
    return page


def cohorts_facilitated(session: Session, user_id: int) -> list[Cohort]:
    return list(session.exec(select(Cohort).join(CohortFacilitator, col(CohortFacilitator.cohort_id) == col(Cohort.id))
                             .where(CohortFacilitator.user_id == user_id).order_by(col(Cohort.created_at).desc())))


def my_cohorts(session: Session, user_id: int) -> list[Cohort]:
    return list(session.exec(select(Cohort).join(Seat, col(Seat.cohort_id) == col(Cohort.id)).where(
        Seat.user_id == user_id, Seat.status == SeatStatus.paid.value)))


def cohorts_of_user(session: Session, user_id: int) -> list[tuple[Cohort, bool]]:
    """The cohorts a user is in (a paid seat) or facilitates, not cancelled or finished, each with whether
    they facilitate it: one query (the dashboard's), soonest made first."""
    runs = select(CohortFacilitator.cohort_id).where(CohortFacilitator.user_id == user_id)
    sits = select(Seat.cohort_id).where(Seat.user_id == user_id, Seat.status == SeatStatus.paid.value)
    rows = session.exec(select(Cohort, col(Cohort.id).in_(runs)).where(
        col(Cohort.id).in_(runs) | col(Cohort.id).in_(sits), col(Cohort.status).in_(LIVE))
        .order_by(col(Cohort.created_at), col(Cohort.id))).all()
    return [(c, bool(facilitates)) for c, facilitates in rows]


# --- creating -----------------------------------------------------------------------------------

def _check_zone(zone_name: str) -> None:
    if not is_zone(zone_name):
        raise Invalid(f"{zone_name or 'An empty value'} is not a time zone: use an IANA name such as "
                      "Europe/London or America/New_York.", code="bad_time_zone")


def live_programmes(session: Session) -> list[Programme]:
    return list(session.exec(select(Programme).where(Programme.format == DeliveryFormat.live_cohort.value,
                                                     col(Programme.retired_at).is_(None)).order_by(col(Programme.code))))


def programme_of(session: Session, cohort: Cohort) -> Programme:
    return session.get(Programme, cohort.programme_id)


def coach_by_email(session: Session, email: str) -> User:
    from api.accounts import service as accounts_service
    from api.accounts.models import Role

    user = accounts_service.get_by_email(session, email.strip())
    if user is None:
        raise Invalid(f"There is no account for {email.strip() or 'an empty email'}.", code="no_such_user")
    if not ({Role.coach, Role.admin} & set(accounts_service.roles_of(session, user))):
        raise Invalid(f"{user.email} is not a coach: grant the coach role first.", code="not_a_coach")
    return user


def live_programme(session: Session, slug: str) -> Programme:
    programme = catalog_service.get_by_slug(session, slug)
    if programme.format != DeliveryFormat.live_cohort.value or not programme.cohort_format:
        raise Invalid(f"{programme.display_title} is not a live programme: it has no cohorts.", code="not_live")
    return programme


def create_cohort(session: Session, *, programme_slug: str, starts_on: date, time_zone: str,
                  capacity: int | None = None, title: str | None = None, start_time: time | None = None,
                  facilitator_ids: list[int] | None = None, meeting_url: str | None = None,
                  status: str = CohortStatus.open.value, now: datetime | None = None) -> Cohort:
    """A cohort with its sessions generated from the programme's format, starting on `starts_on` (local)."""
    now = now or utcnow()
    programme = live_programme(session, programme_slug)
    _check_zone(time_zone)
    fmt = programme.cohort_format
    planned, problems = schedule.plan(fmt, starts_on, time_zone, start=start_time)
    if problems:
        raise Invalid(problems[0].message, code=f"{problems[0].kind}_time")
    if planned[0].starts_at <= now:
        raise Invalid("The first session would be in the past: choose a later start date.", code="session_in_past")
    capacity = capacity if capacity is not None else int(fmt.get("capacity", 20))
    if capacity < 1:
        raise Invalid("Capacity must be at least 1.", code="bad_capacity")
    cohort = Cohort(public_id=public_id("coh_"), programme_id=programme.id, time_zone=time_zone, capacity=capacity,
                    title=title or f"{programme.display_title}, from {starts_on:%-d %B %Y}", status=status,
                    meeting_url=meeting_url, recording_days=int(fmt.get("recording_days", 30)),
                    enrolment_opens_at=now, enrolment_closes_at=planned[0].starts_at)
    session.add(cohort)
    session.flush()
    for p in planned:
        session.add(CohortSession(uid=public_id("ses_"), cohort_id=cohort.id, number=p.number,
                                  title=f"Session {p.number}", local_date=p.local_date, local_start=p.local_start,
                                  minutes=p.minutes, time_zone=time_zone, starts_at=p.starts_at, ends_at=p.ends_at))
    for uid in facilitator_ids or []:
        session.add(CohortFacilitator(cohort_id=cohort.id, user_id=uid))
    session.flush()
    public_changed(session)
    return cohort


def public_changed(session: Session) -> None:
    """A cohort opened, closed, filled, moved or was cancelled: the programme cards on the kept public
    pages (home, catalogue) may show another next cohort (api/cohorts/catalogue.py)."""
    pagecache.invalidate(session)


def add_facilitator(session: Session, cohort: Cohort, user: User) -> None:
    if not is_facilitator(session, cohort, user.id):
        session.add(CohortFacilitator(cohort_id=cohort.id, user_id=user.id))
        session.flush()


def set_capacity(session: Session, cohort: Cohort, capacity: int) -> Cohort:
    """Change capacity, never below the seats already sold (paid) and held (counted under the lock)."""
    cohort = lock_cohort(session, cohort.id)
    sold = session.exec(select(func.count()).select_from(Seat).where(
        Seat.cohort_id == cohort.id, Seat.status == SeatStatus.paid.value)).one()
    if capacity < max(1, sold):
        raise Conflict(f"{sold} seat{'s are' if sold != 1 else ' is'} already sold: capacity cannot go below "
                       f"{max(1, sold)}. Transfer or refund learners first.", code="capacity_below_sold")
    cohort.capacity, cohort.updated_at = capacity, utcnow()
    refresh_status(session, cohort)
    return cohort


def refresh_status(session: Session, cohort: Cohort, now: datetime | None = None) -> None:
    """open ↔ full as seats come and go."""
    if cohort.status in (CohortStatus.open.value, CohortStatus.full.value):
        full = taken(session, cohort.id, now) >= cohort.capacity
        was, cohort.status = cohort.status, CohortStatus.full.value if full else CohortStatus.open.value
        if cohort.status != was:  # a full cohort is not offered as the next one
            public_changed(session)
    session.add(cohort)
    session.flush()


def set_status(session: Session, cohort: Cohort, status: str) -> None:
    allowed = {CohortStatus.draft.value: {"open"}, "open": {"closed", "draft"}, "full": {"closed"},
               "closed": {"open", "running"}, "running": {"finished"}, "finished": set(), "cancelled": set()}
    if status not in allowed.get(cohort.status, set()):
        raise Conflict(f"A {cohort.status} cohort cannot become {status}.", code="bad_status")
    cohort.status, cohort.updated_at = status, utcnow()
    if status == CohortStatus.open.value:
        refresh_status(session, cohort)
    session.add(cohort)
    session.flush()
    public_changed(session)


# --- editing sessions ---------------------------------------------------------------------------

def _place(session: Session, cohort: Cohort, local_date: date, local_start: time, minutes: int,
           ignore_id: int | None, now: datetime) -> tuple[datetime, datetime]:
    if minutes < 15 or minutes > 600:
        raise Invalid("A session lasts between 15 minutes and 10 hours.", code="bad_minutes")
    problem = local_problem(local_date, local_start, cohort.time_zone)
    if problem is not None:
        raise Invalid(problem.message, code=f"{problem.kind}_time")
    starts = to_utc(local_date, local_start, cohort.time_zone)
    ends = starts + timedelta(minutes=minutes)
    if starts <= now:
        raise Invalid("That time is in the past: choose a time still to come.", code="session_in_past")
    for other in sessions_of(session, cohort, include_cancelled=False):
        if other.id != ignore_id and schedule.overlaps(starts, ends, other.starts_at, other.ends_at):
            raise Conflict(f"That overlaps {other.title} ({other.local_date:%-d %B} {other.local_start:%H:%M}, "
                           f"{cohort.time_zone}). Choose a time that does not.", code="sessions_overlap")
    return starts, ends


def reschedule(session: Session, row: CohortSession, cohort: Cohort, *, local_date: date, local_start: time,
               minutes: int | None = None, now: datetime | None = None) -> CohortSession:
    from api.cohorts import notices

    now = now or utcnow()
    if row.status != SessionStatus.scheduled.value:
        raise Conflict("A cancelled session cannot be moved: add a make-up session instead.", code="session_cancelled")
    minutes = minutes or row.minutes
    old = (row.starts_at, row.ends_at)
    row.starts_at, row.ends_at = _place(session, cohort, local_date, local_start, minutes, row.id, now)
    row.local_date, row.local_start, row.minutes = local_date, local_start, minutes
    _changed(session, row)
    notices.session_changed(session, cohort, row, old_start=old[0])
    return row


def cancel_session(session: Session, row: CohortSession, cohort: Cohort, *, notify: bool = True) -> CohortSession:
    """`notify=False` when the whole cohort is cancelled: its people hear of that once instead."""
    from api.cohorts import notices

    if row.status == SessionStatus.cancelled.value:
        raise Conflict("That session is already cancelled.", code="session_cancelled")
    row.status = SessionStatus.cancelled.value
    _changed(session, row)
    if notify:
        notices.session_changed(session, cohort, row, old_start=row.starts_at)
    return row


def add_makeup(session: Session, cohort: Cohort, *, for_session: CohortSession | None, local_date: date,
               local_start: time, minutes: int, now: datetime | None = None) -> CohortSession:
    from api.cohorts import notices

    now = now or utcnow()
    starts, ends = _place(session, cohort, local_date, local_start, minutes, None, now)
    number = (session.exec(select(func.max(CohortSession.number)).where(CohortSession.cohort_id == cohort.id)).one()
              or 0) + 1
    row = CohortSession(uid=public_id("ses_"), cohort_id=cohort.id, number=number,
                        title=f"Make-up for {for_session.title}" if for_session else f"Session {number}",
                        local_date=local_date, local_start=local_start, minutes=minutes, time_zone=cohort.time_zone,
                        starts_at=starts, ends_at=ends, makeup_for_id=for_session.id if for_session else None)
    session.add(row)
    session.flush()
    notices.session_changed(session, cohort, row, old_start=None)
    return row


def set_meeting_url(session: Session, row: CohortSession, url: str) -> None:
    url = url.strip()
    if not url.startswith("https://") or len(url) > 500:
        raise Invalid("A meeting link starts with https:// (e.g. the video call's invitation link).",
                      code="bad_meeting_url")
    row.meeting_url = url
    _changed(session, row)


def set_recording_url(session: Session, row: CohortSession, url: str, *, now: datetime | None = None) -> None:
    url = url.strip()
    if not url.startswith("https://") or len(url) > 500:
        raise Invalid("A recording link starts with https://.", code="bad_recording_url")
    if row.starts_at > (now or utcnow()):
        raise Conflict("A recording can be added once the session has started.", code="not_yet")
    row.recording_url = url
    session.add(row)
    session.flush()


def recording_visible(cohort: Cohort, row: CohortSession, now: datetime | None = None) -> bool:
    """Recordings are for enrolled learners, from the session until `recording_days` after it."""
    now = now or utcnow()
    has = bool(row.recording_url or row.recording_key)
    return has and row.starts_at <= now <= row.ends_at + timedelta(days=cohort.recording_days)


def _changed(session: Session, row: CohortSession) -> None:
    row.sequence += 1  # every change a calendar must pick up
    row.updated_at = utcnow()
    session.add(row)
    session.flush()
    public_changed(session)  # the first session may have moved
