"""An employer checks a list of certificates at once in a real browser: uploads a CSV of numbers and
surnames at /verify/bulk, reads the results table (on a wide screen and on a phone), downloads the CSV."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from pathlib import Path

from playwright.sync_api import expect

from tests.conftest import ROOT
from tests.e2e.checks import check_page
from tests.e2e.conftest import shot

PASSWORD = "a-long-password-1"

# Three certificates on the journey's own server: one valid, one revoked, one expired.
ISSUE = """
import sys
from pathlib import Path
from datetime import timedelta
from sqlmodel import Session
from api.accounts import service as accounts
from api.accounts.models import Role
from api.accounts.schemas import UserCreate
from api.catalog import service as catalog
from api.certificates import service as certificates
from api.core.db import get_engine, utcnow
from api.learning import service as learning
from api.learning.models import EnrolmentSource, EnrolmentStatus
with Session(get_engine()) as s:
    admin = accounts.create_user(s, UserCreate(email="bulk-admin@example.com", full_name="Bea Admin",
                                 password="a-long-password-1"), roles={Role.admin}, verified=True)
    acxp = catalog.get_by_slug(s, "acxp")
    for email, name in [("kofi@example.com", "Kofi Mensah"), ("lena@example.com", "Lena Vogel"),
                        ("ravi@example.com", "Ravi Shah")]:
        user = accounts.create_user(s, UserCreate(email=email, full_name=name, password="a-long-password-1"),
                                    verified=True)
        e = learning.enrol(s, user_id=user.id, programme_id=acxp.id, source=EnrolmentSource.admin_grant,
                           check_prerequisites=False)
        e.status = EnrolmentStatus.completed.value
        s.add(e)
        cert = certificates.issue(s, user=user, programme=acxp, holder_name=name, enrolment=e)
        if name == "Lena Vogel":
            certificates.change_status(s, cert, "revoke", "Withdrawn after an appeal", admin)
        if name == "Ravi Shah":
            cert.expires_at = utcnow() - timedelta(days=1)
            s.add(cert)
        print(cert.number)
    s.commit()
"""


# Words of the results table drawn on more than one line (a word broken mid-word), as "cell: word".
BROKEN_WORDS = """() => {
  const broken = [];
  for (const td of document.querySelectorAll('table.bulk-results td')) {
    const walker = document.createTreeWalker(td, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      for (const m of node.textContent.matchAll(/[^\\s-]+/g)) {
        const range = document.createRange();
        range.setStart(node, m.index);
        range.setEnd(node, m.index + m[0].length);
        const lines = new Set([...range.getClientRects()].filter(r => r.width > 0).map(r => Math.round(r.top)));
        if (lines.size > 1) broken.push(td.dataset.label + ': ' + m[0]);
      }
    }
  }
  return broken;
}"""


def test_an_employer_checks_a_list_and_downloads_the_results(page, new_page, live_server):
    run = subprocess.run([sys.executable, "-c", ISSUE], env=live_server["env"], cwd=ROOT, capture_output=True,
                         text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    kofi, lena, ravi = run.stdout.split()
    made = subprocess.run([sys.executable, "-m", "api.cli", "users", "create", "hr@employer.example.com", "--name",
                           "Hana Hiring", "--password", PASSWORD], env=live_server["env"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert made.returncode == 0, made.stderr

    page.goto("/verify/bulk")
    page.get_by_label("Email address").fill("hr@employer.example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/verify/bulk")
    expect(page.get_by_role("heading", level=1)).to_have_text("Verify certificates in bulk")
    check_page(page)

    # a long surname: on a wide screen it stays whole (it used to be broken to squeeze its column)
    listing = (f"Certificate number,Surname\n{kofi},Mensah\n{lena},Vogel\n{ravi},Shah\n"
               "ACXP-0000-0000-0000,Konstantinopoulou\n")
    page.get_by_label("CSV file").set_input_files(files=[{"name": "applicants.csv", "mimeType": "text/csv",
                                                          "buffer": listing.encode("utf-8")}])
    page.get_by_role("button", name="Check the list").click()
    expect(page.get_by_role("heading", name="Results")).to_be_visible()
    table = page.get_by_role("table")
    expect(table.get_by_role("row")).to_have_count(5)  # the header and four answers
    for number, status in [(kofi, "Valid"), (lena, "Revoked"), (ravi, "Expired"), ("ACXP-0000-0000-0000", "Not found")]:
        expect(table.get_by_role("row").filter(has_text=number)).to_contain_text(status)
    expect(table.get_by_role("row").filter(has_text=lena)).to_contain_text("Withdrawn after an appeal")
    check_page(page)
    shot(page, "bulk-verify-results-1100")
    # On a wide screen no surname, name or word of a detail is broken in the middle to squeeze the table.
    page.set_viewport_size({"width": 1280, "height": 900})
    assert page.evaluate(BROKEN_WORDS) == []
    shot(page, "bulk-verify-results-1280")
    page.set_viewport_size({"width": 1100, "height": 900})

    with page.expect_download() as info:
        page.get_by_role("button", name="Download the results (CSV)").click()
    download = info.value
    assert download.suggested_filename.startswith("cadre-verification-")
    rows = list(csv.DictReader(io.StringIO(Path(download.path()).read_text(encoding="utf-8"))))
    assert [(r["Certificate number"], r["Status"]) for r in rows] == [
        (kofi, "Valid"), (lena, "Revoked"), (ravi, "Expired"), ("ACXP-0000-0000-0000", "Not found")]

    # On a phone the table's rows become cards, nothing scrolls sideways.
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    shot(page, "bulk-verify-results-390")

    # Too many rows: refused whole, with a message beside the field.
    page.set_viewport_size({"width": 1100, "height": 900})
    page.goto("/verify/bulk")
    big = "Certificate number,Surname\n" + f"{kofi},Mensah\n" * 1001
    page.get_by_label("CSV file").set_input_files(files=[{"name": "too-many.csv", "mimeType": "text/csv",
                                                          "buffer": big.encode()}])
    page.get_by_role("button", name="Check the list").click()
    expect(page.get_by_text("at most 1,000 are checked at once")).to_be_visible()
    expect(page.get_by_role("heading", name="Results")).to_have_count(0)
    check_page(page)
