"""An organisation's integration settings: its API keys and its single sign-on domains.

  owner          sees and changes both: makes a key (shown once), revokes one; asks for a domain to use a
                 provider, withdraws it
  platform admin sees both (read-only here; approves domains at /admin/sso-domains)
  manager/member 403 (they may see the organisation, not its keys)
  stranger       404
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request

from api.accounts import sso, sso_bindings
from api.accounts.deps import optional_user
from api.core.db import SessionDep
from api.core.errors import CadreError, Forbidden
from api.core.security import csrf_protect
from api.core.templates import redirect, render
from api.organisations import apikeys
from api.organisations.deps import OrgAccess, OwnerAccessDep, org_access

router = APIRouter(dependencies=[Depends(csrf_protect), Depends(optional_user)], include_in_schema=False)


def settings_reader(access: Annotated[OrgAccess, Depends(org_access)]) -> OrgAccess:
    if not (access.is_owner or access.admin):
        raise Forbidden("Only the organisation's owners can see its API keys and single sign-on.",
                        code="not_org_owner")
    return access


SettingsReaderDep = Annotated[OrgAccess, Depends(settings_reader)]


def _base(access: OrgAccess) -> str:
    return f"/organisations/{access.org.public_id}"


def summary(session, access: OrgAccess) -> dict:
    """For the organisation's own page (owners, platform admins): its active keys and its domains."""
    active, _ = apikeys.keys_of(session, access.org.id)
    return {"keys": active, "bindings": sso_bindings.for_organisation(session, access.org.id),
            "providers": sso.providers()}


# --- API keys --------------------------------------------------------------------------------------

def _keys_page(request: Request, session, access: OrgAccess, status: int = 200, **ctx):
    active, revoked = apikeys.keys_of(session, access.org.id)
    ctx.setdefault("errors", {})
    ctx.setdefault("values", {})
    response = render(request, "organisations/api_keys.html", status, org=access.org, access=access, active=active,
                      revoked=revoked, scopes=apikeys.SCOPES, max_keys=apikeys.MAX_ACTIVE_KEYS, **ctx)
    response.headers["Cache-Control"] = "no-store"  # it may show a new key, once
    return response


@router.get("/organisations/{org_id}/api-keys")
def api_keys(request: Request, session: SessionDep, access: SettingsReaderDep):
    return _keys_page(request, session, access)


@router.post("/organisations/{org_id}/api-keys")
async def create_key(request: Request, session: SessionDep, access: OwnerAccessDep):
    form = await request.form()
    name = str(form.get("name") or "")
    scopes = [str(s) for s in form.getlist("scopes")]
    try:
        key, raw = apikeys.create(session, access.org, access.user, name=name, scopes=scopes)
    except CadreError as exc:
        return _keys_page(request, session, access, exc.status_code, errors={"name": exc.message},
                          values={"name": name, "scopes": scopes})
    return _keys_page(request, session, access, 201, new_key=key, new_raw=raw)


@router.post("/organisations/{org_id}/api-keys/{key_id}/revoke")
def revoke_key(request: Request, key_id: int, session: SessionDep, access: OwnerAccessDep):
    try:
        key = apikeys.revoke(session, access.org, key_id, access.user)
    except CadreError as exc:
        if exc.status_code == 404:
            raise
        return redirect(f"{_base(access)}/api-keys", exc.message, "warning")
    return redirect(f"{_base(access)}/api-keys", f"The key '{key.name}' is revoked: it no longer works.")


# --- single sign-on domains -----------------------------------------------------------------------

def _sso_page(request: Request, session, access: OrgAccess, status: int = 200, **ctx):
    ctx.setdefault("errors", {})
    ctx.setdefault("values", {})
    return render(request, "organisations/sso.html", status, org=access.org, access=access,
                  bindings=sso_bindings.for_organisation(session, access.org.id), providers=sso.providers(), **ctx)


@router.get("/organisations/{org_id}/sso")
def sso_settings(request: Request, session: SessionDep, access: SettingsReaderDep):
    return _sso_page(request, session, access)


@router.post("/organisations/{org_id}/sso")
def request_domain(request: Request, session: SessionDep, access: OwnerAccessDep, domain: str = Form(""),
                   provider: str = Form(""), required: str = Form("")):
    try:
        row = sso_bindings.request(session, access.org.id, access.user, provider_key=provider, domain=domain,
                                   required=required == "yes")
    except CadreError as exc:
        field = "provider" if exc.code == "bad_provider" else "domain"
        return _sso_page(request, session, access, exc.status_code, errors={field: exc.message},
                         values={"domain": domain, "provider": provider, "required": required == "yes"})
    return redirect(f"{_base(access)}/sso", f"Your request for {row.domain} is with the platform's administrators. "
                    "It applies once they approve it.")


@router.post("/organisations/{org_id}/sso/{binding_id}/withdraw")
def withdraw_domain(request: Request, binding_id: int, session: SessionDep, access: OwnerAccessDep):
    row = sso_bindings.withdraw(session, access.org.id, binding_id)
    return redirect(f"{_base(access)}/sso", f"{row.domain} no longer uses single sign-on through Cadre.")
