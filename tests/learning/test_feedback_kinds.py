"""Feedback looks like what it is: a failed knowledge check is a warning, not a green success; a
learner without an enrolment who opens /learn/{programme} is told why."""

from __future__ import annotations

from sqlmodel import select

from api.catalog.models import KnowledgeCheck, Programme
from tests.learning.conftest import right_answers, wrong_answers

CHECK = "check-outside-in"


def _check(db):
    return db.exec(select(KnowledgeCheck).join(Programme).where(Programme.slug == "acxp",
                                                                KnowledgeCheck.slug == CHECK)).one()


def test_a_failed_check_is_a_warning_and_a_pass_a_success(client, db, browser, make_user, login, enrol):
    user = make_user()
    enrol(user, "acxp")
    login(user.email)
    check = _check(db)
    wrong = {f"q{i}": [str(x) for x in a] for i, a in enumerate(wrong_answers(check))}
    r = browser.post_form(f"/learn/acxp/check/{CHECK}", **wrong)
    page = client.get(r.headers["location"]).text
    assert ('<p class="flash flash-warning" role="status">Not passed yet: you scored 0%; the pass mark is 70%.</p>'
            in page)
    assert "flash-success" not in page
    right = {f"q{i}": [str(x) for x in a] for i, a in enumerate(right_answers(check))}
    r = browser.post_form(f"/learn/acxp/check/{CHECK}", **right)
    page = client.get(r.headers["location"]).text
    assert '<p class="flash flash-success" role="status">You passed with 100%.</p>' in page


def test_an_error_flash_is_an_alert(client, make_user, login, browser):
    from api.accounts.models import Role

    admin = make_user(roles={Role.admin})
    login(admin.email)
    r = browser.post_form("/admin/users", f"/admin/users/{admin.id}/roles", role="admin", action="revoke")
    page = client.get(r.headers["location"]).text
    assert '<p class="flash flash-error" role="alert">You cannot remove your own admin role.</p>' in page


def test_learn_without_an_enrolment_says_why(client, make_user, login):
    user = make_user()
    login(user.email)
    r = client.get("/learn/acxp", follow_redirects=False)
    assert r.status_code == 403
    assert "You are not enrolled in this programme" in r.text
    assert "You are not enrolled in Accredited Customer Experience Professional (ACXP)" in r.text
    assert 'href="/programmes/acxp"' in r.text
