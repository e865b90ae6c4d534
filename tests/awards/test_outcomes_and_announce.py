"""Outcomes and the announcement: outcomes are recorded once, at the end of deliberation; nothing is
public or mailed before the embargo lifts; the announcement makes hall of fame entries, issues the
winner's award credential and tells the entrants."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest
from sqlmodel import select

from api.awards import announce, service, states
from api.awards.models import CycleOutcome, CycleState
from api.certificates import service as certificates
from api.certificates.models import Certificate
from api.core.errors import Conflict
from api.halloffame.models import AwardWinner

AFTER = datetime(2099, 11, 21, tzinfo=UTC)


def test_outcomes_need_a_deliberating_cycle(db, make_cycle, entrant):
    cycle = make_cycle()
    _, _, entry = entrant(cycle)
    with pytest.raises(Conflict) as err:
        service.record_outcomes(db, cycle, [{"entry_id": entry.id, "kind": "winner", "citation": "x"}], None)
    assert err.value.code == "not_deliberating"


def test_recording_outcomes_decides_the_cycle_once(db, decided):
    cycle, _, _ = decided()
    assert cycle.state == CycleState.decided
    assert [o.kind for o in service.outcomes(db, cycle)] == ["winner", "highly_commended"]
    with pytest.raises(Conflict):
        service.record_outcomes(db, cycle, [], None)


def test_an_entry_of_another_cycle_cannot_win(db, make_cycle, entrant):
    other = make_cycle()
    _, _, foreign = entrant(other)
    cycle = make_cycle()
    _, _, mine = entrant(cycle)
    while cycle.state != CycleState.deliberating:
        states.transition(db, cycle, states.next_state(cycle.state), None)
    with pytest.raises(Exception) as err:
        service.record_outcomes(db, cycle, [{"entry_id": mine.id, "kind": "winner", "citation": "a"},
                                            {"entry_id": foreign.id, "kind": "highly_commended", "citation": "b"}],
                                None)
    assert getattr(err.value, "status_code", None) == 404
    db.rollback()
    assert db.exec(select(CycleOutcome).where(CycleOutcome.cycle_id == cycle.id)).all() == []


def test_nothing_is_public_or_mailed_while_embargoed(db, decided, mailbox):
    cycle, w_user, _ = decided()
    mailbox.clear()
    assert db.exec(select(AwardWinner).where(AwardWinner.cycle_id == cycle.id)).all() == []
    with pytest.raises(Conflict) as err:
        announce.announce(db, cycle, None)
    assert err.value.code == "embargoed" and "2099" in err.value.message
    assert announce.announce_due(db) == 0
    subjects = [s for m in mailbox.messages for s in [" ".join(str(m["Subject"]).split())]]
    assert subjects and not any(w in s for s in subjects for w in ("You are", "Highly commended", "The results"))


def test_announcement_publishes_issues_the_credential_and_mails(db, decided, mailbox):
    cycle, w_user, h_user = decided()
    mailbox.clear()
    assert announce.announce_due(db, AFTER) == 1
    db.commit()
    assert cycle.state == CycleState.announced and cycle.announced_at == AFTER
    rows = db.exec(select(AwardWinner).where(AwardWinner.cycle_id == cycle.id).order_by(AwardWinner.id)).all()
    assert [(w.name, w.kind, w.year) for w in rows] == [("Wendy Winner", "winner", cycle.year),
                                                        ("Harry Commended", "highly_commended", cycle.year)]
    cert = db.get(Certificate, rows[0].certificate_id)
    assert cert.kind == "award" and cert.programme_id is None and cert.user_id == w_user.id
    assert cert.achievement_name == f"Change Architect of the Year {cycle.year}"
    assert cert.credential["credentialSubject"]["achievement"]["achievementType"] == "Award"
    assert {c["name"]: c["status"] for c in cert.verification["checks"]}["signature"] == "pass"
    assert all(c["status"] == "pass" for c in cert.verification["checks"]), cert.verification["checks"]
    assert rows[1].certificate_id is None  # highly commended: no credential
    [win_mail] = [m for m in mailbox.to(w_user.email) if "You are" in str(m["Subject"])]
    assert f"/verify/{cert.slug}" in mailbox.body(win_mail) and "Wendy rebuilt" in mailbox.body(win_mail)
    assert any("Highly commended" in str(m["Subject"]) for m in mailbox.to(h_user.email))


def test_the_credential_can_be_revoked_through_the_status_list(db, decided, make_user):
    cycle, _, _ = decided()
    announce.announce_due(db, AFTER)
    winner = db.exec(select(AwardWinner).where(AwardWinner.cycle_id == cycle.id, AwardWinner.kind == "winner")).one()
    cert = db.get(Certificate, winner.certificate_id)
    certificates.change_status(db, cert, "revoke", "Entry found to misstate the results", make_user(roles=set()))
    assert certificates.effective_status(cert) == "revoked"
    _, bits = certificates.status_list_bits(db, cert.suspension_list)
    assert cert.suspension_index in bits


def test_two_announcements_one_refused(db, decided):
    cycle, _, _ = decided()
    stale = type(cycle)(**cycle.model_dump())
    announce.announce(db, cycle, None, AFTER)
    with pytest.raises(Conflict):
        announce.announce(db, stale, None, AFTER)
    assert len(db.exec(select(AwardWinner).where(AwardWinner.cycle_id == cycle.id)).all()) == 2


def test_moving_the_announcement_earlier_lifts_the_embargo_then(db, decided):
    cycle, _, _ = decided()
    service.set_milestone(db, cycle, "announcement", date(2026, 1, 5), time(9, 0), "Asia/Dubai")
    assert cycle.embargo_until == datetime(2026, 1, 5, 5, 0, tzinfo=UTC)
    assert announce.announce_due(db) == 1


def test_the_winner_finds_the_award_among_their_certificates(db, client, login, decided):
    cycle, w_user, _ = decided()
    announce.announce_due(db, AFTER)
    db.commit()
    winner = db.exec(select(AwardWinner).where(AwardWinner.cycle_id == cycle.id, AwardWinner.kind == "winner")).one()
    cert = db.get(Certificate, winner.certificate_id)
    login(w_user.email)
    mine = client.get("/certificates").text
    assert f"Change Architect of the Year {cycle.year}" in mine and cert.number in mine
    detail = client.get(f"/certificates/{cert.slug}")
    assert detail.status_code == 200 and f"Change Architect of the Year {cycle.year}" in detail.text
    # titled by the award's name, not by the number's prefix ("CAY certificate")
    title = detail.text.split("<title>", 1)[1].split("</title>", 1)[0]
    assert title.startswith(f"Change Architect of the Year {cycle.year}") and "CAY" not in title
    assert f"<h1>Change Architect of the Year {cycle.year}</h1>" in detail.text
    doc = client.get(f"/certificates/{cert.slug}/credential.json").json()
    assert doc["credentialSubject"]["achievement"]["achievementType"] == "Award"
    api = client.get(f"/api/v1/credentials/{cert.slug}/verification").json()
    assert api["verified"] is True, [c for c in api["checks"] if c["status"] != "pass"]


def test_a_name_already_in_that_years_hall_of_fame_stops_the_announcement_cleanly(db, decided, award):
    from api.halloffame import service as halloffame

    cycle, _, _ = decided()
    halloffame.add_past_winner(db, award, year_=cycle.year, name="Wendy Winner", role=None, organisation=None,
                               country=None, citation="Entered by hand.", now=AFTER)
    with pytest.raises(Conflict) as err:
        announce.announce(db, cycle, None, AFTER)
    assert err.value.code == "winner_exists" and "nothing was published" in err.value.message
