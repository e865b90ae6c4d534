"""A paid seat order's invoice says how many seats were bought and at what price each (read back with
poppler's pdftotext)."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from sqlmodel import select

from api.core.money import format_money
from api.payments.models import Order


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
