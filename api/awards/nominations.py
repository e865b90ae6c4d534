"""Nominations and entries: a confirmed account nominates a person; nominations of one person in a
cycle merge into one Nominee (the unique (cycle, normalised email) decides, also under concurrency);
the nominee accepts, consents (to judging; separately to public listing) and completes an entry,
whose eligibility is checked when it is submitted. Flushes, never commits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from api.accounts.models import User
from api.accounts.service import normalise_email
from api.awards import service, states
from api.awards.models import (
    AwardCycle,
    CycleState,
    Entry,
    EntryState,
    MilestoneKind,
    Nomination,
    Nominee,
    NomineeStatus,
)
from api.core import email as mail
from api.core.db import utcnow
from api.core.errors import Conflict, FieldProblems, Forbidden, Invalid, NotFound
from api.core.schemas import text_problem

MAX_ENDORSERS = 5
MAX_STATEMENT = 5000
MAX_EVIDENCE = 8000
MAX_REFEREES = 3


class FieldInvalid(Invalid):
    """Bad input in one form field: `field` says which, so a page shows the message next to it."""

    def __init__(self, field: str | None, message: str, *, code: str):
        super().__init__(message, code=code)
        self.field = field


def clean_email(value: str, what: str = "email address", field: str | None = None) -> str:
    try:
        return normalise_email(validate_email(value.strip(), check_deliverability=False).normalized)
    except EmailNotValidError:
        shown = value.strip()[:80]
        typed = f" (“{shown}” is not one)" if shown else ""
        raise FieldInvalid(field, f"Enter the {what} like name@example.com{typed}.", code="bad_email") from None


def clean_text(value: str | None, what: str, *, required: bool = True, limit: int = 200,
               multiline: bool = False, field: str | None = None) -> str | None:
    value = (value or "").strip()
    if not multiline:
        value = " ".join(value.split())
    if not value:
        if required:
            raise FieldInvalid(field, f"Enter the {what}.", code="missing")
        return None
    if len(value) > limit:
        raise FieldInvalid(field, f"The {what} is too long: keep it under {limit} characters.", code="too_long")
    problem = text_problem(value, multiline=multiline)
    if problem:
        raise FieldInvalid(field, f"The {what} {problem}.", code="bad_text")
    return value


# --- nominating ----------------------------------------------------------------------------------

@dataclass
class NominationIn:
    name: str
    email: str
    statement: str
    role: str | None = None
    organisation: str | None = None
    endorsers: list[str] | None = None
    reveal_to_nominee: bool = False


def nominations_open(session: Session, cycle: AwardCycle, now: datetime | None = None) -> bool:
    if cycle.state != CycleState.nominations_open:
        return False
    closes = service.milestone_at(session, cycle, MilestoneKind.nominations_close)
    return closes is None or (now or utcnow()) < closes


def _insert(session: Session):
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


def nominate(session: Session, cycle: AwardCycle, nominator: User, data: NominationIn,
             now: datetime | None = None) -> tuple[Nominee, Nomination, bool]:
    """Record one nomination. (nominee, nomination, new_nominee): a person already nominated in this
    cycle gets their count raised instead of a second Nominee; the invitation goes to a new one only."""
    if nominator.email_verified_at is None:
        raise Forbidden("Confirm your email address before nominating anyone: follow the link we sent you.",
                        code="email_unconfirmed")
    if not nominations_open(session, cycle, now):
        raise Conflict(f"Nominations for {cycle.title} are closed.", code="nominations_closed")
    # Every field's problem at once (in the form's order), so the page shows each beside its field.
    bad: dict[str, str] = {}
    codes: list[str] = []

    def checked(clean, *args, **kwargs):
        try:
            return clean(*args, **kwargs)
        except FieldInvalid as exc:
            bad.setdefault(exc.field or "form", exc.message)
            codes.append(exc.code)
            return None

    name = checked(clean_text, data.name, "nominee's name", field="name")
    email = checked(clean_email, data.email, "email address for the nominee", field="email")
    role = checked(clean_text, data.role, "nominee's role", required=False, field="role")
    organisation = checked(clean_text, data.organisation, "nominee's organisation", required=False,
                           field="organisation")
    statement = checked(clean_text, data.statement, "statement on the transformation they delivered",
                        limit=MAX_STATEMENT, multiline=True, field="statement")
    endorsers = sorted({e for e in (checked(clean_email, e, "endorser's email address", field="endorsers")
                                    for e in (data.endorsers or []) if e.strip()) if e})
    if len(endorsers) > MAX_ENDORSERS:
        bad.setdefault("endorsers", f"Name at most {MAX_ENDORSERS} endorsers.")
        codes.append("too_many_endorsers")
    if bad:  # one problem keeps its own code for API clients; several are "bad_nomination"
        raise FieldProblems(bad, code=codes[0] if len(set(codes)) == 1 else "bad_nomination")
    if email == normalise_email(nominator.email) and not cycle.self_nomination_allowed:
        raise Forbidden(f"{cycle.title} does not accept self-nominations: ask a peer to nominate you.",
                        code="self_nomination")
    existing = session.exec(select(Nominee.id).where(Nominee.cycle_id == cycle.id,
                                                     Nominee.email_normalised == email)).first()
    if existing is not None and session.exec(select(Nomination.id).where(
            Nomination.nominee_id == existing, Nomination.nominator_id == nominator.id)).first():
        raise Conflict("You have already nominated this person in this cycle.", code="already_nominated")

    # One nominee per (cycle, email): the first insert wins; a racing one does nothing (on PostgreSQL it
    # waits for the first to commit) and then counts itself on the row the first made.
    at = utcnow()
    stmt = _insert(session)(Nominee).values(
        public_id=service.public_id(), cycle_id=cycle.id, email=email, email_normalised=email, name=name,
        role=role, organisation=organisation, nomination_count=1, status=NomineeStatus.invited.value,
        invited_at=at, created_at=at,
    ).on_conflict_do_nothing(index_elements=["cycle_id", "email_normalised"]).returning(Nominee.id)
    new_id = session.execute(stmt).scalar()
    created = new_id is not None
    if not created:
        new_id = session.execute(
            update(Nominee).where(Nominee.cycle_id == cycle.id, Nominee.email_normalised == email)
            .values(nomination_count=Nominee.nomination_count + 1).returning(Nominee.id)
            .execution_options(synchronize_session=False)).scalar_one()
    nominee = session.get(Nominee, new_id)
    assert nominee is not None
    session.refresh(nominee)
    nomination = Nomination(cycle_id=cycle.id, nominee_id=nominee.id, nominator_id=nominator.id, name=name,
                            role=role, organisation=organisation, statement=statement or "", endorsers=endorsers,
                            reveal_to_nominee=data.reveal_to_nominee)
    try:
        with session.begin_nested():
            session.add(nomination)
            session.flush()
    except IntegrityError:
        raise Conflict("You have already nominated this person in this cycle.", code="already_nominated") from None
    if created:
        mail.send_template(session, nominee.email, "awards/invitation", key=f"award-invite:{nominee.public_id}",
                           name=nominee.name, cycle=cycle, nominee=nominee,
                           nominator=nominator.full_name if data.reveal_to_nominee else None)
    return nominee, nomination, created


def my_nominations(session: Session, user: User, *, before_id: int | None = None,
                   limit: int = 50) -> list[tuple[Nomination, Nominee, AwardCycle]]:
    """The nominations `user` made, newest first (keyset on id)."""
    q = (select(Nomination, Nominee, AwardCycle).join(Nominee, col(Nominee.id) == Nomination.nominee_id)
         .join(AwardCycle, col(AwardCycle.id) == Nomination.cycle_id)
         .where(Nomination.nominator_id == user.id).order_by(col(Nomination.id).desc()).limit(limit))
    if before_id is not None:
        q = q.where(col(Nomination.id) < before_id)
    return [tuple(r) for r in session.exec(q).all()]  # type: ignore[misc]


def nominations_of(session: Session, cycle: AwardCycle, *, after_id: int | None = None,
                   limit: int = 50) -> list[Nominee]:
    """The cycle's nominees by id (keyset), for the admin list."""
    q = select(Nominee).where(Nominee.cycle_id == cycle.id).order_by(col(Nominee.id)).limit(limit)
    if after_id is not None:
        q = q.where(col(Nominee.id) > after_id)
    return list(session.exec(q).all())


