"""The 1EdTech AchievementCredential JSON schema: Cadre's credentials have the shape its newest
revision requires (proof an array, validFrom, one credentialStatus object), and a VC 2.0 revision
dropped into schemas/ is used exactly as published."""

from __future__ import annotations

import json

import pytest

from api.certificates import schema, signing
from api.certificates.verify import static_resolver, verify_credential


@pytest.fixture
def vc2_revision(tmp_path, monkeypatch):
    """The bundled schema as its VC 2.0 revision has it: validFrom required, proof an array only."""
    published = json.loads(schema.SCHEMA_PATH.read_text(encoding="utf-8"))
    published["required"] = ["validFrom" if n == "issuanceDate" else n for n in published["required"]]
    published["properties"]["validFrom"] = {"type": "string", "format": "date-time"}
    published["properties"]["proof"] = {"type": "array", "items": {"$ref": "#/$defs/Proof"}}
    path = tmp_path / "ob_v3p0_achievementcredential_schema.json"
    path.write_text(json.dumps(published), encoding="utf-8")
    for cached in (schema._schema, schema._ob_validator, schema.schema_digest):
        cached.cache_clear()
    monkeypatch.setattr(schema, "SCHEMA_PATH", path)
    yield published
    for cached in (schema._schema, schema._ob_validator, schema.schema_digest):
        cached.cache_clear()


def test_issued_credentials_have_the_shape_the_newest_schema_requires(issued):
    _, _, cert = issued()
    cred = cert.credential
    assert isinstance(cred["proof"], list) and len(cred["proof"]) == 1
    assert cred["validFrom"] and "issuanceDate" not in cred
    assert isinstance(cred["credentialStatus"], dict)  # OB 3.0: credentialStatus [0..1]
    assert schema.validate_ob_schema(cred) == []


def test_a_vc2_revision_is_used_unpatched_and_issued_credentials_validate(db, issued, vc2_revision):
    assert schema.adjusted_for_vc2() is False
    _, _, cert = issued()
    assert schema.validate_ob_schema(cert.credential) == []
    # A single proof written as a bare object (older Cadre credentials, other issuers) does not
    # match that schema as such; Cadre's verifier reads it as the one-element array VC 2.0 says it is.
    bare = dict(cert.credential, proof=cert.credential["proof"][0])
    assert any(p.startswith("proof:") for p in schema.validate_ob_schema(bare))
    resolver = static_resolver({signing.issuer_did(): signing.did_document()})
    result = verify_credential(bare, resolver)
    assert {c.name: c.status for c in result.checks}["schema"] == "pass"


def test_the_bundled_schema_is_the_file_sources_md_names():
    import hashlib

    sources = (schema.SCHEMA_PATH.parent / "SOURCES.md").read_text(encoding="utf-8")
    assert hashlib.sha256(schema.SCHEMA_PATH.read_bytes()).hexdigest() in sources
