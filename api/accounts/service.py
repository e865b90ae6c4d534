"""Accounts: registration, verification, login and sessions, throttling, resets, roles.

Flushes, never commits: the caller's transaction decides.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from api.accounts.models import AccountToken, LoginAttempt, Role, TokenPurpose, User, UserRole, UserSession
from api.accounts.schemas import UserCreate, UserPublic
from api.core import email as mail
from api.core import ratelimit
from api.core.config import get_settings
from api.core.db import durable, utcnow, without_transaction
from api.core.errors import Conflict, Invalid, NotFound, TooManyRequests
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

def create_user(session: Session, data: UserCreate, *, roles: set[Role] | None = None,
                verified: bool = False) -> User:
    email = normalise_email(data.email)
    password_hash = hash_password(data.password)  # slow on purpose: before the first query opens a transaction
    if get_by_email(session, email):
        raise Conflict("An account with this email already exists. Log in, or reset your password.",
                       code="email_taken")
    user = User(email=email, full_name=data.full_name, password_hash=password_hash,
                email_verified_at=utcnow() if verified else None)
    session.add(user)
    session.flush()
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
    mail.queue(session, user.email, "Confirm your email address for Cadre",
               f"Hello {user.full_name},\n\nPlease confirm your email address by opening this link:\n\n"
               f"{_link('/verify-email', raw)}\n\nThe link works for 3 days. If you did not create a Cadre "
               f"account, ignore this message.\n")


def verify_email(session: Session, raw: str) -> User:
    token = _consume_token(session, raw, TokenPurpose.verify_email)
    user = get(session, token.user_id)
    if user.email_verified_at is None:
        user.email_verified_at = utcnow()
        session.add(user)
        session.flush()
    return user


# --- login, sessions, throttling --------------------------------------------------------------

def _minutes_until(moment: datetime) -> int:
    return max(1, math.ceil((moment - utcnow()).total_seconds() / 60))


def check_throttle(session: Session, email: str, ip: str) -> None:
    s = get_settings()
    window = timedelta(minutes=s.login_window_minutes)
    since = utcnow() - window
    last_ok = session.exec(select(func.max(LoginAttempt.created_at))
                           .where(LoginAttempt.email == email, LoginAttempt.succeeded)).one()
    acct_since = max(since, last_ok) if last_ok else since
    # Per account *and address*: a stranger elsewhere cannot lock the owner out by failing on purpose.
    # Per account from every address, a higher cap still stops guessing spread over many machines.
    acct = session.exec(select(func.count(), func.min(LoginAttempt.created_at))
                        .where(LoginAttempt.email == email, LoginAttempt.ip == ip,
                               col(LoginAttempt.succeeded).is_(False), LoginAttempt.created_at > acct_since)).one()
    everywhere = session.exec(select(func.count(), func.min(LoginAttempt.created_at))
                              .where(LoginAttempt.email == email, col(LoginAttempt.succeeded).is_(False),
                                     LoginAttempt.created_at > acct_since)).one()
    by_ip = session.exec(select(func.count(), func.min(LoginAttempt.created_at))
                         .where(LoginAttempt.ip == ip, col(LoginAttempt.succeeded).is_(False),
                                LoginAttempt.created_at > since)).one()
    for (count, oldest), limit, what in ((acct, s.login_max_failures_per_account, "this account"),
                                         (everywhere, s.login_max_failures_per_account_everywhere, "this account"),
                                         (by_ip, s.login_max_failures_per_ip, "your network address")):
        if count >= limit:
            minutes = _minutes_until(oldest + window)
            raise TooManyRequests(
                f"Too many failed log-in attempts for {what}. Try again in {minutes} minute"
                f"{'s' if minutes != 1 else ''}, or reset your password.",
                code="login_throttled", headers={"Retry-After": str(minutes * 60)},
            )


def authenticate(session: Session, email: str, password: str, ip: str) -> User:
    email = normalise_email(email)
    check_throttle(session, email, ip)
    user = get_by_email(session, email)
    with without_transaction(session):  # the slow hash holds no lock (on SQLite: the one write lock)
        ok = verify_password(password, user.password_hash if user else None)
    if not ok or user is None or not user.is_active:
        # Committed on its own: the error below rolls the request back, and the failure must still count.
        durable(lambda s: s.add(LoginAttempt(email=email, ip=ip, succeeded=False)), session)
        raise Invalid("That email and password do not match an account.", code="bad_credentials")
    session.add(LoginAttempt(email=email, ip=ip, succeeded=True))
    session.flush()
    return user


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
    mail.queue(session, user.email, "Reset your Cadre password",
               f"Hello {user.full_name},\n\nSomeone (we hope you) asked to reset the password for this "
               f"account. Choose a new password here:\n\n{_link('/reset-password', raw)}\n\nThe link works "
               f"for one hour, once. If you did not ask, ignore this message: your password is unchanged.\n")


def reset_password(session: Session, raw: str, new_password: str) -> User:
    token = _consume_token(session, raw, TokenPurpose.reset_password)
    user = get(session, token.user_id)
    user.password_hash = hash_password(new_password)
    user.updated_at = utcnow()
    # Whoever could read the mail owns the address, so it is verified too.
    user.email_verified_at = user.email_verified_at or utcnow()
    session.add(user)
    session.add(LoginAttempt(email=user.email, ip="reset", succeeded=True))  # lifts a lock-out
    end_all_sessions(session, user)
    mail.queue(session, user.email, "Your Cadre password was changed",
               f"Hello {user.full_name},\n\nThe password for your Cadre account was just changed and every "
               f"session was logged out. If this was not you, reset your password now and contact us.\n")
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
    mail.queue(session, user.email, "Your Cadre password was changed",
               f"Hello {user.full_name},\n\nThe password for your Cadre account was changed, and your other "
               f"sessions were logged out. If this was not you, reset your password now.\n")


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
    mail.queue(session, new_email, "Confirm your new email address for Cadre",
               f"Hello {user.full_name},\n\nConfirm that Cadre should use this address from now on:\n\n"
               f"{_link('/confirm-email-change', raw)}\n\nThe link works for one day.\n")
    mail.queue(session, user.email, "Your Cadre email address is being changed",
               f"Hello {user.full_name},\n\nSomeone asked to move your Cadre account to {new_email}. It "
               f"changes only once the new address is confirmed. If this was not you, change your password.\n")


def confirm_email_change(session: Session, raw: str) -> User:
    token = _consume_token(session, raw, TokenPurpose.change_email)
    user = get(session, token.user_id)
    if token.new_email is None or get_by_email(session, token.new_email):
        raise Conflict("Another account already uses that email address.", code="email_taken")
    user.email = token.new_email
    user.email_verified_at = utcnow()
    user.updated_at = utcnow()
    session.add(user)
    session.flush()
    return user


# --- roles and administration -----------------------------------------------------------------

def grant_role(session: Session, user: User, role: Role, by: User | None = None) -> bool:
    if role in roles_of(session, user):
        return False
    session.add(UserRole(user_id=user.id, role=role.value, granted_by_id=by.id if by else None))
    session.flush()
    return True


def revoke_role(session: Session, user: User, role: Role) -> bool:
    if role is Role.learner:
        raise Invalid("Every account keeps the learner role.", code="role_required")
    rows = session.exec(select(UserRole).where(UserRole.user_id == user.id, UserRole.role == role.value)).all()
    for row in rows:
        session.delete(row)
    session.flush()
    return bool(rows)


def list_users(session: Session, search: str | None = None, limit: int = 200) -> list[tuple[User, set[Role]]]:
    query = select(User).order_by(col(User.created_at).desc()).limit(limit)
    if search:
        like = f"%{search.strip().lower()}%"
        query = query.where(col(User.email).ilike(like) | col(User.full_name).ilike(like))
    users = session.exec(query).all()
    roles: dict[int, set[Role]] = {u.id: set() for u in users}
    if users:
        for uid, role in session.exec(select(UserRole.user_id, UserRole.role)
                                      .where(col(UserRole.user_id).in_(list(roles)))):
            roles[uid].add(Role(role))
    return [(u, roles[u.id]) for u in users]


DEMO_ACCOUNTS = [
    (Role.learner, "learner@example.com", "Lena Learner"),
    (Role.coach, "coach@example.com", "Colin Coach"),
    (Role.admin, "admin@example.com", "Ada Admin"),
    (Role.employer, "employer@example.com", "Emma Employer"),
]


def ensure_demo_accounts(session: Session) -> list[tuple[Role, str, str]]:
    """Creates the four demo accounts once (development only); returns those created with passwords."""
    created = []
    for role, email, name in DEMO_ACCOUNTS:
        if get_by_email(session, email):
            continue
        password = new_token(9)
        create_user(session, UserCreate(email=email, full_name=name, password=password), roles={role},
                    verified=True)
        created.append((role, email, password))
    return created
