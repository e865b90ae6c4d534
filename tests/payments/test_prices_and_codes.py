"""Prices after a code, instalment splits that add up, and every reason a code may not apply."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from api.core.db import utcnow
from api.payments import codes, service
from api.payments.models import Order


def test_special50_on_acxs_is_430_in_full_or_four_payments_of_107_50(db, special50):
    full = service.quote(db, programme_slug="acxs", offer_slug="full", code_text="SPECIAL50", user=None, address=None)
    assert (full.amount_before, full.discount, full.amount_total, full.instalments) == (86000, 43000, 43000, [43000])
    plan = service.quote(db, programme_slug="acxs", offer_slug="instalments", code_text="special50", user=None,
                         address=None)
    assert plan.instalments == [10750] * 4 and sum(plan.instalments) == 43000
    assert plan.summary == "4 × £107.50 monthly (£430 in all)"
    without = service.quote(db, programme_slug="acxs", offer_slug="instalments", code_text=None, user=None,
                            address=None)
    assert without.instalments == [21500] * 4


def test_an_uneven_amount_still_adds_up_with_the_extra_pence_first(db):
    codes.create(db, code="penny", amount_off=1, currency="GBP")
    q = service.quote(db, programme_slug="acxs", offer_slug="instalments", code_text="Penny", user=None, address=None)
    assert q.amount_total == 85999
    assert q.instalments == [21500, 21500, 21500, 21499] and sum(q.instalments) == q.amount_total
    assert q.summary == "3 × £215 then 1 × £214.99 monthly (£859.99 in all)"
    codes.create(db, code="third", percent_off=33)
    q = service.quote(db, programme_slug="acxs", offer_slug="instalments", code_text="third", user=None, address=None)
    assert q.discount == 28380 and sum(q.instalments) == 86000 - 28380


def test_percentages_round_half_up_to_the_penny(db):
    code = codes.create(db, code="half", percent_off=50)
    assert codes.discount_for(code, 1001) == 501  # 500.5 rounds up: the learner pays 500
    assert codes.discount_for(code, 1000) == 500


@pytest.mark.parametrize("setup,typed,expected", [
    ({}, "NOSUCHCODE", "We do not know the code NOSUCHCODE"),
    ({"valid_until": -1}, "c1", "The code C1 expired on"),
    ({"valid_from": 2}, "c1", "is not active yet"),
    ({"programme_slugs": ["acxp"]}, "c1", "The code C1 is not for ACX Specialist"),
    ({"amount_off": 1000, "currency": "USD", "percent_off": None}, "c1", "applies to prices in USD, not GBP"),
])
def test_a_code_that_does_not_apply_says_why(db, setup, typed, expected):
    kwargs = {"percent_off": 10, **setup}
    for key in ("valid_until", "valid_from"):
        if key in kwargs:
            kwargs[key] = utcnow() + timedelta(days=kwargs[key])
    codes.create(db, code="c1", **kwargs)
    q = service.quote(db, programme_slug="acxs", offer_slug="full", code_text=typed, user=None, address=None)
    assert expected in q.code_problem
    assert q.amount_total == 86000 and q.discount == 0


def test_inactive_and_used_up_codes(db, make_user):
    codes.create(db, code="gone", percent_off=10)
    codes.deactivate(db, "GONE")
    q = service.quote(db, programme_slug="acxs", offer_slug="full", code_text="gone", user=None, address=None)
    assert q.code_problem == "The code GONE is no longer active."

    learner, other = make_user(), make_user()
    codes.create(db, code="once", percent_off=10, max_redemptions=1)
    order = service.start_checkout(db, user=learner, programme_slug="acxs", offer_slug="full", code_text="ONCE",
                                   address=None)
    assert order.discount_amount == 8600
    q = service.quote(db, programme_slug="acxs", offer_slug="full", code_text="once", user=other, address=None)
    assert q.code_problem == "The code ONCE has been used up."


def test_one_use_per_customer_by_default(db, make_user):
    learner = make_user()
    codes.create(db, code="mine", percent_off=10, max_redemptions=100)
    service.start_checkout(db, user=learner, programme_slug="acxs", offer_slug="full", code_text="mine", address=None)
    # A second checkout for another offer replaces the first, which hands its reservation back.
    again = service.start_checkout(db, user=learner, programme_slug="acxs", offer_slug="instalments",
                                   code_text="MINE", address=None)
    assert again.discount_amount == 8600
    acxp_quote = service.quote(db, programme_slug="acxp", offer_slug=None, code_text="mine", user=learner, address=None)
    assert acxp_quote.code_problem == "You have already used the code MINE."


def test_codes_are_case_insensitive_and_unique(db):
    codes.create(db, code="Spring-24", percent_off=5)
    assert codes.get(db, "SPRING-24") is not None
    with pytest.raises(Exception, match="already exists"):
        codes.create(db, code="spring-24", amount_off=100, currency="GBP")


def test_guessing_codes_is_rate_limited(client):
    codes = [client.get("/api/v1/payments/quote", params={"programme": "acxs", "code": f"GUESS{i}"}).status_code
             for i in range(31)]
    assert codes[:30] == [200] * 30 and codes[30] == 429


def test_guessing_codes_at_the_json_checkout_is_limited_too(client, learner, db):
    answers = [client.post("/api/v1/payments/checkout", json={"programme": "acxs", "offer": "full",
                                                              "code": f"GUESS{i}"}) for i in range(60)]
    statuses = [r.status_code for r in answers]
    assert statuses[:30] == [422] * 30 and statuses[30:] == [429] * 30
    assert answers[0].json()["error"]["code"] == "code_not_applicable"
    refused = answers[30]
    assert refused.json()["error"]["code"] == "rate_limited"
    assert "Too many discount code tries" in refused.json()["error"]["message"]
    assert 1 <= int(refused.headers["Retry-After"]) <= 600
    assert db.exec(select(Order).where(Order.user_id == learner.id)).first() is None


def test_one_limit_counts_code_tries_on_every_path(client, browser, learner):
    """Ten at the quote, ten on the checkout page, nine at the JSON checkout, one posted on the page:
    the thirty-first try, wherever it comes, is refused."""
    for i in range(10):
        assert client.get("/api/v1/payments/quote", params={"programme": "acxs", "code": f"Q{i}"}).status_code == 200
        assert client.get(f"/checkout/acxs?code=P{i}").status_code == 200
    for i in range(9):
        assert client.post("/api/v1/payments/checkout", json={"programme": "acxs", "code": f"J{i}"}).status_code == 422
    page = browser.post_form("/checkout/acxs", offer="full", code="FORM1")
    assert page.status_code == 422 and "We do not know the code FORM1" in page.text  # the page re-quotes: one try
    for refused in (client.get("/api/v1/payments/quote", params={"programme": "acxs", "code": "Q99"}),
                    client.post("/api/v1/payments/checkout", json={"programme": "acxs", "code": "J99"}),
                    client.get("/checkout/acxs?code=P99"),
                    browser.post_form("/checkout/acxs", offer="full", code="FORM2")):
        assert refused.status_code == 429 and "Retry-After" in refused.headers, refused.request.url
        assert "Too many discount code tries" in refused.text and "FORM2" not in refused.text
    # Buying without a code is not a guess.
    assert client.post("/api/v1/payments/checkout", json={"programme": "acxs"}).status_code == 201
