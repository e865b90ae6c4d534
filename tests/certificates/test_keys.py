"""Issuer keys on disk, rotation, and what the site publishes about them."""

from __future__ import annotations

import base64
import json
import os
import stat

import pytest

from api.certificates import keys
from api.certificates.jsonld import DID_V1, MULTIKEY_V1
from api.core.config import Settings


def test_settings_have_a_keys_dir_overridable_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("CADRE_KEYS_DIR", str(tmp_path / "elsewhere"))
    assert Settings().keys_dir == tmp_path / "elsewhere"


def test_did_web_percent_encodes_the_port():
    assert keys.did_web("127.0.0.1:8000") == "did:web:127.0.0.1%3A8000"
    assert keys.did_web("cadre.example") == "did:web:cadre.example"
    assert keys.did_web(keys.host_from_base_url("http://127.0.0.1:8000")) == "did:web:127.0.0.1%3A8000"
    assert keys.did_web_document_url("did:web:127.0.0.1%3A8000") == "https://127.0.0.1:8000/.well-known/did.json"
    for bad in ["https://cadre.example", "cadre.example/path", ""]:
        with pytest.raises(ValueError):
            keys.did_web(bad)


def test_create_key_writes_private_files_readable_only_by_the_owner(tmp_path):
    directory = tmp_path / "keys"
    key = keys.create_key(directory)
    assert key.status == "current"
    assert key.key_id.startswith("key-")
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    assert stat.S_IMODE((directory / f"{key.key_id}.pem").stat().st_mode) == 0o600
    assert stat.S_IMODE((directory / keys.INDEX_FILE).stat().st_mode) == 0o600
    assert keys.current_key(directory).public_key_multibase == key.public_key_multibase


def test_create_key_refuses_when_a_current_key_exists(keys_dir):
    with pytest.raises(keys.KeyStoreError, match="rotate_key"):
        keys.create_key(keys_dir)


def test_no_key_yet_says_what_to_do(tmp_path):
    with pytest.raises(keys.KeyStoreError, match="create_key"):
        keys.current_key(tmp_path / "empty")


def test_a_key_file_others_can_read_is_refused(keys_dir):
    key = keys.current_key(keys_dir)
    os.chmod(keys_dir / f"{key.key_id}.pem", 0o644)
    with pytest.raises(keys.KeyStoreError, match="chmod 600"):
        keys.load_keys(keys_dir)


def test_rotation_retires_the_old_key_but_keeps_publishing_it(keys_dir):
    first = keys.current_key(keys_dir)
    second = keys.rotate_key(keys_dir)
    third = keys.rotate_key(keys_dir)

    published = keys.load_keys(keys_dir)
    assert [k.key_id for k in published] == [third.key_id, second.key_id, first.key_id]
    assert [k.status for k in published] == ["current", "retired", "retired"]
    assert all(k.retired_at for k in published[1:])
    assert keys.current_key(keys_dir).key_id == third.key_id
    index = json.loads((keys_dir / keys.INDEX_FILE).read_text())
    assert sum(e["status"] == "current" for e in index["keys"]) == 1


def test_did_document_lists_current_and_retired_keys_for_assertion(keys_dir):
    old = keys.current_key(keys_dir)
    new = keys.rotate_key(keys_dir)
    document = keys.did_document("127.0.0.1:8000", keys.load_keys(keys_dir))

    did = "did:web:127.0.0.1%3A8000"
    assert document["@context"] == [DID_V1, MULTIKEY_V1]
    assert document["id"] == did
    assert document["assertionMethod"] == [f"{did}#{new.key_id}", f"{did}#{old.key_id}"]
    for method, key in zip(document["verificationMethod"], [new, old], strict=True):
        assert method == {
            "id": f"{did}#{key.key_id}",
            "type": "Multikey",
            "controller": did,
            "publicKeyMultibase": key.public_key_multibase,
        }


def test_jwks_carries_the_same_public_keys(keys_dir):
    keys.rotate_key(keys_dir)
    published = keys.load_keys(keys_dir)
    jwks = keys.jwks("cadre.test", published)
    assert [jwk["kid"] for jwk in jwks["keys"]] == [k.verification_method("cadre.test") for k in published]
    for jwk, key in zip(jwks["keys"], published, strict=True):
        assert (jwk["kty"], jwk["crv"]) == ("OKP", "Ed25519")
        assert "=" not in jwk["x"] and "d" not in jwk  # public part only, unpadded base64url
        raw = base64.urlsafe_b64decode(jwk["x"] + "=")
        assert raw == bytes.fromhex(key.public_key.public_bytes_raw().hex())
