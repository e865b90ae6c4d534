"""Certificates: issuing (after the holder confirms their name), status changes, lookups for
employers, expiry reminders and renewal. Flushes, never commits.

Signing and verifying are in signing.py; this module holds the rules and the queries.
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from api.accounts.models import User
from api.catalog.models import Programme
from api.certificates import answers, signing, stored
from api.certificates.credential import EvidenceItem
from api.certificates.models import (
    Certificate,
    CertificateEvent,
    CertificateStatus,
    ExpiryReminder,
    HoldReason,
    RenewalRequest,
    RenewalStatus,
    StatusList,
    StatusPurpose,
)
from api.core import email as mail
from api.core import pagination
from api.core.config import get_settings
from api.core.db import utcnow
from api.core.errors import Conflict, Invalid, NotFound
from api.core.schemas import clean_human_name, text_problem
from api.learning.models import Enrolment, EnrolmentStatus
from api.outbox import service as outbox

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # no I, L, O, U: nothing to misread on paper
REMINDER_DAYS = (90, 30)
STANDING = {
    "valid": "The issuer's records say this accreditation is current.",
    "expired": "The accreditation has lapsed: its expiry date has passed without renewal.",
    "suspended": "The issuer has suspended this accreditation for now.",
    "revoked": "The issuer has withdrawn this accreditation.",
    "superseded": "This accreditation was renewed; a newer certificate replaces it.",
}


# --- identifiers ------------------------------------------------------------------------------

def new_number(code: str) -> str:
    """ACXP-7KQ2-M9XD-4HTP: the code and 60 random bits in three groups a person can read out."""
    groups = ["".join(secrets.choice(_CROCKFORD) for _ in range(4)) for _ in range(3)]
    return "-".join([code.upper(), *groups])


def normalise_number(text: str, codes: list[str] | None = None) -> str:
    """Forgive what people type: spaces instead of hyphens, no separators at all (or any other mark between
    the characters, such as a full stop at the end), lower case, and O/I/L in
    the random groups (which never use them). The programme code before the groups keeps its own hyphens
    (ACX-MENTOR): with `codes`, a code typed without them is matched to the programme's."""
    compact = re.sub(r"[^0-9A-Z]+", "", (text or "").upper())  # spaces, hyphens, a full stop pasted with it
    if len(compact) <= 12:
        return compact
    prefix, random = compact[:-12], compact[-12:]
    random = random.replace("O", "0").replace("I", "1").replace("L", "1")
    by_compact = {re.sub(r"[^0-9A-Z]", "", c.upper()): c.upper() for c in codes or []}
    prefix = by_compact.get(prefix, prefix)
    return "-".join([prefix, random[0:4], random[4:8], random[8:12]])


def _fold(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)).casefold().strip()


def surname_of(name: str) -> str:
    """The surname in a name as people write it: its last word ("Lena Okafor"), or what stands before
    a comma ("Okafor, Lena"); punctuation around it is not part of it ("Okafor." is Okafor; "O'Neil" and
    "Smith-Jones" keep theirs)."""
    if "," in name:
        name = name.split(",", 1)[0]
    words = name.split()
    return words[-1].strip(".,;:!?\"'()[]“”‘’«»") if words else ""


def add_months(moment: datetime, months: int) -> datetime:
    y, m = divmod(moment.month - 1 + months, 12)
    year, month = moment.year + y, m + 1
    days = [31, 29 if year % 4 == 0 and (year % 100 != 0 or year % 400 == 0) else 28, 31, 30, 31, 30, 31, 31, 30, 31,
            30, 31][month - 1]
    return moment.replace(year=year, month=month, day=min(moment.day, days))


# --- status lists -----------------------------------------------------------------------------

