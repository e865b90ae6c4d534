"""/admin/outbox: what the background worker has to do, what it gave up on, and the scheduled jobs.
Admins only; an admin can send a dead letter round again."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from api.accounts.deps import AdminUser, optional_user
from api.core.db import SessionDep
from api.core.security import csrf_protect
from api.core.templates import redirect, render
from api.outbox import registry, service
from api.outbox.models import OutboxStatus

router = APIRouter(dependencies=[Depends(csrf_protect), Depends(optional_user)], include_in_schema=False)
SHOWN = {"dead": "Dead letters", "pending": "Waiting", "done": "Delivered"}


def age(seconds: int | None) -> str:
    if seconds is None:
        return "none waiting"
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            n = seconds // size
            return f"{n} {unit}{'s' if n != 1 else ''}"
    return f"{seconds} second{'s' if seconds != 1 else ''}"


@router.get("/admin/outbox")
def outbox_page(request: Request, admin: AdminUser, session: SessionDep, status: str = "dead",
                before: int | None = None):
    if status not in SHOWN:
        status = OutboxStatus.dead.value
    rows, next_before = service.messages(session, status, before)
    return render(request, "outbox/admin.html", stats=service.stats(session), rows=rows, status=status,
                  shown=SHOWN, next_before=next_before, before=before, jobs=registry.JOBS,
                  runs=service.last_runs(session), age=age)


@router.post("/admin/outbox/{message_id}/retry")
def retry_message(message_id: int, admin: AdminUser, session: SessionDep):
    msg = service.retry(session, message_id)
    return redirect("/admin/outbox", f"Message {msg.id} ({msg.topic}) will be tried again in a moment.")
