"""Cadre as an issuer: building and signing its credentials and status lists, publishing its DID
document, and verifying credentials (its own, or uploaded ones) with its own keys and lists.

The cryptography lives in credential.py, dataintegrity.py, jsonld.py, keys.py, statuslist.py and
verify.py; this module binds them to the site's settings and database.
"""

from __future__ import annotations

import copy
import json
import os
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from sqlmodel import Session

from api.catalog.models import Programme
from api.certificates import keys as keystore
from api.certificates.credential import (
    AchievementInfo,
    EvidenceItem,
    IssuerProfile,
    Recipient,
    build_open_badge_credential,
    identity_hash,
    sign_credential,
)
from api.certificates.dataintegrity import add_proof
from api.certificates.models import Certificate
from api.certificates.statuslist import StatusEntry, StatusList, build_status_list_credential
from api.certificates.verify import VerificationResult, static_resolver, verify_credential
from api.core.config import get_settings
from api.core.db import utcnow


def base_url() -> str:
    return get_settings().base_url.rstrip("/")


def host() -> str:
    return keystore.host_from_base_url(get_settings().base_url)


def issuer_did() -> str:
    return keystore.did_web(host())


def email_hash(email: str, salt: str) -> str:
    return identity_hash(email, salt)


def status_list_url(list_id: int) -> str:
    return f"{base_url()}/status/{list_id}"


def credential_url(cert: Certificate) -> str:
    return f"{base_url()}/api/v1/credentials/{cert.slug}"


def _criteria(programme: Programme) -> str:
    parts = []
    rules = programme.completion or {}
    if rules.get("lessons"):
        parts.append("completed every lesson")
    if rules.get("knowledge_checks"):
        parts.append("passed every knowledge check")
    if rules.get("assessments"):
        parts.append("passed the practical assessments on their own organisation's work, marked by a coach")
    done = ", ".join(parts) if parts else "met the programme's requirements"
    return f"The holder {done} of the {programme.title} ({programme.code}) programme."


def sign_certificate(cert: Certificate, programme: Programme, email: str, *, evidence: list[EvidenceItem] | None = None,
                     criteria_narrative: str | None = None, criteria_id: str | None = None) -> dict[str, Any]:
    """`evidence` and the criteria come from the practical assessments behind the award (see
    api/assessments/evidence.py): links to public records of the outcomes, never the learner's work."""
    return sign_achievement(cert, email, AchievementInfo(
        id=f"{base_url()}/programmes/{programme.slug}", name=f"{programme.title} ({programme.code})",
        description=programme.summary, criteria_narrative=criteria_narrative or _criteria(programme),
        achievement_type="Certificate", criteria_id=criteria_id,
    ), evidence=evidence)


def sign_achievement(cert: Certificate, email: str, achievement: AchievementInfo, *,
                     evidence: list[EvidenceItem] | None = None) -> dict[str, Any]:
    """The signed OpenBadgeCredential of any certificate: an accreditation (above) or an award
    (api/awards, achievementType "Award"). Same issuer, key, status list bit and proof."""
    key = keystore.current_key()
    settings = get_settings()
    unsigned = build_open_badge_credential(
        credential_id=credential_url(cert),
        issuer=IssuerProfile(id=issuer_did(), name=settings.issuer_name, url=base_url() + "/"),
        recipient=Recipient(email=email, name=cert.holder_name, salt=cert.holder_email_salt),
        achievement=achievement,
        valid_from=cert.issued_at, valid_until=cert.expires_at,
        name=achievement.name,
        status=StatusEntry(status_list_url(cert.suspension_list), cert.suspension_index, "suspension"),
        evidence=evidence,
    )
    # Open Badges 3.0 allows one credentialStatus, so the credential names one bit, and that bit
    # means "not currently valid": set while the certificate is suspended (an admin's hold or an
    # overdue instalment) and set for good once it is revoked. Its purpose is "suspension", the
    # Bitstring Status List purpose that may be cleared again, because a reinstatement clears it.
    # Which of the two it is, and why, is on Cadre's verify page and API (see README).
    return sign_credential(unsigned, key.private_key, key.verification_method(host()), cert.issued_at)


@lru_cache(maxsize=64)
def _signed_list(list_id: int, purpose: str, bits: frozenset[int], size: int, key_id: str, url: str,
                 created_day: str) -> str:
    # Keyed by the bits themselves: a change of status makes a new entry at once, no stale cache.
    lst = StatusList(size)
    for index in bits:
        lst.set(index)
    key = keystore.current_key()
    # Valid from the start of the day it was signed: a verifier whose clock read "now" a moment
    # before we signed must not see a list from its future.
    day = datetime.fromisoformat(created_day).replace(tzinfo=UTC)
    doc = build_status_list_credential(credential_id=url, issuer=issuer_did(), status_purpose=purpose,
                                       status_list=lst, valid_from=day)
    return json.dumps(add_proof(doc, key.private_key, key.verification_method(host()), day))


def status_list_credential(session: Session, list_id: int) -> dict[str, Any]:
    from api.certificates.service import status_list_bits

    lst, bits = status_list_bits(session, list_id)
    key = keystore.current_key()
    return json.loads(_signed_list(lst.id, lst.purpose, frozenset(bits), lst.size, key.key_id,
                                   status_list_url(lst.id), utcnow().date().isoformat()))


def _keys_stamp() -> tuple:
    """What the published keys depend on: the key index file, replaced atomically by every create and
    rotate (a new inode and mtime), so a process sees another's rotation at its next call."""
    directory = get_settings().keys_dir
    if directory is not _index[0]:  # the paths as text, made once per settings (this runs per verify view)
        _index[:] = [directory, str(directory), str(directory / keystore.INDEX_FILE)]
    try:
        st = os.stat(_index[2])
    except FileNotFoundError:
        return (_index[1], None)
    return (_index[1], st.st_ino, st.st_mtime_ns, st.st_size)


_index: list = [None, "", ""]


@lru_cache(maxsize=8)
def _did_document(host_: str, stamp: tuple) -> tuple[dict[str, Any], bytes]:
    doc = keystore.did_document(host_, keystore.load_keys())
    return doc, json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode()


def did_document() -> dict[str, Any]:
    """The DID document, read from the key files once per change of the key index."""
    return copy.deepcopy(_did_document(host(), _keys_stamp())[0])


def did_document_body() -> bytes:
    """/.well-known/did.json as served: built once per change of the key index."""
    return _did_document(host(), _keys_stamp())[1]


def jwks() -> dict[str, Any]:
    return keystore.jwks(host(), keystore.load_keys())


def verify_static(doc: Any) -> VerificationResult:
    """Every check but the status (the caller reads that itself): what stored.py records."""
    return verify_credential(doc, static_resolver({issuer_did(): did_document()}), None)


def verify(session: Session, doc: Any) -> VerificationResult:
    """Verify any credential with what this site knows: its own DID document and status lists.

    Nothing is fetched from other hosts (no server-side requests to addresses a stranger chooses):
    a credential from another issuer fails the key check with a reason that says so.
    """
    resolver = static_resolver({issuer_did(): did_document()})
    prefix = f"{base_url()}/status/"

    def fetch_status(url: str) -> dict[str, Any]:
        if not url.startswith(prefix) or not url.removeprefix(prefix).isdigit():
            raise LookupError("only this site's status lists are consulted")
        return status_list_credential(session, int(url.removeprefix(prefix)))

    return verify_credential(doc, resolver, fetch_status)
