"""Verification refuses forgeries and stale or withdrawn credentials, each with a readable reason."""

from __future__ import annotations

import base64
import copy
import json
from datetime import timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from api.certificates import keys
from api.certificates.credential import AchievementInfo, Recipient, sign_credential
from api.certificates.dataintegrity import add_proof, did_key
from api.certificates.jsonld import canonicalize
from api.certificates.statuslist import StatusEntry, StatusList, build_status_list_credential
from api.certificates.verify import static_resolver, verify_credential

from .conftest import HOST, ISSUED_AT, NOW, make_credential

LIST_URL = f"https://{HOST}/status/revocation/1"
SUSPENSION_URL = f"https://{HOST}/status/suspension/1"


@pytest.fixture
def sign(keys_dir):
    def _sign(credential, private_key=None, method=None):
        key = keys.current_key(keys_dir)
        return sign_credential(
            credential, private_key or key.private_key, method or key.verification_method(HOST), ISSUED_AT
        )

    return _sign


@pytest.fixture
def signed(issuer, sign):
    return sign(make_credential(issuer))


def failed(result) -> dict[str, str]:
    assert not result.verified
    return {check.name: check.reason for check in result.failures}


def test_genuine_credential_verifies(signed, resolver):
    result = verify_credential(signed, resolver(), now=NOW)
    assert result.verified, result.as_json()
    # JSON text and bytes are accepted too, as received over the wire.
    assert verify_credential(json.dumps(signed), resolver(), now=NOW).verified
    assert verify_credential(json.dumps(signed).encode(), resolver(), now=NOW).verified


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda c: c["credentialSubject"]["identifier"][1].update(identityHash="Mallory"), id="name"),
        pytest.param(lambda c: c.update(validFrom="2020-01-01T00:00:00Z"), id="date"),
        pytest.param(lambda c: c["credentialSubject"]["achievement"].update(name="Doctorate"), id="achievement"),
        pytest.param(lambda c: c["issuer"].update(name="Harvard"), id="issuer-name"),
        pytest.param(lambda c: c["proof"][0].update(created="2030-01-01T00:00:00Z"), id="proof-created"),
    ],
)
def test_any_change_breaks_the_signature(signed, resolver, tamper):
    forged = copy.deepcopy(signed)
    tamper(forged)
    problems = failed(verify_credential(forged, resolver(), now=NOW))
    assert list(problems) == ["signature"]
    assert "changed after it was signed" in problems["signature"]


def test_an_added_undefined_field_is_named(signed, resolver):
    forged = copy.deepcopy(signed)
    forged["credentialSubject"]["honours"] = "First class"
    problems = failed(verify_credential(forged, resolver(), now=NOW))
    assert "'honours' (at credentialSubject.honours)" in problems["vocabulary"]
    assert "could not be signed" in problems["vocabulary"]


def test_signed_with_a_different_key_than_named(issuer, sign, resolver):
    forged = sign(make_credential(issuer), private_key=Ed25519PrivateKey.generate())
    problems = failed(verify_credential(forged, resolver(), now=NOW))
    assert list(problems) == ["signature"]


def test_signed_with_a_key_the_issuer_does_not_publish(issuer, sign, resolver):
    forged = sign(make_credential(issuer), Ed25519PrivateKey.generate(), f"{keys.did_web(HOST)}#key-attacker")
    problems = failed(verify_credential(forged, resolver(), now=NOW))
    assert "does not publish the key did:web:cadre.test#key-attacker" in problems["verification method"]


def test_signed_with_a_did_key_the_issuer_does_not_control(issuer, sign, resolver):
    attacker = Ed25519PrivateKey.generate()
    method = f"{did_key(attacker.public_key())}#{did_key(attacker.public_key()).removeprefix('did:key:')}"
    forged = sign(make_credential(issuer), attacker, method)
    result = verify_credential(forged, resolver(), now=NOW)
    problems = failed(result)
    assert list(problems) == ["issuer key"]  # a valid signature, by the wrong party
    assert "claims to be issued by did:web:cadre.test" in problems["issuer key"]


def test_signed_with_another_sites_genuine_key(issuer, sign, resolver, tmp_path):
    other_dir = tmp_path / "other-site"
    other = keys.create_key(other_dir)
    forged = sign(make_credential(issuer), other.private_key, other.verification_method("evil.test"))
    documents = {
        keys.did_web(HOST): keys.did_document(HOST, keys.load_keys(tmp_path / "keys")),
        keys.did_web("evil.test"): keys.did_document("evil.test", [other]),
    }
    problems = failed(verify_credential(forged, static_resolver(documents), now=NOW))
    assert list(problems) == ["issuer key"]
    assert "controlled by did:web:evil.test" in problems["issuer key"]


