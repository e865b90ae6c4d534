"""File types come from the content, never the name: real files made here by the libraries that
make them (fpdf2 for PDF, Pillow for images, zip parts as Office writes them), and files that lie."""

from __future__ import annotations

import io
import zipfile

import pytest

from api.core import filetypes as ft
from api.core.filetypes import UploadProblem, check_upload, content_disposition, safe_display_name, sniff


def pdf_bytes() -> bytes:
    from fpdf import FPDF

    doc = FPDF()
    doc.add_page()
    doc.set_font("helvetica", size=12)
    doc.cell(text="An SCO canvas for the claims journey")
    return bytes(doc.output())


def image_bytes(fmt: str) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(out, format=fmt)
    return out.getvalue()


def office_bytes(part: str, extra: dict[str, str] | None = None, content_types: bool = True) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        if content_types:
            z.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org'
                                              '/package/2006/content-types"/>')
        z.writestr("_rels/.rels", "<Relationships/>")
        z.writestr(part, "<document/>")
        for name, body in (extra or {}).items():
            z.writestr(name, body)
    return out.getvalue()


def odf_bytes(mimetype: str) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr(zipfile.ZipInfo("mimetype"), mimetype)  # stored first, uncompressed, as ODF requires
        z.writestr("content.xml", "<office:document-content/>")
    return out.getvalue()


MP4_HEAD = b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2avc1mp41" + b"\x00" * 64
WEBM_HEAD = b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\xf7\x81\x01\x42\xf2\x81\x04\x42\xf3\x81\x08\x42\x82\x84webm"


