"""Credit notes as PDFs of their own: one per refund, each with its own number and date, the invoice it
credits, the seller and buyer, the amount as a negative and the VAT it takes back; linked from the
billing page and the refund email; for those who may see the invoice (404 to anyone else). Read back
with poppler's pdftotext, as the invoice is."""

from __future__ import annotations

import re
import subprocess

from sqlmodel import select

from api.accounts.models import Role
from api.core.config import get_settings
from api.payments import invoices, service
from api.payments.models import Invoice, Order
from tests.payments.test_invoices import _buy, _order, _text, _tools


def _notes(db, order: Order) -> list[Invoice]:
    return list(db.exec(select(Invoice).where(Invoice.order_id == order.id, Invoice.series == "CN")
                        .order_by(Invoice.id)).all())


def _pdf(client, tmp_path, url: str) -> str:
    """The PDF's text as laid out (each amount on its label's line), spaces collapsed."""
    r = client.get(url)
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf", r.text[:300]
    path = tmp_path / "document.pdf"
    path.write_bytes(r.content)
    text = subprocess.run([_tools()[1], "-layout", str(path), "-"], check=True, capture_output=True,
                          text=True).stdout
    return re.sub(r"\s+", " ", text)


def _url(order: Order, note: Invoice) -> str:
    return f"/billing/{order.public_id}/credit-notes/{note.reference}.pdf"


def test_a_refund_gives_a_credit_note_of_its_own(client, browser, learner, special50, db, tmp_path, mailbox):
    settings = get_settings()
    _buy(browser, buyer_company="Northgate Building Society", buyer_vat="GB123456789")
    order = _order(db, learner)
    service.refund(db, order, amount=None, by=None, reason="Changed their mind")  # the offline provider confirms
    db.commit()
    [note] = _notes(db, order)
    invoice = invoices.invoice_of(db, order)
    assert re.fullmatch(r"CAD-CN-\d{6}", note.reference) and note.amount == 43000

    # On the billing page where the refund shows, and in the refund email.
    billing = client.get("/billing").text
    assert f'href="{_url(order, note)}"' in billing and f"Credit note {note.reference} (PDF)" in billing
    refund_mail = next(m for m in mailbox.to(learner.email) if "refund" in str(m["Subject"]).lower())
    assert _url(order, note) in mailbox.body(refund_mail)

    r = client.get(_url(order, note))
    assert f'filename="credit-note-{note.reference}.pdf"' in r.headers["content-disposition"]
    flat = _pdf(client, tmp_path, _url(order, note))
    day = f"{invoice.issued_at:%-d %B %Y}"
    for expected in ("Credit note", f"Credit note number: {note.reference}", f"Credit note date: {day}",
                     f"Credits invoice: {invoice.reference}", f"Invoice date: {day}", f"Order: {order.public_id}",
                     settings.seller_legal_name, "1 Example Street", f"VAT number: {settings.seller_vat_number}",
                     "Credited to", learner.full_name, "Northgate Building Society", "VAT number: GB123456789",
                     learner.email, f"Refund on invoice {invoice.reference}: Accredited Customer Experience",
                     "Total credited including VAT −£430", "VAT at 20% included in the credit −£71.67",
                     "Paid on the invoice £430", "Paid after credit notes £0", "SPECIMEN"):
        assert expected in flat, expected
    assert "Invoice number" not in flat  # a credit note, not the invoice again
    # The invoice itself still lists it.
    assert f"Credit note {note.reference}" in re.sub(
        r"\s+", " ", _text(tmp_path, client.get(f"/billing/{order.public_id}/invoice.pdf").content))


def test_only_those_who_may_see_the_invoice_get_its_credit_notes(client, browser, learner, special50, db,
                                                                make_user, login):
    _buy(browser)
    order = _order(db, learner)
    service.refund(db, order, amount=1000, by=None)
    db.commit()
    [note] = _notes(db, order)
    url = _url(order, note)
    assert client.get(url).status_code == 200
    lower = f"/billing/{order.public_id}/credit-notes/{note.reference.lower()}.pdf"
    assert client.get(lower).status_code == 200  # the reference as typed in any case
    for wrong in (f"/billing/{order.public_id}/credit-notes/CAD-CN-999999.pdf",
                  f"/billing/{order.public_id}/credit-notes/{invoices.invoice_of(db, order).reference}.pdf",
                  f"/billing/ord_nosuchorder/credit-notes/{note.reference}.pdf"):
        assert client.get(wrong).status_code == 404, wrong

    other = make_user()
    login(other.email)  # another learner: as if there were none
    stranger = client.get(url)
    assert stranger.status_code == 404 and "There is no credit note" in stranger.text
    assert note.reference not in client.get("/billing").text
    login(make_user(roles={Role.admin}).email)
    assert client.get(url).status_code == 200
    assert f'href="{url}"' in client.get("/admin/orders").text
    client.cookies.clear()
    assert client.get(url, follow_redirects=False).status_code != 200


def test_two_partial_refunds_give_two_credit_notes(client, browser, learner, special50, db, tmp_path):
    offline = _buy(browser, offer="instalments")
    browser.post_form(offline, action="pay_next")  # 2 of 4 paid: £215
    order = _order(db, learner)
    service.refund(db, order, amount=5000, by=None, reason="Goodwill")
    db.commit()
    service.refund(db, order, amount=3000, by=None, reason="More goodwill")
    db.commit()
    first, second = _notes(db, order)
    assert first.reference != second.reference and second.number == first.number + 1
    assert (first.amount, second.amount) == (5000, 3000)
    billing = client.get("/billing").text
    assert f'href="{_url(order, first)}"' in billing and f'href="{_url(order, second)}"' in billing

    one, two = _pdf(client, tmp_path, _url(order, first)), _pdf(client, tmp_path, _url(order, second))
    assert f"Credit note number: {first.reference}" in one and second.reference not in one
    assert f"Credit note number: {second.reference}" in two
    assert "Total credited including VAT −£50" in one and "VAT at 20% included in the credit −£8.33" in one
    assert "Total credited including VAT −£30" in two and "VAT at 20% included in the credit −£5" in two
    # Each says where the invoice stands after it.
    assert "Paid after credit notes £165" in one  # 215 − 50
    assert "Credited by earlier credit notes −£50" in two and "Paid after credit notes £135" in two
    assert ", payment 2 of 4:" in one  # the newest payment is refunded first


def test_the_credit_notes_vat_adds_up_to_the_invoices_when_refunded_in_parts(client, browser, learner, special50,
                                                                            db):
    """£430 refunded as 1p, 1p and the rest: rounding each note's VAT alone would give £71.66 in all, not
    the invoice's £71.67; each note takes the VAT of everything credited so far less the earlier notes'."""
    _buy(browser)
    order = _order(db, learner)
    for amount in (1, 1, None):
        service.refund(db, order, amount=amount, by=None)
        db.commit()
    notes = _notes(db, order)
    assert [n.amount for n in notes] == [1, 1, 42998]
    doc = invoices.credit_note_document(db, order.public_id, notes[-1].reference, learner, set())
    assert doc.vat_included == 7167
    assert sum(doc.vat_credited(n) for n in notes) == doc.vat_included
    assert sum(n.amount for n in notes) == order.amount_total
