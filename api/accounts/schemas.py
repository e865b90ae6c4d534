from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, EmailStr, Field

from api.accounts.models import Role
from api.core.schemas import HumanName, PatchModel

PASSWORD_MIN = 10


class UserCreate(BaseModel):
    email: EmailStr
    full_name: HumanName
    password: str = Field(min_length=PASSWORD_MIN, max_length=200)


class UserUpdate(PatchModel):
    full_name: HumanName | None = None


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


class PasswordAdd(BaseModel):
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
