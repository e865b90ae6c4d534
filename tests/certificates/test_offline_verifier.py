"""`cadre verify FILE` on a machine with no database: only the credential and the issuer's DID document."""

from __future__ import annotations

import json

from api.certificates import signing
from api.cli import main


def test_cadre_verify_with_the_did_document_and_no_network(tmp_path, issued, capsys):
    _, _, cert = issued(name="Offline Holder")
    cred = tmp_path / "credential.json"
    cred.write_text(json.dumps(cert.credential))
    did = tmp_path / "did.json"
    did.write_text(json.dumps(signing.did_document()))
    assert main(["verify", str(cred), "--did-document", str(did), "--offline"]) == 2
    out = capsys.readouterr().out
    assert "PASS  signature" in out and "VERIFIED, but the status was not checked." in out

    tampered = json.loads(cred.read_text())
    tampered["validFrom"] = "2020-01-01T00:00:00Z"
    cred.write_text(json.dumps(tampered))
    assert main(["verify", str(cred), "--did-document", str(did), "--offline"]) == 1
    out = capsys.readouterr().out
    assert "FAIL  signature" in out and "NOT VERIFIED." in out


def test_cadre_verify_refuses_a_key_the_issuer_does_not_control(tmp_path, issued, capsys):
    from api.certificates import keys as keystore

    _, _, cert = issued()
    other = keystore.create_key(tmp_path / "other-keys")
    doc = keystore.did_document("testserver", [other])  # the issuer's document, but listing a different key
    did = tmp_path / "did.json"
    did.write_text(json.dumps(doc))
    cred = tmp_path / "c.json"
    cred.write_text(json.dumps(cert.credential))
    assert main(["verify", str(cred), "--did-document", str(did), "--offline"]) == 1
    assert "NOT VERIFIED." in capsys.readouterr().out


def test_cadre_verify_explains_an_unreadable_file(tmp_path, capsys):
    assert main(["verify", str(tmp_path / "missing.json"), "--offline"]) == 1
    assert "Cannot read" in capsys.readouterr().err


def test_cadre_verify_accepts_one_proof_as_an_array_or_as_an_object(tmp_path, issued, capsys):
    """VC 2.0 allows both forms of a single proof; Cadre issues the array, older copies have the object."""
    _, _, cert = issued(name="Both Forms")
    did = tmp_path / "did.json"
    did.write_text(json.dumps(signing.did_document()))
    [proof] = cert.credential["proof"]
    for form, value in (("array", [proof]), ("object", proof)):
        cred = tmp_path / f"{form}.json"
        cred.write_text(json.dumps(dict(cert.credential, proof=value)))
        assert main(["verify", str(cred), "--did-document", str(did), "--offline"]) == 2, form
        out = capsys.readouterr().out
        assert "PASS  signature" in out and "PASS  schema" in out and "VERIFIED" in out, (form, out)
    # Two proofs are still refused (Cadre checks exactly one), with a reason.
    cred = tmp_path / "two.json"
    cred.write_text(json.dumps(dict(cert.credential, proof=[proof, proof])))
    assert main(["verify", str(cred), "--did-document", str(did), "--offline"]) == 1
    assert "exactly one proof" in capsys.readouterr().out
