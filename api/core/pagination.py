"""Keyset pagination, the one way every list that grows is cut into pages.

A list is ordered by a few columns whose last one is unique (e.g. newest first: created_at, id),
backed by an index in that order. A page is "the next N rows after this position", so page 2,000
costs what page 1 costs (no OFFSET), and rows added or removed meanwhile shift nothing. The position
travels as an opaque cursor (`after` for the next page, `before` for the previous one); a cursor that
does not decode is a 400, never a 500. Pages put it in links that keep their search and filters
(`Page.links`, rendered by web/templates/partials/pager.html); the JSON API returns it as `next`
(`CursorPage`); exports walk every page in turn (`batches`).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Generic, TypeVar
from urllib.parse import urlencode

from fastapi import Query
from pydantic import BaseModel, Field
from sqlalchemy import literal, tuple_
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.types import TypeDecorator
from sqlmodel import Session

from api.core.errors import CadreError

PAGE_SIZE = 50
MAX_PAGE_SIZE = 100
EXPORT_BATCH = 1000
_MAX_CURSOR = 600  # characters: a cursor is a handful of values

T = TypeVar("T")


class BadCursor(CadreError):
    status_code = 400
    code = "bad_cursor"

    def __init__(self) -> None:
        super().__init__("This page link is not valid (it may have been cut short or changed). "
                         "Go back to the first page of the list and try again.")


class Keyset:
    """An ordering for pages: columns of the listed rows, all ascending or all descending, the last
    one unique (the id), e.g. `Keyset(User.created_at, User.id, descending=True)`. The database needs
    an index in the same order for a page to cost the same at any depth."""

    def __init__(self, *columns: InstrumentedAttribute, descending: bool = False):
        self.columns = columns
        self.descending = descending
        self._types = [_python_type(c) for c in columns]

    # --- cursors ---

    def encode(self, row: Any) -> str:
        values = [_plain(self._value(row, c)) for c in self.columns]
        raw = json.dumps(values, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    def decode(self, cursor: str) -> tuple:
        try:
            if len(cursor) > _MAX_CURSOR:
                raise ValueError("too long")
            raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
            values = json.loads(raw)
            if not isinstance(values, list) or len(values) != len(self.columns):
                raise ValueError("wrong shape")
            return tuple(_typed(v, t) for v, t in zip(values, self._types, strict=True))
        except (ValueError, TypeError, OverflowError, binascii.Error, UnicodeDecodeError, RecursionError) as exc:
            raise BadCursor() from exc

    def _value(self, row: Any, column: InstrumentedAttribute) -> Any:
        owner = column.class_
        if isinstance(row, owner):
            return getattr(row, column.key)
        for part in row:  # a row of several entities: (Enrolment, User, Programme)
            if isinstance(part, owner):
                return getattr(part, column.key)
        raise TypeError(f"row has no {owner.__name__} for the keyset")

    # --- queries ---

    def ordered(self, query: Any, *, reverse: bool = False) -> Any:
        down = self.descending != reverse
        return query.order_by(*[c.desc() if down else c.asc() for c in self.columns])

    def beyond(self, query: Any, position: tuple, *, reverse: bool = False) -> Any:
        """Rows strictly after `position` in this order (before it when `reverse`)."""
        down = self.descending != reverse
        key = tuple_(*self.columns)
        at = tuple_(*[literal(v, type_=c.expression.type) for c, v in zip(self.columns, position, strict=True)])
        return query.where(key < at if down else key > at)


@dataclass
class Links:
    """Where the pager points; None where there is nowhere to go."""

    first: str | None
    previous: str | None
    next: str | None
    size: int


@dataclass
class Page(Generic[T]):
    rows: list[T]
    next: str | None  # pass as `after` for the rows that follow
    previous: str | None  # pass as `before` for the rows that come before
    size: int
    started: bool  # came here by a cursor (so there is a first page to go back to)

    def links(self, path: str, filters: dict[str, str] | None = None) -> Links:
        """Links for a page at `path`, each keeping `filters` (the list's search and filters)."""
        kept = {k: v for k, v in (filters or {}).items() if v}

        def url(**cursor: str) -> str:
            query = urlencode({**kept, **cursor})
            return f"{path}?{query}" if query else path

        return Links(first=url() if self.started else None,
                     previous=url(before=self.previous) if self.previous else None,
                     next=url(after=self.next) if self.next else None, size=self.size)


def paginate(session: Session, query: Any, keyset: Keyset, *, after: str | None = None, before: str | None = None,
             size: int = PAGE_SIZE) -> Page:
    """One page of `query` (a select with its filters, no ORDER BY): `size` rows after the `after`
    cursor, or before the `before` cursor, or from the start. Two cursors at once is a 400."""
    if after and before:
        raise BadCursor()
    backwards = bool(before)
    if after or before:
        query = keyset.beyond(query, keyset.decode(after or before), reverse=backwards)
    fetched = list(session.exec(keyset.ordered(query, reverse=backwards).limit(size + 1)).all())
    more = len(fetched) > size
    rows = fetched[:size]
    if backwards:
        rows.reverse()
        nxt = keyset.encode(rows[-1]) if rows else None
        prev = keyset.encode(rows[0]) if more else None
    else:
        nxt = keyset.encode(rows[-1]) if more else None
        prev = keyset.encode(rows[0]) if after and rows else None
    return Page(rows=rows, next=nxt, previous=prev, size=size, started=bool(after or before))


def return_to(back: str | None, path: str) -> str:
    """Where a form on a list page sends the admin afterwards: the same page of the same list (its
    filters and cursor), when `back` is that list's own address; otherwise the list's first page."""
    if not back or not back.isprintable() or "//" in back or "\\" in back:
        return path
    if back == path or back.startswith(path + "?"):
        return back
    return path


def here(request: Any) -> str:
    """The request's path and query, for a form's `back` field."""
    return request.url.path + (f"?{request.url.query}" if request.url.query else "")


def batches(read: Callable[[str | None], Page[T]]) -> Iterator[list[T]]:
    """Every row, page by page: `read(after)` returns the page after that cursor (None: the first)."""
    after: str | None = None
    while True:
        page = read(after)
        if page.rows:
            yield page.rows
        if not page.next:
            return
        after = page.next


# --- request parameters and the JSON shape ------------------------------------------------------

After = Annotated[str | None, Query(max_length=_MAX_CURSOR, description="Cursor: the page after this one "
                                                                         "(the `next` of the page before).")]
Before = Annotated[str | None, Query(max_length=_MAX_CURSOR, description="Cursor: the page before this one.")]
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description=f"Rows per page, at most {MAX_PAGE_SIZE}.")]


class CursorPage(BaseModel, Generic[T]):
    """One page of a list. Ask for the next one with `?after=<next>`; `next` is null on the last page."""

    items: list[T]
    next: str | None = Field(description="Pass as the `after` query parameter for the next page; "
                                         "null when this is the last page.")


# --- cursor values ----------------------------------------------------------------------------

def _python_type(column: InstrumentedAttribute) -> type:
    kind = column.expression.type
    if isinstance(kind, TypeDecorator):
        kind = kind.impl
    try:
        return kind.python_type
    except NotImplementedError:
        return str


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def _typed(value: Any, kind: type) -> Any:
    if kind is datetime:
        if not isinstance(value, str):
            raise ValueError("not a time")
        moment = datetime.fromisoformat(value)
        if moment.tzinfo is None:
            raise ValueError("naive time")
        return moment.astimezone(UTC)
    if kind is int:
        if isinstance(value, bool) or not isinstance(value, int) or abs(value) >= 2**63:
            raise ValueError("not an integer")
        return value
    if kind is str:
        if not isinstance(value, str) or "\x00" in value:
            raise ValueError("not text")
        return value
    raise ValueError(f"cannot page by {kind.__name__}")
