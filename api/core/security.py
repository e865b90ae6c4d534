"""Passwords, random tokens and CSRF protection."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from urllib.parse import urlsplit

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from fastapi import Request

from api.core.config import get_settings
from api.core.errors import Forbidden

_hasher = PasswordHasher()
# Verified against when the email is unknown, so a login takes as long either way.
_DUMMY_HASH = _hasher.hash("cadre-dummy-password-for-timing")

CSRF_COOKIE = "cadre_csrf"
CSRF_FIELD = "csrf_token"
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password: str, password_hash: str | None) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def new_token(nbytes: int = 32) -> str:
    return secrets.token_urlsafe(nbytes)


def token_digest(token: str) -> str:
    """Tokens are stored only as digests: a leaked table gives no working links or sessions."""
    return hashlib.sha256(token.encode()).hexdigest()


def _sign(value: str) -> str:
    key = get_settings().secret_key.encode()
    return hmac.new(key, f"csrf:{value}".encode(), hashlib.sha256).hexdigest()


def csrf_cookie_value(request: Request) -> str:
    """The browser's CSRF secret; the middleware sets the cookie when it is missing."""
    value = request.cookies.get(CSRF_COOKIE) or getattr(request.state, "csrf_new", None)
    if not value:
        value = new_token()
        request.state.csrf_new = value
    return value


def csrf_token(request: Request) -> str:
    # A page with this visitor's token is theirs alone: never an anonymous kept page
    # (api/core/pagecache.py); a logged-in viewer's kept pages are kept per CSRF cookie (viewercache.py).
    request.state.cadre_per_visitor = True
    return _sign(csrf_cookie_value(request))


async def csrf_protect(request: Request) -> None:
    """Router dependency for HTML forms: every unsafe request carries the signed token."""
    if request.method not in UNSAFE_METHODS:
        return
    cookie = request.cookies.get(CSRF_COOKIE)
    form = await request.form()
    sent = form.get(CSRF_FIELD)
    if not cookie or not isinstance(sent, str) or not hmac.compare_digest(sent, _sign(cookie)):
        raise Forbidden(
            "This form has expired or did not come from this site. Go back, reload the page and try again.",
            code="csrf_failed",
        )


def same_origin(request: Request) -> None:
    """For the JSON API under cookie authentication: refuse cross-site unsafe requests.

    Bearer-token clients are not browsers and carry no ambient credentials, so they pass.
    """
    if request.method not in UNSAFE_METHODS or request.headers.get("authorization"):
        return
    origin = request.headers.get("origin") or request.headers.get("referer")
    if not origin:
        return
    allowed = {urlsplit(get_settings().base_url).netloc, request.headers.get("host", "")}
    if urlsplit(origin).netloc not in allowed:
        raise Forbidden("Cross-site requests are not accepted.", code="cross_site")
