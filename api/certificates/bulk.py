"""Bulk verification: many certificates checked at once, from a CSV of numbers and surnames or from
credential files, with exactly the answers /verify gives one at a time (the same normalisation of
numbers and surnames, the same `effective_status`, the same signature checks as POST /api/v1/verify).

A file is read whole before anything is checked: one that is too long, not text, or has no number
column is refused with a message and no row is checked (never a partial answer). Rows a person can
fix (a missing surname, a cell that is no certificate number) are answered "not checked" beside the
others. Reads only; the page and the API both count the rows against an hourly allowance per account
(or per API key), in memory or Redis like the look-up limits (api/core/counters.py).
"""

from __future__ import annotations

import base64
import codecs
import csv
import hashlib
import hmac
import io
import json
import re
import time
import zlib
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlmodel import Session, col, select

from api.catalog.models import Programme
from api.certificates import service, signing
from api.certificates.models import Certificate
from api.certificates.stored import CRYPTOGRAPHIC
from api.certificates.verify import VerificationResult
from api.core import counters
from api.core.config import get_settings
from api.core.db import utcnow
from api.core.errors import Invalid, TooManyRequests
from api.learning.reports import csv_cell

MAX_CSV_BYTES = 2 * 1024 * 1024  # a thousand rows fit in a small fraction of this
MAX_CREDENTIAL_BYTES = 256 * 1024  # as POST /api/v1/verify
MAX_FILES = 50
NOT_FOUND = "not found"
NOT_CHECKED = "not checked"
NOT_VERIFIED = "not verified"
# In the order the summary lists them.
STATUSES = ("valid", "expired", "suspended", "revoked", "superseded", NOT_FOUND, NOT_VERIFIED, NOT_CHECKED)
STATUS_WORDS = {
    "valid": "Valid", "expired": "Expired", "suspended": "Suspended", "revoked": "Revoked",
    "superseded": "Superseded", NOT_FOUND: "Not found", NOT_VERIFIED: "Not verified", NOT_CHECKED: "Not checked",
}
NO_MATCH = "No certificate matches this number and surname."
PRIVATE = "The holder keeps the details private; only the status is shown."

_NUMBER_WORDS = ("certificate", "number", "cert", "credential", "no", "no.", "nr", "id", "reference")
_SURNAME_WORDS = ("surname", "last name", "lastname", "family name", "familyname", "holder", "name")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass
class BulkRow:
    source: str  # "line 3" of the CSV, or the credential file's name
    number: str  # as given (a file: the certificate's number when Cadre knows it)
    surname: str
    status: str  # one of STATUSES
    achievement: str = ""
    holder: str = ""
    issued_at: str = ""  # ISO dates, so a sealed result (below) round-trips exactly
    expires_at: str = ""
    detail: str = ""


@dataclass
class BulkResult:
    kind: str  # csv | files
    rows: list[BulkRow]
    checked_at: datetime = field(default_factory=utcnow)
    encoding: str | None = None  # how the CSV was read, when it was not plain UTF-8

    @property
    def counts(self) -> dict[str, int]:
        seen = Counter(r.status for r in self.rows)
        return {s: seen[s] for s in STATUSES if seen[s]}

    def as_json(self) -> dict[str, Any]:
        return {"checked_at": self.checked_at.isoformat().replace("+00:00", "Z"), "count": len(self.rows),
                "counts": self.counts, "results": [asdict(r) for r in self.rows]}


def human_date(iso: str) -> str:
    """A result's ISO date as every page shows dates: "1 December 2026"."""
    try:
        return date.fromisoformat(iso).strftime("%-d %B %Y")
    except ValueError:
        return iso


# --- reading what was uploaded ----------------------------------------------------------------

