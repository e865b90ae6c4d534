"""An order's invoice and receipt as a one-page A4 PDF (fpdf2 with DejaVu, as the certificates are):
the seller, the buyer, what was bought, the discount, the VAT included, each payment made and due,
and every credit note for money refunded."""

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


def render(doc: Document) -> bytes:
    inv, order = doc.invoice, doc.order
    money = lambda amount: format_money(amount, order.currency)  # noqa: E731 - one currency per document
    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.set_title(f"Invoice {inv.reference}")
    pdf.set_author(inv.seller_name)
    pdf.set_creator("Cadre")
    pdf.set_subject(f"{doc.programme.title} ({doc.programme.code}), order {order.public_id}")
    pdf.add_font("DejaVu", "", str(FONTS / "DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "B", str(FONTS / "DejaVuSans-Bold.ttf"))
    pdf.set_margins(LEFT, 16, LEFT)
    pdf.set_auto_page_break(True, margin=16)
    pdf.add_page()

    # The seller, left; the document's number and dates, right.
    top = pdf.get_y()
    pdf.set_text_color(*ACCENT)
    pdf.set_font("DejaVu", "B", 13)
    pdf.multi_cell(100, 6, inv.seller_name, **NEXT_LINE)
    pdf.set_text_color(*INK)
    pdf.set_font("DejaVu", "", 9.5)
    for line in inv.seller_address.splitlines():
        pdf.multi_cell(100, 4.6, line, **NEXT_LINE)
    if inv.seller_vat:
        pdf.multi_cell(100, 4.6, f"VAT number: {inv.seller_vat}", **NEXT_LINE)
    left_end = pdf.get_y()
    pdf.set_xy(LEFT + 104, top)
    pdf.set_font("DejaVu", "B", 20)
    pdf.cell(WIDTH - 104, 9, "Invoice", align="R", new_x="LEFT", new_y="NEXT")
    pdf.set_font("DejaVu", "", 9.5)
    refunded_in_full = doc.refunded and doc.refunded >= doc.paid
    facts = [("Invoice number", inv.reference), ("Invoice date", day(inv.issued_at)),
             ("Order", order.public_id),
             ("Status", "Refunded" if refunded_in_full else "Paid in full" if not doc.remaining else "Part paid")]
    for label, value in facts:
        pdf.set_x(LEFT + 104)
        pdf.cell(WIDTH - 104, 5, f"{label}: {value}", align="R", new_x="LEFT", new_y="NEXT")
    pdf.set_y(max(left_end, pdf.get_y()) + 4)

    if is_specimen(inv):
        pdf.set_text_color(*WARN)
        pdf.set_font("DejaVu", "B", 9.5)
        pdf.multi_cell(WIDTH, 5, "SPECIMEN: issued with the development example seller (CADRE_SELLER_* not set). "
                                 "Not a valid tax invoice.", **NEXT_LINE)
        pdf.set_text_color(*INK)
        pdf.ln(2)

    _heading(pdf, "Billed to")
    pdf.set_font("DejaVu", "", 10)
    billed = [order.buyer_name or doc.buyer.full_name]
    if order.buyer_company:
        billed.append(order.buyer_company)
    if order.buyer_vat:
        billed.append(f"VAT number: {order.buyer_vat}")
    billed.append(doc.buyer.email)
    for line in billed:
        pdf.multi_cell(WIDTH, 5, line, **NEXT_LINE)
    pdf.ln(3)

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

    pdf.set_font("DejaVu", "", 8.5)
    pdf.set_text_color(*MUTED)
    pdf.multi_cell(WIDTH, 4.4, "Prices include VAT where VAT is shown. Keep this invoice for your records: "
                               "it is also on your billing page.", **NEXT_LINE)
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
    pdf.multi_cell(left_w, 5, left, new_x="RIGHT", new_y="TOP")
    if middle is not None:
        pdf.set_xy(LEFT + left_w, y)
        pdf.multi_cell(WIDTH - left_w - 40, 5, middle, new_x="RIGHT", new_y="TOP")
    pdf.set_xy(LEFT + WIDTH - 40, y)
    pdf.cell(40, 5, right, align="R")
    lines = len(pdf.multi_cell(left_w, 5, left, dry_run=True, output="LINES"))
    pdf.set_xy(LEFT, y + 5 * max(1, lines) + 0.8)
    pdf.set_text_color(*INK)
