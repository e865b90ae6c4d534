"""API keys: an organisation's owners make keys for their own systems, each with scopes (`verify`: bulk
verification; `team:read`: the team's accreditations), shown once, stored as a digest, revocable, with
when each was last used. And who is calling the JSON API: a key, or a logged-in session.

A key reads `cdk_<prefix>_<secret>`: the prefix (10 hex characters) tells keys apart in lists and logs,
the secret is 256 random bits. Only sha256(key) is stored; a key is found by its digest. Flushes, never
commits.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import update
from sqlmodel import Session, col, func, select

from api.accounts.models import User
from api.core import counters
from api.core.config import get_settings
from api.core.db import SessionDep, durable, utcnow
from api.core.errors import Conflict, Forbidden, Invalid, NotAuthenticated, NotFound, TooManyRequests
from api.core.integrity import flush_unique
from api.core.schemas import text_problem
from api.organisations.apikey_models import ApiKey
from api.organisations.deps import OrgAccess, org_access, team_reader
from api.organisations.models import Organisation

KEY_PREFIX = "cdk_"
SCOPES = {"verify": "Verify certificates in bulk (POST /api/v1/verifications/bulk)",
          "team:read": "Read the team and its accreditations (GET /api/v1/organisations/<id>/team)"}
MAX_ACTIVE_KEYS = 10
REVOKED_SHOWN = 20
TOUCH_EVERY = timedelta(minutes=1)  # "last used" is written at most this often per key


def digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def clean_scopes(scopes: list[str]) -> list[str]:
    chosen = [s for s in SCOPES if s in set(scopes)]
    if not chosen or len(chosen) != len(set(scopes)):
        raise Invalid("Choose what the key may do: verify certificates, read the team, or both.", code="bad_scopes")
    return chosen


def clean_name(name: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise Invalid("Give the key a name that says where it is used, such as 'HR system'.", code="bad_name")
    if len(name) > 80:
        raise Invalid("A key's name is at most 80 characters.", code="bad_name")
    problem = text_problem(name)
    if problem:
        raise Invalid(f"The name {problem}.", code="bad_name")
    return name


def _lock(session: Session, organisation_id: int) -> Organisation:
    # Keys are made one at a time per organisation, so the cap on active keys is counted exactly.
    return session.exec(select(Organisation).where(Organisation.id == organisation_id).with_for_update()
                        .execution_options(populate_existing=True)).one()


def active_count(session: Session, organisation_id: int) -> int:
    return session.exec(select(func.count()).select_from(ApiKey).where(
        ApiKey.organisation_id == organisation_id, col(ApiKey.revoked_at).is_(None))).one()


def create(session: Session, org: Organisation, user: User, *, name: str, scopes: list[str]) -> tuple[ApiKey, str]:
    """A new key and its full text, which is shown once and never again."""
    name, chosen = clean_name(name), clean_scopes(scopes)
    _lock(session, org.id)
    if active_count(session, org.id) >= MAX_ACTIVE_KEYS:
        raise Conflict(f"An organisation has at most {MAX_ACTIVE_KEYS} active keys. Revoke one you no longer use "
                       "first.", code="too_many_keys")
    if session.exec(select(ApiKey.id).where(ApiKey.organisation_id == org.id, ApiKey.name == name,
                                            col(ApiKey.revoked_at).is_(None))).first() is not None:
        raise Conflict(f"This organisation already has an active key named '{name}'. Choose another name.",
                       code="key_name_taken")
    prefix = KEY_PREFIX + secrets.token_hex(5)
    raw = f"{prefix}_{secrets.token_urlsafe(32)}"
    key = ApiKey(organisation_id=org.id, name=name, prefix=prefix, secret_digest=digest(raw), scopes=" ".join(chosen),
                 created_by_id=user.id)
    if not flush_unique(session, key):  # the same name, made at the same moment by another request
        raise Conflict(f"This organisation already has an active key named '{name}'. Choose another name.",
                       code="key_name_taken")
    return key, raw


def keys_of(session: Session, organisation_id: int) -> tuple[list[ApiKey], list[ApiKey]]:
    """(active keys, the most recently revoked ones): both bounded, so no pages are needed."""
    active = session.exec(select(ApiKey).where(ApiKey.organisation_id == organisation_id,
                                               col(ApiKey.revoked_at).is_(None))
                          .order_by(col(ApiKey.created_at).desc(), col(ApiKey.id).desc())
                          .limit(MAX_ACTIVE_KEYS)).all()
    revoked = session.exec(select(ApiKey).where(ApiKey.organisation_id == organisation_id,
                                                col(ApiKey.revoked_at).is_not(None))
                           .order_by(col(ApiKey.revoked_at).desc(), col(ApiKey.id).desc()).limit(REVOKED_SHOWN)).all()
    return list(active), list(revoked)


def key_of(session: Session, org: Organisation, key_id: int) -> ApiKey:
    key = session.get(ApiKey, key_id)
    if key is None or key.organisation_id != org.id:
        raise NotFound("This organisation has no such API key.", code="key_not_found")
    return key


def revoke(session: Session, org: Organisation, key_id: int, user: User) -> ApiKey:
    key = key_of(session, org, key_id)
    done = session.exec(update(ApiKey).where(col(ApiKey.id) == key.id, col(ApiKey.revoked_at).is_(None))
                        .values(revoked_at=utcnow(), revoked_by_id=user.id))
    if done.rowcount != 1:
        raise Conflict(f"The key '{key.name}' was already revoked.", code="already_revoked")
    session.refresh(key)
    return key


def authenticate(session: Session, raw: str) -> ApiKey | None:
    """The active key `raw` is, or None (unknown, malformed or revoked: the caller says which it cannot)."""
    if not raw.startswith(KEY_PREFIX) or len(raw) > 200:
        return None
    key = session.exec(select(ApiKey).where(ApiKey.secret_digest == digest(raw))).first()
    if key is None or key.revoked_at is not None:
        return None
    return key


def touch(session: Session, key: ApiKey) -> None:
    """Remember when the key was last used, at most once a minute, in a short transaction of its own (a
    GET's transaction is read-only, and a refused request must still show the key was used)."""
    now = utcnow()
    if key.last_used_at is not None and now - key.last_used_at < TOUCH_EVERY:
        return
    durable(lambda s: s.exec(update(ApiKey).where(col(ApiKey.id) == key.id).values(last_used_at=now)), session)
    key.last_used_at = now


# --- who is calling the JSON API ---------------------------------------------------------------------

@dataclass(frozen=True)
class Caller:
    bucket: str  # what its rate limits count against: "user:<id>" or "key:<id>"
    user: User | None = None
    key: ApiKey | None = None


def _bearer(request: Request) -> str | None:
    auth = request.headers.get("authorization", "")
    return auth[7:].strip() if auth.lower().startswith("bearer ") else None


def api_caller(request: Request, session: Session, scope: str) -> Caller:
    """An API key with `scope`, or a logged-in person (session cookie or session token). A key that is
    unknown or revoked: 401; one without the scope: 403; more than CADRE_API_KEY_REQUESTS_PER_MINUTE: 429."""
    raw = _bearer(request)
    if raw and raw.startswith(KEY_PREFIX):
        key = authenticate(session, raw)
        if key is None:
            raise NotAuthenticated("This API key is not valid: it is unknown or has been revoked. Ask the "
                                   "organisation's owner for a current key.", code="invalid_api_key")
        touch(session, key)
        if scope not in key.scope_list:
            raise Forbidden(f"This API key may not do this: it needs the '{scope}' scope. The organisation's owner "
                            "can make a key that has it.", code="scope_missing")
        used, retry = counters.count(f"apikey:{key.id}", 60)
        if used > get_settings().api_key_requests_per_minute:
            raise TooManyRequests(f"Too many requests with this API key. Wait {max(retry, 1)} seconds and try "
                                  "again.", code="rate_limited", headers={"Retry-After": str(max(retry, 1))})
        return Caller(bucket=f"key:{key.id}", key=key)
    from api.accounts.deps import optional_user

    user = optional_user(request, session)
    if user is None:
        raise NotAuthenticated("Log in, or send an API key: Authorization: Bearer <key>.")
    return Caller(bucket=f"user:{user.id}", user=user)


def team_reader_or_key(request: Request, org_id: str, session: SessionDep) -> OrgAccess:
    """The team API's guard: a key with `team:read` made by this very organisation (another's: 404), or a
    person the team pages let in (owners, managers, platform admins: deps.team_reader)."""
    raw = _bearer(request)
    if raw and raw.startswith(KEY_PREFIX):
        caller = api_caller(request, session, "team:read")
        org = session.exec(select(Organisation).where(Organisation.public_id == org_id)).first()
        if org is None or org.id != caller.key.organisation_id:
            raise NotFound("There is no organisation at this address, or this key is not one of its keys.",
                           code="organisation_not_found")
        return OrgAccess(org, None, None, False)
    from api.accounts.deps import current_user, optional_user

    user = current_user(request, optional_user(request, session))
    return team_reader(org_access(request, org_id, session, user))


TeamReaderOrKeyDep = Annotated[OrgAccess, Depends(team_reader_or_key)]
