"""Short-lived links Cadre signs and checks itself (HMAC-SHA256 with the app secret), whatever store
holds the file: a store's own presigned URLs are checked by the store (and moto, in the tests, checks
neither signature nor expiry), so the expiry that matters is Cadre's.

A token says: for this purpose, this subject, until this instant. It is bound to its purpose (a
token made to open a file cannot confirm an email), carries its own expiry, and any change to it
breaks the signature. `verify` answers with the subject or None: never an error, so the caller says
what a stale link means to its user.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from datetime import UTC, datetime, timedelta

from api.core.config import get_settings

_PURPOSE = re.compile(r"^[a-z0-9][a-z0-9._:-]{0,63}$")
MAX_TTL = timedelta(days=7)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _key() -> bytes:
    # A key of its own, derived from the app secret: a signature made here means nothing to CSRF or
    # the offline payment events, which derive theirs differently.
    return hmac.new(get_settings().secret_key.encode(), b"cadre-signed-links-v1", hashlib.sha256).digest()


def _mac(purpose: str, body: str) -> str:
    return _b64(hmac.new(_key(), f"{purpose}\n{body}".encode(), hashlib.sha256).digest())


def sign(purpose: str, subject: str, ttl: timedelta, *, now: datetime | None = None) -> str:
    """A token for `subject` (e.g. a file's public id) valid for `ttl` for `purpose` only."""
    if not _PURPOSE.fullmatch(purpose):
        raise ValueError(f"not a purpose: {purpose!r}")
    if not timedelta(0) < ttl <= MAX_TTL:
        raise ValueError("a signed link lives for more than no time and at most 7 days")
    expires = int(((now or datetime.now(UTC)) + ttl).timestamp())
    body = _b64(json.dumps([subject, expires], separators=(",", ":")).encode())
    return f"{body}.{_mac(purpose, body)}"


def verify(purpose: str, token: str | None, *, now: datetime | None = None) -> str | None:
    """The subject, if the token was signed here for `purpose` and has not expired; otherwise None."""
    if not token or not isinstance(token, str) or len(token) > 2048 or token.count(".") != 1:
        return None
    body, mac = token.split(".")
    if not hmac.compare_digest(mac, _mac(purpose, body)):
        return None
    try:
        subject, expires = json.loads(_unb64(body))
    except (ValueError, TypeError):
        return None
    if not isinstance(subject, str) or not isinstance(expires, int):
        return None
    if (now or datetime.now(UTC)).timestamp() >= expires:
        return None
    return subject


def expires_at(token: str) -> datetime | None:
    """When a token (already verified) stops working, to tell the user."""
    try:
        _subject, expires = json.loads(_unb64(token.split(".")[0]))
        return datetime.fromtimestamp(expires, UTC)
    except (ValueError, TypeError, IndexError):
        return None
