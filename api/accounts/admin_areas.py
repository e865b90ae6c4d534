"""Every administration area, in one list: /admin links each one and every admin page shows the same
short menu. A domain that adds an admin page adds its line here (tests/accounts/test_admin_areas.py
fails while an /admin page is missing from this list)."""

from __future__ import annotations

from dataclasses import dataclass

from api.core.templates import env


@dataclass(frozen=True)
class Area:
    href: str
    title: str
    blurb: str
    role: str = "admin"  # "coach": coaches see it too


ADMIN_AREAS: list[Area] = [
    # assessments
    Area("/coach/dashboard", "Coaching dashboard", "To mark, overdue, moderation, appeals to re-mark, released this "
         "month.", role="coach"),
    Area("/coach/marking", "Marking", "Your marking queue: mark next, overdue work, conflicts of interest.",
         role="coach"),
    Area("/coach/moderation", "Moderation", "Check a sample of other coaches' marking before results are released.",
         role="coach"),
    Area("/coach/calibration", "Calibration", "Mark exemplars with agreed marks before live marking.", role="coach"),
    Area("/admin/assessments", "Assessments", "Every open submission, allocation to coaches, caps, releasing results."),
    Area("/admin/assessments/submissions", "All submissions", "Every submission with filters, and each one's audit "
         "trail."),
    Area("/admin/calibration", "Calibration and agreement", "Exemplars, each coach's drift from agreed marks, "
         "agreement between markers."),
    # cohorts
    Area("/admin/cohorts", "Cohorts", "Create cohorts and their sessions, seats, facilitators and the waitlist."),
    Area("/cohorts", "Cohorts I facilitate", "The cohorts you run: their learners, sessions, attendance and a "
         "message to the cohort.", role="coach"),
    Area("/coach/progress", "Learner progress", "Learners per programme, their progress, filters and CSV export.",
         role="coach"),
    Area("/admin/enrolments", "Enrolments",
         "Grant places on programmes (past the ladder if need be), cancel, reinstate."),
    Area("/admin/users", "Users and roles",
         "Find accounts; grant and revoke learner, coach, admin and employer roles."),
    Area("/admin/orders", "Orders and refunds", "Every order with its payments and plan; refund in full or in part."),
    Area("/admin/codes", "Discount codes", "Create codes with caps and dates, see their uses, deactivate them."),
    Area("/admin/certificates", "Certificates", "Issue by hand, revoke, suspend, reinstate; approve renewals."),
    # organisations
    Area("/admin/organisations", "Organisations", "Every employer organisation: its owners, members and seats; "
         "grant seats without a payment."),
    Area("/admin/sso-domains", "Single sign-on domains", "Organisations' requests to bind their email domain to a "
         "provider: approve or reject."),
    # awards
    Area("/admin/awards", "Award cycles", "Change Architect of the Year: cycles, milestones, nominations and entries, "
         "the announcement."),
    Area("/admin/awards/judging", "Award judging", "Judges, rounds and conflicts per award cycle; open and close "
         "rounds, frozen results, deliberation sign-off, the fairness report."),
    Area("/admin/hall-of-fame", "Hall of fame", "Past winners from the body's records, listing withdrawn, photos."),
    Area("/admin/outbox", "Outbox", "Emails and events waiting for the worker, dead letters to retry, scheduled jobs."),
]


def areas_for(roles: set[str] | frozenset[str]) -> list[Area]:
    return [a for a in ADMIN_AREAS if "admin" in roles or (a.role == "coach" and "coach" in roles)]


env.globals["admin_areas_for"] = areas_for
