"""Roles: who may see the admin pages, and how admins grant roles."""

from __future__ import annotations

from api.accounts.models import Role


def test_learner_gets_403_on_the_admin_page(client, make_user, login):
    make_user("learner@example.com")
    login("learner@example.com")
    r = client.get("/admin/users")
    assert r.status_code == 403
    assert "do not have permission" in r.text


def test_anonymous_visitor_is_sent_to_log_in_for_admin_pages(client):
    r = client.get("/admin/users", follow_redirects=False)
    assert r.status_code == 303


def test_admin_grants_and_revokes_a_role_on_the_admin_page(client, browser, make_user, login, db):
    from api.accounts import service

    make_user("boss@example.com", roles={Role.admin})
    coach = make_user("soon-coach@example.com", name="Soon Coach")
    login("boss@example.com")
    page = client.get("/admin/users?q=soon")
    assert "Soon Coach" in page.text and "boss@example.com" not in page.text
    r = browser.post_form("/admin/users", f"/admin/users/{coach.id}/roles", role="coach", action="grant")
    assert r.status_code == 303
    assert Role.coach in service.roles_of(db, coach)
    browser.post_form("/admin/users", f"/admin/users/{coach.id}/roles", role="coach", action="revoke")
    assert Role.coach not in service.roles_of(db, coach)


def test_a_coach_cannot_grant_roles(client, make_user, login):
    make_user("coach@example.com", roles={Role.coach})
    victim = make_user("v@example.com")
    login("coach@example.com")
    page = client.get("/login")
    from tests.conftest import csrf_from

    r = client.post(f"/admin/users/{victim.id}/roles", data={"csrf_token": csrf_from(page.text), "role": "admin"})
    assert r.status_code == 403


def test_cli_creates_users_and_grants_roles(engine, capsys):
    from sqlmodel import Session

    from api.accounts import service
    from api.cli import main

    email = "cli-made@example.com"
    try:
        assert main(["users", "create", email, "--name", "Cli Made", "--password", "a-long-password",
                     "--role", "coach"]) == 0
        assert main(["users", "grant", email, "employer"]) == 0
        assert main(["users", "grant", "nobody@example.com", "admin"]) == 1
        with Session(engine) as s:
            user = service.get_by_email(s, email)
            assert service.roles_of(s, user) == {Role.learner, Role.coach, Role.employer}
        assert "Created cli-made@example.com" in capsys.readouterr().out
    finally:
        with Session(engine) as s:  # this test commits for real, so it cleans up after itself
            user = service.get_by_email(s, email)
            if user:
                s.delete(user)
                s.commit()
