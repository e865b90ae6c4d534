"""What a file is, from its content (never its name), whether an upload is acceptable, and a name
that is safe to show and to offer as a download.

`sniff` reads magic bytes, looks inside zip files for the parts that make an Office document, and
recognises UTF-8 text. `check_upload` answers with plain data (an UploadProblem or None): the caller
decides whether that becomes a refusal, so nothing here marks a request as failed.
"""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass
from urllib.parse import quote

PDF = "application/pdf"
PNG = "image/png"
JPEG = "image/jpeg"
GIF = "image/gif"
WEBP = "image/webp"
MP4 = "video/mp4"
MOV = "video/quicktime"
M4A = "audio/mp4"
WEBM = "video/webm"
MKV = "video/x-matroska"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
ODT = "application/vnd.oasis.opendocument.text"
ODS = "application/vnd.oasis.opendocument.spreadsheet"
ODP = "application/vnd.oasis.opendocument.presentation"
ZIP = "application/zip"
OLE = "application/x-ole-storage"  # pre-2007 Office (.doc, .xls, .ppt): not accepted by default
TEXT = "text/plain"
CSV = "text/csv"
MARKDOWN = "text/markdown"
HTML = "text/html"
SVG = "image/svg+xml"
XML = "application/xml"

# Short names a brief may use for the types it accepts, and the words a learner reads.
ALIASES: dict[str, str] = {
    "pdf": PDF, "png": PNG, "jpg": JPEG, "jpeg": JPEG, "gif": GIF, "webp": WEBP, "mp4": MP4, "mov": MOV,
    "webm": WEBM, "docx": DOCX, "xlsx": XLSX, "pptx": PPTX, "odt": ODT, "ods": ODS, "odp": ODP,
    "txt": TEXT, "text": TEXT, "csv": CSV, "md": MARKDOWN, "markdown": MARKDOWN, "zip": ZIP,
}
WORDS: dict[str, str] = {
    PDF: "PDF", PNG: "PNG image", JPEG: "JPEG image", GIF: "GIF image", WEBP: "WebP image", MP4: "MP4 video",
    MOV: "QuickTime video", M4A: "MP4 audio", WEBM: "WebM video", MKV: "Matroska video", DOCX: "Word document",
    XLSX: "Excel workbook", PPTX: "PowerPoint presentation", ODT: "OpenDocument text",
    ODS: "OpenDocument spreadsheet", ODP: "OpenDocument presentation", ZIP: "zip archive",
    OLE: "old-style Office document (.doc, .xls or .ppt)", TEXT: "plain text", CSV: "CSV", MARKDOWN: "Markdown text",
    HTML: "web page (HTML)", SVG: "SVG image", XML: "XML",
}
# The extensions that say "I am this type" (used only to catch a file that claims to be a PDF).
_CLAIMS = {".pdf": PDF}

_OOXML_PARTS = [("word/document.xml", DOCX), ("xl/workbook.xml", XLSX), ("ppt/presentation.xml", PPTX)]
_ODF_TYPES = {ODT, ODS, ODP}
_MP4_BRANDS_AUDIO = {b"M4A ", b"M4B ", b"M4P "}


def sniff(data: bytes) -> str | None:
    """The MIME type the content shows, or None when it is nothing Cadre recognises."""
    head = data[:64]
    if b"%PDF-" in data[:1024]:
        return PDF if b"%%EOF" in data[-2048:] else None  # without its end marker: a damaged or cut-off PDF
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return GIF
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand == b"qt  ":
            return MOV
        return M4A if brand in _MP4_BRANDS_AUDIO else MP4
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return WEBM if b"webm" in data[:256] else MKV
    if head.startswith(b"PK\x03\x04"):
        return _zip_kind(data)
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return OLE
    return _text_kind(data)


def _zip_kind(data: bytes) -> str | None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            names = set(z.namelist())
            if "mimetype" in names:
                declared = z.read("mimetype")[:100].decode("ascii", "replace").strip()
                if declared in _ODF_TYPES:
                    return declared
            if "[Content_Types].xml" in names:
                for part, kind in _OOXML_PARTS:
                    if part in names:
                        return kind
            return ZIP
    except (zipfile.BadZipFile, ValueError, OSError, NotImplementedError):
        return None  # starts like a zip but is not one


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


def _text_kind(data: bytes) -> str | None:
    sample = data[:65536]
    cut = len(data) > len(sample)
    if sample.startswith(b"\xef\xbb\xbf"):
        sample = sample[3:]
    try:
        text = sample.decode("utf-8")
    except UnicodeDecodeError as exc:
        if not cut or exc.start < len(sample) - 3:  # only a character cut by the sample's end is forgiven
            return None
            return None
        text = sample[:exc.start].decode("utf-8")
    if not text.strip() or _CONTROL.search(text):
        return None
    start = text.lstrip()[:200].lower()
    if start.startswith(("<!doctype html", "<html")) or "<script" in text[:4096].lower():
        return HTML
    if start.startswith("<svg") or (start.startswith("<?xml") and "<svg" in text[:4096].lower()):
        return SVG
    if start.startswith("<?xml"):
        return XML
    return CSV if _looks_like_csv(text) else TEXT


