"""Employers checking a certificate: verify pages and API, status changes seen at once, privacy,
lookups by number and surname, rate limits, expiry and renewal."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from api.certificates import service, signing
from api.core.db import utcnow


def test_verify_page_says_valid_in_words(client, issued):
    _, _, cert = issued(name="Ama Owusu")
    r = client.get(f"/verify/{cert.slug}")
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    page = r.text
    assert "<h1 id=\"result\">Valid</h1>" in page and "genuine and current" in page
    assert "Ama Owusu" in page and "Accredited Customer Experience Professional (ACXP)" in page
    assert cert.number in page and "Checked " in page


def test_revocation_shows_at_once_on_the_page_the_api_and_the_status_list(client, browser, issued, admin, login, db):
    _, _, cert = issued()
    assert client.get(f"/api/v1/credentials/{cert.slug}/verification").json()["status"] == "valid"
    login("registrar@example.com")
    browser.post_form("/admin/certificates", f"/admin/certificates/{cert.slug}/status", action="revoke",
                      reason="Assessment found to be plagiarised")
    client.cookies.clear()
    page = client.get(f"/verify/{cert.slug}").text
    assert "<h1 id=\"result\">Revoked</h1>" in page and "Assessment found to be plagiarised" in page
    v = client.get(f"/api/v1/credentials/{cert.slug}/verification").json()
    assert v["verified"] is False and v["status"] == "revoked"
    assert any(c["name"] == "status" and c["status"] == "fail" and "revoked" in c["reason"] for c in v["checks"])
    # The published list itself says so, signed.
    lst = client.get(f"/status/{cert.revocation_list}").json()
    from api.certificates.statuslist import StatusList

    assert StatusList.decode(lst["credentialSubject"]["encodedList"]).get(cert.revocation_index)
    # Revoked is final.
    r = browser.post_form("/admin/certificates", f"/admin/certificates/{cert.slug}/status", action="reinstate",
                          reason="oops")
    assert r.status_code in (303, 401, 403)


def test_suspend_and_reinstate(db, issued, admin, client):
    _, _, cert = issued()
    service.change_status(db, cert, "suspend", "Instalment overdue", admin)
    db.commit()
    assert "<h1 id=\"result\">Suspended</h1>" in client.get(f"/verify/{cert.slug}").text
    v = client.get(f"/api/v1/credentials/{cert.slug}/verification").json()
    assert v["verified"] is False and v["status"] == "suspended"
    assert any(c["name"] == "standing" and "suspended" in c["reason"] and "Instalment overdue" in c["reason"]
               for c in v["checks"])
    service.change_status(db, cert, "reinstate", "Paid", admin)
    db.commit()
    assert "<h1 id=\"result\">Valid</h1>" in client.get(f"/verify/{cert.slug}").text
    assert client.get(f"/api/v1/credentials/{cert.slug}/verification").json()["verified"] is True


def test_after_reinstatement_the_note_stays_in_the_trail_not_in_the_standing(db, issued, admin, client):
    _, _, cert = issued()
    service.change_status(db, cert, "suspend", "Instalment overdue", admin)
    service.change_status(db, cert, "reinstate", "Paid in full at the Dubai office", admin)
    db.commit()
    v = client.get(f"/api/v1/credentials/{cert.slug}/verification").json()
    assert v["status"] == "valid" and v["verified"] is True and v["status_reason"] is None
    assert "Paid in full" not in json.dumps(v)
    assert "Paid in full" not in client.get(f"/verify/{cert.slug}").text
    last = service.events(db, cert)[-1]
    assert (last.kind, last.reason) == ("reinstate", "Paid in full at the Dubai office")


def test_suspension_and_revocation_set_the_one_bit_credentials_point_at(db, issued, admin, client):
    """Outside verifiers read only credentialStatus: its bit is set while suspended and once revoked."""
    from api.certificates.statuslist import StatusList

    _, _, cert = issued()
    entry = cert.credential["credentialStatus"]
    assert entry["statusPurpose"] == "suspension"
    assert entry["statusListCredential"] == f"http://testserver/status/{cert.suspension_list}"
    assert entry["statusListIndex"] == str(cert.suspension_index)

    def bit() -> bool:
        lst = client.get(entry["statusListCredential"]).json()
        assert lst["credentialSubject"]["statusPurpose"] == "suspension"
        return StatusList.decode(lst["credentialSubject"]["encodedList"]).get(cert.suspension_index)

    assert bit() is False
    service.change_status(db, cert, "suspend", "Instalment overdue", admin)
    db.commit()
    assert bit() is True
    service.change_status(db, cert, "reinstate", "Paid", admin)
    db.commit()
    assert bit() is False
    service.change_status(db, cert, "revoke", "Plagiarised", admin)
    db.commit()
    assert bit() is True  # and it stays set: a revoked certificate cannot be reinstated


def test_expired_certificate(db, issued, client):
    _, _, cert = issued(now=utcnow() - timedelta(days=3 * 365))
    assert service.effective_status(cert) == "expired"
    assert "<h1 id=\"result\">Expired</h1>" in client.get(f"/verify/{cert.slug}").text
    assert "expired" in json.dumps(client.get(f"/api/v1/credentials/{cert.slug}/verification").json()).lower()


def test_private_certificate_shows_only_status_and_its_json_is_a_plain_404(client, browser, issued, login):
    _, _, cert = issued(name="Private Person", email="private@example.com")
    login("private@example.com")
    browser.post_form(f"/certificates/{cert.slug}", f"/certificates/{cert.slug}/privacy", private="yes")
    client.cookies.clear()
    page = client.get(f"/verify/{cert.slug}").text
    assert "Valid" in page and "Private Person" not in page and cert.number not in page
    unknown = client.get("/api/v1/credentials/not-a-real-slug-at-all")
    private = client.get(f"/api/v1/credentials/{cert.slug}")
    assert unknown.status_code == private.status_code == 404 and unknown.json() == private.json()


def test_lookup_by_number_and_surname(client, browser, issued):
    _, _, cert = issued(name="Mary-Jane van der Berg")
    r = browser.post_form("/verify", number=cert.number.lower(), surname="BERG")
    assert r.status_code == 303 and r.headers["location"] == f"/verify/{cert.slug}"
    wrong_name = browser.post_form("/verify", number=cert.number, surname="Smith")
    wrong_number = browser.post_form("/verify", number="ACXP-0000-0000-0000", surname="Berg")
    assert wrong_name.status_code == wrong_number.status_code == 404
    assert "No certificate matches" in wrong_name.text and "No certificate matches" in wrong_number.text


def test_lookup_forgives_misread_characters_but_keeps_the_programme_code(client, browser, issued):
    _, _, cert = issued("coim", name="Ifeoma Okoli")
    assert cert.number.startswith("COIM-")
    typed = cert.number.lower().replace("0", "o").replace("1", "l").replace("-", " - ")
    r = browser.post_form("/verify", number=typed, surname="Okoli")
    assert r.status_code == 303 and r.headers["location"] == f"/verify/{cert.slug}"


def test_lookups_are_rate_limited(client, issued):
    _, _, cert = issued()
    codes = [client.get(f"/api/v1/credentials/guess-{i}").status_code for i in range(60)]
    assert set(codes) == {404}
    r = client.get(f"/api/v1/credentials/{cert.slug}")
    assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
    assert "Too many certificate look-ups" in r.json()["error"]["message"]


def test_uploaded_credential_is_verified_and_tampering_is_caught(client, issued):
    _, _, cert = issued(name="Lebo Dube")
    good = client.post("/api/v1/verify", content=json.dumps(cert.credential)).json()
    assert good["verified"] is True and good["status"] == "valid"
    tampered = json.loads(json.dumps(cert.credential))
    next(i for i in tampered["credentialSubject"]["identifier"] if i["identityType"] == "name")["identityHash"] = "Eve"
    bad = client.post("/api/v1/verify", content=json.dumps(tampered)).json()
    assert bad["verified"] is False
    assert any(c["name"] == "signature" and c["status"] == "fail" for c in bad["checks"])
    assert client.post("/api/v1/verify", content=b"x" * (300 * 1024)).status_code == 413
    junk = client.post("/api/v1/verify", content=b"not json").json()
    assert junk["verified"] is False and junk["checks"][0]["reason"]


def test_script_in_a_name_is_shown_as_text(client, db, completed):
    user, programme, enrolment = completed(name="Bobby Tables")
    cert = service.issue(db, user=user, programme=programme, holder_name="Bobby \"Tables\" & 'Sons'",
                         enrolment=enrolment)
    db.commit()
    page = client.get(f"/verify/{cert.slug}").text
    assert "Bobby &#34;Tables&#34; &amp; &#39;Sons&#39;" in page
    assert signing.verify(db, cert.credential).verified


def test_did_document_and_key_rotation_keep_old_credentials_verifying(client, db, issued, tmp_path, monkeypatch):
    from api.certificates import keys as keystore

    _, _, old = issued(email="old@example.com")
    doc = client.get("/.well-known/did.json").json()
    assert doc["id"] == "did:web:testserver"
    assert old.credential["proof"][0]["verificationMethod"] in doc["assertionMethod"]
    before = keystore.current_key()
    try:
        keystore.rotate_key()
        _, _, new = issued(email="new@example.com")
        doc = client.get("/.well-known/did.json").json()
        assert len(doc["assertionMethod"]) >= 2
        assert new.credential["proof"][0]["verificationMethod"] != old.credential["proof"][0]["verificationMethod"]
        assert signing.verify(db, old.credential).verified and signing.verify(db, new.credential).verified
        jwks = client.get("/.well-known/jwks.json").json()
        assert {k["kid"] for k in jwks["keys"]} >= {old.credential["proof"][0]["verificationMethod"]}
    finally:
        assert before.status == "current"


def test_expiry_reminders_90_and_30_days_once_each(db, issued, mailbox):
    _, _, cert = issued(email="soon@example.com")
    cert.expires_at = utcnow() + timedelta(days=80)
    db.add(cert)
    db.commit()
    assert service.send_expiry_reminders(db) == 1
    db.commit()
    assert service.send_expiry_reminders(db) == 0
    db.commit()
    [msg] = mailbox.to("soon@example.com")[-1:]
    assert "lapses on" in msg["Subject"] and f"/certificates/{cert.slug}" in mailbox.body(msg)
    assert service.send_expiry_reminders(db, now=utcnow() + timedelta(days=55)) == 1  # the 30-day one


def test_renewal_issues_a_new_certificate_and_the_old_one_says_superseded(client, browser, db, issued, admin,
                                                                         login, mailbox):
    user, programme, old = issued(email="renew@example.com")
    old.expires_at = utcnow() + timedelta(days=60)  # inside the renewal window
    db.add(old)
    db.commit()
    login("renew@example.com")
    r = browser.post_form(f"/certificates/{old.slug}", f"/certificates/{old.slug}/renew",
                          evidence="Led three outside-in redesigns this year, coached by an ACX Mentor.")
    assert r.status_code == 303
    client.cookies.clear()
    login("registrar@example.com")
    [(req, _c, _p)] = service.pending_renewals(db)
    browser.post_form("/admin/certificates", f"/admin/renewals/{req.id}", decision="approve", note="Good evidence")
    db.refresh(old)
    assert old.status == "superseded"
    new = db.get(type(old), old.superseded_by_id)
    assert new.generation == 2 and new.number != old.number
    page = client.get(f"/verify/{old.slug}").text
    assert "Superseded" in page and new.number in page
    assert service.effective_status(new) == "valid"


@pytest.mark.parametrize("typing", ["spaces", "no separators", "lower case"])
def test_lookup_accepts_the_number_as_people_type_it(client, browser, issued, typing):
    _, _, cert = issued(name="Chidi Okafor")
    typed = {"spaces": cert.number.replace("-", " "), "no separators": cert.number.replace("-", ""),
             "lower case": cert.number.lower()}[typing]
    r = browser.post_form("/verify", number=typed, surname="Okafor")
    assert r.status_code == 303 and r.headers["location"] == f"/verify/{cert.slug}"


def test_the_full_name_in_the_surname_field_matches_its_last_word(client, browser, issued):
    _, _, cert = issued(name="Chidi Okafor")
    r = browser.post_form("/verify", number=cert.number, surname="Chidi Okafor")
    assert r.status_code == 303
    assert browser.post_form("/verify", number=cert.number, surname="Okafor Chidi").status_code == 404


def test_a_code_with_its_own_hyphen_typed_without_separators(client, browser, issued):
    _, _, cert = issued("acx-mentor", name="Ama Mensah")
    assert cert.number.startswith("ACX-MENTOR-")
    r = browser.post_form("/verify", number=cert.number.replace("-", "").lower(), surname="mensah")
    assert r.status_code == 303 and r.headers["location"] == f"/verify/{cert.slug}"


def test_ask_to_renew_is_offered_only_inside_the_renewal_window(client, db, issued, login):
    user, _, cert = issued(email="window@example.com")
    login("window@example.com")
    page = client.get(f"/certificates/{cert.slug}").text
    assert "Ask to renew" not in page
    opens = service.renewal_opens_at(cert)
    assert f"Renewal opens on {opens.strftime('%-d %B %Y')}" in page
    cert.expires_at = utcnow() + timedelta(days=60)  # inside the last 90 days
    db.add(cert)
    db.commit()
    assert "Ask to renew" in client.get(f"/certificates/{cert.slug}").text


def test_asking_to_renew_before_the_window_opens_is_refused_with_the_date_it_opens(client, browser, db, issued,
                                                                                  login):
    user, programme, cert = issued(email="early@example.com")
    cert.expires_at = utcnow() + timedelta(days=200)
    db.add(cert)
    db.commit()
    login("early@example.com")
    page = client.get(f"/certificates/{cert.slug}").text
    assert "Ask to renew" not in page  # the page offers nothing yet
    # A POST anyway (an old tab, a crafted request): the service refuses it, saying when it opens.
    r = browser.post_form(f"/certificates/{cert.slug}", f"/certificates/{cert.slug}/renew",
                          evidence="Led three outside-in redesigns this year, coached by an ACX Mentor.")
    opens = (cert.expires_at - timedelta(days=90)).strftime("%-d %B %Y")
    assert r.status_code == 409
    assert f"Renewal opens on {opens}" in r.text
    assert service.pending_renewal_for(db, cert) is None
    with pytest.raises(service.RenewalNotOpen):
        service.request_renewal(db, cert, user, "Led three outside-in redesigns this year.")
    # Inside the window it is taken.
    later = cert.expires_at - timedelta(days=89)
    assert service.request_renewal(db, cert, user, "Led three outside-in redesigns this year.", now=later)


def test_thin_renewal_evidence_is_refused_beside_the_field(client, browser, db, issued, login):
    from tests.core.test_form_messages import check

    _user, _programme, cert = issued(email="thin@example.com")
    cert.expires_at = utcnow() + timedelta(days=30)
    db.add(cert)
    db.commit()
    login("thin@example.com")
    r = browser.post_form(f"/certificates/{cert.slug}", f"/certificates/{cert.slug}/renew", evidence="Did stuff.")
    assert r.status_code == 422
    check(r.text, {"evidence": "at least 20 characters"})
    assert "Did stuff." in r.text  # what was typed is kept


@pytest.mark.parametrize("surname", ["Okafor.", "Okafor, Chidi", " okafor ", "“Okafor”", "OKAFOR;"])
def test_the_surname_as_people_type_it(client, browser, issued, surname):
    _, _, cert = issued(name="Chidi Okafor")
    r = browser.post_form("/verify", number=cert.number + ".", surname=surname)
    assert r.status_code == 303 and r.headers["location"] == f"/verify/{cert.slug}"


def test_a_hyphenated_or_apostrophe_surname_keeps_its_marks(client, browser, issued):
    _, _, cert = issued(name="Siobhán O'Neil-Byrne")
    assert browser.post_form("/verify", number=cert.number, surname="o'neil-byrne").status_code == 303
    assert browser.post_form("/verify", number=cert.number, surname="Byrne").status_code == 404


def test_a_pasted_verify_address_in_the_number_field_opens_that_page(client, browser, issued):
    _, _, cert = issued(name="Chidi Okafor")
    r = browser.post_form("/verify", number=f"https://cadre.example/verify/{cert.slug} ", surname="")
    assert r.status_code == 303 and r.headers["location"] == f"/verify/{cert.slug}"
    assert "Chidi Okafor" in client.get(r.headers["location"]).text
