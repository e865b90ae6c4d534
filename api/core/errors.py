"""Business errors carry their HTTP status; handlers render them as JSON for the API and as a
friendly page for the browser.

Raising (even constructing) a CadreError during a request marks its unit of work failed: nothing
the request wrote is committed, whichever layer turns the error into a page (api/core/unit_of_work.py).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy.exc import IntegrityError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.core import unit_of_work


class CadreError(Exception):
    """A refusal the caller must hear about. Constructing one marks the request's unit of work as
    refused (api/core/unit_of_work.py), so it rolls back whichever layer turns it into a page: make one
    only to raise it, and never raise one that the code itself catches and carries on from."""

    status_code = 400
    code = "bad_request"

    def __init__(self, message: str, *, code: str | None = None, headers: dict[str, str] | None = None):
        super().__init__(message)
        unit_of_work.refused()
        self.message = message
        if code:
            self.code = code
        self.headers = headers


class NotFound(CadreError):
    status_code = 404
    code = "not_found"


class Forbidden(CadreError):
    status_code = 403
    code = "forbidden"


class NotAuthenticated(CadreError):
    status_code = 401
    code = "not_authenticated"


class Conflict(CadreError):
    status_code = 409
    code = "conflict"


class Invalid(CadreError):
    status_code = 422
    code = "invalid"


class FieldProblems(Invalid):
    """What is wrong with a form, per field ({field: message}), so a page can put each message beside
    its field and list them in the summary; the API gets them joined into one message."""

    def __init__(self, fields: dict[str, str], *, code: str):
        super().__init__(" ".join(fields.values()), code=code)
        self.fields = fields


class TooManyRequests(CadreError):
    status_code = 429
    code = "too_many_requests"


class ServiceBusy(CadreError):
    """Every database connection (or session slot) stayed busy past the pool timeout."""

    status_code = 503
    code = "busy"

    def __init__(self) -> None:
        super().__init__("The service is busy right now. Try again in a few seconds.",
                         headers={"Retry-After": "2"})


_STATUS_CODES = {
    400: "bad_request",
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    422: "invalid",
    429: "too_many_requests",
}


def wants_json(request: Request) -> bool:
    path = request.url.path
    return path.startswith(("/api/", "/webhooks/", "/.well-known/", "/status/", "/healthz", "/readyz"))


def error_body(code: str, message: str, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "message": message}
    body.update(extra)
    return {"error": body}


def _render(request: Request, status: int, code: str, message: str, headers: dict[str, str] | None = None,
            **extra: Any) -> Response:
    if wants_json(request):
        return JSONResponse(error_body(code, message, **extra), status_code=status, headers=headers)
    if status == 401:
        from urllib.parse import quote

        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target)}", status_code=303)
    from api.core.templates import templates

    return templates.TemplateResponse(
        request, "error.html", {"status": status, "code": code, "message": message},
        status_code=status, headers=headers,
    )


def render_error(request: Request, status: int, code: str, message: str,
                 headers: dict[str, str] | None = None) -> Response:
    """The standard error answer (JSON for the API, the error page for the browser)."""
    return _render(request, status, code, message, headers)


def respond(request: Request, exc: CadreError) -> Response:
    """The error as a response, for routes that return it rather than raise it. Either way the request's
    writes roll back; what must persist goes through `api.core.db.durable`."""
    return _render(request, exc.status_code, exc.code, exc.message, exc.headers)


def _request_id(request: Request) -> str:
    # The logging middleware has reset its context variable by the time the outermost handler runs;
    # it leaves the id on the request's state too.
    from api.core.logging import request_id

    return request_id.get() or getattr(request.state, "request_id", None) or "-"


def integrity_answer(exc: IntegrityError) -> tuple[int, str, str]:
    """A constraint the database enforced, as the status, code and message a client should see."""
    orig = getattr(exc, "orig", None)
    sqlstate = getattr(orig, "sqlstate", None) or getattr(getattr(orig, "diag", None), "sqlstate", None)
    text = str(orig or exc).lower()
    if sqlstate == "23505" or "unique constraint" in text or "duplicate key" in text:
        return 409, "conflict", ("That already exists: another request made the same thing at the same moment. "
                                 "Reload the page to see it.")
    if sqlstate == "23503" or "foreign key constraint" in text:
        return 409, "conflict", "Something this refers to has just changed or been removed. Reload and try again."
    return 422, "invalid", "The request would store something that is not valid. Check what you sent."


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(CadreError)
    async def _cadre_error(request: Request, exc: CadreError) -> Response:
        return _render(request, exc.status_code, exc.code, exc.message, exc.headers)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        code = _STATUS_CODES.get(exc.status_code, "error")
        message = exc.detail if isinstance(exc.detail, str) else "Request failed."
        if exc.status_code == 404 and message == "Not Found":
            message = "There is nothing at this address."
        return _render(request, exc.status_code, code, message, getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        # The traceback goes to the log (the server re-raises after this answer); the client gets the
        # request id to quote, and never the internals.
        rid = _request_id(request)
        return _render(request, 500, "internal_error",
                       f"Something went wrong on our side. It has been logged; quote request id {rid} if you "
                       "contact us.", headers={"X-Request-ID": rid})

    @app.exception_handler(IntegrityError)
    async def _integrity_error(request: Request, exc: IntegrityError) -> Response:
        # A race that slipped past a service's own check: the database said no, and the request's
        # transaction has been rolled back. The same answer as the sequential case, never a 500.
        status, code, message = integrity_answer(exc)
        return _render(request, status, code, message)

    @app.exception_handler(PoolTimeout)
    async def _pool_timeout(request: Request, exc: PoolTimeout) -> Response:
        busy = ServiceBusy()
        return _render(request, busy.status_code, busy.code, busy.message, busy.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> Response:
        fields = []
        for err in exc.errors():
            loc = ".".join(str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path"))
            fields.append({"field": loc, "message": err.get("msg", "invalid")})
        summary = "; ".join(f"{f['field']}: {f['message']}" if f["field"] else f["message"] for f in fields)
        return _render(request, 422, "invalid", summary or "The request is not valid.", fields=fields)