def test_expired(issuer, sign, resolver):
    credential = sign(make_credential(issuer, valid_until=ISSUED_AT + timedelta(days=365)))
    assert verify_credential(credential, resolver(), now=NOW).verified
    problems = failed(verify_credential(credential, resolver(), now=ISSUED_AT + timedelta(days=366)))
    assert problems == {"valid until": "The credential expired on 1 March 2026, 09:30 UTC."}


def test_not_yet_valid(signed, resolver):
    problems = failed(verify_credential(signed, resolver(), now=ISSUED_AT - timedelta(minutes=1)))
    assert problems == {"valid from": "The credential is not valid until 1 March 2025, 09:30 UTC."}


@pytest.fixture
def status_lists(keys_dir):
    """Signed revocation and suspension lists with index 7 set; returns (lists by URL, sign_list)."""
    key = keys.current_key(keys_dir)

    def sign_list(url, purpose, set_indexes=(7,)):
        bits = StatusList()
        for index in set_indexes:
            bits.set(index)
        unsigned = build_status_list_credential(
            credential_id=url, issuer=keys.did_web(HOST), status_purpose=purpose, status_list=bits, valid_from=ISSUED_AT
        )
        return add_proof(unsigned, key.private_key, key.verification_method(HOST), ISSUED_AT)

    lists = {LIST_URL: sign_list(LIST_URL, "revocation"), SUSPENSION_URL: sign_list(SUSPENSION_URL, "suspension")}
    return lists, sign_list


def test_status_checked_and_not_revoked(issuer, sign, resolver, status_lists):
    lists, _ = status_lists
    credential = sign(make_credential(issuer, status=StatusEntry(LIST_URL, 8)))
    result = verify_credential(credential, resolver(), fetch_status=lists.__getitem__, now=NOW)
    assert result.verified, result.as_json()
    assert [c.reason for c in result.checks if c.name == "status"] == ["The issuer's status list says not revoked."]


def test_revoked(issuer, sign, resolver, status_lists):
    lists, _ = status_lists
    credential = sign(make_credential(issuer, status=StatusEntry(LIST_URL, 7)))
    problems = failed(verify_credential(credential, resolver(), fetch_status=lists.__getitem__, now=NOW))
    assert problems == {"status": "The issuer has revoked this credential."}


def test_suspended(issuer, sign, resolver, status_lists):
    lists, _ = status_lists
    credential = sign(make_credential(issuer, status=StatusEntry(SUSPENSION_URL, 7, "suspension")))
    problems = failed(verify_credential(credential, resolver(), fetch_status=lists.__getitem__, now=NOW))
    assert problems == {"status": "The issuer has suspended this credential (or revoked it for good): its status "
                                  "list says it is not currently valid."}


def test_tampered_status_list_is_not_trusted(issuer, sign, resolver, status_lists):
    lists, _ = status_lists
    tampered = copy.deepcopy(lists[LIST_URL])
    tampered["credentialSubject"]["encodedList"] = StatusList().encode()  # "un-revoke" everyone
    credential = sign(make_credential(issuer, status=StatusEntry(LIST_URL, 7)))
    problems = failed(verify_credential(credential, resolver(), fetch_status=lambda url: tampered, now=NOW))
    assert problems["status"].startswith(
        f"The status list at {LIST_URL} cannot be trusted: The signature does not match"
    )


def test_status_list_from_someone_else_is_not_trusted(issuer, sign, resolver, status_lists):
    other = Ed25519PrivateKey.generate()
    method = f"{did_key(other.public_key())}#{did_key(other.public_key()).removeprefix('did:key:')}"
    bits = StatusList()
    forged_list = add_proof(
        build_status_list_credential(
            credential_id=LIST_URL,
            issuer=keys.did_web(HOST),
            status_purpose="revocation",
            status_list=bits,
            valid_from=ISSUED_AT,
        ),
        other,
        method,
        ISSUED_AT,
    )
    credential = sign(make_credential(issuer, status=StatusEntry(LIST_URL, 7)))
    problems = failed(verify_credential(credential, resolver(), fetch_status=lambda url: forged_list, now=NOW))
    assert "cannot be trusted" in problems["status"] and "controlled by did:key" in problems["status"]


def test_status_that_cannot_be_checked_is_not_a_pass(issuer, sign, resolver):
    credential = sign(make_credential(issuer, status=StatusEntry(LIST_URL, 7)))
    assert "could not be checked" in failed(verify_credential(credential, resolver(), now=NOW))["status"]

    def unreachable(url):
        raise ConnectionError("connection refused")

    problems = failed(verify_credential(credential, resolver(), fetch_status=unreachable, now=NOW))
    assert problems["status"] == f"The status list at {LIST_URL} could not be fetched: connection refused"