def _list_for(session: Session, purpose: StatusPurpose) -> StatusList:
    """The newest list of this purpose, or a new one once half its indexes are used (so a random
    index is still found at once, and an index says little about when it was issued)."""
    current = session.exec(select(StatusList).where(StatusList.purpose == purpose.value)
                           .order_by(col(StatusList.id).desc())).first()
    if current is not None:
        column = Certificate.revocation_list if purpose is StatusPurpose.revocation else Certificate.suspension_list
        used = session.exec(select(func.count()).select_from(Certificate).where(column == current.id)).one()
        if used < current.size // 2:
            return current
    fresh = StatusList(purpose=purpose.value)
    session.add(fresh)
    session.flush()
    return fresh


def _free_index(session: Session, lst: StatusList, purpose: StatusPurpose) -> int:
    list_col, index_col = ((Certificate.revocation_list, Certificate.revocation_index)
                           if purpose is StatusPurpose.revocation
                           else (Certificate.suspension_list, Certificate.suspension_index))
    for _ in range(64):
        index = secrets.randbelow(lst.size)
        taken = session.exec(select(Certificate.id).where(list_col == lst.id, index_col == index)).first()
        if taken is None:
            return index
    raise Conflict("Could not allocate a status list index; try again.")


def status_list_bits(session: Session, list_id: int) -> tuple[StatusList, set[int]]:
    lst = session.get(StatusList, list_id)
    if lst is None:
        raise NotFound("There is no status list at this address.")
    if lst.purpose == StatusPurpose.revocation.value:
        rows = session.exec(select(Certificate.revocation_index).where(
            Certificate.revocation_list == lst.id, Certificate.status == CertificateStatus.revoked.value)).all()
    else:
        # The bit credentials point at means "not currently valid": suspended, or revoked for good.
        rows = session.exec(select(Certificate.suspension_index).where(
            Certificate.suspension_list == lst.id,
            col(Certificate.status).in_([CertificateStatus.suspended.value, CertificateStatus.revoked.value]))).all()
    return lst, set(rows)


# --- issuing ----------------------------------------------------------------------------------

def ready_to_issue(session: Session, user: User) -> list[tuple[Enrolment, Programme]]:
    """Completed programmes with no certificate yet: the holder confirms their name, then it is issued."""
    have = select(Certificate.programme_id).where(Certificate.user_id == user.id)
    rows = session.exec(select(Enrolment, Programme).join(Programme, col(Programme.id) == col(Enrolment.programme_id))
                        .where(Enrolment.user_id == user.id, Enrolment.status == EnrolmentStatus.completed.value,
                               col(Enrolment.programme_id).not_in(have))).all()
    return list(rows)


def held_for_payment(session: Session, user: User, programme_ids: list[int]) -> set[int]:
    """Programmes whose certificate waits for an overdue instalment to be paid."""
    from api.payments import service as payments_service

    return payments_service.in_arrears(session, user.id, programme_ids)


def clean_holder_name(name: str) -> str:
    name = " ".join((name or "").split())
    if not name or len(name) > 200:
        raise Invalid("Enter your full name as it should appear on the certificate.", code="bad_name")
    try:
        return clean_human_name(name)
    except ValueError as exc:
        raise Invalid(f"{str(exc)[0].upper()}{str(exc)[1:]}.", code="bad_name") from None


