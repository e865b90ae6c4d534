"""Verify a credential and say, check by check, what holds and what does not, in words a person
can act on.

Profiles: "ob" (Open Badges 3.0: the signing key must belong to the issuer, the OB JSON schema
applies) and "di" (plain Data Integrity, e.g. the W3C test vector, whose issuer does not control
its did:key: the issuer/key binding and the OB schema are skipped).
Only embedded eddsa-rdfc-2022 proofs are accepted; JWT-secured credentials are refused outright,
so algorithm-confusion tricks (alg "none", HS256 with a public key as secret) have nothing to hit.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from api.certificates import statuslist
from api.certificates.dataintegrity import (
    ASSERTION_METHOD,
    CRYPTOSUITE,
    PROOF_TYPE,
    ProofError,
    parse_xsd_datetime,
    public_key_from_multibase,
    resolve_did_key,
    single_proof,
    verify_proof,
)
from api.certificates.jsonld import CREDENTIALS_V2, DEFAULT_LIMITS, JsonLdError, Limits, canonicalize, check_limits
from api.certificates.schema import validate_ob_schema

Profile = Literal["ob", "di"]
CheckStatus = Literal["pass", "fail", "skip"]
DidResolver = Callable[[str], Mapping[str, Any]]
StatusFetcher = Callable[[str], Any]

_JWT = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*$")


@dataclass(frozen=True)
class Check:
    name: str
    status: CheckStatus
    reason: str


@dataclass
class VerificationResult:
    profile: Profile
    checks: list[Check] = field(default_factory=list)

    @property
    def verified(self) -> bool:
        return bool(self.checks) and all(check.status != "fail" for check in self.checks)

    @property
    def failures(self) -> list[Check]:
        return [check for check in self.checks if check.status == "fail"]

    def as_json(self) -> dict[str, Any]:
        return {
            "verified": self.verified,
            "profile": self.profile,
            "checks": [{"name": c.name, "status": c.status, "reason": c.reason} for c in self.checks],
        }


class DidResolutionError(LookupError):
    """A DID or controller document could not be obtained."""


def static_resolver(documents: Mapping[str, Mapping[str, Any]]) -> DidResolver:
    """A resolver over known documents (e.g. the site's own did:web document); did:key needs none."""

    def resolve(did: str) -> Mapping[str, Any]:
        if did.startswith("did:key:"):
            return resolve_did_key(did)
        if did not in documents:
            raise DidResolutionError(f"no DID document is known for {did}")
        return documents[did]

    return resolve


def verify_credential(
    doc: Any,
    resolve_did: DidResolver,
    fetch_status: StatusFetcher | None = None,
    now: datetime | None = None,
    profile: Profile = "ob",
    limits: Limits = DEFAULT_LIMITS,
) -> VerificationResult:
    """Verify doc (a dict, or JSON text/bytes) and report every check with a readable reason.

    resolve_did(did) returns the DID (controller) document for a DID or controller URL; did:key is
    resolved locally whatever it does. fetch_status(url) returns a status list credential (dict or
    JSON); without it a credential that has a status entry cannot verify.
    """
    if now is not None and now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if profile not in ("ob", "di"):
        raise ValueError(f"unknown verification profile {profile!r}; use 'ob' or 'di'")
    return _verify(doc, resolve_did, fetch_status, now or datetime.now(UTC), profile, limits, status_list=False)


def _verify(doc, resolve_did, fetch_status, now, profile, limits, *, status_list: bool) -> VerificationResult:
    result = VerificationResult(profile=profile)
    checks = result.checks
    try:
        credential = _parse(doc, limits)
        _check_structure(credential, status_list)
    except ValueError as exc:
        checks.append(Check("well-formed", "fail", str(exc)))
        return result  # nothing else can be read reliably
    checks.append(Check("well-formed", "pass", "The document is a well-formed verifiable credential."))

    if profile == "ob" and not status_list:
        checks.append(_check_schema(credential))
    elif status_list:
        checks.append(Check("schema", "skip", "A status list is not an Open Badge; the schema does not apply."))
    else:
        checks.append(Check("schema", "skip", "The Open Badges schema applies to the 'ob' profile only."))

    try:
        canonicalize(credential, limits)
        checks.append(Check("vocabulary", "pass", "Every field is defined by the credential's contexts."))
        vocabulary_ok = True
    except JsonLdError as exc:
        checks.append(Check("vocabulary", "fail", _sentence(exc)))
        vocabulary_ok = False

    proof = single_proof(credential)
    checks.append(_check_proof_options(proof))

    method, controller_doc, key_problem = _resolve_method(proof.get("verificationMethod"), resolve_did)
    if key_problem:
        checks.append(Check("verification method", "fail", key_problem))
    else:
        checks.append(Check("verification method", "pass", f"The signing key {method['id']} was found."))

    if key_problem or not vocabulary_ok:
        checks.append(Check("signature", "skip", "Not checked: the key or the credential's fields could not be read."))
    else:
        try:
            verify_proof(credential, public_key_from_multibase(method["publicKeyMultibase"]), limits)
            checks.append(Check("signature", "pass", "The signature matches the credential's contents."))
        except (ProofError, JsonLdError, ValueError) as exc:
            checks.append(Check("signature", "fail", _sentence(exc)))

    if profile == "ob":
        checks.append(_check_issuer_binding(credential, method, controller_doc, resolve_did))
    else:
        checks.append(Check("issuer key", "skip", "The issuer/key binding is not required by the 'di' profile."))

    checks.extend(check_validity(credential, now))
    if status_list:
        checks.append(Check("status", "skip", "A status list has no status of its own."))
    else:
        checks.append(_check_status(credential, resolve_did, fetch_status, now, profile, limits))
    return result


def _parse(doc: Any, limits: Limits) -> dict[str, Any]:
    if isinstance(doc, bytes | str):
        if len(doc) > limits.max_bytes:  # a cheap early bound; check_limits measures exactly below
            raise ValueError(f"The document is larger than the {limits.max_bytes}-byte limit.")
        try:
            text = doc.decode("utf-8") if isinstance(doc, bytes) else doc
        except UnicodeDecodeError:
            raise ValueError("The document is not UTF-8 text.") from None
        text = text.strip()
        if _JWT.match(text):
            raise ValueError(_jwt_refusal(text))
        try:
            doc = json.loads(text, object_pairs_hook=_no_duplicate_keys)
        except RecursionError:
            raise ValueError(f"The document nests deeper than {limits.max_depth} levels.") from None
        except json.JSONDecodeError as exc:
            raise ValueError(f"The document is not valid JSON ({exc.msg} at line {exc.lineno}).") from None
    if not isinstance(doc, dict):
        raise ValueError("The document is not a JSON object.")
    try:
        check_limits(doc, limits)
    except JsonLdError as exc:
        raise ValueError(_sentence(exc)) from None
    return doc


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # Two parsers could keep different copies of a repeated key: refuse the ambiguity.
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise ValueError(f"The document repeats the field '{key}'.")
        seen[key] = value
    return seen


def _jwt_refusal(token: str) -> str:
    try:
        header_b64 = token.split(".", 1)[0]
        alg = json.loads(base64.urlsafe_b64decode(header_b64 + "=" * (-len(header_b64) % 4))).get("alg")
    except (ValueError, AttributeError):
        alg = None
    if isinstance(alg, str) and alg.lower() == "none":
        detail = "It is an unsigned JWT (alg 'none'): anyone could have written it."
    elif isinstance(alg, str) and alg.upper().startswith("HS"):
        detail = f"It uses {alg}, a shared-secret algorithm: whoever holds the secret can forge it."
    else:
        detail = f"JWT-secured credentials (alg {alg!r}) are not supported."
    return f"{detail} Cadre accepts only credentials with an embedded Data Integrity proof ({CRYPTOSUITE})."


def _types(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _issuer_id(credential: dict[str, Any]) -> Any:
    issuer = credential.get("issuer")
    return issuer.get("id") if isinstance(issuer, dict) else issuer


def _check_structure(credential: dict[str, Any], status_list: bool) -> None:
    context = _types(credential.get("@context"))
    if not context or context[0] != CREDENTIALS_V2:
        raise ValueError(f"The first @context must be {CREDENTIALS_V2} (a VC Data Model 2.0 credential).")
    types = _types(credential.get("type"))
    if "VerifiableCredential" not in types:
        raise ValueError("The document's type does not include VerifiableCredential.")
    if status_list and "BitstringStatusListCredential" not in types:
        raise ValueError("The status list is not a BitstringStatusListCredential.")
    if not isinstance(_issuer_id(credential), str):
        raise ValueError("The credential does not name its issuer.")
    if "credentialSubject" not in credential:
        raise ValueError("The credential has no credentialSubject.")
    if single_proof(credential) is None:
        raise ValueError("The credential must carry exactly one proof; it is unsigned or has several.")


def _check_schema(credential: dict[str, Any]) -> Check:
    # The 1EdTech schema types `proof` as an array; VC 2.0 reads a single proof object as the same
    # one-element set, so such a credential is checked in its array form (nothing else is changed).
    if isinstance(credential.get("proof"), dict):
        credential = dict(credential, proof=[credential["proof"]])
    problems = validate_ob_schema(credential)
    if not {"OpenBadgeCredential", "AchievementCredential"} & set(_types(credential.get("type"))):
        problems.insert(0, "type: it is not an OpenBadgeCredential")
    if problems:
        shown = "; ".join(problems[:3]) + (f" (and {len(problems) - 3} more)" if len(problems) > 3 else "")
        return Check("schema", "fail", f"The credential does not match the Open Badges 3.0 schema: {shown}.")
    return Check("schema", "pass", "The credential matches the Open Badges 3.0 schema.")


def _check_proof_options(proof: dict[str, Any]) -> Check:
    if proof.get("type") != PROOF_TYPE or proof.get("cryptosuite") != CRYPTOSUITE:
        return Check(
            "proof type",
            "fail",
            f"The proof is {proof.get('type')!r}/{proof.get('cryptosuite')!r}; only {PROOF_TYPE} with "
            f"{CRYPTOSUITE} is accepted.",
        )
    if proof.get("proofPurpose") != ASSERTION_METHOD:
        purpose = proof.get("proofPurpose")
        return Check("proof type", "fail", f"The proof's purpose is {purpose!r}, not assertionMethod.")
    return Check("proof type", "pass", f"The proof is a {PROOF_TYPE} using {CRYPTOSUITE} for assertionMethod.")


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _listed(doc: Mapping[str, Any], relation: str, method_id: str) -> bool:
    base = doc.get("id", "")
    for entry in _as_list(doc.get(relation)):
        ref = entry.get("id") if isinstance(entry, dict) else entry
        if ref == method_id or (isinstance(ref, str) and ref.startswith("#") and base + ref == method_id):
            return True
    return False


def _resolve_method(method_id: Any, resolve_did: DidResolver) -> tuple[dict, Mapping, str | None]:
    """(verification method, its controller document, problem or None)."""
    if not isinstance(method_id, str) or "#" not in method_id:
        return {}, {}, "The proof does not name a verification method (a key id with a '#fragment')."
    base = method_id.split("#", 1)[0]
    try:
        controller_doc = resolve_did_key(base) if base.startswith("did:key:") else resolve_did(base)
    except Exception as exc:  # a resolver may fail any way; report it, do not crash
        return {}, {}, f"The document for {base} could not be obtained: {exc}"
    if not isinstance(controller_doc, Mapping) or controller_doc.get("id") != base:
        return {}, {}, f"The document obtained for {base} does not describe {base}."
    for method in _as_list(controller_doc.get("verificationMethod")):
        if not isinstance(method, dict):
            continue
        mid = method.get("id", "")
        if mid == method_id or (mid.startswith("#") and base + mid == method_id):
            break
    else:
        return {}, controller_doc, f"{base} does not publish the key {method_id}."
    method = dict(method, id=method_id)
    if method.get("type") != "Multikey" or not str(method.get("publicKeyMultibase", "")).startswith("z6Mk"):
        return method, controller_doc, f"The key {method_id} is not an Ed25519 Multikey."
    if not _listed(controller_doc, ASSERTION_METHOD, method_id):
        return method, controller_doc, f"{base} does not authorise the key {method_id} to issue (assertionMethod)."
    return method, controller_doc, None


def _check_issuer_binding(credential, method, controller_doc, resolve_did: DidResolver) -> Check:
    issuer = _issuer_id(credential)
    if not method:
        return Check("issuer key", "skip", "Not checked: the signing key could not be found.")
    controller = method.get("controller")
    if controller != issuer:
        return Check(
            "issuer key",
            "fail",
            f"The credential claims to be issued by {issuer}, but it was signed with {method['id']}, "
            f"a key controlled by {controller}.",
        )
    try:
        issuer_doc = controller_doc if controller_doc.get("id") == issuer else resolve_did(issuer)
    except Exception as exc:
        return Check("issuer key", "fail", f"The issuer's DID document could not be obtained: {exc}")
    if not _listed(issuer_doc, ASSERTION_METHOD, method["id"]):
        return Check("issuer key", "fail", f"The issuer {issuer} does not list {method['id']} as a key it issues with.")
    return Check("issuer key", "pass", f"The signing key belongs to the issuer {issuer}.")


def check_validity(credential: dict[str, Any], now: datetime) -> list[Check]:
    """The validFrom / validUntil checks at `now`."""
    checks = []
    for name, field_name in (("valid from", "validFrom"), ("valid until", "validUntil")):
        if field_name not in credential:
            absent = "No start date is given." if field_name == "validFrom" else "The credential does not expire."
            checks.append(Check(name, "pass", absent))
            continue
        try:
            moment = parse_xsd_datetime(credential[field_name])
        except ValueError as exc:
            checks.append(Check(name, "fail", f"{field_name}: {exc}."))
            continue
        when = moment.astimezone(UTC).strftime("%-d %B %Y, %H:%M UTC")
        if field_name == "validFrom" and moment > now:
            checks.append(Check(name, "fail", f"The credential is not valid until {when}."))
        elif field_name == "validUntil" and moment < now:
            checks.append(Check(name, "fail", f"The credential expired on {when}."))
        else:
            label = "Valid from" if field_name == "validFrom" else "Valid until"
            checks.append(Check(name, "pass", f"{label} {when}."))
    return checks


def _check_status(credential, resolve_did, fetch_status, now, profile, limits) -> Check:
    raw = credential.get("credentialStatus")
    if raw is None:
        return Check("status", "skip", "The credential has no status list, so it cannot be revoked.")
    if fetch_status is None:
        return Check("status", "fail", "The credential's revocation status could not be checked (no status source).")
    notes = []
    for raw_entry in _types(raw):
        try:
            entry = statuslist.parse_entry(raw_entry)
        except statuslist.StatusListError as exc:
            return Check("status", "fail", _sentence(exc))
        url = entry.status_list_credential
        try:
            fetched = fetch_status(url)
        except Exception as exc:
            return Check("status", "fail", f"The status list at {url} could not be fetched: {exc}")
        listing = _verify(fetched, resolve_did, None, now, profile, limits, status_list=True)
        if not listing.verified:
            return Check("status", "fail", f"The status list at {url} cannot be trusted: {listing.failures[0].reason}")
        parsed = fetched if isinstance(fetched, dict) else json.loads(fetched)
        if _issuer_id(parsed) != _issuer_id(credential):
            return Check("status", "fail", f"The status list at {url} was not issued by the credential's issuer.")
        try:
            is_set = statuslist.status_bit(entry, parsed)
        except statuslist.StatusListError as exc:
            return Check("status", "fail", _sentence(exc))
        if is_set:
            if entry.status_purpose == "revocation":
                return Check("status", "fail", "The issuer has revoked this credential.")
            # A suspension bit may also be how an issuer marks a revocation for good (Cadre does).
            return Check("status", "fail", "The issuer has suspended this credential (or revoked it for good): its "
                         "status list says it is not currently valid.")
        notes.append("not revoked" if entry.status_purpose == "revocation" else "not suspended")
    return Check("status", "pass", f"The issuer's status list says {' and '.join(notes)}.")


def _sentence(exc: BaseException) -> str:
    text = str(exc).strip()
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")
