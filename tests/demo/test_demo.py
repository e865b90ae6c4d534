"""`cadre demo`: a small world a newcomer can try at once, built again without duplicates, never in production."""

from __future__ import annotations

import argparse

import pytest
from sqlmodel import func, select

from api import demo
from api.certificates.models import Certificate
from api.demo import people
from api.learning.models import KnowledgeCheckAttempt, LessonCompletion


def _build(db):
    who, logins = people.ensure(db)
    return who, logins, demo.run(db, who)


def test_the_demo_learner_is_part_way_through_acxp_and_holds_an_acxs_certificate_to_verify(db, client, browser, login):
    who, logins, lines = _build(db)
    text = "\n".join(lines)
    assert "ACXP 22% done" in text  # 4 of 18 counted items
    cert = db.exec(select(Certificate).where(Certificate.user_id == who["learner"].id)).one()
    assert cert.number in text and "surname Okafor" in text
    # What the printed lines invite a newcomer to do works: /verify with the number and the surname.
    r = browser.post_form("/verify", number=cert.number, surname="Okafor")
    assert r.status_code == 303 and r.headers["location"] == f"/verify/{cert.slug}"
    # The printed password logs in, and the dashboard shows ACXP in progress.
    token = login("learner@example.com", logins[0].password)
    mine = client.get("/api/v1/learning/enrolments", headers={"Authorization": f"Bearer {token}"}).json()
    assert {e["programme"]["code"]: e["status"] for e in mine} == {"ACXP": "active", "ACXS": "completed"}


def test_running_it_again_makes_nothing_twice_and_shows_the_same_logins(db):
    who, logins, _ = _build(db)
    counts = [db.exec(select(func.count()).select_from(t).where(t.user_id == who["learner"].id)).one()
              for t in (Certificate, LessonCompletion, KnowledgeCheckAttempt)]
    who2, logins2, lines2 = _build(db)
    again = [db.exec(select(func.count()).select_from(t).where(t.user_id == who["learner"].id)).one()
             for t in (Certificate, LessonCompletion, KnowledgeCheckAttempt)]
    assert counts == again and counts[0] == 1
    assert {k: u.id for k, u in who.items()} == {k: u.id for k, u in who2.items()}
    assert [(x.email, x.password) for x in logins] == [(x.email, x.password) for x in logins2]
    assert all(x.works for x in logins2)


def test_a_changed_password_is_not_shown_as_working_until_reset(db):
    from api.core.security import hash_password

    who, _, _ = _build(db)
    who["coach"].password_hash = hash_password("something-else-entirely")
    db.add(who["coach"])
    db.flush()
    lines = people.login_lines(people.existing(db))
    coach = next(line for line in lines if "coach@example.com" in line)
    assert "changed since" in coach and people.demo_password("coach@example.com") not in coach
    people.ensure(db, reset_passwords=True)
    assert people.demo_password("coach@example.com") in "\n".join(people.login_lines(people.existing(db)))


def test_never_in_production(monkeypatch, capsys):
    from api.cli import cmd_demo
    from api.core.config import get_settings

    monkeypatch.setattr(get_settings(), "env", "production")
    assert cmd_demo(argparse.Namespace(reset_passwords=False)) == 1
    assert "development only" in capsys.readouterr().err


@pytest.mark.parametrize("human", [True, False])
def test_the_request_log_is_a_short_line_in_development_and_json_otherwise(human):
    import json
    import logging

    from api.core.logging import HumanFormatter, JsonFormatter

    record = logging.makeLogRecord({"name": "cadre.request", "msg": "request", "levelno": logging.INFO,
                                    "levelname": "INFO", "method": "GET", "path": "/dashboard", "status": 200,
                                    "ms": 12.5, "client": "127.0.0.1"})
    line = (HumanFormatter() if human else JsonFormatter()).format(record)
    if human:
        assert line.endswith("GET /dashboard 200 12.5 ms") and "{" not in line
    else:
        assert json.loads(line)["path"] == "/dashboard"


def test_the_employer_is_sent_to_their_team_not_to_verify(db, client, login):
    _, logins, _ = _build(db)
    employer = next(line for line in people.login_lines(logins) if "employer@example.com" in line)
    assert employer.rstrip().endswith("then /organisations")
    db.commit()
    login("employer@example.com", people.demo_password("employer@example.com"))
    page = client.get("/organisations")
    assert page.status_code == 200 and "Northwind Services" in page.text
