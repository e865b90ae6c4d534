"""Request and response hardening, each at one layer for the whole app: security headers and the CSRF
cookie; body size limits; input no route should ever see (NUL characters, absurdly nested JSON);
forwarded client addresses believed only from configured proxies."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from http.cookies import SimpleCookie
from typing import Any

from fastapi import Depends
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.core.config import get_settings
from api.core.security import CSRF_COOKIE


def _form_action() -> bytes:
    """Where forms may lead: this site, Stripe's checkout and the single sign-on providers' sites (a
    "Log in with ..." button posts here and is redirected there; browsers hold redirects to this too)."""
    from urllib.parse import urlsplit

    sources = ["'self'", "https://checkout.stripe.com"]
    for provider in get_settings().oidc_providers:
        parts = urlsplit(provider.issuer)
        origin = f"{parts.scheme}://{parts.netloc}"
        if origin not in sources:
            sources.append(origin)
    return " ".join(sources).encode()


def security_headers() -> list[tuple[bytes, bytes]]:
    """The headers every response carries (built once per app: the providers come from settings)."""
    return [
        (b"x-content-type-options", b"nosniff"),
        (b"x-frame-options", b"DENY"),
        (b"referrer-policy", b"strict-origin-when-cross-origin"),
        (b"content-security-policy",
         b"default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
         b"frame-ancestors 'none'; form-action " + _form_action() + b"; base-uri 'self'"),
    ]


class SecurityMiddleware:
    def __init__(self, app: ASGIApp):
        self.app = app
        self.headers = security_headers()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                headers += [(k, v) for k, v in self.headers if k not in present]
                if scope["path"].startswith("/docs"):  # Swagger UI needs its own inline script
                    headers = [(k, v) for k, v in headers if k != b"content-security-policy"]
                new = state.get("csrf_new")
                if new:
                    c = SimpleCookie()
                    c[CSRF_COOKIE] = new
                    c[CSRF_COOKIE].update({"path": "/", "httponly": True, "samesite": "Lax", "max-age": 86400 * 30})
                    if get_settings().secure_cookies:
                        c[CSRF_COOKIE]["secure"] = True
                    headers.append((b"set-cookie", c[CSRF_COOKIE].OutputString().encode()))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_wrapper)


def _accepts_uploads() -> None:
    """Marks a route that takes file uploads (see UploadBody)."""


# The one way a route says it takes file uploads: `dependencies=[UploadBody]`. Such a route may read a
# body up to CADRE_MAX_UPLOAD_BODY_BYTES; every other route keeps the small generic limit
# (CADRE_MAX_BODY_BYTES) or its own smaller one in BodyLimitMiddleware's prefix table. The limit for each
# file is the brief's own (api/core/filetypes.check_upload); this one caps the whole request.
UploadBody = Depends(_accepts_uploads)


def _flat_routes(routes: list) -> Iterator[tuple[Any, Any]]:
    """(route to match against the full path, route that declares dependencies) for every route,
    looking inside routers included with app.include_router (FastAPI ≥ 0.160 keeps those as
    included-router objects whose routes keep their own dependencies)."""
    for route in routes:
        candidates = getattr(route, "effective_candidates", None)
        if callable(candidates):
            for c in candidates():
                if hasattr(c, "original_route"):
                    yield (c.starlette_route or c.original_route), c.original_route
                else:
                    yield from _flat_routes([c])
        else:
            yield route, route


def is_upload_route(route: object) -> bool:
    return any(getattr(d, "dependency", None) is _accepts_uploads for d in getattr(route, "dependencies", ()))


class BodyLimitMiddleware:
    """Refuse bodies larger than the route needs (413) before reading them into memory.

    The limit is, in order: the prefix table's (smaller limits for webhooks and the like), the upload
    limit for a route declared with `UploadBody`, else the generic default. `routes` gives the app's
    routes (read when a request first needs them, so routes added later count too)."""

    def __init__(self, app: ASGIApp, default: int | None = None, per_prefix: dict[str, int] | None = None,
                 upload: int | None = None, routes: Callable[[], list] | None = None):
        self.app = app
        settings = get_settings()
        self.default = default or settings.max_body_bytes
        self.upload = upload or settings.max_upload_body_bytes
        self.per_prefix = per_prefix or {}
        self.routes = routes

    def _limit(self, scope: Scope) -> int:
        path = scope["path"]
        for prefix, limit in self.per_prefix.items():
            if path.startswith(prefix):
                return limit
        if self.routes is not None:
            for matcher, route in _flat_routes(self.routes()):
                if is_upload_route(route) and matcher.matches(scope)[0] == Match.FULL:
                    return self.upload
        return self.default

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        limit = self._limit(scope)
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _too_large(scope, receive, send, limit)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise _TooLarge(limit)
            return message

        started = False

        async def send_wrapper(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, send_wrapper)
        except _TooLarge:
            if started:
                raise
            await _too_large(scope, receive, send, limit)


def _size(n: int) -> str:
    return f"{n // (1024 * 1024)} MB" if n >= 1024 * 1024 and n % (1024 * 1024) == 0 else f"{n // 1024} KB"


def too_large_message(limit: int) -> str:
    return (f"What you sent is larger than {_size(limit)}, the most this address accepts. Nothing was saved: "
            "go back and send a smaller file (or less text).")


class _TooLarge(HTTPException):
    # An HTTPException, so body parsing (FastAPI's form and JSON reading) lets it through as a 413
    # instead of turning it into "There was an error parsing the body" (400).
    def __init__(self, limit: int = 0) -> None:
        super().__init__(413, too_large_message(limit))


async def _too_large(scope: Scope, receive: Receive, send: Send, limit: int) -> None:
    # JSON for the API, the error page for a browser (render_error chooses by the address).
    await _refuse(scope, receive, send, 413, "too_large", too_large_message(limit))


# --- input no route should see ---------------------------------------------------------------------

MAX_JSON_DEPTH = 64
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKETS = re.compile(rb"[\[\]{}]")
_INSPECTED_TYPES = ("application/x-www-form-urlencoded", "text/", "application/json")


def _has_nul(data: bytes) -> bool:
    return b"\x00" in data or b"%00" in data.lower()


def _json_depth_over(body: bytes, limit: int) -> bool:
    depth = 0
    for bracket in _BRACKETS.findall(_JSON_STRING.sub(b'""', body)):
        depth += 1 if bracket in (b"[", b"{") else -1
        if depth > limit:
            return True
    return False


def _json_has_nul(value: object) -> bool:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def body_problem(content_type: str, body: bytes) -> tuple[int, str, str] | None:
    """What is wrong with a request body that no route should have to handle, if anything."""
    if content_type.startswith("application/x-www-form-urlencoded"):
        if _has_nul(body):
            return 400, "invalid_input", "A form field contains a NUL character, which is never valid. Remove it."
        return None
    if b"\x00" in body:
        return 400, "invalid_input", "The request contains a NUL character, which is never valid. Remove it."
    if body.lstrip()[:1] not in (b"{", b"["):
        return None
    if _json_depth_over(body, MAX_JSON_DEPTH):
        return 422, "too_deeply_nested", f"The JSON is nested more than {MAX_JSON_DEPTH} levels deep; no valid " \
                                         "request is."
    try:
        document = json.loads(body)
    except ValueError:
        return None  # not JSON after all: the route explains
    if _json_has_nul(document):
        return 400, "invalid_input", "A JSON string contains a NUL character (\\u0000), which is never valid."
    return None


class InputGuardMiddleware:
    """Refuses, for every route at once, input that would otherwise reach the database or a parser and
    fail there with a 500: a NUL character in the path, the query string, a form field or a JSON
    string (PostgreSQL cannot store one), and JSON nested deeper than MAX_JSON_DEPTH (recursion).

    Bodies of the inspected types (forms, JSON, text, none declared) are read here (the body limit
    has already capped them) and handed on unchanged; multipart and binary bodies pass untouched."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if "\x00" in scope["path"] or _has_nul(scope.get("raw_path") or b"") or _has_nul(scope["query_string"]):
            await _refuse(scope, receive, send, 400, "invalid_input",
                          "The address contains a NUL character (%00), which is never valid.")
            return
        if scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        content_type = dict(scope.get("headers") or []).get(b"content-type", b"").decode("latin-1").lower()
        if content_type and not content_type.startswith(_INSPECTED_TYPES) and "+json" not in content_type:
            await self.app(scope, receive, send)
            return
        chunks, more, disconnected = [], True, None
        while more:
            message = await receive()
            if message["type"] != "http.request":
                disconnected = message
                break
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        body = b"".join(chunks)
        problem = body_problem(content_type, body) if disconnected is None else None
        if problem:
            await _refuse(scope, receive, send, *problem)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return disconnected or {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


async def _refuse(scope: Scope, receive: Receive, send: Send, status: int, code: str, message: str) -> None:
    from api.core.errors import render_error

    response = render_error(Request(scope, receive), status, code, message)
    await response(scope, receive, send)


# --- the client's address --------------------------------------------------------------------------

class ClientAddressMiddleware:
    """X-Forwarded-For and X-Forwarded-Proto are believed only from the configured proxies (IPs or
    networks, CADRE_TRUSTED_PROXIES); without any, the connecting peer is the client. Everything that
    limits per address (login throttling, look-ups, code tries) and the request log read the address
    this leaves in the scope."""

    def __init__(self, app: ASGIApp, trusted: list[str] | None = None):
        from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

        self.app = ProxyHeadersMiddleware(app, trusted_hosts=trusted) if trusted else app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)
