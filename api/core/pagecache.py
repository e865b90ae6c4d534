"""Anonymous public pages rendered once per content version, and answered with ETag / Last-Modified
(304 when the browser already has them).

Which pages: the home page, the catalogue, programme pages, the hall of fame and the catalogue's JSON
(`PATHS`), asked for with GET, no query string and no login (no session cookie, no bearer token, no flash
message). Anything per viewer is never cached: a logged-in visitor's request goes through untouched (its
nav, its enrol box), and a page that printed a CSRF token or set a cookie is not kept.

When: what those pages show changes through `invalidate(session)`, called in the same transaction as the
change (content sync calls it). It bumps the `public` row of `page_version` and drops this process's
pages at once; other processes (and `cadre content sync` run from a shell) are seen when each process
re-reads the version, at most CADRE_PAGE_CACHE_RECHECK_SECONDS apart. A page of another domain that
must never be kept calls `not_cacheable(request)` while rendering.
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from email.utils import formatdate, parsedate_to_datetime

import anyio
from sqlalchemy import UniqueConstraint, event
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Field, Session, SQLModel, select
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.core.db import UTCDateTime, get_engine, utcnow

PUBLIC = "public"
PATHS = re.compile(r"/(?:|programmes(?:/[a-z0-9-]{1,80})?|hall-of-fame(?:/[0-9]{4}(?:/[a-z0-9-]{1,120})?)?"
                   r"|awards(?:/[a-z0-9-]{1,100})?|api/v1/programmes(?:/[a-z0-9-]{1,80})?"
                   r"|api/v1/awards(?:/(?!cycles$)[a-z0-9-]{1,100}|/hall-of-fame/[0-9]{4}(?:/[a-z0-9-]{1,120})?)?)")
_PERSONAL_COOKIES = (b"cadre_session=", b"cadre_flash=")
_DROP = {b"x-request-id", b"date", b"server", b"set-cookie", b"etag", b"last-modified", b"cache-control", b"vary"}
MAX_PAGES = 512


class PageVersion(SQLModel, table=True):
    """A counter per family of cached pages, bumped whenever what they show changes."""

    __tablename__ = "page_version"
    __table_args__ = (UniqueConstraint("name"),)

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=40)
    version: int = 0
    changed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


# Bumped by invalidate() in this process: every page kept under an older generation is dropped.
_generation = [0]
_lock = threading.Lock()


def _bump() -> None:
    with _lock:
        _generation[0] += 1


def invalidate(session: Session, name: str = PUBLIC) -> None:
    """What the public pages show changes in this transaction: render them again (here at once, in
    other processes once they re-read the version). Flushes, never commits."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    now = utcnow()
    stmt = insert(PageVersion).values(name=name, version=1, changed_at=now)
    session.exec(stmt.on_conflict_do_update(index_elements=["name"],
                                            set_={"version": PageVersion.version + 1, "changed_at": now}))
    _bump()
    # And again when the transaction ends: a page rendered meanwhile may show either side of it.
    if not session.info.get("cadre_pages_invalidated"):
        session.info["cadre_pages_invalidated"] = True

        def ended(s: Session, *_args: object) -> None:
            s.info.pop("cadre_pages_invalidated", None)
            _bump()

        event.listen(session, "after_commit", ended, once=True)
        event.listen(session, "after_soft_rollback", ended, once=True)


def not_cacheable(request) -> None:
    """This response is for this viewer only (it holds a CSRF token, a message, a per-visitor figure)."""
    request.state.cadre_not_cacheable = True


def read_version(name: str = PUBLIC) -> int:
    # A read-only transaction: on SQLite it takes no lock and never waits behind a writer.
    with Session(get_engine().execution_options(cadre_write=False)) as s:
        return s.exec(select(PageVersion.version).where(PageVersion.name == name)).first() or 0


@dataclass
class Page:
    key: tuple[int, int]
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes
    etag: bytes
    last_modified: bytes
    modified_at: float


def _is_anonymous(scope: Scope) -> bool:
    for name, value in scope["headers"]:
        if name == b"cookie" and any(c in value for c in _PERSONAL_COOKIES):
            return False
        if name == b"authorization":
            return False
    return True


def host_header(scope: Scope) -> bytes:
    """The request's Host header (part of a kept page's key: its links are absolute)."""
    for name, value in scope["headers"]:
        if name == b"host":
            return value
    return b""


