"""What a certificate certifies: a programme passed (an accreditation) or an award won. Most of the
certificates domain only needs a title, a code and a summary; `achievement_of` gives those for both,
and `issue_award` issues an award credential exactly as accreditations are issued (same key, status
lists, stored verification, verify page), without a programme."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from api.accounts.models import User
from api.catalog.models import Programme
from api.certificates import signing, stored
from api.certificates.credential import AchievementInfo
from api.certificates.models import AchievementKind, Certificate, CertificateEvent, StatusPurpose
from api.core.db import utcnow
from api.core.errors import Conflict

AWARD_CODE = "CAY"  # the number's prefix for award credentials: CAY-7KQ2-M9XD-4HTP


@dataclass(frozen=True)
class AwardAchievement:
    """Stands where a Programme stands in the certificate pages, PDF and emails."""

    title: str
    summary: str
    code: str = AWARD_CODE
    slug: str | None = None
    validity_months: int | None = None  # an award does not lapse
    renewal: str | None = None

    @property
    def display_title(self) -> str:
        return self.title

    # An award credential is named by its award ("Change Architect of the Year 2027"), never "CAY certificate".
    @property
    def certificate_title(self) -> str:
        return self.title

    @property
    def achievement_title(self) -> str:
        return self.title


def achievement_of(session: Session, cert: Certificate) -> Programme | AwardAchievement:
    if cert.programme_id is not None:
        programme = session.get(Programme, cert.programme_id)
        assert programme is not None
        return programme
    achievement = (cert.credential or {}).get("credentialSubject", {}).get("achievement", {})
    return AwardAchievement(title=cert.achievement_name or achievement.get("name", "Award"),
                            summary=achievement.get("description", ""))


def issue_award(session: Session, *, user: User, holder_name: str, achievement: AchievementInfo,
                issued_by: User | None = None, reason: str | None = None, now: datetime | None = None) -> Certificate:
    """Issue the award credential (achievementType "Award") to `user`. The caller (api/awards) makes
    sure each outcome gets one (its own unique key) and tells the winner."""
    from api.certificates import service

    holder_name = service.clean_holder_name(holder_name)
    now = now or utcnow()
    rev = service._list_for(session, StatusPurpose.revocation)
    sus = service._list_for(session, StatusPurpose.suspension)
    salt = secrets.token_hex(16)
    cert = Certificate(
        slug=secrets.token_urlsafe(12), number=service.new_number(AWARD_CODE), user_id=user.id, programme_id=None,
        kind=AchievementKind.award.value, achievement_name=achievement.name, holder_name=holder_name,
        holder_email_hash=signing.email_hash(user.email, salt), holder_email_salt=salt, issued_at=now,
        expires_at=None,
        revocation_list=rev.id, revocation_index=service._free_index(session, rev, StatusPurpose.revocation),
        suspension_list=sus.id, suspension_index=service._free_index(session, sus, StatusPurpose.suspension),
        issued_by_id=issued_by.id if issued_by else None, issue_reason=(reason or "").strip() or None,
    )
    cert.credential = signing.sign_achievement(cert, user.email, achievement)
    cert.verification = stored.record(cert.credential, now)
    try:
        with session.begin_nested():
            session.add(cert)
            session.flush()
    except IntegrityError as exc:
        raise Conflict("This award credential was just issued by another request.", code="already_issued") from exc
    session.add(CertificateEvent(certificate_id=cert.id, kind="issued", reason=cert.issue_reason,
                                 actor_id=issued_by.id if issued_by else None))
    session.flush()
    from api.certificates import answers

    answers.prepare(session, cert)  # the first view of its verify page is as cheap as any other
    return cert