def revealed_nominators(session: Session, nominee: Nominee) -> tuple[list[str], int]:
    """What the nominee may know: the names of nominators who opted in, and how many chose not to."""
    rows = session.exec(select(Nomination, User).join(User, col(User.id) == Nomination.nominator_id)
                        .where(Nomination.nominee_id == nominee.id).order_by(col(Nomination.id))).all()
    names = [u.full_name for n, u in rows if n.reveal_to_nominee]
    return names, len(rows) - len(names)


# --- the nominee ----------------------------------------------------------------------------------

def nominee_by_public_id(session: Session, public_id: str) -> Nominee:
    nominee = session.exec(select(Nominee).where(Nominee.public_id == public_id)).first()
    if nominee is None:
        raise NotFound("There is no nomination at this address.")
    return nominee


def check_is_nominee(nominee: Nominee, user: User | None) -> None:
    """Only the nominated person (signed in with the address they were nominated at) may act; anyone
    else gets 404, so a nominee's page says nothing to a stranger holding the link."""
    if user is None or normalise_email(user.email) != nominee.email_normalised or user.email_verified_at is None:
        raise NotFound("There is no nomination at this address for the account you are signed in with.")


def respond(session: Session, nominee: Nominee, user: User, *, accept: bool, consent_judging: bool,
            consent_public: bool) -> Nominee:
    check_is_nominee(nominee, user)
    cycle = service.get_cycle(session, nominee.cycle_id)
    if nominee.status == NomineeStatus.entered:
        raise Conflict("Your entry is already submitted.", code="already_entered")
    if cycle.state not in (CycleState.nominations_open, CycleState.nominations_closed):
        raise Conflict(f"{cycle.title} is {states.WORDS[CycleState(cycle.state)]}; nominations can no "
                       "longer be accepted.", code="cycle_moved_on")
    now = utcnow()
    nominee.user_id = user.id
    nominee.responded_at = now
    if not accept:
        nominee.status = NomineeStatus.declined.value
        nominee.consent_judging_at = nominee.consent_public_at = None
    else:
        if not consent_judging:
            raise FieldInvalid("consent_judging", "To take part, agree that the judges may read and score your entry.",
                          code="consent_judging_required")
        nominee.status = NomineeStatus.accepted.value
        nominee.consent_judging_at = nominee.consent_judging_at or now
        nominee.consent_public_at = (nominee.consent_public_at or now) if consent_public else None
    session.add(nominee)
    session.flush()
    return nominee


