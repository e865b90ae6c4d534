"""Bulk verification through the page: a CSV of numbers and surnames (or credential files) in, a table
and a CSV of results out, with the answers /verify gives one at a time."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import timedelta

import pytest

from api.certificates import service
from api.core.config import get_settings
from api.core.db import utcnow
from tests.conftest import csrf_from


@pytest.fixture
def employer(make_user, login):
    make_user("hiring@employer.example.com", name="Hana Hiring")
    login("hiring@employer.example.com")


@pytest.fixture
def five(db, issued, admin):
    """A certificate in each standing: valid, expired, suspended, revoked, superseded."""
    _, _, valid = issued(name="Ama Owusu")
    _, _, expired = issued(name="Bea Núñez")
    expired.expires_at = utcnow() - timedelta(days=2)
    db.add(expired)
    _, _, suspended = issued(name="Chidi Okafor")
    service.change_status(db, suspended, "suspend", "Instalment overdue", admin)
    _, _, revoked = issued(name="Dara O'Neill")
    service.change_status(db, revoked, "revoke", "Assessment found to be plagiarised", admin)
    _, _, superseded = issued(name="Eli Cohen")
    superseded.status = "superseded"
    db.add(superseded)
    db.commit()
    return {"valid": valid, "expired": expired, "suspended": suspended, "revoked": revoked, "superseded": superseded}


def upload(client, data: bytes, name: str = "list.csv", output: str = "page", field: str = "csv_file"):
    token = csrf_from(client.get("/verify/bulk").text)
    return client.post("/verify/bulk", data={"csrf_token": token, "output": output},
                       files={field: (name, data, "text/csv")})


def table_rows(html: str) -> list[dict[str, str]]:
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    rows = []
    for tr in re.findall(r"<tr>(.*?)</tr>", body, re.S):
        cells = re.findall(r'<td data-label="([^"]+)">(.*?)</td>', tr, re.S)
        rows.append({k: re.sub(r"<[^>]+>", "", v).strip() for k, v in cells})
    return rows


def download(client, html: str) -> list[dict[str, str]]:
    sealed = re.search(r'name="results" value="([^"]+)"', html).group(1)
    r = client.post("/verify/bulk/results.csv", data={"csrf_token": csrf_from(html), "results": sealed})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert r.headers["content-disposition"].startswith("attachment; filename=\"cadre-verification-")
    return list(csv.DictReader(io.StringIO(r.text)))


def what_verify_says(client, number: str, surname: str) -> str:
    """The one-at-a-time answer: /verify by number and surname, then the page's heading."""
    page = client.get("/verify")
    r = client.post("/verify", data={"csrf_token": csrf_from(page.text), "number": number, "surname": surname})
    if r.status_code == 404:
        return "Not found"
    return re.search(r'<h1 id="result">([^<]+)</h1>', r.text).group(1)


def test_the_round_trip_gives_each_status_as_verify_does(client, employer, five):
    lines = ["Certificate number,Surname", ""]
    typed = {
        "valid": (five["valid"].number.lower().replace("-", " "), "OWUSU"),  # typed loosely, as /verify forgives
        "expired": (five["expired"].number, "Nunez"),  # accents forgiven
        "suspended": (five["suspended"].number, "Chidi Okafor"),  # the whole name: its last word counts
        "revoked": (five["revoked"].number, "O'Neill"),
        "superseded": (five["superseded"].number, "Cohen"),
    }
    for number, surname in typed.values():
        lines.append(f"{number},{surname}")
    lines += ["", f"{five['valid'].number},Someone-Else", "ACXP-0000-0000-0000,Owusu", "   ,   ", ""]
    data = ("\ufeff" + "\r\n".join(lines)).encode("utf-8")  # Excel's "CSV UTF-8" starts with a BOM

    r = upload(client, data)
    assert r.status_code == 200, r.text
    rows = table_rows(r.text)
    assert [row["Status"] for row in rows] == ["Valid", "Expired", "Suspended", "Revoked", "Superseded",
                                               "Not found", "Not found"]
    assert rows[0]["Holder"] == "Ama Owusu" and rows[0]["Achievement"].endswith("(ACXP)")
    assert "Instalment overdue" in rows[2]["Detail"] and "plagiarised" in rows[3]["Detail"]
    assert rows[5]["Detail"] == rows[6]["Detail"] == "No certificate matches this number and surname."
    assert [row["Line"] for row in rows] == ["3", "4", "5", "6", "7", "9", "10"]  # header and blank lines skipped

    # Exactly what /verify answers for each, one at a time.
    for (number, surname), row in zip([*typed.values(), (five["valid"].number, "Someone-Else")], rows, strict=False):
        assert what_verify_says(client, number, surname) == row["Status"]

    downloaded = download(client, r.text)
    assert [d["Status"] for d in downloaded] == [row["Status"] for row in rows]
    assert downloaded[0]["Certificate number"] == typed["valid"][0] and downloaded[0]["Holder"] == "Ama Owusu"
    assert downloaded[1]["Expires"] == five["expired"].expires_at.date().isoformat()
    assert all(d["Checked at"].endswith("UTC") for d in downloaded)


