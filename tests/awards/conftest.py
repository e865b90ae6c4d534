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
