"""Every email Cadre sends, rendered (text and HTML part) with realistic facts, each branch of its
conditions taken: its lines read as separate lines (trim_blocks eats the newline after a block tag
that ends a line), no link runs into the next word, the greeting comes once, and the footer says
honestly why this person got it."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace as NS

import pytest

from api.core import email as mail

ROOT = Path(__file__).resolve().parents[2]
NAME = "Lena Okafor"
WHEN = datetime(2026, 9, 8, 9, 0, tzinfo=UTC)
LATER = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)

ACXP = NS(code="ACXP", title="Accredited Customer Experience Professional", display_title="ACX Professional",
          slug="acxp", certificate_title="ACXP certificate", renewal=None)
ACXS = NS(code="ACXS", title="Accredited Customer Experience Specialist", display_title="ACX Specialist",
          slug="acxs", certificate_title="ACXS certificate", renewal="send 20 hours of continuing practice.")
BRIEF = NS(title="Journey map of a complaint", slug="journey-map")
SUB = NS(attempt=2, outcome="pass")
ASSESS = {"brief": BRIEF, "programme": ACXS, "sub": SUB, "learner_path": "/learn/acxs/assessments/journey-map",
          "marking_path": "/coach/marking/sub123"}
CERT = NS(number="ACXS-2026-00042", expires_at=LATER, slug="c4f3")
CYCLE = NS(title="Change Architect of the Year 2026", slug="change-architect-2026", year=2026)
NOMINEE = NS(public_id="nom42")
COHORT = NS(title="ACXS September cohort", public_id="coh42")
SESSION = NS(title="Session 2", starts_at=WHEN, minutes=90, uid="ses42")
ORG = NS(name="Okafor & Daughters", public_id="org42")


def _order(**changes):
    base = {"public_id": "ord42", "organisation_id": None, "quantity": 1, "amount_before": 86000,
            "discount_amount": 0, "code_text": None, "amount_total": 86000, "currency": "GBP", "interval": None,
            "instalment_count": 1, "amount_paid": 86000, "amount_refunded": 0}
    return NS(**{**base, **changes})


PLAN = [NS(number=i, due_date=WHEN, amount=10750, status="paid" if i == 1 else "due") for i in range(1, 5)]
INSTALMENTS = _order(amount_before=86000, discount_amount=43000, code_text="special50", amount_total=43000,
                     instalment_count=4, amount_paid=10750)
RECEIPT = {"name": NAME, "programme": ACXS, "payments": []}
REFUND = {"name": NAME, "programme": ACXS, "order": _order(amount_refunded=10000), "amount": 10000,
          "plan": False, "reason": "Goodwill", "held": False, "full": False, "credit_note": None}
SSO = {"name": NAME, "organisation": ORG.name, "domain": "okafor.example", "provider": "Okta", "required": False,
       "note": "The domain is not verified", "settings_path": "/organisations/org42/sso"}
OUTCOME = NS(kind="winner", citation="For turning a complaints team into the company's compass.")

# (template, context): every template the code sends, once for each branch that changes its lines.
CASES = [
    ("accounts/confirm_email", {"name": NAME, "link": "http://testserver/verify-email?token=abc"}),
    ("accounts/confirm_new_email", {"name": NAME, "link": "http://testserver/confirm-email?token=abc"}),
    ("accounts/email_change_notice", {"name": NAME, "new_email": "lena@new.example"}),
    ("accounts/identity_linked", {"name": NAME, "provider": "Google"}),
    ("accounts/link_identity", {"name": NAME, "provider": "Google", "link": "http://testserver/sso/link?t=abc"}),
    ("accounts/password_added", {"name": NAME}),
    ("accounts/password_changed", {"name": NAME, "via_reset": True}),
    ("accounts/password_changed", {"name": NAME, "via_reset": False}),
    ("accounts/reset_password", {"name": NAME, "link": "http://testserver/reset-password?token=abc"}),
    ("accounts/sso_domain_decided", {**SSO, "approved": True}),
    ("accounts/sso_domain_decided", {**SSO, "approved": True, "required": True}),
    ("accounts/sso_domain_decided", {**SSO, "approved": False}),
    ("accounts/welcome", {"name": NAME, "email": "lena@example.com"}),
    ("assessments/allocated", {"name": NAME, "due": "Tue 8 Sep, 10:00 BST", **ASSESS}),
    ("assessments/appeal_decided", {"name": NAME, "upheld": True, "outcome_words": "pass",
                                    "before_words": "refer", "decision": "The evidence meets criterion 3.",
                                    **ASSESS}),
    ("assessments/appeal_decided", {"name": NAME, "upheld": False, "outcome_words": "refer",
                                    "before_words": "refer", "decision": "Criterion 3 is not met.", **ASSESS}),
    ("assessments/extension_decided", {"name": NAME, "approved": True, "deadline": "Tue 8 Sep", "decider": "Ada",
                                       "reason": "Illness.", **ASSESS}),
    ("assessments/extension_decided", {"name": NAME, "approved": False, "deadline": "Tue 8 Sep", "decider": "Ada",
                                       "reason": "No evidence.", **ASSESS}),
    ("assessments/marking_reminder", {"name": NAME, "overdue": True, "due": "Tue 8 Sep", **ASSESS}),
    ("assessments/marking_reminder", {"name": NAME, "overdue": False, "due": "Tue 8 Sep", **ASSESS}),
    ("assessments/moderation_sent_back", {"name": NAME, "moderator": "Ada Moderator", "reason": "Too generous.",
                                          **ASSESS}),
    ("assessments/referred", {"name": NAME, "resubmit_by": "Tue 8 Sep", **ASSESS}),
    ("assessments/released", {"name": NAME, "resubmit_by": "", **ASSESS}),
    ("assessments/released", {"name": NAME, "resubmit_by": "", **ASSESS, "sub": NS(attempt=3, outcome="fail")}),
    ("assessments/submitted", {"name": NAME, **ASSESS}),
    ("awards/announced", {"name": NAME, "cycle": CYCLE, "page": "http://testserver/hall-of-fame/2026"}),
    ("awards/entry_received", {"name": NAME, "cycle": CYCLE}),
    ("awards/invitation", {"name": NAME, "cycle": CYCLE, "nominee": NOMINEE, "nominator": "Ada Nominator"}),
    ("awards/invitation", {"name": NAME, "cycle": CYCLE, "nominee": NOMINEE, "nominator": None}),
    ("awards/reminder", {"name": NAME, "cycle": CYCLE, "nominee": NOMINEE, "kind": "entry_due", "at": WHEN}),
    ("awards/reminder", {"name": NAME, "cycle": CYCLE, "nominee": NOMINEE, "kind": "nominations_closing", "at": WHEN}),
    ("awards/result", {"name": NAME, "cycle": CYCLE, "award": NS(title="Change Architect"), "outcome": OUTCOME,
                       "listed": True, "page": "http://testserver/hall-of-fame/2026/lena",
                       "verify_url": "http://testserver/verify/abc"}),
    ("awards/result", {"name": NAME, "cycle": CYCLE, "award": NS(title="Change Architect"),
                       "outcome": NS(kind="commended", citation="For patience."), "listed": False, "page": None,
                       "verify_url": None}),
    ("certificates/expiry_reminder", {"name": NAME, "programme": ACXP, "cert": CERT}),
    ("certificates/expiry_reminder", {"name": NAME, "programme": ACXS, "cert": CERT}),
    ("certificates/issued", {"name": NAME, "programme": ACXS, "cert": CERT,
                             "verify_url": "http://testserver/verify/c4f3"}),
    ("certificates/issued", {"name": NAME, "programme": ACXS, "cert": NS(number="N1", expires_at=None, slug="c4f3"),
                             "verify_url": "http://testserver/verify/c4f3"}),
    ("certificates/ready", {"name": NAME, "programme": ACXS, "held": True}),
    ("certificates/ready", {"name": NAME, "programme": ACXS, "held": False}),
    ("certificates/renewal_rejected", {"name": NAME, "programme": ACXS, "cert": CERT, "note": "Too few hours."}),
    ("certificates/renewal_rejected", {"name": NAME, "programme": ACXS, "cert": CERT, "note": None}),
    *[("certificates/status_changed", {"name": NAME, "action": action, "reason": "A reason.", "programme": ACXS,
                                       "cert": CERT, "verify_url": "http://testserver/verify/c4f3",
                                       "payment_hold": hold})
      for action, hold in (("suspend", True), ("suspend", False), ("reinstate", False), ("revoke", False))],
    ("cohorts/cohort_cancelled", {"name": NAME, "cohort": COHORT, "programme": ACXS, "by": NS(full_name="Ada"),
                                  "moved_to": NS(title="ACXS October cohort")}),
    ("cohorts/cohort_cancelled", {"name": NAME, "cohort": COHORT, "programme": ACXS, "by": NS(full_name="Ada"),
                                  "moved_to": None}),
    ("cohorts/late_payment_refunded", {"name": NAME, "order": INSTALMENTS, "cohort": COHORT, "programme": ACXS}),
    ("cohorts/message", {"name": NAME, "sender": NS(full_name="Ada Facilitator"), "cohort": COHORT,
                         "programme": ACXS, "subject_line": "Reading", "message": "Please read chapter 2."}),
    ("cohorts/reminder", {"name": NAME, "zone": "Europe/London", "cohort": COHORT, "programme": ACXS,
                          "s": SESSION, "lead": "In an hour"}),
    *[("cohorts/session_changed", {"name": NAME, "zone": "Europe/London", "cohort": COHORT, "programme": ACXS,
                                   "s": SESSION, "kind": kind, "old_start": LATER if kind == "moved" else None})
      for kind in ("cancelled", "added", "moved")],
    ("cohorts/transferred", {"name": NAME, "zone": "Europe/London", "source": NS(title="ACXS August cohort"),
                             "cohort": COHORT, "programme": ACXS, "sessions": [SESSION, SESSION]}),
    ("cohorts/waitlist_offer", {"name": NAME, "zone": "Europe/London", "cohort": COHORT, "programme": ACXS,
                                "entry": NS(offer_expires_at=WHEN)}),
    ("judging/appointed", {"name": NAME, "cycle": CYCLE}),
    ("judging/round_open", {"name": NAME, "cycle": CYCLE, "round_name": "First round", "count": 3, "blind": True}),
    ("learning/enrolment_granted", {"name": NAME, "programme": ACXP, "access_until": LATER}),
    ("learning/enrolment_granted", {"name": NAME, "programme": ACXP, "access_until": None}),
    ("organisations/invitation", {"name": "new.person@example.com", "org": ORG, "inviter": NS(full_name="Ada Owner"),
                                  "invitation": NS(role="member", expires_at=LATER),
                                  "accept_path": "/organisations/invitations/tok"}),
    ("organisations/member_certificate_expiring", {
        "name": NAME, "org": ORG, "holder": NS(full_name="Sam Member"), "team_path": "/organisations/org42/team",
        "payload": {"programme_code": "ACXP", "programme_title": ACXP.title, "days": 30, "number": "N1",
                    "expires_on": "1 March 2027"}}),
    ("organisations/seat_assigned", {"name": NAME, "org": ORG, "programme": ACXS, "by": NS(full_name="Ada")}),
    ("organisations/seats_bought", {"name": NAME, "org": ORG, "programme": ACXS, "quantity": 3,
                                    "pool": NS(quantity=5)}),
    ("payments/instalment_failed", {"name": NAME, "order": INSTALMENTS, "programme": ACXS, "payment": PLAN[1],
                                    "pause_date": LATER, "pay_url": "http://testserver/payments/offline/cs42",
                                    "message": "Your card was declined."}),
    ("payments/instalment_failed", {"name": NAME, "order": INSTALMENTS, "programme": ACXS, "payment": PLAN[1],
                                    "pause_date": LATER, "pay_url": "http://testserver/billing", "message": None}),
    ("payments/instalment_upcoming", {"name": NAME, "order": INSTALMENTS, "programme": ACXS, "payment": PLAN[2]}),
    ("payments/receipt", {**RECEIPT, "order": _order()}),
    ("payments/receipt", {**RECEIPT, "order": INSTALMENTS, "payments": PLAN}),
    ("payments/receipt", {**RECEIPT, "order": _order(organisation_id=7, quantity=3, amount_before=258000,
                                                     amount_total=258000)}),
    ("payments/refund", REFUND),
    ("payments/refund", {**REFUND, "reason": None, "full": True, "plan": True,
                         "credit_note": NS(reference="CN-2026-0007")}),
    ("payments/refund", {**REFUND, "held": True, "full": True}),
]


def _text_of_html(html: str) -> str:
    """The HTML part as a reader sees it: tags gone, a <br> or paragraph a line break."""
    html = re.sub(r"<br>\s*|</p>\s*", "\n", html)
    text = re.sub(r"<[^>]+>", "", html)
    return re.sub(r"&amp;", "&", text)


def _id(case) -> str:
    return case[0] + "|" + ",".join(f"{k}={v}" for k, v in case[1].items() if isinstance(v, str | bool | None)
                                    and k in ("via_reset", "approved", "required", "upheld", "overdue", "held",
                                              "kind", "action", "full", "listed", "nominator", "message"))


@pytest.fixture(params=CASES, ids=[_id(c) for c in CASES])
def rendered(request):
    template, context = request.param
    subject, text, html = mail.render(template, **context)
    return template, context, subject, text, html


GLUED = re.compile(r"https?://\S*?[a-z0-9/][A-Z][a-z]")  # "…/learn/acxsYour invoice"


def test_no_link_runs_into_the_next_words_in_either_part(rendered):
    template, _, _, text, html = rendered
    assert not GLUED.findall(text), text
    hrefs = re.findall(r'href="([^"]+)"', html)
    assert hrefs, "the HTML part has clickable links"
    for href in hrefs:
        assert not re.search(r"[a-z0-9/][A-Z][a-z]", href), f"{template}: {href}"
        assert href.startswith("http://testserver"), href
    assert not GLUED.findall(_text_of_html(html))


def test_the_greeting_comes_once_in_either_part(rendered):
    _, context, _, text, html = rendered
    greeting = text.splitlines()[0]
    assert greeting in (f"Hello {context['name']},", "Hello,", f"Congratulations, {context['name']}.")
    for part in (text, _text_of_html(html)):
        lines = _lines(part)
        assert lines.count(greeting) == 1, part
        assert not [line for line in lines if re.match(r"(Hello|Dear|Hi)\b", line) and line != greeting], part


def test_no_sentence_starts_with_the_article_before_a_programme_code(rendered):
    _, _, _, text, _ = rendered
    assert not re.search(r"\b[Aa] (?:[AEIOU][A-Z]+|ACX\w*)\b", text), text


def test_the_footer_is_in_both_parts(rendered):
    template, _, _, text, html = rendered
    footer = text.split(mail.SIGNATURE)[1].splitlines()[1]
    assert footer.startswith("You receive this because")
    assert footer in _text_of_html(html), f"{template}: the HTML part lacks the footer"


def test_every_template_the_code_sends_is_rendered_here():
    sent = set()
    for path in (ROOT / "api").rglob("*.py"):
        sent |= set(re.findall(r"""send_template\([^"']*["']([a-z_]+/[a-z_]+)["']""", path.read_text(), flags=re.S))
    on_disk = {str(p.relative_to(mail.TEMPLATES).with_suffix("")) for p in mail.TEMPLATES.rglob("*.txt")} - {"base"}
    assert sent <= on_disk
    assert on_disk == {t for t, _ in CASES}, "render the new template (each branch) in CASES"


def _lines(text: str) -> list[str]:
    return [line.rstrip() for line in text.splitlines()]


def test_no_template_line_loses_its_newline_to_a_block_tag():
    """trim_blocks drops the newline after a block tag: a line of text that ends in `{% endif %}` runs
    into the next line ("Price: £860Total: £860"). Such a tag goes on a line of its own or ends `+%}`.
    (A `{% endblock %}` ending the subject, greeting or footer line is meant: base.txt spaces them.)"""
    eaten = []
    for path in sorted(mail.TEMPLATES.rglob("*.txt")):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            line = line.strip()
            if not line.endswith("%}") or line.endswith("+%}") or re.fullmatch(r"\{%[^%]*%\}", line):
                continue  # ends in text, keeps its newline, or is a tag alone on its line (all of it goes)
            if re.findall(r"\{%-?\s*(\w+)", line)[-1] != "endblock":
                eaten.append(f"{path.relative_to(mail.TEMPLATES)}:{number}: {line[-60:]}")
    assert eaten == []


@pytest.mark.parametrize(("template", "context", "paragraph"), [
    ("payments/receipt", {**RECEIPT, "order": _order()}, "Order reference: ord42"),
    ("assessments/appeal_decided", dict(CASES)["assessments/appeal_decided"], "The re-marker's reasons:"),
    ("assessments/extension_decided", dict(CASES)["assessments/extension_decided"], "Ada wrote:"),
    ("assessments/marking_reminder", dict(CASES)["assessments/marking_reminder"], "Open your marking queue:"),
    ("assessments/released", dict(CASES)["assessments/released"], "Read your coach's feedback:"),
    ("awards/result", dict(CASES)["awards/result"], "The judges' citation:"),
    ("awards/result", CASES[[t for t, _ in CASES].index("awards/result")][1], "Your award is also"),
    ("awards/reminder", dict(CASES)["awards/reminder"], "http://testserver/awards/nominee/nom42"),
    ("judging/round_open", dict(CASES)["judging/round_open"], "Before each entry opens"),
    ("certificates/ready", {"name": NAME, "programme": ACXS, "held": False}, "Confirm your name"),
    ("accounts/sso_domain_decided", {**SSO, "approved": True}, "See and change your organisation's"),
    ("accounts/sso_domain_decided", {**SSO, "approved": False}, "See and change your organisation's"),
])
def test_a_paragraph_after_a_condition_stays_a_paragraph(template, context, paragraph):
    _, text, html = mail.render(template, **context)
    lines = _lines(text)
    [at] = [i for i, line in enumerate(lines) if line.startswith(paragraph)]
    assert lines[at - 1] == "", text
    assert re.search(r'<p>(<a href="[^"]+">)?' + re.escape(paragraph.replace("'", "&#39;")), html), html


def test_a_receipt_keeps_its_lines_apart_and_links_to_the_programme():
    _, text, html = mail.render("payments/receipt", **RECEIPT, order=_order())
    lines = _lines(text)
    for line in ("Price: £860", "Total: £860", "Paid: £860", "Start learning: http://testserver/learn/acxs",
                 "Your invoice (PDF, after logging in): http://testserver/billing/ord42/invoice.pdf"):
        assert line in lines, text
    assert 'href="http://testserver/learn/acxs"' in html

    _, text, _ = mail.render("payments/receipt", **{**RECEIPT, "order": INSTALMENTS, "payments": PLAN})
    lines = _lines(text)
    assert "Discount (SPECIAL50): −£430" in lines and "Total: £430" in lines
    assert lines[lines.index("Your 4 monthly payments:") + 1:][:5] == [
        "  1. 8 September 2026  £107.50  paid", "  2. 8 September 2026  £107.50  due",
        "  3. 8 September 2026  £107.50  due", "  4. 8 September 2026  £107.50  due",
        "Each payment is taken automatically; the plan ends itself after the last one."]

    _, text, _ = mail.render("payments/receipt", **RECEIPT, order=_order(organisation_id=7, quantity=3))
    assert "Start learning" not in text
    assert "Your invoice (PDF, after logging in): http://testserver/billing/ord42/invoice.pdf" in _lines(text)


def test_lines_after_a_condition_stay_lines_of_their_own():
    _, text, _ = mail.render("payments/refund", **{**REFUND, "credit_note": NS(reference="CN-2026-0007")})
    lines = _lines(text)
    assert "Your orders and refunds: http://testserver/billing" in lines
    assert "Why: Goodwill" in lines
    _, text, _ = mail.render("certificates/ready", name=NAME, programme=ACXS, held=True)
    assert "It is issued once the overdue instalment is paid: http://testserver/billing" in text
    assert "Confirm your name and get your certificate: http://testserver/certificates" in _lines(text)
    _, text, _ = mail.render("cohorts/transferred", **dict(CASES)["cohorts/transferred"])
    assert "Your cohort page: http://testserver/cohorts/coh42" in _lines(text)


def test_the_nomination_footer_does_not_claim_an_account():
    for template in ("awards/invitation", "awards/reminder"):
        context = next(c for t, c in CASES if t == template and c.get("kind") != "entry_due")
        _, text, html = mail.render(template, **context)
        assert "your account" not in text and "your account" not in html
        assert (f"You receive this because someone nominated you for {CYCLE.title} at Cadre"
                in text.split(mail.SIGNATURE)[1])
        assert f"someone nominated you for {CYCLE.title} at Cadre" in html
    _, text, html = mail.render("organisations/invitation", **dict(CASES)["organisations/invitation"])
    assert "your account" not in text and "your account" not in html
    assert "someone at Okafor &amp; Daughters entered your address" in html
