"""A logged-in viewer's pages kept once rendered: the lesson page and the dashboard (`PATHS`).

Kept per (the session and CSRF cookies, host, path, query string), so one viewer's page is never handed to
another session, and each of a user's sessions gets its own (its own CSRF token). Every request makes one
cheap read (api/core/viewerversion.py `read`): it checks the session (exists, not expired, user active)
and returns the user's and the global counter, which every transaction that changes what those pages show
bumps before it commits. A kept page is sent only if both counters are what they were when it was read,
before rendering, and it is younger than CADRE_VIEWER_CACHE_SECONDS (pages say "in 2 days"). So a logout,
a revoked session, a deactivation or a role change is seen at once, in every process; so is any change to
the viewer's progress, marks, enrolments, certificates, or to the content.

Not kept: anything but a 200, a page that set a cookie (a flash message read, a new CSRF cookie), one that
called `pagecache.not_cacheable(request)`, and requests carrying a flash cookie or a bearer token. The
request id and log line stay per request (this sits inside the request log), the security headers are
kept with the page. Bounded: least recently used pages go first past MAX_PAGES or CADRE_VIEWER_CACHE_BYTES.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.core import viewerversion
from api.core.pagecache import host_header

log = logging.getLogger("cadre.viewercache")

PATHS = re.compile(r"/dashboard|/learn/[a-z0-9-]{1,80}/(?!assessments$|enrol$)[a-z0-9-]{1,120}")
SESSION_COOKIE = "cadre_session"
CSRF_COOKIE = "cadre_csrf"
FLASH_COOKIE = "cadre_flash"
MAX_PAGES = 4096
_DROP = {b"x-request-id", b"date", b"server", b"set-cookie"}


@dataclass
class Kept:
    versions: tuple[int, int, int]
    stored_at: float
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes


def _cookies(scope: Scope) -> dict[str, str] | None:
    """The cookies this cache looks at, or None if the request is not one it keeps."""
    found: dict[str, str] = {}
    for name, value in scope["headers"]:
        if name == b"authorization":
            return None
        if name == b"cookie":
            for part in value.decode("latin-1").split(";"):
                key, _, val = part.strip().partition("=")
                if key in (SESSION_COOKIE, CSRF_COOKIE, FLASH_COOKIE):
                    found[key] = val.strip('"')
    if FLASH_COOKIE in found or not found.get(SESSION_COOKIE):
        return None
    return found


class ViewerCacheMiddleware:
    """Pure ASGI, outside the unit of work: a kept page costs one read, no session, no thread."""

    def __init__(self, app: ASGIApp, enabled: bool = True, seconds: float = 30.0, max_bytes: int = 64 << 20):
        self.app = app
        self.enabled = enabled
        self.seconds = seconds
        self.max_bytes = max_bytes
        self.pages: OrderedDict[tuple, Kept] = OrderedDict()
        self.bytes = 0
        self.lock = threading.Lock()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (not self.enabled or scope["type"] != "http" or scope["method"] != "GET"
                or not PATHS.fullmatch(scope["path"])):
            await self.app(scope, receive, send)
            return
        cookies = _cookies(scope)
        if cookies is None:
            await self.app(scope, receive, send)
            return
        from api.core.security import token_digest

        digest = token_digest(cookies[SESSION_COOKIE])
        try:
            versions = viewerversion.read(digest)
        except Exception:  # the database is away: the full path says so properly
            log.warning("viewer version read failed", exc_info=True)
            await self.app(scope, receive, send)
            return
        if versions is None:  # no such session (logged out, expired, deactivated): the page redirects
            await self.app(scope, receive, send)
            return
        csrf = hashlib.blake2b(cookies.get(CSRF_COOKIE, "").encode(), digest_size=16).digest()
        key = (digest, csrf, host_header(scope), scope["path"], scope["query_string"])
        page = self._get(key, versions)
        if page is not None:
            await send({"type": "http.response.start", "status": page.status, "headers": page.headers})
            await send({"type": "http.response.body", "body": page.body})
            return
        await self._render(scope, receive, send, key, versions)

    def _get(self, key: tuple, versions: tuple[int, int, int]) -> Kept | None:
        with self.lock:
            page = self.pages.get(key)
            if page is None:
                return None
            if page.versions != versions or time.monotonic() - page.stored_at >= self.seconds:
                self._drop(key)
                return None
            self.pages.move_to_end(key)
            return page

    def _drop(self, key: tuple) -> None:
        page = self.pages.pop(key, None)
        if page is not None:
            self.bytes -= len(page.body)

    def _keep(self, key: tuple, page: Kept) -> None:
        if len(page.body) > self.max_bytes // 8:
            return
        with self.lock:
            self._drop(key)
            self.pages[key] = page
            self.bytes += len(page.body)
            while self.pages and (len(self.pages) > MAX_PAGES or self.bytes > self.max_bytes):
                _, old = self.pages.popitem(last=False)
                self.bytes -= len(old.body)

    def clear(self) -> None:
        with self.lock:
            self.pages.clear()
            self.bytes = 0

    async def _render(self, scope: Scope, receive: Receive, send: Send, key: tuple,
                      versions: tuple[int, int, int]) -> None:
        start: Message | None = None
        chunks: list[bytes] = []
        keep = True
        started = time.monotonic()

        async def capture(message: Message) -> None:
            nonlocal start, keep
            if message["type"] == "http.response.start":
                headers = message.get("headers", [])
                keep = message["status"] == 200 and not any(k.lower() == b"set-cookie" for k, _ in headers)
                if not keep:
                    await send(message)
                    return
                start = message
                return  # held back until the body is complete
            if message["type"] != "http.response.body" or start is None:
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body"):
                return
            await send(start)
            body = b"".join(chunks)
            await send({"type": "http.response.body", "body": body})
            if not scope.get("state", {}).get("cadre_not_cacheable"):
                headers = [(k, v) for k, v in start.get("headers", []) if k.lower() not in _DROP]
                self._keep(key, Kept(versions, started, start["status"], headers, body))

        await self.app(scope, receive, capture)
