"""The certificate PDF fits any name the form accepts: rendered to an image by poppler's pdftoppm,
no ink may reach the page's margins outside the border, and the whole name is on the page."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
from PIL import Image

from api.catalog import service as catalog_service
from api.certificates import pdf, service
from api.certificates.models import Certificate
from api.core.db import utcnow

DPI = 50
MARGIN_MM = 9.0  # the outer border is drawn 10 mm in from each edge
NAMES = [
    "Maria-Fernanda Alejandra de los Ángeles Castillo-Villanueva",  # 58 characters, as in the issue
    " ".join(["Wolfgang Wilhelmina Wojciechowska-Wainwright"] * 4)[:200],  # the longest the form accepts
    "W" * 200,  # and one unbroken word of the widest letter
]


def _tools() -> tuple[str, str]:
    pdftoppm, pdftotext = shutil.which("pdftoppm"), shutil.which("pdftotext")
    if not pdftoppm or not pdftotext:
        pytest.fail("pdftoppm and pdftotext are needed to check the certificate PDF: apt-get install poppler-utils")
    return pdftoppm, pdftotext


@pytest.mark.parametrize("name", NAMES, ids=["58-chars", "200-chars", "200-unbroken"])
def test_a_long_name_stays_inside_the_page(db, tmp_path, name):
    pdftoppm, pdftotext = _tools()
    programme = catalog_service.get_by_slug(db, "acxp")
    assert service.clean_holder_name(name) == name  # the form accepts it
    cert = Certificate(slug="s" * 16, number="ACXP-7KQ2-M9XD-4HTP", user_id=1, programme_id=programme.id,
                       holder_name=name, holder_email_hash="x", holder_email_salt="y", issued_at=utcnow(),
                       revocation_list=1, revocation_index=1, suspension_list=2, suspension_index=1)
    path = tmp_path / "certificate.pdf"
    path.write_bytes(pdf.render(cert, programme, "http://testserver/verify/" + cert.slug, "Cadre Academy"))
    subprocess.run([pdftoppm, "-r", str(DPI), "-png", "-singlefile", str(path), str(tmp_path / "page")], check=True)
    page = Image.open(tmp_path / "page.png").convert("L")
    width, height = page.size
    margin = round(MARGIN_MM / 25.4 * DPI)
    dark = [(x, y) for y in range(height) for x in [*range(margin), *range(width - margin, width)]
            if page.getpixel((x, y)) < 128]
    assert dark == [], f"ink in the margins at {dark[:5]} (page {width}x{height}, margin {margin}px)"
    text = subprocess.run([pdftotext, "-layout", str(path), "-"], check=True, capture_output=True, text=True).stdout
    assert re.sub(r"\s+", "", name) in re.sub(r"\s+", "", text), "the whole name must be printed"
    assert "is accredited as" in text and programme.title in text
