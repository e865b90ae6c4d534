"""Data Integrity proofs with the eddsa-rdfc-2022 cryptosuite (W3C vc-di-eddsa), and the key
encodings they use: multibase base58btc, Multikey (ed25519-pub, multicodec 0xed01) and did:key.

The signature covers sha256(canonical proof options) || sha256(canonical document without proof),
so the proof's own settings (who signed, when, for what purpose) are signed along with the claims.
"""

from __future__ import annotations

import copy
import hashlib
from datetime import UTC, datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from api.certificates.jsonld import DEFAULT_LIMITS, DID_V1, MULTIKEY_V1, Limits, canonicalize

PROOF_TYPE = "DataIntegrityProof"
CRYPTOSUITE = "eddsa-rdfc-2022"
ASSERTION_METHOD = "assertionMethod"

ED25519_PUB_PREFIX = b"\xed\x01"  # multicodec ed25519-pub, as an unsigned varint
ED25519_PRIV_PREFIX = b"\x80\x26"  # multicodec ed25519-priv (0x1300), as an unsigned varint

_B58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_B58_INDEX = {ch: i for i, ch in enumerate(_B58_ALPHABET)}
# Every value Cadre decodes (keys, signatures) is under 100 characters; a cap keeps the
# quadratic big-integer arithmetic below cheap on hostile input.
_B58_MAX_CHARS = 256


class ProofError(ValueError):
    """A proof is malformed or does not verify; the message is meant for people."""


def base58btc_encode(data: bytes) -> str:
    zeros = len(data) - len(data.lstrip(b"\0"))
    number = int.from_bytes(data, "big")
    chars = []
    while number:
        number, rem = divmod(number, 58)
        chars.append(_B58_ALPHABET[rem])
    return "1" * zeros + "".join(reversed(chars))


def base58btc_decode(text: str) -> bytes:
    if len(text) > _B58_MAX_CHARS:
        raise ValueError(f"base58 value longer than {_B58_MAX_CHARS} characters")
    number = 0
    for ch in text:
        if ch not in _B58_INDEX:
            raise ValueError(f"{ch!r} is not a base58btc character")
        number = number * 58 + _B58_INDEX[ch]
    zeros = len(text) - len(text.lstrip("1"))
    body = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    return b"\0" * zeros + body


def multibase_encode(data: bytes) -> str:
    """Multibase base58btc: 'z' followed by the base58btc text."""
    return "z" + base58btc_encode(data)


def multibase_decode(text: str) -> bytes:
    if not isinstance(text, str) or not text.startswith("z"):
        raise ValueError("expected a multibase base58btc value starting with 'z'")
    return base58btc_decode(text[1:])


def public_key_to_multibase(public_key: Ed25519PublicKey) -> str:
    """Multikey publicKeyMultibase ('z6Mk…') for an Ed25519 public key."""
    return multibase_encode(ED25519_PUB_PREFIX + public_key.public_bytes(Encoding.Raw, PublicFormat.Raw))


def public_key_from_multibase(text: str) -> Ed25519PublicKey:
    raw = multibase_decode(text)
    if not raw.startswith(ED25519_PUB_PREFIX) or len(raw) != 34:
        raise ValueError("not an Ed25519 Multikey public key (expected multicodec 0xed01 and 32 key bytes)")
    return Ed25519PublicKey.from_public_bytes(raw[2:])


def private_key_from_multibase(text: str) -> Ed25519PrivateKey:
    """An Ed25519 private key from a Multikey secretKeyMultibase (as in the W3C test vectors)."""
    raw = multibase_decode(text)
    if not raw.startswith(ED25519_PRIV_PREFIX) or len(raw) != 34:
        raise ValueError("not an Ed25519 Multikey private key (expected multicodec 0x1300 and 32 key bytes)")
    return Ed25519PrivateKey.from_private_bytes(raw[2:])


def did_key(public_key: Ed25519PublicKey) -> str:
    return "did:key:" + public_key_to_multibase(public_key)


def resolve_did_key(did: str) -> dict[str, Any]:
    """The DID document of an Ed25519 did:key, derived from the DID itself (nothing is fetched)."""
    if not did.startswith("did:key:z6Mk"):
        raise ValueError(f"{did!r} is not an Ed25519 did:key")
    multikey = did.removeprefix("did:key:")
    public_key_from_multibase(multikey)  # validates
    method_id = f"{did}#{multikey}"
    return {
        "@context": [DID_V1, MULTIKEY_V1],
        "id": did,
        "verificationMethod": [
            {"id": method_id, "type": "Multikey", "controller": did, "publicKeyMultibase": multikey}
        ],
        "authentication": [method_id],
        "assertionMethod": [method_id],
        "capabilityDelegation": [method_id],
        "capabilityInvocation": [method_id],
    }


def xsd_datetime(moment: datetime) -> str:
    """An aware datetime as an XML Schema dateTime in UTC, whole seconds, 'Z' suffix."""
    if moment.tzinfo is None:
        raise ValueError("datetimes in credentials must be timezone-aware")
    return moment.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_xsd_datetime(value: Any) -> datetime:
    """Parse a dateTime that carries a time zone (VC 2.0 requires one); ValueError otherwise."""
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not a date-time string")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a valid date-time") from None
    if parsed.tzinfo is None:
        raise ValueError(f"{value!r} has no time zone")
    return parsed


