"""Accounts: registration, verification, login and sessions, throttling, resets, roles.

Flushes, never commits: the caller's transaction decides.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update
from sqlmodel import Session, col, select

from api.accounts import throttle
from api.accounts.models import AccountToken, LoginAttempt, Role, TokenPurpose, User, UserRole, UserSession
from api.accounts.schemas import UserCreate, UserPublic
from api.core import email as mail
from api.core import pagination, ratelimit
from api.core.config import get_settings
from api.core.db import utcnow
from api.core.errors import Conflict, Invalid, NotFound, TooManyRequests
from api.core.integrity import flush_unique, unique_guard
from api.core.security import hash_password, new_token, token_digest, verify_password

TOKEN_TTL = {
    TokenPurpose.verify_email: timedelta(days=3),
    TokenPurpose.reset_password: timedelta(hours=1),
    TokenPurpose.change_email: timedelta(days=1),
}


def normalise_email(email: str) -> str:
    return email.strip().lower()


def get_by_email(session: Session, email: str) -> User | None:
    return session.exec(select(User).where(User.email == normalise_email(email))).first()


def get(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("No such user.")
    return user


def roles_of(session: Session, user: User) -> set[Role]:
    rows = session.exec(select(UserRole.role).where(UserRole.user_id == user.id)).all()
    return {Role(r) for r in rows}


def to_public(session: Session, user: User, roles: set[Role] | None = None) -> UserPublic:
    roles = roles if roles is not None else roles_of(session, user)
    return UserPublic(
        id=user.id, email=user.email, full_name=user.full_name, email_verified=user.email_verified_at is not None,
        roles=sorted(roles), created_at=user.created_at,
    )


# --- registration and one-time tokens ---------------------------------------------------------

EMAIL_TAKEN_MESSAGE = "An account with this email already exists. Log in, or reset your password."


def create_user(session: Session, data: UserCreate, *, roles: set[Role] | None = None,
                verified: bool = False) -> User:
    email = normalise_email(data.email)
    password_hash = hash_password(data.password)  # slow on purpose: before the first query opens a transaction
    if get_by_email(session, email):
        raise Conflict(EMAIL_TAKEN_MESSAGE, code="email_taken")
    user = User(email=email, full_name=data.full_name, password_hash=password_hash,
                email_verified_at=utcnow() if verified else None)
    if not flush_unique(session, user):
        # Registered a moment ago by a request running alongside this one: the same answer.
        raise Conflict(EMAIL_TAKEN_MESSAGE, code="email_taken")
    for role in (roles or set()) | {Role.learner}:
        session.add(UserRole(user_id=user.id, role=role.value))
    session.flush()
    return user


def register(session: Session, data: UserCreate) -> User:
    user = create_user(session, data)
    send_verification(session, user)
    return user


def _issue_token(session: Session, user: User, purpose: TokenPurpose, new_email: str | None = None) -> str:
    raw = new_token()
    session.add(AccountToken(token_digest=token_digest(raw), user_id=user.id, purpose=purpose.value,
                             new_email=new_email, expires_at=utcnow() + TOKEN_TTL[purpose]))
    session.flush()
    return raw


def _consume_token(session: Session, raw: str, purpose: TokenPurpose) -> AccountToken:
    token = session.exec(select(AccountToken).where(AccountToken.token_digest == token_digest(raw),
                                                    AccountToken.purpose == purpose.value)).first()
    if token is None or token.used_at is not None or token.expires_at < utcnow():
        raise Invalid("This link is invalid, has expired or has already been used. Ask for a new one.",
                      code="bad_token")
    # Mark used with a guarded UPDATE so two clicks at once cannot both succeed.
    result = session.exec(update(AccountToken).where(col(AccountToken.id) == token.id,
                                                     col(AccountToken.used_at).is_(None))
                          .values(used_at=utcnow()))
    if result.rowcount != 1:
        raise Invalid("This link has already been used.", code="bad_token")
    return token


def _end_other_tokens(session: Session, user: User, purposes: set[TokenPurpose], keep: AccountToken | None) -> int:
    """Spend every other outstanding link of these kinds: after a reset or an email change, a link
    mailed earlier (perhaps to an address the account no longer uses) must not work any more."""
    query = update(AccountToken).where(col(AccountToken.user_id) == user.id, col(AccountToken.used_at).is_(None),
                                       col(AccountToken.purpose).in_([p.value for p in purposes]))
    if keep is not None:
        query = query.where(col(AccountToken.id) != keep.id)
    return session.exec(query.values(used_at=utcnow())).rowcount


def _link(path: str, raw: str) -> str:
    return f"{get_settings().base_url.rstrip('/')}{path}?token={raw}"


MAILS_PER_ADDRESS_PER_HOUR = 5


def _may_mail(session: Session, address: str) -> bool:
    """Account emails (links, notices) to one address are capped, so nobody can flood an inbox in our name."""
    return ratelimit.allow(session, f"mail:{normalise_email(address)}", MAILS_PER_ADDRESS_PER_HOUR, 3600)


def send_verification(session: Session, user: User) -> None:
    if not _may_mail(session, user.email):
        return
    raw = _issue_token(session, user, TokenPurpose.verify_email)
    mail.send_template(session, user.email, "accounts/confirm_email", name=user.full_name,
                       link=_link("/verify-email", raw))


def already_confirmed(session: Session, raw: str) -> User | None:
    """The account whose email this spent confirmation link already confirmed (a link opened twice),
    so the page can say so instead of "invalid"; None otherwise. Reads only."""
    token = session.exec(select(AccountToken).where(AccountToken.token_digest == token_digest(raw or ""),
                                                    AccountToken.purpose == TokenPurpose.verify_email.value)).first()
    if token is None or token.used_at is None:
        return None
    user = session.get(User, token.user_id)
    return user if user is not None and user.email_verified_at is not None else None


def verify_email(session: Session, raw: str) -> User:
    token = _consume_token(session, raw, TokenPurpose.verify_email)
    user = get(session, token.user_id)
    if user.email_verified_at is None:
        user.email_verified_at = utcnow()
        session.add(user)
        session.flush()
        mail.send_template(session, user.email, "accounts/welcome", key=f"welcome:{user.id}", name=user.full_name,
                           email=user.email)
    return user


# --- login, sessions, throttling --------------------------------------------------------------

def authenticate(session: Session, email: str, password: str, ip: str) -> User:
    """The account for these credentials. Each attempt first takes a throttle slot, committed on its
    own as a failure (see throttle), so call this before `session` has opened its transaction."""
    email = normalise_email(email)
    slot = throttle.reserve(session, email, ip)
    ok = verify_password(password, slot.password_hash)  # a dummy hash when there is no such account
    if not ok or slot.user_id is None or not slot.is_active:
        raise Invalid("That email and password do not match an account.", code="bad_credentials")
    throttle.succeeded(session, slot)
    return get(session, slot.user_id)


def start_session(session: Session, user: User, ip: str | None = None,
                  user_agent: str | None = None) -> tuple[str, UserSession]:
    raw = new_token()
    row = UserSession(token_digest=token_digest(raw), user_id=user.id, ip=ip,
                      user_agent=(user_agent or "")[:300] or None,
                      expires_at=utcnow() + timedelta(days=get_settings().session_days))
    session.add(row)
    session.flush()
    return raw, row


def user_for_session_token(session: Session, raw: str | None) -> User | None:
    if not raw:
        return None
    row = session.exec(select(User).join(UserSession, col(UserSession.user_id) == col(User.id))
                       .where(UserSession.token_digest == token_digest(raw),
                              UserSession.expires_at > utcnow(), col(User.is_active).is_(True))).first()
    return row


def user_and_roles_for_session_token(session: Session, raw: str | None) -> tuple[User | None, set[Role]]:
    """The session's user and their roles in one query (a row per role), as every page needs them."""
    if not raw:
        return None, set()
    rows = session.exec(select(User, UserRole.role).join(UserSession, col(UserSession.user_id) == col(User.id))
                        .outerjoin(UserRole, col(UserRole.user_id) == col(User.id))
                        .where(UserSession.token_digest == token_digest(raw), UserSession.expires_at > utcnow(),
                               col(User.is_active).is_(True))).all()
    if not rows:
        return None, set()
    return rows[0][0], {Role(role) for _, role in rows if role is not None}


