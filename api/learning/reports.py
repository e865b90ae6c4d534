"""Progress across learners, for coaches and admins: one row per enrolment with the same formula as
a learner's own progress (progress.summarise), filters, newest enrolment first, a page at a time
(keyset: api/core/pagination.py), and a CSV export that streams every row batch by batch and is safe
to open in a spreadsheet. Five queries a page (or a batch), whatever the number of learners and lessons."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from api.accounts.models import User
from api.catalog.models import Programme
from api.core import pagination
from api.core.own_transaction import own_transaction
from api.learning import progress
from api.learning.models import Enrolment, EnrolmentStatus


@dataclass
class ProgressRow:
    enrolment: Enrolment
    user: User
    programme: Programme
    lessons_done: int
    lessons_total: int
    checks_passed: int
    checks_total: int
    percent: int


@dataclass
class Filters:
    programme: str = ""  # slug
    status: str = ""
    q: str = ""

    def as_dict(self) -> dict[str, str]:
        return {k: v for k, v in (("programme", self.programme), ("status", self.status), ("q", self.q)) if v}

    @property
    def query_string(self) -> str:
        from urllib.parse import urlencode

        return urlencode(self.as_dict())


def clean_filters(programme: str | None, status: str | None, q: str | None) -> Filters:
    status = (status or "").strip()
    return Filters(programme=(programme or "").strip().lower(),
                   status=status if status in {s.value for s in EnrolmentStatus} else "",
                   q=(q or "").strip()[:100])


def programmes_for_filter(session: Session) -> list[Programme]:
    return list(session.exec(select(Programme).where(col(Programme.retired_at).is_(None))
                             .order_by(col(Programme.family), col(Programme.level), col(Programme.code))).all())


ENROLMENTS_ORDER = pagination.Keyset(Enrolment.created_at, Enrolment.id, descending=True)  # newest first


def _enrolments(filters: Filters):
    # The programme is not selected per row (it carries JSON documents): a page has a handful of them,
    # loaded once below.
    query = select(Enrolment, User).join(User, col(User.id) == col(Enrolment.user_id))
    if filters.programme:
        query = query.join(Programme, col(Programme.id) == col(Enrolment.programme_id)).where(
            Programme.slug == filters.programme)
    if filters.status:
        query = query.where(Enrolment.status == filters.status)
    if filters.q:
        like = f"%{filters.q.lower()}%"
        query = query.where(col(User.full_name).ilike(like) | col(User.email).ilike(like))
    return query


def progress_page(session: Session, filters: Filters, *, after: str | None = None, before: str | None = None,
                  size: int = pagination.PAGE_SIZE) -> pagination.Page[ProgressRow]:
    """One page of enrolments matching `filters`, newest first, each with its learner's progress."""
    page = pagination.paginate(session, _enrolments(filters), ENROLMENTS_ORDER, after=after, before=before,
                               size=size)
    programme_ids = sorted({e.programme_id for e, _ in page.rows})
    programmes = {p.id: p for p in session.exec(select(Programme).where(col(Programme.id).in_(programme_ids)))}
    found = [(e, u, programmes[e.programme_id]) for e, u in page.rows]
    # The aggregates are for this page's learners and programmes only: an IN (...) of at most `size` ids.
    totals, done = progress.counts_by_learner(session, sorted({u.id for _, u, _ in found}), programme_ids)
    rows = []
    for e, u, p in found:
        lt, ct = totals.get(p.id, (0, 0))
        ld, cd = done.get((u.id, p.id), (0, 0))
        _, _, pct = progress.summarise(progress.rule_of(p.completion), ld, lt, cd, ct)
        rows.append(ProgressRow(e, u, p, ld, lt, cd, ct, pct))
    page.rows = rows
    return page


def csv_cell(value: object) -> str:
    """A spreadsheet treats a cell starting with = + - @ (or a tab or carriage return) as a formula:
    such cells get a leading apostrophe so they stay text."""
    if value is None:
        return ""
    text = value.isoformat(timespec="seconds") if isinstance(value, datetime) else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


CSV_HEADER = ["Name", "Email", "Programme", "Status", "Source", "Progress %", "Lessons done", "Lessons",
              "Checks passed", "Checks", "Enrolled at", "Last seen at", "Completed at", "Access until"]


def _csv_lines(rows: list[ProgressRow], header: bool = False) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    if header:
        writer.writerow(CSV_HEADER)
    for r in rows:
        e = r.enrolment
        writer.writerow([csv_cell(v) for v in (
            r.user.full_name, r.user.email, r.programme.code, e.status, e.source, r.percent, r.lessons_done,
            r.lessons_total, r.checks_passed, r.checks_total, e.created_at, e.last_seen_at, e.completed_at,
            e.access_until)])
    return out.getvalue()


def to_csv(rows: list[ProgressRow]) -> str:
    return _csv_lines(rows, header=True)


def csv_stream(session: Session, filters: Filters) -> Iterator[str]:
    """The whole export as CSV text, one batch of rows at a time, in the pages' order. Each batch is
    read in a short transaction of its own (the request's session has closed by the time the body
    is sent), so memory and connection time stay bounded at any number of rows."""
    yield _csv_lines([], header=True)
    after: str | None = None
    while True:
        with own_transaction(session) as tx:
            page = progress_page(tx, filters, after=after, size=pagination.EXPORT_BATCH)
            chunk = _csv_lines(page.rows)
        if chunk:
            yield chunk
        if not page.next:
            return
        after = page.next
