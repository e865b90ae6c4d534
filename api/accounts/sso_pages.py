"""Single sign-on pages: leave for the provider, come back, prove an existing account, link and unlink.

The calls to a provider happen before the request touches the database (or after it has only read,
with `without_transaction`), so no lock waits on the network. Each failure a person can do something
about is a page saying what happened and what to do.
"""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Depends, Form, Request
from pydantic import ValidationError

from api.accounts import oidc, sso
from api.accounts import service as accounts
from api.accounts.deps import CurrentUser, optional_user, session_token
from api.accounts.pages import login_form, safe_next
from api.accounts.router import client_ip, set_session_cookie
from api.accounts.schemas import PasswordAdd
from api.core.config import get_settings
from api.core.db import SessionDep, Writes, durable, without_transaction
from api.core.errors import CadreError
from api.core.security import csrf_protect
from api.core.templates import form_errors, redirect, render

FLOW_COOKIE = "cadre_sso_flow"
LINK_COOKIE = "cadre_sso_link"

# With the current user (the account page's actions, starting a log-in or a link).
router = APIRouter(dependencies=[Depends(csrf_protect), Depends(optional_user)], include_in_schema=False)
# No user lookup first: the callback calls the provider before any database work, and the password
# proof's first database work is the log-in throttle's own transaction (as for /login).
bare_router = APIRouter(dependencies=[Depends(csrf_protect)], include_in_schema=False)

FAILURES = {
    "unreachable": (502, "We could not reach {name}",
                    "{name} did not answer, or answered in a way we could not use. Try again in a few minutes; "
                    "if it keeps happening, log in with your password or ask your administrator."),
    "cancelled": (400, "Log-in cancelled",
                  "You stopped the log-in at {name}, so you are not logged in. Try again whenever you like."),
    "provider_error": (502, "{name} refused the log-in",
                       "{name} did not let Cadre finish the log-in. Try again; if it keeps happening, ask your "
                       "administrator whether Cadre is allowed to use your {name} account."),
    "state_mismatch": (400, "This log-in link is not for this browser",
                       "The answer from {name} does not match a log-in started in this browser (it may have "
                       "expired, or been started in another window or browser). Start again from the log-in page."),
    "nonce_mismatch": (400, "This log-in could not be checked",
                       "The answer from {name} was not for the log-in started here. Start again from the log-in "
                       "page."),
    "invalid_token": (400, "This log-in could not be checked",
                      "The proof of identity {name} sent was not signed as it should be, so we did not accept "
                      "it. Start again from the log-in page; if it keeps happening, tell your administrator."),
    "wrong_issuer": (400, "This log-in came from the wrong place",
                     "The proof of identity did not come from {name} as configured, so we did not accept it. "
                     "Tell your administrator: the provider's issuer address does not match Cadre's settings."),
    "wrong_audience": (400, "This log-in was meant for another application",
                       "{name} sent a proof of identity addressed to another application, not to Cadre, so we "
                       "did not accept it. Tell your administrator: Cadre's client id must be in the token's "
                       "audience."),
    "expired": (400, "This log-in took too long",
                "The proof of identity from {name} had already expired when it reached us. Check your device's "
                "clock, then start again from the log-in page."),
    # Refusals from the rules (sso.complete); their message is the error's own.
    "sso_email_unverified": (403, "Your email address is not confirmed by {name}", ""),
    "identity_taken": (409, "This {name} account is linked elsewhere", ""),
    "sso_no_email": (422, "{name} did not share your email address", ""),
    "insecure": (502, "This provider is not set up safely",
                 "{name} is configured with an address that is not https, which Cadre does not use in production. "
                 "Tell your administrator."),
}


def _failure_page(request: Request, name: str, kind: str, status: int | None = None, message: str | None = None,
                  session=None):
    code, title, text = FAILURES.get(kind, FAILURES["invalid_token"])
    if session is not None and not hasattr(request.state, "user"):
        optional_user(request, session)  # the header shows who is logged in (no provider call follows)
    response = render(request, "accounts/sso_error.html", status or code, title=title.format(name=name),
                      message=message or text.format(name=name), kind=kind)
    response.delete_cookie(FLOW_COOKIE, path="/sso/")
    return response


