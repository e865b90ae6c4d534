"""The waitlist: a freed seat is offered, by email through the worker, to the first person waiting; the
offer keeps the seat for them (others cannot take it) until it lapses, then it goes to the next."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from api.cohorts import service, waitlist
from api.cohorts.models import Seat
from api.core.db import utcnow
from api.outbox.worker import Worker
from api.payments import service as payments_service
from api.payments.providers import get_provider


def _checkout(db, user, cohort):
    return payments_service.start_checkout(db, user=user, programme_slug="coim", offer_slug="full", code_text=None,
                                           address=None, cohort=cohort.public_id)


def test_a_freed_seat_is_offered_in_turn_and_lapses(db, client, login, browser, make_user, make_cohort, mailbox):
    from contextlib import nullcontext

    cohort = make_cohort(capacity=1)
    holder, first, second, stranger = make_user(), make_user(), make_user(), make_user()
    order = _checkout(db, holder, cohort)
    db.commit()
    login(first.email)
    assert browser.post_form(f"/cohorts/{cohort.public_id}/waitlist", action="join").status_code == 303
    assert "You are number 1 on the waitlist" in client.get(f"/cohorts/{cohort.public_id}/waitlist").text
    waitlist.join(db, cohort, second)
    db.commit()

    worker = Worker(sessions=lambda: nullcontext(db), name="test-worker")
    worker.drain()
    assert not mailbox.subjects(first.email)  # no seat free yet: nothing offered

    get_provider().cancel(db, order)  # the holder walks away: their seat is free
    db.commit()
    worker.tick(utcnow() + timedelta(minutes=6))  # the scheduled job runs
    [offer] = mailbox.subjects(first.email)
    assert offer.startswith(f"A seat is free in {cohort.title}: yours until")
    assert not mailbox.subjects(second.email)
    assert f"/checkout/coim?cohort={cohort.public_id}" in mailbox.body(mailbox.to(first.email)[0])
    # The offered seat is kept: nobody else can buy it meanwhile.
    with pytest.raises(payments_service.Conflict, match="is full"):
        _checkout(db, stranger, cohort)

    # The offer lapses after a day unanswered: the seat goes to the next in line.
    worker.tick(utcnow() + timedelta(hours=25))
    worker.drain(utcnow() + timedelta(hours=25))
    assert waitlist.entry_of(db, cohort, first.id) is None
    assert [s for s in mailbox.subjects(second.email) if s.startswith("A seat is free")]
    # The second person takes it: their offer becomes their hold.
    mine = _checkout(db, second, cohort)
    assert db.exec(select(Seat).where(Seat.order_id == mine.id)).one().status == "held"
    assert waitlist.entry_of(db, cohort, second.id) is None
    assert service.cards(db, [cohort])[0].seats_left == 0
