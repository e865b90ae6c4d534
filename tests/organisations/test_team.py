"""The team dashboard and its CSV: only what each member shares (consent off by default, on, and
withdrawn again at once), certificates public on /verify always listed, expiring ones highlighted,
filters and keyset pages, CSV cells that a spreadsheet would run as formulas made text, and the
"certificate expiring" email to managers only when the holder shares their progress."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from sqlmodel import select

from api.catalog.models import Lesson
from api.certificates import service as certificates_service
from api.core.db import utcnow
from api.learning import study
from api.organisations import seats, service
from tests.organisations.conftest import add_member


@pytest.fixture
def started(db, team):
    """The member holds an ACXP seat and has finished one lesson; they hold a public CPP certificate that
    lapses in about 30 days and a private ACXS one."""
    acxp = seats.programme_by_slug(db, "acxp")
    pool = seats.grant(db, team.org, acxp, 2, team.admin)
    seats.assign(db, team.org, pool, team.membership(db, team.member), team.manager)
    lesson = db.exec(select(Lesson).where(Lesson.programme_id == acxp.id).order_by(Lesson.id)).first()
    study.complete_lesson(db, team.member, "acxp", lesson.slug)
    cpp = seats.programme_by_slug(db, "cpp")
    public = certificates_service.issue(db, user=team.member, programme=cpp, holder_name="Milo Member",
                                        issued_by=team.admin, reason="Workshop attended",
                                        now=utcnow() - timedelta(days=700))
    acxs = seats.programme_by_slug(db, "acxs")
    private = certificates_service.issue(db, user=team.member, programme=acxs, holder_name="Milo Member",
                                         issued_by=team.admin, reason="Imported")
    certificates_service.set_private(db, private, True)
    db.commit()
    return public, private


def _csv(client, team, **params) -> list[dict]:
    r = client.get(f"/organisations/{team.org.public_id}/team.csv", params=params)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(r.text)))


def _row(client, team, email: str) -> dict:
    r = client.get(f"/api/v1/organisations/{team.org.public_id}/team")
    return next(m for m in r.json()["items"] if m["email"] == email)


def test_without_consent_managers_see_the_seat_and_public_certificates_only(client, team, started, login):
    public, private = started
    assert public.expires_at is not None
    login(team.manager.email)
    row = _row(client, team, team.member.email)
    assert row["shares_progress"] is False
    [acxp] = row["programmes"]
    assert (acxp["programme"], acxp["seat"], acxp["shared"], acxp["percent"]) == ("acxp", True, False, None)
    assert [c["number"] for c in row["certificates"]] == [public.number]  # the private one is not listed
    assert row["certificates"][0]["expiring_soon"] is True
    page = client.get(f"/organisations/{team.org.public_id}/team").text
    assert "progress not shared" in page and public.number in page and private.number not in page
    assert 'class="expiring"' in page and "lapses within 90 days" in page
    rows = [r for r in _csv(client, team) if r["Email"] == team.member.email]
    assert {r["Progress shared"] for r in rows} == {"no"}
    assert all(r["Progress %"] == "" and r["Assessment"] in ("not shared", "") for r in rows)
    assert {r["Certificate"] for r in rows} - {""} == {public.number}


def test_with_consent_progress_and_private_certificates_appear_and_withdrawal_hides_them_at_once(
        client, db, team, started, login):
    public, private = started
    login(team.member.email)
    r = client.put(f"/api/v1/organisations/{team.org.public_id}/consent",
                   json={"share_progress": True, "share_assessments": True})
    assert r.status_code == 200
    login(team.manager.email)
    row = _row(client, team, team.member.email)
    acxp = next(p for p in row["programmes"] if p["programme"] == "acxp")
    assert acxp["shared"] is True and acxp["percent"] > 0
    assert {c["number"] for c in row["certificates"]} == {public.number, private.number}
    rows = [r for r in _csv(client, team) if r["Email"] == team.member.email]
    acxp_row = next(r for r in rows if r["Programme"] == "ACXP")
    assert acxp_row["Progress shared"] == "yes" and int(acxp_row["Progress %"]) > 0 and acxp_row["Lessons done"] == "1"

    # The member withdraws: the very next page and export show nothing more than before.
    service.set_consent(db, team.membership(db, team.member), share_progress=False, share_assessments=False)
    db.commit()
    row = _row(client, team, team.member.email)
    assert row["programmes"][0]["percent"] is None
    assert [c["number"] for c in row["certificates"]] == [public.number]
    assert all(r["Progress %"] == "" for r in _csv(client, team) if r["Email"] == team.member.email)


def test_the_member_changes_consent_on_the_organisation_page(client, db, team, login):
    from tests.conftest import csrf_from

    login(team.member.email)
    page = client.get(f"/organisations/{team.org.public_id}")
    assert 'name="share_progress"' in page.text and "checked" not in page.text.split('id="c-progress"')[1][:80]
    r = client.post(f"/organisations/{team.org.public_id}/consent",
                    data={"csrf_token": csrf_from(page.text), "share_progress": "1"})
    assert "managers now see your progress" in r.text
    db.expire_all()
    m = team.membership(db, team.member)
    assert (m.share_progress, m.share_assessments) == (True, False)


def test_csv_cells_that_look_like_formulas_are_made_text(client, db, team, make_user, login):
    sly = make_user("sly@acme.example", name="=HYPERLINK(\"http://evil\",\"x\")")
    add_member(db, team.org, sly)
    db.commit()
    login(team.owner.email)
    row = next(r for r in _csv(client, team) if r["Email"] == "sly@acme.example")
    assert row["Name"].startswith("'=HYPERLINK")


def test_filters_and_pages(client, db, team, started, make_user, login):
    for i in range(3):
        add_member(db, team.org, make_user(f"extra{i}@acme.example", name=f"Extra {i}"))
    db.commit()
    login(team.owner.email)
    base = f"/api/v1/organisations/{team.org.public_id}/team"
    first = client.get(base, params={"limit": 2}).json()
    assert len(first["items"]) == 2 and first["next"]
    seen = [m["email"] for m in first["items"]]
    after = first["next"]
    while after:
        page = client.get(base, params={"limit": 2, "after": after}).json()
        seen += [m["email"] for m in page["items"]]
        after = page["next"]
    assert len(seen) == len(set(seen)) == 6
    assert [m["email"] for m in client.get(base, params={"expiring": "1"}).json()["items"]] == [team.member.email]
    assert [m["email"] for m in client.get(base, params={"programme": "acxp"}).json()["items"]] == [team.member.email]
    assert [m["email"] for m in client.get(base, params={"role": "manager"}).json()["items"]] == [team.manager.email]
    assert [m["email"] for m in client.get(base, params={"q": "extra 1"}).json()["items"]] == ["extra1@acme.example"]
    assert client.get(base, params={"after": "garbage!"}).status_code == 400
    html = client.get(f"/organisations/{team.org.public_id}/team", params={"expiring": "1"}).text
    assert "Milo Member" in html and "Extra 0" not in html


def test_managers_do_not_hear_of_an_expiring_certificate_that_is_not_shared(db, team, started, mailbox):
    certificates_service.send_expiry_reminders(db)
    db.commit()
    assert any("Your CPP accreditation lapses" in s for s in mailbox.subjects(team.member.email))
    for manager in (team.manager, team.owner):
        assert not any("accreditation lapses" in s for s in mailbox.subjects(manager.email))


def test_managers_hear_of_an_expiring_certificate_when_the_holder_shares(db, team, started, mailbox):
    service.set_consent(db, team.membership(db, team.member), share_progress=True, share_assessments=False)
    db.commit()
    certificates_service.send_expiry_reminders(db)
    db.commit()
    for manager in (team.manager, team.owner):
        [msg] = [m for m in mailbox.to(manager.email) if "accreditation lapses" in str(m["Subject"])]
        assert "Milo Member's CPP accreditation lapses in 30 days" in " ".join(str(msg["Subject"]).split())
        body = mailbox.body(msg)
        assert "Milo Member, a member of Acme Services" in body and f"/organisations/{team.org.public_id}/team" in body
