"""What certificates do when other domains report something (wired in api/outbox/registry.py).

Each runs in the worker, in the transaction that marks its message done. Each checks the state as
it is now rather than trusting the order events arrive in, so a late or repeated event is harmless.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, select

from api.accounts.models import User
from api.catalog.models import Programme
from api.certificates import service
from api.certificates.models import Certificate
from api.core import email as mail


def on_programme_completed(session: Session, payload: dict[str, Any]) -> None:
    """learning's `programme.completed`: tell the learner their certificate waits for them to confirm
    the name to print (issuing needs that confirmation, so it is not issued here)."""
    user = session.get(User, payload["user_id"])
    programme = session.get(Programme, payload["programme_id"])
    if user is None or programme is None or not user.is_active:
        return
    if session.exec(select(Certificate.id).where(Certificate.user_id == user.id,
                                                 Certificate.programme_id == programme.id)).first():
        return  # issued already (by an admin, say)
    held = programme.id in service.held_for_payment(session, user, [programme.id])
    mail.send_template(session, user.email, "certificates/ready", key=f"certificate-ready:{user.id}:{programme.id}",
                       name=user.full_name, programme=programme, held=held)


def on_instalment_overdue(session: Session, payload: dict[str, Any]) -> None:
    """payments' `instalment.overdue`: hold the learner's certificate until it is paid."""
    user = session.get(User, payload["user_id"])
    if user is None or payload["programme_id"] not in service.held_for_payment(session, user,
                                                                                [payload["programme_id"]]):
        return  # paid since the event was written
    service.suspend_for_payment(session, user.id, payload["programme_id"], payload["reason"])


def on_instalment_settled(session: Session, payload: dict[str, Any]) -> None:
    """payments' `instalment.settled`: lift the payment hold (an admin's suspension stays)."""
    service.reinstate_after_payment(session, payload["user_id"], payload["programme_id"])
