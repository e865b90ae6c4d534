"""Outgoing email, through the outbox.

`send_template(session, to, "accounts/confirm_email", **context)` renders web/templates/email/
<name>.txt (its `subject` block and body) and <name>.html when there is one (otherwise the HTML
part is the text, escaped, in paragraphs with its links), and writes the message to the outbox in
the caller's transaction: a rolled-back request emails nobody, and nothing is sent from the request.
The text's `footer` block (base.txt: why this person gets the email) ends both parts: a template
whose reader may have no account says why they hear from us instead.

The environment has trim_blocks: the newline after a block tag is dropped. A `{% if %}`, `{% else %}`,
`{% endif %}` or `{% for %}` stands on a line of its own (the whole line goes); one that ends a line
of text is written `+%}` so that line's newline stays (tests/outbox/test_email_templates.py checks).
`queue(session, to, subject, body)` does the same for a plain-text message.

`cadre worker` delivers it (`deliver`): "console" prints the message and files it under var/mail
(development); "smtp" sends it (production, and the tests, which read it back from a real local
SMTP server). Rendering happens when the message is written, so what is sent is what the change
said at the time, and a template error fails the request rather than a worker hours later. The
Message-ID is fixed then too: if a worker dies after the server accepted a message but before it
recorded that (the one window at-least-once leaves), the copy sent again has the same Message-ID.
"""

from __future__ import annotations

import contextlib
import logging
import re
import smtplib
import sys
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any
from urllib.parse import urlsplit

import jinja2
from markupsafe import Markup, escape
from sqlmodel import Session

from api.core.config import ROOT, Settings, get_settings
from api.core.money import format_money
from api.core.security import new_token
from api.core.timezones import format_instant

log = logging.getLogger("cadre.email")
SITE_NAME = "Cadre"
TEMPLATES = ROOT / "web" / "templates" / "email"


def _date(value, fmt: str = "%-d %B %Y") -> str:
    return value.strftime(fmt) if value else ""


def _environment(autoescape: bool) -> jinja2.Environment:
    # The text part is plain text (escaping would show "&amp;"); the HTML part is autoescaped.
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=autoescape,  # noqa: S701
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                             keep_trailing_newline=True)
    env.filters.update(money=format_money, date=_date, when=format_instant)  # when: in the reader's zone, named
    return env


_TEXT, _HTML = _environment(False), _environment(True)


def site_context() -> dict[str, Any]:
    base = get_settings().base_url.rstrip("/")
    return {"site_name": SITE_NAME, "base_url": base, "url": lambda path: f"{base}{path}"}


_LINK = re.compile(r"https?://[^\s<>\"')]*[^\s<>\"').,;:!?]")  # a sentence's full stop is not part of it
SIGNATURE = "\n-- \n"


def _text_to_html(text: str) -> Markup:
    """The text part as HTML: escaped, a paragraph per blank-line block, links clickable. The
    text's signature is left out: the HTML layout has its own (with `_footer`'s words)."""
    paragraphs = []
    for block in re.split(r"\n\s*\n", text.split(SIGNATURE)[0].strip()):
        html = _LINK.sub(lambda m: f'<a href="{m.group(0)}">{m.group(0)}</a>', str(escape(block)))
        paragraphs.append("<p>" + html.replace("\n", "<br>\n") + "</p>")
    return Markup("\n".join(paragraphs))  # noqa: S704 - every block was escaped above


def _footer(text: str) -> str:
    """Why the reader gets this email: the signature's lines after the site's name and address (the
    text's `footer` block), for the HTML part's footer. Empty for a text without a signature."""
    _, _, signature = text.partition(SIGNATURE)
    return signature.partition("\n")[2].strip()


def render(template: str, /, **context: Any) -> tuple[str, str, str]:
    """(subject, text, html) of web/templates/email/<template>."""
    ctx = {**site_context(), **context}
    text_template = _TEXT.get_template(f"{template}.txt")
    subject = " ".join("".join(text_template.blocks["subject"](text_template.new_context(ctx))).split())
    text = re.sub(r"\n{3,}", "\n\n", text_template.render(ctx)).strip() + "\n"
    footer = _footer(text)
    try:
        html_template = _HTML.get_template(f"{template}.html")
    except jinja2.TemplateNotFound:
        html = _HTML.get_template("base.html").render({**ctx, "subject": subject, "footer": footer,
                                                       "content": _text_to_html(text)})
    else:
        html = html_template.render({**ctx, "subject": subject, "footer": footer})
    return subject, text, html