def end_session(session: Session, raw: str | None) -> None:
    if raw:
        for row in session.exec(select(UserSession).where(UserSession.token_digest == token_digest(raw))):
            session.delete(row)
        session.flush()


def end_all_sessions(session: Session, user: User, except_raw: str | None = None) -> int:
    keep = token_digest(except_raw) if except_raw else None
    rows = session.exec(select(UserSession).where(UserSession.user_id == user.id)).all()
    ended = 0
    for row in rows:
        if row.token_digest != keep:
            session.delete(row)
            ended += 1
    session.flush()
    return ended


# --- password reset and account changes -------------------------------------------------------

def request_password_reset(session: Session, email: str) -> None:
    """Always answers the same way, so the form cannot be used to find out who has an account."""
    user = get_by_email(session, email)
    if user is None or not user.is_active or not _may_mail(session, user.email):
        return
    raw = _issue_token(session, user, TokenPurpose.reset_password)
    mail.send_template(session, user.email, "accounts/reset_password", name=user.full_name,
                       link=_link("/reset-password", raw))


def reset_password(session: Session, raw: str, new_password: str) -> User:
    token = _consume_token(session, raw, TokenPurpose.reset_password)
    user = get(session, token.user_id)
    user.password_hash = hash_password(new_password)
    user.updated_at = utcnow()
    # Whoever could read the mail owns the address, so it is verified too.
    user.email_verified_at = user.email_verified_at or utcnow()
    session.add(user)
    session.add(LoginAttempt(email=user.email, ip="reset", succeeded=True))  # lifts a lock-out
    end_all_sessions(session, user)  # logged out everywhere
    _end_other_tokens(session, user, {TokenPurpose.reset_password, TokenPurpose.change_email}, keep=token)
    mail.send_template(session, user.email, "accounts/password_changed", name=user.full_name, via_reset=True)
    return user


