"""JSON API for organisations under /api/v1/organisations. Who may call what is in deps.py: members read
their organisation, owners and managers invite and assign seats and read the team, owners change billing
and roles and buy seats; strangers get 404, members without the role 403. Platform admins read every
organisation and grant seats; they act on nothing else here."""

from __future__ import annotations

from fastapi import APIRouter, Response, status
from fastapi.responses import StreamingResponse

from api.accounts.deps import AdminUser, CurrentUser
from api.core import pagination
from api.core.db import SessionDep, utcnow
from api.core.errors import Forbidden
from api.organisations import schemas, seats, service, team
from api.organisations.apikeys import TeamReaderOrKeyDep
from api.organisations.deps import (
    ManagerAccessDep,
    MemberAccessDep,
    OrgAccess,
    OrgAccessDep,
    OwnerAccessDep,
    TeamReaderDep,
)
from api.organisations.models import Organisation, OrgRole

router = APIRouter(prefix="/api/v1/organisations", tags=["organisations"])
E = {401: {}, 403: {}, 404: {}}


def _public(session, org: Organisation, role: str | None, billing: bool) -> schemas.OrganisationPublic:
    extra = dict(legal_name=org.legal_name, address=org.address, vat_number=org.vat_number) if billing else {}
    return schemas.OrganisationPublic(id=org.public_id, name=org.name, role=role,
                                      members=service.member_count(session, org.id), **extra)


def _of(session, access: OrgAccess) -> schemas.OrganisationPublic:
    return _public(session, access.org, access.role, access.is_owner or access.admin)


@router.get("", response_model=list[schemas.OrganisationPublic], responses={401: {}})
def mine(session: SessionDep, user: CurrentUser):
    """The organisations the caller is a member of."""
    return [_public(session, o, m.role, m.role == OrgRole.owner.value)
            for m, o in service.memberships_of_user(session, user.id)]


@router.post("", response_model=schemas.OrganisationPublic, status_code=status.HTTP_201_CREATED,
             responses={401: {}, 403: {"description": "Email address not confirmed"}, 422: {}})
def create(data: schemas.OrganisationCreate, session: SessionDep, user: CurrentUser):
    """Any signed-in person with a confirmed email address may create one; they become its owner."""
    org = service.create(session, user, name=data.name, billing=service.Billing(
        legal_name=data.legal_name, address=data.address, vat_number=data.vat_number))
    return _public(session, org, OrgRole.owner.value, True)


@router.get("/{org_id}", response_model=schemas.OrganisationPublic, responses=E)
def read(session: SessionDep, access: OrgAccessDep):
    return _of(session, access)


@router.patch("/{org_id}", response_model=schemas.OrganisationPublic, responses={**E, 422: {}})
def change(data: schemas.OrganisationUpdate, session: SessionDep, access: OwnerAccessDep):
    org = access.org
    given = data.model_fields_set
    billing = service.Billing(
        legal_name=data.legal_name if "legal_name" in given else org.legal_name,
        address=data.address if "address" in given else org.address,
        vat_number=data.vat_number if "vat_number" in given else org.vat_number)
    service.update(session, org, name=data.name, billing=billing)
    return _of(session, access)


# --- members ---------------------------------------------------------------------------------------

@router.get("/{org_id}/members", response_model=pagination.CursorPage[schemas.MemberPublic], responses=E)
def members(session: SessionDep, access: OrgAccessDep, after: pagination.After = None,
            limit: pagination.Limit = pagination.PAGE_SIZE):
    """Who is in the organisation, with roles, in the order they joined (every member sees this; progress
    is on /team)."""
    page = service.members_page(session, access.org.id, after=after, size=limit)
    return pagination.CursorPage(items=[schemas.MemberPublic(id=m.id, name=u.full_name, email=u.email, role=m.role,
                                                             joined_at=m.created_at) for m, u in page.rows],
                                 next=page.next)


@router.patch("/{org_id}/members/{member_id}", response_model=schemas.MemberPublic, responses={**E, 409: {}})
def set_role(member_id: int, data: schemas.RoleChange, session: SessionDep, access: OwnerAccessDep):
    member = service.set_role(session, access.org, service.find_member(session, access.org, member_id), data.role)
    user = session.get(type(access.user), member.user_id)
    return schemas.MemberPublic(id=member.id, name=user.full_name, email=user.email, role=member.role,
                                joined_at=member.created_at)


