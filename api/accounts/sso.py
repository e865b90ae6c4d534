"""Single sign-on: identities at OpenID Connect providers, linking them to accounts, the domain rule.

An identity is (issuer, subject), never an email address. A first log-in with a new identity:
- logged in already (linking from the account page): linked to that account;
- an account has the address and the provider says it verified it: linked only once the person proves
  the account is theirs (its password once, or a link mailed to it), see SSOPendingLink;
- an account has the address and the provider does not say it verified it: refused (the classic OIDC
  account takeover is linking on an unverified address);
- no account has the address: a new account, with no password until its owner adds one.

Flushes, never commits.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from dataclasses import asdict, dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from api.accounts import oidc
from api.accounts import service as accounts
from api.accounts.models import (
    NO_PASSWORD,
    BindingStatus,
    Role,
    SSODomainBinding,
    SSOPendingLink,
    User,
    UserIdentity,
    UserRole,
)
from api.core import email as mail
from api.core.config import OIDCProviderSettings, get_settings
from api.core.db import utcnow
from api.core.errors import Conflict, Forbidden, Invalid, NotFound
from api.core.integrity import flush_unique
from api.core.security import hash_password, new_token, token_digest

PENDING_TTL = timedelta(minutes=30)
FLOW_TTL_SECONDS = 15 * 60


# --- providers and the domain rule ------------------------------------------------------------

def providers() -> dict[str, OIDCProviderSettings]:
    return {p.key: p for p in get_settings().oidc_providers}


def provider(key: str) -> OIDCProviderSettings:
    found = providers().get(key)
    if found is None:
        raise NotFound("There is no single sign-on provider at this address.")
    return found


def listed_providers() -> list[OIDCProviderSettings]:
    return [p for p in providers().values() if p.listed]


def domain_of(email: str) -> str:
    return accounts.normalise_email(email).rpartition("@")[2]


@dataclass(frozen=True)
class DomainRule:
    """The providers a person with this address is offered, and whether they must use one."""

    domain: str
    offered: list[OIDCProviderSettings]
    required: bool

    @property
    def names(self) -> str:
        return " or ".join(p.name for p in self.offered)


def rule_for(session: Session, email: str) -> DomainRule:
    domain = domain_of(email)
    known = providers()
    chosen: dict[str, bool] = {}
    for p in known.values():
        if domain and domain in p.domains:
            chosen[p.key] = chosen.get(p.key, False) or p.required
    if domain:
        approved = BindingStatus.approved.value  # a request waiting for an admin binds nothing yet
        for row in session.exec(select(SSODomainBinding).where(SSODomainBinding.domain == domain,
                                                               SSODomainBinding.status == approved)):
            if row.provider_key in known:  # a binding to a provider no longer configured is ignored
                chosen[row.provider_key] = chosen.get(row.provider_key, False) or row.required
    offered = [known[k] for k in chosen]
    return DomainRule(domain=domain, offered=offered, required=any(chosen.values()))


def bind_domain(session: Session, provider_key: str, domain: str, *, required: bool = False,
                owner_id: int | None = None) -> SSODomainBinding:
    """Offer (or require) a provider to people whose email is on `domain`, at once: what an admin does
    directly. An organisation's owner asks instead, and an admin approves (api/accounts/sso_bindings.py)."""
    provider(provider_key)
    domain = domain.strip().lower().lstrip("@")
    if "." not in domain or "@" in domain or " " in domain:
        raise Invalid("Give a domain such as example.com.", code="bad_domain")
    existing = session.exec(select(SSODomainBinding).where(SSODomainBinding.domain == domain,
                                                           SSODomainBinding.provider_key == provider_key)).first()
    if existing is not None:
        existing.required, existing.owner_id = required, owner_id if owner_id is not None else existing.owner_id
        session.add(existing)
        session.flush()
        return existing
    row = SSODomainBinding(provider_key=provider_key, domain=domain, required=required, owner_id=owner_id)
    if not flush_unique(session, row):
        raise Conflict("That domain was bound to this provider a moment ago.", code="domain_bound")
    return row


def unbind_domain(session: Session, provider_key: str, domain: str) -> bool:
    rows = session.exec(select(SSODomainBinding).where(SSODomainBinding.domain == domain.strip().lower(),
                                                       SSODomainBinding.provider_key == provider_key)).all()
    for row in rows:
        session.delete(row)
    session.flush()
    return bool(rows)


def bindings(session: Session, owner_id: int | None = None) -> list[SSODomainBinding]:
    query = select(SSODomainBinding).order_by(SSODomainBinding.domain)
    if owner_id is not None:
        query = query.where(SSODomainBinding.owner_id == owner_id)
    return list(session.exec(query.limit(500)))  # a handful per owner


