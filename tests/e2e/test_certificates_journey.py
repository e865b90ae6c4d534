"""A learner finishes a programme (its lesson, then its practical assessment, marked and released by a
coach), confirms the name, downloads the PDF; an employer checks the link; an admin revokes; the same
link says so at once. And `cadre verify` checks the download."""

from __future__ import annotations

import re
import subprocess
import sys

from playwright.sync_api import expect

from tests.conftest import ROOT
from tests.e2e.checks import check_page

PASSWORD = "a-long-password-1"


def _cli(live_server, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "api.cli", *args], env=live_server["env"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)


def _allocate(live_server, learner: str, coach: str, admin: str) -> None:
    """An admin gives the learner's open submission to the journey's coach: the e2e server is shared, so
    equal-share allocation may have given it to a coach another journey made."""
    script = """
import sys
from sqlmodel import Session, select
from api.accounts import service as accounts
from api.assessments import allocation
from api.assessments.models import State, Submission
from api.core.db import get_engine
with Session(get_engine()) as s:
    learner, coach, admin = (accounts.get_by_email(s, e) for e in sys.argv[1:4])
    sub = s.exec(select(Submission).where(Submission.user_id == learner.id,
                                          Submission.state == State.submitted.value)).one()
    if sub.allocated_coach_id != coach.id:
        allocation.override(s, sub, coach, admin, "e2e: the journey's coach marks it")
    s.commit()
"""
    done = subprocess.run([sys.executable, "-c", script, learner, coach, admin], env=live_server["env"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


def _log_in(page, email: str) -> None:
    page.goto("/login")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def test_complete_confirm_download_verify_revoke(page, new_page, live_server, tmp_path):
    assert _cli(live_server, "users", "create", "zola@example.com", "--name", "Zola Budd",
                "--password", PASSWORD).returncode == 0
    assert _cli(live_server, "users", "create", "registrar2@example.com", "--name", "Reg Istrar",
                "--password", PASSWORD, "--role", "admin").returncode == 0
    assert _cli(live_server, "users", "create", "coach-mini@example.com", "--name", "Kim Coach",
                "--password", PASSWORD, "--role", "coach").returncode == 0

    _log_in(page, "zola@example.com")
    page.goto("/programmes/e2e-mini")
    page.get_by_role("button", name="Enrol for free").click()
    page.get_by_role("link", name=re.compile("Start from the customer")).first.click()
    page.get_by_role("button", name="Mark complete").click()

    # Lessons alone do not complete it: the practical assessment, submitted, marked and released.
    page.get_by_role("link", name="Practical assessment").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("One successful customer outcome from your work")
    page.get_by_role("button", name="Start your submission").click()
    page.get_by_label("Your written answer (required)").fill("My customers: 'My parcel arrives when you said.'")
    page.get_by_label("This is my own work").check()
    page.get_by_label("I have removed or anonymised").check()
    page.get_by_role("button", name="Submit attempt 1").click()
    expect(page.get_by_role("status")).to_contain_text("Attempt 1 is submitted.")

    _allocate(live_server, "zola@example.com", "coach-mini@example.com", "registrar2@example.com")
    coach = new_page()
    _log_in(coach, "coach-mini@example.com")
    coach.goto("/coach/marking")
    coach.get_by_role("button", name="Mark next").click()
    coach.get_by_label(re.compile(r"^Shown \(2\)")).check()
    coach.get_by_label("Overall feedback for the learner").fill("Clear and checkable.")
    coach.get_by_role("button", name="Submit mark").click()
    expect(coach.get_by_role("status")).to_contain_text("Mark submitted: pass (100%).")
    coach.get_by_role("button", name="Release the result to the learner").click()
    expect(coach.get_by_role("status")).to_contain_text("released")

    # The worker decides completion again; the certificate waits for the name to be confirmed.
    for _ in range(40):
        page.goto("/certificates")
        if page.get_by_role("heading", name="Your MINI certificate is ready").count():
            break
        page.wait_for_timeout(250)
    expect(page).to_have_url(re.compile(r"/certificates$"))
    expect(page.get_by_role("heading", name="Your MINI certificate is ready")).to_be_visible()
    check_page(page)
    page.get_by_label("Full name on the certificate").fill("Zola P. Budd")
    page.get_by_label("This is my name exactly as it should appear").check()
    page.get_by_role("button", name="Issue my certificate").click()
    expect(page.get_by_role("status")).to_contain_text("Your MINI certificate is issued.")
    number = page.locator("dd code").first.inner_text()
    assert re.fullmatch(r"MINI-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}", number)
    check_page(page)

    with page.expect_download() as dl:
        page.get_by_role("link", name="Download the PDF").click()
    pdf = tmp_path / "certificate.pdf"
    dl.value.save_as(pdf)
    assert pdf.read_bytes().startswith(b"%PDF") and dl.value.suggested_filename == f"{number}.pdf"
    with page.expect_download() as dl:
        page.get_by_role("link", name=re.compile("signed credential")).click()
    credential = tmp_path / "credential.json"
    dl.value.save_as(credential)

    # Another machine with only the file: `cadre verify` fetches the issuer's DID document and status list.
    out = _cli(live_server, "verify", str(credential))
    assert out.returncode == 0, out.stdout + out.stderr
    assert "PASS  signature" in out.stdout and "VERIFIED." in out.stdout

    verify_url = page.get_by_role("link", name=re.compile("verify")).inner_text()
    employer = new_page()
    employer.goto(verify_url)
    expect(employer.get_by_role("heading", level=1)).to_have_text("Valid")
    expect(employer.locator("dl.facts")).to_contain_text("Zola P. Budd")
    check_page(employer)

    admin = new_page()
    _log_in(admin, "registrar2@example.com")
    admin.goto(f"/admin/certificates?q={number}")
    admin.get_by_label(f"Reason for {number}").fill("Issued to the wrong person")
    admin.get_by_role("button", name="Revoke").click()
    expect(admin.get_by_role("status")).to_contain_text(f"{number}: revoked.")
    check_page(admin)

    employer.reload()
    expect(employer.get_by_role("heading", level=1)).to_have_text("Revoked")
    expect(employer.locator("section.verify")).to_contain_text("Issued to the wrong person")
    out = _cli(live_server, "verify", str(credential))
    assert out.returncode == 1 and "revoked" in out.stdout