def issue(session: Session, *, user: User, programme: Programme, holder_name: str,
          enrolment: Enrolment | None = None, issued_by: User | None = None, reason: str | None = None,
          renews: Certificate | None = None, now: datetime | None = None) -> Certificate:
    holder_name = clean_holder_name(holder_name)
    check_text(reason or "", "reason")
    if issued_by is not None and not (reason or "").strip():
        raise Invalid("Give a reason for issuing a certificate by hand.", code="reason_required")
    if issued_by is None and programme.id in held_for_payment(session, user, [programme.id]):
        raise Conflict("Your certificate is issued once the overdue instalment is paid: see your billing page.",
                       code="payment_overdue")
    now = now or utcnow()
    generation = renews.generation + 1 if renews else 1
    if renews is None:
        existing = session.exec(select(Certificate).where(Certificate.user_id == user.id,
                                                          Certificate.programme_id == programme.id)).first()
        if existing is not None:
            raise Conflict(f"A {programme.code} certificate has already been issued to this person "
                           f"({existing.number}).", code="already_issued")
    rev, sus = _list_for(session, StatusPurpose.revocation), _list_for(session, StatusPurpose.suspension)
    salt = secrets.token_hex(16)
    cert = Certificate(
        slug=secrets.token_urlsafe(12), number=new_number(programme.code), user_id=user.id,
        programme_id=programme.id, enrolment_id=enrolment.id if enrolment else None, holder_name=holder_name,
        holder_email_hash=signing.email_hash(user.email, salt), holder_email_salt=salt, issued_at=now,
        expires_at=add_months(now, programme.validity_months) if programme.validity_months else None,
        revocation_list=rev.id, revocation_index=_free_index(session, rev, StatusPurpose.revocation),
        suspension_list=sus.id, suspension_index=_free_index(session, sus, StatusPurpose.suspension),
        generation=generation, renews_id=renews.id if renews else None,
        issued_by_id=issued_by.id if issued_by else None, issue_reason=(reason or "").strip() or None,
    )
    cert.credential = signing.sign_certificate(cert, programme, user.email,
                                               **_assessment_evidence(session, user, programme))
    cert.verification = stored.record(cert.credential, now)  # verified once, here; views re-check status and dates
    try:
        with session.begin_nested():
            session.add(cert)
            session.flush()
    except IntegrityError as exc:
        raise Conflict("This certificate was just issued by another request.", code="already_issued") from exc
    session.add(CertificateEvent(certificate_id=cert.id, kind="issued", reason=cert.issue_reason,
                                 actor_id=issued_by.id if issued_by else None))
    mail.send_template(session, user.email, "certificates/issued", name=holder_name, programme=programme, cert=cert,
                       verify_url=verify_url(cert))
    session.flush()
    answers.prepare(session, cert)  # the first view of its verify page is as cheap as any other
    return cert


def _assessment_evidence(session: Session, user: User, programme: Programme) -> dict[str, Any]:
    """The achievement's criteria and the evidence of the practical assessments behind it, asked of
    the assessments domain (imported here: assessments never imports certificates at module level)."""
    from api.assessments import evidence as assessment_evidence

    records = assessment_evidence.passes_for(session, user.id, programme.id)
    items = [EvidenceItem(id=r.url, name=f"Practical assessment: {r.brief_title}", genre="Assessment",
                          narrative=(f"Outcome: {r.outcome}. Marked by a coach against rubric version "
                                     f"{r.rubric_version} (sha256 {r.rubric_hash}); result released "
                                     f"{r.released_at:%Y-%m-%d}."),
                          description="A public record of the outcome; the learner's work is not published.")
             for r in records]
    return {"evidence": items or None,
            "criteria_narrative": assessment_evidence.criteria_narrative(session, programme),
            "criteria_id": (f"{signing.base_url()}/programmes/{programme.slug}/assessment-criteria"
                            if records else None)}


def verify_url(cert: Certificate) -> str:
    return f"{get_settings().base_url.rstrip('/')}/verify/{cert.slug}"


# --- status -----------------------------------------------------------------------------------

def effective_status(cert: Certificate, now: datetime | None = None) -> str:
    """valid, expired, suspended, revoked or superseded, as a person would say it."""
    now = now or utcnow()
    if cert.status != CertificateStatus.active.value:
        return cert.status
    if cert.expires_at is not None and cert.expires_at <= now:
        return "expired"
    return "valid"


def check_text(value: str, what: str) -> str:
    """Free text others will read (reasons, notes, evidence): no control or direction characters."""
    problem = text_problem(value, multiline=True)
    if problem:
        raise Invalid(f"The {what} {problem}.", code="bad_text")
    return value


