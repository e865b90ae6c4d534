"""Organisation pages: my organisations (and creating one), an organisation's page (members, roles,
invitations, billing for owners, my consent and leaving), and accepting an invitation (logged in with the
invited address, or by creating an account). Seats and the team are in seat_pages.py. Every action
answers with the page and a message; a refusal writes nothing (the unit of work rolls back)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from pydantic import ValidationError

from api.accounts.deps import CurrentUser, OptionalUser, optional_user
from api.accounts.router import client_ip, set_session_cookie
from api.core.config import get_settings
from api.core.db import SessionDep, utcnow
from api.core.errors import CadreError, FieldProblems, Forbidden
from api.core.security import csrf_protect
from api.core.templates import redirect, render
from api.organisations import seat_pages, seats, service
from api.organisations.deps import ManagerAccessDep, MemberAccessDep, OrgAccess, OrgAccessDep, OwnerAccessDep
from api.organisations.models import OrgRole

router = APIRouter(dependencies=[Depends(csrf_protect), Depends(optional_user)], include_in_schema=False)
router.include_router(seat_pages.router)


def _home(access: OrgAccess) -> str:
    return f"/organisations/{access.org.public_id}"


@router.get("/organisations")
def mine(request: Request, session: SessionDep, user: CurrentUser):
    return render(request, "organisations/mine.html", memberships=service.memberships_of_user(session, user.id),
                  values={}, error=None)


@router.post("/organisations")
def create(request: Request, session: SessionDep, user: CurrentUser, name: str = Form(""),
           legal_name: str = Form(""), address: str = Form(""), vat_number: str = Form("")):
    values = {"name": name, "legal_name": legal_name, "address": address, "vat_number": vat_number}
    try:
        org = service.create(session, user, name=name, billing=service.Billing(legal_name, address, vat_number))
    except CadreError as exc:
        fields = exc.fields if isinstance(exc, FieldProblems) else {}  # each beside its field
        return render(request, "organisations/mine.html", exc.status_code, values=values,
                      error=None if fields else exc.message, errors=fields,
                      memberships=service.memberships_of_user(session, user.id))
    return redirect(f"/organisations/{org.public_id}", f"{org.name} is ready. Invite your colleagues below.")


def _page(request: Request, session, access: OrgAccess, status: int = 200, **ctx):
    org = access.org
    page = service.members_page(session, org.id, after=request.query_params.get("after"),
                                before=request.query_params.get("before"))
    context = dict(access=access, org=org, members=page.rows, member_pages=page.links(_home(access), {}),
                   pools=seats.pools_of(session, org.id), org_roles=[r.value for r in OrgRole],
                   invitations=service.invitations(session, org.id) if access.may_manage else [],
                   invite_values={}, invite_error=None, billing_error=None, billing_errors={}, billing_values={},
                   at=utcnow(),
                   invitation_days=get_settings().org_invitation_days)
    if access.is_owner or access.admin:  # the API keys and single sign-on domains (settings_pages.py)
        from api.organisations.settings_pages import summary

        context["integrations"] = summary(session, access)
    context.update(ctx)
    return render(request, "organisations/organisation.html", status, **context)


@router.get("/organisations/{org_id}")
def organisation(request: Request, session: SessionDep, access: OrgAccessDep):
    return _page(request, session, access)


@router.post("/organisations/{org_id}/billing")
def billing(request: Request, session: SessionDep, access: OwnerAccessDep, name: str = Form(""),
            legal_name: str = Form(""), address: str = Form(""), vat_number: str = Form("")):
    try:
        service.update(session, access.org, name=name, billing=service.Billing(legal_name, address, vat_number))
    except CadreError as exc:
        fields = exc.fields if isinstance(exc, FieldProblems) else {}  # each beside its field
        return _page(request, session, access, exc.status_code, billing_error=None if fields else exc.message,
                     billing_errors=fields, billing_values={"name": name, "legal_name": legal_name, "address": address,
                                                           "vat_number": vat_number})
    return redirect(_home(access), "Saved the organisation's details.")


@router.post("/organisations/{org_id}/invitations")
def invite(request: Request, session: SessionDep, access: ManagerAccessDep, email: str = Form(""),
           role: str = Form("member")):
    try:
        if role != OrgRole.member.value and not access.is_owner:
            raise Forbidden("Only an owner can invite owners and managers.", code="not_org_owner")
        inv, _ = service.invite(session, access.org, access.user, email=email, role=role)
    except CadreError as exc:
        return _page(request, session, access, exc.status_code, invite_values={"email": email, "role": role},
                     invite_error=exc.message)
    return redirect(_home(access) + "#invitations", f"Invitation sent to {inv.email}.")


@router.post("/organisations/{org_id}/invitations/{invitation_id}/withdraw")
def withdraw(request: Request, invitation_id: int, session: SessionDep, access: ManagerAccessDep):
    try:
        inv = service.withdraw_invitation(session, access.org, invitation_id)
    except CadreError as exc:
        return redirect(_home(access) + "#invitations", exc.message, "error")
    return redirect(_home(access) + "#invitations", f"The invitation to {inv.email} no longer works.")


@router.post("/organisations/{org_id}/members/{member_id}/role")
def set_role(request: Request, member_id: int, session: SessionDep, access: OwnerAccessDep, role: str = Form("")):
    try:
        member = service.set_role(session, access.org, service.find_member(session, access.org, member_id), role)
    except CadreError as exc:
        return redirect(_home(access) + "#members", exc.message, "error")
    return redirect(_home(access) + "#members", f"Role changed to {member.role}.")


@router.post("/organisations/{org_id}/members/{member_id}/remove")
def remove(request: Request, member_id: int, session: SessionDep, access: ManagerAccessDep):
    try:
        member = service.find_member(session, access.org, member_id)
        if member.role != OrgRole.member.value and not access.is_owner:
            raise Forbidden("Only an owner can remove an owner or a manager.", code="not_org_owner")
        service.remove_member(session, access.org, member)
    except CadreError as exc:
        return redirect(_home(access) + "#members", exc.message, "error")
    return redirect(_home(access) + "#members", "Removed from the organisation. Their certificates and login "
                                                 "are theirs and stay as they were.")


@router.post("/organisations/{org_id}/consent")
def consent(request: Request, session: SessionDep, access: MemberAccessDep, share_progress: str = Form(""),
            share_assessments: str = Form("")):
    m = service.set_consent(session, access.membership, share_progress=bool(share_progress),
                            share_assessments=bool(share_assessments))
    shared = [w for w, on in (("your progress", m.share_progress), ("your assessment status", m.share_assessments))
              if on]
    message = (f"{access.org.name}'s managers now see {' and '.join(shared)}." if shared
               else f"{access.org.name}'s managers no longer see your progress or assessments.")
    return redirect(_home(access) + "#consent", message)


@router.post("/organisations/{org_id}/leave")
def leave(request: Request, session: SessionDep, access: MemberAccessDep):
    try:
        service.remove_member(session, access.org, access.membership)
    except CadreError as exc:
        return redirect(_home(access), exc.message, "error")
    return redirect("/organisations", f"You have left {access.org.name}. Your certificates and your login are "
                                      "yours and stay as they were.")


# --- accepting an invitation -----------------------------------------------------------------------

def _invitation_page(request: Request, session, token: str, user, status: int = 200, **ctx):
    inv, org = service.invitation_by_token(session, token)
    problem = service.refusal(inv, user)
    return render(request, "organisations/invitation.html", status, inv=inv, org=org, token=token,
                  problem=problem[1] if problem else None, already_member=bool(
                      user and service.membership_of(session, org.id, user.id)),
                  values=ctx.pop("values", {}), error=ctx.pop("error", None), **ctx)


@router.get("/organisations/invitations/{token}")
def invitation(request: Request, token: str, session: SessionDep, user: OptionalUser):
    return _invitation_page(request, session, token, user)


@router.post("/organisations/invitations/{token}")
def accept(request: Request, token: str, session: SessionDep, user: OptionalUser, full_name: str = Form(""),
           password: str = Form("")):
    try:
        if user is not None:
            org, _ = service.accept(session, token, user)
            return redirect(f"/organisations/{org.public_id}", f"Welcome to {org.name}. Choose below what its "
                                                                "managers may see of your progress.")
        new_user, org = service.register_and_accept(session, token, full_name=full_name, password=password)
    except ValidationError:
        return _invitation_page(request, session, token, user, 422, values={"full_name": full_name},
                                error="Give your full name and a password of at least 10 characters.")
    except CadreError as exc:
        return _invitation_page(request, session, token, user, exc.status_code, values={"full_name": full_name},
                                error=exc.message)
    from api.accounts import service as accounts_service

    raw, _ = accounts_service.start_session(session, new_user, client_ip(request), request.headers.get("user-agent"))
    response = redirect(f"/organisations/{org.public_id}", f"Welcome, {new_user.full_name}: you are a member of "
                                                           f"{org.name}. Choose below what its managers may see.")
    set_session_cookie(response, raw)
    return response