# --- the browser's memory of a log-in in progress: signed, short-lived ------------------------

def _mac(payload: bytes) -> str:
    key = get_settings().secret_key.encode()
    return hmac.new(key, b"sso-flow:" + payload, hashlib.sha256).hexdigest()


def encode_flow(flow: oidc.Flow) -> str:
    # Unpadded, so the cookie needs no quoting.
    payload = base64.urlsafe_b64encode(json.dumps({**asdict(flow), "at": int(time.time())}).encode()).rstrip(b"=")
    return f"{payload.decode()}.{_mac(payload)}"


def decode_flow(value: str | None) -> oidc.Flow | None:
    if not value or "." not in value:
        return None
    payload, _, mac = value.rpartition(".")
    if not hmac.compare_digest(mac, _mac(payload.encode())):
        return None
    try:
        data: dict[str, Any] = json.loads(base64.urlsafe_b64decode(payload.encode() + b"=" * (-len(payload) % 4)))
        if time.time() - int(data.pop("at")) > FLOW_TTL_SECONDS:
            return None
        return oidc.Flow(**data)
    except (ValueError, TypeError, KeyError):
        return None


# --- completing a log-in ----------------------------------------------------------------------

@dataclass
class Outcome:
    kind: str  # logged_in | created | linked | link_pending
    user: User
    pending_token: str | None = None


def _email_verified(claims: dict[str, Any]) -> bool:
    # Only a JSON true counts: absent (Canaille sends none), false or anything else is "not verified".
    return claims.get("email_verified") is True


def _find_identity(session: Session, issuer: str, subject: str) -> UserIdentity | None:
    return session.exec(select(UserIdentity).where(UserIdentity.issuer == issuer,
                                                   UserIdentity.subject == subject)).first()


def _add_identity(session: Session, user: User, p: OIDCProviderSettings, subject: str,
                  email: str | None) -> UserIdentity:
    row = UserIdentity(user_id=user.id, provider_key=p.key, issuer=p.issuer, subject=subject, email=email,
                       last_login_at=utcnow())
    if not flush_unique(session, row):
        raise Conflict(f"This {p.name} account was linked to a Cadre account a moment ago. Log in with it.",
                       code="identity_taken")
    return row


def _name_from(claims: dict[str, Any], email: str) -> str:
    name = claims.get("name") or " ".join(x for x in (claims.get("given_name"), claims.get("family_name")) if x)
    name = str(name).strip()[:200] if name else ""
    return name or email.partition("@")[0][:200]


def complete(session: Session, p: OIDCProviderSettings, claims: dict[str, Any],
             link_user_id: int | None = None) -> Outcome:
    """What a validated ID token means for Cadre (see the module's docstring)."""
    subject = str(claims["sub"])
    email = accounts.normalise_email(claims["email"]) if isinstance(claims.get("email"), str) else None
    identity = _find_identity(session, p.issuer, subject)
    if identity is not None:
        user = accounts.get(session, identity.user_id)
        if link_user_id is not None and user.id != link_user_id:
            raise Conflict(f"This {p.name} account is already linked to another Cadre account.",
                           code="identity_taken")
        if not user.is_active:
            raise Forbidden("This Cadre account is closed.", code="account_closed")
        identity.last_login_at, identity.email = utcnow(), email or identity.email
        session.add(identity)
        session.flush()
        return Outcome("logged_in", user)
    if link_user_id is not None:  # proved both: logged in here, and at the provider just now
        user = accounts.get(session, link_user_id)
        _add_identity(session, user, p, subject, email)
        return Outcome("linked", user)
    if not email or "@" not in email:
        raise Invalid(f"{p.name} did not tell us your email address, which Cadre needs. Ask your "
                      "administrator to share it with Cadre, or log in another way.", code="sso_no_email")
    existing = accounts.get_by_email(session, email)
    if existing is not None:
        if not _email_verified(claims):
            raise Forbidden(
                f"{p.name} has not confirmed that {email} belongs to you, so we will not connect it to the Cadre "
                f"account with that address. Log in with your Cadre password and link {p.name} from your "
                "account page, or ask your provider's administrator to confirm your email address.",
                code="sso_email_unverified")
        if not existing.is_active:
            raise Forbidden("This Cadre account is closed.", code="account_closed")
        raw = new_token()
        session.add(SSOPendingLink(browser_digest=token_digest(raw), user_id=existing.id, provider_key=p.key,
                                   issuer=p.issuer, subject=subject, email=email,
                                   expires_at=utcnow() + PENDING_TTL))
        session.flush()
        return Outcome("link_pending", existing, raw)
    verified = _email_verified(claims)
    user = User(email=email, full_name=_name_from(claims, email), password_hash=NO_PASSWORD,
                email_verified_at=utcnow() if verified else None)
    if not flush_unique(session, user):
        raise Conflict(accounts.EMAIL_TAKEN_MESSAGE, code="email_taken")
    session.add(UserRole(user_id=user.id, role=Role.learner.value))
    _add_identity(session, user, p, subject, email)
    if not verified:
        accounts.send_verification(session, user)
    return Outcome("created", user)


