"""Structured logs: one JSON line per event; every request gets an id (echoed as X-Request-ID). In
development the same events are short human lines instead (`GET /dashboard 200 12.3 ms`)."""

from __future__ import annotations

import json
import logging
import sys
import time
from contextvars import ContextVar

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.core.security import new_token

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
_STD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}
_REQUEST_ID = '"request_id"'


_second: list = [-1, ""]  # the last whole second formatted, and its text (a request line is written per request)


def _utc_stamp(created: float) -> str:
    whole = int(created)
    if whole != _second[0]:
        _second[:] = [whole, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole))]
    return f"{_second[1]}.{int((created - whole) * 1000):03d}Z"


def _is_request_line(record: logging.LogRecord) -> bool:
    return (record.name == "cadre.request" and not record.exc_info
            and all(hasattr(record, k) for k in ("method", "path", "status", "ms", "client")))


class JsonFormatter(logging.Formatter):
    def request_line(self, method: str, path: str, status: int, ms: float, client: str, created: float) -> str:
        """The request line, built directly: the same JSON object as the general path, at a fraction of
        the cost (one is written per request)."""
        rid = request_id.get()
        return (f'{{"ts": "{_utc_stamp(created)}", "level": "info", "logger": "cadre.request", "event": "request"'
                f'{f", {_REQUEST_ID}: {json.dumps(rid)}" if rid else ""}, "method": {json.dumps(method)}, '
                f'"path": {json.dumps(path)}, "status": {int(status)}, "ms": {float(ms)}, '
                f'"client": {json.dumps(client)}}}')

    def format(self, record: logging.LogRecord) -> str:
        if _is_request_line(record):
            return self.request_line(record.method, record.path, record.status, record.ms,  # type: ignore[attr-defined]
                                     record.client, record.created)  # type: ignore[attr-defined]
        data = {
            "ts": _utc_stamp(record.created),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": record.getMessage(),
        }
        rid = request_id.get()
        if rid:
            data["request_id"] = rid
        data.update({k: v for k, v in vars(record).items() if k not in _STD})
        if record.exc_info:
            data["exc"] = self.formatException(record.exc_info)
        return json.dumps(data, default=str)


class HumanFormatter(logging.Formatter):
    """Development: one short line a person reads at a glance; extra fields follow as key=value."""

    def request_line(self, method: str, path: str, status: int, ms: float, client: str, created: float) -> str:
        return f"{time.strftime('%H:%M:%S', time.localtime(created))} {method} {path} {status} {ms} ms"

    def format(self, record: logging.LogRecord) -> str:
        if _is_request_line(record):
            return self.request_line(record.method, record.path, record.status, record.ms,  # type: ignore[attr-defined]
                                     record.client, record.created)  # type: ignore[attr-defined]
        stamp = time.strftime("%H:%M:%S", time.localtime(record.created))
        extra = {k: v for k, v in vars(record).items() if k not in _STD}
        level = "" if record.levelno == logging.INFO else f"{record.levelname} "
        rest = " ".join(f"{k}={v}" for k, v in extra.items())
        line = f"{stamp} {level}{record.name.removeprefix('cadre.')}: {record.getMessage()} {rest}".rstrip()
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def configure(level: int = logging.INFO, human: bool | None = None) -> None:
    if human is None:
        from api.core.config import get_settings

        human = get_settings().env == "development"
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(HumanFormatter() if human else JsonFormatter())
    root = logging.getLogger("cadre")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False
    _configured[:] = [handler]


def incoming_or_new_id(scope: Scope) -> str:
    """The caller's X-Request-ID when it is a sane one (a proxy's or a support case's), else a new id."""
    incoming = dict(scope.get("headers") or []).get(b"x-request-id", b"").decode("latin-1")
    return incoming if incoming and len(incoming) <= 64 and incoming.isprintable() else new_token(9)


_request_log = logging.getLogger("cadre.request")
_configured: list[logging.StreamHandler] = []  # the handler configure() installed, while it is the only one


def log_request(scope: Scope, status: int, start: float) -> None:
    """The one line per request (with the current request id). While the handler configure() installed
    is the only one, the line is formatted and written straight to its stream: the same line, without
    building a LogRecord or finding the caller's frame (most of a log call's cost, paid per request)."""
    ms = round((time.perf_counter() - start) * 1000, 1)
    client = (scope.get("client") or ("-",))[0]
    if _configured and not _request_log.handlers and _request_log.isEnabledFor(logging.INFO):
        handler = _configured[0]
        if _request_log.parent.handlers == _configured and not _request_log.filters and not handler.filters:
            line = handler.formatter.request_line(scope["method"], scope["path"], status, ms, client, time.time())
            try:
                with handler.lock:
                    handler.stream.write(line + handler.terminator)
                    handler.flush()
            except (OSError, ValueError):  # the stream is gone (closed, or a full pipe): as logging does, go on
                pass
            return
    _request_log.info("request", extra={"method": scope["method"], "path": scope["path"], "status": status,
                                        "ms": ms, "client": client})


def stamped(send: Send, rid: str, seen: dict) -> Send:
    """`send`, with the response's X-Request-ID set to `rid` and its status noted in seen["status"]."""
    header = (b"x-request-id", rid.encode())

    async def send_wrapper(message: Message) -> None:
        if message["type"] == "http.response.start":
            seen["status"] = message["status"]
            headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"x-request-id"]
            message["headers"] = [*headers, header]
        await send(message)

    return send_wrapper


class RequestLogMiddleware:
    """Pure ASGI (no BaseHTTPMiddleware) so streaming and background work are untouched."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = incoming_or_new_id(scope)
        token = request_id.set(rid)
        # Also on the request's state: the 500 handler runs outside this middleware, after the reset.
        scope.setdefault("state", {})["request_id"] = rid
        start = time.perf_counter()
        seen = {"status": 500}
        try:
            await self.app(scope, receive, stamped(send, rid, seen))
        finally:
            log_request(scope, seen["status"], start)
            request_id.reset(token)
