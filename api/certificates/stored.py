"""Verification results for Cadre's own certificates, stored rather than recomputed.

A credential Cadre signed does not change, and neither does the key that signed it while that key
is published: so its cryptographic checks (well-formed, schema, vocabulary, proof, key, signature,
issuer binding) are worked out once, when it is issued, and kept on the certificate with what they
depended on: a digest of the credential and the public key published for its verification method.
A verify page then re-checks only what can change (the dates and the status bit), plus whether
those two inputs are still the same; if either differs (the stored document was edited, or the key
was retired from the DID document or replaced), the full verification runs again and is stored.

POST /api/v1/verify (a credential someone uploads) still verifies everything, every time.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, col, select

from api.certificates import signing, statuslist
from api.certificates.dataintegrity import single_proof
from api.certificates.models import Certificate, CertificateStatus, StatusList, StatusPurpose
from api.certificates.schema import schema_digest
from api.certificates.verify import Check, VerificationResult, check_validity
from api.core.db import durable

# The checks that depend only on the credential and the issuer's published key.
CRYPTOGRAPHIC = ("well-formed", "schema", "vocabulary", "proof type", "verification method", "signature",
                 "issuer key")
NOT_CURRENT = (CertificateStatus.suspended.value, CertificateStatus.revoked.value)


def digest(credential: dict[str, Any]) -> str:
    text = json.dumps(credential, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _method_of(credential: dict[str, Any]) -> str | None:
    proof = single_proof(credential)
    method = proof.get("verificationMethod") if proof else None
    return method if isinstance(method, str) else None


def published_key(method_id: str | None) -> str | None:
    """The publicKeyMultibase the site's DID document lists for method_id now, if it lists it."""
    doc = signing.did_document()
    if method_id is None or method_id not in doc.get("assertionMethod", []):
        return None
    for method in doc.get("verificationMethod", []):
        if method.get("id") == method_id:
            return method.get("publicKeyMultibase")
    return None


def record(credential: dict[str, Any], now: datetime | None = None) -> dict[str, Any]:
    """Verify the credential fully (signature included) and return what to store on the certificate."""
    result = signing.verify_static(credential)
    method = _method_of(credential)
    return {
        "digest": digest(credential),
        "schema": schema_digest(),
        "method": method,
        "key": published_key(method),
        "checked_at": (now or datetime.now(UTC)).isoformat(),
        "checks": [{"name": c.name, "status": c.status, "reason": c.reason}
                   for c in result.checks if c.name in CRYPTOGRAPHIC],
    }


def _still_holds(cert: Certificate) -> bool:
    stored = cert.verification
    if not stored or stored.get("digest") != digest(cert.credential) or stored.get("schema") != schema_digest():
        return False
    return stored.get("key") == published_key(stored.get("method"))


def cryptographic_checks(session: Session, cert: Certificate) -> list[Check]:
    """The stored checks, recorded again first if what they depended on has changed."""
    if not _still_holds(cert):
        # A record of work done, not a change a viewer makes: it is written on its own (durable), so a
        # verify page (a GET, a read-only transaction) can keep it, and the object is updated in place.
        result = record(cert.credential)
        durable(lambda s: s.exec(update(Certificate).where(col(Certificate.id) == cert.id)
                                 .values(verification=result)), session)
        set_committed_value(cert, "verification", result)
    return [Check(c["name"], c["status"], c["reason"]) for c in cert.verification["checks"]]


def status_check(session: Session, cert: Certificate) -> Check:
    """What the status list the credential names says now, read from the rows it is derived from."""
    raw = cert.credential.get("credentialStatus")
    if raw is None:
        return Check("status", "skip", "The credential has no status list, so it cannot be revoked.")
    try:
        entry = statuslist.parse_entry(raw)
    except statuslist.StatusListError as exc:
        return Check("status", "fail", str(exc))
    prefix = f"{signing.base_url()}/status/"
    list_id = entry.status_list_credential.removeprefix(prefix)
    lst = _status_list(session, int(list_id)) if list_id.isdigit() else None
    if lst is None or lst[1] != entry.status_purpose:
        return Check("status", "fail", f"The status list at {entry.status_list_credential} is not this site's.")
    index = entry.status_list_index
    if lst[1] == StatusPurpose.revocation.value:
        own = (cert.revocation_list, cert.revocation_index) == (lst[0], index)
        where = (col(Certificate.revocation_list) == lst[0], col(Certificate.revocation_index) == index,
                 col(Certificate.status) == CertificateStatus.revoked.value)
        set_now = cert.status == CertificateStatus.revoked.value
    else:
        own = (cert.suspension_list, cert.suspension_index) == (lst[0], index)
        where = (col(Certificate.suspension_list) == lst[0], col(Certificate.suspension_index) == index,
                 col(Certificate.status).in_(NOT_CURRENT))
        set_now = cert.status in NOT_CURRENT
    if own:
        # The bit the credential names is this certificate's own (list, index are unique): the list is
        # derived from the row just read, so its status answers without another query.
        holder = cert.status if set_now else None
    else:
        holder = session.exec(select(Certificate.status).where(*where)).first()
    if holder is None:
        return Check("status", "pass", "The issuer's status list says it is neither suspended nor revoked.")
    word = "revoked" if holder == CertificateStatus.revoked.value else "suspended"
    return Check("status", "fail", f"The issuer's status list marks this credential as not currently valid: "
                                   f"the issuer has {word} it.")


_LISTS: dict[int, tuple[int, str]] = {}


def _status_list(session: Session, list_id: int) -> tuple[int, str] | None:
    """(id, purpose) of a status list: a list's purpose never changes, so it is read once per process."""
    known = _LISTS.get(list_id)
    if known is None:
        lst = session.get(StatusList, list_id)
        if lst is None:
            return None
        known = _LISTS.setdefault(list_id, (lst.id, lst.purpose))
    return known


def check(session: Session, cert: Certificate, now: datetime | None = None) -> VerificationResult:
    """Every check on one of Cadre's own certificates, as verify_credential would report them,
    without re-verifying a signature that has not changed."""
    result = VerificationResult(profile="ob", checks=cryptographic_checks(session, cert))
    result.checks.extend(check_validity(cert.credential, now or datetime.now(UTC)))
    result.checks.append(status_check(session, cert))
    return result


def refresh_all(session: Session, batch: int = 500) -> int:
    """Re-record every certificate whose stored result no longer matches the published keys (run
    after a key is rotated or retired). Returns how many were verified again."""
    changed, last_id = 0, 0
    while True:
        certs = session.exec(select(Certificate).where(col(Certificate.id) > last_id)
                             .order_by(col(Certificate.id)).limit(batch)).all()
        if not certs:
            return changed
        for cert in certs:
            if not _still_holds(cert):
                cert.verification = record(cert.credential)
                session.add(cert)
                changed += 1
        session.flush()
        last_id = certs[-1].id
