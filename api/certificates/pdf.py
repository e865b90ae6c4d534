"""The certificate as a one-page PDF: name, programme, dates, number, verify URL and a QR code."""

from __future__ import annotations

import io

import qrcode
from fpdf import FPDF

from api.catalog.models import Programme
from api.certificates.models import Certificate
from api.core.config import ROOT

FONTS = ROOT / "web" / "static" / "fonts"


def render(cert: Certificate, programme: Programme, verify_url: str, issuer_name: str) -> bytes:
    pdf = FPDF(orientation="L", unit="mm", format="A4")
    pdf.set_title(f"{programme.certificate_title} {cert.number}")
    pdf.set_author(issuer_name)
    pdf.set_creator("Cadre")
    pdf.set_subject(f"{cert.holder_name}: {programme.achievement_title}")
    pdf.set_keywords(verify_url)
    # DejaVu covers the names people have (accents, Cyrillic, Greek...), unlike the PDF core fonts.
    pdf.add_font("DejaVu", "", str(FONTS / "DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "B", str(FONTS / "DejaVuSans-Bold.ttf"))
    pdf.set_auto_page_break(False)
    pdf.add_page()
    w = pdf.w
    pdf.set_draw_color(11, 92, 115)
    pdf.set_line_width(1.2)
    pdf.rect(10, 10, w - 20, pdf.h - 20)
    pdf.set_line_width(0.3)
    pdf.rect(13, 13, w - 26, pdf.h - 26)

    pdf.set_text_color(11, 92, 115)
    pdf.set_font("DejaVu", "B", 14)
    pdf.set_xy(20, 24)
    pdf.cell(w - 40, 8, issuer_name.upper(), align="C")
    pdf.set_text_color(29, 35, 48)
    pdf.set_font("DejaVu", "B", 30)
    pdf.set_xy(20, 40)
    pdf.cell(w - 40, 14, "Certificate of Accreditation", align="C")
    pdf.set_font("DejaVu", "", 13)
    pdf.set_xy(20, 62)
    pdf.cell(w - 40, 8, "This certifies that", align="C")
    _place_name(pdf, cert.holder_name, w - 40)
    pdf.set_font("DejaVu", "", 13)
    pdf.set_xy(20, 94)
    pdf.cell(w - 40, 8, "is accredited as", align="C")
    pdf.set_font("DejaVu", "B", 18)
    pdf.set_xy(30, 104)
    pdf.multi_cell(w - 60, 9, programme.achievement_title, align="C")

    pdf.set_font("DejaVu", "", 11)
    y = 132
    lines = [f"Issued: {cert.issued_at:%-d %B %Y}",
             f"Current until: {cert.expires_at:%-d %B %Y}" if cert.expires_at else "Does not lapse",
             f"Certificate number: {cert.number}",
             "Verify it at:", verify_url]
    for line in lines:
        pdf.set_xy(24, y)
        pdf.cell(180, 7, line)
        y += 7.5

    qr = qrcode.QRCode(border=1, error_correction=qrcode.constants.ERROR_CORRECT_M)
    qr.add_data(verify_url)
    img = qr.make_image().get_image()
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    buf.seek(0)
    pdf.image(buf, x=w - 24 - 45, y=128, w=45, h=45)
    pdf.set_font("DejaVu", "", 8)
    pdf.set_xy(w - 24 - 55, 174)
    pdf.cell(65, 5, "Scan to check it is genuine and current", align="C")
    return bytes(pdf.output())


NAME_TOP, NAME_HEIGHT = 71.0, 21.0  # mm: the band between "This certifies that" and "is accredited as"
PT = 25.4 / 72  # mm per point


def _place_name(pdf: FPDF, name: str, width: float) -> None:
    """The holder's name, as large as fits: one line from 26 pt down to 16 pt, else wrapped onto
    as few lines as fit the band at the largest size that allows it (any name up to the 200
    characters the form accepts, even one unbroken word, stays on the page)."""
    for size in range(26, 15, -1):
        pdf.set_font("DejaVu", "B", size)
        if pdf.get_string_width(name) <= width:
            height = size * PT * 1.3
            pdf.set_xy(20, NAME_TOP + (NAME_HEIGHT - height) / 2)
            pdf.cell(width, height, name, align="C")
            return
    for size in range(16, 5, -1):
        pdf.set_font("DejaVu", "B", size)
        height = size * PT * 1.2
        lines = pdf.multi_cell(width, height, name, align="C", dry_run=True, output="LINES")
        if len(lines) * height <= NAME_HEIGHT:
            break
    pdf.set_xy(20, NAME_TOP + (NAME_HEIGHT - len(lines) * height) / 2)
    pdf.multi_cell(width, height, name, align="C")


def linkedin_url(cert: Certificate, programme: Programme, verify_url: str, organisation: str) -> str:
    """LinkedIn's add-to-profile link, with the issue (and expiry) month and year filled in."""
    from urllib.parse import urlencode

    params = {
        "startTask": "CERTIFICATION_NAME",
        "name": programme.achievement_title,
        "organizationName": organisation,
        "issueYear": cert.issued_at.year,
        "issueMonth": cert.issued_at.month,
        "certUrl": verify_url,
        "certId": cert.number,
    }
    if cert.expires_at:
        params.update(expirationYear=cert.expires_at.year, expirationMonth=cert.expires_at.month)
    return "https://www.linkedin.com/profile/add?" + urlencode(params)
