"""An order's invoice and receipt, and each of its credit notes, as a one-page A4 PDF (fpdf2 with
DejaVu, as the certificates are). The invoice: the seller, the buyer, what was bought, the discount,
the VAT included, each payment made and due, and every credit note for money refunded. A credit note:
its own number and date, the invoice it credits, the same seller and buyer, the amount credited as a
negative with the VAT it takes back."""

from __future__ import annotations

from fpdf import FPDF

from api.core.config import ROOT
from api.core.money import format_money
from api.payments.invoices import Document, is_specimen
from api.payments.models import PaymentStatus

FONTS = ROOT / "web" / "static" / "fonts"
INK, MUTED, ACCENT, WARN = (29, 35, 48), (90, 98, 112), (11, 92, 115), (160, 30, 30)
LEFT, WIDTH = 18.0, 174.0  # mm: A4 is 210 wide
NEXT_LINE = {"new_x": "LMARGIN", "new_y": "NEXT"}  # stacked lines (fpdf2 otherwise carries on to the right)


def day(value) -> str:
    """The one date format of every page: "1 December 2026"."""
    return value.strftime("%-d %B %Y") if value else ""


def _status(p) -> str:
    if p.status == PaymentStatus.paid.value:
        return f"Paid {day(p.paid_at)}" if p.paid_at else "Paid"
    return {"due": "Due", "failed": "Failed: to pay", "cancelled": "Not taken"}.get(p.status, p.status)


