"""One unit of work per request: any business error rolls back everything the request wrote.

A page that catches a `CadreError` and renders or redirects must not let the request's session commit
what a service wrote before it refused. So the refusal itself is recorded: `CadreError.__init__`
calls `refused()`, which marks the request's unit of work failed and rolls its session back at once
(so the page that follows is rendered from what is really stored). The session dependency
(`api.core.db.get_session`) then rolls back instead of committing.

Writes that must outlive a refusal (rate-limit counters, failed log-ins) go through
`api.core.db.durable`, which commits them on their own.

The state lives in a ContextVar set by `UnitOfWorkMiddleware`. It holds a mutable object, so the
copies of the context that the threadpool makes for sync routes and dependencies all share it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

log = logging.getLogger("cadre.db")


@dataclass(eq=False)
class UnitOfWork:
    failed: bool = False
    session: Any = None  # the request's Session, once the dependency has made it
    # True: durable writes run inside the request's own transaction and are written again after a
    # rollback (SQLite while the request holds the write lock, and the tests' single connection).
    # False: they get their own connection and commit at once.
    durable_in_session: bool = False
    replay: list[Callable[[Any], Any]] = field(default_factory=list)

    def fail(self) -> None:
        self.failed = True
        session = self.session
        if session is None or not session.in_transaction() or session.in_nested_transaction():
            return  # nothing begun yet, or inside a savepoint block: the dependency rolls back at the end
        try:
            self.rollback()
        except Exception:  # the dependency rolls back again at the end; the business error must surface
            log.exception("rollback after a refusal failed")

    def rollback(self) -> None:
        """Roll the session back, then write the durable records again, each committed on its own."""
        session = self.session
        session.rollback()
        while self.replay:
            work = self.replay.pop(0)
            work(session)
            session.commit()


_current: ContextVar[UnitOfWork | None] = ContextVar("cadre_unit_of_work", default=None)


def current() -> UnitOfWork | None:
    return _current.get()


def refused() -> None:
    """A business error was raised: the current request (if any) must not commit."""
    uow = _current.get()
    if uow is not None:
        uow.fail()


class UnitOfWorkMiddleware:
    """Pure ASGI: a fresh unit of work for each HTTP request."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        token = _current.set(UnitOfWork())
        try:
            await self.app(scope, receive, send)
        finally:
            _current.reset(token)
