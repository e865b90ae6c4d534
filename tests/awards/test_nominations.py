"""Nominations: who may nominate, when, whom; duplicates merged into one nominee with a count; the
nominee invited once by email; the nominator's name hidden unless they opt in."""

from __future__ import annotations

from datetime import date, time

import pytest
from sqlmodel import select

from api.awards import nominations, service
from api.awards.models import CycleState, Nomination, Nominee
from api.core.errors import Conflict, Forbidden, Invalid


def test_nomination_makes_a_nominee_and_invites_them(db, make_cycle, make_user, nominate, mailbox):
    cycle = make_cycle()
    peer = make_user(name="Pat Peer")
    nominee, nomination, created = nominate(cycle, peer, email="Thandi@Example.org")
    assert created and nominee.email_normalised == "thandi@example.org" and nominee.nomination_count == 1
    assert nomination.statement.startswith("Led the move")
    [msg] = mailbox.to("thandi@example.org")
    body = mailbox.body(msg)
    assert cycle.title in str(msg["Subject"])
    assert f"/awards/nominee/{nominee.public_id}" in body
    assert "Pat Peer" not in body and "chose not to be named" in body


def test_nominator_named_only_when_they_opt_in(db, make_cycle, make_user, nominate, mailbox):
    cycle = make_cycle()
    nominate(cycle, make_user(name="Open Olu"), email="n1@example.org", reveal_to_nominee=True)
    assert "Open Olu" in mailbox.body(mailbox.to("n1@example.org")[0])
    nominee = db.exec(select(Nominee).where(Nominee.email_normalised == "n1@example.org")).one()
    nominate(cycle, make_user(name="Quiet Quinn"), email="n1@example.org")
    names, hidden = nominations.revealed_nominators(db, nominee)
    assert names == ["Open Olu"] and hidden == 1


def test_duplicates_of_one_person_merge_with_a_count(db, make_cycle, make_user, nominate, mailbox):
    cycle = make_cycle()
    a, b, c = make_user(), make_user(), make_user()
    n1, _, new1 = nominate(cycle, a, email="dup@example.org", name="Sam Dup")
    n2, _, new2 = nominate(cycle, b, email=" DUP@example.org ", name="Samuel Dup")
    n3, _, new3 = nominate(cycle, c, email="dup@EXAMPLE.org")
    assert (new1, new2, new3) == (True, False, False)
    assert n1.id == n2.id == n3.id
    db.refresh(n1)
    assert n1.nomination_count == 3 and n1.name == "Sam Dup"
    assert len(db.exec(select(Nomination).where(Nomination.nominee_id == n1.id)).all()) == 3
    assert len(mailbox.to("dup@example.org")) == 1  # invited once


def test_the_same_nominator_twice_is_409(db, make_cycle, make_user, nominate):
    cycle = make_cycle()
    a = make_user()
    nominate(cycle, a, email="twice@example.org")
    with pytest.raises(Conflict) as err:
        nominate(cycle, a, email="TWICE@example.org")
    assert err.value.code == "already_nominated"
    db.rollback()
    n = db.exec(select(Nominee).where(Nominee.email_normalised == "twice@example.org")).one()
    assert n.nomination_count == 1


def test_the_same_person_in_another_cycle_is_another_nominee(db, make_cycle, make_user, nominate):
    a = make_user()
    n1, _, _ = nominate(make_cycle(), a, email="both@example.org")
    n2, _, new = nominate(make_cycle(), a, email="both@example.org")
    assert new and n1.id != n2.id


@pytest.mark.parametrize("state", [CycleState.draft, CycleState.nominations_closed, CycleState.sifting])
def test_nominations_refused_outside_the_open_state(db, make_cycle, make_user, nominate, state):
    cycle = make_cycle(state)
    with pytest.raises(Conflict) as err:
        nominate(cycle, make_user())
    assert err.value.code == "nominations_closed"


def test_nominations_refused_after_the_close_milestone(db, make_cycle, make_user, nominate):
    cycle = make_cycle()
    service.set_milestone(db, cycle, "nominations_close", date(2026, 11, 30), time(12, 0), "Africa/Johannesburg")
    with pytest.raises(Conflict) as err:
        nominate(cycle, make_user())
    assert err.value.code == "nominations_closed" and "closed" in err.value.message


def test_self_nomination_refused_unless_the_cycle_allows_it(db, make_cycle, make_user, nominate):
    me = make_user("me@example.org")
    strict = make_cycle()
    with pytest.raises(Forbidden) as err:
        nominate(strict, me, email="ME@example.org")
    assert err.value.code == "self_nomination"
    db.rollback()
    relaxed = make_cycle(self_nomination_allowed=True)
    nominee, _, created = nominate(relaxed, me, email="me@example.org")
    assert created and nominee.email_normalised == "me@example.org"


def test_an_unconfirmed_account_cannot_nominate(db, make_cycle, make_user, nominate):
    with pytest.raises(Forbidden) as err:
        nominate(make_cycle(), make_user(verified=False))
    assert err.value.code == "email_unconfirmed"


def test_bad_input_is_refused_with_what_to_fix(db, make_cycle, make_user, nominate):
    cycle, me = make_cycle(), make_user()
    with pytest.raises(Invalid, match="like name@example.com"):
        nominate(cycle, me, email="not-an-address")
    with pytest.raises(Invalid, match="statement"):
        nominate(cycle, me, statement="   ")
    with pytest.raises(Invalid, match="at most 5 endorsers"):
        nominate(cycle, me, endorsers=[f"e{i}@example.org" for i in range(6)])
