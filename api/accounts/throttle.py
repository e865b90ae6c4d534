"""Log-in throttling that holds under concurrency.

An attempt first takes a slot: in a short transaction of its own it records itself as a failure,
then counts the failures in the window, itself included. Over a limit, the transaction is rolled
back (a refused try is not a guess and must not extend the lock-out) and the answer is 429; within
the limits it commits, and only then is the password checked. A right password turns the record
into a success. So the record of a wrong guess is committed before the guess is even checked, and
nothing the request does afterwards (a rollback on error included) can lose it.

Counting and recording are one step per account and per address: on PostgreSQL under transaction-
scoped advisory locks (account first, then address, always in that order), on SQLite under its one
write lock, taken by the insert that opens the transaction. Forty simultaneous guesses therefore
get exactly as many password checks as the limit allows.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, text, update
from sqlmodel import Session, col, select

from api.accounts.models import NO_PASSWORD, LoginAttempt, User
from api.core.config import get_settings
from api.core.db import independent_session, utcnow
from api.core.errors import TooManyRequests


@dataclass(frozen=True)
class Slot:
    """A granted attempt: its record, and what the password is checked against."""

    attempt_id: int
    user_id: int | None
    password_hash: str | None
    is_active: bool


def _lock_key(name: str) -> int:
    """A signed 64-bit advisory-lock key for `name`."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


def _serialise(tx: Session, email: str, ip: str) -> None:
    if tx.get_bind().dialect.name != "postgresql":
        return  # SQLite: the insert that follows takes the database's single write lock
    for name in (f"login-account:{email}", f"login-address:{ip}"):
        tx.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _lock_key(name)})


def _minutes_until(moment: datetime) -> int:
    return max(1, math.ceil((moment - utcnow()).total_seconds() / 60))


def _refuse_if_over(tx: Session, email: str, ip: str) -> None:
    s = get_settings()
    window = timedelta(minutes=s.login_window_minutes)
    since = utcnow() - window
    last_ok = tx.exec(select(func.max(LoginAttempt.created_at))
                      .where(LoginAttempt.email == email, LoginAttempt.succeeded)).one()
    acct_since = max(since, last_ok) if last_ok else since
    failed = col(LoginAttempt.succeeded).is_(False)
    # Per account *and address*: a stranger elsewhere cannot lock the owner out by failing on purpose.
    # Per account from every address, a higher cap still stops guessing spread over many machines.
    acct = tx.exec(select(func.count(), func.min(LoginAttempt.created_at)).where(
        LoginAttempt.email == email, LoginAttempt.ip == ip, failed, LoginAttempt.created_at > acct_since)).one()
    everywhere = tx.exec(select(func.count(), func.min(LoginAttempt.created_at)).where(
        LoginAttempt.email == email, failed, LoginAttempt.created_at > acct_since)).one()
    by_ip = tx.exec(select(func.count(), func.min(LoginAttempt.created_at)).where(
        LoginAttempt.ip == ip, failed, LoginAttempt.created_at > since)).one()
    for (count, oldest), limit, what in ((acct, s.login_max_failures_per_account, "this account"),
                                         (everywhere, s.login_max_failures_per_account_everywhere, "this account"),
                                         (by_ip, s.login_max_failures_per_ip, "your network address")):
        if count > limit:  # the count includes this attempt's own record
            minutes = _minutes_until(oldest + window)
            raise TooManyRequests(
                f"Too many failed log-in attempts for {what}. Try again in {minutes} minute"
                f"{'s' if minutes != 1 else ''}, or reset your password.",
                code="login_throttled", headers={"Retry-After": str(minutes * 60)},
            )


def reserve(session: Session, email: str, ip: str) -> Slot:
    """Take a slot for one log-in attempt (`email` already normalised), committed on its own, or
    raise 429. Call it before `session` has begun its transaction, so that on SQLite too it gets a
    connection of its own and holds no lock while the password is checked (see independent_session)."""
    with independent_session() as tx:
        _serialise(tx, email, ip)
        attempt = LoginAttempt(email=email, ip=ip, succeeded=False)
        tx.add(attempt)
        tx.flush()
        _refuse_if_over(tx, email, ip)  # raising rolls the record back
        user = tx.exec(select(User).where(User.email == email)).first()
        return Slot(attempt_id=attempt.id, user_id=user.id if user else None,
                    # An account without a password is checked against the dummy hash, as an unknown one is.
                    password_hash=user.password_hash if user and user.password_hash != NO_PASSWORD else None,
                    is_active=bool(user and user.is_active))


def succeeded(session: Session, slot: Slot) -> None:
    """The password was right: the attempt no longer counts as a failure, and lifts a lock-out."""
    session.exec(update(LoginAttempt).where(col(LoginAttempt.id) == slot.attempt_id).values(succeeded=True))
