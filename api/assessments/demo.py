"""Demo data: the demo learner's ACXP practical assessment, submitted and waiting for the demo coach,
and their ACXS assessment marked, moderated and released as a pass (so ACXS is complete and its
certificate carries the evidence), all through the assessments services as people would do it.

`seed(session, people)` is called by the demo registry with people = {"learner", "coach", "admin",
"employer"}; it returns lines to print. Idempotent: run twice, the same one submission."""

from __future__ import annotations

from sqlmodel import Session

from api.accounts.models import User
from api.assessments import allocation, marking, moderation, queue, release, rubrics, submissions
from api.assessments.models import State
from api.catalog import service as catalog_service
from api.learning import service as enrolment_service
from api.learning.models import EnrolmentSource

# One line per paragraph: the "Written answer" box keeps the learner's line breaks, as typed.
TEXT = "\n\n".join([
    "SCO Canvas: customers whose broadband stopped working and who need it back the same day.",
    'SCO (in their words): "My internet works again today, and I didn\'t have to chase anyone."',
    "Moments of truth, in the order the customer meets them: noticing the outage; checking the status page; "
    "calling; the engineer visit being booked; the visit; the follow-up text. The moment that fails most is the "
    "booking: 38% of callers ring back to ask when the engineer is coming.",
    "Commentary (extract): today we measure average handle time on the first call. That rewards a quick call, "
    'not a working connection. I propose measuring, per customer, "working again the same day", from the network '
    "monitoring data we already hold, with a proactive text when a visit slips.",
])


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
    lines = [f"Assessments: {learner.email} has an ACXP submission awaiting marking, allocated to {coach.email} "
             f"(mark it at /coach/marking/{sub.public_id})."]
    return lines + _acxs_passed(session, learner, coach, admin)


ACXS_TEXT = "\n\n".join([
    "Need category: small-business owners whose card payments stopped working at the till.",
    'SCO: "I can take payments again before my next customer arrives." The moment of truth that fails most is the '
    "first call: the script asks for an account number the owner does not have at the till.",
])


def _acxs_passed(session: Session, learner: User, coach: User, admin: User) -> list[str]:
    """ACXS's practical assessment released as a pass: the demo coach marks it, the demo admin moderates
    it when the sample takes it, and completion is decided again (as the worker would on the event)."""
    from api.learning.consumers import recheck_completion

    acxs = catalog_service.get_by_slug(session, "acxs")
    if enrolment_service.get_enrolment(session, learner.id, acxs.id) is None:
        return []
    for brief in submissions.briefs_for(session, [acxs.id])[acxs.id]:
        subs = submissions.attempts(session, learner.id, brief.id)
        if any(s.state == State.released.value for s in subs):
            continue
        sub = subs[-1] if subs and subs[-1].state == State.draft.value else submissions.start(session, learner, brief,
                                                                                               "Europe/London")
        submissions.save_draft(session, sub, learner, text=ACXS_TEXT, version=sub.version)
        submissions.submit(session, sub, learner, authentic=True, anonymised=True)
        if sub.allocated_coach_id != coach.id:
            allocation.override(session, sub, coach, admin, "demo: the demo coach marks the demo learner")
        queue.start(session, sub, coach)
        mark = marking.open_draft(session, sub, coach)
        top = {c["slug"]: {"score": c["levels"][-1]["score"], "comment": "Grounded in real work and clearly argued."}
               for c in rubrics.current(session, brief).rubric["criteria"]}
        marking.submit(session, sub, coach, scores=top, feedback="A clear, outside-in piece of real work.",
                       version=mark.version, rubric_version_id=sub.rubric_version_id)
        if sub.state == State.in_moderation.value:
            given = moderation.moderation_mark(session, sub, draft_only=True)  # the sample may have given it to a coach
            moderator = session.get(User, given.marker_id) if given else admin
            if given is None:
                moderation.take(session, sub, admin)
            moderation.confirm(session, sub, moderator)
        release.release(session, sub, admin)
    session.flush()
    recheck_completion(session, {"user_id": learner.id, "programme_id": acxs.id})
    return [f"Assessments: {learner.email} passed the ACXS practical assessment (marked by {coach.email})."]
