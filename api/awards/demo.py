"""The demo award cycle for `cadre demo` (development only): next year's Change Architect of the Year,
open for nominations, its milestones spread over about nine months, and two people nominated (one of
them by two demo accounts, so the merged count shows). Idempotent."""

from __future__ import annotations

from datetime import time, timedelta

from sqlmodel import Session, select

from api.accounts.models import User
from api.awards import nominations, service, states
from api.awards.models import AwardCycle, CycleState, MilestoneKind, Nomination, Nominee
from api.core.db import utcnow

# (milestone, weeks from today): about nine months from opening to the announcement.
PLAN = [(MilestoneKind.nominations_open, 0), (MilestoneKind.nominations_close, 8), (MilestoneKind.entries_due, 12),
        (MilestoneKind.sift, 16), (MilestoneKind.shortlist, 22), (MilestoneKind.interviews, 28),
        (MilestoneKind.deliberation, 34), (MilestoneKind.announcement, 38)]
NOMINEES = [  # (nominator, name, email, role, organisation, statement)
    ("learner", "Tumi Ndlovu", "tumi.ndlovu@example.com", "Head of Customer Experience", "Example Telecom",
     "Tumi moved the contact centre from handling time to solved problems: repeat calls fell by a third."),
    ("coach", "Tumi Ndlovu", "tumi.ndlovu@example.com", "Head of Customer Experience", "Example Telecom",
     "Tumi coached twelve team leaders through ACXP and now mentors the next group."),
    ("employer", "Marco Ferreira", "marco.ferreira@example.com", "Process Lead", "Example Insurance",
     "Marco redesigned claims outside-in, starting from the customer's successful outcome."),
]


def seed(session: Session, people: dict[str, User]) -> list[str]:
    award = service.award_by_slug(session, "change-architect-of-the-year")
    year = utcnow().year + 1
    cycle = session.exec(select(AwardCycle).where(AwardCycle.award_id == award.id, AwardCycle.year == year)).first()
    lines: list[str] = []
    if cycle is None:
        admin = people.get("admin")
        cycle = service.create_cycle(session, award, year, admin, requires_current_accreditation=[])
        today = utcnow().date()
        for kind, weeks in PLAN:
            service.set_milestone(session, cycle, kind, today + timedelta(weeks=weeks), time(17, 0), "Europe/London",
                                  admin)
        states.transition(session, cycle, CycleState.nominations_open, admin, reason="demo")
    if cycle.state != CycleState.nominations_open:
        return lines + [f"Award cycle {cycle.title} is {states.WORDS[CycleState(cycle.state)]}"]
    lines.append(f"Award cycle {cycle.title}: open for nominations at /awards/{cycle.slug}")
    for who, name, email, role, organisation, statement in NOMINEES:
        user = people.get(who)
        if user is None:
            continue
        done = session.exec(select(Nomination.id).join(Nominee, Nominee.id == Nomination.nominee_id)
                            .where(Nominee.cycle_id == cycle.id, Nominee.email_normalised == email,
                                   Nomination.nominator_id == user.id)).first()
        if done is None:
            nominations.nominate(session, cycle, user, nominations.NominationIn(
                name=name, email=email, role=role, organisation=organisation, statement=statement))
    counts = {n.name: n.nomination_count for n in nominations.nominations_of(session, cycle)}
    lines.append("Nominated: " + ", ".join(f"{k} ({v})" for k, v in counts.items()) + "; see /admin/awards")
    return lines