def test_check_and_download_at_once(client, employer, five):
    r = upload(client, f"{five['revoked'].number},O'Neill\n".encode(), output="csv")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    (row,) = list(csv.DictReader(io.StringIO(r.text)))
    assert row["Status"] == "Revoked" and row["Source"] == "line 1"


def test_a_private_certificate_shows_only_its_status(client, employer, db, five):
    service.set_private(db, five["valid"], True)
    db.commit()
    r = upload(client, f"{five['valid'].number},Owusu\n".encode())
    (row,) = table_rows(r.text)
    assert row["Status"] == "Valid" and row["Holder"] == "" and "private" in row["Detail"]


def test_ten_thousand_rows_are_refused_whole(client, employer, five):
    lines = ["Certificate number,Surname"] + [f"{five['valid'].number},Owusu"] * 10_000
    r = upload(client, "\n".join(lines).encode())
    assert r.status_code == 422
    assert "This file has 10,000 certificates to check; at most 1,000 are checked at once." in r.text
    assert "Nothing was checked" in r.text and "<tbody>" not in r.text
    # Exactly the limit is fine.
    r = upload(client, "\n".join(lines[:1001]).encode())
    assert r.status_code == 200 and len(table_rows(r.text)) == 1000


def test_formula_cells_are_neutralised_in_the_csv(client, employer, five):
    evil = ['=HYPERLINK("http://evil.example","Click")', "+SUM(A1:A9)", "-2+3", "@cmd", "\tTabbed"]
    out = io.StringIO()
    csv.writer(out).writerows([[five["valid"].number, evil[0]], [evil[1], "Owusu"], [evil[2], evil[3]],
                               [evil[4], "x"]])
    r = upload(client, out.getvalue().encode())
    assert r.status_code == 200
    assert "HYPERLINK(&#34;http://evil.example&#34;,&#34;Click&#34;)" in r.text  # shown as text, escaped
    downloaded = download(client, r.text)
    assert downloaded[0]["Surname"] == "'" + evil[0] and downloaded[0]["Status"] == "Not found"
    assert downloaded[1]["Certificate number"] == "'+SUM(A1:A9)"
    assert downloaded[2]["Certificate number"] == "'-2+3" and downloaded[2]["Surname"] == "'@cmd"
    for d in downloaded:
        assert not any(v[:1] in ("=", "+", "-", "@", "\t") for v in d.values() if v)


@pytest.mark.parametrize(("encoding", "label"), [
    ("utf-16", "utf-16"),  # with its BOM, as Excel's "Unicode text" writes it
    ("utf-16-le", "utf-16"),  # without one
    ("cp1252", "cp1252"),  # Excel's plain CSV on Windows
])
def test_odd_encodings_are_read(client, employer, five, encoding, label):
    text = f"Número;Apellido\r\n{five['expired'].number};Núñez\r\n"  # and a semicolon, as European Excel writes
    text = text.replace("Número;Apellido", "Certificate number;Surname")
    r = upload(client, text.encode(encoding))
    assert r.status_code == 200, r.text
    (row,) = table_rows(r.text)
    assert row["Status"] == "Expired" and row["Holder"] == "Bea Núñez"
    assert f"read as {label}" in r.text