@pytest.mark.parametrize("make, kind", [
    (pdf_bytes, ft.PDF),
    (lambda: image_bytes("PNG"), ft.PNG),
    (lambda: image_bytes("JPEG"), ft.JPEG),
    (lambda: image_bytes("GIF"), ft.GIF),
    (lambda: image_bytes("WEBP"), ft.WEBP),
    (lambda: office_bytes("word/document.xml"), ft.DOCX),
    (lambda: office_bytes("xl/workbook.xml", {"xl/worksheets/sheet1.xml": "<x/>"}), ft.XLSX),
    (lambda: office_bytes("ppt/presentation.xml"), ft.PPTX),
    (lambda: odf_bytes(ft.ODT), ft.ODT),
    (lambda: office_bytes("notes.txt", content_types=False), ft.ZIP),
    (lambda: MP4_HEAD, ft.MP4),
    (lambda: WEBM_HEAD + b"\x00" * 32, ft.WEBM),
    (lambda: "Our claims journey, in the customer's words: «I just want it fixed».\n".encode(), ft.TEXT),
    (lambda: b"\xef\xbb\xbfstep,owner,minutes\nreport,customer,5\nassess,handler,30\n", ft.CSV),
    (lambda: b"<!DOCTYPE html><html><body>hi</body></html>", ft.HTML),
    (lambda: b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>', ft.SVG),
    (lambda: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504, ft.OLE),
])
def test_the_type_is_read_from_the_content(make, kind):
    assert sniff(make()) == kind


@pytest.mark.parametrize("data", [
    b"\x00\x01\x02\x03binary\xff\xfe",  # binary noise
    "café".encode("latin-1") + b" and more",  # not UTF-8
    b"PK\x03\x04 this is no zip at all",  # starts like a zip
    b"   \n\t  ",  # only whitespace
    b"%PDF-1.7\n no end of file marker here",  # a PDF cut short
])
def test_what_is_not_recognised_is_none(data):
    assert sniff(data) is None


def test_a_docx_is_a_docx_whatever_it_is_called():
    data = office_bytes("word/document.xml")
    assert check_upload("report.pdf.exe", data, ["docx"], 10_000_000) is None
    assert check_upload("report.docx", data, ["pdf"], 10_000_000).code == "type_not_allowed"


def test_an_upload_problem_is_plain_data_that_leaves_the_request_standing():
    from api.core import unit_of_work

    token = unit_of_work._current.set(unit_of_work.UnitOfWork())
    try:
        problem = check_upload("notes.txt", b"", ["pdf"], 1000)
        assert check_upload("x.pdf", b"not a pdf", ["pdf"], 1000).code == "not_really_pdf"
        assert unit_of_work.current().failed is False  # no CadreError was made
    finally:
        unit_of_work._current.reset(token)
    assert isinstance(problem, UploadProblem) and not isinstance(problem, Exception)
    assert problem.code == "empty" and "“notes.txt” is empty (0 bytes)" in problem.message


def test_oversize_is_refused_with_both_sizes():
    problem = check_upload("big.pdf", pdf_bytes() + b"x" * 3_000_000, ["pdf"], 2 * 1024 * 1024)
    assert problem.code == "too_large" and "at most 2 MB" in problem.message


def test_a_file_named_pdf_that_is_not_one_is_called_out():
    problem = check_upload("evidence.PDF", image_bytes("PNG"), ["pdf", "png"], 10_000_000)
    assert problem.code == "not_really_pdf"
    assert "“evidence.PDF” is named as a PDF but its content is not a PDF (PNG image)" in problem.message
    problem = check_upload("evidence.pdf", b"just some words", ["pdf"], 10_000_000)
    assert problem.code == "not_really_pdf" and "(plain text)" in problem.message
    assert check_upload("evidence.pdf", pdf_bytes(), ["pdf"], 10_000_000) is None


def test_type_not_allowed_says_what_is_accepted():
    problem = check_upload("clip.mp4", MP4_HEAD, ["pdf", "docx", "pptx"], 10_000_000)
    assert problem.code == "type_not_allowed"
    assert problem.message == ("“clip.mp4” is an MP4 video; this brief accepts PDF, Word document or "
                               "PowerPoint presentation.")
    assert check_upload("x.bin", b"\x00\x01\x02", ["pdf"], 100).message.startswith("“x.bin” is a file type we do")


def test_html_and_svg_never_pass_as_text():
    for data in (b"<html><script>alert(1)</script></html>", b"<svg onload='alert(1)'/>"):
        assert check_upload("notes.txt", data, ["txt"], 1000).code == "type_not_allowed"


def test_patterns_and_text_kinds():
    assert check_upload("photo.jpg", image_bytes("JPEG"), ["image/*"], 10_000_000) is None
    assert check_upload("table.csv", b"a,b\n1,2\n3,4\n", ["txt"], 1000) is None  # CSV is text
    assert check_upload("table.csv", b"one line of text", ["csv"], 1000) is None  # the heuristic may miss it


@pytest.mark.parametrize("raw, shown", [
    ("../../etc/passwd", "passwd"),
    ("C:\\Users\\ana\\Desktop\\My report.docx", "My report.docx"),
    ("report\u202egnp.exe", "reportgnp.exe"),  # a right-to-left override that would disguise the extension
    ("  ..hidden.pdf ", "hidden.pdf"),
    ('a<b>c:d"e|f?g*h.pdf', "a_b_c_d_e_f_g_h.pdf"),
    ("line\nbreak\ttab.txt", "line break tab.txt"),
    ("", "file"),
    ("...", "file"),
    ("Café – résumé.pdf", "Café – résumé.pdf"),
])
def test_display_names_are_made_safe(raw, shown):
    assert safe_display_name(raw) == shown


def test_long_names_keep_their_extension():
    name = safe_display_name("x" * 500 + ".pdf")
    assert len(name) == ft.MAX_NAME and name.endswith(".pdf")


def test_content_disposition_carries_an_ascii_fallback_and_the_utf8_name():
    header = content_disposition('../Résumé "final".pdf')
    assert header == "attachment; filename=\"Resume _final_.pdf\"; filename*=UTF-8''R%C3%A9sum%C3%A9%20_final_.pdf"
    assert "\n" not in content_disposition("a\r\nSet-Cookie: x=1.pdf")