def _looks_like_csv(text: str) -> bool:
    lines = [line for line in text.splitlines()[:20] if line.strip()]
    if len(lines) < 2:
        return False
    for sep in (",", ";", "\t"):
        counts = {line.count(sep) for line in lines[:-1] or lines}  # the sample's last line may be cut
        if len(counts) == 1 and counts.pop() >= 1:
            return True
    return False


def resolve(allowed: list[str]) -> list[str]:
    """A brief's accepted types as MIME types ('pdf' -> application/pdf; 'image/*' stays a pattern)."""
    return [ALIASES.get(a.strip().lower(), a.strip().lower()) for a in allowed]


def is_allowed(kind: str | None, allowed: list[str]) -> bool:
    if kind is None:
        return False
    for a in resolve(allowed):
        if a == kind or (a.endswith("/*") and kind.startswith(a[:-1])) or (a == TEXT and kind in (CSV, MARKDOWN)):
            return True
        if a in (CSV, MARKDOWN) and kind == TEXT:  # a CSV or Markdown file is text; the heuristic may miss it
            return True
    return False


def describe(kinds: list[str]) -> str:
    words = [WORDS.get(k, k) for k in resolve(kinds)]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


@dataclass(frozen=True)
class UploadProblem:
    """Why an upload cannot be accepted, in words for the person who sent it."""

    code: str  # empty | too_large | not_really_pdf | type_not_allowed
    message: str
    field: str = "file"


def check_upload(name: str, data: bytes, allowed: list[str], max_bytes: int) -> UploadProblem | None:
    """None when the file may be kept; otherwise what is wrong with it. The type comes from the
    content; the name only shows which file is meant (and whether it claims to be a PDF)."""
    shown = safe_display_name(name)
    if not data:
        return UploadProblem("empty", f"“{shown}” is empty (0 bytes). Choose the file again; if it is open in "
                                      "another program, save it there first.")
    if len(data) > max_bytes:
        return UploadProblem("too_large", f"“{shown}” is {_size(len(data))}; files for this brief may be at most "
                                          f"{_size(max_bytes)}.")
    kind = sniff(data)
    claimed = _CLAIMS.get(_extension(shown))
    if claimed == PDF and kind != PDF:
        what = WORDS.get(kind, "not a file type we recognise") if kind else "not a file type we recognise"
        return UploadProblem("not_really_pdf", f"“{shown}” is named as a PDF but its content is not a PDF "
                                               f"({what}). Export or print it to PDF again and upload that file.")
    if not is_allowed(kind, allowed):
        what = WORDS.get(kind, kind) if kind else "a file type we do not recognise"
        return UploadProblem("type_not_allowed", f"“{shown}” is {_article(what)}; this brief accepts "
                                                 f"{describe(allowed)}.")
    return None


_AN = {WORDS[k] for k in (MP4, M4A, XLSX, ODT, ODS, ODP, OLE, SVG, XML)}


def _article(what: str) -> str:
    if what.startswith("a file") or what == WORDS[TEXT]:
        return what
    return ("an " if what in _AN else "a ") + what


def _size(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):.1f} MB".replace(".0 MB", " MB")
    if n >= 1024:
        return f"{n // 1024} KB"
    return f"{n} bytes"


def _extension(name: str) -> str:
    dot = name.rfind(".")
    return name[dot:].lower() if dot > 0 else ""


_UNSAFE = re.compile(r'[<>:"/\\|?*]')
MAX_NAME = 120


def safe_display_name(name: str | None, fallback: str = "file") -> str:
    """A learner's file name fit to show and to offer as a download name: the last path part only,
    no control or direction-changing characters, no characters that mean something to a file system
    or a shell, no leading dots, at most MAX_NAME characters (keeping the extension). It is never
    used as a path or a storage key."""
    name = unicodedata.normalize("NFC", name or "")
    name = re.split(r"[/\\]", name)[-1]
    name = "".join(" " if unicodedata.category(c) in ("Cc", "Zl", "Zp") else c for c in name
                   if unicodedata.category(c) not in ("Cf", "Cs", "Co", "Cn"))
    name = _UNSAFE.sub("_", name)
    name = " ".join(name.split()).lstrip(". ").rstrip(" .")
    if not name:
        return fallback
    if len(name) > MAX_NAME:
        ext = _extension(name)
        ext = ext if 1 < len(ext) <= 10 else ""
        name = name[:MAX_NAME - len(ext)].rstrip(" .") + ext
    return name


def content_disposition(name: str, inline: bool = False) -> str:
    """A Content-Disposition header for a download named `name` (made safe first): an ASCII fallback and
    the UTF-8 name (RFC 6266 / 5987)."""
    shown = safe_display_name(name)
    ascii_name = unicodedata.normalize("NFKD", shown).encode("ascii", "ignore").decode() or "file"
    ascii_name = ascii_name.replace('"', "_").replace("%", "_")
    return f"{'inline' if inline else 'attachment'}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(shown)}"
