"""Key encodings and proof handling of the eddsa-rdfc-2022 cryptosuite."""

from __future__ import annotations

import os

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from api.certificates.dataintegrity import (
    ProofError,
    add_proof,
    base58btc_decode,
    base58btc_encode,
    did_key,
    parse_xsd_datetime,
    public_key_from_multibase,
    public_key_to_multibase,
    resolve_did_key,
    verify_proof,
    xsd_datetime,
)

from .conftest import ISSUED_AT, make_credential


@pytest.mark.parametrize("data", [b"", b"\0", b"\0\0\x01", b"hello world", os.urandom(64)])
def test_base58btc_round_trips(data):
    assert base58btc_decode(base58btc_encode(data)) == data


def test_base58btc_known_value():
    # The base58 alphabet test vector from the multibase specification.
    assert base58btc_encode(b"Hello World!") == "2NEpo7TZRRrLZSi2U"


def test_base58btc_refuses_bad_characters_and_huge_input():
    with pytest.raises(ValueError, match="base58btc character"):
        base58btc_decode("0OIl")
    with pytest.raises(ValueError, match="longer than"):
        base58btc_decode("z" * 10_000)


def test_multikey_public_key_round_trip_and_prefix():
    public_key = Ed25519PrivateKey.generate().public_key()
    encoded = public_key_to_multibase(public_key)
    assert encoded.startswith("z6Mk")
    assert public_key_from_multibase(encoded) == public_key


def test_did_key_resolves_locally_to_a_multikey_document():
    public_key = Ed25519PrivateKey.generate().public_key()
    did = did_key(public_key)
    document = resolve_did_key(did)
    (method,) = document["verificationMethod"]
    assert method["id"] == f"{did}#{did.removeprefix('did:key:')}"
    assert method["controller"] == did
    assert document["assertionMethod"] == [method["id"]]
    with pytest.raises(ValueError):
        resolve_did_key("did:key:zQ3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYBme")  # secp256k1, not Ed25519


def test_datetimes_are_utc_whole_seconds_and_need_a_time_zone():
    assert xsd_datetime(ISSUED_AT.replace(microsecond=123456)) == "2025-03-01T09:30:00Z"
    assert parse_xsd_datetime("2025-03-01T10:30:00+01:00") == ISSUED_AT
    with pytest.raises(ValueError, match="time zone"):
        parse_xsd_datetime("2025-03-01T09:30:00")


def test_proof_round_trip_and_every_proof_field_is_signed(issuer):
    private_key = Ed25519PrivateKey.generate()
    signed = add_proof(make_credential(issuer), private_key, "did:web:cadre.test#key-1", ISSUED_AT)
    verify_proof(signed, private_key.public_key())

    for field, value in [("created", "2030-01-01T00:00:00Z"), ("verificationMethod", "did:web:cadre.test#key-2")]:
        forged = dict(signed, proof=dict(signed["proof"], **{field: value}))
        with pytest.raises(ProofError, match="signature does not match"):
            verify_proof(forged, private_key.public_key())


def test_signing_twice_is_refused(issuer):
    private_key = Ed25519PrivateKey.generate()
    signed = add_proof(make_credential(issuer), private_key, "did:web:cadre.test#key-1", ISSUED_AT)
    with pytest.raises(ProofError, match="already has a proof"):
        add_proof(signed, private_key, "did:web:cadre.test#key-1", ISSUED_AT)


def test_malformed_proof_values_are_reported(issuer):
    private_key = Ed25519PrivateKey.generate()
    signed = add_proof(make_credential(issuer), private_key, "did:web:cadre.test#key-1", ISSUED_AT)
    for value, message in [("uAAAA", "multibase"), ("z2", "64-byte")]:
        with pytest.raises(ProofError, match=message):
            verify_proof(dict(signed, proof=dict(signed["proof"], proofValue=value)), private_key.public_key())