def _new_pdf(doc: Document, title: str) -> FPDF:
    row = doc.note or doc.invoice
    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.set_title(f"{title} {row.reference}")
    pdf.set_author(row.seller_name)
    pdf.set_creator("Cadre")
    pdf.set_subject(f"{doc.programme.title} ({doc.programme.code}), order {doc.order.public_id}")
    pdf.add_font("DejaVu", "", str(FONTS / "DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "B", str(FONTS / "DejaVuSans-Bold.ttf"))
    pdf.set_margins(LEFT, 16, LEFT)
    pdf.set_auto_page_break(True, margin=16)
    pdf.add_page()
    return pdf


def _head(pdf: FPDF, row, title: str, facts: list[tuple[str, str]]) -> None:
    """The seller (as copied onto this numbered document), left; its title, number and dates, right;
    then the specimen warning when the seller is the development example."""
    top = pdf.get_y()
    pdf.set_text_color(*ACCENT)
    pdf.set_font("DejaVu", "B", 13)
    pdf.multi_cell(100, 6, row.seller_name, **NEXT_LINE)
    pdf.set_text_color(*INK)
    pdf.set_font("DejaVu", "", 9.5)
    for line in row.seller_address.splitlines():
        pdf.multi_cell(100, 4.6, line, **NEXT_LINE)
    if row.seller_vat:
        pdf.multi_cell(100, 4.6, f"VAT number: {row.seller_vat}", **NEXT_LINE)
    left_end = pdf.get_y()
    pdf.set_xy(LEFT + 104, top)
    pdf.set_font("DejaVu", "B", 20)
    pdf.cell(WIDTH - 104, 9, title, align="R", new_x="LEFT", new_y="NEXT")
    pdf.set_font("DejaVu", "", 9.5)
    for label, value in facts:
        pdf.set_x(LEFT + 104)
        pdf.multi_cell(WIDTH - 104, 5, f"{label}: {value}", align="R", new_x="LEFT", new_y="NEXT")
    pdf.set_y(max(left_end, pdf.get_y()) + 4)
    if is_specimen(row):
        pdf.set_text_color(*WARN)
        pdf.set_font("DejaVu", "B", 9.5)
        pdf.multi_cell(WIDTH, 5, "SPECIMEN: issued with the development example seller (CADRE_SELLER_* not set). "
                                 f"Not a valid tax {title.lower()}.", **NEXT_LINE)
        pdf.set_text_color(*INK)
        pdf.ln(2)


def _buyer(pdf: FPDF, doc: Document, heading: str) -> None:
    """Who the invoice is made out to: the details given at checkout, else the account's name."""
    order = doc.order
    _heading(pdf, heading)
    pdf.set_font("DejaVu", "", 10)
    lines = [order.buyer_name or doc.buyer.full_name]
    if order.buyer_company:
        lines.append(order.buyer_company)
    if order.buyer_vat:
        lines.append(f"VAT number: {order.buyer_vat}")
    lines.append(doc.buyer.email)
    for line in lines:
        pdf.multi_cell(WIDTH, 5, line, **NEXT_LINE)
    pdf.ln(3)


def _footer(pdf: FPDF, text: str) -> None:
    pdf.set_font("DejaVu", "", 8.5)
    pdf.set_text_color(*MUTED)
    pdf.multi_cell(WIDTH, 4.4, text, **NEXT_LINE)


def render(doc: Document) -> bytes:
    inv, order = doc.invoice, doc.order
    money = lambda amount: format_money(amount, order.currency)  # noqa: E731 - one currency per document
    pdf = _new_pdf(doc, "Invoice")
    refunded_in_full = doc.refunded and doc.refunded >= doc.paid
    _head(pdf, inv, "Invoice", [
        ("Invoice number", inv.reference), ("Invoice date", day(inv.issued_at)), ("Order", order.public_id),
        ("Status", "Refunded" if refunded_in_full else "Paid in full" if not doc.remaining else "Part paid")])
    _buyer(pdf, doc, "Billed to")

    _heading(pdf, "What was bought")
    _row(pdf, "Description", "Amount", bold=True, rule=True)
    _row(pdf, _bought(doc), money(order.amount_before))
    if order.discount_amount:
        code = (order.code_text or "").upper()
        _row(pdf, f"Discount{f' (code {code})' if code else ''}", money(-order.discount_amount))
    _row(pdf, "Total" + (" including VAT" if inv.vat_rate else ""), money(order.amount_total), bold=True, rule=True)
    if inv.vat_rate:
        _row(pdf, f"VAT at {inv.vat_rate}% included in the total", money(doc.vat_included), muted=True)
    pdf.ln(3)

    owed = doc.owed
    _heading(pdf, "Payments" if len(owed) <= 1 else f"Payments: {len(owed)} instalments")
    _row(pdf, "Payment", "Amount", bold=True, rule=True, middle="Due · status")
    for p in doc.payments:
        _row(pdf, f"{p.number} of {len(doc.payments)}", money(p.amount), middle=f"{day(p.due_date)} · {_status(p)}")
    paid_n = sum(1 for p in owed if p.status == PaymentStatus.paid.value)
    _row(pdf, f"Paid: {paid_n} of {len(owed)}", money(doc.paid), bold=True, rule=True)
    _row(pdf, f"Still to pay: {len(owed) - paid_n} of {len(owed)}", money(doc.remaining), bold=True)
    pdf.ln(3)

    if doc.credit_notes:
        _heading(pdf, "Credit notes (refunds)")
        for note in doc.credit_notes:
            _row(pdf, f"Credit note {note.reference}, {day(note.issued_at)}: refunded to the card used",
                 money(-note.amount))
        _row(pdf, "Paid after refunds", money(doc.paid - doc.refunded), bold=True, rule=True)
        pdf.ln(3)

    _footer(pdf, "Prices include VAT where VAT is shown. Keep this invoice for your records: it is also on your "
                 "billing page.")
    return bytes(pdf.output())


def render_credit_note(doc: Document) -> bytes:
    """One credit note: money refunded on the invoice it names, shown as a negative, with the VAT it takes
    back at the invoice's rate (Document.vat_credited) and where the invoice stands after it."""
    note, inv, order = doc.note, doc.invoice, doc.order
    money = lambda amount: format_money(amount, order.currency)  # noqa: E731 - one currency per document
    pdf = _new_pdf(doc, "Credit note")
    _head(pdf, note, "Credit note", [
        ("Credit note number", note.reference), ("Credit note date", day(note.issued_at)),
        ("Credits invoice", inv.reference), ("Invoice date", day(inv.issued_at)), ("Order", order.public_id)])
    _buyer(pdf, doc, "Credited to")

    _heading(pdf, "What is credited")
    _row(pdf, "Description", "Amount", bold=True, rule=True)
    payment = next((p for p in doc.payments if p.id == note.payment_id), None)
    paid_with = f", payment {payment.number} of {len(doc.payments)}" if payment and len(doc.payments) > 1 else ""
    _row(pdf, f"Refund on invoice {inv.reference}{paid_with}: {_bought(doc)}", money(-note.amount))
    _row(pdf, "Total credited" + (" including VAT" if inv.vat_rate else ""), money(-note.amount), bold=True,
         rule=True)
    if inv.vat_rate:
        _row(pdf, f"VAT at {inv.vat_rate}% included in the credit", money(-doc.vat_credited(note)), muted=True)
    pdf.ln(3)

    before = doc.credited_before(note)
    _heading(pdf, f"Invoice {inv.reference} after this credit note")
    _row(pdf, "Paid on the invoice", money(doc.paid))
    if before:
        _row(pdf, "Credited by earlier credit notes", money(-before))
    _row(pdf, f"This credit note, {note.reference}", money(-note.amount))
    _row(pdf, "Paid after credit notes", money(doc.paid - before - note.amount), bold=True, rule=True)
    pdf.ln(3)

    _footer(pdf, f"The amount is refunded to the card used to pay; banks usually show it within 5 to 10 working "
                 f"days. Keep this credit note with invoice {inv.reference}: both are on your billing page.")
    return bytes(pdf.output())


def _bought(doc: Document) -> str:
    """The line for what was bought: an organisation's seat order says how many seats at what price each."""
    order, programme = doc.order, doc.programme
    if (order.quantity or 1) > 1:
        unit = order.amount_before // order.quantity
        return (f"{programme.title}: {order.quantity} × {programme.code} seat at "
                f"{format_money(unit, order.currency)}")
    return f"{programme.title} ({programme.code}): {doc.offer.title}"


def _heading(pdf: FPDF, text: str) -> None:
    pdf.set_text_color(*ACCENT)
    pdf.set_font("DejaVu", "B", 11)
    pdf.cell(WIDTH, 7, text, new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(*INK)


def _row(pdf: FPDF, left: str, right: str, *, bold: bool = False, muted: bool = False, rule: bool = False,
         middle: str | None = None) -> None:
    """One line of a two- (or three-) column list; the left text wraps, the amount stays right-aligned."""
    pdf.set_font("DejaVu", "B" if bold else "", 9.5)
    pdf.set_text_color(*(MUTED if muted else INK))
    if rule:
        pdf.set_draw_color(200, 205, 212)
        pdf.line(LEFT, pdf.get_y(), LEFT + WIDTH, pdf.get_y())
    y = pdf.get_y() + 0.8
    left_w = 60 if middle is not None else WIDTH - 40
    pdf.set_xy(LEFT, y)
    pdf.multi_cell(left_w, 5, left, align="L", new_x="RIGHT", new_y="TOP")
    if middle is not None:
        pdf.set_xy(LEFT + left_w, y)
        pdf.multi_cell(WIDTH - left_w - 40, 5, middle, align="L", new_x="RIGHT", new_y="TOP")
    pdf.set_xy(LEFT + WIDTH - 40, y)
    pdf.cell(40, 5, right, align="R")
    lines = len(pdf.multi_cell(left_w, 5, left, align="L", dry_run=True, output="LINES"))
    pdf.set_xy(LEFT, y + 5 * max(1, lines) + 0.8)
    pdf.set_text_color(*INK)
