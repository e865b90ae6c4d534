"""Every list that grows comes a page at a time (keyset, api/core/pagination.py): 50 rows, a next link
that keeps the search and filters, the next page with no row twice and none missed, a changed cursor
answered 400 (not 500), a page that costs the same queries at 60 rows as at 600, JSON lists with a
`next` cursor, and the CSV export streamed batch by batch with the same queries each batch."""

from __future__ import annotations

import base64
import csv
import html
import io
import json
import re
from datetime import timedelta
from functools import cache

import pytest
from sqlmodel import select

from api.accounts.models import Role, User
from api.catalog.models import Offer, Programme
from api.certificates.models import Certificate, StatusList
from api.core import pagination
from api.core.db import utcnow
from api.learning import reports
from api.learning.models import Enrolment
from api.payments.models import DiscountCode, Order
from tests.learning.test_query_counts import counting


@cache
def _hash() -> str:
    from api.core.security import hash_password

    return hash_password("correct-horse-battery")


class Rows:
    """Small factories: many rows at once through the ORM, with creation times in the past in
    groups of three equal instants (so ties are broken by id, as the keyset must)."""

    def __init__(self, db):
        self.db = db
        self.made = 0
        self._lists: tuple[int, int] | None = None

    def _at(self, i: int):
        return utcnow() - timedelta(days=30) + timedelta(seconds=(self.made + i) // 3)

    def users(self, n: int, prefix: str = "row") -> list[User]:
        users = [User(email=f"{prefix}-{self.made + i:05d}@example.com", full_name=f"Row {self.made + i:05d}",
                      password_hash=_hash(), created_at=self._at(i)) for i in range(n)]
        self.db.add_all(users)
        self.db.commit()
        self.made += n
        return users

    def enrolments(self, n: int, slug: str = "acxp") -> list[Enrolment]:
        programme = self.db.exec(select(Programme).where(Programme.slug == slug)).one()
        rows = [Enrolment(user_id=u.id, programme_id=programme.id, source="admin_grant", created_at=u.created_at)
                for u in self.users(n)]
        self.db.add_all(rows)
        self.db.commit()
        return rows

    def orders(self, n: int, user: User | None = None) -> list[Order]:
        offer = self.db.exec(select(Offer).join(Programme, Programme.id == Offer.programme_id)
                             .where(Programme.slug == "acxp")).first()
        owners = [user] * n if user else self.users(n)
        rows = [Order(public_id=f"ord-{self.made}-{i:05d}", user_id=u.id, programme_id=offer.programme_id,
                      offer_id=offer.id, kind="full", currency="GBP", amount_before=100, amount_total=100,
                      provider="offline", status="paid", created_at=self._at(i)) for i, u in enumerate(owners)]
        self.db.add_all(rows)
        self.db.commit()
        self.made += n
        return rows

    def codes(self, n: int) -> list[DiscountCode]:
        rows = [DiscountCode(code=f"code-{self.made + i:05d}", kind="percent", percent_off=10, created_at=self._at(i))
                for i in range(n)]
        self.db.add_all(rows)
        self.db.commit()
        self.made += n
        return rows

    def certificates(self, n: int) -> list[Certificate]:
        if self._lists is None:
            lists = StatusList(purpose="revocation"), StatusList(purpose="suspension")
            self.db.add_all(lists)
            self.db.commit()
            self._lists = (lists[0].id, lists[1].id)
            self._holder = self.users(1)[0]
        programme = self.db.exec(select(Programme).where(Programme.slug == "acxp")).one()
        rows = [Certificate(slug=f"slug-{self.made + i:05d}", number=f"ACXP-{self.made + i:05d}",
                            user_id=self._holder.id, programme_id=programme.id, holder_name=f"Holder {i}",
                            holder_email_hash="x", holder_email_salt="x", issued_at=self._at(i),
                            revocation_list=self._lists[0], revocation_index=self.made + i,
                            suspension_list=self._lists[1], suspension_index=self.made + i,
                            generation=self.made + i + 1) for i in range(n)]
        self.db.add_all(rows)
        self.db.commit()
        self.made += n
        return rows


@pytest.fixture
def rows(db) -> Rows:
    return Rows(db)


@pytest.fixture
def admin(make_user, login):
    make_user("list-admin@example.com", roles={Role.admin})
    login("list-admin@example.com")


def _next(page: str) -> str | None:
    m = re.search(r'<a rel="next" href="([^"]+)"', page)
    return html.unescape(m.group(1)) if m else None


def _previous(page: str) -> str | None:
    m = re.search(r'<a rel="prev" href="([^"]+)"', page)
    return html.unescape(m.group(1)) if m else None


def _emails(page: str, prefix: str = "row-") -> list[str]:
    return re.findall(rf"({re.escape(prefix)}\d+@example\.com)", page)


def _newest_first(items, when):
    return sorted(items, key=lambda r: (when(r), r.id), reverse=True)


def test_admin_users_come_fifty_a_page_with_the_search_kept_and_no_row_twice_or_missed(client, admin, rows):
    made = rows.users(73)
    rows.users(5, prefix="other")
    page1 = client.get("/admin/users?q=row-")
    assert page1.status_code == 200
    first = _emails(page1.text)
    assert len(first) == 50
    assert '<nav class="list-pager" aria-label="Pages of accounts">' in page1.text
    assert "50 accounts on this page" in page1.text
    assert _previous(page1.text) is None
    link = _next(page1.text)
    assert link.startswith("/admin/users?") and "q=row-" in link and "after=" in link

    page2 = client.get(link)
    second = _emails(page2.text)
    assert len(second) == 23 and _next(page2.text) is None
    expected = [u.email for u in _newest_first(made, lambda u: u.created_at)]
    assert first + second == expected  # in order, nothing twice, nothing missed
    assert "other-" not in page1.text + page2.text

    back = _previous(page2.text)
    assert "q=row-" in back and "before=" in back
    assert _emails(client.get(back).text) == first


def _cursor(value) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()


def test_a_changed_or_broken_cursor_is_a_400_not_a_500(client, admin, rows, make_user, login):
    rows.users(3)
    tampered = [_cursor(v) for v in ([], ["x", 1], {"a": 1}, ["2026-01-01T00:00:00", 1],
                                     ["0001-01-01T00:00:00+05:00", 1], ["2026-01-01T00:00:00+00:00", True],
                                     ["2026-01-01T00:00:00+00:00", 2**70], ["2026-01-01T00:00:00+00:00", 1, 2])]
    for bad in ("garbage", "%00", "WyJ", *tampered):
        r = client.get(f"/admin/users?after={bad}")
        assert r.status_code == 400, (bad, r.status_code)
        # A NUL byte is refused for the whole app before the page sees it (api/core/middleware.py).
        assert ("page link is not valid" if bad != "%00" else "NUL") in r.text, bad
    assert client.get("/admin/users?after=x&before=y").status_code == 400
    assert client.get("/admin/users?after=" + "A" * 700).status_code == 422
    for path in ("/admin/enrolments", "/coach/progress", "/admin/orders", "/admin/codes", "/admin/certificates"):
        assert client.get(f"{path}?after=garbage").status_code == 400, path
    r = client.get("/api/v1/payments/codes?after=garbage")
    assert r.status_code == 400 and r.json()["error"]["code"] == "bad_cursor"


def test_enrolment_and_progress_pages_keep_their_filters_across_pages(client, admin, rows):
    made = rows.enrolments(55, "acxp")
    rows.enrolments(3, "acxs")
    for path in ("/admin/enrolments", "/coach/progress"):
        page1 = client.get(f"{path}?programme=acxp&status=active&q=row-")
        assert page1.status_code == 200
        assert len(_emails(page1.text)) == 50
        link = _next(page1.text)
        assert all(part in link for part in ("programme=acxp", "status=active", "q=row-", "after="))
        page2 = client.get(link)
        assert len(_emails(page2.text)) == 5 and _next(page2.text) is None
        expected = [f"row-{i:05d}@example.com" for i in range(len(made))][::-1]
        assert _emails(page1.text) + _emails(page2.text) == expected, path


def test_admin_actions_bring_you_back_to_the_same_page_of_the_list(client, browser, admin, rows):
    rows.enrolments(55)
    page1 = client.get("/admin/enrolments?q=row-")
    link = _next(page1.text)
    page2 = client.get(link)
    enrolment_id = re.search(r'action="/admin/enrolments/(\d+)/cancel"', page2.text).group(1)
    r = browser.post_form(link, f"/admin/enrolments/{enrolment_id}/cancel", reason="Moved to another intake",
                          back=link)
    assert r.status_code == 303 and r.headers["location"] == link
    r = browser.post_form(link, f"/admin/enrolments/{enrolment_id}/cancel", reason="x", back="https://evil.example/")
    assert r.headers["location"] == "/admin/enrolments"


LIST_PAGES = {
    "/admin/users": lambda rows, n: rows.users(n),
    "/admin/enrolments": lambda rows, n: rows.enrolments(n),
    "/coach/progress": lambda rows, n: rows.enrolments(n),
    "/admin/orders": lambda rows, n: rows.orders(n),
    "/admin/codes": lambda rows, n: rows.codes(n),
    "/admin/certificates": lambda rows, n: rows.certificates(n),
}


def _queries(client, engine, url: str) -> tuple[int, str]:
    with counting(engine) as count:
        r = client.get(url)
    assert r.status_code == 200, (url, r.status_code, r.text[:300])
    return count["n"], r.text


@pytest.mark.parametrize("path", list(LIST_PAGES))
def test_a_list_page_costs_the_same_queries_at_60_and_600_rows(client, engine, admin, rows, path):
    LIST_PAGES[path](rows, 60)
    first_small, page = _queries(client, engine, path)
    second_small, _ = _queries(client, engine, _next(page))
    LIST_PAGES[path](rows, 540)
    first_large, page = _queries(client, engine, path)
    second_large, _ = _queries(client, engine, _next(page))
    assert (first_small, second_small) == (first_large, second_large), path
    assert first_large <= 12, (path, first_large)


def test_json_lists_come_in_pages_with_a_next_cursor(client, admin, rows, make_user, login, db):
    made = rows.codes(60)
    first = client.get("/api/v1/payments/codes").json()
    assert len(first["items"]) == 50 and first["next"]
    second = client.get("/api/v1/payments/codes", params={"after": first["next"]}).json()
    assert second["next"] is None
    listed = [c["code"] for c in first["items"] + second["items"]]
    assert listed == [c.code.upper() for c in _newest_first(made, lambda c: c.created_at)]
    small = client.get("/api/v1/payments/codes", params={"limit": 7}).json()
    assert len(small["items"]) == 7
    assert client.get("/api/v1/payments/codes", params={"limit": 1000}).status_code == 422

    buyer = make_user("buyer@example.com")
    rows.orders(55, user=buyer)
    login("buyer@example.com")
    page = client.get("/api/v1/payments/orders").json()
    rest = client.get("/api/v1/payments/orders", params={"after": page["next"]}).json()
    assert len(page["items"]) == 50 and len(rest["items"]) == 5 and rest["next"] is None
    assert len({o["id"] for o in page["items"] + rest["items"]}) == 55


def test_the_csv_export_streams_every_row_in_order_a_batch_at_a_time(client, engine, admin, rows, db, monkeypatch):
    monkeypatch.setattr(pagination, "EXPORT_BATCH", 7)
    made = rows.enrolments(20)
    rows.enrolments(4, "acxs")
    filters = reports.clean_filters("acxp", None, "row-")
    chunks = list(reports.csv_stream(db, filters))
    assert len(chunks) == 1 + 3  # the header, then 7 + 7 + 6 rows

    statements: list[str] = []
    from sqlalchemy import event

    def record(_conn, _cursor, statement, *_args):
        statements.append(re.sub(r"\d+", "N", statement))

    event.listen(engine, "before_cursor_execute", record)
    try:
        r = client.get("/coach/progress.csv?programme=acxp&q=row-")
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    lines = list(csv.reader(io.StringIO(r.text)))
    assert lines[0] == reports.CSV_HEADER
    emails = [line[1] for line in lines[1:]]
    assert emails == [f"row-{i:05d}@example.com" for i in range(len(made))][::-1]
    # Each batch runs in a transaction of its own: split the statements there and compare batches.
    marker = "SAVEPOINT" if any(s.startswith("SAVEPOINT") for s in statements) else "BEGIN"
    batches, current = [], None
    for s in statements:
        if s.startswith(marker):
            current = []
            batches.append(current)
        elif current is not None:
            current.append(s)
    batches = [b for b in batches if any("FROM enrolment" in s for s in b)]
    assert len(batches) == 3
    def shape(batch: list[str]) -> list[str]:  # an IN list's length follows the batch's rows
        return [re.sub(r"IN \((?:[^()]|\([^()]*\))*\)", "IN (...)", s) for s in batch]

    assert shape(batches[1]) == shape(batches[2])  # the same statements each batch (the first has no cursor)
    assert all(len(b) == len(batches[0]) for b in batches)
    # No IN (...) longer than a batch: the statements' bound parameters stay small at any size.
    assert max(len(re.findall(r"\?|%\(", s)) for b in batches for s in b) <= 2 * pagination.EXPORT_BATCH + 10
