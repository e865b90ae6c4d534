"""Issuing: only after the holder confirms the name, once, with a random number and a signed
Open Badges 3.0 credential that verifies."""

from __future__ import annotations

import re

import pytest

from api.certificates import service, signing
from api.certificates.schema import validate_ob_schema
from api.core.errors import Conflict, Invalid


def test_completed_learner_confirms_name_and_gets_a_certificate(client, browser, completed, login, mailbox, db):
    user, programme, _ = completed("acxp", name="Thandi Mokoena", email="thandi@example.com")
    login("thandi@example.com")
    page = client.get("/certificates").text
    assert "Your ACXP certificate is ready" in page and 'value="Thandi Mokoena"' in page
    r = browser.post_form("/certificates", "/certificates/issue/acxp", holder_name="Thandi  N. Mokoena")
    assert r.status_code == 422 and "Tick the box" in r.text  # not confirmed: nothing issued
    assert service.mine(db, user) == []
    r = browser.post_form("/certificates", "/certificates/issue/acxp", holder_name="Thandi  N. Mokoena", confirm="yes")
    assert r.status_code == 303
    [(cert, _p)] = service.mine(db, user)
    assert cert.holder_name == "Thandi N. Mokoena"
    assert re.fullmatch(r"ACXP-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}", cert.number)
    assert cert.expires_at.year == cert.issued_at.year + 2  # ACXP is current for 24 months
    detail = client.get(r.headers["location"]).text
    assert cert.number in detail and "Download the PDF" in detail
    [msg] = mailbox.to("thandi@example.com")
    assert f"/verify/{cert.slug}" in mailbox.body(msg) and cert.number in mailbox.body(msg)
    # Nothing left to issue, and a second attempt is refused.
    assert "is ready" not in client.get("/certificates").text
    r = browser.post_form("/certificates", "/certificates/issue/acxp", holder_name="X", confirm="yes")
    assert r.status_code == 303 and "no ACXP certificate waiting" in client.get("/certificates").text


def test_the_credential_is_a_signed_open_badge_that_verifies(db, issued):
    user, programme, cert = issued("acxs", name="José Álvarez-Núñez")
    cred = cert.credential
    assert cred["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert cred["issuer"]["id"] == signing.issuer_did() == "did:web:testserver"
    assert cred["proof"][0]["cryptosuite"] == "eddsa-rdfc-2022"
    ids = cred["credentialSubject"]["identifier"]
    assert any(i["identityType"] == "name" and i["identityHash"] == "José Álvarez-Núñez" for i in ids)
    email_id = next(i for i in ids if i["identityType"] == "emailAddress")
    assert user.email not in str(cred) and email_id["hashed"] is True
    assert cred["credentialSubject"]["achievement"]["name"].endswith("(ACXS)")
    assert validate_ob_schema(cred) == []
    result = signing.verify(db, cred)
    assert result.verified, result.failures


def test_name_must_be_a_name(db, completed):
    user, programme, enrolment = completed()
    for bad in ("", "   ", "<script>alert(1)</script>", "a\x00b"):
        with pytest.raises(Invalid):
            service.issue(db, user=user, programme=programme, holder_name=bad, enrolment=enrolment)


def test_issuing_twice_is_refused(db, issued):
    user, programme, cert = issued()
    with pytest.raises(Conflict):
        service.issue(db, user=user, programme=programme, holder_name="Again")


def test_numbers_and_slugs_are_random(db, issued):
    certs = [issued(email=f"r{i}@example.com")[2] for i in range(5)]
    assert len({c.number for c in certs}) == 5 and len({c.slug for c in certs}) == 5
    assert len({c.revocation_index for c in certs}) == 5
    assert all(len(c.slug) >= 16 for c in certs)


def test_admin_issues_by_hand_with_a_reason(client, browser, db, admin, login, make_user):
    holder = make_user("byhand@example.com", name="Pat Byhand")
    login("registrar@example.com")
    r = browser.post_form("/admin/certificates", "/admin/certificates/issue", email="byhand@example.com",
                          programme="cpp", holder_name="", reason="")
    assert r.status_code == 422
    from tests.core.test_form_messages import check

    check(r.text, {"reason": "Give a reason"})
    r = browser.post_form("/admin/certificates", "/admin/certificates/issue", email="nobody@example.com",
                          programme="cpp", holder_name="", reason="")
    check(r.text, {"email": "No account uses nobody@example.com", "reason": "Give a reason"})
    assert service.mine(db, holder) == []
    browser.post_form("/admin/certificates", "/admin/certificates/issue", email="byhand@example.com",
                      programme="cpp", holder_name="", reason="Accredited at the Dubai classroom course")
    [(cert, _)] = service.mine(db, holder)
    assert cert.holder_name == "Pat Byhand" and cert.issue_reason == "Accredited at the Dubai classroom course"


def test_learner_cannot_reach_the_admin_certificate_pages(client, make_user, login, issued):
    make_user("nosy@example.com")
    _, _, cert = issued()
    login("nosy@example.com")
    assert client.get("/admin/certificates").status_code == 403
    # Nor someone else's certificate page, PDF or JSON: the same 404 as an unknown one.
    for path in (f"/certificates/{cert.slug}", f"/certificates/{cert.slug}/certificate.pdf",
                 f"/certificates/{cert.slug}/credential.json"):
        assert client.get(path).status_code == 404


def test_pdf_and_linkedin(client, issued, login):
    user, programme, cert = issued(email="pdf@example.com")
    login("pdf@example.com")
    r = client.get(f"/certificates/{cert.slug}/certificate.pdf")
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    assert r.content.startswith(b"%PDF") and len(r.content) > 5000
    assert f"/Title ({programme.code} certificate {cert.number})".encode() in r.content
    unescaped = r.content.replace(b"\\(", b"(").replace(b"\\)", b")")  # PDF strings escape parentheses
    assert f"/Subject ({cert.holder_name}: {programme.title} ({programme.code}))".encode() in unescaped
    assert f"/Keywords (http://testserver/verify/{cert.slug})".encode() in r.content
    assert b"/Subtype /Image" in r.content  # the QR code
    assert f"{cert.number}.pdf" in r.headers["content-disposition"]
    page = client.get(f"/certificates/{cert.slug}").text
    m = re.search(r'href="(https://www\.linkedin\.com/profile/add\?[^"]+)"', page)
    link = m.group(1).replace("&amp;", "&")
    assert f"issueYear={cert.issued_at.year}" in link and f"issueMonth={cert.issued_at.month}" in link
    assert f"expirationYear={cert.expires_at.year}" in link and f"certId={cert.number}" in link
