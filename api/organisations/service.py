"""Organisations and their members: creating one, roles, invitations by email, leaving, consent.

Who may create an organisation: any signed-in person whose email address is confirmed; they become its
owner. Roles are per organisation (api/organisations/deps.py checks them); the global `employer` role
unlocks nothing here on its own. Leaving (or being removed) deletes the membership and with it the
consent to share: certificates, enrolments and the login stay the learner's.

Published for other domains (ask, don't import internals): `organisations_of`, `shares_organisation`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from api.accounts.models import User
from api.core import pagination
from api.core.config import get_settings
from api.core.db import utcnow
from api.core.errors import Conflict, FieldProblems, Forbidden, Invalid, NotFound
from api.core.integrity import flush_unique
from api.core.security import new_token, token_digest
from api.organisations.models import Invitation, Membership, Organisation, OrgRole

MANAGING = (OrgRole.owner.value, OrgRole.manager.value)


def public_id(prefix: str) -> str:
    return prefix + new_token(9).replace("-", "x").replace("_", "y").lower()


# --- published: asked by other domains -------------------------------------------------------------

def organisations_of(session: Session, user_id: int) -> list[Organisation]:
    """The organisations `user_id` is a member of (any role), by name."""
    return list(session.exec(select(Organisation).join(Membership, Membership.organisation_id == Organisation.id)
                             .where(Membership.user_id == user_id).order_by(Organisation.name, Organisation.id)))


def shares_organisation(session: Session, user_a_id: int, user_b_id: int) -> bool:
    """True when both people are members (any role) of at least one same organisation."""
    if user_a_id == user_b_id:
        return False
    other = aliased(Membership)
    found = session.exec(select(Membership.id).join(other, other.organisation_id == Membership.organisation_id)
                         .where(Membership.user_id == user_a_id, other.user_id == user_b_id).limit(1)).first()
    return found is not None


# --- reading ---------------------------------------------------------------------------------------

def get_by_public_id(session: Session, org_public_id: str) -> Organisation:
    org = session.exec(select(Organisation).where(Organisation.public_id == org_public_id)).first()
    if org is None:
        raise NotFound("There is no organisation at this address.", code="organisation_not_found")
    return org


def membership_of(session: Session, organisation_id: int, user_id: int) -> Membership | None:
    return session.exec(select(Membership).where(Membership.organisation_id == organisation_id,
                                                 Membership.user_id == user_id)).first()


def memberships_of_user(session: Session, user_id: int) -> list[tuple[Membership, Organisation]]:
    return list(session.exec(select(Membership, Organisation)
                             .join(Organisation, Organisation.id == Membership.organisation_id)
                             .where(Membership.user_id == user_id).order_by(Organisation.name, Organisation.id)))


def member_count(session: Session, organisation_id: int) -> int:
    return session.exec(select(func.count()).select_from(Membership)
                        .where(Membership.organisation_id == organisation_id)).one()


MEMBERS_KEYSET = pagination.Keyset(Membership.created_at, Membership.id)  # who joined first, first


def members_page(session: Session, organisation_id: int, *, after: str | None = None, before: str | None = None,
                 size: int = pagination.PAGE_SIZE) -> pagination.Page:
    """Members with their accounts, in the order they joined, keyset-paged: rows of (Membership, User)."""
    query = select(Membership, User).join(User, col(User.id) == col(Membership.user_id)).where(
        Membership.organisation_id == organisation_id)
    return pagination.paginate(session, query, MEMBERS_KEYSET, after=after, before=before, size=size)


def member_by_email(session: Session, org: Organisation, email: str) -> Membership:
    member = session.exec(select(Membership).join(User, col(User.id) == col(Membership.user_id))
                          .where(Membership.organisation_id == org.id,
                                 User.email == (email or "").strip().lower())).first()
    if member is None:
        raise NotFound(f"{email.strip() or 'That address'} is not a member of {org.name}: invite them first.",
                       code="member_not_found")
    return member


ORG_KEYSET = pagination.Keyset(Organisation.created_at, Organisation.id, descending=True)


def all_organisations(session: Session, *, search: str | None = None, after: str | None = None,
                      before: str | None = None, size: int = pagination.PAGE_SIZE) -> pagination.Page:
    """Every organisation, newest first, keyset-paged (the platform admin's list)."""
    query = select(Organisation)
    if search:
        query = query.where(col(Organisation.name).ilike(f"%{search.strip()[:100]}%"))
    return pagination.paginate(session, query, ORG_KEYSET, after=after, before=before, size=size)


# --- creating and changing -------------------------------------------------------------------------

@dataclass
class Billing:
    legal_name: str | None = None
    address: str | None = None
    vat_number: str | None = None


def _clean(value: str | None, limit: int) -> str | None:
    value = (value or "").strip()
    if len(value) > limit:
        raise Invalid(f"That is longer than {limit} characters.", code="too_long")
    return value or None


def _vat(value: str | None, stored: str | None = None) -> str | None:
    """The VAT number by the checkout's one rule (payments/invoices.clean_buyer_field: a country code and
    2 to 13 letters or digits, stored compacted, such as GB123456789). One stored before the rule and
    sent back unchanged (the billing form shows it, a PATCH leaves it out) is kept as it is."""
    from api.payments import invoices

    if stored is not None and (value or "").strip() == stored:
        return stored
    try:
        return invoices.clean_buyer_field("buyer_vat", value)
    except invoices.BuyerProblem as problem:
        raise FieldProblems({"vat_number": problem.message}, code="invalid_vat_number") from None


def create(session: Session, user: User, *, name: str, billing: Billing | None = None) -> Organisation:
    if user.email_verified_at is None:
        raise Forbidden("Confirm your email address first (see the link we sent you), then create an organisation.",
                        code="email_not_confirmed")
    name = _clean(name, 200)
    if not name:
        raise Invalid("Give the organisation a name.", code="name_required")
    billing = billing or Billing()
    org = Organisation(public_id=public_id("org_"), name=name, created_by_id=user.id,
                       legal_name=_clean(billing.legal_name, 200), address=_clean(billing.address, 2000),
                       vat_number=_vat(billing.vat_number))
    session.add(org)
    session.flush()
    session.add(Membership(organisation_id=org.id, user_id=user.id, role=OrgRole.owner.value))
    session.flush()
    return org


def update(session: Session, org: Organisation, *, name: str | None, billing: Billing) -> Organisation:
    """Everything is checked before anything changes (a refused form shows the organisation as it was)."""
    if name is not None:
        name = _clean(name, 200)
        if not name:
            raise Invalid("Give the organisation a name.", code="name_required")
    legal_name, address = _clean(billing.legal_name, 200), _clean(billing.address, 2000)
    vat_number = _vat(billing.vat_number, org.vat_number)
    if name is not None:
        org.name = name
    org.legal_name, org.address, org.vat_number = legal_name, address, vat_number
    org.updated_at = utcnow()
    session.add(org)
    session.flush()
    return org


def _owners(session: Session, organisation_id: int) -> int:
    return session.exec(select(func.count()).select_from(Membership).where(
        Membership.organisation_id == organisation_id, Membership.role == OrgRole.owner.value)).one()


def _lock_org(session: Session, organisation_id: int) -> Organisation:
    # Role changes and removals take turns per organisation, so "the last owner" is counted exactly.
    return session.exec(select(Organisation).where(Organisation.id == organisation_id).with_for_update()
                        .execution_options(populate_existing=True)).one()


def set_role(session: Session, org: Organisation, member: Membership, role: str) -> Membership:
    if role not in {r.value for r in OrgRole}:
        raise Invalid("Choose owner, manager or member.", code="bad_role")
    _lock_org(session, org.id)
    if member.role == OrgRole.owner.value and role != OrgRole.owner.value and _owners(session, org.id) <= 1:
        raise Conflict("An organisation needs at least one owner: make someone else owner first.",
                       code="last_owner")
    member.role = role
    session.add(member)
    session.flush()
    return member


def remove_member(session: Session, org: Organisation, member: Membership) -> None:
    """Removal or leaving: the membership (and the consent on it) goes; nothing the learner earned does.
    Seats they hold stay theirs once started; an unstarted seat goes back to the pool (seats.py)."""
    _lock_org(session, org.id)
    if member.role == OrgRole.owner.value and _owners(session, org.id) <= 1:
        raise Conflict("You are the only owner: make someone else owner before leaving.", code="last_owner")
    from api.organisations import seats

    seats.release_unstarted(session, org, member.user_id, by_id=None)
    session.delete(member)
    session.flush()


def find_member(session: Session, org: Organisation, membership_id: int) -> Membership:
    member = session.exec(select(Membership).where(Membership.organisation_id == org.id,
                                                   Membership.id == membership_id)).first()
    if member is None:
        raise NotFound("That person is not a member of this organisation.", code="member_not_found")
    return member


# --- consent ---------------------------------------------------------------------------------------

def set_consent(session: Session, member: Membership, *, share_progress: bool, share_assessments: bool) -> Membership:
    """The learner's own choice; it applies from the next page a manager loads (nothing is cached)."""
    member.share_progress, member.share_assessments = share_progress, share_assessments
    member.consent_changed_at = utcnow()
    session.add(member)
    session.flush()
    return member


# --- invitations -----------------------------------------------------------------------------------

def normalise_email(email: str) -> str:
    email = (email or "").strip().lower()
    if "@" not in email or len(email) > 320 or " " in email or email.startswith("@") or email.endswith("@"):
        raise Invalid("Enter the colleague's email address, like name@example.com.", code="bad_email")
    return email


def invitation_open(inv: Invitation, now: datetime | None = None) -> bool:
    return inv.accepted_at is None and inv.revoked_at is None and inv.expires_at > (now or utcnow())


def invitations(session: Session, organisation_id: int, *, limit: int = 100) -> list[Invitation]:
    """Open (not accepted, not withdrawn) invitations, newest first; expired ones are shown as such."""
    return list(session.exec(select(Invitation).where(Invitation.organisation_id == organisation_id,
                                                      col(Invitation.accepted_at).is_(None),
                                                      col(Invitation.revoked_at).is_(None))
                             .order_by(col(Invitation.created_at).desc(), col(Invitation.id).desc()).limit(limit)))


def invite(session: Session, org: Organisation, inviter: User, *, email: str, role: str = OrgRole.member.value
           ) -> tuple[Invitation, str]:
    """A new invitation and its token (to mail once; only its digest is stored). Refuses an existing
    member and a second open invitation (409); an expired one is withdrawn and replaced."""
    email = normalise_email(email)
    if role not in {r.value for r in OrgRole}:
        raise Invalid("Choose owner, manager or member.", code="bad_role")
    existing = session.exec(select(Membership.id).join(User, User.id == Membership.user_id)
                            .where(Membership.organisation_id == org.id, User.email == email)).first()
    if existing is not None:
        raise Conflict(f"{email} is already a member of {org.name}.", code="already_member")
    now = utcnow()
    current = session.exec(select(Invitation).where(Invitation.organisation_id == org.id, Invitation.email == email,
                                                    col(Invitation.accepted_at).is_(None),
                                                    col(Invitation.revoked_at).is_(None))).first()
    if current is not None:
        if invitation_open(current, now):
            raise Conflict(f"{email} already has an open invitation (it expires on "
                           f"{current.expires_at:%-d %B %Y}). Withdraw it to send a new one.",
                           code="already_invited")
        current.revoked_at = now  # expired: make way for the new one
        session.add(current)
        session.flush()
    token = new_token(24)
    inv = Invitation(organisation_id=org.id, email=email, role=role, token_digest=token_digest(token),
                     inviter_id=inviter.id, expires_at=now + timedelta(days=get_settings().org_invitation_days))
    if not flush_unique(session, inv):  # another manager invited the same address at the same moment
        raise Conflict(f"{email} already has an open invitation.", code="already_invited")
    from api.organisations import notify

    notify.invitation(session, org, inv, inviter, token)
    return inv, token


def withdraw_invitation(session: Session, org: Organisation, invitation_id: int) -> Invitation:
    inv = session.exec(select(Invitation).where(Invitation.organisation_id == org.id,
                                                Invitation.id == invitation_id)).first()
    if inv is None or inv.accepted_at is not None or inv.revoked_at is not None:
        raise NotFound("That invitation is not open.", code="invitation_not_found")
    inv.revoked_at = utcnow()
    session.add(inv)
    session.flush()
    return inv


def invitation_by_token(session: Session, token: str) -> tuple[Invitation, Organisation]:
    """The invitation a link names, open or not (the page says which); unknown tokens are 404."""
    row = session.exec(select(Invitation, Organisation)
                       .join(Organisation, Organisation.id == Invitation.organisation_id)
                       .where(Invitation.token_digest == token_digest(token or ""))).first()
    if row is None:
        raise NotFound("This invitation link is not valid. Ask whoever invited you to send a new one.",
                       code="invitation_not_found")
    return row[0], row[1]


def refusal(inv: Invitation, user: User | None, now: datetime | None = None) -> tuple[str, str] | None:
    """Why `user` cannot accept `inv` now, as (code, message); None when they can."""
    if inv.accepted_at is not None:
        return "invitation_used", "This invitation has already been accepted."
    if inv.revoked_at is not None:
        return "invitation_withdrawn", "This invitation was withdrawn. Ask for a new one."
    if inv.expires_at <= (now or utcnow()):
        return "invitation_expired", "This invitation has expired. Ask whoever invited you to send a new one."
    if user is not None and user.email.lower() != inv.email:
        return "invitation_not_yours", (f"This invitation was sent to {inv.email}, not to the address you are "
                                        "logged in with. Log out and accept it with that address.")
    return None


def accept(session: Session, token: str, user: User) -> tuple[Organisation, Membership]:
    """`user` (logged in, with the invited address) joins with the invitation's role. The invitation row
    is locked so a double click accepts once."""
    inv, org = invitation_by_token(session, token)
    inv = session.exec(select(Invitation).where(Invitation.id == inv.id).with_for_update()
                       .execution_options(populate_existing=True)).one()
    problem = refusal(inv, user)
    if problem is not None:
        code, message = problem
        if code == "invitation_not_yours":
            raise Forbidden(message, code=code)
        raise Conflict(message, code=code)
    now = utcnow()
    inv.accepted_at, inv.accepted_by_id = now, user.id
    session.add(inv)
    member = membership_of(session, org.id, user.id)
    if member is None:
        member = Membership(organisation_id=org.id, user_id=user.id, role=inv.role)
        if not flush_unique(session, member):
            raise Conflict(f"You are already a member of {org.name}.", code="already_member")
    session.flush()
    if user.email_verified_at is None:  # the mailed link proved the address
        user.email_verified_at = now
        session.add(user)
        session.flush()
    return org, member



def register_and_accept(session: Session, token: str, *, full_name: str, password: str) -> tuple[User, Organisation]:
    """A newcomer accepts by making an account with the invited address (confirmed by the link itself)."""
    from api.accounts import service as accounts_service
    from api.accounts.schemas import UserCreate

    inv, org = invitation_by_token(session, token)
    problem = refusal(inv, None)
    if problem is not None:
        raise Conflict(problem[1], code=problem[0])
    if accounts_service.get_by_email(session, inv.email) is not None:
        raise Conflict(f"There is already an account for {inv.email}: log in to accept the invitation.",
                       code="account_exists")
    user = accounts_service.create_user(session, UserCreate(email=inv.email, full_name=full_name, password=password),
                                        verified=True)
    accept(session, token, user)
    return user, org