def change_status(session: Session, cert: Certificate, action: str, reason: str, actor: User) -> Certificate:
    reason = check_text((reason or "").strip(), "reason")
    if not reason:
        raise Invalid("Give a reason: the holder and the audit trail will see it.", code="reason_required")
    allowed = {
        "revoke": ({CertificateStatus.active, CertificateStatus.suspended}, CertificateStatus.revoked),
        "suspend": ({CertificateStatus.active}, CertificateStatus.suspended),
        "reinstate": ({CertificateStatus.suspended}, CertificateStatus.active),
    }
    if action not in allowed:
        raise Invalid("Choose revoke, suspend or reinstate.", code="bad_action")
    sources, target = allowed[action]
    if CertificateStatus(cert.status) not in sources:
        done = {"revoke": "revoked", "suspend": "suspended", "reinstate": "reinstated"}[action]
        raise Conflict(f"A {cert.status} certificate cannot be {done}.", code="bad_transition")
    # A reinstatement's note belongs to the audit trail, not to the standing verifiers are shown.
    cert.status_reason = None if target is CertificateStatus.active else reason
    cert.status, cert.status_changed_at = target.value, utcnow()
    cert.hold_reason = None  # whatever held it before, an admin decides now
    session.add(cert)
    session.add(CertificateEvent(certificate_id=cert.id, kind=action, reason=reason, actor_id=actor.id))
    _tell_holder(session, cert, action, reason)
    session.flush()
    answers.prepare(session, cert)
    return cert


def _tell_holder(session: Session, cert: Certificate, action: str, reason: str, payment_hold: bool = False) -> None:
    from api.certificates.achievements import achievement_of

    user = session.get(User, cert.user_id)
    programme = achievement_of(session, cert)
    mail.send_template(session, user.email, "certificates/status_changed", name=cert.holder_name, action=action,
                       reason=reason, programme=programme, cert=cert, verify_url=verify_url(cert),
                       payment_hold=payment_hold)


def suspend_for_payment(session: Session, user_id: int, programme_id: int, reason: str) -> bool:
    """Hold the learner's current certificate for a programme while an instalment is overdue."""
    changed = False
    for cert in session.exec(select(Certificate).where(Certificate.user_id == user_id,
                                                       Certificate.programme_id == programme_id,
                                                       Certificate.status == CertificateStatus.active.value)):
        cert.status, cert.status_reason = CertificateStatus.suspended.value, f"Payment overdue: {reason}"
        cert.hold_reason, cert.status_changed_at = HoldReason.payment_overdue.value, utcnow()
        session.add(cert)
        session.add(CertificateEvent(certificate_id=cert.id, kind="suspend", reason=cert.status_reason))
        _tell_holder(session, cert, "suspend", cert.status_reason, payment_hold=True)
        changed = True
    session.flush()
    return changed


def reinstate_after_payment(session: Session, user_id: int, programme_id: int) -> bool:
    """Lift a payment hold, and only a payment hold (the typed `hold_reason`, never the wording of a
    reason): a suspension an admin made stays, whatever its reason says."""
    changed = False
    for cert in session.exec(select(Certificate).where(Certificate.user_id == user_id,
                                                       Certificate.programme_id == programme_id,
                                                       Certificate.status == CertificateStatus.suspended.value,
                                                       Certificate.hold_reason == HoldReason.payment_overdue.value)):
        cert.status, cert.status_reason, cert.status_changed_at = CertificateStatus.active.value, None, utcnow()
        cert.hold_reason = None
        session.add(cert)
        session.add(CertificateEvent(certificate_id=cert.id, kind="reinstate", reason="Overdue instalment paid"))
        _tell_holder(session, cert, "reinstate", "The overdue instalment has been paid.")
        changed = True
    session.flush()
    return changed


