"""Demo data: the demo learner's ACXP practical assessment, submitted and waiting for the demo coach.

`seed(session, people)` is called by the demo registry with people = {"learner", "coach", "admin",
"employer"}; it returns lines to print. Idempotent: run twice, the same one submission."""

from __future__ import annotations

from sqlmodel import Session

from api.accounts.models import User
from api.assessments import allocation, submissions
from api.assessments.models import State
from api.catalog import service as catalog_service
from api.learning import service as enrolment_service
from api.learning.models import EnrolmentSource

TEXT = """SCO Canvas: customers whose broadband stopped working and who need it back the same day.

SCO (in their words): "My internet works again today, and I didn't have to chase anyone."

Moments of truth, in the order the customer meets them: noticing the outage; checking the status
page; calling; the engineer visit being booked; the visit; the follow-up text. The moment that
fails most is the booking: 38% of callers ring back to ask when the engineer is coming.

Commentary (extract): today we measure average handle time on the first call. That rewards a quick
call, not a working connection. I propose measuring, per customer, "working again the same day",
from the network monitoring data we already hold, with a proactive text when a visit slips."""


def seed(session: Session, people: dict[str, User]) -> list[str]:
    learner, coach, admin = people["learner"], people["coach"], people["admin"]
    acxp = catalog_service.get_by_slug(session, "acxp")
    if enrolment_service.get_enrolment(session, learner.id, acxp.id) is None:
        enrolment_service.enrol(session, user_id=learner.id, programme_id=acxp.id,
                                source=EnrolmentSource.admin_grant, check_prerequisites=False)
    brief = submissions.briefs_for(session, [acxp.id])[acxp.id][0]
    subs = submissions.attempts(session, learner.id, brief.id)
    waiting = [s for s in subs if s.state in (State.submitted.value, State.in_marking.value)]
    if waiting:
        sub = waiting[-1]
    else:
        sub = submissions.start(session, learner, brief, "Europe/London")
        submissions.save_draft(session, sub, learner, text=TEXT, version=sub.version)
        submissions.submit(session, sub, learner, authentic=True, anonymised=True)
    if sub.allocated_coach_id != coach.id:
        allocation.override(session, sub, coach, admin, "demo: the demo coach marks the demo learner")
    session.flush()
    return [f"Assessments: {learner.email} has an ACXP submission awaiting marking, allocated to {coach.email} "
            f"(mark it at /coach/marking/{sub.public_id})."]
