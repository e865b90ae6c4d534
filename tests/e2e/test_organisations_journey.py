"""An owner creates an organisation, buys 3 seats of ACXP through the offline checkout, invites two
colleagues by email; one accepts by creating an account from the link, shares their progress, gets a
seat and finishes a lesson; the owner's team dashboard shows that progress; finally the owner checks a
CSV of certificate numbers at once on the bulk verification page. In Chromium, with axe-core and the
390 px check on every page visited (tests/e2e/conftest.py)."""

from __future__ import annotations

import re
import subprocess
import sys
import time
import uuid
from email import message_from_bytes
from email import policy as email_policy

from playwright.sync_api import expect

from tests.conftest import ROOT

PASSWORD = "a-long-password-1"


def _cli(live_server, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "api.cli", *args], env=live_server["env"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)


def _log_in(page, email: str) -> None:
    page.goto("/login")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


# A certificate the colleague already holds (CPP, issued as an earlier accreditation would have been).
ISSUE = """
import sys
from sqlmodel import Session
from api.accounts import service as accounts
from api.catalog import service as catalog
from api.certificates import service as certificates
from api.core.db import get_engine
with Session(get_engine()) as s:
    user = accounts.get_by_email(s, sys.argv[1])
    cert = certificates.issue(s, user=user, programme=catalog.get_by_slug(s, "cpp"), holder_name=user.full_name)
    s.commit()
    print(cert.number)
"""


def _invitation_link(live_server, address: str) -> str:
    """The accept link mailed to `address` (the server's worker writes mail to var/mail as .eml files)."""
    folder = live_server["work"] / "var" / "mail"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        for path in sorted(folder.glob("*.eml")) if folder.exists() else []:
            msg = message_from_bytes(path.read_bytes(), policy=email_policy.default)
            if address in str(msg["To"]):
                body = msg.get_body(("plain",)).get_content()
                m = re.search(r"https?://\S+(/organisations/invitations/[\w-]+)", body)
                if m:
                    return m.group(1)
        time.sleep(0.25)
    raise AssertionError(f"no invitation mailed to {address}")


def test_owner_buys_seats_invites_and_follows_a_colleagues_progress(page, new_page, live_server):
    tag = uuid.uuid4().hex[:6]
    owner_email, first, second = (f"{who}-{tag}@example.com" for who in ("owner", "asha", "ben"))
    assert _cli(live_server, "users", "create", owner_email, "--name", "Olu Owner", "--password",
                PASSWORD).returncode == 0

    # The owner creates the organisation.
    _log_in(page, owner_email)
    page.goto("/organisations")
    page.get_by_label("Name", exact=True).fill(f"Journey Co {tag}")
    page.get_by_label("VAT number (optional)").fill("GB123456789")
    page.get_by_role("button", name="Create the organisation").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Journey Co {tag}")
    home = page.url

    # Three seats of ACXP, paid through the offline provider's checkout.
    page.get_by_role("link", name=re.compile("^Seats")).click()
    page.get_by_label("Programme").select_option("acxp")
    page.get_by_label("Number of seats").fill("3")
    page.get_by_role("button", name="Go to payment").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile("^Pay for"))
    expect(page.locator("dl.facts")).to_contain_text("£4,350")
    page.get_by_role("button", name="Pay £4,350").click()
    expect(page).to_have_url(re.compile(r"/seats\?paid=ord_"))
    expect(page.get_by_text("of 3 seats free")).to_be_visible()

    # Two colleagues invited by email.
    page.goto(home)
    for address in (first, second):
        page.get_by_label("Email address").fill(address)
        page.get_by_role("button", name="Send the invitation").click()
        expect(page.get_by_text(f"Invitation sent to {address}.")).to_be_visible()
    expect(page.locator("#invitations")).to_contain_text(second)

    # The first accepts from the link by creating an account, and shares progress.
    colleague = new_page()
    colleague.goto(_invitation_link(live_server, first))
    expect(colleague.get_by_role("heading", level=1)).to_have_text(f"Join Journey Co {tag}")
    colleague.get_by_label("Full name").fill("Asha Colleague")
    colleague.get_by_label("Password").fill(PASSWORD)
    colleague.get_by_role("button", name="Create my account and join").click()
    expect(colleague.get_by_text("you are a member of")).to_be_visible()
    colleague.get_by_label("Share my progress").check()
    colleague.get_by_role("button", name="Save my choice").click()
    expect(colleague.get_by_text("managers now see your progress")).to_be_visible()

    # The owner gives them a seat.
    page.goto(home + "/seats")
    page.get_by_label("Give a seat to").fill(first)
    page.get_by_role("button", name="Assign a seat").click()
    expect(page.get_by_text("Asha Colleague has a seat and is enrolled")).to_be_visible()
    expect(page.get_by_text("2 of 3 seats free")).to_be_visible()

    # They start: the first lesson, marked complete.
    colleague.goto("/learn/acxp/what-customer-experience-is")
    colleague.get_by_role("button", name="Mark complete").click()
    colleague.goto("/learn/acxp/what-customer-experience-is")
    expect(colleague.get_by_text("You completed this lesson on")).to_be_visible()

    # The team dashboard shows their progress; the seat can no longer be taken back.
    page.goto(home + "/team")
    row = page.get_by_role("row").filter(has_text="Asha Colleague")
    expect(row).to_contain_text(re.compile(r"ACXP.*our seat.*\d+% \(1 of \d+ lessons\)", re.S))
    page.goto(home + "/seats")
    expect(page.get_by_role("row").filter(has_text="Asha Colleague")).to_contain_text("yes: the seat is theirs")

    # The colleague's certificate is public on /verify, so the team lists it whatever they share.
    issued = subprocess.run([sys.executable, "-c", ISSUE, first], env=live_server["env"], cwd=ROOT,
                            capture_output=True, text=True, timeout=60)
    assert issued.returncode == 0, issued.stderr
    number = issued.stdout.strip()
    page.goto(home + "/team")
    expect(page.get_by_role("row").filter(has_text="Asha Colleague")).to_contain_text(number)

    # The owner checks a list of certificates at once (bulk verification).
    page.goto("/verify/bulk")
    expect(page.get_by_role("heading", level=1)).to_have_text("Verify certificates in bulk")
    listing = f"Certificate number,Surname\n{number},Colleague\nCPP-0000-0000-0000,Nobody\n"
    page.get_by_label("CSV file").set_input_files(files=[{"name": "team.csv", "mimeType": "text/csv",
                                                          "buffer": listing.encode("utf-8")}])
    page.get_by_role("button", name="Check the list").click()
    expect(page.get_by_role("heading", name="Results")).to_be_visible()
    table = page.get_by_role("table")
    expect(table.get_by_role("row").filter(has_text=number)).to_contain_text("Valid")
    expect(table.get_by_role("row").filter(has_text="CPP-0000-0000-0000")).to_contain_text("Not found")