def _leave_for(p, next_path: str, link_user_id: int | None = None):
    url, flow = oidc.begin(p, next_path, link_user_id)
    response = redirect(url)
    s = get_settings()
    response.set_cookie(FLOW_COOKIE, sso.encode_flow(flow), max_age=sso.FLOW_TTL_SECONDS, httponly=True,
                        samesite="lax", secure=s.secure_cookies, path="/sso/")
    return response


@router.post("/sso/{key}/start")
def start(request: Request, key: str, session: SessionDep, next: str = Form(""), link: str = Form("")):
    p = sso.provider(key)
    user = request.state.user
    link_user_id = user.id if (link and user is not None) else None
    try:
        with without_transaction(session):  # the discovery document comes over the network
            return _leave_for(p, "/account" if link_user_id else safe_next(next), link_user_id)
    except oidc.OIDCFailure as failure:
        return _failure_page(request, p.name, failure.kind)


@router.post("/sso/discover")
def discover(request: Request, session: SessionDep, email: str = Form(""), next: str = Form("")):
    """'Log in with my organisation': the provider bound to the address's domain."""
    rule = sso.rule_for(session, email) if "@" in email else None
    if rule is None or not rule.offered:
        return login_form(request, 404, values={"email": email}, next=safe_next(next),
                          error="Your organisation has no single sign-on with Cadre. Log in with your email and "
                                "password.")
    if len(rule.offered) > 1:
        return login_form(request, values={"email": email}, next=safe_next(next), sso_rule=rule)
    try:
        with without_transaction(session):
            return _leave_for(rule.offered[0], safe_next(next))
    except oidc.OIDCFailure as failure:
        return _failure_page(request, rule.offered[0].name, failure.kind)


@bare_router.get("/sso/{key}/callback", dependencies=[Writes])
def callback(request: Request, key: str, session: SessionDep, code: str = "", state: str = "", error: str = ""):
    p = sso.provider(key)  # settings only: no database yet
    flow = sso.decode_flow(request.cookies.get(FLOW_COOKIE))
    if error:
        kind = "cancelled" if error in ("access_denied", "login_required", "consent_required") else "provider_error"
        return _failure_page(request, p.name, kind, session=session)
    if flow is None or flow.provider != p.key or not state or not _same(state, flow.state) or not code:
        return _failure_page(request, p.name, "state_mismatch", session=session)
    try:  # over the network, before any database work
        token = oidc.exchange_code(p, code, flow)
        claims = oidc.validate_id_token(p, token, flow)
    except oidc.OIDCFailure as failure:
        return _failure_page(request, p.name, failure.kind, session=session)
    link_user_id = flow.link_user_id
    if link_user_id is not None:  # still the same person logged in here?
        current = accounts.user_for_session_token(session, session_token(request))
        if current is None or current.id != link_user_id:
            return _failure_page(request, p.name, "state_mismatch", session=session)
    try:
        outcome = sso.complete(session, p, claims, link_user_id)
    except CadreError as exc:  # the request rolls back: nothing half-made stays
        return _failure_page(request, p.name, exc.code, exc.status_code, exc.message, session=session)
    if outcome.kind == "link_pending":
        response = redirect("/sso/link")
        response.set_cookie(LINK_COOKIE, outcome.pending_token, max_age=int(sso.PENDING_TTL.total_seconds()),
                            httponly=True, samesite="lax", secure=get_settings().secure_cookies, path="/sso/")
    elif outcome.kind == "linked":
        response = redirect("/account", f"{p.name} is linked: you can log in with it from now on.")
    else:
        response = redirect(flow.next, f"Welcome, {outcome.user.full_name}." if outcome.kind == "created" else None)
        raw, _ = accounts.start_session(session, outcome.user, client_ip(request), request.headers.get("user-agent"))
        set_session_cookie(response, raw)
    response.delete_cookie(FLOW_COOKIE, path="/sso/")
    return response


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def _link_page(request: Request, row, status: int = 200, **ctx):
    ctx.setdefault("errors", {})
    return render(request, "accounts/sso_link.html", status, email=row.email,
                  provider=sso.provider(row.provider_key).name, **ctx)