def set_private(session: Session, cert: Certificate, private: bool) -> None:
    if cert.is_private != private:
        cert.is_private = private
        session.add(cert)
        session.add(CertificateEvent(certificate_id=cert.id, kind="made private" if private else "made public",
                                     actor_id=cert.user_id))
        session.flush()
        answers.prepare(session, cert)


# --- lookups ----------------------------------------------------------------------------------

def find_by_slug(session: Session, slug: str) -> Certificate | None:
    return session.exec(select(Certificate).where(Certificate.slug == slug)).first() if len(slug) <= 40 else None


def by_slug(session: Session, slug: str) -> Certificate:
    cert = find_by_slug(session, slug)
    if cert is None:
        raise NotFound("No certificate matches. Check the address or the number and surname.", code="no_certificate")
    return cert


def programme_codes(session: Session) -> list[str]:
    return list(session.exec(select(Programme.code)).all())


def surname_matches(cert: Certificate, surname: str) -> bool:
    """The rule /verify applies: accents and case forgiven, and the whole name typed in the surname
    field counts by its last word."""
    return bool(surname.strip()) and _fold(surname_of(cert.holder_name)) == _fold(surname_of(surname))


def by_number_and_surname(session: Session, number: str, surname: str) -> Certificate:
    """The same 404 for an unknown number and a wrong surname, so neither can be probed alone."""
    codes = programme_codes(session)
    cert = session.exec(select(Certificate).where(Certificate.number == normalise_number(number, codes))).first()
    if cert is None or not surname_matches(cert, surname):
        raise NotFound("No certificate matches. Check the address or the number and surname.", code="no_certificate")
    return cert


def by_numbers(session: Session, numbers: list[str], chunk: int = 500) -> dict[str, Certificate]:
    """Certificates by their (normalised) numbers, read `chunk` at a time: the callers bound the list
    (bulk verification checks at most CADRE_BULK_MAX_ROWS), and no IN (...) grows past `chunk`."""
    found: dict[str, Certificate] = {}
    distinct = list(dict.fromkeys(n for n in numbers if n))
    for i in range(0, len(distinct), chunk):
        part = distinct[i:i + chunk]
        for cert in session.exec(select(Certificate).where(col(Certificate.number).in_(part))):
            found[cert.number] = cert
    return found


def mine(session: Session, user: User) -> list[tuple[Certificate, Any]]:
    """The holder's certificates with what each certifies (a Programme, or an award: achievements.py)."""
    from api.certificates.achievements import achievement_of

    rows = session.exec(select(Certificate, Programme)
                        .join(Programme, col(Programme.id) == col(Certificate.programme_id), isouter=True)
                        .where(Certificate.user_id == user.id).order_by(col(Certificate.issued_at).desc())).all()
    return [(c, p if p is not None else achievement_of(session, c)) for c, p in rows]


def of_holders(session: Session, user_ids: list[int]) -> list[tuple[Certificate, Programme]]:
    """The current (not superseded) certificates of a page of holders, for organisations' team page,
    which shows the public ones always and the private ones only to those the holder shares with."""
    if not user_ids:
        return []
    return list(session.exec(select(Certificate, Programme)
                             .join(Programme, col(Programme.id) == col(Certificate.programme_id))
                             .where(col(Certificate.user_id).in_(user_ids),
                                    Certificate.status != CertificateStatus.superseded.value)
                             .order_by(col(Certificate.issued_at).desc())).all())


def expiring_holder_ids(now: datetime, within_days: int, *, public_only: bool):
    """A subquery of the holders with an active certificate lapsing within `within_days` (filters)."""
    query = select(Certificate.user_id).where(Certificate.status == CertificateStatus.active.value,
                                              col(Certificate.expires_at) > now,
                                              col(Certificate.expires_at) <= now + timedelta(days=within_days))
    return query.where(col(Certificate.is_private).is_(False)) if public_only else query


