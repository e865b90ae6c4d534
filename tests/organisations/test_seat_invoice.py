"""A paid seat order's invoice says how many seats were bought and at what price each (read back with
poppler's pdftotext)."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from sqlmodel import select

from api.core.money import format_money
from api.payments.models import Invoice, Order


def _pdf_text(tmp_path, body: bytes) -> str:
    pdftotext = shutil.which("pdftotext")
    if not pdftotext:
        pytest.fail("pdftotext is needed to check the invoice PDF: apt-get install poppler-utils")
    path = tmp_path / "invoice.pdf"
    path.write_bytes(body)
    return subprocess.run([pdftotext, str(path), "-"], check=True, capture_output=True, text=True).stdout


def test_a_seat_order_invoice_prints_the_quantity_and_the_price_of_one_seat(client, browser, team, login, db,
                                                                            tmp_path):
    login(team.owner.email)
    r = browser.post_form(f"/organisations/{team.org.public_id}/seats",
                          f"/organisations/{team.org.public_id}/seats/buy", programme="acxp", quantity="3")
    assert r.status_code == 303, r.text
    browser.post_form(r.headers["location"], action="pay")
    order = db.exec(select(Order).where(Order.organisation_id == team.org.id)).one()
    db.refresh(order)
    assert order.quantity == 3
    unit = format_money(order.amount_before // 3, order.currency)
    text = " ".join(_pdf_text(tmp_path, client.get(f"/billing/{order.public_id}/invoice.pdf").content).split())
    assert f"3 × ACXP seat at {unit}" in text
    assert format_money(order.amount_before, order.currency) in text


def test_the_seat_checkout_api_takes_invoice_details_or_bills_the_organisation(client, team, login, db, tmp_path):
    from api.payments.providers import get_provider

    login(team.owner.email)
    url = f"/api/v1/organisations/{team.org.public_id}/seats/checkout"
    bad = client.post(url, json={"programme": "acxp", "quantity": 2, "buyer_vat": "12345"})
    assert bad.status_code == 422 and bad.json()["error"]["fields"][0]["field"] == "buyer_vat"
    assert db.exec(select(Order).where(Order.organisation_id == team.org.id)).first() is None

    # No details given: the invoice is made out to the organisation's legal name.
    r = client.post(url, json={"programme": "acxp", "quantity": 2})
    assert r.status_code == 201, r.text
    order = db.exec(select(Order).where(Order.public_id == r.json()["order"])).one()
    get_provider().pay(db, order)
    db.commit()
    text = " ".join(_pdf_text(tmp_path, client.get(f"/billing/{order.public_id}/invoice.pdf").content).split())
    assert "Billed to Olive Owner Acme Services Ltd" in text

    # Details given: those instead (another programme, so another order).
    r = client.post(url, json={"programme": "acxs", "quantity": 1, "buyer_company": "Acme Services (Europe) BV",
                               "buyer_vat": "NL 8532.12.345.B01"})
    assert r.status_code == 201, r.text
    order = db.exec(select(Order).where(Order.public_id == r.json()["order"])).one()
    get_provider().pay(db, order)
    db.commit()
    text = " ".join(_pdf_text(tmp_path, client.get(f"/billing/{order.public_id}/invoice.pdf").content).split())
    assert "Acme Services (Europe) BV VAT number: NL853212345B01" in text and "Acme Services Ltd" not in text


def test_a_seat_orders_invoice_and_credit_notes_are_for_the_organisations_owners(client, team, login, db, make_user,
                                                                                 tmp_path):
    """Any owner of the organisation may download them (the order's buyer or another owner), and platform
    admins; a manager or member of it, or anyone else, is told there is none."""
    from api.payments import service as payments_service
    from api.payments.providers import get_provider
    from tests.organisations.conftest import add_member

    login(team.owner.email)
    r = client.post(f"/api/v1/organisations/{team.org.public_id}/seats/checkout",
                    json={"programme": "acxp", "quantity": 2})
    order = db.exec(select(Order).where(Order.public_id == r.json()["order"])).one()
    get_provider().pay(db, order)
    payments_service.refund(db, order, amount=10000, by=team.admin, reason="One seat cheaper")
    db.commit()
    [note] = db.exec(select(Invoice).where(Invoice.order_id == order.id, Invoice.series == "CN")).all()
    urls = (f"/billing/{order.public_id}/invoice.pdf", f"/billing/{order.public_id}/credit-notes/{note.reference}.pdf")
    co_owner = make_user("co-owner@acme.example", name="Cora Co-owner")
    add_member(db, team.org, co_owner, "owner")
    db.commit()
    for who, status in ((team.owner, 200), (co_owner, 200), (team.admin, 200), (team.manager, 404),
                        (team.member, 404), (team.outsider, 404)):
        login(who.email)
        for url in urls:
            assert client.get(url).status_code == status, (who.email, url)
    login(co_owner.email)
    text = " ".join(_pdf_text(tmp_path, client.get(urls[1]).content).split())
    assert f"Credit note number: {note.reference}" in text and "Acme Services Ltd" in text and "−£100" in text


def test_a_reused_seat_checkout_keeps_the_invoice_details_given_first(client, team, login, db):
    """Posted again with no details, the open seat checkout keeps the buyer's own, not the organisation's."""
    login(team.owner.email)
    url = f"/api/v1/organisations/{team.org.public_id}/seats/checkout"
    first = client.post(url, json={"programme": "acxp", "quantity": 2, "buyer_name": "Ada Okafor",
                                   "buyer_company": "Northgate Building Society"})
    assert first.status_code == 201, first.text
    again = client.post(url, json={"programme": "acxp", "quantity": 2})
    assert again.status_code in (200, 201), again.text
    assert again.json()["order"] == first.json()["order"]  # the same checkout
    order = db.exec(select(Order).where(Order.organisation_id == team.org.id)).one()
    db.refresh(order)
    assert (order.buyer_name, order.buyer_company) == ("Ada Okafor", "Northgate Building Society")