def decode_text(data: bytes) -> tuple[str, str]:
    """The file's text and the encoding it was read as: a BOM decides (UTF-8, UTF-16, UTF-32); else
    UTF-16 without one is recognised by its zero bytes; else UTF-8, then Windows-1252 (what Excel
    writes on Windows), then Latin-1. Anything that is not text after that is refused."""
    if not data.strip():
        raise Invalid("The file is empty: choose the CSV file with the certificate numbers and surnames.",
                      code="empty_file")
    if data[:4] == b"PK\x03\x04" or data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise Invalid("This is a spreadsheet workbook, not a CSV file. In your spreadsheet choose Save as (or "
                      "Download) and pick CSV, then upload that file.", code="not_csv")
    boms = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF8, "utf-8-sig"),
            (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
    candidates: list[str] = []
    for bom, name in boms:
        if data.startswith(bom):
            candidates = [name]
            break
    else:
        sample = data[:4096]
        even, odd = sample[0::2].count(0), sample[1::2].count(0)
        if len(sample) >= 4 and odd > len(sample) // 4 and even == 0:
            candidates = ["utf-16-le"]
        elif len(sample) >= 4 and even > len(sample) // 4 and odd == 0:
            candidates = ["utf-16-be"]
        else:
            candidates = ["utf-8", "cp1252", "latin-1"]
    for name in candidates:
        try:
            text = data.decode(name)
        except UnicodeDecodeError:
            continue
        if _CONTROL.search(text):
            break  # decoded, but binary: no other guess will make it a CSV
        label = {"utf-8-sig": "utf-8", "utf-16-le": "utf-16", "utf-16-be": "utf-16"}.get(name, name)
        return text, label
    raise Invalid("This file is not a text CSV file that we can read. Save it as CSV (UTF-8) from your "
                  "spreadsheet and upload it again.", code="not_text")


def _fold(cell: str) -> str:
    return " ".join(cell.replace("_", " ").replace("-", " ").lower().split())


def _names(cell: str, words: tuple[str, ...]) -> bool:
    return any(cell == w or (w in cell if " " in w else w in cell.split()) for w in words)


def _header_columns(cells: list[str]) -> tuple[int, int] | None:
    """(number column, surname column) when `cells` is a header row (a cell names the certificate
    number), else None: the row is data."""
    folded = [_fold(c) for c in cells]
    number = next((i for i, c in enumerate(folded) if c and _names(c, _NUMBER_WORDS)), None)
    if number is None:
        return None
    surname = next((i for i, c in enumerate(folded) if i != number and c and _names(c, _SURNAME_WORDS)), None)
    if surname is None:
        raise Invalid("The first row names the columns but none of them is the holder's surname: call that "
                      "column 'Surname' (and the other 'Certificate number').", code="no_surname_column")
    return number, surname


def _delimiter(first_line: str) -> str:
    counts = {d: first_line.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def parse_csv(data: bytes) -> tuple[list[tuple[int, str, str]], str]:
    """(line, number, surname) for every row to check, and the encoding it was read as. A first row
    naming its columns is recognised and used; without one the first column is the number and the
    second the surname. Blank lines are skipped. More than CADRE_BULK_MAX_ROWS rows: refused whole."""
    if len(data) > MAX_CSV_BYTES:
        raise Invalid(f"This file is larger than {MAX_CSV_BYTES // (1024 * 1024)} MB. Check at most "
                      f"{get_settings().bulk_max_rows:,} certificates at once: split it into smaller files.",
                      code="too_large")
    text, encoding = decode_text(data)
    first = next((line for line in text.splitlines() if line.strip()), "")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(first))
    rows: list[tuple[int, str, str]] = []
    columns: tuple[int, int] | None = None
    seen_first = False
    try:
        for cells in reader:
            cells = [c.strip() for c in cells]
            if not any(cells):
                continue
            if not seen_first:
                seen_first = True
                columns = _header_columns(cells)
                if columns is not None:
                    continue
                columns = (0, 1)
            n, s = columns
            rows.append((reader.line_num, cells[n] if n < len(cells) else "", cells[s] if s < len(cells) else ""))
    except csv.Error as exc:
        raise Invalid(f"The CSV file cannot be read near line {reader.line_num} ({exc}). Save it again as CSV "
                      "from your spreadsheet.", code="bad_csv") from None
    check_count(len(rows))
    return rows, encoding


def check_count(count: int) -> None:
    limit = get_settings().bulk_max_rows
    if count == 0:
        raise Invalid("The file has no certificates to check: put a certificate number and the holder's surname "
                      "on each line.", code="no_rows")
    if count > limit:
        raise Invalid(f"This file has {count:,} certificates to check; at most {limit:,} are checked at once. "
                      f"Nothing was checked: split the file into parts of up to {limit:,} rows and upload each.",
                      code="too_many_rows")


def rows_from_json(payload: Any) -> list[tuple[int, str, str]]:
    """The API's JSON body: a list of {"number", "surname"}, or {"certificates": [...]} holding one."""
    items = payload.get("certificates") if isinstance(payload, dict) else payload
    if not isinstance(items, list):
        raise Invalid('Send a JSON list of {"number": ..., "surname": ...} objects, or a CSV body (text/csv).',
                      code="bad_body")
    rows = []
    for i, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            raise Invalid(f'Item {i} is not an object with "number" and "surname".', code="bad_body")
        number, surname = item.get("number", ""), item.get("surname", "")
        rows.append((i, number if isinstance(number, str) else "", surname if isinstance(surname, str) else ""))
    check_count(len(rows))
    return rows


# --- checking ---------------------------------------------------------------------------------

def _dates(cert: Certificate) -> dict[str, str]:
    return {"issued_at": cert.issued_at.date().isoformat(),
            "expires_at": cert.expires_at.date().isoformat() if cert.expires_at else ""}


def _known(cert: Certificate, programme: Programme | None, row: BulkRow, now: datetime) -> BulkRow:
    row.status = service.effective_status(cert, now)
    if cert.is_private:
        row.detail = PRIVATE
        return row
    row.achievement = f"{programme.title} ({programme.code})" if programme else ""
    row.holder = cert.holder_name
    for k, v in _dates(cert).items():
        setattr(row, k, v)
    standing = service.STANDING[row.status]
    row.detail = standing + (f" Reason: {cert.status_reason}" if cert.status_reason and
                             row.status in ("suspended", "revoked") else "")
    return row


def _programmes(session: Session, certs: Iterable[Certificate]) -> dict[int, Programme]:
    ids = sorted({c.programme_id for c in certs})  # a handful: one per programme in the catalogue
    if not ids:
        return {}
    return {p.id: p for p in session.exec(select(Programme).where(col(Programme.id).in_(ids)))}


def check_rows(session: Session, rows: list[tuple[int, str, str]], now: datetime | None = None) -> list[BulkRow]:
    """Each (line, number, surname) answered as /verify would answer it."""
    now = now or utcnow()
    codes = service.programme_codes(session)
    wanted: list[tuple[int, str, str, str | None]] = []
    for line, number, surname in rows:
        problem = None
        if not number:
            problem = "No certificate number on this line."
        elif not surname:
            problem = "No surname on this line: the surname is checked with the number."
        elif len(number) > 60 or len(surname) > 200 or _CONTROL.search(number + surname):
            problem = "This is not a certificate number and surname."
        wanted.append((line, number, surname, problem))
    normalised = {line: service.normalise_number(number, codes) for line, number, _, problem in wanted if not problem}
    found = service.by_numbers(session, list(normalised.values()))
    programmes = _programmes(session, found.values())
    out = []
    for line, number, surname, problem in wanted:
        row = BulkRow(source=f"line {line}", number=number, surname=surname, status=NOT_CHECKED)
        if problem:
            row.detail = problem
        else:
            cert = found.get(normalised[line])
            if cert is None or not service.surname_matches(cert, surname):
                row.status, row.detail = NOT_FOUND, NO_MATCH  # the same for a wrong surname: nothing to probe
            else:
                row = _known(cert, programmes.get(cert.programme_id), row, now)
        out.append(row)
    return out


@dataclass
class Presented:
    """A credential someone presented: every check, and Cadre's own certificate when it is one."""

    result: VerificationResult
    cert: Certificate | None
    doc: Any


def parse_presented(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return body.decode("utf-8", "replace")  # the verifier explains what it is (e.g. a JWT) or why not


def own_certificate(session: Session, doc: Any) -> Certificate | None:
    """The certificate a presented credential claims to be, if Cadre issued one with that id."""
    if isinstance(doc, dict) and isinstance(doc.get("id"), str):
        cert = service.find_by_slug(session, doc["id"].rsplit("/", 1)[-1])
        if cert is not None and cert.credential.get("id") == doc["id"]:
            return cert
    return None


def verify_presented(session: Session, body: bytes) -> Presented:
    """What POST /api/v1/verify answers: every check, with this site's status lists."""
    doc = parse_presented(body)
    return Presented(signing.verify(session, doc), own_certificate(session, doc), doc)


def crypto_checks(files: list[tuple[str, bytes]]) -> list[tuple[str, Any, VerificationResult | None, str]]:
    """The slow part of checking files, needing no database (run it outside any transaction): each
    (name, parsed document, signature and key checks, or None with the reason it was not checked)."""
    out = []
    for name, body in files:
        if len(body) > MAX_CREDENTIAL_BYTES:
            out.append((name, None, None, f"The file is larger than {MAX_CREDENTIAL_BYTES // 1024} KB; no "
                                          "credential is."))
            continue
        doc = parse_presented(body)
        out.append((name, doc, signing.verify_static(doc), ""))
    return out


def check_files(session: Session, checked: list[tuple[str, Any, VerificationResult | None, str]],
                now: datetime | None = None) -> list[BulkRow]:
    """Each presented credential: its own checks, then, for one of Cadre's certificates, its status now
    (what /verify says of it). The status list bits are the certificate's own, read from its row."""
    now = now or utcnow()
    out = []
    for name, doc, result, problem in checked:
        row = BulkRow(source=name[:200] or "(no name)", number="", surname="", status=NOT_CHECKED, detail=problem)
        if result is None:
            out.append(row)
            continue
        failure = next((c for c in result.checks if c.name in CRYPTOGRAPHIC and c.status == "fail"), None)
        cert = own_certificate(session, doc) if failure is None else None
        if failure is not None:
            row.status, row.detail = NOT_VERIFIED, failure.reason
        elif cert is None:
            row.status = NOT_FOUND
            row.detail = "The credential is well signed, but Cadre has no certificate with its id."
        else:
            row.number = cert.number
            row.surname = "" if cert.is_private else service.surname_of(cert.holder_name)
            row = _known(cert, session.get(Programme, cert.programme_id), row, now)
        out.append(row)
    return out


# --- limits -----------------------------------------------------------------------------------

def limit(bucket: str, rows: int) -> None:
    """Count `rows` against the hourly allowance of `bucket` (an account or an API key); over it: 429,
    and nothing is checked."""
    allowance = get_settings().bulk_rows_per_hour
    used, retry = counters.count(f"bulk:{bucket}", 3600, amount=rows)
    if used > allowance:
        minutes = max(1, (retry + 59) // 60)
        raise TooManyRequests(f"You have checked {allowance:,} certificates in the last hour, the most allowed. "
                              f"Try again in {minutes} minute{'s' if minutes != 1 else ''}.",
                              code="rate_limited", headers={"Retry-After": str(max(retry, 1))})


# --- the CSV of results, and carrying results to the download -----------------------------------

CSV_HEADER = ["Source", "Certificate number", "Surname", "Status", "Achievement", "Holder", "Issued", "Expires",
              "Detail", "Checked at"]


def to_csv(result: BulkResult) -> str:
    """The results as CSV; every cell a spreadsheet could take for a formula is neutralised."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_HEADER)
    at = result.checked_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    for r in result.rows:
        writer.writerow([csv_cell(v) for v in (r.source, r.number, r.surname, STATUS_WORDS[r.status], r.achievement,
                                               r.holder, r.issued_at, r.expires_at, r.detail, at)])
    return out.getvalue()


SEAL_SECONDS = 3600


def _seal_key() -> bytes:
    return hmac.new(get_settings().secret_key.encode(), b"cadre-bulk-results-v1", hashlib.sha256).digest()


def seal(result: BulkResult, owner: str) -> str:
    """The results, compressed and signed for `owner` (an account), so the page's download button can send
    them back to be written as CSV without Cadre storing them or checking everything again."""
    body = json.dumps({"o": owner, "t": int(time.time()), "k": result.kind, "at": result.checked_at.isoformat(),
                       "r": [list(asdict(r).values()) for r in result.rows]}, separators=(",", ":"))
    packed = base64.urlsafe_b64encode(zlib.compress(body.encode(), 9)).decode()
    return packed + "." + hmac.new(_seal_key(), packed.encode(), hashlib.sha256).hexdigest()


def unseal(token: str, owner: str) -> BulkResult | None:
    """The sealed results, if they were sealed here for `owner` within the last hour."""
    packed, _, mac = (token or "").rpartition(".")
    if not packed or not hmac.compare_digest(mac, hmac.new(_seal_key(), packed.encode(), hashlib.sha256).hexdigest()):
        return None
    try:
        data = json.loads(zlib.decompress(base64.urlsafe_b64decode(packed.encode()), bufsize=1 << 20))
        if data["o"] != owner or time.time() - int(data["t"]) > SEAL_SECONDS:
            return None
        rows = [BulkRow(*values) for values in data["r"]]
        return BulkResult(kind=data["k"], rows=rows, checked_at=datetime.fromisoformat(data["at"]))
    except (ValueError, KeyError, TypeError, zlib.error):
        return None