@router.delete("/{org_id}/members/{member_id}", status_code=status.HTTP_204_NO_CONTENT, responses={**E, 409: {}})
def remove(member_id: int, session: SessionDep, access: ManagerAccessDep):
    """Owners remove anyone (but the last owner); managers remove members. Certificates stay the learner's."""
    member = service.find_member(session, access.org, member_id)
    if member.role != OrgRole.member.value and not access.is_owner:
        raise Forbidden("Only an owner can remove an owner or a manager.", code="not_org_owner")
    service.remove_member(session, access.org, member)
    return Response(status_code=204)


@router.put("/{org_id}/consent", response_model=schemas.Consent, responses=E)
def consent(data: schemas.Consent, session: SessionDep, access: MemberAccessDep):
    """The caller's own choice of what this organisation's managers see. Applies at once."""
    m = service.set_consent(session, access.membership, share_progress=data.share_progress,
                            share_assessments=data.share_assessments)
    return schemas.Consent(share_progress=m.share_progress, share_assessments=m.share_assessments)


@router.post("/{org_id}/leave", status_code=status.HTTP_204_NO_CONTENT, responses={**E, 409: {}})
def leave(session: SessionDep, access: MemberAccessDep):
    """Leave the organisation. Your certificates, your enrolments you started and your login stay yours."""
    service.remove_member(session, access.org, access.membership)
    return Response(status_code=204)


# --- invitations -----------------------------------------------------------------------------------

def _invitation(inv) -> schemas.InvitationPublic:
    return schemas.InvitationPublic(id=inv.id, email=inv.email, role=inv.role, expires_at=inv.expires_at,
                                    expired=inv.expires_at <= utcnow())


@router.get("/{org_id}/invitations", response_model=list[schemas.InvitationPublic], responses=E)
def open_invitations(session: SessionDep, access: ManagerAccessDep):
    return [_invitation(i) for i in service.invitations(session, access.org.id)]


@router.post("/{org_id}/invitations", response_model=schemas.InvitationPublic, status_code=status.HTTP_201_CREATED,
             responses={**E, 409: {"description": "Already a member, or already invited"}, 422: {}})
def invite(data: schemas.InvitationCreate, session: SessionDep, access: ManagerAccessDep):
    """Mail an invitation (the link is in the email only). Managers invite members; owners any role."""
    if data.role != OrgRole.member.value and not access.is_owner:
        raise Forbidden("Only an owner can invite owners and managers.", code="not_org_owner")
    inv, _ = service.invite(session, access.org, access.user, email=data.email, role=data.role)
    return _invitation(inv)


@router.delete("/{org_id}/invitations/{invitation_id}", status_code=status.HTTP_204_NO_CONTENT, responses=E)
def withdraw(invitation_id: int, session: SessionDep, access: ManagerAccessDep):
    service.withdraw_invitation(session, access.org, invitation_id)
    return Response(status_code=204)


@router.post("/invitations/{token}/accept", response_model=schemas.OrganisationPublic,
             responses={401: {}, 403: {"description": "Sent to another address"}, 404: {},
                        409: {"description": "Expired, withdrawn or used"}})
def accept(token: str, session: SessionDep, user: CurrentUser):
    org, member = service.accept(session, token, user)
    return _public(session, org, member.role, member.role == OrgRole.owner.value)


# --- seats -----------------------------------------------------------------------------------------

def _pool(session, pool, programme) -> schemas.PoolPublic:
    return schemas.PoolPublic(
        id=pool.public_id, programme=programme.slug, cohort=seats.cohort_title(session, pool),
        quantity=pool.quantity, assigned=pool.assigned, available=pool.quantity - pool.assigned,
        take_backs=pool.take_backs, take_backs_allowed=pool.quantity * pool.max_take_backs_per_seat,
        holders=[schemas.HolderPublic(assignment=h.assignment.id, member_email=h.user.email, name=h.user.full_name,
                                      started=h.started, assigned_at=h.assignment.assigned_at)
                 for h in seats.holders(session, pool)])


@router.get("/{org_id}/seats", response_model=list[schemas.PoolPublic], responses=E)
def pools(session: SessionDep, access: TeamReaderDep):
    return [_pool(session, p, prog) for p, prog in seats.pools_of(session, access.org.id)]


@router.post("/{org_id}/seats/checkout", response_model=schemas.SeatCheckoutPublic,
             status_code=status.HTTP_201_CREATED, responses={**E, 409: {}, 422: {}})
