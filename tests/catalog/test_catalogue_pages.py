"""The public catalogue: ladders, programme pages and the JSON API."""

from __future__ import annotations

import re

from sqlalchemy import event


def test_catalogue_shows_all_ten_programmes_on_three_ladders(client):
    page = client.get("/programmes").text
    for code in ["ACXP", "ACXM", "ACXC", "ACX-Mentor", "CPP", "CPPM", "CPPC", "COIM", "ACXS", "OIV"]:
        assert f'<span class="code">{code}</span>' in page
    assert page.index("Customer Experience (ACX)") < page.index("Process Management (CPP)") < \
        page.index("Outside-In (OI)")
    acx = page.split("Customer Experience (ACX)")[1].split("Process Management (CPP)")[0]
    rungs = [acx.index(f'<span class="code">{c}</span>') for c in ["ACXP", "ACXM", "ACXC", "ACX-Mentor"]]
    assert acx.index("Level 1") < rungs[0] and rungs == sorted(rungs)
    assert acx.index("Level 4") < rungs[3]


def test_programme_page_has_the_facts(client):
    page = client.get("/programmes/acxs").text
    assert "Accredited Customer Experience Specialist" in page
    assert "£860" in page and "4 × £215 monthly (£860 in all)" in page
    assert page.count("£860") == 2  # once for paying in full, once as the plan's total: the price said once
    assert "On demand" in page and "25 lessons" in page and "25 video lessons" not in page  # no video yet
    page = client.get("/programmes/acxm").text
    assert "4 days, 5 hours per day" in page and "Upcoming cohorts" in page and "A cohort started" not in page
    assert re.search(r'href="/programmes/acxp">Accredited Customer Experience Professional \(ACXP\)', page)
    page = client.get("/programmes/cppm").text
    assert "Orlando" in page and "Dubai" in page


def test_unknown_programme_is_a_friendly_404_page_and_a_json_404(client):
    r = client.get("/programmes/nope")
    assert r.status_code == 404 and "There is no programme at this address." in r.text
    r = client.get("/api/v1/programmes/nope")
    assert r.status_code == 404 and r.json()["error"]["code"] == "programme_not_found"


def test_api_lists_programmes_and_details_the_outline_without_lesson_text(client):
    rows = client.get("/api/v1/programmes").json()
    assert len(rows) == 10
    acxs = next(r for r in rows if r["code"] == "ACXS")
    full = next(o for o in acxs["offers"] if o["kind"] == "full")
    assert full["amount"] == 86000 and full["currency"] == "GBP" and full["price"] == "£860"
    plan = next(o for o in acxs["offers"] if o["kind"] == "instalments")
    assert plan["instalment_amounts"] == [21500] * 4
    detail = client.get("/api/v1/programmes/acxp").json()
    assert len(detail["modules"]) >= 4
    assert all(set(i) == {"slug", "title", "kind", "minutes"} for m in detail["modules"] for i in m["items"])
    assert detail["leads_to"][0]["code"] == "ACXM"


def test_catalogue_api_runs_a_fixed_number_of_queries(client, engine):
    count = {"n": 0}

    def on_execute(*_args):
        count["n"] += 1

    event.listen(engine, "before_cursor_execute", on_execute)
    try:
        client.get("/api/v1/programmes")
        listing = count["n"]
        count["n"] = 0
        client.get("/api/v1/programmes/acxs")
        detail = count["n"]
        count["n"] = 0
        again = client.get("/api/v1/programmes/acxs")
        repeat = count["n"]
    finally:
        event.remove(engine, "before_cursor_execute", on_execute)
    # Ten programmes, 140-odd lessons: still a handful of statements (SAVEPOINT/RELEASE included, the
    # reads of the public pages' version (at most once per recheck interval), the ladder's prerequisites
    # and the live programmes' next cohorts).
    assert listing <= 9 and detail <= 10
    # Asked again, anonymously: the page rendered once for this content version, no query at all.
    assert again.status_code == 200 and again.json()["slug"] == "acxs" and repeat == 0


def test_hall_of_fame_names_the_2020_winner(client):
    page = client.get("/hall-of-fame").text
    assert "2020: Roland D. Naidoo" in page and "Multichoice" in page
    assert client.get("/api/v1/awards").json()[0]["winners"][0]["name"] == "Roland D. Naidoo"


def test_home_page_and_security_headers(client):
    r = client.get("/")
    assert r.status_code == 200 and "Three ladders" in r.text
    assert r.headers["x-frame-options"] == "DENY"
    assert "default-src 'self'" in r.headers["content-security-policy"]
    assert r.headers["x-request-id"]