def test_what_is_not_a_csv_is_refused_clearly(client, employer):
    r = upload(client, b"PK\x03\x04" + b"\x00" * 100, name="list.xlsx")
    assert r.status_code == 422 and "spreadsheet workbook, not a CSV file" in r.text
    r = upload(client, bytes(range(256)) * 4, name="random.bin")
    assert r.status_code == 422 and "not a text CSV file" in r.text
    r = upload(client, b"\n\n  \n")
    assert r.status_code == 422 and "The file is empty" in r.text
    r = upload(client, b"Certificate number,Programme\nACXP-1,ACXP\n")
    assert r.status_code == 422 and "none of them is the holder" in r.text
    token = csrf_from(client.get("/verify/bulk").text)
    r = client.post("/verify/bulk", data={"csrf_token": token})
    assert r.status_code == 422 and "Choose a CSV file" in r.text


def test_rows_without_a_surname_are_not_checked_and_say_why(client, employer, five):
    r = upload(client, f"{five['valid'].number}\n,Owusu\n{five['valid'].number},Owusu\n".encode())
    rows = table_rows(r.text)
    assert [row["Status"] for row in rows] == ["Not checked", "Not checked", "Valid"]
    assert "No surname" in rows[0]["Detail"] and "No certificate number" in rows[1]["Detail"]


def test_credential_files_are_verified_then_their_status_read(client, employer, db, five):
    good = json.dumps(five["valid"].credential).encode()
    revoked = json.dumps(five["revoked"].credential).encode()
    tampered = dict(five["valid"].credential, name="Something I never earned")
    jwt = b"eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."
    token = csrf_from(client.get("/verify/bulk").text)
    files = [("credentials", ("ama.json", good, "application/json")),
             ("credentials", ("dara.json", revoked, "application/json")),
             ("credentials", ("edited.json", json.dumps(tampered).encode(), "application/json")),
             ("credentials", ("token.jwt", jwt, "application/json"))]
    r = client.post("/verify/bulk", data={"csrf_token": token}, files=files)
    assert r.status_code == 200, r.text
    rows = table_rows(r.text)
    assert [(row["File"], row["Status"]) for row in rows] == [
        ("ama.json", "Valid"), ("dara.json", "Revoked"), ("edited.json", "Not verified"), ("token.jwt", "Not verified")]
    assert rows[0]["Number"] == five["valid"].number and rows[0]["Holder"] == "Ama Owusu"
    assert "signature" in rows[2]["Detail"].lower() and "unsigned JWT" in rows[3]["Detail"]
    assert [d["Status"] for d in download(client, r.text)] == ["Valid", "Revoked", "Not verified", "Not verified"]


def test_the_rows_checked_are_limited_per_account(client, employer, five, monkeypatch):
    monkeypatch.setattr(get_settings(), "bulk_rows_per_hour", 5)
    line = f"{five['valid'].number},Owusu\n"
    assert upload(client, (line * 3).encode()).status_code == 200
    r = upload(client, (line * 3).encode())
    assert r.status_code == 429 and "You have checked 5 certificates in the last hour" in r.text
    assert "<tbody>" not in r.text


def test_only_logged_in_people_and_only_their_own_results(client, make_user, login, five):
    r = client.get("/verify/bulk", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    make_user("first@employer.example.com")
    login("first@employer.example.com")
    r = upload(client, f"{five['valid'].number},Owusu\n".encode())
    sealed = re.search(r'name="results" value="([^"]+)"', r.text).group(1)
    client.cookies.clear()
    make_user("second@employer.example.com")
    login("second@employer.example.com")
    page = client.get("/verify/bulk")
    r = client.post("/verify/bulk/results.csv", data={"csrf_token": csrf_from(page.text), "results": sealed})
    assert r.status_code == 410 and "Upload the file again" in r.text
    r = client.post("/verify/bulk/results.csv", data={"csrf_token": csrf_from(page.text), "results": sealed + "x"})
    assert r.status_code == 410
    # Without the form's token, refused.
    r = client.post("/verify/bulk", files={"csv_file": ("a.csv", b"x,y", "text/csv")})
    assert r.status_code == 403
