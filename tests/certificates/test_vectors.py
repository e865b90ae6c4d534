"""The published test vectors reproduce byte for byte: canonical forms, hashes and signatures."""

from __future__ import annotations

import copy
import hashlib
from datetime import UTC, datetime

import pytest

from api.certificates.dataintegrity import (
    add_proof,
    hash_data,
    multibase_decode,
    private_key_from_multibase,
    proof_config,
    public_key_from_multibase,
    public_key_to_multibase,
    verify_proof,
)
from api.certificates.jsonld import DID_V1, MULTIKEY_V1, canonicalize
from api.certificates.verify import static_resolver, verify_credential

from .conftest import load_json

NOW = datetime(2025, 6, 1, tzinfo=UTC)


def w3c(vectors):
    return vectors / "w3c-eddsa-rdfc-2022"


def test_w3c_canonical_document_and_proof_config(vectors):
    unsigned = load_json(w3c(vectors) / "unsigned.json")
    config = load_json(w3c(vectors) / "proofConfigDataInt.json")
    assert canonicalize(unsigned) == (w3c(vectors) / "canonDocDataInt.txt").read_text()
    assert canonicalize(config) == (w3c(vectors) / "proofCanonDataInt.txt").read_text()


def test_w3c_hashes(vectors):
    unsigned = load_json(w3c(vectors) / "unsigned.json")
    config = load_json(w3c(vectors) / "proofConfigDataInt.json")
    doc_hash = hashlib.sha256(canonicalize(unsigned).encode()).hexdigest()
    proof_hash = hashlib.sha256(canonicalize(config).encode()).hexdigest()
    assert doc_hash == (w3c(vectors) / "docHashDataInt.txt").read_text().strip()
    assert proof_hash == (w3c(vectors) / "proofHashDataInt.txt").read_text().strip()
    assert hash_data(unsigned, config).hex() == (w3c(vectors) / "combinedHashDataInt.txt").read_text().strip()


def test_w3c_signature_is_reproduced_byte_for_byte(vectors):
    pair = load_json(w3c(vectors) / "keyPair.json")
    private_key = private_key_from_multibase(pair["privateKeyMultibase"])
    assert public_key_to_multibase(private_key.public_key()) == pair["publicKeyMultibase"]
    unsigned = load_json(w3c(vectors) / "unsigned.json")
    config = load_json(w3c(vectors) / "proofConfigDataInt.json")
    # Our proof configuration is the published one.
    assert proof_config(unsigned, config["verificationMethod"], config["created"]) == config

    signed = add_proof(unsigned, private_key, config["verificationMethod"], config["created"])

    assert signed["proof"]["proofValue"] == (w3c(vectors) / "sigBTC58DataInt.txt").read_text().strip()
    assert (
        multibase_decode(signed["proof"]["proofValue"]).hex()
        == (w3c(vectors) / "sigHexDataInt.txt").read_text().strip()
    )
    assert signed == load_json(w3c(vectors) / "signedDataInt.json")


def test_w3c_signed_document_verifies_under_di_profile(vectors):
    signed = load_json(w3c(vectors) / "signedDataInt.json")
    result = verify_credential(signed, static_resolver({}), now=NOW, profile="di")
    assert result.verified, result.as_json()
    assert {c.name: c.status for c in result.checks}["signature"] == "pass"


def test_w3c_signed_document_fails_under_ob_profile_because_issuer_does_not_control_the_key(vectors):
    signed = load_json(w3c(vectors) / "signedDataInt.json")
    result = verify_credential(signed, static_resolver({}), now=NOW, profile="ob")
    assert not result.verified
    by_name = {c.name: c for c in result.checks}
    assert by_name["signature"].status == "pass"  # the cryptography is fine ...
    assert by_name["issuer key"].status == "fail"  # ... but the issuer is not the key's controller
    assert "https://vc.example/issuers/5678" in by_name["issuer key"].reason
    assert "controlled by did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2" in by_name["issuer key"].reason


