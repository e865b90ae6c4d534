"""Getting a place: the programme page's enrol area, self-enrolment in free programmes, the ladder
with its path, and admins granting and cancelling on the admin page and with `cadre enrol`."""

from __future__ import annotations

import re

from sqlalchemy import delete
from sqlmodel import Session, select

from api.accounts.models import Role, User
from api.catalog import service as catalog_service
from api.catalog.models import Offer
from api.core.db import utcnow
from api.learning import service as enrolment_service
from api.learning.models import Enrolment


def _make_free(db, slug: str) -> None:
    programme = catalog_service.get_by_slug(db, slug)
    for offer in db.exec(select(Offer).where(Offer.programme_id == programme.id)):
        offer.retired_at = utcnow()
    db.commit()


def _enrol_area(html: str) -> str:
    return html.split('<section class="enrol"')[1].split("</section>")[0]


def test_paid_programme_offers_a_way_to_buy(client, make_user, login):
    area = _enrol_area(client.get("/programmes/acxs").text)
    assert "£860" in area and 'action="/checkout/acxs"' in area
    make_user("buyer@example.com")
    login("buyer@example.com")
    area = _enrol_area(client.get("/programmes/acxs").text)
    assert "Continue to checkout" in area and "% done" not in area


def test_an_enrolled_learner_sees_continue_with_their_progress(client, make_user, login, enrol, outline):
    user = make_user()
    enrol(user, "acxs")
    login(user.email)
    area = _enrol_area(client.get("/programmes/acxs").text)
    first = outline("acxs")[0]
    assert "Continue to checkout" not in area and "0% done" in area
    assert f'<a class="button" href="/learn/acxs/{first.slug}">Continue</a>' in area


def test_free_programme_has_a_self_enrol_button(client, browser, db, make_user, login):
    _make_free(db, "oiv")
    assert "Log in</a> or <a href=\"/register\">create an account</a> to enrol" in _enrol_area(
        client.get("/programmes/oiv").text)
    user = make_user()
    login(user.email)
    assert "Enrol for free" in _enrol_area(client.get("/programmes/oiv").text)
    r = browser.post_form("/programmes/oiv", "/learn/oiv/enrol")
    assert r.status_code == 303 and r.headers["location"] == "/learn/oiv"
    e = enrolment_service.get_enrolment(db, user.id, catalog_service.get_by_slug(db, "oiv").id)
    assert e.source == "free" and e.status == "active" and e.access_until is None
    assert "Continue" in _enrol_area(client.get("/programmes/oiv").text)
    # A paid programme cannot be self-enrolled, whatever is posted.
    r = browser.post_form("/programmes/oiv", "/learn/acxs/enrol")
    assert r.status_code == 409 and "not free" in r.text


def test_without_the_prerequisite_a_learner_cannot_enrol_in_acx_master_and_is_told_why(client, browser, db,
                                                                                       make_user, login):
    _make_free(db, "acxm")  # even were it free
    user = make_user()
    login(user.email)
    area = _enrol_area(client.get("/programmes/acxm").text)
    assert "expects you to hold Accredited Customer Experience Professional (ACXP) first" in area
    assert '<a href="/programmes/acxp">Accredited Customer Experience Professional (ACXP)</a>' in area
    assert "Enrol for free" not in area and "Purchase is not open yet." not in area
    r = browser.post_form("/programmes/acxm", "/learn/acxm/enrol")
    assert r.status_code == 403
    assert "You cannot enrol in ACX Master yet" in r.text
    assert "Start with Accredited Customer Experience Professional" in r.text
    assert 'href="/programmes/acxp"' in r.text
    assert enrolment_service.get_enrolment(db, user.id, catalog_service.get_by_slug(db, "acxm").id) is None


