"""Invoices and receipts as PDF: the buyer's optional details at checkout, what the invoice says (read
back with poppler's pdftotext), who may download it, its number (given once, one after another per
seller) and a credit note for each refund. The page is rendered to an image: nothing off the paper."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
from PIL import Image
from sqlmodel import select

from api.accounts.models import Role
from api.core.config import get_settings
from api.payments import invoices, service
from api.payments.models import Invoice, Order


def _tools() -> tuple[str, str]:
    pdftoppm, pdftotext = shutil.which("pdftoppm"), shutil.which("pdftotext")
    if not pdftoppm or not pdftotext:
        pytest.fail("pdftoppm and pdftotext are needed to check the invoice PDF: apt-get install poppler-utils")
    return pdftoppm, pdftotext


def _text(tmp_path, body: bytes) -> str:
    _, pdftotext = _tools()
    path = tmp_path / "invoice.pdf"
    path.write_bytes(body)
    return subprocess.run([pdftotext, str(path), "-"], check=True, capture_output=True, text=True).stdout


def _order(db, user) -> Order:
    return db.exec(select(Order).where(Order.user_id == user.id).order_by(Order.id.desc())).first()


def _buy(browser, offer="full", code="special50", **buyer):
    r = browser.post_form(f"/checkout/acxs?offer={offer}&code={code}", "/checkout/acxs", offer=offer, code=code,
                          **buyer)
    assert r.status_code == 303, r.text
    browser.post_form(r.headers["location"], action="pay")
    return r.headers["location"]


def test_checkout_asks_for_invoice_details_optionally_and_says_plainly_what_is_wrong(client, browser, learner,
                                                                                     special50, db, mailbox):
    page = client.get("/checkout/acxs?offer=full").text
    for name in ("buyer_name", "buyer_company", "buyer_vat"):
        assert f'name="{name}"' in page
    assert "Invoice details" in page and "(optional)" in page

    r = browser.post_form("/checkout/acxs?offer=full", "/checkout/acxs", offer="full", code="",
                          buyer_name="Ada Okafor", buyer_company="Northgate Building Society", buyer_vat="12-34")
    assert r.status_code == 422
    assert _order(db, learner) is None  # nothing opened
    field = r.text.split('id="f-buyer_vat-error"', 1)
    assert len(field) == 2 and "Enter the VAT number with its country code" in field[1][:200]
    # The message sits in the VAT field's own block, the input points at it, the summary links to it.
    block = r.text.split('<div class="field has-error">', 1)[1].split("</div>", 1)[0]
    assert 'for="f-buyer_vat"' in block and 'aria-describedby="f-buyer_vat-hint f-buyer_vat-error"' in block
    assert '<a href="#f-buyer_vat">Enter the VAT number' in r.text
    assert 'value="Northgate Building Society"' in r.text  # what was typed is kept

    _buy(browser, buyer_name="Ada Okafor", buyer_company="Northgate Building Society", buyer_vat="gb 123.456-789")
    order = _order(db, learner)
    assert f"/billing/{order.public_id}/invoice.pdf" in mailbox.body(mailbox.to(learner.email)[-1])  # the receipt
    assert (order.buyer_name, order.buyer_company, order.buyer_vat) == (
        "Ada Okafor", "Northgate Building Society", "GB123456789")


def test_the_invoice_shows_seller_buyer_lines_discount_vat_instalments_and_credit_notes(
        client, browser, learner, special50, db, tmp_path, make_user, login):
    settings = get_settings()
    offline = _buy(browser, offer="instalments", buyer_company="Northgate Building Society",
                   buyer_vat="GB123456789")
    browser.post_form(offline, action="pay_next")  # 2 of 4 paid
    order = _order(db, learner)
    billing = client.get("/billing").text
    assert f'href="/billing/{order.public_id}/invoice.pdf"' in billing

    r = client.get(f"/billing/{order.public_id}/invoice.pdf")
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    invoice = db.exec(select(Invoice).where(Invoice.order_id == order.id)).one()
    assert re.fullmatch(r"CAD-\d{6}", invoice.reference)
    assert f"invoice-{invoice.reference}.pdf" in r.headers["content-disposition"]
    text = _text(tmp_path, r.content)
    flat = re.sub(r"\s+", " ", text)
    for expected in (settings.seller_legal_name, "1 Example Street", "London EC1A 1AA",
                     f"VAT number: {settings.seller_vat_number}",  # the seller's
                     learner.full_name, "Northgate Building Society", "VAT number: GB123456789", learner.email,
                     f"Invoice number: {invoice.reference}", f"Order: {order.public_id}",
                     "Accredited Customer Experience Specialist (ACXS)", "£860", "Discount (code SPECIAL50)", "−£430",
                     "Total including VAT", "£430",
                     "VAT at 20% included in the total", "£71.67",  # 430 × 20 / 120
                     "Payments: 4 instalments", "Paid: 2 of 4", "£215", "Still to pay: 2 of 4",
                     "SPECIMEN"):  # the development example seller says so
        assert expected in flat, expected

    # A refund: the provider confirms it, a credit note is numbered and shown.
    service.refund(db, order, amount=5000, by=None, reason="Goodwill")
    db.commit()
    [note] = db.exec(select(Invoice).where(Invoice.order_id == order.id, Invoice.series == "CN")).all()
    assert re.fullmatch(r"CAD-CN-\d{6}", note.reference) and note.amount == 5000
    flat = re.sub(r"\s+", " ", _text(tmp_path, client.get(f"/billing/{order.public_id}/invoice.pdf").content))
    assert f"Credit note {note.reference}" in flat and "−£50" in flat and "Paid after refunds" in flat
    assert "£165" in flat  # 215 paid − 50 refunded
    # The same number every time it is downloaded.
    assert db.exec(select(Invoice).where(Invoice.order_id == order.id, Invoice.series == "INV")).one().id == invoice.id


def test_only_the_buyer_and_administrators_may_download_it(client, browser, learner, special50, db, make_user,
                                                          login):
    _buy(browser)
    order = _order(db, learner)
    url = f"/billing/{order.public_id}/invoice.pdf"
    assert client.get(url).status_code == 200
    login(make_user().email)  # another learner: as if there were none
    stranger = client.get(url)
    assert stranger.status_code == 404 and "There is no invoice" in stranger.text
    assert client.get("/billing/ord_nosuchorder/invoice.pdf").status_code == 404
    login(make_user(roles={Role.admin}).email)
    assert client.get(url).status_code == 200
    assert f'href="/billing/{order.public_id}/invoice.pdf"' in client.get("/admin/orders").text
    client.cookies.clear()
    anonymous = client.get(url, follow_redirects=False)
    assert anonymous.status_code in (303, 401) and anonymous.status_code != 200


def test_an_order_with_nothing_paid_has_no_invoice(client, browser, learner, db):
    r = browser.post_form("/checkout/acxs?offer=full", "/checkout/acxs", offer="full", code="")
    assert r.status_code == 303
    order = _order(db, learner)
    assert order.status == "pending"
    assert client.get(f"/billing/{order.public_id}/invoice.pdf").status_code == 404
    assert f"/billing/{order.public_id}/invoice.pdf" not in client.get("/billing").text


def test_numbers_run_one_after_another_per_seller_and_are_given_once(client, browser, special50, db, make_user,
                                                                     login, monkeypatch):
    numbers = []
    for _ in range(3):
        user = make_user()
        login(user.email)
        _buy(browser)
        order = _order(db, user)
        first = invoices.invoice_for(db, order)
        assert invoices.invoice_for(db, order).id == first.id  # given once
        numbers.append(first.number)
    assert numbers == [numbers[0], numbers[0] + 1, numbers[0] + 2]
    # Another seller (another prefix) numbers its own invoices from 1.
    monkeypatch.setattr(get_settings(), "invoice_prefix", "ZZT")
    user = make_user()
    login(user.email)
    _buy(browser)
    other = db.exec(select(Invoice).where(Invoice.order_id == _order(db, user).id)).one()
    assert (other.seller, other.number, other.reference) == ("ZZT", 1, "ZZT-000001")


@pytest.mark.parametrize("vat, ok", [("GB123456789", True), ("gb 123 4567 89", True), ("DE-123.456.789", True),
                                     ("FRXX999999999", True), ("123456789", False), ("GB1", False),
                                     ("GB12345678901234567", False), ("not a vat", False), ("IE1234567T", True),
                                     ("GBGD001", True), ("NL123456789B01", True)])
def test_the_vat_number_is_checked_loosely(vat, ok):
    buyer = invoices.read_buyer("", "", vat)
    assert ("buyer_vat" not in buyer.errors) is ok


def test_the_page_stays_on_the_paper_with_a_long_company_name(client, browser, learner, special50, db, tmp_path):
    pdftoppm, _ = _tools()
    company = " ".join(["Wolfgang Wilhelmina Wojciechowska-Wainwright Holdings"] * 4)[:200]
    _buy(browser, offer="instalments", buyer_company=company, buyer_name="Maria-Fernanda de los Ángeles Castillo")
    order = _order(db, learner)
    path = tmp_path / "invoice.pdf"
    path.write_bytes(client.get(f"/billing/{order.public_id}/invoice.pdf").content)
    subprocess.run([pdftoppm, "-r", "50", "-png", "-singlefile", str(path), str(tmp_path / "page")], check=True)
    page = Image.open(tmp_path / "page.png").convert("L")
    width, height = page.size
    margin = round(12 / 25.4 * 50)  # the text is set 18 mm in: nothing reaches 12 mm from an edge
    dark = [(x, y) for y in range(height) for x in [*range(margin), *range(width - margin, width)]
            if page.getpixel((x, y)) < 128]
    assert dark == [], f"ink in the margins at {dark[:5]}"
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True).stdout
    assert re.search(r"Pages:\s+1\b", info)
    text = re.sub(r"\s+", "", _text(tmp_path, path.read_bytes()))
    assert re.sub(r"\s+", "", company) in text and "Castillo" in text


def test_the_api_checkout_takes_the_same_invoice_details_and_prints_them(client, browser, learner, special50, db,
                                                                        tmp_path):
    r = client.post("/api/v1/payments/checkout", json={
        "programme": "acxs", "offer": "full", "code": "special50", "buyer_name": "  Ada   Okafor ",
        "buyer_company": "Northgate Building Society", "buyer_vat": "gb 123.456-789"})
    assert r.status_code == 201, r.text
    browser.post_form(r.json()["checkout_url"], action="pay")
    order = _order(db, learner)
    db.refresh(order)
    assert order.status == "paid"
    # Stored exactly as the checkout page stores them (spaces collapsed, the VAT number compacted).
    assert (order.buyer_name, order.buyer_company, order.buyer_vat) == (
        "Ada Okafor", "Northgate Building Society", "GB123456789")
    flat = re.sub(r"\s+", " ", _text(tmp_path, client.get(f"/billing/{order.public_id}/invoice.pdf").content))
    for expected in ("Billed to Ada Okafor", "Northgate Building Society", "VAT number: GB123456789", learner.email):
        assert expected in flat, expected


@pytest.mark.parametrize("field, value, words", [
    ("buyer_vat", "12-34", "Enter the VAT number with its country code"),
    ("buyer_company", "Northgate " * 25, "The company name must be 200 characters or fewer."),
    ("buyer_name", "Ada \u202eOkafor", "The name for the invoice cannot contain the invisible direction-changing"),
])
def test_the_api_checkout_refuses_an_invoice_detail_it_cannot_use_naming_the_field(client, learner, special50, db,
                                                                                   field, value, words):
    r = client.post("/api/v1/payments/checkout", json={"programme": "acxs", "offer": "full", field: value})
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert error["code"] == "invalid" and error["message"].startswith(f"{field}: {words}")
    assert [f["field"] for f in error["fields"]] == [field]
    assert _order(db, learner) is None  # nothing opened, nothing written


def test_the_invoice_details_are_documented_in_the_api_reference(client):
    spec = client.get("/openapi.json").json()
    ref = spec["paths"]["/api/v1/payments/checkout"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    props = spec["components"]["schemas"][ref["$ref"].rsplit("/", 1)[1]]["properties"]
    assert {"buyer_name", "buyer_company", "buyer_vat"} <= set(props)
    assert "country code" in props["buyer_vat"]["description"] and props["buyer_vat"]["maxLength"] == 40
    seats = spec["paths"]["/api/v1/organisations/{org_id}/seats/checkout"]["post"]["requestBody"]["content"]
    seat_props = spec["components"]["schemas"][seats["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]]
    assert "buyer_vat" in seat_props["properties"]


def test_posting_the_checkout_again_keeps_the_invoice_details_left_out(client, browser, learner, special50, db):
    """The open checkout is reused: a detail given replaces the stored one, one left out keeps it (the
    JSON API and the checkout page alike)."""
    body = {"programme": "acxs", "offer": "full", "code": "special50"}
    r = client.post("/api/v1/payments/checkout", json={
        **body, "buyer_name": "Ada Okafor", "buyer_company": "Northgate Building Society", "buyer_vat": "GB123456789"})
    assert r.status_code == 201, r.text
    first = r.json()["order"]["id"]
    r = client.post("/api/v1/payments/checkout", json={**body, "buyer_company": "Northgate Mutual"})
    assert r.status_code == 200, r.text  # the same checkout, handed back
    order = _order(db, learner)
    db.refresh(order)
    assert r.json()["order"]["id"] == first == order.public_id
    assert (order.buyer_name, order.buyer_company, order.buyer_vat) == (
        "Ada Okafor", "Northgate Mutual", "GB123456789")
    r = client.post("/api/v1/payments/checkout", json=body)  # none given: all kept
    assert r.status_code == 200, r.text
    db.refresh(order)
    assert (order.buyer_name, order.buyer_company, order.buyer_vat) == (
        "Ada Okafor", "Northgate Mutual", "GB123456789")

    # The checkout page posts every field, the ones left empty as "": the same rule.
    r = browser.post_form("/checkout/acxs?offer=full&code=special50", "/checkout/acxs", offer="full",
                          code="special50", buyer_name="", buyer_company="", buyer_vat="de 123.456.789")
    assert r.status_code == 303, r.text
    db.refresh(order)
    assert _order(db, learner).id == order.id  # still the one checkout
    assert (order.buyer_name, order.buyer_company, order.buyer_vat) == (
        "Ada Okafor", "Northgate Mutual", "DE123456789")