def _message_id() -> str:
    return make_msgid(domain=urlsplit(get_settings().base_url).hostname or "cadre.localhost")


def _enqueue(session: Session, payload: dict[str, Any], key: str | None) -> bool:
    from api.outbox import registry
    from api.outbox import service as outbox
    from api.outbox.models import OutboxKind

    return outbox.enqueue(session, kind=OutboxKind.email, handler=registry.EMAIL, topic="email", payload=payload,
                          dedupe_key=f"email:{key}" if key else f"email:{payload['message_id']}")


def send_template(session: Session, to: str, template: str, /, *, key: str | None = None, **context: Any) -> bool:
    """Queue the email `template` to `to` in the caller's transaction. `key` makes it idempotent: a
    second call with the same key queues nothing (False)."""
    subject, text, html = render(template, **context)
    return _enqueue(session, {"to": to, "subject": subject, "text": text, "html": html, "template": template,
                              "message_id": _message_id(), "date": formatdate(usegmt=True)}, key)


def queue(session: Session, to: str, subject: str, body: str, *, key: str | None = None) -> bool:
    """An email whose text the caller wrote, queued like send_template (the HTML part is made from it).
    Prefer a template: this stays for callers on other branches that build their own text."""
    html = _HTML.get_template("base.html").render({**site_context(), "subject": subject, "footer": _footer(body),
                                                   "content": _text_to_html(body)})
    return _enqueue(session, {"to": to, "subject": subject, "text": body, "html": html, "template": None,
                              "message_id": _message_id(), "date": formatdate(usegmt=True)}, key)


# --- delivery (the worker) -------------------------------------------------------------------

def build(payload: dict[str, Any], settings: Settings | None = None) -> EmailMessage:
    settings = settings or get_settings()
    msg = EmailMessage()
    msg["From"] = settings.email_from
    msg["To"] = payload["to"]
    msg["Subject"] = payload["subject"]
    msg["Date"] = payload.get("date") or formatdate(usegmt=True)
    msg["Message-ID"] = payload.get("message_id") or _message_id()
    msg.set_content(payload["text"])
    if payload.get("html"):
        msg.add_alternative(payload["html"], subtype="html")
    return msg


class Transport:
    """One SMTP connection for a batch (opened on the first message, closed at the end), or the
    console. Every network step has CADRE_SMTP_TIMEOUT_SECONDS."""

    def __init__(self, settings: Settings | None = None):
        self.settings = settings or get_settings()
        self._smtp: smtplib.SMTP | None = None

    def send(self, msg: EmailMessage) -> None:
        s = self.settings
        if s.email_backend != "smtp":
            _to_console(msg, s)
            return
        if self._smtp is None:
            smtp = smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=s.smtp_timeout_seconds)
            try:
                if s.smtp_starttls:
                    smtp.starttls()
                if s.smtp_username:
                    smtp.login(s.smtp_username, s.smtp_password or "")
            except Exception:
                smtp.close()
                raise
            self._smtp = smtp
        try:
            self._smtp.send_message(msg)
        except Exception:
            self.close()  # the connection's state is unknown: start afresh for the next message
            raise
        log.info("email sent", extra={"to": msg["To"], "subject": msg["Subject"]})

    def close(self) -> None:
        if self._smtp is not None:
            with contextlib.suppress(Exception):  # already broken: nothing left to tell
                self._smtp.quit()
            self._smtp = None


def _to_console(msg: EmailMessage, settings: Settings) -> None:
    folder = settings.var_dir / "mail"
    folder.mkdir(parents=True, exist_ok=True)
    # 20261201T163000Z-ab12cd.eml: sorts by time, and no colons (which some file systems refuse).
    path = folder / f"{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}-{new_token(4)}.eml"
    path.write_bytes(bytes(msg))
    text = msg.get_body(("plain",))
    print(f"\n--- email to {msg['To']}: {msg['Subject']} ---\n{text.get_content() if text else ''}"
          f"--- (saved {path.name})\n", file=sys.stderr, flush=True)


def deliver(payload: dict[str, Any], transport: Transport) -> None:
    transport.send(build(payload, transport.settings))
