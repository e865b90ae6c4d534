"""Open Badges 3.0 OpenBadgeCredential documents (on the W3C VC Data Model 2.0), built from plain
values and signed with eddsa-rdfc-2022.

The learner is named without a DID: credentialSubject.identifier carries a salted SHA-256 of their
email (so a holder can prove the credential is theirs without the email being published) and, when
given, their name as an unhashed IdentityObject of identityType "name" (OB 3.0 IdentifierTypeEnum).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from api.certificates.dataintegrity import add_proof, xsd_datetime
from api.certificates.jsonld import CREDENTIALS_V2, OB_V3P0_CONTEXT
from api.certificates.statuslist import StatusEntry

CREDENTIAL_CONTEXT = [CREDENTIALS_V2, OB_V3P0_CONTEXT]
CREDENTIAL_TYPE = ["VerifiableCredential", "OpenBadgeCredential"]

# OB 3.0 AchievementType values Cadre issues (the spec's enumeration is longer and extensible).
ACHIEVEMENT_TYPES = frozenset({"Certificate", "CertificateOfCompletion", "Certification", "License", "Badge", "Course",
                               "Award"})

_ABSOLUTE_IRI = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:\S+$")


@dataclass(frozen=True)
class IssuerProfile:
    """The issuing organisation: id is the site's did:web (keys.did_web)."""

    id: str
    name: str
    url: str


@dataclass(frozen=True)
class AchievementInfo:
    """What was achieved; id should be a stable URL of the award's public page."""

    id: str
    name: str
    description: str
    criteria_narrative: str
    achievement_type: str = "Certificate"
    criteria_id: str | None = None  # a public page describing the criteria (e.g. the rubric)


@dataclass(frozen=True)
class EvidenceItem:
    """OB 3.0 Evidence: a link to a verifiable public record of what was judged (never the work)."""

    id: str
    name: str
    narrative: str
    description: str | None = None
    genre: str | None = None


@dataclass(frozen=True)
class Recipient:
    """The learner. Keep the salt with the certificate: it is needed to show the email matches."""

    email: str
    name: str | None = None
    salt: str | None = None  # None: a fresh random salt is chosen


def normalise_email(email: str) -> str:
    # Lower-cased so that a verifier typing Alice@Example.com still matches; mail systems treat
    # addresses case-insensitively in practice.
    return email.strip().lower()


def identity_hash(email: str, salt: str) -> str:
    """OB IdentityHash: 'sha256$' + hex sha256 of the UTF-8 email followed by the salt."""
    return "sha256$" + hashlib.sha256((normalise_email(email) + salt).encode("utf-8")).hexdigest()


def email_matches(identity: dict[str, Any], email: str) -> bool:
    """Whether a hashed emailAddress IdentityObject belongs to email (constant-time compare)."""
    if identity.get("identityType") != "emailAddress" or identity.get("hashed") is not True:
        return False
    expected = identity_hash(email, identity.get("salt") or "")
    return hmac.compare_digest(expected.lower(), str(identity.get("identityHash", "")).lower())


def _require_iri(value: str, what: str) -> str:
    if not isinstance(value, str) or not _ABSOLUTE_IRI.match(value):
        raise ValueError(f"{what} must be an absolute URL or URN, got {value!r}")
    return value


def _require_text(value: str | None, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{what} must be a non-empty string")
    return value


def build_open_badge_credential(
    *,
    credential_id: str,
    issuer: IssuerProfile,
    recipient: Recipient,
    achievement: AchievementInfo,
    valid_from: datetime,
    valid_until: datetime | None = None,
    name: str | None = None,
    description: str | None = None,
    status: StatusEntry | None = None,
    evidence: list[EvidenceItem] | None = None,
) -> dict[str, Any]:
    """An unsigned OpenBadgeCredential as a JSON-ready dict. Text is stored as given (never
    HTML-escaped): escaping is the page template's job, and a signature covers the exact text."""
    if achievement.achievement_type not in ACHIEVEMENT_TYPES and not achievement.achievement_type.startswith("ext:"):
        raise ValueError(f"achievement type {achievement.achievement_type!r} is not one Cadre issues")
    if valid_until is not None and valid_until <= valid_from:
        raise ValueError("valid_until must be after valid_from")
    salt = recipient.salt if recipient.salt is not None else secrets.token_hex(16)
    identifiers: list[dict[str, Any]] = [
        {
            "type": "IdentityObject",
            "identityHash": identity_hash(_require_text(recipient.email, "recipient email"), salt),
            "identityType": "emailAddress",
            "hashed": True,
            "salt": salt,
        }
    ]
    if recipient.name is not None:
        identifiers.append(
            {
                "type": "IdentityObject",
                "identityHash": _require_text(recipient.name, "recipient name"),
                "identityType": "name",
                "hashed": False,
            }
        )
    credential: dict[str, Any] = {
        "@context": list(CREDENTIAL_CONTEXT),
        "id": _require_iri(credential_id, "credential id"),
        "type": list(CREDENTIAL_TYPE),
        "issuer": {
            "id": _require_iri(issuer.id, "issuer id"),
            "type": ["Profile"],
            "name": _require_text(issuer.name, "issuer name"),
            "url": _require_iri(issuer.url, "issuer url"),
        },
        "validFrom": xsd_datetime(valid_from),
        "name": _require_text(name if name is not None else achievement.name, "credential name"),
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "identifier": identifiers,
            "achievement": {
                "id": _require_iri(achievement.id, "achievement id"),
                "type": ["Achievement"],
                "achievementType": achievement.achievement_type,
                "name": _require_text(achievement.name, "achievement name"),
                "description": _require_text(achievement.description, "achievement description"),
                "criteria": {"narrative": _require_text(achievement.criteria_narrative, "criteria narrative")},
            },
        },
    }
    if achievement.criteria_id is not None:
        credential["credentialSubject"]["achievement"]["criteria"]["id"] = _require_iri(achievement.criteria_id,
                                                                                          "criteria id")
    if evidence:
        credential["evidence"] = [_evidence(e) for e in evidence]
    if description is not None:
        credential["description"] = description
    if valid_until is not None:
        credential["validUntil"] = xsd_datetime(valid_until)
    if status is not None:
        credential["credentialStatus"] = status.as_json()
    return credential


def _evidence(e: EvidenceItem) -> dict[str, Any]:
    out: dict[str, Any] = {"id": _require_iri(e.id, "evidence id"), "type": ["Evidence"],
                           "name": _require_text(e.name, "evidence name"),
                           "narrative": _require_text(e.narrative, "evidence narrative")}
    if e.description:
        out["description"] = e.description
    if e.genre:
        out["genre"] = e.genre
    return out


def sign_credential(
    credential: dict[str, Any],
    private_key: Ed25519PrivateKey,
    verification_method: str,
    created: datetime,
) -> dict[str, Any]:
    """A signed copy of credential (eddsa-rdfc-2022 DataIntegrityProof, proofPurpose assertionMethod).

    The proof is written as an array of one: the 1EdTech AchievementCredential JSON schema types
    `proof` as an array, and VC 2.0 reads an array of one exactly as the bare object (the signature
    covers the document without its proof, so the form does not change what is signed).

    Raises jsonld.UndefinedFieldError if a field is not defined by the contexts: it would not be
    covered by the signature, so nothing is signed.
    """
    signed = add_proof(credential, private_key, verification_method, created)
    signed["proof"] = [signed["proof"]]
    return signed
