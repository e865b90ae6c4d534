"""Awards test helpers: a cycle of the real award (content/awards) built through the service, moved
to a state through the one transition function, and nominations made the way a nominator makes them."""

from __future__ import annotations

from datetime import date, time

import pytest


@pytest.fixture
def award(db):
    from api.awards import service

    return service.award_by_slug(db, "change-architect-of-the-year")


@pytest.fixture
def make_cycle(db, award, make_user):
    from api.accounts.models import Role
    from api.awards import service, states
    from api.awards.models import CycleState

    admin = make_user(roles={Role.admin}, name="Award Admin")
    years = iter(range(2031, 2100))

    def make(state: CycleState = CycleState.nominations_open, *, year: int | None = None, **kw):
        cycle = service.create_cycle(db, award, year or next(years), admin, **kw)
        for kind, day in (("nominations_open", date(2026, 11, 1)), ("nominations_close", date(2099, 3, 1)),
                          ("entries_due", date(2099, 4, 1)), ("announcement", date(2099, 11, 20))):
            service.set_milestone(db, cycle, kind, day, time(17, 0), "Europe/London", admin)
        while cycle.state != state:
            states.transition(db, cycle, states.next_state(cycle.state), admin)
        db.commit()
        return cycle

    make.admin = admin
    return make


@pytest.fixture
def nominate(db):
    from api.awards import nominations

    def do(cycle, nominator, email="nominee@example.org", name="Thandi Mokoena", **kw):
        data = nominations.NominationIn(name=name, email=email, role=kw.pop("role", "Head of CX"),
                                        organisation=kw.pop("organisation", "Acme Telecom"),
                                        statement=kw.pop("statement", "Led the move to outside-in operations."),
                                        **kw)
        out = nominations.nominate(db, cycle, nominator, data)
        db.commit()
        return out

    return do


@pytest.fixture
def entrant(db, make_user, nominate):
    """A nominee who has an account, accepted (consenting to judging and, unless told, to listing) and
    submitted an entry. Returns (user, nominee, entry)."""
    from api.awards import nominations

    counter = iter(range(1, 1000))

    def make(cycle, *, name="Thandi Mokoena", public=True, organisation="Acme Telecom", nominator=None):
        i = next(counter)
        user = make_user(f"entrant{i}-{cycle.id}@example.org", name=name)
        nominee, _, _ = nominate(cycle, nominator or make_user(), email=user.email, name=name,
                                 organisation=organisation)
        nominations.respond(db, nominee, user, accept=True, consent_judging=True, consent_public=public)
        entry = nominations.save_entry(db, nominee, user, nominations.EntryIn(
            personal="I learnt to coach.", professional="I became an ACX Mentor.",
            business="Complaints halved in a year.",
            referees=[{"name": "Rita Referee", "email": f"ref{i}@example.org", "relationship": "Manager"}]),
            submit=True)
        db.commit()
        return user, nominee, entry

    return make


@pytest.fixture
def decided(db, make_cycle, entrant):
    """A cycle judged to the end: two entrants, one winner and one highly commended, decided and under
    embargo (the announcement milestone is in 2099). Returns (cycle, winner_user, commended_user)."""
    from api.awards import service, states
    from api.awards.models import CycleState

    def make(**kw):
        cycle = make_cycle(**kw)
        w_user, _, w_entry = entrant(cycle, name="Wendy Winner")
        h_user, _, h_entry = entrant(cycle, name="Harry Commended", organisation="Beta Bank")
        while cycle.state != CycleState.deliberating:
            states.transition(db, cycle, states.next_state(cycle.state), make_cycle.admin)
        service.record_outcomes(db, cycle, [
            {"entry_id": w_entry.id, "kind": "winner", "citation": "Wendy rebuilt customer operations outside-in."},
            {"entry_id": h_entry.id, "kind": "highly_commended", "citation": "Harry halved complaints."}],
            make_cycle.admin)
        db.commit()
        return cycle, w_user, h_user

    return make
