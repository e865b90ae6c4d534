"""The organisation's emails, all through the outbox (api/core/email.py): an invitation with its link,
a seat assigned, seats bought, and a member's certificate expiring (to managers, only when shared)."""

from __future__ import annotations

from sqlmodel import Session, col, select

from api.accounts.models import User
from api.catalog.models import Programme
from api.core import email as mail
from api.organisations.models import Invitation, Membership, Organisation, SeatPool

MANAGING = ("owner", "manager")


def invitation(session: Session, org: Organisation, inv: Invitation, inviter: User, token: str) -> None:
    mail.send_template(session, inv.email, "organisations/invitation", key=f"org-invite:{inv.id}",
                       name=inv.email, org=org, inviter=inviter, invitation=inv,
                       accept_path=f"/organisations/invitations/{token}")


def seat_assigned(session: Session, org: Organisation, programme: Programme, user_id: int, by: User) -> None:
    user = session.get(User, user_id)
    mail.send_template(session, user.email, "organisations/seat_assigned", name=user.full_name, org=org,
                       programme=programme, by=by)


def seats_bought(session: Session, org: Organisation, pool: SeatPool, programme: Programme, order) -> None:
    buyer = session.get(User, order.user_id)
    mail.send_template(session, buyer.email, "organisations/seats_bought", key=f"org-seats:{order.id}",
                       name=buyer.full_name, org=org, programme=programme, quantity=order.quantity, pool=pool)


def managers_of(session: Session, organisation_id: int) -> list[User]:
    return list(session.exec(select(User).join(Membership, Membership.user_id == User.id)
                             .where(Membership.organisation_id == organisation_id,
                                    col(Membership.role).in_(MANAGING)).order_by(User.id)))


def on_certificate_expiring(session: Session, payload: dict) -> None:
    """Consumer of `certificate.expiring` (published by the certificates' expiry reminders): tell the
    managers of each organisation the holder shares their progress with. Asked at delivery time, so a
    withdrawn consent (or a member who left) stops it."""
    holder = session.get(User, payload["user_id"])
    if holder is None:
        return
    rows = session.exec(select(Organisation).join(Membership, Membership.organisation_id == Organisation.id)
                        .where(Membership.user_id == holder.id, col(Membership.share_progress).is_(True)))
    for org in rows:
        for manager in managers_of(session, org.id):
            if manager.id == holder.id:
                continue
            mail.send_template(session, manager.email, "organisations/member_certificate_expiring",
                               key=f"org-expiry:{org.id}:{manager.id}:{payload['certificate_id']}:{payload['days']}",
                               name=manager.full_name, org=org, holder=holder, payload=payload,
                               team_path=f"/organisations/{org.public_id}/team")
