"""The assessment emails, each through the outbox (api/core/email.py → web/templates/email/assessments/)."""

from __future__ import annotations

from sqlmodel import Session

from api.accounts.models import User
from api.assessments import times
from api.assessments.models import Submission
from api.catalog.models import AssessmentBrief, Programme
from api.core import email as mail


def _ctx(session: Session, sub: Submission) -> dict:
    brief = session.get(AssessmentBrief, sub.brief_id)
    programme = session.get(Programme, sub.programme_id)
    return {"brief": brief, "programme": programme, "sub": sub,
            "learner_path": f"/learn/{programme.slug}/assessments/{brief.slug}",
            "marking_path": f"/coach/marking/{sub.public_id}"}


def submitted(session: Session, sub: Submission, learner: User) -> None:
    ctx = _ctx(session, sub)
    mail.send_template(session, learner.email, "assessments/submitted", key=f"assess-submitted:{sub.id}",
                       name=learner.full_name, **ctx)


def allocated(session: Session, sub: Submission, coach: User) -> None:
    ctx = _ctx(session, sub)
    due = times.show(sub.marking_due_at, None)
    mail.send_template(session, coach.email, "assessments/allocated",
                       key=f"assess-allocated:{sub.id}:{coach.id}:{sub.version}", name=coach.full_name, due=due, **ctx)


def released(session: Session, sub: Submission) -> None:
    learner = session.get(User, sub.user_id)
    ctx = _ctx(session, sub)
    zone = times.zone_of(sub.learner_zone, sub.resubmit_zone)
    template = "assessments/referred" if sub.outcome == "refer" else "assessments/released"
    mail.send_template(session, learner.email, template, key=f"assess-released:{sub.id}:{sub.version}",
                       name=learner.full_name, resubmit_by=times.show(sub.resubmit_by, zone), **ctx)


def marking_reminder(session: Session, sub: Submission, coach: User, overdue: bool) -> None:
    ctx = _ctx(session, sub)
    mail.send_template(session, coach.email, "assessments/marking_reminder",
                       key=f"assess-remind:{sub.id}:{'overdue' if overdue else 'due'}", name=coach.full_name,
                       overdue=overdue, due=times.show(sub.marking_due_at, None), **ctx)
