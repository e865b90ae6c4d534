"""Account pages: register, log in and out, verify, reset, the account page and the admin users page."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Form, Request
from pydantic import ValidationError

from api.accounts import admin_areas, service, sso  # noqa: F401 - admin_areas: the menu in templates
from api.accounts.deps import AdminUser, CurrentUser, optional_user, require_role, session_token
from api.accounts.models import Role, User
from api.accounts.router import clear_session_cookie, client_ip, set_session_cookie
from api.accounts.schemas import EmailChange, PasswordChange, PasswordReset, UserCreate, UserUpdate
from api.core import pagination
from api.core.db import SessionDep
from api.core.errors import CadreError, Forbidden
from api.core.security import csrf_protect
from api.core.templates import form_errors, redirect, render

router = APIRouter(dependencies=[Depends(csrf_protect), Depends(optional_user)], include_in_schema=False)
# Posting the log-in form has no current user to look up: its first database work is the throttle's
# own transaction (accounts.throttle), which must come before this request opens one.
login_router = APIRouter(dependencies=[Depends(csrf_protect)], include_in_schema=False)


def safe_next(target: str | None) -> str:
    """Only same-site relative paths: never an open redirect."""
    if not target or not target.startswith("/") or target.startswith("//") or urlsplit(target).netloc:
        return "/dashboard"
    return target


@router.get("/register")
def register_page(request: Request):
    return render(request, "accounts/register.html", values={}, errors={})


@router.post("/register")
def register(request: Request, session: SessionDep, email: str = Form(""), full_name: str = Form(""),
             password: str = Form(""), time_zone: str = Form("")):
    values = {"email": email, "full_name": full_name}
    try:
        data = UserCreate(email=email, full_name=full_name, password=password)
        user = service.register(session, data)
        from api.core.timezones import is_zone

        if is_zone(time_zone.strip()):  # the browser's zone, filled in by /static/timezone.js when it runs
            service.change_time_zone(session, user, time_zone.strip())
    except ValidationError as exc:
        return render(request, "accounts/register.html", 422, values=values,
                      errors=form_errors(exc, ("full_name", "email", "password")))
    except CadreError as exc:
        return render(request, "accounts/register.html", exc.status_code, values=values,
                      errors={"email": exc.message})
    raw, _ = service.start_session(session, user, client_ip(request), request.headers.get("user-agent"))
    response = redirect("/dashboard", f"Welcome, {user.full_name}. We sent a link to {user.email} to confirm "
                                      f"your address.")
    set_session_cookie(response, raw)
    return response


def login_form(request: Request, status: int = 200, **ctx):
    """The log-in page, with its single sign-on choices (accounts/_sso_login.html)."""
    ctx.setdefault("values", {})
    ctx.setdefault("error", None)
    ctx.setdefault("errors", {})
    ctx.setdefault("sso_rule", None)
    return render(request, "accounts/login.html", status, sso_providers=sso.listed_providers(),
                  sso_enabled=bool(sso.providers()), **ctx)


@router.get("/login")
def login_page(request: Request, next: str | None = None):
    return login_form(request, next=safe_next(next))


def _sso_required(session, email: str, next: str, request: Request):
    """A password log-in for a domain that must use single sign-on: refused, pointing at the provider,
    whether or not the password was right (so the answer says nothing about it)."""
    rule = sso.rule_for(session, email) if "@" in email else None
    if rule is None or not rule.required:
        return None
    refusal = Forbidden(f"People at {rule.domain} log in with {rule.names}: use the button below.",
                        code="sso_required")  # rolls the request back (a right password lifts no lock-out)
    return login_form(request, refusal.status_code, values={"email": email}, error=refusal.message,
                      next=safe_next(next), sso_rule=rule)


@login_router.post("/login")
def login(request: Request, session: SessionDep, email: str = Form(""), password: str = Form(""),
          next: str = Form("")):
    missing = {k: v for k, v in (("email", "" if email.strip() else "Enter your email address."),
                                 ("password", "" if password else "Enter your password.")) if v}
    if missing:  # nothing to check yet: say which field is empty, beside it
        return login_form(request, 422, values={"email": email}, errors=missing, next=safe_next(next))
    try:
        user = service.authenticate(session, email, password, client_ip(request))
    except CadreError as exc:
        rule = sso.rule_for(session, email) if "@" in email else None
        offer = rule if rule and rule.offered else None  # a bound, optional provider is offered beside the error
        return _sso_required(session, email, next, request) or login_form(
            request, exc.status_code, values={"email": email}, error=exc.message, next=safe_next(next),
            sso_rule=offer, errors={"email": exc.message})
    refused = _sso_required(session, email, next, request)
    if refused is not None:
        return refused
    raw, _ = service.start_session(session, user, client_ip(request), request.headers.get("user-agent"))
    response = redirect(safe_next(next))
    set_session_cookie(response, raw)
    return response


@router.post("/logout")
def logout(request: Request, session: SessionDep):
    service.end_session(session, session_token(request))
    response = redirect("/", "You are logged out.")
    clear_session_cookie(response)
    return response


def _already_confirmed(request: Request, user: User):
    return render(request, "accounts/message.html", title="Already confirmed",
                  message=f"{user.email} is already confirmed: there is nothing more to do. You can log in.")


@router.get("/verify-email")
def verify_email_page(request: Request, session: SessionDep, token: str = ""):
    # Confirming takes a click (a POST): mail scanners that open links must not spend the token.
    done = service.already_confirmed(session, token)
    if done is not None:
        return _already_confirmed(request, done)
    return render(request, "accounts/confirm_action.html", title="Confirm your email address",
                  action="/verify-email", token=token, button="Confirm my email address")


@router.post("/verify-email")
def verify_email(request: Request, session: SessionDep, token: str = Form("")):
    done = service.already_confirmed(session, token)
    if done is not None:
        return _already_confirmed(request, done)
    try:
        user = service.verify_email(session, token)
    except CadreError as exc:
        return render(request, "accounts/message.html", exc.status_code, title="Link not valid",
                      message=exc.message)
    return render(request, "accounts/message.html", title="Email confirmed",
                  message=f"Thank you, {user.full_name}: {user.email} is confirmed.")


@router.get("/forgot-password")
def forgot_page(request: Request):
    return render(request, "accounts/forgot.html", sent=False, errors={}, email="")


@router.post("/forgot-password")
def forgot(request: Request, session: SessionDep, email: str = Form("")):
    if "@" not in email:  # says nothing about accounts: only that this is not an address
        return render(request, "accounts/forgot.html", 422, sent=False, email=email, errors={
            "email": "Enter your email address." if not email.strip() else
            "Enter an email address like name@example.com."})
    service.request_password_reset(session, email)
    return render(request, "accounts/forgot.html", sent=True, errors={}, email="")


@router.get("/reset-password")
def reset_page(request: Request, token: str = ""):
    return render(request, "accounts/reset.html", token=token, errors={})


@router.post("/reset-password")
def reset(request: Request, session: SessionDep, token: str = Form(""), new_password: str = Form("")):
    try:
        service.reset_password(session, PasswordReset(token=token, new_password=new_password).token, new_password)
    except ValidationError as exc:
        errors = form_errors(exc, ("token", "new_password"))
        if "token" in errors:  # the link, not something the person typed
            errors["token"] = "This reset link is not complete: it may have been cut short when copied."  # noqa: S105
        return render(request, "accounts/reset.html", 422, token=token, errors=errors)
    except CadreError as exc:
        return render(request, "accounts/reset.html", exc.status_code, token=token, errors={"token": exc.message})
    return redirect("/login", "Password changed. Log in with your new password.")


@router.get("/confirm-email-change")
def confirm_email_page(request: Request, token: str = ""):
    return render(request, "accounts/confirm_action.html", title="Confirm your new email address",
                  action="/confirm-email-change", token=token, button="Use this address for my account")


@router.post("/confirm-email-change")
def confirm_email(request: Request, session: SessionDep, token: str = Form("")):
    try:
        user = service.confirm_email_change(session, token)
    except CadreError as exc:
        return render(request, "accounts/message.html", exc.status_code, title="Link not valid",
                      message=exc.message)
    return render(request, "accounts/message.html", title="Email changed",
                  message=f"Your account now uses {user.email}.")


def _account(request: Request, session, status: int = 200, **ctx):
    from api.core.timezones import all_zones

    ctx.setdefault("errors", {})
    ctx.setdefault("zones", all_zones())
    user = request.state.user
    linked = sso.identities(session, user)
    names = {p.key: p.name for p in sso.providers().values()}
    return render(request, "accounts/account.html", status, identities=linked, provider_names=names,
                  has_password=sso.has_password(user), can_unlink=len(linked) > 1 or sso.password_counts(session, user),
                  linkable=[p for p in sso.providers().values() if p.key not in {i.provider_key for i in linked}],
                  **ctx)


@router.get("/account")
def account(request: Request, user: CurrentUser, session: SessionDep):
    return _account(request, session)


@router.post("/account/name")
def account_name(request: Request, user: CurrentUser, session: SessionDep, full_name: str = Form("")):
    try:
        service.change_name(session, user, UserUpdate(full_name=full_name).full_name)
    except ValidationError as exc:
        return _account(request, session, 422, errors=form_errors(exc))
    return redirect("/account", "Your name is updated.")


@router.post("/account/time-zone")
def account_time_zone(request: Request, user: CurrentUser, session: SessionDep, time_zone: str = Form("")):
    from api.core.timezones import is_zone

    if not is_zone(time_zone.strip()):
        return _account(request, session, 422,
                        errors={"time_zone": "Choose a time zone from the list, e.g. Europe/London."})
    service.change_time_zone(session, user, time_zone.strip())
    return redirect("/account", f"Times are now shown in {time_zone.strip()}.")


@router.post("/account/password")
def account_password(request: Request, user: CurrentUser, session: SessionDep,
                     current_password: str = Form(""), new_password: str = Form("")):
    try:
        data = PasswordChange(current_password=current_password, new_password=new_password)
        service.change_password(session, user, data.current_password, data.new_password, session_token(request))
    except ValidationError as exc:
        return _account(request, session, 422, errors=form_errors(exc))
    except CadreError as exc:
        return _account(request, session, exc.status_code, errors={"current_password": exc.message})
    return redirect("/account", "Password changed. Your other sessions were logged out.")


@router.post("/account/email")
def account_email(request: Request, user: CurrentUser, session: SessionDep, new_email: str = Form(""),
                  current_password: str = Form("")):
    try:
        data = EmailChange(new_email=new_email, current_password=current_password)
        service.request_email_change(session, user, data.new_email, data.current_password)
    except ValidationError as exc:
        return _account(request, session, 422, errors=form_errors(exc))
    except CadreError as exc:
        return _account(request, session, exc.status_code, errors={"new_email": exc.message})
    return redirect("/account", f"We sent a confirmation link to {new_email.strip().lower()}.")


@router.post("/account/verify-email")
def account_resend(request: Request, user: CurrentUser, session: SessionDep):
    if user.email_verified_at is None:
        service.send_verification(session, user)
    return redirect("/account", f"A new confirmation link is on its way to {user.email}.")


@router.post("/account/logout-everywhere")
def account_logout_all(request: Request, user: CurrentUser, session: SessionDep):
    service.end_all_sessions(session, user)
    response = redirect("/login", "You are logged out on every device.")
    clear_session_cookie(response)
    return response


@router.get("/admin")
def admin_home(request: Request, user: Annotated[User, Depends(require_role(Role.coach))]):
    return render(request, "admin/index.html")


@router.get("/admin/users")
def admin_users(request: Request, admin: AdminUser, session: SessionDep, q: str | None = None,
                after: pagination.After = None, before: pagination.Before = None):
    q = (q or "").strip()[:100]
    page = service.list_users(session, q, after=after, before=before)
    return render(request, "admin/users.html", rows=page.rows, pager=page.links("/admin/users", {"q": q}), q=q,
                  all_roles=list(Role), back=pagination.here(request))


@router.post("/admin/users/{user_id}/roles")
def admin_set_role(request: Request, user_id: int, admin: AdminUser, session: SessionDep,
                   role: str = Form(""), action: str = Form("grant"), back: str = Form("")):
    back = pagination.return_to(back, "/admin/users")
    target = service.get(session, user_id)
    try:
        chosen = Role(role)
    except ValueError:
        return redirect(back, "Choose one of the roles listed.", "error")
    if action == "revoke":
        if target.id == admin.id and chosen is Role.admin:
            return redirect(back, "You cannot remove your own admin role.", "error")
        try:
            service.revoke_role(session, target, chosen)
        except CadreError as exc:
            return redirect(back, exc.message, "error")
        return redirect(back, f"{target.full_name} is no longer {chosen.value}.")
    service.grant_role(session, target, chosen, by=admin)
    return redirect(back, f"{target.full_name} is now {chosen.value}.")