def buy(data: schemas.SeatCheckoutIn, session: SessionDep, access: OwnerAccessDep):
    """Open a checkout for N seats of a programme (paid in full). Paid, the seats join the organisation's pool.
    The invoice is made out to `buyer_name`, `buyer_company` and `buyer_vat` when given (checked as at any
    checkout: 422 naming the field), otherwise to the organisation's legal name (or name) and VAT number."""
    checkout = seats.buy(session, access.org, access.user, data.programme, data.quantity, buyer=data.buyer())
    o = checkout.order
    return schemas.SeatCheckoutPublic(order=o.public_id, quantity=o.quantity, amount_total=o.amount_total,
                                      currency=o.currency, checkout_url=o.checkout_url or "")


@router.post("/{org_id}/seats/grant", response_model=schemas.PoolPublic, status_code=status.HTTP_201_CREATED,
             responses={401: {}, 403: {}, 404: {}, 422: {}})
def grant(org_id: str, data: schemas.SeatGrant, session: SessionDep, admin: AdminUser):
    """Platform admins give an organisation seats without a payment."""
    org = service.get_by_public_id(session, org_id)
    programme = seats.programme_by_slug(session, data.programme)
    pool = seats.grant(session, org, programme, data.quantity, admin, note=data.note, cohort=data.cohort)
    return _pool(session, pool, programme)


@router.post("/{org_id}/seats/{pool_id}/assignments", response_model=schemas.PoolPublic,
             status_code=status.HTTP_201_CREATED, responses={**E, 409: {"description": "No seat left"}})
def assign(pool_id: str, data: schemas.AssignIn, session: SessionDep, access: ManagerAccessDep):
    pool = seats.get_pool(session, access.org, pool_id)
    seats.assign(session, access.org, pool, service.find_member(session, access.org, data.member), access.user)
    pool = seats.get_pool(session, access.org, pool_id)
    return _pool(session, pool, seats.session_programme(session, pool))


@router.delete("/{org_id}/seats/{pool_id}/assignments/{assignment_id}", response_model=schemas.PoolPublic,
               responses={**E, 409: {"description": "Started, or the take-back cap is reached"}})
def take_back(pool_id: str, assignment_id: int, session: SessionDep, access: ManagerAccessDep):
    pool = seats.get_pool(session, access.org, pool_id)
    seats.take_back(session, access.org, pool, assignment_id, access.user)
    pool = seats.get_pool(session, access.org, pool_id)
    return _pool(session, pool, seats.session_programme(session, pool))


# --- the team --------------------------------------------------------------------------------------

def _member(r: team.TeamRow) -> schemas.TeamMemberPublic:
    return schemas.TeamMemberPublic(
        member=r.membership.id, name=r.user.full_name, email=r.user.email, role=r.membership.role,
        shares_progress=r.shares_progress, shares_assessments=r.shares_assessments,
        programmes=[schemas.ProgrammeLinePublic(programme=p.programme.slug, seat=p.seat, shared=p.shared,
                                                status=p.status, percent=p.percent, assessment=p.assessment)
                    for p in r.programmes],
        certificates=[schemas.CertificateLinePublic(number=c.number, programme=c.programme.slug, status=c.status,
                                                    expires_at=c.expires_at, expiring_soon=c.expiring_soon,
                                                    verify_url=c.verify_url) for c in r.certificates])


@router.get("/{org_id}/team", response_model=pagination.CursorPage[schemas.TeamMemberPublic], responses=E)
def team_list(session: SessionDep, access: TeamReaderOrKeyDep, role: str | None = None, programme: str | None = None,
              q: str | None = None, expiring: str | None = None, after: pagination.After = None,
              limit: pagination.Limit = pagination.PAGE_SIZE):
    """Members with what each agreed to share (also for an API key with the `team:read` scope). Filters:
    role, programme (slug), q (name or email),
    expiring=1 (a certificate lapsing within 90 days)."""
    page = team.team_page(session, access.org, team.clean_filters(role, programme, q, expiring), after=after,
                          size=limit)
    return pagination.CursorPage(items=[_member(r) for r in page.rows], next=page.next)


@router.get("/{org_id}/team.csv", responses={**E, 200: {"content": {"text/csv": {}}}})
def team_csv(session: SessionDep, access: TeamReaderOrKeyDep, role: str | None = None, programme: str | None = None,
             q: str | None = None, expiring: str | None = None):
    return csv_response(session, access, team.clean_filters(role, programme, q, expiring))


def csv_response(session, access: OrgAccess, filters: team.Filters) -> StreamingResponse:
    name = f"team-{access.org.public_id}-{utcnow():%Y-%m-%d}.csv"
    return StreamingResponse(team.csv_stream(session, access.org.id, filters), media_type="text/csv; charset=utf-8",
                             headers={"Content-Disposition": f'attachment; filename="{name}"',
                                      "Cache-Control": "no-store"})
