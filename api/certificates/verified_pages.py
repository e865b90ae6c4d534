"""What an anonymous employer sees at /verify/{slug} and /api/v1/credentials/{slug}/verification, kept
once rendered and answered after one cheap read of the certificate's status.

Every view reads the row's status columns (one indexed query, no ORM, on the event loop), so a
revocation, suspension, reinstatement, renewal or privacy change shows on the next view, whichever
process made it. What else the answer depends on is in the key too: whether it has expired by now, and
the published keys (a rotation re-checks). The one part that changes every time, the moment it was
checked, is put in when it is sent. A logged-in viewer, a miss, or a busy pool takes the full path.
"""

from __future__ import annotations

import logging
import re
import threading
from datetime import UTC, datetime

from sqlalchemy import and_, func, select
from sqlalchemy.engine import Engine
from starlette.types import Scope, Send

from api.catalog.models import Programme
from api.certificates import answers, signing
from api.certificates.achievements import AWARD_CODE
from api.certificates.answers import VerifiedAnswer
from api.certificates.models import Certificate
from api.core.config import get_settings
from api.core.db import durable, get_engine, utcnow
from api.core.rawpg import RawReader

log = logging.getLogger("cadre.certificates")

MAX_KEPT = 20_000
PAGE_MOMENT = answers.PAGE_MOMENT
PATHS = re.compile(r"/verify/(?!bulk$)([A-Za-z0-9_-]{1,40})|/api/v1/credentials/([A-Za-z0-9_-]{1,40})/verification")
_PERSONAL_COOKIES = (b"cadre_session=", b"cadre_flash=")
DID_PATH = "/.well-known/did.json"
# (kind, slug) -> (row, expired, key index stamp, before, after, fmt)
_kept: dict[tuple[str, str], tuple] = {}
_lock = threading.Lock()
STATUS_CONNECTIONS = 2

# One indexed read per view (certificate.slug is unique), by a bare DBAPI cursor on PostgreSQL: the status
# columns, the programme's wording (an award has no programme: answers.wording), and on a miss the answer
# stored at issue.
_STATUS_SQL = ("SELECT c.status, c.status_reason, c.status_changed_at, c.is_private, c.superseded_by_id, "
               "c.expires_at, COALESCE(p.code, 'CAY'), COALESCE(p.title, c.achievement_name), "
               "COALESCE(p.summary, ''){answer} FROM certificate c "
               "LEFT JOIN programme p ON p.id = c.programme_id{join} WHERE c.slug = %s")
assert AWARD_CODE == "CAY", "the status read names the award code literally"
_PLAIN_SQL = _STATUS_SQL.format(answer="", join="")
_ANSWER_SQL = _STATUS_SQL.format(answer=", a.answer_key, a.before, a.after, a.fmt",
                                 join=" LEFT JOIN verified_answer a ON a.certificate_id = c.id AND a.kind = %s")


def _read(slug: str, kind: str | None) -> tuple | None:
    """The row for `slug` (with the stored answer of `kind` if given), or None: no such certificate, or the
    pool is busy (the full path then waits its turn properly)."""
    settings = get_settings()
    if not settings.is_sqlite:
        return _raw.one(settings.database_url, _ANSWER_SQL if kind else _PLAIN_SQL, (kind, slug) if kind else (slug,))
    engine = _status_engine()
    # SQLite: through the ORM's column types, which put back the UTC offset SQLite does not keep.
    columns = [Certificate.status, Certificate.status_reason, Certificate.status_changed_at, Certificate.is_private,
               Certificate.superseded_by_id, Certificate.expires_at, func.coalesce(Programme.code, AWARD_CODE),
               func.coalesce(Programme.title, Certificate.achievement_name), func.coalesce(Programme.summary, "")]
    query = select(*columns).outerjoin(Programme, Programme.id == Certificate.programme_id)
    if kind:
        query = query.add_columns(VerifiedAnswer.answer_key, VerifiedAnswer.before, VerifiedAnswer.after,
                                  VerifiedAnswer.fmt).outerjoin(
            VerifiedAnswer, and_(VerifiedAnswer.certificate_id == Certificate.id, VerifiedAnswer.kind == kind))
    with engine.connect() as conn:
        row = conn.execute(query.where(Certificate.slug == slug)).first()
        conn.rollback()
    return row


def _status_engine() -> Engine:
    return get_engine().execution_options(cadre_write=False)


_raw = RawReader(keep=STATUS_CONNECTIONS)  # PostgreSQL: one round trip per read (api/core/rawpg.py)


def close_connections() -> None:
    _raw.close()


def _key(row: tuple, now: datetime) -> bytes:
    return answers.key_text(row[0], row[1], row[2], row[3], row[4], row[5], (row[6], row[7], row[8]), now)


def _expired(expires_at: datetime | None, now: datetime) -> bool:
    if expires_at is not None and expires_at.tzinfo is None:  # SQLite keeps no offset
        expires_at = expires_at.replace(tzinfo=UTC)
    return expires_at is not None and expires_at <= now


