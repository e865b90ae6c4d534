"""The answers an anonymous employer gets at /verify/{slug} and /api/v1/credentials/{slug}/verification,
rendered when the certificate is issued or its status changes, and stored beside it.

So the first view of a certificate, in any app process, is as cheap as a repeat: the kept-answers layer
(verified_pages.py) reads the stored answer with the status columns in one query and sends it if the key
it was rendered under is still the key now. The key (`key_text`) is everything the answer shows that can
change: the status columns, whether it has expired by now, the programme's wording, the published keys
and the code and templates that render it. A stale or missing answer is rendered by the full path, which
stores it again.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import UTC, datetime
from functools import lru_cache

from sqlalchemy import Column, LargeBinary, UniqueConstraint
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Field, Session, SQLModel

from api.core.config import ROOT, get_settings
from api.core.db import UTCDateTime, utcnow

log = logging.getLogger("cadre.certificates")
PAGE, JSON = "page", "json"
# How certificates/verify.html prints the moment it checked (date_time), with the word before it: the page
# may show the same minute elsewhere (a credential issued this minute is "valid from" it).
PAGE_MOMENT = "Checked %-d %B %Y, %H:%M UTC"
ISO = "iso"


class VerifiedAnswer(SQLModel, table=True):
    """One rendered answer, split around the moment it shows ("Checked ..."), put in when it is sent."""

    __tablename__ = "verified_answer"
    __table_args__ = (UniqueConstraint("certificate_id", "kind"),)

    id: int | None = Field(default=None, primary_key=True)
    certificate_id: int = Field(foreign_key="certificate.id", ondelete="CASCADE")
    kind: str = Field(max_length=8)  # PAGE | JSON
    answer_key: bytes = Field(sa_column=Column(LargeBinary, nullable=False))  # key_text it was rendered under
    before: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    after: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    fmt: str = Field(max_length=40)
    rendered_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


_SOURCES = ("api/certificates/answers.py", "api/certificates/pages.py", "api/certificates/router.py",
            "api/certificates/schemas.py", "api/certificates/service.py", "api/certificates/stored.py")


@lru_cache
def render_stamp() -> str:
    """What renders the answers in this deployment: the templates, the code that fills them, the issuer's
    name and address. A deploy that changes any of them renders every answer again."""
    h = hashlib.sha256()
    for path in sorted((ROOT / "web" / "templates").rglob("*.html")) + [ROOT / p for p in _SOURCES]:
        h.update(str(path.relative_to(ROOT)).encode())
        h.update(path.read_bytes())
    settings = get_settings()
    h.update(f"{settings.issuer_name}\n{settings.base_url}".encode())
    return h.hexdigest()[:16]


@lru_cache(maxsize=8)
def _keys_digest(stamp: tuple) -> str:
    from api.certificates import signing

    return hashlib.sha256(signing.did_document_body()).hexdigest()[:16]


def key_text(status: str, reason: str | None, changed_at: datetime | None, private: bool, superseded_by: int | None,
             expires_at: datetime | None, programme: tuple, now: datetime) -> bytes:
    """The key an answer is valid under, from the columns it shows (the same from an ORM row or a raw read)."""
    from api.certificates import signing

    if changed_at is not None:
        changed_at = (changed_at if changed_at.tzinfo else changed_at.replace(tzinfo=UTC)).astimezone(UTC)
    if expires_at is not None and expires_at.tzinfo is None:  # SQLite keeps no offset
        expires_at = expires_at.replace(tzinfo=UTC)
    expired = expires_at is not None and expires_at <= now
    return repr((status, reason, changed_at.isoformat() if changed_at else None, bool(private), superseded_by,
                 expires_at.astimezone(UTC).isoformat() if expires_at else None, expired, tuple(programme),
                 _keys_digest(signing._keys_stamp()), render_stamp())).encode()


def wording(cert, programme) -> tuple:
    """The achievement's wording the answer shows, as the status read gives it back (verified_pages): a
    programme's code, title and summary; an award (no programme) its code and name, whose wording is fixed
    in the signed credential."""
    if cert.programme_id is None:
        return (programme.code, cert.achievement_name, "")
    return (programme.code, programme.title, programme.summary)


def key_of(cert, programme, now: datetime) -> bytes:
    return key_text(cert.status, cert.status_reason, cert.status_changed_at, cert.is_private, cert.superseded_by_id,
                    cert.expires_at, wording(cert, programme), now)


def moment(fmt: str, at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z") if fmt == ISO else at.strftime(fmt)


def split(body: bytes, fmt: str, at: datetime) -> tuple[bytes, bytes] | None:
    marker = moment(fmt, at).encode()
    if body.count(marker) != 1:
        return None
    before, after = body.split(marker)
    return before, after


def store(session: Session, cert_id: int, kind: str, key: bytes, parts: tuple[bytes, bytes], fmt: str) -> None:
    """Insert or replace the stored answer (flushes, never commits)."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    values = {"answer_key": key, "before": parts[0], "after": parts[1], "fmt": fmt, "rendered_at": utcnow()}
    session.exec(insert(VerifiedAnswer).values(certificate_id=cert_id, kind=kind, **values)
                 .on_conflict_do_update(index_elements=["certificate_id", "kind"], set_=values))


def _anonymous_request(path: str):
    from starlette.requests import Request

    settings = get_settings()
    return Request({"type": "http", "method": "GET", "path": path, "raw_path": path.encode(), "query_string": b"",
                    "headers": [(b"host", settings.base_url.split("://")[-1].split("/")[0].encode())],
                    "scheme": "https" if settings.base_url.startswith("https") else "http", "root_path": "",
                    "client": None, "server": None, "state": {"user": None, "roles": set()}})


def prepare(session: Session, cert) -> None:
    """Render both answers as an anonymous viewer gets them now and store them: called when a certificate
    is issued or its status changes, in that transaction. Never stops what called it: a failure here only
    means the first view takes the full path."""
    from api.certificates import pages, router
    from api.certificates.achievements import achievement_of

    try:
        with session.begin_nested():
            programme = achievement_of(session, cert)
            now = utcnow()
            key = key_of(cert, programme, now)
            request = _anonymous_request(f"/verify/{cert.slug}")
            response, checked_at = pages.verify_response(request, session, cert, programme, now)
            parts = split(response.body, PAGE_MOMENT, checked_at)
            if parts and not request.scope["state"].get("csrf_new"):
                store(session, cert.id, PAGE, key, parts, PAGE_MOMENT)
            if not cert.is_private:
                result = router.verification_of(session, cert, now)
                parts = split(router.verification_body(result), ISO, result.checked_at)
                if parts:
                    store(session, cert.id, JSON, key, parts, ISO)
            session.flush()
    except Exception:  # noqa: BLE001 - an optimisation; the full path still answers
        log.exception("could not store the verify answers", extra={"certificate_id": cert.id})