def set_public_consent(session: Session, nominee: Nominee, user: User, consent: bool) -> Nominee:
    """Give or withdraw consent to public listing. Withdrawing after an announcement also hides the
    winner's details in the hall of fame (the page then says they asked not to be listed)."""
    from api.awards import announce

    check_is_nominee(nominee, user)
    nominee.consent_public_at = (nominee.consent_public_at or utcnow()) if consent else None
    session.add(nominee)
    session.flush()
    announce.sync_listing(session, nominee)
    return nominee


def entry_of(session: Session, nominee: Nominee) -> Entry | None:
    return session.exec(select(Entry).where(Entry.nominee_id == nominee.id)).first()


@dataclass
class EntryIn:
    personal: str
    professional: str
    business: str
    referees: list[dict[str, str]]


def _clean_referees(referees: list[dict[str, str]]) -> list[dict[str, Any]]:
    out = []
    for r in referees:
        if not any((r.get(k) or "").strip() for k in ("name", "email", "relationship")):
            continue
        out.append({"name": clean_text(r.get("name"), "referee's name", field="referees"),
                    "email": clean_email(r.get("email") or "", "referee's email address", field="referees"),
                    "relationship": clean_text(r.get("relationship"), "referee's relationship to you",
                                               required=False, field="referees")})
    if len(out) > MAX_REFEREES:
        raise FieldInvalid("referees", f"Name at most {MAX_REFEREES} referees.", code="too_many_referees")
    return out


