"""Administrators: discount codes on /admin/codes, the API and `cadre codes`; orders and refunds on
/admin/orders; who may see these pages."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from api.accounts.models import Role
from api.learning import service as learning_service
from api.payments import codes
from api.payments.models import Order, Payment, Refund
from tests.conftest import REAL_SELLER


@pytest.fixture
def admin(make_user, login):
    user = make_user(roles={Role.admin})
    login(user.email)
    return user


def test_learners_may_not_see_the_admin_money_pages(client, learner):
    for path in ("/admin/codes", "/admin/orders"):
        assert client.get(path).status_code == 403
    assert client.get("/api/v1/payments/codes").status_code == 403
    assert client.post("/api/v1/payments/codes", json={"code": "x", "percent_off": 5}).status_code == 403


def test_admin_lists_creates_and_deactivates_codes(client, browser, admin, special50, db):
    page = client.get("/admin/codes").text
    assert "SPECIAL50" in page and "50% off" in page and "ACXS" in page
    r = browser.post_form("/admin/codes", code="Summer10", kind="amount", value="100.00", currency="GBP",
                          programmes=["acxs", "acxp"], valid_until="2030-01-31", max_redemptions="25",
                          max_per_customer="1")
    assert r.status_code == 303
    assert "Code SUMMER10 created: £100 off." in client.get("/admin/codes").text
    code = codes.get(db, "summer10")
    assert (code.amount_off, code.currency, code.max_redemptions) == (10000, "GBP", 25)
    assert len(codes.programme_ids(db, code)) == 2 and code.valid_until.year == 2030
    again = browser.post_form("/admin/codes", code="SUMMER10", kind="percent", value="5")
    assert again.status_code == 409 and "already exists" in again.text
    bad = browser.post_form("/admin/codes", code="x", kind="percent", value="150")
    assert bad.status_code == 422 and "between 1 and 100" in bad.text
    browser.post_form("/admin/codes", "/admin/codes/summer10/deactivate")
    db.refresh(code)
    assert code.active is False
    listed = {c["code"]: c for c in client.get("/api/v1/payments/codes").json()["items"]}
    assert listed["SUMMER10"]["active"] is False and listed["SPECIAL50"]["percent_off"] == 50


def test_codes_through_the_api(client, admin, db):
    r = client.post("/api/v1/payments/codes", json={"code": "Team25", "percent_off": 25, "programmes": ["cpp"],
                                                   "max_redemptions": 3})
    assert r.status_code == 201 and r.json()["programmes"] == ["cpp"] and r.json()["code"] == "TEAM25"
    assert client.post("/api/v1/payments/codes/team25/deactivate").json()["active"] is False
    q = client.get("/api/v1/payments/quote", params={"programme": "cpp", "code": "TEAM25"}).json()
    assert q["code_applied"] is False and q["code_problem"] == "The code TEAM25 is no longer active."


def _paid(db, browser, client, user, login, offer):
    login(user.email)
    r = browser.post_form(f"/checkout/acxs?offer={offer}", "/checkout/acxs", offer=offer, code="special50")
    browser.post_form(r.headers["location"], action="pay")
    return db.exec(select(Order).where(Order.user_id == user.id)).one()


def test_admin_refunds_part_then_the_rest_through_the_provider(client, browser, make_user, login, special50, db):
    buyer = make_user()
    order = _paid(db, browser, client, buyer, login, "full")
    admin = make_user(roles={Role.admin})
    login(admin.email)
    page = client.get("/admin/orders").text
    assert order.public_id in page and buyer.email in page
    assert '<span class="tag ok">paid</span>' in page
    r = browser.post_form("/admin/orders", f"/admin/orders/{order.public_id}/refund", amount="100.00", confirmed="yes",
                          reason="Goodwill")
    assert r.status_code == 303
    db.refresh(order)
    assert (order.status, order.amount_refunded) == ("paid", 10000)
    assert '<span class="tag warn">paid · £100 refunded</span>' in client.get("/admin/orders").text
    assert learning_service.get_enrolment(db, buyer.id, order.programme_id).status == "active"
    browser.post_form("/admin/orders", f"/admin/orders/{order.public_id}/refund", amount="", confirmed="yes")
    db.refresh(order)
    assert (order.status, order.amount_refunded) == ("refunded", 43000)
    assert learning_service.get_enrolment(db, buyer.id, order.programme_id).status == "cancelled"
    refunds = db.exec(select(Refund).where(Refund.order_id == order.id)).all()
    assert [r.amount for r in refunds] == [10000, 33000] and refunds[0].requested_by_id == admin.id
    too_much = client.post(f"/api/v1/payments/orders/{order.public_id}/refunds", json={"amount": 1})
    assert too_much.status_code == 409 and too_much.json()["error"]["code"] == "nothing_to_refund"


def test_refunding_an_instalment_plan_in_full_stops_the_plan(client, browser, make_user, login, special50, db):
    buyer = make_user()
    order = _paid(db, browser, client, buyer, login, "instalments")
    admin = make_user(roles={Role.admin})
    login(admin.email)
    over = client.post(f"/api/v1/payments/orders/{order.public_id}/refunds", json={"amount": 10751})
    assert over.status_code == 422 and "£107.50" in over.json()["error"]["message"]
    r = client.post(f"/api/v1/payments/orders/{order.public_id}/refunds", json={})
    assert r.status_code == 200 and r.json()["status"] == "refunded"
    statuses = [p.status for p in db.exec(select(Payment).where(Payment.order_id == order.id)
                                          .order_by(Payment.number))]
    assert statuses == ["paid", "cancelled", "cancelled", "cancelled"]
    assert learning_service.get_enrolment(db, buyer.id, order.programme_id).status == "cancelled"


def test_cadre_codes_command(db, monkeypatch, capsys):
    from api import cli

    monkeypatch.setattr(cli, "_session", lambda: Session(bind=db.connection(), join_transaction_mode="create_savepoint",
                                                         expire_on_commit=False))
    assert cli.main(["codes", "create", "Launch", "--percent", "20", "--programme", "acxs",
                     "--max-redemptions", "5", "--valid-until", "2031-01-01"]) == 0
    assert "Created LAUNCH: 20% off on acxs." in capsys.readouterr().out
    assert cli.main(["codes", "create", "launch", "--amount", "500"]) == 1
    assert "already exists" in capsys.readouterr().err
    assert cli.main(["codes", "deactivate", "LAUNCH"]) == 0
    assert cli.main(["codes", "list"]) == 0
    out = capsys.readouterr().out
    assert "LAUNCH deactivated." in out and "inactive" in out


def test_cadre_payments_sweep_closes_abandoned_checkouts_and_frees_their_codes(db, monkeypatch, capsys, make_user,
                                                                                special50):
    from datetime import timedelta

    from api import cli
    from api.payments import service
    from api.payments.models import DiscountRedemption

    order = service.start_checkout(db, user=make_user(), programme_slug="acxs", offer_slug="full",
                                   code_text="special50", address=None)
    fresh = service.start_checkout(db, user=make_user(), programme_slug="acxs", offer_slug="full",
                                   code_text="special50", address=None)
    order.expires_at -= timedelta(hours=2)
    db.add(order)
    db.commit()
    monkeypatch.setattr(cli, "_session", lambda: Session(bind=db.connection(), join_transaction_mode="create_savepoint",
                                                         expire_on_commit=False))
    assert cli.main(["payments", "sweep"]) == 0
    assert "Closed 1 expired checkout(s)" in capsys.readouterr().out
    db.expire_all()
    assert (db.get(Order, order.id).status, db.get(Order, fresh.id).status) == ("expired", "pending")
    held = db.exec(select(DiscountRedemption).where(DiscountRedemption.order_id == order.id)).one()
    assert held.status == "released"


def test_cadre_demo_creates_special50_once(db, monkeypatch, capsys):
    from api import cli

    monkeypatch.setattr(cli, "_session", lambda: Session(bind=db.connection(), join_transaction_mode="create_savepoint",
                                                         expire_on_commit=False))
    assert cli.main(["demo"]) == 0 and cli.main(["demo"]) == 0
    assert capsys.readouterr().out.count("Demo discount code created: SPECIAL50") == 1
    code = codes.get(db, "SPECIAL50")
    assert code.percent_off == 50 and len(codes.programme_ids(db, code)) == 1


def test_production_refuses_the_offline_provider():
    from pydantic import ValidationError

    from api.core.config import Settings

    safe = {"env": "production", "secret_key": "x" * 40, "database_url": "postgresql+psycopg://db/cadre",
            "email_backend": "smtp", "base_url": "https://cadre.example.org", "storage": "s3", "s3_bucket": "uploads",
            **REAL_SELLER}
    with pytest.raises(ValidationError, match="CADRE_STRIPE_SECRET_KEY must be set"):
        Settings(**safe, stripe_secret_key="")
    with pytest.raises(ValidationError, match="CADRE_STRIPE_WEBHOOK_SECRET"):
        Settings(**safe, stripe_secret_key="sk_live_x")
    live = Settings(**safe, stripe_secret_key="sk_live_x", stripe_webhook_secret="whsec_x")
    assert live.payments_provider == "stripe"


def test_a_refund_amount_that_is_wrong_is_said_beside_its_field(client, browser, make_user, login, special50, db):
    from tests.core.test_form_messages import beside

    buyer = make_user()
    order = _paid(db, browser, client, buyer, login, "full")
    login(make_user(roles={Role.admin}).email)
    field = f"amount-{order.public_id}"
    for typed, words in (("ten pounds", "Write an amount like 107.50."), ("99999", "Refund between")):
        r = browser.post_form("/admin/orders?status=paid", f"/admin/orders/{order.public_id}/refund", amount=typed,
                              reason="Goodwill", back="/admin/orders?status=paid")
        assert r.status_code == 422
        assert words in beside(r.text, field)
        box = r.text.split('class="error-summary"', 1)[1].split("</div>", 1)[0]
        assert f'<a href="#f-{field}">' in box
        assert f'value="{typed}"' in r.text and 'value="Goodwill"' in r.text
        db.refresh(order)
        assert (order.status, order.amount_refunded) == ("paid", 0)


def test_admin_orders_tell_a_plan_as_the_learner_sees_it(client, browser, make_user, login, special50, db):
    from api.payments.models import Payment

    buyer = make_user()
    order = _paid(db, browser, client, buyer, login, "instalments")
    second = db.exec(select(Payment).where(Payment.order_id == order.id, Payment.number == 2)).one()
    words = f"1 of 4 paid · next £107.50 on {second.due_date.strftime('%-d %B %Y')}"
    assert f'<span class="tag warn order-status">{words}</span>' in client.get("/billing").text
    login(make_user(roles={Role.admin}).email)
    assert f'<span class="tag warn">{words}</span>' in client.get("/admin/orders").text  # not a bare "paid"


def test_a_refund_is_made_only_once_the_administrator_confirms_it(client, browser, make_user, login, special50, db):
    buyer = make_user(name="Bea Buyer")
    order = _paid(db, browser, client, buyer, login, "full")
    login(make_user(roles={Role.admin}).email)
    r = browser.post_form("/admin/orders", f"/admin/orders/{order.public_id}/refund", amount="", reason="Duplicate")
    assert r.status_code == 200 and "<h1>Refund £430?</h1>" in r.text
    assert "Bea Buyer" in r.text and "Duplicate" in r.text and "access to" in r.text  # in full: access ends
    db.refresh(order)
    assert (order.status, order.amount_refunded) == ("paid", 0)  # nothing moved yet
    r = browser.post_form("/admin/orders", f"/admin/orders/{order.public_id}/refund", amount="30", reason="")
    assert "<h1>Refund £30?</h1>" in r.text and "£400 stays paid" in r.text
    done = browser.post_form("/admin/orders", f"/admin/orders/{order.public_id}/refund", amount="30", confirmed="yes")
    assert done.status_code == 303
    db.refresh(order)
    assert order.amount_refunded == 3000
