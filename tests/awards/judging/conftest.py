"""Judging test helpers: a cycle with submitted entries (nominated, accepted and entered the way
nominees do it, through api/awards/nominations.py), closed for nominations, with judges appointed
and accepted through the judging service."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest


@dataclass
class Panel:
    cycle: object
    admin: object
    entries: list = field(default_factory=list)  # award_entry rows, in order
    nominees: list = field(default_factory=list)  # the nominees' User accounts
    judges: list = field(default_factory=list)  # CycleJudge rows
    users: list = field(default_factory=list)  # the judges' User accounts
    nominator: object = None


@pytest.fixture
def enter(db, make_user, nominate):
    """Nominate someone by `nominator`, and have them accept and submit an entry."""
    from api.awards import nominations

    def do(cycle, nominator, email, name, organisation="Acme Telecom", user=None, **kw):
        user = user or make_user(email, name=name)
        nominee, _, _ = nominate(cycle, nominator, email=email, name=name, organisation=organisation, **kw)
        nominations.respond(db, nominee, user, accept=True, consent_judging=True, consent_public=True)
        entry = nominations.save_entry(db, nominee, user, nominations.EntryIn(
            personal="Learned to coach others.", professional="Ran the CX programme.",
            business="Cut repeat contacts by a third.", referees=[{"name": "Ref Eree", "email": "ref@example.org",
                                                                   "relationship": "Manager"}]), submit=True)
        db.commit()
        return entry, user

    return do


@pytest.fixture
def panel(db, make_cycle, make_user, enter):
    """Three entries and three accepted judges (from organisations none of the nominees work at)."""
    from api.awards import states
    from api.awards.judging import service
    from api.awards.models import CycleState

    def make(entries: int = 3, judges: int = 3, accept: bool = True, before_close=None,
             organisations: dict[int, str] | None = None) -> Panel:
        """`before_close(panel, judge_users)` runs while nominations are open (the judges' accounts exist,
        their appointments not yet); `organisations` gives judge i's stated organisation."""
        cycle = make_cycle(CycleState.nominations_open)
        nominator = make_user(name="Nadia Nominator")
        p = Panel(cycle=cycle, admin=make_cycle.admin, nominator=nominator)
        p.users = [make_user(f"judge{i}-{cycle.year}@example.org", name=f"Judge {i}") for i in range(judges)]
        for i in range(entries):
            entry, user = enter(cycle, nominator, f"nominee{i}-{cycle.year}@example.org", f"Nominee {i}",
                                organisation=f"Org {i}")
            p.entries.append(entry)
            p.nominees.append(user)
        if before_close:
            before_close(p)
        states.transition(db, cycle, CycleState.nominations_closed, p.admin)
        for i, u in enumerate(p.users):
            j = service.appoint(db, cycle, u, p.admin)
            if accept:
                service.accept(db, j, (organisations or {}).get(i, f"Judging House {i}"))
            p.judges.append(j)
        service.ensure_rounds(db, cycle, p.admin)
        db.commit()
        return p

    return make
