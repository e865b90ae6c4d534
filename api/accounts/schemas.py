from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, EmailStr, Field, field_validator

from api.accounts.models import Role

PASSWORD_MIN = 10


def _clean_name(value: str) -> str:
    value = " ".join(value.split())
    if not value:
        raise ValueError("enter your full name as it should appear on a certificate")
    if any(ord(c) < 32 or c in "<>" for c in value):
        raise ValueError("a name cannot contain control characters or angle brackets")
    return value


class UserCreate(BaseModel):
    email: EmailStr
    full_name: str = Field(min_length=1, max_length=200)
    password: str = Field(min_length=PASSWORD_MIN, max_length=200)

    _name = field_validator("full_name")(_clean_name)


class UserUpdate(BaseModel):
    full_name: str | None = Field(default=None, min_length=1, max_length=200)

    _name = field_validator("full_name")(_clean_name)


class Login(BaseModel):
    email: EmailStr
    password: str = Field(min_length=1, max_length=200)


class PasswordChange(BaseModel):
    current_password: str = Field(min_length=1, max_length=200)
    new_password: str = Field(min_length=PASSWORD_MIN, max_length=200)


class EmailChange(BaseModel):
    new_email: EmailStr
    current_password: str = Field(min_length=1, max_length=200)


class PasswordResetRequest(BaseModel):
    email: EmailStr


class PasswordReset(BaseModel):
    token: str = Field(min_length=10, max_length=200)
    new_password: str = Field(min_length=PASSWORD_MIN, max_length=200)


class TokenIn(BaseModel):
    token: str = Field(min_length=10, max_length=200)


class UserPublic(BaseModel):
    id: int
    email: str
    full_name: str
    email_verified: bool
    roles: list[Role]
    created_at: datetime


class LoginResult(BaseModel):
    user: UserPublic
    token: str = Field(description="Session token: send as `Authorization: Bearer <token>` or use the cookie.")
    expires_at: datetime


class Message(BaseModel):
    message: str
