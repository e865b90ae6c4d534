"""Demo organisation for `cadre demo` (development only): the employer demo account owns Northwind
Services with a small team at different stages: one colleague invited (not yet joined), one started on
an ACXP seat with progress shared, and one holding a CPP certificate (public on /verify) who shares
nothing else. Idempotent: what exists is found, not made again."""

from __future__ import annotations

from sqlmodel import Session, col, select

from api.accounts import service as accounts_service
from api.accounts.models import User
from api.accounts.schemas import UserCreate
from api.catalog.models import Lesson
from api.certificates import service as certificates_service
from api.certificates.models import Certificate
from api.demo.people import demo_password
from api.learning import study
from api.learning.models import LessonCompletion
from api.organisations import seats, service
from api.organisations.models import Invitation, Membership, Organisation

NAME = "Northwind Services"
STARTED = ("sam.lee@example.com", "Sam Lee")
CERTIFIED = ("jo.bright@example.com", "Jo Bright")
INVITED = "priya.shah@example.com"


def _colleague(session: Session, org: Organisation, email: str, name: str) -> User:
    user = accounts_service.get_by_email(session, email)
    if user is None:
        user = accounts_service.create_user(session, UserCreate(email=email, full_name=name,
                                                                password=demo_password(email)), verified=True)
    if service.membership_of(session, org.id, user.id) is None:
        session.add(Membership(organisation_id=org.id, user_id=user.id))
        session.flush()
    return user


def seed(session: Session, people: dict[str, User]) -> list[str]:
    owner, admin = people.get("employer"), people.get("admin")
    if owner is None or admin is None:
        return []
    org = session.exec(select(Organisation).where(Organisation.name == NAME,
                                                  Organisation.created_by_id == owner.id)).first()
    if org is None:
        org = service.create(session, owner, name=NAME, billing=service.Billing(
            legal_name="Northwind Services Ltd", address="1 Harbour Street\nBristol BS1 4XX",
            vat_number="GB123456789"))
    acxp = seats.programme_by_slug(session, "acxp")
    pool = seats.pool_for(session, org, acxp)
    if pool.quantity < 5:
        seats.grant(session, org, acxp, 5 - pool.quantity, admin, note="Demo seats")

    sam = _colleague(session, org, *STARTED)
    if seats.live_assignment(session, pool.id, sam.id) is None:
        seats.assign(session, org, pool, service.membership_of(session, org.id, sam.id), owner)
    lesson = session.exec(select(Lesson).where(Lesson.programme_id == acxp.id, col(Lesson.retired_at).is_(None))
                          .order_by(Lesson.id)).first()
    done = session.exec(select(LessonCompletion).where(LessonCompletion.user_id == sam.id,
                                                       LessonCompletion.lesson_id == lesson.id)).first()
    if done is None:
        study.complete_lesson(session, sam, acxp.slug, lesson.slug)
    sam_member = service.membership_of(session, org.id, sam.id)
    if not sam_member.share_progress:
        service.set_consent(session, sam_member, share_progress=True, share_assessments=True)

    jo = _colleague(session, org, *CERTIFIED)
    cpp = seats.programme_by_slug(session, "cpp")
    cert = session.exec(select(Certificate).where(Certificate.user_id == jo.id,
                                                  Certificate.programme_id == cpp.id)).first()
    if cert is None:
        cert = certificates_service.issue(session, user=jo, programme=cpp, holder_name=jo.full_name, issued_by=admin,
                                          reason="Demo: CPP workshop attended")

    invited = session.exec(select(Invitation).where(Invitation.organisation_id == org.id,
                                                    Invitation.email == INVITED)).first()
    if invited is None:
        service.invite(session, org, owner, email=INVITED)
    return [f"Organisation {NAME} (owner {owner.email}): {pool.quantity} ACXP seats; {sam.full_name} started and "
            f"shares progress, {jo.full_name} holds {cert.number}, {INVITED} invited. "
            f"Team: /organisations/{org.public_id}/team"]