# --- proving an existing account before linking -----------------------------------------------

def pending(session: Session, raw: str | None, *, by_mail: bool = False) -> SSOPendingLink | None:
    if not raw:
        return None
    column = SSOPendingLink.mail_digest if by_mail else SSOPendingLink.browser_digest
    row = session.exec(select(SSOPendingLink).where(column == token_digest(raw))).first()
    if row is None or row.used_at is not None or row.expires_at < utcnow():
        return None
    return row


def _expired_link() -> Invalid:  # made only to be raised
    return Invalid("This link request has expired or was already used. Log in with your provider again.",
                   code="bad_token")


def _finish_link(session: Session, row: SSOPendingLink, user: User) -> User:
    used = session.exec(update(SSOPendingLink).where(col(SSOPendingLink.id) == row.id,
                                                     col(SSOPendingLink.used_at).is_(None))
                        .values(used_at=utcnow()))
    if used.rowcount != 1:
        raise _expired_link()
    p = provider(row.provider_key)
    _add_identity(session, user, p, row.subject, row.email)
    mail.send_template(session, user.email, "accounts/identity_linked", name=user.full_name, provider=p.name)
    return user


def link_with_password(session: Session, raw: str, user: User) -> User:
    """`user` has just proved the account with its password (accounts.service.authenticate)."""
    row = pending(session, raw)
    if row is None:
        raise _expired_link()
    if row.user_id != user.id:
        raise Forbidden("That password is for another account.", code="wrong_account")
    return _finish_link(session, row, user)


def send_link_email(session: Session, raw: str) -> str:
    """Mails the account a link that finishes the linking; returns the address it went to."""
    row = pending(session, raw)
    if row is None:
        raise _expired_link()
    user = accounts.get(session, row.user_id)
    if accounts._may_mail(session, user.email):
        mail_raw = new_token()
        row.mail_digest = token_digest(mail_raw)
        session.add(row)
        session.flush()
        link = f"{get_settings().base_url.rstrip('/')}/sso/link/confirm?token={mail_raw}"
        mail.send_template(session, user.email, "accounts/link_identity", name=user.full_name,
                           provider=provider(row.provider_key).name, link=link)
    return user.email


def link_by_mail(session: Session, mail_raw: str) -> User:
    row = pending(session, mail_raw, by_mail=True)
    if row is None:
        raise _expired_link()
    return _finish_link(session, row, accounts.get(session, row.user_id))


# --- the account page -------------------------------------------------------------------------

def has_password(user: User) -> bool:
    return bool(user.password_hash) and user.password_hash != NO_PASSWORD


def identities(session: Session, user: User) -> list[UserIdentity]:
    return list(session.exec(select(UserIdentity).where(UserIdentity.user_id == user.id)
                             .order_by(UserIdentity.created_at).limit(50)))


def password_counts(session: Session, user: User) -> bool:
    """A password is a way in unless the address's domain must use single sign-on."""
    return has_password(user) and not rule_for(session, user.email).required


def unlink(session: Session, user: User, identity_id: int) -> UserIdentity:
    row = session.get(UserIdentity, identity_id)
    if row is None or row.user_id != user.id:
        raise NotFound("No such linked account.")
    others = session.exec(select(func.count()).select_from(UserIdentity)
                          .where(UserIdentity.user_id == user.id, UserIdentity.id != row.id)).one()
    if not others and not password_counts(session, user):
        raise Conflict("This is your only way to log in. Add a password first (or link another account), so "
                       "you can still reach your certificates.", code="last_way_in")
    session.delete(row)
    session.flush()
    return row


def add_password(session: Session, user: User, new_password: str) -> None:
    if has_password(user):
        raise Conflict("Your account already has a password: change it instead.", code="has_password")
    user.password_hash = hash_password(new_password)
    user.updated_at = utcnow()
    session.add(user)
    session.flush()
    mail.send_template(session, user.email, "accounts/password_added", name=user.full_name)