def _jwt(header: dict, payload: dict, signature: bytes = b"") -> str:
    def part(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    return ".".join([part(json.dumps(header).encode()), part(json.dumps(payload).encode()), part(signature)])


@pytest.mark.parametrize(
    "header, expected",
    [
        ({"alg": "none", "typ": "JWT"}, "unsigned JWT (alg 'none')"),
        ({"alg": "HS256", "typ": "JWT"}, "HS256, a shared-secret algorithm"),
        ({"alg": "EdDSA", "typ": "vc+jwt"}, "JWT-secured credentials (alg 'EdDSA') are not supported"),
    ],
)
def test_jwts_are_refused_outright(signed, resolver, header, expected):
    token = _jwt(header, {"vc": signed}, b"" if header["alg"] == "none" else b"x" * 32)
    problems = failed(verify_credential(token, resolver(), now=NOW))
    assert expected in problems["well-formed"]
    assert "embedded Data Integrity proof" in problems["well-formed"]


def test_script_in_a_name_survives_as_plain_text(issuer, sign, resolver):
    script = '<script>alert("pwned")</script> & Ada'
    credential = make_credential(
        issuer,
        recipient=Recipient(email="ada@example.com", name=script, salt="s"),
        achievement=AchievementInfo(f"https://{HOST}/awards/x", script, "desc", "criteria"),
    )
    signed = sign(credential)
    round_tripped = json.loads(json.dumps(signed))
    assert verify_credential(round_tripped, resolver(), now=NOW).verified
    assert round_tripped["credentialSubject"]["identifier"][1]["identityHash"] == script
    assert round_tripped["name"] == script
    assert f'"{script.replace(chr(34), chr(92) + chr(34))}"' in canonicalize(round_tripped)


def test_oversized_input_is_refused_quickly(signed, resolver):
    padded = copy.deepcopy(signed)
    padded["description"] = "x" * (2 * 1024 * 1024)
    problems = failed(verify_credential(json.dumps(padded), resolver(), now=NOW))
    assert problems == {"well-formed": "The document is larger than the 1048576-byte limit."}
    problems = failed(verify_credential(padded, resolver(), now=NOW))
    assert "the limit is 1048576" in problems["well-formed"]


def test_deeply_nested_json_text_is_refused(resolver):
    problems = failed(verify_credential("[" * 100_000 + "]" * 100_000, resolver(), now=NOW))
    assert problems == {"well-formed": "The document nests deeper than 32 levels."}


def test_repeated_keys_are_refused(signed, resolver):
    text = json.dumps(signed)[:-1] + ', "name": "Doctorate"}'
    problems = failed(verify_credential(text, resolver(), now=NOW))
    assert problems == {"well-formed": "The document repeats the field 'name'."}


@pytest.mark.parametrize(
    "change, name, reason",
    [
        (lambda c: c.pop("proof"), "well-formed", "exactly one proof"),
        (lambda c: c.update(proof=c["proof"] * 2), "well-formed", "exactly one proof"),
        (lambda c: c.update(proof=[]), "well-formed", "exactly one proof"),
        (lambda c: c["proof"][0].update(cryptosuite="ecdsa-rdfc-2019"), "proof type", "only DataIntegrityProof"),
        (lambda c: c["proof"][0].update(proofPurpose="authentication"), "proof type", "not assertionMethod"),
        (lambda c: c.update({"@context": c["@context"][::-1]}), "well-formed", "first @context"),
        (lambda c: c.update(validFrom="yesterday"), "valid from", "not a valid date-time"),
    ],
)
def test_structural_problems_are_named(signed, resolver, change, name, reason):
    forged = copy.deepcopy(signed)
    change(forged)
    problems = failed(verify_credential(forged, resolver(), now=NOW))
    assert reason in problems[name]


def test_unresolvable_issuer_is_reported(signed):
    problems = failed(verify_credential(signed, static_resolver({}), now=NOW))
    assert problems["verification method"] == (
        "The document for did:web:cadre.test could not be obtained: no DID document is known for did:web:cadre.test"
    )


def test_result_as_json_is_ready_for_an_api(signed, resolver):
    result = verify_credential(signed, resolver(), now=NOW).as_json()
    assert result["verified"] is True and result["profile"] == "ob"
    assert {"name": "signature", "status": "pass", "reason": "The signature matches the credential's contents."} in (
        result["checks"]
    )


def test_bytes_that_are_not_utf8_are_refused(signed, resolver):
    problems = failed(verify_credential(json.dumps(signed).encode("utf-16"), resolver(), now=NOW))
    assert problems == {"well-formed": "The document is not UTF-8 text."}
