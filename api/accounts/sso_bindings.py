"""Single sign-on for an organisation's email domain: its owner asks for a domain to be bound to one of
the providers configured in settings (offered, or required, to people on that domain); a platform admin
approves or rejects the request; only approved bindings count at log-in (sso.rule_for).

Why an admin decides: owning a domain cannot be proven offline (no DNS lookup or mail round trip from
here), and a binding that *requires* single sign-on changes how everyone on the domain logs in. The admin
checks ownership outside Cadre (a DNS TXT record, a letter on headed paper, a known contact) before
approving. An approved domain belongs to one organisation at a time (a partial unique index).

Flushes, never commits.
"""

from __future__ import annotations

from sqlmodel import Session, col, func, select

from api.accounts import sso
from api.accounts.models import BindingStatus, SSODomainBinding, User
from api.core import email as mail
from api.core import pagination
from api.core.db import utcnow
from api.core.errors import Conflict, Invalid, NotFound
from api.core.integrity import flush_unique, unique_guard
from api.core.schemas import text_problem

# Addresses anyone can get: no organisation owns these domains.
PUBLIC_MAIL_DOMAINS = frozenset({
    "gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "live.com", "msn.com", "yahoo.com", "yahoo.co.uk",
    "icloud.com", "me.com", "aol.com", "proton.me", "protonmail.com", "gmx.com", "gmx.de", "mail.com", "zoho.com",
    "yandex.com", "qq.com", "163.com",
})
_LABEL_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789-")
MAX_DOMAINS = 20
ORDER = pagination.Keyset(SSODomainBinding.created_at, SSODomainBinding.id, descending=True)


def clean_domain(domain: str) -> str:
    domain = (domain or "").strip().lower().lstrip("@").rstrip(".")
    labels = domain.split(".")
    if (len(domain) > 253 or len(labels) < 2 or any(not label or len(label) > 63 or set(label) - _LABEL_CHARS
                                                      or label.startswith("-") or label.endswith("-")
                                                      for label in labels)):
        raise Invalid("Give your organisation's email domain, such as example.com (the part after @).",
                      code="bad_domain")
    if domain in PUBLIC_MAIL_DOMAINS:
        raise Invalid(f"{domain} is a public email service: no organisation can bind it. Give your organisation's "
                      "own domain.", code="public_domain")
    return domain


def _lock_owner(session: Session, org_id: int) -> None:
    # An organisation's requests take turns, so the cap on its domains is counted exactly.
    from api.organisations.models import Organisation

    session.exec(select(Organisation.id).where(Organisation.id == org_id).with_for_update()).one()


def _taken() -> Conflict:  # made only to be raised
    return Conflict("This domain is already bound to single sign-on, or another request for it is waiting. If it is "
                    "yours, contact the platform's administrators.", code="domain_taken")


def request(session: Session, org_id: int, user: User, *, provider_key: str, domain: str,
            required: bool) -> SSODomainBinding:
    """An owner's request: pending until a platform admin decides."""
    if provider_key not in sso.providers():
        raise Invalid("Choose one of the single sign-on providers listed.", code="bad_provider")
    domain = clean_domain(domain)
    _lock_owner(session, org_id)
    held = session.exec(select(func.count()).select_from(SSODomainBinding).where(
        SSODomainBinding.owner_id == org_id, SSODomainBinding.status != BindingStatus.rejected.value)).one()
    if held >= MAX_DOMAINS:
        raise Conflict(f"An organisation has at most {MAX_DOMAINS} single sign-on domains (asked for or approved). "
                       "Withdraw one it no longer uses first.", code="too_many_domains")
    rows = session.exec(select(SSODomainBinding).where(SSODomainBinding.domain == domain)).all()
    for row in rows:
        mine = row.owner_id == org_id
        if mine and row.provider_key == provider_key and row.status == BindingStatus.rejected.value:
            # Asked again after a refusal: the same row waits again.
            row.status, row.required, row.requested_by_id = BindingStatus.pending.value, required, user.id
            row.decided_by_id = row.decided_at = row.decision_note = None
            row.created_at = utcnow()
            session.add(row)
            session.flush()
            return row
        if mine and row.status != BindingStatus.rejected.value:
            raise Conflict(f"Your organisation has already asked for {domain}.", code="already_requested")
        if not mine and row.status != BindingStatus.rejected.value:
            raise _taken()
        if not mine and row.provider_key == provider_key:
            session.delete(row)  # another organisation's refused request gives way
            session.flush()
    row = SSODomainBinding(provider_key=provider_key, domain=domain, required=required, owner_id=org_id,
                           status=BindingStatus.pending.value, requested_by_id=user.id)
    if not flush_unique(session, row):
        raise _taken()
    return row


