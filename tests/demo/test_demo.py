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


def _password(key: str) -> str:
    return people.demo_password(f"{key}@example.com")


def test_the_failed_first_attempt_really_fails_then_the_second_passes(db):
    from api.catalog.models import KnowledgeCheck

    who, _, lines = _build(db)
    attempts = db.exec(select(KnowledgeCheckAttempt).where(KnowledgeCheckAttempt.user_id == who["learner"].id)
                       .order_by(KnowledgeCheckAttempt.id)).all()
    acxp_check = db.get(KnowledgeCheck, attempts[0].check_id)
    first = [a for a in attempts if a.check_id == acxp_check.id]
    assert [a.passed for a in first] == [False, True]
    assert first[0].score_percent < acxp_check.pass_mark <= first[1].score_percent
    assert "one failed attempt at the first knowledge check, then a pass" in "\n".join(lines)


def test_the_demo_learner_bought_acxp_in_instalments_and_the_printed_checkout_works_for_her(db, client, login):
    import re

    from api.learning import service as learning_service
    from api.payments.models import Order

    who, _, lines = _build(db)
    db.commit()
    order = db.exec(select(Order).where(Order.user_id == who["learner"].id)).one()
    enrolment = learning_service.get_enrolment(db, who["learner"].id, order.programme_id)
    assert (enrolment.source, enrolment.reference) == ("instalment_plan", order.public_id)  # her ACXP, bought
    login("learner@example.com", _password("learner"))
    billing = client.get("/billing").text
    assert "You have not bought anything yet" not in billing
    assert re.search(r"1 of 4 paid · next £362\.50 on \d{1,2} \w+ \d{4}", billing), billing
    assert client.get(f"/billing/{order.public_id}/invoice.pdf").content.startswith(b"%PDF")
    hint = next(line for line in lines if line.startswith("Checkout:"))
    path = re.search(r"/checkout/[\w-]+", hint).group(0)
    page = client.get(path)
    assert page.status_code == 200 and "No need to pay" not in page.text and "already enrolled" not in page.text
    login("admin@example.com", _password("admin"))
    assert order.public_id in client.get("/admin/orders").text
    # Run again: still the one order.
    _build(db)
    assert len(db.exec(select(Order).where(Order.user_id == who["learner"].id)).all()) == 1


def test_the_coach_finds_the_cohort_they_run_with_its_learners_and_can_take_attendance(db, client, browser, login):
    from api.cohorts import service as cohorts_service
    from api.core.db import utcnow

    who, logins, lines = _build(db)
    db.commit()
    coach_line = next(line for line in people.login_lines(logins) if "coach@example.com" in line)
    assert coach_line.rstrip().endswith("then /coach/marking")
    running = next(c for c in cohorts_service.cohorts_facilitated(db, who["coach"].id) if c.status == "running")
    first = cohorts_service.sessions_of(db, running)[0]
    assert first.starts_at <= utcnow()
    assert any(f"/cohorts/{running.public_id}" in line for line in lines)

    login("coach@example.com", _password("coach"))
    assert '<li><a href="/cohorts">Cohorts</a></li>' in client.get("/account").text  # the site's menu, every page
    home = client.get("/dashboard").text  # where logging in lands
    assert f'href="/cohorts/{running.public_id}"' in home and 'href="/coach/marking"' in home
    assert 'href="/cohorts"' in client.get("/admin").text
    assert f'href="/cohorts/{running.public_id}"' in client.get("/cohorts").text
    page = client.get(f"/cohorts/{running.public_id}").text
    assert "Sam Lee" in page and "Jo Bright" in page
    sheet = f"/cohorts/{running.public_id}/sessions/{first.uid}/attendance"
    r = browser.post_form(sheet, everyone="present")
    assert r.status_code == 303
    assert "Present" in client.get(f"/cohorts/{running.public_id}").text
    # A learner is not shown the coaches' menu link.
    login("learner@example.com", _password("learner"))
    assert '<li><a href="/cohorts">Cohorts</a></li>' not in client.get("/billing").text


def test_a_second_run_prints_the_same_summary(db):
    _, _, first = _build(db)
    _, _, second = _build(db)
    # Only the code's line says the first time that it was just made.
    made = "Demo discount code created: SPECIAL50"
    assert [line.replace(made, "Discount code SPECIAL50") for line in first] == second
    assert any("facilitated by the demo coach" in line for line in second)
    assert any("open for nominations at /awards/" in line for line in second)
    assert len(first) == len(second)


def test_serve_shows_the_logins_after_the_queued_demo_emails(db, monkeypatch, capsys, tmp_path):
    from contextlib import nullcontext

    import uvicorn
    from sqlmodel import Session

    from api import cli
    from api.core.config import get_settings
    from api.outbox import worker

    _build(db)
    db.commit()
    settings = get_settings()
    monkeypatch.setattr(settings, "env", "development")
    monkeypatch.setattr(settings, "email_backend", "console")
    monkeypatch.setattr(settings, "var_dir", tmp_path)
    monkeypatch.setattr(cli, "_session", lambda: Session(bind=db.connection(), join_transaction_mode="create_savepoint",
                                                         expire_on_commit=False))
    monkeypatch.setattr(cli, "_worker_sessions", lambda: (lambda: nullcontext(db)))
    monkeypatch.setattr(worker, "start_threads", lambda *a, **k: [])
    monkeypatch.setattr(uvicorn, "run", lambda *a, **k: None)
    capsys.readouterr()
    args = argparse.Namespace(host=None, port=None, workers=None, reload=False, no_worker=False)
    assert cli.cmd_serve(args) == 0
    err = capsys.readouterr().err
    assert err.count("--- email to ") >= 5  # the demo's queued emails, printed in full and saved
    assert len(list((tmp_path / "mail").glob("*.eml"))) == err.count("--- email to ")
    tail = err[err.rindex("--- email to "):]
    assert "Demo logins" in tail and _password("coach") in tail  # the logins come after the last email
    assert err.rstrip().endswith("(Ctrl-C stops it).")


def test_the_written_answer_is_paragraphs_not_hard_wrapped_lines(db, client, login):
    from api.assessments import submissions
    from api.catalog import service as catalog_service

    who, _, _ = _build(db)
    db.commit()
    acxp = catalog_service.get_by_slug(db, "acxp")
    brief = submissions.briefs_for(db, [acxp.id])[acxp.id][0]
    sub = submissions.attempts(db, who["learner"].id, brief.id)[-1]
    paragraphs = sub.text.split("\n\n")
    assert len(paragraphs) >= 3 and all("\n" not in p for p in paragraphs)
    login("coach@example.com", _password("coach"))
    page = client.get(f"/coach/marking/{sub.public_id}").text
    assert "The moment that fails most is the booking: 38% of callers" in page