def _not_modified(scope: Scope, page: Page) -> bool:
    since = None
    for name, value in scope["headers"]:
        if name == b"if-none-match":
            return value.strip() == b"*" or page.etag in [v.strip().removeprefix(b"W/") for v in value.split(b",")]
        if name == b"if-modified-since":
            since = value
    if since is None:
        return False
    try:
        return parsedate_to_datetime(since.decode("latin-1")).timestamp() >= int(page.modified_at)
    except (TypeError, ValueError):
        return False


class PageCacheMiddleware:
    """Pure ASGI, outside the unit of work: a kept page is answered without a session, a thread or a
    query. Sits inside the request log and the client-address layer, outside the security headers (which
    are kept with the page)."""

    def __init__(self, app: ASGIApp, recheck_seconds: float = 2.0, enabled: bool = True):
        self.app = app
        self.recheck = recheck_seconds
        self.enabled = enabled
        self.pages: dict[tuple[bytes, str], Page] = {}
        self.db_version = -1
        self.checked_at = float("-inf")
        self.checking = False

    async def _key(self) -> tuple[int, int]:
        now = time.monotonic()
        if now - self.checked_at >= self.recheck and not self.checking:
            self.checking = True
            try:
                self.db_version = await anyio.to_thread.run_sync(read_version)
                self.checked_at = time.monotonic()
            except Exception:  # the database is away: render every time until it is back
                self.checked_at = float("-inf")
                return (_generation[0], -1)
            finally:
                self.checking = False
        return (_generation[0], self.db_version)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (not self.enabled or scope["type"] != "http" or scope["method"] != "GET" or scope["query_string"]
                or not PATHS.fullmatch(scope["path"]) or not _is_anonymous(scope)):
            await self.app(scope, receive, send)
            return
        key = await self._key()
        # Kept per Host header as well: a page that ever printed the request's own address (url_for does)
        # must not be handed to visitors who asked for another host.
        where = (host_header(scope), scope["path"])
        page = self.pages.get(where)
        if page is not None and page.key == key and key[1] >= 0:
            await self._answer(scope, send, page)
            return
        await self._render(scope, receive, send, key, where)

    async def _answer(self, scope: Scope, send: Send, page: Page) -> None:
        validators = [(b"etag", page.etag), (b"last-modified", page.last_modified),
                      (b"cache-control", b"no-cache"), (b"vary", b"Cookie, Authorization")]
        if _not_modified(scope, page):
            await send({"type": "http.response.start", "status": 304, "headers": validators})
            await send({"type": "http.response.body", "body": b""})
            return
        await send({"type": "http.response.start", "status": page.status, "headers": page.headers + validators})
        await send({"type": "http.response.body", "body": page.body})

    async def _render(self, scope: Scope, receive: Receive, send: Send, key: tuple[int, int],
                      where: tuple[bytes, str]) -> None:
        start: Message | None = None
        chunks: list[bytes] = []
        keep = True

        async def capture(message: Message) -> None:
            nonlocal start, keep
            if message["type"] == "http.response.start":
                start = message
                headers = message.get("headers", [])
                keep = message["status"] == 200 and not any(k.lower() == b"set-cookie" for k, _ in headers)
                return  # held back until the body is complete
            if message["type"] != "http.response.body" or start is None:
                await send(message)  # e.g. the test client's http.response.debug
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body"):
                return
            state = scope.get("state", {})
            if not keep or state.get("cadre_not_cacheable") or state.get("cadre_per_visitor"):
                await send(start)
                for chunk in chunks:
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
                await send({"type": "http.response.body", "body": b""})
                return
            body = b"".join(chunks)
            now = time.time()
            page = Page(key=key, status=start["status"],
                        headers=[(k, v) for k, v in start.get("headers", []) if k.lower() not in _DROP],
                        body=body, etag=b'"' + hashlib.blake2b(body, digest_size=12).hexdigest().encode() + b'"',
                        last_modified=formatdate(now, usegmt=True).encode(), modified_at=now)
            if key[1] >= 0 and key[0] == _generation[0]:
                if len(self.pages) >= MAX_PAGES:
                    self.pages.clear()
                self.pages[where] = page
            await self._answer(scope, send, page)

        await self.app(scope, receive, capture)
