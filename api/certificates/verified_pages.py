"""What an anonymous employer sees at /verify/{slug} and /api/v1/credentials/{slug}/verification, kept
once rendered and answered after one cheap read of the certificate's status.

Every view reads the row's status columns (one indexed query, no ORM, on the event loop), so a
revocation, suspension, reinstatement, renewal or privacy change shows on the next view, whichever
process made it. What else the answer depends on is in the key too: whether it has expired by now, and
the published keys (a rotation re-checks). The one part that changes every time, the moment it was
checked, is put in when it is sent. A logged-in viewer, a miss, or a busy pool takes the full path.
"""

from __future__ import annotations

import re
import threading
from datetime import datetime
from functools import lru_cache

from sqlalchemy import create_engine, select
from sqlalchemy.engine import Engine
from starlette.types import ASGIApp, Receive, Scope, Send

from api.certificates import signing
from api.certificates.models import Certificate
from api.core.config import get_settings
from api.core.db import get_engine, utcnow
from api.core.middleware import security_headers

MAX_KEPT = 20_000
PAGE_MOMENT = "%-d %B %Y, %H:%M UTC"  # how certificates/verify.html prints the moment it checked (the date_time filter)
PATHS = re.compile(r"/verify/(?!bulk$)([A-Za-z0-9_-]{1,40})|/api/v1/credentials/([A-Za-z0-9_-]{1,40})/verification")
_PERSONAL_COOKIES = (b"cadre_session=", b"cadre_flash=")
DID_PATH = "/.well-known/did.json"
_kept: dict[tuple[str, str], tuple[tuple, bytes, bytes, str]] = {}
_lock = threading.Lock()
_COLUMNS = (Certificate.status, Certificate.status_reason, Certificate.status_changed_at, Certificate.is_private,
            Certificate.superseded_by_id, Certificate.expires_at)


def status_key(slug: str, now: datetime) -> tuple | None:
    """The certificate's status columns now (None: no such certificate, or the pool is busy: take the full
    path, which waits its turn properly)."""
    engine = _status_engine()
    checkedout = getattr(engine.pool, "checkedout", None)
    if len(slug) > 40 or (checkedout is not None and checkedout() >= STATUS_CONNECTIONS):
        return None
    with engine.connect() as conn:
        row = conn.execute(select(*_COLUMNS).where(Certificate.slug == slug)).first()
        if engine.dialect.name != "postgresql":
            conn.rollback()
    if row is None:
        return None
    expires_at = row[5]
    if expires_at is not None and expires_at.tzinfo is None:  # SQLite keeps no offset
        from datetime import UTC

        expires_at = expires_at.replace(tzinfo=UTC)
    return (*row[:5], expires_at is not None and expires_at <= now, signing._keys_stamp())


STATUS_CONNECTIONS = 2


@lru_cache
def _status_engine(url: str | None = None) -> Engine:
    """Connections for the status reads, kept apart from the request pool: on PostgreSQL two, in
    autocommit (one round trip per read: no BEGIN or ROLLBACK, no ping on checkout; a connection that has
    gone is replaced on its next use), so a busy request pool never makes the event loop wait."""
    settings = get_settings()
    if settings.is_sqlite:
        return get_engine().execution_options(cadre_write=False)
    return create_engine(url or settings.database_url, pool_size=STATUS_CONNECTIONS, max_overflow=0, pool_timeout=0.1,
                         pool_recycle=600, isolation_level="AUTOCOMMIT")


def kept(kind: str, slug: str) -> bytes | None:
    """The kept answer with the current moment put in, if the certificate's status is what it was."""
    entry = _kept.get((kind, slug))
    if entry is None:
        return None
    now = utcnow()
    key = status_key(slug, now)
    if key is None or key != entry[0]:
        return None
    return entry[1] + _moment(entry[3], now).encode() + entry[2]


def key_of(cert: Certificate, now: datetime) -> tuple:
    """The same key as status_key, from the row an answer was rendered from."""
    expired = cert.expires_at is not None and cert.expires_at <= now
    return (cert.status, cert.status_reason, cert.status_changed_at, cert.is_private, cert.superseded_by_id, expired,
            signing._keys_stamp())


def keep(kind: str, cert: Certificate, body: bytes, checked_at: datetime, fmt: str) -> None:
    """Keep an answer rendered for an anonymous viewer from `cert`, split around the moment it shows."""
    marker = _moment(fmt, checked_at).encode()
    if body.count(marker) != 1:
        return
    key, slug = key_of(cert, checked_at), cert.slug
    before, after = body.split(marker)
    with _lock:
        if len(_kept) >= MAX_KEPT:
            _kept.clear()
        _kept[(kind, slug)] = (key, before, after, fmt)


def anonymous(scope: Scope) -> bool:
    """No login and nothing per visitor: the answer is the same for every anonymous viewer."""
    for name, value in scope.get("headers") or []:
        if name == b"cookie" and any(c in value for c in _PERSONAL_COOKIES):
            return False
        if name == b"authorization":
            return False
    return True


def lookup_bucket(scope: Scope) -> str:
    client = scope.get("client")
    return f"verify:{client[0] if client else 'unknown'}"


class VerifiedPagesMiddleware:
    """Pure ASGI, outside the unit of work: counts the look-up (as the routes would), then answers from
    `kept` when the status read says nothing changed; otherwise the request goes on to the routes, with
    the look-up already counted."""

    def __init__(self, app: ASGIApp):
        self.app = app
        self.security = security_headers()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        match = None
        if scope["type"] == "http" and scope["method"] == "GET" and not scope["query_string"]:
            if scope["path"] == DID_PATH:
                # The issuer's DID document, built once per change of the key index (signing.py); the
                # route of the same path documents it in the API.
                body = signing.did_document_body()
                await send({"type": "http.response.start", "status": 200, "headers": [
                    (b"content-type", b"application/did+json"), (b"content-length", str(len(body)).encode()),
                    *self.security]})
                await send({"type": "http.response.body", "body": body})
                return
            match = PATHS.fullmatch(scope["path"])
        if match is None or not anonymous(scope):
            await self.app(scope, receive, send)
            return
        from api.core import counters

        used, _ = counters.count(lookup_bucket(scope), 60)
        if used <= get_settings().lookups_per_minute:
            scope.setdefault("state", {})["cadre_lookup_counted"] = True
            kind, slug = ("page", match.group(1)) if match.group(1) else ("json", match.group(2))
            try:
                body = kept(kind, slug)
            except Exception:  # the database is away: the full path answers (or explains)
                body = None
            if body is not None:
                content_type = b"text/html; charset=utf-8" if kind == "page" else b"application/json"
                await send({"type": "http.response.start", "status": 200, "headers": [
                    (b"content-type", content_type), (b"content-length", str(len(body)).encode()),
                    (b"cache-control", b"no-store"), *self.security]})
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)  # over the limit: the route counts it and answers 429


def forget() -> None:
    with _lock:
        _kept.clear()


def _moment(fmt: str, at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z") if fmt == "iso" else at.strftime(fmt)
