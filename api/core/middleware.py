"""Response hardening: security headers on every response, and the CSRF cookie when a page minted one."""

from __future__ import annotations

from http.cookies import SimpleCookie

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.core.config import get_settings
from api.core.security import CSRF_COOKIE

_HEADERS = [
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
                    raise _TooLarge
            return message

        try:
            await self.app(scope, counted, send)
        except _TooLarge:
            await _too_large(scope, send, limit)


class _TooLarge(Exception):
    pass


async def _too_large(scope: Scope, send: Send, limit: int) -> None:
    import json

    body = json.dumps({"error": {"code": "too_large", "message":
                                 f"The request is larger than {limit // 1024} KB, the most this address accepts."}})
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body.encode()})
