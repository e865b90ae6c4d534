"""Who may see an organisation and act on it: the organisation is loaded from the path (its public id)
with the caller's membership. Never the global `employer` role: roles here are per organisation.

  reader   any member (owner, manager, member), or a platform admin (read-only: the admin area)
  manager  owner or manager: invites, assigns and takes back seats, reads the team and its export
  owner    owner: billing details, roles, buying seats
  member   the caller's own membership (consent, leaving): members only

Strangers get 404 (an organisation's existence is not told); a member without the role, and a platform
admin on anything but reading, gets 403.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from api.accounts.deps import CurrentUser
from api.accounts.models import Role, User
from api.core.db import SessionDep
from api.core.errors import Forbidden, NotFound
from api.organisations import service
from api.organisations.models import Membership, Organisation, OrgRole


@dataclass
class OrgAccess:
    org: Organisation
    user: User
    membership: Membership | None
    admin: bool  # a platform admin (may read every organisation)

    @property
    def role(self) -> str | None:
        return self.membership.role if self.membership else None

    @property
    def may_manage(self) -> bool:
        return self.role in service.MANAGING

    @property
    def is_owner(self) -> bool:
        return self.role == OrgRole.owner.value


def org_access(request: Request, org_id: str, session: SessionDep, user: CurrentUser) -> OrgAccess:
    try:
        org = service.get_by_public_id(session, org_id)
    except NotFound:
        raise NotFound("There is no organisation at this address, or you are not one of its members.",
                       code="organisation_not_found") from None
    membership = service.membership_of(session, org.id, user.id)
    admin = Role.admin in getattr(request.state, "roles", set())
    if membership is None and not admin:
        raise NotFound("There is no organisation at this address, or you are not one of its members.",
                       code="organisation_not_found")
    return OrgAccess(org, user, membership, admin)


def manager_access(access: Annotated[OrgAccess, Depends(org_access)]) -> OrgAccess:
    if not access.may_manage:
        raise Forbidden("Only the organisation's owners and managers can do that.", code="not_org_manager")
    return access


def team_reader(access: Annotated[OrgAccess, Depends(org_access)]) -> OrgAccess:
    """The team dashboard and its export: owners and managers, and platform admins (read-only)."""
    if not (access.may_manage or access.admin):
        raise Forbidden("Only the organisation's owners and managers can see the team.", code="not_org_manager")
    return access


def owner_access(access: Annotated[OrgAccess, Depends(org_access)]) -> OrgAccess:
    if not access.is_owner:
        raise Forbidden("Only the organisation's owners can do that.", code="not_org_owner")
    return access


def member_access(access: Annotated[OrgAccess, Depends(org_access)]) -> OrgAccess:
    if access.membership is None:
        raise Forbidden("You are not a member of this organisation.", code="not_org_member")
    return access


OrgAccessDep = Annotated[OrgAccess, Depends(org_access)]
ManagerAccessDep = Annotated[OrgAccess, Depends(manager_access)]
TeamReaderDep = Annotated[OrgAccess, Depends(team_reader)]
OwnerAccessDep = Annotated[OrgAccess, Depends(owner_access)]
MemberAccessDep = Annotated[OrgAccess, Depends(member_access)]
