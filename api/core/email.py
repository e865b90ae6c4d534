"""Outgoing email.

`queue(session, ...)` holds a message on the database session and sends it only after that
session commits, so a rolled-back request never emails anyone. Backends: "console" prints the
message and files it under var/mail (development); "smtp" sends it (production, and the tests,
which read it back from a real local SMTP server).
"""

from __future__ import annotations

import logging
import smtplib
import sys
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from sqlalchemy import event
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session

from api.core.config import Settings, get_settings
from api.core.security import new_token

log = logging.getLogger("cadre.email")
_KEY = "cadre_outbox"


def build(to: str, subject: str, body: str, settings: Settings | None = None) -> EmailMessage:
    settings = settings or get_settings()
    msg = EmailMessage()
    msg["From"] = settings.email_from
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain="cadre.localhost")
    msg.set_content(body)
    return msg


def send_now(msg: EmailMessage, settings: Settings | None = None) -> None:
    settings = settings or get_settings()
    if settings.email_backend == "smtp":
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=15) as smtp:
            if settings.smtp_starttls:
                smtp.starttls()
            if settings.smtp_username:
                smtp.login(settings.smtp_username, settings.smtp_password or "")
            smtp.send_message(msg)
        log.info("email sent", extra={"to": msg["To"], "subject": msg["Subject"]})
        return
    folder = settings.var_dir / "mail"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{formatdate(usegmt=True).replace(' ', '_').replace(',', '')}-{new_token(4)}.eml"
    path.write_bytes(bytes(msg))
    print(f"\n--- email to {msg['To']}: {msg['Subject']} ---\n{msg.get_content()}--- (saved {path.name})\n",
          file=sys.stderr)


def queue(session: Session, to: str, subject: str, body: str) -> None:
    session.info.setdefault(_KEY, []).append(build(to, subject, body))


@event.listens_for(OrmSession, "after_commit")
def _send_after_commit(session: OrmSession) -> None:
    for msg in session.info.pop(_KEY, []):
        try:
            send_now(msg)
        except Exception:  # a mail server outage must not undo a committed change
            log.exception("email failed", extra={"to": msg["To"], "subject": msg["Subject"]})


@event.listens_for(OrmSession, "after_rollback")
def _drop_after_rollback(session: OrmSession) -> None:
    session.info.pop(_KEY, None)
