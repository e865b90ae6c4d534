"""Entries: consent first, eligibility checked at submission through the certificates service, the
entry closed once due or submitted; reminders before the deadlines, each sent once."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from api.awards import nominations, reminders, service
from api.certificates import service as certificates
from api.core.errors import Conflict, Forbidden, Invalid

ENTRY = nominations.EntryIn(personal="p", professional="q", business="r",
                            referees=[{"name": "Rae", "email": "rae@example.org", "relationship": ""}])


def _accepted(db, cycle, make_user, nominate, email="ella@example.org", public=False):
    user = make_user(email, name="Ella Entrant")
    nominee, _, _ = nominate(cycle, make_user(), email=email, name="Ella Entrant")
    nominations.respond(db, nominee, user, accept=True, consent_judging=True, consent_public=public)
    db.commit()
    return user, nominee


def test_no_entry_before_accepting_with_consent(db, make_cycle, make_user, nominate):
    cycle = make_cycle()
    user = make_user("ned@example.org")
    nominee, _, _ = nominate(cycle, make_user(), email="ned@example.org")
    with pytest.raises(Conflict, match="Accept the nomination"):
        nominations.save_entry(db, nominee, user, ENTRY)
    with pytest.raises(Invalid, match="agree that the judges"):
        nominations.respond(db, nominee, user, accept=True, consent_judging=False, consent_public=True)
    nominations.respond(db, nominee, user, accept=False, consent_judging=False, consent_public=False)
    assert nominee.status == "declined"


def test_only_the_nominated_person_may_act(db, make_cycle, make_user, nominate):
    cycle = make_cycle()
    nominee, _, _ = nominate(cycle, make_user(), email="real@example.org")
    impostor = make_user("other@example.org")
    with pytest.raises(Exception) as err:
        nominations.respond(db, nominee, impostor, accept=True, consent_judging=True, consent_public=True)
    assert err.value.status_code == 404
    unconfirmed = make_user("real2@example.org", verified=False)
    nominee2, _, _ = nominate(cycle, make_user(), email="real2@example.org")
    with pytest.raises(Exception) as err:
        nominations.respond(db, nominee2, unconfirmed, accept=True, consent_judging=True, consent_public=True)
    assert err.value.status_code == 404


def test_eligibility_is_checked_at_submission(db, make_cycle, make_user, nominate):
    from api.catalog import service as catalog

    cycle = make_cycle(requires_current_accreditation=["ACXP"])
    user, nominee = _accepted(db, cycle, make_user, nominate)
    nominations.save_entry(db, nominee, user, ENTRY)  # a draft is fine
    db.commit()
    with pytest.raises(Forbidden) as err:
        nominations.save_entry(db, nominee, user, ENTRY, submit=True)
    assert err.value.code == "not_eligible" and "current ACXP accreditation" in err.value.message
    db.rollback()
    cert = certificates.issue(db, user=user, programme=catalog.get_by_slug(db, "acxp"), holder_name=user.full_name,
                              issued_by=make_cycle.admin, reason="Passed before Cadre")
    entry = nominations.save_entry(db, nominee, user, ENTRY, submit=True)
    assert entry.state == "submitted" and entry.eligibility["met_by"] == ["ACXP"]
    assert service.entries_for_judging(db, cycle) == [entry]
    # A revoked accreditation no longer counts for the next entrant who relies on it.
    certificates.change_status(db, cert, "revoke", "Issued in error", make_cycle.admin)
    assert certificates.has_current(db, user.id, [cert.programme_id]) == set()


def test_a_submitted_entry_cannot_change_and_entries_close_when_due(db, make_cycle, make_user, nominate):
    cycle = make_cycle()
    user, nominee = _accepted(db, cycle, make_user, nominate)
    nominations.save_entry(db, nominee, user, ENTRY, submit=True)
    with pytest.raises(Conflict, match="already submitted|can no longer be changed"):
        nominations.save_entry(db, nominee, user, ENTRY)
    other = make_cycle()
    u2, n2 = _accepted(db, other, make_user, nominate, email="late@example.org")
    service.set_milestone(db, other, "entries_due", date(2026, 11, 30), time(17, 0), "Europe/London")
    with pytest.raises(Conflict) as err:
        nominations.save_entry(db, n2, u2, ENTRY, submit=True)
    assert err.value.code == "entries_closed"


def test_entry_contact_gives_judging_what_it_checks(db, make_cycle, make_user, nominate, entrant):
    cycle = make_cycle()
    nominator = make_user()
    user, nominee, entry = entrant(cycle, nominator=nominator, organisation="Gamma Insurance")
    contact = service.entry_contact(db, entry)
    assert contact.organisation == "Gamma Insurance" and contact.email == user.email.lower()
    assert contact.nominator_ids == (nominator.id,) and contact.user_id == user.id


def test_reminders_before_the_deadlines_sent_once(db, make_cycle, make_user, nominate, mailbox):
    cycle = make_cycle()
    soon = datetime(2099, 2, 27, 12, 0, tzinfo=UTC)  # nominations close 1 March 2099, 17:00 London
    nominate(cycle, make_user(), email="slow@example.org")
    user, _ = _accepted(db, cycle, make_user, nominate, email="busy@example.org")
    service.set_milestone(db, cycle, "entries_due", date(2099, 3, 1), time(17, 0), "Europe/London")
    db.commit()
    mailbox.clear()
    assert reminders.send_reminders(db, soon - timedelta(days=5)) == 0  # too early
    assert reminders.send_reminders(db, soon) == 2
    assert reminders.send_reminders(db, soon + timedelta(hours=1)) == 0  # once
    [slow] = mailbox.subjects("slow@example.org")[-1:]
    assert "please reply by" in slow
    assert any("is due" in s for s in mailbox.subjects("busy@example.org"))


def test_the_demo_cycle_is_open_with_merged_nominations_and_idempotent(db):
    from api import demo
    from api.demo import people

    who, _ = people.ensure(db)
    lines = demo.run(db, who, ["api.awards.demo:seed"])
    assert any("open for nominations" in line for line in lines)
    assert any("Tumi Ndlovu (2)" in line and "Marco Ferreira (1)" in line for line in lines)
    again = demo.run(db, who, ["api.awards.demo:seed"])
    assert again == lines  # the same summary, the cycle's address included, however often it runs
