"""The learner's dashboard and the coaches' progress view with its CSV export."""

from __future__ import annotations

import csv
import io
import re

from api.accounts.models import Role
from api.learning import reports
from tests.learning.conftest import right_answers


def test_a_new_learner_is_pointed_at_the_first_rungs(client, make_user, login):
    user = make_user(name="Nia Newcomer")
    login(user.email)
    page = client.get("/dashboard").text
    assert "<h1>Welcome, Nia Newcomer</h1>" in page
    assert "You are not studying a programme yet." in page
    where = page.split('id="start-h"')[1]
    for slug in ("acxp", "acxs", "cpp", "oiv"):
        assert f'href="/programmes/{slug}"' in where
    assert 'href="/programmes/coim"' not in where.split("</section>")[0]  # level 2: it requires OIV
    assert 'href="/programmes/acxm"' not in where


def test_dashboard_shows_progress_continue_next_rung_and_recent_activity(client, db, make_user, login, enrol,
                                                                         outline):
    from sqlmodel import select

    from api.catalog.models import KnowledgeCheck

    user = make_user()
    enrol(user, "acxp")
    login(user.email)
    items = outline("acxp")
    client.post(f"/api/v1/learning/programmes/acxp/lessons/{items[0].slug}/complete")
    check = db.exec(select(KnowledgeCheck).where(KnowledgeCheck.slug == "check-outside-in")).first()
    client.post("/api/v1/learning/programmes/acxp/checks/check-outside-in/attempts",
                json={"answers": right_answers(check)})
    client.get(f"/learn/acxp/{items[1].slug}")
    page = client.get("/dashboard").text
    api_percent = client.get("/api/v1/learning/programmes/acxp/progress").json()["percent"]
    assert api_percent == 11
    assert f'<progress max="100" value="{api_percent}"' in page
    assert re.search(rf'<span id="pct-acxp" class="pct" data-programme="acxp">{api_percent}%</span>', page)
    continue_link = f'<a class="button" href="/learn/acxp/{items[1].slug}">Continue<span class="sr-only"> ACXP</span>'
    assert continue_link in page
    assert ("To complete: 13 lessons to complete; 3 knowledge checks to pass; the practical assessment (An SCO Canvas "
            "and moments of truth map for one of your own customer experiences): not yet submitted.") in page
    nxt = page.split('id="next-h"')[1].split("</section>")[0]
    assert 'href="/programmes/acxm">ACX Master</a>' in nxt
    assert ('opens when you hold <a href="/programmes/acxp">Accredited Customer Experience Professional (ACXP)</a>'
            in nxt)
    activity = page.split('id="activity-h"')[1].split("</section>")[0]
    assert activity.index("Passed: “Check your understanding: Outside-In versus Inside-Out” (ACXP), 100%") < \
        activity.index(f"Completed the lesson “{items[0].title}” (ACXP)")


def test_cancelled_enrolments_leave_the_dashboard(client, db, make_user, login, enrol):
    from api.learning import service

    user = make_user()
    e = enrol(user, "acxs")
    login(user.email)
    assert "ACXS" in client.get("/dashboard").text.split('id="mine-h"')[1]
    service.cancel(db, e, "refund")
    db.commit()
    assert "You are not studying a programme yet." in client.get("/dashboard").text
    assert client.get("/api/v1/learning/enrolments").json() == []


def test_coach_sees_learners_progress_with_filters(client, make_user, login, enrol, outline):
    make_user("coach@example.com", roles={Role.coach})
    ann = make_user("ann@example.com", name="Ann Able")
    bob = make_user("bob@example.com", name="Bob Baker")
    enrol(ann, "acxp")
    enrol(bob, "acxp")
    enrol(bob, "acxs")
    login(ann.email)
    for item in outline("acxp")[:3]:
        client.post(f"/api/v1/learning/programmes/acxp/lessons/{item.slug}/complete")
    login("coach@example.com")
    page = client.get("/coach/progress?programme=acxp").text
    assert "2 enrolments" in page and "Ann Able" in page and "Bob Baker" in page
    ann_row = page.split('<td data-label="Learner">Ann Able<br>')[1].split("</tr>")[0]
    assert "16%" in ann_row and "3 / 14" in ann_row and "0 / 4" in ann_row
    page = client.get("/coach/progress?q=BOB").text
    assert "Ann Able" not in page and page.count('<td data-label="Learner">Bob Baker<br>') == 2
    assert 'href="/coach/progress.csv?q=BOB"' in page
    page = client.get("/coach/progress?programme=acxs&status=completed").text
    assert "0 enrolments" in page
    assert "ann@example.com" in client.get("/coach/progress").text


def test_csv_export_uses_the_same_filters_and_is_safe_in_a_spreadsheet(client, make_user, login, enrol):
    make_user("admin@example.com", roles={Role.admin})
    names = ["=HYPERLINK(\"http://evil.example\",\"x\")", "+1+1", "-2+3", "@SUM(A1)", "Plain Name"]
    for i, name in enumerate(names):
        enrol(make_user(f"csv{i}@example.com", name=name), "acxs")
    enrol(make_user("other@example.com", name="Other Course"), "acxp")
    login("admin@example.com")
    r = client.get("/coach/progress.csv?programme=acxs&q=csv")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert r.headers["content-disposition"].startswith('attachment; filename="cadre-progress-')
    rows = list(csv.reader(io.StringIO(r.text)))
    assert rows[0] == reports.CSV_HEADER
    by_email = {row[1]: row for row in rows[1:]}
    assert set(by_email) == {f"csv{i}@example.com" for i in range(len(names))}
    assert by_email["csv0@example.com"][0] == "'=HYPERLINK(\"http://evil.example\",\"x\")"
    assert [by_email[f"csv{i}@example.com"][0] for i in range(1, 5)] == ["'+1+1", "'-2+3", "'@SUM(A1)", "Plain Name"]
    assert all(row[2] == "ACXS" and row[3] == "active" and row[5] == "0" for row in rows[1:])


def test_csv_cell_neutralises_formulas():
    assert reports.csv_cell("=1+1") == "'=1+1"
    assert reports.csv_cell("\t=1") == "'\t=1"
    assert reports.csv_cell("a=1") == "a=1"
    assert reports.csv_cell(None) == "" and reports.csv_cell(42) == "42"


def test_progress_view_is_for_coaches_and_admins_only(client, make_user, login):
    assert client.get("/coach/progress", follow_redirects=False).status_code == 303
    make_user("learner@example.com")
    login("learner@example.com")
    assert client.get("/coach/progress").status_code == 403
    assert client.get("/coach/progress.csv").status_code == 403
    assert 'href="/coach/progress"' not in client.get("/dashboard").text
