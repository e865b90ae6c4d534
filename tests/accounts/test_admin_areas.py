"""/admin links every administration area, and every admin page carries the same menu."""

from __future__ import annotations

from fastapi.routing import APIRoute

from api.accounts.models import Role


def _routes(routes):
    for r in routes:
        inner = getattr(r, "original_router", None)  # FastAPI keeps included routers as they were
        if inner is not None:
            yield from _routes(inner.routes)
        elif isinstance(r, APIRoute):
            yield r


def _admin_pages(app) -> set[str]:
    """Every HTML page under /admin (no path parameters, not an export), as the app serves them."""
    return {r.path for r in _routes(app.routes) if r.path.startswith("/admin/") and not r.include_in_schema
            and "GET" in r.methods and "{" not in r.path and not r.path.endswith(".csv")}


def test_every_admin_page_is_linked_from_admin_and_from_each_other(app, client, make_user, login):
    admin = make_user(roles={Role.admin})
    login(admin.email)
    home = client.get("/admin").text
    pages = _admin_pages(app)
    assert {"/admin/codes", "/admin/orders", "/admin/users", "/admin/certificates"} <= pages
    for path in pages | {"/coach/progress"}:
        assert f'href="{path}"' in home, f"/admin does not link {path}"
        page = client.get(path)
        assert page.status_code == 200 and 'aria-label="Administration"' in page.text
        assert f'href="{path}" aria-current="page"' in page.text


def test_a_coach_sees_only_what_a_coach_may_open(client, make_user, login):
    coach = make_user(roles={Role.coach})
    login(coach.email)
    home = client.get("/admin").text
    assert 'href="/coach/progress"' in home and 'href="/admin/orders"' not in home
    assert client.get("/admin/orders").status_code == 403