def check_entry_open(session: Session, cycle: AwardCycle, now: datetime | None = None) -> None:
    if cycle.state not in (CycleState.nominations_open, CycleState.nominations_closed):
        raise Conflict(f"Entries for {cycle.title} are closed.", code="entries_closed")
    due = service.milestone_at(session, cycle, MilestoneKind.entries_due)
    if due is not None and (now or utcnow()) >= due:
        raise Conflict(f"Entries for {cycle.title} were due by {due:%-d %B %Y, %H:%M} UTC.", code="entries_closed")


def save_entry(session: Session, nominee: Nominee, user: User, data: EntryIn, *, submit: bool = False,
               now: datetime | None = None) -> Entry:
    """Save the entry as a draft, or submit it (every part filled, at least one referee, eligible)."""
    check_is_nominee(nominee, user)
    if nominee.status not in (NomineeStatus.accepted, NomineeStatus.entered):
        raise Conflict("Accept the nomination and consent to judging before writing your entry.",
                       code="not_accepted")
    cycle = service.get_cycle(session, nominee.cycle_id)
    check_entry_open(session, cycle, now)
    entry = entry_of(session, nominee)
    if entry is not None and entry.state == EntryState.submitted:
        raise Conflict("Your entry is submitted; it can no longer be changed.", code="entry_submitted")
    if entry is None:
        entry = Entry(public_id=service.public_id(), cycle_id=cycle.id, nominee_id=nominee.id)
    parts = {}
    for key, what in (("personal", "personal transformation"), ("professional", "professional transformation"),
                      ("business", "business transformation")):
        parts[key] = clean_text(getattr(data, key), f"evidence of {what}", required=submit, limit=MAX_EVIDENCE,
                                multiline=True, field=key) or ""
    referees = _clean_referees(data.referees)
    if submit and not referees:
        raise FieldInvalid("referees", "Name at least one referee who can speak to your transformation.",
                           code="no_referee")
    entry.personal, entry.professional, entry.business = parts["personal"], parts["professional"], parts["business"]
    entry.referees = referees
    entry.updated_at = utcnow()
    entry.version += 1 if entry.id else 0
    if submit:
        entry.eligibility = check_eligibility(session, cycle, user, now)
        entry.state = EntryState.submitted.value
        entry.submitted_at = utcnow()
        nominee.status = NomineeStatus.entered.value
        session.add(nominee)
    try:
        with session.begin_nested():
            session.add(entry)
            session.flush()
    except IntegrityError:
        raise Conflict("Your entry was saved from another window a moment ago; reload the page.",
                       code="entry_exists") from None
    if submit:
        mail.send_template(session, nominee.email, "awards/entry_received", key=f"award-entry:{entry.public_id}",
                           name=nominee.name, cycle=cycle)
    return entry


def check_eligibility(session: Session, cycle: AwardCycle, user: User, now: datetime | None = None) -> dict[str, Any]:
    """Refuse (403) an entrant who does not meet the cycle's rule; what was checked, for the record."""
    from api.catalog.models import Programme
    from api.certificates import service as certificates

    codes = list(cycle.eligibility.get("requires_current_accreditation") or [])
    checked = {"checked_at": (now or utcnow()).isoformat(), "rule": dict(cycle.eligibility), "met_by": []}
    if not codes:
        return checked
    programmes = session.exec(select(Programme).where(col(Programme.code).in_(codes))).all()
    held = certificates.has_current(session, user.id, [p.id for p in programmes], now)
    if not held:
        raise Forbidden(f"{cycle.title} is open to holders of a current {' or '.join(codes)} accreditation, and "
                        "Cadre finds none on your account. Renew or complete it, then submit again.",
                        code="not_eligible")
    checked["met_by"] = sorted(p.code for p in programmes if p.id in held)
    return checked
