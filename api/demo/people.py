"""The four demo accounts. Their passwords are derived from the site's secret key, so `make run` can
show them on every start without storing them anywhere (development only: production refuses demo data,
and a default secret key)."""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass

from sqlmodel import Session

from api.accounts import service as accounts_service
from api.accounts.models import Role, User
from api.accounts.schemas import UserCreate
from api.core.config import get_settings
from api.core.db import utcnow
from api.core.security import hash_password, verify_password

DEMO_ACCOUNTS = [
    ("learner", Role.learner, "learner@example.com", "Lena Okafor"),
    ("coach", Role.coach, "coach@example.com", "Colin Mensah"),
    ("admin", Role.admin, "admin@example.com", "Ada Lindqvist"),
    ("employer", Role.employer, "employer@example.com", "Emma Clarke"),
]


@dataclass
class Login:
    key: str
    email: str
    password: str
    works: bool  # False when someone changed it since (then `cadre demo --reset-passwords`)
    created: bool


def demo_password(email: str) -> str:
    digest = hmac.new(get_settings().secret_key.encode(), f"demo-login:{email}".encode(), hashlib.sha256).digest()
    return "demo-" + base64.b32encode(digest).decode()[:10].lower()


def ensure(session: Session, *, reset_passwords: bool = False) -> tuple[dict[str, User], list[Login]]:
    """The demo accounts, created when missing (email already confirmed). Idempotent."""
    people: dict[str, User] = {}
    logins: list[Login] = []
    for key, role, email, name in DEMO_ACCOUNTS:
        password = demo_password(email)
        user = accounts_service.get_by_email(session, email)
        created = user is None
        if user is None:
            user = accounts_service.create_user(session, UserCreate(email=email, full_name=name, password=password),
                                                roles={role}, verified=True)
        elif reset_passwords and not verify_password(password, user.password_hash):
            user.password_hash, user.updated_at = hash_password(password), utcnow()
            session.add(user)
            session.flush()
        people[key] = user
        logins.append(Login(key, email, password, created or verify_password(password, user.password_hash), created))
    return people, logins


# Where each demo account's main task starts.
START_AT = {"learner": "/dashboard", "coach": "/coach/marking", "admin": "/admin", "employer": "/organisations"}


def login_lines(logins: list[Login]) -> list[str]:
    lines = ["Demo logins (development only; log in at /login):"]
    for login in logins:
        shown = login.password if login.works else "(changed since; `cadre demo --reset-passwords` sets it back)"
        lines.append(f"  {login.key:9} {login.email:24} {shown:17} then {START_AT[login.key]}")
    return lines


def existing(session: Session) -> list[Login]:
    """The demo accounts that exist, with the passwords to show (nothing is created)."""
    logins = []
    for key, _role, email, _name in DEMO_ACCOUNTS:
        user = accounts_service.get_by_email(session, email)
        if user is not None:
            password = demo_password(email)
            logins.append(Login(key, email, password, verify_password(password, user.password_hash), False))
    return logins
