"""The emails judging sends, all through the outbox: a judge's appointment, and a round opening with
work for them (once per judge and round)."""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import Session, select

from api.accounts.models import User
from api.awards.models import AwardCycle
from api.core import email as mail


def appointed(session: Session, cycle: AwardCycle, judge, user: User) -> None:
    mail.send_template(session, user.email, "judging/appointed", key=f"judge-appointed:{judge.id}",
                       name=user.full_name, cycle=cycle)


def round_open(session: Session, cycle: AwardCycle, rnd) -> None:
    from api.awards.judging import service
    from api.awards.judging.models import Assignment, AssignmentStatus, RoundKind

    counts = dict(session.exec(select(Assignment.judge_id, func.count()).where(
        Assignment.round_id == rnd.id, Assignment.status == AssignmentStatus.active.value)
        .group_by(Assignment.judge_id)).all())
    for judge, user in service.judges_of(session, cycle):
        if counts.get(judge.id):
            mail.send_template(session, user.email, "judging/round_open", key=f"round-open:{rnd.id}:{judge.id}",
                               name=user.full_name, cycle=cycle, round_name=service.ROUND_WORDS[RoundKind(rnd.kind)],
                               count=counts[judge.id], blind=rnd.blind)
