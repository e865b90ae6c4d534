"""The team dashboard and its CSV export: each member with their programmes, progress, assessment
status and certificates, showing only what that member agreed to share with this organisation.

  always          name, email, role, the seats this organisation gave them, and their certificates that
                  are public on /verify (anyone may check those), with status and expiry
  share_progress  their other enrolments with progress, and their private certificates
  share_assessments  the state of their latest assessment attempt per programme

Consent is read on every page and export (nothing cached), so withdrawing applies at once. Members page
oldest first by (created_at, id); each page asks the other domains about its own members only.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from api.accounts.models import User
from api.catalog.models import Programme
from api.certificates import service as certificates_service
from api.core import pagination
from api.core.db import utcnow
from api.core.own_transaction import own_transaction
from api.learning import progress
from api.learning import service as learning_service
from api.organisations.models import Membership, Organisation, OrgRole, SeatAssignment, SeatPool, SeatStatus

EXPIRY_WARNING_DAYS = 90
MEMBERS_ORDER = pagination.Keyset(Membership.created_at, Membership.id)

ASSESSMENT_WORDS = {
    "draft": "writing a draft", "submitted": "submitted, waiting for a marker", "in_marking": "being marked",
    "marked": "being checked", "awaiting_second_mark": "being checked", "awaiting_agreement": "being checked",
    "in_moderation": "being checked", "ready_for_release": "being checked", "sent_back": "sent back to improve",
    "withdrawn": "withdrawn", "under_appeal": "under appeal",
}


@dataclass
class Filters:
    role: str | None = None
    programme: str | None = None  # slug
    q: str | None = None
    expiring: bool = False  # only members with a certificate lapsing within 90 days (that we may see)

    def as_query(self) -> dict[str, str]:
        return {"role": self.role or "", "programme": self.programme or "", "q": self.q or "",
                "expiring": "1" if self.expiring else ""}


def clean_filters(role: str | None, programme: str | None, q: str | None, expiring: str | None) -> Filters:
    roles = {r.value for r in OrgRole}
    return Filters(role=role if role in roles else None, programme=(programme or "").strip()[:80] or None,
                   q=(q or "").strip()[:100] or None, expiring=expiring in ("1", "on", "true", "yes"))


@dataclass
class ProgrammeLine:
    programme: Programme
    seat: bool  # holds one of this organisation's seats of it
    shared: bool  # progress shared: the fields below are filled
    status: str | None = None
    percent: int | None = None
    lessons_done: int | None = None
    lessons_total: int | None = None
    assessment: str | None = None  # None: not shared or nothing submitted


@dataclass
class CertificateLine:
    number: str
    programme: Programme
    status: str  # valid, expired, suspended, revoked
    expires_at: datetime | None
    expiring_soon: bool
    public: bool
    verify_url: str


@dataclass
class TeamRow:
    membership: Membership
    user: User
    programmes: list[ProgrammeLine] = field(default_factory=list)
    certificates: list[CertificateLine] = field(default_factory=list)

    @property
    def shares_progress(self) -> bool:
        return self.membership.share_progress

    @property
    def shares_assessments(self) -> bool:
        return self.membership.share_assessments


def _query(session: Session, org: Organisation, filters: Filters, now: datetime):
    query = select(Membership, User).join(User, col(User.id) == col(Membership.user_id)).where(
        Membership.organisation_id == org.id)
    if filters.role:
        query = query.where(Membership.role == filters.role)
    if filters.q:
        like = f"%{filters.q.lower()}%"
        query = query.where(col(User.full_name).ilike(like) | col(User.email).ilike(like))
    if filters.programme:
        programme = session.exec(select(Programme).where(Programme.slug == filters.programme)).first()
        if programme is None:
            return query.where(col(Membership.id).is_(None))
        # Matched on what this member lets us see: a seat we gave them, or an enrolment they share.
        seat_holders = (select(SeatAssignment.user_id).join(SeatPool, col(SeatPool.id) == col(SeatAssignment.pool_id))
                        .where(SeatPool.organisation_id == org.id, SeatPool.programme_id == programme.id,
                               SeatAssignment.status == SeatStatus.assigned.value))
        query = query.where(col(Membership.user_id).in_(seat_holders) | (
            col(Membership.share_progress).is_(True)
            & col(Membership.user_id).in_(learning_service.enrolled_user_ids(programme.id))))
    if filters.expiring:
        public = certificates_service.expiring_holder_ids(now, EXPIRY_WARNING_DAYS, public_only=True)
        every = certificates_service.expiring_holder_ids(now, EXPIRY_WARNING_DAYS, public_only=False)
        query = query.where(col(Membership.user_id).in_(public) | (
            col(Membership.share_progress).is_(True) & col(Membership.user_id).in_(every)))
    return query


def team_page(session: Session, org: Organisation, filters: Filters, *, after: str | None = None,
              before: str | None = None, size: int = pagination.PAGE_SIZE,
              now: datetime | None = None) -> pagination.Page[TeamRow]:
    now = now or utcnow()
    page = pagination.paginate(session, _query(session, org, filters, now), MEMBERS_ORDER, after=after,
                               before=before, size=size)
    page.rows = _rows(session, org, page.rows, now)
    return page


def _rows(session: Session, org: Organisation, found: list[tuple[Membership, User]], now: datetime) -> list[TeamRow]:
    from api.assessments import submissions

    # Every question below is about this page's members only: an IN (...) of at most a page of ids.
    user_ids = [u.id for _, u in found]
    consent = {m.user_id: m for m, _ in found}
    seats: dict[int, set[int]] = {}
    if user_ids:
        for uid, pid in session.exec(select(SeatAssignment.user_id, SeatPool.programme_id)
                                     .join(SeatPool, col(SeatPool.id) == col(SeatAssignment.pool_id))
                                     .where(SeatPool.organisation_id == org.id,
                                            SeatAssignment.status == SeatStatus.assigned.value,
                                            col(SeatAssignment.user_id).in_(user_ids))):
            seats.setdefault(uid, set()).add(pid)
    sharing = [uid for uid in user_ids if consent[uid].share_progress]
    enrolments = learning_service.enrolments_of(session, user_ids)
    programme_ids = sorted({p.id for _, p in enrolments})
    totals, done = progress.counts_by_learner(session, sharing, programme_ids)
    latest = submissions.latest_of(session, [uid for uid in user_ids if consent[uid].share_assessments])
    rows = {u.id: TeamRow(m, u) for m, u in found}
    for e, p in enrolments:
        row = rows[e.user_id]
        seat = p.id in seats.get(e.user_id, set())
        if not row.shares_progress:
            if seat:
                row.programmes.append(ProgrammeLine(p, seat=True, shared=False))
            continue
        lt, ct = totals.get(p.id, (0, 0))
        ld, cd = done.get((e.user_id, p.id), (0, 0))
        _, _, pct = progress.summarise(progress.rule_of(p.completion), ld, lt, cd, ct)
        line = ProgrammeLine(p, seat=seat, shared=True, status=e.status, percent=pct, lessons_done=ld,
                             lessons_total=lt)
        row.programmes.append(line)
    for (uid, pid), sub in latest.items():
        line = next((x for x in rows[uid].programmes if x.programme.id == pid), None)
        if line is None:
            continue
        line.assessment = (f"result released: {sub.outcome}" if sub.state == "released" and sub.outcome
                           else ASSESSMENT_WORDS.get(sub.state, sub.state.replace("_", " ")))
    soon = now + timedelta(days=EXPIRY_WARNING_DAYS)
    for cert, p in certificates_service.of_holders(session, user_ids):
        row = rows[cert.user_id]
        if cert.is_private and not row.shares_progress:
            continue
        status = certificates_service.effective_status(cert, now)
        row.certificates.append(CertificateLine(
            number=cert.number, programme=p, status=status, expires_at=cert.expires_at,
            expiring_soon=status == "valid" and cert.expires_at is not None and cert.expires_at <= soon,
            public=not cert.is_private, verify_url=certificates_service.verify_url(cert)))
    return [rows[uid] for uid in user_ids]


# --- the export ------------------------------------------------------------------------------------

def csv_cell(value: object) -> str:
    """Cells a spreadsheet would run as a formula (= + - @, a tab or a carriage return first) get a
    leading apostrophe, so a name like "=HYPERLINK(...)" stays text."""
    if value is None:
        return ""
    text = value.date().isoformat() if isinstance(value, datetime) else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


CSV_HEADER = ["Name", "Email", "Role", "Programme", "Organisation seat", "Progress shared", "Status",
              "Progress %", "Lessons done", "Lessons", "Assessment", "Certificate", "Certificate status",
              "Expires on"]


def _lines(rows: list[TeamRow], header: bool = False) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    if header:
        writer.writerow(CSV_HEADER)
    for r in rows:
        base = [r.user.full_name, r.user.email, r.membership.role]
        certs = {c.programme.id: c for c in r.certificates}
        lines = r.programmes or [None]
        for line in lines:
            cert = certs.pop(line.programme.id, None) if line else None
            if line is None:
                cells = ["", "", "yes" if r.shares_progress else "no", "", "", "", "", ""]
            else:
                assessment = line.assessment or ("" if r.shares_assessments else "not shared")
                cells = [line.programme.code, "yes" if line.seat else "no", "yes" if line.shared else "no",
                         line.status or "not shared", line.percent, line.lessons_done, line.lessons_total,
                         assessment]
            cert_cells = [cert.number, cert.status, cert.expires_at] if cert else ["", "", ""]
            writer.writerow([csv_cell(v) for v in base + cells + cert_cells])
        for cert in certs.values():  # a certificate of a programme not listed above (not shared, or no seat)
            writer.writerow([csv_cell(v) for v in base + [cert.programme.code, "", "yes" if r.shares_progress
                                                           else "no", "", "", "", "", "",
                                                           cert.number, cert.status, cert.expires_at]])
    return out.getvalue()


def csv_stream(session: Session, org_id: int, filters: Filters) -> Iterator[str]:
    """The whole team as CSV, one batch of members at a time, each batch in a short transaction of its
    own (the request's session has closed by the time the body is sent)."""
    yield _lines([], header=True)
    after: str | None = None
    while True:
        with own_transaction(session) as tx:
            org = tx.get(Organisation, org_id)
            page = team_page(tx, org, filters, after=after, size=pagination.EXPORT_BATCH // 5)
            chunk = _lines(page.rows)
        if chunk:
            yield chunk
        if not page.next:
            return
        after = page.next