def events(session: Session, cert: Certificate) -> list[CertificateEvent]:
    return list(session.exec(select(CertificateEvent).where(CertificateEvent.certificate_id == cert.id)
                             .order_by(col(CertificateEvent.created_at))).all())


CERTIFICATES_ORDER = pagination.Keyset(Certificate.issued_at, Certificate.id, descending=True)  # newest first


def search(session: Session, q: str | None, *, after: str | None = None, before: str | None = None,
           size: int = pagination.PAGE_SIZE) -> pagination.Page[tuple[Certificate, Programme]]:
    """A page of certificates, newest first, matching `q` in the number or the holder's name."""
    from api.certificates.achievements import achievement_of

    query = select(Certificate, Programme).join(Programme, col(Programme.id) == col(Certificate.programme_id),
                                                isouter=True)
    if q and q.strip():
        like = f"%{q.strip()}%"
        query = query.where(col(Certificate.number).ilike(like) | col(Certificate.holder_name).ilike(like))
    page = pagination.paginate(session, query, CERTIFICATES_ORDER, after=after, before=before, size=size)
    page.rows = [(c, p if p is not None else achievement_of(session, c)) for c, p in page.rows]
    return page


def has_current(session: Session, user_id: int, programme_ids: list[int], now: datetime | None = None) -> set[int]:
    """Programmes among `programme_ids` for which the learner holds a current (valid) certificate."""
    if not programme_ids:
        return set()
    now = now or utcnow()
    rows = session.exec(select(Certificate.programme_id).where(
        Certificate.user_id == user_id, col(Certificate.programme_id).in_(programme_ids),
        Certificate.status == CertificateStatus.active.value,
        (col(Certificate.expires_at).is_(None)) | (col(Certificate.expires_at) > now))).all()
    return set(rows)


# --- expiry and renewal -----------------------------------------------------------------------

def send_expiry_reminders(session: Session, now: datetime | None = None) -> int:
    """Emails holders 90 and 30 days before expiry; each reminder once, however often this runs."""
    now = now or utcnow()
    sent = 0
    for days in REMINDER_DAYS:
        already = select(ExpiryReminder.certificate_id).where(ExpiryReminder.days_before == days)
        due = session.exec(select(Certificate, Programme, User)
                           .join(Programme, col(Programme.id) == col(Certificate.programme_id))
                           .join(User, col(User.id) == col(Certificate.user_id))
                           .where(Certificate.status == CertificateStatus.active.value,
                                  col(Certificate.expires_at) > now,
                                  col(Certificate.expires_at) <= now + timedelta(days=days),
                                  col(Certificate.id).not_in(already))).all()
        for cert, programme, user in due:
            if days == 90 and cert.expires_at <= now + timedelta(days=30):
                continue  # inside 30 days already: the 30-day reminder says it
            session.add(ExpiryReminder(certificate_id=cert.id, days_before=days))
            mail.send_template(session, user.email, "certificates/expiry_reminder", key=f"expiry:{cert.id}:{days}",
                               name=cert.holder_name, programme=programme, cert=cert)
            # Told, not asked: whoever follows the holder (their organisations) listens for this.
            outbox.publish(session, "certificate.expiring", f"{cert.id}:{days}", {
                "certificate_id": cert.id, "user_id": cert.user_id, "days": days, "number": cert.number,
                "programme_code": programme.code, "programme_title": programme.title,
                "expires_on": f"{cert.expires_at:%-d %B %Y}"})
            sent += 1
    session.flush()
    return sent


class RenewalNotOpen(Conflict):
    code = "renewal_not_open"