def for_organisation(session: Session, org_id: int) -> list[SSODomainBinding]:
    return list(session.exec(select(SSODomainBinding).where(SSODomainBinding.owner_id == org_id)
                             .order_by(SSODomainBinding.domain).limit(100)))  # a handful per organisation


def get(session: Session, binding_id: int) -> SSODomainBinding:
    row = session.get(SSODomainBinding, binding_id)
    if row is None:
        raise NotFound("There is no such single sign-on domain.", code="binding_not_found")
    return row


def of_organisation(session: Session, org_id: int, binding_id: int) -> SSODomainBinding:
    row = session.get(SSODomainBinding, binding_id)
    if row is None or row.owner_id != org_id:
        raise NotFound("Your organisation has no such single sign-on domain.", code="binding_not_found")
    return row


def withdraw(session: Session, org_id: int, binding_id: int) -> SSODomainBinding:
    """The owner withdraws a request, or ends an approved binding: its domain logs in as before."""
    row = of_organisation(session, org_id, binding_id)
    session.delete(row)
    session.flush()
    return row


def decide(session: Session, binding_id: int, admin: User, *, approve: bool, note: str = "") -> SSODomainBinding:
    row = session.exec(select(SSODomainBinding).where(SSODomainBinding.id == binding_id).with_for_update()
                       .execution_options(populate_existing=True)).first()
    if row is None:
        raise NotFound("There is no such single sign-on domain.", code="binding_not_found")
    if row.status != BindingStatus.pending.value:
        raise Conflict(f"The request for {row.domain} has already been decided ({row.status}).",
                       code="already_decided")
    note = " ".join((note or "").split())[:500]
    problem = text_problem(note)
    if problem:
        raise Invalid(f"The note {problem}.", code="bad_text")
    if not approve and not note:
        raise Invalid("Say why the request is rejected: the organisation's owner sees it.", code="note_required")
    with unique_guard(session) as guard:  # the change is flushed in a savepoint of its own
        row.status = (BindingStatus.approved if approve else BindingStatus.rejected).value
        row.decided_by_id, row.decided_at, row.decision_note = admin.id, utcnow(), note or None
        session.add(row)
    if guard.duplicate:
        raise Conflict(f"{row.domain} is already bound for another organisation.", code="domain_taken")
    _tell_requester(session, row)
    return row


def _tell_requester(session: Session, row: SSODomainBinding) -> None:
    """The owner who asked hears the decision (through the outbox, with the request's transaction)."""
    from api.organisations.models import Organisation

    asker = session.get(User, row.requested_by_id) if row.requested_by_id else None
    org = session.get(Organisation, row.owner_id) if row.owner_id else None
    if asker is None or org is None:
        return
    p = sso.providers().get(row.provider_key)
    mail.send_template(session, asker.email, "accounts/sso_domain_decided", name=asker.full_name,
                       organisation=org.name, domain=row.domain, provider=p.name if p else row.provider_key,
                       approved=row.status == BindingStatus.approved.value, required=row.required,
                       note=row.decision_note, settings_path=f"/organisations/{org.public_id}/sso")


def page(session: Session, status: str | None, *, after: str | None = None, before: str | None = None):
    """The admin's list, newest first, of one status (or all)."""
    query = select(SSODomainBinding).where(col(SSODomainBinding.owner_id).is_not(None))
    if status in {s.value for s in BindingStatus}:
        query = query.where(SSODomainBinding.status == status)
    return pagination.paginate(session, query, ORDER, after=after, before=before)
