"""Every form walked with bad input: the message is in plain words, inside its own field's block (the
input points at it with aria-describedby), the summary above the form links to that field, and the
messages come in the order the form lists its fields."""

from __future__ import annotations

import re
from html import unescape

import pytest

from api.accounts.models import Role


def beside(html: str, field: str) -> str:
    """The message shown with `field`, after checking where it sits; fails if it is not there."""
    at = html.find(f'id="f-{field}-error"')
    assert at > 0, f"no message beside {field}"
    # Its block: the field's <div class="field">, or the <fieldset> of a group of checkboxes or radios.
    div, group = html.rfind('<div class="field', 0, at), html.rfind("<fieldset", 0, at)
    block_start = max(div, group)
    block_end = html.find("</fieldset>" if group > div else "</div>", at)
    block = html[block_start:block_end]
    assert "has-error" in block[:block.find(">")], f"{field}: its block is not marked as in error"
    assert f'for="f-{field}"' in block, f"{field}: the message is not in the block of its label"
    control = re.search(rf'<(input|select|textarea)[^>]* id="f-{field}"[^>]*>', block)
    assert control, f"{field}: its input is not in the block"
    assert 'aria-invalid="true"' in control.group(0)
    assert re.search(rf'aria-describedby="[^"]*\bf-{field}-error\b', control.group(0)), f"{field}: not described"
    return unescape(re.search(r'id="f-[^"]+-error">([^<]+)<', html[at - 20:]).group(1))


def summary_links(html: str) -> list[str]:
    box = html.split('class="error-summary"', 1)
    assert len(box) == 2, "no error summary"
    return re.findall(r'<a href="#f-([a-z0-9_]+)">', box[1].split("</div>", 1)[0])


def check(html: str, expected: dict[str, str]) -> None:
    """`expected`: field -> a piece of its message, in the form's order."""
    assert summary_links(html) == list(expected), "the summary links to the fields in the form's order"
    for field, words in expected.items():
        assert words in beside(html, field)
        assert f'<a href="#f-{field}">' in html


def test_log_in_with_empty_fields_and_with_a_wrong_password(client, browser, make_user):
    r = browser.post_form("/login", email="", password="")
    assert r.status_code == 422
    check(r.text, {"email": "Enter your email address.", "password": "Enter your password."})
    user = make_user()
    r = browser.post_form("/login", email=user.email, password="not-the-password")
    assert r.status_code in (401, 403, 422)
    assert summary_links(r.text) == ["email"]


def test_forgotten_password_with_something_that_is_not_an_address(client, browser):
    r = browser.post_form("/forgot-password", email="not-an-address")
    assert r.status_code == 422
    check(r.text, {"email": "Enter an email address like name@example.com."})
    assert 'value="not-an-address"' in r.text


def test_reset_password_too_short(client, browser):
    token = "t" * 40
    r = browser.post_form(f"/reset-password?token={token}", "/reset-password", token=token, new_password="short")
    assert r.status_code == 422
    check(r.text, {"new_password": "at least 10 characters"})
    r = browser.post_form("/reset-password?token=cut", "/reset-password", token="cut", new_password="short")
    assert "This reset link is not complete" in r.text and "token must be" not in r.text


def test_checkout_vat_number(client, browser, make_user, login):
    login(make_user().email)
    r = browser.post_form("/checkout/acxs", offer="full", code="", buyer_vat="123")
    assert r.status_code == 422
    check(r.text, {"buyer_vat": "Enter the VAT number with its country code"})


@pytest.fixture
def admin(make_user, login):
    user = make_user(roles={Role.admin})
    login(user.email)
    return user


def test_new_discount_code_with_several_problems(client, browser, admin):
    r = browser.post_form("/admin/codes", code="", kind="percent", value="half", currency="GBP",
                          valid_until="31/12/2026", max_redemptions="ten", max_per_customer="1")
    assert r.status_code == 422
    check(r.text, {"code": "Enter the code", "value": "whole number", "valid_until": "a date like 2026-12-31",
                   "max_redemptions": "whole number"})
    # One the service refuses: the message goes to the field it is about.
    r = browser.post_form("/admin/codes", code="TWOFOLD", kind="percent", value="150", currency="GBP",
                          max_per_customer="1")
    assert r.status_code == 422
    check(r.text, {"value": "between 1 and 100"})