def test_admin_grants_with_and_without_the_ladder_and_cancels_with_a_reason(client, browser, db, make_user, login):
    make_user("boss@example.com", roles={Role.admin})
    learner = make_user("pupil@example.com", name="Pat Pupil")
    login("boss@example.com")
    r = browser.post_form("/admin/enrolments", email="pupil@example.com", programme="acxm")
    assert r.status_code == 403 and "expects you to hold Accredited Customer Experience Professional" in r.text
    r = browser.post_form("/admin/enrolments", email="pupil@example.com", programme="acxm", override="1",
                          access_days="30")
    assert r.status_code == 303
    acxm = catalog_service.get_by_slug(db, "acxm")
    e = enrolment_service.get_enrolment(db, learner.id, acxm.id)
    assert e.source == "admin_grant" and e.status == "active" and e.access_until is not None
    page = client.get("/admin/enrolments?q=pupil").text
    assert "Pat Pupil" in page and "pupil@example.com is enrolled in ACXM (active)." in page
    r = browser.post_form("/admin/enrolments", f"/admin/enrolments/{e.id}/cancel", reason="   ")
    assert r.status_code == 422 and "Give a reason" in r.text
    r = browser.post_form("/admin/enrolments", f"/admin/enrolments/{e.id}/cancel", reason="Seat moved to a colleague")
    assert r.status_code == 303
    db.refresh(e)
    assert e.status == "cancelled" and e.status_reason == "Seat moved to a colleague"
    r = browser.post_form("/admin/enrolments", email="nobody@example.com", programme="acxp")
    assert r.status_code == 404 and "No account uses nobody@example.com" in r.text


def test_only_admins_reach_the_enrolments_page(client, browser, make_user, login, enrol):
    coach = make_user(roles={Role.coach})
    target = make_user()
    e = enrol(target, "acxp")
    login(coach.email)
    assert client.get("/admin/enrolments").status_code == 403
    from tests.conftest import csrf_from

    token = csrf_from(client.get("/dashboard").text)
    r = client.post(f"/admin/enrolments/{e.id}/cancel", data={"csrf_token": token, "reason": "x"})
    assert r.status_code == 403


def test_cadre_enrol_grant_list_and_cancel(engine, capsys):
    from api.cli import main

    email = "cli-learner@example.com"
    try:
        assert main(["users", "create", email, "--name", "Cli Learner", "--password", "a-long-password"]) == 0
        capsys.readouterr()
        assert main(["enrol", "grant", email, "ACXM"]) == 1
        assert "expects you to hold Accredited Customer Experience Professional (ACXP) first" in capsys.readouterr().err
        assert main(["enrol", "grant", email, "acxp"]) == 0
        assert "Enrolled cli-learner@example.com in ACXP (active, lifetime access)." in capsys.readouterr().out
        assert main(["enrol", "grant", email, "ACXM", "--override", "--days", "90"]) == 0
        assert "in ACXM (active, access until" in capsys.readouterr().out
        assert main(["enrol", "list", "--programme", "ACXP"]) == 0
        listing = capsys.readouterr().out
        assert re.search(r"cli-learner@example.com\s+ACXP\s+active\s+admin_grant\s+0%", listing)
        assert "ACXM" not in listing
        assert main(["enrol", "cancel", email, "ACXP"]) == 2  # a reason is required
        capsys.readouterr()
        assert main(["enrol", "cancel", email, "ACXP", "--reason", "refunded"]) == 0
        assert "Cancelled cli-learner@example.com in ACXP (refunded); progress is kept." in capsys.readouterr().out
        assert main(["enrol", "grant", "nobody@example.com", "ACXP"]) == 1
        assert "No account uses nobody@example.com" in capsys.readouterr().err
        assert main(["enrol", "grant", email, "NOPE"]) == 1
        with Session(engine) as s:
            user = s.exec(select(User).where(User.email == email)).one()
            rows = {e.status for e in s.exec(select(Enrolment).where(Enrolment.user_id == user.id))}
        assert rows == {"cancelled", "active"}
    finally:
        with Session(engine) as s:
            s.exec(delete(User).where(User.email == email))
            s.commit()