def _no_pending(request: Request):
    return render(request, "accounts/sso_error.html", 410, title="Start the log-in again",
                  message="This request to link an account has expired or was already used. Log in with your "
                          "provider again.", kind="bad_token")


@router.get("/sso/link")
def link_page(request: Request, session: SessionDep):
    row = sso.pending(session, request.cookies.get(LINK_COOKIE))
    if row is None:
        return _no_pending(request)
    return _link_page(request, row)


@bare_router.post("/sso/link")
def link_with_password(request: Request, session: SessionDep, password: str = Form("")):
    raw = request.cookies.get(LINK_COOKIE)
    # Read in a short transaction of its own, so the throttle below still comes before this request's own.
    found = durable(lambda s: (lambda r: (r.email, r.provider_key) if r else None)(sso.pending(s, raw)))
    if found is None:
        return _no_pending(request)
    email, provider_key = found
    try:
        user = accounts.authenticate(session, email, password, client_ip(request))
        sso.link_with_password(session, raw, user)
    except CadreError as exc:
        row = sso.pending(session, raw)
        if row is None:
            return _no_pending(request)
        return _link_page(request, row, exc.status_code, errors={"password": exc.message})
    raw_session, _ = accounts.start_session(session, user, client_ip(request), request.headers.get("user-agent"))
    response = redirect("/dashboard", f"{sso.provider(provider_key).name} is linked to your account.")
    set_session_cookie(response, raw_session)
    response.delete_cookie(LINK_COOKIE, path="/sso/")
    return response


@router.post("/sso/link/email")
def link_by_email(request: Request, session: SessionDep):
    raw = request.cookies.get(LINK_COOKIE)
    row = sso.pending(session, raw)
    if row is None:
        return _no_pending(request)
    address = sso.send_link_email(session, raw)
    return _link_page(request, row, sent_to=address)


@router.get("/sso/link/confirm")
def link_confirm_page(request: Request, token: str = ""):
    # A click (POST) spends the link: mail scanners that open links must not.
    return render(request, "accounts/confirm_action.html", title="Link your account",
                  action="/sso/link/confirm", token=token, button="Link it and log me in")


@router.post("/sso/link/confirm")
def link_confirm(request: Request, session: SessionDep, token: str = Form("")):
    try:
        user = sso.link_by_mail(session, token)
    except CadreError as exc:
        return render(request, "accounts/sso_error.html", exc.status_code, title="Link not valid",
                      message=exc.message, kind=exc.code)
    raw, _ = accounts.start_session(session, user, client_ip(request), request.headers.get("user-agent"))
    response = redirect("/dashboard", "Your account is linked: you can log in with single sign-on from now on.")
    set_session_cookie(response, raw)
    response.delete_cookie(LINK_COOKIE, path="/sso/")
    return response


@router.post("/account/identities/{identity_id}/unlink")
def unlink(request: Request, identity_id: int, user: CurrentUser, session: SessionDep):
    try:
        row = sso.unlink(session, user, identity_id)
    except CadreError as exc:
        if exc.status_code == 404:
            raise
        return redirect("/account", exc.message)
    name = sso.providers().get(row.provider_key)
    return redirect("/account", f"{name.name if name else row.provider_key} is no longer linked to your account.")


@router.post("/account/password/add")
def add_password(request: Request, user: CurrentUser, session: SessionDep, new_password: str = Form("")):
    from api.accounts.pages import _account

    try:
        data = PasswordAdd(new_password=new_password)
        sso.add_password(session, user, data.new_password)
    except ValidationError as exc:
        return _account(request, session, 422, errors=form_errors(exc))
    except CadreError as exc:
        return redirect("/account", exc.message)
    return redirect("/account", "Your account has a password now: you can log in with it too.")