def proof_config(
    document: dict[str, Any],
    verification_method: str,
    created: datetime | str,
    proof_purpose: str = ASSERTION_METHOD,
) -> dict[str, Any]:
    """The proof options that get signed, with the document's @context (vc-di-eddsa §3.3.5)."""
    return {
        "type": PROOF_TYPE,
        "cryptosuite": CRYPTOSUITE,
        "created": created if isinstance(created, str) else xsd_datetime(created),
        "verificationMethod": verification_method,
        "proofPurpose": proof_purpose,
        "@context": document["@context"],
    }


def hash_data(unsecured_document: dict[str, Any], config: dict[str, Any], limits: Limits = DEFAULT_LIMITS) -> bytes:
    """sha256(canonical proof config) || sha256(canonical document), 64 bytes (vc-di-eddsa §3.3.4)."""
    config_hash = hashlib.sha256(canonicalize(config, limits).encode()).digest()
    document_hash = hashlib.sha256(canonicalize(unsecured_document, limits).encode()).digest()
    return config_hash + document_hash


def create_proof(
    document: dict[str, Any],
    private_key: Ed25519PrivateKey,
    verification_method: str,
    created: datetime | str,
    proof_purpose: str = ASSERTION_METHOD,
) -> dict[str, Any]:
    """An eddsa-rdfc-2022 DataIntegrityProof over document (any existing proof is ignored)."""
    unsecured = {k: v for k, v in document.items() if k != "proof"}
    config = proof_config(unsecured, verification_method, created, proof_purpose)
    signature = private_key.sign(hash_data(unsecured, config))
    proof = {k: v for k, v in config.items() if k != "@context"}
    proof["proofValue"] = multibase_encode(signature)
    return proof


def add_proof(
    document: dict[str, Any],
    private_key: Ed25519PrivateKey,
    verification_method: str,
    created: datetime | str,
) -> dict[str, Any]:
    """A copy of document carrying a new proof; the input is left untouched."""
    if "proof" in document:
        raise ProofError("the document already has a proof; sign the unsigned document")
    signed = copy.deepcopy(document)
    signed["proof"] = create_proof(document, private_key, verification_method, created)
    return signed


def single_proof(document: dict[str, Any]) -> dict[str, Any] | None:
    """The document's one proof, whether written as an object or as an array of one (VC 2.0
    allows both; they mean the same set); None when there is no proof or more than one."""
    proof = document.get("proof")
    if isinstance(proof, list) and len(proof) == 1:
        proof = proof[0]
    return proof if isinstance(proof, dict) else None


def verify_proof(document: dict[str, Any], public_key: Ed25519PublicKey, limits: Limits = DEFAULT_LIMITS) -> None:
    """Check the eddsa-rdfc-2022 proof of document against public_key (vc-di-eddsa §3.3.2).

    Raises ProofError saying what is wrong; returns None when the signature is good. Whether the key
    may sign for the issuer is the caller's question (see verify.py). The proof may be an object or
    an array holding exactly one.
    """
    proof = single_proof(document)
    if proof is None:
        raise ProofError("the credential must carry exactly one proof (an object, or an array of one)")
    if proof.get("type") != PROOF_TYPE or proof.get("cryptosuite") != CRYPTOSUITE:
        raise ProofError(
            f"unsupported proof: type {proof.get('type')!r} with cryptosuite {proof.get('cryptosuite')!r}; "
            f"only {PROOF_TYPE} with {CRYPTOSUITE} is accepted"
        )
    try:
        signature = multibase_decode(proof.get("proofValue"))
    except ValueError as exc:
        raise ProofError(f"the proofValue is not a base58btc multibase value: {exc}") from None
    if len(signature) != 64:
        raise ProofError("the proofValue is not a 64-byte Ed25519 signature")
    if "created" in proof:
        try:
            parse_xsd_datetime(proof["created"])
        except ValueError as exc:
            raise ProofError(f"the proof's created date is invalid: {exc}") from None

    unsecured = {k: v for k, v in document.items() if k != "proof"}
    options = {k: v for k, v in proof.items() if k != "proofValue"}
    if "@context" in options:
        # The proof may name its own contexts, but only a prefix of the document's.
        doc_ctx = unsecured.get("@context")
        doc_ctx = doc_ctx if isinstance(doc_ctx, list) else [doc_ctx]
        proof_ctx = options["@context"] if isinstance(options["@context"], list) else [options["@context"]]
        if doc_ctx[: len(proof_ctx)] != proof_ctx:
            raise ProofError("the proof's @context does not match the start of the credential's @context")
        unsecured["@context"] = options["@context"]
    config = dict(options)
    config["@context"] = unsecured.get("@context")
    try:
        public_key.verify(signature, hash_data(unsecured, config, limits))
    except InvalidSignature:
        raise ProofError(
            "the signature does not match: the credential was changed after it was signed, "
            "or it was signed with a different key"
        ) from None
