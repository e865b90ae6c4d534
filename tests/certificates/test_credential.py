"""Building Open Badges 3.0 credentials: shape, schema, identity hashing, signing across rotation."""

from __future__ import annotations

import hashlib

import pytest

from api.certificates import keys
from api.certificates.credential import (
    AchievementInfo,
    Recipient,
    email_matches,
    identity_hash,
    sign_credential,
)
from api.certificates.jsonld import UndefinedFieldError
from api.certificates.schema import validate_ob_schema
from api.certificates.statuslist import StatusEntry
from api.certificates.verify import verify_credential

from .conftest import HOST, ISSUED_AT, NOW, make_credential


def test_credential_shape(issuer):
    credential = make_credential(issuer, status=StatusEntry("https://cadre.test/status/1", 7))
    assert credential["@context"] == [
        "https://www.w3.org/ns/credentials/v2",
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
    ]
    assert credential["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert credential["issuer"] == {
        "id": "did:web:cadre.test",
        "type": ["Profile"],
        "name": "Cadre Academy",
        "url": "https://cadre.test/",
    }
    assert credential["validFrom"] == "2025-03-01T09:30:00Z"
    assert credential["name"] == "Certificate in Data Analysis"
    subject = credential["credentialSubject"]
    assert subject["type"] == ["AchievementSubject"]
    email_id, name_id = subject["identifier"]
    assert email_id == {
        "type": "IdentityObject",
        "identityHash": "sha256$" + hashlib.sha256(b"ada@example.compepper-1").hexdigest(),
        "identityType": "emailAddress",
        "hashed": True,
        "salt": "pepper-1",
    }
    assert name_id == {
        "type": "IdentityObject",
        "identityHash": "Ada Lovelace",
        "identityType": "name",
        "hashed": False,
    }
    assert subject["achievement"]["achievementType"] == "Certificate"
    assert subject["achievement"]["criteria"] == {"narrative": "Pass all six modules and the final assessed project."}
    assert credential["credentialStatus"]["statusListIndex"] == "7"


def test_built_credential_matches_the_open_badges_schema(issuer):
    credential = make_credential(issuer, status=StatusEntry("https://cadre.test/status/1", 7), valid_until=NOW)
    assert validate_ob_schema(credential) == []


def test_schema_catches_a_missing_required_field(issuer):
    credential = make_credential(issuer)
    del credential["credentialSubject"]["achievement"]["criteria"]
    assert validate_ob_schema(credential) == ["credentialSubject.achievement: 'criteria' is a required property"]


def test_identity_hash_matches_the_spec_example_and_email_matching():
    # Example from the OB 3.0 IdentityHash definition: 'a@example.com' salted with 'Kosher'.
    assert identity_hash("a@example.com", "Kosher") == (
        "sha256$b5809d8a92f8858436d7e6b87c12ebc0ae1eac4baecc2c0b913aee2c922ef399"
    )
    identity = {
        "identityType": "emailAddress",
        "hashed": True,
        "salt": "Kosher",
        "identityHash": identity_hash("a@example.com", "Kosher"),
    }
    assert email_matches(identity, " A@Example.com ")
    assert not email_matches(identity, "b@example.com")


def test_each_credential_gets_its_own_salt_unless_given(issuer):
    first = make_credential(issuer, recipient=Recipient(email="ada@example.com"))
    second = make_credential(issuer, recipient=Recipient(email="ada@example.com"))
    assert first["credentialSubject"]["identifier"][0]["salt"] != second["credentialSubject"]["identifier"][0]["salt"]
    assert len(first["credentialSubject"]["identifier"]) == 1  # no name given, none published


def test_bad_inputs_are_refused(issuer):
    with pytest.raises(ValueError, match="credential id"):
        make_credential(issuer, credential_id="1234")
    with pytest.raises(ValueError, match="valid_until"):
        make_credential(issuer, valid_until=ISSUED_AT)
    with pytest.raises(ValueError, match="achievement type"):
        make_credential(issuer, achievement=AchievementInfo("https://cadre.test/a", "A", "B", "C", "Diplomaish"))


def test_signing_refuses_an_undefined_field_instead_of_leaving_it_unsigned(issuer, keys_dir):
    credential = make_credential(issuer)
    credential["credentialSubject"]["grade"] = "Distinction"
    key = keys.current_key(keys_dir)
    with pytest.raises(UndefinedFieldError, match="grade"):
        sign_credential(credential, key.private_key, key.verification_method(HOST), ISSUED_AT)


def test_sign_then_verify_survives_key_rotation(issuer, keys_dir, resolver):
    old_key = keys.current_key(keys_dir)
    before = sign_credential(make_credential(issuer), old_key.private_key, old_key.verification_method(HOST), ISSUED_AT)
    assert before["proof"][0]["verificationMethod"] == f"did:web:cadre.test#{old_key.key_id}"
    assert verify_credential(before, resolver(), now=NOW).verified

    new_key = keys.rotate_key(keys_dir)
    after = sign_credential(make_credential(issuer), new_key.private_key, new_key.verification_method(HOST), NOW)

    for credential in (before, after):  # the retired key is still published, so old credentials verify
        result = verify_credential(credential, resolver(), now=NOW)
        assert result.verified, result.as_json()
