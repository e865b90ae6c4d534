"""Who may do what, for every organisation route and every relation to the organisation: owner,
manager, member, outsider and platform admin. Strangers get 404 (the organisation is not told to
exist), members without the role 403; platform admins read but act only by granting seats."""

from __future__ import annotations

import pytest

from tests.conftest import csrf_from

WHO = ("owner", "manager", "member", "outsider", "admin")

# (method, path template, JSON body, expected status for owner, manager, member, outsider, admin)
API = [
    ("GET", "/api/v1/organisations/{org}", None, (200, 200, 200, 404, 200)),
    ("PATCH", "/api/v1/organisations/{org}", {"vat_number": "GB999"}, (200, 403, 403, 404, 403)),
    ("GET", "/api/v1/organisations/{org}/members", None, (200, 200, 200, 404, 200)),
    ("PATCH", "/api/v1/organisations/{org}/members/{member}", {"role": "member"}, (200, 403, 403, 404, 403)),
    ("DELETE", "/api/v1/organisations/{org}/members/{member}", None, (204, 204, 403, 404, 403)),
    ("PUT", "/api/v1/organisations/{org}/consent", {"share_progress": True, "share_assessments": False},
     (200, 200, 200, 404, 403)),
    ("POST", "/api/v1/organisations/{org}/leave", None, (409, 204, 204, 404, 403)),
    ("GET", "/api/v1/organisations/{org}/invitations", None, (200, 200, 403, 404, 403)),
    ("POST", "/api/v1/organisations/{org}/invitations", {"email": "fresh@acme.example"}, (201, 201, 403, 404, 403)),
    ("DELETE", "/api/v1/organisations/{org}/invitations/{invitation}", None, (204, 204, 403, 404, 403)),
    ("GET", "/api/v1/organisations/{org}/seats", None, (200, 200, 403, 404, 200)),
    ("POST", "/api/v1/organisations/{org}/seats/checkout", {"programme": "acxp", "quantity": 2},
     (201, 403, 403, 404, 403)),
    ("POST", "/api/v1/organisations/{org}/seats/grant", {"programme": "acxp", "quantity": 2},
     (403, 403, 403, 403, 201)),
    ("POST", "/api/v1/organisations/{org}/seats/{pool}/assignments", {"member": "{manager_member}"},
     (201, 201, 403, 404, 403)),
    ("DELETE", "/api/v1/organisations/{org}/seats/{pool}/assignments/{assignment}", None, (200, 200, 403, 404, 403)),
    ("GET", "/api/v1/organisations/{org}/team", None, (200, 200, 403, 404, 200)),
    ("GET", "/api/v1/organisations/{org}/team.csv", None, (200, 200, 403, 404, 200)),
]

# Pages: GETs, and form POSTs with their fields (a success answers 303 with a message).
PAGES = [
    ("GET", "/organisations/{org}", None, (200, 200, 200, 404, 200)),
    ("GET", "/organisations/{org}/seats", None, (200, 200, 403, 404, 200)),
    ("GET", "/organisations/{org}/team", None, (200, 200, 403, 404, 200)),
    ("GET", "/organisations/{org}/team.csv", None, (200, 200, 403, 404, 200)),
    ("POST", "/organisations/{org}/billing", {"name": "Acme", "vat_number": "GB123456789"}, (303, 403, 403, 404, 403)),
    ("POST", "/organisations/{org}/invitations", {"email": "fresh@acme.example", "role": "member"},
     (303, 303, 403, 404, 403)),
    ("POST", "/organisations/{org}/invitations/{invitation}/withdraw", {}, (303, 303, 403, 404, 403)),
    ("POST", "/organisations/{org}/members/{member}/role", {"role": "manager"}, (303, 403, 403, 404, 403)),
    ("POST", "/organisations/{org}/members/{member}/remove", {}, (303, 303, 403, 404, 403)),
    ("POST", "/organisations/{org}/consent", {"share_progress": "1"}, (303, 303, 303, 404, 403)),
    ("POST", "/organisations/{org}/leave", {}, (303, 303, 303, 404, 403)),
    ("POST", "/organisations/{org}/seats/buy", {"programme": "acxp", "quantity": "2"}, (303, 403, 403, 404, 403)),
    ("POST", "/organisations/{org}/seats/{pool}/assign", {"email": "manager@acme.example"},
     (303, 303, 403, 404, 403)),
    ("POST", "/organisations/{org}/seats/{pool}/take-back", {"assignment": "{assignment}"},
     (303, 303, 403, 404, 403)),
    ("GET", "/admin/organisations", None, (403, 403, 403, 403, 200)),
]


def _ids(db, s) -> dict:
    t = s.team
    return dict(org=t.org.public_id, member=t.membership(db, t.member).id,
                manager_member=t.membership(db, t.manager).id, invitation=s.invitation.id,
                pool=s.pool.public_id, assignment=s.assignment.id)


def _body(body, ids: dict, *, api: bool):
    """The body with its {placeholders} filled; the JSON API takes ids as numbers, forms as text."""
    if body is None:
        return None
    out = {}
    for k, v in body.items():
        if isinstance(v, str) and v.startswith("{"):
            v = v.format(**ids)
            out[k] = int(v) if api else v
        else:
            out[k] = v
    return out


def _cases(table):
    for method, path, body, expected in table:
        for who, status in zip(WHO, expected, strict=True):
            yield pytest.param(method, path, body, who, status, id=f"{method} {path} as {who}")


@pytest.mark.parametrize(("method", "path", "body", "who", "status"), list(_cases(API)))
def test_api_access(client, db, setup, method, path, body, who, status):
    ids = _ids(db, setup)
    r = client.request(method, path.format(**ids), json=_body(body, ids, api=True), headers=setup.headers(who))
    assert r.status_code == status, r.text
    if status in (403, 404):
        assert r.json()["error"]["code"]


@pytest.mark.parametrize(("method", "path", "body", "who", "status"), list(_cases(PAGES)))
def test_page_access(client, db, setup, method, path, body, who, status):
    ids = _ids(db, setup)
    headers = setup.headers(who)
    if method == "GET":
        r = client.get(path.format(**ids), headers=headers, follow_redirects=False)
    else:
        token = csrf_from(client.get("/account", headers=headers).text)
        r = client.post(path.format(**ids), data={"csrf_token": token, **_body(body, ids, api=False)},
                        headers=headers, follow_redirects=False)
    assert r.status_code == status, r.text[:500]


def test_a_manager_cannot_read_another_organisations_team_by_its_id(client, setup):
    other = setup.other_org.public_id
    for path in (f"/api/v1/organisations/{other}/team", f"/api/v1/organisations/{other}",
                 f"/organisations/{other}/team", f"/organisations/{other}/team.csv"):
        r = client.get(path, headers=setup.headers("manager"))
        assert r.status_code == 404, path
    assert client.get("/api/v1/organisations/org_doesnotexist", headers=setup.headers("manager")).status_code == 404


def test_logged_out_callers_are_asked_to_log_in(client, setup):
    org = setup.team.org.public_id
    assert client.get(f"/api/v1/organisations/{org}").status_code == 401
    r = client.get(f"/organisations/{org}/team", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
