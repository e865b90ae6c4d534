"""The platform admin's organisations: the list (newest first, searchable, paged) and granting seats
without a payment, with the reason for a refusal on the page."""

from __future__ import annotations

from api.organisations import seats, service
from tests.conftest import csrf_from


def test_the_admin_lists_organisations_and_grants_seats(client, db, team, make_user, login):
    for i in range(3):
        service.create(db, make_user(f"founder{i}@example.com"), name=f"Founded {i}")
    db.commit()
    login(team.admin.email)
    page = client.get("/admin/organisations")
    assert page.status_code == 200 and "Acme Services" in page.text and "Founded 2" in page.text
    assert "/admin/organisations" in client.get("/admin").text  # listed among the admin areas
    found = client.get("/admin/organisations", params={"q": "acme"}).text
    assert "Acme Services" in found and "Founded 0" not in found
    r = client.post("/admin/organisations/grant", data={"csrf_token": csrf_from(page.text),
                                                        "organisation": team.org.public_id, "programme": "acxp",
                                                        "quantity": "4"})
    assert "Granted 4 seats to Acme Services (4 in all)." in r.text
    [(pool, programme)] = seats.pools_of(db, team.org.id)
    assert (pool.quantity, programme.code) == (4, "ACXP")
    r = client.post("/admin/organisations/grant", data={"csrf_token": csrf_from(page.text),
                                                        "organisation": team.org.public_id, "programme": "coim",
                                                        "quantity": "2"})
    assert r.status_code == 422 and "say which cohort" in r.text
    r = client.post("/admin/organisations/grant", data={"csrf_token": csrf_from(page.text),
                                                        "organisation": "org_nope", "programme": "acxp",
                                                        "quantity": "2"})
    assert r.status_code == 404