def kept(kind: str, slug: str) -> bytes | None:
    """The answer kept in this process, or else the one stored at issue, with the current moment put in,
    if it was rendered from what the certificate's row says now.

    Kept here: the row's columns as they were (compared as they are read: no key to build per view),
    whether it had expired, and the key index it was checked under. Stored: the canonical key
    (answers.key_text), compared on a process's first view."""
    if len(slug) > 40:
        return None
    entry = _kept.get((kind, slug))
    now = utcnow()
    if entry is not None:
        row = _read(slug, None)
        if row is None:
            return None
        if (tuple(row) == entry[0] and _expired(row[5], now) == entry[1]
                and signing._keys_stamp() == entry[2]):
            return entry[3] + _moment(entry[5], now) + entry[4]
    row = _read(slug, kind)  # not kept here, or changed since: the stored answer, if it is as things are now
    if row is None or row[9] is None:
        return None
    if bytes(row[9]) != _key(row, now):
        return None
    entry = (tuple(row[:9]), _expired(row[5], now), signing._keys_stamp(), bytes(row[10]), bytes(row[11]), row[12])
    _put(kind, slug, entry)
    return entry[3] + _moment(entry[5], now) + entry[4]


_minute: list = [None, b""]


def _moment(fmt: str, now: datetime) -> bytes:
    """The moment as the answer prints it; the page's (to the minute) is made once a minute."""
    if fmt == answers.ISO:
        return answers.moment(fmt, now).encode()
    stamp = (fmt, now.replace(second=0, microsecond=0))
    if _minute[0] != stamp:
        _minute[:] = [stamp, answers.moment(fmt, now).encode()]
    return _minute[1]


def _put(kind: str, slug: str, entry: tuple) -> None:
    with _lock:
        if len(_kept) >= MAX_KEPT:
            _kept.clear()
        _kept[(kind, slug)] = entry


def keep(session, kind: str, cert: Certificate, programme, body: bytes, checked_at: datetime, fmt: str) -> None:
    """Keep an answer the full path rendered for an anonymous viewer, here and in the database (on its own
    transaction: a GET's is read-only), so the next view anywhere is answered from it."""
    parts = answers.split(body, fmt, checked_at)
    if parts is None:
        return
    key = answers.key_of(cert, programme, checked_at)
    row = (cert.status, cert.status_reason, cert.status_changed_at, cert.is_private, cert.superseded_by_id,
           cert.expires_at, programme.code, programme.title, programme.summary)
    _put(kind, cert.slug, (row, _expired(cert.expires_at, checked_at), signing._keys_stamp(), parts[0], parts[1], fmt))
    try:
        durable(lambda s: answers.store(s, cert.id, kind, key, parts, fmt), session)
    except Exception:  # noqa: BLE001 - the answer is sent all the same; the next view renders it again
        log.exception("could not store a verify answer", extra={"certificate_id": cert.id})


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


async def answer(scope: Scope, send: Send, security: list[tuple[bytes, bytes]]) -> bool:
    """Sent before any of the app's layers (api/main.py CadreApp), if this is a request it answers: the
    issuer's DID document, or a kept verify answer when the status read says nothing changed. Otherwise
    False, and the request goes on to the routes, with the look-up already counted (over the limit, the
    route answers 429). These answers carry the security headers; CadreApp adds the request id and writes
    the request's log line."""
    if scope["method"] != "GET" or scope["query_string"]:
        return False
    path = scope["path"]
    if path == DID_PATH:
        # The issuer's DID document, built once per change of the key index (signing.py); the route of
        # the same path documents it in the API.
        body = signing.did_document_body()
        await send({"type": "http.response.start", "status": 200, "headers": [
            (b"content-type", b"application/did+json"), (b"content-length", str(len(body)).encode()), *security]})
        await send({"type": "http.response.body", "body": body})
        return True
    if not path.startswith(("/verify/", "/api/v1/credentials/")):
        return False
    match = PATHS.fullmatch(path)
    if match is None or not anonymous(scope):
        return False
    from api.core import counters

    used, _ = counters.count(lookup_bucket(scope), 60)
    if used > get_settings().lookups_per_minute:
        return False
    scope.setdefault("state", {})["cadre_lookup_counted"] = True
    kind, slug = (answers.PAGE, match.group(1)) if match.group(1) else (answers.JSON, match.group(2))
    try:
        body = kept(kind, slug)
    except Exception:  # the database is away: the full path answers (or explains)
        body = None
    if body is None:
        return False
    await send({"type": "http.response.start", "status": 200, "headers": [
        _HTML if kind == answers.PAGE else _JSON, (b"content-length", str(len(body)).encode()),
        (b"cache-control", b"no-store"), *security]})
    await send({"type": "http.response.body", "body": body})
    return True


_HTML = (b"content-type", b"text/html; charset=utf-8")
_JSON = (b"content-type", b"application/json")


def forget() -> None:
    with _lock:
        _kept.clear()
