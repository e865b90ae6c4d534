"""THE one place that says what runs in the background: who consumes which domain event, and which
jobs run on a schedule. Functions are named "module:function" and imported when first needed, so
this file imports no domain (and no import circle can start here).

Later: webhooks out.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from typing import Any

EMAIL = "email"  # the handler name of outgoing email (delivered by api.core.email.deliver)

# event name -> its consumers, each "module:function(session, payload)". A consumer runs in the
# same transaction that marks its message done, so its effect happens once; it must still be
# safe to run again after a crash (at-least-once) and should check the current state, not trust
# the order events arrive in.
CONSUMERS: dict[str, list[str]] = {
    "programme.completed": ["api.certificates.consumers:on_programme_completed"],
    "instalment.overdue": ["api.certificates.consumers:on_instalment_overdue"],
    "instalment.settled": ["api.certificates.consumers:on_instalment_settled"],
    # assessments
    "assessment.released": ["api.learning.consumers:recheck_completion"],
    "assessment.file_removed": ["api.assessments.files:on_file_removed"],
    # cohorts
    "attendance.changed": ["api.learning.consumers:recheck_completion"],
    "seat.unavailable": ["api.cohorts.seats:refund_late_payment"],
}


@dataclass(frozen=True)
class Job:
    """A periodic job: `run(session, now)` once per `every`-long slot (slots start at the Unix epoch),
    by whichever worker gets there first. It returns a short summary for the admin page."""

    name: str
    every: timedelta
    run: str  # "module:function"
    what: str


JOBS: list[Job] = [
    Job("payments.sweep", timedelta(minutes=5), "api.outbox.jobs:payments_sweep",
        "close expired checkouts; pause access past the instalment grace period (`cadre payments sweep`)"),
    Job("certificates.expiry_reminders", timedelta(hours=1), "api.outbox.jobs:certificate_expiry_reminders",
        "email holders 90 and 30 days before expiry (`cadre certificates remind`)"),
    Job("payments.instalment_reminders", timedelta(hours=1), "api.outbox.jobs:instalment_reminders",
        "email learners 3 days before an instalment is taken"),
    Job("assessments.marking_reminders", timedelta(hours=1), "api.assessments.queue:send_reminders",
        "email coaches 2 days before marking is due, and once when it is overdue"),
    # cohorts
    Job("cohorts.waitlist", timedelta(minutes=5), "api.cohorts.jobs:waitlist_and_holds",
        "release expired seat holds; lapse waitlist offers; offer free seats to the next person waiting"),
    Job("cohorts.reminders", timedelta(minutes=5), "api.cohorts.jobs:session_reminders",
        "email learners and facilitators 24 hours and 1 hour before each session"),
    Job("awards.announce", timedelta(minutes=5), "api.awards.jobs:announce_due",
        "announce decided award cycles whose embargo has lifted (hall of fame, award credentials, emails)"),
    Job("awards.reminders", timedelta(hours=1), "api.awards.jobs:reminders",
        "remind nominees before nominations close (not yet replied) and before entries are due (not submitted)"),
    Job("outbox.purge", timedelta(days=1), "api.outbox.jobs:outbox_purge",
        "delete delivered messages older than CADRE_WORKER_KEEP_DAYS"),
]


@cache
def resolve(name: str) -> Callable[..., Any]:
    module, _, attr = name.partition(":")
    return getattr(importlib.import_module(module), attr)


def consumers_of(event: str) -> list[str]:
    return CONSUMERS.get(event, [])