def change_time_zone(session: Session, user: User, time_zone: str) -> User:
    """The zone the user's pages and emails show times in (an IANA name the caller has checked)."""
    user.time_zone, user.updated_at = time_zone, utcnow()
    session.add(user)
    session.flush()
    return user


def change_name(session: Session, user: User, full_name: str) -> User:
    user.full_name = full_name
    user.updated_at = utcnow()
    session.add(user)
    session.flush()
    return user


def change_password(session: Session, user: User, current: str, new: str, keep_session: str | None) -> None:
    if not verify_password(current, user.password_hash):
        raise Invalid("Your current password is not right.", code="bad_password")
    user.password_hash = hash_password(new)
    user.updated_at = utcnow()
    session.add(user)
    end_all_sessions(session, user, except_raw=keep_session)
    mail.send_template(session, user.email, "accounts/password_changed", name=user.full_name, via_reset=False)


def request_email_change(session: Session, user: User, new_email: str, current_password: str) -> None:
    if not verify_password(current_password, user.password_hash):
        raise Invalid("Your current password is not right.", code="bad_password")
    new_email = normalise_email(new_email)
    if new_email == user.email:
        raise Invalid("That is already your email address.", code="same_email")
    if get_by_email(session, new_email):
        raise Conflict("Another account already uses that email address.", code="email_taken")
    if not _may_mail(session, new_email):
        raise TooManyRequests("We have sent several emails to that address in the last hour. Try again later.",
                              code="too_many_emails")
    raw = _issue_token(session, user, TokenPurpose.change_email, new_email=new_email)
    mail.send_template(session, new_email, "accounts/confirm_new_email", name=user.full_name,
                       link=_link("/confirm-email-change", raw))
    mail.send_template(session, user.email, "accounts/email_change_notice", name=user.full_name, new_email=new_email)


def confirm_email_change(session: Session, raw: str) -> User:
    token = _consume_token(session, raw, TokenPurpose.change_email)
    user = get(session, token.user_id)
    def taken() -> Conflict:  # made only when raised: a business error marks the request failed
        return Conflict("Another account already uses that email address.", code="email_taken")

    if token.new_email is None or get_by_email(session, token.new_email):
        raise taken()
    with unique_guard(session) as guard:
        user.email = token.new_email
        user.email_verified_at = utcnow()
        user.updated_at = utcnow()
    if guard.duplicate:  # taken a moment ago by a request running alongside this one
        raise taken()
    # Links mailed before the change (to the old address, or to another new one) stop working.
    _end_other_tokens(session, user, set(TokenPurpose), keep=token)
    return user


# --- roles and administration -----------------------------------------------------------------

def grant_role(session: Session, user: User, role: Role, by: User | None = None) -> bool:
    if role in roles_of(session, user):
        return False
    return flush_unique(session, UserRole(user_id=user.id, role=role.value, granted_by_id=by.id if by else None))


def revoke_role(session: Session, user: User, role: Role) -> bool:
    if role is Role.learner:
        raise Invalid("Every account keeps the learner role.", code="role_required")
    rows = session.exec(select(UserRole).where(UserRole.user_id == user.id, UserRole.role == role.value)).all()
    for row in rows:
        session.delete(row)
    session.flush()
    return bool(rows)


USERS_ORDER = pagination.Keyset(User.created_at, User.id, descending=True)  # newest first


def list_users(session: Session, search: str | None = None, *, after: str | None = None, before: str | None = None,
               size: int = pagination.PAGE_SIZE) -> pagination.Page[tuple[User, set[Role]]]:
    """A page of accounts, newest first, matching `search` in the name or email, each with its roles."""
    query = select(User)
    if search and search.strip():
        like = f"%{search.strip().lower()}%"
        query = query.where(col(User.email).ilike(like) | col(User.full_name).ilike(like))
    page = pagination.paginate(session, query, USERS_ORDER, after=after, before=before, size=size)
    roles: dict[int, set[Role]] = {u.id: set() for u in page.rows}
    if roles:  # one page of ids: bounded
        for uid, role in session.exec(select(UserRole.user_id, UserRole.role)
                                      .where(col(UserRole.user_id).in_(list(roles)))):
            roles[uid].add(Role(role))
    page.rows = [(u, roles[u.id]) for u in page.rows]
    return page