def request_renewal(session: Session, cert: Certificate, user: User, evidence: str,
                    now: datetime | None = None) -> RenewalRequest:
    if cert.user_id != user.id:
        raise NotFound("No certificate matches.", code="no_certificate")
    if cert.status != CertificateStatus.active.value:
        raise Conflict(f"A {cert.status} certificate cannot be renewed.", code="not_renewable")
    # The window is the service's rule, not only the page's: an early request is refused wherever it
    # comes from (an old tab, a crafted POST).
    if cert.expires_at is None:
        raise RenewalNotOpen("This certificate does not lapse: there is nothing to renew.")
    if not in_renewal_window(cert, now):
        raise RenewalNotOpen(f"Renewal opens on {renewal_opens_at(cert):%-d %B %Y}, 90 days before this "
                             "certificate's expiry date; ask then (we will email you).")
    evidence = check_text((evidence or "").strip(), "evidence")
    if len(evidence) < 20:
        raise Invalid("Describe your continuing practice in a few sentences (at least 20 characters).",
                      code="evidence_required")
    pending = session.exec(select(RenewalRequest).where(RenewalRequest.certificate_id == cert.id,
                                                        RenewalRequest.status == RenewalStatus.pending.value)).first()
    if pending:
        raise Conflict("A renewal request for this certificate is already waiting for a decision.",
                       code="renewal_pending")
    req = RenewalRequest(certificate_id=cert.id, evidence=evidence[:10_000])
    session.add(req)
    session.add(CertificateEvent(certificate_id=cert.id, kind="renewal requested", actor_id=user.id))
    session.flush()
    return req


def renewal_opens_at(cert: Certificate) -> datetime | None:
    """Renewal is offered from the first expiry reminder (90 days before the expiry date) onwards;
    a certificate that does not lapse has nothing to renew."""
    return cert.expires_at - timedelta(days=REMINDER_DAYS[0]) if cert.expires_at else None


def in_renewal_window(cert: Certificate, now: datetime | None = None) -> bool:
    opens = renewal_opens_at(cert)
    return opens is not None and (now or utcnow()) >= opens


def pending_renewal_for(session: Session, cert: Certificate) -> RenewalRequest | None:
    return session.exec(select(RenewalRequest).where(RenewalRequest.certificate_id == cert.id,
                                                     RenewalRequest.status == RenewalStatus.pending.value)).first()


def pending_renewals(session: Session) -> list[tuple[RenewalRequest, Certificate, Programme]]:
    return list(session.exec(select(RenewalRequest, Certificate, Programme)
                             .join(Certificate, col(Certificate.id) == col(RenewalRequest.certificate_id))
                             .join(Programme, col(Programme.id) == col(Certificate.programme_id))
                             .where(RenewalRequest.status == RenewalStatus.pending.value)
                             .order_by(col(RenewalRequest.created_at))).all())


def decide_renewal(session: Session, req: RenewalRequest, admin: User, approve: bool, note: str | None) -> \
        Certificate | None:
    if req.status != RenewalStatus.pending.value:
        raise Conflict("This renewal request has already been decided.", code="already_decided")
    old = session.get(Certificate, req.certificate_id)
    user = session.get(User, old.user_id)
    programme = session.get(Programme, old.programme_id)
    check_text(note or "", "note")
    req.status = (RenewalStatus.approved if approve else RenewalStatus.rejected).value
    req.decided_by_id, req.decision_note, req.decided_at = admin.id, (note or "").strip() or None, utcnow()
    session.add(req)
    if not approve:
        session.add(CertificateEvent(certificate_id=old.id, kind="renewal rejected", reason=req.decision_note,
                                     actor_id=admin.id))
        mail.send_template(session, user.email, "certificates/renewal_rejected", name=old.holder_name,
                           programme=programme, cert=old, note=req.decision_note)
        session.flush()
        return None
    new = issue(session, user=user, programme=programme, holder_name=old.holder_name, renews=old)
    old.status, old.superseded_by_id = CertificateStatus.superseded.value, new.id
    old.status_reason, old.status_changed_at = f"Renewed as {new.number}", utcnow()
    session.add(old)
    session.add(CertificateEvent(certificate_id=old.id, kind="renewed", reason=f"superseded by {new.number}",
                                 actor_id=admin.id))
    session.flush()
    return new
