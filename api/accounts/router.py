"""JSON API for accounts under /api/v1/auth. Thin: parse, call the service, shape."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status
from fastapi.responses import JSONResponse

from api.accounts import service
from api.accounts.deps import SESSION_COOKIE, CurrentUser, session_token
from api.accounts.schemas import (
    EmailChange,
    Login,
    LoginResult,
    Message,
    PasswordChange,
    PasswordReset,
    PasswordResetRequest,
    TokenIn,
    UserCreate,
    UserPublic,
    UserUpdate,
)
from api.core.config import get_settings
from api.core.db import SessionDep
from api.core.errors import CadreError, error_body

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def set_session_cookie(response: Response, raw: str) -> None:
    s = get_settings()
    response.set_cookie(SESSION_COOKIE, raw, max_age=s.session_days * 86400, httponly=True, samesite="lax",
                        secure=s.secure_cookies, path="/")


def clear_session_cookie(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax")


@router.post("/register", status_code=status.HTTP_201_CREATED, response_model=UserPublic)
def register(data: UserCreate, session: SessionDep) -> UserPublic:
    """Create an account; a confirmation link is emailed."""
    return service.to_public(session, service.register(session, data))


@router.post("/login", response_model=LoginResult, responses={422: {}, 429: {}})
def login(data: Login, request: Request, response: Response, session: SessionDep):
    """Log in: sets the session cookie and returns the same token for non-browser clients."""
    try:
        user = service.authenticate(session, data.email, data.password, client_ip(request))
    except CadreError as exc:
        # The failed attempt is recorded durably by the service, so it counts towards throttling.
        return JSONResponse(error_body(exc.code, exc.message), status_code=exc.status_code, headers=exc.headers)
    raw, row = service.start_session(session, user, client_ip(request), request.headers.get("user-agent"))
    set_session_cookie(response, raw)
    return LoginResult(user=service.to_public(session, user), token=raw, expires_at=row.expires_at)


@router.post("/logout", response_model=Message)
def logout(request: Request, response: Response, session: SessionDep) -> Message:
    service.end_session(session, session_token(request))
    clear_session_cookie(response)
    return Message(message="Logged out.")


@router.post("/logout-everywhere", response_model=Message)
def logout_everywhere(user: CurrentUser, response: Response, session: SessionDep) -> Message:
    count = service.end_all_sessions(session, user)
    clear_session_cookie(response)
    return Message(message=f"Logged out of {count} session{'s' if count != 1 else ''}.")


@router.get("/me", response_model=UserPublic)
def me(user: CurrentUser, session: SessionDep) -> UserPublic:
    return service.to_public(session, user)


@router.patch("/me", response_model=UserPublic)
def update_me(data: UserUpdate, user: CurrentUser, session: SessionDep) -> UserPublic:
    if data.full_name is not None:
        service.change_name(session, user, data.full_name)
    return service.to_public(session, user)


@router.post("/password", response_model=Message)
def change_password(data: PasswordChange, request: Request, user: CurrentUser, session: SessionDep) -> Message:
    service.change_password(session, user, data.current_password, data.new_password, session_token(request))
    return Message(message="Password changed; your other sessions were logged out.")


@router.post("/email", response_model=Message, status_code=status.HTTP_202_ACCEPTED)
def change_email(data: EmailChange, user: CurrentUser, session: SessionDep) -> Message:
    service.request_email_change(session, user, data.new_email, data.current_password)
    return Message(message="We sent a confirmation link to the new address.")


@router.post("/email/confirm", response_model=UserPublic)
def confirm_email_change(data: TokenIn, session: SessionDep) -> UserPublic:
    return service.to_public(session, service.confirm_email_change(session, data.token))


@router.post("/verify-email", response_model=UserPublic)
def verify_email(data: TokenIn, session: SessionDep) -> UserPublic:
    return service.to_public(session, service.verify_email(session, data.token))


@router.post("/verify-email/resend", response_model=Message, status_code=status.HTTP_202_ACCEPTED)
def resend_verification(user: CurrentUser, session: SessionDep) -> Message:
    if user.email_verified_at is None:
        service.send_verification(session, user)
    return Message(message="If your address still needs confirming, a new link is on its way.")


@router.post("/password-reset/request", response_model=Message, status_code=status.HTTP_202_ACCEPTED)
def request_password_reset(data: PasswordResetRequest, session: SessionDep) -> Message:
    service.request_password_reset(session, data.email)
    return Message(message="If an account uses that address, a reset link is on its way.")


@router.post("/password-reset", response_model=Message)
def reset_password(data: PasswordReset, session: SessionDep) -> Message:
    service.reset_password(session, data.token, data.new_password)
    return Message(message="Password changed. Log in with your new password.")
