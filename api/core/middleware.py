"""Request and response hardening, each at one layer for the whole app: security headers and the CSRF
cookie; body size limits; input no route should ever see (NUL characters, absurdly nested JSON);
forwarded client addresses believed only from configured proxies."""

from __future__ import annotations

import json
import re
from http.cookies import SimpleCookie

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.core.config import get_settings
from api.core.security import CSRF_COOKIE

SECURITY_HEADERS = _HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"strict-origin-when-cross-origin"),
    (b"content-security-policy",
     b"default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
     b"frame-ancestors 'none'; form-action 'self' https://checkout.stripe.com; base-uri 'self'"),
]


class SecurityMiddleware:
    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                headers += [(k, v) for k, v in _HEADERS if k not in present]
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


class BodyLimitMiddleware:
    """Refuse bodies larger than the route needs (413) before reading them into memory."""

    def __init__(self, app: ASGIApp, default: int = 1024 * 1024, per_prefix: dict[str, int] | None = None):
        self.app = app
        self.default = default
        self.per_prefix = per_prefix or {}

    def _limit(self, path: str) -> int:
        for prefix, limit in self.per_prefix.items():
            if path.startswith(prefix):
                return limit
        return self.default

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        limit = self._limit(scope["path"])
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _too_large(scope, send, limit)
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
            await _too_large(scope, send, limit)


class _TooLarge(HTTPException):
    # An HTTPException, so body parsing (FastAPI's form and JSON reading) lets it through as a 413
    # instead of turning it into "There was an error parsing the body" (400).
    def __init__(self, limit: int = 0) -> None:
        super().__init__(413, f"The request is larger than {limit // 1024} KB, the most this address accepts.")


async def _too_large(scope: Scope, send: Send, limit: int) -> None:
    body = json.dumps({"error": {"code": "too_large", "message":
                                 f"The request is larger than {limit // 1024} KB, the most this address accepts."}})
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body.encode()})


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
