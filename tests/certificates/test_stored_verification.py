"""Verification results are stored, not recomputed: a credential's signature is verified when it is
issued, and a verify page re-checks only what can change (status, dates) unless the credential or
the key it names has changed."""

from __future__ import annotations

import json

import pytest

from api.certificates import dataintegrity, jsonld, service, signing, stored, verify
from api.certificates.models import Certificate


@pytest.fixture
def signature_work(monkeypatch):
    """Counts signature verifications and JSON-LD canonicalisations, wherever they are called from."""
    calls = {"verify_proof": 0, "canonicalize": 0}

    def counting(name, real):
        def wrapper(*args, **kwargs):
            calls[name] += 1
            return real(*args, **kwargs)
        return wrapper

    monkeypatch.setattr(verify, "verify_proof", counting("verify_proof", dataintegrity.verify_proof))
    for module in (verify, dataintegrity):
        monkeypatch.setattr(module, "canonicalize", counting("canonicalize", jsonld.canonicalize))
    return calls


def test_issuing_records_the_checks_and_views_do_no_signature_work(client, issued, signature_work):
    _, _, cert = issued(name="Ama Owusu")
    assert signature_work["verify_proof"] == 1  # once, when it was issued
    record = cert.verification
    assert record["digest"] == stored.digest(cert.credential)
    assert record["method"] == cert.credential["proof"][0]["verificationMethod"]
    assert {c["name"]: c["status"] for c in record["checks"]}["signature"] == "pass"

    before = dict(signature_work)
    for _ in range(3):
        page = client.get(f"/verify/{cert.slug}").text
        assert '<h1 id="result">Valid</h1>' in page and "The signature matches the credential" in page
        api = client.get(f"/api/v1/credentials/{cert.slug}/verification").json()
        assert api["verified"] is True
        assert [c["name"] for c in api["checks"]] == [
            "well-formed", "schema", "vocabulary", "proof type", "verification method", "signature", "issuer key",
            "valid from", "valid until", "status", "standing"]
    assert signature_work == before  # no signature checked, nothing canonicalised


def test_status_changes_show_without_reverifying(client, db, issued, admin, signature_work):
    _, _, cert = issued()
    before = dict(signature_work)
    service.change_status(db, cert, "suspend", "Instalment overdue", admin)
    db.commit()
    api = client.get(f"/api/v1/credentials/{cert.slug}/verification").json()
    status = next(c for c in api["checks"] if c["name"] == "status")
    assert api["verified"] is False and status["status"] == "fail" and "suspended" in status["reason"]
    service.change_status(db, cert, "revoke", "Plagiarised", admin)
    db.commit()
    status = next(c for c in client.get(f"/api/v1/credentials/{cert.slug}/verification").json()["checks"]
                  if c["name"] == "status")
    assert status["status"] == "fail" and "revoked" in status["reason"]
    assert signature_work == before


def test_an_edited_credential_is_verified_again_and_fails(client, db, issued, signature_work):
    _, _, cert = issued()
    forged = json.loads(json.dumps(cert.credential))
    forged["credentialSubject"]["achievement"]["name"] = "Doctorate in Everything"
    db.get(Certificate, cert.id).credential = forged  # someone edits the row behind Cadre's back
    db.commit()
    before = signature_work["verify_proof"]
    api = client.get(f"/api/v1/credentials/{cert.slug}/verification").json()
    assert signature_work["verify_proof"] == before + 1
    assert api["verified"] is False
    assert any(c["name"] == "signature" and c["status"] == "fail" for c in api["checks"])


def test_a_key_no_longer_published_is_noticed(client, db, issued, monkeypatch, signature_work):
    _, _, cert = issued()
    published = signing.did_document()
    method = cert.credential["proof"][0]["verificationMethod"]
    retired = dict(published, assertionMethod=[m for m in published["assertionMethod"] if m != method],
                   verificationMethod=[m for m in published["verificationMethod"] if m["id"] != method])
    monkeypatch.setattr(signing, "did_document", lambda: retired)
    before = signature_work["verify_proof"]
    api = client.get(f"/api/v1/credentials/{cert.slug}/verification").json()
    assert api["verified"] is False
    assert any(c["name"] == "verification method" and c["status"] == "fail" and "does not publish" in c["reason"]
               for c in api["checks"])
    assert signature_work["verify_proof"] == before  # the key is gone: there is no signature to check


def test_a_certificate_issued_before_results_were_stored_records_them_on_first_view(client, db, issued,
                                                                                    signature_work):
    _, _, cert = issued()
    row = db.get(Certificate, cert.id)
    row.verification = None
    db.commit()
    before = signature_work["verify_proof"]
    assert client.get(f"/verify/{cert.slug}").status_code == 200
    assert signature_work["verify_proof"] == before + 1
    db.refresh(row)
    assert row.verification and row.verification["digest"] == stored.digest(row.credential)
    client.get(f"/verify/{cert.slug}")
    assert signature_work["verify_proof"] == before + 1


def test_uploads_are_still_verified_in_full(client, issued, signature_work):
    _, _, cert = issued()
    before = signature_work["verify_proof"]
    for _ in range(2):
        assert client.post("/api/v1/verify", content=json.dumps(cert.credential)).json()["verified"] is True
    assert signature_work["verify_proof"] == before + 4  # the credential and its status list, each time


def test_refresh_after_a_key_change_reverifies_only_what_changed(db, issued, monkeypatch, signature_work):
    _, _, one = issued(email="one@example.com")
    _, _, two = issued(email="two@example.com")
    before = signature_work["verify_proof"]
    assert stored.refresh_all(db) == 0 and signature_work["verify_proof"] == before  # nothing changed
    published = signing.did_document()
    monkeypatch.setattr(signing, "did_document", lambda: dict(published, assertionMethod=[], verificationMethod=[]))
    assert stored.refresh_all(db) >= 2  # e.g. a key withdrawn from the DID document
    for cert in (one, two):
        db.refresh(cert)
        assert {c["name"]: c["status"] for c in cert.verification["checks"]}["verification method"] == "fail"


def test_cadre_keys_rotate_rechecks_stored_results(db, issued, monkeypatch, capsys, signature_work):
    from contextlib import nullcontext

    from api import cli

    _, _, cert = issued()
    monkeypatch.setattr(cli, "_session", lambda: nullcontext(db))
    before = signature_work["verify_proof"]
    assert cli.main(["keys", "rotate"]) == 0
    out = capsys.readouterr().out
    assert "Stored verification results checked against the published keys; 0 verified again." in out
    assert signature_work["verify_proof"] == before  # the old key stays published: nothing to redo
    db.refresh(cert)
    assert stored.check(db, cert).verified