def ims(vectors):
    return vectors / "1edtech-ob-v3p0"


def ims_controller(signed: dict, public_key_multibase: str) -> dict:
    """The controller document binding the vector's key to its issuer (not part of the vector)."""
    issuer = signed["issuer"]["id"]
    method = signed["proof"]["verificationMethod"]
    return {
        "@context": [DID_V1, MULTIKEY_V1],
        "id": issuer,
        "verificationMethod": [
            {"id": method, "type": "Multikey", "controller": issuer, "publicKeyMultibase": public_key_multibase}
        ],
        "assertionMethod": [method],
    }


def test_1edtech_canonical_forms_and_hashes(vectors):
    signed = load_json(ims(vectors) / "signed-credential.json")
    pair = load_json(ims(vectors) / "keypair.json")
    unsigned = {k: v for k, v in signed.items() if k != "proof"}
    config = {k: v for k, v in signed["proof"].items() if k != "proofValue"} | {"@context": signed["@context"]}

    document_canon = canonicalize(unsigned)
    proof_canon = canonicalize(config)

    assert document_canon == (ims(vectors) / "document-canon.txt").read_text()
    assert proof_canon == (ims(vectors) / "proof-canon.txt").read_text()
    assert hashlib.sha256(document_canon.encode()).hexdigest() == pair["documentHashHex"]
    assert hashlib.sha256(proof_canon.encode()).hexdigest() == pair["proofHashHex"]
    assert multibase_decode(signed["proof"]["proofValue"]).hex() == pair["signatureHex"]
    public_key = public_key_from_multibase(pair["publicKeyMultibase"])
    assert public_key_to_multibase(public_key) == pair["publicKeyMultibase"]
    assert bytes.fromhex(pair["publicKeyHex"]) == multibase_decode(pair["publicKeyMultibase"])[2:]
    verify_proof(signed, public_key)


def test_1edtech_credential_verifies_as_open_badge(vectors):
    signed = load_json(ims(vectors) / "signed-credential.json")
    pair = load_json(ims(vectors) / "keypair.json")
    resolver = static_resolver({signed["issuer"]["id"]: ims_controller(signed, pair["publicKeyMultibase"])})

    result = verify_credential(signed, resolver, now=NOW, profile="ob")

    assert result.verified, result.as_json()
    assert {c.name: c.status for c in result.checks} == {
        "well-formed": "pass",
        "schema": "pass",
        "vocabulary": "pass",
        "proof type": "pass",
        "verification method": "pass",
        "signature": "pass",
        "issuer key": "pass",
        "valid from": "pass",
        "valid until": "pass",
        "status": "skip",
    }


def test_1edtech_credential_with_changed_achievement_fails(vectors):
    signed = load_json(ims(vectors) / "signed-credential.json")
    pair = load_json(ims(vectors) / "keypair.json")
    resolver = static_resolver({signed["issuer"]["id"]: ims_controller(signed, pair["publicKeyMultibase"])})
    forged = copy.deepcopy(signed)
    forged["credentialSubject"]["achievement"]["name"] = "Leadership"

    result = verify_credential(forged, resolver, now=NOW, profile="ob")

    assert [c.name for c in result.failures] == ["signature"]
    assert "changed after it was signed" in result.failures[0].reason


def test_bundled_vectors_match_the_shared_originals():
    from tests.certificates.conftest import SHARED_VECTORS, VECTORS

    if not SHARED_VECTORS.is_dir():
        pytest.skip("shared/ob3-test-vectors is not beside the repo; the bundled copy is used as is")
    for original in SHARED_VECTORS.rglob("*"):
        if original.is_file():
            copy = VECTORS / original.relative_to(SHARED_VECTORS)
            assert copy.read_bytes() == original.read_bytes(), f"{copy} differs from {original}"