def test_new_cohort_with_missing_and_wrong_fields(client, browser, admin):
    r = browser.post_form("/admin/cohorts", programme="cpp", starts_on="", time_zone="", capacity="lots")
    assert r.status_code == 422
    check(r.text, {"starts_on": "Enter the first day", "time_zone": "Enter a time zone",
                   "capacity": "whole number"})
    r = browser.post_form("/admin/cohorts", programme="cpp", starts_on="2027-03-01", time_zone="Mars/Olympus")
    assert r.status_code == 422
    check(r.text, {"time_zone": "is not a time zone"})
    r = browser.post_form("/admin/cohorts", programme="cpp", starts_on="2027-03-01", time_zone="Europe/London",
                          facilitator="nobody@example.com")
    check(r.text, {"facilitator": "There is no account for nobody@example.com"})


def test_a_knowledge_check_with_questions_left_unanswered(client, browser, make_user, login, db):
    from api.catalog import service as catalog_service
    from api.learning import service as learning_service
    from api.learning.models import EnrolmentSource

    user = make_user()
    learning_service.enrol(db, user_id=user.id, programme_id=catalog_service.get_by_slug(db, "acxp").id,
                           source=EnrolmentSource.admin_grant, check_prerequisites=False)
    db.commit()
    login(user.email)
    url = "/learn/acxp/check/check-outside-in"
    page = client.get(url)
    assert page.status_code == 200, "the check's slug changed"
    count = page.text.count('<fieldset class="question')
    r = browser.post_form(url, q0="1")
    assert r.status_code == 422
    assert summary_links(r.text) == [f"q{i}" for i in range(1, count)]  # in question order
    for i in range(1, count):
        fieldset = r.text.split(f'id="f-q{i}"', 1)[1].split("</fieldset>", 1)[0]
        assert f'id="f-q{i}-error">Answer question {i + 1}' in fieldset
        assert re.search(rf'aria-describedby="[^"]*f-q{i}-error', fieldset)
    assert 'value="1" required checked' in r.text.split('id="f-q0"', 1)[1].split("</fieldset>", 1)[0]
    attempts = client.get("/api/v1/learning/programmes/acxp/checks/check-outside-in").json()
    assert attempts["attempts_left"] == 3  # nothing was scored


def test_granting_a_place_with_a_missing_email_bad_days_or_an_unknown_learner(client, browser, admin):
    r = browser.post_form("/admin/enrolments", email="", programme="acxp", access_days="forever")
    assert r.status_code == 422
    check(r.text, {"email": "Enter the learner's email address.", "access_days": "whole number of days"})
    r = browser.post_form("/admin/enrolments", email="nobody@example.com", programme="acxp")
    assert r.status_code == 404
    check(r.text, {"email": "No account uses nobody@example.com"})


def test_verify_with_empty_fields_and_with_no_match(client, browser):
    r = browser.post_form("/verify", number="", surname="")
    assert r.status_code == 422
    check(r.text, {"number": "Enter the certificate number.", "surname": "Enter the holder's surname."})
    r = browser.post_form("/verify", number="ACXP-0000-0000-0000", surname="Nobody")
    assert r.status_code == 404
    check(r.text, {"number": "No certificate matches"})
def test_cohort_detail_capacity_facilitator_and_a_session_with_wrong_input(client, browser, admin):
    r = browser.post_form("/admin/cohorts", programme="cpp", starts_on="2027-03-01", time_zone="Europe/London")
    assert r.status_code == 303
    page = r.headers["location"]
    r = browser.post_form(page, action="capacity", capacity="lots")
    assert r.status_code == 422
    check(r.text, {"capacity": "whole number"})
    assert 'value="lots"' in r.text
    r = browser.post_form(page, action="facilitator", email="nobody@example.com")
    assert r.status_code == 422
    check(r.text, {"email": "There is no account for nobody@example.com"})
    assert 'value="nobody@example.com"' in r.text
    uid = re.search(r'name="session_uid" value="([^"]+)"', browser.client.get(page).text).group(1)
    r = browser.post_form(page, action="reschedule", session_uid=uid, local_date="1 March", local_start="10:00",
                          minutes="90")
    assert r.status_code == 422
    assert "Enter the date as year-month-day, such as 2027-03-04" in beside(r.text, f"date-{uid}")
    box = r.text.split('class="error-summary"', 1)[1].split("</div>", 1)[0]
    assert f'<a href="#f-date-{uid}">' in box
    assert 'value="1 March"' in r.text
