"""Reminders before a cycle's deadlines, each sent once per nominee (the award_reminder row): nominees
who have not replied, before nominations close; nominees who accepted but have not submitted, before
entries are due."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from api.awards.models import (
    AwardCycle,
    CycleMilestone,
    CycleReminder,
    CycleState,
    MilestoneKind,
    Nominee,
    NomineeStatus,
)
from api.core import email as mail

AHEAD = timedelta(days=3)
# Which milestone each reminder is about, the cycle states it applies in, and whom it is for.
RULES = {
    "nominations_closing": (MilestoneKind.nominations_close, {CycleState.nominations_open}, NomineeStatus.invited),
    "entry_due": (MilestoneKind.entries_due, {CycleState.nominations_open, CycleState.nominations_closed},
                  NomineeStatus.accepted),
}


def send_reminders(session: Session, now: datetime) -> int:
    sent = 0
    for kind, (milestone, live_states, status) in RULES.items():
        rows = session.exec(select(AwardCycle, CycleMilestone)
                            .join(CycleMilestone, col(CycleMilestone.cycle_id) == AwardCycle.id)
                            .where(col(AwardCycle.state).in_([s.value for s in live_states]),
                                   CycleMilestone.kind == milestone.value,
                                   col(CycleMilestone.at) > now, col(CycleMilestone.at) <= now + AHEAD)).all()
        for cycle, ms in rows:
            nominees = session.exec(select(Nominee).where(Nominee.cycle_id == cycle.id,
                                                          Nominee.status == status.value)
                                    .order_by(col(Nominee.id))).all()
            for nominee in nominees:
                try:
                    with session.begin_nested():
                        session.add(CycleReminder(cycle_id=cycle.id, kind=kind, nominee_id=nominee.id, sent_at=now))
                        session.flush()
                except IntegrityError:
                    continue  # sent by an earlier run
                mail.send_template(session, nominee.email, "awards/reminder", key=f"award-{kind}:{nominee.id}",
                                   name=nominee.name, cycle=cycle, nominee=nominee, kind=kind, at=ms.at)
                sent += 1
    return sent
